/* test_stream_conn.c: unit tests of rdb/stream_conn.c over the fake
 * connection of tests/unit/fake: the test plays the primary from the serve
 * hook (each wait of the stream delivers the next piece, or nothing, or the
 * end of the connection). Covers both framings with the payload arriving in
 * pieces of every size, bytes that came with the header, the bytes after
 * the payload kept as extra, a broken EOF mark, a payload that ends early
 * or runs past its announced length, the connection closed or failing
 * mid-payload, the timeout, a read that would wait without a serve hook,
 * reads larger than the buffer, the byte counter and the read handler the
 * stream holds only while open. */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/str.h"
#include "rdb/stream_conn.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"

#define T_MARK "0123456789abcdef0123456789abcdef01234567"
#define T_AFTER "*1\r\n$4\r\nPING\r\n"

static loop *tl;
static conn *tc;
/* What the primary still has to send: the serve hook feeds it piece bytes
 * at a time; at its end, the connection closes when t_eof is set. */
static str t_wire;
static size_t t_sent, t_piece;
static int t_eof, t_serves;

static void setup(void)
{
    tl = loop_create(64);
    tc = fake_conn_create(tl);
    t_wire = str_empty();
    t_sent = 0;
    t_piece = 1;
    t_eof = 0;
    t_serves = 0;
}

static void teardown(void)
{
    conn_close(tc);
    str_free(t_wire);
    loop_destroy(tl);
}

static void test_serve(void *priv, int wait_ms)
{
    (void)priv;
    ck_assert_int_gt(wait_ms, 0);
    ck_assert_int_le(wait_ms, RDB_CONN_SERVE_MS);
    t_serves++;
    size_t left = str_len(t_wire) - t_sent;
    if (left == 0) {
        if (t_eof) fake_conn_feed_eof(tc);
        usleep(1000); /* a primary that says nothing */
        return;
    }
    size_t n = left < t_piece ? left : t_piece;
    fake_conn_feed(tc, t_wire + t_sent, n);
    t_sent += n;
}

/* n payload bytes that are not all alike. */
static str test_payload(size_t n)
{
    str p = str_new_len(NULL, n);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(i * 7 + i / 251);
    return p;
}

static void test_open(rdb_stream *s, long long size, const char *mark, const char *pre,
                      size_t pre_len)
{
    rdb_conn_opts opts = {
        .size = size, .mark = mark, .pre = pre, .pre_len = pre_len, .timeout_ms = 5000};
    rdb_stream_conn_reader(s, tc, &opts);
    rdb_stream_conn_set_serve(s, test_serve, NULL);
    ck_assert_int_eq(s->error, 0);
}

/* Reads the whole payload in reads of step bytes and compares it. */
static void test_read_all(rdb_stream *s, const str payload, size_t step)
{
    str got = str_new_len(NULL, str_len(payload));
    for (size_t at = 0; at < str_len(payload); at += step) {
        size_t n = str_len(payload) - at < step ? str_len(payload) - at : step;
        ck_assert_msg(rdb_stream_read(s, got + at, n) == 0, "%s", s->errmsg);
    }
    ck_assert(memcmp(got, payload, str_len(payload)) == 0);
    str_free(got);
}

static void test_expect_extra(rdb_stream *s, const char *want, size_t len)
{
    size_t n;
    const char *extra = rdb_stream_conn_extra(s, &n);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(extra, want, len) == 0);
}

