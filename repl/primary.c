/* primary.c: each replica as the primary sees it (primary.h has the state
 * diagram and the edges): the records, the state table and the one
 * transition function, the full sync (a BGSAVE for replication started or
 * shared, +FULLRESYNC, the dump file sent in chunks by a write handler, then
 * the held stream released; or, diskless, replicas gathered into one fork
 * whose RDB rdb/diskless moves to their sockets), REPLCONF ACK, the
 * primary's part of replicationCron, and the slaveN lines of INFO. PSYNC's
 * decision and the backlog are psync.c's.
 *
 * A replica's output is held from the moment it asks for a sync until it is
 * ONLINE: what goes to the connection meanwhile (+FULLRESYNC, keep-alive
 * newlines, "$<len>" and the file) is written to it directly, and the stream
 * fed since the save started waits in the output buffer behind it, under the
 * replica class of client-output-buffer-limit. Knows net/ (clients, the
 * connection, the reply path) and rdb/ (the BGSAVE, the dump file as a
 * stream); never blocks: the file goes out one chunk per writable event. */
#include "repl/primary.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/panic.h"
#include "core/util.h"
#include "net/output.h"
#include "rdb/bgsave.h"
#include "rdb/child.h"
#include "rdb/diskless.h"
#include "repl/proto.h"
#include "repl/wait.h"

typedef struct primary_state_info {
    const char *name;      /* for logs */
    const char *info_name; /* INFO's state=, NULL: not listed */
    int fed;               /* the stream goes to its output */
    int held;              /* its output is held */
    int presync;           /* it gets "\n" keep-alives while its RDB is made */
} primary_state_info;

static const primary_state_info primary_states[PRIMARY_STATES] = {
    [PRIMARY_NONE] = {"NONE", NULL, 0, 0, 0},
    [PRIMARY_WAIT_BGSAVE_START] = {"WAIT_BGSAVE_START", "wait_bgsave", 0, 1, 1},
    [PRIMARY_WAIT_BGSAVE_END] = {"WAIT_BGSAVE_END", "wait_bgsave", 1, 1, 1},
    [PRIMARY_SEND_BULK] = {"SEND_BULK", "send_bulk", 1, 1, 0},
    [PRIMARY_ONLINE] = {"ONLINE", "online", 1, 0, 0},
};

/* Connection handlers get only the connection: this is the state whose
 * replicas they serve. */
static repl *primary_self;

const char *primary_state_name(enum primary_state state)
{
    return (unsigned)state < PRIMARY_STATES ? primary_states[state].name : "UNKNOWN";
}

const char *primary_state_info_name(enum primary_state state)
{
    return (unsigned)state < PRIMARY_STATES ? primary_states[state].info_name : NULL;
}

/* A replica whose client is not on its way out. */
static int primary_live(const primary_replica *p)
{
    return !(p->c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY));
}

int primary_is_fed(const primary_replica *p)
{
    return primary_states[p->state].fed && !p->rdb_only;
}

/* ------------------------------------------------------------ records */

void primary_init(repl *r)
{
    list_init(&r->replicas);
    r->scratch = str_empty();
    r->stream_db = -1;
    r->second_offset = -1;
    r->last_ping_ms = 0;
    r->clock_ms = loop_now_ms;
    primary_self = r;
}

static void primary_bulk_close(primary_bulk *b)
{
    if (b->open) rdb_stream_close(&b->file);
    b->open = 0;
    str_free(b->preamble);
    b->preamble = NULL;
    tfree(b->chunk);
    b->chunk = NULL;
}

static void primary_release(primary_replica *p)
{
    primary_bulk_close(&p->bulk);
    list_del(&p->node);
    tfree(p);
}

void primary_free(repl *r)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->replicas)
        primary_release(list_entry(pos, primary_replica, node));
    str_free(r->scratch);
    r->scratch = NULL;
    psync_free_backlog(r);
    if (primary_self == r) primary_self = NULL;
}

primary_replica *primary_find(repl *r, const client *c)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (p->c == c) return p;
    }
    return NULL;
}

