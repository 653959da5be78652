/* multi.c: MULTI, EXEC, DISCARD, WATCH and UNWATCH (see multi.h). A
 * client's state is created on first use and kept until it is freed. The
 * watch registry holds, per database, a dict of watched key -> the clients
 * watching it; each client also lists its own watched keys, so UNWATCH,
 * EXEC and freeing the client can take it out of the registry. */
#include "core/multi.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/call.h"
#include "core/db.h"
#include "core/dict.h"
#include "net/output.h"

typedef struct queued_command {
    const command *cmd;
    int argc;
    str *argv;
} queued_command;

typedef struct watched_key {
    int db;
    str key;
    int expired; /* already logically expired when watched */
} watched_key;

typedef struct multi_state {
    int open;       /* inside MULTI */
    int dirty_exec; /* a command was refused while queuing */
    int dirty_cas;  /* a watched key was touched */
    queued_command *queue;
    int queued, queue_cap;
    watched_key *watched;
    int nwatched, watched_cap;
} multi_state;

/* One watched key of one database and the clients watching it. */
typedef struct watch_entry {
    dict_node node;
    str key;
    client **clients;
    int nclients, cap;
} watch_entry;

static struct {
    dict **dbs; /* one registry per database, created on first WATCH */
    int count;
} watches;

static const char *const never_queued[] = {"exec", "discard", "multi", "watch", "quit"};

/* ------------------------------------------------------------ registry */

static void watch_entry_key(const dict_node *n, const char **key, size_t *len)
{
    const watch_entry *e = (const watch_entry *)n;
    *key = e->key;
    *len = str_len(e->key);
}

static const dict_type watch_dict_type = {watch_entry_key};

static dict *watch_registry(int db)
{
    if (!watches.dbs) {
        watches.count = db_count();
        watches.dbs = tcalloc(sizeof(dict *) * (size_t)watches.count);
    }
    if (!watches.dbs[db]) watches.dbs[db] = dict_create(&watch_dict_type);
    return watches.dbs[db];
}

static void registry_add(int db, const str key, client *c)
{
    dict *d = watch_registry(db);
    watch_entry *e = (watch_entry *)dict_find(d, key, str_len(key));
    if (!e) {
        e = tcalloc(sizeof(*e));
        e->key = str_dup(key);
        dict_add(d, &e->node);
    }
    if (e->nclients == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 2;
        e->clients = trealloc(e->clients, sizeof(client *) * (size_t)e->cap);
    }
    e->clients[e->nclients++] = c;
}

static void registry_remove(int db, const str key, const client *c)
{
    dict *d = watch_registry(db);
    watch_entry *e = (watch_entry *)dict_find(d, key, str_len(key));
    for (int i = 0; i < e->nclients; i++) {
        if (e->clients[i] != c) continue;
        e->clients[i] = e->clients[--e->nclients];
        break;
    }
    if (e->nclients) return;
    dict_unlink(d, key, str_len(key));
    str_free(e->key);
    tfree(e->clients);
    tfree(e);
}

static void entry_dirty(const watch_entry *e)
{
    for (int i = 0; i < e->nclients; i++) e->clients[i]->multi->dirty_cas = 1;
}

static void touch_key(int db, const char *key, size_t len)
{
    if (!watches.dbs || db < 0 || db >= watches.count || !watches.dbs[db]) return;
    const watch_entry *e = (const watch_entry *)dict_find(watches.dbs[db], key, len);
    if (e) entry_dirty(e);
}

static void touch_db(int db)
{
    if (!watches.dbs || db < 0 || db >= watches.count || !watches.dbs[db]) return;
    dict_iter it;
    dict_iter_init(&it, watches.dbs[db], 0);
    for (dict_node *n = dict_iter_next(&it); n; n = dict_iter_next(&it))
        entry_dirty((const watch_entry *)n);
    dict_iter_release(&it);
}

/* ------------------------------------------------------- client state */

static multi_state *state_of(client *c)
{
    if (!c->multi) c->multi = tcalloc(sizeof(multi_state));
    return c->multi;
}

static void queue_clear(multi_state *ms)
{
    for (int i = 0; i < ms->queued; i++) {
        for (int j = 0; j < ms->queue[i].argc; j++) str_free(ms->queue[i].argv[j]);
        tfree(ms->queue[i].argv);
    }
    ms->queued = 0;
    ms->open = ms->dirty_exec = 0;
}

