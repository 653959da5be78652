/* repl.c: the one replication state of the server and the entry points of
 * repl.h: the directives, the hooks the composition root registers (they
 * hand this state to primary.c and feed.c), the RDB aux fields, INFO
 * replication's shared fields, and the moves of the replication ID and
 * offset that the replica role makes. */
#include "repl/repl.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "rdb/diskless.h"
#include "repl/primary.h"
#include "repl/replica.h"
#include "repl/wait.h"

static repl state;

void repl_init(void)
{
    primary_init(&state);
    wait_init(&state);
    psync_new_replid(&state);
    psync_clear_replid2(&state);
    state.offset = 0;
}

void repl_register_config(void)
{
    config_register_ll("repl-timeout", &state.timeout_s, 60, 1, INT_MAX, 0, NULL, NULL);
    config_register_ll("repl-ping-replica-period", &state.ping_period_s, 10, 1, INT_MAX, 0, NULL,
                       NULL);
    config_register_bool("repl-diskless-sync", &state.diskless_sync, 1, 0, NULL, NULL);
    config_register_ll("repl-diskless-sync-delay", &state.diskless_delay_s, 5, 0, INT_MAX, 0,
                       NULL, NULL);
    config_register_ll("repl-diskless-sync-max-replicas", &state.diskless_max_replicas, 0, 0,
                       INT_MAX, 0, NULL, NULL);
    config_register_memory("repl-backlog-size", &state.backlog_size, 1024 * 1024, 1, LLONG_MAX, 0,
                           psync_apply_backlog_size, &state);
    config_register_ll("repl-backlog-ttl", &state.backlog_ttl_s, 3600, 0, LLONG_MAX, 0, NULL, NULL);
    wait_register_config(&state);
}

void repl_register_commands(void)
{
    repl_cmd_register(&state);
    wait_register_commands(&state);
}

int repl_gate(client *c, const command *cmd, void *data)
{
    /* Tail calls only, so that the common case costs two tests: replica_gate
     * lets everything through on a primary, and wait_gate hands a replica's
     * writes back to it. */
    if ((cmd->flags & CMD_WRITE) && state.wait.min_to_write) return wait_gate(&state, c, cmd);
    return replica_gate(c, cmd, data);
}

void repl_wait_before_sleep(void) { wait_release(&state); }

void repl_wait_send_getack(void) { wait_send_getack(&state); }

void repl_propagate(int db, int argc, str *argv, void *data)
{
    (void)data;
    feed_command(&state, db, argc, argv);
}

void repl_cron(long long now_ms, void *data)
{
    (void)data;
    primary_cron(&state, now_ms);
    wait_refresh_good(&state, now_ms);
}

void repl_save_done(int ok, const char *path, void *data)
{
    (void)data;
    primary_save_done(&state, ok, path);
}

void repl_client_freed(client *c)
{
    int was_replica = (c->flags & CLIENT_REPLICA) != 0;
    wait_client_freed(&state, c);
    primary_forget(&state, c);
    if (was_replica) wait_refresh_good(&state, state.clock_ms());
}

void repl_rdb_aux(rdb_aux *aux)
{
    if (!state.has_history) return;
    memcpy(aux->repl_id, state.replid, sizeof(aux->repl_id));
    aux->repl_offset = state.offset;
    /* -1 means no write was fed since the last full sync began: the next
     * one says its db, so any db is right, and Redis writes 0. */
    aux->repl_stream_db = state.stream_db == -1 ? 0 : state.stream_db;
}

str repl_info(str s)
{
    const backlog *b = state.backlog;
    const diskless_stats *d = diskless_get_stats();
    s = primary_info(&state, s, state.clock_ms());
    s = str_cat_fmt(s,
                    "master_failover_state:no-failover\r\nmaster_replid:%s\r\n"
                    "master_replid2:%s\r\nmaster_repl_offset:%lld\r\n"
                    "second_repl_offset:%lld\r\nrepl_backlog_active:%d\r\n"
                    "repl_backlog_size:%lld\r\nrepl_backlog_first_byte_offset:%lld\r\n"
                    "repl_backlog_histlen:%lld\r\n",
                    state.replid, state.replid2, state.offset, state.second_offset, b != NULL,
                    state.backlog_size, b ? backlog_first_offset(b) : 0,
                    b ? backlog_histlen(b) : 0);
    /* Ours: where full syncs go (replicas without capa eof always get the
     * disk), and the diskless transfer running, if any. */
    return str_cat_fmt(s,
                       "tandem_repl_sync_target:%s\r\n"
                       "tandem_repl_diskless_sync_in_progress:%d\r\n"
                       "tandem_repl_diskless_sync_replicas:%d\r\n"
                       "tandem_repl_diskless_sync_bytes:%lld\r\n"
                       "tandem_repl_diskless_syncs:%lld\r\n",
                       state.diskless_sync ? "socket" : "disk", d->active, d->targets, d->bytes,
                       d->transfers);
}

const repl_stats *repl_get_stats(void) { return &state.stats; }

/* ---------- for the replica role ---------- */

/* The stream now comes from a primary: what we apply of it fills the
 * backlog (repl_forward), kept under the primary's ID and offsets for our
 * own replicas, and for the other replicas once we are promoted. */
static void repl_enter_replica_mode(void)
{
    state.replica_mode = 1;
    if (!state.backlog) psync_make_backlog(&state);
    wait_unblock_all(&state);
}

long long repl_timeout_ms(void) { return state.timeout_s * 1000; }
const char *repl_get_replid(void) { return state.replid; }
long long repl_get_offset(void) { return state.offset; }

void repl_adopt_primary(const char *replid, long long offset)
{
    snprintf(state.replid, sizeof(state.replid), "%s", replid);
    psync_clear_replid2(&state);
    state.offset = offset;
    psync_free_backlog(&state);
    repl_enter_replica_mode();
    state.has_history = 1;
    primary_drop_all(&state);
}

void repl_restore(const char *replid, long long offset)
{
    snprintf(state.replid, sizeof(state.replid), "%s", replid);
    psync_clear_replid2(&state);
    state.offset = offset;
    state.has_history = 1;
}

void repl_restore_primary(const rdb_aux *aux)
{
    if (!aux->repl_id[0] || aux->repl_offset < 0) return;
    repl_restore(aux->repl_id, aux->repl_offset);
    psync_make_backlog(&state);
    log_msg(LOG_NOTICE,
            "Replication history restored from the dump: ID '%s' up to offset %lld; its "
            "replicas may resync partially",
            state.replid, state.offset);
}

void repl_change_replid(const char *replid)
{
    memcpy(state.replid2, state.replid, sizeof(state.replid2));
    state.second_offset = state.offset + 1;
    snprintf(state.replid, sizeof(state.replid), "%s", replid);
    primary_drop_all(&state);
}

void repl_promote(const char *replid, long long offset)
{
    snprintf(state.replid2, sizeof(state.replid2), "%s", replid);
    state.second_offset = offset + 1;
    psync_new_replid(&state);
    state.offset = offset;
    state.stream_db = -1;
    state.replica_mode = 0;
}

void repl_follow(long long offset, int db)
{
    state.offset = offset;
    state.stream_db = db;
    repl_enter_replica_mode();
}

void repl_forward(const char *p, size_t len, int db)
{
    feed_stream(&state, p, len);
    state.stream_db = db;
}
