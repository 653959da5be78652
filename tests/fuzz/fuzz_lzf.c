/* fuzz_lzf.c: libFuzzer target for LZF (rdb/lzf.c). The input is used two
 * ways. As compressed data: lzf_decompress measuring (out NULL) must agree with what
 * lzf_decompress produces into a buffer of the size the first two bytes ask
 * for, and a buffer of exactly the decompressed size must take it while one
 * byte less must be refused. As plain data: compressing it into a buffer no
 * larger than the input (as RDB strings are) and into a roomy one, then
 * decompressing, must give the input back. Every buffer has exactly its
 * size, so the sanitizer sees any byte written or read past it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "rdb/lzf.h"

#define OUT_MAX 65536

static void check_decompress(const uint8_t *in, size_t len, size_t out_len)
{
    char *out = tmalloc(out_len ? out_len : 1);
    size_t n = lzf_decompress(in, len, out, out_len);
    size_t measured = lzf_decompress(in, len, NULL, out_len);
    if (n != measured || n > out_len) abort();
    tfree(out);
    if (n == 0) return;
    char *exact = tmalloc(n), *ref = tmalloc(n);
    if (lzf_decompress(in, len, exact, n) != n) abort();
    if (lzf_decompress(in, len, ref, n - 1) != 0) abort();
    if (lzf_decompress(in, len, NULL, n - 1) != 0) abort();
    tfree(exact);
    tfree(ref);
}

static void check_round_trip(const uint8_t *in, size_t len, size_t room)
{
    char *packed = tmalloc(room ? room : 1);
    size_t c = lzf_compress(in, len, packed, room);
    if (c > room) abort();
    if (c > 0) {
        char *back = tmalloc(len);
        if (lzf_decompress(packed, c, NULL, len) != len) abort();
        if (lzf_decompress(packed, c, back, len) != len || memcmp(back, in, len) != 0) abort();
        tfree(back);
    }
    tfree(packed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2) {
        size_t want = ((size_t)data[0] << 8 | data[1]) % OUT_MAX;
        check_decompress(data + 2, size - 2, want);
    }
    if (size > 0) {
        check_round_trip(data, size, size);
        check_round_trip(data, size, size + size / 16 + 64);
    }
    return 0;
}
