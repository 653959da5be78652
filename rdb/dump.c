/* dump.c: DUMP and RESTORE, with Redis 7.0's payload (dump.h), options,
 * checks, replies and propagated forms. DUMP serializes a value as an RDB
 * file holds it (type byte, value) through rdb/codec over a memory stream;
 * RESTORE checks the footer (version, CRC-64) before decoding anything, and
 * decodes over the whole payload as Redis does. A relative TTL goes out as
 * an absolute one with ABSTTL, so a replica computes nothing; a TTL already
 * past stores nothing on a primary (and, with REPLACE, deletes the old key,
 * which goes out as DEL). */
#include "rdb/dump.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/call.h"
#include "core/command.h"
#include "core/db.h"
#include "core/util.h"
#include "net/output.h"
#include "rdb/bgsave.h"
#include "rdb/codec.h"
#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/stream.h"

#define DUMP_FOOTER_LEN (2 + RDB_CHECKSUM_LEN)
/* The access clock's range (object.h: 24 bits of seconds). */
#define DUMP_LRU_CLOCK_MAX ((1u << 24) - 1)

/* ------------------------------------------------------------ payload */

static void dump_put_le(unsigned char *out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t dump_get_le(const unsigned char *in, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | in[i];
    return v;
}

/* The DUMP payload of o (caller frees). */
str dump_payload(const kv *o, int compress)
{
    rdb_stream s;
    rdb_stream_mem_writer(&s);
    rdb_write_value_type(&s, o);
    rdb_write_value(&s, o, compress);
    /* A memory writer cannot fail: only allocation could, and that panics. */
    str p = rdb_stream_mem_take(&s);
    rdb_stream_close(&s);

    unsigned char footer[DUMP_FOOTER_LEN];
    dump_put_le(footer, RDB_VERSION, 2);
    p = str_cat_len(p, footer, 2);
    dump_put_le(footer + 2, crc64(0, p, str_len(p)), RDB_CHECKSUM_LEN);
    return str_cat_len(p, footer + 2, RDB_CHECKSUM_LEN);
}

/* Whether a payload's footer holds a version we read and a matching CRC:
 * Redis reads payloads of its own RDB version or older, and always checks
 * the CRC (a zero one too). */
int dump_payload_verify(const char *p, size_t len)
{
    if (len < DUMP_FOOTER_LEN) return 0;
    const unsigned char *footer = (const unsigned char *)p + len - DUMP_FOOTER_LEN;
    if (dump_get_le(footer, 2) > RDB_VERSION) return 0;
    return crc64(0, p, len - RDB_CHECKSUM_LEN) == dump_get_le(footer + 2, RDB_CHECKSUM_LEN);
}

/* The value of a verified payload as a kv under key, or NULL. Like Redis,
 * it reads over the whole payload: bytes past the value are ignored. */
kv *dump_payload_decode(const char *p, size_t len, const str key)
{
    rdb_stream s;
    unsigned char type;
    kv *o = NULL;
    rdb_stream_mem_reader(&s, p, len);
    if (rdb_read_byte(&s, &type) == 0) o = rdb_read_value(&s, type, key, str_len(key));
    rdb_stream_close(&s);
    return o;
}

/* ------------------------------------------------------------ DUMP */

static void dump_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = db_lookup_read(c->db, c->argv[1], str_len(c->argv[1]));
    if (!o) {
        reply_null(c);
        return;
    }
    str p = dump_payload(o, bgsave_compression());
    reply_bulk_str(c, p);
    str_free(p);
}

/* ------------------------------------------------------------ RESTORE */

typedef struct restore_opts {
    int replace, absttl;
    long long idle; /* seconds, or -1 */
    long long freq; /* 0..255, or -1 */
} restore_opts;

/* A non-negative integer option value at most max: 0, or -1 after replying
 * with errmsg (or Redis's integer error). */
static int restore_opt_value(client *c, const str arg, long long max, const char *errmsg,
                             long long *out)
{
    if (parse_ll(arg, str_len(arg), out) == -1) {
        reply_error(c, "ERR value is not an integer or out of range");
        return -1;
    }
    if (*out < 0 || *out > max) {
        reply_error(c, errmsg);
        return -1;
    }
    return 0;
}

/* The options after the payload: 0, or -1 after replying. IDLETIME and
 * FREQ exclude each other (a syntax error, as in Redis). */
