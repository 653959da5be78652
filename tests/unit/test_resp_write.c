/* test_resp_write.c: Check suite for the RESP2/RESP3 encoders: the exact
 * bytes of every form, the extremes of the integers, CR/LF sanitising of
 * status and error texts, and commands built by resp_add_command coming back
 * unchanged through the request parser. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "net/resp_parse.h"
#include "net/resp_write.h"
#include "tests/unit/fake/check_suite.h"

#define LIT(s) s, sizeof(s) - 1

/* Checks s holds exactly want[0..len) and frees it. */
static void expect_bytes(str s, const char *want, size_t len)
{
    ck_assert_msg(str_len(s) == len && memcmp(s, want, len) == 0, "got '%s', wanted '%s'", s, want);
    str_free(s);
}

#define EXPECT(s, want) expect_bytes(s, LIT(want))

static void expect_header(char prefix, long long n, const char *want)
{
    char buf[RESP_HEADER_MAX];
    size_t len = resp_format_header(buf, prefix, n);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(memcmp(buf, want, len) == 0);
}

START_TEST(test_format_header)
{
    expect_header('*', 3, "*3\r\n");
    expect_header('$', 0, "$0\r\n");
    expect_header('$', -1, "$-1\r\n");
    expect_header(':', 42, ":42\r\n");
    expect_header(':', -42, ":-42\r\n");
    expect_header(':', 10, ":10\r\n");
    expect_header(':', 1000000007, ":1000000007\r\n");
    expect_header(':', LLONG_MAX, ":9223372036854775807\r\n");
    expect_header(':', LLONG_MIN, ":-9223372036854775808\r\n");
    expect_header(':', LLONG_MIN + 1, ":-9223372036854775807\r\n");
}
END_TEST

static void expect_double(double d, const char *want)
{
    char buf[64];
    size_t len = resp_format_double(buf, sizeof(buf), d);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_str_eq(buf, want);
}

START_TEST(test_format_double)
{
    expect_double(1.5, "1.5");
    expect_double(-2, "-2");
    expect_double(0, "0");
    expect_double(0.1, "0.10000000000000001");
    expect_double(1e300, "1.0000000000000001e+300");
    expect_double(INFINITY, "inf");
    expect_double(-INFINITY, "-inf");
    expect_double(NAN, "nan");
    /* a short buffer gets a truncated, terminated text */
    char small[4];
    ck_assert_uint_eq(resp_format_double(small, sizeof(small), 0.1), 3);
    ck_assert_str_eq(small, "0.1");
}
END_TEST

START_TEST(test_simple_and_error)
{
    EXPECT(resp_add_simple(str_empty(), LIT("OK")), "+OK\r\n");
    EXPECT(resp_add_simple(str_empty(), LIT("")), "+\r\n");
    EXPECT(resp_add_simple(str_empty(), LIT("a\r\nb\nc\r")), "+a  b c \r\n");
    EXPECT(resp_add_error(str_empty(), LIT("ERR something")), "-ERR something\r\n");
    EXPECT(resp_add_error(str_empty(), LIT("ERR bad\r\n+OK")), "-ERR bad  +OK\r\n");
    EXPECT(resp_add_error(str_empty(), LIT("ERR x\n")), "-ERR x \r\n");
    /* appenders add to what is there */
    str s = resp_add_simple(str_new("prefix"), LIT("PONG"));
    EXPECT(s, "prefix+PONG\r\n");
}
END_TEST

START_TEST(test_integer_and_bulk)
{
    EXPECT(resp_add_integer(str_empty(), 0), ":0\r\n");
    EXPECT(resp_add_integer(str_empty(), -7), ":-7\r\n");
    EXPECT(resp_add_integer(str_empty(), LLONG_MAX), ":9223372036854775807\r\n");
    EXPECT(resp_add_integer(str_empty(), LLONG_MIN), ":-9223372036854775808\r\n");
    EXPECT(resp_add_bulk(str_empty(), LIT("hello")), "$5\r\nhello\r\n");
    EXPECT(resp_add_bulk(str_empty(), LIT("")), "$0\r\n\r\n");
    EXPECT(resp_add_bulk(str_empty(), LIT("a\r\n\0b")), "$5\r\na\r\n\0b\r\n");
    EXPECT(resp_add_array_len(str_empty(), 3), "*3\r\n");
    EXPECT(resp_add_array_len(str_empty(), -1), "*-1\r\n");
    EXPECT(resp_add_array_len(str_empty(), 0), "*0\r\n");
}
END_TEST

START_TEST(test_large_bulk)
{
    size_t n = 100000;
    char *data = tmalloc(n);
    memset(data, 'q', n);
    str s = resp_add_bulk(str_empty(), data, n);
    ck_assert_uint_eq(str_len(s), 9 + n + 2);
    ck_assert(memcmp(s, "$100000\r\n", 9) == 0);
    ck_assert(memcmp(s + 9, data, n) == 0);
    ck_assert(memcmp(s + 9 + n, "\r\n", 2) == 0);
    str_free(s);
    tfree(data);
}
END_TEST

