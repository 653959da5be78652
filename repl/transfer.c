/* transfer.c: the replica link's TRANSFER state (internal to the link, see
 * link.c): the bulk header ("$<len>" or "$EOF:<mark>", after any "\n"
 * keep-alives), the payload into "temp-<unixtime>.<pid>.rdb", fsync, the
 * loader callback, and the hand-over of the connection with the stream
 * bytes that followed the payload. Plain file syscalls are fine here; the
 * socket is reached through net/conn.h only. The temp file never outlives
 * the attempt: transfer_abort removes it on every way out. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "repl/link_impl.h"

static void transfer_reset(link_transfer *t)
{
    t->fd = -1;
    t->path = NULL;
    t->have_header = 0;
    t->use_mark = 0;
    t->size = -1;
    t->read = 0;
    t->done = 0;
    str_clear(t->extra);
}

void transfer_init(repl_link *l)
{
    l->xfer.extra = str_empty();
    transfer_reset(&l->xfer);
}

void transfer_abort(repl_link *l)
{
    link_transfer *t = &l->xfer;
    if (t->fd != -1) close(t->fd);
    if (t->path) {
        unlink(t->path);
        str_free(t->path);
    }
    transfer_reset(t);
}

int transfer_begin(repl_link *l)
{
    link_transfer *t = &l->xfer;
    long long now = link_now(l);
    const char *dir = l->cfg.dir;
    str path = str_cat_fmt(str_empty(), "%s%stemp-%lld.%d.rdb", dir, dir[0] ? "/" : "", now / 1000,
                           (int)getpid());
    t->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (t->fd == -1) {
        int err = errno;
        str_free(path);
        return link_error(l,
                          "Opening the temp file needed for MASTER <-> REPLICA "
                          "synchronization: %s",
                          strerror(err));
    }
    t->path = path;
    t->start_ms = now;
    return LINK_OK;
}

/* ------------------------------------------------------------ header */

static int transfer_header(repl_link *l)
{
    link_transfer *t = &l->xfer;
    const char *line;
    size_t len;
    char shown[LINK_SHOWN_MAX];
    proto_bulk b;
    int rc = link_read_line(l, &line, &len);
    if (rc != LINK_OK) return rc;
    proto_printable(shown, sizeof(shown), line, len);
    switch (proto_parse_bulk(line, len, &b)) {
    case PROTO_BULK_ERROR:
        return link_error(l, "MASTER aborted replication with an error: %s", shown);
    case PROTO_BULK_INVALID:
        if (line[0] == '$') return link_error(l, "Bad bulk header from MASTER: '%s'", shown);
        return link_error(l,
                          "Bad protocol from MASTER, the first byte is not '$' (we received "
                          "'%s'), are you sure the host and port are right?",
                          shown);
    case PROTO_BULK_EOF:
        t->use_mark = 1;
        proto_mark_init(&t->mark, b.mark);
        log_msg(LOG_NOTICE,
                "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        break;
    case PROTO_BULK_LEN:
        t->size = b.len;
        t->done = b.len == 0;
        log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: receiving %lld bytes from master to disk",
                b.len);
        break;
    }
    t->have_header = 1;
    return LINK_OK;
}

/* ----------------------------------------------------------- payload */

