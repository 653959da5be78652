/* client_cmd.c: CLIENT (LIST, INFO, ID, SETNAME, GETNAME, KILL, HELP), HELLO,
 * AUTH, QUIT, PING and ECHO, and the authentication gate. */
#include "net/client_cmd.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "net/output.h"

static int password_required(const client_cmd_state *st)
{
    return st->requirepass && *st->requirepass && str_len(*st->requirepass) > 0;
}

int client_auth_gate(client *c, const command *cmd, void *data)
{
    client_cmd_state *st = data;
    if (c->authenticated || !password_required(st)) return 0;
    if ((cmd->parent ? cmd->parent->flags : cmd->flags) & CMD_NO_AUTH) return 0;
    reply_error(c, "NOAUTH Authentication required.");
    return -1;
}

/* Checks user/password for AUTH and HELLO; replies on failure. 0 or -1. */
static int authenticate(client *c, client_cmd_state *st, const str user, const str pass)
{
    if (!password_required(st)) {
        /* The default user has no password: AUTH <password> is a mistake,
         * AUTH default <anything> succeeds, as in Redis. */
        if (!user) {
            reply_error(c, "ERR AUTH <password> called without any password configured for "
                           "the default user. Are you sure your configuration is correct?");
            return -1;
        }
        if (!strcmp(user, "default")) {
            c->authenticated = 1;
            return 0;
        }
    } else if ((!user || !strcmp(user, "default")) &&
               constant_time_equal(pass, str_len(pass), *st->requirepass,
                                   str_len(*st->requirepass))) {
        c->authenticated = 1;
        return 0;
    }
    st->auth_failures++;
    reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
    return -1;
}

static void auth_command(client *c, const command *cmd)
{
    if (c->argc > 3) {
        reply_error(c, "ERR syntax error");
        return;
    }
    str user = c->argc == 3 ? c->argv[1] : NULL;
    if (authenticate(c, cmd->state, user, c->argv[c->argc - 1]) == 0) reply_ok(c);
}

static int valid_client_name(const str name)
{
    for (size_t i = 0; i < str_len(name); i++)
        if (name[i] < '!' || name[i] > '~') return 0;
    return 1;
}

static int set_client_name(client *c, const str name)
{
    if (!valid_client_name(name)) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return -1;
    }
    str_free(c->name);
    c->name = str_len(name) ? str_dup(name) : NULL;
    return 0;
}

static void hello_command(client *c, const command *cmd)
{
    client_cmd_state *st = cmd->state;
    long long ver = c->resp;
    int i = 1;
    if (c->argc >= 2) {
        if (parse_ll(c->argv[1], str_len(c->argv[1]), &ver) == -1) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        i = 2;
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    str user = NULL, pass = NULL, name = NULL;
    for (; i < c->argc; i++) {
        int more = c->argc - i - 1;
        if (!strcasecmp(c->argv[i], "auth") && more >= 2) {
            user = c->argv[i + 1];
            pass = c->argv[i + 2];
            i += 2;
        } else if (!strcasecmp(c->argv[i], "setname") && more >= 1) {
            name = c->argv[++i];
        } else {
            reply_error_fmt(c, "ERR Syntax error in HELLO option '%s'", c->argv[i]);
            return;
        }
    }
    if (pass && authenticate(c, st, user, pass) == -1) return;
    if (!c->authenticated && password_required(st)) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, "
                       "otherwise the HELLO AUTH <user> <pass> option can be used to "
                       "authenticate the client and select the RESP protocol version at the same "
                       "time");
        return;
    }
    if (name && set_client_name(c, name) == -1) return;
    c->resp = (int)ver;
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, st->redis_version);
    reply_bulk_cstr(c, "proto");
    reply_integer(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_integer(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, st->role());
    reply_bulk_cstr(c, "modules");
    reply_array_len(c, 0);
}

static void quit_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_ok(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void ping_command(client *c, const command *cmd)
{
    (void)cmd;
    if (c->argc > 2) {
        reply_error(c, "ERR wrong number of arguments for 'ping' command");
        return;
    }
    if (c->argc == 1)
        reply_raw(c, "+PONG\r\n", 7);
    else
        reply_bulk_str(c, c->argv[1]);
}

static void echo_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_bulk_str(c, c->argv[1]);
}

