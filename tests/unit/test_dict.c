/* test_dict.c: Check unit tests of the hash table (core/dict.c) and of
 * SipHash (core/siphash.c): the official SipHash-2-4 vectors, the resize
 * policy, a reference model under random operations across growth, shrinks
 * and disallowed resizing, SCAN coverage across resizes between calls, safe
 * and unsafe iterators, random sampling, time-budgeted rehashing, memory
 * accounting, and a large insert/find/delete pass. Randomness comes from a
 * fixed-seed generator, so every run does the same operations. */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dict.h"
#include "core/log.h"
#include "core/siphash.h"
#include "tests/unit/fake/check_suite.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_DICT_LARGE_N 1000000U
#else
#define TEST_DICT_LARGE_N 2000000U
#endif

#define TEST_DICT_EVERYTHING (1 << 30) /* rehash steps enough to finish */

/* The assertion for hot loops: Check's ck_assert_* write their location to
 * a file on every call, which would dominate loops of millions. */
#define TEST_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) ck_abort_msg("Assertion '%s' failed", #cond);                                 \
    } while (0)

typedef struct test_entry {
    dict_node node;
    size_t len;
    char key[];
} test_entry;

static void test_node_key(const dict_node *n, const char **key, size_t *len)
{
    const test_entry *e = (const test_entry *)n;
    *key = e->key;
    *len = e->len;
}

static const dict_type test_type = {test_node_key};

static uint64_t test_rng_state;

/* xorshift64*: deterministic test randomness. */
static uint64_t test_rand(void)
{
    test_rng_state ^= test_rng_state >> 12;
    test_rng_state ^= test_rng_state << 25;
    test_rng_state ^= test_rng_state >> 27;
    return test_rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned test_rand_below(unsigned n)
{
    return (unsigned)(test_rand() % n);
}

static void test_setup(void)
{
    uint8_t seed[16];
    for (int i = 0; i < 16; i++)
        seed[i] = (uint8_t)(0xa5 ^ (i * 7));
    dict_set_hash_seed(seed);
    dict_set_resize_allowed(1);
    test_rng_state = 0x9e3779b97f4a7c15ULL;
}

static test_entry *test_entry_new(const char *key, size_t len)
{
    test_entry *e = tmalloc(sizeof(*e) + len + 1);
    e->node.next = NULL;
    e->len = len;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    return e;
}

/* The key "k<id>" into buf (no NUL); returns its length. Hand-formatted:
 * the large test formats millions. */
static size_t test_key(char buf[16], unsigned id)
{
    char digits[10];
    size_t n = 0, len = 0;
    do {
        digits[n++] = (char)('0' + id % 10);
        id /= 10;
    } while (id);
    buf[len++] = 'k';
    while (n)
        buf[len++] = digits[--n];
    return len;
}

/* Entries of the numbered keys. */
static test_entry *test_entry_id(unsigned id)
{
    char buf[16];
    size_t len = test_key(buf, id);
    return test_entry_new(buf, len);
}

static unsigned test_id(const dict_node *n)
{
    return (unsigned)strtoul(((const test_entry *)n)->key + 1, NULL, 10);
}

static void test_free_node(dict_node *n, void *priv)
{
    (void)priv;
    tfree(n);
}

static dict_node *test_find_id(dict *d, unsigned id)
{
    char buf[16];
    size_t len = test_key(buf, id);
    return dict_find(d, buf, len);
}

static dict_node *test_unlink_id(dict *d, unsigned id)
{
    char buf[16];
    size_t len = test_key(buf, id);
    return dict_unlink(d, buf, len);
}

/* Adds ids [from, to), recording the nodes in live[] if given. */
static void test_add_ids(dict *d, unsigned from, unsigned to, test_entry **live)
{
    for (unsigned id = from; id < to; id++) {
        test_entry *e = test_entry_id(id);
        TEST_REQUIRE(dict_add(d, &e->node) == 0);
        if (live) live[id] = e;
    }
}

static void test_del_ids(dict *d, unsigned from, unsigned to)
{
    for (unsigned id = from; id < to; id++) {
        dict_node *n = test_unlink_id(d, id);
        TEST_REQUIRE(n != NULL);
        tfree(n);
    }
}

static void test_finish_rehash(dict *d)
{
    TEST_REQUIRE(dict_rehash_steps(d, TEST_DICT_EVERYTHING) == 0);
}

/* A dict with ids [0, n) in the middle of a growing rehash (n must be one
 * more than a power of two >= 4: the add that reaches it starts the rehash). */
static dict *test_dict_growing(unsigned n, test_entry **live)
{
    dict *d = dict_create(&test_type);
    test_add_ids(d, 0, n - 1, live);
    test_finish_rehash(d);
    test_add_ids(d, n - 1, n, live);
    ck_assert(dict_is_rehashing(d));
    return d;
}

/* ------------------------------------------------------------- siphash */

/* SipHash-2-4, key 00..0f, message 00 01 .. (i-1) for length i. */
static const uint64_t test_sip_vectors[64] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
    0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL, 0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
    0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
    0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL, 0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
    0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
    0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL,
    0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL, 0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL,
    0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
    0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
    0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL, 0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL,
    0xf935451de4f21df2ULL, 0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
    0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL, 0xa192d576b245165aULL,
    0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL, 0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL,
    0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
    0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};

