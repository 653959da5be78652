/* handshake.c: the replica link's handlers from CONNECT to
 * RECEIVE_PSYNC_REPLY (internal to the link, see link.c for the diagram):
 * the nonblocking connect, the TLS handshake (a state of its own), PING, the pipelined AUTH / REPLCONF
 * listening-port / ip-address / capa and their replies, PSYNC and its reply.
 * Each handler first checks that the state is its own, never blocks, and
 * returns LINK_OK, LINK_AGAIN or LINK_ERR (the reason in the link). The log
 * lines keep Redis's wording. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "repl/link_impl.h"

/* Reads and parses the next reply line: LINK_OK with *r and the line made
 * printable in shown, LINK_AGAIN or LINK_ERR. */
static int handshake_next_reply(repl_link *l, proto_reply *r, char *shown, size_t cap)
{
    const char *line;
    size_t len;
    int rc = link_read_line(l, &line, &len);
    if (rc != LINK_OK) return rc;
    proto_printable(shown, cap, line, len);
    proto_parse_reply(line, len, r);
    return LINK_OK;
}

static int handshake_is_error(enum proto_reply_type type)
{
    return type == PROTO_REPLY_NOAUTH || type == PROTO_REPLY_NOMASTERLINK ||
           type == PROTO_REPLY_LOADING || type == PROTO_REPLY_ERROR;
}

int handshake_connect(repl_link *l)
{
    if (l->state != LINK_CONNECT) return LINK_AGAIN;
    log_msg(LOG_NOTICE, "Connecting to MASTER %s:%d", l->host, l->port);
    conn *c = l->hooks.new_conn(l->hooks.priv);
    if (!c) return link_error(l, "Unable to connect to MASTER: no connection could be created");
    l->conn = c;
    conn_set_private(c, l);
    conn_set_manual_handshake(c); /* TLS_HANDSHAKE is a state of its own */
    const char *src = l->cfg.source_addr[0] ? l->cfg.source_addr : NULL;
    if (conn_connect(c, l->host, l->port, src, link_event) == -1) {
        const char *err = conn_last_error(c);
        return link_error(l, "Unable to connect to MASTER: %s", err ? err : "connect failed");
    }
    l->last_io_ms = link_now(l);
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync started");
    link_set_state(l, LINK_CONNECTING, "connect started");
    return LINK_OK;
}

/* The transport (and TLS) is up: PING opens the handshake. */
static int handshake_send_ping(repl_link *l, const char *reason)
{
    l->last_io_ms = link_now(l);
    if (conn_set_read_handler(l->conn, link_event) == -1)
        return link_error(l, "Can't create readable event for SYNC");
    l->out = proto_ping(l->out);
    if (link_flush(l) != LINK_OK) return LINK_ERR;
    link_set_state(l, LINK_RECEIVE_PING_REPLY, reason);
    return LINK_OK;
}

int handshake_connecting(repl_link *l)
{
    if (l->state != LINK_CONNECTING) return LINK_AGAIN;
    enum conn_state st = conn_get_state(l->conn);
    if (st == CONN_STATE_CONNECTING) return LINK_AGAIN;
    if (st != CONN_STATE_CONNECTED) {
        const char *err = conn_last_error(l->conn);
        return link_error(l, "Error condition on socket for SYNC: %s",
                          err ? err : conn_state_name(st));
    }
    log_msg(LOG_NOTICE, "Non blocking connect for SYNC fired the event.");
    int rc = conn_handshake(l->conn, link_event);
    if (rc == 1) return handshake_send_ping(l, "connected, PING sent");
    if (rc == -1) {
        const char *err = conn_last_error(l->conn);
        return link_error(l, "TLS handshake with MASTER failed: %s", err ? err : "not started");
    }
    l->last_io_ms = link_now(l);
    link_set_state(l, LINK_TLS_HANDSHAKE, "connected, TLS handshake started");
    return LINK_OK;
}

