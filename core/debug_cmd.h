/* debug_cmd.h: registration of the DEBUG command (debug_cmd.c) and the
 * values of the enable-debug-command directive that gates it. */
#ifndef TANDEM_DEBUG_CMD_H
#define TANDEM_DEBUG_CMD_H

/* enable-debug-command: no, yes, or local (loopback and Unix clients). */
enum { DEBUG_CMD_NO = 0, DEBUG_CMD_YES, DEBUG_CMD_LOCAL };

/* enable_debug_command points at the directive's live value. */
void debug_commands_register(const int *enable_debug_command);

#endif
