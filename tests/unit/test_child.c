/* test_child.c: Check unit tests of rdb/child.c, the owner of fork(). A
 * child type whose body is a test function: success, exit 1, killed by a
 * signal it raises, killed by child_kill(); child_poll() in a bounded loop
 * calls the done handler exactly once with the status; a second start while
 * one runs is refused; progress and copy-on-write bytes arrive through the
 * pipe. Bodies that must wait block on a pipe the test holds, so that no
 * child outlives a failed test (the read ends when the test process dies). */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "rdb/child.h"
#include "tests/unit/fake/check_suite.h"

#define TEST_CHILD_BOUND_MS 10000
#define TEST_CHILD_AREA (16 * 1024 * 1024)

static int done_calls, done_exitcode, done_bysignal;
static void *done_priv_seen;
static int go_pipe[2] = {-1, -1};
static unsigned char *area;

static long long test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls (with a 1 ms pause between polls) until cond holds or the bound
 * passes; the caller then asserts cond. */
#define TEST_CHILD_POLL_UNTIL(cond)                                                                \
    do {                                                                                           \
        long long end_ = test_now_ms() + TEST_CHILD_BOUND_MS;                                      \
        while (!(cond) && test_now_ms() < end_) {                                                  \
            child_poll();                                                                          \
            if (!(cond)) usleep(1000);                                                             \
        }                                                                                          \
    } while (0)

static void test_done(int exitcode, int bysignal, void *priv)
{
    done_calls++;
    done_exitcode = exitcode;
    done_bysignal = bysignal;
    done_priv_seen = priv;
}

static void test_child_setup(void)
{
    done_calls = done_exitcode = done_bysignal = 0;
    done_priv_seen = NULL;
    ck_assert_int_eq(pipe(go_pipe), 0);
    child_set_done_handler(CHILD_RDB, test_done, &done_calls);
}

static void test_child_teardown(void)
{
    child_kill();
    close(go_pipe[0]);
    close(go_pipe[1]);
    tfree(area);
    area = NULL;
}

/* ---------- bodies (they run in the child) ---------- */

static int body_success(void *priv)
{
    (void)priv;
    return 0;
}

static int body_exit_one(void *priv)
{
    (void)priv;
    return 1;
}

static int body_raise_kill(void *priv)
{
    (void)priv;
    raise(SIGKILL);
    return 0;
}

/* Waits for the test's go byte (or the test's end), then succeeds. */
static int body_wait_go(void *priv)
{
    (void)priv;
    char b;
    close(go_pipe[1]);
    return read(go_pipe[0], &b, 1) == 1 ? 0 : 2;
}

/* Dirties the parent's big area (copy on write), reports, then waits. */
static int body_dirty_and_report(void *priv)
{
    memset(area, 0x5a, TEST_CHILD_AREA);
    child_report(*(long long *)priv);
    return body_wait_go(NULL);
}

/* ---------- helpers ---------- */

static void start_ok(child_body_fn *body, void *priv)
{
    str err = NULL;
    int rc = child_start(CHILD_RDB, body, priv, &err);
    ck_assert_msg(rc == 0, "child_start failed: %s", err ? err : "?");
    ck_assert_ptr_null(err);
    ck_assert_int_eq(child_running(), CHILD_RDB);
    ck_assert_int_gt(child_pid(), 0);
}

static void release_child(void)
{
    ck_assert_int_eq(write(go_pipe[1], "g", 1), 1);
}

static void wait_done(void)
{
    TEST_CHILD_POLL_UNTIL(done_calls > 0);
    ck_assert_int_eq(done_calls, 1);
    ck_assert_int_eq(child_running(), CHILD_NONE);
    ck_assert_int_eq(child_pid(), -1);
    /* More polls find nothing: the handler ran exactly once. */
    for (int i = 0; i < 10; i++) ck_assert_int_eq(child_poll(), 0);
    ck_assert_int_eq(done_calls, 1);
}

/* ---------- tests ---------- */

START_TEST(test_child_success)
{
    long long forks = child_get_stats()->total_forks;
    start_ok(body_success, NULL);
    ck_assert(child_get_stats()->total_forks == forks + 1);
    ck_assert(child_get_stats()->latest_fork_usec >= 0);
    wait_done();
    ck_assert_int_eq(done_exitcode, 0);
    ck_assert_int_eq(done_bysignal, 0);
    ck_assert_ptr_eq(done_priv_seen, &done_calls);
}
END_TEST