START_TEST(test_siphash_official_vectors)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (int len = 0; len < 64; len++)
        ck_assert_msg(siphash(msg, (size_t)len, key) == test_sip_vectors[len],
                      "length %d: got %016llx", len,
                      (unsigned long long)siphash(msg, (size_t)len, key));
}
END_TEST

/* Reads the input at every alignment: the result does not depend on it. */
START_TEST(test_siphash_unaligned_input)
{
    uint8_t key[16] = {0}, buf[80];
    for (int i = 0; i < 80; i++)
        buf[i] = (uint8_t)(i * 13);
    uint64_t ref = siphash(buf, 40, key);
    for (int off = 1; off < 16; off++) {
        uint8_t copy[80];
        memcpy(copy + off, buf, 40);
        ck_assert(siphash(copy + off, 40, key) == ref);
    }
}
END_TEST

START_TEST(test_siphash_nocase_matches_lowercased)
{
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)test_rand();
    for (int round = 0; round < 2000; round++) {
        size_t len = test_rand_below(40);
        char mixed[40], lower[40];
        for (size_t i = 0; i < len; i++) {
            mixed[i] = (char)test_rand(); /* any byte, letters of both cases */
            lower[i] = (mixed[i] >= 'A' && mixed[i] <= 'Z') ? (char)(mixed[i] + 32) : mixed[i];
        }
        ck_assert(siphash_nocase(mixed, len, key) == siphash(lower, len, key));
    }
    /* Neighbours of the letters, and high bytes whose low 7 bits are
     * letters, are not folded. */
    const char edges[] = "@[`{\xc1\xda\xe1\xfa";
    ck_assert(siphash_nocase(edges, 8, key) == siphash(edges, 8, key));
    ck_assert(siphash_nocase("SET", 3, key) == siphash("set", 3, key));
    ck_assert(siphash_nocase("SET", 3, key) != siphash("SET", 3, key));
}
END_TEST

START_TEST(test_dict_hash_uses_seed)
{
    uint64_t h = dict_hash("hello", 5);
    ck_assert(dict_hash("hello", 5) == h);
    ck_assert(dict_hash("hellp", 5) != h);
    ck_assert(dict_hash("hello", 4) != h);
    ck_assert(dict_hash_nocase("HeLLo", 5) == dict_hash("hello", 5));
    uint8_t other[16] = {1};
    dict_set_hash_seed(other);
    ck_assert(dict_hash("hello", 5) != h);
    ck_assert(dict_hash_nocase("HELLO", 5) == dict_hash("hello", 5));
}
END_TEST

/* ------------------------------------------------------ basic behaviour */

