/* server.c: the composition root. Holds the server struct (every
 * subsystem's settings and state), registers the directives, commands, INFO
 * sections, cron hooks, call gates and before-sleep work of every module,
 * starts the listeners, and shuts down on SIGTERM/SIGINT or SHUTDOWN. */
#include "core/server.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bio.h"
#include "core/call.h"
#include "core/command_cmd.h"
#include "core/config.h"
#include "core/config_cmd.h"
#include "core/cron.h"
#include "core/db.h"
#include "core/db_cmd.h"
#include "core/debug_cmd.h"
#include "core/dict.h"
#include "core/info.h"
#include "core/t_keys.h"
#include "core/t_string.h"
#include "core/log.h"
#include "core/multi.h"
#include "core/panic.h"
#include "core/util.h"
#include "core/version.h"
#include "net/output.h"
#include "net/sock.h"
#include "net/tls_config.h"
#include "rdb/bgsave.h"
#include "rdb/child.h"
#include "rdb/diskless.h"
#include "rdb/dump.h"
#include "repl/repl.h"
#include "repl/replica.h"

#define SERVER_RESERVED_FDS 32
#define SERVER_FDSET_INCR (SERVER_RESERVED_FDS + 96)

struct server server;

static const config_enum debug_cmd_values[] = {
    {"no", DEBUG_CMD_NO}, {"yes", DEBUG_CMD_YES}, {"local", DEBUG_CMD_LOCAL}, {NULL, 0}};

/* ---------- special directives ---------- */

static int bind_set(void *data, int argc, str *argv, const char **err)
{
    (void)data;
    if (argc < 1 || argc > 16) {
        *err = "Too many bind addresses specified.";
        return -1;
    }
    for (int i = 0; i < server.bind_count; i++) tfree(server.bind_addrs[i]);
    tfree(server.bind_addrs);
    server.bind_addrs = tmalloc(sizeof(char *) * (size_t)argc);
    for (int i = 0; i < argc; i++) server.bind_addrs[i] = tstrdup(argv[i]);
    server.bind_count = argc;
    return 0;
}

static str bind_get(void *data)
{
    (void)data;
    str s = str_empty();
    for (int i = 0; i < server.bind_count; i++)
        s = str_cat_fmt(s, "%s%s", i ? " " : "", server.bind_addrs[i]);
    return s;
}

static int octal_set(void *data, int argc, str *argv, const char **err)
{
    char *end;
    long v = argc == 1 ? strtol(argv[0], &end, 8) : -1;
    if (argc != 1 || *end || v < 0 || v > 0777) {
        *err = "Invalid socket file permissions";
        return -1;
    }
    *(long long *)data = v;
    return 0;
}

static str octal_get(void *data) { return str_cat_fmt(str_empty(), "%llo", *(long long *)data); }

/* client-output-buffer-limit <class> <hard> <soft> <seconds> [...] */
static int obuf_set(void *data, int argc, str *argv, const char **err)
{
    (void)data;
    if (argc % 4 || argc == 0) {
        *err = "Wrong number of arguments in buffer limit configuration.";
        return -1;
    }
    client_obuf_limit next[CLIENT_CLASS_COUNT];
    memcpy(next, server.clients.obuf, sizeof(next));
    for (int i = 0; i < argc; i += 4) {
        int cls = client_class_by_name(argv[i]);
        long long hard, soft, secs;
        if (cls == -1) {
            *err = "Invalid client class specified in buffer limit configuration.";
            return -1;
        }
        if (parse_memory(argv[i + 1], &hard) || parse_memory(argv[i + 2], &soft) ||
            parse_ll(argv[i + 3], str_len(argv[i + 3]), &secs) || secs < 0) {
            *err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            return -1;
        }
        next[cls] = (client_obuf_limit){hard, soft, secs};
    }
    memcpy(server.clients.obuf, next, sizeof(next));
    return 0;
}

static str obuf_get(void *data)
{
    (void)data;
    str s = str_empty();
    for (int i = 0; i < CLIENT_CLASS_COUNT; i++) {
        const client_obuf_limit *l = &server.clients.obuf[i];
        s = str_cat_fmt(s, "%s%s %lld %lld %lld", i ? " " : "",
                        i == CLIENT_CLASS_REPLICA ? "slave" : client_class_name(i), l->hard,
                        l->soft, l->soft_seconds);
    }
    return s;
}

