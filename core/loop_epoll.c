/* loop_epoll.c: the epoll backend of the event loop (see loop_backend.h),
 * level-triggered. Owns the epoll descriptor and the array epoll_wait fills;
 * the only file of the project that calls epoll_* functions. */
#include "core/loop_backend.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/loop.h"

typedef struct loop_epoll {
    int epfd;
    int size;
    struct epoll_event *events;
} loop_epoll;

static void *loop_epoll_create(int setsize)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd == -1)
        return NULL;
    loop_epoll *ep = tmalloc(sizeof(*ep));
    ep->epfd = epfd;
    ep->size = setsize;
    ep->events = tmalloc(sizeof(*ep->events) * (size_t)setsize);
    return ep;
}

static int loop_epoll_resize(void *state, int setsize)
{
    loop_epoll *ep = state;
    ep->events = trealloc(ep->events, sizeof(*ep->events) * (size_t)setsize);
    ep->size = setsize;
    return 0;
}

static void loop_epoll_free(void *state)
{
    loop_epoll *ep = state;
    close(ep->epfd);
    tfree(ep->events);
    tfree(ep);
}

static int loop_epoll_ctl(loop_epoll *ep, int op, int fd, int mask)
{
    struct epoll_event ev = {.events = 0, .data.fd = fd};
    if (mask & LOOP_READABLE)
        ev.events |= EPOLLIN;
    if (mask & LOOP_WRITABLE)
        ev.events |= EPOLLOUT;
    return epoll_ctl(ep->epfd, op, fd, &ev);
}

static int loop_epoll_add(void *state, int fd, int oldmask, int addmask)
{
    int op = oldmask == LOOP_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    return loop_epoll_ctl(state, op, fd, oldmask | addmask);
}

static void loop_epoll_del(void *state, int fd, int oldmask, int delmask)
{
    int mask = oldmask & ~delmask;
    loop_epoll_ctl(state, mask == LOOP_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD, fd, mask);
}

/* Errors and hang-ups are reported in both directions, so that whichever
 * handler is installed gets to see the failure on its next read or write. */
static int loop_epoll_mask(uint32_t events)
{
    int mask = LOOP_NONE;
    if (events & EPOLLIN)
        mask |= LOOP_READABLE;
    if (events & EPOLLOUT)
        mask |= LOOP_WRITABLE;
    if (events & (EPOLLERR | EPOLLHUP))
        mask |= LOOP_READABLE | LOOP_WRITABLE;
    return mask;
}

/* Any failure other than EINTR means the epoll descriptor or the array is
 * broken, a bug that retrying would only turn into a busy loop. */
static int loop_epoll_poll(void *state, int timeout_ms, loop_fired *fired)
{
    loop_epoll *ep = state;
    int n = epoll_wait(ep->epfd, ep->events, ep->size, timeout_ms);
    if (n == -1) {
        if (errno == EINTR)
            return 0;
        fprintf(stderr, "tandem: epoll_wait: %s\n", strerror(errno));
        abort();
    }
    for (int i = 0; i < n; i++) {
        fired[i].fd = ep->events[i].data.fd;
        fired[i].mask = loop_epoll_mask(ep->events[i].events);
    }
    return n;
}

const loop_backend loop_epoll_backend = {
    .name = "epoll",
    .create = loop_epoll_create,
    .resize = loop_epoll_resize,
    .free = loop_epoll_free,
    .add = loop_epoll_add,
    .del = loop_epoll_del,
    .poll = loop_epoll_poll,
};
