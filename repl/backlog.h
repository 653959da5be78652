/* backlog.h: the replication backlog, a ring of bytes keyed by stream
 * offset. It holds the newest bytes of the replication stream, up to its
 * size, so that a replica that lost its link can be sent exactly the bytes
 * it missed (PSYNC's +CONTINUE). Offsets follow Redis: the stream's bytes
 * are numbered from 1, and a replica asks for the next byte it needs, so an
 * offset equal to first + histlen means "nothing missing". A leaf: it knows
 * nothing but memory. */
#ifndef TANDEM_REPL_BACKLOG_H
#define TANDEM_REPL_BACKLOG_H

#include <stddef.h>

typedef struct backlog backlog;

/* Receives the bytes copy_from hands out, in order, in one or two pieces. */
typedef void backlog_sink(void *data, const char *p, size_t len);

/* An empty backlog of size bytes (size > 0) whose first byte appended will
 * have offset next_offset (Redis: master_repl_offset + 1). */
backlog *backlog_create(size_t size, long long next_offset);
void backlog_free(backlog *b);
/* Appends the stream's next bytes; the oldest ones go when it is full. */
void backlog_append(backlog *b, const char *p, size_t len);
size_t backlog_size(const backlog *b);
/* The offset of the oldest byte held (repl_backlog_first_byte_offset). */
long long backlog_first_offset(const backlog *b);
/* How many bytes are held (repl_backlog_histlen). */
long long backlog_histlen(const backlog *b);
/* Whether a replica needing offset next can be served: offset in
 * [first, first + histlen]. */
int backlog_can_serve(const backlog *b, long long offset);
/* Hands every byte from offset to the newest to sink; returns how many.
 * The offset must be one backlog_can_serve accepts. */
long long backlog_copy_from(const backlog *b, long long offset, backlog_sink *sink, void *data);
/* A new size (> 0), keeping the newest bytes that fit. */
void backlog_resize(backlog *b, size_t size);

#endif
