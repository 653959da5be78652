/* stream_file.c: the file backend of rdb/stream.h, with read(2) and
 * write(2) through a 64 KB buffer (transfers larger than the buffer go
 * straight through). A reader's limit is the file's size, so lengths read
 * from it are checked against what the file still holds. A writer fsyncs
 * (fdatasync) every fsync_every bytes that reach the file, so that a large
 * save does not leave gigabytes of dirty pages for one final fsync, and a
 * flush with sync fsyncs whatever is left. A failed write sets the stream's
 * error to the system's text alone ("No space left on device"), which the
 * saver puts into Redis's "Write error saving DB on disk" line. Closing does
 * not flush: the caller flushes what it means to keep. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "rdb/stream.h"

#define FILE_BUFFER_SIZE (64 * 1024)

/* ------------------------------------------------------------ reading */

/* One read(2) into dst: bytes read, 0 at end of file, -1 on error. */
static ssize_t file_read_some(rdb_stream *s, void *dst, size_t len)
{
    ssize_t r;
    do {
        r = read(s->u.file.fd, dst, len);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        rdb_stream_fail(s, "Error reading RDB file at offset %llu: %s",
                        (unsigned long long)s->offset, strerror(errno));
    else if (r == 0)
        rdb_stream_fail(s, "Unexpected EOF reading RDB file at offset %llu",
                        (unsigned long long)s->offset);
    return r;
}

static int file_read(rdb_stream *s, void *buf, size_t len)
{
    unsigned char *dst = buf;
    while (len > 0) {
        size_t avail = s->u.file.len - s->u.file.pos;
        if (avail == 0 && len >= s->u.file.cap) {
            ssize_t r = file_read_some(s, dst, len); /* big: no copy */
            if (r <= 0) return -1;
            dst += r;
            len -= (size_t)r;
            continue;
        }
        if (avail == 0) {
            ssize_t r = file_read_some(s, s->u.file.buf, s->u.file.cap);
            if (r <= 0) return -1;
            s->u.file.len = (size_t)r;
            s->u.file.pos = 0;
            avail = (size_t)r;
        }
        size_t n = len < avail ? len : avail;
        memcpy(dst, s->u.file.buf + s->u.file.pos, n);
        s->u.file.pos += n;
        dst += n;
        len -= n;
    }
    return 0;
}

/* ------------------------------------------------------------ writing */

/* Writes all of p to the file, then fsyncs if fsync_every bytes have
 * gone out since the last time. */
static int file_write_all(rdb_stream *s, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(s->u.file.fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            rdb_stream_fail(s, "%s", strerror(w < 0 ? errno : ENOSPC));
            return -1;
        }
        p += w;
        len -= (size_t)w;
        s->since_fsync += (size_t)w;
    }
    if (s->fsync_every && s->since_fsync >= s->fsync_every) {
        if (fdatasync(s->u.file.fd) < 0) {
            rdb_stream_fail(s, "%s", strerror(errno));
            return -1;
        }
        s->since_fsync = 0;
    }
    return 0;
}

static int file_flush_buffer(rdb_stream *s)
{
    size_t n = s->u.file.len;
    s->u.file.len = 0;
    return file_write_all(s, s->u.file.buf, n);
}

static int file_write(rdb_stream *s, const void *buf, size_t len)
{
    const unsigned char *src = buf;
    while (len > 0) {
        if (s->u.file.len == 0 && len >= s->u.file.cap) return file_write_all(s, src, len);
        size_t room = s->u.file.cap - s->u.file.len;
        size_t n = len < room ? len : room;
        memcpy(s->u.file.buf + s->u.file.len, src, n);
        s->u.file.len += n;
        src += n;
        len -= n;
        if (s->u.file.len == s->u.file.cap && file_flush_buffer(s) < 0) return -1;
    }
    return 0;
}

static int file_writer_flush(rdb_stream *s, int sync)
{
    if (s->u.file.len && file_flush_buffer(s) < 0) return -1;
    if (sync && fsync(s->u.file.fd) < 0) {
        rdb_stream_fail(s, "%s", strerror(errno));
        return -1;
    }
    if (sync) s->since_fsync = 0;
    return 0;
}

/* ------------------------------------------------------------ both */

static void file_close(rdb_stream *s)
{
    if (s->u.file.fd >= 0) close(s->u.file.fd);
    s->u.file.fd = -1;
    tfree(s->u.file.buf);
    s->u.file.buf = NULL;
}

static const rdb_stream_ops file_reader_ops = {file_read, rdb_stream_op_refuse_write,
                                               rdb_stream_op_flush_nothing, file_close};
static const rdb_stream_ops file_writer_ops = {rdb_stream_op_refuse_read, file_write,
                                               file_writer_flush, file_close};

static void file_init(rdb_stream *s, const rdb_stream_ops *ops, int fd)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->limit = UINT64_MAX;
    s->u.file.fd = fd;
    s->u.file.buf = tmalloc(FILE_BUFFER_SIZE);
    s->u.file.cap = FILE_BUFFER_SIZE;
}

int rdb_stream_file_reader(rdb_stream *s, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    file_init(s, &file_reader_ops, fd);
    if (S_ISREG(st.st_mode)) s->limit = (uint64_t)st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return 0;
}

int rdb_stream_file_writer(rdb_stream *s, const char *path, size_t fsync_every)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    file_init(s, &file_writer_ops, fd);
    s->fsync_every = fsync_every;
    return 0;
}

void rdb_stream_fd_writer(rdb_stream *s, int fd) { file_init(s, &file_writer_ops, fd); }
