/* tls_config.c: the tls-* directives and the contexts built from them (see
 * tls_config.h). The names, values and defaults are Redis 7.0's; one
 * directive is tandem's own: tls-handshake-timeout (milliseconds; a TLS
 * handshake that takes longer fails and the connection closes). For the
 * client context (replication) Redis's fallbacks apply: tls-client-cert-file,
 * tls-client-key-file and tls-client-key-file-pass default to tls-cert-file,
 * tls-key-file and tls-key-file-pass. */
#include "net/tls_config.h"

#include <stdio.h>

#include "core/config.h"
#include "core/log.h"

static struct {
    long long port;
    str cert_file, key_file, key_pass;
    str client_cert_file, client_key_file, client_key_pass;
    str ca_file, ca_dir;
    int auth_clients;
    int replication;
    str protocols, ciphers, ciphersuites;
    int prefer_server_ciphers;
    int session_caching;
    long long session_cache_size, session_cache_timeout;
    long long handshake_timeout_ms;
    tls_context *server_ctx, *client_ctx;
    int started; /* tls_config_start ran: changes apply at once */
} tc;

static const config_enum tls_auth_values[] = {
    {"no", TLS_AUTH_NO}, {"yes", TLS_AUTH_YES}, {"optional", TLS_AUTH_OPTIONAL}, {NULL, 0}};

static int tls_config_in_use(void) { return tc.port != 0 || tc.replication; }

/* A directive's value, or the fallback's when it is empty. */
static const char *tls_config_or(str value, str fallback)
{
    return value && str_len(value) ? value : fallback;
}

static tls_options tls_config_options(void)
{
    tls_options o = {.cert_file = tc.cert_file,
                     .key_file = tc.key_file,
                     .key_pass = tc.key_pass,
                     .ca_file = tc.ca_file,
                     .ca_dir = tc.ca_dir,
                     .auth_clients = tc.auth_clients,
                     .protocols = tc.protocols,
                     .ciphers = tc.ciphers,
                     .ciphersuites = tc.ciphersuites,
                     .prefer_server_ciphers = tc.prefer_server_ciphers,
                     .session_caching = tc.session_caching,
                     .session_cache_size = tc.session_cache_size,
                     .session_cache_timeout = tc.session_cache_timeout,
                     .handshake_timeout_ms = tc.handshake_timeout_ms};
    return o;
}

/* Builds both contexts (the server one only with a TLS port) and swaps them
 * in, or changes nothing: 0, or -1 with *err. */
static int tls_config_build(str *err)
{
    tls_options o = tls_config_options();
    tls_context *server_ctx = NULL;
    if (tc.port && !(server_ctx = tls_context_new_server(&o, err))) return -1;
    o.cert_file = tls_config_or(tc.client_cert_file, tc.cert_file);
    o.key_file = tls_config_or(tc.client_key_file, tc.key_file);
    o.key_pass = tls_config_or(tc.client_key_pass, tc.key_pass);
    tls_context *client_ctx = tls_context_new_client(&o, err);
    if (!client_ctx) {
        tls_context_free(server_ctx);
        return -1;
    }
    tls_context_free(tc.server_ctx);
    tls_context_free(tc.client_ctx);
    tc.server_ctx = server_ctx;
    tc.client_ctx = client_ctx;
    return 0;
}

/* After a CONFIG SET of a tls-* directive (once, for several). */
static int tls_config_apply(void *data, const char **errp)
{
    (void)data;
    if (!tc.started || !tls_config_in_use()) return 0;
    str err = NULL;
    if (tls_config_build(&err) == -1) {
        log_msg(LOG_WARNING, "Failed to update TLS configuration: %s", err);
        str_free(err);
        *errp = "Unable to update TLS configuration. Check server logs.";
        return -1;
    }
    log_msg(LOG_NOTICE, "TLS configuration updated: new connections use the new contexts");
    return 0;
}

static void tls_config_string(const char *name, str *var, int flags)
{
    config_register_string(name, var, "", flags, tls_config_apply, NULL);
}

void tls_config_register(void)
{
    config_register_ll("tls-port", &tc.port, 0, 0, 65535, CONFIG_IMMUTABLE, NULL, NULL);
    tls_config_string("tls-cert-file", &tc.cert_file, 0);
    tls_config_string("tls-key-file", &tc.key_file, 0);
    tls_config_string("tls-key-file-pass", &tc.key_pass, CONFIG_SENSITIVE);
    tls_config_string("tls-client-cert-file", &tc.client_cert_file, 0);
    tls_config_string("tls-client-key-file", &tc.client_key_file, 0);
    tls_config_string("tls-client-key-file-pass", &tc.client_key_pass, CONFIG_SENSITIVE);
    tls_config_string("tls-ca-cert-file", &tc.ca_file, 0);
    tls_config_string("tls-ca-cert-dir", &tc.ca_dir, 0);
    config_register_enum("tls-auth-clients", &tc.auth_clients, tls_auth_values, TLS_AUTH_YES, 0,
                         tls_config_apply, NULL);
    config_register_bool("tls-replication", &tc.replication, 0, 0, tls_config_apply, NULL);
    tls_config_string("tls-protocols", &tc.protocols, 0);
    tls_config_string("tls-ciphers", &tc.ciphers, 0);
    tls_config_string("tls-ciphersuites", &tc.ciphersuites, 0);
    config_register_bool("tls-prefer-server-ciphers", &tc.prefer_server_ciphers, 0, 0,
                         tls_config_apply, NULL);
    config_register_bool("tls-session-caching", &tc.session_caching, 1, 0, tls_config_apply, NULL);
    config_register_ll("tls-session-cache-size", &tc.session_cache_size, 20 * 1024, 0,
                       0x7fffffff, 0, tls_config_apply, NULL);
    config_register_ll("tls-session-cache-timeout", &tc.session_cache_timeout, 300, 0,
                       0x7fffffff, 0, tls_config_apply, NULL);
    config_register_ll("tls-handshake-timeout", &tc.handshake_timeout_ms, 10000, 0, 0x7fffffff,
                       0, tls_config_apply, NULL);
}

int tls_config_start(str *err)
{
    tc.started = 1;
    if (!tls_config_in_use()) return 0;
    return tls_config_build(err);
}

void tls_config_free(void)
{
    tls_context_free(tc.server_ctx);
    tls_context_free(tc.client_ctx);
    tc.server_ctx = tc.client_ctx = NULL;
}

int tls_config_port(void) { return (int)tc.port; }
int tls_config_replication(void) { return tc.replication; }
tls_context *const *tls_config_server_context(void) { return &tc.server_ctx; }

conn *tls_config_replication_conn(loop *l)
{
    if (!tc.replication) return conn_create_socket(l);
    return tc.client_ctx ? conn_create_tls(l, tc.client_ctx) : NULL;
}
