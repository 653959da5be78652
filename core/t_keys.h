/* t_keys.h: registration of the keys commands (t_keys.c). */
#ifndef TANDEM_T_KEYS_H
#define TANDEM_T_KEYS_H

void keys_commands_register(void);

#endif
