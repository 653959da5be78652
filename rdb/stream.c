/* stream.c: the core of every RDB stream (see stream.h): the sticky error,
 * the offset and the running CRC-64, kept here once for all backends, and
 * the memory backend: a reader over a caller's buffer (DUMP payloads,
 * tests) and a writer that collects into a str. The file backend is in
 * stream_file.c. */
#include "rdb/stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rdb/crc64.h"

static void stream_init(rdb_stream *s, const rdb_stream_ops *ops)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->limit = UINT64_MAX;
}

void rdb_stream_fail(rdb_stream *s, const char *fmt, ...)
{
    if (s->error) return;
    int saved_errno = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    s->error = 1;
    errno = saved_errno;
}

void rdb_stream_crc_start(rdb_stream *s)
{
    s->crc = 0;
    s->crc_on = 1;
}

int rdb_stream_read(rdb_stream *s, void *buf, size_t len)
{
    if (s->error) return -1;
    if (len == 0) return 0;
    if (s->ops->read(s, buf, len) < 0) {
        rdb_stream_fail(s, "Read error at offset %llu", (unsigned long long)s->offset);
        return -1;
    }
    if (s->crc_on) s->crc = crc64(s->crc, buf, len);
    s->offset += len;
    return 0;
}

int rdb_stream_write(rdb_stream *s, const void *buf, size_t len)
{
    if (s->error) return -1;
    if (len == 0) return 0;
    if (s->ops->write(s, buf, len) < 0) {
        rdb_stream_fail(s, "Write error at offset %llu", (unsigned long long)s->offset);
        return -1;
    }
    if (s->crc_on) s->crc = crc64(s->crc, buf, len);
    s->offset += len;
    return 0;
}

int rdb_stream_flush(rdb_stream *s, int sync)
{
    if (s->error) return -1;
    if (s->ops->flush(s, sync) < 0) {
        rdb_stream_fail(s, "Flush error at offset %llu", (unsigned long long)s->offset);
        return -1;
    }
    return 0;
}

int rdb_stream_op_refuse_write(rdb_stream *s, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    rdb_stream_fail(s, "Write to a read-only stream");
    return -1;
}

int rdb_stream_op_refuse_read(rdb_stream *s, void *buf, size_t len)
{
    (void)buf;
    (void)len;
    rdb_stream_fail(s, "Read from a write-only stream");
    return -1;
}

int rdb_stream_op_flush_nothing(rdb_stream *s, int sync)
{
    (void)s;
    (void)sync;
    return 0;
}

void rdb_stream_op_close_nothing(rdb_stream *s)
{
    (void)s;
}

/* What a closed stream does: fail. */
static int stream_closed(rdb_stream *s)
{
    rdb_stream_fail(s, "Stream used after close");
    return -1;
}

static int stream_closed_read(rdb_stream *s, void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return stream_closed(s);
}

static int stream_closed_write(rdb_stream *s, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return stream_closed(s);
}

static int stream_closed_flush(rdb_stream *s, int sync)
{
    (void)sync;
    return stream_closed(s);
}

static const rdb_stream_ops stream_closed_ops = {
    stream_closed_read,
    stream_closed_write,
    stream_closed_flush,
    rdb_stream_op_close_nothing,
};

void rdb_stream_close(rdb_stream *s)
{
    if (s->ops) s->ops->close(s);
    s->ops = &stream_closed_ops;
}

uint64_t rdb_stream_remaining(const rdb_stream *s)
{
    if (s->limit == UINT64_MAX) return UINT64_MAX;
    return s->limit > s->offset ? s->limit - s->offset : 0;
}

/* ------------------------------------------------------------ memory */

static int mem_read(rdb_stream *s, void *buf, size_t len)
{
    if (s->u.mem_in.len - s->u.mem_in.pos < len) {
        rdb_stream_fail(s, "Unexpected EOF reading RDB file at offset %llu",
                        (unsigned long long)s->offset);
        return -1;
    }
    memcpy(buf, s->u.mem_in.buf + s->u.mem_in.pos, len);
    s->u.mem_in.pos += len;
    return 0;
}

static int mem_write(rdb_stream *s, const void *buf, size_t len)
{
    if (!s->u.mem_out) {
        rdb_stream_fail(s, "Write to a memory stream after its bytes were taken");
        return -1;
    }
    s->u.mem_out = str_cat_len(s->u.mem_out, buf, len);
    return 0;
}

static void mem_out_close(rdb_stream *s)
{
    str_free(s->u.mem_out);
    s->u.mem_out = NULL;
}

static const rdb_stream_ops mem_reader_ops = {mem_read, rdb_stream_op_refuse_write,
                                              rdb_stream_op_flush_nothing,
                                              rdb_stream_op_close_nothing};
static const rdb_stream_ops mem_writer_ops = {rdb_stream_op_refuse_read, mem_write,
                                              rdb_stream_op_flush_nothing, mem_out_close};

void rdb_stream_mem_reader(rdb_stream *s, const void *buf, size_t len)
{
    stream_init(s, &mem_reader_ops);
    s->u.mem_in.buf = buf;
    s->u.mem_in.len = len;
    s->u.mem_in.pos = 0;
    s->limit = len;
}

void rdb_stream_mem_writer(rdb_stream *s)
{
    stream_init(s, &mem_writer_ops);
    s->u.mem_out = str_empty();
}

str rdb_stream_mem_take(rdb_stream *s)
{
    str out = s->u.mem_out;
    s->u.mem_out = NULL;
    return out;
}
