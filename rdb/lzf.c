/* lzf.c: LZF compression and bounds-checked decompression (format in
 * lzf.h). The compressor is greedy: a hash table maps each 3-byte sequence
 * to the last position it was seen at; a candidate within reach that really
 * matches is extended as far as it goes (up to 264 bytes) and becomes a
 * back reference, everything else becomes literal runs. The table holds
 * positions plus one (0 = empty) and is sized to the input, so that short
 * strings (most values) do not pay for clearing a large one. */
#include "rdb/lzf.h"

#include <stdint.h>
#include <string.h>

#define LZF_MAX_LITERAL 32    /* bytes in one literal run */
#define LZF_MAX_DISTANCE 8192 /* how far back a reference reaches */
#define LZF_MIN_MATCH 3
#define LZF_SHORT_LEN_MAX 7 /* the 3-bit length field; 7 = extra byte */
#define LZF_MAX_MATCH (LZF_SHORT_LEN_MAX + 255 + 2)
#define LZF_HASH_MIN_BITS 8
#define LZF_HASH_MAX_BITS 14

typedef struct lzf_out {
    unsigned char *p;
    size_t len, cap;
} lzf_out;

static inline uint32_t lzf_hash(const unsigned char *p, int bits)
{
    uint32_t seq = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (seq * 2654435761u) >> (32 - bits);
}

/* Writes in[from, to) as literal runs. 0, or -1 when out is full. */
static int lzf_put_literals(lzf_out *o, const unsigned char *in, size_t from, size_t to)
{
    while (from < to) {
        size_t n = to - from < LZF_MAX_LITERAL ? to - from : LZF_MAX_LITERAL;
        if (o->cap - o->len < n + 1) return -1;
        o->p[o->len++] = (unsigned char)(n - 1);
        memcpy(o->p + o->len, in + from, n);
        o->len += n;
        from += n;
    }
    return 0;
}

/* Writes a reference copying len bytes from distance bytes back. */
static int lzf_put_reference(lzf_out *o, size_t len, size_t distance)
{
    size_t l = len - 2, off = distance - 1;
    size_t need = l < LZF_SHORT_LEN_MAX ? 2 : 3;
    if (o->cap - o->len < need) return -1;
    if (l < LZF_SHORT_LEN_MAX) {
        o->p[o->len++] = (unsigned char)(l << 5 | off >> 8);
    } else {
        o->p[o->len++] = (unsigned char)(LZF_SHORT_LEN_MAX << 5 | off >> 8);
        o->p[o->len++] = (unsigned char)(l - LZF_SHORT_LEN_MAX);
    }
    o->p[o->len++] = (unsigned char)(off & 0xff);
    return 0;
}

/* How many bytes at in+ref equal those at in+pos, up to max. */
static size_t lzf_match_len(const unsigned char *in, size_t ref, size_t pos, size_t max)
{
    size_t n = 0;
    while (n < max && in[ref + n] == in[pos + n])
        n++;
    return n;
}

size_t lzf_compress(const void *in_data, size_t in_len, void *out_data, size_t out_len)
{
    const unsigned char *in = in_data;
    if (in_len == 0 || in_len >= UINT32_MAX) return 0;
    int bits = LZF_HASH_MIN_BITS;
    while (bits < LZF_HASH_MAX_BITS && ((size_t)1 << bits) < in_len)
        bits++;
    uint32_t table[1 << LZF_HASH_MAX_BITS];
    memset(table, 0, sizeof(uint32_t) << bits);

    lzf_out o = {out_data, 0, out_len};
    size_t pos = 0, literal_from = 0;
    while (pos + LZF_MIN_MATCH <= in_len) {
        uint32_t h = lzf_hash(in + pos, bits);
        size_t ref = table[h];
        table[h] = (uint32_t)pos + 1;
        size_t max = in_len - pos < LZF_MAX_MATCH ? in_len - pos : LZF_MAX_MATCH;
        size_t len = 0;
        if (ref && pos - (ref - 1) <= LZF_MAX_DISTANCE) len = lzf_match_len(in, ref - 1, pos, max);
        if (len < LZF_MIN_MATCH) {
            pos++;
            continue;
        }
        if (lzf_put_literals(&o, in, literal_from, pos) < 0) return 0;
        if (lzf_put_reference(&o, len, pos - (ref - 1)) < 0) return 0;
        for (size_t p = pos + 1; p < pos + len && p + LZF_MIN_MATCH <= in_len; p++)
            table[lzf_hash(in + p, bits)] = (uint32_t)p + 1;
        pos += len;
        literal_from = pos;
    }
    if (lzf_put_literals(&o, in, literal_from, in_len) < 0) return 0;
    return o.len;
}

/* Walks compressed data, checking every item against the input and the
 * output bounds; writes the output when out is not NULL. */
size_t lzf_decompress(const void *in_bytes, size_t in_len, void *out_bytes, size_t out_len)
{
    const unsigned char *in = in_bytes;
    unsigned char *out = out_bytes;
    size_t ip = 0, op = 0;
    while (ip < in_len) {
        unsigned ctrl = in[ip++];
        if (ctrl < LZF_MAX_LITERAL) {
            size_t n = ctrl + 1;
            if (in_len - ip < n || out_len - op < n) return 0;
            if (out) memcpy(out + op, in + ip, n);
            ip += n;
            op += n;
            continue;
        }
        size_t len = ctrl >> 5;
        if (len == LZF_SHORT_LEN_MAX) {
            if (ip >= in_len) return 0;
            len += in[ip++];
        }
        if (ip >= in_len) return 0;
        size_t distance = ((size_t)(ctrl & 0x1f) << 8) + in[ip++] + 1;
        len += 2;
        if (distance > op || out_len - op < len) return 0;
        if (out) {
            unsigned char *dst = out + op, *src = dst - distance;
            if (distance >= len) {
                memcpy(dst, src, len);
            } else if (distance == 1) {
                memset(dst, *src, len); /* a run of one byte */
            } else {
                /* A repeated pattern: copies of distance bytes never overlap
                 * what they read. */
                for (size_t done = 0; done < len; done += distance)
                    memcpy(dst + done, src + done, len - done < distance ? len - done : distance);
            }
        }
        op += len;
    }
    return op;
}
