/* listener.c: listening sockets and the accept handler (see listener.h). */
#include "net/listener.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "net/sock.h"

#define LISTENER_MAX_FDS 16

struct listener {
    loop *loop;
    int nfds;
    int fds[LISTENER_MAX_FDS];
    int is_unix;
    tls_context *const *tls; /* NULL: plain connections */
    listener_accept_fn *accept_fn;
    void *data;
};

static void listener_accept(loop *l, int fd, void *data, int mask)
{
    (void)mask;
    listener *ls = data;
    char err[SOCK_ERR_LEN];
    for (int i = 0; i < LISTENER_MAX_ACCEPTS; i++) {
        int cfd = sock_accept(fd, NULL, 0, NULL, err);
        if (cfd == SOCK_AGAIN) return;
        if (cfd == -1) {
            log_msg(LOG_WARNING, "Accepting client connection: %s", err);
            return;
        }
        conn *c = ls->tls ? conn_create_accepted_tls(l, cfd, *ls->tls)
                          : conn_create_accepted_socket(l, cfd);
        ls->accept_fn(c, ls->data);
    }
}

static listener *listener_new(loop *l, int is_unix, listener_accept_fn *fn, void *data)
{
    listener *ls = tcalloc(sizeof(*ls));
    ls->loop = l;
    ls->is_unix = is_unix;
    ls->accept_fn = fn;
    ls->data = data;
    return ls;
}

static int listener_watch(listener *ls, int fd, char *err)
{
    if (loop_add_file(ls->loop, fd, LOOP_READABLE, listener_accept, ls) == -1) {
        snprintf(err, SOCK_ERR_LEN, "cannot watch listening socket %d", fd);
        sock_close(fd);
        return -1;
    }
    ls->fds[ls->nfds++] = fd;
    return 0;
}

listener *listener_create_tcp(loop *l, int naddrs, char **addrs, int port, int backlog,
                              listener_accept_fn *fn, void *data, char *err)
{
    listener *ls = listener_new(l, 0, fn, data);
    for (int i = 0; i < naddrs && ls->nfds < LISTENER_MAX_FDS; i++) {
        int fd = sock_listen_tcp(addrs[i], port, backlog, err);
        if (fd == -1 && err[0] == '\0') continue; /* optional address ("-::1") */
        if (fd == -1) {
            char msg[SOCK_ERR_LEN];
            snprintf(msg, sizeof(msg), "Could not create server TCP listening socket %s:%d: %s",
                     addrs[i], port, err);
            memcpy(err, msg, SOCK_ERR_LEN);
            listener_close(ls);
            return NULL;
        }
        if (listener_watch(ls, fd, err) == -1) {
            listener_close(ls);
            return NULL;
        }
    }
    return ls;
}

listener *listener_create_tls(loop *l, int naddrs, char **addrs, int port, int backlog,
                              tls_context *const *ctx, listener_accept_fn *fn, void *data,
                              char *err)
{
    listener *ls = listener_create_tcp(l, naddrs, addrs, port, backlog, fn, data, err);
    if (ls) ls->tls = ctx;
    return ls;
}

listener *listener_create_unix(loop *l, const char *path, unsigned perm, int backlog,
                               listener_accept_fn *fn, void *data, char *err)
{
    listener *ls = listener_new(l, 1, fn, data);
    int fd = sock_listen_unix(path, perm, backlog, err);
    if (fd == -1 || listener_watch(ls, fd, err) == -1) {
        listener_close(ls);
        return NULL;
    }
    return ls;
}

void listener_close(listener *ls)
{
    if (!ls) return;
    for (int i = 0; i < ls->nfds; i++) {
        loop_del_file(ls->loop, ls->fds[i], LOOP_READABLE);
        sock_close(ls->fds[i]);
    }
    tfree(ls);
}

void listener_close_after_fork(listener *ls)
{
    if (!ls) return;
    for (int i = 0; i < ls->nfds; i++) sock_close(ls->fds[i]);
}

int listener_fd_count(const listener *ls) { return ls ? ls->nfds : 0; }
