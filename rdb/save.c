/* save.c: a whole RDB file from the keyspace (see save.h), laid out as
 * Redis 7.0 lays it out: "REDIS0010", the aux fields in Redis's order, then
 * for each non-empty database SELECTDB, RESIZEDB and its keys (each with
 * EXPIRETIME_MS first when it has an expiry), EOF and the CRC-64 of all
 * that. rdb_save_file writes temp-<pid>.rdb next to the target and renames
 * it over the target only once it is whole and on disk, so a failed save
 * never leaves a damaged file in its place; its errors are Redis's texts. */
#include "rdb/save.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/object.h"
#include "core/util.h"
#include "core/version.h"
#include "rdb/codec.h"
#include "rdb/format.h"

/* The progress callback runs every this many keys. */
#define SAVE_PROGRESS_KEYS 1024

typedef struct save_ctx {
    rdb_stream *s;
    const rdb_save_opts *opts;
    int db;
    long long keys;
} save_ctx;

/* ------------------------------------------------------------ stream */

static int save_aux(rdb_stream *s, const char *key, const char *val, size_t vlen, int compress)
{
    if (rdb_write_byte(s, RDB_OPCODE_AUX) < 0) return -1;
    if (rdb_write_string(s, key, strlen(key), compress) < 0) return -1;
    return rdb_write_string(s, val, vlen, compress);
}

static int save_aux_ll(rdb_stream *s, const char *key, long long v, int compress)
{
    char text[OBJ_LL_TEXT];
    return save_aux(s, key, text, ll_to_text(text, v), compress);
}

/* Redis 7.0's fields, in its order; the replication ones only when known. */
static int save_aux_fields(rdb_stream *s, const rdb_aux *aux, int compress)
{
    const char *ver = TANDEM_REDIS_VERSION;
    save_aux(s, "redis-ver", ver, strlen(ver), compress);
    save_aux_ll(s, "redis-bits", sizeof(void *) == 8 ? 64 : 32, compress);
    save_aux_ll(s, "ctime", (long long)time(NULL), compress);
    save_aux_ll(s, "used-mem", (long long)alloc_used_memory(), compress);
    if (aux->repl_id[0]) {
        save_aux_ll(s, "repl-stream-db", aux->repl_stream_db, compress);
        save_aux(s, "repl-id", aux->repl_id, strlen(aux->repl_id), compress);
        save_aux_ll(s, "repl-offset", aux->repl_offset, compress);
    }
    return save_aux_ll(s, "aof-base", aux->aof_base, compress);
}

/* rdb-key-save-delay: a negative value sleeps 1 us once in -delay keys on
 * average (shorter sleeps than the system offers), as Redis does. */
static void save_delay(long long us)
{
    if (us < 0) us = random() % -us == 0 ? 1 : 0;
    if (us > 0) usleep((useconds_t)us);
}

static void save_key(void *priv, kv *o)
{
    save_ctx *c = priv;
    rdb_stream *s = c->s;
    if (s->error) return;
    long long when = o->has_expire ? db_get_expire(c->db, o) : -1;
    if (when != -1) {
        rdb_write_byte(s, RDB_OPCODE_EXPIRETIME_MS);
        rdb_write_millis(s, when);
    }
    rdb_write_value_type(s, o);
    rdb_write_string(s, kv_key(o), kv_keylen(o), c->opts->compress);
    rdb_write_value(s, o, c->opts->compress);
    c->keys++;
    if (c->opts->progress && c->keys % SAVE_PROGRESS_KEYS == 0)
        c->opts->progress(c->keys, c->opts->priv);
    if (c->opts->key_delay_us && !s->error) save_delay(c->opts->key_delay_us);
}

static void save_db(save_ctx *c, int db)
{
    rdb_stream *s = c->s;
    rdb_write_byte(s, RDB_OPCODE_SELECTDB);
    rdb_write_len(s, (uint64_t)db);
    rdb_write_byte(s, RDB_OPCODE_RESIZEDB);
    rdb_write_len(s, (uint64_t)db_size(db));
    rdb_write_len(s, (uint64_t)db_expires_count(db));
    c->db = db;
    db_foreach(db, save_key, c);
}

