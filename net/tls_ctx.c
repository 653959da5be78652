/* tls_ctx.c: builds TLS contexts (see tls.h) with OpenSSL: protocols,
 * ciphers, our certificate chain and key (with its passphrase), the CA that
 * verifies the peer, client authentication and the server's session cache.
 * A context is checked whole (the key matches the certificate) before it is
 * returned, so that a caller can keep its old context when a new one fails.
 * One of the two files of tandem that use OpenSSL (with conn_tls.c). */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "net/tls_impl.h"

#define TLS_SESSION_ID_CONTEXT "tandem"

void tls_error_text(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        if (used + 3 >= len) continue; /* drain the rest of the queue */
        if (used) used += (size_t)snprintf(buf + used, len - used, "; ");
        ERR_error_string_n(e, buf + used, len - used);
        used = strlen(buf);
    }
}

/* Sets *err to "what: OpenSSL's reason" and returns -1. */
static int tls_fail(str *err, const char *what, const char *arg)
{
    char reason[256];
    tls_error_text(reason, sizeof(reason));
    *err = str_cat_fmt(str_empty(), "%s%s%s%s%s", what, arg ? " " : "", arg ? arg : "",
                       reason[0] ? ": " : "", reason);
    return -1;
}

static int tls_set(const char *s) { return s && s[0]; }

/* tls-protocols: a space-separated list of TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
 * every protocol not named is disabled. */
static int tls_set_protocols(SSL_CTX *ctx, const char *list, str *err)
{
    static const struct {
        const char *name;
        long op;
    } protos[] = {{"TLSv1", SSL_OP_NO_TLSv1},
                  {"TLSv1.1", SSL_OP_NO_TLSv1_1},
                  {"TLSv1.2", SSL_OP_NO_TLSv1_2},
                  {"TLSv1.3", SSL_OP_NO_TLSv1_3}};
    const int n = sizeof(protos) / sizeof(protos[0]);
    int wanted[sizeof(protos) / sizeof(protos[0])] = {0, 0, 1, 1};
    if (tls_set(list)) {
        memset(wanted, 0, sizeof(wanted));
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", list);
        for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok;
             tok = strtok_r(NULL, " ", &save)) {
            int i = 0;
            while (i < n && strcasecmp(tok, protos[i].name)) i++;
            if (i == n) {
                *err = str_cat_fmt(str_empty(), "Invalid tls-protocols specified: %s", tok);
                return -1;
            }
            wanted[i] = 1;
        }
    }
    long off = 0;
    for (int i = 0; i < n; i++)
        if (!wanted[i]) off |= protos[i].op;
    /* OpenSSL's default security level refuses TLS 1.0 and 1.1 anyway. */
    SSL_CTX_set_min_proto_version(ctx, 0);
    SSL_CTX_set_options(ctx, off);
    return 0;
}

static int tls_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pass = u ? u : "";
    int n = (int)strlen(pass);
    if (n > size) n = size;
    memcpy(buf, pass, (size_t)n);
    return n;
}

static int tls_load_identity(SSL_CTX *ctx, const tls_options *o, str *err)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) <= 0)
        return tls_fail(err, "Failed to load certificate:", o->cert_file);
    SSL_CTX_set_default_passwd_cb(ctx, tls_passphrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)(o->key_pass ? o->key_pass : ""));
    int rc = SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (rc <= 0) return tls_fail(err, "Failed to load private key:", o->key_file);
    if (SSL_CTX_check_private_key(ctx) <= 0)
        return tls_fail(err, "The private key does not match the certificate", NULL);
    return 0;
}

static int tls_load_ca(SSL_CTX *ctx, const tls_options *o, int server, str *err)
{
    const char *file = tls_set(o->ca_file) ? o->ca_file : NULL;
    const char *dir = tls_set(o->ca_dir) ? o->ca_dir : NULL;
    if (file || dir) {
        if (SSL_CTX_load_verify_locations(ctx, file, dir) <= 0)
            return tls_fail(err, "Failed to configure CA certificate(s) file/directory", NULL);
        return 0;
    }
    if (server && o->auth_clients != TLS_AUTH_NO) {
        *err = str_new("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
                       "tls-auth-clients is yes or optional");
        return -1;
    }
    if (!server && SSL_CTX_set_default_verify_paths(ctx) <= 0)
        return tls_fail(err, "Failed to load the system's CA certificates", NULL);
    return 0;
}

static void tls_set_session_cache(SSL_CTX *ctx, const tls_options *o, int server)
{
    if (!server || !o->session_caching) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        return;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, o->session_cache_size);
    SSL_CTX_set_timeout(ctx, o->session_cache_timeout);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)TLS_SESSION_ID_CONTEXT,
                                   sizeof(TLS_SESSION_ID_CONTEXT) - 1);
}

static int tls_configure(SSL_CTX *ctx, const tls_options *o, int server, str *err)
{
    long opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    opts |= SSL_OP_IGNORE_UNEXPECTED_EOF; /* a peer that just closes reads as end of stream */
#endif
    if (server && o->prefer_server_ciphers) opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    SSL_CTX_set_options(ctx, opts);
    /* Buffers stay allocated between records: releasing them when idle
     * costs an allocation per request on a request/reply connection. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (tls_set_protocols(ctx, o->protocols, err) == -1) return -1;
    if (tls_set(o->ciphers) && SSL_CTX_set_cipher_list(ctx, o->ciphers) <= 0)
        return tls_fail(err, "Failed to configure ciphers:", o->ciphers);
    if (tls_set(o->ciphersuites) && SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) <= 0)
        return tls_fail(err, "Failed to configure ciphersuites:", o->ciphersuites);
    if (server && (!tls_set(o->cert_file) || !tls_set(o->key_file))) {
        *err = str_new("No tls-cert-file or tls-key-file configured");
        return -1;
    }
    if (tls_set(o->cert_file) && tls_load_identity(ctx, o, err) == -1) return -1;
    if (tls_load_ca(ctx, o, server, err) == -1) return -1;
    int verify = SSL_VERIFY_PEER;
    if (server && o->auth_clients == TLS_AUTH_NO) verify = SSL_VERIFY_NONE;
    if (server && o->auth_clients == TLS_AUTH_YES) verify |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, verify, NULL);
    tls_set_session_cache(ctx, o, server);
    return 0;
}

static tls_context *tls_context_new(const tls_options *o, int server, str *err)
{
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        tls_fail(err, "Failed to create a TLS context", NULL);
        return NULL;
    }
    if (tls_configure(ctx, o, server, err) == -1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    tls_context *t = tcalloc(sizeof(*t));
    t->ssl_ctx = ctx;
    t->is_server = server;
    t->handshake_timeout_ms = o->handshake_timeout_ms;
    return t;
}

tls_context *tls_context_new_server(const tls_options *o, str *err)
{
    return tls_context_new(o, 1, err);
}

tls_context *tls_context_new_client(const tls_options *o, str *err)
{
    return tls_context_new(o, 0, err);
}

void tls_context_free(tls_context *ctx)
{
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl_ctx);
    tfree(ctx);
}
