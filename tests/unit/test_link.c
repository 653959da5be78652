/* test_link.c: Check unit tests of the replica link state machine
 * (repl/link.c, handshake.c, transfer.c) driven through the fake connection
 * of tests/unit/fake: the test plays the primary (it completes connects,
 * feeds replies and the RDB, closes, stays silent) and the composition root
 * (the hooks record what the link hands over; the clock is a variable).
 * Covers the connect, the exact handshake and PSYNC bytes, replies split at
 * every byte, both bulk framings fed in pieces of every kind, the loader
 * seeing the payload byte for byte, the stream bytes after the payload,
 * +CONTINUE, every failure (error reply, garbage, close, read and write
 * errors, timeouts, loader failure) back to CONNECT with its reason, the
 * back-off, late events, link_stop from every state, the observed
 * transition sequence, INFO fields and Redis's log wording. */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "rdb/stream_conn.h"
#include "repl/link.h"
#include "repl/proto.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"

#define T_HOST "10.0.0.1"
#define T_PORT 6379
#define T_ID "0123456789abcdef0123456789abcdef01234567"
#define T_ID2 "fedcba9876543210fedcba9876543210fedcba98"
#define T_MARK "f00dbeeff00dbeeff00dbeeff00dbeeff00dbeef"
#define T_TIMEOUT 10000
#define T_START_MS 1700000000000LL
#define T_STREAM "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
#define T_PING "*1\r\n$4\r\nPING\r\n"
#define T_PORT_6380 "*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6380\r\n"
#define T_CAPA "*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n"
#define T_PSYNC_NONE "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"
#define T_PSYNC_ID "*3\r\n$5\r\nPSYNC\r\n$40\r\n" T_ID "\r\n$4\r\n1001\r\n"
#define T_FULLRESYNC "+FULLRESYNC " T_ID " 100\r\n"
#define T_MAX_SEQ 512

static loop *tl;
static repl_link *t_link;
static conn *t_conn; /* the link's newest connection; NULL once closed */
static int t_new_conns;
static const char *t_connect_err; /* connects fail at once with it */
static int t_no_conn;             /* new_conn returns NULL */
static int t_tls;                 /* new connections have a (TLS) handshake */
static long long t_now;
static char t_dir[64];
static enum link_state t_stop_on;            /* the observer stops the link there */
static enum link_state t_seq[T_MAX_SEQ + 1]; /* t_seq[0] -> [1] -> ... */
static int t_nseq;                           /* transitions recorded */
static int t_loads, t_load_rc, t_load_stops; /* the loader runs link_stop */
static str t_loaded;                         /* the file's bytes when the loader ran */
static int t_connected, t_continued;
static conn *t_handed; /* the connection handed over, closed at teardown */
static str t_replid, t_extra;
static long long t_offset;
/* Diskless: the diskless hook's answer, the payload bytes the loader reads
 * from the stream, and what the primary sends while it reads (the serve
 * hook feeds it 1000 bytes a wait). */
static int t_diskless;
static size_t t_load_len;
static str t_wire;
static size_t t_wire_at;

/* ---------------------------------------------------------------- hooks */

static conn *test_link_new_conn(void *priv)
{
    (void)priv;
    t_new_conns++;
    if (t_no_conn) return NULL;
    t_conn = fake_conn_create_unconnected(tl);
    if (t_connect_err) fake_conn_fail_connect(t_conn, t_connect_err);
    if (t_tls) fake_conn_enable_handshake(t_conn);
    return t_conn;
}

static long long test_link_clock(void *priv)
{
    (void)priv;
    return t_now;
}

static str test_link_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    str s = str_empty();
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        s = str_cat_len(s, buf, n);
    fclose(f);
    return s;
}

static int test_link_load(void *priv, const char *path, str *err)
{
    (void)priv;
    t_loads++;
    ck_assert(strncmp(path, t_dir, strlen(t_dir)) == 0);
    str_free(t_loaded);
    t_loaded = test_link_read_file(path);
    if (t_load_stops) link_stop(t_link);
    if (t_load_rc != 0) *err = str_new("bad RDB format version");
    return t_load_rc;
}

static int test_link_dir_count(void);

static int test_link_diskless(void *priv)
{
    (void)priv;
    return t_diskless;
}

static void test_link_serve(void *priv, int wait_ms)
{
    (void)priv;
    (void)wait_ms;
    size_t n = str_len(t_wire) - t_wire_at < 1000 ? str_len(t_wire) - t_wire_at : 1000;
    fake_conn_feed(t_conn, t_wire + t_wire_at, n);
    t_wire_at += n;
}

/* Reads t_load_len bytes from the stream, then its end (mark or length). */
static int test_link_load_conn(void *priv, rdb_stream *s, str *err)
{
    (void)priv;
    t_loads++;
    ck_assert_int_eq(test_link_dir_count(), 0);
    ck_assert(link_sync_in_progress(t_link));
    rdb_stream_conn_set_serve(s, test_link_serve, NULL);
    if (t_load_stops) link_stop(t_link); /* the stream goes with the link */
    str_free(t_loaded);
    t_loaded = str_new_len(NULL, t_load_len);
    if (rdb_stream_read(s, t_loaded, t_load_len) != 0 || rdb_stream_conn_finish(s) != 0) {
        *err = str_new(s->errmsg);
        return -1;
    }
    return 0;
}

static void test_link_hand(conn *c, const char *replid, const char *extra, size_t len)
{
    ck_assert_ptr_eq(c, t_conn);
    ck_assert_ptr_null(t_handed);
    ck_assert_int_eq(fake_conn_events(c), 0); /* the link's handlers are gone */
    ck_assert_ptr_null(conn_get_private(c));
    t_handed = c;
    t_replid = replid ? str_new(replid) : NULL;
    t_extra = str_new_len(extra, len);
}

static void test_link_continue(void *priv, conn *c, const char *new_replid, const char *extra,
                               size_t len)
{
    (void)priv;
    t_continued++;
    test_link_hand(c, new_replid, extra, len);
}

static void test_link_connected(void *priv, conn *c, const char *replid, long long offset,
                                const char *extra, size_t len)
{
    (void)priv;
    t_connected++;
    t_offset = offset;
    test_link_hand(c, replid, extra, len);
}

static void test_link_transition(void *priv, enum link_state from, enum link_state to,
                                 const char *reason)
{
    (void)priv;
    ck_assert_ptr_nonnull(reason);
    ck_assert_int_lt(t_nseq, T_MAX_SEQ);
    ck_assert(t_nseq == 0 || t_seq[t_nseq] == from);
    t_seq[t_nseq] = from;
    t_seq[++t_nseq] = to;
    if (to == t_stop_on) link_stop(t_link);
}

/* ---------------------------------------------------------------- helpers */

