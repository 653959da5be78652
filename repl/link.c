/* link.c: the replica link's state machine: its states and their table, the
 * one function that changes state, the driver that runs a state's handler
 * when its event comes, failures and back-off, the I/O helpers the handlers
 * share, the cron, INFO and the public API (link.h). The handlers live in
 * handshake.c (CONNECT ... RECEIVE_PSYNC_REPLY) and transfer.c (TRANSFER).
 *
 *                     link_start()
 *   NONE -----------------------------------> CONNECT <------------------+
 *    ^                                           |                       |
 *    | link_stop()                               | cron tick or          | link_fail():
 *    | (from any state)                          | link_start()          | error reply,
 *    |                                           v                       | garbage, closed,
 *                                           CONNECTING                   | I/O error,
 *                                    TLS conn |  | connect fired         | timeout (cron),
 *                                             v  | (plain conn)          | load failed,
 *                                  TLS_HANDSHAKE |                       | TLS refused
 *                                   handshake |  |                       |
 *                                        done v  v                       |
 *                                        RECEIVE_PING_REPLY              |
 *                                                | +PONG (or -NOAUTH)    |
 *                                                v                       |
 *                                          SEND_HANDSHAKE                |
 *                       with masterauth    |            | without        |
 *                                          v            |                |
 *                               RECEIVE_AUTH_REPLY      |                |
 *                                          |            v                |
 *                                          +--> RECEIVE_PORT_REPLY       |
 *                        with announce-ip  |            | without        |
 *                                          v            |                |
 *                                 RECEIVE_IP_REPLY      |                |
 *                                          |            v                |
 *                                          +--> RECEIVE_CAPA_REPLY       |
 *                                                       |                |
 *                                                       v                |
 *                                                   SEND_PSYNC           |
 *                                                       v                |
 *                     +---------- +CONTINUE ---- RECEIVE_PSYNC_REPLY     |
 *                     |                                 | +FULLRESYNC    |
 *                     v                                 v                |
 *                 CONNECTED <------ loaded -------- TRANSFER             |
 *                     |                                                  |
 *                     +------------- link_connection_lost() -------------+
 *
 * Edges and the function that makes each:
 *   any -> CONNECT: link_start (REPLICAOF host port)
 *   any but NONE, CONNECT -> CONNECT: link_fail (from link_run, link_cron's
 *       timeout, link_on_writable, link_connection_lost when CONNECTED)
 *   any -> NONE: link_stop (REPLICAOF NO ONE)
 *   CONNECT -> CONNECTING: handshake_connect (from link_cron, link_start)
 *   CONNECTING -> TLS_HANDSHAKE (a conn with a handshake) or RECEIVE_PING_REPLY:
 *       handshake_connecting (connect handler)
 *   TLS_HANDSHAKE -> RECEIVE_PING_REPLY: handshake_tls (handshake handler)
 *   RECEIVE_PING_REPLY -> SEND_HANDSHAKE: handshake_ping_reply
 *   SEND_HANDSHAKE -> RECEIVE_AUTH_REPLY or RECEIVE_PORT_REPLY: handshake_send
 *   RECEIVE_AUTH_REPLY -> RECEIVE_PORT_REPLY: handshake_auth_reply
 *   RECEIVE_PORT_REPLY -> RECEIVE_IP_REPLY or RECEIVE_CAPA_REPLY: handshake_port_reply
 *   RECEIVE_IP_REPLY -> RECEIVE_CAPA_REPLY: handshake_ip_reply
 *   RECEIVE_CAPA_REPLY -> SEND_PSYNC: handshake_capa_reply
 *   SEND_PSYNC -> RECEIVE_PSYNC_REPLY: handshake_send_psync
 *   RECEIVE_PSYNC_REPLY -> TRANSFER or CONNECTED: handshake_psync_reply
 *   TRANSFER -> CONNECTED: transfer_receive (through link_hand_over)
 *
 * Invariants (link_check, after every change): NONE, CONNECT and CONNECTED
 * own no connection; CONNECTING to TRANSFER own one; only TRANSFER has a
 * temp file open, and only when it does not load from the connection.
 * Every handler first checks that the state is its own, so a late event or
 * an extra cron tick does nothing. */
#include "repl/link_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/panic.h"

