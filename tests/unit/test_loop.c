/* test_loop.c: Check unit tests of the event loop (core/loop.c and its epoll
 * backend): timer order, rescheduling and deletion from handlers, file events
 * deleted during dispatch, the barrier order, the wake-up from another
 * thread, the sleep hooks, and the setsize bound. Waits are bounded by
 * TEST_LOOP_BOUND_MS or by Check's timeout, never by fixed sleeps. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/loop_until.h"

#define TEST_LOOP_BOUND_MS 5000
#define TEST_LOOP_LOG_MAX 256

/* Processes events until cond holds or the bound passes. */
#define TEST_LOOP_RUN_UNTIL(l, cond) LOOP_RUN_UNTIL(l, cond, TEST_LOOP_BOUND_MS)

static loop *tl;
static long long test_loop_log[TEST_LOOP_LOG_MAX];
static int test_loop_nlog;
static int test_loop_finalized;

static void test_loop_setup(void)
{
    tl = loop_create(64);
    ck_assert_ptr_nonnull(tl);
    test_loop_nlog = 0;
    test_loop_finalized = 0;
}

static void test_loop_teardown(void)
{
    loop_destroy(tl);
}

static void test_loop_record(long long v)
{
    ck_assert_int_lt(test_loop_nlog, TEST_LOOP_LOG_MAX);
    test_loop_log[test_loop_nlog++] = v;
}

static long long test_loop_last(void)
{
    return test_loop_nlog ? test_loop_log[test_loop_nlog - 1] : 0;
}

static void test_loop_pipe(int p[2], int readable)
{
    ck_assert_int_eq(pipe(p), 0);
    if (readable)
        ck_assert_int_eq(write(p[1], "x", 1), 1);
}

static void test_loop_close(int p[2])
{
    close(p[0]);
    close(p[1]);
}

static void test_loop_count_finalizer(loop *l, void *data)
{
    (void)l;
    (void)data;
    test_loop_finalized++;
}

/* Records its data and ends. */
static long long test_loop_record_timer(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    test_loop_record((intptr_t)data);
    return LOOP_NOMORE;
}

/* ---------------------------------------------------------------- timers */

START_TEST(test_loop_timer_deadline_order)
{
    loop_add_timer(tl, 30, test_loop_record_timer, (void *)3, NULL);
    loop_add_timer(tl, 10, test_loop_record_timer, (void *)1, NULL);
    loop_add_timer(tl, 20, test_loop_record_timer, (void *)2, NULL);
    TEST_LOOP_RUN_UNTIL(tl, test_loop_nlog == 3);
    ck_assert_int_eq(test_loop_nlog, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(test_loop_log[i], i + 1);
}
END_TEST

/* 60 timers created within one millisecond, so that deadlines really tie:
 * three deadlines, twenty timers each, interleaved in creation. */
START_TEST(test_loop_timer_equal_deadlines_creation_order)
{
    enum { N = 60, GROUPS = 3 };
    long long ids[N];
    int tries;
    for (tries = 0; tries < 100; tries++) {
        long long before = loop_now_ms();
        for (int i = 0; i < N; i++)
            ids[i] = loop_add_timer(tl, 2 * (i % GROUPS), test_loop_record_timer,
                                    (void *)(intptr_t)i, NULL);
        if (loop_now_ms() == before)
            break;
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(loop_del_timer(tl, ids[i]), 0);
    }
    ck_assert_int_lt(tries, 100);
    ck_assert_int_ge(ids[0], 0);
    for (int i = 1; i < N; i++)
        ck_assert_int_gt(ids[i], ids[i - 1]);
    TEST_LOOP_RUN_UNTIL(tl, test_loop_nlog == N);
    ck_assert_int_eq(test_loop_nlog, N);
    int k = 0;
    for (int g = 0; g < GROUPS; g++)
        for (int i = g; i < N; i += GROUPS)
            ck_assert_int_eq(test_loop_log[k++], i);
}
END_TEST

/* Records the time of each run; runs three times, 2 ms apart. */
static long long test_loop_repeat_timer(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    (void)data;
    test_loop_record(loop_now_ms());
    return test_loop_nlog < 3 ? 2 : LOOP_NOMORE;
}

START_TEST(test_loop_timer_repeats)
{
    long long id = loop_add_timer(tl, 1, test_loop_repeat_timer, NULL, test_loop_count_finalizer);
    TEST_LOOP_RUN_UNTIL(tl, test_loop_finalized == 1);
    ck_assert_int_eq(test_loop_finalized, 1);
    ck_assert_int_eq(test_loop_nlog, 3);
    for (int i = 1; i < 3; i++)
        ck_assert_int_ge(test_loop_log[i] - test_loop_log[i - 1], 2);
    ck_assert_int_eq(loop_del_timer(tl, id), -1);
}
END_TEST

/* Returns 0: due again at once, but must not run twice in one pass. */
static long long test_loop_zero_timer(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    (*(int *)data)++;
    return 0;
}

START_TEST(test_loop_timer_zero_runs_once_per_pass)
{
    int runs = 0;
    loop_add_timer(tl, 0, test_loop_zero_timer, &runs, NULL);
    long long end = loop_now_ms() + TEST_LOOP_BOUND_MS;
    while (runs < 5 && loop_now_ms() < end) {
        int before = runs;
        int n = loop_process(tl, LOOP_ALL_EVENTS);
        ck_assert_int_le(runs - before, 1);
        ck_assert_int_eq(n, runs - before);
    }
    ck_assert_int_eq(runs, 5);
}
END_TEST

typedef struct test_loop_adder {
    int runs;
    int child_runs;
} test_loop_adder;

static long long test_loop_child_timer(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    ((test_loop_adder *)data)->child_runs++;
    return LOOP_NOMORE;
}

static long long test_loop_adder_timer(loop *l, long long id, void *data)
{
    (void)id;
    test_loop_adder *a = data;
    a->runs++;
    loop_add_timer(l, 0, test_loop_child_timer, a, NULL);
    return LOOP_NOMORE;
}

START_TEST(test_loop_timer_added_in_handler_waits_next_pass)
{
    test_loop_adder a = {0, 0};
    loop_add_timer(tl, 1, test_loop_adder_timer, &a, NULL);
    TEST_LOOP_RUN_UNTIL(tl, a.runs == 1);
    ck_assert_int_eq(a.runs, 1);
    ck_assert_int_eq(a.child_runs, 0);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS), 1);
    ck_assert_int_eq(a.child_runs, 1);
}
END_TEST