/* Counts the files of the temp directory, removing them with remove. */
static int test_link_dir_scan(int remove)
{
    DIR *d = opendir(t_dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof(path), "%s/%s", t_dir, e->d_name);
        if (remove) unlink(path);
        n++;
    }
    closedir(d);
    return n;
}

static int test_link_dir_count(void)
{
    return test_link_dir_scan(0);
}

static void test_link_configure(const char *auth, const char *user, const char *ip, int aport)
{
    link_settings s = {.masterauth = auth,
                       .masteruser = user,
                       .announce_ip = ip,
                       .announce_port = aport,
                       .listening_port = 6380,
                       .timeout_ms = T_TIMEOUT,
                       .dir = t_dir};
    link_configure(t_link, &s);
}

static void test_link_setup(void)
{
    log_set_level(LOG_NOTHING);
    tl = loop_create(64);
    ck_assert_ptr_nonnull(tl);
    snprintf(t_dir, sizeof(t_dir), "/tmp/tandem-link-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t_dir));
    t_conn = t_handed = NULL;
    t_new_conns = t_no_conn = t_nseq = t_loads = t_load_rc = t_load_stops = t_tls = 0;
    t_connected = t_continued = 0;
    t_connect_err = NULL;
    t_now = T_START_MS;
    t_stop_on = LINK_STATES;
    t_loaded = t_replid = t_extra = NULL;
    t_diskless = 0;
    t_wire = str_empty();
    t_wire_at = 0;
    link_hooks h = {.new_conn = test_link_new_conn,
                    .clock_ms = test_link_clock,
                    .load_rdb = test_link_load,
                    .diskless = test_link_diskless,
                    .load_conn = test_link_load_conn,
                    .on_continue = test_link_continue,
                    .on_connected = test_link_connected,
                    .on_transition = test_link_transition};
    t_link = link_create(&h);
    test_link_configure(NULL, NULL, NULL, 0);
}

static void test_link_teardown(void)
{
    if (t_handed) conn_close(t_handed);
    link_free(t_link);
    ck_assert_uint_eq(fake_conn_live(), 0);
    test_link_dir_scan(1);
    rmdir(t_dir);
    str_free(t_loaded);
    str_free(t_replid);
    str_free(t_extra);
    str_free(t_wire);
    loop_destroy(tl);
}

static void test_link_assert_state(enum link_state s)
{
    enum link_state got = link_get_state(t_link);
    ck_assert_msg(got == s, "state %s, expected %s", link_state_name(got), link_state_name(s));
}

/* The link owns its connection in these states. */
static int test_link_owns_conn(void)
{
    enum link_state s = link_get_state(t_link);
    return s >= LINK_CONNECTING && s <= LINK_TRANSFER;
}

/* Queues bytes and fires readable events while the link reads them. */
static void test_link_feed(const char *p, size_t n)
{
    fake_conn_feed(t_conn, p, n);
    size_t before;
    do {
        before = fake_conn_unread(t_conn);
        fake_conn_fire(t_conn, LOOP_READABLE);
    } while (test_link_owns_conn() && fake_conn_unread(t_conn) > 0 &&
             fake_conn_unread(t_conn) < before);
}

static void test_link_feed_s(const char *s)
{
    test_link_feed(s, strlen(s));
}

/* Checks and clears what the link wrote. */
static void test_link_assert_written(const char *expect)
{
    size_t n;
    const char *p = fake_conn_written(t_conn, &n);
    ck_assert_msg(n == strlen(expect) && memcmp(p, expect, n) == 0, "wrote '%.*s', expected '%s'",
                  (int)n, p, expect);
    fake_conn_clear_written(t_conn);
}

/* The primary closes the connection. */
static void test_link_peer_closes(void)
{
    fake_conn_feed_eof(t_conn);
    fake_conn_fire(t_conn, LOOP_READABLE);
}

/* The attempt failed: CONNECT, reason recorded, connection and file gone. */
static void test_link_assert_failed(const char *fragment)
{
    test_link_assert_state(LINK_CONNECT);
    ck_assert_msg(strstr(link_last_failure(t_link), fragment), "reason '%s' lacks '%s'",
                  link_last_failure(t_link), fragment);
    ck_assert_uint_eq(fake_conn_live(), t_handed ? 1 : 0);
    ck_assert_int_eq(test_link_dir_count(), 0);
    t_conn = NULL;
}

static void test_link_connect(void)
{
    link_start(t_link, T_HOST, T_PORT);
    test_link_assert_state(LINK_CONNECTING);
    fake_conn_connect_done(t_conn, NULL);
    test_link_assert_state(LINK_RECEIVE_PING_REPLY);
}

/* With AUTH and ip-address configured, so that every state is visited:
 * from any state toward target, the primary's replies one by one, until the
 * link is in target or was stopped (by the observer). */
static void test_link_run_primary(enum link_state target)
{
    static const char *replies[] = {"+PONG\r\n", "+OK\r\n",    "+OK\r\n",    "+OK\r\n",
                                    "+OK\r\n",   T_FULLRESYNC, "$5\r\nHELLO"};
    test_link_configure("pw", NULL, "10.0.0.9", 0);
    link_start(t_link, T_HOST, T_PORT);
    enum link_state s = link_get_state(t_link);
    if (s == target || s == LINK_NONE) return;
    fake_conn_connect_done(t_conn, NULL);
    s = link_get_state(t_link);
    if (s == target || s == LINK_NONE) return;
    if (s == LINK_TLS_HANDSHAKE) fake_conn_handshake_done(t_conn, NULL);
    for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        s = link_get_state(t_link);
        if (s == target || s == LINK_NONE) return;
        test_link_feed_s(replies[i]);
    }
}

static void test_link_drive(enum link_state target)
{
    test_link_run_primary(target);
    test_link_assert_state(target);
}

/* The resting states that own a connection, in order. */
static const enum link_state test_link_resting[] = {
    LINK_CONNECTING,          LINK_RECEIVE_PING_REPLY, LINK_RECEIVE_AUTH_REPLY,
    LINK_RECEIVE_PORT_REPLY,  LINK_RECEIVE_IP_REPLY,   LINK_RECEIVE_CAPA_REPLY,
    LINK_RECEIVE_PSYNC_REPLY, LINK_TRANSFER,
};
#define T_NRESTING (sizeof(test_link_resting) / sizeof(test_link_resting[0]))

/* The recorded transitions went through exactly the states of expect, a
 * list of names separated by spaces. */
static void test_link_assert_path(const char *expect)
{
    str got = str_empty();
    for (int i = 0; t_nseq > 0 && i <= t_nseq; i++)
        got = str_cat_fmt(got, "%s%s", i ? " " : "", link_state_name(t_seq[i]));
    ck_assert_str_eq(got, expect);
    str_free(got);
}

