/* bgsave.c: the persistence subsystem (see bgsave.h), as Redis 7.0 behaves:
 * the RDB directives, SAVE, BGSAVE [SCHEDULE], LASTSAVE, save points
 * checked every cron tick, the background save in a child (rdb/child) and
 * its done handler, the MISCONF gate after a failed background save, INFO
 * persistence, the final save of SHUTDOWN, and loading the dump (at
 * start-up, serving -LOADING replies meanwhile, and for DEBUG RELOAD). A
 * load never trades good data for bad: the dataset is set aside
 * (db_detach_all) and comes back if the load fails.
 *
 * Owns the persistence state below, private to this file. Knows the
 * keyspace, the call path (gates, the dirty counter), the RDB file code and
 * the child module; never replication, whose aux fields come through the
 * provider hook the composition root sets. */
#include "rdb/bgsave.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/call.h"
#include "core/command.h"
#include "core/config.h"
#include "core/cron.h"
#include "core/db.h"
#include "core/info.h"
#include "core/log.h"
#include "net/output.h"
#include "rdb/child.h"
#include "rdb/load.h"
#include "rdb/stream_conn.h"

/* After a failed background save, save points retry this often (seconds). */
#define BGSAVE_RETRY_DELAY 5
/* rdb-save-incremental-fsync: fsync the file every this many bytes. */
#define BGSAVE_AUTOSYNC_BYTES (4 * 1024 * 1024)
/* While loading: a progress line this often; and key-load-delay sleeps in
 * slices this long, with the clients served between them. */
#define BGSAVE_LOAD_LOG_MS 1000
#define BGSAVE_LOAD_SLICE_US 100000

static const char *const bgsave_misconf_error =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error.";

typedef struct save_point {
    long long seconds, changes;
} save_point;

/* What the child needs to write the file; filled in the parent before the
 * fork, so the child reads its own copy. */
typedef struct bgsave_job {
    rdb_aux aux;
    rdb_save_opts opts;
    size_t fsync_every;
} bgsave_job;

static struct bgsave {
    /* Directives. */
    save_point *points;
    int npoints;
    int points_from_file;   /* a save line of the file replaced the defaults */
    str dbfilename;
    int compression, checksum, stop_writes_on_error, incremental_fsync;
    long long key_save_delay, key_load_delay;

    /* Saving. */
    long long lastsave;          /* Unix seconds of the last successful save */
    long long lastbgsave_try;    /* Unix seconds of the last BGSAVE attempt */
    int last_bgsave_ok;
    long long dirty_before_bgsave;
    long long save_time_start;   /* Unix seconds, -1 when no BGSAVE runs */
    long long save_time_last;    /* seconds the last BGSAVE took, -1 */
    long long saves;             /* rdb_saves */
    long long keys_total;        /* keys in the dataset at the fork */
    int scheduled;               /* BGSAVE SCHEDULE waiting for another child */
    pid_t child;                 /* the BGSAVE child's pid, for its temp file */
    bgsave_job job;
    /* When a report of the child last changed the figures (cron time). */
    long long seen_keys;
    size_t seen_cow;
    long long cow_updated_ms;

    /* Loading. */
    loop *loop;
    int loading, serve_events;
    /* A swapdb load (async loading): the old dataset serves clients while
     * the new one loads; aside holds whichever of the two is not installed,
     * and is NULL otherwise. */
    db_keyspace *aside;
    long long loading_start;     /* Unix seconds */
    uint64_t loading_total, loading_done;
    long long load_log_ms, load_keys_seen;
    long long last_load_keys_loaded, last_load_keys_expired;
    void (*load_tick)(void *data); /* once a second while loading */
    int (*is_replica)(void);       /* the role, for expired keys in a load */
    void *load_tick_data;

    void (*aux_provider)(rdb_aux *aux);
    bgsave_done_fn *done_hook;
    void *done_hook_data;
} bg = {.last_bgsave_ok = 1, .save_time_start = -1, .save_time_last = -1};

