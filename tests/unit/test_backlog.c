/* test_backlog.c: unit tests of repl/backlog.c: offsets and histlen before
 * and across the wrap-around, can_serve at the first byte, the last, one
 * before and one after, an append larger than the ring, resize (smaller and
 * larger) keeping the newest bytes, and a random sequence of appends, reads
 * and resizes checked against a naive model (the whole stream kept flat). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "repl/backlog.h"
#include "tests/unit/fake/check_suite.h"

/* copy_from's sink for the tests: appends to a str. */
static void test_backlog_sink(void *data, const char *p, size_t len)
{
    str *s = data;
    *s = str_cat_len(*s, p, len);
}

/* The bytes from offset to the newest, as a new str. */
static str test_backlog_read(const backlog *b, long long offset)
{
    str s = str_empty();
    long long n = backlog_copy_from(b, offset, test_backlog_sink, &s);
    ck_assert_int_eq(n, (long long)str_len(s));
    return s;
}

static void test_backlog_expect(const backlog *b, long long offset, const char *want)
{
    str s = test_backlog_read(b, offset);
    ck_assert_uint_eq(str_len(s), strlen(want));
    ck_assert(memcmp(s, want, strlen(want)) == 0);
    str_free(s);
}

START_TEST(test_backlog_offsets_across_the_wrap)
{
    backlog *b = backlog_create(8, 101);
    ck_assert_int_eq(backlog_first_offset(b), 101);
    ck_assert_int_eq(backlog_histlen(b), 0);
    ck_assert(backlog_can_serve(b, 101));
    ck_assert(!backlog_can_serve(b, 100));
    ck_assert(!backlog_can_serve(b, 102));
    test_backlog_expect(b, 101, "");
    backlog_append(b, "abcde", 5);
    ck_assert_int_eq(backlog_first_offset(b), 101);
    ck_assert_int_eq(backlog_histlen(b), 5);
    test_backlog_expect(b, 103, "cde");
    backlog_append(b, "fghij", 5); /* wraps: a and b are gone */
    ck_assert_int_eq(backlog_first_offset(b), 103);
    ck_assert_int_eq(backlog_histlen(b), 8);
    test_backlog_expect(b, 103, "cdefghij");
    test_backlog_expect(b, 108, "hij");
    backlog_append(b, "klmnop", 6);
    ck_assert_int_eq(backlog_first_offset(b), 109);
    test_backlog_expect(b, 109, "ijklmnop");
    ck_assert_uint_eq(backlog_size(b), 8);
    backlog_free(b);
}
END_TEST

START_TEST(test_backlog_can_serve_bounds)
{
    backlog *b = backlog_create(10, 1);
    backlog_append(b, "0123456789abcdef", 16); /* holds 7..16 */
    ck_assert_int_eq(backlog_first_offset(b), 7);
    ck_assert_int_eq(backlog_histlen(b), 10);
    ck_assert(!backlog_can_serve(b, 6));  /* one before the first byte */
    ck_assert(backlog_can_serve(b, 7));   /* the first byte */
    ck_assert(backlog_can_serve(b, 16));  /* the last byte */
    ck_assert(backlog_can_serve(b, 17));  /* nothing missing */
    ck_assert(!backlog_can_serve(b, 18)); /* one after: ahead of the stream */
    test_backlog_expect(b, 7, "6789abcdef");
    test_backlog_expect(b, 16, "f");
    test_backlog_expect(b, 17, "");
    backlog_free(b);
}
END_TEST

START_TEST(test_backlog_resize_keeps_the_newest)
{
    backlog *b = backlog_create(8, 1);
    backlog_append(b, "abcdefghijk", 11); /* holds d..k, wrapped */
    backlog_resize(b, 4);
    ck_assert_uint_eq(backlog_size(b), 4);
    ck_assert_int_eq(backlog_first_offset(b), 8);
    ck_assert_int_eq(backlog_histlen(b), 4);
    test_backlog_expect(b, 8, "hijk");
    backlog_resize(b, 16);
    ck_assert_int_eq(backlog_first_offset(b), 8);
    test_backlog_expect(b, 8, "hijk");
    backlog_append(b, "lmnopqrstuvwxyz", 15);
    ck_assert_int_eq(backlog_first_offset(b), 11);
    test_backlog_expect(b, 11, "klmnopqrstuvwxyz");
    backlog_free(b);
}
END_TEST

/* One random step against the model: model holds the whole stream, whose
 * byte i has offset start + i. */
static void test_backlog_step(backlog *b, str *model, long long start)
{
    int what = rand() % 10;
    if (what < 6) {
        char chunk[64];
        size_t len = (size_t)(rand() % (what == 0 ? 64 : 12));
        for (size_t i = 0; i < len; i++) chunk[i] = (char)rand();
        backlog_append(b, chunk, len);
        *model = str_cat_len(*model, chunk, len);
    } else if (what < 9) {
        long long end = start + (long long)str_len(*model);
        long long offset = end - rand() % 70;
        long long first = end - backlog_histlen(b);
        ck_assert_int_eq(backlog_can_serve(b, offset), offset >= first && offset >= start);
        if (!backlog_can_serve(b, offset)) return;
        str got = test_backlog_read(b, offset);
        ck_assert(memcmp(got, *model + (offset - start), str_len(got)) == 0);
        ck_assert_int_eq((long long)str_len(got), end - offset);
        str_free(got);
    } else {
        size_t size = (size_t)(1 + rand() % 48);
        long long held = backlog_histlen(b);
        backlog_resize(b, size);
        ck_assert_int_eq(backlog_histlen(b), held < (long long)size ? held : (long long)size);
    }
}

START_TEST(test_backlog_matches_a_naive_model)
{
    srand(17);
    long long start = 1000;
    backlog *b = backlog_create(32, start);
    str model = str_empty();
    for (int i = 0; i < 20000; i++) {
        test_backlog_step(b, &model, start);
        long long len = (long long)str_len(model);
        long long want = len < (long long)backlog_size(b) ? len : (long long)backlog_size(b);
        ck_assert_int_le(backlog_histlen(b), want);
        ck_assert_int_eq(backlog_first_offset(b) + backlog_histlen(b), start + len);
    }
    str_free(model);
    backlog_free(b);
}
END_TEST

static Suite *backlog_suite(void)
{
    Suite *s = suite_create("backlog");
    TCase *tc = suite_new_tcase(s, "backlog", NULL, NULL, 0);
    tcase_add_test(tc, test_backlog_offsets_across_the_wrap);
    tcase_add_test(tc, test_backlog_can_serve_bounds);
    tcase_add_test(tc, test_backlog_resize_keeps_the_newest);
    tcase_add_test(tc, test_backlog_matches_a_naive_model);
    return s;
}

int main(void) { return run_suite(backlog_suite()); }
