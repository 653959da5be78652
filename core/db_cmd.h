/* db_cmd.h: registration of the database commands (db_cmd.c). */
#ifndef TANDEM_DB_CMD_H
#define TANDEM_DB_CMD_H

void db_commands_register(void);

#endif