static int transfer_write(repl_link *l, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(l->xfer.fd, p, n);
        if (w == -1 && errno == EINTR) continue;
        if (w <= 0)
            return link_error(l,
                              "Write error or short write writing to the DB dump file "
                              "needed for MASTER <-> REPLICA synchronization: %s",
                              w == -1 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return LINK_OK;
}

/* Takes n received bytes: the payload part goes to the file; once the
 * payload is complete, what follows is kept for the hand-over. */
static int transfer_consume(repl_link *l, const char *p, size_t n)
{
    link_transfer *t = &l->xfer;
    size_t take = n;
    if (t->use_mark) {
        long long upto = proto_mark_feed(&t->mark, p, n);
        if (upto >= 0) {
            take = (size_t)upto;
            t->done = 1;
        }
    } else if ((long long)n >= t->size - t->read) {
        take = (size_t)(t->size - t->read);
        t->done = 1;
    }
    if (transfer_write(l, p, take) != LINK_OK) return LINK_ERR;
    t->read += (long long)take;
    if (t->done) t->extra = str_cat_len(t->extra, p + take, n - take);
    return LINK_OK;
}

/* The bytes the line reader took past the header come first. */
static int transfer_drain_lines(repl_link *l)
{
    size_t n;
    const char *rest = proto_lines_rest(&l->lines, &n);
    int rc = n ? transfer_consume(l, rest, n) : LINK_OK;
    proto_lines_clear(&l->lines);
    return rc;
}

/* One read from the connection, never past a known payload's end. */
static int transfer_read(repl_link *l)
{
    link_transfer *t = &l->xfer;
    char buf[LINK_READ_CHUNK];
    size_t cap = sizeof(buf), n;
    if (!t->use_mark && t->size - t->read < (long long)cap) cap = (size_t)(t->size - t->read);
    int rc = link_read(l, buf, cap, &n);
    return rc == LINK_OK ? transfer_consume(l, buf, n) : rc;
}

/* ------------------------------------------------------------ finish */

/* Drops the mark from the file's end and makes the file durable. */
static int transfer_seal(repl_link *l, long long bytes)
{
    link_transfer *t = &l->xfer;
    if (t->use_mark && ftruncate(t->fd, bytes) == -1)
        return link_error(l,
                          "Failed trying to remove the EOF mark from the temp DB in "
                          "MASTER <-> REPLICA synchronization: %s",
                          strerror(errno));
    if (fsync(t->fd) == -1)
        return link_error(l,
                          "Failed trying to sync the temp DB to disk in MASTER <-> REPLICA "
                          "synchronization: %s",
                          strerror(errno));
    close(t->fd);
    t->fd = -1;
    return LINK_OK;
}

static int transfer_load(repl_link *l)
{
    str err = NULL;
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Flushing old data");
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory");
    /* Clients are served while the file loads: the stream that follows the
     * payload waits in the socket until the hand-over. */
    conn_set_read_handler(l->conn, NULL);
    int rc = l->hooks.load_rdb(l->hooks.priv, l->xfer.path, &err);
    if (rc != 0)
        link_error(l, "Failed trying to load the MASTER synchronization DB from disk: %s",
                   err ? err : "unknown error");
    str_free(err);
    return rc != 0 ? LINK_ERR : LINK_OK;
}

static int transfer_finish(repl_link *l)
{
    link_transfer *t = &l->xfer;
    long long bytes = t->use_mark ? t->read - PROTO_MARK_LEN : t->read;
    if (transfer_seal(l, bytes) != LINK_OK) return LINK_ERR;
    int rc = transfer_load(l);
    /* The loader may have moved the link (link_stop from a callback). */
    if (l->state != LINK_TRANSFER) return LINK_AGAIN;
    if (rc != LINK_OK) return LINK_ERR;
    long long now = link_now(l);
    l->stats.full_syncs++;
    l->stats.last_full_sync_ms = now - t->start_ms;
    l->stats.last_full_sync_bytes = bytes;
    l->stats.last_full_sync_end_ms = now;
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Finished with success");
    str extra = t->extra;
    t->extra = str_empty();
    transfer_abort(l); /* the file is loaded: remove it */
    conn *c = link_hand_over(l, "full sync loaded");
    l->hooks.on_connected(l->hooks.priv, c, l->replid, l->offset, extra, str_len(extra));
    str_free(extra);
    return LINK_OK;
}

void link_transfer_keepalive(repl_link *l)
{
    if (l->state == LINK_TRANSFER && l->xfer.done && l->conn) (void)conn_write(l->conn, "\n", 1);
}

int transfer_receive(repl_link *l)
{
    if (l->state != LINK_TRANSFER) return LINK_AGAIN;
    link_transfer *t = &l->xfer;
    if (!t->have_header) {
        int rc = transfer_header(l);
        if (rc != LINK_OK) return rc;
        if (transfer_drain_lines(l) != LINK_OK) return LINK_ERR;
    }
    if (!t->done) {
        int rc = transfer_read(l);
        if (rc != LINK_OK) return rc;
    }
    return t->done ? transfer_finish(l) : LINK_OK;
}
