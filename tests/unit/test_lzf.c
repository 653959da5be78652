/* test_lzf.c: unit tests of rdb/lzf.c: hand-made vectors of the liblzf
 * format (literal runs, short and long back references, overlapping
 * references that repeat a pattern), round trips of random, repetitive and
 * mixed inputs of many sizes, compression refusing an output buffer that is
 * too small, and decompression refusing every malformed input: truncated
 * runs and references, references before the start, output overflow, every
 * truncation of valid data, and 100,000 random byte strings, each in a
 * buffer of exactly its size so that the sanitizer build catches any
 * overread. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdb/lzf.h"
#include "tests/unit/fake/check_suite.h"

static unsigned rng_state = 12345;

static unsigned rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* Kinds of input: random, one byte repeated, a short period, text-like
 * words, and runs of random and repeated stretches. */
static void fill(unsigned char *p, size_t len, int kind)
{
    static const char *words[] = {"user:", "1000", "session", "value", " ", "token", "abc"};
    size_t period = 1 + rng() % 300;
    for (size_t i = 0; i < len;) {
        switch (kind) {
        case 0:
            p[i++] = (unsigned char)rng();
            break;
        case 1:
            p[i++] = 'x';
            break;
        case 2:
            p[i] = i < period ? (unsigned char)rng() : p[i - period];
            i++;
            break;
        case 3: {
            const char *w = words[rng() % 7];
            for (size_t k = 0; w[k] && i < len; k++)
                p[i++] = (unsigned char)w[k];
            break;
        }
        default: {
            size_t run = 1 + rng() % 500;
            unsigned char b = (unsigned char)rng();
            int rep = rng() % 2;
            for (size_t k = 0; k < run && i < len; k++)
                p[i++] = rep ? b : (unsigned char)rng();
            break;
        }
        }
    }
}

static void check_round_trip(const unsigned char *in, size_t len)
{
    size_t cap = len + len / 16 + 64;
    unsigned char *c = malloc(cap), *d = malloc(len + 1);
    size_t clen = lzf_compress(in, len, c, cap);
    ck_assert_uint_gt(clen, 0);
    ck_assert_uint_eq(lzf_decompress(c, clen, NULL, len), len);
    ck_assert_uint_eq(lzf_decompress(c, clen, d, len), len);
    ck_assert(memcmp(in, d, len) == 0);
    /* One byte less of output room is refused. */
    ck_assert_uint_eq(lzf_decompress(c, clen, d, len - 1), 0);
    ck_assert_uint_eq(lzf_decompress(c, clen, NULL, len - 1), 0);
    free(c);
    free(d);
}

START_TEST(test_vectors)
{
    unsigned char out[400];
    /* "abc", then 6 bytes from 3 back: overlaps what it writes. */
    const unsigned char v1[] = {0x02, 'a', 'b', 'c', 0x80, 0x02};
    ck_assert_uint_eq(lzf_decompress(v1, sizeof(v1), out, sizeof(out)), 9);
    ck_assert(memcmp(out, "abcabcabc", 9) == 0);
    /* 'a', then 264 (7 + extra 255 + 2) and 35 (7 + 26 + 2) from 1 back. */
    const unsigned char v2[] = {0x00, 'a', 0xE0, 0xFF, 0x00, 0xE0, 0x1A, 0x00};
    ck_assert_uint_eq(lzf_decompress(v2, sizeof(v2), out, sizeof(out)), 300);
    for (int i = 0; i < 300; i++)
        ck_assert_int_eq(out[i], 'a');
    /* A 32-byte literal run, the longest. */
    unsigned char v3[33];
    v3[0] = 31;
    for (int i = 1; i < 33; i++)
        v3[i] = (unsigned char)i;
    ck_assert_uint_eq(lzf_decompress(v3, sizeof(v3), out, sizeof(out)), 32);
    ck_assert_int_eq(out[31], 32);
    /* A reference at the far end of the window: 8192 back. */
    unsigned char *big = malloc(9000), *cbig = malloc(9000);
    size_t n = 0;
    for (int i = 0; i < 8192; i += 32) {
        cbig[n++] = 31;
        for (int k = 0; k < 32; k++)
            cbig[n++] = (unsigned char)((i + k) * 7);
    }
    cbig[n++] = 0x1F | 0x20; /* length 3, high offset bits 0x1F */
    cbig[n++] = 0xFF;        /* distance 0x1FFF + 1 = 8192 */
    ck_assert_uint_eq(lzf_decompress(cbig, n, big, 9000), 8195);
    ck_assert(memcmp(big + 8192, big, 3) == 0);
    free(big);
    free(cbig);
}
END_TEST

