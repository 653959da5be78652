/* test_backup.c: unit tests of tandem-backup's leaf parts (tools/backup/):
 * the sequential client (wire.c) driven through the fake connection type,
 * with the connect, the bytes and the end of stream delivered by timers on
 * the client's own loop (keep-alive newlines, lines and payload split
 * anywhere, the bytes behind a line, the idle timeout, a stop request, the
 * peer closing, an overlong line); the stream that follows a file being
 * written (follow.c), fed by a writer thread in small pieces while the
 * loader checks it (its own CRC-64 agreeing with the loader's), cut short,
 * or stopped; and the loader pass (check.c) on a Redis 7.0 file, with
 * bytes after its end refused. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"
#include "tools/backup/check.h"
#include "tools/backup/follow.h"
#include "tools/backup/wire.h"

#define FIXTURE "tests/fixtures/redis-7.0.rdb"

/* ---------------------------------------------------------------- wire */

/* What the fake server does, step by step, from timers on the wire's loop. */
typedef struct script {
    conn *c;
    int connect;        /* complete the connect (else leave it pending) */
    const char *feed[4]; /* pieces fed one per tick after the connect */
    int nfeed, fed;
    int eof;            /* the peer closes after the pieces */
} script;

static script sc;

static long long script_tick(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    script *s = data;
    if (conn_get_state(s->c) == CONN_STATE_CONNECTING) {
        if (s->connect) fake_conn_connect_done(s->c, NULL);
        return 5;
    }
    if (s->fed < s->nfeed) {
        fake_conn_feed(s->c, s->feed[s->fed], strlen(s->feed[s->fed]));
        s->fed++;
    } else if (s->eof) {
        fake_conn_feed_eof(s->c);
        s->eof = 0;
    } else {
        return 5;
    }
    if (fake_conn_events(s->c) & LOOP_READABLE) fake_conn_fire(s->c, LOOP_READABLE);
    return 5;
}

static conn *script_factory(loop *l, void *priv)
{
    script *s = priv;
    s->c = fake_conn_create_unconnected(l);
    loop_add_timer(l, 1, script_tick, s, NULL);
    return s->c;
}

static void wire_setup(void)
{
    memset(&sc, 0, sizeof(sc));
    log_set_level(LOG_NOTHING);
}

START_TEST(test_wire_lines_keepalives_and_payload)
{
    sc.connect = 1;
    sc.feed[0] = "\n\n+PO";
    sc.feed[1] = "NG\r\n\n$10\r\nhel";
    sc.feed[2] = "lo worl";
    sc.feed[3] = "d";
    sc.nfeed = 4;
    sc.eof = 1;
    bk_wire w;
    ck_assert_int_eq(bk_wire_open(&w, "10.0.0.1", 7000, 5000, script_factory, &sc), 0);
    int port;
    ck_assert_str_eq(fake_conn_connect_target(sc.c, &port), "10.0.0.1");
    ck_assert_int_eq(port, 7000);
    str cmd = str_new("*1\r\n$4\r\nPING\r\n");
    ck_assert_int_eq(bk_wire_send(&w, cmd), 0);
    size_t n;
    const char *out = fake_conn_written(sc.c, &n);
    ck_assert_int_eq(n, str_len(cmd));
    ck_assert(memcmp(out, cmd, n) == 0);
    str_free(cmd);
    const char *line;
    size_t len;
    ck_assert_int_eq(bk_wire_line(&w, &line, &len), 0);
    ck_assert_int_eq(len, 5);
    ck_assert(memcmp(line, "+PONG", 5) == 0);
    ck_assert_int_eq(bk_wire_line(&w, &line, &len), 0);
    ck_assert(len == 3 && memcmp(line, "$10", 3) == 0);
    char buf[64];
    str got = str_empty();
    ssize_t r;
    while ((r = bk_wire_read(&w, buf, 4)) > 0)
        got = str_cat_len(got, buf, (size_t)r);
    ck_assert_int_eq(r, 0);
    ck_assert_str_eq(got, "hello world");
    str_free(got);
    bk_wire_close(&w);
    ck_assert_int_eq(fake_conn_live(), 0);
}
END_TEST

START_TEST(test_wire_connect_timeout_and_failure)
{
    bk_wire w;
    long long t0 = loop_now_ms();
    ck_assert_int_eq(bk_wire_open(&w, "10.0.0.1", 7000, 60, script_factory, &sc), -1);
    ck_assert_ptr_nonnull(strstr(w.err, "connecting to 10.0.0.1:7000: timed out"));
    ck_assert_int_ge(loop_now_ms() - t0, 60);
    bk_wire_close(&w);
    ck_assert_int_eq(fake_conn_live(), 0);
}
END_TEST

START_TEST(test_wire_peer_closes_and_stop)
{
    sc.connect = 1;
    sc.feed[0] = "+PART";
    sc.nfeed = 1;
    sc.eof = 1;
    bk_wire w;
    ck_assert_int_eq(bk_wire_open(&w, "h", 1, 5000, script_factory, &sc), 0);
    const char *line;
    size_t len;
    ck_assert_int_eq(bk_wire_line(&w, &line, &len), -1);
    ck_assert_ptr_nonnull(strstr(w.err, "connection closed by the server"));
    bk_wire_close(&w);

    memset(&sc, 0, sizeof(sc));
    sc.connect = 1;
    ck_assert_int_eq(bk_wire_open(&w, "h", 1, 5000, script_factory, &sc), 0);
    w.stop = 1;
    char buf[8];
    ck_assert_int_eq(bk_wire_read(&w, buf, sizeof(buf)), -1);
    ck_assert_ptr_nonnull(strstr(w.err, "interrupted"));
    bk_wire_close(&w);
    ck_assert_int_eq(fake_conn_live(), 0);
}
END_TEST

