/* load.c: reading a whole RDB file (versions 1 to 11) into the keyspace
 * (see load.h). The header, then item after item: an opcode (aux field,
 * database selection and sizes, expiry, LRU/LFU hints, EOF) or a key/value
 * pair of the type the byte names. Anything the keyspace cannot hold
 * (module data, functions, types other than string) stops the load with a
 * message naming it, as does every malformation, always with the byte
 * offset. Like Redis's loader it logs what the aux fields tell (the
 * producing version, the file's age and memory), skips keys already
 * expired when asked (a primary), refuses duplicate keys, checks the
 * CRC-64 after EOF and ignores whatever follows it. */
#include "rdb/load.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "core/object.h"
#include "core/util.h"
#include "rdb/codec.h"
#include "rdb/format.h"

/* The progress callback runs about every this many bytes. */
#define LOAD_PROGRESS_BYTES (2 * 1024 * 1024)
/* Longest key a kv holds (31-bit length). */
#define LOAD_MAX_KEYLEN 0x7fffffffULL
/* Bytes of a key quoted in an error message. */
#define LOAD_QUOTED_KEY 40
/* Largest RESIZEDB hint followed up front when the stream's size is
 * unknown; past it the tables grow toward the hint LOAD_HINT_GROWTH times
 * the keys that really arrived at a time. */
#define LOAD_UNSIZED_HINT_MAX (1ULL << 16)
#define LOAD_HINT_GROWTH 16

typedef unsigned long long ull;

typedef struct load_ctx {
    rdb_stream *s;
    const rdb_load_opts *opts;
    rdb_load_info *info;
    long long now_ms;
    unsigned lru_clock;
    uint64_t db;
    long long expire; /* of the next key, -1 none */
    long long idle_s; /* LRU idle seconds of the next key, -1 none */
    uint64_t next_progress;
    str key, val; /* reused from pair to pair: no allocation per key */
    /* The current database's RESIZEDB hint, and the keys its tables were
     * sized for so far (0, 0 when it gave none). */
    uint64_t hint_keys, hint_expires, sized_for;
} load_ctx;

/* ------------------------------------------------------------ header */

static int load_header(load_ctx *c)
{
    rdb_stream *s = c->s;
    char buf[RDB_HEADER_LEN + 1];
    if (rdb_stream_remaining(s) == 0) {
        rdb_stream_fail(s, "Short read or empty file: unexpected EOF reading RDB file at offset 0");
        return -1;
    }
    if (rdb_stream_read(s, buf, RDB_HEADER_LEN) < 0) return -1;
    buf[RDB_HEADER_LEN] = '\0';
    if (memcmp(buf, RDB_MAGIC, RDB_MAGIC_LEN) != 0) {
        rdb_stream_fail(s, "Wrong signature trying to load DB from file at offset 0");
        return -1;
    }
    int version = atoi(buf + RDB_MAGIC_LEN);
    if (version < RDB_VERSION_MIN || version > RDB_VERSION_MAX) {
        rdb_stream_fail(s, "Can't handle RDB format version %d at offset %d", version,
                        RDB_MAGIC_LEN);
        return -1;
    }
    c->info->version = version;
    return 0;
}

/* ------------------------------------------------------------ aux */

static long long load_ll(const str v)
{
    return strtoll(v, NULL, 10);
}

/* Records and logs what Redis's loader records and logs; others are
 * ignored ("lua", "redis-bits", and whatever a later version adds). */
