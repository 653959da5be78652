/* conn_socket.c: the plain socket connection type (TCP and Unix). One loop
 * handler serves both directions: it completes a pending connect, then calls
 * the read and write handlers in order (write first under the barrier flag),
 * stopping if a handler closed the connection. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/conn_impl.h"
#include "net/sock.h"

static void socket_set_errno(conn *c)
{
    conn_set_error(c, strerror(errno));
    c->state = CONN_STATE_ERROR;
}

static void socket_event(loop *l, int fd, void *data, int mask);

static int socket_update_events(conn *c)
{
    if (c->fd == -1) return 0;
    int want = 0;
    if (c->read_handler) want |= LOOP_READABLE;
    if (c->write_handler || (c->state == CONN_STATE_CONNECTING && c->conn_handler))
        want |= LOOP_WRITABLE;
    if ((want & LOOP_WRITABLE) && (c->flags & CONN_FLAG_WRITE_BARRIER)) want |= LOOP_BARRIER;
    int have = loop_get_file_mask(c->loop, c->fd);
    if (have & ~want) loop_del_file(c->loop, c->fd, have & ~want);
    if (want & ~have) return loop_add_file(c->loop, c->fd, want & ~have, socket_event, c);
    return 0;
}

static void socket_complete_connect(conn *c)
{
    char err[SOCK_ERR_LEN];
    if (sock_connect_result(c->fd, err) == 0) {
        c->state = CONN_STATE_CONNECTED;
    } else {
        conn_set_error(c, err);
        c->state = CONN_STATE_ERROR;
    }
    conn_handler *h = c->conn_handler;
    c->conn_handler = NULL;
    socket_update_events(c);
    if (h) h(c);
}

static void socket_event(loop *l, int fd, void *data, int mask)
{
    (void)l;
    (void)fd;
    conn *c = data;
    c->refs++;
    if (c->state == CONN_STATE_CONNECTING && (mask & LOOP_WRITABLE) && c->conn_handler) {
        socket_complete_connect(c);
        mask &= ~LOOP_WRITABLE;
    }
    int write_first = (c->flags & CONN_FLAG_WRITE_BARRIER) != 0;
    if (c->flags & CONN_FLAG_CLOSE_SCHEDULED) mask = 0;
    if (!write_first && (mask & LOOP_READABLE) && c->read_handler) c->read_handler(c);
    if ((mask & LOOP_WRITABLE) && c->write_handler && !(c->flags & CONN_FLAG_CLOSE_SCHEDULED))
        c->write_handler(c);
    if (write_first && (mask & LOOP_READABLE) && c->read_handler &&
        !(c->flags & CONN_FLAG_CLOSE_SCHEDULED))
        c->read_handler(c);
    c->refs--;
    conn_call_handler(c, NULL); /* releases the conn if a handler closed it */
}

static int socket_connect(conn *c, const char *host, int port, const char *src, conn_handler *h)
{
    if (conn_start_tcp_connect(c, host, port, src, h) == -1) return -1;
    /* socket_update_events() arms the writable event that completes it. */
    loop_add_file(c->loop, c->fd, LOOP_WRITABLE, socket_event, c);
    return 0;
}

static int socket_accept(conn *c, conn_handler *h)
{
    c->state = CONN_STATE_CONNECTED;
    conn_call_handler(c, h);
    return 0;
}

static ssize_t socket_result(conn *c, ssize_t n, int is_read)
{
    if (n > 0) return n;
    if (n == 0 && is_read) {
        c->state = CONN_STATE_CLOSED;
        return 0;
    }
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return CONN_AGAIN;
    if (n == 0) return CONN_AGAIN; /* a zero-length write */
    socket_set_errno(c);
    return CONN_ERR;
}

static ssize_t socket_read(conn *c, void *buf, size_t len)
{
    return socket_result(c, sock_read(c->fd, buf, len), 1);
}

static ssize_t socket_write(conn *c, const void *buf, size_t len)
{
    return socket_result(c, sock_write(c->fd, buf, len), 0);
}

static ssize_t socket_writev(conn *c, const struct iovec *iov, int iovcnt)
{
    return socket_result(c, writev(c->fd, iov, iovcnt), 0);
}

static void socket_close(conn *c)
{
    if (c->fd == -1) return;
    loop_del_file(c->loop, c->fd, LOOP_READABLE | LOOP_WRITABLE | LOOP_BARRIER);
    sock_shutdown(c->fd);
    sock_close(c->fd);
    c->fd = -1;
}

static const conn_type socket_type = {
    .name = "tcp",
    .connect = socket_connect,
    .accept = socket_accept,
    .read = socket_read,
    .write = socket_write,
    .writev = socket_writev,
    .update_events = socket_update_events,
    .close = socket_close,
};

conn *conn_create_socket(loop *l) { return conn_new(&socket_type, l, -1); }

conn *conn_create_accepted_socket(loop *l, int fd)
{
    conn *c = conn_new(&socket_type, l, fd);
    c->state = CONN_STATE_ACCEPTING;
    return c;
}
