/* check.h: one whole pass of the project's RDB loader (rdb/load.h with
 * store=0: header, every opcode, length and value, the checksum) over a
 * file, keeping what the tool reports: keys per database, the stored
 * checksum, the aux fields the loader decodes, and the first problem with
 * its byte offset. Callers may watch every key and aux field (inspect). */
#ifndef TANDEM_BACKUP_CHECK_H
#define TANDEM_BACKUP_CHECK_H

#include <stdint.h>

#include "core/str.h"
#include "rdb/load.h"

typedef struct bk_db_keys {
    uint64_t db;
    long long keys;
    long long expires; /* keys with an expiry */
} bk_db_keys;

typedef struct bk_check {
    /* In: optional watchers. */
    void (*on_key)(const rdb_load_key *k, void *priv);
    void (*on_aux)(const str key, const str val, void *priv);
    void *priv;
    int own_crc;           /* the caller checks the CRC-64 itself (follow.h) */
    /* Out. */
    rdb_load_info info;
    uint64_t bytes;        /* the file's size (UINT64_MAX: not known yet) */
    uint64_t end;          /* where the RDB ended (after its checksum) */
    int has_checksum;      /* version >= 5 and not saved with rdbchecksum no */
    uint64_t checksum;     /* the stored CRC-64 */
    bk_db_keys *dbs;       /* in ascending db order */
    int ndbs;
    long long keys;
    str err;               /* the first problem, naming its byte offset */
    int err_fs;            /* the problem is opening or reading the file */
} bk_check;

/* 0 when the file is sound, else -1 with c->err. Free with bk_check_free. */
int bk_check_file(const char *path, bk_check *c);
/* The same over a stream reading path (the stored checksum is read back
 * from path); c->bytes may be UINT64_MAX, then the caller sets it and calls
 * bk_check_size once the size is known. */
int bk_check_stream(bk_check *c, rdb_stream *s, const char *path);
/* -1 with c->err when bytes follow the RDB's end in a file of c->bytes. */
int bk_check_size(bk_check *c);
void bk_check_free(bk_check *c);

#endif
