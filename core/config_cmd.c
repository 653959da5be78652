/* config_cmd.c: CONFIG GET, SET, RESETSTAT, REWRITE and HELP on top of the
 * directive registry. RESETSTAT calls the reset hook the composition root
 * hands in, since the statistics belong to several modules. */
#include "core/config_cmd.h"

#include "core/command.h"

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "net/output.h"

static void config_get_command(client *c, const command *cmd)
{
    (void)cmd;
    int count = 0;
    str *pairs = config_get(c->argc - 2, c->argv + 2, &count);
    reply_map_len(c, count / 2);
    for (int i = 0; i < count; i++) {
        reply_bulk_str(c, pairs[i]);
        str_free(pairs[i]);
    }
    tfree(pairs);
}

static void config_set_command(client *c, const command *cmd)
{
    (void)cmd;
    if ((c->argc - 2) % 2) {
        reply_error(c, "ERR syntax error");
        return;
    }
    str err = NULL;
    if (config_set(c->argc - 2, c->argv + 2, &err) == 0) {
        reply_ok(c);
        return;
    }
    reply_error_len(c, err, str_len(err));
    str_free(err);
}

static void config_resetstat_command(client *c, const command *cmd)
{
    void (*reset)(void) = (void (*)(void))cmd->state;
    if (reset) reset();
    reply_ok(c);
}

static void config_rewrite_command(client *c, const command *cmd)
{
    (void)cmd;
    str err = NULL;
    if (config_rewrite(&err) == 0) {
        log_msg(LOG_NOTICE, "CONFIG REWRITE executed with success.");
        reply_ok(c);
        return;
    }
    log_msg(LOG_WARNING, "CONFIG REWRITE failed: %s", err);
    reply_error_len(c, err, str_len(err));
    str_free(err);
}

static void config_help_command(client *c, const command *cmd)
{
    (void)cmd;
    static const char *lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
    };
    reply_simple_lines(c, lines, sizeof(lines) / sizeof(lines[0]));
}

#define CONFIG_SUB_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
static command config_subcommands[] = {
    {.name = "get", .proc = config_get_command, .arity = -3, .flags = CONFIG_SUB_FLAGS, .summary = "Get the values of configuration parameters", .since = "2.0.0"},
    {.name = "set", .proc = config_set_command, .arity = -4, .flags = CONFIG_SUB_FLAGS, .summary = "Set configuration parameters to the given values", .since = "2.0.0"},
    {.name = "resetstat", .proc = config_resetstat_command, .arity = 2, .flags = CONFIG_SUB_FLAGS, .summary = "Reset the stats returned by INFO", .since = "2.0.0"},
    {.name = "rewrite", .proc = config_rewrite_command, .arity = 2, .flags = CONFIG_SUB_FLAGS, .summary = "Rewrite the configuration file with the in memory configuration", .since = "2.8.0"},
    {.name = "help", .proc = config_help_command, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .summary = "Show helpful text about the different subcommands", .since = "5.0.0"},
    {0},
};

static command config_commands[] = {
    {.name = "config", .arity = -2, .group = "server", .summary = "A container for server configuration commands", .since = "2.0.0", .subcommands = config_subcommands},
    {0},
};

void config_commands_register(void (*reset_stats)(void))
{
    for (command *c = config_subcommands; c->name; c++)
        if (c->proc == config_resetstat_command) c->state = (void *)reset_stats;
    command_register_all(config_commands);
}