static int restore_parse(client *c, restore_opts *o)
{
    *o = (restore_opts){0, 0, -1, -1};
    for (int j = 4; j < c->argc; j++) {
        const char *a = c->argv[j];
        int more = c->argc - j - 1;
        if (!strcasecmp(a, "replace")) {
            o->replace = 1;
        } else if (!strcasecmp(a, "absttl")) {
            o->absttl = 1;
        } else if (!strcasecmp(a, "idletime") && more >= 1 && o->freq == -1) {
            if (restore_opt_value(c, c->argv[++j], LLONG_MAX,
                                  "ERR Invalid IDLETIME value, must be >= 0", &o->idle) == -1)
                return -1;
        } else if (!strcasecmp(a, "freq") && more >= 1 && o->idle == -1) {
            if (restore_opt_value(c, c->argv[++j], 255,
                                  "ERR Invalid FREQ value, must be >= 0 and <= 255",
                                  &o->freq) == -1)
                return -1;
        } else {
            reply_error(c, "ERR syntax error");
            return -1;
        }
    }
    return 0;
}

/* Sets the access clock as if the key were last used idle seconds ago,
 * with Redis's arithmetic: the seconds scaled by 1000/1000 (which wraps for
 * huge values), a negative time moved up by the clock's range once, and
 * the result cut to the clock's 24 bits. FREQ has no effect: no LFU policy
 * exists here, and Redis ignores it too under an LRU one. */
static void restore_set_idle(kv *o, long long idle)
{
    if (idle < 0) return;
    idle = (long long)((unsigned long long)idle * 1000) / 1000;
    long long abs = (long long)kv_lru_clock(db_time_ms()) - idle;
    if (abs < 0) abs += DUMP_LRU_CLOCK_MAX;
    o->lru = (unsigned)((unsigned long long)abs & DUMP_LRU_CLOCK_MAX);
}

/* The command as it goes out: a relative TTL becomes absolute + ABSTTL. */
static void restore_propagate(client *c, long long when, int absttl)
{
    if (!when || absttl) {
        propagate_current(c);
        return;
    }
    str *argv = tmalloc(sizeof(str) * (size_t)(c->argc + 1));
    memcpy(argv, c->argv, sizeof(str) * (size_t)c->argc);
    argv[2] = str_from_ll(when);
    argv[c->argc] = str_new("ABSTTL");
    propagate(c->db, c->argc + 1, argv);
    str_free(argv[2]);
    str_free(argv[c->argc]);
    tfree(argv);
}

/* The TTL argument: 0, or -1 after replying. */
static int restore_ttl(client *c, long long *ttl)
{
    if (parse_ll(c->argv[2], str_len(c->argv[2]), ttl) == -1) {
        reply_error(c, "ERR value is not an integer or out of range");
        return -1;
    }
    if (*ttl < 0) {
        reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return -1;
    }
    return 0;
}

/* A relative TTL as an absolute time. Redis adds without an overflow
 * check; wrapping keeps its result (a huge TTL lands in the past) without
 * undefined behaviour. */
static long long restore_abs_time(long long ttl)
{
    return (long long)((unsigned long long)ttl + (unsigned long long)db_time_ms());
}

/* A TTL already past on a primary: nothing is stored, and the old key that
 * REPLACE deleted goes out as DEL. */
static void restore_drop(client *c, kv *o, int deleted)
{
    if (deleted) {
        str argv[2] = {str_new("DEL"), c->argv[1]};
        propagate(c->db, 2, argv);
        str_free(argv[0]);
    }
    kv_free(o);
    reply_ok(c);
}

static void restore_command(client *c, const command *cmd)
{
    (void)cmd;
    restore_opts opt;
    long long when;
    const str key = c->argv[1], payload = c->argv[3];
    if (restore_parse(c, &opt) == -1) return;
    if (!opt.replace && db_lookup_write(c->db, key, str_len(key))) {
        reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    if (restore_ttl(c, &when) == -1) return;
    if (!dump_payload_verify(payload, str_len(payload))) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    kv *o = dump_payload_decode(payload, str_len(payload), key);
    if (!o) {
        reply_error(c, "ERR Bad data format");
        return;
    }
    int deleted = opt.replace && db_delete(c->db, key, str_len(key));
    if (when && !opt.absttl) when = restore_abs_time(when);
    if (when && when <= db_time_ms() && db_get_expire_mode() == DB_EXPIRE_DELETE) {
        restore_drop(c, o, deleted);
        return;
    }
    db_add(c->db, o);
    if (when) db_set_expire(c->db, o, when);
    restore_set_idle(o, opt.idle);
    restore_propagate(c, when, opt.absttl);
    reply_ok(c);
}

/* ------------------------------------------------------------ table */

static command dump_commands[] = {
    {.name = "dump", .proc = dump_command, .arity = 2, .flags = CMD_READONLY, .first_key = 1,
     .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Return a serialized version of the value stored at the specified key.",
     .since = "2.6.0"},
    {.name = "restore", .proc = restore_command, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Create a key using the provided serialized value, previously obtained using DUMP.",
     .since = "2.6.0"},
    {0},
};

void dump_commands_register(void) { command_register_all(dump_commands); }
