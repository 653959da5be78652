/* diskless.c: the RDB sent to replicas' connections through a pipe (see
 * diskless.h), as Redis 7.0 does it: the child writes into the pipe with
 * blocking writes, so it runs exactly as fast as the slowest replica reads;
 * the parent moves one chunk at a time from the pipe to every connection.
 *
 *   pipe readable --diskless_read--> chunk --diskless_send--> each target
 *       ^                                                        |
 *       |  every target took it all      a socket is full: the   |
 *       +----(reading resumes)<---- diskless_write_handler <-----+
 *                                   finishes it later
 *
 * The transfer ends in diskless_finish, once both have happened: the pipe
 * gave EOF (the child closed it) and the child was reaped (its done handler,
 * from the cron's child_poll). Either may come first; a failed or killed
 * child ends it at once. The pipe is a plain descriptor of this process, so
 * reading it with read(2) here is within the walls (net/ owns sockets only). */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include "rdb/diskless.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "rdb/bgsave.h"
#include "rdb/child.h"
#include "rdb/save.h"
#include "rdb/stream.h"

#define DISKLESS_CHUNK (64 * 1024)     /* bytes read from the pipe at a time */
#define DISKLESS_READS_PER_EVENT 16    /* chunks moved per readable event at most */
#define DISKLESS_PIPE_SIZE (1024 * 1024) /* asked of the kernel; best effort */

typedef struct diskless_target {
    conn *cn;                   /* NULL once dropped or forgotten */
    size_t pos;                 /* bytes of the chunk written to it */
    long long blocked_since_ms; /* its socket refused the rest of the chunk; 0 not */
} diskless_target;

static struct {
    loop *l;
    int pipe_rd, pipe_wr;       /* -1 when closed */
    int reading;                /* the pipe's readable event is installed */
    diskless_target *targets;
    int ntargets, live, writing; /* slots, targets left, targets owing part of the chunk */
    char *buf;
    size_t len;                  /* the chunk read from the pipe */
    int eof;                     /* the pipe gave EOF */
    int child_done, child_ok;    /* reaped, and how it ended */
    diskless_hooks hooks;
    diskless_stats stats;
    /* What the child writes: filled before the fork, read by the child. */
    rdb_aux aux;
    rdb_save_opts opts;
    str head, tail;
} dl = {.pipe_rd = -1, .pipe_wr = -1};

const diskless_stats *diskless_get_stats(void) { return &dl.stats; }

static diskless_target *diskless_find(const conn *cn)
{
    for (int i = 0; cn && i < dl.ntargets; i++)
        if (dl.targets[i].cn == cn) return &dl.targets[i];
    return NULL;
}

long long diskless_blocked_since(const conn *cn)
{
    diskless_target *t = diskless_find(cn);
    return t ? t->blocked_since_ms : 0;
}

/* ------------------------------------------------------------ the child */

static void diskless_progress(long long keys_done, void *priv)
{
    (void)priv;
    child_report(keys_done);
}

/* The child's body: head, RDB, tail into the pipe, with blocking writes.
 * Exit code 0 when every byte went in. */
