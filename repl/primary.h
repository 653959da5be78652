/* primary.h: the primary side of replication inside repl/: each replica as
 * the primary sees it (a record per client that sent REPLCONF, SYNC or
 * PSYNC, with its own state machine, primary.c), the stream's producer
 * (feed.c), partial resync and the backlog's life (psync.c) and the
 * commands (repl_cmd.c). Private to repl/ and its unit tests; the
 * composition root goes through repl.h. Every function takes the state it
 * works on. */
#ifndef TANDEM_REPL_PRIMARY_H
#define TANDEM_REPL_PRIMARY_H

#include "core/list.h"
#include "core/str.h"
#include "net/client.h"
#include "rdb/stream.h"
#include "repl/repl.h"

/* A replica's states (Redis's SLAVE_STATE_*), and who moves it:
 *
 *   NONE --SYNC/PSYNC--> WAIT_BGSAVE_START --a BGSAVE starts, or--> WAIT_BGSAVE_END
 *    ^                          |            the running one is             |
 *    |  the BGSAVE could not    |            shared                         | the save ends,
 *    +--start (-ERR, then ------+                                           | or (diskless)
 *        closed)                                                            v the child forked
 *                                     ONLINE <------the file is sent---- SEND_BULK
 *                                             or (diskless) the child's
 *                                             bytes all reached the socket
 *
 *   NONE -> ONLINE: psync_try_partial (PSYNC accepted: +CONTINUE and the
 *       backlog's bytes)
 *   NONE -> WAIT_BGSAVE_START: primary_full_sync (SYNC, PSYNC)
 *   WAIT_BGSAVE_START -> WAIT_BGSAVE_END: primary_full_sync (attach to a
 *       running save) or primary_start_bgsave (from primary_full_sync, the
 *       save-done hook, the cron), both through primary_setup_full_resync
 *   WAIT_BGSAVE_START -> NONE: primary_start_bgsave when the fork failed
 *   WAIT_BGSAVE_END -> SEND_BULK: primary_save_done (disk), or
 *       primary_start_diskless right after the fork (diskless)
 *   SEND_BULK -> ONLINE: the bulk write handler, once the file is sent, or
 *       primary_diskless_target_done (rdb-only replicas are closed instead)
 *
 * Diskless (repl-diskless-sync yes, and every waiting replica announced
 * capa eof): replicas wait in WAIT_BGSAVE_START for repl-diskless-sync-delay
 * seconds after the first one came, or until repl-diskless-sync-max-replicas
 * wait (primary_start_pending), so that one fork serves them all; the child
 * writes "$EOF:<mark>\r\n", the RDB and the mark, which rdb/diskless moves
 * to their sockets. Then, as in Redis, the replica is ONLINE but its stream
 * stays held until its first REPLCONF ACK (online_on_ack): the replica loads
 * meanwhile, and the mark ends the RDB with nothing glued after it.
 * A replica that fails in any state is closed; the client layer's on_free
 * then forgets it (primary_forget).
 *
 * Invariants (checked by primary_set_state): CLIENT_REPLICA is set in every
 * state but NONE; the output is held from WAIT_BGSAVE_START to SEND_BULK,
 * and in ONLINE until the first ACK after a diskless sync (the stream
 * accumulates behind +FULLRESYNC and the RDB, which go to the connection
 * directly); only a SEND_BULK from disk has the dump file open. */
enum primary_state {
    PRIMARY_NONE = 0,          /* REPLCONF options kept; not a replica yet */
    PRIMARY_WAIT_BGSAVE_START, /* waits for a BGSAVE it can use */
    PRIMARY_WAIT_BGSAVE_END,   /* +FULLRESYNC sent; its stream accumulates */
    PRIMARY_SEND_BULK,         /* the dump file goes out */
    PRIMARY_ONLINE,            /* the stream flows */
    PRIMARY_STATES
};

#define PRIMARY_CAPA_EOF (1 << 0)
#define PRIMARY_CAPA_PSYNC2 (1 << 1)
#define PRIMARY_ADDR_MAX 256      /* REPLCONF ip-address is shorter (Redis's NET_HOST_STR_LEN) */
#define PRIMARY_NAME_MAX 300      /* "ip:port" of a replica for logs */
#define PRIMARY_CHUNK (16 * 1024) /* bytes of the dump file read per write */

/* The dump file being sent (SEND_BULK). */
typedef struct primary_bulk {
    rdb_stream file;
    int open;
    long long size, sent; /* file bytes: total, written to the replica */
    str preamble;         /* "$<size>\r\n", then what is left of it */
    char *chunk;          /* bytes read from the file, from chunk_pos unsent */
    size_t chunk_len, chunk_pos;
} primary_bulk;

typedef struct primary_replica {
    client *c;
    enum primary_state state;
    int listening_port;                  /* REPLCONF listening-port, 0 unknown */
    char announced_ip[PRIMARY_ADDR_MAX]; /* REPLCONF ip-address, "" none */
    int capa;                            /* PRIMARY_CAPA_* */
    int rdb_only;                        /* REPLCONF rdb-only 1: RDB, then closed */
    int pre_psync;                       /* came with SYNC: no +FULLRESYNC, no ACKs */
    long long initial_offset;            /* the offset the RDB stands for */
    long long ack_offset, ack_ms;        /* REPLCONF ACK: last offset, when */
    long long wait_since_ms;             /* entered WAIT_BGSAVE_START */
    int diskless;                        /* SEND_BULK: the RDB goes straight to its socket */
    int online_on_ack;                   /* ONLINE: its stream waits for its first ACK */
    primary_bulk bulk;
    list_node node;
} primary_replica;

