/* diskless.h: an RDB sent to replicas without touching the disk
 * (repl-diskless-sync). A child of type CHILD_REPL writes a header, the
 * whole RDB and a trailer (the caller's framing: "$EOF:<mark>\r\n" before,
 * the mark after) into a pipe; the parent reads the pipe from the event loop
 * and writes each chunk to every target connection through net/conn.h, so
 * the connections (and TLS, later) stay in the parent. A target whose socket
 * is full keeps the rest of the chunk, and the pipe is not read again until
 * every target has taken all of it: the slowest replica sets the pace, and
 * the memory held is one chunk. A target that fails is dropped alone; when
 * no target is left the child is killed. The transfer ends once the pipe is
 * drained and the child reaped; each remaining target is then told whether
 * it got every byte.
 *
 * One transfer at a time (there is one child). Knows rdb/child, the save
 * settings of rdb/bgsave, the loop and net/conn.h; never replication, which
 * hands in the connections and the framing and hears back through hooks. */
#ifndef TANDEM_RDB_DISKLESS_H
#define TANDEM_RDB_DISKLESS_H

#include <stddef.h>

#include "core/loop.h"
#include "core/str.h"
#include "net/conn.h"

typedef struct diskless_hooks {
    /* Once per target that was not forgotten, when its transfer ends: ok
     * when every byte reached its connection and the child succeeded, else
     * why not. Its write handler is already removed. */
    void (*target_done)(conn *cn, int ok, const char *why, void *priv);
    /* After the last target_done: the transfer is over (another child may
     * start from here). */
    void (*finished)(void *priv);
    void *priv;
} diskless_hooks;

typedef struct diskless_stats {
    int active;             /* a transfer runs */
    int targets;            /* connections still receiving it */
    long long bytes;        /* bytes the child produced so far (framing included) */
    long long transfers;    /* transfers started since the start */
} diskless_stats;

/* Registers the done handler of CHILD_REPL; l serves the pipe. */
void diskless_init(loop *l);
/* Forks the child for n connections (n > 0) with the RDB of the dataset as
 * it is now, framed by head and tail. 0 started, or -1 with *err (a child
 * runs, the dataset is loading, pipe or fork failed). */
int diskless_start(conn *const *conns, int n, const char *head, size_t head_len,
                   const char *tail, size_t tail_len, const diskless_hooks *hooks, str *err);
/* Stops sending to cn (its replica is gone), without calling target_done;
 * the child is killed when no target is left. Nothing if cn is no target. */
void diskless_forget(conn *cn);
/* Since when (loop_now_ms) cn's socket has refused the rest of a chunk, or
 * 0 when it is not waiting (or no target). */
long long diskless_blocked_since(const conn *cn);
const diskless_stats *diskless_get_stats(void);

#endif
