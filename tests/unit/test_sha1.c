/* test_sha1.c: unit tests of core/sha1.c: the FIPS 180 test vectors, the
 * lengths around the padding boundary, and the same data fed in random
 * splits (including empty updates) giving the one-call digest. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha1.h"
#include "tests/unit/fake/check_suite.h"

static void to_hex(const unsigned char d[SHA1_DIGEST_LEN], char out[41])
{
    for (int i = 0; i < SHA1_DIGEST_LEN; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check_digest(const void *p, size_t len, const char *want)
{
    unsigned char d[SHA1_DIGEST_LEN];
    char hex[41];
    sha1(p, len, d);
    to_hex(d, hex);
    ck_assert_str_eq(hex, want);
}

START_TEST(test_abc)
{
    check_digest("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
}
END_TEST

START_TEST(test_empty)
{
    check_digest("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}
END_TEST

START_TEST(test_448_bits)
{
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ck_assert_uint_eq(strlen(m), 56);
    check_digest(m, strlen(m), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}
END_TEST

START_TEST(test_896_bits)
{
    const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                    "klmnopqrlmnopqrsmnopqrstnopqrstu";
    check_digest(m, strlen(m), "a49b2446a02c645bf419f995b67091253a04a259");
}
END_TEST

START_TEST(test_million_a)
{
    size_t n = 1000000;
    char *m = malloc(n);
    memset(m, 'a', n);
    check_digest(m, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    /* The same fed one byte at a time for the first block's worth, then in
     * chunks of 1000. */
    sha1_ctx ctx;
    sha1_init(&ctx);
    size_t off = 0;
    for (; off < 64; off++) sha1_update(&ctx, m + off, 1);
    for (; off < n; off += 1000) sha1_update(&ctx, m + off, off + 1000 <= n ? 1000 : n - off);
    unsigned char d[SHA1_DIGEST_LEN];
    char hex[41];
    sha1_final(&ctx, d);
    to_hex(d, hex);
    ck_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(m);
}
END_TEST

/* Lengths around 55/56 (the length field no longer fits) and 64 bytes. */
START_TEST(test_padding_boundaries)
{
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
        {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
        {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
        {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
        {128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0"},
    };
    char buf[128];
    memset(buf, 'a', sizeof(buf));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_digest(buf, cases[i].n, cases[i].hex);
}
END_TEST

START_TEST(test_random_splits)
{
    srand(12345);
    size_t cap = 5000;
    unsigned char *data = malloc(cap);
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)rand() % cap;
        for (size_t i = 0; i < len; i++) data[i] = (unsigned char)rand();
        unsigned char whole[SHA1_DIGEST_LEN], parts[SHA1_DIGEST_LEN];
        sha1(data, len, whole);

        sha1_ctx ctx;
        sha1_init(&ctx);
        size_t off = 0;
        while (off < len) {
            size_t step = (size_t)rand() % 150; /* 0: an empty update */
            if (step > len - off) step = len - off;
            sha1_update(&ctx, data + off, step);
            off += step;
        }
        sha1_update(&ctx, data, 0);
        sha1_final(&ctx, parts);
        ck_assert_mem_eq(whole, parts, SHA1_DIGEST_LEN);
    }
    free(data);
}
END_TEST

START_TEST(test_context_reuse)
{
    sha1_ctx ctx;
    unsigned char d[SHA1_DIGEST_LEN];
    char hex[41];
    sha1_init(&ctx);
    sha1_update(&ctx, "xyz", 3);
    sha1_final(&ctx, d);
    sha1_init(&ctx);
    sha1_update(&ctx, "ab", 2);
    sha1_update(&ctx, "c", 1);
    sha1_final(&ctx, d);
    to_hex(d, hex);
    ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}
END_TEST

static Suite *sha1_suite(void)
{
    Suite *s = suite_create("sha1");
    TCase *tc = suite_new_tcase(s, "core", NULL, NULL, 0);
    tcase_add_test(tc, test_abc);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_448_bits);
    tcase_add_test(tc, test_896_bits);
    tcase_add_test(tc, test_million_a);
    tcase_add_test(tc, test_padding_boundaries);
    tcase_add_test(tc, test_random_splits);
    tcase_add_test(tc, test_context_reuse);
    return s;
}

int main(void)
{
    return run_suite(sha1_suite());
}
