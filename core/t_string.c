/* t_string.c: the string commands: GET, SET and its relatives (SETNX,
 * SETEX, PSETEX, GETSET, GETDEL, GETEX), MGET, MSET, MSETNX, APPEND,
 * STRLEN, the integer and float counters, GETRANGE/SUBSTR, SETRANGE and
 * LCS, with Redis 7.0's replies, errors and propagated forms. Relative
 * expiry times go out as absolute ones (SET ... PXAT, PEXPIREAT) and
 * INCRBYFLOAT as the SET of its result, so a replica computes nothing.
 * The bit commands live in t_bitops.c and share the helpers below. */
#include "core/t_string.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/call.h"
#include "core/command.h"
#include "core/db.h"
#include "core/t_bitops.h"
#include "core/util.h"
#include "net/output.h"

#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_SYNTAX "ERR syntax error"
#define LD_TEXT_MAX (5 * 1024) /* longest long double text accepted/made */

/* SET and GETEX options. */
enum {
    OPT_NX = 1 << 0,
    OPT_XX = 1 << 1,
    OPT_GET = 1 << 2,
    OPT_KEEPTTL = 1 << 3,
    OPT_PERSIST = 1 << 4,
    OPT_EX = 1 << 5,
    OPT_PX = 1 << 6,
    OPT_EXAT = 1 << 7,
    OPT_PXAT = 1 << 8,
};
#define OPT_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

/* ------------------------------------------------------------ shared helpers */

int string_check_type(client *c, const kv *o)
{
    if (o->type == OBJ_STRING) return 0;
    reply_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
    return -1;
}

int string_check_length(client *c, unsigned long long base, unsigned long long add)
{
    unsigned long long total = base + add;
    if (total >= base && total <= (unsigned long long)cmd_proto_max_bulk_len()) return 0;
    reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return -1;
}


kv *string_new_raw(const char *key, size_t keylen, const char *val, size_t vlen)
{
    if (val) {
        return kv_new_text(key, keylen, val, vlen, 1);
    }
    kv *empty = kv_new_string(key, keylen, "", 0);
    kv *o = kv_grow_copy(empty, vlen);
    kv_free(empty);
    return o;
}

kv *string_unshare(int db, kv *o, size_t minlen)
{
    if (o->encoding == OBJ_ENCODING_INT || minlen > kv_string_room(o))
        return db_swap_kv(db, o, kv_grow_copy(o, minlen));
    o->encoding = OBJ_ENCODING_RAW;
    size_t len = kv_strlen(o);
    if (minlen > len) {
        memset(kv_string_mut(o) + len, 0, minlen - len);
        kv_set_strlen(o, minlen);
    }
    return o;
}

static void reply_string(client *c, const kv *o)
{
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *p = kv_string(o, buf, &len);
    reply_bulk(c, p, len);
}

/* Replies with the value of key (null when missing); -1 after WRONGTYPE. */
static int reply_value(client *c, const str key)
{
    kv *o = db_lookup_read(c->db, key, str_len(key));
    if (!o) {
        reply_null(c);
        return 0;
    }
    if (string_check_type(c, o) == -1) return -1;
    reply_string(c, o);
    return 0;
}

/* Looks a key up for writing; -1 after WRONGTYPE, else 0 with *out (NULL
 * when missing). */
static int lookup_string_write(client *c, const str key, kv **out)
{
    *out = db_lookup_write(c->db, key, str_len(key));
    return *out && string_check_type(c, *out) == -1 ? -1 : 0;
}

/* Stores a string under key, with an absolute expiry when when >= 0; the old
 * expiry stays with keep_ttl. */
static void store_string(int db, const str key, const char *val, size_t vlen, long long when,
                         int keep_ttl)
{
    kv *o = kv_new_string(key, str_len(key), val, vlen);
    db_set(db, o, keep_ttl);
    if (when >= 0) db_set_expire(db, o, when);
}

/* Propagates SET key value, with PXAT when (when >= 0) or KEEPTTL. */
static void propagate_set(client *c, const str key, const str val, long long when, int keep_ttl)
{
    str argv[5] = {str_new("SET"), key, val, NULL, NULL};
    int argc = 3;
    if (when >= 0) {
        argv[argc++] = str_new("PXAT");
        argv[argc++] = str_from_ll(when);
    } else if (keep_ttl) {
        argv[argc++] = str_new("KEEPTTL");
    }
    propagate(c->db, argc, argv);
    str_free(argv[0]);
    str_free(argv[3]);
    str_free(argv[4]);
}