primary_replica *primary_get(repl *r, client *c)
{
    primary_replica *p = primary_find(r, c);
    if (p) return p;
    p = tcalloc(sizeof(*p));
    p->c = c;
    p->state = PRIMARY_NONE;
    list_add_tail(&r->replicas, &p->node);
    return p;
}

void primary_forget(repl *r, client *c)
{
    primary_replica *p = primary_find(r, c);
    if (!p) return;
    if (p->state != PRIMARY_NONE) {
        char name[PRIMARY_NAME_MAX];
        log_msg(LOG_WARNING, "Connection with replica %s lost.",
                primary_name(p, name, sizeof(name)));
    }
    primary_release(p);
    /* Last, and whatever its state (it may have failed between the fork
     * and SEND_BULK): with no target left, the transfer ends, and the next
     * may start, from inside this call. */
    if (c->conn) diskless_forget(c->conn);
}

unsigned long primary_count(const repl *r)
{
    unsigned long n = 0;
    for (const list_node *pos = r->replicas.next; pos != &r->replicas; pos = pos->next)
        if (list_entry(pos, primary_replica, node)->state != PRIMARY_NONE) n++;
    return n;
}

const char *primary_ip(const primary_replica *p, char *buf, size_t len)
{
    int port;
    if (p->announced_ip[0]) return p->announced_ip;
    if (!p->c->conn || conn_peer_ip(p->c->conn, buf, len, &port) == -1) return NULL;
    return buf;
}

const char *primary_name(const primary_replica *p, char *buf, size_t len)
{
    char ip[PRIMARY_ADDR_MAX];
    const char *addr = primary_ip(p, ip, sizeof(ip));
    if (!addr)
        snprintf(buf, len, "client id #%llu", (unsigned long long)p->c->id);
    else if (!p->listening_port)
        snprintf(buf, len, "%s:<unknown-replica-port>", addr);
    else
        snprintf(buf, len, strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, p->listening_port);
    return buf;
}

/* ----------------------------------------------------------- the state */

/* Whether p's output is held in its state. */
static int primary_held(const primary_replica *p)
{
    return primary_states[p->state].held || (p->state == PRIMARY_ONLINE && p->online_on_ack);
}

static void primary_check(const primary_replica *p)
{
    int is_replica = (p->c->flags & CLIENT_REPLICA) != 0;
    int held = (p->c->flags & CLIENT_HOLD_OUTPUT) != 0;
    int from_disk = p->state == PRIMARY_SEND_BULK && !p->diskless;
    if (is_replica != (p->state != PRIMARY_NONE) || held != primary_held(p) ||
        p->bulk.open != from_disk || (p->diskless && p->state != PRIMARY_SEND_BULK) ||
        (p->online_on_ack && p->state != PRIMARY_ONLINE))
        panic("replica invariant broken in state %s (flags %#x, file %s, diskless %d, "
              "online on ack %d)",
              primary_state_name(p->state), (unsigned)p->c->flags,
              p->bulk.open ? "open" : "closed", p->diskless, p->online_on_ack);
}

void primary_set_state(primary_replica *p, enum primary_state to, const char *reason)
{
    enum primary_state from = p->state;
    char name[PRIMARY_NAME_MAX];
    p->state = to;
    if (to == PRIMARY_NONE)
        p->c->flags &= ~CLIENT_REPLICA;
    else
        p->c->flags |= CLIENT_REPLICA;
    output_hold(p->c, primary_held(p));
    primary_check(p);
    log_msg(LOG_NOTICE, "Replica %s: %s -> %s (%s)", primary_name(p, name, sizeof(name)),
            primary_state_name(from), primary_state_name(to), reason);
    if ((from == PRIMARY_ONLINE || to == PRIMARY_ONLINE) && primary_self)
        wait_refresh_good(primary_self, primary_self->clock_ms());
}

/* ------------------------------------------------------- the full sync */

