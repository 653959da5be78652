/* t_keys.c: the generic key commands: DEL, UNLINK, EXISTS, TYPE, KEYS,
 * SCAN, RANDOMKEY, RENAME, RENAMENX, TOUCH, the EXPIRE family, TTL, PTTL,
 * EXPIRETIME, PEXPIRETIME and PERSIST. OBJECT lives in object_cmd.c and is
 * registered from here. */
#include "core/t_keys.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/call.h"
#include "core/command.h"
#include "core/db.h"
#include "core/glob.h"
#include "core/object_cmd.h"
#include "core/util.h"
#include "net/output.h"

#define SCAN_DEFAULT_COUNT 10

/* ------------------------------------------------------------ helpers */

static int same_bytes(const str a, const str b)
{
    return str_len(a) == str_len(b) && memcmp(a, b, str_len(a)) == 0;
}

/* A growable array of kv pointers or key copies. */
typedef struct ptr_vec {
    void **items;
    size_t n, cap;
} ptr_vec;

static void vec_push(ptr_vec *v, void *p)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = trealloc(v->items, v->cap * sizeof(void *));
    }
    v->items[v->n++] = p;
}

static void vec_free(ptr_vec *v) { tfree(v->items); }

/* ------------------------------------------------------------ DEL, EXISTS, TYPE, TOUCH */

static void del_command(client *c, const command *cmd)
{
    (void)cmd;
    long long deleted = 0;
    for (int j = 1; j < c->argc; j++) {
        size_t len = str_len(c->argv[j]);
        if (db_lookup_peek(c->db, c->argv[j], len) && db_delete(c->db, c->argv[j], len))
            deleted++;
    }
    if (deleted) propagate_current_changes(c, deleted);
    reply_integer(c, deleted);
}

static void exists_command(client *c, const command *cmd)
{
    (void)cmd;
    long long count = 0;
    for (int j = 1; j < c->argc; j++)
        if (db_lookup_read_notouch(c->db, c->argv[j], str_len(c->argv[j]))) count++;
    reply_integer(c, count);
}

static void type_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = db_lookup_read_notouch(c->db, c->argv[1], str_len(c->argv[1]));
    reply_simple(c, o ? kv_type_name(o) : "none");
}

static void touch_command(client *c, const command *cmd)
{
    (void)cmd;
    long long count = 0;
    for (int j = 1; j < c->argc; j++)
        if (db_lookup_read(c->db, c->argv[j], str_len(c->argv[j]))) count++;
    reply_integer(c, count);
}

static void randomkey_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = db_random_key(c->db);
    if (o)
        reply_bulk(c, kv_key(o), kv_keylen(o));
    else
        reply_null(c);
}

/* ------------------------------------------------------------ KEYS */

typedef struct keys_walk {
    client *c;
    const char *pattern;
    size_t plen;
    int all;
    long long now;
    ptr_vec found;
} keys_walk;

/* Expired keys are skipped, not deleted, as Redis 7.0's KEYS does; while
 * expiry is off (loading, applying a primary's stream) none is skipped. */
static void keys_visit(void *priv, kv *o)
{
    keys_walk *w = priv;
    if (!w->all && !glob_match(w->pattern, w->plen, kv_key(o), kv_keylen(o), 0)) return;
    if (db_get_expire_mode() != DB_EXPIRE_NONE && db_is_expired(w->c->db, o, w->now)) return;
    vec_push(&w->found, o);
}

static void keys_command(client *c, const command *cmd)
{
    (void)cmd;
    keys_walk w = {.c = c, .pattern = c->argv[1], .plen = str_len(c->argv[1]), .now = db_time_ms()};
    w.all = w.plen == 1 && w.pattern[0] == '*';
    db_foreach(c->db, keys_visit, &w);
    reply_array_len(c, (long long)w.found.n);
    for (size_t i = 0; i < w.found.n; i++) {
        kv *o = w.found.items[i];
        reply_bulk(c, kv_key(o), kv_keylen(o));
    }
    vec_free(&w.found);
}

/* ------------------------------------------------------------ SCAN */

typedef struct scan_opts {
    long long count;
    const char *pattern; /* NULL: every key */
    size_t plen;
    const char *type;    /* NULL: every type */
} scan_opts;

/* The cursor as Redis reads it: an unsigned decimal with no leading space
 * and nothing after it (strtoul rules: a sign is accepted, "" is 0). */
static int parse_scan_cursor(client *c, const str s, unsigned long *cursor)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (isspace((unsigned char)s[0]) || *end != '\0' || errno == ERANGE) {
        reply_error(c, "ERR invalid cursor");
        return -1;
    }
    *cursor = (unsigned long)v;
    return 0;
}

