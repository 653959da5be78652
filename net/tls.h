/* tls.h: TLS for the connection interface. A tls_context holds what every
 * TLS connection of one side shares (certificate, key, CA, protocols,
 * ciphers, session cache); a context is built whole from options or not at
 * all, so a bad certificate never replaces a good context. Connections made
 * from a context keep it alive: freeing (or swapping) a context leaves the
 * existing connections working. conn_create_tls and
 * conn_create_accepted_tls make connections of the TLS type, which behave as
 * the plain socket type behind net/conn.h (tls_ctx.c builds contexts,
 * conn_tls.c is the connection type; OpenSSL is used in those two files
 * only). Usable by the server and by standalone tools alike; a process
 * using it must ignore SIGPIPE (OpenSSL writes to the socket with write). */
#ifndef TANDEM_TLS_H
#define TANDEM_TLS_H

#include "core/loop.h"
#include "core/str.h"
#include "net/conn.h"

/* tls-auth-clients */
enum tls_auth_clients { TLS_AUTH_NO = 0, TLS_AUTH_YES, TLS_AUTH_OPTIONAL };

/* NULL or "" leaves a string unset. */
typedef struct tls_options {
    const char *cert_file; /* our certificate (required for a server) */
    const char *key_file;  /* its private key */
    const char *key_pass;  /* the key's passphrase */
    const char *ca_file;   /* CA bundle to verify the peer */
    const char *ca_dir;    /* CA directory (c_rehash layout) */
    int auth_clients;      /* server: enum tls_auth_clients */
    const char *protocols; /* "TLSv1.2 TLSv1.3"; unset: TLS 1.2 and 1.3 */
    const char *ciphers;      /* TLS 1.2 and older cipher list */
    const char *ciphersuites; /* TLS 1.3 cipher suites */
    int prefer_server_ciphers;
    int session_caching;             /* server */
    long long session_cache_size;    /* entries */
    long long session_cache_timeout; /* seconds */
    long long handshake_timeout_ms;  /* a handshake slower than this fails; 0: none */
} tls_options;

typedef struct tls_context tls_context;

/* A context for accepting (server) or connecting (client) connections. NULL
 * with the reason (OpenSSL's included) in *err, a new str, on failure. A
 * client context verifies the server's certificate against the CA; with no
 * CA given it uses the system's default paths. */
tls_context *tls_context_new_server(const tls_options *o, str *err);
tls_context *tls_context_new_client(const tls_options *o, str *err);
/* Drops the caller's reference; connections keep theirs. NULL is fine. */
void tls_context_free(tls_context *ctx);

/* A new unconnected TLS client connection for conn_connect: the handshake
 * runs as part of the connect (see conn_set_manual_handshake), and the
 * server's certificate is checked against the host given to conn_connect
 * (a name or an IP address). */
conn *conn_create_tls(loop *l, tls_context *ctx);
/* Wraps an accepted descriptor; conn_accept runs the server handshake. */
conn *conn_create_accepted_tls(loop *l, int fd, tls_context *ctx);

#endif
