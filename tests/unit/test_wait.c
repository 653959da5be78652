/* test_wait.c: Check unit tests of repl/wait.c and the client blocking it
 * uses, on a struct repl of the test's own with clients on the fake
 * connection and a clock the test sets: a client's write offset (woff)
 * follows its own writes only; WAIT answers at once when enough replicas
 * acknowledged (and inside EXEC-like nesting it never blocks), else blocks
 * the client, holds its pipelined requests, sends one GETACK before sleeping
 * and answers once an ACK is enough, or with the count at its timeout; a
 * blocked client that is freed is forgotten; WAIT's argument errors; the
 * good-replica count (ONLINE and within the lag) and the NOREPLICAS gate,
 * which lets reads and the primary client through; min_slaves_good_slaves
 * in INFO only while both directives are set. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/call.h"
#include "core/str.h"
#include "net/client.h"
#include "net/output.h"
#include "repl/primary.h"
#include "repl/wait.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"
#include "tests/unit/fake/primary_world.h"

#define TEST_WAIT_GETACK "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"

static primary_world tw;
static repl tr;
static long long test_wait_ms;

/* ---------------------------------------------------------------- helpers */

static long long test_wait_clock(void) { return test_wait_ms; }
static long long test_wait_offset(void) { return tr.offset; }

static void test_wait_on_free(client *c)
{
    wait_client_freed(&tr, c);
    primary_forget(&tr, c);
}

static void test_wait_feed(int db, int argc, str *argv, void *data)
{
    (void)data;
    feed_command(&tr, db, argc, argv);
}

static int test_wait_gate(client *c, const command *cmd, void *data)
{
    (void)data;
    return wait_gate(&tr, c, cmd);
}

/* A write that only propagates itself, and a read. */
static void test_wait_write_proc(client *c, const command *cmd)
{
    (void)cmd;
    propagate_current(c);
    reply_ok(c);
}

static void test_wait_read_proc(client *c, const command *cmd)
{
    (void)cmd;
    reply_ok(c);
}

/* Runs WAIT nested inside another command, as EXEC would. */
static void test_wait_nest_proc(client *c, const command *cmd)
{
    (void)cmd;
    const command *wait = command_lookup("wait", 4);
    call_command(c, wait);
}

static command test_wait_commands[] = {
    {.name = "twrite", .proc = test_wait_write_proc, .arity = -1, .flags = CMD_WRITE},
    {.name = "tread", .proc = test_wait_read_proc, .arity = -1, .flags = CMD_READONLY},
    {.name = "tnest", .proc = test_wait_nest_proc, .arity = 3},
    {0},
};

static void test_wait_setup(void)
{
    primary_world_setup(&tw, &tr, test_wait_on_free, test_wait_clock);
    wait_init(&tr);
    tr.wait.max_lag_s = 10;
    test_wait_ms = 1000000;
    repl_cmd_register(&tr);
    wait_register_commands(&tr);
    command_register_all(test_wait_commands);
    call_add_propagate_hook(test_wait_feed, NULL);
    call_add_gate(test_wait_gate, NULL);
    call_set_stream_offset(test_wait_offset);
}

static void test_wait_teardown(void)
{
    primary_world_free_clients();
    ck_assert_uint_eq(tr.wait.waiters.count, 0);
    ck_assert_uint_eq(clients_blocked_count(), 0);
    primary_free(&tr);
    loop_destroy(tw.loop);
}

static client *test_wait_client(void) { return primary_world_client(&tw); }

static void test_wait_raw(client *c, const char *bytes)
{
    primary_world_feed(c, bytes, strlen(bytes));
}

static void test_wait_expect(client *c, const char *expect) { primary_world_expect(c, expect); }

/* The before-sleep steps of the server, in its order. */
static void test_wait_before_sleep(void)
{
    wait_release(&tr);
    clients_process_unblocked();
    wait_send_getack(&tr);
    output_flush_pending();
}

/* An ONLINE replica that acknowledged offset ack. */
static primary_replica *test_wait_replica(long long ack)
{
    client *c = test_wait_client();
    primary_replica *p = primary_get(&tr, c);
    p->ack_offset = ack;
    p->ack_ms = test_wait_ms;
    primary_set_state(p, PRIMARY_ONLINE, "test");
    return p;
}

static void test_wait_ack(primary_replica *p, long long offset)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", offset);
    SEND(p->c, "REPLCONF", "ACK", buf);
}

/* ------------------------------------------------------------------ WAIT */

START_TEST(test_wait_woff_follows_own_writes)
{
    client *a = test_wait_client(), *b = test_wait_client();
    test_wait_replica(0);
    SEND(a, "tread");
    ck_assert_int_eq(a->woff, 0);
    SEND(a, "twrite", "x");
    ck_assert_int_gt(tr.offset, 0);
    ck_assert_int_eq(a->woff, tr.offset);
    long long mine = a->woff;
    SEND(b, "twrite", "y");
    ck_assert_int_eq(a->woff, mine);
    ck_assert_int_eq(b->woff, tr.offset);
    SEND(a, "tread");
    ck_assert_int_eq(a->woff, mine);
}
END_TEST

