/* conn.c: the machinery shared by every connection type: allocation, calling
 * handlers under a reference so that a handler can close its own connection,
 * deferred release, and the type-independent accessors of conn.h. */
#include "net/conn_impl.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "net/sock.h"

conn *conn_new(const conn_type *type, loop *l, int fd)
{
    conn *c = tcalloc(sizeof(*c));
    c->type = type;
    c->loop = l;
    c->fd = fd;
    c->state = CONN_STATE_NONE;
    return c;
}

void conn_set_error(conn *c, const char *msg)
{
    snprintf(c->last_error, sizeof(c->last_error), "%s", msg);
}

int conn_start_tcp_connect(conn *c, const char *host, int port, const char *src,
                           conn_handler *h)
{
    char err[SOCK_ERR_LEN];
    int fd = sock_connect(host, port, src, err);
    if (fd == -1) {
        conn_set_error(c, err);
        c->state = CONN_STATE_ERROR;
        return -1;
    }
    c->fd = fd;
    c->state = CONN_STATE_CONNECTING;
    c->conn_handler = h;
    return 0;
}

static void conn_release(conn *c)
{
    c->type->close(c);
    tfree(c);
}

int conn_call_handler(conn *c, conn_handler *handler)
{
    c->refs++;
    if (handler) handler(c);
    c->refs--;
    if (c->refs == 0 && (c->flags & CONN_FLAG_CLOSE_SCHEDULED)) {
        conn_release(c);
        return 0;
    }
    return 1;
}

void conn_close(conn *c)
{
    if (c->refs > 0) {
        /* A handler is running: stop events now, free when it returns. */
        c->read_handler = c->write_handler = NULL;
        c->type->update_events(c);
        c->flags |= CONN_FLAG_CLOSE_SCHEDULED;
        if (c->state != CONN_STATE_ERROR) c->state = CONN_STATE_CLOSED;
        return;
    }
    conn_release(c);
}

int conn_connect(conn *c, const char *host, int port, const char *source_addr,
                 conn_handler *handler)
{
    return c->type->connect(c, host, port, source_addr, handler);
}

int conn_accept(conn *c, conn_handler *handler) { return c->type->accept(c, handler); }

void conn_set_manual_handshake(conn *c) { c->flags |= CONN_FLAG_MANUAL_HANDSHAKE; }

int conn_handshake(conn *c, conn_handler *handler)
{
    return c->type->handshake ? c->type->handshake(c, handler) : 1;
}

ssize_t conn_read(conn *c, void *buf, size_t len) { return c->type->read(c, buf, len); }

ssize_t conn_write(conn *c, const void *buf, size_t len) { return c->type->write(c, buf, len); }

ssize_t conn_writev(conn *c, const struct iovec *iov, int iovcnt)
{
    return c->type->writev(c, iov, iovcnt);
}

int conn_set_read_handler(conn *c, conn_handler *handler)
{
    c->read_handler = handler;
    return c->type->update_events(c);
}

int conn_set_write_handler_barrier(conn *c, conn_handler *handler, int barrier)
{
    c->write_handler = handler;
    if (barrier)
        c->flags |= CONN_FLAG_WRITE_BARRIER;
    else
        c->flags &= ~CONN_FLAG_WRITE_BARRIER;
    return c->type->update_events(c);
}

int conn_set_write_handler(conn *c, conn_handler *handler)
{
    return conn_set_write_handler_barrier(c, handler, 0);
}

int conn_has_read_handler(conn *c) { return c->read_handler != NULL; }
int conn_has_write_handler(conn *c) { return c->write_handler != NULL; }

enum conn_state conn_get_state(const conn *c) { return c->state; }

const char *conn_state_name(enum conn_state state)
{
    static const char *names[] = {"none", "connecting", "accepting", "connected", "closed",
                                  "error"};
    return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

const char *conn_last_error(const conn *c) { return c->last_error[0] ? c->last_error : NULL; }
const char *conn_type_name(const conn *c) { return c->type->name; }
void conn_set_private(conn *c, void *data) { c->private_data = data; }
void *conn_get_private(const conn *c) { return c->private_data; }
int conn_fd(const conn *c) { return c->fd; }

int conn_format_peer(conn *c, char *buf, size_t len)
{
    return c->fd == -1 ? -1 : sock_format_peer(c->fd, buf, len);
}

int conn_format_local(conn *c, char *buf, size_t len)
{
    return c->fd == -1 ? -1 : sock_format_local(c->fd, buf, len);
}

int conn_peer_ip(conn *c, char *ip, size_t iplen, int *port)
{
    return c->fd == -1 ? -1 : sock_peer_ip(c->fd, ip, iplen, port);
}

int conn_is_unix(conn *c) { return c->fd != -1 && sock_is_unix(c->fd); }
int conn_enable_nodelay(conn *c) { return c->fd == -1 ? -1 : sock_set_nodelay(c->fd, 1); }

int conn_keepalive(conn *c, int interval)
{
    return c->fd == -1 ? -1 : sock_set_keepalive(c->fd, interval);
}
