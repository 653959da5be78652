/* command.c: the command table (see command.h): an open-addressing hash of
 * lower-case names, looked up once per command on the hot path without
 * allocating. */
#include "core/command.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/panic.h"

#define COMMAND_TABLE_SIZE 1024 /* power of two, well above the command count */
#define COMMAND_NAME_MAX 63

static command *table[COMMAND_TABLE_SIZE];
static command *ordered[COMMAND_TABLE_SIZE];
static unsigned ncommands;

static unsigned name_hash(const char *lower, size_t len)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)lower[i]) * 16777619u;
    return h & (COMMAND_TABLE_SIZE - 1);
}

static size_t lower_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[len] = '\0';
    return len;
}

static void command_set_fullname(command *cmd)
{
    if (cmd->parent)
        snprintf(cmd->fullname, sizeof(cmd->fullname), "%.31s|%.31s", cmd->parent->name, cmd->name);
    else
        snprintf(cmd->fullname, sizeof(cmd->fullname), "%.63s", cmd->name);
}

void command_register(command *cmd)
{
    size_t len = strlen(cmd->name);
    tassert(len <= COMMAND_NAME_MAX && ncommands < COMMAND_TABLE_SIZE / 2);
    unsigned h = name_hash(cmd->name, len);
    while (table[h]) {
        tassert(strcmp(table[h]->name, cmd->name) != 0);
        h = (h + 1) & (COMMAND_TABLE_SIZE - 1);
    }
    table[h] = cmd;
    ordered[ncommands++] = cmd;
    command_set_fullname(cmd);
    for (command *sub = cmd->subcommands; sub && sub->name; sub++) {
        sub->parent = cmd;
        command_set_fullname(sub);
    }
}

void command_register_all(command *cmds)
{
    for (command *c = cmds; c->name; c++) command_register(c);
}

const command *command_lookup(const char *name, size_t len)
{
    if (len > COMMAND_NAME_MAX) return NULL;
    char lower[COMMAND_NAME_MAX + 1];
    lower_copy(lower, name, len);
    unsigned h = name_hash(lower, len);
    while (table[h]) {
        if (!strcmp(table[h]->name, lower)) return table[h];
        h = (h + 1) & (COMMAND_TABLE_SIZE - 1);
    }
    return NULL;
}

const command *command_lookup_sub(const command *parent, const char *name, size_t len)
{
    for (const command *sub = parent->subcommands; sub && sub->name; sub++)
        if (strlen(sub->name) == len && !strncasecmp(sub->name, name, len)) return sub;
    return NULL;
}

unsigned command_count(void) { return ncommands; }
command *command_at(unsigned i) { return i < ncommands ? ordered[i] : NULL; }

void command_reset_stats(void)
{
    for (unsigned i = 0; i < ncommands; i++) {
        memset(&ordered[i]->stats, 0, sizeof(command_stats));
        for (command *sub = ordered[i]->subcommands; sub && sub->name; sub++)
            memset(&sub->stats, 0, sizeof(command_stats));
    }
}

int command_flag_names(int flags, const char **out, int max)
{
    static const struct {
        int flag;
        const char *name;
    } names[] = {
        {CMD_WRITE, "write"},       {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"},
        {CMD_ADMIN, "admin"},       {CMD_PUBSUB, "pubsub"},     {CMD_NOSCRIPT, "noscript"},
        {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"},   {CMD_STALE, "stale"},
        {CMD_NO_AUTH, "no_auth"},   {CMD_FAST, "fast"},         {CMD_SENTINEL, "sentinel"},
        {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < max; i++)
        if (flags & names[i].flag) out[n++] = names[i].name;
    return n;
}