int rdb_save_stream(rdb_stream *s, const rdb_aux *aux, const rdb_save_opts *opts)
{
    if (opts->checksum) rdb_stream_crc_start(s);
    char header[RDB_HEADER_LEN + 1];
    snprintf(header, sizeof(header), "%s%04d", RDB_MAGIC, RDB_VERSION);
    rdb_stream_write(s, header, RDB_HEADER_LEN);
    save_aux_fields(s, aux, opts->compress);

    save_ctx c = {s, opts, 0, 0};
    for (int db = 0; db < db_count() && !s->error; db++)
        if (db_size(db) > 0) save_db(&c, db);

    rdb_write_byte(s, RDB_OPCODE_EOF);
    uint64_t crc = opts->checksum ? s->crc : 0;
    unsigned char le[RDB_CHECKSUM_LEN];
    for (int i = 0; i < RDB_CHECKSUM_LEN; i++)
        le[i] = (unsigned char)(crc >> (8 * i));
    rdb_stream_write(s, le, sizeof(le));
    return s->error ? -1 : 0;
}

/* ------------------------------------------------------------ file */

/* The directory part of path ("." when it has none). */
static str save_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return str_new(".");
    if (slash == path) return str_new("/");
    return str_new_len(path, (size_t)(slash - path));
}

static str save_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static str save_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str e = str_cat_vfmt(str_empty(), fmt, ap);
    va_end(ap);
    return e;
}

static const char *save_cwd(char *buf, size_t size)
{
    const char *cwd = getcwd(buf, size);
    return cwd ? cwd : "unknown";
}

/* fsyncs a directory, so that a rename in it is on disk. 0 or -1. */
static int save_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* Writes the whole file at tmp and makes it durable: NULL, or the error
 * naming the step that failed (as Redis's werr label does). */
static str save_write_temp(rdb_stream *s, const rdb_aux *aux, const rdb_save_opts *opts)
{
    const char *op = NULL;
    if (rdb_save_stream(s, aux, opts) < 0)
        op = "rdbSaveRio";
    else if (rdb_stream_flush(s, 0) < 0)
        op = "fflush";
    else if (rdb_stream_flush(s, 1) < 0)
        op = "fsync";
    if (!op) return NULL;
    return save_error("Write error saving DB on disk(%s): %s", op, s->errmsg);
}

int rdb_save_file(const char *path, const rdb_aux *aux, const rdb_save_opts *opts,
                  size_t fsync_every, str *err)
{
    char cwd[PATH_MAX];
    str dir = save_dir_of(path);
    str tmp = strchr(path, '/') ? str_cat_fmt(str_dup(dir), "/temp-%d.rdb", (int)getpid())
                                : str_cat_fmt(str_empty(), "temp-%d.rdb", (int)getpid());
    *err = NULL;
    rdb_stream s;
    if (rdb_stream_file_writer(&s, tmp, fsync_every) < 0) {
        const char *why = strerror(errno);
        *err =
            save_error("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
                       tmp, save_cwd(cwd, sizeof(cwd)), why);
        goto done;
    }
    *err = save_write_temp(&s, aux, opts);
    rdb_stream_close(&s);
    if (*err) {
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) < 0) {
        const char *why = strerror(errno);
        *err =
            save_error("Error moving temp DB file %s on the final destination %s (in server root "
                       "dir %s): %s",
                       tmp, path, save_cwd(cwd, sizeof(cwd)), why);
        unlink(tmp);
        goto done;
    }
    if (save_fsync_dir(dir) < 0)
        *err = save_error("Write error saving DB on disk(fsyncFileDir): %s", strerror(errno));
done:
    str_free(dir);
    str_free(tmp);
    return *err ? -1 : 0;
}
