/* call.c: command dispatch and propagation (see call.h). */
#include "core/call.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net/output.h"

#define CALL_MAX_HOOKS 16

static struct {
    struct {
        call_gate_fn *fn;
        void *data;
    } gates[CALL_MAX_HOOKS];
    int ngates;
    struct {
        propagate_fn *fn;
        void *data;
    } hooks[CALL_MAX_HOOKS];
    int nhooks;
    call_stats stats;
    const resp_limits *limits;
    const call_transaction_ops *txn;
    enum { TXN_NONE, TXN_OPEN, TXN_PROPAGATED } txn_stream;
    long long (*stream_offset)(void);
    int depth;      /* commands running, one inside another */
    int propagated; /* the running command propagated a write */
} calls;

void call_set_transaction_ops(const call_transaction_ops *ops) { calls.txn = ops; }

void call_set_limits(const resp_limits *limits) { calls.limits = limits; }

long long cmd_proto_max_bulk_len(void)
{
    return calls.limits ? calls.limits->max_bulk_len : 512LL * 1024 * 1024;
}

void call_add_gate(call_gate_fn *gate, void *data)
{
    calls.gates[calls.ngates].fn = gate;
    calls.gates[calls.ngates++].data = data;
}

void call_add_propagate_hook(propagate_fn *hook, void *data)
{
    calls.hooks[calls.nhooks].fn = hook;
    calls.hooks[calls.nhooks++].data = data;
}

void call_set_stream_offset(long long (*offset)(void)) { calls.stream_offset = offset; }

int call_nested(void) { return calls.depth > 1; }

call_stats *call_get_stats(void) { return &calls.stats; }

static long long usec_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void reject_unknown(client *c)
{
    str args = str_empty();
    for (int i = 1; i < c->argc && str_len(args) < 128; i++)
        args = str_cat_fmt(args, "'%.*s' ", 128 - (int)str_len(args), c->argv[i]);
    reply_error_fmt(c, "ERR unknown command '%.128s', with args beginning with: %s", c->argv[0],
                    args);
    str_free(args);
}

static int arity_ok(const command *cmd, int argc)
{
    return (cmd->arity > 0 && cmd->arity == argc) || (cmd->arity < 0 && argc >= -cmd->arity);
}

/* Finds the command to run, replying with the error when there is none. */
static const command *call_resolve(client *c)
{
    const command *cmd = command_lookup(c->argv[0], str_len(c->argv[0]));
    if (!cmd) {
        reject_unknown(c);
        return NULL;
    }
    if (cmd->subcommands && c->argc >= 2) {
        const command *sub = command_lookup_sub(cmd, c->argv[1], str_len(c->argv[1]));
        if (!sub) {
            char upper[64];
            size_t i;
            for (i = 0; cmd->name[i] && i < sizeof(upper) - 1; i++)
                upper[i] = (char)(cmd->name[i] - ('a' <= cmd->name[i] && cmd->name[i] <= 'z' ? 32 : 0));
            upper[i] = '\0';
            reply_error_fmt(c, "ERR unknown subcommand '%.128s'. Try %s HELP.", c->argv[1], upper);
            return NULL;
        }
        cmd = sub;
    }
    if (!arity_ok(cmd, c->argc)) {
        reply_error_fmt(c, "ERR wrong number of arguments for '%s' command", cmd->fullname);
        ((command *)cmd)->stats.rejected_calls++;
        return NULL;
    }
    return cmd;
}

static void call_refused(client *c)
{
    if (calls.txn) calls.txn->refused(c);
}

/* 0 when every gate lets the command run, else -1 (the gate replied). */
static int call_gates_pass(client *c, const command *cmd)
{
    for (int i = 0; i < calls.ngates; i++) {
        if (calls.gates[i].fn(c, cmd, calls.gates[i].data) == -1) {
            ((command *)cmd)->stats.rejected_calls++;
            return -1;
        }
    }
    return 0;
}

static void call_run(client *c, const command *cmd)
{
    command *mut = (command *)cmd;
    c->last_cmd = cmd->fullname;
    long long errors_before = clients_stats()->error_replies;
    int outer_propagated = calls.propagated;
    calls.propagated = 0;
    calls.depth++;
    long long start = usec_now();
    cmd->proc(c, cmd);
    mut->stats.usec += usec_now() - start;
    calls.depth--;
    if (calls.propagated && calls.stream_offset) c->woff = calls.stream_offset();
    calls.propagated |= outer_propagated;
    mut->stats.calls++;
    if (clients_stats()->error_replies != errors_before) mut->stats.failed_calls++;
    calls.stats.commands_processed++;
}

void call_command(client *c, const command *cmd)
{
    if (call_gates_pass(c, cmd) == 0) call_run(c, cmd);
}

void call_dispatch(client *c)
{
    const command *cmd = call_resolve(c);
    if (!cmd || call_gates_pass(c, cmd) == -1) {
        call_refused(c);
        return;
    }
    if (calls.txn && calls.txn->queue(c, cmd)) return;
    call_run(c, cmd);
}

static void propagate_to_hooks(int db, int argc, str *argv)
{
    calls.propagated = 1;
    for (int i = 0; i < calls.nhooks; i++) calls.hooks[i].fn(db, argc, argv, calls.hooks[i].data);
}

/* Propagates a bare MULTI or EXEC (no change counted). */
static void propagate_word(int db, const char *word)
{
    str argv[1] = {str_new(word)};
    propagate_to_hooks(db, 1, argv);
    str_free(argv[0]);
}

void propagate_begin_transaction(void) { calls.txn_stream = TXN_OPEN; }

void propagate_end_transaction(void)
{
    if (calls.txn_stream == TXN_PROPAGATED) propagate_word(-1, "EXEC");
    calls.txn_stream = TXN_NONE;
}

void propagate_changes(int db, int argc, str *argv, long long changes)
{
    calls.stats.dirty += changes;
    if (calls.txn_stream == TXN_OPEN) {
        calls.txn_stream = TXN_PROPAGATED;
        propagate_word(db, "MULTI");
    }
    propagate_to_hooks(db, argc, argv);
}

void propagate(int db, int argc, str *argv) { propagate_changes(db, argc, argv, 1); }

void propagate_current(client *c) { propagate(c->db, c->argc, c->argv); }

void propagate_current_changes(client *c, long long changes)
{
    propagate_changes(c->db, c->argc, c->argv, changes);
}
