/* loop.c: the event loop (see loop.h). Owns the per-descriptor table of file
 * events, the min-heap of timers, the sleep hooks and the wake-up eventfd;
 * the waiting itself is done by the backend of loop_backend.h.
 *
 * Points loop.h leaves open:
 * - The wake-up eventfd is watched internally and may be numbered at or above
 *   the setsize: the tables are sized to hold it, while the fd < setsize bound
 *   and loop_get_setsize() keep the caller's value. Its events are not counted
 *   in loop_process()'s result.
 * - One data pointer per descriptor, shared by both directions: the last
 *   loop_add_file() on the descriptor sets it. Deleting LOOP_WRITABLE also
 *   clears LOOP_BARRIER.
 * - loop_resize() never shrinks the tables, only the bound, so a handler may
 *   resize the loop while the events of an iteration are being dispatched.
 * - A timer runs at most once per loop_process(): one rescheduled with 0 ms
 *   (or a negative value other than LOOP_NOMORE) is next due after the
 *   current millisecond. Timers are not processed by a loop_process() called
 *   from inside a timer handler.
 * - A loop_process() called from inside a file handler reuses the array of
 *   fired events, so the outer call may then dispatch events that are no
 *   longer ready: handlers must cope with EAGAIN, as they must anyway.
 * - loop_destroy() runs the finalizers of the timers still pending.
 * - loop_create() returns NULL when setsize <= 0, and loop_resize() fails. */
#include "core/loop.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/loop_backend.h"

#define LOOP_IO (LOOP_READABLE | LOOP_WRITABLE)
#define LOOP_HEAP_MIN 16

typedef struct loop_file {
    int mask;
    loop_file_proc *rproc;
    loop_file_proc *wproc;
    void *data;
} loop_file;

typedef struct loop_timer {
    long long id; /* also the creation order */
    long long when;
    loop_timer_proc *proc;
    loop_timer_finalizer *finalizer;
    void *data;
    int deleted; /* deleted while its handler runs */
} loop_timer;

struct loop {
    const loop_backend *backend;
    void *state;
    int setsize; /* the caller's bound on fds */
    int cap;     /* entries of files and fired, never less than setsize */
    loop_file *files;
    loop_fired *fired;
    loop_timer **heap;
    int heap_len;
    int heap_cap;
    long long next_timer_id;
    loop_timer *running; /* out of the heap while its handler runs */
    int wakefd;
    atomic_int stop;
    loop_hook *before_sleep;
    void *before_data;
    loop_hook *after_sleep;
    void *after_data;
    long long busy_poll_us; /* spin this long before blocking, 0: never */
    int last_fired;         /* events of the previous wait */
    int skip_wait;          /* the next wait only polls */
};

long long loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- files */

static void loop_wake_drain(loop *l, int fd, void *data, int mask)
{
    uint64_t count;
    ssize_t n = read(fd, &count, sizeof(count));
    (void)n; /* EAGAIN: another drain got there first */
    (void)l;
    (void)data;
    (void)mask;
}

/* loop_add_file() without the setsize bound, for the wake-up eventfd. */
static int loop_watch(loop *l, int fd, int mask, loop_file_proc *proc, void *data)
{
    loop_file *fe = &l->files[fd];
    int oldio = fe->mask & LOOP_IO;
    if ((mask & LOOP_IO & ~oldio) && l->backend->add(l->state, fd, oldio, mask & LOOP_IO) == -1)
        return -1;
    fe->mask |= mask;
    if (mask & LOOP_READABLE)
        fe->rproc = proc;
    if (mask & LOOP_WRITABLE)
        fe->wproc = proc;
    fe->data = data;
    return 0;
}

int loop_add_file(loop *l, int fd, int mask, loop_file_proc *proc, void *data)
{
    if (fd < 0 || fd >= l->setsize || ((mask & LOOP_IO) && !proc))
        return -1;
    return loop_watch(l, fd, mask, proc, data);
}