START_TEST(test_child_exit_one)
{
    start_ok(body_exit_one, NULL);
    wait_done();
    ck_assert_int_eq(done_exitcode, 1);
    ck_assert_int_eq(done_bysignal, 0);
}
END_TEST

START_TEST(test_child_killed_by_own_signal)
{
    start_ok(body_raise_kill, NULL);
    wait_done();
    ck_assert_int_eq(done_bysignal, SIGKILL);
    ck_assert_int_eq(done_exitcode, 0);
}
END_TEST

START_TEST(test_child_kill)
{
    start_ok(body_wait_go, NULL);
    child_kill();
    ck_assert_int_eq(done_calls, 1);
    ck_assert_int_eq(done_bysignal, SIGUSR1);
    wait_done();
    /* Killing when nothing runs does nothing. */
    child_kill();
    ck_assert_int_eq(done_calls, 1);
}
END_TEST

START_TEST(test_child_second_start_refused)
{
    start_ok(body_wait_go, NULL);
    pid_t first = child_pid();
    str err = NULL;
    ck_assert_int_eq(child_start(CHILD_RDB, body_success, NULL, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "already running") != NULL, "error: %s", err);
    str_free(err);
    err = NULL;
    ck_assert_int_eq(child_start(CHILD_REPL, body_success, NULL, &err), -1);
    ck_assert_ptr_nonnull(err);
    str_free(err);
    ck_assert_int_eq(child_pid(), first);
    ck_assert_int_eq(done_calls, 0);
    release_child();
    wait_done();
    ck_assert_int_eq(done_exitcode, 0);
    /* Once reaped, a new child may start. */
    done_calls = 0;
    start_ok(body_success, NULL);
    wait_done();
}
END_TEST

START_TEST(test_child_hold_refuses_new_children)
{
    child_hold(1);
    str err = NULL;
    ck_assert_int_eq(child_start(CHILD_RDB, body_success, NULL, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "shutting down") != NULL, "error: %s", err);
    str_free(err);
    ck_assert_int_eq(child_running(), CHILD_NONE);
    child_hold(0);
    start_ok(body_success, NULL);
    wait_done();
}
END_TEST

START_TEST(test_child_reports_progress_and_cow)
{
    static long long keys = 1234;
    area = tmalloc(TEST_CHILD_AREA);
    memset(area, 0x11, TEST_CHILD_AREA);
    start_ok(body_dirty_and_report, &keys);
    child_stats *st = child_get_stats();
    TEST_CHILD_POLL_UNTIL(st->current_keys_done == keys);
    ck_assert(st->current_keys_done == keys);
    ck_assert_msg(st->current_cow_size >= TEST_CHILD_AREA, "cow %zu", st->current_cow_size);
    ck_assert(st->current_cow_peak >= st->current_cow_size);
    ck_assert_int_eq(done_calls, 0);
    release_child();
    wait_done();
    ck_assert_int_eq(done_exitcode, 0);
    /* The peak is kept as the last child's; the current figures reset. */
    ck_assert_msg(st->last_cow_size >= TEST_CHILD_AREA, "last cow %zu", st->last_cow_size);
    ck_assert(st->current_keys_done == 0);
    ck_assert(st->current_cow_size == 0);
    /* The parent's memory is its own: the child's writes did not reach it. */
    ck_assert_int_eq(area[0], 0x11);
    ck_assert_int_eq(area[TEST_CHILD_AREA - 1], 0x11);
}
END_TEST

static Suite *child_suite(void)
{
    Suite *s = suite_create("child");
    TCase *tc = suite_new_tcase(s, "child", test_child_setup, test_child_teardown, 30);
    tcase_add_test(tc, test_child_success);
    tcase_add_test(tc, test_child_exit_one);
    tcase_add_test(tc, test_child_killed_by_own_signal);
    tcase_add_test(tc, test_child_kill);
    tcase_add_test(tc, test_child_second_start_refused);
    tcase_add_test(tc, test_child_hold_refuses_new_children);
    tcase_add_test(tc, test_child_reports_progress_and_cow);
    return s;
}

int main(void) { return run_suite(child_suite()); }
