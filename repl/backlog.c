/* backlog.c: the replication backlog of backlog.h. The ring is a buffer of
 * size bytes; the byte of stream offset o sits at (o - origin) mod size,
 * where origin is the offset of the byte at index 0 on the first lap. The
 * newest byte is end - 1; the oldest held is end - histlen. */
#include "repl/backlog.h"

#include <string.h>

#include "core/alloc.h"
#include "core/panic.h"

struct backlog {
    char *buf;
    size_t size;
    long long origin;  /* offset that maps to buf[0] */
    long long end;     /* offset of the next byte appended */
    long long histlen; /* bytes held, at most size */
};

backlog *backlog_create(size_t size, long long next_offset)
{
    tassert(size > 0);
    backlog *b = tmalloc(sizeof(*b));
    b->buf = tmalloc(size);
    b->size = size;
    b->origin = next_offset;
    b->end = next_offset;
    b->histlen = 0;
    return b;
}

void backlog_free(backlog *b)
{
    if (!b) return;
    tfree(b->buf);
    tfree(b);
}

static size_t backlog_index(const backlog *b, long long offset)
{
    long long rel = (offset - b->origin) % (long long)b->size;
    return (size_t)(rel < 0 ? rel + (long long)b->size : rel);
}

void backlog_append(backlog *b, const char *p, size_t len)
{
    if (len > b->size) { /* only the last size bytes can stay */
        b->end += (long long)(len - b->size);
        p += len - b->size;
        len = b->size;
    }
    size_t at = backlog_index(b, b->end);
    size_t first = len < b->size - at ? len : b->size - at;
    memcpy(b->buf + at, p, first);
    memcpy(b->buf, p + first, len - first);
    b->end += (long long)len;
    b->histlen += (long long)len;
    if (b->histlen > (long long)b->size) b->histlen = (long long)b->size;
}

size_t backlog_size(const backlog *b) { return b->size; }
long long backlog_first_offset(const backlog *b) { return b->end - b->histlen; }
long long backlog_histlen(const backlog *b) { return b->histlen; }

int backlog_can_serve(const backlog *b, long long offset)
{
    return offset >= backlog_first_offset(b) && offset <= b->end;
}

long long backlog_copy_from(const backlog *b, long long offset, backlog_sink *sink, void *data)
{
    tassert(backlog_can_serve(b, offset));
    size_t len = (size_t)(b->end - offset);
    if (len == 0) return 0;
    size_t at = backlog_index(b, offset);
    size_t first = len < b->size - at ? len : b->size - at;
    sink(data, b->buf + at, first);
    if (len > first) sink(data, b->buf, len - first);
    return (long long)len;
}

/* copy_from's sink for resize: fills a flat buffer. */
static void backlog_fill(void *data, const char *p, size_t len)
{
    char **pos = data;
    memcpy(*pos, p, len);
    *pos += len;
}

void backlog_resize(backlog *b, size_t size)
{
    tassert(size > 0);
    long long keep = b->histlen < (long long)size ? b->histlen : (long long)size;
    char *buf = tmalloc(size);
    char *pos = buf;
    backlog_copy_from(b, b->end - keep, backlog_fill, &pos);
    tfree(b->buf);
    b->buf = buf;
    b->size = size;
    b->origin = b->end - keep;
    b->histlen = keep;
}