/* ---------- CLIENT ---------- */

static void client_list_command(client *c, const command *cmd)
{
    (void)cmd;
    int type = -1, by_id = 0;
    if (c->argc == 4 && !strcasecmp(c->argv[2], "type")) {
        type = client_class_by_name(c->argv[3]);
        if (type == -1 && strcasecmp(c->argv[3], "master")) {
            reply_error_fmt(c, "ERR Unknown client type '%s'", c->argv[3]);
            return;
        }
    } else if (c->argc >= 4 && !strcasecmp(c->argv[2], "id")) {
        by_id = 1;
        for (int i = 3; i < c->argc; i++) {
            long long id;
            if (parse_ll(c->argv[i], str_len(c->argv[i]), &id) == -1 || id <= 0) {
                reply_error(c, "ERR Invalid client ID");
                return;
            }
        }
    } else if (c->argc != 2) {
        reply_error(c, "ERR syntax error");
        return;
    }
    int want_master = type == -1 && c->argc == 4 && !strcasecmp(c->argv[2], "type");
    str out = str_empty();
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, clients_list())
    {
        client *o = list_entry(pos, client, all_node);
        if (want_master && !(o->flags & CLIENT_PRIMARY)) continue;
        if (type != -1 && (int)client_class_of(o) != type) continue;
        if (by_id) {
            int found = 0;
            for (int i = 3; i < c->argc && !found; i++) {
                long long id;
                parse_ll(c->argv[i], str_len(c->argv[i]), &id);
                found = (uint64_t)id == o->id;
            }
            if (!found) continue;
        }
        out = client_info_line(out, o);
        out = str_cat(out, "\n");
    }
    reply_verbatim(c, out, str_len(out), "txt");
    str_free(out);
}

static void client_info_command(client *c, const command *cmd)
{
    (void)cmd;
    str out = client_info_line(str_empty(), c);
    out = str_cat(out, "\n");
    reply_verbatim(c, out, str_len(out), "txt");
    str_free(out);
}

static void client_id_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_integer(c, (long long)c->id);
}

static void client_setname_command(client *c, const command *cmd)
{
    (void)cmd;
    if (set_client_name(c, c->argv[2]) == 0) reply_ok(c);
}

static void client_getname_command(client *c, const command *cmd)
{
    (void)cmd;
    if (c->name)
        reply_bulk_str(c, c->name);
    else
        reply_null(c);
}

/* The filters of CLIENT KILL <filter> <value> ... */
typedef struct kill_filter {
    long long id;
    const char *addr, *laddr;
    int type; /* class, or -2 for master, -1 for any */
    int skipme;
} kill_filter;

static int kill_parse_filter(client *c, kill_filter *f)
{
    f->id = 0;
    f->addr = f->laddr = NULL;
    f->type = -1;
    f->skipme = 1;
    for (int i = 2; i < c->argc; i += 2) {
        if (i + 1 >= c->argc) goto syntax;
        const char *opt = c->argv[i], *val = c->argv[i + 1];
        if (!strcasecmp(opt, "id")) {
            if (parse_ll(val, str_len(c->argv[i + 1]), &f->id) == -1 || f->id <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return -1;
            }
        } else if (!strcasecmp(opt, "type")) {
            f->type = client_class_by_name(val);
            if (f->type == -1) {
                if (strcasecmp(val, "master")) {
                    reply_error_fmt(c, "ERR Unknown client type '%s'", val);
                    return -1;
                }
                f->type = -2;
            }
        } else if (!strcasecmp(opt, "addr")) {
            f->addr = val;
        } else if (!strcasecmp(opt, "laddr")) {
            f->laddr = val;
        } else if (!strcasecmp(opt, "skipme")) {
            if (!strcasecmp(val, "yes"))
                f->skipme = 1;
            else if (!strcasecmp(val, "no"))
                f->skipme = 0;
            else
                goto syntax;
        } else {
            goto syntax;
        }
    }
    return 0;
syntax:
    reply_error(c, "ERR syntax error");
    return -1;
}

