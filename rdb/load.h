/* load.h: reading a whole RDB file (versions 1 to 11) into the keyspace,
 * checking everything: the magic and version, every opcode, length, type
 * and value, the checksum. The first problem stops the load with a message
 * naming it and its byte offset. Keys already expired are skipped (on a
 * primary), as Redis does. The aux fields come back to the caller. */
#ifndef TANDEM_RDB_LOAD_H
#define TANDEM_RDB_LOAD_H

#include "core/str.h"
#include "rdb/save.h"
#include "rdb/stream.h"

typedef struct rdb_load_info {
    int version;
    rdb_aux aux;              /* repl-id, repl-offset, repl-stream-db, aof-base */
    char redis_ver[32];
    long long ctime;
    long long keys_loaded;
    long long keys_expired;   /* skipped because already expired */
} rdb_load_info;

/* One key as the loader saw it, for a caller's statistics (inspect). */
typedef struct rdb_load_key {
    uint64_t db;
    int type;                 /* the RDB type byte */
    const char *key;
    size_t keylen;
    long long expire;         /* unix ms, -1 none */
    uint64_t offset;          /* of the type byte */
    uint64_t bytes;           /* serialized size: type byte, key and value */
} rdb_load_key;

typedef struct rdb_load_opts {
    int verify_checksum;      /* rdbchecksum */
    int skip_expired;         /* 1 on a primary */
    int store;                /* 0: parse and check only (verify, backup tool) */
    /* Called every ~2 MB read (progress log, serving -LOADING replies). */
    void (*progress)(uint64_t bytes_done, uint64_t bytes_total, void *priv);
    /* Optional: every aux field, and every key read (expired ones too). */
    void (*on_aux)(const str key, const str val, void *priv);
    void (*on_key)(const rdb_load_key *k, void *priv);
    void *priv;
} rdb_load_opts;

/* Loads from s into the current keyspace. 0, or -1 with *err. The caller
 * makes the keyspace safe to lose (db_detach_all) before storing. */
int rdb_load_stream(rdb_stream *s, const rdb_load_opts *opts, rdb_load_info *info, str *err);
/* Loads path: 0 loaded, 1 the file does not exist, -1 with *err. */
int rdb_load_file(const char *path, const rdb_load_opts *opts, rdb_load_info *info, str *err);

#endif
