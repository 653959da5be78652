/* test_diskless.c: Check unit tests of rdb/diskless.c, the RDB moved from a
 * forked child to several connections through a pipe, with fake
 * connections as targets and a real child (rdb/child) saving a small
 * keyspace of some hundred KB (several chunks): every target gets the same
 * bytes (head, a whole RDB, tail); a target whose socket takes nothing holds
 * the pipe and reports since when, then catches up; a target whose writes
 * fail is told alone and the others finish; forgetting every target kills
 * the child; a second start while one runs is refused. The test plays the
 * cron: it calls child_poll() between loop iterations. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/db.h"
#include "core/log.h"
#include "core/object.h"
#include "rdb/child.h"
#include "rdb/crc64.h"
#include "rdb/diskless.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"

#define TEST_DL_KEYS 3000
#define TEST_DL_VALUE 100
#define TEST_DL_BOUND_MS 20000
#define TEST_DL_HEAD "$EOF:0123456789012345678901234567890123456789\r\n"
#define TEST_DL_TAIL "0123456789012345678901234567890123456789"

static loop *tl;
static conn *targets[3];
static int done_calls[3], done_ok[3], finished_calls;
static char done_why[3][128];

static int test_dl_index(const conn *cn)
{
    for (int i = 0; i < 3; i++)
        if (targets[i] == cn) return i;
    ck_abort_msg("a target_done for an unknown connection");
    return -1;
}

static void test_dl_target_done(conn *cn, int ok, const char *why, void *priv)
{
    (void)priv;
    int i = test_dl_index(cn);
    done_calls[i]++;
    done_ok[i] = ok;
    snprintf(done_why[i], sizeof(done_why[i]), "%s", why ? why : "");
}

static void test_dl_finished(void *priv)
{
    (void)priv;
    finished_calls++;
}

static const diskless_hooks test_dl_hooks = {test_dl_target_done, test_dl_finished, NULL};

/* Runs the loop (without blocking) and the cron's child poll until cond
 * holds or the bound passes. */
#define TEST_DL_RUN_UNTIL(cond)                                                                    \
    do {                                                                                           \
        long long end_ = loop_now_ms() + TEST_DL_BOUND_MS;                                         \
        while (!(cond) && loop_now_ms() < end_) {                                                  \
            loop_process(tl, LOOP_FILE_EVENTS | LOOP_DONT_WAIT);                                   \
            child_poll();                                                                          \
            if (!(cond)) usleep(500);                                                              \
        }                                                                                          \
    } while (0)

static void test_dl_setup(void)
{
    log_set_level(LOG_NOTHING);
    tl = loop_create(64);
    ck_assert_ptr_nonnull(tl);
    db_init(16);
    char key[32], val[TEST_DL_VALUE];
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < TEST_DL_KEYS; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        db_add(i % 3, kv_new_string(key, (size_t)n, val, sizeof(val)));
    }
    diskless_init(tl);
    for (int i = 0; i < 3; i++) {
        targets[i] = fake_conn_create(tl);
        done_calls[i] = done_ok[i] = 0;
        done_why[i][0] = '\0';
    }
    finished_calls = 0;
}

static void test_dl_teardown(void)
{
    for (int i = 0; i < 3; i++) conn_close(targets[i]);
    child_kill();
    db_free_all();
    loop_destroy(tl);
}

static int test_dl_start(int n)
{
    str err = NULL;
    int rc = diskless_start(targets, n, TEST_DL_HEAD, strlen(TEST_DL_HEAD), TEST_DL_TAIL,
                            strlen(TEST_DL_TAIL), &test_dl_hooks, &err);
    str_free(err);
    return rc;
}

/* What target i got: the head, an RDB whose last 8 bytes are its CRC-64
 * (little-endian) or zero, the tail; returns its length. */
static size_t test_dl_assert_whole(int i)
{
    size_t len, head = strlen(TEST_DL_HEAD), tail = strlen(TEST_DL_TAIL);
    const char *p = fake_conn_written(targets[i], &len);
    ck_assert_uint_gt(len, head + tail + 9 + TEST_DL_KEYS * TEST_DL_VALUE);
    ck_assert_mem_eq(p, TEST_DL_HEAD, head);
    ck_assert_mem_eq(p + head, "REDIS0010", 9);
    ck_assert_mem_eq(p + len - tail, TEST_DL_TAIL, tail);
    const unsigned char *rdb = (const unsigned char *)p + head;
    size_t rdb_len = len - head - tail;
    uint64_t crc = 0;
    for (int b = 0; b < 8; b++) crc |= (uint64_t)rdb[rdb_len - 8 + b] << (8 * b);
    ck_assert(crc == 0 || crc == crc64(0, rdb, rdb_len - 8));
    return len;
}

