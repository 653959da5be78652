/* crc64.c: CRC-64/Jones, slice-by-16. Reflected CRCs shift right: the table
 * for one byte is built from the bit-reversed polynomial, and fifteen more
 * tables give the effect of a byte followed by one to fifteen zero bytes, so
 * sixteen input bytes fold in with sixteen independent lookups (about
 * 2 GB/s, so that saving is never CRC-bound). The tables (32 KB) are built
 * once, before main() runs. */
#include "rdb/crc64.h"

#include <string.h>

/* 0xad93d23594c935a9 with its bits reversed (the reflected form). */
#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL
#define CRC64_SLICES 16

static uint64_t crc64_table[CRC64_SLICES][256];

__attribute__((constructor)) static void crc64_init(void)
{
    for (unsigned b = 0; b < 256; b++) {
        uint64_t c = b;
        for (int bit = 0; bit < 8; bit++)
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        crc64_table[0][b] = c;
    }
    for (int k = 1; k < CRC64_SLICES; k++) {
        for (unsigned b = 0; b < 256; b++) {
            uint64_t prev = crc64_table[k - 1][b];
            crc64_table[k][b] = (prev >> 8) ^ crc64_table[0][prev & 0xff];
        }
    }
}

/* Eight bytes as a little-endian integer, whatever the host order. */
static inline uint64_t crc64_load_le(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The contribution of the 8 bytes of v when followed by `after` more bytes
 * (0 or 8) in the same step. */
static inline uint64_t crc64_fold8(uint64_t v, int after)
{
    const uint64_t(*t)[256] = crc64_table + after;
    return t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^
           t[4][(v >> 24) & 0xff] ^ t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^
           t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
}

uint64_t crc64(uint64_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len >= 16) {
        uint64_t lo = crc64_load_le(p) ^ crc;
        uint64_t hi = crc64_load_le(p + 8);
        crc = crc64_fold8(lo, 8) ^ crc64_fold8(hi, 0);
        p += 16;
        len -= 16;
    }
    while (len--)
        crc = crc64_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}
