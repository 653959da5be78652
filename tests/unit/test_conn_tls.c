/* test_conn_tls.c: Check unit tests of the TLS connection type
 * (net/conn_tls.c, net/tls_ctx.c) with a TLS listener on loopback, both ends
 * on one event loop driven until a condition holds (bounded, no fixed
 * sleeps). Certificates come from tools/gen-test-certs.sh, run once into a
 * temporary directory. Covers the handshake and echo, a large write through
 * CONN_AGAIN, bytes buffered inside OpenSSL (read in small pieces with no
 * further socket event), the manual handshake step, gathered writes, a clean
 * close, and the refusals: a client without a certificate where one is
 * required, an unknown CA, an expired and a self-signed certificate, a
 * plain-text client, a stalled handshake, and contexts that cannot be built
 * (missing file, wrong key, wrong passphrase). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/listener.h"
#include "net/sock.h"
#include "net/tls.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/conn_io.h"
#include "tests/unit/fake/loop_until.h"

#define TT_BOUND_MS 10000
#define TT_BIG (4 * 1024 * 1024)

#define TT_RUN_UNTIL(cond) LOOP_RUN_UNTIL(tl, cond, TT_BOUND_MS)

static char tt_dir[64];
static loop *tl;
static listener *tt_listener;
static tls_context *tt_server_ctx, *tt_client_ctx;
static int tt_port;
static conn *tt_client, *tt_server;
static int tt_connects, tt_accepts;
static enum conn_state tt_connect_state, tt_accept_state;
static char tt_accept_error[256], tt_connect_error[256];

/* ---------------------------------------------------------------- certificates */

/* Outside any test: failures are reported by the return value. */
static int tt_make_certs(void)
{
    snprintf(tt_dir, sizeof(tt_dir), "/tmp/tandem-tls-unit-XXXXXX");
    if (!mkdtemp(tt_dir)) return -1;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "tools/gen-test-certs.sh %s >/dev/null", tt_dir);
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "%s: exit status %d\n", cmd, rc);
    return rc == 0 ? 0 : -1;
}

static void tt_remove_certs(void)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tt_dir);
    if (system(cmd) != 0) fprintf(stderr, "%s failed\n", cmd);
}

/* A path in the certificate directory (one of a few static buffers). */
static const char *tt_path(const char *name)
{
    static char bufs[8][128];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 128, "%s/%s", tt_dir, name);
    return b;
}

static tls_options tt_server_options(void)
{
    tls_options o = {.cert_file = tt_path("server.crt"),
                     .key_file = tt_path("server.key"),
                     .ca_file = tt_path("ca.crt"),
                     .auth_clients = TLS_AUTH_YES,
                     .session_caching = 1,
                     .session_cache_size = 100,
                     .session_cache_timeout = 60,
                     .handshake_timeout_ms = 5000};
    return o;
}

static tls_options tt_client_options(const char *cert, const char *key, const char *ca)
{
    tls_options o = {.cert_file = cert ? tt_path(cert) : NULL,
                     .key_file = key ? tt_path(key) : NULL,
                     .ca_file = tt_path(ca),
                     .handshake_timeout_ms = 5000};
    return o;
}

static tls_context *tt_new_server_ctx(const tls_options *o)
{
    str err = NULL;
    tls_context *ctx = tls_context_new_server(o, &err);
    ck_assert_msg(ctx != NULL, "server context: %s", err);
    return ctx;
}

static tls_context *tt_new_client_ctx(const tls_options *o)
{
    str err = NULL;
    tls_context *ctx = tls_context_new_client(o, &err);
    ck_assert_msg(ctx != NULL, "client context: %s", err);
    return ctx;
}

/* ---------------------------------------------------------------- fixture */

static void tt_on_listen_accept(conn *c, void *data)
{
    (void)data;
    tt_accept_state = conn_get_state(c);
    ck_assert_ptr_null(tt_server);
    tt_server = c;
}

static void tt_setup(void)
{
    tl = loop_create(1024);
    ck_assert_ptr_nonnull(tl);
    tls_options so = tt_server_options();
    tt_server_ctx = tt_new_server_ctx(&so);
    tls_options co = tt_client_options("client.crt", "client.key", "ca.crt");
    tt_client_ctx = tt_new_client_ctx(&co);
    tt_listener = NULL;
    char err[SOCK_ERR_LEN] = "";
    char *addrs[] = {"127.0.0.1"};
    for (int tries = 0; tries < 10 && !tt_listener; tries++) {
        tt_port = conn_io_free_port();
        tt_listener = listener_create_tls(tl, 1, addrs, tt_port, 16, &tt_server_ctx,
                                          tt_on_listen_accept, NULL, err);
    }
    ck_assert_msg(tt_listener != NULL, "listener: %s", err);
    tt_client = tt_server = NULL;
    tt_connects = tt_accepts = 0;
    tt_accept_error[0] = tt_connect_error[0] = '\0';
    conn_io_reset();
}

