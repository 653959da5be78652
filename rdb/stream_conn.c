/* stream_conn.c: the connection backend of rdb/stream.h (see
 * stream_conn.h): the RDB payload read straight from a replica's link to its
 * primary, through a 64 KB buffer (reads at least that large go straight
 * into the caller's memory). With the "$<len>" framing no read asks for a
 * byte past the payload, so everything buffered belongs to it; with the
 * "$EOF:<mark>" framing the buffer may hold the mark and the stream bytes
 * after it, which rdb_stream_conn_finish checks and keeps. The wait for data
 * is the caller's serve hook (a nested event-loop iteration); the stream's
 * read handler on the connection does nothing but wake that loop. */
#include "rdb/stream_conn.h"

#include <string.h>

#include "core/alloc.h"
#include "core/loop.h"
#include "core/str.h"

#define CONN_BUFFER_SIZE (64 * 1024)

struct rdb_conn_source {
    conn *c;
    long long size; /* -1 with a mark */
    int use_mark;
    char mark[RDB_CONN_MARK_LEN];
    unsigned char *buf; /* bytes read and not yet delivered: buf[pos, len) */
    size_t cap, pos, len;
    uint64_t payload_read; /* "$<len>": payload bytes received */
    uint64_t received;     /* every byte after the header */
    str extra;             /* bytes after the payload */
    long long timeout_ms, last_io_ms;
    rdb_conn_serve_fn *serve;
    void *serve_priv;
};

/* The connection's read handler while the stream owns it: the readable
 * event only ends the serve hook's wait; the stream reads by itself. */
static void conn_stream_on_readable(conn *c)
{
    (void)c;
}

/* One read of up to cap bytes into dst, serving the loop while the
 * connection has none: bytes read, or -1 with the stream's error. */
static ssize_t conn_stream_read_some(rdb_stream *s, void *dst, size_t cap)
{
    struct rdb_conn_source *src = s->u.conn;
    if (!src->use_mark) {
        uint64_t left = (uint64_t)src->size - src->payload_read;
        if (left == 0) {
            rdb_stream_fail(s, "The RDB goes on past the %lld bytes the primary announced",
                            src->size);
            return -1;
        }
        if (cap > left) cap = (size_t)left;
    }
    for (;;) {
        ssize_t r = conn_read(src->c, dst, cap);
        if (r > 0) {
            src->received += (uint64_t)r;
            if (!src->use_mark) src->payload_read += (uint64_t)r;
            src->last_io_ms = loop_now_ms();
            return r;
        }
        if (r == 0) {
            rdb_stream_fail(s, "Connection lost after %llu bytes of the RDB payload",
                            (unsigned long long)src->received);
            return -1;
        }
        if (r != CONN_AGAIN) {
            const char *err = conn_last_error(src->c);
            rdb_stream_fail(s, "Error reading the RDB payload from the connection: %s",
                            err ? err : "read failed");
            return -1;
        }
        long long idle = loop_now_ms() - src->last_io_ms;
        if (idle >= src->timeout_ms) {
            rdb_stream_fail(s, "Timeout receiving the RDB payload: no data for %lld ms", idle);
            return -1;
        }
        if (!src->serve) {
            rdb_stream_fail(s, "The RDB payload is not all there yet and nothing waits for it");
            return -1;
        }
        long long wait = src->timeout_ms - idle;
        src->serve(src->serve_priv, wait < RDB_CONN_SERVE_MS ? (int)wait : RDB_CONN_SERVE_MS);
    }
}

static int conn_stream_read(rdb_stream *s, void *buf, size_t len)
{
    struct rdb_conn_source *src = s->u.conn;
    unsigned char *dst = buf;
    while (len > 0) {
        size_t avail = src->len - src->pos;
        if (avail == 0) {
            int direct = len >= src->cap; /* big: no copy */
            ssize_t r = conn_stream_read_some(s, direct ? dst : src->buf, direct ? len : src->cap);
            if (r < 0) return -1;
            if (direct) {
                dst += r;
                len -= (size_t)r;
            } else {
                src->pos = 0;
                src->len = (size_t)r;
            }
            continue;
        }
        size_t n = len < avail ? len : avail;
        memcpy(dst, src->buf + src->pos, n);
        src->pos += n;
        dst += n;
        len -= n;
    }
    return 0;
}

