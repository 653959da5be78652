/* conn.h: THE connection interface. Everything above net/ talks to peers
 * through these functions only, so that the plain socket type, the TLS type
 * and the unit tests' fake type are interchangeable. A conn is bound to one
 * event loop. Handlers are called with the connection "in use", so a handler
 * may close its own connection: the memory is released when it returns. */
#ifndef TANDEM_CONN_H
#define TANDEM_CONN_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/loop.h"

typedef struct conn conn;
typedef void conn_handler(conn *c);

enum conn_state {
    CONN_STATE_NONE = 0,
    CONN_STATE_CONNECTING,
    CONN_STATE_ACCEPTING,
    CONN_STATE_CONNECTED,
    CONN_STATE_CLOSED,
    CONN_STATE_ERROR
};

/* Results of reads and writes besides a byte count. */
#define CONN_ERR (-1)   /* state is ERROR or CLOSED, see conn_last_error */
#define CONN_AGAIN (-2) /* would block: wait for the next event */

/* A new unconnected plain TCP connection (for conn_connect). */
conn *conn_create_socket(loop *l);
/* Wraps an accepted descriptor (from the listener). */
conn *conn_create_accepted_socket(loop *l, int fd);

/* Starts a nonblocking connect; handler runs once when it completes or
 * fails (check conn_state). 0 started, -1 failed at once (last error). */
int conn_connect(conn *c, const char *host, int port, const char *source_addr,
                 conn_handler *handler);
/* Completes the accept (TLS: the handshake); handler runs when done. */
int conn_accept(conn *c, conn_handler *handler);

/* A type with a security handshake (TLS) runs it inside conn_connect, whose
 * handler fires once it is done, unless conn_set_manual_handshake was called
 * before the connect: then the handler fires when the transport is up
 * (state CONNECTED) and conn_handshake runs the handshake as a step of its
 * own. conn_handshake returns 0 when started (state CONNECTING until the
 * handler runs, then CONNECTED or ERROR), 1 when the type has none (nothing
 * to do, the handler is not called), -1 when it failed at once. */
void conn_set_manual_handshake(conn *c);
int conn_handshake(conn *c, conn_handler *handler);

/* Bytes read (> 0), 0 at end of stream, CONN_AGAIN or CONN_ERR. */
ssize_t conn_read(conn *c, void *buf, size_t len);
/* Bytes written (> 0), CONN_AGAIN or CONN_ERR. */
ssize_t conn_write(conn *c, const void *buf, size_t len);
ssize_t conn_writev(conn *c, const struct iovec *iov, int iovcnt);

/* NULL removes the handler. The barrier form makes the write handler run
 * before the read handler within one loop iteration. 0 or -1. */
int conn_set_read_handler(conn *c, conn_handler *handler);
int conn_set_write_handler(conn *c, conn_handler *handler);
int conn_set_write_handler_barrier(conn *c, conn_handler *handler, int barrier);
int conn_has_read_handler(conn *c);
int conn_has_write_handler(conn *c);

/* Closes now, or when the running handler returns. */
void conn_close(conn *c);

enum conn_state conn_get_state(const conn *c);
const char *conn_state_name(enum conn_state state);
const char *conn_last_error(const conn *c);
const char *conn_type_name(const conn *c);

void conn_set_private(conn *c, void *data);
void *conn_get_private(const conn *c);

/* Address helpers: "ip:port" of the peer and of the local end. */
int conn_format_peer(conn *c, char *buf, size_t len);
int conn_format_local(conn *c, char *buf, size_t len);
int conn_peer_ip(conn *c, char *ip, size_t iplen, int *port);
int conn_is_unix(conn *c);
int conn_enable_nodelay(conn *c);
int conn_keepalive(conn *c, int interval);
/* The descriptor, for display (CLIENT LIST fd=) only; -1 when none. */
int conn_fd(const conn *c);

#endif
