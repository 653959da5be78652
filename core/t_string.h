/* t_string.h: registration of the string commands (t_string.c). */
#ifndef TANDEM_T_STRING_H
#define TANDEM_T_STRING_H

void string_commands_register(void);

#endif