/* A load of any kind is running: one that answers -LOADING, or a swapdb one. */
static int bgsave_any_load(void) { return bg.loading || bg.aside; }

static long long bgsave_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int bgsave_compression(void) { return bg.compression; }

void bgsave_set_aux_provider(void (*fn)(rdb_aux *aux)) { bg.aux_provider = fn; }

void bgsave_set_role_query(int (*is_replica)(void)) { bg.is_replica = is_replica; }

void bgsave_set_done_hook(bgsave_done_fn *fn, void *data)
{
    bg.done_hook = fn;
    bg.done_hook_data = data;
}

/* ---------- directives ---------- */

/* One number of a save line: seconds (>= 1) or changes (>= 0), with
 * strtoll's syntax as Redis reads them. 0 or -1. */
static int save_parse_number(const char *p, size_t len, int is_changes, long long *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf)) return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    *out = strtoll(buf, &end, 10);
    return *end || *out < (is_changes ? 0 : 1) ? -1 : 0;
}

/* The numbers of the arguments (the config layer splits "--save '60 1'").
 * -1 if malformed. */
static int save_parse(int argc, str *argv, long long *nums, int max)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (n == max || save_parse_number(argv[i], str_len(argv[i]), n % 2, &nums[n]) == -1)
            return -1;
        n++;
    }
    return n % 2 ? -1 : n;
}

/* Redis's syntax: save <seconds> <changes> [<seconds> <changes> ...], and
 * save "" for none. Several lines of a file add up, the first one
 * replacing the defaults; CONFIG SET replaces. */
static int save_set(void *data, int argc, str *argv, const char **err)
{
    (void)data;
    if (argc == 1 && str_len(argv[0]) == 0) argc = 0;
    long long *nums = tmalloc(sizeof(long long) * (size_t)(argc + 1));
    int n = save_parse(argc, argv, nums, argc);
    if (n == -1) {
        tfree(nums);
        *err = "Invalid save parameters";
        return -1;
    }
    int append = config_loading() && bg.points_from_file && n > 0;
    if (config_loading()) bg.points_from_file = 1;
    if (!append) bg.npoints = 0;
    bg.points = trealloc(bg.points, sizeof(save_point) * (size_t)(bg.npoints + n / 2 + 1));
    for (int j = 0; j < n; j += 2) {
        bg.points[bg.npoints].seconds = nums[j];
        bg.points[bg.npoints++].changes = nums[j + 1];
    }
    tfree(nums);
    return 0;
}

static str save_get(void *data)
{
    (void)data;
    str s = str_empty();
    for (int i = 0; i < bg.npoints; i++)
        s = str_cat_fmt(s, "%s%lld %lld", i ? " " : "", bg.points[i].seconds,
                        bg.points[i].changes);
    return s;
}

static const config_special_ops save_ops = {save_set, save_get};

static int dbfilename_apply(void *data, const char **err)
{
    (void)data;
    if (strchr(bg.dbfilename, '/') || strchr(bg.dbfilename, '\\')) {
        *err = "dbfilename can't be a path, just a filename";
        return -1;
    }
    return 0;
}

void bgsave_register_config(void)
{
    config_register_special("save", &save_ops, NULL, "3600 1 300 100 60 10000", 0);
    config_register_string("dbfilename", &bg.dbfilename, "dump.rdb", 0, dbfilename_apply, NULL);
    config_register_bool("rdbcompression", &bg.compression, 1, 0, NULL, NULL);
    config_register_bool("rdbchecksum", &bg.checksum, 1, CONFIG_IMMUTABLE, NULL, NULL);
    config_register_bool("stop-writes-on-bgsave-error", &bg.stop_writes_on_error, 1, 0, NULL,
                         NULL);
    config_register_bool("rdb-save-incremental-fsync", &bg.incremental_fsync, 1, 0, NULL, NULL);
    /* Hidden test knobs of Redis: microseconds to sleep per key. */
    config_register_ll("rdb-key-save-delay", &bg.key_save_delay, 0, INT_MIN, INT_MAX,
                       CONFIG_HIDDEN, NULL, NULL);
    config_register_ll("key-load-delay", &bg.key_load_delay, 0, INT_MIN, INT_MAX, CONFIG_HIDDEN,
                       NULL, NULL);
}