typedef struct test_loop_self {
    long long id;
    int runs;
    int del_rc;
    int del_again_rc;
    int finalized_in_handler;
} test_loop_self;

static long long test_loop_self_timer(loop *l, long long id, void *data)
{
    (void)id;
    test_loop_self *s = data;
    s->runs++;
    s->del_rc = loop_del_timer(l, s->id);
    s->del_again_rc = loop_del_timer(l, s->id);
    s->finalized_in_handler = test_loop_finalized;
    return 1; /* would run again if still alive */
}

START_TEST(test_loop_timer_deletes_itself)
{
    test_loop_self s = {0};
    s.id = loop_add_timer(tl, 1, test_loop_self_timer, &s, test_loop_count_finalizer);
    loop_add_timer(tl, 20, test_loop_record_timer, (void *)1, NULL);
    TEST_LOOP_RUN_UNTIL(tl, test_loop_nlog == 1);
    ck_assert_int_eq(test_loop_nlog, 1);
    ck_assert_int_eq(s.runs, 1);
    ck_assert_int_eq(s.del_rc, 0);
    ck_assert_int_eq(s.del_again_rc, -1);
    ck_assert_int_eq(s.finalized_in_handler, 0);
    ck_assert_int_eq(test_loop_finalized, 1);
    ck_assert_int_eq(loop_del_timer(tl, s.id), -1);
}
END_TEST

typedef struct test_loop_victims {
    long long ids[2];
    int rcs[2];
} test_loop_victims;

static long long test_loop_killer_timer(loop *l, long long id, void *data)
{
    (void)id;
    test_loop_victims *v = data;
    for (int i = 0; i < 2; i++)
        v->rcs[i] = loop_del_timer(l, v->ids[i]);
    return LOOP_NOMORE;
}

