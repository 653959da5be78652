/* test_output.c: Check unit tests of the client read path and reply path
 * (net/client.c, net/output.c) driven through the fake connection of
 * tests/unit/fake: the fake itself, dispatch and reply bytes, pipelining,
 * split requests, replies in blocks, partial writes through the write
 * handler, protocol errors, close-after-reply, write errors, the output
 * buffer hard and soft limits, the query buffer limit and the idle timeout,
 * and what a replica's primary client needs: replies dropped but a forced
 * write, the stream byte counters, a protocol error closing it at once.
 * Every test frees all its clients so that LeakSanitizer stays quiet. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "net/client.h"
#include "net/output.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"

#define LIT(s) s, sizeof(s) - 1

#define TEST_OUTPUT_KB 1024
#define TEST_OUTPUT_MB (1024 * 1024)
#define TEST_OUTPUT_LOG_MAX 16

static loop *tl;
static client_settings ts;
static int test_output_dispatched;
static int test_output_freed;
static uint64_t test_output_freed_id;
static char test_output_log[TEST_OUTPUT_LOG_MAX];
static int test_output_nlog;

/* ---------------------------------------------------------------- helpers */

/* n bytes of a repeating alphabet. */
static str test_output_pattern(size_t n)
{
    str s = str_new_len(NULL, n);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 26);
    return s;
}

/* Appends the bulk reply that "big <n>" sends. */
static str test_output_big_bulk(str s, size_t n)
{
    str data = test_output_pattern(n);
    s = str_cat_fmt(s, "$%zu\r\n", n);
    s = str_cat_str(s, data);
    str_free(data);
    return str_cat_len(s, "\r\n", 2);
}

static void test_output_reply_big(client *c, size_t n)
{
    str data = test_output_pattern(n);
    reply_bulk_str(c, data);
    str_free(data);
}

/* echo <x>: bulk x; big <n>: bulk of n bytes; err: an error; quit: +OK
 * and close after the reply. */
static void test_output_dispatch(client *c)
{
    test_output_dispatched++;
    const char *cmd = c->argv[0];
    if (!strcmp(cmd, "echo") && c->argc == 2) {
        reply_bulk_str(c, c->argv[1]);
    } else if (!strcmp(cmd, "big") && c->argc == 2) {
        test_output_reply_big(c, strtoull(c->argv[1], NULL, 10));
    } else if (!strcmp(cmd, "err")) {
        reply_error(c, "ERR boom");
    } else if (!strcmp(cmd, "quit")) {
        reply_ok(c);
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    } else {
        reply_error(c, "ERR unknown command");
    }
}

static void test_output_on_free(client *c)
{
    test_output_freed++;
    test_output_freed_id = c->id;
}

static void test_output_setup(void)
{
    log_set_level(LOG_NOTHING);
    tl = loop_create(64);
    ck_assert_ptr_nonnull(tl);
    memset(&ts, 0, sizeof(ts));
    ts.maxclients = 100;
    ts.proto.max_bulk_len = 512LL * TEST_OUTPUT_MB;
    ts.proto.max_multibulk = TEST_OUTPUT_MB;
    memset(clients_stats(), 0, sizeof(client_stats));
    clients_init(tl, &ts, test_output_dispatch, test_output_on_free);
    clients_set_now(0);
    output_init(&ts);
    test_output_dispatched = 0;
    test_output_freed = 0;
    test_output_freed_id = 0;
    test_output_nlog = 0;
    test_output_log[0] = '\0';
}

static void test_output_teardown(void)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, clients_list())
    {
        client_free(list_entry(pos, client, all_node));
    }
    ck_assert_uint_eq(clients_count(), 0);
    loop_destroy(tl);
}