/* ---------- saving ---------- */

/* The aux fields and options of a save, as the directives stand now. */
static void bgsave_prepare_job(bgsave_job *job)
{
    memset(job, 0, sizeof(*job));
    job->aux.repl_id[0] = '\0';
    job->aux.repl_offset = -1;
    job->aux.repl_stream_db = -1;
    if (bg.aux_provider) bg.aux_provider(&job->aux);
    job->opts.compress = bg.compression;
    job->opts.checksum = bg.checksum;
    job->opts.key_delay_us = bg.key_save_delay;
    job->fsync_every = bg.incremental_fsync ? BGSAVE_AUTOSYNC_BYTES : 0;
}

/* Writes the file; logs why it failed. 0 or -1. */
static int bgsave_write_file(bgsave_job *job)
{
    str err = NULL;
    if (rdb_save_file(bg.dbfilename, &job->aux, &job->opts, job->fsync_every, &err) == -1) {
        log_msg(LOG_WARNING, "%s", err ? err : "Error saving the DB");
        str_free(err);
        return -1;
    }
    log_msg(LOG_NOTICE, "DB saved on disk");
    return 0;
}

/* SAVE, DEBUG RELOAD and the final save: in the foreground. */
static int bgsave_save_foreground(void)
{
    bgsave_job job;
    bgsave_prepare_job(&job);
    if (bgsave_write_file(&job) == -1) return -1;
    call_get_stats()->dirty = 0;
    bg.lastsave = (long long)time(NULL);
    bg.last_bgsave_ok = 1;
    return 0;
}

static void bgsave_child_progress(long long keys_done, void *priv)
{
    (void)priv;
    child_report(keys_done);
}

/* The child's body: its exit code is 0 when the file was written whole. */
static int bgsave_child_body(void *priv)
{
    return bgsave_write_file(priv) == 0 ? 0 : 1;
}

static int bgsave_start(void)
{
    if (child_running() != CHILD_NONE) return -1;
    bg.saves++;
    bg.dirty_before_bgsave = call_get_stats()->dirty;
    bg.lastbgsave_try = (long long)time(NULL);
    bg.keys_total = db_total_keys();
    bgsave_prepare_job(&bg.job);
    bg.job.opts.progress = bgsave_child_progress;
    str err = NULL;
    if (child_start(CHILD_RDB, bgsave_child_body, &bg.job, &err) == -1) {
        bg.last_bgsave_ok = 0;
        log_msg(LOG_WARNING, "Can't save in background: %s", err);
        str_free(err);
        return -1;
    }
    bg.child = child_pid();
    bg.save_time_start = (long long)time(NULL);
    bg.seen_keys = 0;
    bg.seen_cow = 0;
    bg.cow_updated_ms = 0;
    log_msg(LOG_NOTICE, "Background saving started by pid %ld", (long)bg.child);
    return 0;
}

static void bgsave_remove_temp(pid_t pid)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%ld.rdb", (long)pid);
    unlink(tmp);
}

/* The child ended. SIGUSR1 is how the server itself stops a save
 * (child_kill at SHUTDOWN), which is no error, as in Redis. */