START_TEST(test_wire_overlong_line)
{
    static char big[PROTO_LINE_MAX + 16];
    memset(big, 'x', sizeof(big) - 1);
    big[0] = '+';
    sc.connect = 1;
    sc.feed[0] = big;
    sc.nfeed = 1;
    bk_wire w;
    ck_assert_int_eq(bk_wire_open(&w, "h", 1, 5000, script_factory, &sc), 0);
    const char *line;
    size_t len;
    ck_assert_int_eq(bk_wire_line(&w, &line, &len), -1);
    ck_assert_ptr_nonnull(strstr(w.err, "protocol error"));
    bk_wire_close(&w);
}
END_TEST

/* ---------------------------------------------------------------- follow */

typedef struct writer {
    bk_follow *f;
    int fd;
    int from;     /* the fixture, read piece by piece */
    size_t upto;  /* bytes to write (0: all), then done */
    size_t piece; /* bytes per write */
    int stop;     /* stop the reader instead of finishing */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    size_t off = 0;
    char buf[16];
    while (!w->upto || off < w->upto) {
        size_t want = w->upto && w->upto - off < w->piece ? w->upto - off : w->piece;
        ssize_t n = read(w->from, buf, want);
        if (n <= 0) break;
        ck_assert_int_eq(write(w->fd, buf, (size_t)n), n);
        off += (size_t)n;
        bk_follow_publish(w->f, off, 0);
        usleep(50);
    }
    if (w->stop)
        bk_follow_stop(w->f);
    else
        bk_follow_publish(w->f, off, 1);
    return NULL;
}

/* The follower's CRC-64 of what it read but the last 8 bytes, and those. */
static uint64_t follow_crc, follow_last8;

/* Checks the fixture, written upto bytes in pieces by a thread, through the
 * follower: the check's result, c filled. */
static int follow_check(size_t upto, int stop, bk_check *c)
{
    char path[] = "/tmp/tandem-follow-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    bk_follow f;
    ck_assert_int_eq(bk_follow_open(&f, path, UINT64_MAX), 0);
    writer w = {&f, fd, open(FIXTURE, O_RDONLY), upto, 7, stop};
    ck_assert_int_ge(w.from, 0);
    pthread_t t;
    pthread_create(&t, NULL, writer_main, &w);
    memset(c, 0, sizeof(*c));
    c->bytes = UINT64_MAX;
    int rc = bk_check_stream(c, &f.s, path);
    if (rc < 0) bk_follow_stop(&f); /* the writer may still be going */
    pthread_join(t, NULL);
    follow_crc = follow_last8 = 0;
    bk_follow_crc(&f, &follow_crc, &follow_last8);
    bk_follow_close(&f);
    close(w.from);
    close(fd);
    unlink(path);
    return rc;
}

START_TEST(test_follow_checks_a_file_being_written)
{
    bk_check c;
    ck_assert_int_eq(follow_check(0, 0, &c), 0);
    ck_assert_int_eq(c.info.version, 10);
    ck_assert_int_gt(c.keys, 0);
    ck_assert(c.has_checksum);
    /* The follower's own CRC agrees with the loader's check. */
    ck_assert_uint_eq(follow_last8, c.checksum);
    ck_assert_uint_eq(follow_crc, c.checksum);
    bk_check_free(&c);
}
END_TEST

START_TEST(test_follow_cut_short_and_stopped)
{
    bk_check c;
    ck_assert_int_eq(follow_check(100, 0, &c), -1);
    ck_assert_ptr_nonnull(strstr(c.err, "Unexpected EOF reading RDB file at offset"));
    bk_check_free(&c);
    ck_assert_int_eq(follow_check(100, 1, &c), -1);
    ck_assert_ptr_nonnull(strstr(c.err, "Verification stopped at offset"));
    bk_check_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- check */

START_TEST(test_check_file_and_bytes_after_the_end)
{
    bk_check c = {0};
    ck_assert_int_eq(bk_check_file(FIXTURE, &c), 0);
    ck_assert_uint_eq(c.end, c.bytes);
    long long keys = 0;
    for (int i = 0; i < c.ndbs; i++)
        keys += c.dbs[i].keys;
    ck_assert_int_eq(keys, c.keys);
    uint64_t end = c.end;
    c.bytes = end + 3;
    ck_assert_int_eq(bk_check_size(&c), -1);
    char want[96];
    snprintf(want, sizeof(want), "3 unexpected bytes after the end of the RDB at offset %llu",
             (unsigned long long)end);
    ck_assert_str_eq(c.err, want);
    bk_check_free(&c);

    bk_check missing = {0};
    ck_assert_int_eq(bk_check_file("/nonexistent/x.rdb", &missing), -1);
    ck_assert(missing.err_fs);
    bk_check_free(&missing);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *test_backup_suite(void)
{
    Suite *s = suite_create("backup");
    TCase *wire = suite_new_tcase(s, "wire", wire_setup, NULL, 0);
    tcase_add_test(wire, test_wire_lines_keepalives_and_payload);
    tcase_add_test(wire, test_wire_connect_timeout_and_failure);
    tcase_add_test(wire, test_wire_peer_closes_and_stop);
    tcase_add_test(wire, test_wire_overlong_line);
    TCase *follow = suite_new_tcase(s, "follow", wire_setup, NULL, 0);
    tcase_add_test(follow, test_follow_checks_a_file_being_written);
    tcase_add_test(follow, test_follow_cut_short_and_stopped);
    tcase_add_test(follow, test_check_file_and_bytes_after_the_end);
    return s;
}

int main(void)
{
    return run_suite(test_backup_suite());
}
