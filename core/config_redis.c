/* config_redis.c: the Redis 7.0 directives that no tandem module implements.
 * Owns their storage and the table of their names, Redis 7.0 defaults (as
 * CONFIG GET shows them on a fresh Redis 7.0), and Redis's immutability of
 * each, plus the aliases Redis accepts. They are registered as strings
 * flagged CONFIG_UNIMPLEMENTED, so a redis.conf loads unchanged and the
 * start-up warning can name the ones set to something else. One exception:
 * appendonly is a real yes/no directive that refuses yes, since tandem has no
 * AOF and silently running without one would lose data the user meant to
 * keep. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

typedef struct config_redis_directive {
    const char *name;
    const char *def; /* NULL: the working directory (dir) */
    int flags;
} config_redis_directive;

typedef struct config_redis_alias {
    const char *alias;
    const char *name;
} config_redis_alias;

static const config_redis_directive config_redis_directives[] = {
    /* Shown by CONFIG GET * in Redis 7.0. */
    {"acl-pubsub-default", "resetchannels", 0},
    {"aclfile", "", CONFIG_IMMUTABLE},
    {"acllog-max-len", "128", 0},
    {"active-defrag-cycle-max", "25", 0},
    {"active-defrag-cycle-min", "1", 0},
    {"active-defrag-ignore-bytes", "104857600", 0},
    {"active-defrag-max-scan-fields", "1000", 0},
    {"active-defrag-threshold-lower", "10", 0},
    {"active-defrag-threshold-upper", "100", 0},
    {"active-expire-effort", "1", 0},
    {"activedefrag", "no", 0},
    {"activerehashing", "yes", 0},
    {"always-show-logo", "no", CONFIG_IMMUTABLE},
    {"aof-disable-auto-gc", "no", 0},
    {"aof-load-truncated", "yes", 0},
    {"aof-rewrite-incremental-fsync", "yes", 0},
    {"aof-timestamp-enabled", "no", 0},
    {"aof-use-rdb-preamble", "yes", 0},
    {"aof_rewrite_cpulist", "", CONFIG_IMMUTABLE},
    {"appenddirname", "appendonlydir", CONFIG_IMMUTABLE},
    {"appendfilename", "appendonly.aof", CONFIG_IMMUTABLE},
    {"appendfsync", "everysec", 0},
    {"auto-aof-rewrite-min-size", "67108864", 0},
    {"auto-aof-rewrite-percentage", "100", 0},
    {"bgsave_cpulist", "", CONFIG_IMMUTABLE},
    {"bind", "* -::*", CONFIG_MULTI_ARG},
    {"bind-source-addr", "", 0},
    {"bio_cpulist", "", CONFIG_IMMUTABLE},
    {"busy-reply-threshold", "5000", 0},
    {"client-output-buffer-limit",
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", CONFIG_MULTI_ARG},
    {"client-query-buffer-limit", "1073741824", 0},
    {"cluster-allow-pubsubshard-when-down", "yes", 0},
    {"cluster-allow-reads-when-down", "no", 0},
    {"cluster-allow-replica-migration", "yes", 0},
    {"cluster-announce-bus-port", "0", 0},
    {"cluster-announce-hostname", "", 0},
    {"cluster-announce-ip", "", 0},
    {"cluster-announce-port", "0", 0},
    {"cluster-announce-tls-port", "0", 0},
    {"cluster-config-file", "nodes.conf", CONFIG_IMMUTABLE},
    {"cluster-enabled", "no", CONFIG_IMMUTABLE},
    {"cluster-link-sendbuf-limit", "0", 0},
    {"cluster-migration-barrier", "1", 0},
    {"cluster-node-timeout", "15000", 0},
    {"cluster-port", "0", CONFIG_IMMUTABLE},
    {"cluster-preferred-endpoint-type", "ip", 0},
    {"cluster-replica-no-failover", "no", 0},
    {"cluster-replica-validity-factor", "10", 0},
    {"cluster-require-full-coverage", "yes", 0},
    {"crash-log-enabled", "yes", 0},
    {"crash-memcheck-enabled", "yes", 0},
    {"daemonize", "no", CONFIG_IMMUTABLE},
    {"databases", "16", CONFIG_IMMUTABLE},
    {"dbfilename", "dump.rdb", 0},
    {"dir", NULL, 0},
    {"disable-thp", "yes", CONFIG_IMMUTABLE},
    {"dynamic-hz", "yes", 0},
    {"enable-debug-command", "no", CONFIG_IMMUTABLE},
    {"enable-module-command", "no", CONFIG_IMMUTABLE},
    {"enable-protected-configs", "no", CONFIG_IMMUTABLE},
    {"hash-max-listpack-entries", "512", 0},
    {"hash-max-listpack-value", "64", 0},
    {"hll-sparse-max-bytes", "3000", 0},
    {"hz", "10", 0},
    {"ignore-warnings", "", 0},
    {"io-threads", "1", CONFIG_IMMUTABLE},
    {"io-threads-do-reads", "no", CONFIG_IMMUTABLE},
    {"jemalloc-bg-thread", "yes", 0},
    {"latency-monitor-threshold", "0", 0},
    {"latency-tracking", "yes", 0},
    {"latency-tracking-info-percentiles", "50 99 99.9", CONFIG_MULTI_ARG},
    {"lazyfree-lazy-eviction", "no", 0},
    {"lazyfree-lazy-expire", "no", 0},
    {"lazyfree-lazy-server-del", "no", 0},
    {"lazyfree-lazy-user-del", "no", 0},
    {"lazyfree-lazy-user-flush", "no", 0},
    {"lfu-decay-time", "1", 0},
    {"lfu-log-factor", "10", 0},
    {"list-compress-depth", "0", 0},
    {"list-max-listpack-size", "-2", 0},
    {"logfile", "", CONFIG_IMMUTABLE},
    {"loglevel", "notice", 0},
    {"masterauth", "", CONFIG_SENSITIVE},
    {"masteruser", "", CONFIG_SENSITIVE},
    {"maxclients", "10000", 0},
    {"maxmemory", "0", 0},
    {"maxmemory-clients", "0", 0},
    {"maxmemory-eviction-tenacity", "10", 0},
    {"maxmemory-policy", "noeviction", 0},
    {"maxmemory-samples", "5", 0},
    {"min-replicas-max-lag", "10", 0},
    {"min-replicas-to-write", "0", 0},
    {"no-appendfsync-on-rewrite", "no", 0},
    {"notify-keyspace-events", "", 0},
    {"oom-score-adj", "no", 0},
    {"oom-score-adj-values", "0 200 800", CONFIG_MULTI_ARG},
    {"pidfile", "", CONFIG_IMMUTABLE},
    {"port", "6379", 0},
    {"proc-title-template", "{title} {listen-addr} {server-mode}", 0},
    {"propagation-error-behavior", "ignore", 0},
    {"proto-max-bulk-len", "536870912", 0},
    {"rdb-del-sync-files", "no", 0},
    {"rdb-save-incremental-fsync", "yes", 0},
    {"rdbchecksum", "yes", CONFIG_IMMUTABLE},
    {"rdbcompression", "yes", 0},
    {"repl-backlog-size", "1048576", 0},
    {"repl-backlog-ttl", "3600", 0},
    {"repl-disable-tcp-nodelay", "no", 0},
    {"repl-diskless-load", "disabled", 0},
    {"repl-diskless-sync", "yes", 0},
    {"repl-diskless-sync-delay", "5", 0},
    {"repl-diskless-sync-max-replicas", "0", 0},
    {"repl-ping-replica-period", "10", 0},
    {"repl-timeout", "60", 0},
    {"replica-announce-ip", "", 0},
    {"replica-announce-port", "0", 0},
    {"replica-announced", "yes", 0},
    {"replica-ignore-disk-write-errors", "no", 0},
    {"replica-ignore-maxmemory", "yes", 0},
    {"replica-lazy-flush", "no", 0},
    {"replica-priority", "100", 0},
    {"replica-read-only", "yes", 0},
    {"replica-serve-stale-data", "yes", 0},
    {"replicaof", "", CONFIG_IMMUTABLE | CONFIG_MULTI_ARG},
    {"requirepass", "", CONFIG_SENSITIVE},
    {"sanitize-dump-payload", "no", 0},
    {"save", "3600 1 300 100 60 10000", CONFIG_MULTI_ARG},
    {"server_cpulist", "", CONFIG_IMMUTABLE},
    {"set-max-intset-entries", "512", 0},
    {"set-proc-title", "yes", CONFIG_IMMUTABLE},
    {"shutdown-on-sigint", "default", 0},
    {"shutdown-on-sigterm", "default", 0},
    {"shutdown-timeout", "10", 0},
    {"slowlog-log-slower-than", "10000", 0},
    {"slowlog-max-len", "128", 0},
    {"socket-mark-id", "0", CONFIG_IMMUTABLE},
    {"stop-writes-on-bgsave-error", "yes", 0},
    {"stream-node-max-bytes", "4096", 0},
    {"stream-node-max-entries", "100", 0},
    {"supervised", "no", CONFIG_IMMUTABLE},
    {"syslog-enabled", "no", CONFIG_IMMUTABLE},
    {"syslog-facility", "local0", CONFIG_IMMUTABLE},
    {"syslog-ident", "redis", CONFIG_IMMUTABLE},
    {"tcp-backlog", "511", CONFIG_IMMUTABLE},
    {"tcp-keepalive", "300", 0},
    {"timeout", "0", 0},
    {"tls-cluster", "no", 0},
    {"tls-dh-params-file", "", 0},
    {"tracking-table-max-keys", "1000000", 0},
    {"unixsocket", "", CONFIG_IMMUTABLE},
    {"unixsocketperm", "0", CONFIG_IMMUTABLE},
    {"zset-max-listpack-entries", "128", 0},
    {"zset-max-listpack-value", "64", 0},
    /* Hidden in Redis 7.0: accepted, shown only when asked by exact name. */
    {"key-load-delay", "0", CONFIG_HIDDEN},
    {"loading-process-events-interval-bytes", "2097152", CONFIG_HIDDEN},
    {"rdb-key-save-delay", "0", CONFIG_HIDDEN},
    {"use-exit-on-panic", "no", CONFIG_HIDDEN},
    {"watchdog-period", "0", CONFIG_HIDDEN},
    /* File-only directives that may repeat: the last one is kept. */
    {"loadmodule", "", CONFIG_FILE_ONLY | CONFIG_MULTI_ARG},
    {"rename-command", "", CONFIG_FILE_ONLY | CONFIG_MULTI_ARG},
    {"user", "", CONFIG_FILE_ONLY | CONFIG_MULTI_ARG | CONFIG_SENSITIVE},
    /* Deprecated, still accepted in files by Redis 7.0. */
    {"list-max-ziplist-entries", "", CONFIG_FILE_ONLY},
    {"list-max-ziplist-value", "", CONFIG_FILE_ONLY},
    {"lua-replicate-commands", "", CONFIG_FILE_ONLY},
};

#define CONFIG_REDIS_COUNT (sizeof(config_redis_directives) / sizeof(config_redis_directives[0]))

static const config_redis_alias config_redis_aliases[] = {
    {"cluster-slave-no-failover", "cluster-replica-no-failover"},
    {"cluster-slave-validity-factor", "cluster-replica-validity-factor"},
    {"hash-max-ziplist-entries", "hash-max-listpack-entries"},
    {"hash-max-ziplist-value", "hash-max-listpack-value"},
    {"list-max-ziplist-size", "list-max-listpack-size"},
    {"lua-time-limit", "busy-reply-threshold"},
    {"min-slaves-max-lag", "min-replicas-max-lag"},
    {"min-slaves-to-write", "min-replicas-to-write"},
    {"repl-ping-slave-period", "repl-ping-replica-period"},
    {"slave-announce-ip", "replica-announce-ip"},
    {"slave-announce-port", "replica-announce-port"},
    {"slave-ignore-maxmemory", "replica-ignore-maxmemory"},
    {"slave-lazy-flush", "replica-lazy-flush"},
    {"slave-priority", "replica-priority"},
    {"slave-read-only", "replica-read-only"},
    {"slave-serve-stale-data", "replica-serve-stale-data"},
    {"slaveof", "replicaof"},
    {"zset-max-ziplist-entries", "zset-max-listpack-entries"},
    {"zset-max-ziplist-value", "zset-max-listpack-value"},
};

/* Directives that take sizes with units (CONFIG GET shows bytes). */
static const char *const config_redis_memory_names[] = {
    "active-defrag-ignore-bytes", "auto-aof-rewrite-min-size", "cluster-link-sendbuf-limit",
    "hll-sparse-max-bytes", "loading-process-events-interval-bytes", "maxmemory",
    "repl-backlog-size", "stream-node-max-bytes", NULL};
/* yes/no defaults whose directive also takes other words. */
static const char *const config_redis_not_bool[] = {"oom-score-adj", NULL};

static str config_redis_values[CONFIG_REDIS_COUNT];
static int config_redis_bools[CONFIG_REDIS_COUNT];
static long long config_redis_numbers[CONFIG_REDIS_COUNT];
static int config_redis_appendonly;

static int config_redis_appendonly_apply(void *data, const char **err)
{
    if (!*(int *)data) return 0;
    *err = "appendonly yes is not supported: tandem has no append-only file, and running "
           "without it would silently lose the durability you asked for. Use RDB snapshots "
           "(save) instead, or remove this line.";
    return -1;
}

/* Redis's default dir is where it was started. */
static const char *config_redis_default(const config_redis_directive *d)
{
    static char cwd[PATH_MAX];
    if (d->def) return d->def;
    return getcwd(cwd, sizeof(cwd)) ? cwd : ".";
}

static int config_redis_listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (!strcmp(*names, name)) return 1;
    return 0;
}