static void tt_teardown(void)
{
    if (tt_client) conn_close(tt_client);
    if (tt_server) conn_close(tt_server);
    listener_close(tt_listener);
    tls_context_free(tt_server_ctx);
    tls_context_free(tt_client_ctx);
    conn_io_free();
    loop_destroy(tl);
}

/* ---------------------------------------------------------------- handlers */

static void tt_note(conn *c, enum conn_state *state, char *err)
{
    *state = conn_get_state(c);
    snprintf(err, 256, "%s", conn_last_error(c) ? conn_last_error(c) : "");
}

static void tt_on_connect(conn *c)
{
    tt_connects++;
    tt_note(c, &tt_connect_state, tt_connect_error);
}

static void tt_on_accept(conn *c)
{
    tt_accepts++;
    tt_note(c, &tt_accept_state, tt_accept_error);
}

/* ---------------------------------------------------------------- helpers */

/* Starts a client with ctx and accepts it; waits until both handshakes
 * ended (either way). */
static void tt_attempt(tls_context *ctx)
{
    tt_client = conn_create_tls(tl, ctx);
    ck_assert_str_eq(conn_type_name(tt_client), "tls");
    ck_assert_int_eq(conn_connect(tt_client, "127.0.0.1", tt_port, NULL, tt_on_connect), 0);
    ck_assert_int_eq(conn_get_state(tt_client), CONN_STATE_CONNECTING);
    TT_RUN_UNTIL(tt_server);
    ck_assert_ptr_nonnull(tt_server);
    ck_assert_int_eq(tt_accept_state, CONN_STATE_ACCEPTING);
    ck_assert_int_eq(conn_accept(tt_server, tt_on_accept), 0);
    TT_RUN_UNTIL(tt_connects == 1 && tt_accepts == 1);
}

static void tt_pair(void)
{
    tt_attempt(tt_client_ctx);
    ck_assert_int_eq(tt_connects, 1);
    ck_assert_int_eq(tt_accepts, 1);
    ck_assert_msg(tt_connect_state == CONN_STATE_CONNECTED, "client: %s", tt_connect_error);
    ck_assert_msg(tt_accept_state == CONN_STATE_CONNECTED, "server: %s", tt_accept_error);
}

/* The attempt fails on the side given (server or client end). */
static void tt_assert_refused(const char *side_error, const char *expect)
{
    ck_assert_msg(strstr(side_error, expect) != NULL, "error '%s' lacks '%s'", side_error, expect);
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_tls_handshake_and_echo)
{
    tt_pair();
    ck_assert_ptr_null(conn_last_error(tt_client));
    conn_set_read_handler(tt_server, conn_io_echo);
    conn_set_read_handler(tt_client, conn_io_collect);
    ck_assert_int_eq(conn_write(tt_client, "hello tls", 9), 9);
    TT_RUN_UNTIL(str_len(cio.in) >= 9);
    ck_assert_str_eq(cio.in, "hello tls");
    /* The completion handlers ran once. */
    for (int i = 0; i < 5; i++)
        loop_process(tl, LOOP_ALL_EVENTS | LOOP_DONT_WAIT);
    ck_assert_int_eq(tt_connects, 1);
    ck_assert_int_eq(tt_accepts, 1);
}
END_TEST

START_TEST(test_tls_large_write)
{
    cio.out = str_new_len(NULL, TT_BIG);
    for (size_t i = 0; i < TT_BIG; i++)
        cio.out[i] = (char)(i * 13 + i / 1000);
    tt_pair();
    conn_set_read_handler(tt_server, conn_io_collect);
    conn_io_push(tt_client);
    ck_assert(cio.saw_again);
    TT_RUN_UNTIL(str_len(cio.in) >= TT_BIG);
    ck_assert_uint_eq(str_len(cio.in), TT_BIG);
    ck_assert(memcmp(cio.in, cio.out, TT_BIG) == 0);
    ck_assert(!conn_has_write_handler(tt_client));
}
END_TEST

/* One record of 1000 bytes read 7 bytes at a time: after the first read the
 * socket is drained and the rest waits inside OpenSSL. */