/* Propagates NAME key, or NAME key when_ms with when >= 0. */
static void propagate_key(client *c, const char *name, const str key, long long when)
{
    str argv[3] = {str_new(name), key, when >= 0 ? str_from_ll(when) : NULL};
    propagate(c->db, when >= 0 ? 3 : 2, argv);
    str_free(argv[0]);
    str_free(argv[2]);
}

/* ------------------------------------------------------------ options */

static int expire_option(const char *opt)
{
    if (!strcasecmp(opt, "ex")) return OPT_EX;
    if (!strcasecmp(opt, "px")) return OPT_PX;
    if (!strcasecmp(opt, "exat")) return OPT_EXAT;
    if (!strcasecmp(opt, "pxat")) return OPT_PXAT;
    return 0;
}

/* Parses SET's options (is_set) or GETEX's from argv[first] on, with Redis's
 * rules: an expiry excludes the other expiry forms, KEEPTTL and PERSIST; NX
 * excludes XX; repeating an option is allowed (the last expiry wins).
 * Returns the flags, or -1 after replying with the syntax error. */
static int parse_options(client *c, int first, int is_set, str *expire)
{
    int flags = 0;
    *expire = NULL;
    for (int j = first; j < c->argc; j++) {
        const char *opt = c->argv[j];
        int ex = expire_option(opt);
        if (ex && !(flags & (OPT_KEEPTTL | OPT_PERSIST | (OPT_EXPIRE & ~ex))) && j + 1 < c->argc) {
            flags |= ex;
            *expire = c->argv[++j];
        } else if (is_set && !strcasecmp(opt, "nx") && !(flags & OPT_XX)) {
            flags |= OPT_NX;
        } else if (is_set && !strcasecmp(opt, "xx") && !(flags & OPT_NX)) {
            flags |= OPT_XX;
        } else if (is_set && !strcasecmp(opt, "get")) {
            flags |= OPT_GET;
        } else if (is_set && !strcasecmp(opt, "keepttl") && !(flags & OPT_EXPIRE)) {
            flags |= OPT_KEEPTTL;
        } else if (!is_set && !strcasecmp(opt, "persist") && !(flags & OPT_EXPIRE)) {
            flags |= OPT_PERSIST;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return flags;
}

/* The absolute expiry in ms of an EX/PX/EXAT/PXAT argument, or -1 after
 * replying with the error (not an integer, <= 0, or overflowing). */
static long long expire_ms(client *c, const command *cmd, const str arg, int flags)
{
    long long v;
    if (parse_ll(arg, str_len(arg), &v) == -1) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    int seconds = flags & (OPT_EX | OPT_EXAT);
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto invalid;
    if (seconds) v *= 1000;
    if ((flags & (OPT_EX | OPT_PX)) && __builtin_add_overflow(v, db_time_ms(), &v)) goto invalid;
    return v;
invalid:
    reply_error_fmt(c, "ERR invalid expire time in '%s' command", cmd->fullname);
    return -1;
}

/* ------------------------------------------------------------ GET / SET */

static void get_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_value(c, c->argv[1]);
}

/* Whether SET must look the key up first: for NX/XX, and to expire (and
 * so forget the TTL of) a key past its time before storing. */
static int set_needs_lookup(client *c, int flags)
{
    return (flags & (OPT_NX | OPT_XX)) || db_expires_count(c->db) > 0;
}

/* The common part of SET, SETNX, SETEX and PSETEX once the options are
 * parsed: int_reply gives SETNX's 1/0 in place of OK/null. Returns 1 when
 * the value was stored. */
static int set_generic(client *c, const str key, const str val, int flags, long long when,
                       int int_reply)
{
    if ((flags & OPT_GET) && reply_value(c, key) == -1) return 0;
    if (set_needs_lookup(c, flags)) {
        int found = db_lookup_write(c->db, key, str_len(key)) != NULL;
        if (((flags & OPT_NX) && found) || ((flags & OPT_XX) && !found)) {
            if (flags & OPT_GET) return 0;
            if (int_reply)
                reply_integer(c, 0);
            else
                reply_null(c);
            return 0;
        }
    }
    store_string(c->db, key, val, str_len(val), when, flags & OPT_KEEPTTL);
    if (flags & OPT_GET) return 1;
    if (int_reply)
        reply_integer(c, 1);
    else
        reply_ok(c);
    return 1;
}

static void set_command(client *c, const command *cmd)
{
    str expire = NULL;
    int flags = 0;
    long long when = -1;
    if (c->argc > 3 && (flags = parse_options(c, 3, 1, &expire)) == -1) return;
    if (expire && (when = expire_ms(c, cmd, expire, flags)) == -1) return;
    if (!set_generic(c, c->argv[1], c->argv[2], flags, when, 0)) return;
    if (when >= 0 || (flags & OPT_GET))
        propagate_set(c, c->argv[1], c->argv[2], when, flags & OPT_KEEPTTL);
    else
        propagate_current(c);
}

static void setnx_command(client *c, const command *cmd)
{
    (void)cmd;
    if (set_generic(c, c->argv[1], c->argv[2], OPT_NX, -1, 1)) propagate_current(c);
}

/* SETEX and PSETEX: key time value. */
static void setex_generic(client *c, const command *cmd, int unit)
{
    long long when = expire_ms(c, cmd, c->argv[2], unit);
    if (when == -1) return;
    set_generic(c, c->argv[1], c->argv[3], unit, when, 0);
    propagate_set(c, c->argv[1], c->argv[3], when, 0);
}

static void setex_command(client *c, const command *cmd)
{
    setex_generic(c, cmd, OPT_EX);
}
static void psetex_command(client *c, const command *cmd)
{
    setex_generic(c, cmd, OPT_PX);
}

static void getset_command(client *c, const command *cmd)
{
    (void)cmd;
    const str key = c->argv[1], val = c->argv[2];
    if (reply_value(c, key) == -1) return;
    store_string(c->db, key, val, str_len(val), -1, 0);
    propagate_set(c, key, val, -1, 0);
}

static void getdel_command(client *c, const command *cmd)
{
    (void)cmd;
    const str key = c->argv[1];
    kv *o = db_lookup_read(c->db, key, str_len(key));
    if (!o) {
        reply_null(c);
        return;
    }
    if (string_check_type(c, o) == -1) return;
    reply_string(c, o);
    db_delete(c->db, key, str_len(key));
    propagate_key(c, "DEL", key, -1);
}

static void getex_command(client *c, const command *cmd)
{
    const str key = c->argv[1];
    str expire;
    int flags = parse_options(c, 2, 0, &expire);
    if (flags == -1) return;
    kv *o = db_lookup_read(c->db, key, str_len(key));
    if (!o) {
        reply_null(c);
        return;
    }
    if (string_check_type(c, o) == -1) return;
    long long when = -1;
    if (expire && (when = expire_ms(c, cmd, expire, flags)) == -1) return;
    reply_string(c, o);
    if ((flags & (OPT_EXAT | OPT_PXAT)) && when <= db_time_ms()) {
        db_delete(c->db, key, str_len(key));
        propagate_key(c, "DEL", key, -1);
    } else if (expire) {
        db_set_expire(c->db, o, when);
        propagate_key(c, "PEXPIREAT", key, when);
    } else if ((flags & OPT_PERSIST) && db_persist(c->db, o)) {
        propagate_key(c, "PERSIST", key, -1);
    }
}

/* ------------------------------------------------------------ multi-key */

static void mget_command(client *c, const command *cmd)
{
    (void)cmd;
    reply_array_len(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        kv *o = db_lookup_read(c->db, c->argv[j], str_len(c->argv[j]));
        if (o && o->type == OBJ_STRING)
            reply_string(c, o);
        else
            reply_null(c);
    }
}

static void mset_generic(client *c, const command *cmd, int nx)
{
    if (c->argc % 2 == 0) {
        reply_error_fmt(c, "ERR wrong number of arguments for '%s' command", cmd->fullname);
        return;
    }
    if (nx || db_expires_count(c->db) > 0) {
        for (int j = 1; j < c->argc; j += 2) {
            if (db_lookup_write(c->db, c->argv[j], str_len(c->argv[j])) && nx) {
                reply_integer(c, 0);
                return;
            }
        }
    }
    for (int j = 1; j < c->argc; j += 2)
        store_string(c->db, c->argv[j], c->argv[j + 1], str_len(c->argv[j + 1]), -1, 0);
    propagate_current_changes(c, (c->argc - 1) / 2);
    if (nx)
        reply_integer(c, 1);
    else
        reply_ok(c);
}

static void mset_command(client *c, const command *cmd)
{
    mset_generic(c, cmd, 0);
}
static void msetnx_command(client *c, const command *cmd)
{
    mset_generic(c, cmd, 1);
}

/* ------------------------------------------------------------ editing */

static void append_command(client *c, const command *cmd)
{
    (void)cmd;
    const str key = c->argv[1], add = c->argv[2];
    size_t addlen = str_len(add), total = addlen;
    kv *o;
    if (lookup_string_write(c, key, &o) == -1) return;
    if (!o) {
        store_string(c->db, key, add, addlen, -1, 0);
    } else {
        size_t len = kv_strlen(o);
        if (string_check_length(c, len, addlen) == -1) return;
        total = len + addlen;
        o = string_unshare(c->db, o, total);
        memcpy(kv_string_mut(o) + len, add, addlen);
    }
    propagate_current(c);
    reply_integer(c, (long long)total);
}

static void strlen_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = db_lookup_read(c->db, c->argv[1], str_len(c->argv[1]));
    if (o && string_check_type(c, o) == -1) return;
    reply_integer(c, o ? (long long)kv_strlen(o) : 0);
}