/* Typed like Redis's own table, so that values are checked and shown as
 * Redis shows them (sizes in bytes, yes/no in lower case): booleans and
 * numbers are recognised by their defaults, sizes by name. */
static void config_redis_register(size_t i)
{
    const config_redis_directive *d = &config_redis_directives[i];
    const char *def = config_redis_default(d);
    int flags = d->flags | CONFIG_UNIMPLEMENTED;
    char *end;
    long long num = strtoll(def, &end, 10);
    int numeric = def[0] && !*end && !(d->flags & CONFIG_MULTI_ARG);
    if ((!strcmp(def, "yes") || !strcmp(def, "no")) &&
        !config_redis_listed(config_redis_not_bool, d->name))
        config_register_bool(d->name, &config_redis_bools[i], !strcmp(def, "yes"), flags, NULL,
                             NULL);
    else if (numeric && config_redis_listed(config_redis_memory_names, d->name))
        config_register_memory(d->name, &config_redis_numbers[i], num, 0, LLONG_MAX, flags, NULL,
                               NULL);
    else if (numeric)
        config_register_ll(d->name, &config_redis_numbers[i], num, LLONG_MIN, LLONG_MAX, flags,
                           NULL, NULL);
    else
        config_register_string(d->name, &config_redis_values[i], def, flags, NULL, NULL);
}

void config_register_redis_unimplemented(void)
{
    for (size_t i = 0; i < CONFIG_REDIS_COUNT; i++)
        if (!config_exists(config_redis_directives[i].name)) config_redis_register(i);
    if (!config_exists("appendonly"))
        config_register_bool("appendonly", &config_redis_appendonly, 0, 0,
                             config_redis_appendonly_apply, &config_redis_appendonly);
    for (size_t i = 0; i < sizeof(config_redis_aliases) / sizeof(config_redis_aliases[0]); i++) {
        const config_redis_alias *a = &config_redis_aliases[i];
        if (!config_exists(a->alias) && config_exists(a->name)) config_register_alias(a->alias, a->name);
    }
}