START_TEST(test_resp3_forms)
{
    EXPECT(resp_add_null(str_empty(), 1), "_\r\n");
    EXPECT(resp_add_null_array(str_empty(), 1), "_\r\n");
    EXPECT(resp_add_map_len(str_empty(), 1, 2), "%2\r\n");
    EXPECT(resp_add_set_len(str_empty(), 1, 5), "~5\r\n");
    EXPECT(resp_add_double(str_empty(), 1, 1.5), ",1.5\r\n");
    EXPECT(resp_add_double(str_empty(), 1, -0.25), ",-0.25\r\n");
    EXPECT(resp_add_double(str_empty(), 1, INFINITY), ",inf\r\n");
    EXPECT(resp_add_double(str_empty(), 1, -INFINITY), ",-inf\r\n");
    EXPECT(resp_add_double(str_empty(), 1, NAN), ",nan\r\n");
    EXPECT(resp_add_double(str_empty(), 1, 0.1), ",0.10000000000000001\r\n");
    EXPECT(resp_add_bool(str_empty(), 1, 1), "#t\r\n");
    EXPECT(resp_add_bool(str_empty(), 1, 0), "#f\r\n");
    EXPECT(resp_add_bool(str_empty(), 1, 42), "#t\r\n");
    EXPECT(resp_add_verbatim(str_empty(), 1, LIT("Some text"), "txt"), "=13\r\ntxt:Some text\r\n");
    EXPECT(resp_add_verbatim(str_empty(), 1, LIT(""), "mkd"), "=4\r\nmkd:\r\n");
    EXPECT(resp_add_verbatim(str_empty(), 1, LIT("a\r\nb"), "txt"), "=8\r\ntxt:a\r\nb\r\n");
    /* the format is always three bytes */
    EXPECT(resp_add_verbatim(str_empty(), 1, LIT("x"), "t"), "=5\r\nt  :x\r\n");
    EXPECT(resp_add_verbatim(str_empty(), 1, LIT("x"), "html"), "=5\r\nhtm:x\r\n");
}
END_TEST

START_TEST(test_resp2_fallbacks)
{
    EXPECT(resp_add_null(str_empty(), 0), "$-1\r\n");
    EXPECT(resp_add_null_array(str_empty(), 0), "*-1\r\n");
    EXPECT(resp_add_map_len(str_empty(), 0, 2), "*4\r\n");
    EXPECT(resp_add_map_len(str_empty(), 0, 0), "*0\r\n");
    EXPECT(resp_add_set_len(str_empty(), 0, 5), "*5\r\n");
    EXPECT(resp_add_double(str_empty(), 0, 1.5), "$3\r\n1.5\r\n");
    EXPECT(resp_add_double(str_empty(), 0, 0.1), "$19\r\n0.10000000000000001\r\n");
    EXPECT(resp_add_double(str_empty(), 0, INFINITY), "$3\r\ninf\r\n");
    EXPECT(resp_add_double(str_empty(), 0, -INFINITY), "$4\r\n-inf\r\n");
    EXPECT(resp_add_bool(str_empty(), 0, 1), ":1\r\n");
    EXPECT(resp_add_bool(str_empty(), 0, 0), ":0\r\n");
    EXPECT(resp_add_verbatim(str_empty(), 0, LIT("Some text"), "txt"), "$9\r\nSome text\r\n");
}
END_TEST

START_TEST(test_command)
{
    const char *argv[] = {"SET", "key", "v\r\n\0al"};
    const size_t lens[] = {3, 3, 6};
    EXPECT(resp_add_command(str_empty(), 3, argv, lens),
           "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nv\r\n\0al\r\n");
    EXPECT(resp_add_command(str_empty(), 0, argv, lens), "*0\r\n");
}
END_TEST

/* Commands built by resp_add_command, pipelined, parse back unchanged. */
START_TEST(test_command_round_trip)
{
    char big[70000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i % 256);
    const char *argv[] = {"RPUSH", "list", "", "\r\n", big, "\"quoted\" 'x'"};
    const size_t lens[] = {5, 4, 0, 2, sizeof(big), 12};
    str s = str_empty();
    for (int argc = 1; argc <= 6; argc++)
        s = resp_add_command(s, argc, argv, lens);

    resp_limits limits = {512LL * 1024 * 1024, 1024 * 1024};
    resp_parser p;
    resp_parser_init(&p, &limits);
    size_t pos = 0;
    for (int want = 1; want <= 6; want++) {
        ck_assert_int_eq(resp_parse(&p, s, str_len(s), &pos), RESP_PARSE_OK);
        int argc;
        str *got = resp_parser_take(&p, &argc);
        ck_assert_int_eq(argc, want);
        for (int i = 0; i < argc; i++) {
            ck_assert_uint_eq(str_len(got[i]), lens[i]);
            ck_assert(memcmp(got[i], argv[i], lens[i]) == 0);
        }
        resp_free_args(got, argc);
    }
    ck_assert_int_eq(resp_parse(&p, s, str_len(s), &pos), RESP_PARSE_AGAIN);
    ck_assert_uint_eq(pos, str_len(s));
    resp_parser_free(&p);
    str_free(s);
}
END_TEST

static Suite *write_suite(void)
{
    Suite *s = suite_create("resp_write");
    TCase *tc = suite_new_tcase(s, "format", NULL, NULL, 0);
    tcase_add_test(tc, test_format_header);
    tcase_add_test(tc, test_format_double);

    tc = suite_new_tcase(s, "add", NULL, NULL, 0);
    tcase_add_test(tc, test_simple_and_error);
    tcase_add_test(tc, test_integer_and_bulk);
    tcase_add_test(tc, test_large_bulk);
    tcase_add_test(tc, test_resp3_forms);
    tcase_add_test(tc, test_resp2_fallbacks);
    tcase_add_test(tc, test_command);
    tcase_add_test(tc, test_command_round_trip);
    return s;
}

int main(void)
{
    return run_suite(write_suite());
}
