/* debug_cmd.h: registration of the DEBUG command (debug_cmd.c), the
 * values of the enable-debug-command directive that gates it, and the hook
 * DEBUG RELOAD runs. */
#ifndef TANDEM_DEBUG_CMD_H
#define TANDEM_DEBUG_CMD_H

#include "net/client.h"

/* enable-debug-command: no, yes, or local (loopback and Unix clients). */
enum { DEBUG_CMD_NO = 0, DEBUG_CMD_YES, DEBUG_CMD_LOCAL };

/* enable_debug_command points at the directive's live value. */
void debug_commands_register(const int *enable_debug_command);

/* DEBUG RELOAD is the persistence module's work: the composition root hands
 * it in (fn parses the options and replies). */
typedef void debug_reload_fn(client *c);
void debug_set_reload_hook(debug_reload_fn *fn);

#endif