/* n bytes with newlines, '$', and prefixes of the mark in them. */
static str test_link_payload(size_t n)
{
    str s = str_new_len(NULL, n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (char)(x >> 16);
        if (i % 97 == 0) s[i] = '\n';
    }
    for (size_t i = 500; i + PROTO_MARK_LEN < n; i += 4099)
        memcpy(s + i, T_MARK, PROTO_MARK_LEN - 1 - i % 7);
    return s;
}

/* What the primary sends for a full sync without AUTH or ip-address. */
static str test_link_primary_bytes(int use_mark, const str payload, size_t *stream_at)
{
    str in = str_new("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC " T_ID " 4242\r\n\n\n\n");
    if (use_mark)
        in = str_cat(in, "$EOF:" T_MARK "\r\n");
    else
        in = str_cat_fmt(in, "$%zu\r\n", str_len(payload));
    in = str_cat_str(in, payload);
    if (use_mark) in = str_cat(in, T_MARK);
    *stream_at = str_len(in);
    return str_cat(in, T_STREAM);
}

/* After a full sync: the stream bytes handed over, those still in the
 * connection and the unsent ones make T_STREAM (none lost); no file left. */
static void test_link_assert_stream_rest(const char *unsent, size_t len)
{
    str rest = str_dup(t_extra);
    char buf[256];
    ssize_t n;
    while ((n = conn_read(t_handed, buf, sizeof(buf))) > 0)
        rest = str_cat_len(rest, buf, (size_t)n);
    rest = str_cat_len(rest, unsent, len);
    ck_assert_str_eq(rest, T_STREAM);
    ck_assert_int_eq(test_link_dir_count(), 0);
    str_free(rest);
}

/* A whole full sync fed in pieces of `piece` bytes, and all its effects. */
static void test_link_full_sync(int use_mark, size_t payload_len, size_t piece)
{
    str payload = test_link_payload(payload_len);
    size_t stream_at, fed = 0;
    str in = test_link_primary_bytes(use_mark, payload, &stream_at);
    test_link_connect();
    while (fed < str_len(in) && link_get_state(t_link) != LINK_CONNECTED) {
        size_t n = str_len(in) - fed < piece ? str_len(in) - fed : piece;
        test_link_feed(in + fed, n);
        fed += n;
    }
    test_link_assert_state(LINK_CONNECTED);
    test_link_assert_written(T_PING T_PORT_6380 T_CAPA T_PSYNC_NONE);
    ck_assert_int_eq(t_loads, 1);
    ck_assert_uint_eq(str_len(t_loaded), payload_len);
    ck_assert(memcmp(t_loaded, payload, payload_len) == 0);
    ck_assert_int_eq(t_connected, 1);
    ck_assert_str_eq(t_replid, T_ID);
    ck_assert_int_eq(t_offset, 4242);
    /* No stream byte lost: handed over, still in the conn, or not yet fed. */
    ck_assert_uint_ge(fed, stream_at);
    test_link_assert_stream_rest(in + fed, str_len(in) - fed);
    test_link_assert_path("NONE CONNECT CONNECTING RECEIVE_PING_REPLY SEND_HANDSHAKE "
                          "RECEIVE_PORT_REPLY RECEIVE_CAPA_REPLY SEND_PSYNC "
                          "RECEIVE_PSYNC_REPLY TRANSFER CONNECTED");
    const link_stats *st = link_get_stats(t_link);
    ck_assert_int_eq(st->full_syncs, 1);
    ck_assert_int_eq(st->last_full_sync_bytes, (long long)payload_len);
    ck_assert_int_eq(st->consecutive_failures, 0);
    ck_assert_int_eq(st->transitions, t_nseq);
    str_free(in);
    str_free(payload);
}

/* ---------------------------------------------------------------- connect */

START_TEST(test_link_connect_writes_ping)
{
    int port;
    link_start(t_link, T_HOST, T_PORT);
    test_link_assert_state(LINK_CONNECTING);
    ck_assert_str_eq(fake_conn_connect_target(t_conn, &port), T_HOST);
    ck_assert_int_eq(port, T_PORT);
    ck_assert_str_eq(link_host(t_link), T_HOST);
    ck_assert_int_eq(link_port(t_link), T_PORT);
    test_link_assert_written("");
    fake_conn_connect_done(t_conn, NULL);
    test_link_assert_state(LINK_RECEIVE_PING_REPLY);
    test_link_assert_written(T_PING);
    ck_assert_int_eq(fake_conn_events(t_conn), LOOP_READABLE);
}
END_TEST

START_TEST(test_link_connect_backoff)
{
    t_connect_err = "Network is unreachable";
    link_start(t_link, T_HOST, T_PORT);
    test_link_assert_failed("Unable to connect to MASTER: Network is unreachable");
    ck_assert_int_eq(t_new_conns, 1);
    ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, 1);
    /* Only a cron tick tries again; each failure counts. */
    link_cron(t_link, t_now);
    ck_assert_int_eq(t_new_conns, 2);
    ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, 2);
    t_no_conn = 1;
    link_cron(t_link, t_now);
    test_link_assert_failed("Unable to connect to MASTER");
    ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, 3);
    t_no_conn = 0;
    t_connect_err = NULL;
    link_cron(t_link, t_now);
    test_link_assert_state(LINK_CONNECTING);
    ck_assert_int_eq(t_new_conns, 4);
    test_link_assert_path("NONE CONNECT CONNECTING"); /* failures in CONNECT change no state */
    ck_assert_int_eq(link_get_stats(t_link)->failures, 3);
}
END_TEST

START_TEST(test_link_backs_off_after_three_failures)
{
    t_connect_err = "Connection refused";
    link_start(t_link, T_HOST, T_PORT);
    link_cron(t_link, t_now);
    link_cron(t_link, t_now);
    ck_assert_int_eq(t_new_conns, 3); /* three failures: every tick, as Redis */
    link_cron(t_link, t_now);
    ck_assert_int_eq(t_new_conns, 4); /* the fourth failure waits 2 s, the fifth 4 s,
                                        * then 8 s, then 10 s at most */
    static const long long waits[] = {2000, 4000, 8000, 10000, 10000};
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        int tries = t_new_conns;
        t_now += waits[i] - 1;
        link_cron(t_link, t_now);
        ck_assert_int_eq(t_new_conns, tries);
        t_now += 1;
        link_cron(t_link, t_now);
        ck_assert_int_eq(t_new_conns, tries + 1);
    }
    /* REPLICAOF starts at once, whatever the back-off. */
    t_connect_err = NULL;
    int before = t_new_conns;
    link_start(t_link, T_HOST, T_PORT);
    ck_assert_int_eq(t_new_conns, before + 1);
    test_link_assert_state(LINK_CONNECTING);
}
END_TEST