static const config_special_ops bind_ops = {bind_set, bind_get};
static const config_special_ops octal_ops = {octal_set, octal_get};
static const config_special_ops obuf_ops = {obuf_set, obuf_get};

static const config_enum loglevel_values[] = {{"debug", LOG_DEBUG},     {"verbose", LOG_VERBOSE},
                                              {"notice", LOG_NOTICE},   {"warning", LOG_WARNING},
                                              {"nothing", LOG_NOTHING}, {NULL, 0}};

static int apply_loglevel(void *data, const char **err)
{
    (void)data;
    (void)err;
    log_set_level(server.loglevel);
    return 0;
}

static int apply_logfile(void *data, const char **err)
{
    (void)data;
    if (log_set_file(server.logfile) == -1) {
        *err = "Can't open the log file";
        return -1;
    }
    return 0;
}

static int apply_dir(void *data, const char **err)
{
    (void)data;
    if (server.dir && chdir(server.dir) == -1) {
        *err = "No such file or directory";
        return -1;
    }
    return 0;
}

static int apply_maxclients(void *data, const char **err)
{
    (void)data;
    if (!server.loop) return 0;
    long long setsize = server.clients.maxclients + SERVER_FDSET_INCR;
    if (setsize > INT_MAX || loop_resize(server.loop, (int)setsize) == -1) {
        *err = "The event loop API used by Redis is not able to handle the specified number of "
               "clients";
        return -1;
    }
    return 0;
}

static int apply_busy_poll(void *data, const char **err)
{
    (void)data;
    (void)err;
    if (server.loop) loop_set_busy_poll(server.loop, server.busy_poll_usec);
    return 0;
}

static int apply_proto(void *data, const char **err)
{
    (void)data;
    (void)err;
    server.clients.proto.max_multibulk = 1024 * 1024 * 1024;
    return 0;
}

void server_register_config(void)
{
    const int imm = CONFIG_IMMUTABLE;
    config_register_ll("port", &server.port, 6379, 0, 65535, imm, NULL, NULL);
    config_register_special("bind", &bind_ops, NULL, "* -::*", imm);
    config_register_ll("tcp-backlog", &server.tcp_backlog, 511, 0, 65535, imm, NULL, NULL);
    config_register_string("unixsocket", &server.unixsocket, NULL, imm, NULL, NULL);
    config_register_special("unixsocketperm", &octal_ops, &server.unixsocketperm, "0", imm);
    config_register_ll("maxclients", &server.clients.maxclients, 10000, 1, 4294967295LL, 0,
                       apply_maxclients, NULL);
    config_register_ll("timeout", &server.clients.timeout_seconds, 0, 0, 0x7fffffff, 0, NULL, NULL);
    config_register_ll("tcp-keepalive", &server.clients.tcp_keepalive, 300, 0, 0x7fffffff, 0, NULL,
                       NULL);
    config_register_ll("hz", &server.hz, 10, 1, 500, 0, NULL, NULL);
    config_register_ll("busy-poll-usec", &server.busy_poll_usec, 50, 0, 1000000, 0,
                       apply_busy_poll, NULL);
    config_register_enum("enable-debug-command", &server.enable_debug_command, debug_cmd_values,
                         DEBUG_CMD_NO, imm, NULL, NULL);
    config_register_ll("databases", &server.databases, 16, 1, 0x7fffffff, imm, NULL, NULL);
    config_register_enum("loglevel", &server.loglevel, loglevel_values, LOG_NOTICE, 0,
                         apply_loglevel, NULL);
    config_register_string("logfile", &server.logfile, "", imm, apply_logfile, NULL);
    config_register_string("pidfile", &server.pidfile, "", imm, NULL, NULL);
    config_register_string("dir", &server.dir, "./", 0, apply_dir, NULL);
    config_register_string("requirepass", &server.requirepass, "", CONFIG_SENSITIVE, NULL, NULL);
    config_register_bool("protected-mode", &server.clients.protected_mode, 1, 0, NULL, NULL);
    config_register_memory("proto-max-bulk-len", &server.clients.proto.max_bulk_len,
                           512LL * 1024 * 1024, 1024 * 1024, 0x7fffffffffffLL, 0, apply_proto, NULL);
    config_register_memory("client-query-buffer-limit", &server.clients.query_buffer_limit,
                           1024LL * 1024 * 1024, 1024 * 1024, 0x7fffffffffffLL, 0, NULL, NULL);
    config_register_special("client-output-buffer-limit", &obuf_ops, NULL,
                            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
                            0);
    tls_config_register();
    bgsave_register_config();
    replica_register_config();
    repl_register_config();
    config_register_redis_unimplemented();
    apply_proto(NULL, NULL);
}

