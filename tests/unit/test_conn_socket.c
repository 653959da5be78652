/* test_conn_socket.c: Check unit tests of the plain socket connection type
 * (net/conn.c, net/conn_socket.c) with the listener (net/listener.c) on
 * loopback: both ends live on one event loop, which the tests drive until a
 * condition holds (bounded by TEST_CONN_BOUND_MS, never fixed sleeps).
 * Covers connect and accept, echo, a large write that meets CONN_AGAIN,
 * closing from inside handlers, the peer closing, a refused connect, the
 * address helpers and the write-before-read barrier. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/listener.h"
#include "net/sock.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/conn_io.h"
#include "tests/unit/fake/loop_until.h"

#define TEST_CONN_BOUND_MS 10000
#define TEST_CONN_LOG_MAX 16
#define TEST_CONN_BIG (8 * 1024 * 1024)

/* Processes events until cond holds or the bound passes. */
#define TEST_CONN_RUN_UNTIL(cond) LOOP_RUN_UNTIL(tl, cond, TEST_CONN_BOUND_MS)

static loop *tl;
static listener *tls;
static int tport;
static conn *test_conn_client; /* the connecting end */
static conn *test_conn_server; /* the accepted end */
static int test_conn_connects;
static enum conn_state test_conn_connect_state;
static int test_conn_accepts;
static enum conn_state test_conn_accept_state;
static int test_conn_accept_done;
static int test_conn_closed_in_handler;
static int test_conn_ready;
static char test_conn_log[TEST_CONN_LOG_MAX];
static int test_conn_nlog;

/* ---------------------------------------------------------------- fixture */

static void test_conn_on_accept(conn *c, void *data)
{
    (void)data;
    test_conn_accepts++;
    test_conn_accept_state = conn_get_state(c);
    ck_assert_ptr_null(test_conn_server);
    test_conn_server = c;
}

/* The listener on a free port; retried in case another process takes the
 * port between the probe and the bind. */
static void test_conn_listen(void)
{
    char err[SOCK_ERR_LEN] = "";
    char *addrs[] = {"127.0.0.1"};
    for (int tries = 0; tries < 10 && !tls; tries++) {
        tport = conn_io_free_port();
        tls = listener_create_tcp(tl, 1, addrs, tport, 16, test_conn_on_accept, NULL, err);
    }
    ck_assert_msg(tls != NULL, "listener: %s", err);
    ck_assert_int_eq(listener_fd_count(tls), 1);
}

static void test_conn_setup(void)
{
    tl = loop_create(1024);
    ck_assert_ptr_nonnull(tl);
    tls = NULL;
    test_conn_client = test_conn_server = NULL;
    test_conn_connects = test_conn_accepts = test_conn_accept_done = 0;
    conn_io_reset();
    test_conn_closed_in_handler = test_conn_ready = 0;
    test_conn_nlog = 0;
    test_conn_log[0] = '\0';
    test_conn_listen();
}

static void test_conn_teardown(void)
{
    if (test_conn_client) conn_close(test_conn_client);
    if (test_conn_server) conn_close(test_conn_server);
    listener_close(tls);
    conn_io_free();
    loop_destroy(tl);
}

/* ---------------------------------------------------------------- handlers */

static void test_conn_on_connect(conn *c)
{
    test_conn_connects++;
    test_conn_connect_state = conn_get_state(c);
}

static void test_conn_on_accept_done(conn *c)
{
    test_conn_accept_done++;
    ck_assert_int_eq(conn_get_state(c), CONN_STATE_CONNECTED);
}

/* Reads, then closes its own conn and keeps using it until it returns:
 * the memory must outlive the handler. */
static void test_conn_close_on_read(conn *c)
{
    char buf[256];
    ck_assert_int_gt(conn_read(c, buf, sizeof(buf)), 0);
    conn_close(c);
    ck_assert_int_eq(conn_get_state(c), CONN_STATE_CLOSED);
    ck_assert(!conn_has_read_handler(c));
    ck_assert(!conn_has_write_handler(c));
    test_conn_server = NULL;
    test_conn_closed_in_handler = 1;
}

static void test_conn_close_on_connect(conn *c)
{
    test_conn_on_connect(c);
    conn_close(c);
    ck_assert_int_eq(conn_get_state(c), CONN_STATE_CLOSED);
    test_conn_client = NULL;
    test_conn_closed_in_handler = 1;
}

static void test_conn_record(char ch)
{
    ck_assert_int_lt(test_conn_nlog, TEST_CONN_LOG_MAX - 1);
    test_conn_log[test_conn_nlog++] = ch;
    test_conn_log[test_conn_nlog] = '\0';
}

/* Notes that input is waiting without reading it. */
static void test_conn_probe(conn *c)
{
    test_conn_ready = 1;
    conn_set_read_handler(c, NULL);
}

static void test_conn_log_read(conn *c)
{
    char buf[16];
    ck_assert_int_gt(conn_read(c, buf, sizeof(buf)), 0);
    test_conn_record('R');
    conn_set_read_handler(c, NULL);
}

