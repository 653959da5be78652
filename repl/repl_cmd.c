/* repl_cmd.c: the primary's replication commands, with Redis 7.0's replies
 * and errors: SYNC and PSYNC (a partial resync, see psync.c, or a full one,
 * see primary.c), REPLCONF
 * (listening-port, ip-address, capa, ack, getack, rdb-only) and ROLE for the
 * primary role. Each reaches the replication state through the command
 * table. A replica's bad input only ever answers or closes that client. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/command.h"
#include "core/log.h"
#include "core/util.h"
#include "net/output.h"
#include "repl/primary.h"
#include "repl/replica.h"
#include "repl/wait.h"

static int repl_cmd_parse(const str s, long long *v) { return parse_ll(s, str_len(s), v); }

/* SYNC, and PSYNC <replid> <offset>. */
static void repl_cmd_sync(client *c, const command *cmd)
{
    repl *r = cmd->state;
    char name[PRIMARY_NAME_MAX];
    if (c->flags & CLIENT_REPLICA) return; /* already one: ignored, as Redis */
    if (replica_link_is_down()) {
        reply_error(c, "NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    /* The stream must start on an empty output, so that a replica joining
     * later can copy this one's. */
    if (output_has_pending(c)) {
        reply_error(c, "ERR SYNC and PSYNC are invalid with pending output");
        return;
    }
    primary_replica *p = primary_get(r, c);
    log_msg(LOG_NOTICE, "Replica %s asks for synchronization", primary_name(p, name, sizeof(name)));
    if (!strcasecmp(c->argv[0], "psync")) {
        long long offset;
        if (repl_cmd_parse(c->argv[2], &offset) == -1) {
            reply_error(c, "ERR value is not an integer or out of range");
            log_msg(LOG_WARNING, "Replica %s asks for synchronization but with a wrong offset",
                    name);
            return;
        }
        if (psync_try_partial(r, p, c->argv[1], offset) == 0) return;
    } else {
        p->pre_psync = 1;
    }
    r->stats.sync_full++;
    primary_full_sync(r, p);
}

/* REPLCONF ip-address: shorter than Redis's NET_HOST_STR_LEN. */
static int repl_cmd_ip(client *c, primary_replica *p, const str value)
{
    if (str_len(value) >= sizeof(p->announced_ip)) {
        reply_error_fmt(
            c, "ERR REPLCONF ip-address provided by replica instance is too long: %zu bytes",
            str_len(value));
        return -1;
    }
    memcpy(p->announced_ip, value, str_len(value) + 1);
    return 0;
}

/* REPLCONF ACK <offset> [FACK <offset>]: only from a replica; no reply. */
static void repl_cmd_ack(repl *r, client *c, const str value)
{
    primary_replica *p = primary_find(r, c);
    long long offset;
    if (!p || p->state == PRIMARY_NONE || repl_cmd_parse(value, &offset) == -1) return;
    primary_ack(r, p, offset);
    wait_ack_received(r);
}

/* One option of REPLCONF. 1 when done (ACK, GETACK: no reply), -1 after
 * an error reply, 0 to go on. */
static int repl_cmd_option(repl *r, client *c, const str opt, const str value)
{
    long long v;
    if (!strcasecmp(opt, "ack")) {
        repl_cmd_ack(r, c, value);
        return 1;
    }
    if (!strcasecmp(opt, "getack")) {
        replica_send_ack(); /* a replica answers its primary; a primary has none */
        return 1;
    }
    primary_replica *p = primary_get(r, c);
    if (!strcasecmp(opt, "listening-port")) {
        if (repl_cmd_parse(value, &v) == -1) {
            reply_error(c, "ERR value is not an integer or out of range");
            return -1;
        }
        p->listening_port = (int)v;
    } else if (!strcasecmp(opt, "ip-address")) {
        return repl_cmd_ip(c, p, value);
    } else if (!strcasecmp(opt, "capa")) {
        /* Capabilities this primary does not know are ignored. */
        if (!strcasecmp(value, "eof")) p->capa |= PRIMARY_CAPA_EOF;
        if (!strcasecmp(value, "psync2")) p->capa |= PRIMARY_CAPA_PSYNC2;
    } else if (!strcasecmp(opt, "rdb-only")) {
        if (repl_cmd_parse(value, &v) == -1) {
            reply_error(c, "ERR value is not an integer or out of range");
            return -1;
        }
        if (v < 0 || v > 1) {
            reply_error(c, "ERR value is out of range, value must between 0 and 1");
            return -1;
        }
        p->rdb_only = (int)v;
    } else {
        reply_error_fmt(c, "ERR Unrecognized REPLCONF option: %s", opt);
        return -1;
    }
    return 0;
}

/* REPLCONF <option> <value> [<option> <value> ...] */
static void repl_cmd_replconf(client *c, const command *cmd)
{
    if (c->argc % 2 == 0) {
        reply_error(c, "ERR syntax error");
        return;
    }
    for (int j = 1; j < c->argc; j += 2) {
        int rc = repl_cmd_option(cmd->state, c, c->argv[j], c->argv[j + 1]);
        if (rc != 0) return;
    }
    reply_ok(c);
}

static void repl_cmd_reply_ll(client *c, long long v)
{
    char buf[24];
    reply_bulk(c, buf, ll_to_text(buf, v));
}

/* ROLE: master, the offset, and [ip, port, acknowledged offset] of every
 * ONLINE replica; a replica's own answer comes from repl/replica.c. */
static void repl_cmd_role(client *c, const command *cmd)
{
    repl *r = cmd->state;
    list_node *pos, *tmp;
    long long n = 0;
    char ip[PRIMARY_ADDR_MAX];
    if (replica_is_active()) {
        replica_role_reply(c);
        return;
    }
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (p->state == PRIMARY_ONLINE && primary_ip(p, ip, sizeof(ip))) n++;
    }
    reply_array_len(c, 3);
    reply_bulk_cstr(c, "master");
    reply_integer(c, r->offset);
    reply_array_len(c, n);
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        const char *addr = primary_ip(p, ip, sizeof(ip));
        if (p->state != PRIMARY_ONLINE || !addr) continue;
        reply_array_len(c, 3);
        reply_bulk_cstr(c, addr);
        repl_cmd_reply_ll(c, p->listening_port);
        repl_cmd_reply_ll(c, p->ack_offset);
    }
}

static command repl_cmd_table[] = {
    {.name = "sync", .proc = repl_cmd_sync, .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, .group = "server",
     .summary = "Internal command used for replication", .since = "1.0.0"},
    {.name = "psync", .proc = repl_cmd_sync, .arity = -3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, .group = "server",
     .summary = "Internal command used for replication", .since = "2.8.0"},
    {.name = "replconf", .proc = repl_cmd_replconf, .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "An internal command for configuring the replication stream", .since = "3.0.0"},
    {.name = "role", .proc = repl_cmd_role, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, .group = "server",
     .summary = "Return the role of the instance in the context of replication",
     .since = "2.8.12"},
    {0},
};

void repl_cmd_register(repl *r)
{
    for (command *cmd = repl_cmd_table; cmd->name; cmd++) cmd->state = r;
    command_register_all(repl_cmd_table);
}
