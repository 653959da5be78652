/* check.c: the loader pass behind verify, pull and inspect (see check.h).
 * Beyond the loader's own checks it refuses bytes after the checksum (a
 * loader may ignore them; a backup must not carry them). */
#include "tools/backup/check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "rdb/format.h"

typedef unsigned long long ull;

static bk_db_keys *check_db(bk_check *c, uint64_t db)
{
    int i = c->ndbs;
    while (i > 0 && c->dbs[i - 1].db > db)
        i--;
    if (i > 0 && c->dbs[i - 1].db == db) return &c->dbs[i - 1];
    c->dbs = trealloc(c->dbs, sizeof(*c->dbs) * (size_t)(c->ndbs + 1));
    memmove(c->dbs + i + 1, c->dbs + i, sizeof(*c->dbs) * (size_t)(c->ndbs - i));
    c->ndbs++;
    c->dbs[i] = (bk_db_keys){.db = db};
    return &c->dbs[i];
}

static void check_on_key(const rdb_load_key *k, void *priv)
{
    bk_check *c = priv;
    bk_db_keys *d = check_db(c, k->db);
    d->keys++;
    if (k->expire != -1) d->expires++;
    c->keys++;
    if (c->on_key) c->on_key(k, c->priv);
}

static void check_on_aux(const str key, const str val, void *priv)
{
    bk_check *c = priv;
    if (c->on_aux) c->on_aux(key, val, c->priv);
}

/* The CRC-64 stored in the 8 bytes before end. */
static int check_read_crc(bk_check *c, const char *path, uint64_t end)
{
    unsigned char b[RDB_CHECKSUM_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : pread(fd, b, sizeof(b), (off_t)(end - sizeof(b)));
    int saved = errno;
    if (fd >= 0) close(fd);
    if (n != (ssize_t)sizeof(b)) {
        c->err = str_cat_fmt(str_empty(), "Can't read the checksum of %s: %s", path,
                             n < 0 ? strerror(saved) : "short read");
        c->err_fs = 1;
        return -1;
    }
    c->checksum = 0;
    for (int i = RDB_CHECKSUM_LEN - 1; i >= 0; i--)
        c->checksum = c->checksum << 8 | b[i];
    c->has_checksum = c->checksum != 0;
    return 0;
}

int bk_check_size(bk_check *c)
{
    if (c->bytes == UINT64_MAX || c->end == c->bytes) return 0;
    c->err = str_cat_fmt(str_empty(),
                         "%llu unexpected bytes after the end of the RDB at offset %llu",
                         (ull)(c->bytes - c->end), (ull)c->end);
    return -1;
}

int bk_check_stream(bk_check *c, rdb_stream *s, const char *path)
{
    rdb_load_opts opts = {.verify_checksum = !c->own_crc, .skip_expired = 0, .store = 0,
                          .on_aux = check_on_aux, .on_key = check_on_key, .priv = c};
    int rc = rdb_load_stream(s, &opts, &c->info, &c->err);
    c->end = s->offset;
    if (rc < 0) {
        if (!strstr(c->err, "offset")) c->err = str_cat_fmt(c->err, " (at offset %llu)", (ull)c->end);
        return -1;
    }
    if (bk_check_size(c) < 0) return -1;
    if (c->info.version >= RDB_VERSION_CHECKSUM) return check_read_crc(c, path, c->end);
    return 0;
}

int bk_check_file(const char *path, bk_check *c)
{
    rdb_stream s;
    if (rdb_stream_file_reader(&s, path) < 0) {
        c->err = str_cat_fmt(str_empty(), "Can't open %s: %s", path, strerror(errno));
        c->err_fs = 1;
        return -1;
    }
    c->bytes = s.limit;
    int rc = bk_check_stream(c, &s, path);
    rdb_stream_close(&s);
    return rc;
}

void bk_check_free(bk_check *c)
{
    tfree(c->dbs);
    c->dbs = NULL;
    c->ndbs = 0;
    str_free(c->err);
    c->err = NULL;
}