START_TEST(test_tls_pending_bytes_are_read)
{
    char msg[1000];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)('a' + i % 26);
    tt_pair();
    cio.piece = 7;
    conn_set_read_handler(tt_client, conn_io_collect);
    ck_assert_int_eq(conn_write(tt_server, msg, sizeof(msg)), (ssize_t)sizeof(msg));
    TT_RUN_UNTIL(str_len(cio.in) >= sizeof(msg));
    ck_assert_uint_eq(str_len(cio.in), sizeof(msg));
    ck_assert(memcmp(cio.in, msg, sizeof(msg)) == 0);
}
END_TEST

/* Bytes already inside OpenSSL when a read handler is installed later. */
static void tt_read_one_then_stop(conn *c)
{
    char buf[4];
    ssize_t n = conn_read(c, buf, sizeof(buf));
    if (n <= 0) return;
    cio.in = str_cat_len(cio.in, buf, (size_t)n);
    conn_set_read_handler(c, NULL);
}

START_TEST(test_tls_pending_survive_handler_change)
{
    tt_pair();
    conn_set_read_handler(tt_client, tt_read_one_then_stop);
    ck_assert_int_eq(conn_write(tt_server, "0123456789", 10), 10);
    TT_RUN_UNTIL(str_len(cio.in) >= 4);
    ck_assert_uint_eq(str_len(cio.in), 4);
    cio.piece = 3;
    conn_set_read_handler(tt_client, conn_io_collect);
    TT_RUN_UNTIL(str_len(cio.in) >= 10);
    ck_assert_str_eq(cio.in, "0123456789");
}
END_TEST

static void tt_on_transport(conn *c)
{
    tt_connects++;
    tt_note(c, &tt_connect_state, tt_connect_error);
}

static void tt_on_handshake(conn *c)
{
    tt_connects += 10;
    tt_note(c, &tt_connect_state, tt_connect_error);
}

START_TEST(test_tls_manual_handshake)
{
    tt_client = conn_create_tls(tl, tt_client_ctx);
    conn_set_manual_handshake(tt_client);
    ck_assert_int_eq(conn_connect(tt_client, "127.0.0.1", tt_port, NULL, tt_on_transport), 0);
    TT_RUN_UNTIL(tt_server && tt_connects == 1);
    ck_assert_int_eq(tt_connect_state, CONN_STATE_CONNECTED);
    ck_assert_int_eq(conn_accept(tt_server, tt_on_accept), 0);
    ck_assert_int_eq(conn_handshake(tt_client, tt_on_handshake), 0);
    ck_assert_int_eq(conn_get_state(tt_client), CONN_STATE_CONNECTING);
    ck_assert_int_eq(tt_connects, 1); /* never inside the call */
    TT_RUN_UNTIL(tt_connects == 11 && tt_accepts == 1);
    ck_assert_int_eq(tt_connect_state, CONN_STATE_CONNECTED);
    ck_assert_int_eq(tt_accept_state, CONN_STATE_CONNECTED);
    /* A second handshake is refused. */
    ck_assert_int_eq(conn_handshake(tt_client, tt_on_handshake), -1);
    /* The plain type has no handshake. */
    conn *plain = conn_create_socket(tl);
    ck_assert_int_eq(conn_handshake(plain, tt_on_handshake), 1);
    conn_close(plain);
}
END_TEST

START_TEST(test_tls_writev_gathers)
{
    tt_pair();
    conn_set_read_handler(tt_server, conn_io_collect);
    struct iovec iov[3] = {{"abc", 3}, {"defg", 4}, {"h", 1}};
    ck_assert_int_eq(conn_writev(tt_client, iov, 3), 8);
    TT_RUN_UNTIL(str_len(cio.in) >= 8);
    ck_assert_str_eq(cio.in, "abcdefgh");
}
END_TEST

START_TEST(test_tls_clean_close_reads_eof)
{
    tt_pair();
    conn_set_read_handler(tt_server, conn_io_collect);
    ck_assert_int_eq(conn_write(tt_client, "last", 4), 4);
    conn_close(tt_client);
    tt_client = NULL;
    TT_RUN_UNTIL(cio.eof);
    ck_assert(cio.eof);
    ck_assert_str_eq(cio.in, "last");
    ck_assert_int_eq(conn_get_state(tt_server), CONN_STATE_CLOSED);
}
END_TEST

