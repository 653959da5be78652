/* test_waiters.c: unit tests of repl/waiters.c: a waiter is released when
 * enough replicas acknowledged its offset, only when told that ACKs changed;
 * one whose deadline passed is released with the count it has, ACKs or not;
 * a waiter without a deadline waits forever; release is oldest first and
 * leaves the others listed; remove forgets a waiter (and only that one);
 * release_all hands -1 to each. The replicas are a fake array of
 * acknowledged offsets. */
#include <check.h>

#include "repl/waiters.h"
#include "tests/unit/fake/check_suite.h"

#define TEST_MAX 8

/* The fake replicas and what done() was told. */
typedef struct test_world {
    long long acks[TEST_MAX];
    int nacks;
    int owners[TEST_MAX];
    long long acked[TEST_MAX];
    int ndone;
} test_world;

static long long test_count(void *data, long long offset)
{
    test_world *w = data;
    long long n = 0;
    for (int i = 0; i < w->nacks; i++)
        if (w->acks[i] >= offset) n++;
    return n;
}

static void test_done(void *data, void *owner, long long acked)
{
    test_world *w = data;
    w->owners[w->ndone] = *(int *)owner;
    w->acked[w->ndone++] = acked;
}

static unsigned long test_release(waiters *ws, test_world *w, long long now, int changed)
{
    return waiters_release(ws, now, changed, test_count, test_done, w);
}

static int ids[TEST_MAX] = {0, 1, 2, 3, 4, 5, 6, 7};

START_TEST(test_waiters_released_once_enough_replicas_acked)
{
    waiters ws;
    test_world w = {.acks = {100, 50}, .nacks = 2};
    waiters_init(&ws);
    waiters_add(&ws, &ids[1], 120, 2, 0);
    ck_assert_uint_eq(ws.count, 1);
    ck_assert_uint_eq(test_release(&ws, &w, 1000, 1), 0);
    w.acks[0] = 130;
    /* Not told that ACKs changed: not looked at. */
    ck_assert_uint_eq(test_release(&ws, &w, 1000, 0), 0);
    ck_assert_uint_eq(test_release(&ws, &w, 1000, 1), 0); /* one of two */
    w.acks[1] = 120;
    ck_assert_uint_eq(test_release(&ws, &w, 1000, 1), 1);
    ck_assert_int_eq(w.ndone, 1);
    ck_assert_int_eq(w.owners[0], 1);
    ck_assert_int_eq(w.acked[0], 2);
    ck_assert_uint_eq(ws.count, 0);
}
END_TEST

START_TEST(test_waiters_deadline_releases_with_the_count)
{
    waiters ws;
    test_world w = {.acks = {10, 200, 300}, .nacks = 3};
    waiters_init(&ws);
    waiters_add(&ws, &ids[2], 150, 3, 500);
    waiters_add(&ws, &ids[3], 150, 3, 0); /* forever */
    ck_assert_uint_eq(test_release(&ws, &w, 499, 1), 0);
    ck_assert_uint_eq(test_release(&ws, &w, 500, 0), 1);
    ck_assert_int_eq(w.owners[0], 2);
    ck_assert_int_eq(w.acked[0], 2);
    ck_assert_uint_eq(test_release(&ws, &w, 1LL << 60, 1), 0);
    ck_assert_uint_eq(ws.count, 1);
    w.acks[0] = 150;
    ck_assert_uint_eq(test_release(&ws, &w, 1LL << 60, 1), 1);
    ck_assert_int_eq(w.owners[1], 3);
    ck_assert_int_eq(w.acked[1], 3);
}
END_TEST

START_TEST(test_waiters_oldest_first_others_stay)
{
    waiters ws;
    test_world w = {.acks = {100}, .nacks = 1};
    waiters_init(&ws);
    waiters_add(&ws, &ids[4], 90, 1, 0);
    waiters_add(&ws, &ids[5], 110, 1, 0);
    waiters_add(&ws, &ids[6], 80, 1, 0);
    ck_assert_uint_eq(test_release(&ws, &w, 0, 1), 2);
    ck_assert_int_eq(w.owners[0], 4);
    ck_assert_int_eq(w.owners[1], 6);
    ck_assert_uint_eq(ws.count, 1);
    waiters_release_all(&ws, test_done, &w);
    ck_assert_int_eq(w.owners[2], 5);
    ck_assert_int_eq(w.acked[2], -1);
    ck_assert_uint_eq(ws.count, 0);
    ck_assert(list_empty(&ws.head));
}
END_TEST

START_TEST(test_waiters_remove_forgets_one)
{
    waiters ws;
    test_world w = {.acks = {100}, .nacks = 1};
    waiters_init(&ws);
    waiters_add(&ws, &ids[1], 50, 1, 0);
    waiters_add(&ws, &ids[2], 50, 1, 0);
    ck_assert_int_eq(waiters_remove(&ws, &ids[1]), 1);
    ck_assert_int_eq(waiters_remove(&ws, &ids[1]), 0);
    ck_assert_int_eq(waiters_remove(&ws, &ids[7]), 0);
    ck_assert_uint_eq(ws.count, 1);
    ck_assert_uint_eq(test_release(&ws, &w, 0, 1), 1);
    ck_assert_int_eq(w.ndone, 1);
    ck_assert_int_eq(w.owners[0], 2);
}
END_TEST

START_TEST(test_waiters_zero_needed_and_no_replicas)
{
    waiters ws;
    test_world w = {.nacks = 0};
    waiters_init(&ws);
    waiters_add(&ws, &ids[0], 10, 0, 0);
    waiters_add(&ws, &ids[1], 10, 1, 100);
    ck_assert_uint_eq(test_release(&ws, &w, 50, 1), 1);
    ck_assert_int_eq(w.acked[0], 0);
    ck_assert_uint_eq(test_release(&ws, &w, 100, 0), 1);
    ck_assert_int_eq(w.owners[1], 1);
    ck_assert_int_eq(w.acked[1], 0);
}
END_TEST

static Suite *waiters_suite(void)
{
    Suite *s = suite_create("waiters");
    TCase *tc = suite_new_tcase(s, "waiters", NULL, NULL, 0);
    tcase_add_test(tc, test_waiters_released_once_enough_replicas_acked);
    tcase_add_test(tc, test_waiters_deadline_releases_with_the_count);
    tcase_add_test(tc, test_waiters_oldest_first_others_stay);
    tcase_add_test(tc, test_waiters_remove_forgets_one);
    tcase_add_test(tc, test_waiters_zero_needed_and_no_replicas);
    return s;
}

int main(void) { return run_suite(waiters_suite()); }