START_TEST(test_stream_conn_length_framing_in_pieces)
{
    static const size_t pieces[] = {1, 2, 3, 7, 40, 41, 1000, 70000};
    static const size_t steps[] = {1, 9, 4096, 100000};
    str payload = test_payload(3000);
    for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
        for (size_t r = 0; r < sizeof(steps) / sizeof(steps[0]); r++) {
            rdb_stream s;
            str_clear(t_wire);
            t_wire = str_cat_len(t_wire, payload, str_len(payload));
            t_sent = 0;
            t_piece = pieces[p];
            test_open(&s, (long long)str_len(payload), NULL, NULL, 0);
            ck_assert_uint_eq(s.limit, str_len(payload));
            test_read_all(&s, payload, steps[r]);
            ck_assert_int_eq(rdb_stream_conn_finish(&s), 0);
            test_expect_extra(&s, "", 0);
            ck_assert_uint_eq(rdb_stream_conn_received(&s), str_len(payload));
            rdb_stream_close(&s);
        }
    }
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_mark_framing_in_pieces)
{
    str payload = test_payload(2000);
    for (size_t piece = 1; piece <= 130; piece++) {
        rdb_stream s;
        str_clear(t_wire);
        t_wire = str_cat_len(t_wire, payload, str_len(payload));
        t_wire = str_cat(t_wire, T_MARK T_AFTER);
        t_sent = 0;
        t_piece = piece;
        test_open(&s, -1, T_MARK, NULL, 0);
        ck_assert_uint_eq(s.limit, UINT64_MAX);
        test_read_all(&s, payload, 33);
        ck_assert_msg(rdb_stream_conn_finish(&s) == 0, "%s", s.errmsg);
        /* What followed the mark in the reads is the stream's; the rest is
         * still in the connection. */
        size_t n;
        const char *extra = rdb_stream_conn_extra(&s, &n);
        str after = str_new_len(extra, n);
        size_t left = fake_conn_unread(tc);
        char rest[64];
        ck_assert_uint_le(left, sizeof(rest));
        ck_assert_int_eq(conn_read(tc, rest, left ? left : 1), left ? (ssize_t)left : CONN_AGAIN);
        after = str_cat_len(after, rest, left);
        str wire_after = str_new(T_AFTER);
        ck_assert_uint_eq(str_len(after) + (str_len(t_wire) - t_sent), str_len(wire_after));
        ck_assert(memcmp(after, wire_after, str_len(after)) == 0);
        str_free(wire_after);
        str_free(after);
        rdb_stream_close(&s);
    }
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_bytes_with_the_header)
{
    /* "$<len>": what came with the header holds the whole payload and the
     * first command of the stream. */
    str payload = test_payload(100);
    str pre = str_cat(str_new_len(payload, str_len(payload)), T_AFTER);
    rdb_stream s;
    test_open(&s, 100, NULL, pre, str_len(pre));
    test_read_all(&s, payload, 100);
    ck_assert_int_eq(rdb_stream_conn_finish(&s), 0);
    test_expect_extra(&s, T_AFTER, strlen(T_AFTER));
    ck_assert_int_eq(t_serves, 0);
    rdb_stream_close(&s);
    /* "$EOF:": part of the payload with the header, the rest on the wire. */
    t_wire = str_cat_len(t_wire, payload + 60, 40);
    t_wire = str_cat(t_wire, T_MARK T_AFTER);
    t_piece = 1000;
    test_open(&s, -1, T_MARK, payload, 60);
    test_read_all(&s, payload, 25);
    ck_assert_int_eq(rdb_stream_conn_finish(&s), 0);
    test_expect_extra(&s, T_AFTER, strlen(T_AFTER));
    ck_assert_uint_eq(rdb_stream_conn_received(&s), str_len(t_wire) + 60);
    rdb_stream_close(&s);
    str_free(pre);
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_broken_mark)
{
    str payload = test_payload(500);
    t_wire = str_cat_len(t_wire, payload, str_len(payload));
    t_wire = str_cat(t_wire, "X123456789abcdef0123456789abcdef01234567");
    t_piece = 64;
    rdb_stream s;
    test_open(&s, -1, T_MARK, NULL, 0);
    test_read_all(&s, payload, 500);
    ck_assert_int_eq(rdb_stream_conn_finish(&s), -1);
    ck_assert_str_eq(s.errmsg, "Replication stream EOF marker is broken");
    rdb_stream_close(&s);
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_mark_cut_short)
{
    str payload = test_payload(500);
    t_wire = str_cat_len(t_wire, payload, str_len(payload));
    t_wire = str_cat_len(t_wire, T_MARK, 20);
    t_eof = 1;
    t_piece = 64;
    rdb_stream s;
    test_open(&s, -1, T_MARK, NULL, 0);
    test_read_all(&s, payload, 500);
    ck_assert_int_eq(rdb_stream_conn_finish(&s), -1);
    ck_assert(strstr(s.errmsg, "Connection lost after 520 bytes") != NULL);
    rdb_stream_close(&s);
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_eof_mid_payload)
{
    str payload = test_payload(1000);
    t_wire = str_cat_len(t_wire, payload, 600);
    t_eof = 1;
    t_piece = 100;
    rdb_stream s;
    char buf[1000];
    test_open(&s, 1000, NULL, NULL, 0);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 500), 0);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 500), -1);
    ck_assert(strstr(s.errmsg, "Connection lost after 600 bytes") != NULL);
    /* Sticky: everything after fails. */
    ck_assert_int_eq(rdb_stream_read(&s, buf, 1), -1);
    ck_assert_int_eq(rdb_stream_conn_finish(&s), -1);
    rdb_stream_close(&s);
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_length_mismatch)
{
    str payload = test_payload(300);
    char buf[400];
    rdb_stream s;
    /* The RDB needs more than the announced length. */
    t_wire = str_cat_len(t_wire, payload, 300);
    t_piece = 1000;
    test_open(&s, 200, NULL, NULL, 0);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 150), 0);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 100), -1);
    ck_assert_str_eq(s.errmsg, "The RDB goes on past the 200 bytes the primary announced");
    rdb_stream_close(&s);
    /* The RDB ends before the announced length. */
    str_clear(t_wire);
    t_wire = str_cat_len(t_wire, payload, 300);
    t_sent = 0;
    test_open(&s, 300, NULL, NULL, 0);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 250), 0);
    ck_assert_int_eq(rdb_stream_conn_finish(&s), -1);
    ck_assert_str_eq(s.errmsg, "The RDB ended after 250 of the 300 bytes the primary announced");
    rdb_stream_close(&s);
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_read_error)
{
    rdb_stream s;
    char buf[10];
    test_open(&s, 100, NULL, NULL, 0);
    fake_conn_fail_reads(tc, "Connection reset by peer");
    ck_assert_int_eq(rdb_stream_read(&s, buf, 10), -1);
    ck_assert_str_eq(s.errmsg,
                     "Error reading the RDB payload from the connection: Connection reset by peer");
    rdb_stream_close(&s);
}
END_TEST

