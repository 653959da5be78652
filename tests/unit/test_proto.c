/* test_proto.c: Check unit tests of repl/proto.c, the replica link's pure
 * builders and parsers: the exact bytes of every handshake command, every
 * reply line the link must tell apart (and malformed ones), both bulk
 * header framings, the end-mark scanner fed at every split point, and the
 * line reader split at every byte, with keep-alives and its length bound. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "repl/proto.h"
#include "tests/unit/fake/check_suite.h"

#define TEST_PROTO_ID "0123456789abcdef0123456789abcdef01234567"
#define TEST_PROTO_MARK "f00dbeeff00dbeeff00dbeeff00dbeeff00dbeef"

/* ---------------------------------------------------------------- helpers */

/* Checks that s holds exactly expect, and frees it. */
static void test_proto_assert_str(str s, const char *expect)
{
    ck_assert_uint_eq(str_len(s), strlen(expect));
    ck_assert_msg(memcmp(s, expect, str_len(s)) == 0, "got '%s', expected '%s'", s, expect);
    str_free(s);
}

static enum proto_reply_type test_proto_reply(const char *line, proto_reply *r)
{
    return proto_parse_reply(line, strlen(line), r);
}

static enum proto_bulk_type test_proto_bulk(const char *line, proto_bulk *b)
{
    return proto_parse_bulk(line, strlen(line), b);
}

/* Feeds stream to a scanner in pieces that end at the offsets in cuts
 * (ascending, then len); returns the stream offset just past the mark, or
 * -1 when the scanner never found it. */
static long long test_proto_scan(const char *stream, size_t len, const size_t *cuts, int ncuts)
{
    proto_mark_scan m;
    proto_mark_init(&m, TEST_PROTO_MARK);
    size_t from = 0;
    for (int i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        long long upto = proto_mark_feed(&m, stream + from, to - from);
        if (upto >= 0) {
            ck_assert_int_le(upto, (long long)(to - from));
            return (long long)from + upto;
        }
        from = to;
    }
    return -1;
}

/* "payload" + mark + "extra", the offset just past the mark in *end. */
static str test_proto_marked(const char *payload, const char *extra, size_t *end)
{
    str s = str_new(payload);
    s = str_cat(s, TEST_PROTO_MARK);
    *end = str_len(s);
    return str_cat(s, extra);
}

/* Takes the next line and checks it is expect. */
static void test_proto_next_is(proto_lines *r, const char *expect)
{
    const char *line;
    size_t len;
    ck_assert_int_eq(proto_lines_next(r, &line, &len), PROTO_OK);
    ck_assert_uint_eq(len, strlen(expect));
    ck_assert(memcmp(line, expect, len) == 0);
}

static void test_proto_next_again(proto_lines *r)
{
    const char *line;
    size_t len;
    ck_assert_int_eq(proto_lines_next(r, &line, &len), PROTO_AGAIN);
}

static void test_proto_rest_is(proto_lines *r, const char *expect, size_t elen)
{
    size_t len;
    const char *rest = proto_lines_rest(r, &len);
    ck_assert_uint_eq(len, elen);
    ck_assert(memcmp(rest, expect, len) == 0);
}

/* ---------------------------------------------------------------- builders */

