/* loop_backend.h: private interface between the event loop (loop.c) and its
 * polling backend (loop_epoll.c). Owns nothing; only loop.c and a backend
 * include it. Masks here are LOOP_READABLE and/or LOOP_WRITABLE only: the
 * barrier is a dispatch matter that loop.c keeps to itself. */
#ifndef TANDEM_LOOP_BACKEND_H
#define TANDEM_LOOP_BACKEND_H

/* One ready descriptor reported by a poll. */
typedef struct loop_fired {
    int fd;
    int mask;
} loop_fired;

typedef struct loop_backend {
    const char *name;
    /* A backend able to watch fds < setsize; NULL on failure. */
    void *(*create)(int setsize);
    /* Grows the backend to watch fds < setsize. 0 or -1. */
    int (*resize)(void *state, int setsize);
    void (*free)(void *state);
    /* fd watched oldmask so far and now watches oldmask | addmask. 0 or -1. */
    int (*add)(void *state, int fd, int oldmask, int addmask);
    /* fd watched oldmask so far and stops watching delmask. Errors are
     * ignored: the descriptor may already be closed. */
    void (*del)(void *state, int fd, int oldmask, int delmask);
    /* Waits up to timeout_ms (-1: no limit, 0: no wait) and fills fired with
     * at most setsize entries. Returns their count; 0 when interrupted. */
    int (*poll)(void *state, int timeout_ms, loop_fired *fired);
} loop_backend;

extern const loop_backend loop_epoll_backend;

#endif