static int parse_scan_opts(client *c, int first, scan_opts *opts)
{
    opts->count = SCAN_DEFAULT_COUNT;
    opts->pattern = NULL;
    opts->type = NULL;
    for (int i = first; i < c->argc; i += 2) {
        const char *opt = c->argv[i];
        const str arg = i + 1 < c->argc ? c->argv[i + 1] : NULL;
        if (arg && !strcasecmp(opt, "count")) {
            if (parse_ll(arg, str_len(arg), &opts->count) == -1) {
                reply_error(c, "ERR value is not an integer or out of range");
                return -1;
            }
            if (opts->count < 1) {
                reply_error(c, "ERR syntax error");
                return -1;
            }
        } else if (arg && !strcasecmp(opt, "match")) {
            int all = str_len(arg) == 1 && arg[0] == '*';
            opts->pattern = all ? NULL : arg;
            opts->plen = str_len(arg);
        } else if (arg && !strcasecmp(opt, "type")) {
            opts->type = arg;
        } else {
            reply_error(c, "ERR syntax error");
            return -1;
        }
    }
    return 0;
}

static void scan_collect(void *priv, kv *o)
{
    vec_push(priv, str_new_len(kv_key(o), kv_keylen(o)));
}

/* Whether a collected key stays in the reply: it must match the pattern,
 * be of the type asked for, and be live (an expired key is deleted here on
 * a primary, as Redis's SCAN does). */
static int scan_keep(client *c, const scan_opts *opts, const str key)
{
    size_t len = str_len(key);
    if (opts->pattern && !glob_match(opts->pattern, opts->plen, key, len, 0)) return 0;
    if (opts->type) {
        kv *o = db_lookup_read_notouch(c->db, key, len);
        if (strcasecmp(opts->type, o ? kv_type_name(o) : "none")) return 0;
    }
    return db_lookup_peek(c->db, key, len) != NULL;
}

