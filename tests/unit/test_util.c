/* test_util.c: unit tests of core/util.c: strict integer parsing at the
 * 64-bit limits, integer formatting, doubles, sizes with units, constant-time
 * comparison and human-readable byte counts. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "tests/unit/fake/check_suite.h"

static int ll_of(const char *s, long long *v) { return parse_ll(s, strlen(s), v); }

START_TEST(test_parse_ll_limits)
{
    long long v;
    ck_assert_int_eq(ll_of("9223372036854775807", &v), 0);
    ck_assert(v == LLONG_MAX);
    ck_assert_int_eq(ll_of("-9223372036854775808", &v), 0);
    ck_assert(v == LLONG_MIN);
    ck_assert_int_eq(ll_of("9223372036854775808", &v), -1);
    ck_assert_int_eq(ll_of("-9223372036854775809", &v), -1);
    ck_assert_int_eq(ll_of("18446744073709551616", &v), -1);
    ck_assert_int_eq(ll_of("0", &v), 0);
    ck_assert(v == 0);
    ck_assert_int_eq(ll_of("-1", &v), 0);
    ck_assert(v == -1);
}
END_TEST

START_TEST(test_parse_ll_strict)
{
    const char *bad[] = {"", "-", "+1", " 1", "1 ", "01", "-0", "1a", "0x10", "1e3", "--1"};
    long long v;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(ll_of(bad[i], &v) == -1, "'%s' parsed", bad[i]);
    /* Length-bounded: bytes after len are ignored. */
    ck_assert_int_eq(parse_ll("123xyz", 3, &v), 0);
    ck_assert(v == 123);
}
END_TEST

START_TEST(test_ll_to_text_round_trip)
{
    long long values[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char buf[21], want[32];
        size_t n = ll_to_text(buf, values[i]);
        snprintf(want, sizeof(want), "%lld", values[i]);
        ck_assert_uint_eq(n, strlen(want));
        ck_assert(memcmp(buf, want, n) == 0);
        long long back;
        ck_assert_int_eq(parse_ll(buf, n, &back), 0);
        ck_assert(back == values[i]);
    }
}
END_TEST

START_TEST(test_parse_double)
{
    double d;
    ck_assert_int_eq(parse_double("1.5", 3, &d), 0);
    ck_assert(d == 1.5);
    ck_assert_int_eq(parse_double("-1e3", 4, &d), 0);
    ck_assert(d == -1000);
    ck_assert_int_eq(parse_double("inf", 3, &d), 0);
    ck_assert_int_eq(parse_double("nan", 3, &d), -1);
    ck_assert_int_eq(parse_double("1.5x", 4, &d), -1);
    ck_assert_int_eq(parse_double(" 1", 2, &d), -1);
    ck_assert_int_eq(parse_double("", 0, &d), -1);
    ck_assert_int_eq(parse_double("1e400", 5, &d), -1);
}
END_TEST

START_TEST(test_parse_memory_units)
{
    long long v;
    ck_assert_int_eq(parse_memory("100", &v), 0);
    ck_assert(v == 100);
    ck_assert_int_eq(parse_memory("1k", &v), 0);
    ck_assert(v == 1000);
    ck_assert_int_eq(parse_memory("1kb", &v), 0);
    ck_assert(v == 1024);
    ck_assert_int_eq(parse_memory("2MB", &v), 0);
    ck_assert(v == 2 * 1024 * 1024);
    ck_assert_int_eq(parse_memory("3g", &v), 0);
    ck_assert(v == 3000000000LL);
    ck_assert_int_eq(parse_memory("1gb", &v), 0);
    ck_assert(v == 1024LL * 1024 * 1024);
    ck_assert_int_eq(parse_memory("-1", &v), -1);
    ck_assert_int_eq(parse_memory("kb", &v), -1);
    ck_assert_int_eq(parse_memory("9223372036854775807gb", &v), -1);
}
END_TEST

START_TEST(test_constant_time_equal)
{
    ck_assert(constant_time_equal("secret", 6, "secret", 6));
    ck_assert(!constant_time_equal("secret", 6, "secreT", 6));
    ck_assert(!constant_time_equal("secret", 6, "secret!", 7));
    ck_assert(!constant_time_equal("", 0, "a", 1));
    ck_assert(constant_time_equal("", 0, "", 0));
}
END_TEST

START_TEST(test_human_bytes)
{
    char buf[32];
    format_human_bytes(buf, sizeof(buf), 512);
    ck_assert_str_eq(buf, "512B");
    format_human_bytes(buf, sizeof(buf), 1536);
    ck_assert_str_eq(buf, "1.50K");
    format_human_bytes(buf, sizeof(buf), 3ULL * 1024 * 1024 * 1024);
    ck_assert_str_eq(buf, "3.00G");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = suite_new_tcase(s, "conversions", NULL, NULL, 0);
    tcase_add_test(tc, test_parse_ll_limits);
    tcase_add_test(tc, test_parse_ll_strict);
    tcase_add_test(tc, test_ll_to_text_round_trip);
    tcase_add_test(tc, test_parse_double);
    tcase_add_test(tc, test_parse_memory_units);
    tcase_add_test(tc, test_constant_time_equal);
    tcase_add_test(tc, test_human_bytes);
    return run_suite(s);
}
