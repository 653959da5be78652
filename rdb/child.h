/* child.h: the one owner of fork(). One background child at a time, by
 * type (an RDB save to disk; an RDB sent to replicas' sockets, through
 * rdb/diskless). The child
 * runs a body function and reports progress and copy-on-write bytes to the
 * parent through a pipe. serverCron calls child_poll(), a waitpid with
 * WNOHANG: when the child has ended, the done handler of its type runs with
 * the exit status. Nothing ever waits for a child. */
#ifndef TANDEM_RDB_CHILD_H
#define TANDEM_RDB_CHILD_H

#include <sys/types.h>

#include "core/str.h"

/* CHILD_RDB: BGSAVE to disk; CHILD_REPL: RDB to replica sockets. */
enum child_type { CHILD_NONE = 0, CHILD_RDB, CHILD_REPL, CHILD_TYPES };

/* Runs in the child; its return value is the exit code (0 success). */
typedef int child_body_fn(void *priv);
/* Runs in the parent when the child ended: exitcode, or the signal that
 * killed it (bysignal != 0). */
typedef void child_done_fn(int exitcode, int bysignal, void *priv);

void child_set_done_handler(enum child_type type, child_done_fn *done, void *priv);
/* Runs first in every new child: the composition root closes there what a
 * child must not hold (the listening sockets). */
void child_set_after_fork_hook(void (*fn)(void));
/* While held, child_start refuses: a shutdown that kills the running child
 * must not see a done handler fork the next one. */
void child_hold(int held);
/* Forks a child of a type running body(priv). 0 in the parent, or -1 with
 * *err when a child is already running or fork failed. In the child, the
 * body runs and the process exits with its return value (never returns). */
int child_start(enum child_type type, child_body_fn *body, void *priv, str *err);
/* The cron's poll: reads the info pipe, reaps an ended child and calls its
 * done handler. Returns 1 if a child ended. */
int child_poll(void);
enum child_type child_running(void);
pid_t child_pid(void);
/* Kills the running child (FLUSHALL, SHUTDOWN) and reaps it; the done
 * handler runs with bysignal set. */
void child_kill(void);

/* In the child: report progress (keys done) and the copy-on-write bytes. */
void child_report(long long keys_done);

typedef struct child_stats {
    long long total_forks;
    long long latest_fork_usec;
    long long start_ms;             /* when the running child started */
    size_t current_cow_size, current_cow_peak, last_cow_size;
    long long current_keys_done;
} child_stats;
child_stats *child_get_stats(void);

#endif