START_TEST(test_tls_client_without_certificate_refused)
{
    tls_options o = tt_client_options(NULL, NULL, "ca.crt");
    tls_context *ctx = tt_new_client_ctx(&o);
    tt_attempt(ctx);
    tls_context_free(ctx);
    ck_assert_int_eq(tt_accepts, 1);
    ck_assert_int_eq(tt_accept_state, CONN_STATE_ERROR);
    tt_assert_refused(tt_accept_error, "peer did not return a certificate");
    /* TLS 1.3: the client learns it at its first read. */
    if (tt_connect_state == CONN_STATE_CONNECTED) {
        conn_set_read_handler(tt_client, conn_io_collect);
        TT_RUN_UNTIL(conn_get_state(tt_client) != CONN_STATE_CONNECTED || cio.eof);
        ck_assert(conn_get_state(tt_client) != CONN_STATE_CONNECTED || cio.eof);
    }
}
END_TEST

START_TEST(test_tls_optional_client_certificate)
{
    tls_options so = tt_server_options();
    so.auth_clients = TLS_AUTH_OPTIONAL;
    tls_context *old = tt_server_ctx;
    tt_server_ctx = tt_new_server_ctx(&so); /* the listener reads it at each accept */
    tls_context_free(old);
    tls_options o = tt_client_options(NULL, NULL, "ca.crt");
    tls_context *ctx = tt_new_client_ctx(&o);
    tt_attempt(ctx);
    tls_context_free(ctx); /* the connection keeps what it needs */
    ck_assert_msg(tt_accept_state == CONN_STATE_CONNECTED, "server: %s", tt_accept_error);
    ck_assert_msg(tt_connect_state == CONN_STATE_CONNECTED, "client: %s", tt_connect_error);
    conn_set_read_handler(tt_server, conn_io_echo);
    conn_set_read_handler(tt_client, conn_io_collect);
    ck_assert_int_eq(conn_write(tt_client, "ok", 2), 2);
    TT_RUN_UNTIL(str_len(cio.in) >= 2);
    ck_assert_str_eq(cio.in, "ok");
}
END_TEST

/* The client trusts another CA: it refuses the server's certificate. */
START_TEST(test_tls_unknown_ca_refused)
{
    tls_options o = tt_client_options("client.crt", "client.key", "other-ca.crt");
    tls_context *ctx = tt_new_client_ctx(&o);
    tt_attempt(ctx);
    tls_context_free(ctx);
    ck_assert_int_eq(tt_connect_state, CONN_STATE_ERROR);
    tt_assert_refused(tt_connect_error, "certificate verify failed");
    ck_assert_int_eq(tt_accept_state, CONN_STATE_ERROR);
}
END_TEST

static void tt_client_cert_refused(const char *cert, const char *key, const char *why)
{
    tls_options o = tt_client_options(cert, key, "ca.crt");
    tls_context *ctx = tt_new_client_ctx(&o);
    tt_attempt(ctx);
    tls_context_free(ctx);
    ck_assert_int_eq(tt_accept_state, CONN_STATE_ERROR);
    tt_assert_refused(tt_accept_error, "certificate verify failed");
    tt_assert_refused(tt_accept_error, why);
}

START_TEST(test_tls_expired_client_certificate_refused)
{
    tt_client_cert_refused("expired.crt", "expired.key", "certificate has expired");
}
END_TEST

START_TEST(test_tls_self_signed_client_certificate_refused)
{
    tt_client_cert_refused("selfsigned.crt", "selfsigned.key", "self-signed certificate");
}
END_TEST

/* A plain-text client on the TLS port: the server's handshake fails. */
START_TEST(test_tls_plain_client_refused)
{
    tt_client = conn_create_socket(tl);
    ck_assert_int_eq(conn_connect(tt_client, "127.0.0.1", tt_port, NULL, tt_on_connect), 0);
    TT_RUN_UNTIL(tt_server && tt_connects == 1);
    ck_assert_int_eq(conn_accept(tt_server, tt_on_accept), 0);
    ck_assert_int_eq(conn_write(tt_client, "PING\r\n", 6), 6);
    TT_RUN_UNTIL(tt_accepts == 1);
    ck_assert_int_eq(tt_accept_state, CONN_STATE_ERROR);
    ck_assert_msg(tt_accept_error[0] != '\0', "no reason given");
}
END_TEST