/* The handshake's handler: on success PING, as after a plain connect. */
int handshake_tls(repl_link *l)
{
    if (l->state != LINK_TLS_HANDSHAKE) return LINK_AGAIN;
    enum conn_state st = conn_get_state(l->conn);
    if (st == CONN_STATE_CONNECTING) return LINK_AGAIN;
    if (st != CONN_STATE_CONNECTED) {
        const char *err = conn_last_error(l->conn);
        return link_error(l, "TLS handshake with MASTER failed: %s",
                          err ? err : conn_state_name(st));
    }
    log_msg(LOG_NOTICE, "TLS handshake with MASTER completed");
    return handshake_send_ping(l, "TLS handshake done, PING sent");
}

/* Any status is fine, and so are the errors of a primary that wants AUTH
 * first (it comes next). */
int handshake_ping_reply(repl_link *l)
{
    if (l->state != LINK_RECEIVE_PING_REPLY) return LINK_AGAIN;
    proto_reply r;
    char shown[LINK_SHOWN_MAX];
    int rc = handshake_next_reply(l, &r, shown, sizeof(shown));
    if (rc != LINK_OK) return rc;
    if (r.type == PROTO_REPLY_INVALID)
        return link_error(l, "Bad reply to PING from MASTER: '%s'", shown);
    if (handshake_is_error(r.type) && r.type != PROTO_REPLY_NOAUTH)
        return link_error(l, "Error reply to PING from master: '%s'", shown);
    log_msg(LOG_NOTICE, "Master replied to PING, replication can continue...");
    link_set_state(l, LINK_SEND_HANDSHAKE, "PING replied");
    return LINK_OK;
}

/* Sends the rest of the handshake at once; the replies come in order. */
int handshake_send(repl_link *l)
{
    if (l->state != LINK_SEND_HANDSHAKE) return LINK_AGAIN;
    const link_cfg *cfg = &l->cfg;
    char port[16];
    snprintf(port, sizeof(port), "%d",
             cfg->announce_port ? cfg->announce_port : cfg->listening_port);
    l->sent_auth = cfg->masterauth[0] != '\0';
    l->sent_ip = cfg->announce_ip[0] != '\0';
    if (l->sent_auth) l->out = proto_auth(l->out, cfg->masteruser, cfg->masterauth);
    l->out = proto_replconf(l->out, "listening-port", port);
    if (l->sent_ip) l->out = proto_replconf(l->out, "ip-address", cfg->announce_ip);
    l->out = proto_replconf_capa(l->out);
    if (link_flush(l) != LINK_OK) return LINK_ERR;
    link_set_state(l, l->sent_auth ? LINK_RECEIVE_AUTH_REPLY : LINK_RECEIVE_PORT_REPLY,
                   "handshake sent");
    return LINK_OK;
}

int handshake_auth_reply(repl_link *l)
{
    if (l->state != LINK_RECEIVE_AUTH_REPLY) return LINK_AGAIN;
    proto_reply r;
    char shown[LINK_SHOWN_MAX];
    int rc = handshake_next_reply(l, &r, shown, sizeof(shown));
    if (rc != LINK_OK) return rc;
    if (r.type == PROTO_REPLY_INVALID)
        return link_error(l, "Bad reply to AUTH from MASTER: '%s'", shown);
    if (handshake_is_error(r.type)) return link_error(l, "Unable to AUTH to MASTER: %s", shown);
    link_set_state(l, LINK_RECEIVE_PORT_REPLY, "AUTH accepted");
    return LINK_OK;
}

/* A REPLCONF error is not fatal: an older primary may not know the option. */
static int handshake_replconf_reply(repl_link *l, enum link_state own, const char *option,
                                    enum link_state next)
{
    if (l->state != own) return LINK_AGAIN;
    proto_reply r;
    char shown[LINK_SHOWN_MAX], reason[64];
    int rc = handshake_next_reply(l, &r, shown, sizeof(shown));
    if (rc != LINK_OK) return rc;
    if (r.type == PROTO_REPLY_INVALID)
        return link_error(l, "Bad reply to REPLCONF %s from MASTER: '%s'", option, shown);
    if (handshake_is_error(r.type))
        log_msg(LOG_NOTICE, "(Non critical) Master does not understand REPLCONF %s: %s", option,
                shown);
    snprintf(reason, sizeof(reason), "REPLCONF %s replied", option);
    link_set_state(l, next, reason);
    return LINK_OK;
}