static void unwatch_all(client *c)
{
    multi_state *ms = c->multi;
    if (!ms) return;
    for (int i = 0; i < ms->nwatched; i++) {
        registry_remove(ms->watched[i].db, ms->watched[i].key, c);
        str_free(ms->watched[i].key);
    }
    ms->nwatched = 0;
    ms->dirty_cas = 0;
}

/* Ends the transaction: the queue and the watched keys go. */
static void discard_transaction(client *c)
{
    queue_clear(c->multi);
    unwatch_all(c);
}

void multi_client_freed(client *c)
{
    if (!c->multi) return;
    discard_transaction(c);
    tfree(c->multi->queue);
    tfree(c->multi->watched);
    tfree(c->multi);
    c->multi = NULL;
}

/* --------------------------------------------------- call path hooks */

static int is_never_queued(const command *cmd)
{
    for (size_t i = 0; i < sizeof(never_queued) / sizeof(never_queued[0]); i++)
        if (!strcmp(cmd->fullname, never_queued[i])) return 1;
    return 0;
}

static void queue_push(multi_state *ms, const command *cmd, int argc, str *argv)
{
    if (ms->queued == ms->queue_cap) {
        ms->queue_cap = ms->queue_cap ? ms->queue_cap * 2 : 4;
        ms->queue = trealloc(ms->queue, sizeof(queued_command) * (size_t)ms->queue_cap);
    }
    queued_command *q = &ms->queue[ms->queued++];
    q->cmd = cmd;
    q->argc = argc;
    q->argv = tmalloc(sizeof(str) * (size_t)argc);
    for (int i = 0; i < argc; i++) q->argv[i] = str_dup(argv[i]);
}

static int multi_queue(client *c, const command *cmd)
{
    if (!c->multi || !c->multi->open || is_never_queued(cmd->parent ? cmd->parent : cmd))
        return 0;
    queue_push(c->multi, cmd, c->argc, c->argv);
    reply_simple(c, "QUEUED");
    return 1;
}

static void multi_refused(client *c)
{
    if (c->multi && c->multi->open) c->multi->dirty_exec = 1;
}

static const call_transaction_ops multi_ops = {multi_queue, multi_refused};

/* ------------------------------------------------------ key touching */

static void touch_keys_of(const command *cmd, int db, int argc, str *argv)
{
    if (cmd->first_key <= 0 || cmd->key_step <= 0) return;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    if (last >= argc) last = argc - 1;
    for (int i = cmd->first_key; i <= last; i += cmd->key_step)
        touch_key(db, argv[i], str_len(argv[i]));
}

/* The keys that a write reaches outside its key positions' database:
 * MOVE's key in the target db, COPY's destination under DB n. */
static void touch_other_db(int db, int argc, str *argv)
{
    if (!strcasecmp(argv[0], "move") && argc == 3) {
        touch_key(atoi(argv[2]), argv[1], str_len(argv[1]));
        return;
    }
    if (strcasecmp(argv[0], "copy")) return;
    for (int i = 3; i + 1 < argc; i++) {
        if (!strcasecmp(argv[i], "db")) {
            int dst = atoi(argv[i + 1]);
            if (dst != db) touch_key(dst, argv[2], str_len(argv[2]));
        }
    }
}

/* FLUSHDB, FLUSHALL and SWAPDB change every key of their databases. */
static int touch_whole_dbs(int db, int argc, str *argv)
{
    if (!strcasecmp(argv[0], "flushdb")) {
        touch_db(db);
    } else if (!strcasecmp(argv[0], "flushall")) {
        for (int i = 0; i < watches.count; i++) touch_db(i);
    } else if (!strcasecmp(argv[0], "swapdb") && argc == 3) {
        touch_db(atoi(argv[1]));
        touch_db(atoi(argv[2]));
    } else {
        return 0;
    }
    return 1;
}

void multi_touch_hook(int db, int argc, str *argv, void *data)
{
    (void)data;
    if (!watches.dbs || argc < 1 || touch_whole_dbs(db, argc, argv)) return;
    const command *cmd = command_lookup(argv[0], str_len(argv[0]));
    if (!cmd) return;
    touch_keys_of(cmd, db, argc, argv);
    touch_other_db(db, argc, argv);
}