/* A client that connects and says nothing: the handshake times out. */
START_TEST(test_tls_stalled_handshake_times_out)
{
    tls_options so = tt_server_options();
    so.handshake_timeout_ms = 200;
    tls_context *old = tt_server_ctx;
    tt_server_ctx = tt_new_server_ctx(&so);
    tls_context_free(old);
    tt_client = conn_create_socket(tl);
    ck_assert_int_eq(conn_connect(tt_client, "127.0.0.1", tt_port, NULL, tt_on_connect), 0);
    TT_RUN_UNTIL(tt_server && tt_connects == 1);
    ck_assert_int_eq(conn_accept(tt_server, tt_on_accept), 0);
    long long start = loop_now_ms();
    TT_RUN_UNTIL(tt_accepts == 1);
    ck_assert_int_eq(tt_accept_state, CONN_STATE_ERROR);
    tt_assert_refused(tt_accept_error, "TLS handshake timed out after 200 ms");
    ck_assert_int_ge(loop_now_ms() - start, 150);
}
END_TEST

static void tt_context_fails(tls_options *o, int server, const char *expect)
{
    str err = NULL;
    tls_context *ctx = server ? tls_context_new_server(o, &err) : tls_context_new_client(o, &err);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, expect) != NULL, "error '%s' lacks '%s'", err, expect);
    str_free(err);
}

START_TEST(test_tls_bad_contexts)
{
    tls_options o = tt_server_options();
    o.cert_file = tt_path("missing.crt");
    tt_context_fails(&o, 1, "Failed to load certificate");
    o = tt_server_options();
    o.key_file = tt_path("client.key");
    tt_context_fails(&o, 1, "key values mismatch");
    o = tt_server_options();
    o.key_file = tt_path("server-pass.key");
    o.key_pass = "wrong";
    tt_context_fails(&o, 1, "Failed to load private key");
    o = tt_server_options();
    o.cert_file = NULL;
    tt_context_fails(&o, 1, "No tls-cert-file");
    o = tt_server_options();
    o.ca_file = NULL;
    tt_context_fails(&o, 1, "tls-ca-cert-file or tls-ca-cert-dir");
    o = tt_server_options();
    o.protocols = "TLSv1.2 SSLv2";
    tt_context_fails(&o, 1, "Invalid tls-protocols");
    o = tt_server_options();
    o.ciphers = "NO-SUCH-CIPHER";
    tt_context_fails(&o, 1, "Failed to configure ciphers");
    o = tt_client_options(NULL, NULL, "missing-ca.crt");
    tt_context_fails(&o, 0, "CA certificate");
    /* The right passphrase works. */
    o = tt_server_options();
    o.key_file = tt_path("server-pass.key");
    o.key_pass = "secret";
    tls_context_free(tt_new_server_ctx(&o));
}
END_TEST

/* TLS 1.2 only, with a cipher list, still connects. */
START_TEST(test_tls_protocols_and_ciphers)
{
    tls_options so = tt_server_options();
    so.protocols = "TLSv1.2";
    so.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
    so.prefer_server_ciphers = 1;
    tls_context *old = tt_server_ctx;
    tt_server_ctx = tt_new_server_ctx(&so);
    tls_context_free(old);
    tt_pair();
    conn_set_read_handler(tt_server, conn_io_echo);
    conn_set_read_handler(tt_client, conn_io_collect);
    ck_assert_int_eq(conn_write(tt_client, "v12", 3), 3);
    TT_RUN_UNTIL(str_len(cio.in) >= 3);
    ck_assert_str_eq(cio.in, "v12");
}
END_TEST

int main(void)
{
    if (tt_make_certs() == -1) return EXIT_FAILURE;
    Suite *s = suite_create("conn_tls");
    TCase *tc = suite_new_tcase(s, "tls", tt_setup, tt_teardown, 30);
    tcase_add_test(tc, test_tls_handshake_and_echo);
    tcase_add_test(tc, test_tls_large_write);
    tcase_add_test(tc, test_tls_pending_bytes_are_read);
    tcase_add_test(tc, test_tls_pending_survive_handler_change);
    tcase_add_test(tc, test_tls_manual_handshake);
    tcase_add_test(tc, test_tls_writev_gathers);
    tcase_add_test(tc, test_tls_clean_close_reads_eof);
    tcase_add_test(tc, test_tls_client_without_certificate_refused);
    tcase_add_test(tc, test_tls_optional_client_certificate);
    tcase_add_test(tc, test_tls_unknown_ca_refused);
    tcase_add_test(tc, test_tls_expired_client_certificate_refused);
    tcase_add_test(tc, test_tls_self_signed_client_certificate_refused);
    tcase_add_test(tc, test_tls_plain_client_refused);
    tcase_add_test(tc, test_tls_stalled_handshake_times_out);
    tcase_add_test(tc, test_tls_bad_contexts);
    tcase_add_test(tc, test_tls_protocols_and_ciphers);
    int rc = run_suite(s);
    tt_remove_certs();
    return rc;
}
