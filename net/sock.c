/* sock.c: socket system calls behind plain functions (see sock.h). */
#define _GNU_SOURCE
#include "net/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void set_err(char *err, const char *fmt, const char *arg)
{
    if (err) snprintf(err, SOCK_ERR_LEN, fmt, arg, strerror(errno));
}

static int listen_on(int fd, const struct sockaddr *sa, socklen_t len, int backlog, char *err)
{
    if (bind(fd, sa, len) == -1) {
        set_err(err, "bind: %s%s", "");
        return -1;
    }
    if (listen(fd, backlog) == -1) {
        set_err(err, "listen: %s%s", "");
        return -1;
    }
    return 0;
}

int sock_listen_tcp(const char *addr, int port, int backlog, char *err)
{
    int optional = addr[0] == '-';
    if (optional) addr++;
    const char *host = addr;
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (!strcmp(addr, "*")) host = NULL, family = AF_INET;
    if (!strcmp(addr, "::*")) host = NULL, family = AF_INET6;

    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int rv = getaddrinfo(host, portstr, &hints, &res);
    if (rv != 0) {
        if (err) snprintf(err, SOCK_ERR_LEN, "%s: %s", addr, gai_strerror(rv));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
        if (fd == -1) continue;
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (p->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
        if (listen_on(fd, p->ai_addr, p->ai_addrlen, backlog, err) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd == -1 && optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT ||
                                 errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT)) {
        if (err) err[0] = '\0';
    }
    return fd;
}

int sock_listen_unix(const char *path, unsigned perm, int backlog, char *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        if (err) snprintf(err, SOCK_ERR_LEN, "unix socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        set_err(err, "socket: %s%s", "");
        return -1;
    }
    unlink(path);
    if (listen_on(fd, (struct sockaddr *)&sa, sizeof(sa), backlog, err) == -1) {
        close(fd);
        return -1;
    }
    if (perm) chmod(path, perm);
    return fd;
}

static void format_ip(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        if (ip) inet_ntop(AF_INET, &s->sin_addr, ip, (socklen_t)iplen);
        if (port) *port = ntohs(s->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        if (ip) inet_ntop(AF_INET6, &s->sin6_addr, ip, (socklen_t)iplen);
        if (port) *port = ntohs(s->sin6_port);
    } else {
        if (ip) snprintf(ip, iplen, "%s", "/unixsocket");
        if (port) *port = 0;
    }
}

int sock_accept(int lfd, char *ip, size_t iplen, int *port, char *err)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd;
    do {
        fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd == -1 && errno == EINTR);
    if (fd == -1) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return SOCK_AGAIN;
        set_err(err, "accept: %s%s", "");
        return -1;
    }
    format_ip(&ss, ip, iplen, port);
    return fd;
}

int sock_connect(const char *host, int port, const char *source_addr, char *err)
{
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rv = getaddrinfo(host, portstr, &hints, &res);
    if (rv != 0) {
        if (err) snprintf(err, SOCK_ERR_LEN, "%s: %s", host, gai_strerror(rv));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
        if (fd == -1) continue;
        if (source_addr && source_addr[0]) {
            struct addrinfo *b;
            struct addrinfo bh = {.ai_family = p->ai_family, .ai_socktype = SOCK_STREAM};
            if (getaddrinfo(source_addr, NULL, &bh, &b) == 0) {
                int ok = bind(fd, b->ai_addr, b->ai_addrlen);
                freeaddrinfo(b);
                if (ok == -1) {
                    set_err(err, "bind %s: %s", source_addr);
                    close(fd);
                    fd = -1;
                    continue;
                }
            }
        }
        if (connect(fd, p->ai_addr, p->ai_addrlen) == 0 || errno == EINPROGRESS) break;
        set_err(err, "connect %s: %s", host);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int sock_connect_result(int fd, char *err)
{
    int sockerr = 0;
    socklen_t len = sizeof(sockerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &sockerr, &len) == -1) sockerr = errno;
    if (sockerr == 0) return 0;
    errno = sockerr;
    set_err(err, "connect%s: %s", "");
    return -1;
}

int sock_set_nodelay(int fd, int on)
{
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

int sock_set_keepalive(int fd, int interval)
{
    int yes = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes)) == -1) return -1;
    int idle = interval, intvl = interval / 3 ? interval / 3 : 1, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    return 0;
}

static int format_addr(const struct sockaddr_storage *ss, socklen_t sl, char *buf, size_t len)
{
    if (ss->ss_family == AF_UNIX) {
        /* sun_path holds sl - offsetof(sun_path) bytes, not always a NUL. */
        const struct sockaddr_un *s = (const struct sockaddr_un *)ss;
        int plen = (int)sl - (int)offsetof(struct sockaddr_un, sun_path);
        if (plen < 0) plen = 0;
        return snprintf(buf, len, "%.*s:0", (int)strnlen(s->sun_path, (size_t)plen), s->sun_path);
    }
    char ip[SOCK_IP_LEN];
    int port;
    format_ip(ss, ip, sizeof(ip), &port);
    return snprintf(buf, len, "%s:%d", ip, port);
}

int sock_format_peer(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) return -1;
    /* A Unix client's end has no name: show the socket's path, as Redis. */
    if (ss.ss_family == AF_UNIX) return sock_format_local(fd, buf, len);
    return format_addr(&ss, sl, buf, len);
}

int sock_format_local(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) return -1;
    return format_addr(&ss, sl, buf, len);
}

int sock_peer_ip(int fd, char *ip, size_t iplen, int *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) return -1;
    format_ip(&ss, ip, iplen, port);
    return 0;
}

int sock_is_unix(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) return 0;
    return ss.ss_family == AF_UNIX;
}

long sock_read(int fd, void *buf, size_t len) { return read(fd, buf, len); }
long sock_write(int fd, const void *buf, size_t len) { return write(fd, buf, len); }
void sock_close(int fd) { close(fd); }

void sock_shutdown(int fd) { (void)shutdown(fd, SHUT_RDWR); }