static client *test_output_client(void)
{
    client *c = client_create(fake_conn_create(tl));
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Appends the multibulk request "arg0 [arg1]" to s. */
static str test_output_request(str s, const char *arg0, const char *arg1)
{
    s = str_cat_fmt(s, "*%d\r\n$%zu\r\n%s\r\n", arg1 ? 2 : 1, strlen(arg0), arg0);
    if (arg1) s = str_cat_fmt(s, "$%zu\r\n%s\r\n", strlen(arg1), arg1);
    return s;
}

/* Queues s for the client to read, and frees s. */
static void test_output_feed_str(client *c, str s)
{
    fake_conn_feed(c->conn, s, str_len(s));
    str_free(s);
}

/* Feeds one request and lets the client read it. */
static void test_output_send(client *c, const char *arg0, const char *arg1)
{
    test_output_feed_str(c, test_output_request(str_empty(), arg0, arg1));
    fake_conn_fire(c->conn, LOOP_READABLE);
}

static void test_output_assert_written(conn *cn, const char *expect, size_t len)
{
    size_t n;
    const char *p = fake_conn_written(cn, &n);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(p, expect, len) == 0);
}

static void test_output_assert_written_str(conn *cn, const str expect)
{
    test_output_assert_written(cn, expect, str_len(expect));
}

static size_t test_output_written_len(conn *cn)
{
    size_t n;
    fake_conn_written(cn, &n);
    return n;
}

/* Frees the closed clients and checks that exactly c went. */
static void test_output_assert_freed(client *c)
{
    uint64_t id = c->id;
    unsigned long before = clients_count();
    ck_assert_int_eq(test_output_freed, 0);
    clients_free_closed();
    ck_assert_int_eq(test_output_freed, 1);
    ck_assert_uint_eq(test_output_freed_id, id);
    ck_assert_uint_eq(clients_count(), before - 1);
}

static void test_output_record(char ch)
{
    ck_assert_int_lt(test_output_nlog, TEST_OUTPUT_LOG_MAX - 1);
    test_output_log[test_output_nlog++] = ch;
    test_output_log[test_output_nlog] = '\0';
}

/* ---------------------------------------------------------------- fake */

START_TEST(test_output_fake_read_queue)
{
    conn *cn = fake_conn_create(tl);
    char buf[8];
    ck_assert_int_eq(conn_get_state(cn), CONN_STATE_CONNECTED);
    ck_assert_int_eq(conn_fd(cn), -1);
    ck_assert_str_eq(conn_type_name(cn), "fake");
    ck_assert_int_eq(conn_format_peer(cn, buf, sizeof(buf)), -1);
    ck_assert_int_eq(conn_read(cn, buf, sizeof(buf)), CONN_AGAIN);
    fake_conn_feed(cn, "abc", 3);
    ck_assert_uint_eq(fake_conn_unread(cn), 3);
    ck_assert_int_eq(conn_read(cn, buf, 2), 2);
    ck_assert(memcmp(buf, "ab", 2) == 0);
    ck_assert_int_eq(conn_read(cn, buf, sizeof(buf)), 1);
    ck_assert_int_eq(buf[0], 'c');
    ck_assert_int_eq(conn_read(cn, buf, sizeof(buf)), CONN_AGAIN);
    fake_conn_feed(cn, "d", 1);
    fake_conn_feed_eof(cn);
    ck_assert_int_eq(conn_read(cn, buf, sizeof(buf)), 1);
    ck_assert_int_eq(conn_read(cn, buf, sizeof(buf)), 0);
    ck_assert_int_eq(conn_get_state(cn), CONN_STATE_CLOSED);
    conn_close(cn);
}
END_TEST

START_TEST(test_output_fake_write_budget)
{
    conn *cn = fake_conn_create(tl);
    fake_conn_set_write_budget(cn, 5);
    ck_assert_int_eq(conn_write(cn, "hello world", 11), 5);
    ck_assert_int_eq(conn_write(cn, "x", 1), CONN_AGAIN);
    fake_conn_set_write_budget(cn, 4);
    struct iovec iov[3] = {{"ab", 2}, {"cd", 2}, {"ef", 2}};
    ck_assert_int_eq(conn_writev(cn, iov, 3), 4);
    test_output_assert_written(cn, "helloabcd", 9);
    fake_conn_clear_written(cn);
    ck_assert_uint_eq(test_output_written_len(cn), 0);
    fake_conn_set_write_budget(cn, SIZE_MAX);
    ck_assert_int_eq(conn_writev(cn, iov, 3), 6);
    ck_assert_int_eq(conn_write(cn, "gh", 2), 2);
    test_output_assert_written(cn, "abcdefgh", 8);
    conn_close(cn);
}
END_TEST

