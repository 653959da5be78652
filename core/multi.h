/* multi.h: transactions. MULTI opens a queue that call.c fills instead of
 * running commands (EXEC, DISCARD, MULTI, WATCH and QUIT still run); a
 * command refused while queuing (unknown, arity, a gate) makes EXEC fail
 * with EXECABORT. EXEC runs the queue through the normal call path, inside
 * a propagated MULTI ... EXEC. WATCH remembers keys per client; a per-db
 * registry maps each watched key to its watchers, and the propagate hook
 * (every write goes through it) marks them dirty, so EXEC replies a null
 * array. */
#ifndef TANDEM_MULTI_H
#define TANDEM_MULTI_H

#include "core/command.h"

void multi_commands_register(void);
/* The propagate hook that invalidates watchers of the written keys. */
void multi_touch_hook(int db, int argc, str *argv, void *data);
/* Drops a client's queue and watched keys before it is freed. */
void multi_client_freed(client *c);

#endif
