/* debug_cmd.c: the DEBUG command, as Redis 7.0 has it, for the subcommands
 * tests and benchmarks use: DIGEST and DIGEST-VALUE (Redis's SHA-1 dataset
 * digests, so that two servers holding the same data can be compared), OBJECT,
 * POPULATE, RELOAD (through the hook the persistence module fills),
 * SET-ACTIVE-EXPIRE, LOG, SLEEP, SEGFAULT and HELP. The whole
 * command is gated by enable-debug-command (no, yes, local). */
#include "core/debug_cmd.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/command.h"
#include "core/db.h"
#include "core/log.h"
#include "core/object.h"
#include "core/sha1.h"
#include "core/util.h"
#include "net/conn.h"
#include "net/output.h"

static const int *debug_enable;
static debug_reload_fn *debug_reload_hook;

/* ---------- the gate ---------- */

/* Redis's notion of a local client: a Unix socket, or a peer of exactly
 * 127.0.0.1 or ::1. */
static int client_is_local(const client *c)
{
    if (c->flags & CLIENT_UNIX) return 1;
    char ip[64];
    int port;
    if (!c->conn || conn_peer_ip(c->conn, ip, sizeof(ip), &port) == -1) return 0;
    return !strcmp(ip, "127.0.0.1") || !strcmp(ip, "::1");
}

static int debug_allowed(client *c)
{
    if (*debug_enable == DEBUG_CMD_YES || (*debug_enable == DEBUG_CMD_LOCAL && client_is_local(c)))
        return 1;
    reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is set to "
                   "\"local\", you can run it from a local connection, otherwise you need to set "
                   "this option in the configuration file, and then restart the server.");
    return 0;
}

/* ---------- digests ---------- */

/* Redis's two primitives: xor folds SHA1(p) into d; mix also rehashes d, so
 * that the order of mixed items matters. */
static void digest_xor(unsigned char d[SHA1_DIGEST_LEN], const void *p, size_t len)
{
    unsigned char h[SHA1_DIGEST_LEN];
    sha1(p, len, h);
    for (int i = 0; i < SHA1_DIGEST_LEN; i++) d[i] ^= h[i];
}

static void digest_mix(unsigned char d[SHA1_DIGEST_LEN], const void *p, size_t len)
{
    digest_xor(d, p, len);
    sha1(d, SHA1_DIGEST_LEN, d);
}

/* Mixes in a 32-bit number as 4 big-endian bytes (Redis mixes htonl(n)). */
static void digest_mix_u32(unsigned char d[SHA1_DIGEST_LEN], uint32_t n)
{
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                          (unsigned char)n};
    digest_mix(d, b, sizeof(b));
}

/* The value's part of a key's digest: its type, its content, and whether it
 * has an expiry (not the time: Redis leaves it out). o->type holds Redis's
 * object type numbering for strings (0). */
static void digest_value(int id, const kv *o, unsigned char d[SHA1_DIGEST_LEN])
{
    digest_mix_u32(d, (uint32_t)o->type);
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *s = kv_string(o, buf, &len);
    digest_mix(d, s, len);
    if (db_get_expire(id, o) != -1) digest_xor(d, "!!expire!!", 10);
}

typedef struct digest_walk {
    int id;
    unsigned char *final;
} digest_walk;

static void digest_key(void *priv, kv *o)
{
    digest_walk *w = priv;
    unsigned char d[SHA1_DIGEST_LEN] = {0};
    digest_mix(d, kv_key(o), kv_keylen(o));
    digest_value(w->id, o, d);
    digest_xor(w->final, d, SHA1_DIGEST_LEN);
}

/* Order-independent digest of every database: the SHA-1 of each key's digest
 * is xored in, after each non-empty database's number is mixed in. All
 * zeros when the dataset is empty. */
static void digest_dataset(unsigned char final[SHA1_DIGEST_LEN])
{
    memset(final, 0, SHA1_DIGEST_LEN);
    for (int id = 0; id < db_count(); id++) {
        if (db_size(id) == 0) continue;
        digest_mix_u32(final, (uint32_t)id);
        digest_walk w = {id, final};
        db_foreach(id, digest_key, &w);
    }
}