static int diskless_child_body(void *priv)
{
    (void)priv;
    close(dl.pipe_rd);
    int flags = fcntl(dl.pipe_wr, F_GETFL);
    if (flags != -1) fcntl(dl.pipe_wr, F_SETFL, flags & ~O_NONBLOCK);
    rdb_stream s;
    rdb_stream_fd_writer(&s, dl.pipe_wr);
    rdb_stream_write(&s, dl.head, str_len(dl.head));
    rdb_save_stream(&s, &dl.aux, &dl.opts);
    rdb_stream_write(&s, dl.tail, str_len(dl.tail));
    rdb_stream_flush(&s, 0);
    int failed = s.error;
    if (failed) log_msg(LOG_WARNING, "Write error sending the RDB to the replicas: %s", s.errmsg);
    rdb_stream_close(&s);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------------ the end */

static void diskless_stop_reading(void)
{
    if (dl.reading) loop_del_file(dl.l, dl.pipe_rd, LOOP_READABLE);
    dl.reading = 0;
}

static void diskless_close_pipe(void)
{
    diskless_stop_reading();
    if (dl.pipe_rd != -1) close(dl.pipe_rd);
    if (dl.pipe_wr != -1) close(dl.pipe_wr);
    dl.pipe_rd = dl.pipe_wr = -1;
}

/* Every remaining target learns how it ended, then the owner that the
 * transfer is over. The state is reset first: the hooks may start another. */
static void diskless_finish(const char *why)
{
    int ok = dl.child_ok && dl.eof;
    diskless_target *targets = dl.targets;
    int n = dl.ntargets;
    diskless_hooks hooks = dl.hooks;
    diskless_close_pipe();
    dl.targets = NULL;
    dl.ntargets = dl.live = dl.writing = 0;
    dl.stats.active = 0;
    dl.stats.targets = 0;
    str_free(dl.head);
    str_free(dl.tail);
    dl.head = dl.tail = NULL;
    for (int i = 0; i < n; i++) {
        if (!targets[i].cn) continue;
        conn_set_write_handler(targets[i].cn, NULL);
        hooks.target_done(targets[i].cn, ok, ok ? NULL : why, hooks.priv);
    }
    tfree(targets);
    hooks.finished(hooks.priv);
}

/* CHILD_REPL's done handler. A child that succeeded may end before the
 * parent has read all of the pipe: the end waits for the EOF then, unless
 * no target is left to read it for (a child killed just after it ended). */
static void diskless_child_done(int exitcode, int bysignal, void *priv)
{
    (void)priv;
    dl.child_done = 1;
    dl.child_ok = !bysignal && exitcode == 0;
    if (dl.child_ok)
        log_msg(LOG_NOTICE, "Background RDB transfer terminated with success");
    else if (!bysignal)
        log_msg(LOG_WARNING, "Background transfer error");
    else
        log_msg(LOG_WARNING, "Background transfer terminated by signal %d", bysignal);
    if (!dl.stats.active) return;
    if (!dl.child_ok)
        diskless_finish(bysignal ? "the child was killed" : "the child failed");
    else if (dl.eof || dl.live == 0)
        diskless_finish("no replica left");
}

/* A target is gone: when none is left there is no one to send to. */
static void diskless_start_reading(void);

static void diskless_drop(diskless_target *t)
{
    if (t->blocked_since_ms) dl.writing--;
    t->blocked_since_ms = 0;
    conn_set_write_handler(t->cn, NULL);
    t->cn = NULL;
    dl.live--;
    dl.stats.targets = dl.live;
    if (dl.live > 0) {
        diskless_start_reading(); /* it may have been the one the pipe waited for */
        return;
    }
    if (!dl.child_done) {
        log_msg(LOG_WARNING, "Diskless rdb transfer, last replica dropped, killing fork child.");
        child_kill(); /* its done handler ends the transfer */
    } else {
        diskless_finish("no replica left");
    }
}

static void diskless_fail(diskless_target *t, const char *why)
{
    conn *cn = t->cn;
    diskless_hooks hooks = dl.hooks;
    diskless_drop(t);
    hooks.target_done(cn, 0, why, hooks.priv);
}

void diskless_forget(conn *cn)
{
    diskless_target *t = diskless_find(cn);
    if (t) diskless_drop(t);
}

/* ------------------------------------------------------- moving bytes */

static void diskless_read(loop *l, int fd, void *data, int mask);

static void diskless_start_reading(void)
{
    if (dl.reading || dl.pipe_rd == -1 || dl.writing) return;
    if (loop_add_file(dl.l, dl.pipe_rd, LOOP_READABLE, diskless_read, NULL) == 0) dl.reading = 1;
}

/* Writes what t still owes of the chunk: 1 all of it, 0 the socket is full,
 * -1 the connection failed. */
static int diskless_write(diskless_target *t)
{
    while (t->pos < dl.len) {
        ssize_t n = conn_write(t->cn, dl.buf + t->pos, dl.len - t->pos);
        if (n == CONN_AGAIN) return 0;
        if (n < 0) return -1;
        t->pos += (size_t)n;
    }
    return 1;
}

/* A target's socket has room again. */
static void diskless_write_handler(conn *cn)
{
    diskless_target *t = diskless_find(cn);
    if (!t || t->pos == dl.len) {
        conn_set_write_handler(cn, NULL);
        return;
    }
    int rc = diskless_write(t);
    if (rc == 0) return;
    if (rc < 0) {
        diskless_fail(t, conn_last_error(cn));
        return;
    }
    conn_set_write_handler(cn, NULL);
    t->blocked_since_ms = 0;
    dl.writing--;
    diskless_start_reading();
}

/* The new chunk to every target; those that cannot take it all finish it
 * from their write handler, and the pipe waits for them. A failure may end
 * the transfer (the last target), and the owner may start the next one from
 * its hook: the transfer's number tells. */
static void diskless_send(void)
{
    long long now = loop_now_ms(), transfer = dl.stats.transfers;
    for (int i = 0; i < dl.ntargets; i++) {
        diskless_target *t = &dl.targets[i];
        if (!t->cn) continue;
        t->pos = 0;
        int rc = diskless_write(t);
        if (rc < 0) {
            diskless_fail(t, conn_last_error(t->cn));
            if (!dl.stats.active || dl.stats.transfers != transfer) return;
        } else if (rc == 0) {
            t->blocked_since_ms = now;
            dl.writing++;
            conn_set_write_handler(t->cn, diskless_write_handler);
        }
    }
    if (dl.writing) diskless_stop_reading();
}

/* The pipe's readable handler: chunks while every target takes them. */
static void diskless_read(loop *l, int fd, void *data, int mask)
{
    (void)l;
    (void)data;
    (void)mask;
    long long transfer = dl.stats.transfers;
    for (int i = 0; i < DISKLESS_READS_PER_EVENT; i++) {
        if (!dl.stats.active || dl.stats.transfers != transfer || !dl.reading || dl.writing)
            return;
        ssize_t n = read(fd, dl.buf, DISKLESS_CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n > 0) {
            dl.len = (size_t)n;
            dl.stats.bytes += n;
            diskless_send();
            continue;
        }
        diskless_close_pipe();
        if (n == 0) {
            dl.eof = 1; /* the child wrote everything, or died */
            if (dl.child_done) diskless_finish(dl.child_ok ? NULL : "the child failed");
            return;
        }
        log_msg(LOG_WARNING, "Diskless rdb transfer, read error: %s", strerror(errno));
        if (!dl.child_done)
            child_kill(); /* its done handler ends the transfer */
        else
            diskless_finish("read error on the pipe");
        return;
    }
}

/* ------------------------------------------------------------ the start */

static int diskless_open_pipe(str *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == -1) {
        *err = str_cat_fmt(str_empty(), "pipe: %s", strerror(errno));
        return -1;
    }
    dl.pipe_rd = fds[0];
    dl.pipe_wr = fds[1];
    fcntl(dl.pipe_rd, F_SETFL, O_NONBLOCK);
    fcntl(dl.pipe_wr, F_SETPIPE_SZ, DISKLESS_PIPE_SIZE);
    return 0;
}

