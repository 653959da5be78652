/* t_keys.c: the generic key commands. */
#include "core/t_keys.h"

#include "core/command.h"

static command keys_commands[] = {
    {0},
};

void keys_commands_register(void) { command_register_all(keys_commands); }
