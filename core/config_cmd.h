/* config_cmd.h: registration of CONFIG; reset_stats serves RESETSTAT. */
#ifndef TANDEM_CONFIG_CMD_H
#define TANDEM_CONFIG_CMD_H

void config_commands_register(void (*reset_stats)(void));

#endif