/* ----------------------------------------------------------- commands */

static void multi_command(client *c, const command *cmd)
{
    (void)cmd;
    multi_state *ms = state_of(c);
    if (ms->open) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    ms->open = 1;
    reply_ok(c);
}

static void discard_command(client *c, const command *cmd)
{
    (void)cmd;
    if (!c->multi || !c->multi->open) {
        reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    discard_transaction(c);
    reply_ok(c);
}

static int key_is_expired(int db, const str key)
{
    const kv *o = db_find(db, key, str_len(key));
    return o && db_is_expired(db, o, db_time_ms());
}

/* A watched key that expired since WATCH counts as touched. */
static int watched_key_expired(const multi_state *ms)
{
    for (int i = 0; i < ms->nwatched; i++)
        if (!ms->watched[i].expired && key_is_expired(ms->watched[i].db, ms->watched[i].key))
            return 1;
    return 0;
}

/* Runs each queued command through the call path, its argv in place of
 * EXEC's, inside one propagated transaction. */
static void exec_queue(client *c, queued_command *queue, int count)
{
    int argc = c->argc;
    str *argv = c->argv;
    reply_array_len(c, count);
    propagate_begin_transaction();
    for (int i = 0; i < count; i++) {
        c->argc = queue[i].argc;
        c->argv = queue[i].argv;
        call_command(c, queue[i].cmd);
        queue[i].argc = c->argc;
        queue[i].argv = c->argv;
    }
    propagate_end_transaction();
    c->argc = argc;
    c->argv = argv;
}

static void exec_command(client *c, const command *cmd)
{
    (void)cmd;
    multi_state *ms = c->multi;
    if (!ms || !ms->open) {
        reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (ms->dirty_exec) {
        reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
    } else if (ms->dirty_cas || watched_key_expired(ms)) {
        reply_raw(c, c->resp >= 3 ? "_\r\n" : "*-1\r\n", c->resp >= 3 ? 3 : 5);
    } else {
        unwatch_all(c);
        exec_queue(c, ms->queue, ms->queued);
    }
    discard_transaction(c);
}

static int is_watched(const multi_state *ms, int db, const str key)
{
    for (int i = 0; i < ms->nwatched; i++)
        if (ms->watched[i].db == db && str_len(ms->watched[i].key) == str_len(key) &&
            !memcmp(ms->watched[i].key, key, str_len(key)))
            return 1;
    return 0;
}

static void watch_key(client *c, const str key)
{
    multi_state *ms = c->multi;
    if (is_watched(ms, c->db, key)) return;
    if (ms->nwatched == ms->watched_cap) {
        ms->watched_cap = ms->watched_cap ? ms->watched_cap * 2 : 4;
        ms->watched = trealloc(ms->watched, sizeof(watched_key) * (size_t)ms->watched_cap);
    }
    ms->watched[ms->nwatched++] =
        (watched_key){c->db, str_dup(key), key_is_expired(c->db, key)};
    registry_add(c->db, key, c);
}

static void watch_command(client *c, const command *cmd)
{
    (void)cmd;
    multi_state *ms = state_of(c);
    if (ms->open) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->argc; i++) watch_key(c, c->argv[i]);
    reply_ok(c);
}

static void unwatch_command(client *c, const command *cmd)
{
    (void)cmd;
    unwatch_all(c);
    reply_ok(c);
}

static command multi_commands[] = {
    {.name = "multi", .proc = multi_command, .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
     .group = "transactions", .summary = "Mark the start of a transaction block", .since = "1.2.0"},
    {.name = "exec", .proc = exec_command, .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
     .group = "transactions", .summary = "Execute all commands issued after MULTI", .since = "1.2.0"},
    {.name = "discard", .proc = discard_command, .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
     .group = "transactions", .summary = "Discard all commands issued after MULTI", .since = "2.0.0"},
    {.name = "watch", .proc = watch_command, .arity = -2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
     .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "transactions", .summary = "Watch the given keys to determine execution of the MULTI/EXEC block", .since = "2.2.0"},
    {.name = "unwatch", .proc = unwatch_command, .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
     .group = "transactions", .summary = "Forget about all watched keys", .since = "2.2.0"},
    {0},
};

void multi_commands_register(void)
{
    command_register_all(multi_commands);
    call_set_transaction_ops(&multi_ops);
}
