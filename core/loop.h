/* loop.h: the event loop. File events (readable, writable, and a barrier flag
 * that makes the writable handler run before the readable one for that fd),
 * timers on the monotonic clock with millisecond precision kept in a min-heap
 * (deadline, then creation order), before-sleep and after-sleep hooks, and a
 * wake-up descriptor that other threads or processes can use to interrupt the
 * wait. The polling backend (epoll) sits behind a small ops struct in
 * loop_epoll.c. A leaf: knows nothing of the server. */
#ifndef TANDEM_LOOP_H
#define TANDEM_LOOP_H

typedef struct loop loop;

/* File event masks. */
#define LOOP_NONE 0
#define LOOP_READABLE 1
#define LOOP_WRITABLE 2
#define LOOP_BARRIER 4 /* with LOOP_WRITABLE: writable handler first */

/* loop_process() flags. */
#define LOOP_FILE_EVENTS (1 << 0)
#define LOOP_TIME_EVENTS (1 << 1)
#define LOOP_ALL_EVENTS (LOOP_FILE_EVENTS | LOOP_TIME_EVENTS)
#define LOOP_DONT_WAIT (1 << 2)
#define LOOP_CALL_BEFORE_SLEEP (1 << 3)
#define LOOP_CALL_AFTER_SLEEP (1 << 4)

/* A timer handler returns LOOP_NOMORE to end the timer, or the number of
 * milliseconds after which it runs again. */
#define LOOP_NOMORE (-1)

typedef void loop_file_proc(loop *l, int fd, void *data, int mask);
typedef long long loop_timer_proc(loop *l, long long id, void *data);
typedef void loop_timer_finalizer(loop *l, void *data);
typedef void loop_hook(loop *l, void *data);

/* setsize bounds the descriptors the loop can watch (fd < setsize). Returns
 * NULL when the backend cannot be created. */
loop *loop_create(int setsize);
void loop_destroy(loop *l);
int loop_get_setsize(loop *l);
/* Fails (-1) when a watched fd is >= the new size. */
int loop_resize(loop *l, int setsize);

/* Adds mask to the events watched on fd, with proc as the handler of those
 * events (one proc per direction). 0 or -1 (fd out of range, backend error). */
int loop_add_file(loop *l, int fd, int mask, loop_file_proc *proc, void *data);
void loop_del_file(loop *l, int fd, int mask);
int loop_get_file_mask(loop *l, int fd);

/* Returns the timer's id (>= 0). A timer deleted from inside any handler,
 * its own included, never runs again; its finalizer runs once. */
long long loop_add_timer(loop *l, long long ms, loop_timer_proc *proc, void *data,
                         loop_timer_finalizer *finalizer);
int loop_del_timer(loop *l, long long id);

/* One iteration; returns the number of events (file + timer) handled. */
int loop_process(loop *l, int flags);
/* The same, waiting at most max_wait_ms (-1: no limit) for an event: a
 * nested iteration that serves file events only while it waits for one
 * descriptor, without sleeping past its own deadline. */
int loop_process_wait(loop *l, int flags, int max_wait_ms);
/* Iterates until loop_stop(); calls the hooks around each wait. */
void loop_run(loop *l);
void loop_stop(loop *l);

void loop_set_before_sleep(loop *l, loop_hook *hook, void *data);
void loop_set_after_sleep(loop *l, loop_hook *hook, void *data);

/* Spin for up to usec polling without sleeping while events keep coming,
 * before blocking (0, the default, never spins). */
void loop_set_busy_poll(loop *l, long long usec);

/* The next wait only polls (called from before-sleep when work is left for
 * the next iteration). */
void loop_skip_next_wait(loop *l);

/* Wakes a loop blocked in its wait. Async-signal-safe and thread-safe. */
void loop_wakeup(loop *l);

/* Milliseconds on the monotonic clock (the timer base). */
long long loop_now_ms(void);

#endif