START_TEST(test_dict_new_has_no_table)
{
    size_t before = alloc_used_memory();
    dict *d = dict_create(&test_type);
    ck_assert_uint_eq(alloc_used_memory() - before, alloc_size(d));
    ck_assert_uint_eq(dict_size(d), 0);
    ck_assert_uint_eq(dict_buckets(d), 0);
    ck_assert(!dict_is_rehashing(d));
    ck_assert_ptr_null(dict_find(d, "a", 1));
    ck_assert_ptr_null(dict_unlink(d, "a", 1));
    ck_assert_ptr_null(dict_random(d));
    dict_node *out[4];
    ck_assert_uint_eq(dict_sample(d, out, 4), 0);
    ck_assert_uint_eq(dict_scan(d, 0, NULL, NULL), 0);
    ck_assert_int_eq(dict_try_shrink(d), 0);
    ck_assert_int_eq(dict_rehash_steps(d, 10), 0);
    ck_assert_int_eq(dict_rehash_ms(d, 1000), 0);
    dict_iter it;
    dict_iter_init(&it, d, 0);
    ck_assert_ptr_null(dict_iter_next(&it));
    dict_iter_release(&it);
    ck_assert_uint_eq(alloc_used_memory() - before, alloc_size(d));
    dict_release(d, test_free_node, NULL);
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

START_TEST(test_dict_add_find_unlink)
{
    dict *d = dict_create(&test_type);
    test_entry *a = test_entry_new("alpha", 5);
    test_entry *empty = test_entry_new("", 0);
    test_entry *bin = test_entry_new("a\0b", 3);
    ck_assert_int_eq(dict_add(d, &a->node), 0);
    ck_assert_int_eq(dict_add(d, &empty->node), 0);
    ck_assert_int_eq(dict_add(d, &bin->node), 0);
    ck_assert_uint_eq(dict_size(d), 3);
    ck_assert_ptr_eq(dict_find(d, "alpha", 5), &a->node);
    ck_assert_ptr_eq(dict_find(d, "", 0), &empty->node);
    ck_assert_ptr_eq(dict_find(d, "a\0b", 3), &bin->node);
    ck_assert_ptr_null(dict_find(d, "a", 1));
    ck_assert_ptr_null(dict_find(d, "alph", 4));
    ck_assert_ptr_null(dict_find(d, "a\0c", 3));

    test_entry *dup = test_entry_new("alpha", 5);
    ck_assert_int_eq(dict_add(d, &dup->node), -1);
    ck_assert_ptr_eq(dict_add_or_find(d, &dup->node), &a->node);
    ck_assert_uint_eq(dict_size(d), 3);
    ck_assert_ptr_eq(dict_find(d, "alpha", 5), &a->node);

    test_entry *b = test_entry_new("beta", 4);
    ck_assert_ptr_null(dict_add_or_find(d, &b->node));
    ck_assert_ptr_eq(dict_find(d, "beta", 4), &b->node);
    ck_assert_uint_eq(dict_size(d), 4);

    ck_assert_ptr_eq(dict_unlink(d, "alpha", 5), &a->node);
    ck_assert_ptr_null(a->node.next);
    ck_assert_ptr_null(dict_unlink(d, "alpha", 5));
    ck_assert_ptr_null(dict_find(d, "alpha", 5));
    ck_assert_uint_eq(dict_size(d), 3);
    ck_assert_int_eq(dict_add(d, &dup->node), 0);
    ck_assert_ptr_eq(dict_find(d, "alpha", 5), &dup->node);
    tfree(a);
    dict_release(d, test_free_node, NULL);
}
END_TEST

START_TEST(test_dict_replace_node_keeps_place)
{
    enum { N = 1025 };
    test_entry *live[N];
    for (int rehashing = 0; rehashing < 2; rehashing++) {
        dict *d = test_dict_growing(N, live);
        if (!rehashing) test_finish_rehash(d);
        ck_assert_int_eq(dict_is_rehashing(d), rehashing);
        for (unsigned id = 0; id < N; id++) {
            test_entry *copy = test_entry_id(id);
            dict_replace_node(d, &live[id]->node, &copy->node);
            tfree(live[id]);
            live[id] = copy;
        }
        ck_assert_uint_eq(dict_size(d), N);
        for (unsigned id = 0; id < N; id++)
            ck_assert_ptr_eq(test_find_id(d, id), &live[id]->node);
        test_finish_rehash(d);
        for (unsigned id = 0; id < N; id++)
            ck_assert_ptr_eq(test_find_id(d, id), &live[id]->node);
        dict_release(d, test_free_node, NULL);
    }
}
END_TEST

START_TEST(test_dict_grow_policy)
{
    dict *d = dict_create(&test_type);
    test_add_ids(d, 0, 1, NULL);
    ck_assert_uint_eq(dict_buckets(d), 4);
    test_add_ids(d, 1, 4, NULL);
    ck_assert(!dict_is_rehashing(d));
    test_add_ids(d, 4, 5, NULL); /* used 4 >= size 4: grow to 8 */
    ck_assert(dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 4 + 8);
    test_finish_rehash(d);
    ck_assert_uint_eq(dict_buckets(d), 8);
    /* Growth targets the next power of two >= 2 * used. */
    test_add_ids(d, 5, 1025, NULL);
    test_finish_rehash(d);
    ck_assert_uint_eq(dict_buckets(d), 2048);
    /* No second rehash starts while one is in progress. */
    test_add_ids(d, 1025, 2049, NULL);
    ck_assert(dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 2048 + 4096);
    while (dict_is_rehashing(d)) {
        test_add_ids(d, (unsigned)dict_size(d), (unsigned)dict_size(d) + 1, NULL);
        ck_assert_uint_eq(dict_buckets(d) % 4096, dict_is_rehashing(d) ? 2048 : 0);
    }
    ck_assert_uint_eq(dict_buckets(d), 4096);
    for (unsigned id = 0; id < dict_size(d); id++)
        ck_assert_ptr_nonnull(test_find_id(d, id));
    dict_release(d, test_free_node, NULL);
}
END_TEST

START_TEST(test_dict_grow_when_resize_disallowed)
{
    dict *d = dict_create(&test_type);
    dict_set_resize_allowed(0);
    test_add_ids(d, 0, 24, NULL); /* load 6 in 4 buckets: still no grow */
    ck_assert(!dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 4);
    for (unsigned id = 0; id < 24; id++)
        ck_assert_ptr_nonnull(test_find_id(d, id));
    test_add_ids(d, 24, 25, NULL); /* used/size = 6 > 5: forced grow */
    ck_assert(dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 4 + 64);
    test_finish_rehash(d);
    test_del_ids(d, 0, 25);
    ck_assert_int_eq(dict_try_shrink(d), 0);
    dict_set_resize_allowed(1);
    ck_assert_int_eq(dict_try_shrink(d), 1);
    test_finish_rehash(d);
    ck_assert_uint_eq(dict_buckets(d), 4);
    dict_release(d, test_free_node, NULL);
}
END_TEST

START_TEST(test_dict_shrink_policy)
{
    dict *d = dict_create(&test_type);
    test_add_ids(d, 0, 100, NULL);
    test_finish_rehash(d);
    ck_assert_uint_eq(dict_buckets(d), 128);
    ck_assert_int_eq(dict_try_shrink(d), 0);
    test_del_ids(d, 13, 100); /* 13/128 is 10%: no shrink */
    test_finish_rehash(d);
    ck_assert_int_eq(dict_try_shrink(d), 0);
    test_del_ids(d, 12, 13); /* 12/128 is 9%: shrink to 16 */
    ck_assert_int_eq(dict_try_shrink(d), 1);
    ck_assert(dict_is_rehashing(d));
    ck_assert_uint_eq(dict_buckets(d), 128 + 16);
    ck_assert_int_eq(dict_try_shrink(d), 0); /* one at a time */
    for (unsigned id = 0; id < 12; id++)
        ck_assert_ptr_nonnull(test_find_id(d, id));
    test_finish_rehash(d);
    ck_assert_uint_eq(dict_buckets(d), 16);
    for (unsigned id = 0; id < 12; id++)
        ck_assert_ptr_nonnull(test_find_id(d, id));
    test_del_ids(d, 0, 12);
    ck_assert_int_eq(dict_try_shrink(d), 1);
    test_finish_rehash(d);
    ck_assert_uint_eq(dict_buckets(d), 4); /* never below 4 */
    ck_assert_int_eq(dict_try_shrink(d), 0);
    dict_release(d, test_free_node, NULL);
}
END_TEST

/* ------------------------------------------------------ reference model */

#define MODEL_KEYS 4096U
#define MODEL_OPS 200000U
#define MODEL_PHASE 20000U                /* ops between add-heavy and delete-heavy */
#define MODEL_FORK_FROM (6 * MODEL_PHASE) /* resize disallowed in this window */
#define MODEL_FORK_TO (MODEL_FORK_FROM + 30000U)

typedef struct model {
    dict *d;
    test_entry *live[MODEL_KEYS];
    unsigned long count;
} model;

/* The node the dict must hold for id, or NULL. */
static dict_node *model_node(const model *m, unsigned id)
{
    return m->live[id] ? &m->live[id]->node : NULL;
}

static void model_add(model *m, unsigned id, int or_find)
{
    test_entry *e = test_entry_id(id);
    if (or_find) {
        dict_node *found = dict_add_or_find(m->d, &e->node);
        TEST_REQUIRE(found == model_node(m, id));
    } else {
        TEST_REQUIRE(dict_add(m->d, &e->node) == (m->live[id] ? -1 : 0));
    }
    if (m->live[id]) {
        tfree(e);
    } else {
        m->live[id] = e;
        m->count++;
    }
}

static void model_unlink(model *m, unsigned id)
{
    dict_node *n = test_unlink_id(m->d, id);
    TEST_REQUIRE(n == model_node(m, id));
    if (n) {
        tfree(n);
        m->live[id] = NULL;
        m->count--;
    }
}

static void model_replace(model *m, unsigned id)
{
    if (!m->live[id]) return;
    test_entry *copy = test_entry_id(id);
    dict_replace_node(m->d, &m->live[id]->node, &copy->node);
    tfree(m->live[id]);
    m->live[id] = copy;
}

static void model_op(model *m, unsigned i)
{
    static const unsigned add_heavy[4] = {50, 60, 80, 90}; /* cumulative % */
    static const unsigned del_heavy[4] = {3, 5, 25, 90};
    const unsigned *mix = (i / MODEL_PHASE) % 2 == 0 ? add_heavy : del_heavy;
    unsigned id = test_rand_below(MODEL_KEYS);
    unsigned r = test_rand_below(100);
    if (r < mix[0])
        model_add(m, id, 0);
    else if (r < mix[1])
        model_add(m, id, 1);
    else if (r < mix[2])
        TEST_REQUIRE(test_find_id(m->d, id) == model_node(m, id));
    else if (r < mix[3])
        model_unlink(m, id);
    else
        model_replace(m, id);
}

static void model_verify(model *m)
{
    for (unsigned id = 0; id < MODEL_KEYS; id++)
        TEST_REQUIRE(test_find_id(m->d, id) == model_node(m, id));
    dict_iter it;
    unsigned long seen = 0;
    dict_iter_init(&it, m->d, 0);
    for (dict_node *n = dict_iter_next(&it); n; n = dict_iter_next(&it)) {
        TEST_REQUIRE(n == &m->live[test_id(n)]->node);
        seen++;
    }
    dict_iter_release(&it);
    ck_assert_uint_eq(seen, m->count);
}

static void model_clear(model *m)
{
    dict_empty(m->d, test_free_node, NULL);
    memset(m->live, 0, sizeof(m->live));
    m->count = 0;
    ck_assert_uint_eq(dict_buckets(m->d), 0);
}

START_TEST(test_dict_model_random_ops)
{
    size_t before = alloc_used_memory();
    static model m;
    unsigned long rehashing_seen = 0, shrinks = 0, grows = 0, over_one = 0;
    memset(&m, 0, sizeof(m));
    m.d = dict_create(&test_type);
    for (unsigned i = 0; i < MODEL_OPS; i++) {
        if (i == MODEL_FORK_FROM) {
            model_clear(&m);
            dict_set_resize_allowed(0);
        } else if (i == MODEL_FORK_TO) {
            dict_set_resize_allowed(1);
        }
        unsigned long buckets = dict_buckets(m.d);
        model_op(&m, i);
        TEST_REQUIRE(dict_size(m.d) == m.count);
        if (dict_is_rehashing(m.d)) {
            rehashing_seen++;
            grows += dict_buckets(m.d) > 2 * buckets; /* a grow started */
        }
        if (i >= MODEL_FORK_FROM && i < MODEL_FORK_TO && !dict_is_rehashing(m.d)) {
            TEST_REQUIRE(dict_size(m.d) <= 6 * dict_buckets(m.d));
            over_one += dict_size(m.d) > dict_buckets(m.d);
        }
        if (i % 1000 == 999) shrinks += (unsigned long)dict_try_shrink(m.d);
        if (i % 7919 == 0) dict_rehash_steps(m.d, (int)test_rand_below(200));
        if (i % MODEL_PHASE == MODEL_PHASE - 1) model_verify(&m);
    }
    ck_assert_uint_gt(rehashing_seen, 0);
    ck_assert_uint_gt(shrinks, 3);
    ck_assert_uint_gt(grows, 3);
    ck_assert_uint_gt(over_one, 1000);
    test_finish_rehash(m.d);
    model_verify(&m);
    dict_release(m.d, test_free_node, NULL);
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

/* ----------------------------------------------------------------- scan */

#define SCAN_BASE 300U /* ids below are present for the whole scan */

static void test_scan_count(void *priv, dict_node *n)
{
    unsigned *seen = priv;
    unsigned id = test_id(n);
    if (id < SCAN_BASE) seen[id]++;
}

START_TEST(test_dict_scan_stable_exactly_once)
{
    for (int rehashing = 0; rehashing < 2; rehashing++) {
        unsigned seen[SCAN_BASE] = {0};
        /* 257 nodes: the last add starts growing 256 -> 512. */
        dict *d = test_dict_growing(257, NULL);
        if (rehashing) /* move part of table 0 */
            ck_assert_int_eq(dict_rehash_steps(d, 60), 1);
        else
            test_finish_rehash(d);
        unsigned long cursor = 0, calls = 0;
        do {
            cursor = dict_scan(d, cursor, test_scan_count, seen);
            calls++;
        } while (cursor != 0);
        ck_assert_int_eq(dict_is_rehashing(d), rehashing);
        ck_assert_uint_eq(calls, rehashing ? 256 : 512);
        for (unsigned id = 0; id < 257; id++)
            ck_assert_uint_eq(seen[id], 1);
        dict_release(d, test_free_node, NULL);
    }
}
END_TEST

/* Between scan calls: grow (add many extras), shrink (drop them and start a
 * shrinking rehash), or leave the dict alone; then rehash none, a bit, or
 * all of the way. */
typedef struct scan_state {
    dict *d;
    unsigned extras; /* ids SCAN_BASE .. SCAN_BASE + extras - 1 present */
    unsigned long rehashing_calls;
    unsigned long grows, shrinks;
} scan_state;

static void scan_perturb(scan_state *s)
{
    unsigned r = test_rand_below(12);
    if (r == 0) {
        unsigned more = 500 + test_rand_below(3500);
        test_add_ids(s->d, SCAN_BASE + s->extras, SCAN_BASE + s->extras + more, NULL);
        s->extras += more;
        s->grows++;
    } else if (r == 1) {
        test_del_ids(s->d, SCAN_BASE, SCAN_BASE + s->extras);
        s->extras = 0;
        if (dict_is_rehashing(s->d) && test_rand_below(2)) test_finish_rehash(s->d);
        s->shrinks += (unsigned long)dict_try_shrink(s->d);
    }
    r = test_rand_below(4);
    if (r == 1)
        dict_rehash_steps(s->d, (int)test_rand_below(30));
    else if (r == 2)
        dict_rehash_steps(s->d, TEST_DICT_EVERYTHING);
}

static void scan_run(scan_state *s)
{
    unsigned seen[SCAN_BASE] = {0};
    unsigned long cursor = 0, calls = 0;
    do {
        s->rehashing_calls += (unsigned long)dict_is_rehashing(s->d);
        cursor = dict_scan(s->d, cursor, test_scan_count, seen);
        scan_perturb(s);
        calls++;
    } while (cursor != 0 && calls < 1000000);
    ck_assert_uint_eq(cursor, 0);
    for (unsigned id = 0; id < SCAN_BASE; id++)
        ck_assert_msg(seen[id] >= 1, "key %u missed by the scan", id);
}

/* Puts the dict (base ids only, no rehash) into a growing or a shrinking
 * rehash before the scan starts. */
static void scan_start_mid_rehash(scan_state *s, int growing)
{
    if (growing) {
        while (!dict_is_rehashing(s->d)) {
            test_add_ids(s->d, SCAN_BASE + s->extras, SCAN_BASE + s->extras + 1, NULL);
            s->extras++;
        }
    } else {
        test_add_ids(s->d, SCAN_BASE, SCAN_BASE + 6000, NULL);
        test_finish_rehash(s->d);
        test_del_ids(s->d, SCAN_BASE, SCAN_BASE + 6000);
        ck_assert_int_eq(dict_try_shrink(s->d), 1);
        dict_rehash_steps(s->d, (int)test_rand_below(20));
    }
    ck_assert(dict_is_rehashing(s->d));
}

static void scan_rounds(int start_mid_rehash)
{
    scan_state s = {0};
    for (int round = 0; round < 6; round++) {
        s.d = dict_create(&test_type);
        s.extras = 0;
        test_add_ids(s.d, 0, SCAN_BASE, NULL);
        test_finish_rehash(s.d);
        if (start_mid_rehash) scan_start_mid_rehash(&s, round % 2);
        scan_run(&s);
        dict_release(s.d, test_free_node, NULL);
    }
    ck_assert_uint_gt(s.rehashing_calls, 0);
    ck_assert_uint_gt(s.grows, 0);
    ck_assert_uint_gt(s.shrinks, 0);
}

START_TEST(test_dict_scan_across_resizes)
{
    scan_rounds(0);
}
END_TEST

START_TEST(test_dict_scan_starting_mid_rehash)
{
    scan_rounds(1);
}
END_TEST

/* ------------------------------------------------------------ iterators */

START_TEST(test_dict_safe_iter_delete_and_add)
{
    enum { N = 1000 };
    static test_entry *live[3 * N];
    unsigned visits[N] = {0};
    unsigned next_id = N;
    dict *d = dict_create(&test_type);
    test_add_ids(d, 0, N, live);
    test_finish_rehash(d);
    dict_iter it;
    dict_iter_init(&it, d, 1);
    for (dict_node *n = dict_iter_next(&it); n; n = dict_iter_next(&it)) {
        unsigned id = test_id(n);
        ck_assert_ptr_eq(n, &live[id]->node); /* never a freed node */
        if (id >= N) continue;
        visits[id]++;
        ck_assert_ptr_eq(test_unlink_id(d, id), n);
        tfree(n);
        live[id] = NULL;
        test_add_ids(d, next_id, next_id + 2, live);
        next_id += 2;
    }
    dict_iter_release(&it);
    for (unsigned id = 0; id < N; id++)
        ck_assert_uint_eq(visits[id], 1);
    ck_assert_uint_eq(dict_size(d), 2 * N);
    ck_assert(dict_is_rehashing(d)); /* grown while paused: nothing moved */
    test_finish_rehash(d);
    for (unsigned id = N; id < 3 * N; id++)
        ck_assert_ptr_eq(test_find_id(d, id), &live[id]->node);
    dict_release(d, test_free_node, NULL);
}
END_TEST

/* Removes or replaces nodes other than the one returned, in particular the
 * one the iterator will return next. */
static void safe_iter_disturb(dict *d, dict_node *n, test_entry **live, unsigned *visits,
                              unsigned *dropped, unsigned count)
{
    dict_node *succ = n->next;
    if (succ && test_rand_below(2)) {
        unsigned sid = test_id(succ);
        test_entry *copy = test_entry_id(sid);
        dict_replace_node(d, succ, &copy->node);
        tfree(succ);
        live[sid] = copy;
    } else if (succ) {
        unsigned sid = test_id(succ);
        ck_assert_ptr_eq(test_unlink_id(d, sid), succ);
        tfree(succ);
        live[sid] = NULL;
        dropped[sid] = !visits[sid];
    }
    unsigned other = test_rand_below(count);
    if (live[other] && &live[other]->node != n) {
        tfree(test_unlink_id(d, other));
        live[other] = NULL;
        dropped[other] = !visits[other];
    }
}

START_TEST(test_dict_safe_iter_delete_others)
{
    enum { N = 2000 };
    static test_entry *live[N];
    for (int rehashing = 0; rehashing < 2; rehashing++) {
        unsigned visits[N] = {0}, dropped[N] = {0};
        /* 1025 nodes: growing 1024 -> 2048 when rehashing. */
        dict *d = test_dict_growing(1025, live);
        if (rehashing)
            dict_rehash_steps(d, 300);
        else
            test_finish_rehash(d);
        ck_assert_int_eq(dict_is_rehashing(d), rehashing);
        dict_iter it;
        dict_iter_init(&it, d, 1);
        for (dict_node *n = dict_iter_next(&it); n; n = dict_iter_next(&it)) {
            unsigned id = test_id(n);
            ck_assert_ptr_eq(n, &live[id]->node);
            ck_assert(!dropped[id]);
            visits[id]++;
            safe_iter_disturb(d, n, live, visits, dropped, 1025);
            if (test_rand_below(2)) {
                ck_assert_ptr_eq(test_unlink_id(d, id), n);
                tfree(n);
                live[id] = NULL;
            }
        }
        dict_iter_release(&it);
        for (unsigned id = 0; id < 1025; id++)
            ck_assert_uint_eq(visits[id] + dropped[id], 1);
        test_finish_rehash(d);
        for (unsigned id = 0; id < 1025; id++)
            ck_assert_ptr_eq(test_find_id(d, id), live[id] ? &live[id]->node : NULL);
        dict_release(d, test_free_node, NULL);
    }
}
END_TEST

START_TEST(test_dict_unsafe_iter_visits_all)
{
    enum { N = 1025 };
    for (int rehashing = 0; rehashing < 2; rehashing++) {
        unsigned visits[N] = {0};
        dict *d = test_dict_growing(N, NULL);
        if (rehashing)
            dict_rehash_steps(d, 200);
        else
            test_finish_rehash(d);
        dict_iter it;
        dict_iter_init(&it, d, 0);
        for (dict_node *n = dict_iter_next(&it); n; n = dict_iter_next(&it))
            visits[test_id(n)]++;
        ck_assert_ptr_null(dict_iter_next(&it));
        dict_iter_release(&it);
        for (unsigned id = 0; id < N; id++)
            ck_assert_uint_eq(visits[id], 1);
        dict_release(d, test_free_node, NULL);
    }
}
END_TEST

START_TEST(test_dict_unsafe_iter_misuse_aborts)
{
    log_set_file("/dev/null"); /* the panic report */
    dict *d = dict_create(&test_type);
    test_add_ids(d, 0, 10, NULL);
    dict_iter it;
    dict_iter_init(&it, d, 0);
    ck_assert_ptr_nonnull(dict_iter_next(&it));
    test_add_ids(d, 10, 11, NULL);
    dict_iter_release(&it); /* aborts */
}
END_TEST

/* ------------------------------------------------------------- sampling */

static void random_covers(dict *d, test_entry **live, unsigned n)
{
    unsigned hits[64] = {0};
    for (int draw = 0; draw < 20000; draw++) {
        dict_node *x = dict_random(d);
        TEST_REQUIRE(x != NULL);
        unsigned id = test_id(x);
        TEST_REQUIRE(id < n);
        TEST_REQUIRE(x == &live[id]->node);
        hits[id]++;
    }
    for (unsigned id = 0; id < n; id++)
        TEST_REQUIRE(hits[id] > 0);
}

START_TEST(test_dict_random_returns_every_node)
{
    test_entry *live[64];
    dict *d = test_dict_growing(33, live);
    random_covers(d, live, 33);
    ck_assert(!dict_is_rehashing(d)); /* each draw performs a step */
    dict_release(d, test_free_node, NULL);
    /* Long chains: 24 nodes in 4 buckets. */
    dict_set_resize_allowed(0);
    d = dict_create(&test_type);
    test_add_ids(d, 0, 24, live);
    ck_assert_uint_eq(dict_buckets(d), 4);
    random_covers(d, live, 24);
    dict_release(d, test_free_node, NULL);
}
END_TEST

/* Samples count nodes of ids [0, n): distinct, present. Returns how many. */
static unsigned sample_check(dict *d, test_entry **live, unsigned n, unsigned count, unsigned *hits)
{
    dict_node *out[256];
    unsigned got = dict_sample(d, out, count);
    TEST_REQUIRE(got <= (count < n ? count : n));
    for (unsigned i = 0; i < got; i++) {
        unsigned id = test_id(out[i]);
        TEST_REQUIRE(id < n);
        TEST_REQUIRE(out[i] == &live[id]->node);
        for (unsigned j = 0; j < i; j++)
            TEST_REQUIRE(out[i] != out[j]);
        hits[id]++;
    }
    return got;
}

START_TEST(test_dict_sample_distinct_present)
{
    enum { N = 129 };
    test_entry *live[N];
    for (int rehashing = 0; rehashing < 2; rehashing++) {
        unsigned hits[N] = {0};
        dict *d = test_dict_growing(N, live);
        if (!rehashing) test_finish_rehash(d);
        for (int round = 0; round < 3000; round++)
            sample_check(d, live, N, 1 + test_rand_below(8), hits);
        for (unsigned id = 0; id < N; id++)
            ck_assert_uint_gt(hits[id], 0);
        /* Asking for more than present: every bucket visited once. */
        test_finish_rehash(d);
        dict_node *out[256];
        ck_assert_uint_eq(dict_sample(d, out, 256), N);
        sample_check(d, live, N, 256, hits);
        /* Sparse: 4 nodes in 256 buckets, 40 visits may find fewer. */
        test_del_ids(d, 4, N);
        unsigned fewest = 4;
        memset(hits, 0, sizeof(hits));
        for (int round = 0; round < 2000; round++) {
            unsigned got = sample_check(d, live, 4, 4, hits);
            fewest = got < fewest ? got : fewest;
        }
        ck_assert_uint_lt(fewest, 4);
        for (unsigned id = 0; id < 4; id++)
            ck_assert_uint_gt(hits[id], 0);
        dict_release(d, test_free_node, NULL);
    }
}
END_TEST

/* ------------------------------------------------------------ rehashing */

START_TEST(test_dict_rehash_ms_completes)
{
    enum { N = (1 << 17) + 1 };
    dict *d = test_dict_growing(N, NULL);
    /* Paused by a safe iterator: no progress. */
    dict_iter it;
    dict_iter_init(&it, d, 1);
    unsigned long buckets = dict_buckets(d);
    ck_assert_int_eq(dict_rehash_ms(d, 1000), 0);
    ck_assert_int_eq(dict_rehash_steps(d, 1000), 1);
    ck_assert_ptr_nonnull(test_find_id(d, 7));
    ck_assert_uint_eq(dict_buckets(d), buckets);
    dict_iter_release(&it);
    /* A zero budget still does one batch, and no more. */
    long long moved = dict_rehash_ms(d, 0);
    ck_assert_int_gt(moved, 0);
    ck_assert_int_le(moved, 100);
    long long calls = 0;
    while (dict_is_rehashing(d)) {
        ck_assert_int_gt(dict_rehash_ms(d, 200), 0);
        ck_assert_int_lt(++calls, 1000000);
    }
    ck_assert_uint_eq(dict_buckets(d), 1 << 18);
    for (unsigned id = 0; id < N; id += 97)
        ck_assert_ptr_nonnull(test_find_id(d, id));
    ck_assert_int_eq(dict_rehash_ms(d, 1000), 0);
    dict_release(d, test_free_node, NULL);
}
END_TEST

/* --------------------------------------------------------------- memory */

START_TEST(test_dict_memory_accounting)
{
    enum { N = 10000 };
    test_entry *live[N];
    size_t before = alloc_used_memory();
    dict *d = dict_create(&test_type);
    size_t dict_bytes = alloc_size(d);
    for (int round = 0; round < 2; round++) {
        size_t entries = 0;
        test_add_ids(d, 0, N, live);
        test_finish_rehash(d);
        for (unsigned id = 0; id < N; id++)
            entries += alloc_size(live[id]);
        /* The dict's own memory is its table only: nothing per entry. */
        size_t table = alloc_used_memory() - before - dict_bytes - entries;
        ck_assert_uint_ge(table, dict_buckets(d) * sizeof(dict_node *));
        ck_assert_uint_lt(table, dict_buckets(d) * sizeof(dict_node *) + 4096);
        dict_empty(d, test_free_node, NULL);
        ck_assert_uint_eq(dict_size(d), 0);
        ck_assert_uint_eq(dict_buckets(d), 0);
        ck_assert_uint_eq(alloc_used_memory() - before, dict_bytes);
        ck_assert_ptr_null(test_find_id(d, 1));
    }
    test_add_ids(d, 0, 100, NULL);
    dict_release(d, test_free_node, NULL);
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

/* ---------------------------------------------------------------- large */

START_TEST(test_dict_large_insert_find_delete)
{
    size_t before = alloc_used_memory();
    dict *d = dict_create(&test_type);
    test_add_ids(d, 0, TEST_DICT_LARGE_N, NULL);
    ck_assert_uint_eq(dict_size(d), TEST_DICT_LARGE_N);
    for (unsigned id = 0; id < TEST_DICT_LARGE_N; id++)
        TEST_REQUIRE(test_find_id(d, id) != NULL);
    ck_assert_ptr_null(test_find_id(d, TEST_DICT_LARGE_N));
    test_del_ids(d, 0, TEST_DICT_LARGE_N);
    ck_assert_uint_eq(dict_size(d), 0);
    int rehashing = dict_is_rehashing(d);
    ck_assert_int_eq(dict_try_shrink(d), !rehashing);
    dict_release(d, test_free_node, NULL);
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *test_dict_suite(void)
{
    Suite *s = suite_create("dict");
    TCase *tc = suite_new_tcase(s, "siphash", test_setup, NULL, 10);
    tcase_add_test(tc, test_siphash_official_vectors);
    tcase_add_test(tc, test_siphash_unaligned_input);
    tcase_add_test(tc, test_siphash_nocase_matches_lowercased);
    tcase_add_test(tc, test_dict_hash_uses_seed);
    tc = suite_new_tcase(s, "basic", test_setup, NULL, 10);
    tcase_add_test(tc, test_dict_new_has_no_table);
    tcase_add_test(tc, test_dict_add_find_unlink);
    tcase_add_test(tc, test_dict_replace_node_keeps_place);
    tcase_add_test(tc, test_dict_grow_policy);
    tcase_add_test(tc, test_dict_grow_when_resize_disallowed);
    tcase_add_test(tc, test_dict_shrink_policy);
    tcase_add_test(tc, test_dict_model_random_ops);
    tc = suite_new_tcase(s, "scan", test_setup, NULL, 30);
    tcase_add_test(tc, test_dict_scan_stable_exactly_once);
    tcase_add_test(tc, test_dict_scan_across_resizes);
    tcase_add_test(tc, test_dict_scan_starting_mid_rehash);
    tc = suite_new_tcase(s, "iterators", test_setup, NULL, 10);
    tcase_add_test(tc, test_dict_safe_iter_delete_and_add);
    tcase_add_test(tc, test_dict_safe_iter_delete_others);
    tcase_add_test(tc, test_dict_unsafe_iter_visits_all);
    tcase_add_test_raise_signal(tc, test_dict_unsafe_iter_misuse_aborts, SIGABRT);
    tc = suite_new_tcase(s, "sampling", test_setup, NULL, 10);
    tcase_add_test(tc, test_dict_random_returns_every_node);
    tcase_add_test(tc, test_dict_sample_distinct_present);
    tc = suite_new_tcase(s, "resources", test_setup, NULL, 60);
    tcase_add_test(tc, test_dict_rehash_ms_completes);
    tcase_add_test(tc, test_dict_memory_accounting);
    tcase_add_test(tc, test_dict_large_insert_find_delete);
    return s;
}

int main(void)
{
    return run_suite(test_dict_suite());
}
