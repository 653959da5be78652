/* fuzz_split.h: what the fuzz targets that feed a resumable parser share:
 * chunk sizes drawn from a seed that the fuzz input itself supplies, so that
 * the fuzzer explores where a stream is cut as well as what it holds, and a
 * crashing input replays with exactly the same cuts. Header only: each
 * target is one program. */
#ifndef TANDEM_FUZZ_SPLIT_H
#define TANDEM_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_split {
    uint32_t state; /* xorshift32, never 0 */
    size_t max;     /* largest chunk */
} fuzz_split;

/* Takes a 4-byte header from *data (fewer bytes leave it zero): byte 0 is
 * returned to the caller as option bits, bytes 1-2 seed the cuts and byte 3
 * bounds the chunk size (1..256; 0 means one byte at a time). */
static inline int fuzz_split_init(fuzz_split *f, const uint8_t **data, size_t *size)
{
    uint8_t h[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4 && *size > 0; i++) {
        h[i] = **data;
        (*data)++;
        (*size)--;
    }
    f->state = ((uint32_t)h[1] << 8 | h[2]) * 2654435761u | 1u;
    f->max = (size_t)h[3] + 1;
    return h[0];
}

/* The size of the next chunk, 1..min(max, left); left must be > 0. */
static inline size_t fuzz_split_next(fuzz_split *f, size_t left)
{
    f->state ^= f->state << 13;
    f->state ^= f->state >> 17;
    f->state ^= f->state << 5;
    size_t n = 1 + f->state % f->max;
    return n < left ? n : left;
}

#endif
