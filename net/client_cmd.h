/* client_cmd.h: the connection commands (CLIENT, HELLO, AUTH, QUIT, PING,
 * ECHO) and the authentication gate of the call path. Their state is handed
 * in by the composition root at registration. */
#ifndef TANDEM_CLIENT_CMD_H
#define TANDEM_CLIENT_CMD_H

#include "core/command.h"

typedef struct client_cmd_state {
    str *requirepass;           /* points at the config's value (NULL: none) */
    long long auth_failures;    /* INFO stats: failed AUTH attempts */
    const char *redis_version;  /* HELLO's "version" */
    const char *(*role)(void);  /* HELLO's "role": "master" or "replica" */
} client_cmd_state;

void client_commands_register(client_cmd_state *state);
/* call.c gate: NOAUTH for unauthenticated clients when a password is set. */
int client_auth_gate(client *c, const command *cmd, void *data);

#endif