static int kill_matches(const kill_filter *f, client *self, client *o)
{
    if (f->id && (uint64_t)f->id != o->id) return 0;
    if (f->addr && strcmp(f->addr, o->addr)) return 0;
    if (f->laddr && strcmp(f->laddr, o->laddr)) return 0;
    if (f->type == -2 && !(o->flags & CLIENT_PRIMARY)) return 0;
    if (f->type >= 0 && (int)client_class_of(o) != f->type) return 0;
    if (f->skipme && o == self) return 0;
    return 1;
}

static void client_kill_command(client *c, const command *cmd)
{
    (void)cmd;
    kill_filter f;
    int old_form = c->argc == 3;
    if (old_form) {
        f = (kill_filter){.addr = c->argv[2], .type = -1, .skipme = 0};
    } else if (kill_parse_filter(c, &f) == -1) {
        return;
    }
    long long killed = 0;
    int kill_self = 0;
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, clients_list())
    {
        client *o = list_entry(pos, client, all_node);
        if (!kill_matches(&f, c, o) || (o->flags & CLIENT_CLOSE_ASAP)) continue;
        if (o == c)
            kill_self = 1; /* after the reply below */
        else
            client_close_async(o);
        killed++;
    }
    if (!old_form) {
        reply_integer(c, killed);
    } else if (killed) {
        reply_ok(c);
    } else {
        reply_error(c, "ERR No such client");
    }
    if (kill_self) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void client_help_command(client *c, const command *cmd)
{
    (void)cmd;
    static const char *lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID <client-id>, TYPE (NORMAL|MASTER|REPLICA|PUBSUB),",
        "    ADDR <ip:port>, LADDR <ip:port>, SKIPME (YES|NO).",
        "LIST [options ...]",
        "    Return information about client connections. Options: TYPE (NORMAL|MASTER|REPLICA|PUBSUB), ID <client-id> [...].",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Print this help.",
    };
    reply_simple_lines(c, lines, sizeof(lines) / sizeof(lines[0]));
}

static command client_subcommands[] = {
    {.name = "list", .proc = client_list_command, .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .summary = "Get the list of client connections", .since = "2.4.0"},
    {.name = "info", .proc = client_info_command, .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .summary = "Returns information about the current client connection.", .since = "6.2.0"},
    {.name = "id", .proc = client_id_command, .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .summary = "Returns the client ID for the current connection", .since = "5.0.0"},
    {.name = "setname", .proc = client_setname_command, .arity = 3, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .summary = "Set the current connection name", .since = "2.6.9"},
    {.name = "getname", .proc = client_getname_command, .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .summary = "Get the current connection name", .since = "2.6.9"},
    {.name = "kill", .proc = client_kill_command, .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .summary = "Kill the connection of a client", .since = "2.4.0"},
    {.name = "help", .proc = client_help_command, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .summary = "Show helpful text about the different subcommands", .since = "5.0.0"},
    {0},
};

static command connection_commands[] = {
    {.name = "client", .arity = -2, .flags = CMD_SENTINEL, .group = "connection", .summary = "A container for client connection commands", .since = "2.4.0", .subcommands = client_subcommands},
    {.name = "hello", .proc = hello_command, .arity = -1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_SENTINEL, .group = "connection", .summary = "Handshake with Redis", .since = "6.0.0"},
    {.name = "auth", .proc = auth_command, .arity = -2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_SENTINEL, .group = "connection", .summary = "Authenticate to the server", .since = "1.0.0"},
    {.name = "quit", .proc = quit_command, .arity = -1, .flags = CMD_NO_AUTH | CMD_LOADING | CMD_STALE | CMD_FAST, .group = "connection", .summary = "Close the connection", .since = "1.0.0"},
    {.name = "ping", .proc = ping_command, .arity = -1, .flags = CMD_FAST | CMD_SENTINEL, .group = "connection", .summary = "Ping the server", .since = "1.0.0"},
    {.name = "echo", .proc = echo_command, .arity = 2, .flags = CMD_FAST, .group = "connection", .summary = "Echo the given string", .since = "1.0.0"},
    {0},
};

void client_commands_register(client_cmd_state *state)
{
    for (command *c = connection_commands; c->name; c++) c->state = state;
    for (command *c = client_subcommands; c->name; c++) c->state = state;
    command_register_all(connection_commands);
}
