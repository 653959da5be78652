/* replica.c: the replica role (see replica.h): its directives, REPLICAOF,
 * the link's hooks (a connection, the RDB load, the hand-over of the synced
 * connection as the primary client), the cron (link_cron, the primary's
 * timeout, REPLCONF ACK), the gates, INFO and ROLE.
 *
 * The replication ID and offset live in repl.h's state: the primary's ID
 * once synced (repl_adopt_primary), and the offset of the last byte applied
 * (repl_forward after each command, which hands those bytes on to our own
 * replicas), both restored from the dump at start-up
 * (replica_restore_history). The primary client counts the bytes of the
 * commands it parsed (processed_bytes) and the bytes it took in
 * (read_bytes) since it was created, from the +FULLRESYNC offset or, after
 * +CONTINUE, the cached one. While the link is down, that ID and offset are
 * the cached primary, for PSYNC replid offset+1. */
#include "repl/replica.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/call.h"
#include "core/config.h"
#include "core/cron.h"
#include "core/db.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "net/output.h"
#include "net/resp_parse.h"
#include "net/tls_config.h"
#include "rdb/bgsave.h"
#include "rdb/load.h"
#include "repl/diskless_load.h"
#include "repl/link.h"
#include "repl/proto.h"
#include "repl/repl.h"

#define REPLICA_CRON_MS 1000
#define REPLICA_APPLIED_KEEP (64 * 1024)

static struct {
    loop *loop;
    repl_link *link;
    const long long *listening_port;
    char *host; /* the primary REPLICAOF names; NULL when we are a primary */
    int port;
    client *primary;        /* the primary client while the link is up */
    long long start_offset; /* the offset the primary client started from */
    int db;                 /* the stream's db when the primary client starts */
    rdb_aux loaded;         /* the aux fields of the last RDB loaded */
    /* Directives. */
    str masterauth, masteruser, announce_ip;
    long long announce_port, priority;
    int read_only, serve_stale;
    /* Commands of the primary that failed here (unknown to tandem, or
     * refused): the datasets may differ, so INFO shows them. */
    long long stream_errors;
    char stream_error_command[64];
} rs;

/* ------------------------------------------------------------ helpers */

int replica_is_active(void) { return rs.host != NULL; }

int replica_link_is_down(void) { return rs.host != NULL && !link_is_up(rs.link); }

/* The offset of the last byte applied (Redis's reploff): the cached one
 * while the link is down. */
static long long replica_applied_offset(void)
{
    return rs.primary ? rs.start_offset + rs.primary->processed_bytes : repl_get_offset();
}

static long long replica_read_offset(void)
{
    return rs.primary ? rs.start_offset + rs.primary->read_bytes : repl_get_offset();
}

/* Keys expire on a primary; a replica waits for its primary's DELs. */
static void replica_set_role(int replica)
{
    db_set_expire_mode(replica ? DB_EXPIRE_HIDE : DB_EXPIRE_DELETE);
    log_set_role(replica ? 'S' : 'M');
}

static void replica_configure_link(void)
{
    link_settings s = {.masterauth = rs.masterauth,
                       .masteruser = rs.masteruser,
                       .announce_ip = rs.announce_ip,
                       .announce_port = (int)rs.announce_port,
                       .listening_port = tls_config_replication() && tls_config_port()
                                             ? tls_config_port()
                                             : (int)*rs.listening_port,
                       .timeout_ms = repl_timeout_ms()};
    link_configure(rs.link, &s);
}

/* The link keeps wall-clock times (Unix ms). */
static long long replica_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "id=... addr=..." of the client that asked, for the log. */
static str replica_requester(client *c) { return client_info_line(str_empty(), c); }

/* --------------------------------------------------- the primary client */

void replica_send_ack(void)
{
    if (!rs.primary) return;
    str ack = link_ack_command(replica_applied_offset());
    reply_raw_force(rs.primary, ack, str_len(ack));
    str_free(ack);
}

/* The synced connection becomes the primary client, then the stream bytes
 * that came with the reply are applied. The first ACK goes at once: a
 * diskless Redis primary waits for it before it streams. */
static void replica_attach_primary(conn *cn, long long offset, const char *extra, size_t len)
{
    client *c = client_create(cn);
    c->flags |= CLIENT_PRIMARY;
    c->authenticated = 1;
    c->db = rs.db;
    c->last_interaction_ms = loop_now_ms(); /* a long load must not look like silence */
    rs.primary = c;
    rs.start_offset = offset;
    repl_follow(offset, c->db);
    replica_send_ack();
    client_feed_input(c, extra, len);
}

static void replica_on_connected(void *priv, conn *c, const char *replid, long long offset,
                                 const char *extra, size_t len)
{
    (void)priv;
    rs.db = rs.loaded.repl_stream_db >= 0 && rs.loaded.repl_stream_db < db_count()
                ? rs.loaded.repl_stream_db
                : 0;
    repl_adopt_primary(replid, offset);
    replica_attach_primary(c, offset, extra, len);
}