static void load_apply_aux(load_ctx *c, const str key, const str val)
{
    rdb_load_info *info = c->info;
    if (!strcmp(key, "redis-ver")) {
        snprintf(info->redis_ver, sizeof(info->redis_ver), "%s", val);
        log_msg(LOG_NOTICE, "Loading RDB produced by version %s", val);
    } else if (!strcmp(key, "ctime")) {
        info->ctime = load_ll(val);
        long long age = c->now_ms / 1000 - info->ctime;
        log_msg(LOG_NOTICE, "RDB age %lld seconds", age < 0 ? 0 : age);
    } else if (!strcmp(key, "used-mem")) {
        log_msg(LOG_NOTICE, "RDB memory usage when created %.2f Mb",
                (double)load_ll(val) / (1024 * 1024));
    } else if (!strcmp(key, "repl-stream-db")) {
        info->aux.repl_stream_db = (int)load_ll(val);
    } else if (!strcmp(key, "repl-id")) {
        if (str_len(val) == sizeof(info->aux.repl_id) - 1)
            memcpy(info->aux.repl_id, val, sizeof(info->aux.repl_id));
    } else if (!strcmp(key, "repl-offset")) {
        info->aux.repl_offset = load_ll(val);
    } else if (!strcmp(key, "aof-base")) {
        info->aux.aof_base = (int)load_ll(val);
    } else {
        log_msg(LOG_DEBUG, "Unrecognized RDB AUX field: '%s'", key);
    }
}

static int load_aux(load_ctx *c)
{
    str key = rdb_read_string(c->s);
    str val = key ? rdb_read_string(c->s) : NULL;
    if (val) load_apply_aux(c, key, val);
    if (val && c->opts->on_aux) c->opts->on_aux(key, val, c->opts->priv);
    str_free(key);
    str_free(val);
    return val ? 0 : -1;
}

/* ------------------------------------------------------------ opcodes */

static int load_len(load_ctx *c, uint64_t *len, const char *what)
{
    uint64_t at = c->s->offset;
    int encoded;
    if (rdb_read_len(c->s, len, &encoded) < 0) return -1;
    if (!encoded) return 0;
    rdb_stream_fail(c->s, "Invalid %s length at offset %llu", what, (ull)at);
    return -1;
}

static int load_selectdb(load_ctx *c, uint64_t at)
{
    uint64_t id;
    if (load_len(c, &id, "SELECTDB") < 0) return -1;
    int count = db_count();
    if (id >= (uint64_t)count && (c->opts->store || count > 0)) {
        rdb_stream_fail(c->s, "DB index %llu out of range (databases %d) at offset %llu", (ull)id,
                        count, (ull)at);
        return -1;
    }
    c->db = id;
    c->hint_keys = c->hint_expires = c->sized_for = 0;
    return 0;
}

static void load_size_tables(load_ctx *c, uint64_t keys)
{
    c->sized_for = keys;
    uint64_t expires = c->hint_expires < keys ? c->hint_expires : keys;
    db_expand((int)c->db, (unsigned long)keys, (unsigned long)expires);
}

static int load_resizedb(load_ctx *c)
{
    uint64_t size, expires;
    if (load_len(c, &size, "RESIZEDB") < 0) return -1;
    if (load_len(c, &expires, "RESIZEDB") < 0) return -1;
    /* Size the tables once rather than rehash all the way up. The counts
     * are hints: a key record takes at least 3 bytes, so more keys than
     * that allows is not trusted. When the stream's size is unknown (a
     * pipe, a primary's connection), a few bytes must not buy a large
     * table: the hint is trusted up to LOAD_UNSIZED_HINT_MAX keys at first,
     * and further as keys really arrive (load_grow_toward_hint). */
    uint64_t left = rdb_stream_remaining(c->s);
    int unsized = left == UINT64_MAX;
    uint64_t cap = unsized ? LOAD_UNSIZED_HINT_MAX : left / 3;
    if (!c->opts->store || expires > size || (!unsized && size > cap)) return 0;
    c->hint_keys = size;
    c->hint_expires = expires;
    load_size_tables(c, size < cap ? size : cap);
    return 0;
}

/* The tables of a database whose hint was only partly trusted are full:
 * they grow toward the hint, to at most LOAD_HINT_GROWTH times the keys
 * there are (rehashing a sixteenth of the keys, not all of them at every doubling). */
static void load_grow_toward_hint(load_ctx *c, int db)
{
    if (c->hint_keys <= c->sized_for) return;
    uint64_t have = db_size(db);
    if (have < c->sized_for) return;
    uint64_t next = have * LOAD_HINT_GROWTH;
    load_size_tables(c, next < c->hint_keys ? next : c->hint_keys);
}