/* GETRANGE and SUBSTR: inclusive byte offsets, negative from the end. */
static void getrange_command(client *c, const command *cmd)
{
    (void)cmd;
    long long start, end;
    if (parse_ll(c->argv[2], str_len(c->argv[2]), &start) == -1 ||
        parse_ll(c->argv[3], str_len(c->argv[3]), &end) == -1) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    kv *o = db_lookup_read(c->db, c->argv[1], str_len(c->argv[1]));
    if (!o) {
        reply_bulk(c, "", 0);
        return;
    }
    if (string_check_type(c, o) == -1) return;
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *p = kv_string(o, buf, &len);
    long long n = (long long)len;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= n) end = n - 1;
    if (n == 0 || start > end)
        reply_bulk(c, "", 0);
    else
        reply_bulk(c, p + start, (size_t)(end - start + 1));
}

static void setrange_command(client *c, const command *cmd)
{
    (void)cmd;
    const str key = c->argv[1], val = c->argv[3];
    size_t vlen = str_len(val);
    long long offset;
    if (parse_ll(c->argv[2], str_len(c->argv[2]), &offset) == -1) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (offset < 0) {
        reply_error(c, "ERR offset is out of range");
        return;
    }
    kv *o;
    if (lookup_string_write(c, key, &o) == -1) return;
    if (vlen == 0) {
        reply_integer(c, o ? (long long)kv_strlen(o) : 0);
        return;
    }
    if (string_check_length(c, (unsigned long long)offset, vlen) == -1) return;
    size_t end = (size_t)offset + vlen;
    if (!o) {
        o = string_new_raw(key, str_len(key), NULL, end);
        db_set(c->db, o, 0);
    } else {
        o = string_unshare(c->db, o, end);
    }
    memcpy(kv_string_mut(o) + offset, val, vlen);
    propagate_current(c);
    reply_integer(c, (long long)kv_strlen(o));
}