START_TEST(test_link_backoff_then_success)
{
    test_link_drive(LINK_RECEIVE_PING_REPLY);
    test_link_peer_closes();
    test_link_assert_failed("I/O error trying to sync with MASTER: connection lost");
    ck_assert_int_eq(t_new_conns, 1);
    link_cron(t_link, t_now);
    test_link_assert_state(LINK_CONNECTING);
    ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, 1);
    fake_conn_connect_done(t_conn, NULL);
    test_link_feed_s("+PONG\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n" T_FULLRESYNC "$1\r\nx");
    test_link_assert_state(LINK_CONNECTED);
    ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, 0);
    ck_assert_int_eq(link_get_stats(t_link)->failures, 1);
}
END_TEST

START_TEST(test_link_partial_writes)
{
    link_start(t_link, T_HOST, T_PORT);
    fake_conn_set_write_budget(t_conn, 5);
    fake_conn_connect_done(t_conn, NULL);
    test_link_assert_written("*1\r\n$");
    ck_assert_int_eq(fake_conn_events(t_conn), LOOP_READABLE | LOOP_WRITABLE);
    fake_conn_set_write_budget(t_conn, SIZE_MAX);
    fake_conn_fire(t_conn, LOOP_WRITABLE);
    test_link_assert_written("4\r\nPING\r\n");
    ck_assert_int_eq(fake_conn_events(t_conn), LOOP_READABLE);
    /* The handshake too, split by the budget. */
    fake_conn_set_write_budget(t_conn, 10);
    test_link_feed_s("+PONG\r\n");
    fake_conn_set_write_budget(t_conn, SIZE_MAX);
    fake_conn_fire(t_conn, LOOP_WRITABLE);
    test_link_assert_written(T_PORT_6380 T_CAPA);
    test_link_assert_state(LINK_RECEIVE_PORT_REPLY);
}
END_TEST

START_TEST(test_link_write_error)
{
    link_start(t_link, T_HOST, T_PORT);
    fake_conn_fail_writes(t_conn, "Broken pipe");
    fake_conn_connect_done(t_conn, NULL);
    test_link_assert_failed("Error condition on socket for SYNC: Broken pipe");
    /* In the write handler that finishes a partial write. */
    link_start(t_link, T_HOST, T_PORT);
    fake_conn_set_write_budget(t_conn, 5);
    fake_conn_connect_done(t_conn, NULL);
    fake_conn_fail_writes(t_conn, "Connection reset by peer");
    fake_conn_fire(t_conn, LOOP_WRITABLE);
    test_link_assert_failed("Error condition on socket for SYNC: Connection reset by peer");
}
END_TEST

/* ---------------------------------------------------------------- handshake */

START_TEST(test_link_pong_split_every_byte)
{
    const char *pong = "+PONG\r\n";
    for (size_t i = 1; i < strlen(pong); i++) {
        test_link_connect();
        t_nseq = 0;
        test_link_feed(pong, i);
        test_link_assert_state(LINK_RECEIVE_PING_REPLY);
        ck_assert_int_eq(t_nseq, 0);
        test_link_feed(pong + i, strlen(pong) - i);
        test_link_assert_state(LINK_RECEIVE_PORT_REPLY);
        test_link_assert_path("RECEIVE_PING_REPLY SEND_HANDSHAKE RECEIVE_PORT_REPLY");
    }
}
END_TEST

START_TEST(test_link_handshake_bytes)
{
    test_link_configure("s3cret", NULL, NULL, 0);
    test_link_connect();
    fake_conn_clear_written(t_conn);
    test_link_feed_s("+PONG\r\n");
    test_link_assert_state(LINK_RECEIVE_AUTH_REPLY);
    test_link_assert_written("*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n" T_PORT_6380 T_CAPA);
    test_link_configure("s3cret", "repl", "10.0.0.9", 7000);
    test_link_connect();
    fake_conn_clear_written(t_conn);
    test_link_feed_s("+PONG\r\n");
    test_link_assert_written(
        "*3\r\n$4\r\nAUTH\r\n$4\r\nrepl\r\n$6\r\ns3cret\r\n"
        "*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7000\r\n"
        "*3\r\n$8\r\nREPLCONF\r\n$10\r\nip-address\r\n$8\r\n10.0.0.9\r\n" T_CAPA);
    /* The replies follow what was sent, whatever the settings say now. */
    test_link_configure(NULL, NULL, NULL, 0);
    test_link_feed_s("+OK\r\n+OK\r\n");
    test_link_assert_state(LINK_RECEIVE_IP_REPLY);
    test_link_feed_s("+OK\r\n");
    test_link_assert_state(LINK_RECEIVE_CAPA_REPLY);
}
END_TEST

/* -NOAUTH to PING (AUTH comes next) and REPLCONF errors do not fail. */
START_TEST(test_link_tolerated_replies)
{
    test_link_drive(LINK_RECEIVE_PING_REPLY);
    test_link_feed_s("-NOAUTH Authentication required.\r\n");
    test_link_assert_state(LINK_RECEIVE_AUTH_REPLY);
    test_link_feed_s("+OK\r\n-ERR unknown option\r\n-ERR unknown option\r\n-ERR what\r\n");
    test_link_assert_state(LINK_RECEIVE_PSYNC_REPLY);
    ck_assert_int_eq(link_get_stats(t_link)->failures, 0);
}
END_TEST

/* Replies that end the attempt, in the state that reads them. */
START_TEST(test_link_error_replies)
{
    static const struct {
        enum link_state state;
        const char *reply, *reason;
    } cases[] = {
        {LINK_RECEIVE_PING_REPLY, "-ERR unknown command",
         "Error reply to PING from master: "
         "'-ERR unknown command'"},
        {LINK_RECEIVE_AUTH_REPLY, "-WRONGPASS invalid username-password pair",
         "Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair"},
        {LINK_RECEIVE_PSYNC_REPLY, "-NOMASTERLINK Can't SYNC while not connected with my master",
         "Master is currently unable to PSYNC but should be in the future: -NOMASTERLINK Can't "
         "SYNC while not connected with my master"},
        {LINK_RECEIVE_PSYNC_REPLY, "-LOADING Redis is loading the dataset in memory",
         "Master is currently unable to PSYNC but should be in the future: -LOADING Redis is "
         "loading the dataset in memory"},
        {LINK_RECEIVE_PSYNC_REPLY, "-ERR unknown command 'PSYNC'",
         "Unexpected reply to PSYNC from master: -ERR unknown command 'PSYNC'"},
        {LINK_RECEIVE_PSYNC_REPLY, "+FULLRESYNC 123 0",
         "Unexpected reply to PSYNC from master: +FULLRESYNC 123 0"},
        {LINK_TRANSFER, "\n\n-ERR BGSAVE failed",
         "MASTER aborted replication with an error: -ERR BGSAVE failed"},
        {LINK_TRANSFER, "$12x", "Bad bulk header from MASTER: '$12x'"},
        /* Garbage, in every state that reads a line. */
        {LINK_RECEIVE_PING_REPLY, "garbage", "Bad reply to PING from MASTER: 'garbage'"},
        {LINK_RECEIVE_AUTH_REPLY, "garbage", "Bad reply to AUTH from MASTER: 'garbage'"},
        {LINK_RECEIVE_PORT_REPLY, "garbage", "Bad reply to REPLCONF listening-port from MASTER"},
        {LINK_RECEIVE_IP_REPLY, "garbage", "Bad reply to REPLCONF ip-address from MASTER"},
        {LINK_RECEIVE_CAPA_REPLY, "garbage", "Bad reply to REPLCONF capa from MASTER"},
        {LINK_RECEIVE_PSYNC_REPLY, "garbage", "Unexpected reply to PSYNC from master: garbage"},
        {LINK_TRANSFER, "garbage",
         "Bad protocol from MASTER, the first byte is not '$' (we "
         "received 'garbage'), are you sure the host and port are "
         "right?"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_link_drive(cases[i].state);
        test_link_feed_s(cases[i].reply);
        test_link_feed_s("\r\n");
        test_link_assert_failed(cases[i].reason);
        ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, (long long)i + 1);
    }
}
END_TEST