/* ---------- INFO ---------- */

static long long server_metric_value(int metric)
{
    switch (metric) {
    case METRIC_COMMANDS: return call_get_stats()->commands_processed;
    case METRIC_NET_INPUT: return clients_stats()->net_input_bytes;
    default: return clients_stats()->net_output_bytes;
    }
}

static void server_sample_metrics(long long now_ms, void *data)
{
    (void)data;
    for (int m = 0; m < METRIC_COUNT; m++) {
        server_metric *sm = &server.metrics[m];
        long long value = server_metric_value(m);
        long long elapsed = now_ms - sm->last_sample_ms;
        if (sm->last_sample_ms && elapsed > 0)
            sm->samples[sm->idx] = (value - sm->last_value) * 1000 / elapsed;
        sm->idx = (sm->idx + 1) % SERVER_METRIC_SAMPLES;
        sm->last_sample_ms = now_ms;
        sm->last_value = value;
    }
}

static long long server_metric_rate(int metric)
{
    long long sum = 0;
    for (int i = 0; i < SERVER_METRIC_SAMPLES; i++) sum += server.metrics[metric].samples[i];
    return sum / SERVER_METRIC_SAMPLES;
}

static str info_server(str s, void *data)
{
    (void)data;
    struct utsname name;
    uname(&name);
    long long uptime = (loop_now_ms() - server.start_ms) / 1000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return str_cat_fmt(
        s,
        "redis_version:%s\r\ntandem_version:%s\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
        "redis_build_id:0\r\nredis_mode:standalone\r\nos:%s %s %s\r\narch_bits:%d\r\n"
        "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\n"
        "atomicvar_api:c11-builtin\r\ngcc_version:%d.%d.%d\r\nprocess_id:%d\r\n"
        "process_supervised:no\r\nrun_id:%s\r\ntcp_port:%lld\r\nserver_time_usec:%lld\r\n"
        "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:%lld\r\nconfigured_hz:%lld\r\n"
        "lru_clock:%lld\r\nexecutable:%s\r\nconfig_file:%s\r\nio_threads_active:0\r\n",
        TANDEM_REDIS_VERSION, TANDEM_VERSION, name.sysname, name.release, name.machine,
        (int)sizeof(long) * 8, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, (int)server.pid,
        server.runid, server.port, (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, uptime,
        uptime / 86400, server.hz, server.hz, (long long)(ts.tv_sec & ((1 << 24) - 1)),
        server.executable ? server.executable : "",
        config_file_path() ? config_file_path() : "");
}

static str info_clients(str s, void *data)
{
    (void)data;
    client_stats *st = clients_stats();
    return str_cat_fmt(s,
                       "connected_clients:%lu\r\ncluster_connections:0\r\nmaxclients:%lld\r\n"
                       "client_recent_max_input_buffer:%zu\r\n"
                       "client_recent_max_output_buffer:%zu\r\nblocked_clients:%lu\r\n"
                       "tracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                       clients_count(), server.clients.maxclients, st->max_querybuf,
                       st->max_output, clients_blocked_count());
}

static long long total_system_memory(void)
{
    return (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
}

static str info_memory(str s, void *data)
{
    (void)data;
    size_t used = alloc_used_memory(), rss = alloc_rss();
    if (used > server.peak_memory) server.peak_memory = used;
    char used_h[32], rss_h[32], peak_h[32], sys_h[32];
    format_human_bytes(used_h, sizeof(used_h), used);
    format_human_bytes(rss_h, sizeof(rss_h), rss);
    format_human_bytes(peak_h, sizeof(peak_h), server.peak_memory);
    format_human_bytes(sys_h, sizeof(sys_h), (unsigned long long)total_system_memory());
    return str_cat_fmt(
        s,
        "used_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\n"
        "used_memory_rss_human:%s\r\nused_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n"
        "used_memory_peak_perc:%.2f%%\r\ntotal_system_memory:%lld\r\n"
        "total_system_memory_human:%s\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\n"
        "maxmemory_policy:noeviction\r\nmem_fragmentation_ratio:%.2f\r\n"
        "mem_fragmentation_bytes:%lld\r\nmem_allocator:%s\r\nlazyfree_pending_objects:%lld\r\n",
        used, used_h, rss, rss_h, server.peak_memory, peak_h,
        server.peak_memory ? 100.0 * (double)used / (double)server.peak_memory : 0.0,
        total_system_memory(), sys_h, used ? (double)rss / (double)used : 0.0,
        (long long)rss - (long long)used, alloc_name(), bio_pending());
}

static str info_stats(str s, void *data)
{
    (void)data;
    client_stats *st = clients_stats();
    const db_stats *ds = db_get_stats();
    const repl_stats *rs = repl_get_stats();
    return str_cat_fmt(
        s,
        "total_connections_received:%lld\r\ntotal_commands_processed:%lld\r\n"
        "instantaneous_ops_per_sec:%lld\r\ntotal_net_input_bytes:%lld\r\n"
        "total_net_output_bytes:%lld\r\ninstantaneous_input_kbps:%.2f\r\n"
        "instantaneous_output_kbps:%.2f\r\nrejected_connections:%lld\r\nsync_full:%lld\r\n"
        "sync_partial_ok:%lld\r\nsync_partial_err:%lld\r\nexpired_keys:%lld\r\n"
        "expired_stale_perc:%.2f\r\nexpired_time_cap_reached_count:%lld\r\n"
        "expire_cycle_cpu_milliseconds:%lld\r\n"
        "evicted_keys:0\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\n"
        "current_eviction_exceeded_time:0\r\nkeyspace_hits:%lld\r\nkeyspace_misses:%lld\r\n"
        "pubsub_channels:0\r\npubsub_patterns:0\r\nlatest_fork_usec:%lld\r\ntotal_forks:%lld\r\n"
        "migrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\n"
        "active_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\n"
        "total_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n"
        "tracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\n"
        "unexpected_error_replies:0\r\ntotal_error_replies:%lld\r\n"
        "dump_payload_sanitizations:0\r\ntotal_reads_processed:0\r\n"
        "total_writes_processed:0\r\nio_threaded_reads_processed:0\r\n"
        "io_threaded_writes_processed:0\r\nacl_access_denied_auth:%lld\r\n"
        "client_query_buffer_limit_disconnections:%lld\r\n"
        "client_output_buffer_limit_disconnections:%lld\r\n",
        st->connections_received, call_get_stats()->commands_processed,
        server_metric_rate(METRIC_COMMANDS), st->net_input_bytes, st->net_output_bytes,
        (double)server_metric_rate(METRIC_NET_INPUT) / 1024,
        (double)server_metric_rate(METRIC_NET_OUTPUT) / 1024, st->rejected_connections,
        rs->sync_full, rs->sync_partial_ok, rs->sync_partial_err, ds->expired_keys,
        ds->expired_stale_perc * 100, ds->expired_time_cap_reached_count,
        ds->expire_cycle_cpu_ms, ds->keyspace_hits, ds->keyspace_misses,
        child_get_stats()->latest_fork_usec, child_get_stats()->total_forks, st->error_replies, server.client_cmd.auth_failures,
        st->client_query_buffer_limit_disconnections, st->client_output_buffer_limit_disconnections);
}

static str info_replication(str s, void *data)
{
    (void)data;
    s = replica_is_active() ? replica_info(s) : str_cat(s, "role:master\r\n");
    return repl_info(s);
}

static str info_cpu(str s, void *data)
{
    (void)data;
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
#define TV(t) ((double)(t).tv_sec + (double)(t).tv_usec / 1000000)
    return str_cat_fmt(s,
                       "used_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:%.6f\r\n"
                       "used_cpu_user_children:%.6f\r\n",
                       TV(self.ru_stime), TV(self.ru_utime), TV(children.ru_stime),
                       TV(children.ru_utime));
#undef TV
}

static str info_modules(str s, void *data)
{
    (void)data;
    return s;
}

static str info_errorstats(str s, void *data)
{
    (void)data;
    return output_errorstats(s);
}

static str info_cluster(str s, void *data)
{
    (void)data;
    return str_cat(s, "cluster_enabled:0\r\n");
}

static str info_keyspace(str s, void *data)
{
    (void)data;
    for (int i = 0; i < db_count(); i++)
        if (db_size(i))
            s = str_cat_fmt(s, "db%d:keys=%lld,expires=%lld,avg_ttl=%lld\r\n", i, db_size(i),
                            db_expires_count(i), db_avg_ttl(i));
    return s;
}

static str info_commandstats(str s, void *data)
{
    (void)data;
    for (unsigned i = 0; i < command_count(); i++) {
        command *top = command_at(i);
        for (command *cmd = top; cmd;) {
            const command_stats *st = &cmd->stats;
            if (st->calls || st->rejected_calls || st->failed_calls)
                s = str_cat_fmt(s,
                                "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,"
                                "rejected_calls=%lld,failed_calls=%lld\r\n",
                                cmd->fullname, st->calls, st->usec,
                                st->calls ? (double)st->usec / (double)st->calls : 0.0,
                                st->rejected_calls, st->failed_calls);
            if (cmd == top)
                cmd = top->subcommands && top->subcommands->name ? top->subcommands : NULL;
            else
                cmd = (cmd + 1)->name ? cmd + 1 : NULL;
        }
    }
    return s;
}

static void server_register_info(void)
{
    info_register("Server", 1, info_server, NULL);
    info_register("Clients", 1, info_clients, NULL);
    info_register("Memory", 1, info_memory, NULL);
    bgsave_register_info();
    info_register("Stats", 1, info_stats, NULL);
    info_register("Replication", 1, info_replication, NULL);
    info_register("CPU", 1, info_cpu, NULL);
    info_register("Modules", 1, info_modules, NULL);
    info_register("Commandstats", 0, info_commandstats, NULL);
    info_register("Errorstats", 1, info_errorstats, NULL);
    info_register("Cluster", 1, info_cluster, NULL);
    info_register("Keyspace", 1, info_keyspace, NULL);
}

static void server_reset_stats(void)
{
    client_stats *st = clients_stats();
    st->connections_received = st->rejected_connections = 0;
    st->net_input_bytes = st->net_output_bytes = st->error_replies = 0;
    st->client_query_buffer_limit_disconnections = 0;
    st->client_output_buffer_limit_disconnections = 0;
    st->max_querybuf = st->max_output = 0;
    call_get_stats()->commands_processed = 0;
    server.client_cmd.auth_failures = 0;
    server.peak_memory = alloc_used_memory();
    memset(server.metrics, 0, sizeof(server.metrics));
    command_reset_stats();
    output_reset_errorstats();
    memset(db_get_stats(), 0, sizeof(db_stats));
}

/* ---------- server commands ---------- */

static void info_command(client *c, const command *cmd)
{
    (void)cmd;
    str s = info_generate(c->argc - 1, c->argv + 1);
    reply_verbatim(c, s, str_len(s), "txt");
    str_free(s);
}

static void time_command(client *c, const command *cmd)
{
    (void)cmd;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char buf[32];
    reply_array_len(c, 2);
    reply_bulk(c, buf, (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)ts.tv_sec));
    reply_bulk(c, buf, (size_t)snprintf(buf, sizeof(buf), "%ld", ts.tv_nsec / 1000));
}

static void server_exit(int code);

static void shutdown_command(client *c, const command *cmd)
{
    (void)cmd;
    int flags = 0, abort = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *opt = c->argv[i];
        if (!strcasecmp(opt, "nosave")) {
            flags |= BGSAVE_SHUTDOWN_NOSAVE;
        } else if (!strcasecmp(opt, "save")) {
            flags |= BGSAVE_SHUTDOWN_SAVE;
        } else if (!strcasecmp(opt, "force")) {
            flags |= BGSAVE_SHUTDOWN_FORCE;
        } else if (!strcasecmp(opt, "abort")) {
            abort = 1;
        } else if (strcasecmp(opt, "now")) {
            reply_error(c, "ERR syntax error");
            return;
        }
    }
    if ((flags & BGSAVE_SHUTDOWN_NOSAVE) && (flags & BGSAVE_SHUTDOWN_SAVE)) {
        reply_error(c, "ERR syntax error");
        return;
    }
    if (abort) {
        reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    log_msg(LOG_WARNING, "User requested shutdown...");
    if (bgsave_prepare_shutdown(flags) == -1) {
        reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    server_exit(0);
}

static command server_commands[] = {
    {.name = "info", .proc = info_command, .arity = -1, .flags = CMD_LOADING | CMD_STALE | CMD_SENTINEL, .group = "server", .summary = "Get information and statistics about the server", .since = "1.0.0"},
    {.name = "time", .proc = time_command, .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .group = "server", .summary = "Return the current server time", .since = "2.6.0"},
    {.name = "shutdown", .proc = shutdown_command, .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_AUTH | CMD_SENTINEL, .group = "server", .summary = "Synchronously save the dataset to disk and then shut down the server", .since = "1.0.0"},
    {0},
};

/* ---------- lifecycle ---------- */

static const char *server_role(void) { return replica_is_active() ? "replica" : "master"; }

static void server_dispatch(client *c)
{
    if (c->flags & CLIENT_PRIMARY)
        replica_apply(c);
    else
        call_dispatch(c);
}

static void server_on_client_free(client *c)
{
    replica_client_freed(c);
    repl_client_freed(c);
    multi_client_freed(c);
}

static void listener_accept_tcp(conn *cn, void *data)
{
    (void)data;
    clients_accept(cn, 0);
}

static void listener_accept_unix(conn *cn, void *data)
{
    (void)data;
    clients_accept(cn, 1);
}

static void server_remove_files(void)
{
    if (server.pidfile && str_len(server.pidfile)) unlink(server.pidfile);
    if (server.unixsocket && str_len(server.unixsocket)) unlink(server.unixsocket);
}

static void server_exit(int code)
{
    server_remove_files();
    log_msg(LOG_WARNING, "%s is now ready to exit, bye bye...", "Redis");
    exit(code);
}

static void signal_handler(int sig)
{
    if (server.shutdown_signal) {
        /* A second signal while shutting down: leave at once. */
        log_raw_unsafe("You insist... exiting now.\n");
        _exit(1);
    }
    server.shutdown_signal = sig;
    loop_wakeup(server.loop);
}

static void server_setup_signals(void)
{
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = signal_handler;
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* Past RLIMIT_FSIZE a write fails with EFBIG (the save reports it)
     * instead of killing the server. */
    signal(SIGXFSZ, SIG_IGN);
    panic_install_crash_handlers(TANDEM_VERSION);
}

static void server_check_shutdown(long long now_ms, void *data)
{
    (void)now_ms;
    (void)data;
    if (!server.shutdown_signal) return;
    log_msg(LOG_WARNING, "Received %s scheduling shutdown...",
            server.shutdown_signal == SIGINT ? "SIGINT" : "SIGTERM");
    log_msg(LOG_WARNING, "User requested shutdown...");
    if (bgsave_prepare_shutdown(0) == -1) {
        /* The final save failed: keep serving, as Redis 7 does; another
         * signal tries again. */
        server.shutdown_signal = 0;
        return;
    }
    server_exit(0);
}

static void server_children_cron(long long now_ms, void *data)
{
    (void)now_ms;
    (void)data;
    child_poll();
}

/* The replication fields of the RDB aux header: unknown until a replica
 * has attached (repl_rdb_aux). */
static void server_rdb_aux(rdb_aux *aux)
{
    aux->repl_id[0] = '\0';
    aux->repl_offset = -1;
    aux->repl_stream_db = -1;
    aux->aof_base = 0;
    repl_rdb_aux(aux);
}

static void server_clients_cron(long long now_ms, void *data)
{
    (void)data;
    clients_cron(now_ms, (int)server.hz);
}

static void server_databases_cron(long long now_ms, void *data)
{
    (void)data;
    db_cron(now_ms, (int)server.hz);
}

/* An expired key leaves the dataset as a DEL in the stream, so that replicas
 * never depend on their own clocks. */
static void server_propagate_expired(int id, const char *key, size_t len)
{
    str argv[2] = {str_new("DEL"), str_new_len(key, len)};
    propagate(id, 2, argv);
    str_free(argv[0]);
    str_free(argv[1]);
}

static void server_track_memory(long long now_ms, void *data)
{
    (void)now_ms;
    (void)data;
    size_t used = alloc_used_memory();
    if (used > server.peak_memory) server.peak_memory = used;
}

static long long server_cron(loop *l, long long id, void *data)
{
    (void)l;
    (void)id;
    (void)data;
    long long now = loop_now_ms();
    clients_set_now(now);
    cron_tick(now);
    server.cron_loops++;
    return cron_interval_ms(server.hz);
}

static void server_before_sleep(loop *l, void *data)
{
    (void)l;
    (void)data;
    if (server.shutdown_signal) server_check_shutdown(loop_now_ms(), NULL);
    repl_wait_before_sleep();
    clients_process_unblocked();
    clients_resume_yielded();
    repl_wait_send_getack();
    output_flush_pending();
    clients_free_closed();
}

static void server_after_sleep(loop *l, void *data)
{
    (void)l;
    (void)data;
    clients_set_now(loop_now_ms());
}

/* Raises the descriptor limit for maxclients, or lowers maxclients. */
static void server_adjust_open_files(void)
{
    rlim_t want = (rlim_t)server.clients.maxclients + SERVER_RESERVED_FDS;
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == -1 || lim.rlim_cur >= want) return;
    rlim_t old = lim.rlim_cur;
    lim.rlim_cur = want;
    if (lim.rlim_max < want) lim.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &lim) == 0) return;
    lim.rlim_cur = lim.rlim_max = old;
    getrlimit(RLIMIT_NOFILE, &lim);
    long long allowed = (long long)lim.rlim_cur - SERVER_RESERVED_FDS;
    if (allowed < 1) allowed = 1;
    log_msg(LOG_WARNING,
            "You requested maxclients of %lld requiring at least %llu max file descriptors. "
            "Server can't set maximum open files to %llu because of OS error: %s. Current "
            "maximum open files is %llu. maxclients has been reduced to %lld to compensate for "
            "low ulimit.",
            server.clients.maxclients, (unsigned long long)want, (unsigned long long)want,
            strerror(errno), (unsigned long long)lim.rlim_cur, allowed);
    server.clients.maxclients = allowed;
}

