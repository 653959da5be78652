/* tls_config.h: the server's TLS settings (Redis's tls-* directives) and the
 * two contexts built from them: the server context of the TLS listener and
 * the client context of the replication link (tls-replication). CONFIG SET
 * of a tls-* directive builds new contexts and swaps them in only when both
 * build: connections already made keep the context they were made with, and
 * a bad certificate leaves the old contexts in place. */
#ifndef TANDEM_TLS_CONFIG_H
#define TANDEM_TLS_CONFIG_H

#include "core/loop.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/tls.h"

/* Registers the tls-* directives (before the Redis placeholders). */
void tls_config_register(void);
/* At start-up, after the configuration loaded: builds the contexts when
 * tls-port or tls-replication asks for them. 0, or -1 with *err. */
int tls_config_start(str *err);
void tls_config_free(void);

/* tls-port (0: no TLS listener) and tls-replication. */
int tls_config_port(void);
int tls_config_replication(void);
/* Where the server context lives, for listener_create_tls. */
tls_context *const *tls_config_server_context(void);
/* A new unconnected connection to a primary: TLS with the client context
 * under tls-replication, plain otherwise; NULL when TLS is asked for but no
 * context could be built. */
conn *tls_config_replication_conn(loop *l);

#endif