/* +CONTINUE: the stream goes on from the cached offset, under a new ID when
 * the primary's changed (it was promoted). */
static void replica_on_continue(void *priv, conn *c, const char *new_replid, const char *extra,
                                size_t len)
{
    (void)priv;
    if (new_replid && strcmp(new_replid, repl_get_replid())) {
        log_msg(LOG_WARNING, "Master replication ID changed to %s", new_replid);
        repl_change_replid(new_replid);
    }
    replica_attach_primary(c, repl_get_offset(), extra, len);
}

/* The link goes back to CONNECT (the next tick reconnects), keeping where
 * we stand as the cached primary, for PSYNC replid offset+1. */
void replica_client_freed(client *c)
{
    if (c != rs.primary) return;
    rs.db = c->db;
    rs.primary = NULL;
    link_connection_lost(rs.link, "Connection with master lost.");
    log_msg(LOG_NOTICE, "Caching the disconnected master state.");
    link_set_cached_primary(rs.link, repl_get_replid(), repl_get_offset());
}

/* The bytes of the command just applied go on verbatim (a chain); a
 * buffer grown by one huge command is not kept. */
static void replica_forward(client *c)
{
    repl_forward(c->applied, str_len(c->applied), c->db);
    if (str_alloc_size(c->applied) > REPLICA_APPLIED_KEEP) {
        str_free(c->applied);
        c->applied = NULL;
    } else {
        str_clear(c->applied);
    }
}

/* Keys never expire while the primary's commands run (its DELs do that);
 * then our offset follows. A command of the primary that failed here means
 * the datasets may differ: Redis reports it with the CRITICAL line (whose
 * error text is not kept here). */
void replica_apply(client *c)
{
    long long errors = clients_stats()->error_replies;
    enum db_expire_mode mode = db_get_expire_mode();
    db_set_expire_mode(DB_EXPIRE_NONE);
    call_dispatch(c);
    db_set_expire_mode(mode);
    if (clients_stats()->error_replies != errors) {
        log_msg(LOG_WARNING,
                "== CRITICAL == This replica is sending an error to its master after processing "
                "the command '%s'",
                c->argv[0]);
        rs.stream_errors++;
        snprintf(rs.stream_error_command, sizeof(rs.stream_error_command), "%s", c->argv[0]);
    }
    if (c == rs.primary) replica_forward(c);
}

/* Redis's replicationCron check of a synced link. */
static void replica_check_timeout(long long now_ms)
{
    if (!rs.primary || now_ms - rs.primary->last_interaction_ms <= repl_timeout_ms()) return;
    log_msg(LOG_WARNING, "MASTER timeout: no data nor PING received...");
    client_free(rs.primary);
}

/* ---------------------------------------------------- the link's hooks */

static conn *replica_new_conn(void *priv)
{
    (void)priv;
    return tls_config_replication_conn(rs.loop);
}

static void replica_load_tick(void *data)
{
    (void)data;
    link_transfer_keepalive(rs.link);
}

/* All or nothing: the old dataset comes back unless the whole file loads.
 * Clients get -LOADING meanwhile. */
static int replica_load_rdb(void *priv, const char *path, str *err)
{
    (void)priv;
    rdb_load_info info;
    if (bgsave_load_for_replication(path, replica_load_tick, NULL, &info, err) != 0) {
        log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: the previous dataset is kept");
        return -1;
    }
    rs.loaded = info.aux;
    return 0;
}

/* repl-diskless-load: the same, from the link's connection. */
static int replica_diskless(void *priv)
{
    (void)priv;
    return diskless_load_choose();
}

static int replica_load_conn(void *priv, rdb_stream *s, str *err)
{
    (void)priv;
    rdb_load_info info;
    if (diskless_load_run(s, replica_load_tick, NULL, &info, err) != 0) return -1;
    rs.loaded = info.aux;
    return 0;
}

/* -------------------------------------------------------- role changes */

/* Redis's replicationCacheMasterUsingMyself: where we stand becomes the
 * cached primary, for PSYNC replid offset+1. */
static void replica_cache_myself(int db)
{
    log_msg(LOG_NOTICE,
            "Before turning into a replica, using my own master parameters to synthesize a "
            "cached master: I may be able to synchronize with the new master with just a "
            "partial transfer.");
    rs.db = db;
    link_set_cached_primary(rs.link, repl_get_replid(), repl_get_offset());
}

