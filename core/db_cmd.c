/* db_cmd.c: the database commands: SELECT, DBSIZE, FLUSHDB, FLUSHALL,
 * SWAPDB, and the keys that cross databases: MOVE and COPY. */
#include "core/db_cmd.h"

#include "core/command.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/call.h"
#include "core/db.h"
#include "core/util.h"
#include "net/output.h"

/* An int argument as Redis reads one: -1 after replying with err, or when
 * err is NULL with Redis's own texts for a non-integer and for a value
 * outside the int range. */
static int parse_int_arg(client *c, const str s, const char *err, int *out)
{
    long long v;
    if (parse_ll(s, str_len(s), &v) == -1) {
        reply_error(c, err ? err : "ERR value is not an integer or out of range");
        return -1;
    }
    if (v < INT_MIN || v > INT_MAX) {
        reply_error(c, err ? err
                           : "ERR value is out of range, value must between -2147483648 and "
                             "2147483647");
        return -1;
    }
    *out = (int)v;
    return 0;
}

static void select_command(client *c, const command *cmd)
{
    (void)cmd;
    int id;
    if (parse_int_arg(c, c->argv[1], NULL, &id) == -1) return;
    if (!db_valid_index(id)) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = (int)id;
    reply_ok(c);
}

static void dbsize_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_integer(c, db_size(c->db));
}

/* FLUSHDB and FLUSHALL take an optional ASYNC or SYNC: 1 async, 0 sync,
 * -1 after replying with the syntax error. */
static int flush_mode(client *c)
{
    if (c->argc == 1) return 0;
    if (c->argc == 2 && !strcasecmp(c->argv[1], "async")) return 1;
    if (c->argc == 2 && !strcasecmp(c->argv[1], "sync")) return 0;
    reply_error(c, "ERR syntax error");
    return -1;
}

static void flushdb_command(client *c, const command *cmd)
{
    (void)cmd;
    int async = flush_mode(c);
    if (async == -1) return;
    propagate_current_changes(c, db_flush(c->db, async));
    reply_ok(c);
}

static void flushall_command(client *c, const command *cmd)
{
    (void)cmd;
    int async = flush_mode(c);
    if (async == -1) return;
    propagate_current_changes(c, db_flush(-1, async));
    reply_ok(c);
}

static void swapdb_command(client *c, const command *cmd)
{
    (void)cmd;
    int a, b;
    if (parse_int_arg(c, c->argv[1], "ERR invalid first DB index", &a) == -1) return;
    if (parse_int_arg(c, c->argv[2], "ERR invalid second DB index", &b) == -1) return;
    if (db_swap(a, b) == -1) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    propagate_current(c);
    reply_ok(c);
}

/* A database index argument: -1 after replying. */
static int parse_db_arg(client *c, const str s, int *id)
{
    if (parse_int_arg(c, s, NULL, id) == -1) return -1;
    if (!db_valid_index(*id)) {
        reply_error(c, "ERR DB index is out of range");
        return -1;
    }
    return 0;
}

/* Adds o under its key with an expiry (or none: -1). */
static void add_with_expire(int id, kv *o, long long when)
{
    db_add(id, o);
    if (when != -1) db_set_expire(id, o, when);
}

/* MOVE key db: the key and its expiry go to the other database unless the
 * key exists there. */
static void move_command(client *c, const command *cmd)
{
    (void)cmd;
    const str key = c->argv[1];
    int dst;
    if (parse_db_arg(c, c->argv[2], &dst) == -1) return;
    if (dst == c->db) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    if (!db_lookup_write(c->db, key, str_len(key)) || db_lookup_write(dst, key, str_len(key))) {
        reply_integer(c, 0);
        return;
    }
    long long when;
    kv *o = db_take(c->db, key, str_len(key), &when);
    add_with_expire(dst, o, when);
    propagate_current(c);
    reply_integer(c, 1);
}

/* COPY source destination [DB n] [REPLACE]: the value and its expiry. */
static void copy_command(client *c, const command *cmd)
{
    (void)cmd;
    const str src = c->argv[1], dst = c->argv[2];
    int dst_db = c->db, replace = 0;
    for (int j = 3; j < c->argc; j++) {
        if (!strcasecmp(c->argv[j], "replace")) {
            replace = 1;
        } else if (!strcasecmp(c->argv[j], "db") && j + 1 < c->argc) {
            if (parse_db_arg(c, c->argv[++j], &dst_db) == -1) return;
        } else {
            reply_error(c, "ERR syntax error");
            return;
        }
    }
    if (dst_db == c->db && str_len(src) == str_len(dst) && !memcmp(src, dst, str_len(src))) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    kv *o = db_lookup_read(c->db, src, str_len(src));
    if (!o) {
        reply_integer(c, 0);
        return;
    }
    long long when = db_get_expire(c->db, o);
    if (db_lookup_write(dst_db, dst, str_len(dst))) {
        if (!replace) {
            reply_integer(c, 0);
            return;
        }
        db_delete(dst_db, dst, str_len(dst));
    }
    add_with_expire(dst_db, kv_copy_as(o, dst, str_len(dst)), when);
    propagate_current(c);
    reply_integer(c, 1);
}

static command db_commands[] = {
    {.name = "select", .proc = select_command, .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST,
     .group = "connection", .summary = "Change the selected database for the current connection", .since = "1.0.0"},
    {.name = "dbsize", .proc = dbsize_command, .arity = 1, .flags = CMD_READONLY | CMD_FAST,
     .group = "server", .summary = "Return the number of keys in the selected database", .since = "1.0.0"},
    {.name = "flushdb", .proc = flushdb_command, .arity = -1, .flags = CMD_WRITE,
     .group = "server", .summary = "Remove all keys from the current database", .since = "1.0.0"},
    {.name = "flushall", .proc = flushall_command, .arity = -1, .flags = CMD_WRITE,
     .group = "server", .summary = "Remove all keys from all databases", .since = "1.0.0"},
    {.name = "swapdb", .proc = swapdb_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST,
     .group = "server", .summary = "Swaps two Redis databases", .since = "4.0.0"},
    {.name = "move", .proc = move_command, .arity = 3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .summary = "Move a key to another database", .since = "1.0.0"},
    {.name = "copy", .proc = copy_command, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "generic", .summary = "Copy a key", .since = "6.2.0"},
    {0},
};

void db_commands_register(void) { command_register_all(db_commands); }
