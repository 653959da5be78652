/* fake_conn.c: the unit tests' scriptable connection type (see fake_conn.h).
 * Reads come from a queue the test fills, writes go to a capture buffer
 * within a budget, a connect waits for the test to end it, and handlers run
 * under conn_call_handler so that the refs counting and deferred release of
 * conn.c apply as with real sockets. */
#include "tests/unit/fake/fake_conn.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "net/conn_impl.h"

typedef struct fake_data {
    str in; /* queued input; bytes before in_off were read */
    size_t in_off;
    int eof;
    str out;       /* captured output */
    size_t budget; /* bytes writes may still take, SIZE_MAX unlimited */
    int fail;
    char err[256];
    int fail_reads;
    char read_err[256];
    char connect_err[256]; /* "" unless the next connect must fail */
    char *host;            /* the target of conn_connect */
    int port;
    int events;
    int has_handshake; /* conn_handshake starts one */
} fake_data;

static size_t fake_live;

static fake_data *fake_get(const conn *c)
{
    return c->type_data;
}

/* Only a conn born unconnected may connect; it stays CONNECTING until the
 * test calls fake_conn_connect_done. */
static int fake_connect(conn *c, const char *host, int port, const char *src, conn_handler *h)
{
    (void)src;
    fake_data *d = fake_get(c);
    if (c->state != CONN_STATE_NONE) {
        conn_set_error(c, "fake connections cannot connect");
        return -1;
    }
    if (d->connect_err[0]) {
        conn_set_error(c, d->connect_err);
        c->state = CONN_STATE_ERROR;
        return -1;
    }
    tfree(d->host);
    d->host = tstrdup(host);
    d->port = port;
    c->state = CONN_STATE_CONNECTING;
    c->conn_handler = h;
    return 0;
}

static int fake_accept(conn *c, conn_handler *h)
{
    c->state = CONN_STATE_CONNECTED;
    conn_call_handler(c, h);
    return 0;
}

static int fake_handshake(conn *c, conn_handler *h)
{
    if (!fake_get(c)->has_handshake) return 1;
    c->state = CONN_STATE_CONNECTING;
    c->conn_handler = h;
    return 0;
}

static ssize_t fake_read(conn *c, void *buf, size_t len)
{
    fake_data *d = fake_get(c);
    if (d->fail_reads) {
        conn_set_error(c, d->read_err);
        c->state = CONN_STATE_ERROR;
        return CONN_ERR;
    }
    size_t avail = str_len(d->in) - d->in_off;
    if (avail == 0) {
        if (!d->eof) return CONN_AGAIN;
        c->state = CONN_STATE_CLOSED;
        return 0;
    }
    size_t n = len < avail ? len : avail;
    memcpy(buf, d->in + d->in_off, n);
    d->in_off += n;
    if (d->in_off == str_len(d->in)) {
        str_clear(d->in);
        d->in_off = 0;
    }
    return (ssize_t)n;
}

/* Sets the error state when writes were told to fail. */
static int fake_write_failed(conn *c)
{
    fake_data *d = fake_get(c);
    if (!d->fail) return 0;
    conn_set_error(c, d->err);
    c->state = CONN_STATE_ERROR;
    return 1;
}

/* Captures up to len bytes within the budget; returns how many. */
static size_t fake_take(fake_data *d, const void *p, size_t len)
{
    size_t n = len < d->budget ? len : d->budget;
    if (d->budget != SIZE_MAX) d->budget -= n;
    d->out = str_cat_len(d->out, p, n);
    return n;
}

static ssize_t fake_write(conn *c, const void *buf, size_t len)
{
    if (fake_write_failed(c)) return CONN_ERR;
    size_t n = fake_take(fake_get(c), buf, len);
    return n ? (ssize_t)n : CONN_AGAIN;
}

static ssize_t fake_writev(conn *c, const struct iovec *iov, int iovcnt)
{
    if (fake_write_failed(c)) return CONN_ERR;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        size_t n = fake_take(fake_get(c), iov[i].iov_base, iov[i].iov_len);
        total += n;
        if (n < iov[i].iov_len) break;
    }
    return total ? (ssize_t)total : CONN_AGAIN;
}

static int fake_update_events(conn *c)
{
    int events = 0;
    if (c->read_handler) events |= LOOP_READABLE;
    if (c->write_handler) events |= LOOP_WRITABLE;
    if (c->write_handler && (c->flags & CONN_FLAG_WRITE_BARRIER)) events |= LOOP_BARRIER;
    fake_get(c)->events = events;
    return 0;
}