START_TEST(test_stream_conn_timeout)
{
    rdb_stream s;
    char buf[10];
    rdb_conn_opts opts = {.size = 100, .timeout_ms = 30};
    rdb_stream_conn_reader(&s, tc, &opts);
    rdb_stream_conn_set_serve(&s, test_serve, NULL);
    long long start = loop_now_ms();
    ck_assert_int_eq(rdb_stream_read(&s, buf, 10), -1);
    ck_assert_int_ge(loop_now_ms() - start, 30);
    ck_assert(strstr(s.errmsg, "Timeout receiving the RDB payload: no data for ") != NULL);
    ck_assert_int_gt(t_serves, 0);
    rdb_stream_close(&s);
}
END_TEST

START_TEST(test_stream_conn_no_serve_hook)
{
    rdb_stream s;
    char buf[10];
    rdb_conn_opts opts = {.size = 100, .timeout_ms = 5000};
    rdb_stream_conn_reader(&s, tc, &opts);
    fake_conn_feed(tc, "abcde", 5);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 5), 0);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 5), -1);
    ck_assert_str_eq(s.errmsg, "The RDB payload is not all there yet and nothing waits for it");
    rdb_stream_close(&s);
}
END_TEST

START_TEST(test_stream_conn_large_reads)
{
    str payload = test_payload(300000);
    t_wire = str_cat_len(t_wire, payload, str_len(payload));
    t_wire = str_cat(t_wire, T_MARK);
    t_piece = 50000;
    rdb_stream s;
    test_open(&s, -1, T_MARK, NULL, 0);
    test_read_all(&s, payload, 200000);
    ck_assert_int_eq(rdb_stream_conn_finish(&s), 0);
    ck_assert_uint_eq(rdb_stream_conn_received(&s), str_len(t_wire));
    ck_assert_uint_eq(s.offset, str_len(payload));
    rdb_stream_close(&s);
    str_free(payload);
}
END_TEST

START_TEST(test_stream_conn_holds_the_read_handler_while_open)
{
    rdb_stream s;
    ck_assert_int_eq(conn_has_read_handler(tc), 0);
    test_open(&s, 10, NULL, NULL, 0);
    ck_assert_int_eq(conn_has_read_handler(tc), 1);
    ck_assert(fake_conn_events(tc) & LOOP_READABLE);
    fake_conn_fire(tc, LOOP_READABLE); /* wakes the loop, reads nothing */
    ck_assert_int_eq(rdb_stream_conn_received(&s), 0);
    long long before = rdb_stream_conn_last_io_ms(&s);
    fake_conn_feed(tc, "0123456789", 10);
    char buf[10];
    ck_assert_int_eq(rdb_stream_read(&s, buf, 10), 0);
    ck_assert_int_ge(rdb_stream_conn_last_io_ms(&s), before);
    rdb_stream_close(&s);
    ck_assert_int_eq(conn_has_read_handler(tc), 0);
    ck_assert_int_eq(rdb_stream_read(&s, buf, 1), -1); /* closed */
}
END_TEST

static Suite *stream_conn_suite(void)
{
    Suite *s = suite_create("stream_conn");
    TCase *tc_core = suite_new_tcase(s, "stream_conn", setup, teardown, 0);
    tcase_add_test(tc_core, test_stream_conn_length_framing_in_pieces);
    tcase_add_test(tc_core, test_stream_conn_mark_framing_in_pieces);
    tcase_add_test(tc_core, test_stream_conn_bytes_with_the_header);
    tcase_add_test(tc_core, test_stream_conn_broken_mark);
    tcase_add_test(tc_core, test_stream_conn_mark_cut_short);
    tcase_add_test(tc_core, test_stream_conn_eof_mid_payload);
    tcase_add_test(tc_core, test_stream_conn_length_mismatch);
    tcase_add_test(tc_core, test_stream_conn_read_error);
    tcase_add_test(tc_core, test_stream_conn_timeout);
    tcase_add_test(tc_core, test_stream_conn_no_serve_hook);
    tcase_add_test(tc_core, test_stream_conn_large_reads);
    tcase_add_test(tc_core, test_stream_conn_holds_the_read_handler_while_open);
    return s;
}

int main(void)
{
    return run_suite(stream_conn_suite());
}
