/* wait.c: WAIT and the min-replicas gate (see wait.h).
 *
 * A client's woff is the stream's offset right after its last write (the
 * call path sets it). WAIT numreplicas timeout answers at once with the
 * number of ONLINE replicas whose acknowledged offset reached woff when that
 * is enough (or the client may not block: inside EXEC); otherwise the client
 * blocks, a waiter records what it needs, and the next before-sleep sends
 * REPLCONF GETACK * through the stream so that replicas answer without
 * waiting for their once-a-second ACK. Each ACK that arrives marks the
 * waiters for a check in the same iteration's before-sleep; deadlines are
 * checked there too (the loop wakes at least every cron tick). A released
 * client gets the count as its reply and its held requests run.
 *
 * The count of good replicas is kept, not computed per write: the cron
 * refreshes it once a second, as do replicas going ONLINE or leaving and
 * CONFIG SET; the gate only compares two numbers. */
#include "repl/wait.h"

#include <limits.h>

#include "core/call.h"
#include "core/config.h"
#include "core/util.h"
#include "net/output.h"
#include "repl/primary.h"
#include "repl/replica.h"

void wait_init(repl *r)
{
    waiters_init(&r->wait.waiters);
    r->wait.good = 0;
}

/* ---------------------------------------------------------- min-replicas */

/* Both directives must be non-zero for the gate to act, as Redis. */
static int wait_min_replicas_on(const repl *r)
{
    return r->wait.min_to_write > 0 && r->wait.max_lag_s > 0;
}

void wait_refresh_good(repl *r, long long now_ms)
{
    long long good = 0;
    for (const list_node *pos = r->replicas.next; pos != &r->replicas; pos = pos->next) {
        const primary_replica *p = list_entry(pos, primary_replica, node);
        if (p->state == PRIMARY_ONLINE && (now_ms - p->ack_ms) / 1000 <= r->wait.max_lag_s)
            good++;
    }
    r->wait.good = good;
}

static int wait_apply_min_replicas(void *data, const char **err)
{
    (void)err;
    repl *r = data;
    /* The configuration loads before repl_init: no replica to count then. */
    if (r->clock_ms) wait_refresh_good(r, r->clock_ms());
    return 0;
}

void wait_register_config(repl *r)
{
    config_register_ll("min-replicas-to-write", &r->wait.min_to_write, 0, 0, INT_MAX, 0,
                       wait_apply_min_replicas, r);
    config_register_ll("min-replicas-max-lag", &r->wait.max_lag_s, 10, 0, INT_MAX, 0,
                       wait_apply_min_replicas, r);
}

int wait_gate(repl *r, client *c, const command *cmd)
{
    if (replica_is_active()) return replica_gate(c, cmd, NULL);
    if (!(cmd->flags & CMD_WRITE) || !wait_min_replicas_on(r) ||
        r->wait.good >= r->wait.min_to_write || (c->flags & CLIENT_PRIMARY))
        return 0;
    reply_error(c, "NOREPLICAS Not enough good replicas to write.");
    return -1;
}

str wait_info(repl *r, str s)
{
    if (!wait_min_replicas_on(r)) return s;
    return str_cat_fmt(s, "min_slaves_good_slaves:%lld\r\n", r->wait.good);
}

/* ------------------------------------------------------------------ WAIT */

/* ONLINE replicas that acknowledged offset (Redis's
 * replicationCountAcksByOffset). */
static long long wait_count_acks(void *data, long long offset)
{
    repl *r = data;
    long long n = 0;
    for (const list_node *pos = r->replicas.next; pos != &r->replicas; pos = pos->next) {
        const primary_replica *p = list_entry(pos, primary_replica, node);
        if (p->state == PRIMARY_ONLINE && p->ack_offset >= offset) n++;
    }
    return n;
}

static void wait_done(void *data, void *owner, long long acked)
{
    (void)data;
    client *c = owner;
    if (acked >= 0) {
        reply_integer(c, acked);
    } else {
        reply_error(c, "UNBLOCKED force unblock from blocking operation, instance state "
                       "changed (master -> replica?)");
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    }
    client_unblock(c);
}

/* WAIT numreplicas timeout: Redis's checks, in its order. */
static void wait_command(client *c, const command *cmd)
{
    repl *r = cmd->state;
    long long needed, timeout;
    if (replica_is_active()) {
        reply_error(c, "ERR WAIT cannot be used with replica instances. Please also note that "
                       "since Redis 4.0 if a replica is configured to be writable (which is not "
                       "the default) writes to replicas are just local and are not propagated.");
        return;
    }
    if (parse_ll(c->argv[1], str_len(c->argv[1]), &needed) == -1) {
        reply_error(c, "ERR value is not an integer or out of range");
        return;
    }
    if (parse_ll(c->argv[2], str_len(c->argv[2]), &timeout) == -1) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (timeout < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    long long acked = wait_count_acks(r, c->woff);
    if (acked >= needed || call_nested() || (c->flags & (CLIENT_PRIMARY | CLIENT_REPLICA))) {
        reply_integer(c, acked);
        return;
    }
    long long now = r->clock_ms();
    /* A timeout too far to add to the clock never comes: none. */
    long long deadline = timeout == 0 || timeout > LLONG_MAX - now ? 0 : now + timeout;
    waiters_add(&r->wait.waiters, c, c->woff, needed, deadline);
    client_block(c);
    r->wait.getack = 1;
}

void wait_ack_received(repl *r)
{
    if (r->wait.waiters.count) r->wait.acks_changed = 1;
}

void wait_release(repl *r)
{
    if (!r->wait.waiters.count) return;
    waiters_release(&r->wait.waiters, r->clock_ms(), r->wait.acks_changed, wait_count_acks,
                    wait_done, r);
    r->wait.acks_changed = 0;
}

void wait_send_getack(repl *r)
{
    if (!r->wait.getack) return;
    r->wait.getack = 0;
    str argv[3] = {str_new("REPLCONF"), str_new("GETACK"), str_new("*")};
    feed_command(r, -1, 3, argv);
    for (int i = 0; i < 3; i++) str_free(argv[i]);
}

void wait_client_freed(repl *r, client *c)
{
    if (c->flags & CLIENT_BLOCKED) waiters_remove(&r->wait.waiters, c);
}

void wait_unblock_all(repl *r) { waiters_release_all(&r->wait.waiters, wait_done, r); }

static command wait_cmd_table[] = {
    {.name = "wait", .proc = wait_command, .arity = 3, .flags = CMD_NOSCRIPT,
     .group = "generic",
     .summary = "Wait for the synchronous replication of all the write commands sent in the "
                "context of the current connection",
     .since = "3.0.0"},
    {0},
};

void wait_register_commands(repl *r)
{
    for (command *cmd = wait_cmd_table; cmd->name; cmd++) cmd->state = r;
    command_register_all(wait_cmd_table);
}