static void test_conn_log_write(conn *c)
{
    test_conn_record('W');
    conn_set_write_handler(c, NULL);
}

/* ---------------------------------------------------------------- helpers */

/* Connects a client to the listener and completes the accept. */
static void test_conn_pair(void)
{
    test_conn_client = conn_create_socket(tl);
    ck_assert_int_eq(conn_get_state(test_conn_client), CONN_STATE_NONE);
    ck_assert_int_eq(conn_connect(test_conn_client, "127.0.0.1", tport, NULL, test_conn_on_connect),
                     0);
    ck_assert_int_eq(conn_get_state(test_conn_client), CONN_STATE_CONNECTING);
    TEST_CONN_RUN_UNTIL(test_conn_connects == 1 && test_conn_server);
    ck_assert_int_eq(test_conn_connects, 1);
    ck_assert_int_eq(test_conn_connect_state, CONN_STATE_CONNECTED);
    ck_assert_int_eq(conn_get_state(test_conn_client), CONN_STATE_CONNECTED);
    ck_assert_int_eq(test_conn_accepts, 1);
    ck_assert_int_eq(test_conn_accept_state, CONN_STATE_ACCEPTING);
    ck_assert_int_eq(conn_accept(test_conn_server, test_conn_on_accept_done), 0);
    ck_assert_int_eq(test_conn_accept_done, 1);
    ck_assert_int_eq(conn_get_state(test_conn_server), CONN_STATE_CONNECTED);
}

/* "127.0.0.1:<port>" of an address text; the port. */
static int test_conn_loopback_port(const char *addr)
{
    ck_assert_msg(!strncmp(addr, "127.0.0.1:", 10), "address %s", addr);
    int port = atoi(addr + 10);
    ck_assert_int_gt(port, 0);
    return port;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_conn_connect_and_accept)
{
    test_conn_pair();
    ck_assert_str_eq(conn_type_name(test_conn_client), "tcp");
    ck_assert_ptr_null(conn_last_error(test_conn_client));
    ck_assert_int_ge(conn_fd(test_conn_client), 0);
    ck_assert_int_ge(conn_fd(test_conn_server), 0);
    /* The connect handler runs once only. */
    for (int i = 0; i < 5; i++)
        loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT);
    ck_assert_int_eq(test_conn_connects, 1);
    ck_assert_int_eq(test_conn_accepts, 1);
}
END_TEST

START_TEST(test_conn_echo_round_trip)
{
    test_conn_pair();
    conn_set_read_handler(test_conn_server, conn_io_echo);
    conn_set_read_handler(test_conn_client, conn_io_collect);
    ck_assert(conn_has_read_handler(test_conn_client));
    ck_assert_int_eq(conn_write(test_conn_client, "hello world", 11), 11);
    TEST_CONN_RUN_UNTIL(str_len(cio.in) >= 11);
    ck_assert_str_eq(cio.in, "hello world");
}
END_TEST

START_TEST(test_conn_large_write)
{
    cio.out = str_new_len(NULL, TEST_CONN_BIG);
    for (size_t i = 0; i < TEST_CONN_BIG; i++)
        cio.out[i] = (char)(i * 7 + i / 4096);
    test_conn_pair();
    conn_set_read_handler(test_conn_server, conn_io_collect);
    conn_io_push(test_conn_client);
    ck_assert(cio.saw_again);
    ck_assert(conn_has_write_handler(test_conn_client));
    TEST_CONN_RUN_UNTIL(str_len(cio.in) >= TEST_CONN_BIG);
    ck_assert_uint_eq(cio.out_off, TEST_CONN_BIG);
    ck_assert_uint_eq(str_len(cio.in), TEST_CONN_BIG);
    ck_assert(memcmp(cio.in, cio.out, TEST_CONN_BIG) == 0);
    ck_assert(!conn_has_write_handler(test_conn_client));
}
END_TEST

START_TEST(test_conn_close_inside_read_handler)
{
    test_conn_pair();
    conn_set_read_handler(test_conn_server, test_conn_close_on_read);
    conn_set_read_handler(test_conn_client, conn_io_collect);
    ck_assert_int_eq(conn_write(test_conn_client, "bye", 3), 3);
    TEST_CONN_RUN_UNTIL(cio.eof);
    ck_assert(test_conn_closed_in_handler);
    ck_assert_ptr_null(test_conn_server);
    ck_assert(cio.eof);
    ck_assert_int_eq(cio.eof_state, CONN_STATE_CLOSED);
}
END_TEST

START_TEST(test_conn_close_inside_connect_handler)
{
    test_conn_client = conn_create_socket(tl);
    ck_assert_int_eq(
        conn_connect(test_conn_client, "127.0.0.1", tport, NULL, test_conn_close_on_connect), 0);
    TEST_CONN_RUN_UNTIL(test_conn_connects == 1 && test_conn_server);
    ck_assert(test_conn_closed_in_handler);
    ck_assert_ptr_null(test_conn_client);
    ck_assert_int_eq(test_conn_connect_state, CONN_STATE_CONNECTED);
    ck_assert_int_eq(conn_accept(test_conn_server, NULL), 0);
    conn_set_read_handler(test_conn_server, conn_io_collect);
    TEST_CONN_RUN_UNTIL(cio.eof);
    ck_assert(cio.eof);
}
END_TEST