/* One victim is due in the same pass as the killer, one later. */
START_TEST(test_loop_timer_deletes_other)
{
    test_loop_victims v = {{0, 0}, {1, 1}};
    loop_add_timer(tl, 1, test_loop_killer_timer, &v, NULL);
    v.ids[0] = loop_add_timer(tl, 1, test_loop_record_timer, (void *)100, test_loop_count_finalizer);
    v.ids[1] = loop_add_timer(tl, 10, test_loop_record_timer, (void *)101, test_loop_count_finalizer);
    loop_add_timer(tl, 30, test_loop_record_timer, (void *)1, NULL);
    TEST_LOOP_RUN_UNTIL(tl, test_loop_nlog == 1);
    ck_assert_int_eq(test_loop_nlog, 1);
    ck_assert_int_eq(test_loop_log[0], 1);
    ck_assert_int_eq(v.rcs[0], 0);
    ck_assert_int_eq(v.rcs[1], 0);
    ck_assert_int_eq(test_loop_finalized, 2);
    ck_assert_int_eq(loop_del_timer(tl, v.ids[0]), -1);
}
END_TEST

START_TEST(test_loop_timer_del_unknown)
{
    ck_assert_int_eq(loop_del_timer(tl, 12345), -1);
    long long id = loop_add_timer(tl, 1000, test_loop_record_timer, NULL, test_loop_count_finalizer);
    ck_assert_int_eq(loop_del_timer(tl, id), 0);
    ck_assert_int_eq(test_loop_finalized, 1);
    ck_assert_int_eq(loop_del_timer(tl, id), -1);
    ck_assert_int_eq(test_loop_finalized, 1);
}
END_TEST

START_TEST(test_loop_destroy_finalizes_timers)
{
    loop *l = loop_create(16);
    ck_assert_ptr_nonnull(l);
    loop_add_timer(l, 100000, test_loop_record_timer, NULL, test_loop_count_finalizer);
    loop_add_timer(l, 100000, test_loop_record_timer, NULL, test_loop_count_finalizer);
    loop_destroy(l);
    ck_assert_int_eq(test_loop_finalized, 2);
    ck_assert_int_eq(test_loop_nlog, 0);
}
END_TEST

/* ---------------------------------------------------------------- files */

static void test_loop_del_own(loop *l, int fd, void *data, int mask)
{
    (void)data;
    (void)mask;
    test_loop_record(fd);
    loop_del_file(l, fd, LOOP_READABLE);
}

START_TEST(test_loop_file_deletes_own)
{
    int p[2];
    test_loop_pipe(p, 1);
    ck_assert_int_eq(loop_add_file(tl, p[0], LOOP_READABLE, test_loop_del_own, NULL), 0);
    ck_assert_int_eq(loop_get_file_mask(tl, p[0]), LOOP_READABLE);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 1);
    ck_assert_int_eq(test_loop_nlog, 1);
    ck_assert_int_eq(test_loop_log[0], p[0]);
    ck_assert_int_eq(loop_get_file_mask(tl, p[0]), LOOP_NONE);
    /* Still readable, but no longer watched. */
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 0);
    ck_assert_int_eq(test_loop_nlog, 1);
    test_loop_close(p);
}
END_TEST

/* Whichever of the two fires first deletes the other. */
static void test_loop_del_other(loop *l, int fd, void *data, int mask)
{
    (void)mask;
    int *fds = data;
    test_loop_record(fd);
    loop_del_file(l, fd == fds[0] ? fds[1] : fds[0], LOOP_READABLE);
}

START_TEST(test_loop_file_deletes_other)
{
    int a[2], b[2];
    test_loop_pipe(a, 1);
    test_loop_pipe(b, 1);
    int fds[2] = {a[0], b[0]};
    ck_assert_int_eq(loop_add_file(tl, a[0], LOOP_READABLE, test_loop_del_other, fds), 0);
    ck_assert_int_eq(loop_add_file(tl, b[0], LOOP_READABLE, test_loop_del_other, fds), 0);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 1);
    ck_assert_int_eq(test_loop_nlog, 1);
    int first = (int)test_loop_log[0];
    int other = first == a[0] ? b[0] : a[0];
    ck_assert_int_eq(loop_get_file_mask(tl, first), LOOP_READABLE);
    ck_assert_int_eq(loop_get_file_mask(tl, other), LOOP_NONE);
    test_loop_close(a);
    test_loop_close(b);
}
END_TEST

static void test_loop_read_proc(loop *l, int fd, void *data, int mask)
{
    (void)l;
    (void)fd;
    (void)data;
    (void)mask;
    test_loop_record('R');
}

static void test_loop_write_proc(loop *l, int fd, void *data, int mask)
{
    (void)l;
    (void)fd;
    (void)data;
    (void)mask;
    test_loop_record('W');
}

