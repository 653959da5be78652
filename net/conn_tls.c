/* conn_tls.c: the TLS connection type (OpenSSL over a nonblocking socket),
 * interchangeable with the plain socket type behind net/conn.h.
 *
 * Directions. OpenSSL may need the socket writable to finish a read (a
 * renegotiation or a key update) or readable to finish a write. Each case is
 * remembered in its own flag (READ_WANTS_WRITE, WRITE_WANTS_READ), the event
 * mask is recomputed from the handlers and the flags, and an event in one
 * direction runs the handler that waits for it. The handshake likewise waits
 * for the direction OpenSSL asked for.
 *
 * Buffered data. A record may hold more bytes than a read asked for; they
 * sit decrypted inside OpenSSL and the socket never becomes readable for
 * them. After every handler run (and whenever a read handler is installed)
 * a conn with SSL_pending bytes and a read handler gets a 0 ms loop timer
 * that runs its read handler again, until nothing is pending.
 *
 * Handshake timeout. A handshake that is not done within the context's
 * handshake_timeout_ms fails (state ERROR, "TLS handshake timed out") and
 * its handler runs, so a peer that stalls holds nothing for long.
 *
 * Errors carry OpenSSL's reason (and the certificate verification result)
 * in conn_last_error. One of the two files that use OpenSSL. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "net/conn_impl.h"
#include "net/sock.h"
#include "net/tls_impl.h"

#define TLS_READ_WANTS_WRITE (1 << 0)
#define TLS_WRITE_WANTS_READ (1 << 1)
#define TLS_HS_WANTS_WRITE (1 << 2) /* else the handshake waits for readable */
#define TLS_TCP_CONNECTING (1 << 3)
#define TLS_IN_HANDSHAKE (1 << 4)
#define TLS_FATAL (1 << 5) /* no close_notify after a protocol error */

#define TLS_WRITEV_BUF (16 * 1024) /* a record's worth of gathered iovecs */

typedef struct tls_data {
    SSL *ssl;
    int flags;
    long long hs_timeout_ms;
    long long hs_timer;      /* -1 when none */
    long long pending_timer; /* -1 when none */
} tls_data;

static tls_data *tls_get(const conn *c) { return c->type_data; }

static void tls_event(loop *l, int fd, void *data, int mask);
static long long tls_pending_proc(loop *l, long long id, void *data);

/* ------------------------------------------------------------ events */

static void tls_check_pending(conn *c)
{
    tls_data *t = tls_get(c);
    if (c->state != CONN_STATE_CONNECTED || !c->read_handler || t->pending_timer != -1 ||
        (t->flags & TLS_IN_HANDSHAKE) || (c->flags & CONN_FLAG_CLOSE_SCHEDULED))
        return;
    if (SSL_pending(t->ssl) > 0)
        t->pending_timer = loop_add_timer(c->loop, 0, tls_pending_proc, c, NULL);
}

static int tls_update_events(conn *c)
{
    tls_data *t = tls_get(c);
    if (c->fd == -1) return 0;
    int want = 0;
    if (t->flags & TLS_TCP_CONNECTING) {
        want = LOOP_WRITABLE;
    } else if (t->flags & TLS_IN_HANDSHAKE) {
        want = (t->flags & TLS_HS_WANTS_WRITE) ? LOOP_WRITABLE : LOOP_READABLE;
    } else {
        if (c->read_handler) want |= LOOP_READABLE;
        if (c->read_handler && (t->flags & TLS_READ_WANTS_WRITE)) want |= LOOP_WRITABLE;
        if (c->write_handler) want |= LOOP_WRITABLE;
        if (c->write_handler && (t->flags & TLS_WRITE_WANTS_READ)) want |= LOOP_READABLE;
        if ((want & LOOP_WRITABLE) && (c->flags & CONN_FLAG_WRITE_BARRIER)) want |= LOOP_BARRIER;
    }
    tls_check_pending(c);
    int have = loop_get_file_mask(c->loop, c->fd);
    if (have & ~want) loop_del_file(c->loop, c->fd, have & ~want);
    if (want & ~have) return loop_add_file(c->loop, c->fd, want & ~have, tls_event, c);
    return 0;
}

static void tls_set_flag(conn *c, int flag, int on)
{
    tls_data *t = tls_get(c);
    int was = (t->flags & flag) != 0;
    if (was == on) return;
    if (on)
        t->flags |= flag;
    else
        t->flags &= ~flag;
    tls_update_events(c);
}