START_TEST(test_link_line_too_long)
{
    test_link_drive(LINK_RECEIVE_PING_REPLY);
    str junk = str_new_len(NULL, PROTO_LINE_MAX + 2);
    memset(junk, '+', str_len(junk));
    test_link_feed(junk, str_len(junk));
    test_link_assert_failed("a line longer than");
    str_free(junk);
}
END_TEST

/* ---------------------------------------------------------------- psync */

/* Runs a handshake and checks the PSYNC it ends with. */
static void test_link_assert_psync(const char *expect)
{
    test_link_drive(LINK_RECEIVE_CAPA_REPLY);
    fake_conn_clear_written(t_conn);
    test_link_feed_s("+OK\r\n");
    test_link_assert_written(expect);
}

START_TEST(test_link_psync_bytes)
{
    test_link_assert_psync(T_PSYNC_NONE);
    link_set_cached_primary(t_link, T_ID, 1000);
    test_link_assert_psync(T_PSYNC_ID);
    test_link_feed_s(T_FULLRESYNC); /* consumes the cached primary */
    test_link_assert_psync(T_PSYNC_NONE);
    link_set_cached_primary(t_link, T_ID, 1000);
    link_clear_cached_primary(t_link);
    test_link_assert_psync(T_PSYNC_NONE);
}
END_TEST

START_TEST(test_link_partial_resync)
{
    link_set_cached_primary(t_link, T_ID, 1000);
    test_link_drive(LINK_RECEIVE_PSYNC_REPLY);
    test_link_feed_s("+CONTINUE\r\n" T_STREAM);
    test_link_assert_state(LINK_CONNECTED);
    ck_assert_int_eq(t_continued, 1);
    ck_assert_int_eq(t_connected + t_loads, 0);
    ck_assert_ptr_null(t_replid); /* the primary kept its ID */
    ck_assert_str_eq(t_extra, T_STREAM);
    ck_assert_int_eq(link_get_stats(t_link)->partial_syncs, 1);
    ck_assert(link_is_up(t_link));
    conn_close(t_handed);
    t_handed = NULL;
    str_free(t_extra);
    t_extra = NULL;
    link_set_cached_primary(t_link, T_ID, 1000);
    test_link_drive(LINK_RECEIVE_PSYNC_REPLY);
    test_link_feed_s("+CONTINUE " T_ID2 "\r\n");
    test_link_assert_state(LINK_CONNECTED);
    ck_assert_str_eq(t_replid, T_ID2);
    ck_assert_str_eq(t_extra, "");
}
END_TEST

START_TEST(test_link_psync_try_later_keeps_cached)
{
    link_set_cached_primary(t_link, T_ID, 1000);
    test_link_drive(LINK_RECEIVE_PSYNC_REPLY);
    test_link_feed_s("-LOADING Redis is loading the dataset in memory\r\n");
    test_link_assert_failed("Master is currently unable to PSYNC");
    link_cron(t_link, t_now);
    fake_conn_connect_done(t_conn, NULL);
    fake_conn_clear_written(t_conn);
    test_link_feed_s("+PONG\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n");
    test_link_assert_state(LINK_RECEIVE_PSYNC_REPLY);
    size_t n;
    const char *w = fake_conn_written(t_conn, &n);
    ck_assert_uint_ge(n, strlen(T_PSYNC_ID));
    ck_assert(memcmp(w + n - strlen(T_PSYNC_ID), T_PSYNC_ID, strlen(T_PSYNC_ID)) == 0);
}
END_TEST

/* ---------------------------------------------------------------- transfer */

START_TEST(test_link_full_sync_pieces)
{
    const size_t pieces[] = {SIZE_MAX, 1, 2, 3, 7, 39, 40, 41, 1000, 16384};
    for (int use_mark = 0; use_mark < 2; use_mark++) {
        for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
            test_link_teardown();
            test_link_setup();
            test_link_full_sync(use_mark, pieces[i] == 1 ? 3000 : 100000, pieces[i]);
        }
    }
}
END_TEST

/* Everything in one read: the stream bytes reach on_connected. */
START_TEST(test_link_full_sync_extra_handed)
{
    const size_t sizes[] = {0, 100};
    for (int i = 0; i < 4; i++) {
        test_link_teardown();
        test_link_setup();
        test_link_full_sync(i % 2, sizes[i / 2], SIZE_MAX);
        ck_assert_str_eq(t_extra, T_STREAM);
    }
}
END_TEST

START_TEST(test_link_temp_file)
{
    char path[128];
    test_link_drive(LINK_TRANSFER);
    snprintf(path, sizeof(path), "%s/temp-%lld.%d.rdb", t_dir, t_now / 1000, (int)getpid());
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(test_link_dir_count(), 1);
    ck_assert(link_sync_in_progress(t_link));
}
END_TEST

START_TEST(test_link_loader_failure)
{
    t_load_rc = -1;
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$5\r\nHELLO" T_STREAM);
    test_link_assert_failed("Failed trying to load the MASTER synchronization DB from disk: bad "
                            "RDB format version");
    ck_assert_int_eq(t_loads, 1);
    ck_assert_str_eq(t_loaded, "HELLO");
    ck_assert_int_eq(t_connected, 0);
    /* A loader that stops the link (REPLICAOF NO ONE meanwhile) wins. */
    for (t_load_rc = -1; t_load_rc <= 0; t_load_rc++) {
        t_load_stops = 1;
        test_link_drive(LINK_TRANSFER);
        test_link_feed_s("$5\r\nHELLO");
        test_link_assert_state(LINK_NONE);
        ck_assert_int_eq(test_link_dir_count(), 0);
        ck_assert_uint_eq(fake_conn_live(), 0);
        ck_assert_int_eq(t_connected, 0);
    }
}
END_TEST