START_TEST(test_round_trips)
{
    static const size_t sizes[] = {1,    2,    3,    4,     5,     21,     31,    32,
                                   33,   64,   100,  255,   264,   265,    1000,  4096,
                                   8191, 8192, 8193, 20000, 65536, 100000, 300001};
    unsigned char *buf = malloc(300001);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int kind = 0; kind < 5; kind++) {
            for (int rep = 0; rep < 3; rep++) {
                fill(buf, sizes[i], kind);
                check_round_trip(buf, sizes[i]);
            }
        }
    }
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + rng() % 3000;
        fill(buf, len, (int)(rng() % 5));
        check_round_trip(buf, len);
    }
    free(buf);
}
END_TEST

START_TEST(test_compresses_repetition)
{
    unsigned char in[10000], out[10000];
    fill(in, sizeof(in), 1);
    size_t clen = lzf_compress(in, sizeof(in), out, sizeof(out));
    ck_assert_uint_gt(clen, 0);
    ck_assert_uint_lt(clen, 200); /* 38 long references and a literal */
}
END_TEST

START_TEST(test_compress_refuses_small_output)
{
    unsigned char in[5000], out[6000];
    /* Random data grows by the literal headers: does not fit in its size. */
    fill(in, sizeof(in), 0);
    ck_assert_uint_eq(lzf_compress(in, sizeof(in), out, sizeof(in)), 0);
    ck_assert_uint_gt(lzf_compress(in, sizeof(in), out, sizeof(out)), sizeof(in));
    /* Compressible data: exactly its compressed size fits, one less not. */
    fill(in, sizeof(in), 3);
    size_t clen = lzf_compress(in, sizeof(in), out, sizeof(out));
    ck_assert_uint_gt(clen, 0);
    ck_assert_uint_eq(lzf_compress(in, sizeof(in), out, clen), clen);
    ck_assert_uint_eq(lzf_compress(in, sizeof(in), out, clen - 1), 0);
    for (size_t room = 0; room < 40; room++)
        ck_assert_uint_eq(lzf_compress(in, sizeof(in), out, room), 0);
    ck_assert_uint_eq(lzf_compress(in, 0, out, sizeof(out)), 0);
}
END_TEST

/* Decompresses in (copied into a buffer of exactly its size) into a
 * buffer of exactly out_len bytes, checks the dry run agrees, and returns
 * the result. */
static size_t decompress_exact(const unsigned char *in, size_t len, size_t out_len)
{
    unsigned char *ci = malloc(len ? len : 1), *out = malloc(out_len ? out_len : 1);
    memcpy(ci, in, len);
    size_t n = lzf_decompress(ci, len, out, out_len);
    ck_assert_uint_le(n, out_len);
    ck_assert_uint_eq(lzf_decompress(ci, len, NULL, out_len), n);
    free(ci);
    free(out);
    return n;
}