/* ------------------------------------------------------------ errors */

/* Records why an SSL call failed (ssl_err: SSL_get_error of it), with
 * the certificate verification result when there is one, and enters ERROR. */
static void tls_set_ssl_error(conn *c, int ssl_err)
{
    tls_data *t = tls_get(c);
    char reason[200], msg[sizeof(c->last_error)];
    int saved_errno = errno;
    tls_error_text(reason, sizeof(reason));
    if (ssl_err == SSL_ERROR_SYSCALL && !reason[0])
        snprintf(reason, sizeof(reason), "%s",
                 saved_errno ? strerror(saved_errno) : "connection closed by peer");
    if (!reason[0]) snprintf(reason, sizeof(reason), "TLS error %d", ssl_err);
    long verify = SSL_get_verify_result(t->ssl);
    if (verify != X509_V_OK)
        snprintf(msg, sizeof(msg), "%s (certificate verification: %s)", reason,
                 X509_verify_cert_error_string(verify));
    else
        snprintf(msg, sizeof(msg), "%s", reason);
    conn_set_error(c, msg);
    c->state = CONN_STATE_ERROR;
    t->flags |= TLS_FATAL;
}

/* The result of a failed SSL_read (is_read) or SSL_write: CONN_AGAIN with
 * the direction flags updated, 0 at a clean end (reads), or CONN_ERR. */
static ssize_t tls_io_failed(conn *c, int ret, int is_read)
{
    tls_data *t = tls_get(c);
    int e = SSL_get_error(t->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        if (is_read)
            tls_set_flag(c, TLS_READ_WANTS_WRITE, 0);
        else
            tls_set_flag(c, TLS_WRITE_WANTS_READ, 1);
        return CONN_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        if (is_read)
            tls_set_flag(c, TLS_READ_WANTS_WRITE, 1);
        else
            tls_set_flag(c, TLS_WRITE_WANTS_READ, 0);
        return CONN_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        c->state = CONN_STATE_CLOSED;
        if (is_read) return 0;
        conn_set_error(c, "connection closed by peer");
        return CONN_ERR;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return CONN_AGAIN;
        if (is_read && errno == 0 && ERR_peek_error() == 0) {
            c->state = CONN_STATE_CLOSED;
            return 0;
        }
        /* fall through */
    default:
        tls_set_ssl_error(c, e);
        return CONN_ERR;
    }
}

/* ------------------------------------------------------------ handshake */

static void tls_stop_hs_timer(conn *c)
{
    tls_data *t = tls_get(c);
    if (t->hs_timer != -1) loop_del_timer(c->loop, t->hs_timer);
    t->hs_timer = -1;
}

/* Ends the handshake (or the connect) and calls the completion handler.
 * Returns 0 if the conn was released meanwhile. */
static int tls_finish(conn *c, enum conn_state state)
{
    tls_data *t = tls_get(c);
    t->flags &= ~(TLS_IN_HANDSHAKE | TLS_TCP_CONNECTING | TLS_HS_WANTS_WRITE);
    tls_stop_hs_timer(c);
    c->state = state;
    conn_handler *h = c->conn_handler;
    c->conn_handler = NULL;
    tls_update_events(c);
    return conn_call_handler(c, h);
}

static void tls_handshake_step(conn *c)
{
    tls_data *t = tls_get(c);
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        tls_finish(c, CONN_STATE_CONNECTED);
        return;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (e == SSL_ERROR_WANT_WRITE)
            t->flags |= TLS_HS_WANTS_WRITE;
        else
            t->flags &= ~TLS_HS_WANTS_WRITE;
        tls_update_events(c);
        return;
    }
    tls_set_ssl_error(c, e);
    tls_finish(c, CONN_STATE_ERROR);
}

static long long tls_hs_timeout_proc(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    conn *c = data;
    tls_data *t = tls_get(c);
    t->hs_timer = -1;
    if (!(t->flags & (TLS_IN_HANDSHAKE | TLS_TCP_CONNECTING))) return LOOP_NOMORE;
    char msg[96];
    snprintf(msg, sizeof(msg), "TLS handshake timed out after %lld ms", t->hs_timeout_ms);
    conn_set_error(c, msg);
    t->flags |= TLS_FATAL;
    tls_finish(c, CONN_STATE_ERROR);
    return LOOP_NOMORE;
}