static int load_idle(load_ctx *c)
{
    uint64_t idle;
    if (load_len(c, &idle, "IDLE") < 0) return -1;
    c->idle_s = idle > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)idle;
    return 0;
}

static int load_refuse(load_ctx *c, int opcode, uint64_t at)
{
    const char *what = opcode == RDB_OPCODE_MODULE_AUX ? "Module auxiliary data" : "Functions";
    rdb_stream_fail(c->s, "%s (opcode 0x%02X) at offset %llu not supported: this tandem has no %s",
                    what, opcode, (ull)at,
                    opcode == RDB_OPCODE_MODULE_AUX ? "modules" : "functions");
    return -1;
}

/* ------------------------------------------------------------ keys */

/* key as printable text for a message, cut at LOAD_QUOTED_KEY bytes. */
static void load_quote(char *out, size_t size, const char *key, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < size && i < LOAD_QUOTED_KEY; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
    }
    out[o] = '\0';
}

static int load_store(load_ctx *c, kv *o, uint64_t at)
{
    if (c->db >= (uint64_t)db_count()) {
        rdb_stream_fail(c->s, "DB index %llu out of range (databases %d) at offset %llu",
                        (ull)c->db, db_count(), (ull)at);
        kv_free(o);
        return -1;
    }
    int db = (int)c->db;
    if (db_try_add(db, o) != 0) {
        char quoted[4 * LOAD_QUOTED_KEY + 1];
        load_quote(quoted, sizeof(quoted), kv_key(o), kv_keylen(o));
        rdb_stream_fail(c->s, "RDB has duplicated key '%s' in DB %d at offset %llu", quoted, db,
                        (ull)at);
        kv_free(o);
        return -1;
    }
    load_grow_toward_hint(c, db);
    if (c->expire != -1) db_set_expire(db, o, c->expire);
    if (c->idle_s >= 0) {
        /* The access clock counts seconds mod 2^24, as Redis's LRU clock. */
        long long idle = c->idle_s % (1LL << 24);
        o->lru = (unsigned)(((long long)c->lru_clock - idle + (1LL << 24)) % (1LL << 24));
    }
    return 0;
}

/* A key/value pair whose type byte was at offset at. Key and value are read
 * into the context's buffers; a kv is made only to be stored. */
static int load_pair(load_ctx *c, int type, uint64_t at)
{
    rdb_stream *s = c->s;
    if (type != RDB_TYPE_STRING) return rdb_read_value_into(s, type, &c->val); /* refused */
    uint64_t key_at = s->offset;
    if (rdb_read_string_into(s, &c->key) < 0) return -1;
    if (str_len(c->key) > LOAD_MAX_KEYLEN) {
        rdb_stream_fail(s, "Key of %zu bytes at offset %llu is too long", str_len(c->key),
                        (ull)key_at);
        return -1;
    }
    if (rdb_read_value_into(s, type, &c->val) < 0) return -1;
    if (c->opts->on_key) {
        rdb_load_key k = {c->db, type, c->key, str_len(c->key), c->expire, at, s->offset - at};
        c->opts->on_key(&k, c->opts->priv);
    }
    int rc = 0;
    if (c->opts->skip_expired && c->expire != -1 && c->expire < c->now_ms) {
        c->info->keys_expired++;
    } else if (c->opts->store) {
        rc = load_store(c, kv_new_string(c->key, str_len(c->key), c->val, str_len(c->val)), at);
        if (rc == 0) c->info->keys_loaded++;
    } else {
        c->info->keys_loaded++;
    }
    c->expire = -1;
    c->idle_s = -1;
    return rc;
}

/* ------------------------------------------------------------ end */