START_TEST(test_proto_builders)
{
    test_proto_assert_str(proto_ping(str_empty()), "*1\r\n$4\r\nPING\r\n");
    test_proto_assert_str(proto_auth(str_empty(), NULL, "pw"), "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    test_proto_assert_str(proto_auth(str_empty(), "", "pw"), "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    test_proto_assert_str(proto_auth(str_empty(), "bob", "s3cret"),
                          "*3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$6\r\ns3cret\r\n");
    test_proto_assert_str(proto_replconf(str_empty(), "listening-port", "6380"),
                          "*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6380\r\n");
    test_proto_assert_str(proto_replconf(str_empty(), "ip-address", "10.0.0.7"),
                          "*3\r\n$8\r\nREPLCONF\r\n$10\r\nip-address\r\n$8\r\n10.0.0.7\r\n");
    test_proto_assert_str(proto_replconf_capa(str_empty()),
                          "*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n"
                          "$6\r\npsync2\r\n");
    test_proto_assert_str(proto_psync(str_empty(), NULL, 123),
                          "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
    test_proto_assert_str(proto_psync(str_empty(), TEST_PROTO_ID, 1001),
                          "*3\r\n$5\r\nPSYNC\r\n$40\r\n" TEST_PROTO_ID "\r\n$4\r\n1001\r\n");
    test_proto_assert_str(proto_ack(str_empty(), 42),
                          "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n42\r\n");
}
END_TEST

START_TEST(test_proto_builders_append)
{
    str s = proto_ping(str_new("x"));
    s = proto_ping(s);
    test_proto_assert_str(s, "x*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
}
END_TEST

/* ---------------------------------------------------------------- replies */

START_TEST(test_proto_reply_status)
{
    proto_reply r;
    ck_assert_int_eq(test_proto_reply("+PONG", &r), PROTO_REPLY_PONG);
    ck_assert_int_eq(r.type, PROTO_REPLY_PONG);
    ck_assert_int_eq(test_proto_reply("+OK", &r), PROTO_REPLY_OK);
    ck_assert_int_eq(test_proto_reply("+QUEUED", &r), PROTO_REPLY_STATUS);
    ck_assert_int_eq(test_proto_reply("+PONGS", &r), PROTO_REPLY_STATUS);
    ck_assert_int_eq(test_proto_reply("+", &r), PROTO_REPLY_STATUS);
}
END_TEST

START_TEST(test_proto_reply_errors)
{
    proto_reply r;
    ck_assert_int_eq(test_proto_reply("-NOAUTH Authentication required.", &r), PROTO_REPLY_NOAUTH);
    ck_assert_int_eq(test_proto_reply("-NOPERM this user has no permissions", &r),
                     PROTO_REPLY_NOAUTH);
    ck_assert_int_eq(test_proto_reply("-ERR operation not permitted", &r), PROTO_REPLY_NOAUTH);
    ck_assert_int_eq(test_proto_reply("-NOMASTERLINK Can't SYNC while not connected", &r),
                     PROTO_REPLY_NOMASTERLINK);
    ck_assert_int_eq(test_proto_reply("-LOADING Redis is loading the dataset in memory", &r),
                     PROTO_REPLY_LOADING);
    ck_assert_int_eq(test_proto_reply("-ERR unknown command 'PSYNC'", &r), PROTO_REPLY_ERROR);
    ck_assert_int_eq(test_proto_reply("-WRONGPASS invalid password", &r), PROTO_REPLY_ERROR);
    ck_assert_int_eq(test_proto_reply("-", &r), PROTO_REPLY_ERROR);
}
END_TEST

START_TEST(test_proto_reply_invalid)
{
    proto_reply r;
    ck_assert_int_eq(proto_parse_reply("", 0, &r), PROTO_REPLY_INVALID);
    ck_assert_int_eq(test_proto_reply("garbage", &r), PROTO_REPLY_INVALID);
    ck_assert_int_eq(test_proto_reply(":1", &r), PROTO_REPLY_INVALID);
    ck_assert_int_eq(test_proto_reply("$5", &r), PROTO_REPLY_INVALID);
    ck_assert_int_eq(proto_parse_reply("\0+OK", 4, &r), PROTO_REPLY_INVALID);
}
END_TEST

START_TEST(test_proto_reply_fullresync)
{
    proto_reply r;
    ck_assert_int_eq(test_proto_reply("+FULLRESYNC " TEST_PROTO_ID " 12345", &r),
                     PROTO_REPLY_FULLRESYNC);
    ck_assert_str_eq(r.replid, TEST_PROTO_ID);
    ck_assert_int_eq(r.offset, 12345);
    ck_assert_int_eq(test_proto_reply("+FULLRESYNC " TEST_PROTO_ID " 0", &r),
                     PROTO_REPLY_FULLRESYNC);
    ck_assert_int_eq(r.offset, 0);
    const char *bad[] = {
        "+FULLRESYNC",
        "+FULLRESYNC ",
        "+FULLRESYNC " TEST_PROTO_ID,
        "+FULLRESYNC " TEST_PROTO_ID " ",
        "+FULLRESYNC " TEST_PROTO_ID " -1",
        "+FULLRESYNC " TEST_PROTO_ID " 12x",
        "+FULLRESYNC " TEST_PROTO_ID "  1",
        "+FULLRESYNC 0123456789abcdef 1",
        "+FULLRESYNC 0123456789abcdef0123456789abcdef0123456z 1",
        "+FULLRESYNC 0123456789abcdef0123456789abcdef012345678 1",
        "+FULLRESYNCX" TEST_PROTO_ID " 1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(test_proto_reply(bad[i], &r) == PROTO_REPLY_INVALID, "'%s' accepted", bad[i]);
        ck_assert_str_eq(r.replid, "");
    }
}
END_TEST

START_TEST(test_proto_reply_continue)
{
    proto_reply r;
    ck_assert_int_eq(test_proto_reply("+CONTINUE", &r), PROTO_REPLY_CONTINUE);
    ck_assert_str_eq(r.replid, "");
    ck_assert_int_eq(test_proto_reply("+CONTINUE " TEST_PROTO_ID, &r), PROTO_REPLY_CONTINUE);
    ck_assert_str_eq(r.replid, TEST_PROTO_ID);
    /* As Redis: an ID of the wrong length is ignored, the reply stands. */
    ck_assert_int_eq(test_proto_reply("+CONTINUE abc", &r), PROTO_REPLY_CONTINUE);
    ck_assert_str_eq(r.replid, "");
    ck_assert_int_eq(test_proto_reply("+CONTINUE ", &r), PROTO_REPLY_CONTINUE);
    ck_assert_str_eq(r.replid, "");
    ck_assert_int_eq(test_proto_reply("+CONTINUEX", &r), PROTO_REPLY_STATUS);
}
END_TEST

/* ---------------------------------------------------------------- bulk */

START_TEST(test_proto_bulk_len)
{
    proto_bulk b;
    ck_assert_int_eq(test_proto_bulk("$0", &b), PROTO_BULK_LEN);
    ck_assert_int_eq(b.len, 0);
    ck_assert_int_eq(test_proto_bulk("$175", &b), PROTO_BULK_LEN);
    ck_assert_int_eq(b.type, PROTO_BULK_LEN);
    ck_assert_int_eq(b.len, 175);
    ck_assert_int_eq(test_proto_bulk("$9223372036854775807", &b), PROTO_BULK_LEN);
    const char *bad[] = {"$", "$-1", "$12a", "$ 1", "$1 ", "$9223372036854775808", "$01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(test_proto_bulk(bad[i], &b) == PROTO_BULK_INVALID, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_proto_bulk_eof)
{
    proto_bulk b;
    ck_assert_int_eq(test_proto_bulk("$EOF:" TEST_PROTO_MARK, &b), PROTO_BULK_EOF);
    ck_assert(memcmp(b.mark, TEST_PROTO_MARK, PROTO_MARK_LEN) == 0);
    ck_assert_int_eq(test_proto_bulk("$EOF:" TEST_PROTO_MARK "x", &b), PROTO_BULK_INVALID);
    ck_assert_int_eq(test_proto_bulk("$EOF:f00d", &b), PROTO_BULK_INVALID);
    ck_assert_int_eq(test_proto_bulk("$EOF:", &b), PROTO_BULK_INVALID);
}
END_TEST

START_TEST(test_proto_bulk_other)
{
    proto_bulk b;
    ck_assert_int_eq(test_proto_bulk("-ERR BGSAVE failed", &b), PROTO_BULK_ERROR);
    ck_assert_int_eq(test_proto_bulk("+OK", &b), PROTO_BULK_INVALID);
    ck_assert_int_eq(test_proto_bulk("hello", &b), PROTO_BULK_INVALID);
    ck_assert_int_eq(proto_parse_bulk("", 0, &b), PROTO_BULK_INVALID);
}
END_TEST

/* ---------------------------------------------------------------- mark */

START_TEST(test_proto_mark_whole_and_split)
{
    size_t end;
    str s = test_proto_marked("REDIS0010 payload bytes", "*1\r\n$4\r\nPING\r\n", &end);
    size_t len = str_len(s);
    ck_assert_int_eq(test_proto_scan(s, len, NULL, 0), (long long)end);
    for (size_t a = 1; a < len; a++) {
        size_t cut[] = {a};
        ck_assert_int_eq(test_proto_scan(s, len, cut, 1), (long long)end);
        for (size_t b = a + 1; b < len; b++) {
            size_t cuts[] = {a, b};
            ck_assert_int_eq(test_proto_scan(s, len, cuts, 2), (long long)end);
        }
    }
    str_free(s);
}
END_TEST

START_TEST(test_proto_mark_byte_by_byte)
{
    size_t end;
    str s = test_proto_marked("x", "tail", &end);
    size_t cuts[128];
    int n = 0;
    for (size_t i = 1; i < str_len(s); i++)
        cuts[n++] = i;
    ck_assert_int_eq(test_proto_scan(s, str_len(s), cuts, n), (long long)end);
    str_free(s);
}
END_TEST

START_TEST(test_proto_mark_edges)
{
    size_t end;
    str s = test_proto_marked("", "", &end); /* the mark alone */
    ck_assert_int_eq(test_proto_scan(s, str_len(s), NULL, 0), PROTO_MARK_LEN);
    str_free(s);
    /* 39 bytes of the mark, then a different byte: no mark. */
    char near[PROTO_MARK_LEN];
    memcpy(near, TEST_PROTO_MARK, PROTO_MARK_LEN);
    near[PROTO_MARK_LEN - 1] = 'x';
    for (size_t a = 1; a < PROTO_MARK_LEN; a++) {
        size_t cut[] = {a};
        ck_assert_int_eq(test_proto_scan(near, PROTO_MARK_LEN, cut, 1), -1);
    }
    /* Empty pieces change nothing. */
    proto_mark_scan m;
    proto_mark_init(&m, TEST_PROTO_MARK);
    ck_assert_int_eq(proto_mark_feed(&m, "", 0), -1);
    ck_assert_int_eq(proto_mark_feed(&m, TEST_PROTO_MARK, 20), -1);
    ck_assert_int_eq(proto_mark_feed(&m, "", 0), -1);
    ck_assert_int_eq(proto_mark_feed(&m, TEST_PROTO_MARK + 20, 20), 20);
}
END_TEST

START_TEST(test_proto_mark_self_overlap)
{
    /* A mark whose prefix repeats: "aaa...ab" inside "aaaa...aab". */
    char mark[PROTO_MARK_LEN], stream[100];
    memset(mark, 'a', sizeof(mark));
    mark[PROTO_MARK_LEN - 1] = 'b';
    memset(stream, 'a', sizeof(stream));
    stream[70] = 'b';
    for (size_t a = 1; a < sizeof(stream); a++) {
        proto_mark_scan m;
        proto_mark_init(&m, mark);
        long long got = proto_mark_feed(&m, stream, a);
        if (got < 0) {
            got = proto_mark_feed(&m, stream + a, sizeof(stream) - a);
            ck_assert_int_ge(got, 0);
            got += (long long)a;
        }
        ck_assert_int_eq(got, 71);
    }
}
END_TEST

/* ---------------------------------------------------------------- lines */

START_TEST(test_proto_lines_split_every_byte)
{
    const char *in = "+PONG\r\n";
    size_t len = strlen(in);
    for (size_t a = 0; a <= len; a++) {
        proto_lines r;
        proto_lines_init(&r, PROTO_LINE_MAX);
        proto_lines_feed(&r, in, a);
        if (a < len) {
            test_proto_next_again(&r);
            proto_lines_feed(&r, in + a, len - a);
        }
        test_proto_next_is(&r, "+PONG");
        test_proto_next_again(&r);
        test_proto_rest_is(&r, "", 0);
        proto_lines_free(&r);
    }
}
END_TEST

START_TEST(test_proto_lines_byte_by_byte)
{
    const char *in = "+OK\r\n+OK\n\n-ERR x\r\n+FULLRESYNC a 1\r\n";
    const char *expect[] = {"+OK", "+OK", "-ERR x", "+FULLRESYNC a 1"};
    proto_lines r;
    proto_lines_init(&r, PROTO_LINE_MAX);
    int got = 0;
    for (size_t i = 0; in[i]; i++) {
        proto_lines_feed(&r, in + i, 1);
        const char *line;
        size_t len;
        while (proto_lines_next(&r, &line, &len) == PROTO_OK) {
            ck_assert_int_lt(got, 4);
            ck_assert_uint_eq(len, strlen(expect[got]));
            ck_assert(memcmp(line, expect[got], len) == 0);
            got++;
        }
    }
    ck_assert_int_eq(got, 4);
    proto_lines_free(&r);
}
END_TEST

START_TEST(test_proto_lines_keepalives_then_payload)
{
    proto_lines r;
    proto_lines_init(&r, PROTO_LINE_MAX);
    proto_lines_feed(&r, "\n\n\r\n\n", 5);
    test_proto_next_again(&r);
    test_proto_rest_is(&r, "", 0);
    proto_lines_feed(&r, "\n$5\r\nREDIS\r\n\n", 13);
    test_proto_next_is(&r, "$5");
    /* What follows the header is payload, newlines included. */
    test_proto_rest_is(&r, "REDIS\r\n\n", 8);
    proto_lines_clear(&r);
    test_proto_rest_is(&r, "", 0);
    test_proto_next_again(&r);
    proto_lines_free(&r);
}
END_TEST

START_TEST(test_proto_lines_many_in_one_feed)
{
    proto_lines r;
    proto_lines_init(&r, PROTO_LINE_MAX);
    const char *in = "+PONG\r\n+OK\r\n+OK\r\n+CONTINUE\r\n*1\r\n";
    proto_lines_feed(&r, in, strlen(in));
    test_proto_next_is(&r, "+PONG");
    test_proto_next_is(&r, "+OK");
    test_proto_next_is(&r, "+OK");
    test_proto_next_is(&r, "+CONTINUE");
    test_proto_rest_is(&r, "*1\r\n", 4);
    /* A later feed keeps the unread bytes in front. */
    proto_lines_feed(&r, "$4\r\n", 4);
    test_proto_rest_is(&r, "*1\r\n$4\r\n", 8);
    test_proto_next_is(&r, "*1");
    test_proto_next_is(&r, "$4");
    test_proto_next_again(&r);
    proto_lines_free(&r);
}
END_TEST

START_TEST(test_proto_lines_bound)
{
    const size_t max = 8;
    proto_lines r;
    proto_lines_init(&r, max);
    proto_lines_feed(&r, "12345678\r\n", 10); /* exactly max */
    test_proto_next_is(&r, "12345678");
    proto_lines_feed(&r, "12345678\r", 9); /* max and a "\r": may still end well */
    test_proto_next_again(&r);
    proto_lines_feed(&r, "\n", 1);
    test_proto_next_is(&r, "12345678");
    proto_lines_free(&r);

    const char *line;
    size_t len;
    proto_lines_init(&r, max);
    proto_lines_feed(&r, "123456789\r\n", 11); /* one over, terminated */
    ck_assert_int_eq(proto_lines_next(&r, &line, &len), PROTO_ERR);
    proto_lines_free(&r);

    proto_lines_init(&r, max);
    proto_lines_feed(&r, "1234567890", 10); /* unterminated, past max + 1 */
    ck_assert_int_eq(proto_lines_next(&r, &line, &len), PROTO_ERR);
    proto_lines_free(&r);
}
END_TEST

START_TEST(test_proto_lines_long_keepalive_run)
{
    /* Keep-alives do not count against the bound. */
    proto_lines r;
    proto_lines_init(&r, 4);
    for (int i = 0; i < 1000; i++) {
        proto_lines_feed(&r, "\n", 1);
        test_proto_next_again(&r);
    }
    proto_lines_feed(&r, "$7\r\n", 4);
    test_proto_next_is(&r, "$7");
    proto_lines_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- misc */

START_TEST(test_proto_printable)
{
    char buf[8];
    ck_assert_str_eq(proto_printable(buf, sizeof(buf), "ab\r\n\x01z", 6), "ab???z");
    ck_assert_str_eq(proto_printable(buf, sizeof(buf), "0123456789", 10), "0123456");
    ck_assert_str_eq(proto_printable(buf, 1, "abc", 3), "");
    ck_assert_str_eq(proto_printable(buf, sizeof(buf), "\xff", 1), "?");
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *test_proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *build = suite_new_tcase(s, "builders", NULL, NULL, 0);
    tcase_add_test(build, test_proto_builders);
    tcase_add_test(build, test_proto_builders_append);
    TCase *replies = suite_new_tcase(s, "replies", NULL, NULL, 0);
    tcase_add_test(replies, test_proto_reply_status);
    tcase_add_test(replies, test_proto_reply_errors);
    tcase_add_test(replies, test_proto_reply_invalid);
    tcase_add_test(replies, test_proto_reply_fullresync);
    tcase_add_test(replies, test_proto_reply_continue);
    TCase *bulk = suite_new_tcase(s, "bulk", NULL, NULL, 0);
    tcase_add_test(bulk, test_proto_bulk_len);
    tcase_add_test(bulk, test_proto_bulk_eof);
    tcase_add_test(bulk, test_proto_bulk_other);
    TCase *mark = suite_new_tcase(s, "mark", NULL, NULL, 0);
    tcase_add_test(mark, test_proto_mark_whole_and_split);
    tcase_add_test(mark, test_proto_mark_byte_by_byte);
    tcase_add_test(mark, test_proto_mark_edges);
    tcase_add_test(mark, test_proto_mark_self_overlap);
    TCase *lines = suite_new_tcase(s, "lines", NULL, NULL, 0);
    tcase_add_test(lines, test_proto_lines_split_every_byte);
    tcase_add_test(lines, test_proto_lines_byte_by_byte);
    tcase_add_test(lines, test_proto_lines_keepalives_then_payload);
    tcase_add_test(lines, test_proto_lines_many_in_one_feed);
    tcase_add_test(lines, test_proto_lines_bound);
    tcase_add_test(lines, test_proto_lines_long_keepalive_run);
    tcase_add_test(lines, test_proto_printable);
    return s;
}

int main(void)
{
    return run_suite(test_proto_suite());
}