/* Back-off: failures retried at the next tick, then the longest wait. */
#define LINK_BACKOFF_AFTER 3
#define LINK_BACKOFF_MAX_MS 10000
#define LINK_TIMEOUT_CONNECT "Timeout connecting to the MASTER..."
#define LINK_TIMEOUT_TRANSFER                                                                      \
    "Timeout receiving bulk data from MASTER... If the problem persists try to set the "           \
    "'repl-timeout' parameter in redis.conf to a larger value."

typedef struct link_state_info {
    const char *name;
    link_handler *handler; /* what the state does when its event comes */
    const char *timeout;   /* the reason after repl-timeout without I/O; NULL: none */
} link_state_info;

static const link_state_info link_states[LINK_STATES] = {
    [LINK_NONE] = {"NONE", NULL, NULL},
    [LINK_CONNECT] = {"CONNECT", handshake_connect, NULL},
    [LINK_CONNECTING] = {"CONNECTING", handshake_connecting, LINK_TIMEOUT_CONNECT},
    [LINK_TLS_HANDSHAKE] = {"TLS_HANDSHAKE", handshake_tls, LINK_TIMEOUT_CONNECT},
    [LINK_RECEIVE_PING_REPLY] = {"RECEIVE_PING_REPLY", handshake_ping_reply, LINK_TIMEOUT_CONNECT},
    [LINK_SEND_HANDSHAKE] = {"SEND_HANDSHAKE", handshake_send, LINK_TIMEOUT_CONNECT},
    [LINK_RECEIVE_AUTH_REPLY] = {"RECEIVE_AUTH_REPLY", handshake_auth_reply, LINK_TIMEOUT_CONNECT},
    [LINK_RECEIVE_PORT_REPLY] = {"RECEIVE_PORT_REPLY", handshake_port_reply, LINK_TIMEOUT_CONNECT},
    [LINK_RECEIVE_IP_REPLY] = {"RECEIVE_IP_REPLY", handshake_ip_reply, LINK_TIMEOUT_CONNECT},
    [LINK_RECEIVE_CAPA_REPLY] = {"RECEIVE_CAPA_REPLY", handshake_capa_reply, LINK_TIMEOUT_CONNECT},
    [LINK_SEND_PSYNC] = {"SEND_PSYNC", handshake_send_psync, LINK_TIMEOUT_CONNECT},
    [LINK_RECEIVE_PSYNC_REPLY] = {"RECEIVE_PSYNC_REPLY", handshake_psync_reply,
                                  LINK_TIMEOUT_CONNECT},
    [LINK_TRANSFER] = {"TRANSFER", transfer_receive, LINK_TIMEOUT_TRANSFER},
    [LINK_CONNECTED] = {"CONNECTED", NULL, NULL},
};

const char *link_state_name(enum link_state state)
{
    return (unsigned)state < LINK_STATES ? link_states[state].name : "UNKNOWN";
}

/* ------------------------------------------------------------ the core */

long long link_now(const repl_link *l)
{
    if (l->hooks.clock_ms) return l->hooks.clock_ms(l->hooks.priv);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void link_check(const repl_link *l)
{
    int owns_conn = l->state != LINK_NONE && l->state != LINK_CONNECT && l->state != LINK_CONNECTED;
    int has_file = l->xfer.fd != -1;
    int wants_file = l->state == LINK_TRANSFER && !l->xfer.diskless;
    if ((l->conn != NULL) != owns_conn || has_file != wants_file)
        panic("replication link invariant broken in state %s (conn %p, temp fd %d)",
              link_state_name(l->state), (void *)l->conn, l->xfer.fd);
}

void link_set_state(repl_link *l, enum link_state to, const char *reason)
{
    enum link_state from = l->state;
    long long now = link_now(l);
    if (from == LINK_CONNECTED && to != LINK_CONNECTED) l->down_since_ms = now;
    l->state = to;
    l->state_since_ms = now;
    l->stats.transitions++;
    link_check(l);
    log_msg(LOG_NOTICE, "Replication link: %s -> %s (%s)", link_state_name(from),
            link_state_name(to), reason);
    if (l->hooks.on_transition) l->hooks.on_transition(l->hooks.priv, from, to, reason);
}

int link_error(repl_link *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->reason, sizeof(l->reason), fmt, ap);
    va_end(ap);
    return LINK_ERR;
}