/* child.h's after-fork hook: a child must not keep the ports bound (a
 * primary killed with -9 is started again while its save child runs). */
static void server_close_listeners_in_child(void)
{
    listener_close_after_fork(server.tcp);
    listener_close_after_fork(server.unix_listener);
    listener_close_after_fork(server.tls);
}

static int server_listen(void)
{
    char err[SOCK_ERR_LEN] = "";
    if (server.port) {
        server.tcp = listener_create_tcp(server.loop, server.bind_count, server.bind_addrs,
                                         (int)server.port, (int)server.tcp_backlog,
                                         listener_accept_tcp, NULL, err);
        if (!server.tcp || listener_fd_count(server.tcp) == 0) {
            log_msg(LOG_WARNING, "%s", err[0] ? err : "Failed listening on port (tcp), aborting.");
            return -1;
        }
    }
    if (tls_config_port()) {
        server.tls = listener_create_tls(server.loop, server.bind_count, server.bind_addrs,
                                         tls_config_port(), (int)server.tcp_backlog,
                                         tls_config_server_context(), listener_accept_tcp, NULL,
                                         err);
        if (!server.tls || listener_fd_count(server.tls) == 0) {
            log_msg(LOG_WARNING, "%s", err[0] ? err : "Failed listening on port (tls), aborting.");
            return -1;
        }
    }
    if (server.unixsocket && str_len(server.unixsocket)) {
        server.unix_listener = listener_create_unix(server.loop, server.unixsocket,
                                                    (unsigned)server.unixsocketperm,
                                                    (int)server.tcp_backlog, listener_accept_unix,
                                                    NULL, err);
        if (!server.unix_listener) {
            log_msg(LOG_WARNING, "Failed opening Unix socket: %s", err);
            return -1;
        }
        log_msg(LOG_NOTICE, "The server is now ready to accept connections at %s",
                server.unixsocket);
    }
    if (!server.tcp && !server.tls && !server.unix_listener) {
        log_msg(LOG_WARNING, "Configured to not listen anywhere, exiting.");
        return -1;
    }
    return 0;
}