/* Diskless: the loader reads the payload from the connection (the header
 * and its first bytes in one read, the rest while it waits), no file is
 * created, and the stream bytes after the payload are handed over. */
START_TEST(test_link_diskless_full_sync)
{
    for (int use_mark = 0; use_mark < 2; use_mark++) {
        test_link_teardown();
        test_link_setup();
        t_diskless = 1;
        str payload = test_link_payload(50000);
        size_t stream_at;
        str in = test_link_primary_bytes(use_mark, payload, &stream_at);
        /* The header and 10 payload bytes come in the first read. */
        const char *header = strstr(in, "\n$") + 1;
        size_t first = (size_t)(strchr(header, '\n') + 1 - in) + 10;
        t_load_len = str_len(payload);
        t_wire = str_cat_len(t_wire, in + first, str_len(in) - first);
        test_link_connect();
        test_link_feed(in, first);
        test_link_assert_state(LINK_CONNECTED);
        ck_assert_int_eq(t_loads, 1);
        ck_assert(memcmp(t_loaded, payload, str_len(payload)) == 0);
        ck_assert_int_eq(t_connected, 1);
        ck_assert_int_eq(link_get_stats(t_link)->last_full_sync_bytes, (long long)str_len(payload));
        /* Every stream byte: handed over, still in the conn, or not sent. */
        test_link_assert_stream_rest(t_wire + t_wire_at, str_len(t_wire) - t_wire_at);
        str_free(in);
        str_free(payload);
    }
}
END_TEST

START_TEST(test_link_diskless_load_failure)
{
    t_diskless = 1;
    t_load_len = 5;
    test_link_drive(LINK_TRANSFER);
    ck_assert_int_eq(test_link_dir_count(), 0);
    t_wire = str_cat(t_wire, "0123456789012345678901234567890123456789");
    test_link_feed_s("$EOF:" T_MARK "\r\nHELLO");
    test_link_assert_failed("Failed trying to load the MASTER synchronization DB from socket: "
                            "Replication stream EOF marker is broken");
    ck_assert_str_eq(t_loaded, "HELLO");
    ck_assert_int_eq(t_connected, 0);
    /* The link stopped under the loader: its reads fail, nothing leaks. */
    t_load_stops = 1;
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$EOF:" T_MARK "\r\nHELLO");
    test_link_assert_state(LINK_NONE);
    ck_assert_int_eq(t_loads, 2);
    ck_assert_uint_eq(fake_conn_live(), 0);
    ck_assert_int_eq(t_connected, 0);
}
END_TEST

START_TEST(test_link_keepalive_defers_timeout)
{
    test_link_drive(LINK_TRANSFER);
    t_now += T_TIMEOUT - 1;
    test_link_feed_s("\n");
    link_cron(t_link, t_now + T_TIMEOUT);
    test_link_assert_state(LINK_TRANSFER);
    test_link_feed_s("$4\r\nab");
    t_now += T_TIMEOUT;
    test_link_feed_s("c");
    link_cron(t_link, t_now + T_TIMEOUT);
    test_link_assert_state(LINK_TRANSFER);
    link_cron(t_link, t_now + T_TIMEOUT + 1);
    test_link_assert_failed("Timeout receiving bulk data from MASTER... If the problem persists "
                            "try to set the 'repl-timeout' parameter in redis.conf to a larger "
                            "value.");
}
END_TEST

/* ---------------------------------------------------------------- failures */

START_TEST(test_link_closed_each_state)
{
    for (size_t i = 0; i < T_NRESTING; i++) {
        test_link_drive(test_link_resting[i]);
        if (test_link_resting[i] == LINK_CONNECTING) {
            fake_conn_connect_done(t_conn, "Connection refused");
            test_link_assert_failed("Error condition on socket for SYNC: Connection refused");
            continue;
        }
        test_link_peer_closes();
        test_link_assert_failed("I/O error trying to sync with MASTER: connection lost");
        test_link_drive(test_link_resting[i]);
        fake_conn_fail_reads(t_conn, "Connection reset by peer");
        fake_conn_fire(t_conn, LOOP_READABLE);
        test_link_assert_failed("I/O error trying to sync with MASTER: Connection reset by peer");
    }
    /* Mid-payload, for both framings. */
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$100\r\nREDIS");
    test_link_peer_closes();
    test_link_assert_failed("connection lost");
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$EOF:" T_MARK "\r\nREDIS");
    test_link_peer_closes();
    test_link_assert_failed("connection lost");
    ck_assert_int_eq(t_loads, 0);
}
END_TEST

START_TEST(test_link_timeout_each_state)
{
    for (size_t i = 0; i < T_NRESTING; i++) {
        enum link_state s = test_link_resting[i];
        test_link_drive(s);
        link_cron(t_link, t_now + T_TIMEOUT);
        test_link_assert_state(s);
        link_cron(t_link, t_now + T_TIMEOUT + 1);
        test_link_assert_failed(s == LINK_TRANSFER ? "Timeout receiving bulk data from MASTER"
                                                   : "Timeout connecting to the MASTER...");
        ck_assert_int_eq(t_new_conns, (int)i + 1); /* no connect in the same tick */
    }
}
END_TEST

START_TEST(test_link_late_events)
{
    link_cron(t_link, t_now); /* NONE: nothing */
    link_stop(t_link);
    link_connection_lost(t_link, "gone");
    ck_assert_int_eq(t_nseq, 0);
    for (size_t i = 0; i < T_NRESTING; i++) {
        test_link_drive(test_link_resting[i]);
        int seq = t_nseq, conns = t_new_conns;
        size_t n;
        fake_conn_clear_written(t_conn);
        fake_conn_fire(t_conn, LOOP_READABLE | LOOP_WRITABLE); /* nothing to read */
        link_cron(t_link, t_now + 1);
        link_cron(t_link, t_now + T_TIMEOUT);
        link_connection_lost(t_link, "not connected yet");
        test_link_assert_state(test_link_resting[i]);
        ck_assert_int_eq(t_nseq, seq);
        ck_assert_int_eq(t_new_conns, conns);
        fake_conn_written(t_conn, &n);
        ck_assert_uint_eq(n, 0);
    }
    test_link_drive(LINK_CONNECTED);
    int seq = t_nseq;
    fake_conn_feed(t_handed, "+PONG\r\n", 7);
    fake_conn_fire(t_handed, LOOP_READABLE); /* the link's handlers are gone */
    ck_assert_uint_eq(fake_conn_unread(t_handed), 7);
    link_cron(t_link, t_now + 10 * T_TIMEOUT);
    test_link_assert_state(LINK_CONNECTED);
    ck_assert_int_eq(t_nseq, seq);
}
END_TEST