/* Releases what the current attempt holds: the connection (unless handed
 * over), buffered bytes, the temp file. */
static void link_drop(repl_link *l)
{
    transfer_abort(l); /* first: a diskless stream lets go of the connection */
    if (l->conn) {
        conn_set_private(l->conn, NULL);
        conn_close(l->conn);
        l->conn = NULL;
    }
    proto_lines_clear(&l->lines);
    str_clear(l->out);
    l->out_pos = 0;
}

/* Ends the attempt: logs and records the reason, counts it, and goes back
 * to CONNECT, where only the next cron tick connects again (the back-off). */
/* The wait before the next attempt after n consecutive failures: none (the
 * next tick, as Redis) for the first LINK_BACKOFF_AFTER, then doubling from
 * 2 s up to LINK_BACKOFF_MAX_MS, so that a lasting refusal (a wrong
 * password, a refused certificate) is not hammered every second. */
static long long link_backoff_ms(long long n)
{
    if (n <= LINK_BACKOFF_AFTER) return 0;
    long long ms = 1000;
    for (long long i = LINK_BACKOFF_AFTER; i < n && ms < LINK_BACKOFF_MAX_MS; i++) ms *= 2;
    return ms < LINK_BACKOFF_MAX_MS ? ms : LINK_BACKOFF_MAX_MS;
}

static void link_fail(repl_link *l, const char *reason)
{
    log_msg(LOG_WARNING, "%s", reason);
    proto_printable(l->last_failure, sizeof(l->last_failure), reason, strlen(reason));
    l->stats.last_failure_ms = link_now(l);
    l->stats.failures++;
    l->stats.consecutive_failures++;
    long long wait = link_backoff_ms(l->stats.consecutive_failures);
    l->retry_at_ms = l->stats.last_failure_ms + wait;
    if (wait)
        log_msg(LOG_NOTICE, "Replication link: %lld failures in a row, next attempt in %lld ms",
                l->stats.consecutive_failures, wait);
    link_drop(l);
    if (l->state != LINK_CONNECT) link_set_state(l, LINK_CONNECT, l->last_failure);
}

/* Runs the current state's handler, then the next state's, as long as the
 * link moves on; stops when a handler waits, fails, or the link is back in
 * CONNECT (whose connect only a tick or link_start may start). */
static void link_run(repl_link *l)
{
    for (;;) {
        enum link_state from = l->state;
        link_handler *handler = link_states[from].handler;
        if (!handler) return;
        int rc = handler(l);
        if (rc == LINK_ERR) {
            link_fail(l, l->reason);
            return;
        }
        if (rc == LINK_AGAIN || l->state == from || l->state == LINK_CONNECT) return;
    }
}

void link_event(conn *c)
{
    repl_link *l = conn_get_private(c);
    if (l && l->conn == c) link_run(l);
}

/* ------------------------------------------------------------- I/O */

static void link_on_writable(conn *c)
{
    repl_link *l = conn_get_private(c);
    if (l && l->conn == c && link_flush(l) == LINK_ERR) link_fail(l, l->reason);
}

int link_flush(repl_link *l)
{
    while (l->out_pos < str_len(l->out)) {
        ssize_t n = conn_write(l->conn, l->out + l->out_pos, str_len(l->out) - l->out_pos);
        if (n == CONN_AGAIN || n == 0) break;
        if (n < 0) {
            const char *err = conn_last_error(l->conn);
            return link_error(l, "Error condition on socket for SYNC: %s",
                              err ? err : "write failed");
        }
        l->out_pos += (size_t)n;
    }
    int pending = l->out_pos < str_len(l->out);
    if (!pending) {
        str_clear(l->out);
        l->out_pos = 0;
    }
    if (pending != conn_has_write_handler(l->conn) &&
        conn_set_write_handler(l->conn, pending ? link_on_writable : NULL) == -1)
        return link_error(l, "Can't create writable event for SYNC");
    return LINK_OK;
}

