/* conn_impl.h: the connection struct and the ops table that each connection
 * type fills in. Private to net/ and to the unit tests' fake connection. */
#ifndef TANDEM_CONN_IMPL_H
#define TANDEM_CONN_IMPL_H

#include "net/conn.h"

#define CONN_FLAG_CLOSE_SCHEDULED (1 << 0)
#define CONN_FLAG_WRITE_BARRIER (1 << 1)
#define CONN_FLAG_MANUAL_HANDSHAKE (1 << 2)

typedef struct conn_type {
    const char *name;
    int (*connect)(conn *c, const char *host, int port, const char *src, conn_handler *h);
    int (*accept)(conn *c, conn_handler *h);
    /* NULL: the type has no handshake of its own. */
    int (*handshake)(conn *c, conn_handler *h);
    ssize_t (*read)(conn *c, void *buf, size_t len);
    ssize_t (*write)(conn *c, const void *buf, size_t len);
    ssize_t (*writev)(conn *c, const struct iovec *iov, int iovcnt);
    /* Re-arm loop interest after a handler was set or removed. */
    int (*update_events)(conn *c);
    /* Release type-specific resources and the descriptor (not the struct). */
    void (*close)(conn *c);
} conn_type;

struct conn {
    const conn_type *type;
    loop *loop;
    int fd;
    enum conn_state state;
    int flags;
    int refs; /* > 0 while a handler of this conn is running */
    conn_handler *read_handler;
    conn_handler *write_handler;
    conn_handler *conn_handler; /* connect or accept completion */
    void *private_data;
    char last_error[256];
    void *type_data;
};

/* Allocates a conn of a type. */
conn *conn_new(const conn_type *type, loop *l, int fd);
/* Calls a handler with the conn in use; returns 0 if the conn was freed
 * (closed during the handler), 1 if it is still alive. */
int conn_call_handler(conn *c, conn_handler *handler);
void conn_set_error(conn *c, const char *msg);
/* A connect's first step for socket-based types: a nonblocking TCP connect
 * into c->fd, then state CONNECTING with handler h. -1 (state ERROR, last
 * error set) when it failed at once. */
int conn_start_tcp_connect(conn *c, const char *host, int port, const char *src,
                           conn_handler *h);

#endif
