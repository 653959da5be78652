/* psync.c: partial resynchronization on the primary side. The backlog's
 * life: made (with a new replication ID, as Redis: there is no valid past
 * history) when the first replica asks for a full sync, resized by
 * repl-backlog-size, freed (again with a new ID) after repl-backlog-ttl
 * seconds without replicas. PSYNC's decision with Redis's log lines, and
 * the accepted case: +CONTINUE, then exactly the bytes the replica missed
 * from the backlog, and the replica ONLINE at once. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "net/output.h"
#include "repl/primary.h"

/* Redis's CONFIG_REPL_BACKLOG_MIN_SIZE. */
#define PSYNC_BACKLOG_MIN (16 * 1024)

void psync_new_replid(repl *r)
{
    random_hex(r->replid, REPL_ID_LEN);
    r->replid[REPL_ID_LEN] = '\0';
}

void psync_clear_replid2(repl *r)
{
    memset(r->replid2, '0', REPL_ID_LEN);
    r->replid2[REPL_ID_LEN] = '\0';
    r->second_offset = -1;
}

/* ------------------------------------------------------------ backlog */

void psync_make_backlog(repl *r)
{
    r->backlog = backlog_create((size_t)r->backlog_size, r->offset + 1);
    r->no_replicas_since_ms = r->clock_ms();
}

void psync_create_backlog(repl *r)
{
    psync_new_replid(r);
    psync_clear_replid2(r);
    psync_make_backlog(r);
    log_msg(LOG_NOTICE, "Replication backlog created, my new replication IDs are '%s' and '%s'",
            r->replid, r->replid2);
}

void psync_free_backlog(repl *r)
{
    backlog_free(r->backlog);
    r->backlog = NULL;
}

int psync_apply_backlog_size(void *data, const char **err)
{
    repl *r = data;
    (void)err;
    if (r->backlog_size < PSYNC_BACKLOG_MIN) r->backlog_size = PSYNC_BACKLOG_MIN;
    if (r->backlog) backlog_resize(r->backlog, (size_t)r->backlog_size);
    return 0;
}

void psync_cron(repl *r, long long now_ms)
{
    if (primary_count(r) > 0 || !r->backlog) {
        r->no_replicas_since_ms = now_ms;
        return;
    }
    if (r->replica_mode || !r->backlog_ttl_s ||
        now_ms - r->no_replicas_since_ms <= r->backlog_ttl_s * 1000)
        return;
    psync_new_replid(r);
    psync_clear_replid2(r);
    psync_free_backlog(r);
    log_msg(LOG_NOTICE, "Replication backlog freed after %lld seconds without connected replicas.",
            r->backlog_ttl_s);
}

/* ------------------------------------------------------------- PSYNC */

/* Whether replid names our history up to offset; logs why not. */
static int psync_same_history(repl *r, const char *name, const char *replid, long long offset)
{
    int ours = !strcasecmp(replid, r->replid);
    int second = !strcasecmp(replid, r->replid2);
    if (ours || (second && offset <= r->second_offset)) return 1;
    if (replid[0] == '?')
        log_msg(LOG_NOTICE, "Full resync requested by replica %s", name);
    else if (!second)
        log_msg(LOG_NOTICE,
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked "
                "for '%s', my replication IDs are '%s' and '%s')",
                replid, r->replid, r->replid2);
    else
        log_msg(LOG_NOTICE,
                "Partial resynchronization not accepted: Requested offset for second ID was "
                "%lld, but I can reply up to %lld",
                offset, r->second_offset);
    return 0;
}

/* Whether the backlog still holds every byte from offset on; logs why not. */
static int psync_in_backlog(repl *r, const char *name, long long offset)
{
    if (r->backlog && backlog_can_serve(r->backlog, offset)) return 1;
    log_msg(LOG_NOTICE,
            "Unable to partial resync with replica %s for lack of backlog (Replica request was: "
            "%lld).",
            name, offset);
    if (offset > r->offset)
        log_msg(LOG_WARNING,
                "Warning: replica %s tried to PSYNC with an offset that is greater than the master "
                "replication offset.",
                name);
    return 0;
}

/* copy_from's sink: the backlog's bytes go to the replica's output. */
static void psync_send(void *data, const char *p, size_t len) { reply_raw(data, p, len); }

/* The partial resync is on: +CONTINUE (with our ID to a psync2 replica),
 * then the missing bytes behind it, and the stream flows. */
static void psync_continue(repl *r, primary_replica *p, const char *name, long long offset)
{
    char buf[128];
    int n = p->capa & PRIMARY_CAPA_PSYNC2
                ? snprintf(buf, sizeof(buf), "+CONTINUE %s\r\n", r->replid)
                : snprintf(buf, sizeof(buf), "+CONTINUE\r\n");
    p->ack_ms = r->clock_ms();
    primary_set_state(p, PRIMARY_ONLINE, "PSYNC, partial resync");
    if (conn_write(p->c->conn, buf, (size_t)n) != n) {
        client_close_async(p->c);
        return;
    }
    long long sent = backlog_copy_from(r->backlog, offset, psync_send, p->c);
    log_msg(LOG_NOTICE,
            "Partial resynchronization request from %s accepted. Sending %lld bytes of backlog "
            "starting from offset %lld.",
            name, sent, offset);
}

int psync_try_partial(repl *r, primary_replica *p, const char *replid, long long offset)
{
    char name[PRIMARY_NAME_MAX];
    primary_name(p, name, sizeof(name));
    if (psync_same_history(r, name, replid, offset) && psync_in_backlog(r, name, offset)) {
        psync_continue(r, p, name, offset);
        r->stats.sync_partial_ok++;
        return 0;
    }
    if (replid[0] != '?') r->stats.sync_partial_err++;
    return -1;
}
