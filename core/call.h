/* call.h: the one path every command runs through, and the one point every
 * write goes out through. call_dispatch() is the client layer's dispatch
 * callback: it looks the command up, checks arity, runs the registered gates
 * (authentication, and later read-only replica, OOM, loading, min-replicas,
 * MISCONF), runs the command and counts it. propagate() hands a write, in its
 * deterministic form, to the registered hooks (save-point counters, the
 * replication stream). */
#ifndef TANDEM_CALL_H
#define TANDEM_CALL_H

#include "core/command.h"

/* A gate returns 0 to let the command run, or -1 after replying with the
 * reason it refused. */
typedef int call_gate_fn(client *c, const command *cmd, void *data);
typedef void propagate_fn(int db, int argc, str *argv, void *data);

void call_add_gate(call_gate_fn *gate, void *data);
void call_add_propagate_hook(propagate_fn *hook, void *data);
/* The replication stream's offset: after a command that propagated a write,
 * its client's woff takes it (what WAIT waits for). */
void call_set_stream_offset(long long (*offset)(void));
/* 1 while the running command runs inside another one (EXEC's queue): a
 * command that would block must answer at once instead. */
int call_nested(void);

void call_dispatch(client *c);
/* Runs a command already resolved (EXEC's queue): gates, proc, statistics. */
void call_command(client *c, const command *cmd);

/* A transaction layer (multi.c): queue() returns 1 when it queued the
 * command (and replied) instead of letting it run; refused() is told when
 * a command is refused before it could run or be queued. */
typedef struct call_transaction_ops {
    int (*queue)(client *c, const command *cmd);
    void (*refused)(client *c);
} call_transaction_ops;
void call_set_transaction_ops(const call_transaction_ops *ops);
/* The live proto-max-bulk-len (strings may not grow past it). */
void call_set_limits(const resp_limits *limits);
long long cmd_proto_max_bulk_len(void);
void propagate(int db, int argc, str *argv);
/* The same, counting changes keys for the save points (MSET, DEL of many
 * keys, FLUSHALL), as Redis's dirty counter does; propagate() counts one. */
void propagate_changes(int db, int argc, str *argv, long long changes);
/* Propagates the running client's own command as it arrived. */
void propagate_current(client *c);
void propagate_current_changes(client *c, long long changes);
/* Between these, the first write propagated is preceded by a MULTI and,
 * if any was, the end propagates an EXEC (EXEC's atomic unit). */
void propagate_begin_transaction(void);
void propagate_end_transaction(void);

typedef struct call_stats {
    long long commands_processed;
    long long dirty;                /* changes since the last save */
} call_stats;
call_stats *call_get_stats(void);

#endif