static void bgsave_done(int exitcode, int bysignal, void *priv)
{
    (void)priv;
    if (!bysignal && exitcode == 0) {
        log_msg(LOG_NOTICE, "Background saving terminated with success");
        call_stats *st = call_get_stats();
        /* A foreground save meanwhile (DEBUG RELOAD) may have reset it. */
        st->dirty = st->dirty > bg.dirty_before_bgsave ? st->dirty - bg.dirty_before_bgsave : 0;
        bg.lastsave = (long long)time(NULL);
        bg.last_bgsave_ok = 1;
    } else if (!bysignal) {
        log_msg(LOG_WARNING, "Background saving error");
        bg.last_bgsave_ok = 0;
    } else {
        log_msg(LOG_WARNING, "Background saving terminated by signal %d", bysignal);
        bgsave_remove_temp(bg.child);
        if (bysignal != SIGUSR1) bg.last_bgsave_ok = 0;
    }
    bg.save_time_last = (long long)time(NULL) - bg.save_time_start;
    bg.save_time_start = -1;
    bg.child = 0;
    if (bg.done_hook) bg.done_hook(!bysignal && exitcode == 0, bg.dbfilename, bg.done_hook_data);
}

int bgsave_start_for_replication(void)
{
    if (bgsave_any_load()) return -1;
    return bgsave_start();
}

int bgsave_settings_for_replication(rdb_aux *aux, rdb_save_opts *opts)
{
    if (bg.loading) return -1;
    bgsave_job job;
    bgsave_prepare_job(&job);
    bg.keys_total = db_total_keys();
    *aux = job.aux;
    *opts = job.opts;
    return 0;
}

/* ---------- the cron: save points, scheduled saves ---------- */

/* Notes when the child's reports last changed the figures, for
 * current_cow_size_age. */
static void bgsave_track_reports(long long now_ms)
{
    const child_stats *st = child_get_stats();
    if (child_running() == CHILD_NONE) return;
    if (st->current_keys_done == bg.seen_keys && st->current_cow_size == bg.seen_cow) return;
    bg.seen_keys = st->current_keys_done;
    bg.seen_cow = st->current_cow_size;
    bg.cow_updated_ms = now_ms;
}

static void bgsave_cron(long long now_ms, void *data)
{
    (void)data;
    bgsave_track_reports(now_ms);
    if (child_running() != CHILD_NONE || bg.loading) return;
    long long now = (long long)time(NULL);
    int may_retry = bg.last_bgsave_ok || now - bg.lastbgsave_try > BGSAVE_RETRY_DELAY;
    if (!may_retry) return;
    long long dirty = call_get_stats()->dirty;
    for (int i = 0; i < bg.npoints; i++) {
        const save_point *sp = &bg.points[i];
        if (dirty >= sp->changes && now - bg.lastsave > sp->seconds) {
            log_msg(LOG_NOTICE, "%lld changes in %lld seconds. Saving...", sp->changes,
                    sp->seconds);
            bgsave_start();
            return;
        }
    }
    if (bg.scheduled && bgsave_start() == 0) bg.scheduled = 0;
}

/* ---------- gates ---------- */

/* Writes (and PING, as Redis does) are refused while the last background
 * save failed, so that nobody believes data is safe when it is not. The
 * primary's stream is always applied. */
static int bgsave_misconf_gate(client *c, const command *cmd, void *data)
{
    (void)data;
    if (!bg.stop_writes_on_error || bg.npoints == 0 || bg.last_bgsave_ok) return 0;
    if (!(cmd->flags & CMD_WRITE) && strcmp(cmd->name, "ping")) return 0;
    if (c->flags & CLIENT_PRIMARY) return 0;
    reply_error(c, bgsave_misconf_error);
    return -1;
}

static int bgsave_loading_gate(client *c, const command *cmd, void *data)
{
    (void)data;
    int refused = bg.loading ? !(cmd->flags & CMD_LOADING)
                             : bg.aside && (cmd->flags & CMD_NO_ASYNC_LOADING);
    if (!refused) return 0;
    reply_error(c, "LOADING Redis is loading the dataset in memory");
    return -1;
}

/* ---------- commands ---------- */

