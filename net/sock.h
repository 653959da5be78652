/* sock.h: the socket system calls, wrapped: listen (TCP v4/v6, Unix),
 * accept, nonblocking connect, socket options, peer and local names. Errors
 * go into a caller's buffer of SOCK_ERR_LEN bytes. A leaf: together with the
 * conn types, the only place that calls socket functions. */
#ifndef TANDEM_SOCK_H
#define TANDEM_SOCK_H

#include <stddef.h>

#define SOCK_ERR_LEN 256
#define SOCK_IP_LEN 46 /* INET6_ADDRSTRLEN */
#define SOCK_AGAIN (-2)

/* Returns a listening, nonblocking, close-on-exec fd or -1. addr may be "*"
 * (IPv4 any) or "::*" (IPv6 any). A leading '-' on addr means "skip quietly
 * if the address is unavailable": then -1 with err empty. */
int sock_listen_tcp(const char *addr, int port, int backlog, char *err);
int sock_listen_unix(const char *path, unsigned perm, int backlog, char *err);
/* Accepts one connection: the fd (nonblocking, cloexec), SOCK_AGAIN when
 * none is pending, or -1 with err. ip/port may be NULL. */
int sock_accept(int lfd, char *ip, size_t iplen, int *port, char *err);
/* Starts a nonblocking connect; the fd is writable when it completes. */
int sock_connect(const char *host, int port, const char *source_addr, char *err);
/* After the fd became writable: 0 connected, or -1 with err. */
int sock_connect_result(int fd, char *err);

int sock_set_nodelay(int fd, int on);
int sock_set_keepalive(int fd, int interval);
/* Peer or local address as "ip:port" ("[ip]:port" is not used: Redis shows
 * "ip:port" for v6 too), or "path:0" for Unix sockets. */
int sock_format_peer(int fd, char *buf, size_t len);
int sock_format_local(int fd, char *buf, size_t len);
int sock_peer_ip(int fd, char *ip, size_t iplen, int *port);
int sock_is_unix(int fd);

long sock_read(int fd, void *buf, size_t len);
long sock_write(int fd, const void *buf, size_t len);
void sock_close(int fd);
/* Ends the connection for every process holding the descriptor (a forked
 * child keeps copies): the peer sees the end now, not when the child exits. */
void sock_shutdown(int fd);

#endif