START_TEST(test_link_stop_every_state)
{
    for (enum link_state s = LINK_CONNECT; s < LINK_STATES; s++) {
        test_link_teardown();
        test_link_setup();
        t_tls = 1; /* so that TLS_HANDSHAKE is visited too */
        t_stop_on = s; /* the observer stops the link as it enters s */
        test_link_run_primary(LINK_CONNECTED);
        test_link_assert_state(LINK_NONE);
        ck_assert_uint_eq(fake_conn_live(), s == LINK_CONNECTED ? 1 : 0);
        ck_assert_int_eq(test_link_dir_count(), 0);
        ck_assert_int_eq(t_loads, s == LINK_CONNECTED);
    }
}
END_TEST

START_TEST(test_link_stop_resting_states)
{
    for (size_t i = 0; i < T_NRESTING; i++) {
        test_link_drive(test_link_resting[i]);
        link_stop(t_link);
        test_link_assert_state(LINK_NONE);
        ck_assert_uint_eq(fake_conn_live(), 0);
        ck_assert_int_eq(test_link_dir_count(), 0);
        ck_assert_ptr_null(link_host(t_link));
    }
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$10\r\nREDIS");
    ck_assert_int_eq(test_link_dir_count(), 1);
    link_stop(t_link);
    ck_assert_int_eq(test_link_dir_count(), 0);
}
END_TEST

START_TEST(test_link_start_restarts)
{
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$10\r\nREDIS");
    link_start(t_link, "10.0.0.2", 6390);
    test_link_assert_state(LINK_CONNECTING);
    ck_assert_uint_eq(fake_conn_live(), 1);
    ck_assert_int_eq(test_link_dir_count(), 0);
    ck_assert_str_eq(link_host(t_link), "10.0.0.2");
}
END_TEST

START_TEST(test_link_connection_lost)
{
    test_link_drive(LINK_CONNECTED);
    ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, 0);
    link_connection_lost(t_link, "Connection with master lost.");
    test_link_assert_failed("Connection with master lost.");
    ck_assert_int_eq(link_get_stats(t_link)->consecutive_failures, 1);
    ck_assert_int_eq(t_new_conns, 1);
    link_cron(t_link, t_now);
    test_link_assert_state(LINK_CONNECTING);
}
END_TEST

/* ---------------------------------------------------------------- TLS handshake */

static void test_link_assert_info(const char *absent, const char *const *fields);

START_TEST(test_link_tls_handshake_state)
{
    t_tls = 1;
    link_start(t_link, T_HOST, T_PORT);
    fake_conn_connect_done(t_conn, NULL);
    test_link_assert_state(LINK_TLS_HANDSHAKE);
    size_t n;
    fake_conn_written(t_conn, &n);
    ck_assert_uint_eq(n, 0); /* nothing before the handshake is done */
    test_link_assert_info(NULL, (const char *[]){"tandem_link_state:tls_handshake\r\n", NULL});
    /* Late events and ticks within the timeout do nothing. */
    fake_conn_fire(t_conn, LOOP_READABLE | LOOP_WRITABLE);
    link_cron(t_link, t_now + T_TIMEOUT);
    test_link_assert_state(LINK_TLS_HANDSHAKE);
    fake_conn_handshake_done(t_conn, NULL);
    test_link_assert_state(LINK_RECEIVE_PING_REPLY);
    test_link_assert_written(T_PING);
    test_link_feed_s("+PONG\r\n");
    test_link_assert_path("NONE CONNECT CONNECTING TLS_HANDSHAKE RECEIVE_PING_REPLY "
                          "SEND_HANDSHAKE RECEIVE_PORT_REPLY");
}
END_TEST

START_TEST(test_link_tls_handshake_refused)
{
    t_tls = 1;
    link_start(t_link, T_HOST, T_PORT);
    fake_conn_connect_done(t_conn, NULL);
    fake_conn_handshake_done(t_conn, "certificate verify failed");
    test_link_assert_failed("TLS handshake with MASTER failed: certificate verify failed");
    ck_assert_int_eq(link_get_stats(t_link)->failures, 1);
    /* Retried at the next tick only (the back-off). */
    ck_assert_int_eq(t_new_conns, 1);
    link_cron(t_link, t_now + 1000);
    test_link_assert_state(LINK_CONNECTING);
    ck_assert_int_eq(t_new_conns, 2);
}
END_TEST

START_TEST(test_link_tls_handshake_timeout)
{
    t_tls = 1;
    link_start(t_link, T_HOST, T_PORT);
    fake_conn_connect_done(t_conn, NULL);
    link_cron(t_link, t_now + T_TIMEOUT + 1);
    test_link_assert_failed("Timeout connecting to the MASTER...");
    t_tls = 1;
    link_start(t_link, T_HOST, T_PORT);
    fake_conn_connect_done(t_conn, NULL);
    link_stop(t_link);
    test_link_assert_state(LINK_NONE);
    ck_assert_uint_eq(fake_conn_live(), 0);
}
END_TEST

/* ---------------------------------------------------------------- observer, INFO, log */

START_TEST(test_link_transition_table)
{
    test_link_drive(LINK_CONNECTED);
    link_connection_lost(t_link, NULL);
    link_stop(t_link);
    test_link_assert_path("NONE CONNECT CONNECTING RECEIVE_PING_REPLY SEND_HANDSHAKE "
                          "RECEIVE_AUTH_REPLY RECEIVE_PORT_REPLY RECEIVE_IP_REPLY "
                          "RECEIVE_CAPA_REPLY SEND_PSYNC RECEIVE_PSYNC_REPLY TRANSFER "
                          "CONNECTED CONNECT NONE");
    ck_assert_int_eq(link_get_stats(t_link)->transitions, t_nseq);
    ck_assert_str_eq(link_state_name(LINK_RECEIVE_PSYNC_REPLY), "RECEIVE_PSYNC_REPLY");
    ck_assert_str_eq(link_state_name(LINK_STATES), "UNKNOWN");
}
END_TEST

/* INFO now holds every field of the NULL-terminated list, and no line
 * that starts with absent (unless NULL). */
static void test_link_assert_info(const char *absent, const char *const *fields)
{
    str info = link_info(t_link, str_empty(), t_now);
    for (; *fields; fields++)
        ck_assert_msg(strstr(info, *fields) != NULL, "INFO lacks '%s':\n%s", *fields, info);
    if (absent) ck_assert_msg(strstr(info, absent) == NULL, "INFO has '%s':\n%s", absent, info);
    str_free(info);
}

