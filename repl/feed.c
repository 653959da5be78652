/* feed.c: the replication stream's producer. Every write that reaches the
 * propagate hook becomes a RESP array, preceded by SELECT <db> when its db
 * differs from the last one fed; its bytes advance master_repl_offset and
 * go to the backlog and to the output of every replica that takes the
 * stream (held there until the replica is ONLINE, see primary.c). The
 * stream's PING (replicationCron) goes the same way. Nothing is fed while
 * there is neither a backlog nor a replica, nor while we follow a primary:
 * its stream arrives already made and goes on verbatim (feed_stream). */
#include <stdio.h>

#include "net/output.h"
#include "net/resp_write.h"
#include "repl/primary.h"

/* A buffer grown by one huge command is not kept. */
#define FEED_SCRATCH_KEEP (64 * 1024)

static const char feed_ping_bytes[] = "*1\r\n$4\r\nPING\r\n";

static int feed_wanted(const repl *r)
{
    return !r->replica_mode && (r->backlog || primary_count(r) > 0);
}

static void feed_bytes(repl *r, const char *p, size_t len)
{
    list_node *pos, *tmp;
    r->offset += (long long)len;
    if (r->backlog) backlog_append(r->backlog, p, len);
    list_for_each_safe(pos, tmp, &r->replicas)
    {
        primary_replica *rep = list_entry(pos, primary_replica, node);
        if (primary_is_fed(rep)) reply_raw(rep->c, p, len);
    }
}

static str feed_add_select(str s, int db)
{
    char id[16];
    int n = snprintf(id, sizeof(id), "%d", db);
    s = resp_add_array_len(s, 2);
    s = resp_add_bulk(s, "SELECT", 6);
    return resp_add_bulk(s, id, (size_t)n);
}

void feed_command(repl *r, int db, int argc, str *argv)
{
    if (!feed_wanted(r)) return;
    str s = r->scratch;
    str_clear(s);
    if (db >= 0 && db != r->stream_db) {
        s = feed_add_select(s, db);
        r->stream_db = db;
    }
    s = resp_add_array_len(s, argc);
    for (int i = 0; i < argc; i++) s = resp_add_bulk(s, argv[i], str_len(argv[i]));
    feed_bytes(r, s, str_len(s));
    if (str_alloc_size(s) > FEED_SCRATCH_KEEP) {
        str_free(s);
        s = str_empty();
    }
    r->scratch = s;
}

void feed_ping(repl *r)
{
    if (feed_wanted(r)) feed_bytes(r, feed_ping_bytes, sizeof(feed_ping_bytes) - 1);
}

void feed_stream(repl *r, const char *p, size_t len) { feed_bytes(r, p, len); }