START_TEST(test_output_fake_fail_writes)
{
    conn *cn = fake_conn_create(tl);
    ck_assert_ptr_null(conn_last_error(cn));
    fake_conn_fail_writes(cn, "Broken pipe");
    ck_assert_int_eq(conn_write(cn, "x", 1), CONN_ERR);
    struct iovec iov[1] = {{"y", 1}};
    ck_assert_int_eq(conn_writev(cn, iov, 1), CONN_ERR);
    ck_assert_int_eq(conn_get_state(cn), CONN_STATE_ERROR);
    ck_assert_str_eq(conn_last_error(cn), "Broken pipe");
    ck_assert_uint_eq(test_output_written_len(cn), 0);
    conn_close(cn);
}
END_TEST

static void test_output_log_read(conn *cn)
{
    (void)cn;
    test_output_record('R');
}

static void test_output_log_write(conn *cn)
{
    (void)cn;
    test_output_record('W');
}

START_TEST(test_output_fake_events_and_order)
{
    conn *cn = fake_conn_create(tl);
    ck_assert_int_eq(fake_conn_events(cn), 0);
    conn_set_read_handler(cn, test_output_log_read);
    conn_set_write_handler(cn, test_output_log_write);
    ck_assert_int_eq(fake_conn_events(cn), LOOP_READABLE | LOOP_WRITABLE);
    fake_conn_fire(cn, LOOP_READABLE | LOOP_WRITABLE);
    ck_assert_str_eq(test_output_log, "RW");
    conn_set_write_handler_barrier(cn, test_output_log_write, 1);
    ck_assert_int_eq(fake_conn_events(cn), LOOP_READABLE | LOOP_WRITABLE | LOOP_BARRIER);
    fake_conn_fire(cn, LOOP_READABLE | LOOP_WRITABLE);
    ck_assert_str_eq(test_output_log, "RWWR");
    fake_conn_fire(cn, LOOP_WRITABLE);
    fake_conn_fire(cn, LOOP_READABLE);
    ck_assert_str_eq(test_output_log, "RWWRWR");
    conn_set_read_handler(cn, NULL);
    conn_set_write_handler(cn, NULL);
    ck_assert_int_eq(fake_conn_events(cn), 0);
    fake_conn_fire(cn, LOOP_READABLE | LOOP_WRITABLE);
    ck_assert_str_eq(test_output_log, "RWWRWR");
    conn_close(cn);
}
END_TEST

/* Closes its own conn, then checks the conn is still usable until it
 * returns (ASan reports a use after free otherwise). */
static void test_output_close_self(conn *cn)
{
    test_output_record('C');
    conn_close(cn);
    ck_assert_int_eq(conn_get_state(cn), CONN_STATE_CLOSED);
    ck_assert(!conn_has_read_handler(cn));
    ck_assert(!conn_has_write_handler(cn));
    ck_assert_int_eq(fake_conn_events(cn), 0);
}

START_TEST(test_output_fake_close_in_handler)
{
    conn *cn = fake_conn_create(tl);
    conn_set_read_handler(cn, test_output_close_self);
    conn_set_write_handler(cn, test_output_log_write);
    /* The write handler must not run once the read handler closed the conn;
     * the conn is released when fire returns (LeakSanitizer checks). */
    fake_conn_fire(cn, LOOP_READABLE | LOOP_WRITABLE);
    ck_assert_str_eq(test_output_log, "C");
}
END_TEST

/* ---------------------------------------------------------------- replies */

START_TEST(test_output_echo)
{
    client *c = test_output_client();
    static const char req[] = "*2\r\n$4\r\necho\r\n$5\r\nhello\r\n";
    fake_conn_feed(c->conn, req, sizeof(req) - 1);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert_int_eq(test_output_dispatched, 1);
    ck_assert_uint_eq(test_output_written_len(c->conn), 0);
    ck_assert(output_has_pending(c));
    output_flush_pending();
    test_output_assert_written(c->conn, "$5\r\nhello\r\n", 11);
    ck_assert(!output_has_pending(c));
    ck_assert(!conn_has_write_handler(c->conn));
    ck_assert_int_eq(clients_stats()->net_input_bytes, sizeof(req) - 1);
    ck_assert_int_eq(clients_stats()->net_output_bytes, 11);
}
END_TEST