static void server_write_pidfile(void)
{
    if (!server.pidfile || !str_len(server.pidfile)) return;
    FILE *f = fopen(server.pidfile, "w");
    if (!f) {
        log_msg(LOG_WARNING, "Failed to write PID file: %s", strerror(errno));
        return;
    }
    fprintf(f, "%d\n", (int)server.pid);
    fclose(f);
}

static void server_register_modules(void)
{
    server.client_cmd.requirepass = &server.requirepass;
    server.clients.requirepass = &server.requirepass;
    server.client_cmd.redis_version = TANDEM_REDIS_VERSION;
    server.client_cmd.role = server_role;
    client_commands_register(&server.client_cmd);
    call_add_gate(client_auth_gate, &server.client_cmd);
    call_set_limits(&server.clients.proto);
    command_commands_register();
    config_commands_register(server_reset_stats);
    db_commands_register();
    debug_commands_register(&server.enable_debug_command);
    debug_set_reload_hook(bgsave_debug_reload);
    string_commands_register();
    keys_commands_register();
    dump_commands_register();
    multi_commands_register();
    call_add_propagate_hook(multi_touch_hook, NULL);
    command_register_all(server_commands);
    cron_register("children", 0, server_children_cron, NULL);
    bgsave_init(server.loop);
    child_set_after_fork_hook(server_close_listeners_in_child);
    bgsave_set_role_query(replica_is_active);
    diskless_init(server.loop);
    replica_init(server.loop, &server.port);
    call_add_gate(repl_gate, NULL);
    call_set_stream_offset(repl_get_offset);
    bgsave_set_aux_provider(server_rdb_aux);
    repl_init();
    repl_register_commands();
    call_add_propagate_hook(repl_propagate, NULL);
    cron_register("replication", 1000, repl_cron, NULL);
    bgsave_set_done_hook(repl_save_done, NULL);
    server_register_info();
    cron_register("clients", 0, server_clients_cron, NULL);
    cron_register("databases", 0, server_databases_cron, NULL);
    cron_register("metrics", 100, server_sample_metrics, NULL);
    cron_register("memory", 100, server_track_memory, NULL);
    cron_register("shutdown", 0, server_check_shutdown, NULL);
}