/* ------------------------------------------------------------ counters */

static void incr_by(client *c, long long incr)
{
    const str key = c->argv[1];
    kv *o;
    long long v = 0;
    if (lookup_string_write(c, key, &o) == -1) return;
    if (o && kv_get_ll(o, &v) == -1) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (__builtin_add_overflow(v, incr, &v)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    if (o && o->encoding == OBJ_ENCODING_INT)
        kv_set_int(o, v);
    else
        db_set(c->db, kv_new_int(key, str_len(key), v), 1);
    propagate_current(c);
    reply_integer(c, v);
}

/* The increment argument of INCRBY/DECRBY, or -1 after the error. */
static int parse_incr(client *c, long long *incr)
{
    if (parse_ll(c->argv[2], str_len(c->argv[2]), incr) == 0) return 0;
    reply_error(c, ERR_NOT_INT);
    return -1;
}

static void incr_command(client *c, const command *cmd)
{
    (void)cmd;
    incr_by(c, 1);
}

static void decr_command(client *c, const command *cmd)
{
    (void)cmd;
    incr_by(c, -1);
}

static void incrby_command(client *c, const command *cmd)
{
    (void)cmd;
    long long incr;
    if (parse_incr(c, &incr) == 0) incr_by(c, incr);
}

static void decrby_command(client *c, const command *cmd)
{
    (void)cmd;
    long long incr;
    if (parse_incr(c, &incr) == -1) return;
    if (incr == LLONG_MIN) {
        reply_error(c, "ERR decrement would overflow");
        return;
    }
    incr_by(c, -incr);
}

/* A long double as strtold reads the whole text (NULs included), no leading
 * space, no NaN, no overflow or underflow to zero. 0 or -1. */
static int parse_ld(const char *s, size_t len, long double *out)
{
    char buf[LD_TEXT_MAX];
    if (len == 0 || len >= sizeof(buf)) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0])) return -1;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (end != buf + len || isnan(v) || errno == EINVAL) return -1;
    if (errno == ERANGE && (isinf(v) || v == 0)) return -1;
    *out = v;
    return 0;
}