static void fake_close(conn *c)
{
    fake_data *d = fake_get(c);
    str_free(d->in);
    str_free(d->out);
    tfree(d->host);
    tfree(d);
    c->type_data = NULL;
    fake_live--;
}

static const conn_type fake_type = {
    .name = "fake",
    .connect = fake_connect,
    .accept = fake_accept,
    .handshake = fake_handshake,
    .read = fake_read,
    .write = fake_write,
    .writev = fake_writev,
    .update_events = fake_update_events,
    .close = fake_close,
};

conn *fake_conn_create(loop *l)
{
    conn *c = conn_new(&fake_type, l, -1);
    fake_data *d = tcalloc(sizeof(*d));
    d->in = str_empty();
    d->out = str_empty();
    d->budget = SIZE_MAX;
    c->type_data = d;
    c->state = CONN_STATE_CONNECTED;
    fake_live++;
    return c;
}

conn *fake_conn_create_unconnected(loop *l)
{
    conn *c = fake_conn_create(l);
    c->state = CONN_STATE_NONE;
    return c;
}

void fake_conn_fail_connect(conn *c, const char *err)
{
    snprintf(fake_get(c)->connect_err, sizeof(fake_get(c)->connect_err), "%s", err);
}

void fake_conn_enable_handshake(conn *c)
{
    fake_get(c)->has_handshake = 1;
}

void fake_conn_handshake_done(conn *c, const char *err)
{
    fake_conn_connect_done(c, err);
}

void fake_conn_connect_done(conn *c, const char *err)
{
    if (err) {
        conn_set_error(c, err);
        c->state = CONN_STATE_ERROR;
    } else {
        c->state = CONN_STATE_CONNECTED;
    }
    conn_handler *h = c->conn_handler;
    c->conn_handler = NULL;
    conn_call_handler(c, h);
}

const char *fake_conn_connect_target(const conn *c, int *port)
{
    *port = fake_get(c)->port;
    return fake_get(c)->host;
}

size_t fake_conn_live(void)
{
    return fake_live;
}

void fake_conn_feed(conn *c, const void *p, size_t len)
{
    fake_data *d = fake_get(c);
    d->in = str_cat_len(d->in, p, len);
}

void fake_conn_feed_eof(conn *c)
{
    fake_get(c)->eof = 1;
}

size_t fake_conn_unread(const conn *c)
{
    const fake_data *d = fake_get(c);
    return str_len(d->in) - d->in_off;
}

void fake_conn_fail_reads(conn *c, const char *err)
{
    fake_data *d = fake_get(c);
    d->fail_reads = 1;
    snprintf(d->read_err, sizeof(d->read_err), "%s", err);
}

void fake_conn_set_write_budget(conn *c, size_t bytes)
{
    fake_get(c)->budget = bytes;
}

void fake_conn_fail_writes(conn *c, const char *err)
{
    fake_data *d = fake_get(c);
    d->fail = 1;
    snprintf(d->err, sizeof(d->err), "%s", err);
}

const char *fake_conn_written(const conn *c, size_t *len)
{
    const fake_data *d = fake_get(c);
    *len = str_len(d->out);
    return d->out;
}

void fake_conn_clear_written(conn *c)
{
    str_clear(fake_get(c)->out);
}

int fake_conn_events(const conn *c)
{
    return fake_get(c)->events;
}

/* Runs a handler under conn_call_handler; 0 when the handler closed the conn
 * and it is gone. A conn closed while an outer handler of it runs is kept
 * but calls no more handlers, as in the socket type. */
static int fake_call(conn *c, conn_handler *h)
{
    if (!h || (c->flags & CONN_FLAG_CLOSE_SCHEDULED)) return 1;
    return conn_call_handler(c, h);
}

void fake_conn_fire(conn *c, int mask)
{
    int write_first = (c->flags & CONN_FLAG_WRITE_BARRIER) != 0;
    if (!write_first && (mask & LOOP_READABLE) && !fake_call(c, c->read_handler)) return;
    if ((mask & LOOP_WRITABLE) && !fake_call(c, c->write_handler)) return;
    if (write_first && (mask & LOOP_READABLE)) fake_call(c, c->read_handler);
}