int replica_restore_history(const rdb_aux *aux)
{
    if (!rs.host) return 0;
    if (aux->repl_id[0] && aux->repl_offset >= 0) {
        repl_restore(aux->repl_id, aux->repl_offset);
        replica_cache_myself(aux->repl_stream_db >= 0 && aux->repl_stream_db < db_count()
                                 ? aux->repl_stream_db
                                 : 0);
    }
    /* Connect now, not at the first cron tick: a restarted replica is back
     * as soon as its dump is loaded. */
    replica_configure_link();
    link_start(rs.link, rs.host, rs.port);
    return 1;
}

/* REPLICAOF host port. From a primary, our own history is the cached
 * primary, so that the new primary may continue it. */
static void replica_set_primary(const char *host, int port)
{
    int was_primary = rs.host == NULL;
    if (rs.primary) client_free(rs.primary);
    tfree(rs.host);
    rs.host = tstrdup(host);
    rs.port = port;
    if (was_primary) {
        replica_set_role(1);
        replica_cache_myself(0);
    }
    replica_configure_link();
    link_start(rs.link, host, port);
}

/* REPLICAOF NO ONE: the data stays; the history we followed becomes our
 * secondary ID and a new one starts. */
static void replica_unset_primary(void)
{
    char replid[PROTO_REPLID_LEN + 1];
    tfree(rs.host);
    rs.host = NULL;
    if (rs.primary) client_free(rs.primary);
    link_stop(rs.link);
    link_clear_cached_primary(rs.link);
    log_msg(LOG_NOTICE, "Discarding previously cached master state.");
    snprintf(replid, sizeof(replid), "%s", repl_get_replid());
    long long offset = repl_get_offset();
    repl_promote(replid, offset);
    log_msg(LOG_WARNING,
            "Setting secondary replication ID to %s, valid up to offset: %lld. New replication ID "
            "is %s",
            replid, offset + 1, repl_get_replid());
    replica_set_role(0);
}

/* ------------------------------------------------------------ commands */

static void replicaof_command(client *c, const command *cmd)
{
    (void)cmd;
    if (!strcasecmp(c->argv[1], "no") && !strcasecmp(c->argv[2], "one")) {
        if (rs.host) {
            replica_unset_primary();
            str who = replica_requester(c);
            log_msg(LOG_NOTICE, "MASTER MODE enabled (user request from '%s')", who);
            str_free(who);
        }
        reply_ok(c);
        return;
    }
    if (c->flags & CLIENT_REPLICA) {
        reply_error(c, "ERR Command is not valid when client is a replica.");
        return;
    }
    long long port;
    if (parse_ll(c->argv[2], str_len(c->argv[2]), &port) == -1 || port < 0 || port > 65535) {
        reply_error(c, "ERR Invalid master port");
        return;
    }
    if (rs.host && !strcasecmp(rs.host, c->argv[1]) && rs.port == port) {
        log_msg(LOG_NOTICE, "REPLICAOF would result into synchronization with the master we are "
                            "already connected with. No operation performed.");
        reply_simple(c, "OK Already connected to specified master");
        return;
    }
    replica_set_primary(c->argv[1], (int)port);
    str who = replica_requester(c);
    log_msg(LOG_NOTICE, "REPLICAOF %s:%d enabled (user request from '%s')", rs.host, rs.port, who);
    str_free(who);
    reply_ok(c);
}

/* Redis's names: one word, "handshake", for the handshake states; NONE is
 * the moment between the replicaof directive and the first tick. */
static const char *replica_role_state(enum link_state state)
{
    switch (state) {
    case LINK_NONE:
    case LINK_CONNECT: return "connect";
    case LINK_CONNECTING:
    case LINK_TLS_HANDSHAKE: return "connecting";
    case LINK_TRANSFER: return "sync";
    case LINK_CONNECTED: return "connected";
    default: return "handshake";
    }
}

void replica_role_reply(client *c)
{
    reply_array_len(c, 5);
    reply_bulk_cstr(c, "slave");
    reply_bulk_cstr(c, rs.host);
    reply_integer(c, rs.port);
    reply_bulk_cstr(c, replica_role_state(link_get_state(rs.link)));
    reply_integer(c, rs.primary ? replica_applied_offset() : -1);
}

#define REPLICAOF_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE | CMD_NO_ASYNC_LOADING)
#define REPLICAOF_SUMMARY "Make the server a replica of another instance, or promote it as master."

static command replica_commands[] = {
    {.name = "replicaof", .proc = replicaof_command, .arity = 3, .flags = REPLICAOF_FLAGS,
     .group = "server", .summary = REPLICAOF_SUMMARY, .since = "5.0.0"},
    {.name = "slaveof", .proc = replicaof_command, .arity = 3, .flags = REPLICAOF_FLAGS,
     .group = "server", .summary = REPLICAOF_SUMMARY, .since = "1.0.0"},
    {0},
};

/* ---------------------------------------------------------------- gates */

