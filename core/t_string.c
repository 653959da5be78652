/* t_string.c: the string commands. */
#include "core/t_string.h"

#include "core/command.h"

static command string_commands[] = {
    {0},
};

void string_commands_register(void) { command_register_all(string_commands); }
