/* command_cmd.h: registration of COMMAND and its subcommands. */
#ifndef TANDEM_COMMAND_CMD_H
#define TANDEM_COMMAND_CMD_H

void command_commands_register(void);

#endif