START_TEST(test_output_pipelined_in_order)
{
    client *c = test_output_client();
    str req = test_output_request(str_empty(), "echo", "a");
    req = test_output_request(req, "err", NULL);
    req = test_output_request(req, "echo", "bb");
    test_output_feed_str(c, req);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert_int_eq(test_output_dispatched, 3);
    output_flush_pending();
    static const char want[] = "$1\r\na\r\n-ERR boom\r\n$2\r\nbb\r\n";
    test_output_assert_written(c->conn, want, sizeof(want) - 1);
    ck_assert_int_eq(clients_stats()->error_replies, 1);
}
END_TEST

START_TEST(test_output_split_request)
{
    client *c = test_output_client();
    static const char req[] = "*2\r\n$4\r\necho\r\n$5\r\nhello\r\n";
    size_t len = sizeof(req) - 1;
    for (size_t off = 0; off < len; off += 3) {
        ck_assert_int_eq(test_output_dispatched, 0);
        fake_conn_feed(c->conn, req + off, len - off < 3 ? len - off : 3);
        fake_conn_fire(c->conn, LOOP_READABLE);
    }
    ck_assert_int_eq(test_output_dispatched, 1);
    output_flush_pending();
    test_output_assert_written(c->conn, "$5\r\nhello\r\n", 11);
}
END_TEST

/* The reply buffer is allocated by the first reply and given back by
 * output_release_idle only once everything in it was written. */
START_TEST(test_output_buffer_lazy_and_released_when_idle)
{
    client *c = test_output_client();
    ck_assert_ptr_null(c->buf);
    test_output_send(c, "echo", "hello");
    ck_assert_ptr_nonnull(c->buf);
    output_release_idle(c); /* not written yet: kept */
    ck_assert_ptr_nonnull(c->buf);
    output_flush_pending();
    test_output_assert_written(c->conn, LIT("$5\r\nhello\r\n"));
    size_t before = alloc_used_memory();
    output_release_idle(c);
    ck_assert_ptr_null(c->buf);
    ck_assert_uint_ge(before - alloc_used_memory(), CLIENT_REPLY_CHUNK);
    test_output_send(c, "echo", "again");
    output_flush_pending();
    test_output_assert_written(c->conn, LIT("$5\r\nhello\r\n$5\r\nagain\r\n"));
}
END_TEST

START_TEST(test_output_big_reply_in_blocks)
{
    client *c = test_output_client();
    test_output_send(c, "big", "100000");
    ck_assert_uint_eq(c->bufpos, CLIENT_REPLY_CHUNK);
    ck_assert_uint_ge(output_block_count(c), 1);
    ck_assert_uint_gt(c->reply_bytes, 0);
    output_flush_pending();
    str want = test_output_big_bulk(str_empty(), 100000);
    test_output_assert_written_str(c->conn, want);
    str_free(want);
    ck_assert(!output_has_pending(c));
    ck_assert_uint_eq(output_block_count(c), 0);
    ck_assert_uint_eq(c->reply_bytes, 0);
    ck_assert(!conn_has_write_handler(c->conn));
}
END_TEST

/* More blocks than one writev takes: the writes loop until all is out. The
 * replies are more than a slice (CLIENT_OUTPUT_SLICE): the client yields,
 * reads nothing more meanwhile, and before-sleep runs the rest of its input,
 * a slice at a time. */