/* sv[0] has a byte to read and room to write: both directions fire. */
static void test_loop_both_ready(int sv[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
}

static void test_loop_assert_order(char first, char second)
{
    ck_assert_int_eq(test_loop_nlog, 2);
    ck_assert_int_eq(test_loop_log[0], first);
    ck_assert_int_eq(test_loop_log[1], second);
}

START_TEST(test_loop_file_read_then_write)
{
    int sv[2];
    test_loop_both_ready(sv);
    ck_assert_int_eq(loop_add_file(tl, sv[0], LOOP_READABLE, test_loop_read_proc, NULL), 0);
    ck_assert_int_eq(loop_add_file(tl, sv[0], LOOP_WRITABLE, test_loop_write_proc, NULL), 0);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 1);
    test_loop_assert_order('R', 'W');
    test_loop_close(sv);
}
END_TEST

START_TEST(test_loop_file_barrier_write_then_read)
{
    int sv[2];
    test_loop_both_ready(sv);
    ck_assert_int_eq(loop_add_file(tl, sv[0], LOOP_READABLE, test_loop_read_proc, NULL), 0);
    ck_assert_int_eq(loop_add_file(tl, sv[0], LOOP_WRITABLE | LOOP_BARRIER,
                                   test_loop_write_proc, NULL), 0);
    ck_assert_int_eq(loop_get_file_mask(tl, sv[0]), LOOP_READABLE | LOOP_WRITABLE | LOOP_BARRIER);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 1);
    test_loop_assert_order('W', 'R');
    /* Deleting the writable side drops the barrier with it. */
    loop_del_file(tl, sv[0], LOOP_WRITABLE);
    ck_assert_int_eq(loop_get_file_mask(tl, sv[0]), LOOP_READABLE);
    test_loop_close(sv);
}
END_TEST

static void test_loop_mask_proc(loop *l, int fd, void *data, int mask)
{
    (void)l;
    (void)fd;
    (void)data;
    test_loop_record(mask);
}

START_TEST(test_loop_file_same_proc_called_once)
{
    int sv[2];
    test_loop_both_ready(sv);
    int both = LOOP_READABLE | LOOP_WRITABLE;
    ck_assert_int_eq(loop_add_file(tl, sv[0], both, test_loop_mask_proc, NULL), 0);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 1);
    ck_assert_int_eq(test_loop_nlog, 1);
    ck_assert_int_eq(test_loop_log[0], both);
    ck_assert_int_eq(loop_add_file(tl, sv[0], LOOP_BARRIER, NULL, NULL), 0);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 1);
    ck_assert_int_eq(test_loop_nlog, 2);
    ck_assert_int_eq(test_loop_log[1], both);
    test_loop_close(sv);
}
END_TEST

START_TEST(test_loop_file_bounds)
{
    ck_assert_int_eq(loop_add_file(tl, 64, LOOP_READABLE, test_loop_read_proc, NULL), -1);
    ck_assert_int_eq(loop_add_file(tl, -1, LOOP_READABLE, test_loop_read_proc, NULL), -1);
    ck_assert_int_eq(loop_get_file_mask(tl, 64), LOOP_NONE);
    ck_assert_int_eq(loop_get_file_mask(tl, -1), LOOP_NONE);
    ck_assert_int_eq(loop_get_setsize(tl), 64);
}
END_TEST

/* ---------------------------------------------------------------- sizing */

START_TEST(test_loop_resize)
{
    int p[2];
    test_loop_pipe(p, 0);
    int lo = fcntl(p[0], F_DUPFD_CLOEXEC, 40);
    int hi = fcntl(p[0], F_DUPFD_CLOEXEC, lo + 1);
    ck_assert_int_gt(lo, 0);
    ck_assert_int_gt(hi, lo);
    loop *l = loop_create(lo + 1);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(loop_add_file(l, hi, LOOP_READABLE, test_loop_mask_proc, NULL), -1);
    ck_assert_int_eq(loop_add_file(l, lo, LOOP_READABLE, test_loop_mask_proc, NULL), 0);
    ck_assert_int_eq(loop_resize(l, lo), -1);
    ck_assert_int_eq(loop_get_setsize(l), lo + 1);
    ck_assert_int_eq(loop_resize(l, hi + 1), 0);
    ck_assert_int_eq(loop_get_setsize(l), hi + 1);
    ck_assert_int_eq(loop_add_file(l, hi, LOOP_READABLE, test_loop_mask_proc, NULL), 0);
    /* Both descriptors of the grown loop are polled. */
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(loop_process(l, LOOP_ALL_EVENTS | LOOP_DONT_WAIT), 2);
    ck_assert_int_eq(loop_resize(l, hi), -1);
    loop_del_file(l, hi, LOOP_READABLE);
    ck_assert_int_eq(loop_resize(l, lo + 1), 0);
    loop_del_file(l, lo, LOOP_READABLE);
    ck_assert_int_eq(loop_resize(l, 1), 0);
    ck_assert_int_eq(loop_get_setsize(l), 1);
    ck_assert_int_eq(loop_add_file(l, lo, LOOP_READABLE, test_loop_mask_proc, NULL), -1);
    loop_destroy(l);
    close(lo);
    close(hi);
    test_loop_close(p);
}
END_TEST