START_TEST(test_wait_answers_at_once_when_enough)
{
    client *c = test_wait_client();
    SEND(c, "WAIT", "0", "0");
    test_wait_expect(c, ":0\r\n");
    primary_replica *r1 = test_wait_replica(0);
    test_wait_replica(0);
    SEND(c, "WAIT", "1", "0"); /* no write yet: every ONLINE replica counts */
    test_wait_expect(c, ":2\r\n");
    SEND(c, "twrite", "x");
    test_wait_expect(c, "+OK\r\n");
    r1->ack_offset = tr.offset;
    SEND(c, "WAIT", "1", "0");
    test_wait_expect(c, ":1\r\n");
    SEND(c, "tnest", "2", "0"); /* nested: never blocks */
    test_wait_expect(c, ":1\r\n");
    ck_assert(!(c->flags & CLIENT_BLOCKED));
    /* A replica still syncing is not counted. */
    primary_replica *p = primary_get(&tr, test_wait_client());
    primary_set_state(p, PRIMARY_WAIT_BGSAVE_START, "test");
    p->ack_offset = tr.offset;
    SEND(c, "WAIT", "2", "1");
    ck_assert(c->flags & CLIENT_BLOCKED);
    test_wait_ms += 1;
    test_wait_before_sleep();
    test_wait_expect(c, ":1\r\n");
}
END_TEST

START_TEST(test_wait_blocks_until_the_ack)
{
    client *c = test_wait_client();
    primary_replica *r1 = test_wait_replica(0), *r2 = test_wait_replica(0);
    SEND(c, "twrite", "x");
    test_wait_expect(c, "+OK\r\n");
    long long woff = c->woff;
    /* WAIT, with a request pipelined behind it. */
    test_wait_raw(c, "*3\r\n$4\r\nWAIT\r\n$1\r\n2\r\n$1\r\n0\r\n*1\r\n$5\r\ntread\r\n");
    ck_assert(c->flags & CLIENT_BLOCKED);
    ck_assert_uint_eq(clients_blocked_count(), 1);
    test_wait_before_sleep();
    test_wait_expect(c, "");
    /* One GETACK through the stream, counted in the offset. */
    size_t n;
    const char *p = fake_conn_written(r1->c->conn, &n);
    ck_assert_uint_ge(n, strlen(TEST_WAIT_GETACK));
    ck_assert(memcmp(p + n - strlen(TEST_WAIT_GETACK), TEST_WAIT_GETACK,
                     strlen(TEST_WAIT_GETACK)) == 0);
    ck_assert_int_eq(tr.offset, woff + (long long)strlen(TEST_WAIT_GETACK));
    fake_conn_clear_written(r1->c->conn);
    test_wait_before_sleep(); /* no second GETACK */
    fake_conn_written(r1->c->conn, &n);
    ck_assert_uint_eq(n, 0);
    test_wait_ack(r1, woff);
    test_wait_before_sleep();
    test_wait_expect(c, "");
    test_wait_ack(r2, woff - 1); /* not far enough */
    test_wait_before_sleep();
    test_wait_expect(c, "");
    test_wait_ack(r2, tr.offset);
    test_wait_before_sleep();
    test_wait_expect(c, ":2\r\n+OK\r\n");
    ck_assert(!(c->flags & CLIENT_BLOCKED));
    ck_assert_uint_eq(clients_blocked_count(), 0);
}
END_TEST

START_TEST(test_wait_times_out_with_the_count)
{
    client *c = test_wait_client();
    primary_replica *r1 = test_wait_replica(0);
    test_wait_replica(0);
    SEND(c, "twrite", "x");
    test_wait_expect(c, "+OK\r\n");
    test_wait_ack(r1, c->woff);
    SEND(c, "WAIT", "2", "250");
    ck_assert(c->flags & CLIENT_BLOCKED);
    test_wait_ms += 249;
    test_wait_before_sleep();
    test_wait_expect(c, "");
    test_wait_ms += 1;
    test_wait_before_sleep();
    test_wait_expect(c, ":1\r\n");
    /* A timeout too large for the clock waits forever, like 0. */
    SEND(c, "WAIT", "2", "9223372036854775807");
    test_wait_ms += 1000000000;
    test_wait_before_sleep();
    test_wait_expect(c, "");
    ck_assert(c->flags & CLIENT_BLOCKED);
}
END_TEST