int link_read(repl_link *l, char *buf, size_t cap, size_t *n)
{
    ssize_t r = conn_read(l->conn, buf, cap);
    if (r > 0) {
        *n = (size_t)r;
        l->last_io_ms = link_now(l);
        return LINK_OK;
    }
    if (r == CONN_AGAIN) return LINK_AGAIN;
    const char *err = r == 0 ? "connection lost" : conn_last_error(l->conn);
    return link_error(l, "I/O error trying to sync with MASTER: %s", err ? err : "read failed");
}

int link_read_line(repl_link *l, const char **line, size_t *len)
{
    int rc = proto_lines_next(&l->lines, line, len);
    if (rc == PROTO_AGAIN) {
        char buf[LINK_READ_CHUNK];
        size_t n;
        int r = link_read(l, buf, sizeof(buf), &n);
        if (r != LINK_OK) return r;
        proto_lines_feed(&l->lines, buf, n);
        rc = proto_lines_next(&l->lines, line, len);
    }
    if (rc == PROTO_ERR)
        return link_error(l, "Protocol error from MASTER: a line longer than %d bytes",
                          PROTO_LINE_MAX);
    return rc == PROTO_OK ? LINK_OK : LINK_AGAIN;
}

conn *link_hand_over(repl_link *l, const char *reason)
{
    conn *c = l->conn;
    conn_set_read_handler(c, NULL);
    conn_set_write_handler(c, NULL);
    conn_set_private(c, NULL);
    l->conn = NULL;
    str_clear(l->out);
    l->out_pos = 0;
    l->has_cached = 0;
    l->stats.consecutive_failures = 0;
    link_set_state(l, LINK_CONNECTED, reason);
    return c;
}

/* ------------------------------------------------------------- the API */

static char *link_strdup(const char *s)
{
    return tstrdup(s ? s : "");
}

static void link_cfg_free(link_cfg *c)
{
    tfree(c->masterauth);
    tfree(c->masteruser);
    tfree(c->announce_ip);
    tfree(c->dir);
    tfree(c->source_addr);
}

void link_configure(repl_link *l, const link_settings *s)
{
    link_cfg_free(&l->cfg);
    l->cfg.masterauth = link_strdup(s->masterauth);
    l->cfg.masteruser = link_strdup(s->masteruser);
    l->cfg.announce_ip = link_strdup(s->announce_ip);
    l->cfg.dir = link_strdup(s->dir);
    l->cfg.source_addr = link_strdup(s->source_addr);
    l->cfg.announce_port = s->announce_port;
    l->cfg.listening_port = s->listening_port;
    l->cfg.timeout_ms = s->timeout_ms;
}

repl_link *link_create(const link_hooks *hooks)
{
    tassert(hooks->new_conn && hooks->load_rdb && hooks->on_continue && hooks->on_connected);
    tassert(!hooks->diskless || hooks->load_conn);
    repl_link *l = tcalloc(sizeof(*l));
    l->hooks = *hooks;
    link_settings defaults = {.listening_port = 6379, .timeout_ms = 60000};
    link_configure(l, &defaults);
    proto_lines_init(&l->lines, PROTO_LINE_MAX);
    l->out = str_empty();
    transfer_init(l);
    l->down_since_ms = -1;
    l->state_since_ms = link_now(l);
    l->stats.last_failure_ms = -1;
    l->stats.last_full_sync_ms = -1;
    l->stats.last_full_sync_bytes = -1;
    l->stats.last_full_sync_end_ms = -1;
    return l;
}

void link_free(repl_link *l)
{
    if (!l) return;
    link_drop(l);
    proto_lines_free(&l->lines);
    str_free(l->out);
    str_free(l->xfer.extra);
    link_cfg_free(&l->cfg);
    tfree(l->host);
    tfree(l);
}

void link_start(repl_link *l, const char *host, int port)
{
    char reason[LINK_REASON_MAX];
    link_drop(l);
    tfree(l->host);
    l->host = tstrdup(host);
    l->port = port;
    snprintf(reason, sizeof(reason), "REPLICAOF %s %d", host, port);
    link_set_state(l, LINK_CONNECT, reason);
    link_run(l);
}

void link_stop(repl_link *l)
{
    if (l->state == LINK_NONE) return;
    link_drop(l);
    tfree(l->host);
    l->host = NULL;
    l->port = 0;
    link_set_state(l, LINK_NONE, "REPLICAOF NO ONE");
}