START_TEST(test_output_many_blocks_in_order)
{
    enum { N = 40, SIZE = 10000 };
    client *c = test_output_client();
    str req = str_empty(), want = str_empty();
    for (int i = 0; i < N; i++) {
        req = test_output_request(req, "big", "10000");
        want = test_output_big_bulk(want, SIZE);
    }
    test_output_feed_str(c, req);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert_int_lt(test_output_dispatched, N);
    ck_assert_int_ge(test_output_dispatched, CLIENT_OUTPUT_SLICE / SIZE);
    ck_assert(c->flags & CLIENT_YIELDED);
    ck_assert(!conn_has_read_handler(c->conn));
    while (c->flags & CLIENT_YIELDED) { /* each call runs one slice */
        int before = test_output_dispatched;
        clients_resume_yielded();
        ck_assert_int_gt(test_output_dispatched, before);
        ck_assert_int_le(test_output_dispatched - before, CLIENT_OUTPUT_SLICE / SIZE + 1);
    }
    ck_assert_int_eq(test_output_dispatched, N);
    ck_assert(conn_has_read_handler(c->conn));
    ck_assert_uint_gt(output_block_count(c), 16);
    output_flush_pending();
    test_output_assert_written_str(c->conn, want);
    str_free(want);
    ck_assert_uint_eq(output_block_count(c), 0);
}
END_TEST

START_TEST(test_output_partial_write_handler)
{
    client *c = test_output_client();
    fake_conn_set_write_budget(c->conn, 1000);
    test_output_send(c, "big", "50000");
    output_flush_pending();
    ck_assert_uint_eq(test_output_written_len(c->conn), 1000);
    ck_assert(conn_has_write_handler(c->conn));
    ck_assert_int_eq(fake_conn_events(c->conn) & LOOP_WRITABLE, LOOP_WRITABLE);
    /* A reply added meanwhile goes out after the pending bytes. */
    fake_conn_set_write_budget(c->conn, 0);
    test_output_send(c, "echo", "tail");
    output_flush_pending();
    ck_assert_uint_eq(test_output_written_len(c->conn), 1000);
    fake_conn_set_write_budget(c->conn, 20000);
    fake_conn_fire(c->conn, LOOP_WRITABLE);
    ck_assert_uint_eq(test_output_written_len(c->conn), 21000);
    ck_assert(conn_has_write_handler(c->conn));
    fake_conn_set_write_budget(c->conn, SIZE_MAX);
    fake_conn_fire(c->conn, LOOP_WRITABLE);
    str want = test_output_big_bulk(str_empty(), 50000);
    want = str_cat(want, "$4\r\ntail\r\n");
    test_output_assert_written_str(c->conn, want);
    str_free(want);
    ck_assert(!output_has_pending(c));
    ck_assert(!conn_has_write_handler(c->conn));
    ck_assert_int_eq(fake_conn_events(c->conn), LOOP_READABLE);
}
END_TEST

/* ---------------------------------------------------------------- closing */

START_TEST(test_output_protocol_error_closes)
{
    client *c = test_output_client();
    fake_conn_feed(c->conn, "*abc\r\n", 6);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert_int_eq(test_output_dispatched, 0);
    ck_assert(c->flags & CLIENT_CLOSE_AFTER_REPLY);
    output_flush_pending();
    static const char want[] = "-ERR Protocol error: invalid multibulk length\r\n";
    test_output_assert_written(c->conn, want, sizeof(want) - 1);
    ck_assert_int_eq(clients_stats()->error_replies, 1);
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    test_output_assert_freed(c);
}
END_TEST

/* Commands before the bad bytes are answered first. */
START_TEST(test_output_protocol_error_after_command)
{
    client *c = test_output_client();
    test_output_feed_str(c, test_output_request(str_empty(), "echo", "a"));
    fake_conn_feed(c->conn, "*1\r\nxyz\r\n", 10);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert_int_eq(test_output_dispatched, 1);
    output_flush_pending();
    static const char want[] = "$1\r\na\r\n-ERR Protocol error: expected '$', got 'x'\r\n";
    test_output_assert_written(c->conn, want, sizeof(want) - 1);
    test_output_assert_freed(c);
}
END_TEST

START_TEST(test_output_close_after_reply)
{
    client *c = test_output_client();
    str req = test_output_request(str_empty(), "quit", NULL);
    req = test_output_request(req, "echo", "never");
    test_output_feed_str(c, req);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert_int_eq(test_output_dispatched, 1);
    ck_assert(!(c->flags & CLIENT_CLOSE_ASAP));
    output_flush_pending();
    test_output_assert_written(c->conn, "+OK\r\n", 5);
    test_output_assert_freed(c);
}
END_TEST

