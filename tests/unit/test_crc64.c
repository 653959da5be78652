/* test_crc64.c: unit tests of rdb/crc64.c: the CRC-64/Jones check value,
 * the empty input, a known RDB-style value, and the same data fed in random
 * splits (and byte by byte, and with empty pieces) giving the one-call
 * result at every alignment. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdb/crc64.h"
#include "tests/unit/fake/check_suite.h"

/* Bit by bit, straight from the definition, to compare the fast one with. */
static uint64_t crc64_reference(uint64_t crc, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

START_TEST(test_check_value)
{
    ck_assert_uint_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
}
END_TEST

START_TEST(test_empty_input)
{
    ck_assert_uint_eq(crc64(0, "", 0), 0);
    ck_assert_uint_eq(crc64(0x1234abcdULL, NULL, 0), 0x1234abcdULL);
}
END_TEST

START_TEST(test_matches_bitwise_reference)
{
    unsigned char buf[1000];
    srand(7);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)rand();
    /* Every length and start offset up to 40, so each tail and alignment
     * of the 16-byte steps is covered, then long inputs. */
    for (size_t off = 0; off < 17; off++)
        for (size_t len = 0; len <= 40; len++)
            ck_assert_uint_eq(crc64(0, buf + off, len), crc64_reference(0, buf + off, len));
    ck_assert_uint_eq(crc64(0, buf, sizeof(buf)), crc64_reference(0, buf, sizeof(buf)));
}
END_TEST

START_TEST(test_incremental_equals_one_shot)
{
    size_t n = 1 << 20;
    unsigned char *buf = malloc(n);
    srand(11);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)rand();
    uint64_t whole = crc64(0, buf, n);
    for (int round = 0; round < 50; round++) {
        uint64_t crc = 0;
        size_t pos = 0;
        while (pos < n) {
            size_t piece = (size_t)rand() % (round < 25 ? 64 : 100000);
            if (piece > n - pos) piece = n - pos;
            crc = crc64(crc, buf + pos, piece); /* pieces of 0 included */
            pos += piece;
        }
        ck_assert_uint_eq(crc, whole);
    }
    uint64_t crc = 0;
    for (size_t i = 0; i < 4096; i++)
        crc = crc64(crc, buf + i, 1);
    ck_assert_uint_eq(crc, crc64(0, buf, 4096));
    free(buf);
}
END_TEST

static Suite *crc64_suite(void)
{
    Suite *s = suite_create("crc64");
    TCase *tc = suite_new_tcase(s, "crc64", NULL, NULL, 30);
    tcase_add_test(tc, test_check_value);
    tcase_add_test(tc, test_empty_input);
    tcase_add_test(tc, test_matches_bitwise_reference);
    tcase_add_test(tc, test_incremental_equals_one_shot);
    return s;
}

int main(void)
{
    return run_suite(crc64_suite());
}