static void save_command(client *c, const command *cmd)
{
    (void)cmd;
    if (child_running() == CHILD_RDB) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    bg.saves++;
    if (bgsave_save_foreground() == 0)
        reply_ok(c);
    else
        reply_error(c, "ERR");
}

static void bgsave_command(client *c, const command *cmd)
{
    (void)cmd;
    int schedule = 0;
    if (c->argc > 1) {
        if (c->argc != 2 || strcasecmp(c->argv[1], "schedule")) {
            reply_error(c, "ERR syntax error");
            return;
        }
        schedule = 1;
    }
    if (child_running() == CHILD_RDB) {
        reply_error(c, "ERR Background save already in progress");
    } else if (child_running() != CHILD_NONE) {
        if (schedule) {
            bg.scheduled = 1;
            reply_simple(c, "Background saving scheduled");
        } else {
            reply_error(c, "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                           "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
    } else if (bgsave_start() == 0) {
        reply_simple(c, "Background saving started");
    } else {
        reply_error(c, "ERR");
    }
}

static void lastsave_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_integer(c, bg.lastsave);
}

static command bgsave_commands[] = {
    {.name = "save", .proc = save_command, .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, .group = "server",
     .summary = "Synchronously save the dataset to disk", .since = "1.0.0"},
    {.name = "bgsave", .proc = bgsave_command, .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, .group = "server",
     .summary = "Asynchronously save the dataset to disk", .since = "1.0.0"},
    {.name = "lastsave", .proc = lastsave_command, .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .group = "server",
     .summary = "Get the UNIX time stamp of the last successful save to disk", .since = "1.0.0"},
    {0},
};

/* ---------- loading ---------- */

/* key-load-delay: Redis sleeps that long after each key. The loader reports
 * progress every ~2 MB, so the sleep owed for the keys added since the last
 * report is taken there. A negative value sleeps 1 us once in -value keys,
 * as Redis does on average. */
static long long bgsave_load_delay_us(void)
{
    long long keys = db_total_keys();
    long long added = keys - bg.load_keys_seen;
    bg.load_keys_seen = keys;
    if (bg.key_load_delay == 0 || added <= 0) return 0;
    return bg.key_load_delay > 0 ? added * bg.key_load_delay : added / -bg.key_load_delay;
}

/* Clients are served while a dump loads: most commands get -LOADING, INFO
 * and the like answer, SHUTDOWN and SIGTERM end the server (without saving:
 * the dataset is partial). In a swapdb load they are served as usual, from
 * the old dataset, installed for that time while the new one waits aside.
 * Waits at most wait_ms for an event (0: serves what is ready). */
static void bgsave_load_serve(int wait_ms)
{
    if (!bg.serve_events || !bg.loop) return;
    if (bg.aside) db_exchange_all(bg.aside);
    loop_process_wait(bg.loop, LOOP_FILE_EVENTS | LOOP_CALL_BEFORE_SLEEP | LOOP_CALL_AFTER_SLEEP,
                      wait_ms);
    if (bg.aside) db_exchange_all(bg.aside);
}

/* The connection stream's wait for data. */
static void bgsave_load_wait(void *priv, int wait_ms)
{
    (void)priv;
    bgsave_load_serve(wait_ms);
}

/* Called by the loader every ~2 MB: a progress line (and the caller's tick)
 * every second, the clients served, and the key-load-delay sleep, in slices
 * with the clients served between them. total is 0 when unknown. */
static void bgsave_load_progress(uint64_t done, uint64_t total, void *priv)
{
    (void)priv;
    bg.loading_done = done;
    bg.loading_total = total;
    long long now = loop_now_ms();
    if (now - bg.load_log_ms >= BGSAVE_LOAD_LOG_MS) {
        bg.load_log_ms = now;
        log_msg(LOG_NOTICE, "Loading RDB: %d%% (%llu MB)", total ? (int)(done * 100 / total) : 0,
                (unsigned long long)(done >> 20));
        if (bg.load_tick) bg.load_tick(bg.load_tick_data);
    }
    long long us = bgsave_load_delay_us();
    for (;;) {
        bgsave_load_serve(0);
        if (us <= 0) break;
        long long slice = us < BGSAVE_LOAD_SLICE_US ? us : BGSAVE_LOAD_SLICE_US;
        usleep((useconds_t)slice);
        us -= slice;
    }
}

/* Sets the dataset aside for a load into an empty one (async: the old one
 * keeps serving clients meanwhile) and returns it. */
static db_keyspace *bgsave_load_begin(int async, uint64_t total, rdb_load_opts *opts,
                                      rdb_load_info *info)
{
    db_keyspace *old = db_detach_all();
    memset(opts, 0, sizeof(*opts));
    opts->verify_checksum = bg.checksum;
    opts->store = 1;
    opts->progress = bgsave_load_progress;
    memset(info, 0, sizeof(*info));
    bg.loading = !async;
    bg.aside = async ? old : NULL;
    bg.loading_start = (long long)time(NULL);
    bg.loading_total = total;
    bg.loading_done = 0;
    bg.load_log_ms = loop_now_ms();
    bg.load_keys_seen = 0;
    return old;
}

/* Ends a load: when it failed (rc != 0) the old dataset comes back whole and
 * the partial one is freed in the background; else the old one is. */
static int bgsave_load_end(db_keyspace *old, int rc, const rdb_load_info *info)
{
    int async = bg.aside != NULL;
    bg.loading = 0;
    bg.aside = NULL;
    if (rc != 0) {
        db_exchange_all(old); /* old now holds the partial dataset */
        db_release_set(old, 1);
        return rc;
    }
    if (async)
        log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Swapping active DB with loaded DB; "
                            "the old one is freed in the background");
    db_release_set(old, 1);
    log_msg(LOG_NOTICE, "Done loading RDB, keys loaded: %lld, keys expired: %lld.",
            info->keys_loaded, info->keys_expired);
    bg.last_load_keys_loaded = info->keys_loaded;
    bg.last_load_keys_expired = info->keys_expired;
    return 0;
}

