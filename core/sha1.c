/* sha1.c: SHA-1 as FIPS 180-1 specifies it: the message is padded to a
 * multiple of 512 bits (a 1 bit, zeros, the 64-bit big-endian bit length),
 * and each 512-bit block goes through 80 rounds over the five 32-bit words
 * of state, with the message schedule W[t] expanded from the block. */
#include "core/sha1.h"

#include <string.h>

static inline uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static inline uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* f(t; B, C, D) plus the constant K(t) of the round's group of twenty. */
static inline uint32_t round_fk(int t, uint32_t b, uint32_t c, uint32_t d)
{
    if (t < 20) return ((b & c) | (~b & d)) + 0x5A827999u;
    if (t < 40) return (b ^ c ^ d) + 0x6ED9EBA1u;
    if (t < 60) return ((b & c) | (b & d) | (c & d)) + 0x8F1BBCDCu;
    return (b ^ c ^ d) + 0xCA62C1D6u;
}

static void process_block(uint32_t h[5], const unsigned char *block)
{
    uint32_t w[80];
    for (int t = 0; t < 16; t++) w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 80; t++) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t temp = rotl(a, 5) + round_fk(t, b, c, d) + e + w[t];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void sha1_init(sha1_ctx *ctx)
{
    ctx->h[0] = 0x67452301u;
    ctx->h[1] = 0xEFCDAB89u;
    ctx->h[2] = 0x98BADCFEu;
    ctx->h[3] = 0x10325476u;
    ctx->h[4] = 0xC3D2E1F0u;
    ctx->total = 0;
    ctx->used = 0;
}

void sha1_update(sha1_ctx *ctx, const void *p, size_t len)
{
    const unsigned char *in = p;
    ctx->total += len;
    if (ctx->used) {
        size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->block + ctx->used, in, take);
        ctx->used += take;
        in += take;
        len -= take;
        if (ctx->used < 64) return;
        process_block(ctx->h, ctx->block);
        ctx->used = 0;
    }
    for (; len >= 64; in += 64, len -= 64) process_block(ctx->h, in);
    memcpy(ctx->block, in, len);
    ctx->used = len;
}

void sha1_final(sha1_ctx *ctx, unsigned char out[SHA1_DIGEST_LEN])
{
    uint64_t bits = ctx->total * 8;
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, 64 - ctx->used);
        process_block(ctx->h, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
    store_be32(ctx->block + 60, (uint32_t)bits);
    process_block(ctx->h, ctx->block);
    for (int i = 0; i < 5; i++) store_be32(out + 4 * i, ctx->h[i]);
    memset(ctx, 0, sizeof(*ctx));
}

void sha1(const void *p, size_t len, unsigned char out[SHA1_DIGEST_LEN])
{
    sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, p, len);
    sha1_final(&ctx, out);
}
