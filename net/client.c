/* client.c: clients: creation and release, the read path (read, parse,
 * dispatch), blocking, asynchronous close, the idle-timeout cron and CLIENT
 * LIST lines.
 * The reply path is in output.c. */
#include "net/client.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "net/output.h"
#include "net/protected.h"
#include "net/sock.h"

#define CLIENT_READ_CHUNK (16 * 1024)
#define CLIENT_BIG_READ (1024 * 1024)
#define CLIENT_BIG_ARG (32 * 1024) /* arguments read straight into place from this size */
#define CLIENT_ARG_READ (256 * 1024) /* at most this much of one at a time */

static struct {
    loop *loop;
    client_settings *settings;
    client_fn *dispatch;
    client_fn *on_free;
    list_node all;
    list_node to_close;
    list_node unblocked;
    list_node yielded;
    unsigned long count;
    unsigned long blocked;
    uint64_t next_id;
    long long now_ms;
    client_stats stats;
} clients;

void clients_init(loop *l, client_settings *settings, client_fn *dispatch, client_fn *on_free)
{
    clients.loop = l;
    clients.settings = settings;
    clients.dispatch = dispatch;
    clients.on_free = on_free;
    list_init(&clients.all);
    list_init(&clients.to_close);
    list_init(&clients.unblocked);
    list_init(&clients.yielded);
    clients.next_id = 1;
}

void clients_set_now(long long now_ms) { clients.now_ms = now_ms; }
unsigned long clients_count(void) { return clients.count; }
list_node *clients_list(void) { return &clients.all; }
client_stats *clients_stats(void) { return &clients.stats; }

static void client_read_handler(conn *cn);

client *client_create(conn *cn)
{
    client *c = tmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->obuf_soft_since_ms = -1;
    c->id = clients.next_id++;
    c->conn = cn;
    c->resp = 2;
    c->querybuf = str_empty();
    c->ctime_ms = c->last_interaction_ms = clients.now_ms;
    resp_parser_init(&c->parser, &clients.settings->proto);
    list_init(&c->pending_node);
    list_init(&c->close_node);
    list_init(&c->unblocked_node);
    list_add_tail(&clients.all, &c->all_node);
    clients.count++;
    if (cn) {
        conn_set_private(cn, c);
        conn_format_peer(cn, c->addr, sizeof(c->addr));
        conn_format_local(cn, c->laddr, sizeof(c->laddr));
        conn_set_read_handler(cn, client_read_handler);
    }
    return c;
}

static int clients_have_password(void)
{
    const str *pass = clients.settings->requirepass;
    return pass && *pass && str_len(*pass) > 0;
}

/* Protected mode: a refused client gets Redis's DENIED error and is closed. */
static int accept_denied(conn *cn)
{
    char ip[SOCK_IP_LEN];
    int port, is_unix = conn_is_unix(cn);
    const char *peer = !is_unix && conn_peer_ip(cn, ip, sizeof(ip), &port) == 0 ? ip : NULL;
    if (!protected_mode_denies(clients.settings->protected_mode, clients_have_password(), peer,
                               is_unix))
        return 0;
    /* Best effort, as for maxclients: the new socket takes it at once. */
    conn_write(cn, protected_mode_error, strlen(protected_mode_error));
    clients.stats.rejected_connections++;
    log_msg(LOG_VERBOSE, "Refused a client from %s in protected mode", peer ? peer : "?");
    conn_close(cn);
    return 1;
}

static void accept_done(conn *cn)
{
    if (conn_get_state(cn) != CONN_STATE_CONNECTED) {
        log_msg(LOG_VERBOSE, "Error accepting a client connection: %s",
                conn_last_error(cn) ? conn_last_error(cn) : "unknown");
        conn_close(cn);
        return;
    }
    if (accept_denied(cn)) return;
    client *c = client_create(cn);
    if (conn_is_unix(cn)) c->flags |= CLIENT_UNIX;
}

void clients_accept(conn *cn, int is_unix)
{
    clients.stats.connections_received++;
    if (clients.count >= (unsigned long)clients.settings->maxclients) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        /* Best effort: the socket is new, so its buffer takes this at once. */
        conn_write(cn, msg, sizeof(msg) - 1);
        clients.stats.rejected_connections++;
        conn_close(cn);
        return;
    }
    if (!is_unix) {
        conn_enable_nodelay(cn);
        if (clients.settings->tcp_keepalive > 0)
            conn_keepalive(cn, (int)clients.settings->tcp_keepalive);
    }
    if (conn_accept(cn, accept_done) == -1) conn_close(cn);
}

static void client_free_args(client *c)
{
    for (int i = 0; i < c->argc; i++) str_free(c->argv[i]);
    tfree(c->argv);
    c->argv = NULL;
    c->argc = 0;
}