/* Loads path in place of the dataset, which comes back unless the load
 * succeeds. 0 loaded, 1 no file, -1 with *err. */
static int bgsave_load_path(const char *path, int skip_expired, rdb_load_info *info, str *err)
{
    struct stat file;
    rdb_load_opts opts;
    uint64_t total = stat(path, &file) == 0 ? (uint64_t)file.st_size : 0;
    db_keyspace *old = bgsave_load_begin(0, total, &opts, info);
    opts.skip_expired = skip_expired;
    return bgsave_load_end(old, rdb_load_file(path, &opts, info, err), info);
}

/* The dump file in place of the dataset; its aux fields in *aux when aux is
 * not NULL. As bgsave_load_path. */
static int bgsave_load(str *err, rdb_aux *aux)
{
    rdb_load_info info;
    /* A replica keeps keys already expired, as Redis: its primary's DELs
     * remove them, and until then both sides hold the same keys. */
    int skip_expired = !(bg.is_replica && bg.is_replica());
    int rc = bgsave_load_path(bg.dbfilename, skip_expired, &info, err);
    if (rc == 0 && aux) *aux = info.aux;
    return rc;
}

static void bgsave_replication_load_start(void (*tick)(void *data), void *tick_data)
{
    bg.serve_events = 1;
    bg.load_tick = tick;
    bg.load_tick_data = tick_data;
}

static void bgsave_replication_load_stop(void)
{
    bg.serve_events = 0;
    bg.load_tick = NULL;
}

int bgsave_load_for_replication(const char *path, void (*tick)(void *data), void *tick_data,
                                rdb_load_info *info, str *err)
{
    bgsave_replication_load_start(tick, tick_data);
    int rc = bgsave_load_path(path, 0, info, err);
    bgsave_replication_load_stop();
    if (rc == 1) *err = str_new("the RDB file vanished");
    return rc == 0 ? 0 : -1;
}

