/* db_cmd.c: the database commands of the foundation: SELECT, DBSIZE,
 * FLUSHDB, FLUSHALL. */
#include "core/db_cmd.h"

#include "core/command.h"

#include <stdlib.h>
#include <strings.h>

#include "core/call.h"
#include "core/db.h"
#include "core/util.h"
#include "net/output.h"

static void select_command(client *c, const command *cmd)
{
    (void)cmd;
    long long id;
    if (parse_ll(c->argv[1], str_len(c->argv[1]), &id) == -1) {
        reply_error(c, "ERR value is not an integer or out of range");
        return;
    }
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
    db_flush(c->db, async);
    propagate_current(c);
    reply_ok(c);
}

static void flushall_command(client *c, const command *cmd)
{
    (void)cmd;
    int async = flush_mode(c);
    if (async == -1) return;
    db_flush(-1, async);
    propagate_current(c);
    reply_ok(c);
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
    {0},
};

void db_commands_register(void) { command_register_all(db_commands); }