void client_free(client *c)
{
    if (clients.on_free) clients.on_free(c);
    if (c->conn) conn_close(c->conn);
    list_del(&c->all_node);
    if (list_linked(&c->close_node)) list_del(&c->close_node);
    if (list_linked(&c->unblocked_node)) list_del(&c->unblocked_node);
    if (c->flags & CLIENT_BLOCKED) clients.blocked--;
    output_forget(c);
    client_free_args(c);
    resp_parser_free(&c->parser);
    str_free(c->querybuf);
    str_free(c->applied);
    str_free(c->name);
    clients.count--;
    tfree(c);
}

void client_close_async(client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    c->flags |= CLIENT_CLOSE_ASAP;
    /* Stop reading at once; the reply path ignores such clients. */
    if (c->conn) conn_set_read_handler(c->conn, NULL);
    list_add_tail(&clients.to_close, &c->close_node);
}

void clients_free_closed(void)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &clients.to_close)
    {
        client_free(list_entry(pos, client, close_node));
    }
}

static void client_protocol_error(client *c)
{
    log_msg(LOG_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s", c->parser.error,
            (unsigned long long)c->id, c->addr);
    char msg[192];
    int n = snprintf(msg, sizeof(msg), "ERR %s", c->parser.error);
    reply_error_len(c, msg, (size_t)n);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    /* No reply to wait for (the primary's are dropped): close now. */
    if (!output_has_pending(c)) client_close_async(c);
}

static int client_auth_required(const client *c)
{
    return !c->authenticated && clients_have_password();
}

/* A primary's parsed bytes, querybuf[*kept, pos), join c->applied, so that
 * a replica hands on exactly what it applied. */
static void client_keep_applied(client *c, size_t *kept, size_t pos)
{
    if (!(c->flags & CLIENT_PRIMARY)) return;
    if (!c->applied) c->applied = str_empty();
    c->applied = str_cat_len(c->applied, c->querybuf + *kept, pos - *kept);
    *kept = pos;
}

/* A slice of output was made: the rest of c's input waits for the next
 * iteration, and nothing more is read from it meanwhile. (A blocked or
 * yielded client is never on both lists: unblocked_node serves both.) */
static void client_yield(client *c)
{
    c->flags |= CLIENT_YIELDED;
    if (c->conn) conn_set_read_handler(c->conn, NULL);
    list_add_tail(&clients.yielded, &c->unblocked_node);
}

static int client_made_a_slice(const client *c, size_t reply_bytes_before)
{
    return c->reply_bytes >= reply_bytes_before + CLIENT_OUTPUT_SLICE &&
           !(c->flags & CLIENT_PRIMARY);
}

void client_process_input(client *c)
{
    size_t pos = 0, kept = 0, reply_bytes_before = c->reply_bytes;
    while (!(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_BLOCKED))) {
        c->parser.unauthenticated = client_auth_required(c);
        int r = resp_parse(&c->parser, c->querybuf, str_len(c->querybuf), &pos);
        if (r == RESP_PARSE_AGAIN) break;
        if (r == RESP_PARSE_ERR) {
            client_protocol_error(c);
            break;
        }
        c->argv = resp_parser_take(&c->parser, &c->argc);
        /* Everything read, less what is still unparsed: Redis's reploff
         * (the command being run included). */
        c->processed_bytes = c->read_bytes - (long long)(str_len(c->querybuf) - pos);
        client_keep_applied(c, &kept, pos);
        clients.dispatch(c);
        client_free_args(c);
        if (client_made_a_slice(c, reply_bytes_before) && pos < str_len(c->querybuf)) {
            if (!(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_BLOCKED))) client_yield(c);
            break;
        }
    }
    client_keep_applied(c, &kept, pos);
    if (pos) str_consume(c->querybuf, pos);
}

void clients_resume_yielded(void)
{
    /* Those that yield again go to the tail: one slice each per call. */
    unsigned long n = 0;
    for (list_node *pos = clients.yielded.next; pos != &clients.yielded; pos = pos->next) n++;
    while (n-- > 0) {
        client *c = list_entry(clients.yielded.next, client, unblocked_node);
        list_del(&c->unblocked_node);
        c->flags &= ~CLIENT_YIELDED;
        client_process_input(c);
        if (!(c->flags & (CLIENT_YIELDED | CLIENT_CLOSE_ASAP)) && c->conn)
            conn_set_read_handler(c->conn, client_read_handler);
    }
    if (!list_empty(&clients.yielded)) loop_skip_next_wait(clients.loop);
}

void client_block(client *c)
{
    c->flags |= CLIENT_BLOCKED;
    clients.blocked++;
}