void loop_del_file(loop *l, int fd, int mask)
{
    if (fd < 0 || fd >= l->setsize)
        return;
    loop_file *fe = &l->files[fd];
    if (mask & LOOP_WRITABLE)
        mask |= LOOP_BARRIER;
    if (fe->mask & mask & LOOP_IO)
        l->backend->del(l->state, fd, fe->mask & LOOP_IO, mask & LOOP_IO);
    fe->mask &= ~mask;
}

int loop_get_file_mask(loop *l, int fd)
{
    if (fd < 0 || fd >= l->setsize)
        return LOOP_NONE;
    return l->files[fd].mask;
}

/* Calls the dir handler of fd if it is still registered and is not the proc
 * already called for this fd (done). The registration is read afresh, since
 * the previous handler may have changed it or moved the table. Returns the
 * last proc called. */
static loop_file_proc *loop_call_file(loop *l, int fd, int fired, int dir, loop_file_proc *done)
{
    loop_file *fe = &l->files[fd];
    loop_file_proc *proc = dir == LOOP_READABLE ? fe->rproc : fe->wproc;
    if (!(fe->mask & fired & dir) || proc == done)
        return done;
    proc(l, fd, fe->data, fired);
    return proc;
}

/* Readable first, then writable; the other way round with LOOP_BARRIER.
 * Returns 1 when a handler ran. */
static int loop_dispatch_file(loop *l, int fd, int fired)
{
    int barrier = l->files[fd].mask & LOOP_BARRIER;
    loop_file_proc *done = NULL;
    if (!barrier)
        done = loop_call_file(l, fd, fired, LOOP_READABLE, done);
    done = loop_call_file(l, fd, fired, LOOP_WRITABLE, done);
    if (barrier)
        done = loop_call_file(l, fd, fired, LOOP_READABLE, done);
    return done != NULL;
}

static int loop_dispatch_files(loop *l, int nfired)
{
    int processed = 0;
    for (int i = 0; i < nfired; i++) {
        int fd = l->fired[i].fd;
        int ran = loop_dispatch_file(l, fd, l->fired[i].mask);
        if (fd != l->wakefd)
            processed += ran;
    }
    return processed;
}

/* ---------------------------------------------------------------- timers */

static int loop_timer_before(const loop_timer *a, const loop_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void loop_heap_swap(loop *l, int i, int j)
{
    loop_timer *t = l->heap[i];
    l->heap[i] = l->heap[j];
    l->heap[j] = t;
}

static void loop_heap_up(loop *l, int i)
{
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (!loop_timer_before(l->heap[i], l->heap[parent]))
            return;
        loop_heap_swap(l, i, parent);
        i = parent;
    }
}

static void loop_heap_down(loop *l, int i)
{
    for (;;) {
        int min = i;
        int left = 2 * i + 1;
        int right = left + 1;
        if (left < l->heap_len && loop_timer_before(l->heap[left], l->heap[min]))
            min = left;
        if (right < l->heap_len && loop_timer_before(l->heap[right], l->heap[min]))
            min = right;
        if (min == i)
            return;
        loop_heap_swap(l, i, min);
        i = min;
    }
}

static void loop_heap_push(loop *l, loop_timer *t)
{
    if (l->heap_len == l->heap_cap) {
        l->heap_cap = l->heap_cap ? l->heap_cap * 2 : LOOP_HEAP_MIN;
        l->heap = trealloc(l->heap, sizeof(*l->heap) * (size_t)l->heap_cap);
    }
    l->heap[l->heap_len++] = t;
    loop_heap_up(l, l->heap_len - 1);
}

static loop_timer *loop_heap_remove(loop *l, int i)
{
    loop_timer *t = l->heap[i];
    l->heap[i] = l->heap[--l->heap_len];
    if (i < l->heap_len) {
        loop_heap_up(l, i);
        loop_heap_down(l, i);
    }
    return t;
}

/* now + ms, with ms clamped to [0, what does not overflow]. */
static long long loop_deadline(long long ms)
{
    long long now = loop_now_ms();
    if (ms < 0)
        ms = 0;
    return ms > LLONG_MAX - now ? LLONG_MAX : now + ms;
}