START_TEST(test_output_close_after_reply_via_write_handler)
{
    client *c = test_output_client();
    fake_conn_set_write_budget(c->conn, 2);
    test_output_send(c, "quit", NULL);
    output_flush_pending();
    ck_assert(conn_has_write_handler(c->conn));
    ck_assert(!(c->flags & CLIENT_CLOSE_ASAP));
    fake_conn_set_write_budget(c->conn, SIZE_MAX);
    fake_conn_fire(c->conn, LOOP_WRITABLE);
    test_output_assert_written(c->conn, "+OK\r\n", 5);
    ck_assert(!conn_has_write_handler(c->conn));
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    test_output_assert_freed(c);
}
END_TEST

START_TEST(test_output_peer_eof_closes)
{
    client *c = test_output_client();
    fake_conn_feed_eof(c->conn);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    ck_assert(!conn_has_read_handler(c->conn));
    test_output_assert_freed(c);
}
END_TEST

START_TEST(test_output_write_error_closes)
{
    client *c = test_output_client();
    fake_conn_fail_writes(c->conn, "Connection reset by peer");
    test_output_send(c, "echo", "x");
    output_flush_pending();
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    ck_assert_int_eq(conn_get_state(c->conn), CONN_STATE_ERROR);
    ck_assert_str_eq(conn_last_error(c->conn), "Connection reset by peer");
    test_output_assert_freed(c);
}
END_TEST