/* The wake-up descriptor is above a tiny setsize and must work all the same. */
START_TEST(test_loop_small_setsize_wakeup)
{
    ck_assert_ptr_null(loop_create(0));
    loop *l = loop_create(1);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(loop_get_setsize(l), 1);
    loop_wakeup(l);
    ck_assert_int_eq(loop_process(l, LOOP_ALL_EVENTS), 0);
    loop_destroy(l);
}
END_TEST

/* ---------------------------------------------------------------- wake-up */

static atomic_int test_loop_sleeping;

static void test_loop_flag_hook(loop *l, void *data)
{
    (void)l;
    (void)data;
    atomic_store(&test_loop_sleeping, 1);
}

static void *test_loop_waker(void *arg)
{
    while (!atomic_load(&test_loop_sleeping))
        sched_yield();
    loop_wakeup(arg);
    return NULL;
}

/* No timer and no descriptor: only the wake-up can end the wait. Bounded by
 * the test case timeout. */
START_TEST(test_loop_wakeup_from_thread)
{
    pthread_t t;
    atomic_store(&test_loop_sleeping, 0);
    loop_set_before_sleep(tl, test_loop_flag_hook, NULL);
    ck_assert_int_eq(pthread_create(&t, NULL, test_loop_waker, tl), 0);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS | LOOP_CALL_BEFORE_SLEEP), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    /* Drained: the next wait lasts until the timer. */
    loop_add_timer(tl, 5, test_loop_record_timer, (void *)1, NULL);
    ck_assert_int_eq(loop_process(tl, LOOP_ALL_EVENTS), 1);
    ck_assert_int_eq(test_loop_nlog, 1);
}
END_TEST

/* ---------------------------------------------------------------- hooks */

static void test_loop_before_hook(loop *l, void *data)
{
    (void)l;
    (void)data;
    test_loop_record('B');
}

static void test_loop_after_hook(loop *l, void *data)
{
    (void)l;
    (void)data;
    test_loop_record('A');
}

/* Records 'T'; the third run stops the loop. */
static long long test_loop_stopper_timer(loop *l, long long id, void *data)
{
    (void)id;
    int *runs = data;
    test_loop_record('T');
    if (++*runs < 3)
        return 1;
    loop_stop(l);
    return LOOP_NOMORE;
}

/* The log must read (B A T*)+; returns the number of iterations, or -1. */
static int test_loop_iterations(void)
{
    int i = 0;
    int iterations = 0;
    while (i < test_loop_nlog) {
        if (i + 1 >= test_loop_nlog || test_loop_log[i] != 'B' || test_loop_log[i + 1] != 'A')
            return -1;
        for (i += 2; i < test_loop_nlog && test_loop_log[i] == 'T'; i++)
            ;
        iterations++;
    }
    return iterations;
}

START_TEST(test_loop_hooks_once_per_iteration)
{
    int flags = LOOP_ALL_EVENTS | LOOP_CALL_BEFORE_SLEEP | LOOP_CALL_AFTER_SLEEP;
    loop_set_before_sleep(tl, test_loop_before_hook, NULL);
    loop_set_after_sleep(tl, test_loop_after_hook, NULL);
    loop_add_timer(tl, 2, test_loop_record_timer, (void *)(intptr_t)'T', NULL);
    int calls = 0;
    long long end = loop_now_ms() + TEST_LOOP_BOUND_MS;
    while (test_loop_last() != 'T' && loop_now_ms() < end) {
        loop_process(tl, flags);
        calls++;
    }
    ck_assert_int_eq(test_loop_iterations(), calls);
    ck_assert_int_eq(test_loop_last(), 'T');
    /* Without the flags the hooks stay quiet. */
    int n = test_loop_nlog;
    loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT);
    ck_assert_int_eq(test_loop_nlog, n);
}
END_TEST