START_TEST(test_conn_peer_closes)
{
    test_conn_pair();
    conn_set_read_handler(test_conn_server, conn_io_collect);
    ck_assert_int_eq(conn_write(test_conn_client, "last", 4), 4);
    conn_close(test_conn_client);
    test_conn_client = NULL;
    TEST_CONN_RUN_UNTIL(cio.eof);
    ck_assert(cio.eof);
    ck_assert_str_eq(cio.in, "last");
    ck_assert_int_eq(cio.eof_state, CONN_STATE_CLOSED);
    ck_assert_int_eq(conn_get_state(test_conn_server), CONN_STATE_CLOSED);
}
END_TEST

START_TEST(test_conn_connect_refused)
{
    int port = conn_io_free_port();
    test_conn_client = conn_create_socket(tl);
    ck_assert_int_eq(conn_connect(test_conn_client, "127.0.0.1", port, NULL, test_conn_on_connect),
                     0);
    TEST_CONN_RUN_UNTIL(test_conn_connects == 1);
    ck_assert_int_eq(test_conn_connects, 1);
    ck_assert_int_eq(test_conn_connect_state, CONN_STATE_ERROR);
    ck_assert_int_eq(conn_get_state(test_conn_client), CONN_STATE_ERROR);
    ck_assert_ptr_nonnull(conn_last_error(test_conn_client));
    for (int i = 0; i < 5; i++)
        loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT);
    ck_assert_int_eq(test_conn_connects, 1);
}
END_TEST

START_TEST(test_conn_addresses)
{
    char cl[64], cp[64], sl[64], sp[64], ip[SOCK_IP_LEN];
    test_conn_pair();
    ck_assert_int_gt(conn_format_local(test_conn_client, cl, sizeof(cl)), 0);
    ck_assert_int_gt(conn_format_peer(test_conn_client, cp, sizeof(cp)), 0);
    ck_assert_int_gt(conn_format_local(test_conn_server, sl, sizeof(sl)), 0);
    ck_assert_int_gt(conn_format_peer(test_conn_server, sp, sizeof(sp)), 0);
    int client_port = test_conn_loopback_port(cl);
    ck_assert_int_eq(test_conn_loopback_port(cp), tport);
    ck_assert_int_eq(test_conn_loopback_port(sl), tport);
    ck_assert_str_eq(sp, cl);
    int port = 0;
    ck_assert_int_eq(conn_peer_ip(test_conn_server, ip, sizeof(ip), &port), 0);
    ck_assert_str_eq(ip, "127.0.0.1");
    ck_assert_int_eq(port, client_port);
    ck_assert(!conn_is_unix(test_conn_server));
    ck_assert_int_eq(conn_enable_nodelay(test_conn_server), 0);
    ck_assert_int_eq(conn_keepalive(test_conn_server, 300), 0);
}
END_TEST

/* Makes input wait on the client while its socket is writable, then sets
 * both handlers so that one loop iteration sees both directions ready. */
static void test_conn_both_ready(int barrier)
{
    test_conn_pair();
    conn_set_read_handler(test_conn_client, test_conn_probe);
    ck_assert_int_eq(conn_write(test_conn_server, "x", 1), 1);
    TEST_CONN_RUN_UNTIL(test_conn_ready);
    ck_assert(test_conn_ready);
    conn_set_read_handler(test_conn_client, test_conn_log_read);
    conn_set_write_handler_barrier(test_conn_client, test_conn_log_write, barrier);
    loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT);
}

START_TEST(test_conn_read_before_write)
{
    test_conn_both_ready(0);
    ck_assert_str_eq(test_conn_log, "RW");
}
END_TEST

START_TEST(test_conn_barrier_write_before_read)
{
    test_conn_both_ready(1);
    ck_assert_str_eq(test_conn_log, "WR");
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *test_conn_suite(void)
{
    Suite *s = suite_create("conn_socket");
    TCase *tc = suite_new_tcase(s, "loopback", test_conn_setup, test_conn_teardown, 30);
    tcase_add_test(tc, test_conn_connect_and_accept);
    tcase_add_test(tc, test_conn_echo_round_trip);
    tcase_add_test(tc, test_conn_large_write);
    tcase_add_test(tc, test_conn_close_inside_read_handler);
    tcase_add_test(tc, test_conn_close_inside_connect_handler);
    tcase_add_test(tc, test_conn_peer_closes);
    tcase_add_test(tc, test_conn_connect_refused);
    tcase_add_test(tc, test_conn_addresses);
    tcase_add_test(tc, test_conn_read_before_write);
    tcase_add_test(tc, test_conn_barrier_write_before_read);
    return s;
}

int main(void)
{
    return run_suite(test_conn_suite());
}