/* The timer is out of the heap: its finalizer may touch the loop freely. */
static void loop_timer_free(loop *l, loop_timer *t)
{
    if (t->finalizer)
        t->finalizer(l, t->data);
    tfree(t);
}

long long loop_add_timer(loop *l, long long ms, loop_timer_proc *proc, void *data,
                         loop_timer_finalizer *finalizer)
{
    loop_timer *t = tcalloc(sizeof(*t));
    t->id = l->next_timer_id++;
    t->when = loop_deadline(ms);
    t->proc = proc;
    t->finalizer = finalizer;
    t->data = data;
    loop_heap_push(l, t);
    return t->id;
}

/* Linear in the number of timers: a server keeps only a handful. */
int loop_del_timer(loop *l, long long id)
{
    for (int i = 0; i < l->heap_len; i++) {
        if (l->heap[i]->id == id) {
            loop_timer_free(l, loop_heap_remove(l, i));
            return 0;
        }
    }
    if (l->running && l->running->id == id && !l->running->deleted) {
        l->running->deleted = 1; /* finalized when its handler returns */
        return 0;
    }
    return -1;
}

/* Runs t, which is out of the heap, then ends or reschedules it. A deadline
 * within the pass (pass_now) would let it run again in this pass. */
static void loop_run_timer(loop *l, loop_timer *t, long long pass_now)
{
    l->running = t;
    long long ms = t->proc(l, t->id, t->data);
    l->running = NULL;
    if (t->deleted || ms == LOOP_NOMORE) {
        loop_timer_free(l, t);
        return;
    }
    t->when = loop_deadline(ms);
    if (t->when <= pass_now)
        t->when = pass_now + 1;
    loop_heap_push(l, t);
}

/* Runs the timers due at the start of the pass, in heap order. Timers
 * created during the pass have ids above max_id and sort after every timer
 * due in it, so the first one met ends the pass. */
static int loop_process_timers(loop *l)
{
    if (l->running)
        return 0;
    long long pass_now = loop_now_ms();
    long long max_id = l->next_timer_id - 1;
    int processed = 0;
    while (l->heap_len > 0) {
        loop_timer *t = l->heap[0];
        if (t->when > pass_now || t->id > max_id)
            break;
        loop_run_timer(l, loop_heap_remove(l, 0), pass_now);
        processed++;
    }
    return processed;
}

/* ---------------------------------------------------------------- loop */

loop *loop_create(int setsize)
{
    if (setsize <= 0)
        return NULL;
    int wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd == -1)
        return NULL;
    loop *l = tcalloc(sizeof(*l));
    l->backend = &loop_epoll_backend;
    l->setsize = setsize;
    l->cap = setsize > wakefd ? setsize : wakefd + 1;
    l->wakefd = wakefd;
    l->files = tcalloc(sizeof(*l->files) * (size_t)l->cap);
    l->fired = tmalloc(sizeof(*l->fired) * (size_t)l->cap);
    l->state = l->backend->create(l->cap);
    if (!l->state || loop_watch(l, wakefd, LOOP_READABLE, loop_wake_drain, NULL) == -1) {
        loop_destroy(l);
        return NULL;
    }
    return l;
}

void loop_destroy(loop *l)
{
    while (l->heap_len > 0)
        loop_timer_free(l, loop_heap_remove(l, l->heap_len - 1));
    tfree(l->heap);
    if (l->state)
        l->backend->free(l->state);
    close(l->wakefd);
    tfree(l->files);
    tfree(l->fired);
    tfree(l);
}

int loop_get_setsize(loop *l)
{
    return l->setsize;
}

static int loop_grow(loop *l, int cap)
{
    if (l->backend->resize(l->state, cap) == -1)
        return -1;
    l->files = trealloc(l->files, sizeof(*l->files) * (size_t)cap);
    memset(l->files + l->cap, 0, sizeof(*l->files) * (size_t)(cap - l->cap));
    l->fired = trealloc(l->fired, sizeof(*l->fired) * (size_t)cap);
    l->cap = cap;
    return 0;
}