/* ---------- primary.c ---------- */

/* Sets up the state's replica list, encoding buffer and clock (not the
 * directives nor the IDs), and remembers the state for the bulk write
 * handler (connection handlers get only the connection). */
void primary_init(repl *r);
/* Releases the records (not the clients) and the buffer. */
void primary_free(repl *r);
const char *primary_state_name(enum primary_state state);
/* The state's name in INFO's slaveN line, or NULL (NONE is not listed). */
const char *primary_state_info_name(enum primary_state state);
/* The one place that changes a replica's state: sets the client's flags
 * and output hold for the new state and logs the change with its reason. */
void primary_set_state(primary_replica *p, enum primary_state to, const char *reason);

primary_replica *primary_find(repl *r, const client *c);
/* The record of c, made in state NONE if it has none. */
primary_replica *primary_get(repl *r, client *c);
/* The client is being freed: drops its record (and open file). */
void primary_forget(repl *r, client *c);
/* Replicas in any state but NONE. */
unsigned long primary_count(const repl *r);
/* Whether the stream goes to p (into its held output until ONLINE). */
int primary_is_fed(const primary_replica *p);
/* "ip:port" as Redis names a replica in logs (the announced IP first). */
const char *primary_name(const primary_replica *p, char *buf, size_t len);
/* The IP INFO and ROLE show: the announced one, else the peer's; NULL
 * when neither is known. */
const char *primary_ip(const primary_replica *p, char *buf, size_t len);

/* SYNC and refused PSYNC: p becomes a replica waiting for a BGSAVE, which
 * is shared when one to disk running for another replica can serve it,
 * else started by primary_start_pending (later when another child runs,
 * or when the diskless delay has not passed). */
void primary_full_sync(repl *r, primary_replica *p);
/* WAIT_BGSAVE_START -> WAIT_BGSAVE_END: +FULLRESYNC <replid> <offset>
 * (unless p came with SYNC), and a SELECT before the next write. 0, or -1
 * when the write failed (the client is closed). */
int primary_setup_full_resync(repl *r, primary_replica *p, long long offset, const char *reason);
/* Starts a BGSAVE when replicas wait for one and no child runs: at once to
 * disk; diskless once repl-diskless-sync-delay has passed since the first
 * one waited, or repl-diskless-sync-max-replicas wait. */
void primary_start_pending(repl *r);
/* The background save ended: replicas in WAIT_BGSAVE_END get the file at
 * path (SEND_BULK), or are dropped when !ok; then a pending BGSAVE starts. */
void primary_save_done(repl *r, int ok, const char *path);
/* Once a second: PING through the stream every repl-ping-replica-period,
 * drop ONLINE replicas silent past repl-timeout and diskless targets whose
 * socket stayed full that long, "\n" keep-alives to those waiting for their
 * RDB, a BGSAVE for those waiting for one. */
void primary_cron(repl *r, long long now_ms);
/* REPLCONF ACK from an attached replica (the first one after a diskless
 * sync releases its stream). */
void primary_ack(repl *r, primary_replica *p, long long offset);
/* Closes every replica (they resync: the history changed). */
void primary_drop_all(repl *r);
/* INFO: connected_slaves and a slaveN line per replica with a known IP. */
str primary_info(repl *r, str s, long long now_ms);

/* ---------- feed.c ---------- */

/* One write into the stream: SELECT first when db differs from the last
 * one fed (db -1: none needed), the command as a RESP array, counted in
 * the offset and appended to every fed replica. Nothing when no replica is
 * attached or we follow a primary. */
void feed_command(repl *r, int db, int argc, str *argv);
/* The stream's PING (counted, no SELECT). */
void feed_ping(repl *r);
/* A replica's applied stream, verbatim: counted in the offset, appended to
 * the backlog and to every fed replica (a chain of replicas). */
void feed_stream(repl *r, const char *p, size_t len);

/* ---------- psync.c ---------- */

/* A new random master_replid (Redis's changeReplicationId). */
void psync_new_replid(repl *r);
/* No secondary history (Redis's clearReplicationId2). */
void psync_clear_replid2(repl *r);
/* The backlog of repl-backlog-size bytes, starting after the current
 * offset, under a new ID and no secondary one (logged as Redis does). */
void psync_create_backlog(repl *r);
/* The same backlog under the IDs we have (a replica keeps its primary's). */
void psync_make_backlog(repl *r);
/* Frees the backlog, if any. */
void psync_free_backlog(repl *r);
/* repl-backlog-size's apply hook (data: the state): at least 16 KB, as
 * Redis; the backlog keeps its newest bytes. */
int psync_apply_backlog_size(void *data, const char **err);
/* Part of primary_cron: frees the backlog (and changes the ID) once
 * repl-backlog-ttl seconds (0: never) have passed without replicas, on a
 * primary. */
void psync_cron(repl *r, long long now_ms);
/* PSYNC replid offset (offset: the next byte the replica needs). 0 when
 * the partial resync is accepted: +CONTINUE, the missing bytes, p ONLINE,
 * counted in sync_partial_ok. -1 for a full resync: the reason logged as
 * Redis does, counted in sync_partial_err unless replid is "?". */
int psync_try_partial(repl *r, primary_replica *p, const char *replid, long long offset);

/* ---------- repl_cmd.c ---------- */

void repl_cmd_register(repl *r);

#endif
