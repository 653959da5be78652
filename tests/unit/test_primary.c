/* test_primary.c: Check unit tests of replication's primary side
 * (repl/primary.c, repl/feed.c, repl/psync.c, repl/repl_cmd.c) on a struct repl of the
 * test's own, with clients on the fake connection of tests/unit/fake and a
 * clock the test sets: the stream's bytes (SELECT only when the db changes,
 * PING without one) and offset, which replicas get the stream and when
 * (held from the sync until ONLINE, never for rdb-only ones), the dump file
 * sent in chunks through partial writes, the held stream after it, sharing
 * a running save (a real child that only waits), the cron's keep-alives,
 * PINGs and timeouts (and a held replica's protocol error), REPLCONF,
 * ROLE, SYNC/PSYNC errors, INFO lines, PSYNC's statistics, partial
 * resyncs (+CONTINUE and the missing bytes, refusals outside the backlog
 * or past the second ID's offset), the backlog's ttl and resize,
 * forgetting a freed replica; and the server's state of repl.h: the IDs and offset at
 * start and as the replica role moves them, and the RDB aux fields. No test
 * starts a BGSAVE. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/call.h"
#include "core/config.h"
#include "core/log.h"
#include "core/str.h"
#include "net/client.h"
#include "net/output.h"
#include "net/resp_write.h"
#include "rdb/child.h"
#include "repl/primary.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"
#include "tests/unit/fake/primary_world.h"

#define TEST_PRIMARY_PING "*1\r\n$4\r\nPING\r\n"

static primary_world tw;
static repl tr;
static long long test_primary_ms;
static char test_primary_path[64];

/* ---------------------------------------------------------------- helpers */

static long long test_primary_clock(void) { return test_primary_ms; }

static void test_primary_on_free(client *c) { primary_forget(&tr, c); }

static void test_primary_setup(void)
{
    primary_world_setup(&tw, &tr, test_primary_on_free, test_primary_clock);
    test_primary_ms = 1000000;
    repl_cmd_register(&tr);
    test_primary_path[0] = '\0';
}

static void test_primary_teardown(void)
{
    primary_world_free_clients();
    ck_assert_uint_eq(primary_count(&tr), 0);
    primary_free(&tr);
    if (test_primary_path[0]) unlink(test_primary_path);
    loop_destroy(tw.loop);
}

static client *test_primary_client(void) { return primary_world_client(&tw); }

static str test_primary_take(client *c) { return primary_world_take(c); }

static void test_primary_expect(client *c, const char *expect) { primary_world_expect(c, expect); }

/* A client announced as ip:port through REPLCONF. */
static primary_replica *test_primary_announced(const char *ip, const char *port)
{
    client *c = test_primary_client();
    SEND(c, "REPLCONF", "listening-port", port, "ip-address", ip);
    test_primary_expect(c, "+OK\r\n");
    primary_replica *p = primary_find(&tr, c);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->state, PRIMARY_NONE);
    return p;
}

/* An announced replica in WAIT_BGSAVE_END at the current offset, as a
 * started BGSAVE leaves it; the +FULLRESYNC line is taken. */
static primary_replica *test_primary_waiting(const char *port)
{
    primary_replica *p = test_primary_announced("10.0.0.1", port);
    primary_set_state(p, PRIMARY_WAIT_BGSAVE_START, "test");
    ck_assert_int_eq(primary_setup_full_resync(&tr, p, tr.offset, "test"), 0);
    char line[96];
    snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", tr.replid, tr.offset);
    test_primary_expect(p->c, line);
    return p;
}

static void test_primary_feed(int db, const char *a0, const char *a1, const char *a2)
{
    str argv[3] = {str_new(a0), a1 ? str_new(a1) : NULL, a2 ? str_new(a2) : NULL};
    int argc = a2 ? 3 : a1 ? 2 : 1;
    feed_command(&tr, db, argc, argv);
    for (int i = 0; i < argc; i++) str_free(argv[i]);
}