int bgsave_load_conn_for_replication(rdb_stream *s, int async, void (*tick)(void *data),
                                     void *tick_data, rdb_load_info *info, str *err)
{
    rdb_load_opts opts;
    bgsave_replication_load_start(tick, tick_data);
    rdb_stream_conn_set_serve(s, bgsave_load_wait, NULL);
    uint64_t total = s->limit == UINT64_MAX ? 0 : s->limit;
    db_keyspace *old = bgsave_load_begin(async, total, &opts, info);
    int rc = rdb_load_stream(s, &opts, info, err);
    if (rc == 0 && rdb_stream_conn_finish(s) != 0) {
        *err = str_new(s->errmsg);
        rc = -1;
    }
    rc = bgsave_load_end(old, rc, info);
    bgsave_replication_load_stop();
    return rc;
}

int bgsave_load_at_startup(rdb_aux *aux)
{
    long long start = bgsave_now_us();
    str err = NULL;
    memset(aux, 0, sizeof(*aux));
    aux->repl_offset = -1;
    aux->repl_stream_db = -1;
    bg.serve_events = 1;
    int rc = bgsave_load(&err, aux);
    bg.serve_events = 0;
    if (rc == -1) {
        log_msg(LOG_WARNING, "Fatal error loading the DB: %s. Exiting.", err ? err : "unknown error");
        str_free(err);
        return -1;
    }
    if (rc == 0)
        log_msg(LOG_NOTICE, "DB loaded from disk: %.3f seconds",
                (double)(bgsave_now_us() - start) / 1000000);
    return 0;
}

