/* tls_impl.h: what the two OpenSSL files of net/ share (tls_ctx.c builds
 * contexts, conn_tls.c runs connections on them). Private to those two
 * files; OpenSSL's types are only named here, never included. */
#ifndef TANDEM_TLS_IMPL_H
#define TANDEM_TLS_IMPL_H

#include <stddef.h>

#include "net/tls.h"

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

struct tls_context {
    struct ssl_ctx_st *ssl_ctx; /* one reference; every SSL made from it holds another */
    int is_server;
    long long handshake_timeout_ms;
};

/* Empties OpenSSL's error queue of this thread into buf as one line
 * ("reason; reason"), or writes "" when it is empty. */
void tls_error_text(char *buf, size_t len);

#endif