int primary_setup_full_resync(repl *r, primary_replica *p, long long offset, const char *reason)
{
    p->initial_offset = offset;
    primary_set_state(p, PRIMARY_WAIT_BGSAVE_END, reason);
    /* The stream this replica gets must say its db before the first write. */
    r->stream_db = -1;
    if (p->pre_psync) return 0;
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "+FULLRESYNC %s %lld\r\n", r->replid, offset);
    if (conn_write(p->c->conn, buf, (size_t)n) != n) {
        client_close_async(p->c);
        return -1;
    }
    return 0;
}

/* A replica waiting for a save that is about to start. */
static int primary_waiting(const primary_replica *p)
{
    return p->state == PRIMARY_WAIT_BGSAVE_START && primary_live(p);
}

/* The save for the waiting replicas could not start: each is refused. */
static void primary_refuse_waiting(repl *r)
{
    list_node *pos, *tmp;
    log_msg(LOG_WARNING, "BGSAVE for replication failed");
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (!primary_waiting(p)) continue;
        primary_set_state(p, PRIMARY_NONE, "the BGSAVE for SYNC could not start");
        reply_error(p->c, "ERR BGSAVE failed, replication can't continue");
        p->c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    }
}

/* Redis's startBgsaveForReplication, disk target: every replica waiting
 * for a save gets this one, or is refused if it cannot start. */
static void primary_start_bgsave(repl *r)
{
    list_node *pos, *tmp;
    log_msg(LOG_NOTICE, "Starting BGSAVE for SYNC with target: disk");
    if (bgsave_start_for_replication() == -1) {
        primary_refuse_waiting(r);
        return;
    }
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (primary_waiting(p))
            primary_setup_full_resync(r, p, r->offset, "a BGSAVE for SYNC started");
    }
}

/* A save to disk runs: p shares it when another replica waits on it, since
 * that one's output holds the stream from the fork on. An rdb-only replica
 * accumulates no stream, so only another rdb-only one may share its save.
 * (Redis also compares capabilities; they only matter to diskless syncs.) */
static void primary_attach(repl *r, primary_replica *p)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *src = list_entry(pos, primary_replica, node);
        if (src == p || src->state != PRIMARY_WAIT_BGSAVE_END || !primary_live(src)) continue;
        if (src->rdb_only && !p->rdb_only) continue;
        if (!p->rdb_only) output_copy_pending(p->c, src->c);
        primary_setup_full_resync(r, p, src->initial_offset, "shares the running BGSAVE");
        log_msg(LOG_NOTICE, "Waiting for end of BGSAVE for SYNC");
        return;
    }
    log_msg(LOG_NOTICE, "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE "
                        "for SYNC");
}

/* ------------------------------------------------- the diskless sync */

/* rdb/diskless's hook: p got the whole RDB (ONLINE, its stream held until
 * its first ACK, as Redis's repl_put_online_on_ack), or failed. */
static void primary_diskless_target_done(conn *cn, int ok, const char *why, void *priv)
{
    repl *r = priv;
    primary_replica *p = primary_find(r, conn_get_private(cn));
    char name[PRIMARY_NAME_MAX];
    if (!p || p->state != PRIMARY_SEND_BULK || !p->diskless) return;
    primary_name(p, name, sizeof(name));
    if (!ok) {
        log_msg(LOG_WARNING, "Diskless RDB transfer to replica %s failed: %s", name, why);
        client_close_async(p->c);
        return;
    }
    if (p->rdb_only) {
        log_msg(LOG_NOTICE,
                "RDB transfer completed, rdb only replica (%s) should be disconnected asap", name);
        client_close_async(p->c);
        return;
    }
    log_msg(LOG_NOTICE,
            "Streamed RDB transfer with replica %s succeeded (socket). Waiting for REPLCONF ACK "
            "from replica to enable streaming",
            name);
    p->diskless = 0;
    p->online_on_ack = 1;
    p->ack_ms = r->clock_ms();
    primary_set_state(p, PRIMARY_ONLINE, "the RDB reached its socket; its stream waits for an ACK");
}

/* rdb/diskless's hook: the transfer is over; replicas that came meanwhile
 * get the next save. */