static void tls_arm_hs_timer(conn *c)
{
    tls_data *t = tls_get(c);
    if (t->hs_timeout_ms > 0 && t->hs_timer == -1)
        t->hs_timer = loop_add_timer(c->loop, t->hs_timeout_ms, tls_hs_timeout_proc, c, NULL);
}

/* Enters the handshake; the first step runs on the next event in the
 * direction given (so a completion handler never runs inside the call that
 * started it). */
static void tls_begin_handshake(conn *c, enum conn_state state, int wants_write)
{
    tls_data *t = tls_get(c);
    c->state = state;
    t->flags |= TLS_IN_HANDSHAKE;
    if (wants_write)
        t->flags |= TLS_HS_WANTS_WRITE;
    else
        t->flags &= ~TLS_HS_WANTS_WRITE;
    tls_arm_hs_timer(c);
    tls_update_events(c);
}

static void tls_tcp_connected(conn *c)
{
    tls_data *t = tls_get(c);
    char err[SOCK_ERR_LEN];
    if (sock_connect_result(c->fd, err) != 0) {
        conn_set_error(c, err);
        tls_finish(c, CONN_STATE_ERROR);
        return;
    }
    t->flags &= ~TLS_TCP_CONNECTING;
    if (c->flags & CONN_FLAG_MANUAL_HANDSHAKE) {
        tls_finish(c, CONN_STATE_CONNECTED);
        return;
    }
    c->state = CONN_STATE_CONNECTING;
    t->flags |= TLS_IN_HANDSHAKE;
    tls_handshake_step(c);
}

/* ------------------------------------------------------------ the loop */

static void tls_event(loop *l, int fd, void *data, int mask)
{
    (void)l;
    (void)fd;
    conn *c = data;
    tls_data *t = tls_get(c);
    c->refs++;
    if (t->flags & TLS_TCP_CONNECTING) {
        if (mask & LOOP_WRITABLE) tls_tcp_connected(c);
        mask = 0;
    } else if (t->flags & TLS_IN_HANDSHAKE) {
        tls_handshake_step(c);
        mask = 0;
    }
    if ((c->flags & CONN_FLAG_CLOSE_SCHEDULED) || c->state != CONN_STATE_CONNECTED) mask = 0;
    int call_read = ((mask & LOOP_READABLE) && c->read_handler) ||
                    ((mask & LOOP_WRITABLE) && (t->flags & TLS_READ_WANTS_WRITE));
    int call_write = ((mask & LOOP_WRITABLE) && c->write_handler) ||
                     ((mask & LOOP_READABLE) && (t->flags & TLS_WRITE_WANTS_READ));
    int write_first = (c->flags & CONN_FLAG_WRITE_BARRIER) != 0;
    if (!write_first && call_read && c->read_handler) c->read_handler(c);
    if (call_write && c->write_handler && !(c->flags & CONN_FLAG_CLOSE_SCHEDULED))
        c->write_handler(c);
    if (write_first && call_read && c->read_handler && !(c->flags & CONN_FLAG_CLOSE_SCHEDULED))
        c->read_handler(c);
    tls_check_pending(c);
    c->refs--;
    conn_call_handler(c, NULL); /* releases the conn if a handler closed it */
}

/* Runs the read handler of a conn whose bytes wait inside OpenSSL. */
static long long tls_pending_proc(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    conn *c = data;
    tls_data *t = tls_get(c);
    t->pending_timer = -1;
    c->refs++;
    if (c->state == CONN_STATE_CONNECTED && c->read_handler &&
        !(c->flags & CONN_FLAG_CLOSE_SCHEDULED) && SSL_pending(t->ssl) > 0)
        c->read_handler(c);
    tls_check_pending(c);
    c->refs--;
    conn_call_handler(c, NULL);
    return LOOP_NOMORE;
}

/* ------------------------------------------------------------ the ops */

static int tls_connect(conn *c, const char *host, int port, const char *src, conn_handler *h)
{
    tls_data *t = tls_get(c);
    if (conn_start_tcp_connect(c, host, port, src, h) == -1) return -1;
    SSL_set_fd(t->ssl, c->fd);
    SSL_set_connect_state(t->ssl);
    /* SNI for names; the chain is verified against the CA, as Redis does. */
    unsigned char ip[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, ip) != 1 && inet_pton(AF_INET6, host, ip) != 1)
        SSL_set_tlsext_host_name(t->ssl, host);
    t->flags |= TLS_TCP_CONNECTING;
    tls_arm_hs_timer(c);
    return tls_update_events(c);
}