static void reply_digest(client *c, const unsigned char d[SHA1_DIGEST_LEN])
{
    char hex[2 * SHA1_DIGEST_LEN + 1];
    for (int i = 0; i < SHA1_DIGEST_LEN; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    reply_simple(c, hex);
}

static void debug_digest(client *c)
{
    unsigned char d[SHA1_DIGEST_LEN];
    digest_dataset(d);
    reply_digest(c, d);
}

/* Per key, like Redis: no expiry check, and 40 zeros for a missing key. */
static void debug_digest_value(client *c)
{
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        unsigned char d[SHA1_DIGEST_LEN] = {0};
        kv *o = db_find(c->db, c->argv[j], str_len(c->argv[j]));
        if (o) digest_value(c->db, o, d);
        reply_digest(c, d);
    }
}

/* ---------- OBJECT ---------- */

/* Bytes of an RDB length prefix. */
static size_t rdb_len_size(size_t len)
{
    if (len < 64) return 1;
    if (len < 16384) return 2;
    if (len <= UINT32_MAX) return 5;
    return 9;
}

/* Bytes of an integer that RDB stores in its special int8/16/32 form, or 0
 * when it does not fit them. */
static size_t rdb_int_size(long long v)
{
    if (v >= -128 && v <= 127) return 2;
    if (v >= -32768 && v <= 32767) return 3;
    if (v >= INT32_MIN && v <= INT32_MAX) return 5;
    return 0;
}

/* What the value takes in an RDB file, as DEBUG OBJECT's serializedlength,
 * without LZF compression (which Redis applies to strings over 20 bytes). */
static size_t rdb_string_size(const kv *o)
{
    long long v;
    size_t n;
    if (o->encoding == OBJ_ENCODING_INT && (n = rdb_int_size(kv_int(o)))) return n;
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *s = kv_string(o, buf, &len);
    if (len <= 11 && parse_ll(s, len, &v) == 0 && (n = rdb_int_size(v))) return n;
    return rdb_len_size(len) + len;
}

static void debug_object(client *c)
{
    kv *o = db_find(c->db, c->argv[2], str_len(c->argv[2]));
    if (!o) {
        reply_error(c, "ERR no such key");
        return;
    }
    long long idle = kv_idle_ms(o, kv_lru_clock(db_time_ms())) / 1000;
    char line[256];
    snprintf(line, sizeof(line),
             "Value at:%p refcount:%d encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%lld",
             (void *)o, kv_refcount(o), kv_encoding_name(o), rdb_string_size(o), (unsigned)o->lru,
             idle);
    reply_simple(c, line);
}

/* ---------- POPULATE ---------- */

/* A count or size: 0..LONG_MAX, else Redis's one error for both a
 * non-number and a negative number. */
static int parse_positive(client *c, const str s, long *out)
{
    long long v;
    if (parse_ll(s, str_len(s), &v) == -1 || v < 0 || v > LONG_MAX) {
        reply_error(c, "ERR value is out of range, must be positive");
        return -1;
    }
    *out = (long)v;
    return 0;
}

/* Adds "<prefix>:<n>" = "value:<n>" for n below count, skipping keys that
 * exist (an expired one is deleted first, as a write lookup does). With a
 * size, the value is "value:<n>" cut or zero-padded to size bytes. Keys are
 * cut at 127 bytes and the prefix at a NUL, as Redis builds them. Nothing
 * is propagated. */