int loop_resize(loop *l, int setsize)
{
    if (setsize <= 0)
        return -1;
    for (int fd = setsize; fd < l->cap; fd++) {
        if (fd != l->wakefd && l->files[fd].mask != LOOP_NONE)
            return -1;
    }
    if (setsize > l->cap && loop_grow(l, setsize) == -1)
        return -1;
    l->setsize = setsize;
    return 0;
}

/* Until the nearest timer; -1 (no limit) when there is none to wait for. */
static int loop_wait_ms(loop *l, int flags)
{
    if (l->skip_wait) {
        l->skip_wait = 0;
        return 0;
    }
    if (flags & LOOP_DONT_WAIT)
        return 0;
    if (!(flags & LOOP_TIME_EVENTS) || l->heap_len == 0)
        return -1;
    long long ms = l->heap[0]->when - loop_now_ms();
    if (ms < 0)
        return 0;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The shorter of two waits, -1 being no limit. */
static int loop_min_wait(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static long long loop_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Adaptive busy polling: while events keep coming, poll without sleeping
 * for up to busy_poll_us before blocking. A busy server then answers without
 * paying a sleep and a wake-up per request; an idle one blocks at once,
 * since only a wait that found events lets the next one spin. */
static int loop_wait(loop *l, int timeout_ms)
{
    int nfired = 0;
    if (l->busy_poll_us > 0 && l->last_fired > 0 && timeout_ms != 0) {
        long long until = loop_now_us() + l->busy_poll_us;
        do {
            nfired = l->backend->poll(l->state, 0, l->fired);
        } while (nfired == 0 && loop_now_us() < until);
    }
    if (nfired == 0) nfired = l->backend->poll(l->state, timeout_ms, l->fired);
    l->last_fired = nfired;
    return nfired;
}

void loop_set_busy_poll(loop *l, long long usec) { l->busy_poll_us = usec; }

void loop_skip_next_wait(loop *l) { l->skip_wait = 1; }

/* The before-sleep hook runs before the timeout is computed, so the timers it
 * adds are waited for. Without LOOP_FILE_EVENTS the wait may still end on a
 * ready descriptor, whose events are left for a later call. */
int loop_process(loop *l, int flags)
{
    return loop_process_wait(l, flags, -1);
}

int loop_process_wait(loop *l, int flags, int max_wait_ms)
{
    if (!(flags & LOOP_ALL_EVENTS))
        return 0;
    if ((flags & LOOP_CALL_BEFORE_SLEEP) && l->before_sleep)
        l->before_sleep(l, l->before_data);
    int nfired = loop_wait(l, loop_min_wait(loop_wait_ms(l, flags), max_wait_ms));
    if ((flags & LOOP_CALL_AFTER_SLEEP) && l->after_sleep)
        l->after_sleep(l, l->after_data);
    int processed = 0;
    if (flags & LOOP_FILE_EVENTS)
        processed += loop_dispatch_files(l, nfired);
    if (flags & LOOP_TIME_EVENTS)
        processed += loop_process_timers(l);
    return processed;
}

void loop_run(loop *l)
{
    atomic_store(&l->stop, 0);
    while (!atomic_load(&l->stop))
        loop_process(l, LOOP_ALL_EVENTS | LOOP_CALL_BEFORE_SLEEP | LOOP_CALL_AFTER_SLEEP);
}

void loop_stop(loop *l)
{
    atomic_store(&l->stop, 1);
}

void loop_set_before_sleep(loop *l, loop_hook *hook, void *data)
{
    l->before_sleep = hook;
    l->before_data = data;
}

void loop_set_after_sleep(loop *l, loop_hook *hook, void *data)
{
    l->after_sleep = hook;
    l->after_data = data;
}

/* Only write(2): async-signal-safe. A full counter (EAGAIN) is already a
 * pending wake-up. */
void loop_wakeup(loop *l)
{
    uint64_t one = 1;
    ssize_t n = write(l->wakefd, &one, sizeof(one));
    (void)n;
}