/* A bounded wait ends at its bound without an event, and at once with one;
 * the time events it was not asked for stay put. */
START_TEST(test_loop_process_wait_bound)
{
    int p[2];
    test_loop_pipe(p, 0);
    ck_assert_int_eq(loop_add_file(tl, p[0], LOOP_READABLE, test_loop_del_own, NULL), 0);
    loop_add_timer(tl, 0, test_loop_record_timer, (void *)(intptr_t)'T', NULL);
    long long start = loop_now_ms();
    ck_assert_int_eq(loop_process_wait(tl, LOOP_FILE_EVENTS, 30), 0);
    long long took = loop_now_ms() - start;
    ck_assert_int_ge(took, 29);
    ck_assert_int_lt(took, TEST_LOOP_BOUND_MS);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    start = loop_now_ms();
    ck_assert_int_eq(loop_process_wait(tl, LOOP_FILE_EVENTS, 5000), 1);
    ck_assert_int_lt(loop_now_ms() - start, 2500);
    ck_assert_int_eq(test_loop_nlog, 1);
    ck_assert_int_eq(test_loop_log[0], p[0]);
    ck_assert_int_eq(loop_process_wait(tl, LOOP_ALL_EVENTS, 0), 1); /* the timer */
    ck_assert_int_eq(test_loop_last(), 'T');
    test_loop_close(p);
}
END_TEST

START_TEST(test_loop_run_until_stop)
{
    int runs = 0;
    loop_set_before_sleep(tl, test_loop_before_hook, NULL);
    loop_set_after_sleep(tl, test_loop_after_hook, NULL);
    loop_add_timer(tl, 1, test_loop_stopper_timer, &runs, NULL);
    loop_run(tl);
    ck_assert_int_eq(runs, 3);
    ck_assert_int_ge(test_loop_iterations(), 3);
    ck_assert_int_eq(test_loop_last(), 'T');
}
END_TEST

START_TEST(test_loop_now_monotonic)
{
    long long a = loop_now_ms();
    long long b = loop_now_ms();
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(b, a);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *test_loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *timers = suite_new_tcase(s, "timers", test_loop_setup, test_loop_teardown, 10);
    tcase_add_test(timers, test_loop_timer_deadline_order);
    tcase_add_test(timers, test_loop_timer_equal_deadlines_creation_order);
    tcase_add_test(timers, test_loop_timer_repeats);
    tcase_add_test(timers, test_loop_timer_zero_runs_once_per_pass);
    tcase_add_test(timers, test_loop_timer_added_in_handler_waits_next_pass);
    tcase_add_test(timers, test_loop_timer_deletes_itself);
    tcase_add_test(timers, test_loop_timer_deletes_other);
    tcase_add_test(timers, test_loop_timer_del_unknown);
    tcase_add_test(timers, test_loop_destroy_finalizes_timers);
    tcase_add_test(timers, test_loop_now_monotonic);
    TCase *files = suite_new_tcase(s, "files", test_loop_setup, test_loop_teardown, 10);
    tcase_add_test(files, test_loop_file_deletes_own);
    tcase_add_test(files, test_loop_file_deletes_other);
    tcase_add_test(files, test_loop_file_read_then_write);
    tcase_add_test(files, test_loop_file_barrier_write_then_read);
    tcase_add_test(files, test_loop_file_same_proc_called_once);
    tcase_add_test(files, test_loop_file_bounds);
    tcase_add_test(files, test_loop_resize);
    tcase_add_test(files, test_loop_small_setsize_wakeup);
    TCase *waits = suite_new_tcase(s, "waits", test_loop_setup, test_loop_teardown, 10);
    tcase_add_test(waits, test_loop_wakeup_from_thread);
    tcase_add_test(waits, test_loop_hooks_once_per_iteration);
    tcase_add_test(waits, test_loop_process_wait_bound);
    tcase_add_test(waits, test_loop_run_until_stop);
    return s;
}

int main(void)
{
    return run_suite(test_loop_suite());
}
