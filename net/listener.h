/* listener.h: listening sockets (a TCP bind list, a Unix socket) on the
 * event loop. Each readable event accepts up to LISTENER_MAX_ACCEPTS
 * connections and hands each, wrapped in a conn (plain or TLS), to the accept callback given
 * at creation. Knows the event loop and the connection layer only. */
#ifndef TANDEM_LISTENER_H
#define TANDEM_LISTENER_H

#include "core/loop.h"
#include "net/conn.h"
#include "net/tls.h"

#define LISTENER_MAX_ACCEPTS 1000

typedef struct listener listener;
/* Receives a new connection in state ACCEPTING; the callback owns it. */
typedef void listener_accept_fn(conn *c, void *data);

/* Listens on every address of addrs (port on each). Returns NULL with a
 * message in err (SOCK_ERR_LEN bytes) when one cannot be bound. */
listener *listener_create_tcp(loop *l, int naddrs, char **addrs, int port, int backlog,
                              listener_accept_fn *fn, void *data, char *err);
/* The same, accepting TLS connections made from *ctx as it is at each
 * accept (so that swapping the context rotates certificates). */
listener *listener_create_tls(loop *l, int naddrs, char **addrs, int port, int backlog,
                              tls_context *const *ctx, listener_accept_fn *fn, void *data,
                              char *err);
listener *listener_create_unix(loop *l, const char *path, unsigned perm, int backlog,
                               listener_accept_fn *fn, void *data, char *err);
void listener_close(listener *ls);
/* In a forked child: closes the listening descriptors only (the event loop's
 * epoll instance is the parent's too, and a Unix socket's file stays), so
 * that a child outliving a killed parent does not keep its ports bound. */
void listener_close_after_fork(listener *ls);
/* Descriptors held (for the reserved-descriptor arithmetic). */
int listener_fd_count(const listener *ls);

#endif
