/* save.h: writing a whole RDB file from the keyspace: the header, the aux
 * fields (handed in as a plain struct: rdb/ knows nothing of replication),
 * every database (SELECTDB, RESIZEDB, expiry, key, value), EOF and the
 * checksum. */
#ifndef TANDEM_RDB_SAVE_H
#define TANDEM_RDB_SAVE_H

#include "core/str.h"
#include "rdb/stream.h"

typedef struct rdb_aux {
    char repl_id[41];       /* "" when unknown */
    long long repl_offset;  /* -1 when unknown */
    int repl_stream_db;     /* -1 when unknown */
    int aof_base;
} rdb_aux;

typedef struct rdb_save_opts {
    int compress;            /* rdbcompression */
    int checksum;            /* rdbchecksum: 0 writes a zero checksum */
    long long key_delay_us;  /* rdb-key-save-delay (tests): sleep per key */
    /* Called every 1024 keys (the child reports progress with it). */
    void (*progress)(long long keys_done, void *priv);
    void *priv;
} rdb_save_opts;

/* Writes the dataset to s. 0, or -1 with the stream's error set. */
int rdb_save_stream(rdb_stream *s, const rdb_aux *aux, const rdb_save_opts *opts);
/* Writes dir-relative temp-<pid>.rdb, fsyncs it and renames it over path
 * only when whole; on failure removes the temp file and leaves path as it
 * was. 0, or -1 with *err (caller frees). */
int rdb_save_file(const char *path, const rdb_aux *aux, const rdb_save_opts *opts,
                  size_t fsync_every, str *err);

#endif
