/* wire.c: the backup tool's sequential client (see wire.h). Each call runs
 * the loop until its connection makes progress: the connection's handlers
 * only raise a flag, and a periodic timer wakes the loop so that the idle
 * timeout, a stop request and the caller's progress tick are looked at even
 * when nothing arrives. Every byte goes through net/conn.h. */
#include "tools/backup/wire.h"

#include <stdio.h>
#include <string.h>

#define WIRE_LINE_CHUNK (16 * 1024)

static void wire_event(conn *c)
{
    bk_wire *w = conn_get_private(c);
    w->ready = 1;
}

static void wire_tick(bk_wire *w)
{
    if (w->tick) w->tick(w->tick_priv);
}

static long long wire_timer(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    wire_tick(data);
    return BK_WIRE_TICK_MS;
}

static int wire_fail(bk_wire *w, const char *what, const char *why)
{
    snprintf(w->err, sizeof(w->err), "%s: %s", what, why && why[0] ? why : "unknown error");
    return -1;
}

/* Runs the loop until a handler raises the flag: 0, or -1 on timeout or
 * a stop request. */
static int wire_wait(bk_wire *w, const char *what)
{
    while (!w->ready) {
        if (w->stop) return wire_fail(w, what, "interrupted");
        long long idle = loop_now_ms() - w->last_io_ms;
        if (idle >= w->timeout_ms) {
            char why[64];
            snprintf(why, sizeof(why), "timed out (nothing for %lld s)", idle / 1000);
            return wire_fail(w, what, why);
        }
        loop_process(w->l, LOOP_ALL_EVENTS);
    }
    w->ready = 0;
    return 0;
}

int bk_wire_open(bk_wire *w, const char *host, int port, long long timeout_ms,
                 bk_conn_factory *factory, void *factory_priv)
{
    memset(w, 0, sizeof(*w));
    w->timeout_ms = timeout_ms;
    w->timer = -1;
    proto_lines_init(&w->lines, PROTO_LINE_MAX);
    w->l = loop_create(128);
    if (!w->l) return wire_fail(w, "creating the event loop", "out of descriptors");
    w->timer = loop_add_timer(w->l, BK_WIRE_TICK_MS, wire_timer, w, NULL);
    w->c = factory(w->l, factory_priv);
    if (!w->c) return wire_fail(w, "creating the connection", "failed");
    conn_set_private(w->c, w);
    w->last_io_ms = loop_now_ms();
    char what[200];
    snprintf(what, sizeof(what), "connecting to %.150s:%d", host, port);
    if (conn_connect(w->c, host, port, NULL, wire_event) == -1)
        return wire_fail(w, what, conn_last_error(w->c));
    if (wire_wait(w, what) == -1) return -1;
    if (conn_get_state(w->c) != CONN_STATE_CONNECTED)
        return wire_fail(w, what, conn_last_error(w->c));
    w->last_io_ms = loop_now_ms();
    return 0;
}

int bk_wire_send(bk_wire *w, const str cmd)
{
    size_t off = 0, len = str_len(cmd);
    while (off < len) {
        ssize_t n = conn_write(w->c, cmd + off, len - off);
        if (n > 0) {
            off += (size_t)n;
            w->last_io_ms = loop_now_ms();
            continue;
        }
        if (n != CONN_AGAIN) return wire_fail(w, "writing to the server", conn_last_error(w->c));
        conn_set_write_handler(w->c, wire_event);
        int rc = wire_wait(w, "writing to the server");
        conn_set_write_handler(w->c, NULL);
        if (rc == -1) return -1;
    }
    return 0;
}

/* One read from the connection: bytes, 0 at end of stream, -1. */
static ssize_t wire_read_conn(bk_wire *w, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = conn_read(w->c, buf, cap);
        if (n > 0) {
            w->last_io_ms = loop_now_ms();
            return n;
        }
        if (n == 0) return 0;
        if (n != CONN_AGAIN) return wire_fail(w, "reading from the server", conn_last_error(w->c));
        if (!conn_has_read_handler(w->c)) conn_set_read_handler(w->c, wire_event);
        if (wire_wait(w, "waiting for the server") == -1) return -1;
    }
}

int bk_wire_line(bk_wire *w, const char **line, size_t *len)
{
    for (;;) {
        int rc = proto_lines_next(&w->lines, line, len);
        if (rc == PROTO_OK) return 0;
        if (rc == PROTO_ERR) {
            char why[64];
            snprintf(why, sizeof(why), "a line longer than %d bytes", PROTO_LINE_MAX);
            return wire_fail(w, "protocol error", why);
        }
        char buf[WIRE_LINE_CHUNK];
        ssize_t n = wire_read_conn(w, buf, sizeof(buf));
        if (n == 0) return wire_fail(w, "reading from the server", "connection closed by the server");
        if (n < 0) return -1;
        proto_lines_feed(&w->lines, buf, (size_t)n);
    }
}

ssize_t bk_wire_read(bk_wire *w, char *buf, size_t cap)
{
    size_t have;
    const char *rest = proto_lines_rest(&w->lines, &have);
    if (have > 0) {
        size_t take = have < cap ? have : cap;
        memcpy(buf, rest, take);
        w->lines.pos += take; /* taken: see proto_lines */
        return (ssize_t)take;
    }
    return wire_read_conn(w, buf, cap);
}

void bk_wire_close(bk_wire *w)
{
    if (w->c) conn_close(w->c);
    w->c = NULL;
    if (w->l) {
        if (w->timer >= 0) loop_del_timer(w->l, w->timer);
        loop_destroy(w->l);
    }
    w->l = NULL;
    proto_lines_free(&w->lines);
}
