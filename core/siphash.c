/* siphash.c: SipHash-2-4 (see siphash.h). The input is read as little-endian
 * 64-bit words: each full word is absorbed with two SipRounds, the final word
 * holds the remaining bytes with the length (mod 256) in its top byte, and
 * the finalization runs four SipRounds. */
#include "core/siphash.h"

#include <string.h>

#define SIP_C_ROUNDS 2
#define SIP_D_ROUNDS 4

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

static inline uint64_t sip_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t sip_load_le(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Lowercases the ASCII letters of the eight bytes of w at once: a byte gets
 * 0x20 added when it lies in 'A'..'Z'. */
static inline uint64_t sip_lower_word(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t b = w & ~high;                    /* low 7 bits of each byte */
    uint64_t ge_a = (b + ones * (0x80 - 'A')); /* high bit set when b >= 'A' */
    uint64_t gt_z = (b + ones * (0x7f - 'Z')); /* high bit set when b > 'Z' */
    uint64_t upper = ge_a & ~gt_z & ~w & high; /* ASCII (high bit clear) too */
    return w | (upper >> 2);
}

static inline void sip_round(sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = sip_rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = sip_rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = sip_rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = sip_rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = sip_rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = sip_rotl(s->v2, 32);
}

static inline void sip_absorb(sip_state *s, uint64_t m)
{
    s->v3 ^= m;
    for (int i = 0; i < SIP_C_ROUNDS; i++)
        sip_round(s);
    s->v0 ^= m;
}

/* The 0..7 trailing bytes as a word (its top byte stays 0). */
static inline uint64_t sip_tail_word(const uint8_t *tail, size_t n)
{
    uint8_t buf[8] = {0};
    memcpy(buf, tail, n);
    return sip_load_le(buf);
}

static inline __attribute__((always_inline)) uint64_t
sip_hash(const uint8_t *in, size_t len, const uint8_t key[SIPHASH_KEY_LEN], int nocase)
{
    uint64_t k0 = sip_load_le(key), k1 = sip_load_le(key + 8);
    sip_state s = {
        k0 ^ 0x736f6d6570736575ULL,
        k1 ^ 0x646f72616e646f6dULL,
        k0 ^ 0x6c7967656e657261ULL,
        k1 ^ 0x7465646279746573ULL,
    };
    const uint8_t *end = in + (len & ~(size_t)7);
    for (const uint8_t *p = in; p != end; p += 8) {
        uint64_t m = sip_load_le(p);
        sip_absorb(&s, nocase ? sip_lower_word(m) : m);
    }
    uint64_t tail = sip_tail_word(end, len & 7);
    if (nocase) tail = sip_lower_word(tail);
    sip_absorb(&s, tail | ((uint64_t)len << 56)); /* the length, mod 256 */
    s.v2 ^= 0xff;
    for (int i = 0; i < SIP_D_ROUNDS; i++)
        sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash(const void *in, size_t len, const uint8_t key[SIPHASH_KEY_LEN])
{
    return sip_hash(in, len, key, 0);
}

uint64_t siphash_nocase(const void *in, size_t len, const uint8_t key[SIPHASH_KEY_LEN])
{
    return sip_hash(in, len, key, 1);
}
