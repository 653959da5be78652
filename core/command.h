/* command.h: the command table. Each command has a name, an arity (n: exactly
 * n arguments including the name; -n: at least n), flags, key positions, and
 * optional subcommands (CLIENT LIST, CONFIG GET, ...). Lookup is
 * case-insensitive. Modules register their commands at start-up with the
 * state pointer their procs need, so a command reaches its module's state
 * through the table, not through the server. */
#ifndef TANDEM_COMMAND_H
#define TANDEM_COMMAND_H

#include "net/client.h"

#define CMD_WRITE (1 << 0)
#define CMD_READONLY (1 << 1)
#define CMD_ADMIN (1 << 2)
#define CMD_FAST (1 << 3)
#define CMD_STALE (1 << 4)
#define CMD_LOADING (1 << 5)
#define CMD_NOSCRIPT (1 << 6)
#define CMD_NO_AUTH (1 << 7)
#define CMD_DENYOOM (1 << 8)
#define CMD_PUBSUB (1 << 9)
#define CMD_BLOCKING (1 << 10)
#define CMD_SENTINEL (1 << 11)
/* Refused with -LOADING while a replica loads its primary's RDB into a new
 * dataset and serves the old one (repl-diskless-load swapdb). */
#define CMD_NO_ASYNC_LOADING (1 << 12)

struct command;
typedef void command_proc(client *c, const struct command *cmd);

typedef struct command_stats {
    long long calls, usec, rejected_calls, failed_calls;
} command_stats;

typedef struct command {
    const char *name; /* lower case; "client" or, for a subcommand, "list" */
    command_proc *proc;
    int arity;
    int flags;
    int first_key, last_key, key_step;
    const char *group;   /* COMMAND DOCS: "server", "connection", ... */
    const char *summary; /* COMMAND DOCS */
    const char *since;
    void *state;         /* the owning module's state */
    struct command *subcommands; /* array ended by a NULL name, or NULL */
    struct command *parent;
    char fullname[64];   /* "client|list" */
    command_stats stats;
} command;

/* Registers a command (and its subcommands array); the table keeps the
 * pointers, so the arrays must live for the whole run (static storage). */
void command_register(command *cmd);
void command_register_all(command *cmds); /* array ended by a NULL name */
const command *command_lookup(const char *name, size_t len);
/* Resolves a container's subcommand, or NULL. */
const command *command_lookup_sub(const command *parent, const char *name, size_t len);
/* Every registered top-level command (for COMMAND and INFO). */
unsigned command_count(void);
command *command_at(unsigned i);
void command_reset_stats(void);
/* The flag names of COMMAND INFO ("write", "readonly", ...): up to max. */
int command_flag_names(int flags, const char **out, int max);

#endif
