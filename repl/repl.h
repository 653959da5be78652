/* repl.h: the replication state of this server and the entry points the
 * composition root wires: the directives (repl-timeout,
 * repl-ping-replica-period, repl-diskless-sync and its -delay and
 * -max-replicas, repl-backlog-size, repl-backlog-ttl), the commands (SYNC, PSYNC, REPLCONF, ROLE), the propagate hook that turns each
 * write into the replication stream, the once-a-second cron hook, the hook
 * told when a background save ends, the client layer's on_free, the RDB aux
 * fields and INFO replication. The replica role (repl/replica.h) reads and
 * moves the replication ID and offset through the functions at the end.
 * WAIT and min-replicas-to-write / min-replicas-max-lag (repl/wait.h) add
 * a command, two directives, a call gate and WAIT's before-sleep work.
 *
 * The state is one struct repl, owned by repl.c; the primary side's files
 * (primary.c, feed.c, psync.c, repl_cmd.c) take it as an argument, so that unit tests
 * drive them on a struct of their own (repl/primary.h). */
#ifndef TANDEM_REPL_REPL_H
#define TANDEM_REPL_REPL_H

#include "core/command.h"
#include "core/list.h"
#include "core/str.h"
#include "net/client.h"
#include "rdb/save.h"
#include "repl/backlog.h"
#include "repl/waiters.h"

#define REPL_ID_LEN 40

typedef struct repl_stats {
    long long sync_full;        /* full resyncs served (SYNC, refused PSYNC) */
    long long sync_partial_ok;  /* partial resyncs accepted */
    long long sync_partial_err; /* partial resyncs refused (replid not "?") */
} repl_stats;

/* WAIT and min-replicas (wait.c). */
typedef struct repl_wait {
    long long min_to_write; /* min-replicas-to-write */
    long long max_lag_s;    /* min-replicas-max-lag */
    long long good;         /* replicas ONLINE and heard from within max_lag_s */
    waiters waiters;        /* clients blocked in WAIT */
    int acks_changed;       /* an ACK arrived since the waiters were checked */
    int getack;             /* a client blocked: GETACK before the loop sleeps */
} repl_wait;

typedef struct repl {
    /* Directives. */
    long long timeout_s;     /* repl-timeout */
    long long ping_period_s; /* repl-ping-replica-period */
    long long backlog_size;  /* repl-backlog-size */
    long long backlog_ttl_s; /* repl-backlog-ttl: 0 keeps the backlog forever */
    int diskless_sync;       /* repl-diskless-sync: the RDB straight to the sockets */
    long long diskless_delay_s;     /* repl-diskless-sync-delay: wait for more replicas */
    long long diskless_max_replicas; /* repl-diskless-sync-max-replicas: 0 no limit */

    /* The stream. */
    char replid[REPL_ID_LEN + 1];  /* master_replid */
    char replid2[REPL_ID_LEN + 1]; /* master_replid2: the history before */
    long long offset;              /* master_repl_offset: bytes of stream so far */
    long long second_offset;       /* second_repl_offset: replid2 valid up to it, or -1 */
    int stream_db;                 /* the db of the last command fed; -1 forces a SELECT */
    int has_history;               /* a replica attached since start: saves carry the IDs */
    int replica_mode;              /* we follow a primary: writes are not fed */
    str scratch;                   /* the command being encoded */
    backlog *backlog;              /* the stream's newest bytes, NULL before a replica */
    long long no_replicas_since_ms; /* for repl-backlog-ttl (psync.c) */

    /* Replicas (primary.c). */
    list_node replicas;            /* primary_replica.node, in arrival order */
    long long last_ping_ms;
    long long (*clock_ms)(void);   /* monotonic ms: loop_now_ms, or a test's clock */
    repl_stats stats;
    repl_wait wait;
} repl;

/* Makes the state: a random replication ID, offset 0, no replicas. */
void repl_init(void);
/* Registers the directives. Call before config_register_redis_unimplemented(),
 * which would otherwise take these names as placeholders. */
void repl_register_config(void);
/* Registers SYNC, PSYNC, REPLCONF, ROLE and WAIT. */
void repl_register_commands(void);
/* call.c's gate of replication (data unused): on a replica, READONLY and
 * MASTERDOWN (replica_gate); on a primary, NOREPLICAS for writes while
 * fewer replicas are good than min-replicas-to-write asks (repl/wait.h).
 * One gate for both roles keeps the call path to one check per command. */
int repl_gate(client *c, const command *cmd, void *data);
/* Before-sleep, before the unblocked clients run: WAITs that are satisfied
 * or timed out get their reply and unblock. */
void repl_wait_before_sleep(void);
/* Before-sleep, after the unblocked clients ran, before replies are
 * written: REPLCONF GETACK to the replicas if a WAIT blocked. */
void repl_wait_send_getack(void);

/* call.c's propagate hook (data unused): the write goes to the stream. */
void repl_propagate(int db, int argc, str *argv, void *data);
/* cron.c's hook, once a second (data unused): PINGs, timeouts, keep-alives,
 * a BGSAVE for replicas waiting for one. */
void repl_cron(long long now_ms, void *data);
/* bgsave.h's done hook (data unused): replicas waiting for the save get the
 * file, or are dropped when it failed. */
void repl_save_done(int ok, const char *path, void *data);
/* The client layer's on_free: forgets the client if it was a replica (or
 * had sent REPLCONF). */
void repl_client_freed(client *c);
/* The replication fields of a save's aux header: the ID, the offset and the
 * stream's db, once a replica has attached (as Redis, once its backlog
 * exists); unknown before. */
void repl_rdb_aux(rdb_aux *aux);
/* INFO replication from connected_slaves to repl_backlog_histlen (the
 * fields both roles share), then tandem's own; the caller writes role and,
 * on a replica, the link's fields before. */
str repl_info(str s);
const repl_stats *repl_get_stats(void);

/* ---------- for the replica role ---------- */

/* repl-timeout in milliseconds. */
long long repl_timeout_ms(void);
const char *repl_get_replid(void);
long long repl_get_offset(void);
/* A full sync from a primary loaded: its ID and offset become ours, the
 * secondary ID is cleared, our own replicas are dropped (they resync from
 * the new history), and writes are no longer fed: they come from the
 * primary. */
void repl_adopt_primary(const char *replid, long long offset);
/* At start-up, a dump's ID and offset (a replica's): our history, with no
 * secondary ID. */
void repl_restore(const char *replid, long long offset);
/* At start-up on a primary, a dump that carries an ID and offset (saved
 * while it had replicas): that history is ours again, with an empty backlog
 * from offset + 1, so that its replicas, caught up before the restart,
 * resync partially. Nothing when the dump has no ID. */
void repl_restore_primary(const rdb_aux *aux);
/* +CONTINUE under a new ID (the primary was promoted): the old ID stays
 * valid up to the current offset as the secondary one. */
void repl_change_replid(const char *replid);
/* REPLICAOF NO ONE: the history we followed (replid up to offset) becomes
 * the secondary ID, a new ID starts at offset, and writes are fed again. */
void repl_promote(const char *replid, long long offset);
/* When a primary client starts: our offset is the stream's offset applied
 * so far and the stream's db the primary client's, so that INFO and the aux
 * fields of a save say where the dataset stands; writes are not fed (they
 * come from the primary, see repl_forward). */
void repl_follow(long long offset, int db);
/* After each command the primary client applied: its bytes, verbatim, go
 * to our backlog and our replicas (the primary's stream, same offsets), and
 * the stream's db is the primary client's. */
void repl_forward(const char *p, size_t len, int db);

#endif