int server_init(void)
{
    server.pid = getpid();
    server.start_ms = loop_now_ms();
    server.start_unix = (long long)time(NULL);
    random_hex(server.runid, 40);
    server.runid[40] = '\0';
    server_adjust_open_files();
    server.loop = loop_create((int)server.clients.maxclients + SERVER_FDSET_INCR);
    if (!server.loop) {
        log_msg(LOG_WARNING, "Failed creating the event loop. Error message: '%s'", strerror(errno));
        return -1;
    }
    loop_set_busy_poll(server.loop, server.busy_poll_usec);
    server_setup_signals();
    clients_init(server.loop, &server.clients, server_dispatch, server_on_client_free);
    clients_set_now(server.start_ms);
    output_init(&server.clients);
    uint8_t seed[16];
    random_bytes(seed, sizeof(seed));
    dict_set_hash_seed(seed);
    db_init((int)server.databases);
    db_set_expired_hook(server_propagate_expired);
    if (bio_init() == -1) log_msg(LOG_WARNING, "Could not start the background thread");
    server_register_modules();
    str tls_err = NULL;
    if (tls_config_start(&tls_err) == -1) {
        log_msg(LOG_WARNING, "Failed to configure TLS. Check logs for more info. %s", tls_err);
        str_free(tls_err);
        return -1;
    }
    if (server_listen() == -1) return -1;
    server.cron_timer = loop_add_timer(server.loop, 1, server_cron, NULL, NULL);
    loop_set_before_sleep(server.loop, server_before_sleep, NULL);
    loop_set_after_sleep(server.loop, server_after_sleep, NULL);
    server_write_pidfile();
    log_msg(LOG_NOTICE, "Server initialized");
    rdb_aux aux;
    if (bgsave_load_at_startup(&aux) == -1) return -1;
    if (!replica_restore_history(&aux)) repl_restore_primary(&aux);
    return 0;
}

void server_run(void)
{
    log_msg(LOG_NOTICE, "Ready to accept connections");
    loop_run(server.loop);
}

void server_shutdown_cleanup(void)
{
    listener_close(server.tcp);
    listener_close(server.tls);
    listener_close(server.unix_listener);
    tls_config_free();
    db_free_all();
    config_free();
}
