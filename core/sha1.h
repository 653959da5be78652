/* sha1.h: SHA-1 (FIPS 180-1), for the dataset digests of DEBUG DIGEST and
 * DEBUG DIGEST-VALUE, which Redis defines over SHA-1. Not for security. A
 * leaf: incremental hashing over a small context, or one call for a buffer. */
#ifndef TANDEM_SHA1_H
#define TANDEM_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

typedef struct sha1_ctx {
    uint32_t h[5];          /* the chaining state H0..H4 */
    uint64_t total;         /* bytes hashed so far */
    unsigned char block[64];
    size_t used;            /* bytes waiting in block */
} sha1_ctx;

void sha1_init(sha1_ctx *ctx);
void sha1_update(sha1_ctx *ctx, const void *p, size_t len);
/* Pads, writes the 20-byte digest and leaves ctx spent (init it again to
 * reuse it). */
void sha1_final(sha1_ctx *ctx, unsigned char out[SHA1_DIGEST_LEN]);
/* One call; out may be the input itself. */
void sha1(const void *p, size_t len, unsigned char out[SHA1_DIGEST_LEN]);

#endif