static void primary_diskless_finished(void *priv) { primary_start_pending(priv); }

/* Redis's startBgsaveForReplication, socket target: one child for every
 * waiting replica, each getting +FULLRESYNC and then, through rdb/diskless,
 * "$EOF:<mark>\r\n", the RDB and the mark. */
static void primary_start_diskless(repl *r)
{
    list_node *pos, *tmp;
    int n = 0;
    list_for_each_safe(pos, tmp, &r->replicas)
        n += primary_waiting(list_entry(pos, primary_replica, node));
    conn **conns = tmalloc(sizeof(*conns) * (size_t)n);
    n = 0;
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (primary_waiting(p)) conns[n++] = p->c->conn;
    }
    char mark[PROTO_MARK_LEN], head[PROTO_MARK_LEN + 16];
    random_hex(mark, sizeof(mark));
    int head_len = snprintf(head, sizeof(head), "$EOF:%.*s\r\n", PROTO_MARK_LEN, mark);
    diskless_hooks hooks = {primary_diskless_target_done, primary_diskless_finished, r};
    str err = NULL;
    log_msg(LOG_NOTICE, "Starting BGSAVE for SYNC with target: replicas sockets");
    int rc = diskless_start(conns, n, head, (size_t)head_len, mark, sizeof(mark), &hooks, &err);
    tfree(conns);
    if (rc == -1) {
        log_msg(LOG_WARNING, "Can't start the RDB transfer to the replicas: %s", err);
        str_free(err);
        primary_refuse_waiting(r);
        return;
    }
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (!primary_waiting(p)) continue;
        if (primary_setup_full_resync(r, p, r->offset, "a BGSAVE for SYNC started") == -1)
            continue;
        p->diskless = 1;
        primary_set_state(p, PRIMARY_SEND_BULK, "the RDB goes straight to its socket");
    }
}

void primary_full_sync(repl *r, primary_replica *p)
{
    r->has_history = 1;
    p->wait_since_ms = r->clock_ms();
    primary_set_state(p, PRIMARY_WAIT_BGSAVE_START, p->pre_psync ? "SYNC" : "PSYNC, full resync");
    if (!r->backlog && !r->replica_mode) psync_create_backlog(r);
    enum child_type running = child_running();
    if (running == CHILD_RDB) {
        primary_attach(r, p);
    } else if (running == CHILD_REPL) {
        log_msg(LOG_NOTICE, "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
    } else if (running != CHILD_NONE) {
        log_msg(LOG_NOTICE, "No BGSAVE in progress, but another BG operation is active. BGSAVE "
                            "for replication delayed");
    } else {
        primary_start_pending(r);
        if (p->state == PRIMARY_WAIT_BGSAVE_START)
            log_msg(LOG_NOTICE, "Delay next BGSAVE for diskless SYNC");
    }
}

void primary_start_pending(repl *r)
{
    list_node *pos, *tmp;
    if (child_running() != CHILD_NONE) return;
    long long waiting = 0, first_ms = 0;
    int capa = PRIMARY_CAPA_EOF | PRIMARY_CAPA_PSYNC2;
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (!primary_waiting(p)) continue;
        if (!waiting++ || p->wait_since_ms < first_ms) first_ms = p->wait_since_ms;
        capa &= p->capa;
    }
    if (!waiting) return;
    /* As Redis: one replica that cannot take the EOF framing sends them
     * all through the disk. */
    if (!r->diskless_sync || !(capa & PRIMARY_CAPA_EOF)) {
        primary_start_bgsave(r);
        return;
    }
    int enough = r->diskless_max_replicas > 0 && waiting >= r->diskless_max_replicas;
    if (enough || r->clock_ms() - first_ms >= r->diskless_delay_s * 1000)
        primary_start_diskless(r);
}

/* ------------------------------------------------------ sending the RDB */

