/* object_cmd.h: registration of the OBJECT command (object_cmd.c). */
#ifndef TANDEM_OBJECT_CMD_H
#define TANDEM_OBJECT_CMD_H

void object_commands_register(void);

#endif