START_TEST(test_output_write_error_in_handler_closes)
{
    client *c = test_output_client();
    fake_conn_set_write_budget(c->conn, 3);
    test_output_send(c, "echo", "hello");
    output_flush_pending();
    ck_assert(conn_has_write_handler(c->conn));
    fake_conn_fail_writes(c->conn, "Broken pipe");
    fake_conn_fire(c->conn, LOOP_WRITABLE);
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    test_output_assert_freed(c);
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(test_output_hard_limit_closes)
{
    ts.obuf[CLIENT_CLASS_NORMAL].hard = 64 * TEST_OUTPUT_KB;
    client *small = test_output_client();
    fake_conn_set_write_budget(small->conn, 0);
    test_output_send(small, "big", "40000");
    ck_assert(!(small->flags & CLIENT_CLOSE_ASAP));
    client *c = test_output_client();
    fake_conn_set_write_budget(c->conn, 0);
    test_output_send(c, "big", "200000");
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    ck_assert(!conn_has_read_handler(c->conn));
    ck_assert_int_eq(clients_stats()->client_output_buffer_limit_disconnections, 1);
    output_flush_pending();
    ck_assert_uint_eq(test_output_written_len(c->conn), 0);
    test_output_assert_freed(c);
    ck_assert(!(small->flags & CLIENT_CLOSE_ASAP));
}
END_TEST

/* The soft limit counts the reply blocks, not the fixed buffer (as Redis's
 * getClientOutputBufferMemoryUsage): this reply puts 40KB in blocks. */
static client *test_output_soft_client(void)
{
    ts.obuf[CLIENT_CLASS_NORMAL].soft = 32 * TEST_OUTPUT_KB;
    ts.obuf[CLIENT_CLASS_NORMAL].soft_seconds = 2;
    client *c = test_output_client();
    fake_conn_set_write_budget(c->conn, 0);
    test_output_send(c, "big", "57344"); /* CLIENT_REPLY_CHUNK + 40KB */
    ck_assert_uint_ge(c->reply_bytes, 40 * TEST_OUTPUT_KB);
    output_flush_pending();
    ck_assert(conn_has_write_handler(c->conn));
    return c;
}

static void test_output_assert_soft_closed(client *c)
{
    ck_assert_msg(c->flags & CLIENT_CLOSE_ASAP,
                  "client over the soft limit for its seconds was not closed");
    ck_assert_int_eq(clients_stats()->client_output_buffer_limit_disconnections, 1);
    test_output_assert_freed(c);
}

START_TEST(test_output_soft_limit_from_time_zero)
{
    client *c = test_output_soft_client();
    clients_cron(0, 10);
    ck_assert(!(c->flags & CLIENT_CLOSE_ASAP));
    clients_cron(2500, 10);
    test_output_assert_soft_closed(c);
}
END_TEST

START_TEST(test_output_soft_limit_closes_after_seconds)
{
    client *c = test_output_soft_client();
    clients_cron(1000, 10);
    clients_cron(2000, 10);
    ck_assert(!(c->flags & CLIENT_CLOSE_ASAP));
    clients_cron(3500, 10);
    test_output_assert_soft_closed(c);
}
END_TEST

/* Draining the output restarts the soft-limit clock. */
START_TEST(test_output_soft_limit_reset_by_drain)
{
    client *c = test_output_soft_client();
    clients_cron(1000, 10);
    fake_conn_set_write_budget(c->conn, SIZE_MAX);
    fake_conn_fire(c->conn, LOOP_WRITABLE);
    ck_assert(!output_has_pending(c));
    fake_conn_set_write_budget(c->conn, 0);
    test_output_send(c, "big", "57344");
    output_flush_pending();
    clients_cron(3500, 10);
    clients_cron(5000, 10);
    ck_assert(!(c->flags & CLIENT_CLOSE_ASAP));
    clients_cron(6000, 10);
    test_output_assert_soft_closed(c);
}
END_TEST

/* Reads until the client stopped reading or the fake is drained. */
static void test_output_read_all(client *c)
{
    for (int i = 0; i < 100 && fake_conn_unread(c->conn) > 0 && conn_has_read_handler(c->conn); i++)
        fake_conn_fire(c->conn, LOOP_READABLE);
}

static void test_output_feed_bytes(client *c, size_t n)
{
    str s = str_new_len(NULL, n);
    memset(s, 'x', n);
    test_output_feed_str(c, s);
}

START_TEST(test_output_query_buffer_limit_closes)
{
    ts.query_buffer_limit = TEST_OUTPUT_MB;
    client *c = test_output_client();
    static const char hdr[] = "*1\r\n$10485760\r\n";
    fake_conn_feed(c->conn, hdr, sizeof(hdr) - 1);
    test_output_feed_bytes(c, TEST_OUTPUT_MB / 2);
    test_output_read_all(c);
    ck_assert_uint_eq(fake_conn_unread(c->conn), 0);
    ck_assert(!(c->flags & CLIENT_CLOSE_ASAP));
    test_output_feed_bytes(c, TEST_OUTPUT_MB);
    test_output_read_all(c);
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    ck_assert_int_eq(test_output_dispatched, 0);
    ck_assert_int_eq(clients_stats()->client_query_buffer_limit_disconnections, 1);
    test_output_assert_freed(c);
}
END_TEST

START_TEST(test_output_idle_timeout)
{
    ts.timeout_seconds = 1;
    clients_set_now(1000);
    client *idle = test_output_client();
    client *busy = test_output_client();
    clients_set_now(2500);
    test_output_send(busy, "echo", "x");
    clients_cron(2600, 10);
    ck_assert(idle->flags & CLIENT_CLOSE_ASAP);
    ck_assert(!(busy->flags & CLIENT_CLOSE_ASAP));
    test_output_assert_freed(idle);
    ck_assert_uint_eq(clients_count(), 1);
}
END_TEST

/* ---------------------------------------------------------------- primary */

/* A replica's primary client: its commands run without replies, only a
 * forced write (REPLCONF ACK) goes out. */
START_TEST(test_output_primary_replies_dropped)
{
    client *c = test_output_client();
    c->flags |= CLIENT_PRIMARY;
    test_output_send(c, "echo", "a");
    test_output_send(c, "err", NULL);
    ck_assert_int_eq(test_output_dispatched, 2);
    ck_assert(!output_has_pending(c));
    reply_raw_force(c, "ack", 3);
    ck_assert(output_has_pending(c));
    output_flush_pending();
    test_output_assert_written(c->conn, "ack", 3);
}
END_TEST

/* The stream offset counters: bytes taken in, and bytes of the commands
 * parsed, which move only when a whole command has been parsed. */
START_TEST(test_output_stream_byte_counters)
{
    client *c = test_output_client();
    str req = test_output_request(str_empty(), "echo", "hello");
    size_t one = str_len(req);
    req = test_output_request(req, "echo", "x");
    size_t len = str_len(req);
    for (size_t off = 0; off < len; off += 3) {
        size_t n = len - off < 3 ? len - off : 3;
        fake_conn_feed(c->conn, req + off, n);
        fake_conn_fire(c->conn, LOOP_READABLE);
        ck_assert_int_eq(c->read_bytes, (long long)(off + n));
        ck_assert_int_eq(c->processed_bytes,
                         off + n < one ? 0 : (off + n < len ? (long long)one : (long long)len));
    }
    ck_assert_int_eq(test_output_dispatched, 2);
    client_feed_input(c, req, one);
    ck_assert_int_eq(test_output_dispatched, 3);
    ck_assert_int_eq(c->read_bytes, (long long)(len + one));
    ck_assert_int_eq(c->processed_bytes, (long long)(len + one));
    str_free(req);
}
END_TEST

/* No reply to wait for: a protocol error closes the primary at once. */
START_TEST(test_output_primary_protocol_error_closes)
{
    client *c = test_output_client();
    c->flags |= CLIENT_PRIMARY;
    fake_conn_feed(c->conn, "*abc\r\n", 6);
    fake_conn_fire(c->conn, LOOP_READABLE);
    ck_assert(c->flags & CLIENT_CLOSE_ASAP);
    output_flush_pending();
    ck_assert_uint_eq(test_output_written_len(c->conn), 0);
    test_output_assert_freed(c);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *test_output_suite(void)
{
    Suite *s = suite_create("output");
    TCase *fake = suite_new_tcase(s, "fake", test_output_setup, test_output_teardown, 30);
    tcase_add_test(fake, test_output_fake_read_queue);
    tcase_add_test(fake, test_output_fake_write_budget);
    tcase_add_test(fake, test_output_fake_fail_writes);
    tcase_add_test(fake, test_output_fake_events_and_order);
    tcase_add_test(fake, test_output_fake_close_in_handler);
    TCase *replies = suite_new_tcase(s, "replies", test_output_setup, test_output_teardown, 30);
    tcase_add_test(replies, test_output_echo);
    tcase_add_test(replies, test_output_pipelined_in_order);
    tcase_add_test(replies, test_output_split_request);
    tcase_add_test(replies, test_output_big_reply_in_blocks);
    tcase_add_test(replies, test_output_buffer_lazy_and_released_when_idle);
    tcase_add_test(replies, test_output_many_blocks_in_order);
    tcase_add_test(replies, test_output_partial_write_handler);
    TCase *closing = suite_new_tcase(s, "closing", test_output_setup, test_output_teardown, 30);
    tcase_add_test(closing, test_output_protocol_error_closes);
    tcase_add_test(closing, test_output_protocol_error_after_command);
    tcase_add_test(closing, test_output_close_after_reply);
    tcase_add_test(closing, test_output_close_after_reply_via_write_handler);
    tcase_add_test(closing, test_output_peer_eof_closes);
    tcase_add_test(closing, test_output_write_error_closes);
    tcase_add_test(closing, test_output_write_error_in_handler_closes);
    TCase *primary = suite_new_tcase(s, "primary", test_output_setup, test_output_teardown, 30);
    tcase_add_test(primary, test_output_primary_replies_dropped);
    tcase_add_test(primary, test_output_stream_byte_counters);
    tcase_add_test(primary, test_output_primary_protocol_error_closes);
    TCase *limits = suite_new_tcase(s, "limits", test_output_setup, test_output_teardown, 30);
    tcase_add_test(limits, test_output_hard_limit_closes);
    tcase_add_test(limits, test_output_soft_limit_from_time_zero);
    tcase_add_test(limits, test_output_soft_limit_closes_after_seconds);
    tcase_add_test(limits, test_output_soft_limit_reset_by_drain);
    tcase_add_test(limits, test_output_query_buffer_limit_closes);
    tcase_add_test(limits, test_output_idle_timeout);
    return s;
}

int main(void)
{
    return run_suite(test_output_suite());
}