static void conn_stream_close(rdb_stream *s)
{
    struct rdb_conn_source *src = s->u.conn;
    if (!src) return;
    conn_set_read_handler(src->c, NULL);
    tfree(src->buf);
    str_free(src->extra);
    tfree(src);
    s->u.conn = NULL;
}

static const rdb_stream_ops conn_stream_ops = {conn_stream_read, rdb_stream_op_refuse_write,
                                               rdb_stream_op_flush_nothing, conn_stream_close};

void rdb_stream_conn_reader(rdb_stream *s, conn *c, const rdb_conn_opts *opts)
{
    memset(s, 0, sizeof(*s));
    s->ops = &conn_stream_ops;
    struct rdb_conn_source *src = tcalloc(sizeof(*src));
    s->u.conn = src;
    src->c = c;
    src->size = opts->mark ? -1 : opts->size;
    src->use_mark = opts->mark != NULL;
    if (opts->mark) memcpy(src->mark, opts->mark, RDB_CONN_MARK_LEN);
    s->limit = src->use_mark ? UINT64_MAX : (uint64_t)src->size;
    src->timeout_ms = opts->timeout_ms;
    src->last_io_ms = loop_now_ms();
    /* What came with the header: payload first, then what follows it. */
    size_t payload = opts->pre_len;
    if (!src->use_mark && (uint64_t)payload > (uint64_t)src->size) payload = (size_t)src->size;
    src->cap = CONN_BUFFER_SIZE > payload ? CONN_BUFFER_SIZE : payload;
    src->buf = tmalloc(src->cap);
    src->len = payload;
    src->received = payload;
    src->payload_read = payload;
    src->extra = str_empty();
    if (opts->pre_len) {
        memcpy(src->buf, opts->pre, payload);
        src->extra = str_cat_len(src->extra, opts->pre + payload, opts->pre_len - payload);
    }
    if (conn_set_read_handler(c, conn_stream_on_readable) == -1)
        rdb_stream_fail(s, "Can't watch the connection for the RDB payload");
}

void rdb_stream_conn_set_serve(rdb_stream *s, rdb_conn_serve_fn *fn, void *priv)
{
    s->u.conn->serve = fn;
    s->u.conn->serve_priv = priv;
}

int rdb_stream_conn_finish(rdb_stream *s)
{
    if (s->error) return -1;
    struct rdb_conn_source *src = s->u.conn;
    if (!src->use_mark) {
        if (s->offset == (uint64_t)src->size) return 0;
        rdb_stream_fail(s, "The RDB ended after %llu of the %lld bytes the primary announced",
                        (unsigned long long)s->offset, src->size);
        return -1;
    }
    char got[RDB_CONN_MARK_LEN];
    if (conn_stream_read(s, got, sizeof(got)) < 0) return -1;
    if (memcmp(got, src->mark, sizeof(got)) != 0) {
        rdb_stream_fail(s, "Replication stream EOF marker is broken");
        return -1;
    }
    src->extra = str_cat_len(src->extra, src->buf + src->pos, src->len - src->pos);
    src->pos = src->len;
    return 0;
}

const char *rdb_stream_conn_extra(const rdb_stream *s, size_t *len)
{
    *len = str_len(s->u.conn->extra);
    return s->u.conn->extra;
}

uint64_t rdb_stream_conn_received(const rdb_stream *s)
{
    return s->u.conn ? s->u.conn->received : 0;
}

long long rdb_stream_conn_last_io_ms(const rdb_stream *s)
{
    return s->u.conn ? s->u.conn->last_io_ms : 0;
}