START_TEST(test_diskless_every_target_gets_the_same_bytes)
{
    long long forks = child_get_stats()->total_forks;
    ck_assert_int_eq(test_dl_start(3), 0);
    ck_assert_int_eq(child_running(), CHILD_REPL);
    ck_assert_int_eq(child_get_stats()->total_forks, forks + 1);
    ck_assert_int_eq(diskless_get_stats()->active, 1);
    ck_assert_int_eq(diskless_get_stats()->targets, 3);
    ck_assert_int_eq(test_dl_start(3), -1); /* one at a time */
    TEST_DL_RUN_UNTIL(finished_calls == 1);
    ck_assert_int_eq(finished_calls, 1);
    size_t len = test_dl_assert_whole(0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(done_calls[i], 1);
        ck_assert_int_eq(done_ok[i], 1);
        size_t got;
        const char *p = fake_conn_written(targets[i], &got);
        ck_assert_uint_eq(got, len);
        ck_assert_mem_eq(p, fake_conn_written(targets[0], &got), len);
    }
    ck_assert_int_eq(diskless_get_stats()->active, 0);
    ck_assert_int_eq((long long)diskless_get_stats()->bytes, (long long)len);
    ck_assert_int_eq(child_running(), CHILD_NONE);
}
END_TEST

START_TEST(test_diskless_a_full_socket_holds_the_pipe_then_catches_up)
{
    fake_conn_set_write_budget(targets[1], 1000);
    ck_assert_int_eq(test_dl_start(2), 0);
    TEST_DL_RUN_UNTIL(diskless_blocked_since(targets[1]) != 0);
    ck_assert_int_ne(diskless_blocked_since(targets[1]), 0);
    ck_assert_int_eq(diskless_blocked_since(targets[0]), 0);
    ck_assert(fake_conn_events(targets[1]) & LOOP_WRITABLE);
    /* The pipe waits for the slow one: the fast one has one chunk at most. */
    for (int i = 0; i < 20; i++) {
        loop_process(tl, LOOP_FILE_EVENTS | LOOP_DONT_WAIT);
        usleep(1000);
    }
    size_t fast;
    fake_conn_written(targets[0], &fast);
    ck_assert_uint_le(fast, 64 * 1024);
    ck_assert_int_eq(finished_calls, 0);
    fake_conn_set_write_budget(targets[1], SIZE_MAX);
    fake_conn_fire(targets[1], LOOP_WRITABLE);
    ck_assert_int_eq(diskless_blocked_since(targets[1]), 0);
    TEST_DL_RUN_UNTIL(finished_calls == 1);
    ck_assert_int_eq(done_ok[0], 1);
    ck_assert_int_eq(done_ok[1], 1);
    ck_assert_uint_eq(test_dl_assert_whole(1), test_dl_assert_whole(0));
}
END_TEST

START_TEST(test_diskless_a_failing_target_is_dropped_alone)
{
    fake_conn_set_write_budget(targets[2], 100000);
    ck_assert_int_eq(test_dl_start(3), 0);
    TEST_DL_RUN_UNTIL(diskless_blocked_since(targets[2]) != 0);
    fake_conn_fail_writes(targets[2], "Connection reset by peer");
    fake_conn_fire(targets[2], LOOP_WRITABLE);
    ck_assert_int_eq(done_calls[2], 1);
    ck_assert_int_eq(done_ok[2], 0);
    ck_assert_str_eq(done_why[2], "Connection reset by peer");
    ck_assert_int_eq(diskless_get_stats()->targets, 2);
    TEST_DL_RUN_UNTIL(finished_calls == 1);
    ck_assert_int_eq(done_calls[2], 1);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(done_calls[i], 1);
        ck_assert_int_eq(done_ok[i], 1);
        test_dl_assert_whole(i);
    }
}
END_TEST

START_TEST(test_diskless_forgetting_every_target_kills_the_child)
{
    fake_conn_set_write_budget(targets[0], 0);
    fake_conn_set_write_budget(targets[1], 0);
    ck_assert_int_eq(test_dl_start(2), 0);
    TEST_DL_RUN_UNTIL(diskless_blocked_since(targets[1]) != 0);
    diskless_forget(targets[0]);
    ck_assert_int_eq(diskless_get_stats()->targets, 1);
    ck_assert_int_eq(finished_calls, 0);
    diskless_forget(targets[1]);
    diskless_forget(targets[1]); /* no target any more: nothing */
    ck_assert_int_eq(finished_calls, 1);
    ck_assert_int_eq(done_calls[0] + done_calls[1], 0);
    ck_assert_int_eq(child_running(), CHILD_NONE);
    ck_assert_int_eq(diskless_get_stats()->active, 0);
    ck_assert(!(fake_conn_events(targets[1]) & LOOP_WRITABLE));
    /* The next transfer starts afresh. */
    fake_conn_set_write_budget(targets[0], SIZE_MAX);
    fake_conn_clear_written(targets[0]);
    ck_assert_int_eq(test_dl_start(1), 0);
    TEST_DL_RUN_UNTIL(finished_calls == 2);
    ck_assert_int_eq(done_ok[0], 1);
    test_dl_assert_whole(0);
}
END_TEST

static Suite *diskless_suite(void)
{
    Suite *s = suite_create("diskless");
    TCase *tc = suite_new_tcase(s, "transfer", test_dl_setup, test_dl_teardown, 60);
    tcase_add_test(tc, test_diskless_every_target_gets_the_same_bytes);
    tcase_add_test(tc, test_diskless_a_full_socket_holds_the_pipe_then_catches_up);
    tcase_add_test(tc, test_diskless_a_failing_target_is_dropped_alone);
    tcase_add_test(tc, test_diskless_forgetting_every_target_kills_the_child);
    return s;
}

int main(void) { return run_suite(diskless_suite()); }