static void debug_populate(client *c)
{
    long count, size = 0;
    if (parse_positive(c, c->argv[2], &count) == -1) return;
    if (c->argc == 5 && parse_positive(c, c->argv[4], &size) == -1) return;
    const char *prefix = c->argc >= 4 ? c->argv[3] : "key";
    char *padded = size && count ? tcalloc((size_t)size) : NULL;
    char key[128], val[64];
    db_expand(c->db, (unsigned long)(db_size(c->db) + count), 0);
    for (long n = 0; n < count; n++) {
        int klen = snprintf(key, sizeof(key), "%s:%ld", prefix, n);
        if (klen >= (int)sizeof(key)) klen = sizeof(key) - 1;
        if (db_lookup_write(c->db, key, (size_t)klen)) continue;
        size_t vlen = (size_t)snprintf(val, sizeof(val), "value:%ld", n);
        kv *o;
        if (padded) {
            size_t copy = vlen < (size_t)size ? vlen : (size_t)size;
            memcpy(padded, val, copy);
            o = kv_new_string(key, (size_t)klen, padded, (size_t)size);
            memset(padded, 0, copy);
        } else {
            o = kv_new_string(key, (size_t)klen, val, vlen);
        }
        db_add(c->db, o);
    }
    tfree(padded);
    reply_ok(c);
}

/* ---------- the rest ---------- */

/* Seconds as strtod reads them (anything else is 0), as Redis does; like
 * Redis on x86-64, a time whose microseconds overflow a long long (or a NaN)
 * does not sleep. */
static void debug_sleep(client *c)
{
    double us = strtod(c->argv[2], NULL) * 1e6;
    if (!(us >= 1 && us < 9e18)) {
        reply_ok(c);
        return;
    }
    long long usec = (long long)us;
    struct timespec ts = {(time_t)(usec / 1000000), (long)(usec % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
    reply_ok(c);
}

static void debug_segfault(client *c)
{
    (void)c;
    raise(SIGSEGV);
}

static void debug_log(client *c)
{
    log_msg(LOG_WARNING, "DEBUG LOG: %s", c->argv[2]);
    reply_ok(c);
}

static void debug_set_active_expire(client *c)
{
    db_set_active_expire(atoi(c->argv[2]));
    reply_ok(c);
}

static void debug_reload(client *c)
{
    if (debug_reload_hook)
        debug_reload_hook(c);
    else
        reply_error(c, "ERR DEBUG RELOAD is not available");
}

static void debug_help(client *c)
{
    static const char *lines[] = {
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "SEGFAULT",
        "    Crash the server with sigsegv.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "HELP",
        "    Prints this help.",
    };
    reply_simple_lines(c, lines, sizeof(lines) / sizeof(lines[0]));
}

/* Subcommands with the argument counts (the whole command's) they accept;
 * max_argc -1 means no upper bound. */
static const struct debug_sub {
    const char *name;
    int min_argc, max_argc;
    void (*fn)(client *c);
} debug_subs[] = {
    {"digest", 2, 2, debug_digest},
    {"digest-value", 2, -1, debug_digest_value},
    {"help", 2, 2, debug_help},
    {"log", 3, 3, debug_log},
    {"object", 3, 3, debug_object},
    {"populate", 3, 5, debug_populate},
    {"reload", 2, -1, debug_reload},
    {"segfault", 2, 2, debug_segfault},
    {"set-active-expire", 3, 3, debug_set_active_expire},
    {"sleep", 3, 3, debug_sleep},
};

static void debug_command(client *c, const command *cmd)
{
    (void)cmd;
    if (!debug_allowed(c)) return;
    for (size_t i = 0; i < sizeof(debug_subs) / sizeof(debug_subs[0]); i++) {
        const struct debug_sub *s = &debug_subs[i];
        if (strcasecmp(c->argv[1], s->name)) continue;
        if (c->argc < s->min_argc || (s->max_argc != -1 && c->argc > s->max_argc)) break;
        s->fn(c);
        return;
    }
    reply_error_fmt(c, "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try DEBUG HELP.",
                    c->argv[1]);
}

static command debug_commands[] = {
    {.name = "debug", .proc = debug_command, .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "A container for debugging commands", .since = "1.0.0"},
    {0},
};

void debug_set_reload_hook(debug_reload_fn *fn) { debug_reload_hook = fn; }

void debug_commands_register(const int *enable_debug_command)
{
    debug_enable = enable_debug_command;
    command_register_all(debug_commands);
}