static int tls_accept(conn *c, conn_handler *h)
{
    c->conn_handler = h;
    tls_begin_handshake(c, CONN_STATE_ACCEPTING, 0);
    return 0;
}

static int tls_handshake(conn *c, conn_handler *h)
{
    tls_data *t = tls_get(c);
    if (c->state != CONN_STATE_CONNECTED || SSL_is_init_finished(t->ssl)) {
        conn_set_error(c, "TLS handshake needs a connected transport and no handshake yet");
        return -1;
    }
    c->conn_handler = h;
    tls_begin_handshake(c, CONN_STATE_CONNECTING, 1);
    return 0;
}

static ssize_t tls_read(conn *c, void *buf, size_t len)
{
    tls_data *t = tls_get(c);
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        if (t->flags & TLS_READ_WANTS_WRITE) tls_set_flag(c, TLS_READ_WANTS_WRITE, 0);
        return n;
    }
    return tls_io_failed(c, n, 1);
}

static ssize_t tls_write(conn *c, const void *buf, size_t len)
{
    tls_data *t = tls_get(c);
    if (len == 0) return CONN_AGAIN;
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        if (t->flags & TLS_WRITE_WANTS_READ) tls_set_flag(c, TLS_WRITE_WANTS_READ, 0);
        return n;
    }
    return tls_io_failed(c, n, 0);
}

/* SSL has no gathered write: small iovecs are copied into one record's
 * worth of buffer, a large first one is written alone. A retry after
 * CONN_AGAIN passes at least the same bytes again, as OpenSSL requires. */
static ssize_t tls_writev(conn *c, const struct iovec *iov, int iovcnt)
{
    if (iovcnt == 1 || iov[0].iov_len >= TLS_WRITEV_BUF)
        return tls_write(c, iov[0].iov_base, iov[0].iov_len);
    char buf[TLS_WRITEV_BUF];
    size_t used = 0;
    for (int i = 0; i < iovcnt && used < sizeof(buf); i++) {
        size_t n = iov[i].iov_len < sizeof(buf) - used ? iov[i].iov_len : sizeof(buf) - used;
        memcpy(buf + used, iov[i].iov_base, n);
        used += n;
    }
    return tls_write(c, buf, used);
}

static void tls_close(conn *c)
{
    tls_data *t = tls_get(c);
    if (!t) return;
    tls_stop_hs_timer(c);
    if (t->pending_timer != -1) loop_del_timer(c->loop, t->pending_timer);
    /* A clean close sends close_notify (best effort, never waiting). */
    if (c->state == CONN_STATE_CONNECTED && !(t->flags & (TLS_FATAL | TLS_IN_HANDSHAKE)) &&
        SSL_is_init_finished(t->ssl)) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);
    }
    ERR_clear_error();
    SSL_free(t->ssl);
    if (c->fd != -1) {
        loop_del_file(c->loop, c->fd, LOOP_READABLE | LOOP_WRITABLE | LOOP_BARRIER);
        sock_close(c->fd);
        c->fd = -1;
    }
    tfree(t);
    c->type_data = NULL;
}

static const conn_type tls_type = {
    .name = "tls",
    .connect = tls_connect,
    .accept = tls_accept,
    .handshake = tls_handshake,
    .read = tls_read,
    .write = tls_write,
    .writev = tls_writev,
    .update_events = tls_update_events,
    .close = tls_close,
};

static conn *tls_conn_new(loop *l, int fd, tls_context *ctx)
{
    conn *c = conn_new(&tls_type, l, fd);
    tls_data *t = tcalloc(sizeof(*t));
    t->ssl = SSL_new(ctx->ssl_ctx);
    t->hs_timeout_ms = ctx->handshake_timeout_ms;
    t->hs_timer = t->pending_timer = -1;
    c->type_data = t;
    return c;
}

conn *conn_create_tls(loop *l, tls_context *ctx) { return tls_conn_new(l, -1, ctx); }

conn *conn_create_accepted_tls(loop *l, int fd, tls_context *ctx)
{
    conn *c = tls_conn_new(l, fd, ctx);
    SSL_set_fd(tls_get(c)->ssl, fd);
    SSL_set_accept_state(tls_get(c)->ssl);
    c->state = CONN_STATE_ACCEPTING;
    return c;
}
