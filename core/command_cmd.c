/* command_cmd.c: COMMAND, COMMAND COUNT, COMMAND INFO, COMMAND DOCS and
 * COMMAND LIST, from the command table: enough for redis-cli's hints and for
 * client libraries that read the table. */
#include "core/command_cmd.h"

#include "core/command.h"

#include <string.h>

#include "net/output.h"

static void reply_flags(client *c, int flags)
{
    const char *names[16];
    int n = command_flag_names(flags, names, 16);
    reply_set_len(c, n);
    for (int i = 0; i < n; i++) reply_simple(c, names[i]);
}

static void reply_command_info(client *c, const command *cmd);

/* A command by name, "parent|sub" naming a subcommand, as Redis 7 takes. */
static const command *command_by_fullname(const str name)
{
    const char *bar = memchr(name, '|', str_len(name));
    if (!bar) return command_lookup(name, str_len(name));
    const command *parent = command_lookup(name, (size_t)(bar - name));
    if (!parent) return NULL;
    return command_lookup_sub(parent, bar + 1, str_len(name) - (size_t)(bar - name) - 1);
}

static void reply_subcommands_info(client *c, const command *cmd)
{
    long long n = 0;
    for (const command *s = cmd->subcommands; s && s->name; s++) n++;
    reply_array_len(c, n);
    for (const command *s = cmd->subcommands; s && s->name; s++) reply_command_info(c, s);
}

/* name, arity, flags, first key, last key, step, ACL categories, tips, key
 * specs, subcommands: the ten fields of Redis 7. */
static void reply_command_info(client *c, const command *cmd)
{
    reply_array_len(c, 10);
    reply_bulk_cstr(c, cmd->fullname);
    reply_integer(c, cmd->arity);
    reply_flags(c, cmd->flags);
    reply_integer(c, cmd->first_key);
    reply_integer(c, cmd->last_key);
    reply_integer(c, cmd->key_step);
    reply_set_len(c, 0);
    reply_array_len(c, 0);
    reply_array_len(c, 0);
    reply_subcommands_info(c, cmd);
}

static void reply_command_docs(client *c, const command *cmd)
{
    long long subs = 0;
    for (const command *s = cmd->subcommands; s && s->name; s++) subs++;
    reply_map_len(c, subs ? 4 : 3);
    reply_bulk_cstr(c, "summary");
    reply_bulk_cstr(c, cmd->summary ? cmd->summary : "");
    reply_bulk_cstr(c, "since");
    reply_bulk_cstr(c, cmd->since ? cmd->since : "1.0.0");
    reply_bulk_cstr(c, "group");
    reply_bulk_cstr(c, cmd->group ? cmd->group : (cmd->parent && cmd->parent->group ? cmd->parent->group : "server"));
    if (!subs) return;
    reply_bulk_cstr(c, "subcommands");
    reply_map_len(c, subs);
    for (const command *s = cmd->subcommands; s && s->name; s++) {
        reply_bulk_cstr(c, s->fullname);
        reply_command_docs(c, s);
    }
}

static void command_command(client *c, const command *cmd)
{
    (void)cmd;
    unsigned n = command_count();
    reply_array_len(c, n);
    for (unsigned i = 0; i < n; i++) reply_command_info(c, command_at(i));
}

static void command_count_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_integer(c, command_count());
}

static void command_info_command(client *c, const command *cmd)
{
    (void)cmd;
    if (c->argc == 2) {
        command_command(c, cmd);
        return;
    }
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const command *found = command_by_fullname(c->argv[i]);
        if (found)
            reply_command_info(c, found);
        else
            reply_null(c);
    }
}

static void command_docs_command(client *c, const command *cmd)
{
    (void)cmd;
    if (c->argc == 2) {
        unsigned n = command_count();
        reply_map_len(c, n);
        for (unsigned i = 0; i < n; i++) {
            reply_bulk_cstr(c, command_at(i)->name);
            reply_command_docs(c, command_at(i));
        }
        return;
    }
    long long found = 0;
    for (int i = 2; i < c->argc; i++) found += command_by_fullname(c->argv[i]) != NULL;
    reply_map_len(c, found);
    for (int i = 2; i < c->argc; i++) {
        const command *f = command_by_fullname(c->argv[i]);
        if (!f) continue;
        reply_bulk_cstr(c, f->fullname);
        reply_command_docs(c, f);
    }
}

static void command_list_command(client *c, const command *cmd)
{
    (void)cmd;
    unsigned n = command_count();
    reply_array_len(c, n);
    for (unsigned i = 0; i < n; i++) reply_bulk_cstr(c, command_at(i)->name);
}

static void command_help_command(client *c, const command *cmd)
{
    (void)cmd;
    static const char *lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "HELP",
        "    Print this help.",
    };
    reply_simple_lines(c, lines, sizeof(lines) / sizeof(lines[0]));
}

#define COMMAND_SUB_FLAGS (CMD_LOADING | CMD_STALE)
static command command_subcommands[] = {
    {.name = "count", .proc = command_count_command, .arity = 2, .flags = COMMAND_SUB_FLAGS, .summary = "Get total number of Redis commands", .since = "2.8.13"},
    {.name = "info", .proc = command_info_command, .arity = -2, .flags = COMMAND_SUB_FLAGS, .summary = "Get array of specific Redis command details, or all when no argument is given.", .since = "2.8.13"},
    {.name = "docs", .proc = command_docs_command, .arity = -2, .flags = COMMAND_SUB_FLAGS, .summary = "Get array of specific Redis command documentation", .since = "7.0.0"},
    {.name = "list", .proc = command_list_command, .arity = -2, .flags = COMMAND_SUB_FLAGS, .summary = "Get an array of Redis command names", .since = "7.0.0"},
    {.name = "help", .proc = command_help_command, .arity = 2, .flags = COMMAND_SUB_FLAGS, .summary = "Show helpful text about the different subcommands", .since = "5.0.0"},
    {0},
};

static command command_commands[] = {
    {.name = "command", .proc = command_command, .arity = -1, .flags = COMMAND_SUB_FLAGS | CMD_SENTINEL, .group = "server", .summary = "Get array of Redis command details", .since = "2.8.13", .subcommands = command_subcommands},
    {0},
};

void command_commands_register(void) { command_register_all(command_commands); }