static void scan_command(client *c, const command *cmd)
{
    (void)cmd;
    unsigned long cursor;
    scan_opts opts;
    if (parse_scan_cursor(c, c->argv[1], &cursor) == -1) return;
    if (parse_scan_opts(c, 2, &opts) == -1) return;

    ptr_vec keys = {0};
    long long budget = opts.count > LLONG_MAX / 10 ? LLONG_MAX : opts.count * 10;
    do {
        cursor = db_scan(c->db, cursor, scan_collect, &keys);
    } while (cursor && budget-- && (long long)keys.n < opts.count);

    size_t kept = 0;
    for (size_t i = 0; i < keys.n; i++) {
        if (scan_keep(c, &opts, keys.items[i]))
            keys.items[kept++] = keys.items[i];
        else
            str_free(keys.items[i]);
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lu", cursor);
    reply_array_len(c, 2);
    reply_bulk(c, buf, (size_t)n);
    reply_array_len(c, (long long)kept);
    for (size_t i = 0; i < kept; i++) {
        reply_bulk_str(c, keys.items[i]);
        str_free(keys.items[i]);
    }
    vec_free(&keys);
}

/* ------------------------------------------------------------ RENAME */

/* Adds o under its key with an expiry (or none: -1). */
static void add_with_expire(int id, kv *o, long long when)
{
    db_add(id, o);
    if (when != -1) db_set_expire(id, o, when);
}

static void rename_generic(client *c, int nx)
{
    const str src = c->argv[1], dst = c->argv[2];
    if (!db_lookup_write(c->db, src, str_len(src))) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (same_bytes(src, dst)) {
        if (nx)
            reply_integer(c, 0);
        else
            reply_ok(c);
        return;
    }
    if (db_lookup_write(c->db, dst, str_len(dst))) {
        if (nx) {
            reply_integer(c, 0);
            return;
        }
        db_delete(c->db, dst, str_len(dst));
    }
    long long when;
    kv *old = db_take(c->db, src, str_len(src), &when);
    kv *o = kv_copy_as(old, dst, str_len(dst));
    kv_free(old);
    add_with_expire(c->db, o, when);
    propagate_current(c);
    if (nx)
        reply_integer(c, 1);
    else
        reply_ok(c);
}

static void rename_command(client *c, const command *cmd)
{
    (void)cmd;
    rename_generic(c, 0);
}

static void renamenx_command(client *c, const command *cmd)
{
    (void)cmd;
    rename_generic(c, 1);
}

/* ------------------------------------------------------------ EXPIRE */

#define EXPIRE_NX (1 << 0)
#define EXPIRE_XX (1 << 1)
#define EXPIRE_GT (1 << 2)
#define EXPIRE_LT (1 << 3)

/* The NX, XX, GT and LT options after the time: the flags, or -1 after
 * replying with the error. */
static int parse_expire_flags(client *c)
{
    int flags = 0;
    for (int j = 3; j < c->argc; j++) {
        const char *opt = c->argv[j];
        if (!strcasecmp(opt, "nx"))
            flags |= EXPIRE_NX;
        else if (!strcasecmp(opt, "xx"))
            flags |= EXPIRE_XX;
        else if (!strcasecmp(opt, "gt"))
            flags |= EXPIRE_GT;
        else if (!strcasecmp(opt, "lt"))
            flags |= EXPIRE_LT;
        else {
            reply_error_fmt(c, "ERR Unsupported option %s", opt);
            return -1;
        }
    }
    if ((flags & EXPIRE_NX) && (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((flags & EXPIRE_GT) && (flags & EXPIRE_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return flags;
}

/* The absolute expiry in ms from the argument: base 0 for the *AT forms,
 * now for the relative ones; unit 1000 for seconds. -1 after replying. */
static int expire_time_arg(client *c, const command *cmd, long long base, long long unit,
                           long long *when)
{
    long long v;
    if (parse_ll(c->argv[2], str_len(c->argv[2]), &v) == -1) {
        reply_error(c, "ERR value is not an integer or out of range");
        return -1;
    }
    if (v > LLONG_MAX / unit || v < LLONG_MIN / unit || v * unit > LLONG_MAX - base) {
        reply_error_fmt(c, "ERR invalid expire time in '%s' command", cmd->fullname);
        return -1;
    }
    *when = v * unit + base;
    return 0;
}

/* Whether the options let the new expiry replace the current one (-1:
 * none, which GT and LT take as infinite). */
static int expire_allowed(int flags, long long current, long long when)
{
    if ((flags & EXPIRE_NX) && current != -1) return 0;
    if ((flags & EXPIRE_XX) && current == -1) return 0;
    if ((flags & EXPIRE_GT) && (current == -1 || when <= current)) return 0;
    if ((flags & EXPIRE_LT) && current != -1 && when >= current) return 0;
    return 1;
}

/* A time already past deletes the key (DEL goes out); otherwise PEXPIREAT
 * with the absolute time goes out, the options kept. A replica or a loading
 * server stores even a past time: its primary decides. */
static void expire_apply(client *c, kv *o, long long when)
{
    const str key = c->argv[1];
    if (when <= db_time_ms() && db_get_expire_mode() == DB_EXPIRE_DELETE) {
        db_delete(c->db, key, str_len(key));
        str argv[2] = {str_new("DEL"), key};
        propagate(c->db, 2, argv);
        str_free(argv[0]);
        reply_integer(c, 1);
        return;
    }
    db_set_expire(c->db, o, when);
    str *argv = tmalloc(sizeof(str) * (size_t)c->argc);
    memcpy(argv, c->argv, sizeof(str) * (size_t)c->argc);
    argv[0] = str_new("PEXPIREAT");
    argv[2] = str_from_ll(when);
    propagate(c->db, c->argc, argv);
    str_free(argv[0]);
    str_free(argv[2]);
    tfree(argv);
    reply_integer(c, 1);
}

static void expire_generic(client *c, const command *cmd, long long base, long long unit)
{
    long long when;
    int flags = parse_expire_flags(c);
    if (flags == -1) return;
    if (expire_time_arg(c, cmd, base, unit, &when) == -1) return;
    kv *o = db_lookup_write(c->db, c->argv[1], str_len(c->argv[1]));
    if (!o || !expire_allowed(flags, db_get_expire(c->db, o), when)) {
        reply_integer(c, 0);
        return;
    }
    expire_apply(c, o, when);
}

static void expire_command(client *c, const command *cmd)
{
    expire_generic(c, cmd, db_time_ms(), 1000);
}

static void pexpire_command(client *c, const command *cmd)
{
    expire_generic(c, cmd, db_time_ms(), 1);
}

static void expireat_command(client *c, const command *cmd) { expire_generic(c, cmd, 0, 1000); }

static void pexpireat_command(client *c, const command *cmd) { expire_generic(c, cmd, 0, 1); }

/* ------------------------------------------------------------ TTL */

/* TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for one
 * without expiry; seconds are rounded to the nearest (half up). */
static void ttl_generic(client *c, int in_ms, int absolute)
{
    kv *o = db_lookup_read_notouch(c->db, c->argv[1], str_len(c->argv[1]));
    if (!o) {
        reply_integer(c, -2);
        return;
    }
    long long when = db_get_expire(c->db, o);
    if (when == -1) {
        reply_integer(c, -1);
        return;
    }
    long long v = absolute ? when : when - db_time_ms();
    if (v < 0) v = 0;
    /* Rounded to the nearest second without overflowing near LLONG_MAX. */
    reply_integer(c, in_ms ? v : v / 1000 + (v % 1000 + 500) / 1000);
}

static void ttl_command(client *c, const command *cmd)
{
    (void)cmd;
    ttl_generic(c, 0, 0);
}

static void pttl_command(client *c, const command *cmd)
{
    (void)cmd;
    ttl_generic(c, 1, 0);
}

static void expiretime_command(client *c, const command *cmd)
{
    (void)cmd;
    ttl_generic(c, 0, 1);
}

static void pexpiretime_command(client *c, const command *cmd)
{
    (void)cmd;
    ttl_generic(c, 1, 1);
}

static void persist_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = db_lookup_write(c->db, c->argv[1], str_len(c->argv[1]));
    if (!o || !db_persist(c->db, o)) {
        reply_integer(c, 0);
        return;
    }
    propagate_current(c);
    reply_integer(c, 1);
}

/* ------------------------------------------------------------ table */

#define KEYS_CMD(n, p, a, f, fk, lk, st, sum, ver)                                                 \
    {.name = n, .proc = p, .arity = a, .flags = f, .first_key = fk, .last_key = lk,                \
     .key_step = st, .group = "generic", .summary = sum, .since = ver}

static command keys_commands[] = {
    KEYS_CMD("del", del_command, -2, CMD_WRITE, 1, -1, 1, "Delete a key", "1.0.0"),
    KEYS_CMD("unlink", del_command, -2, CMD_WRITE | CMD_FAST, 1, -1, 1,
             "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
             "blocking.",
             "4.0.0"),
    KEYS_CMD("exists", exists_command, -2, CMD_READONLY | CMD_FAST, 1, -1, 1,
             "Determine if a key exists", "1.0.0"),
    KEYS_CMD("type", type_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
             "Determine the type stored at key", "1.0.0"),
    KEYS_CMD("keys", keys_command, 2, CMD_READONLY, 0, 0, 0,
             "Find all keys matching the given pattern", "1.0.0"),
    KEYS_CMD("scan", scan_command, -2, CMD_READONLY, 0, 0, 0,
             "Incrementally iterate the keys space", "2.8.0"),
    KEYS_CMD("randomkey", randomkey_command, 1, CMD_READONLY, 0, 0, 0,
             "Return a random key from the keyspace", "1.0.0"),
    KEYS_CMD("rename", rename_command, 3, CMD_WRITE, 1, 2, 1, "Rename a key", "1.0.0"),
    KEYS_CMD("renamenx", renamenx_command, 3, CMD_WRITE | CMD_FAST, 1, 2, 1,
             "Rename a key, only if the new key does not exist", "1.0.0"),
    KEYS_CMD("touch", touch_command, -2, CMD_READONLY | CMD_FAST, 1, -1, 1,
             "Alters the last access time of a key(s). Returns the number of existing keys "
             "specified.",
             "3.2.1"),
    KEYS_CMD("expire", expire_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1,
             "Set a key's time to live in seconds", "1.0.0"),
    KEYS_CMD("pexpire", pexpire_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1,
             "Set a key's time to live in milliseconds", "2.6.0"),
    KEYS_CMD("expireat", expireat_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1,
             "Set the expiration for a key as a UNIX timestamp", "1.2.0"),
    KEYS_CMD("pexpireat", pexpireat_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1,
             "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
             "2.6.0"),
    KEYS_CMD("ttl", ttl_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
             "Get the time to live for a key in seconds", "1.0.0"),
    KEYS_CMD("pttl", pttl_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
             "Get the time to live for a key in milliseconds", "2.6.0"),
    KEYS_CMD("expiretime", expiretime_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
             "Get the expiration Unix timestamp for a key", "7.0.0"),
    KEYS_CMD("pexpiretime", pexpiretime_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
             "Get the expiration Unix timestamp for a key in milliseconds", "7.0.0"),
    KEYS_CMD("persist", persist_command, 2, CMD_WRITE | CMD_FAST, 1, 1, 1,
             "Remove the expiration from a key", "2.2.0"),
    {0},
};

void keys_commands_register(void)
{
    command_register_all(keys_commands);
    object_commands_register();
}
