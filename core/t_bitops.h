/* t_bitops.h: registration of the bit commands (t_bitops.c). */
#ifndef TANDEM_T_BITOPS_H
#define TANDEM_T_BITOPS_H

void bitops_commands_register(void);

#endif