void link_connection_lost(repl_link *l, const char *reason)
{
    if (l->state == LINK_CONNECTED) link_fail(l, reason ? reason : "Connection with master lost.");
}

void link_cron(repl_link *l, long long now_ms)
{
    const char *timeout = link_states[l->state].timeout;
    if (timeout && now_ms - l->last_io_ms > l->cfg.timeout_ms) {
        link_fail(l, timeout);
        return;
    }
    if (l->state == LINK_CONNECT && now_ms >= l->retry_at_ms) link_run(l);
}

void link_set_cached_primary(repl_link *l, const char *replid, long long offset)
{
    snprintf(l->cached_replid, sizeof(l->cached_replid), "%s", replid);
    l->cached_offset = offset;
    l->has_cached = 1;
}

void link_clear_cached_primary(repl_link *l)
{
    l->has_cached = 0;
}

enum link_state link_get_state(const repl_link *l)
{
    return l->state;
}
const char *link_host(const repl_link *l)
{
    return l->host;
}
int link_port(const repl_link *l)
{
    return l->port;
}
int link_is_up(const repl_link *l)
{
    return l->state == LINK_CONNECTED;
}
int link_sync_in_progress(const repl_link *l)
{
    return l->state == LINK_TRANSFER;
}
const link_stats *link_get_stats(const repl_link *l)
{
    return &l->stats;
}
const char *link_last_failure(const repl_link *l)
{
    return l->last_failure;
}

str link_ack_command(long long offset)
{
    return proto_ack(str_empty(), offset);
}

/* ------------------------------------------------------------- INFO */

/* Whole seconds from a past time to now, or -1 for "never". */
static long long link_seconds_since(long long then_ms, long long now_ms)
{
    return then_ms < 0 ? -1 : (now_ms - then_ms) / 1000;
}

/* Redis's progress fields; -1 for sizes not known (EOF-marked transfer). */
static str link_info_transfer(const repl_link *l, str s, long long now_ms)
{
    const link_transfer *t = &l->xfer;
    long long read = transfer_read_bytes(l);
    double perc = t->size > 0 ? (double)read / (double)t->size * 100 : 0;
    return str_cat_fmt(s,
                       "master_sync_total_bytes:%lld\r\n"
                       "master_sync_read_bytes:%lld\r\n"
                       "master_sync_left_bytes:%lld\r\n"
                       "master_sync_perc:%.2f\r\n"
                       "master_sync_last_io_seconds_ago:%lld\r\n",
                       t->size, read, t->size >= 0 ? t->size - read : -1, perc,
                       link_seconds_since(transfer_last_io_ms(l), now_ms));
}

str link_info(const repl_link *l, str s, long long now_ms)
{
    if (l->state == LINK_TRANSFER) s = link_info_transfer(l, s, now_ms);
    if (l->state != LINK_CONNECTED)
        s = str_cat_fmt(s, "master_link_down_since_seconds:%lld\r\n",
                        link_seconds_since(l->down_since_ms, now_ms));
    char state[32];
    snprintf(state, sizeof(state), "%s", link_state_name(l->state));
    for (char *p = state; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    const link_stats *st = &l->stats;
    return str_cat_fmt(s,
                       "tandem_link_state:%s\r\n"
                       "tandem_link_state_ms:%lld\r\n"
                       "tandem_link_transitions:%lld\r\n"
                       "tandem_link_failures:%lld\r\n"
                       "tandem_link_consecutive_failures:%lld\r\n"
                       "tandem_link_last_failure:%s\r\n"
                       "tandem_link_last_failure_seconds_ago:%lld\r\n"
                       "tandem_link_full_syncs:%lld\r\n"
                       "tandem_link_partial_syncs:%lld\r\n"
                       "tandem_last_full_sync_ms:%lld\r\n"
                       "tandem_last_full_sync_bytes:%lld\r\n"
                       "tandem_last_full_sync_end_seconds_ago:%lld\r\n",
                       state, now_ms - l->state_since_ms, st->transitions, st->failures,
                       st->consecutive_failures, l->last_failure,
                       link_seconds_since(st->last_failure_ms, now_ms), st->full_syncs,
                       st->partial_syncs, st->last_full_sync_ms, st->last_full_sync_bytes,
                       link_seconds_since(st->last_full_sync_end_ms, now_ms));
}