int handshake_port_reply(repl_link *l)
{
    return handshake_replconf_reply(l, LINK_RECEIVE_PORT_REPLY, "listening-port",
                                    l->sent_ip ? LINK_RECEIVE_IP_REPLY : LINK_RECEIVE_CAPA_REPLY);
}

int handshake_ip_reply(repl_link *l)
{
    return handshake_replconf_reply(l, LINK_RECEIVE_IP_REPLY, "ip-address",
                                    LINK_RECEIVE_CAPA_REPLY);
}

int handshake_capa_reply(repl_link *l)
{
    return handshake_replconf_reply(l, LINK_RECEIVE_CAPA_REPLY, "capa", LINK_SEND_PSYNC);
}

int handshake_send_psync(repl_link *l)
{
    if (l->state != LINK_SEND_PSYNC) return LINK_AGAIN;
    if (l->has_cached) {
        log_msg(LOG_NOTICE, "Trying a partial resynchronization (request %s:%lld).",
                l->cached_replid, l->cached_offset + 1);
        l->out = proto_psync(l->out, l->cached_replid, l->cached_offset + 1);
    } else {
        log_msg(LOG_NOTICE, "Partial resynchronization not possible (no cached master)");
        l->out = proto_psync(l->out, NULL, -1);
    }
    if (link_flush(l) != LINK_OK) return LINK_ERR;
    link_set_state(l, LINK_RECEIVE_PSYNC_REPLY, "PSYNC sent");
    return LINK_OK;
}

static int handshake_full_resync(repl_link *l, const proto_reply *r)
{
    memcpy(l->replid, r->replid, sizeof(l->replid));
    l->offset = r->offset;
    log_msg(LOG_NOTICE, "Full resync from master: %s:%lld", l->replid, l->offset);
    if (l->has_cached) log_msg(LOG_NOTICE, "Discarding previously cached master state.");
    l->has_cached = 0;
    if (transfer_begin(l) != LINK_OK) return LINK_ERR;
    link_set_state(l, LINK_TRANSFER, "+FULLRESYNC");
    return LINK_OK;
}

/* The stream goes on from where the cached primary stopped: the bytes read
 * after the reply are its first bytes. */
static int handshake_continue(repl_link *l, const proto_reply *r)
{
    log_msg(LOG_NOTICE, "Successful partial resynchronization with master.");
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    size_t n;
    const char *rest = proto_lines_rest(&l->lines, &n);
    str extra = str_new_len(rest, n);
    proto_lines_clear(&l->lines);
    l->stats.partial_syncs++;
    conn *c = link_hand_over(l, "+CONTINUE");
    l->hooks.on_continue(l->hooks.priv, c, r->replid[0] ? r->replid : NULL, extra, str_len(extra));
    str_free(extra);
    return LINK_OK;
}

int handshake_psync_reply(repl_link *l)
{
    if (l->state != LINK_RECEIVE_PSYNC_REPLY) return LINK_AGAIN;
    proto_reply r;
    char shown[LINK_SHOWN_MAX];
    int rc = handshake_next_reply(l, &r, shown, sizeof(shown));
    if (rc != LINK_OK) return rc;
    switch (r.type) {
    case PROTO_REPLY_FULLRESYNC:
        return handshake_full_resync(l, &r);
    case PROTO_REPLY_CONTINUE:
        return handshake_continue(l, &r);
    case PROTO_REPLY_NOMASTERLINK:
    case PROTO_REPLY_LOADING:
        return link_error(l, "Master is currently unable to PSYNC but should be in the future: %s",
                          shown);
    default:
        return link_error(l, "Unexpected reply to PSYNC from master: %s", shown);
    }
}
