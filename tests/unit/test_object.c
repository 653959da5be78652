/* test_object.c: unit tests of core/object.c, the kv layout: integer and
 * string encodings, the one-byte and eight-byte length forms around their
 * boundary, growing copies that keep key and expiry bit, in-place edits
 * within the room, copies under another key, and the sizes that make a key
 * with a 100-byte value fit one 128-byte allocation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/object.h"
#include "tests/unit/fake/check_suite.h"

static void assert_string(const kv *o, const char *want, size_t len)
{
    char buf[OBJ_LL_TEXT];
    size_t got_len;
    const char *got = kv_string(o, buf, &got_len);
    ck_assert_uint_eq(got_len, len);
    ck_assert(memcmp(got, want, len) == 0);
    ck_assert_uint_eq(kv_strlen(o), len);
}

START_TEST(test_int_encoding)
{
    kv *o = kv_new_string("k", 1, "12345", 5);
    ck_assert_int_eq(o->encoding, OBJ_ENCODING_INT);
    ck_assert_int_eq(kv_int(o), 12345);
    assert_string(o, "12345", 5);
    ck_assert_int_eq(kv_refcount(o), 1);
    kv_set_int(o, -7);
    assert_string(o, "-7", 2);
    kv_free(o);
    o = kv_new_string("k", 1, "42", 2);
    ck_assert_int_eq(kv_refcount(o), OBJ_SHARED_REFCOUNT);
    kv_free(o);
    /* Not canonical: stays a string. */
    const char *texts[] = {"007", "-0", "+1", " 1", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        o = kv_new_string("k", 1, texts[i], strlen(texts[i]));
        ck_assert_int_ne(o->encoding, OBJ_ENCODING_INT);
        assert_string(o, texts[i], strlen(texts[i]));
        kv_free(o);
    }
}
END_TEST

START_TEST(test_length_forms)
{
    char val[600];
    for (size_t i = 0; i < sizeof(val); i++) val[i] = (char)('a' + i % 26);
    size_t lens[] = {0, 1, 44, 45, 253, 254, 255, 256, 599};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        kv *o = kv_new_string("key", 3, val, lens[i]);
        ck_assert_str_eq(kv_key(o), "key");
        assert_string(o, val, lens[i]);
        ck_assert_str_eq(kv_encoding_name(o), lens[i] <= OBJ_EMBSTR_LIMIT ? "embstr" : "raw");
        kv_free(o);
    }
}
END_TEST

START_TEST(test_grow_and_edit)
{
    kv *o = kv_new_string("name", 4, "hello", 5);
    o->has_expire = 1;
    kv *g = kv_grow_copy(o, 200);
    ck_assert_str_eq(kv_key(g), "name");
    ck_assert_int_eq(g->has_expire, 1);
    ck_assert_str_eq(kv_encoding_name(g), "raw");
    ck_assert(memcmp(kv_string_mut(g), "hello\0\0\0", 8) == 0);
    ck_assert_uint_eq(kv_strlen(g), 200);
    ck_assert_uint_ge(kv_string_room(g), 300); /* grows past 255 in place */
    memset(kv_string_mut(g) + 8, 'x', 292);
    kv_set_strlen(g, 300);
    ck_assert_uint_eq(kv_strlen(g), 300);
    kv_free(o);
    /* An integer grows into its text. */
    kv *n = kv_new_int("n", 1, 123);
    kv *ng = kv_grow_copy(n, 0);
    assert_string(ng, "123", 3);
    kv_free(n);
    kv_free(ng);
    kv_free(g);
}
END_TEST

START_TEST(test_short_form_room_is_capped)
{
    char val[200];
    memset(val, 'v', sizeof(val));
    kv *o = kv_new_string("k", 1, val, sizeof(val));
    ck_assert_uint_le(kv_string_room(o), 254);
    ck_assert_uint_ge(kv_string_room(o), 200);
    kv_free(o);
}
END_TEST

START_TEST(test_copy_as)
{
    kv *o = kv_new_string("a", 1, "some value that is long enough", 30);
    kv *c = kv_copy_as(o, "other", 5);
    ck_assert_str_eq(kv_key(c), "other");
    assert_string(c, "some value that is long enough", 30);
    ck_assert_int_eq(c->encoding, o->encoding);
    kv *i = kv_new_int("i", 1, -5);
    kv *ic = kv_copy_as(i, "j", 1);
    ck_assert_int_eq(kv_int(ic), -5);
    kv_free(o);
    kv_free(c);
    kv_free(i);
    kv_free(ic);
}
END_TEST

START_TEST(test_compact_sizes)
{
    char val[100];
    memset(val, 'x', sizeof(val));
    kv *o = kv_new_string("key:123456", 10, val, sizeof(val));
    ck_assert_uint_le(kv_alloc_size(o), 128);
    kv *n = kv_new_string("key:123456", 10, "123456", 6);
    ck_assert_uint_le(kv_alloc_size(n), 48);
    kv_free(o);
    kv_free(n);
}
END_TEST

START_TEST(test_no_leaks)
{
    size_t before = alloc_used_memory();
    kv *o = kv_new_string("k", 1, "v", 1);
    kv *g = kv_grow_copy(o, 1000);
    kv_free(o);
    kv_free(g);
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("object");
    TCase *tc = suite_new_tcase(s, "kv", NULL, NULL, 0);
    tcase_add_test(tc, test_int_encoding);
    tcase_add_test(tc, test_length_forms);
    tcase_add_test(tc, test_grow_and_edit);
    tcase_add_test(tc, test_short_form_room_is_capped);
    tcase_add_test(tc, test_copy_as);
    tcase_add_test(tc, test_compact_sizes);
    tcase_add_test(tc, test_no_leaks);
    return run_suite(s);
}