void client_unblock(client *c)
{
    if (!(c->flags & CLIENT_BLOCKED)) return;
    c->flags &= ~CLIENT_BLOCKED;
    clients.blocked--;
    if (!(c->flags & CLIENT_CLOSE_ASAP)) list_add_tail(&clients.unblocked, &c->unblocked_node);
}

void clients_process_unblocked(void)
{
    while (!list_empty(&clients.unblocked)) {
        client *c = list_entry(clients.unblocked.next, client, unblocked_node);
        list_del(&c->unblocked_node);
        client_process_input(c);
    }
}

unsigned long clients_blocked_count(void) { return clients.blocked; }

void client_feed_input(client *c, const char *p, size_t len)
{
    c->querybuf = str_cat_len(c->querybuf, p, len);
    c->read_bytes += (long long)len;
    client_process_input(c);
}

static int client_over_query_limit(client *c)
{
    size_t held = str_len(c->querybuf) + resp_parser_pending_bytes(&c->parser);
    if (held > clients.stats.max_querybuf) clients.stats.max_querybuf = held;
    if (held > c->querybuf_peak) c->querybuf_peak = held;
    return clients.settings->query_buffer_limit > 0 &&
           held > (size_t)clients.settings->query_buffer_limit;
}

/* A TLS client on a plain port: its first byte opens a TLS handshake
 * record (0x16), which starts no RESP request and no inline command. */
static int client_sent_tls_hello(const client *c, const char *p, ssize_t n)
{
    return c->read_bytes == 0 && n > 0 && p[0] == 0x16 && !strcmp(conn_type_name(c->conn), "tcp");
}

/* Where the next read goes: straight into a big argument being read (no
 * copy through the query buffer; never for the primary, whose stream is
 * kept verbatim from the query buffer), or the query buffer's free room. */
static size_t client_read_target(client *c, char **dst, int *into_arg)
{
    *into_arg = 0;
    if (str_len(c->querybuf) == 0 && !(c->flags & CLIENT_PRIMARY)) {
        size_t room = resp_parser_bulk_room(&c->parser, CLIENT_BIG_ARG, CLIENT_ARG_READ, dst);
        *into_arg = room > 0;
        if (room) return room;
    }
    size_t chunk = c->parser.bulk_len > CLIENT_READ_CHUNK ? CLIENT_BIG_READ : CLIENT_READ_CHUNK;
    c->querybuf = str_make_room(c->querybuf, chunk);
    *dst = c->querybuf + str_len(c->querybuf);
    return chunk;
}

static void client_read_handler(conn *cn)
{
    client *c = conn_get_private(cn);
    char *dst;
    int into_arg;
    size_t room = client_read_target(c, &dst, &into_arg);
    ssize_t n = conn_read(cn, dst, room);
    if (n == CONN_AGAIN) return;
    if (n == 0) {
        log_msg(LOG_VERBOSE, "Client closed connection id=%llu addr=%s",
                (unsigned long long)c->id, c->addr);
        client_close_async(c);
        return;
    }
    if (n < 0) {
        log_msg(LOG_VERBOSE, "Reading from client: %s", conn_last_error(cn));
        client_close_async(c);
        return;
    }
    if (client_sent_tls_hello(c, dst, n)) {
        log_msg(LOG_VERBOSE, "Closing client id=%llu addr=%s: it sent a TLS handshake to a "
                             "plain-text port",
                (unsigned long long)c->id, c->addr);
        client_close_async(c);
        return;
    }
    if (into_arg)
        resp_parser_bulk_commit(&c->parser, (size_t)n);
    else
        str_incr_len(c->querybuf, n);
    c->read_bytes += n;
    c->last_interaction_ms = clients.now_ms;
    clients.stats.net_input_bytes += n;
    client_process_input(c);
    if (!(c->flags & CLIENT_CLOSE_ASAP) && client_over_query_limit(c)) {
        str info = client_info_line(str_empty(), c);
        log_msg(LOG_WARNING, "Closing client that reached max query buffer length: %s", info);
        str_free(info);
        clients.stats.client_query_buffer_limit_disconnections++;
        client_close_async(c);
    }
}

/* ---------- clientsCron ---------- */

static int client_timed_out(client *c, long long now_ms)
{
    long long timeout = clients.settings->timeout_seconds;
    if (timeout <= 0 ||
        (c->flags & (CLIENT_REPLICA | CLIENT_PRIMARY | CLIENT_PUBSUB | CLIENT_BLOCKED)))
        return 0;
    return now_ms - c->last_interaction_ms > timeout * 1000;
}

/* Buffers of a client idle this long are given back (Redis frees an idle
 * client's query buffer after 2 s too). */
#define CLIENT_IDLE_BUFFERS_MS 2000