static int primary_bulk_open(primary_bulk *b, const char *path)
{
    if (rdb_stream_file_reader(&b->file, path) == -1) return -1;
    uint64_t size = rdb_stream_remaining(&b->file);
    if (size == UINT64_MAX) {
        rdb_stream_close(&b->file);
        errno = EINVAL; /* not a regular file */
        return -1;
    }
    b->open = 1;
    b->size = (long long)size;
    b->sent = 0;
    b->preamble = str_cat_fmt(str_empty(), "$%lld\r\n", b->size);
    b->chunk = tmalloc(PRIMARY_CHUNK);
    b->chunk_len = b->chunk_pos = 0;
    return 0;
}

/* One step of the transfer, as Redis's sendBulkToSlave: the preamble, then
 * one chunk of the file. 1 when all is sent, 0 to go on at the next
 * writable event, -1 on an error (logged). */
static int primary_bulk_step(primary_bulk *b, conn *cn)
{
    size_t left = str_len(b->preamble);
    if (left) {
        ssize_t n = conn_write(cn, b->preamble, left);
        if (n == CONN_AGAIN) return 0;
        if (n < 0) {
            log_msg(LOG_WARNING, "Write error sending RDB preamble to replica: %s",
                    conn_last_error(cn));
            return -1;
        }
        str_consume(b->preamble, (size_t)n);
        if ((size_t)n < left) return 0;
    }
    if (b->chunk_pos == b->chunk_len) {
        if (b->sent == b->size) return 1;
        long long want = b->size - b->sent < PRIMARY_CHUNK ? b->size - b->sent : PRIMARY_CHUNK;
        if (rdb_stream_read(&b->file, b->chunk, (size_t)want) == -1) {
            log_msg(LOG_WARNING, "Read error sending DB to replica: %s", b->file.errmsg);
            return -1;
        }
        b->chunk_len = (size_t)want;
        b->chunk_pos = 0;
    }
    ssize_t n = conn_write(cn, b->chunk + b->chunk_pos, b->chunk_len - b->chunk_pos);
    if (n == CONN_AGAIN) return 0;
    if (n < 0) {
        log_msg(LOG_WARNING, "Write error sending DB to replica: %s", conn_last_error(cn));
        return -1;
    }
    b->chunk_pos += (size_t)n;
    b->sent += n;
    return b->sent == b->size;
}

/* The file is out: the replica goes ONLINE and its held stream with it, or,
 * rdb-only, is closed (Redis's replicaPutOnline). */
static void primary_bulk_done(repl *r, primary_replica *p)
{
    char name[PRIMARY_NAME_MAX];
    primary_bulk_close(&p->bulk);
    conn_set_write_handler(p->c->conn, NULL);
    primary_name(p, name, sizeof(name));
    if (p->rdb_only) {
        log_msg(LOG_NOTICE,
                "RDB transfer completed, rdb only replica (%s) should be disconnected asap", name);
        client_close_async(p->c);
        return;
    }
    p->ack_ms = r->clock_ms();
    primary_set_state(p, PRIMARY_ONLINE, "the RDB was sent");
    log_msg(LOG_NOTICE, "Synchronization with replica %s succeeded", name);
}

/* The write handler of a replica's connection in SEND_BULK. */
static void primary_bulk_handler(conn *cn)
{
    client *c = conn_get_private(cn);
    primary_replica *p = primary_self ? primary_find(primary_self, c) : NULL;
    if (!p || p->state != PRIMARY_SEND_BULK || !primary_live(p)) {
        conn_set_write_handler(cn, NULL);
        return;
    }
    int rc = primary_bulk_step(&p->bulk, cn);
    if (rc == 1) {
        primary_bulk_done(primary_self, p);
    } else if (rc == -1) {
        conn_set_write_handler(cn, NULL);
        client_close_async(c);
    }
}

void primary_save_done(repl *r, int ok, const char *path)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (p->state != PRIMARY_WAIT_BGSAVE_END || !primary_live(p)) continue;
        if (!ok) {
            log_msg(LOG_WARNING, "SYNC failed. BGSAVE child returned an error");
            client_close_async(p->c);
        } else if (primary_bulk_open(&p->bulk, path) == -1) {
            log_msg(LOG_WARNING, "SYNC failed. Can't open/stat DB after BGSAVE: %s",
                    strerror(errno));
            client_close_async(p->c);
        } else {
            primary_set_state(p, PRIMARY_SEND_BULK, "the BGSAVE ended");
            conn_set_write_handler(p->c->conn, primary_bulk_handler);
        }
    }
    primary_start_pending(r);
}