START_TEST(test_link_info_fields)
{
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$10\r\nREDIS");
    t_now += 3000;
    test_link_assert_info(
        NULL, (const char *[]){
                  "master_sync_total_bytes:10\r\n", "master_sync_read_bytes:5\r\n",
                  "master_sync_left_bytes:5\r\n", "master_sync_perc:50.00\r\n",
                  "master_sync_last_io_seconds_ago:3\r\n", "master_link_down_since_seconds:-1\r\n",
                  "tandem_link_state:transfer\r\n", "tandem_link_state_ms:3000\r\n",
                  "tandem_link_last_failure:\r\n", "tandem_link_last_failure_seconds_ago:-1\r\n",
                  "tandem_last_full_sync_ms:-1\r\n", "tandem_last_full_sync_end_seconds_ago:-1\r\n",
                  NULL});
    t_now += 2000;
    test_link_feed_s("ABCDE");
    test_link_assert_state(LINK_CONNECTED);
    t_now += 4000;
    test_link_assert_info("master_", (const char *[]){"tandem_last_full_sync_ms:5000\r\n",
                                                      "tandem_last_full_sync_bytes:10\r\n",
                                                      "tandem_last_full_sync_end_seconds_ago:4\r\n",
                                                      "tandem_link_full_syncs:1\r\n", NULL});
    link_connection_lost(t_link, "Connection with master lost.");
    t_now += 7000;
    test_link_assert_info(
        "master_sync_",
        (const char *[]){"master_link_down_since_seconds:7\r\n",
                         "tandem_link_last_failure:Connection with master lost.\r\n",
                         "tandem_link_last_failure_seconds_ago:7\r\n",
                         "tandem_link_consecutive_failures:1\r\n", "tandem_link_state:connect\r\n",
                         NULL});
    /* EOF-marked: the total is unknown. */
    test_link_drive(LINK_TRANSFER);
    test_link_feed_s("$EOF:" T_MARK "\r\nREDIS");
    test_link_assert_info(NULL, (const char *[]){"master_sync_total_bytes:-1\r\n",
                                                 "master_sync_read_bytes:5\r\n",
                                                 "master_sync_left_bytes:-1\r\n", NULL});
    ck_assert(!link_is_up(t_link));
}
END_TEST

START_TEST(test_link_log_wording)
{
    char path[] = "/tmp/tandem-link-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(log_set_file(path), 0);
    log_set_level(LOG_NOTICE);
    test_link_drive(LINK_CONNECTED);
    link_connection_lost(t_link, "Connection with master lost.");
    link_cron(t_link, t_now);
    link_cron(t_link, t_now + T_TIMEOUT + 1);
    log_set_file("");
    log_set_level(LOG_NOTHING);
    str log = test_link_read_file(path);
    unlink(path);
    const char *lines[] = {
        "Connecting to MASTER " T_HOST ":6379",
        "MASTER <-> REPLICA sync started",
        "Non blocking connect for SYNC fired the event.",
        "Master replied to PING, replication can continue...",
        "Partial resynchronization not possible (no cached master)",
        "Full resync from master: " T_ID ":100",
        "MASTER <-> REPLICA sync: receiving 5 bytes from master to disk",
        "MASTER <-> REPLICA sync: Flushing old data",
        "MASTER <-> REPLICA sync: Loading DB in memory",
        "MASTER <-> REPLICA sync: Finished with success",
        "Replication link: NONE -> CONNECT (REPLICAOF " T_HOST " 6379)",
        "Replication link: TRANSFER -> CONNECTED (full sync loaded)",
        "Replication link: CONNECTED -> CONNECT (Connection with master lost.)",
        "# Timeout connecting to the MASTER...",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        ck_assert_msg(strstr(log, lines[i]) != NULL, "log lacks '%s'", lines[i]);
    str_free(log);
}
END_TEST

START_TEST(test_link_ack_command)
{
    str s = link_ack_command(123456);
    ck_assert_str_eq(s, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$6\r\n123456\r\n");
    str_free(s);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *test_link_suite(void)
{
    Suite *s = suite_create("link");
    TCase *c = suite_new_tcase(s, "connect", test_link_setup, test_link_teardown, 30);
    tcase_add_test(c, test_link_connect_writes_ping);
    tcase_add_test(c, test_link_connect_backoff);
    tcase_add_test(c, test_link_backoff_then_success);
    tcase_add_test(c, test_link_backs_off_after_three_failures);
    tcase_add_test(c, test_link_partial_writes);
    tcase_add_test(c, test_link_write_error);
    TCase *h = suite_new_tcase(s, "handshake", test_link_setup, test_link_teardown, 30);
    tcase_add_test(h, test_link_pong_split_every_byte);
    tcase_add_test(h, test_link_handshake_bytes);
    tcase_add_test(h, test_link_tolerated_replies);
    tcase_add_test(h, test_link_error_replies);
    tcase_add_test(h, test_link_line_too_long);
    TCase *p = suite_new_tcase(s, "psync", test_link_setup, test_link_teardown, 30);
    tcase_add_test(p, test_link_psync_bytes);
    tcase_add_test(p, test_link_partial_resync);
    tcase_add_test(p, test_link_psync_try_later_keeps_cached);
    TCase *t = suite_new_tcase(s, "transfer", test_link_setup, test_link_teardown, 120);
    tcase_add_test(t, test_link_full_sync_pieces);
    tcase_add_test(t, test_link_full_sync_extra_handed);
    tcase_add_test(t, test_link_temp_file);
    tcase_add_test(t, test_link_loader_failure);
    tcase_add_test(t, test_link_keepalive_defers_timeout);
    tcase_add_test(t, test_link_diskless_full_sync);
    tcase_add_test(t, test_link_diskless_load_failure);
    TCase *f = suite_new_tcase(s, "failures", test_link_setup, test_link_teardown, 30);
    tcase_add_test(f, test_link_closed_each_state);
    tcase_add_test(f, test_link_timeout_each_state);
    tcase_add_test(f, test_link_late_events);
    tcase_add_test(f, test_link_stop_every_state);
    tcase_add_test(f, test_link_stop_resting_states);
    tcase_add_test(f, test_link_start_restarts);
    tcase_add_test(f, test_link_connection_lost);
    tcase_add_test(f, test_link_tls_handshake_state);
    tcase_add_test(f, test_link_tls_handshake_refused);
    tcase_add_test(f, test_link_tls_handshake_timeout);
    TCase *o = suite_new_tcase(s, "observed", test_link_setup, test_link_teardown, 30);
    tcase_add_test(o, test_link_transition_table);
    tcase_add_test(o, test_link_info_fields);
    tcase_add_test(o, test_link_log_wording);
    tcase_add_test(o, test_link_ack_command);
    return s;
}

int main(void)
{
    return run_suite(test_link_suite());
}