/* An empty query buffer is freed when big, or when its client is idle. */
static void client_shrink_buffers(client *c, long long now_ms)
{
    int idle = now_ms - c->last_interaction_ms >= CLIENT_IDLE_BUFFERS_MS;
    if (str_len(c->querybuf) == 0 &&
        (str_alloc_size(c->querybuf) > 4 * CLIENT_READ_CHUNK ||
         (idle && str_alloc_size(c->querybuf) > 64))) {
        str_free(c->querybuf);
        c->querybuf = str_empty();
    }
    c->querybuf_peak = str_len(c->querybuf);
    if (idle) output_release_idle(c);
}

void clients_cron(long long now_ms, int hz)
{
    clients.now_ms = now_ms;
    if (clients.count == 0) return;
    /* Visit every client about once a second: count/hz per tick, at least 5. */
    unsigned long batch = clients.count / (unsigned long)(hz > 0 ? hz : 10);
    if (batch < 5) batch = 5;
    if (batch > clients.count) batch = clients.count;
    while (batch-- > 0 && !list_empty(&clients.all)) {
        /* Rotate: take the head, move it to the tail. */
        list_node *n = clients.all.next;
        list_del(n);
        list_add_tail(&clients.all, n);
        client *c = list_entry(n, client, all_node);
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        if (client_timed_out(c, now_ms)) {
            log_msg(LOG_VERBOSE, "Closing idle client id=%llu addr=%s", (unsigned long long)c->id,
                    c->addr);
            client_close_async(c);
            continue;
        }
        client_shrink_buffers(c, now_ms);
        output_check_soft_limit(c, now_ms);
    }
}

/* ---------- CLIENT LIST ---------- */

enum client_class client_class_of(const client *c)
{
    if (c->flags & CLIENT_REPLICA) return CLIENT_CLASS_REPLICA;
    if (c->flags & CLIENT_PUBSUB) return CLIENT_CLASS_PUBSUB;
    return CLIENT_CLASS_NORMAL;
}

const char *client_class_name(enum client_class cls)
{
    static const char *names[] = {"normal", "replica", "pubsub"};
    return names[cls];
}

int client_class_by_name(const char *name)
{
    if (!strcasecmp(name, "normal")) return CLIENT_CLASS_NORMAL;
    if (!strcasecmp(name, "replica") || !strcasecmp(name, "slave")) return CLIENT_CLASS_REPLICA;
    if (!strcasecmp(name, "pubsub")) return CLIENT_CLASS_PUBSUB;
    return -1;
}

static void client_flags_text(const client *c, char *out)
{
    char *p = out;
    if (c->flags & CLIENT_REPLICA) *p++ = 'S';
    if (c->flags & CLIENT_PRIMARY) *p++ = 'M';
    if (c->flags & CLIENT_PUBSUB) *p++ = 'P';
    if (c->flags & CLIENT_BLOCKED) *p++ = 'b';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
    if (c->flags & CLIENT_UNIX) *p++ = 'U';
    if (c->flags & CLIENT_CLOSE_ASAP) *p++ = 'A';
    if (p == out) *p++ = 'N';
    *p = '\0';
}

str client_info_line(str s, client *c)
{
    char flags[16], events[3] = {0};
    client_flags_text(c, flags);
    int e = 0;
    if (c->conn && conn_has_read_handler(c->conn)) events[e++] = 'r';
    if (c->conn && conn_has_write_handler(c->conn)) events[e++] = 'w';
    size_t argv_mem = 0;
    for (int i = 0; i < c->argc; i++) argv_mem += str_len(c->argv[i]);
    size_t qbuf_alloc = str_alloc_size(c->querybuf);
    size_t omem = c->reply_bytes;
    size_t rbs = c->buf ? CLIENT_REPLY_CHUNK : 0; /* the reply buffer, while allocated */
    size_t tot = sizeof(client) + qbuf_alloc + omem + argv_mem + rbs;
    long long now = clients.now_ms;
    return str_cat_fmt(
        s,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=0 psub=0 "
        "ssub=0 multi=-1 qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu "
        "obl=%zu oll=%zu omem=%zu tot-mem=%zu events=%s cmd=%s user=default redir=-1 resp=%d",
        (unsigned long long)c->id, c->addr, c->laddr, c->conn ? conn_fd(c->conn) : -1,
        c->name ? c->name : "", (now - c->ctime_ms) / 1000, (now - c->last_interaction_ms) / 1000,
        flags, c->db, str_len(c->querybuf), str_avail(c->querybuf), argv_mem, rbs,
        c->querybuf_peak, c->bufpos, output_block_count(c), omem, tot, events,
        c->last_cmd ? c->last_cmd : "NULL", c->resp);
}