int diskless_start(conn *const *conns, int n, const char *head, size_t head_len,
                   const char *tail, size_t tail_len, const diskless_hooks *hooks, str *err)
{
    *err = NULL;
    if (dl.stats.active || child_running() != CHILD_NONE) {
        *err = str_new("another child process is active");
        return -1;
    }
    if (bgsave_settings_for_replication(&dl.aux, &dl.opts) == -1) {
        *err = str_new("the dataset is loading");
        return -1;
    }
    dl.opts.progress = diskless_progress;
    if (diskless_open_pipe(err) == -1) return -1;
    dl.head = str_new_len(head, head_len);
    dl.tail = str_new_len(tail, tail_len);
    if (child_start(CHILD_REPL, diskless_child_body, NULL, err) == -1) {
        diskless_close_pipe();
        str_free(dl.head);
        str_free(dl.tail);
        dl.head = dl.tail = NULL;
        return -1;
    }
    close(dl.pipe_wr);
    dl.pipe_wr = -1;
    dl.writing = 0;
    diskless_start_reading();
    if (!dl.reading) {
        /* Only a descriptor past the loop's size gets here. */
        child_kill();
        diskless_close_pipe();
        str_free(dl.head);
        str_free(dl.tail);
        dl.head = dl.tail = NULL;
        *err = str_new("can't watch the pipe");
        return -1;
    }
    dl.targets = tcalloc(sizeof(*dl.targets) * (size_t)n);
    for (int i = 0; i < n; i++) dl.targets[i].cn = conns[i];
    dl.ntargets = dl.live = n;
    dl.len = 0;
    dl.eof = dl.child_done = dl.child_ok = 0;
    dl.hooks = *hooks;
    dl.stats.active = 1;
    dl.stats.targets = n;
    dl.stats.bytes = 0;
    dl.stats.transfers++;
    log_msg(LOG_NOTICE, "Background RDB transfer started by pid %ld", (long)child_pid());
    return 0;
}

void diskless_init(loop *l)
{
    dl.l = l;
    if (!dl.buf) dl.buf = tmalloc(DISKLESS_CHUNK);
    child_set_done_handler(CHILD_REPL, diskless_child_done, NULL);
}