void bgsave_debug_reload(client *c)
{
    int save = 1;
    if (bgsave_any_load()) {
        reply_error(c, "LOADING Redis is loading the dataset in memory");
        return;
    }
    for (int j = 2; j < c->argc; j++) {
        if (!strcasecmp(c->argv[j], "nosave")) {
            save = 0;
        } else if (!strcasecmp(c->argv[j], "merge") || !strcasecmp(c->argv[j], "noflush")) {
            reply_error(c, "ERR DEBUG RELOAD MERGE and NOFLUSH are not supported.");
            return;
        } else {
            reply_error(c, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    if (save && bgsave_save_foreground() == -1) {
        reply_error(c, "ERR");
        return;
    }
    str err = NULL;
    if (bgsave_load(&err, NULL) != 0) {
        log_msg(LOG_WARNING, "DEBUG RELOAD: %s", err ? err : "the RDB file does not exist");
        str_free(err);
        reply_error(c, "ERR Error trying to load the RDB dump");
        return;
    }
    log_msg(LOG_WARNING, "DB reloaded by DEBUG RELOAD");
    reply_ok(c);
}

/* ---------- shutdown ---------- */

static int bgsave_shutdown_save(int flags)
{
    if (child_running() != CHILD_NONE) {
        log_msg(LOG_WARNING, "There is a child saving an .rdb. Killing it!");
        child_kill();
    }
    /* A dataset half loaded must never replace the file. */
    if (bg.loading) flags = (flags & ~BGSAVE_SHUTDOWN_SAVE) | BGSAVE_SHUTDOWN_NOSAVE;
    int save = (bg.npoints > 0 && !(flags & BGSAVE_SHUTDOWN_NOSAVE)) || (flags & BGSAVE_SHUTDOWN_SAVE);
    if (!save) return 0;
    log_msg(LOG_NOTICE, "Saving the final RDB snapshot before exiting.");
    if (bgsave_save_foreground() == 0) return 0;
    if (flags & BGSAVE_SHUTDOWN_FORCE) {
        log_msg(LOG_WARNING, "Error trying to save the DB. Exit anyway.");
        return 0;
    }
    log_msg(LOG_WARNING, "Error trying to save the DB, can't exit.");
    log_msg(LOG_WARNING, "Errors trying to shut down the server. Check the logs for more information.");
    return -1;
}

int bgsave_prepare_shutdown(int flags)
{
    child_hold(1);
    int rc = bgsave_shutdown_save(flags);
    if (rc != 0) child_hold(0); /* the server goes on */
    return rc;
}

/* ---------- INFO persistence ---------- */

static str bgsave_info_loading(str s)
{
    long long elapsed = (long long)time(NULL) - bg.loading_start;
    uint64_t total = bg.loading_total;
    double perc = total ? (double)bg.loading_done / (double)total * 100 : 0;
    uint64_t remaining = total > bg.loading_done ? total - bg.loading_done : 1;
    long long eta = elapsed ? (long long)((uint64_t)elapsed * remaining / (bg.loading_done + 1)) : 1;
    return str_cat_fmt(s,
                       "loading_start_time:%lld\r\nloading_total_bytes:%llu\r\n"
                       "loading_rdb_used_mem:0\r\nloading_loaded_bytes:%llu\r\n"
                       "loading_loaded_perc:%.2f\r\nloading_eta_seconds:%lld\r\n",
                       bg.loading_start, (unsigned long long)total,
                       (unsigned long long)bg.loading_done, perc, eta);
}

static str bgsave_info(str s, void *data)
{
    (void)data;
    const child_stats *st = child_get_stats();
    int running = child_running() != CHILD_NONE;
    double fork_perc = bg.keys_total && running
                           ? (double)st->current_keys_done / (double)bg.keys_total * 100
                           : 0;
    long long cow_age = running && bg.cow_updated_ms ? (loop_now_ms() - bg.cow_updated_ms) / 1000 : 0;
    s = str_cat_fmt(
        s,
        "loading:%d\r\nasync_loading:%d\r\ncurrent_cow_peak:%zu\r\ncurrent_cow_size:%zu\r\n"
        "current_cow_size_age:%lld\r\ncurrent_fork_perc:%.2f\r\n"
        "current_save_keys_processed:%lld\r\ncurrent_save_keys_total:%lld\r\n"
        "rdb_changes_since_last_save:%lld\r\nrdb_bgsave_in_progress:%d\r\n"
        "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\n"
        "rdb_last_bgsave_time_sec:%lld\r\nrdb_current_bgsave_time_sec:%lld\r\n"
        "rdb_saves:%lld\r\nrdb_last_cow_size:%zu\r\nrdb_last_load_keys_expired:%lld\r\n"
        "rdb_last_load_keys_loaded:%lld\r\n",
        bg.loading, bg.aside != NULL, st->current_cow_peak, st->current_cow_size, cow_age,
        fork_perc, running ? st->current_keys_done : 0, running ? bg.keys_total : 0,
        call_get_stats()->dirty, running, bg.lastsave, bg.last_bgsave_ok ? "ok" : "err",
        bg.save_time_last, running ? (loop_now_ms() - st->start_ms) / 1000 : -1,
        bg.saves, st->last_cow_size, bg.last_load_keys_expired, bg.last_load_keys_loaded);
    s = str_cat(s, "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n"
                   "aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n"
                   "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\n"
                   "aof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\n"
                   "aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\n"
                   "module_fork_last_cow_size:0\r\n");
    return bgsave_any_load() ? bgsave_info_loading(s) : s;
}

void bgsave_register_info(void) { info_register("Persistence", 1, bgsave_info, NULL); }

/* ---------- wiring ---------- */

void bgsave_init(loop *l)
{
    bg.loop = l;
    bg.lastsave = (long long)time(NULL);
    command_register_all(bgsave_commands);
    child_set_done_handler(CHILD_RDB, bgsave_done, NULL);
    call_add_gate(bgsave_misconf_gate, NULL);
    call_add_gate(bgsave_loading_gate, NULL);
    cron_register("bgsave", 0, bgsave_cron, NULL);
}
