/* wire.h: a small sequential client over the connection interface
 * (net/conn.h) with its own event loop, for the backup tool: connect, send a
 * command, read a reply line, read payload bytes, each waiting on the loop
 * with an idle timeout. The connection comes from a factory, so that a TLS
 * connection type slides in without touching the callers. A periodic tick
 * lets the caller draw progress while it waits. */
#ifndef TANDEM_BACKUP_WIRE_H
#define TANDEM_BACKUP_WIRE_H

#include <stddef.h>
#include <signal.h>
#include <sys/types.h>

#include "core/loop.h"
#include "core/str.h"
#include "net/conn.h"
#include "repl/proto.h"

/* Makes an unconnected connection on l (plain TCP today; TLS later). */
typedef conn *bk_conn_factory(loop *l, void *priv);

typedef struct bk_wire {
    loop *l;
    conn *c;
    long long timer;
    long long timeout_ms; /* longest wait for any progress */
    long long last_io_ms;
    int ready;            /* an event arrived since the last wait began */
    volatile sig_atomic_t stop; /* set by a signal handler: give up at the next wakeup */
    proto_lines lines;
    void (*tick)(void *priv); /* every BK_WIRE_TICK_MS while waiting or reading */
    void *tick_priv;
    char err[512];
} bk_wire;

#define BK_WIRE_TICK_MS 200

/* Connects within timeout_ms. 0, or -1 with w->err. */
int bk_wire_open(bk_wire *w, const char *host, int port, long long timeout_ms,
                 bk_conn_factory *factory, void *factory_priv);
/* Writes all of cmd. 0, or -1 with w->err. */
int bk_wire_send(bk_wire *w, const str cmd);
/* The next non-empty line (keep-alive newlines are skipped), valid until the
 * next call. 0, or -1 with w->err. */
int bk_wire_line(bk_wire *w, const char **line, size_t *len);
/* Up to cap bytes: those buffered behind the last line first. Bytes read,
 * 0 when the peer closed, -1 with w->err. */
ssize_t bk_wire_read(bk_wire *w, char *buf, size_t cap);
void bk_wire_close(bk_wire *w);

#endif