static int load_checksum(load_ctx *c)
{
    rdb_stream *s = c->s;
    if (c->info->version < RDB_VERSION_CHECKSUM) return 0;
    uint64_t expected = s->crc, at = s->offset;
    unsigned char buf[RDB_CHECKSUM_LEN];
    if (rdb_stream_read(s, buf, sizeof(buf)) < 0) return -1;
    if (!c->opts->verify_checksum) return 0;
    uint64_t stored = 0;
    for (int i = RDB_CHECKSUM_LEN - 1; i >= 0; i--)
        stored = stored << 8 | buf[i];
    if (stored == 0) {
        log_msg(LOG_NOTICE, "RDB file was saved with checksum disabled: no check performed.");
    } else if (stored != expected) {
        rdb_stream_fail(s, "Wrong RDB checksum expected: (%llx) but got (%llx) at offset %llu",
                        (ull)expected, (ull)stored, (ull)at);
        return -1;
    }
    return 0;
}

static void load_progress(load_ctx *c)
{
    rdb_stream *s = c->s;
    if (!c->opts->progress || s->offset < c->next_progress) return;
    c->next_progress = s->offset + LOAD_PROGRESS_BYTES;
    c->opts->progress(s->offset, s->limit == UINT64_MAX ? 0 : s->limit, c->opts->priv);
}

/* One item: 1 after EOF (and the checksum), 0 to go on, -1 on error. */
static int load_item(load_ctx *c)
{
    rdb_stream *s = c->s;
    uint64_t at = s->offset;
    unsigned char type;
    if (rdb_read_byte(s, &type) < 0) return -1;
    switch (type) {
    case RDB_OPCODE_EOF:
        return load_checksum(c) < 0 ? -1 : 1;
    case RDB_OPCODE_AUX:
        return load_aux(c);
    case RDB_OPCODE_SELECTDB:
        return load_selectdb(c, at);
    case RDB_OPCODE_RESIZEDB:
        return load_resizedb(c);
    case RDB_OPCODE_EXPIRETIME_MS:
        return rdb_read_millis(s, &c->expire);
    case RDB_OPCODE_EXPIRETIME:
        return rdb_read_seconds(s, &c->expire);
    case RDB_OPCODE_FREQ: {
        unsigned char freq; /* the LFU counter: no LFU policy here */
        return rdb_read_byte(s, &freq);
    }
    case RDB_OPCODE_IDLE:
        return load_idle(c);
    case RDB_OPCODE_MODULE_AUX:
    case RDB_OPCODE_FUNCTION:
    case RDB_OPCODE_FUNCTION2:
        return load_refuse(c, type, at);
    }
    if (type >= 0xC0) {
        rdb_stream_fail(s, "Unknown RDB opcode 0x%02X at offset %llu", type, (ull)at);
        return -1;
    }
    return load_pair(c, type, at);
}

int rdb_load_stream(rdb_stream *s, const rdb_load_opts *opts, rdb_load_info *info, str *err)
{
    memset(info, 0, sizeof(*info));
    info->aux.repl_offset = -1;
    info->aux.repl_stream_db = -1;
    *err = NULL;
    load_ctx c = {.s = s, .opts = opts, .info = info, .expire = -1, .idle_s = -1,
                  .key = str_empty(), .val = str_empty()};
    c.now_ms = db_time_ms();
    c.lru_clock = kv_lru_clock(c.now_ms);
    c.next_progress = LOAD_PROGRESS_BYTES;
    if (opts->verify_checksum) rdb_stream_crc_start(s);

    int rc = load_header(&c);
    while (rc == 0) {
        rc = load_item(&c);
        load_progress(&c);
    }
    str_free(c.key);
    str_free(c.val);
    if (rc < 0) {
        if (!s->error) rdb_stream_fail(s, "RDB load error at offset %llu", (ull)s->offset);
        *err = str_new(s->errmsg);
        return -1;
    }
    return 0;
}

int rdb_load_file(const char *path, const rdb_load_opts *opts, rdb_load_info *info, str *err)
{
    rdb_stream s;
    *err = NULL;
    if (rdb_stream_file_reader(&s, path) < 0) {
        if (errno == ENOENT) return 1;
        *err = str_cat_fmt(str_empty(), "Can't open the RDB file %s for reading: %s", path,
                           strerror(errno));
        return -1;
    }
    int rc = rdb_load_stream(&s, opts, info, err);
    rdb_stream_close(&s);
    return rc;
}