/* A dump file of n bytes (a repeating pattern); returns its content. */
static str test_primary_dump(size_t n)
{
    snprintf(test_primary_path, sizeof(test_primary_path), "/tmp/test_primary_%d.rdb",
             (int)getpid());
    str data = str_new_len(NULL, n);
    for (size_t i = 0; i < n; i++) data[i] = (char)('A' + i % 23);
    FILE *f = fopen(test_primary_path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return data;
}

/* Fires writable events until p leaves SEND_BULK (bounded). */
static void test_primary_drain_bulk(primary_replica *p)
{
    for (int i = 0; i < 10000 && p->state == PRIMARY_SEND_BULK; i++) {
        if (p->c->flags & CLIENT_CLOSE_ASAP) break;
        fake_conn_fire(p->c->conn, LOOP_WRITABLE);
    }
}

/* A child that only waits to be killed: a BGSAVE to share. */
static int test_primary_idle_child(void *priv)
{
    (void)priv;
    sleep(60);
    return 0;
}

static void test_primary_start_child(void)
{
    str err = NULL;
    ck_assert_int_eq(child_start(CHILD_RDB, test_primary_idle_child, NULL, &err), 0);
}

/* -------------------------------------------------------------- the feed */

START_TEST(test_primary_feed_select_only_when_the_db_changes)
{
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    primary_set_state(p, PRIMARY_ONLINE, "test");
    test_primary_feed(0, "SET", "a", "b");
    test_primary_feed(0, "INCR", "n", NULL);
    test_primary_feed(3, "DEL", "a", NULL);
    feed_ping(&tr);
    const char *expect = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                         "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n"
                         "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
                         "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
                         "*2\r\n$3\r\nDEL\r\n$1\r\na\r\n" TEST_PRIMARY_PING;
    test_primary_expect(p->c, expect);
    ck_assert_int_eq(tr.offset, (long long)strlen(expect));
    ck_assert_int_eq(tr.stream_db, 3);
}
END_TEST

START_TEST(test_primary_feed_nothing_without_replicas)
{
    test_primary_feed(0, "SET", "a", "b");
    test_primary_announced("10.0.0.1", "7001"); /* REPLCONF alone makes no replica */
    test_primary_feed(0, "SET", "a", "b");
    feed_ping(&tr);
    ck_assert_int_eq(tr.offset, 0);
    ck_assert_int_eq(tr.stream_db, -1);
    primary_replica *p = test_primary_announced("10.0.0.2", "7002");
    primary_set_state(p, PRIMARY_ONLINE, "test");
    tr.replica_mode = 1; /* following a primary: its stream arrives made */
    test_primary_feed(0, "SET", "a", "b");
    ck_assert_int_eq(tr.offset, 0);
}
END_TEST

START_TEST(test_primary_feed_skips_waiting_and_rdb_only_replicas)
{
    primary_replica *start = test_primary_announced("10.0.0.1", "7001");
    primary_set_state(start, PRIMARY_WAIT_BGSAVE_START, "test");
    primary_replica *rdb_only = test_primary_announced("10.0.0.2", "7002");
    rdb_only->rdb_only = 1;
    primary_set_state(rdb_only, PRIMARY_ONLINE, "test");
    test_primary_feed(1, "SET", "a", "b");
    ck_assert_int_gt(tr.offset, 0);
    ck_assert_uint_eq(start->c->bufpos, 0);
    ck_assert_uint_eq(rdb_only->c->bufpos, 0);
    test_primary_expect(start->c, "");
    test_primary_expect(rdb_only->c, "");
}
END_TEST

START_TEST(test_primary_feed_full_resync_forces_a_select)
{
    primary_replica *a = test_primary_announced("10.0.0.1", "7001");
    primary_set_state(a, PRIMARY_ONLINE, "test");
    test_primary_feed(0, "SET", "a", "b");
    test_primary_waiting("7002");
    ck_assert_int_eq(tr.stream_db, -1);
    str got = test_primary_take(a->c);
    str_free(got);
    test_primary_feed(0, "SET", "c", "d");
    test_primary_expect(a->c, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                              "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\nd\r\n");
}
END_TEST

/* ------------------------------------------------------- the full sync */

START_TEST(test_primary_sync_holds_the_stream_until_the_rdb_is_sent)
{
    primary_replica *p = test_primary_waiting("7001");
    ck_assert(p->c->flags & CLIENT_REPLICA);
    ck_assert(p->c->flags & CLIENT_HOLD_OUTPUT);
    test_primary_feed(0, "SET", "a", "b");
    const char *stream = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                         "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n";
    test_primary_expect(p->c, ""); /* held */
    str dump = test_primary_dump(40000);
    primary_save_done(&tr, 1, test_primary_path);
    ck_assert_int_eq(p->state, PRIMARY_SEND_BULK);
    /* The socket takes a few bytes at a time: every step resumes. */
    str got = str_empty();
    for (int i = 0; i < 10000 && p->state == PRIMARY_SEND_BULK; i++) {
        fake_conn_set_write_budget(p->c->conn, 1000 + (size_t)i % 7);
        fake_conn_fire(p->c->conn, LOOP_WRITABLE);
        str part = test_primary_take(p->c);
        got = str_cat_str(got, part);
        str_free(part);
    }
    ck_assert_int_eq(p->state, PRIMARY_ONLINE);
    ck_assert(!(p->c->flags & CLIENT_HOLD_OUTPUT));
    /* The held stream follows, through the client's own write path. */
    fake_conn_set_write_budget(p->c->conn, SIZE_MAX);
    fake_conn_fire(p->c->conn, LOOP_WRITABLE);
    str rest = test_primary_take(p->c);
    got = str_cat_str(got, rest);
    str expect = str_cat_fmt(str_empty(), "$40000\r\n");
    expect = str_cat_str(expect, dump);
    expect = str_cat(expect, stream);
    ck_assert_uint_eq(str_len(got), str_len(expect));
    ck_assert(memcmp(got, expect, str_len(expect)) == 0);
    ck_assert_int_eq(p->ack_ms, test_primary_ms);
    str_free(got);
    str_free(rest);
    str_free(expect);
    str_free(dump);
}
END_TEST

START_TEST(test_primary_rdb_only_replica_is_closed_after_the_rdb)
{
    primary_replica *p = test_primary_waiting("7001");
    p->rdb_only = 1;
    test_primary_feed(0, "SET", "a", "b");
    str dump = test_primary_dump(100);
    primary_save_done(&tr, 1, test_primary_path);
    test_primary_drain_bulk(p);
    ck_assert(p->c->flags & CLIENT_CLOSE_ASAP);
    ck_assert_int_eq(p->state, PRIMARY_SEND_BULK);
    size_t n;
    const char *w = fake_conn_written(p->c->conn, &n);
    ck_assert_uint_eq(n, 6 + 100);
    ck_assert(memcmp(w, "$100\r\n", 6) == 0);
    ck_assert(memcmp(w + n - 100, dump, 100) == 0);
    clients_free_closed();
    ck_assert_uint_eq(primary_count(&tr), 0);
    str_free(dump);
}
END_TEST

START_TEST(test_primary_failed_save_drops_the_waiting_replicas)
{
    primary_replica *p = test_primary_waiting("7001");
    primary_replica *q = test_primary_waiting("7002");
    primary_save_done(&tr, 0, "/nonexistent/dump.rdb");
    ck_assert(p->c->flags & CLIENT_CLOSE_ASAP);
    ck_assert(q->c->flags & CLIENT_CLOSE_ASAP);
    clients_free_closed();
    ck_assert_uint_eq(primary_count(&tr), 0);
    p = test_primary_waiting("7003");
    primary_save_done(&tr, 1, "/nonexistent/dump.rdb"); /* can't open it */
    ck_assert(p->c->flags & CLIENT_CLOSE_ASAP);
}
END_TEST

START_TEST(test_primary_write_error_during_the_bulk_closes)
{
    primary_replica *p = test_primary_waiting("7001");
    str dump = test_primary_dump(50000);
    primary_save_done(&tr, 1, test_primary_path);
    fake_conn_fire(p->c->conn, LOOP_WRITABLE);
    fake_conn_fail_writes(p->c->conn, "Broken pipe");
    test_primary_drain_bulk(p);
    ck_assert(p->c->flags & CLIENT_CLOSE_ASAP);
    ck_assert(!conn_has_write_handler(p->c->conn));
    str_free(dump);
}
END_TEST

START_TEST(test_primary_a_replica_shares_a_running_save)
{
    primary_replica *a = test_primary_waiting("7001");
    test_primary_feed(2, "SET", "a", "b");
    long long initial = a->initial_offset;
    test_primary_start_child();
    primary_replica *b = test_primary_announced("10.0.0.2", "7002");
    primary_full_sync(&tr, b);
    ck_assert_int_eq(b->state, PRIMARY_WAIT_BGSAVE_END);
    ck_assert_int_eq(b->initial_offset, initial);
    char line[96];
    snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", tr.replid, initial);
    test_primary_expect(b->c, line);
    /* b got the stream a holds since the fork, and gets what follows. */
    test_primary_feed(2, "DEL", "a", NULL);
    ck_assert_uint_eq(b->c->bufpos, a->c->bufpos);
    ck_assert(memcmp(b->c->buf, a->c->buf, a->c->bufpos) == 0);
    child_kill();
}
END_TEST

START_TEST(test_primary_no_sharing_without_a_replica_waiting_on_the_save)
{
    primary_replica *rdb_only = test_primary_waiting("7001");
    rdb_only->rdb_only = 1;
    test_primary_start_child();
    primary_replica *b = test_primary_announced("10.0.0.2", "7002");
    primary_full_sync(&tr, b);
    ck_assert_int_eq(b->state, PRIMARY_WAIT_BGSAVE_START);
    test_primary_expect(b->c, "");
    /* Keep-alives while it waits; the cron starts nothing while a child runs. */
    primary_cron(&tr, test_primary_ms);
    test_primary_expect(b->c, "\n");
    test_primary_expect(rdb_only->c, "\n");
    ck_assert_int_eq(b->state, PRIMARY_WAIT_BGSAVE_START);
    child_kill();
}
END_TEST

/* -------------------------------------------------------------- the cron */

START_TEST(test_primary_cron_pings_through_the_stream)
{
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    primary_set_state(p, PRIMARY_ONLINE, "test");
    p->ack_ms = test_primary_ms;
    primary_cron(&tr, test_primary_ms);
    test_primary_expect(p->c, TEST_PRIMARY_PING);
    primary_cron(&tr, test_primary_ms + 9999);
    test_primary_expect(p->c, "");
    primary_cron(&tr, test_primary_ms + 10000);
    test_primary_expect(p->c, TEST_PRIMARY_PING);
    ck_assert_int_eq(tr.offset, 2 * (long long)strlen(TEST_PRIMARY_PING));
}
END_TEST

START_TEST(test_primary_cron_drops_a_silent_replica)
{
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    primary_replica *old = test_primary_announced("10.0.0.2", "7002");
    primary_set_state(p, PRIMARY_ONLINE, "test");
    primary_set_state(old, PRIMARY_ONLINE, "test");
    old->pre_psync = 1; /* SYNC: never acknowledges */
    p->ack_ms = old->ack_ms = test_primary_ms;
    test_primary_ms += 30000;
    SEND(p->c, "REPLCONF", "ACK", "123");
    test_primary_expect(p->c, "");
    ck_assert_int_eq(p->ack_offset, 123);
    ck_assert_int_eq(p->ack_ms, test_primary_ms);
    SEND(p->c, "REPLCONF", "ACK", "100"); /* never backwards */
    ck_assert_int_eq(p->ack_offset, 123);
    primary_cron(&tr, test_primary_ms + 60000);
    ck_assert(!(p->c->flags & CLIENT_CLOSE_ASAP));
    primary_cron(&tr, test_primary_ms + 60001);
    ck_assert(p->c->flags & CLIENT_CLOSE_ASAP);
    ck_assert(!(old->c->flags & CLIENT_CLOSE_ASAP));
    clients_free_closed();
    ck_assert_uint_eq(primary_count(&tr), 1);
}
END_TEST

START_TEST(test_primary_cron_closes_a_held_replica_after_a_protocol_error)
{
    primary_replica *p = test_primary_waiting("7001");
    test_primary_feed(0, "SET", "a", "b");
    fake_conn_feed(p->c->conn, "*1\r\n$x\r\n", 8);
    fake_conn_fire(p->c->conn, LOOP_READABLE);
    ck_assert(p->c->flags & CLIENT_CLOSE_AFTER_REPLY);
    ck_assert(!(p->c->flags & CLIENT_CLOSE_ASAP));
    primary_cron(&tr, test_primary_ms);
    ck_assert(p->c->flags & CLIENT_CLOSE_ASAP);
}
END_TEST

/* ---------------------------------------------------------- the commands */

START_TEST(test_primary_replconf_replies)
{
    client *c = test_primary_client();
    SEND(c, "REPLCONF", "listening-port");
    test_primary_expect(c, "-ERR syntax error\r\n");
    SEND(c, "REPLCONF", "listening-port", "x");
    test_primary_expect(c, "-ERR value is not an integer or out of range\r\n");
    SEND(c, "REPLCONF", "rdb-only", "2");
    test_primary_expect(c, "-ERR value is out of range, value must between 0 and 1\r\n");
    SEND(c, "REPLCONF", "nosuch", "1");
    test_primary_expect(c, "-ERR Unrecognized REPLCONF option: nosuch\r\n");
    SEND(c, "REPLCONF", "capa", "eof", "capa", "psync2", "capa", "other", "rdb-only", "1");
    test_primary_expect(c, "+OK\r\n");
    primary_replica *p = primary_find(&tr, c);
    ck_assert_int_eq(p->capa, PRIMARY_CAPA_EOF | PRIMARY_CAPA_PSYNC2);
    ck_assert_int_eq(p->rdb_only, 1);
    char ip[300];
    memset(ip, 'x', 256);
    ip[256] = '\0';
    SEND(c, "REPLCONF", "ip-address", ip);
    test_primary_expect(c, "-ERR REPLCONF ip-address provided by replica instance is too long: "
                           "256 bytes\r\n");
    /* ACK from a client that is no replica, and GETACK: no reply, no effect. */
    SEND(c, "REPLCONF", "ACK", "5");
    SEND(c, "REPLCONF", "GETACK", "*");
    test_primary_expect(c, "");
    ck_assert_int_eq(p->ack_offset, 0);
    ck_assert_int_eq(p->state, PRIMARY_NONE);
}
END_TEST

START_TEST(test_primary_sync_errors)
{
    client *c = test_primary_client();
    SEND(c, "PSYNC", "?", "x");
    test_primary_expect(c, "-ERR value is not an integer or out of range\r\n");
    ck_assert_int_eq(primary_find(&tr, c)->state, PRIMARY_NONE);
    /* With replies still unwritten, the stream could not start clean. */
    reply_simple(c, "PONG");
    SEND(c, "SYNC");
    test_primary_expect(c, "+PONG\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n");
    /* A replica asking again is ignored. */
    primary_replica *p = test_primary_waiting("7001");
    SEND(p->c, "PSYNC", "?", "-1");
    ck_assert_int_eq(p->state, PRIMARY_WAIT_BGSAVE_END);
    test_primary_expect(p->c, "");
    ck_assert_int_eq(tr.stats.sync_full, 0);
}
END_TEST

START_TEST(test_primary_role_lists_online_replicas)
{
    client *c = test_primary_client();
    primary_replica *a = test_primary_announced("10.0.0.1", "7001");
    primary_replica *b = test_primary_announced("10.0.0.2", "7002");
    test_primary_announced("10.0.0.3", "7003"); /* not a replica */
    primary_set_state(a, PRIMARY_ONLINE, "test");
    primary_set_state(b, PRIMARY_WAIT_BGSAVE_START, "test");
    a->ack_offset = 42;
    tr.offset = 99;
    SEND(c, "ROLE");
    test_primary_expect(c, "*3\r\n$6\r\nmaster\r\n:99\r\n*1\r\n"
                           "*3\r\n$8\r\n10.0.0.1\r\n$4\r\n7001\r\n$2\r\n42\r\n");
}
END_TEST

START_TEST(test_primary_info_lines)
{
    primary_replica *a = test_primary_announced("10.0.0.1", "7001");
    primary_replica *b = test_primary_waiting("7002");
    client *anon = test_primary_client(); /* no address known: not listed */
    primary_set_state(a, PRIMARY_ONLINE, "test");
    primary_set_state(primary_get(&tr, anon), PRIMARY_WAIT_BGSAVE_START, "test");
    a->ack_offset = 7;
    a->ack_ms = test_primary_ms - 3500;
    (void)b;
    str s = primary_info(&tr, str_empty(), test_primary_ms);
    ck_assert_str_eq(s, "connected_slaves:3\r\n"
                        "slave0:ip=10.0.0.1,port=7001,state=online,offset=7,lag=3\r\n"
                        "slave1:ip=10.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=0\r\n");
    str_free(s);
}
END_TEST

START_TEST(test_primary_refused_psync_statistics)
{
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    ck_assert_int_eq(psync_try_partial(&tr, p, "?", -1), -1);
    ck_assert_int_eq(tr.stats.sync_partial_err, 0);
    ck_assert_int_eq(psync_try_partial(&tr, p, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 10), -1);
    ck_assert_int_eq(psync_try_partial(&tr, p, tr.replid, 1), -1); /* no backlog */
    ck_assert_int_eq(tr.stats.sync_partial_err, 2);
    ck_assert_int_eq(p->state, PRIMARY_NONE);
}
END_TEST

/* ------------------------------------------------------ partial resync */

/* A backlog of size bytes, as the first full sync makes it. */
static void test_primary_backlog(long long size)
{
    tr.backlog_size = size;
    char old[REPL_ID_LEN + 1];
    memcpy(old, tr.replid, sizeof(old));
    psync_create_backlog(&tr);
    ck_assert_str_ne(tr.replid, old);
    ck_assert_int_eq(backlog_first_offset(tr.backlog), tr.offset + 1);
}

START_TEST(test_primary_psync_continue_sends_the_missing_bytes)
{
    test_primary_backlog(1024);
    test_primary_feed(0, "SET", "k", "v"); /* fed: the backlog exists */
    long long next = tr.offset + 1;
    test_primary_feed(0, "DEL", "k", NULL);
    client *c = test_primary_client();
    SEND(c, "REPLCONF", "listening-port", "7001", "capa", "psync2");
    test_primary_expect(c, "+OK\r\n");
    char off[24], expect[128];
    snprintf(off, sizeof(off), "%lld", next);
    SEND(c, "PSYNC", tr.replid, off);
    snprintf(expect, sizeof(expect), "+CONTINUE %s\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n",
             tr.replid);
    test_primary_expect(c, expect);
    primary_replica *p = primary_find(&tr, c);
    ck_assert_int_eq(p->state, PRIMARY_ONLINE);
    ck_assert_int_eq(tr.stats.sync_partial_ok, 1);
    ck_assert_int_eq(tr.stats.sync_full, 0);
    test_primary_feed(0, "INCR", "n", NULL); /* the stream flows on */
    test_primary_expect(c, "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
}
END_TEST

START_TEST(test_primary_psync_without_psync2_and_with_nothing_missing)
{
    test_primary_backlog(1024);
    test_primary_feed(3, "SET", "k", "v");
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    ck_assert_int_eq(psync_try_partial(&tr, p, tr.replid, tr.offset + 1), 0);
    test_primary_expect(p->c, "+CONTINUE\r\n");
    ck_assert_int_eq(p->state, PRIMARY_ONLINE);
}
END_TEST

START_TEST(test_primary_psync_refused_outside_the_backlog)
{
    test_primary_backlog(16);
    for (int i = 0; i < 4; i++) test_primary_feed(0, "SET", "key", "value"); /* 16 bytes left */
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    long long first = backlog_first_offset(tr.backlog);
    ck_assert_int_eq(psync_try_partial(&tr, p, tr.replid, first - 1), -1);
    ck_assert_int_eq(psync_try_partial(&tr, p, tr.replid, tr.offset + 2), -1);
    ck_assert_int_eq(tr.stats.sync_partial_err, 2);
    ck_assert_int_eq(psync_try_partial(&tr, p, tr.replid, first), 0);
    ck_assert_int_eq(tr.stats.sync_partial_ok, 1);
}
END_TEST

START_TEST(test_primary_psync_second_id_up_to_its_offset)
{
    test_primary_backlog(1024);
    test_primary_feed(0, "SET", "k", "v");
    memcpy(tr.replid2, tr.replid, sizeof(tr.replid2));
    tr.second_offset = tr.offset + 1;
    psync_new_replid(&tr);
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    ck_assert_int_eq(psync_try_partial(&tr, p, tr.replid2, tr.second_offset + 1), -1);
    ck_assert_int_eq(psync_try_partial(&tr, p, tr.replid2, tr.second_offset), 0);
}
END_TEST

START_TEST(test_primary_backlog_ttl_frees_it_without_replicas)
{
    test_primary_backlog(1024);
    tr.backlog_ttl_s = 2;
    char old[REPL_ID_LEN + 1];
    memcpy(old, tr.replid, sizeof(old));
    primary_cron(&tr, test_primary_ms + 2000);
    ck_assert_ptr_nonnull(tr.backlog);
    primary_replica *p = test_primary_waiting("7001"); /* a replica keeps it */
    primary_cron(&tr, test_primary_ms + 5000);
    ck_assert_ptr_nonnull(tr.backlog);
    client_free(p->c);
    primary_cron(&tr, test_primary_ms + 7000);
    ck_assert_ptr_nonnull(tr.backlog);
    primary_cron(&tr, test_primary_ms + 7001);
    ck_assert_ptr_null(tr.backlog);
    ck_assert_str_ne(tr.replid, old);
}
END_TEST

START_TEST(test_primary_backlog_size_is_applied)
{
    const char *err = NULL;
    test_primary_backlog(1024 * 1024);
    test_primary_feed(0, "SET", "k", "v");
    tr.backlog_size = 100;
    ck_assert_int_eq(psync_apply_backlog_size(&tr, &err), 0);
    ck_assert_int_eq(tr.backlog_size, 16 * 1024); /* Redis's minimum */
    ck_assert_uint_eq(backlog_size(tr.backlog), 16 * 1024);
    ck_assert_int_eq(backlog_histlen(tr.backlog), tr.offset);
}
END_TEST

START_TEST(test_primary_freed_replica_is_forgotten)
{
    primary_replica *p = test_primary_waiting("7001");
    str dump = test_primary_dump(100000);
    primary_save_done(&tr, 1, test_primary_path);
    fake_conn_fire(p->c->conn, LOOP_WRITABLE);
    ck_assert_int_eq(p->state, PRIMARY_SEND_BULK);
    ck_assert_uint_eq(primary_count(&tr), 1);
    client_free(p->c); /* the file is closed with the record */
    ck_assert_uint_eq(primary_count(&tr), 0);
    ck_assert(list_empty(&tr.replicas));
    str_free(dump);
}
END_TEST

START_TEST(test_primary_state_sets_flags_and_hold)
{
    primary_replica *p = test_primary_announced("10.0.0.1", "7001");
    reply_simple(p->c, "x");
    primary_set_state(p, PRIMARY_WAIT_BGSAVE_START, "test");
    ck_assert(p->c->flags & CLIENT_HOLD_OUTPUT);
    test_primary_expect(p->c, "");
    primary_set_state(p, PRIMARY_NONE, "test");
    ck_assert(!(p->c->flags & (CLIENT_HOLD_OUTPUT | CLIENT_REPLICA)));
    test_primary_expect(p->c, "+x\r\n");
    ck_assert_str_eq(primary_state_name(PRIMARY_SEND_BULK), "SEND_BULK");
    ck_assert_str_eq(primary_state_info_name(PRIMARY_WAIT_BGSAVE_END), "wait_bgsave");
    ck_assert_ptr_null(primary_state_info_name(PRIMARY_NONE));
}
END_TEST

/* ------------------------------------------- the server's state (repl.h) */

static void test_primary_ids_setup(void)
{
    log_set_level(LOG_NOTHING);
    config_init();
    repl_register_config();
    repl_init();
}

static void test_primary_ids_teardown(void) { config_free(); }

static int test_primary_is_hex_id(const char *id)
{
    if (strlen(id) != REPL_ID_LEN) return 0;
    for (const char *p = id; *p; p++)
        if (!strchr("0123456789abcdef", *p)) return 0;
    return 1;
}

START_TEST(test_primary_ids_at_start_and_the_replica_moves)
{
    const char *zeros = "0000000000000000000000000000000000000000";
    const char *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const char *c = "cccccccccccccccccccccccccccccccccccccccc";
    ck_assert(test_primary_is_hex_id(repl_get_replid()));
    ck_assert_int_eq(repl_get_offset(), 0);
    ck_assert_int_eq(repl_timeout_ms(), 60000);
    str info = repl_info(str_empty());
    ck_assert_ptr_nonnull(
        strstr(info, "connected_slaves:0\r\nmaster_failover_state:no-failover\r\n"));
    ck_assert_ptr_nonnull(strstr(info, "master_replid2:0000000000000000000000000000000000000000\r\n"
                                       "master_repl_offset:0\r\nsecond_repl_offset:-1\r\n"
                                       "repl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"));
    str_free(info);
    rdb_aux aux = {.repl_id = "", .repl_offset = -1, .repl_stream_db = -1};
    repl_rdb_aux(&aux); /* no replica has attached: unknown */
    ck_assert_str_eq(aux.repl_id, "");

    repl_adopt_primary(b, 1000);
    ck_assert_str_eq(repl_get_replid(), b);
    ck_assert_int_eq(repl_get_offset(), 1000);
    str argv[1] = {str_new("PING")};
    repl_propagate(0, 1, argv, NULL); /* a replica feeds nothing of its own */
    str_free(argv[0]);
    ck_assert_int_eq(repl_get_offset(), 1000);
    repl_forward(TEST_PRIMARY_PING, strlen(TEST_PRIMARY_PING), 2); /* its primary's, verbatim */
    ck_assert_int_eq(repl_get_offset(), 1000 + (long long)strlen(TEST_PRIMARY_PING));
    info = repl_info(str_empty());
    ck_assert_ptr_nonnull(strstr(info, "repl_backlog_active:1\r\n"));
    ck_assert_ptr_nonnull(strstr(info, "repl_backlog_first_byte_offset:1001\r\n"
                                       "repl_backlog_histlen:14\r\n"));
    str_free(info);
    repl_restore(b, 1000);
    repl_rdb_aux(&aux);
    ck_assert_str_eq(aux.repl_id, b);
    ck_assert_int_eq(aux.repl_offset, 1000);
    ck_assert_int_eq(aux.repl_stream_db, 2);

    repl_change_replid(c);
    ck_assert_str_eq(repl_get_replid(), c);
    info = repl_info(str_empty());
    ck_assert_ptr_nonnull(strstr(info, "master_replid2:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n"
                                       "master_repl_offset:1000\r\nsecond_repl_offset:1001\r\n"));
    str_free(info);

    repl_promote(c, 2000);
    ck_assert(test_primary_is_hex_id(repl_get_replid()));
    ck_assert_str_ne(repl_get_replid(), c);
    ck_assert_str_ne(repl_get_replid(), zeros);
    ck_assert_int_eq(repl_get_offset(), 2000);
    info = repl_info(str_empty());
    ck_assert_ptr_nonnull(strstr(info, "master_replid2:cccccccccccccccccccccccccccccccccccccccc\r\n"
                                       "master_repl_offset:2000\r\nsecond_repl_offset:2001\r\n"));
    str_free(info);
}
END_TEST

static Suite *test_primary_suite(void)
{
    Suite *s = suite_create("primary");
    TCase *feed = suite_new_tcase(s, "feed", test_primary_setup, test_primary_teardown, 0);
    tcase_add_test(feed, test_primary_feed_select_only_when_the_db_changes);
    tcase_add_test(feed, test_primary_feed_nothing_without_replicas);
    tcase_add_test(feed, test_primary_feed_skips_waiting_and_rdb_only_replicas);
    tcase_add_test(feed, test_primary_feed_full_resync_forces_a_select);
    TCase *sync = suite_new_tcase(s, "sync", test_primary_setup, test_primary_teardown, 0);
    tcase_add_test(sync, test_primary_sync_holds_the_stream_until_the_rdb_is_sent);
    tcase_add_test(sync, test_primary_rdb_only_replica_is_closed_after_the_rdb);
    tcase_add_test(sync, test_primary_failed_save_drops_the_waiting_replicas);
    tcase_add_test(sync, test_primary_write_error_during_the_bulk_closes);
    tcase_add_test(sync, test_primary_a_replica_shares_a_running_save);
    tcase_add_test(sync, test_primary_no_sharing_without_a_replica_waiting_on_the_save);
    TCase *cron = suite_new_tcase(s, "cron", test_primary_setup, test_primary_teardown, 0);
    tcase_add_test(cron, test_primary_cron_pings_through_the_stream);
    tcase_add_test(cron, test_primary_cron_drops_a_silent_replica);
    tcase_add_test(cron, test_primary_cron_closes_a_held_replica_after_a_protocol_error);
    TCase *cmds = suite_new_tcase(s, "commands", test_primary_setup, test_primary_teardown, 0);
    tcase_add_test(cmds, test_primary_replconf_replies);
    tcase_add_test(cmds, test_primary_sync_errors);
    tcase_add_test(cmds, test_primary_role_lists_online_replicas);
    tcase_add_test(cmds, test_primary_info_lines);
    tcase_add_test(cmds, test_primary_refused_psync_statistics);
    tcase_add_test(cmds, test_primary_psync_continue_sends_the_missing_bytes);
    tcase_add_test(cmds, test_primary_psync_without_psync2_and_with_nothing_missing);
    tcase_add_test(cmds, test_primary_psync_refused_outside_the_backlog);
    tcase_add_test(cmds, test_primary_psync_second_id_up_to_its_offset);
    tcase_add_test(cmds, test_primary_backlog_ttl_frees_it_without_replicas);
    tcase_add_test(cmds, test_primary_backlog_size_is_applied);
    tcase_add_test(cmds, test_primary_freed_replica_is_forgotten);
    tcase_add_test(cmds, test_primary_state_sets_flags_and_hold);
    TCase *ids = suite_new_tcase(s, "ids", test_primary_ids_setup, test_primary_ids_teardown, 0);
    tcase_add_test(ids, test_primary_ids_at_start_and_the_replica_moves);
    return s;
}

int main(void) { return run_suite(test_primary_suite()); }