/* ------------------------------------------------- ACKs, cron and INFO */

/* The first ACK after a diskless sync: the replica has loaded the RDB, and
 * its held stream may flow (Redis's replicaPutOnline). */
static void primary_put_online(primary_replica *p)
{
    char name[PRIMARY_NAME_MAX];
    p->online_on_ack = 0;
    output_hold(p->c, 0);
    primary_check(p);
    log_msg(LOG_NOTICE, "Synchronization with replica %s succeeded",
            primary_name(p, name, sizeof(name)));
}

void primary_ack(repl *r, primary_replica *p, long long offset)
{
    if (offset > p->ack_offset) p->ack_offset = offset;
    p->ack_ms = r->clock_ms();
    if (p->online_on_ack) primary_put_online(p);
}

void primary_drop_all(repl *r)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if (p->state != PRIMARY_NONE) client_close_async(p->c);
    }
}

/* An ONLINE replica that has not acknowledged for repl-timeout is gone
 * (one that came with SYNC never acknowledges). */
static int primary_timed_out(const repl *r, const primary_replica *p, long long now_ms)
{
    return p->state == PRIMARY_ONLINE && !p->pre_psync && now_ms - p->ack_ms > r->timeout_s * 1000;
}

/* A diskless target whose socket has refused bytes for repl-timeout holds
 * every other target back: it goes. */
static int primary_stalled(const repl *r, const primary_replica *p, long long now_ms)
{
    long long since = p->diskless ? diskless_blocked_since(p->c->conn) : 0;
    return since && now_ms - since > r->timeout_s * 1000;
}

void primary_cron(repl *r, long long now_ms)
{
    list_node *pos, *tmp;
    char name[PRIMARY_NAME_MAX];
    if (primary_count(r) && now_ms - r->last_ping_ms >= r->ping_period_s * 1000) {
        feed_ping(r);
        r->last_ping_ms = now_ms;
    }
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        if ((p->c->flags & CLIENT_CLOSE_AFTER_REPLY) && primary_states[p->state].held) {
            /* A reply (a protocol error) that could only go after the RDB. */
            client_close_async(p->c);
            continue;
        }
        if (!primary_live(p)) continue;
        if (primary_timed_out(r, p, now_ms)) {
            log_msg(LOG_WARNING, "Disconnecting timedout replica (streaming sync): %s",
                    primary_name(p, name, sizeof(name)));
            client_close_async(p->c);
        } else if (primary_stalled(r, p, now_ms)) {
            log_msg(LOG_WARNING, "Disconnecting timedout replica (full sync): %s",
                    primary_name(p, name, sizeof(name)));
            client_close_async(p->c);
        } else if (primary_states[p->state].presync) {
            /* Best effort: a full socket buffer keeps the link busy anyway. */
            conn_write(p->c->conn, "\n", 1);
        }
    }
    primary_start_pending(r);
    psync_cron(r, now_ms);
}

str primary_info(repl *r, str s, long long now_ms)
{
    list_node *pos, *tmp;
    int id = 0;
    s = str_cat_fmt(s, "connected_slaves:%lu\r\n", primary_count(r));
    s = wait_info(r, s);
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *p = list_entry(pos, primary_replica, node);
        char ipbuf[PRIMARY_ADDR_MAX];
        const char *state = primary_state_info_name(p->state);
        const char *ip = primary_ip(p, ipbuf, sizeof(ipbuf));
        if (!state || !ip) continue;
        long long lag = p->state == PRIMARY_ONLINE ? (now_ms - p->ack_ms) / 1000 : 0;
        s = str_cat_fmt(s, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", id++, ip,
                        p->listening_port, state, p->ack_offset, lag);
    }
    return s;
}
