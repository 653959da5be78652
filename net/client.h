/* client.h: a client of the server: its connection, query buffer and parser,
 * the argument vector of the command being run, its reply buffer, and the
 * bookkeeping that CLIENT LIST shows. client.c owns the list of clients, the
 * read path (read, parse, hand each command to the dispatch callback given at
 * init), closing (now or asynchronously) and clientsCron; output.c owns the
 * reply path. net/ knows nothing of commands or the keyspace: the dispatch
 * callback is how commands are reached.
 *
 * Blocking: a command that must wait (WAIT) blocks its client; the client's
 * later requests stay in its query buffer, unparsed, until whoever blocked it
 * replies and unblocks it; before-sleep then runs them
 * (clients_process_unblocked). A blocked client that goes away is told to
 * the on_free callback like any other, which drops the reason it waited.
 *
 * Fairness: a client whose commands add more than CLIENT_OUTPUT_SLICE bytes
 * of replies in one go (a pipeline of big GETs, maybe never read) yields: it
 * stops reading, and its remaining input runs a slice per loop iteration
 * (clients_resume_yielded), so that everyone else is served in between. */
#ifndef TANDEM_CLIENT_H
#define TANDEM_CLIENT_H

#include <stdint.h>

#include "core/list.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/resp_parse.h"

#define CLIENT_CLOSE_AFTER_REPLY (1 << 0) /* close once the reply is written */
#define CLIENT_CLOSE_ASAP (1 << 1)        /* close in the next before-sleep */
#define CLIENT_PENDING_WRITE (1 << 2)     /* in the pending-write list */
#define CLIENT_REPLICA (1 << 3)           /* a replica attached to us */
#define CLIENT_PRIMARY (1 << 4)           /* our primary's link */
#define CLIENT_PUBSUB (1 << 5)
#define CLIENT_UNIX (1 << 6)
#define CLIENT_HOLD_OUTPUT (1 << 7)       /* replies accumulate, unwritten, until released */
#define CLIENT_BLOCKED (1 << 8)           /* waits (WAIT): no more of its input runs until
                                             client_unblock() */
#define CLIENT_YIELDED (1 << 9)           /* its commands made a slice of output in one go:
                                             the rest of its input waits for the next
                                             iteration (clients_resume_yielded) */

#define CLIENT_REPLY_CHUNK (16 * 1024)
#define CLIENT_OUTPUT_SLICE (64 * 1024)

enum client_class { CLIENT_CLASS_NORMAL = 0, CLIENT_CLASS_REPLICA, CLIENT_CLASS_PUBSUB, CLIENT_CLASS_COUNT };

typedef struct reply_block {
    struct reply_block *next;
    size_t size, used;
    char data[];
} reply_block;

typedef struct client {
    uint64_t id;
    conn *conn;
    int flags;
    int resp; /* 2 or 3 (HELLO) */
    int db;
    int authenticated;
    str name;
    char addr[128], laddr[128];
    long long ctime_ms, last_interaction_ms;

    str querybuf;
    size_t querybuf_peak;
    resp_parser parser;
    int argc;
    str *argv;
    const char *last_cmd; /* full name of the last command, for CLIENT LIST */
    long long read_bytes;      /* bytes taken into the query buffer */
    long long processed_bytes; /* bytes of the commands parsed, the running one included
                                  (a primary's stream offset) */
    str applied; /* CLIENT_PRIMARY: the input bytes parsed since the last command was
                    dispatched, that command's included (its stream, verbatim); NULL before */
    struct multi_state *multi; /* transaction and WATCH state (core/multi.c), or NULL */
    long long woff; /* the replication stream's offset after this client's last write
                       (set by the call path; WAIT waits for replicas to reach it) */

    char *buf; /* replies go here first: CLIENT_REPLY_CHUNK bytes, allocated by the first
                  reply and released by the cron once the client is idle */
    size_t bufpos, sentlen;       /* bytes in buf; bytes of buf or head block sent */
    reply_block *reply_head, *reply_tail;
    size_t reply_bytes;           /* bytes held in blocks */
    long long obuf_soft_since_ms; /* when the soft limit was first passed, or -1 */

    list_node all_node, pending_node, close_node, unblocked_node;
} client;

/* Limits the client layer enforces; the server keeps them up to date from
 * configuration. */
typedef struct client_obuf_limit {
    long long hard, soft, soft_seconds;
} client_obuf_limit;

typedef struct client_settings {
    long long maxclients;
    long long timeout_seconds; /* 0: never */
    long long query_buffer_limit;
    long long tcp_keepalive;
    resp_limits proto;
    const str *requirepass; /* while set, unauthenticated clients get short limits */
    int protected_mode;     /* without requirepass, only loopback clients are served */
    client_obuf_limit obuf[CLIENT_CLASS_COUNT];
} client_settings;

typedef void client_fn(client *c);

/* dispatch runs the command in c->argv; on_free is told before a client is
 * released (replication, pub/sub and blocking clean up there). */
void clients_init(loop *l, client_settings *settings, client_fn *dispatch, client_fn *on_free);
/* Takes a freshly accepted connection: refuses it when maxclients is
 * reached, otherwise creates the client. */
void clients_accept(conn *cn, int is_unix);
/* Creates a client on an established connection (the replica's primary). */
client *client_create(conn *cn);
void client_free(client *c);
void client_close_async(client *c);
/* Before-sleep work: release clients closed asynchronously. */
void clients_free_closed(void);
/* Called from serverCron with the time: visits clients in small batches so
 * that each is seen about once a second (idle timeout, buffer shrinking). */
void clients_cron(long long now_ms, int hz);
void clients_set_now(long long now_ms);

unsigned long clients_count(void);
list_node *clients_list(void);
/* Processes what the query buffer holds (also after a client unblocks). */
void client_process_input(client *c);
/* The running command of c must wait: c's further requests are held. */
void client_block(client *c);
/* The wait is over (its reply given): c's held requests run in the next
 * clients_process_unblocked(). */
void client_unblock(client *c);
/* Before-sleep: runs the held requests of the clients unblocked since. */
void clients_process_unblocked(void);
/* Before-sleep: runs a slice of each yielded client's input; when some are
 * still left, the next wait of the loop only polls. */
void clients_resume_yielded(void);
/* Clients blocked now (INFO blocked_clients). */
unsigned long clients_blocked_count(void);
/* Takes bytes that arrived by another way as if read from the connection
 * (the stream that followed a primary's reply), then processes them. */
void client_feed_input(client *c, const char *p, size_t len);

/* The "id=... addr=..." line of CLIENT LIST, appended to s (no newline). */
str client_info_line(str s, client *c);
enum client_class client_class_of(const client *c);
const char *client_class_name(enum client_class cls);
int client_class_by_name(const char *name);

typedef struct client_stats {
    long long connections_received;
    long long rejected_connections;
    long long net_input_bytes, net_output_bytes;
    long long error_replies;
    long long client_query_buffer_limit_disconnections;
    long long client_output_buffer_limit_disconnections;
    size_t max_querybuf, max_output;
} client_stats;
client_stats *clients_stats(void);

#endif