START_TEST(test_wait_freed_while_blocked_is_forgotten)
{
    client *c = test_wait_client(), *other = test_wait_client();
    primary_replica *r1 = test_wait_replica(0);
    SEND(c, "twrite", "x");
    SEND(other, "twrite", "y");
    SEND(c, "WAIT", "1", "0");
    SEND(other, "WAIT", "1", "0");
    ck_assert_uint_eq(tr.wait.waiters.count, 2);
    client_free(c);
    ck_assert_uint_eq(tr.wait.waiters.count, 1);
    ck_assert_uint_eq(clients_blocked_count(), 1);
    test_wait_ack(r1, tr.offset);
    test_wait_before_sleep();
    test_wait_expect(other, "+OK\r\n:1\r\n");
    /* A replica that goes away while a client waits on it. */
    SEND(other, "twrite", "z");
    SEND(other, "WAIT", "1", "0");
    client_free(r1->c);
    test_wait_before_sleep();
    ck_assert(other->flags & CLIENT_BLOCKED);
    wait_unblock_all(&tr);
    test_wait_before_sleep();
    test_wait_expect(other, "+OK\r\n-UNBLOCKED force unblock from blocking operation, instance "
                            "state changed (master -> replica?)\r\n");
    ck_assert(other->flags & CLIENT_CLOSE_AFTER_REPLY);
}
END_TEST

START_TEST(test_wait_argument_errors)
{
    client *c = test_wait_client();
    SEND(c, "WAIT", "x", "0");
    test_wait_expect(c, "-ERR value is not an integer or out of range\r\n");
    SEND(c, "WAIT", "1", "1.5");
    test_wait_expect(c, "-ERR timeout is not an integer or out of range\r\n");
    SEND(c, "WAIT", "1", "-1");
    test_wait_expect(c, "-ERR timeout is negative\r\n");
    SEND(c, "WAIT", "-1", "0");
    test_wait_expect(c, ":0\r\n");
}
END_TEST

/* ---------------------------------------------------------- min-replicas */

START_TEST(test_wait_good_replicas_and_the_gate)
{
    client *c = test_wait_client();
    tr.wait.min_to_write = 2;
    tr.wait.max_lag_s = 3;
    SEND(c, "twrite", "x");
    test_wait_expect(c, "-NOREPLICAS Not enough good replicas to write.\r\n");
    SEND(c, "tread");
    test_wait_expect(c, "+OK\r\n");
    primary_replica *r1 = test_wait_replica(0);
    ck_assert_int_eq(tr.wait.good, 1); /* counted as it went ONLINE */
    primary_replica *r2 = test_wait_replica(0);
    ck_assert_int_eq(tr.wait.good, 2);
    SEND(c, "twrite", "x");
    test_wait_expect(c, "+OK\r\n");
    /* r2 silent past the lag, r1 not: the cron's count. */
    test_wait_ms += 4000;
    test_wait_ack(r1, 1);
    wait_refresh_good(&tr, test_wait_ms);
    ck_assert_int_eq(tr.wait.good, 1);
    SEND(c, "twrite", "x");
    test_wait_expect(c, "-NOREPLICAS Not enough good replicas to write.\r\n");
    /* The primary client is never refused. */
    client *primary = test_wait_client();
    primary->flags |= CLIENT_PRIMARY;
    SEND(primary, "twrite", "x");
    ck_assert_int_eq(primary->woff, tr.offset);
    test_wait_ack(r2, 1);
    wait_refresh_good(&tr, test_wait_ms);
    ck_assert_int_eq(tr.wait.good, 2);
    str info = wait_info(&tr, str_empty());
    ck_assert_str_eq(info, "min_slaves_good_slaves:2\r\n");
    str_free(info);
    /* Leaving: counted at once when its record goes. */
    primary_set_state(r2, PRIMARY_NONE, "test");
    ck_assert_int_eq(tr.wait.good, 1);
    /* Either directive at 0 turns the gate and the INFO line off. */
    tr.wait.max_lag_s = 0;
    SEND(c, "twrite", "x");
    test_wait_expect(c, "+OK\r\n");
    info = wait_info(&tr, str_empty());
    ck_assert_uint_eq(str_len(info), 0);
    str_free(info);
}
END_TEST

static Suite *wait_suite(void)
{
    Suite *s = suite_create("wait");
    TCase *tc = suite_new_tcase(s, "wait", test_wait_setup, test_wait_teardown, 0);
    tcase_add_test(tc, test_wait_woff_follows_own_writes);
    tcase_add_test(tc, test_wait_answers_at_once_when_enough);
    tcase_add_test(tc, test_wait_blocks_until_the_ack);
    tcase_add_test(tc, test_wait_times_out_with_the_count);
    tcase_add_test(tc, test_wait_freed_while_blocked_is_forgotten);
    tcase_add_test(tc, test_wait_argument_errors);
    tcase_add_test(tc, test_wait_good_replicas_and_the_gate);
    return s;
}

int main(void) { return run_suite(wait_suite()); }