/* The value of a string kv as a long double. */
static int kv_get_ld(const kv *o, long double *out)
{
    if (o->encoding == OBJ_ENCODING_INT) {
        *out = (long double)kv_int(o);
        return 0;
    }
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *p = kv_string(o, buf, &len);
    return parse_ld(p, len, out);
}

/* Redis's human-friendly long double text: 17 decimals with the trailing
 * zeros (and a bare point) removed, "-0" written "0". */
static size_t format_ld(char *buf, size_t size, long double v)
{
    int n = snprintf(buf, size, "%.17Lf", v);
    if (n < 0 || (size_t)n >= size) return 0;
    size_t len = (size_t)n;
    if (memchr(buf, '.', len)) {
        while (buf[len - 1] == '0')
            len--;
        if (buf[len - 1] == '.') len--;
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    return len;
}

static void incrbyfloat_command(client *c, const command *cmd)
{
    (void)cmd;
    const str key = c->argv[1];
    kv *o;
    long double v = 0, incr;
    if (lookup_string_write(c, key, &o) == -1) return;
    if ((o && kv_get_ld(o, &v) == -1) || parse_ld(c->argv[2], str_len(c->argv[2]), &incr) == -1) {
        reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    v += incr;
    if (isnan(v) || isinf(v)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[LD_TEXT_MAX];
    size_t len = format_ld(buf, sizeof(buf), v);
    db_set(c->db, kv_new_text(key, str_len(key), buf, len, 0), 1);
    reply_bulk(c, buf, len);
    str val = str_new_len(buf, len);
    propagate_set(c, key, val, -1, 1);
    str_free(val);
}

/* ------------------------------------------------------------ LCS */

typedef struct lcs_range {
    uint32_t a_start, a_end, b_start, b_end;
} lcs_range;

typedef struct lcs_opts {
    int len, idx, withmatchlen;
    long long minmatchlen;
} lcs_opts;

static int lcs_parse(client *c, lcs_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int j = 3; j < c->argc; j++) {
        const char *opt = c->argv[j];
        if (!strcasecmp(opt, "idx")) {
            o->idx = 1;
        } else if (!strcasecmp(opt, "len")) {
            o->len = 1;
        } else if (!strcasecmp(opt, "withmatchlen")) {
            o->withmatchlen = 1;
        } else if (!strcasecmp(opt, "minmatchlen") && j + 1 < c->argc) {
            j++;
            if (parse_ll(c->argv[j], str_len(c->argv[j]), &o->minmatchlen) == -1) {
                reply_error(c, ERR_NOT_INT);
                return -1;
            }
            if (o->minmatchlen < 0) o->minmatchlen = 0;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (o->idx && o->len) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return -1;
    }
    return 0;
}

/* The table of LCS lengths of every pair of prefixes: row i, column j
 * holds the LCS length of a[0..i) and b[0..j). */
static uint32_t *lcs_table(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
    size_t w = (size_t)blen + 1;
    uint32_t *t = tmalloc(((size_t)alen + 1) * w * sizeof(uint32_t));
    for (size_t j = 0; j <= blen; j++)
        t[j] = 0;
    for (size_t i = 1; i <= alen; i++) {
        uint32_t *row = t + i * w, *up = row - w;
        row[0] = 0;
        for (size_t j = 1; j <= blen; j++) {
            if (a[i - 1] == b[j - 1])
                row[j] = up[j - 1] + 1;
            else
                row[j] = up[j] > row[j - 1] ? up[j] : row[j - 1];
        }
    }
    return t;
}

typedef struct lcs_walk {
    char *text;        /* the LCS, filled from its end */
    lcs_range *ranges; /* matched ranges, last first */
    size_t nranges, cap;
} lcs_walk;

static void lcs_emit(lcs_walk *w, const lcs_range *r, const lcs_opts *o)
{
    long long len = (long long)r->a_end - r->a_start + 1;
    if (o->minmatchlen && len < o->minmatchlen) return;
    if (w->nranges == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->ranges = trealloc(w->ranges, w->cap * sizeof(lcs_range));
    }
    w->ranges[w->nranges++] = *r;
}

/* Walks the table back from the end, collecting the LCS text and the runs
 * of consecutive matches, as Redis reports them (last range first). */
static void lcs_backtrack(const uint32_t *t, const char *a, uint32_t alen, const char *b,
                          uint32_t blen, const lcs_opts *o, lcs_walk *w)
{
    size_t width = (size_t)blen + 1;
    uint32_t i = alen, j = blen, k = t[(size_t)alen * width + blen];
    lcs_range cur;
    int open = 0;
    while (i > 0 && j > 0) {
        if (a[i - 1] == b[j - 1]) {
            w->text[--k] = a[i - 1];
            if (open && cur.a_start == i && cur.b_start == j) {
                cur.a_start--;
                cur.b_start--;
            } else {
                cur = (lcs_range){i - 1, i - 1, j - 1, j - 1};
                open = 1;
            }
            i--;
            j--;
            continue;
        }
        if (t[(size_t)(i - 1) * width + j] > t[(size_t)i * width + j - 1])
            i--;
        else
            j--;
        if (open) lcs_emit(w, &cur, o);
        open = 0;
    }
    if (open) lcs_emit(w, &cur, o);
}

static void lcs_reply_idx(client *c, const lcs_walk *w, const lcs_opts *o, uint32_t len)
{
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "matches");
    reply_array_len(c, (long long)w->nranges);
    for (size_t n = 0; n < w->nranges; n++) {
        const lcs_range *r = &w->ranges[n];
        reply_array_len(c, 2 + o->withmatchlen);
        reply_array_len(c, 2);
        reply_integer(c, r->a_start);
        reply_integer(c, r->a_end);
        reply_array_len(c, 2);
        reply_integer(c, r->b_start);
        reply_integer(c, r->b_end);
        if (o->withmatchlen) reply_integer(c, (long long)r->a_end - r->a_start + 1);
    }
    reply_bulk_cstr(c, "len");
    reply_integer(c, len);
}

static void lcs_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *oa = db_lookup_read(c->db, c->argv[1], str_len(c->argv[1]));
    kv *ob = db_lookup_read(c->db, c->argv[2], str_len(c->argv[2]));
    if ((oa && oa->type != OBJ_STRING) || (ob && ob->type != OBJ_STRING)) {
        reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    lcs_opts o;
    if (lcs_parse(c, &o) == -1) return;
    char bufa[OBJ_LL_TEXT], bufb[OBJ_LL_TEXT];
    size_t alen = 0, blen = 0;
    const char *a = oa ? kv_string(oa, bufa, &alen) : "";
    const char *b = ob ? kv_string(ob, bufb, &blen) : "";
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        reply_error(c, "ERR String too long for LCS");
        return;
    }
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells > (unsigned long long)cmd_proto_max_bulk_len() / sizeof(uint32_t)) {
        reply_error(c,
                    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *t = lcs_table(a, (uint32_t)alen, b, (uint32_t)blen);
    uint32_t len = t[cells - 1];
    if (o.len) {
        reply_integer(c, len);
        tfree(t);
        return;
    }
    lcs_walk w = {tmalloc(len + 1), NULL, 0, 0};
    lcs_backtrack(t, a, (uint32_t)alen, b, (uint32_t)blen, &o, &w);
    if (o.idx)
        lcs_reply_idx(c, &w, &o, len);
    else
        reply_bulk(c, w.text, len);
    tfree(w.text);
    tfree(w.ranges);
    tfree(t);
}

/* ------------------------------------------------------------ table */

/* name, proc, arity, flags, key positions (first, last, step), summary,
 * since: as Redis 7.0's COMMAND INFO and COMMAND DOCS give them. */
#define STRING_CMD(n, p, a, f, fk, lk, ks, s, v)                                                   \
    {                                                                                              \
        .name = n, .proc = p, .arity = a, .flags = f, .first_key = fk, .last_key = lk,             \
        .key_step = ks, .group = "string", .summary = s, .since = v                                \
    }
#define W_ADD (CMD_WRITE | CMD_DENYOOM)

static command string_commands[] = {
    STRING_CMD("get", get_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "Get the value of a key",
               "1.0.0"),
    STRING_CMD("set", set_command, -3, W_ADD, 1, 1, 1, "Set the string value of a key", "1.0.0"),
    STRING_CMD("setnx", setnx_command, 3, W_ADD | CMD_FAST, 1, 1, 1,
               "Set the value of a key, only if the key does not exist", "1.0.0"),
    STRING_CMD("setex", setex_command, 4, W_ADD, 1, 1, 1, "Set the value and expiration of a key",
               "2.0.0"),
    STRING_CMD("psetex", psetex_command, 4, W_ADD, 1, 1, 1,
               "Set the value and expiration in milliseconds of a key", "2.6.0"),
    STRING_CMD("getset", getset_command, 3, W_ADD | CMD_FAST, 1, 1, 1,
               "Set the string value of a key and return its old value", "1.0.0"),
    STRING_CMD("getdel", getdel_command, 2, CMD_WRITE | CMD_FAST, 1, 1, 1,
               "Get the value of a key and delete the key", "6.2.0"),
    STRING_CMD("getex", getex_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1,
               "Get the value of a key and optionally set its expiration", "6.2.0"),
    STRING_CMD("mget", mget_command, -2, CMD_READONLY | CMD_FAST, 1, -1, 1,
               "Get the values of all the given keys", "1.0.0"),
    STRING_CMD("mset", mset_command, -3, W_ADD, 1, -1, 2, "Set multiple keys to multiple values",
               "1.0.1"),
    STRING_CMD("msetnx", msetnx_command, -3, W_ADD, 1, -1, 2,
               "Set multiple keys to multiple values, only if none of the keys exist", "1.0.1"),
    STRING_CMD("append", append_command, 3, W_ADD | CMD_FAST, 1, 1, 1, "Append a value to a key",
               "2.0.0"),
    STRING_CMD("strlen", strlen_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
               "Get the length of the value stored in a key", "2.2.0"),
    STRING_CMD("incr", incr_command, 2, W_ADD | CMD_FAST, 1, 1, 1,
               "Increment the integer value of a key by one", "1.0.0"),
    STRING_CMD("decr", decr_command, 2, W_ADD | CMD_FAST, 1, 1, 1,
               "Decrement the integer value of a key by one", "1.0.0"),
    STRING_CMD("incrby", incrby_command, 3, W_ADD | CMD_FAST, 1, 1, 1,
               "Increment the integer value of a key by the given amount", "1.0.0"),
    STRING_CMD("decrby", decrby_command, 3, W_ADD | CMD_FAST, 1, 1, 1,
               "Decrement the integer value of a key by the given number", "1.0.0"),
    STRING_CMD("incrbyfloat", incrbyfloat_command, 3, W_ADD | CMD_FAST, 1, 1, 1,
               "Increment the float value of a key by the given amount", "2.6.0"),
    STRING_CMD("getrange", getrange_command, 4, CMD_READONLY, 1, 1, 1,
               "Get a substring of the string stored at a key", "2.4.0"),
    STRING_CMD("substr", getrange_command, 4, CMD_READONLY, 1, 1, 1,
               "Get a substring of the string stored at a key", "1.0.0"),
    STRING_CMD("setrange", setrange_command, 4, W_ADD, 1, 1, 1,
               "Overwrite part of a string at key starting at the specified offset", "2.2.0"),
    STRING_CMD("lcs", lcs_command, -3, CMD_READONLY, 1, 2, 1, "Find longest common substring",
               "7.0.0"),
    {0},
};

void string_commands_register(void)
{
    command_register_all(string_commands);
    bitops_commands_register();
}