int replica_gate(client *c, const command *cmd, void *data)
{
    (void)data;
    if (!rs.host || (c->flags & CLIENT_PRIMARY)) return 0;
    if (rs.read_only && (cmd->flags & CMD_WRITE)) {
        reply_error(c, "READONLY You can't write against a read only replica.");
        return -1;
    }
    if (!rs.serve_stale && !link_is_up(rs.link) && !(cmd->flags & CMD_STALE)) {
        reply_error(c, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to "
                       "'no'.");
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------------- INFO */

str replica_info(str s)
{
    long long io = rs.primary ? (loop_now_ms() - rs.primary->last_interaction_ms) / 1000 : -1;
    s = str_cat_fmt(s,
                    "role:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\nmaster_link_status:%s\r\n"
                    "master_last_io_seconds_ago:%lld\r\nmaster_sync_in_progress:%d\r\n"
                    "slave_read_repl_offset:%lld\r\nslave_repl_offset:%lld\r\n",
                    rs.host, rs.port, link_is_up(rs.link) ? "up" : "down", io,
                    link_sync_in_progress(rs.link), replica_read_offset(),
                    replica_applied_offset());
    s = link_info(rs.link, s, replica_wall_ms());
    s = str_cat_fmt(s, "tandem_stream_errors:%lld\r\ntandem_stream_last_error_command:%s\r\n",
                    rs.stream_errors, rs.stream_error_command);
    return str_cat_fmt(s, "slave_priority:%lld\r\nslave_read_only:%d\r\nreplica_announced:1\r\n",
                       rs.priority, rs.read_only);
}

/* ----------------------------------------------------------------- cron */

static void replica_cron(long long now_ms, void *data)
{
    (void)data;
    if (!rs.host) return;
    replica_configure_link();
    if (link_get_state(rs.link) == LINK_NONE) link_start(rs.link, rs.host, rs.port);
    replica_check_timeout(now_ms);
    link_cron(rs.link, replica_wall_ms());
    replica_send_ack();
}

/* ------------------------------------------------------------ directives */

/* replicaof <host> <port> | no one; one argument holding both is split, as
 * Redis does ("--replicaof 'host port'"). */
static int replicaof_set(void *data, int argc, str *argv, const char **err)
{
    (void)data;
    int n = argc;
    str *args = argc == 1 ? resp_split_args(argv[0], str_len(argv[0]), &n) : argv;
    int rc = -1;
    long long port;
    if (!args || n != 2) {
        *err = "wrong number of arguments";
    } else if (!strcasecmp(args[0], "no") && !strcasecmp(args[1], "one")) {
        tfree(rs.host);
        rs.host = NULL;
        rc = 0;
    } else if (parse_ll(args[1], str_len(args[1]), &port) == -1 || port < 0 || port > 65535) {
        *err = "Invalid master port";
    } else {
        tfree(rs.host);
        rs.host = tstrdup(args[0]);
        rs.port = (int)port;
        rc = 0;
    }
    if (args && args != argv) resp_free_args(args, n);
    return rc;
}

static str replicaof_get(void *data)
{
    (void)data;
    return rs.host ? str_cat_fmt(str_empty(), "%s %d", rs.host, rs.port) : str_empty();
}

static const config_special_ops replicaof_ops = {replicaof_set, replicaof_get};

void replica_register_config(void)
{
    config_register_special("replicaof", &replicaof_ops, NULL, NULL, CONFIG_IMMUTABLE);
    config_register_string("masterauth", &rs.masterauth, "", CONFIG_SENSITIVE, NULL, NULL);
    config_register_string("masteruser", &rs.masteruser, "", CONFIG_SENSITIVE, NULL, NULL);
    config_register_string("replica-announce-ip", &rs.announce_ip, "", 0, NULL, NULL);
    config_register_ll("replica-announce-port", &rs.announce_port, 0, 0, 65535, 0, NULL, NULL);
    config_register_bool("replica-read-only", &rs.read_only, 1, 0, NULL, NULL);
    config_register_bool("replica-serve-stale-data", &rs.serve_stale, 1, 0, NULL, NULL);
    config_register_ll("replica-priority", &rs.priority, 100, 0, 0x7fffffff, 0, NULL, NULL);
    diskless_load_register_config();
}

void replica_init(loop *l, const long long *listening_port)
{
    rs.loop = l;
    rs.listening_port = listening_port;
    rs.loaded.repl_stream_db = -1;
    link_hooks hooks = {.new_conn = replica_new_conn,
                        .load_rdb = replica_load_rdb,
                        .diskless = replica_diskless,
                        .load_conn = replica_load_conn,
                        .on_continue = replica_on_continue,
                        .on_connected = replica_on_connected};
    rs.link = link_create(&hooks);
    command_register_all(replica_commands);
    cron_register("replica", REPLICA_CRON_MS, replica_cron, NULL);
    if (rs.host) replica_set_role(1);
}
