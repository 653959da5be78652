/* object_cmd.c: OBJECT ENCODING, REFCOUNT, IDLETIME, FREQ and HELP. The
 * lookups count keyspace hits and misses but leave the access clock, as
 * Redis's do; a missing key replies null. */
#include "core/object_cmd.h"

#include "core/command.h"
#include "core/db.h"
#include "net/output.h"

/* The key of c->argv[2], or NULL after replying null. */
static kv *object_lookup(client *c)
{
    kv *o = db_lookup_read_notouch(c->db, c->argv[2], str_len(c->argv[2]));
    if (!o) reply_null(c);
    return o;
}

static void object_encoding_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = object_lookup(c);
    if (o) reply_bulk_cstr(c, kv_encoding_name(o));
}

static void object_refcount_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = object_lookup(c);
    if (o) reply_integer(c, kv_refcount(o));
}

static void object_idletime_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = object_lookup(c);
    if (o) reply_integer(c, kv_idle_ms(o, kv_lru_clock(db_time_ms())) / 1000);
}

/* No LFU maxmemory-policy exists here, so frequencies are never tracked. */
static void object_freq_command(client *c, const command *cmd)
{
    (void)cmd;
    if (!object_lookup(c)) return;
    reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                   "Please note that when switching between policies at runtime LRU and LFU "
                   "data will take some time to adjust.");
}

static void object_help_command(client *c, const command *cmd)
{
    (void)cmd;
    static const char *lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };
    reply_simple_lines(c, lines, sizeof(lines) / sizeof(lines[0]));
}

#define OBJECT_SUB(n, p, sum, ver)                                                                 \
    {.name = n, .proc = p, .arity = 3, .flags = CMD_READONLY, .first_key = 2, .last_key = 2,       \
     .key_step = 1, .group = "generic", .summary = sum, .since = ver}

static command object_subcommands[] = {
    OBJECT_SUB("encoding", object_encoding_command,
               "Inspect the internal encoding of a Redis object", "2.2.3"),
    OBJECT_SUB("refcount", object_refcount_command,
               "Get the number of references to the value of the key", "2.2.3"),
    OBJECT_SUB("idletime", object_idletime_command,
               "Get the time since a Redis object was last accessed", "2.2.3"),
    OBJECT_SUB("freq", object_freq_command,
               "Get the logarithmic access frequency counter of a Redis object", "4.0.0"),
    {.name = "help", .proc = object_help_command, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "generic", .summary = "Show helpful text about the different subcommands",
     .since = "6.2.0"},
    {0},
};

static command object_commands[] = {
    {.name = "object", .arity = -2, .group = "generic",
     .summary = "A container for object introspection commands", .since = "2.2.3",
     .subcommands = object_subcommands},
    {0},
};

void object_commands_register(void) { command_register_all(object_commands); }