START_TEST(test_decompress_rejects_malformed)
{
    /* Empty input. */
    ck_assert_uint_eq(decompress_exact((const unsigned char *)"", 0, 10), 0);
    /* A literal run announcing 6 bytes with 3 present. */
    const unsigned char cut_run[] = {0x05, 'a', 'b', 'c'};
    ck_assert_uint_eq(decompress_exact(cut_run, sizeof(cut_run), 100), 0);
    /* A back reference as the first item: before the start. */
    const unsigned char ref_first[] = {0x20, 0x00};
    ck_assert_uint_eq(decompress_exact(ref_first, sizeof(ref_first), 100), 0);
    /* A reference further back than the output so far. */
    const unsigned char ref_far[] = {0x01, 'a', 'b', 0x20, 0x02};
    ck_assert_uint_eq(decompress_exact(ref_far, sizeof(ref_far), 100), 0);
    const unsigned char ref_far_hi[] = {0x01, 'a', 'b', 0x21, 0x00};
    ck_assert_uint_eq(decompress_exact(ref_far_hi, sizeof(ref_far_hi), 100), 0);
    /* A reference without its offset byte, a long one without its length
     * byte, and one without both. */
    const unsigned char no_off[] = {0x01, 'a', 'b', 0x20};
    ck_assert_uint_eq(decompress_exact(no_off, sizeof(no_off), 100), 0);
    const unsigned char no_len[] = {0x01, 'a', 'b', 0xE0};
    ck_assert_uint_eq(decompress_exact(no_len, sizeof(no_len), 100), 0);
    const unsigned char no_off_long[] = {0x01, 'a', 'b', 0xE0, 0x05};
    ck_assert_uint_eq(decompress_exact(no_off_long, sizeof(no_off_long), 100), 0);
    /* Output overflow: by a literal run and by a reference. */
    const unsigned char lit[] = {0x03, 'a', 'b', 'c', 'd'};
    ck_assert_uint_eq(decompress_exact(lit, sizeof(lit), 4), 4);
    ck_assert_uint_eq(decompress_exact(lit, sizeof(lit), 3), 0);
    const unsigned char ref[] = {0x00, 'a', 0xE0, 0xFF, 0x00};
    ck_assert_uint_eq(decompress_exact(ref, sizeof(ref), 265), 265);
    ck_assert_uint_eq(decompress_exact(ref, sizeof(ref), 264), 0);
    ck_assert_uint_eq(decompress_exact(ref, sizeof(ref), 0), 0);
}
END_TEST

START_TEST(test_every_truncation)
{
    unsigned char in[3000], c[3200];
    fill(in, sizeof(in), 4);
    size_t clen = lzf_compress(in, sizeof(in), c, sizeof(c));
    ck_assert_uint_gt(clen, 0);
    for (size_t cut = 0; cut < clen; cut++) {
        unsigned char *ci = malloc(cut ? cut : 1), *out = malloc(sizeof(in));
        memcpy(ci, c, cut);
        size_t n = lzf_decompress(ci, cut, out, sizeof(in));
        /* A cut inside an item is refused; at an item boundary it is the
         * valid prefix: never anything else. */
        ck_assert_uint_lt(n, sizeof(in));
        if (n) ck_assert(memcmp(out, in, n) == 0);
        free(ci);
        free(out);
    }
}
END_TEST

START_TEST(test_fuzz_random_inputs)
{
    long accepted = 0;
    for (int i = 0; i < 100000; i++) {
        size_t len = rng() % 64;
        unsigned char in[64];
        for (size_t k = 0; k < len; k++)
            in[k] = (unsigned char)rng();
        /* Mostly small control bytes so that references get exercised. */
        if (len && rng() % 2) in[0] = (unsigned char)(rng() % 32);
        size_t out_len = rng() % 512;
        if (decompress_exact(in, len, out_len)) accepted++;
    }
    ck_assert_int_gt(accepted, 0);
}
END_TEST

static Suite *lzf_suite(void)
{
    Suite *s = suite_create("lzf");
    TCase *tc = suite_new_tcase(s, "format", NULL, NULL, 30);
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_compresses_repetition);
    tc = suite_new_tcase(s, "round-trip", NULL, NULL, 120);
    tcase_add_test(tc, test_round_trips);
    tcase_add_test(tc, test_compress_refuses_small_output);
    tc = suite_new_tcase(s, "malformed", NULL, NULL, 120);
    tcase_add_test(tc, test_decompress_rejects_malformed);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_fuzz_random_inputs);
    return s;
}

int main(void)
{
    return run_suite(lzf_suite());
}
