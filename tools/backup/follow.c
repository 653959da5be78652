/* follow.c: the stream over a file being written (see follow.h). */
#include "tools/backup/follow.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "rdb/crc64.h"

#define FOLLOW_BUFFER (256 * 1024)

typedef unsigned long long ull;

/* Waits for bytes past file_off: how many may be read (0 at the end or
 * when stopped). */
static uint64_t follow_wait(bk_follow *f, int *stopped)
{
    pthread_mutex_lock(&f->mu);
    while (f->avail <= f->file_off && !f->done && !f->stop)
        pthread_cond_wait(&f->cv, &f->mu);
    uint64_t n = f->avail > f->file_off ? f->avail - f->file_off : 0;
    *stopped = f->stop;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* Folds n bytes into the CRC, keeping the last 8 bytes read out of it. */
static void follow_crc_feed(bk_follow *f, const unsigned char *p, size_t n)
{
    const size_t keep = sizeof(f->tail);
    if (n >= keep) {
        f->crc = crc64(f->crc, f->tail, f->tail_len);
        f->crc = crc64(f->crc, p, n - keep);
        memcpy(f->tail, p + n - keep, keep);
        f->tail_len = keep;
        return;
    }
    unsigned char all[2 * sizeof(f->tail)];
    memcpy(all, f->tail, f->tail_len);
    memcpy(all + f->tail_len, p, n);
    size_t len = f->tail_len + n, out = len > keep ? len - keep : 0;
    f->crc = crc64(f->crc, all, out);
    memcpy(f->tail, all + out, len - out);
    f->tail_len = len - out;
}

int bk_follow_crc(const bk_follow *f, uint64_t *crc, uint64_t *last8)
{
    if (f->tail_len < sizeof(f->tail)) return -1;
    *crc = f->crc;
    *last8 = 0;
    for (int i = (int)sizeof(f->tail) - 1; i >= 0; i--)
        *last8 = *last8 << 8 | f->tail[i];
    return 0;
}

static int follow_fill(bk_follow *f)
{
    rdb_stream *s = &f->s;
    int stopped;
    uint64_t n = follow_wait(f, &stopped);
    if (stopped) {
        rdb_stream_fail(s, "Verification stopped at offset %llu", (ull)s->offset);
        return -1;
    }
    if (n == 0) {
        rdb_stream_fail(s, "Unexpected EOF reading RDB file at offset %llu", (ull)s->offset);
        return -1;
    }
    size_t want = n < f->cap ? (size_t)n : f->cap;
    ssize_t r;
    do {
        r = pread(f->fd, f->buf, want, (off_t)f->file_off);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        rdb_stream_fail(s, "Error reading the temp file at offset %llu: %s", (ull)f->file_off,
                        r < 0 ? strerror(errno) : "short read");
        return -1;
    }
    follow_crc_feed(f, f->buf, (size_t)r);
    f->len = (size_t)r;
    f->pos = 0;
    f->file_off += (uint64_t)r;
    return 0;
}

static int follow_read(rdb_stream *s, void *buf, size_t len)
{
    bk_follow *f = (bk_follow *)s;
    unsigned char *dst = buf;
    while (len > 0) {
        if (f->pos == f->len && follow_fill(f) < 0) return -1;
        size_t n = f->len - f->pos < len ? f->len - f->pos : len;
        memcpy(dst, f->buf + f->pos, n);
        f->pos += n;
        dst += n;
        len -= n;
    }
    return 0;
}

static const rdb_stream_ops follow_ops = {follow_read, rdb_stream_op_refuse_write,
                                          rdb_stream_op_flush_nothing, rdb_stream_op_close_nothing};

int bk_follow_open(bk_follow *f, const char *path, uint64_t limit)
{
    memset(f, 0, sizeof(*f));
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) return -1;
    f->s.ops = &follow_ops;
    f->s.limit = limit;
    f->cap = FOLLOW_BUFFER;
    f->buf = tmalloc(f->cap);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    return 0;
}

void bk_follow_publish(bk_follow *f, uint64_t avail, int done)
{
    pthread_mutex_lock(&f->mu);
    f->avail = avail;
    f->done = done;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void bk_follow_stop(bk_follow *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void bk_follow_close(bk_follow *f)
{
    rdb_stream_close(&f->s);
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    tfree(f->buf);
    f->buf = NULL;
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}
