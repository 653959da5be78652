/* test_db.c: Check unit tests of the keyspace (core/db.c) and of the kv
 * objects it stores (core/object.c), driven directly: string encodings and
 * copies, adding, replacing and deleting keys, lookups and their statistics
 * and access clock, expiry in the past and the future under the three
 * expire modes, the expired hook on lazy and active deletion, db_swap_kv,
 * db_take, SCAN coverage, random keys, flushing in the foreground and in the
 * background thread, and SWAPDB. Every test runs in its own forked process
 * with sixteen fresh databases. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bio.h"
#include "core/db.h"
#include "core/dict.h"
#include "core/object.h"
#include "tests/unit/fake/check_suite.h"

#define TEST_DBS 16
#define TEST_MAX_EXPIRED 20000

/* What the expired hook saw. */
static struct {
    int calls;
    int last_id;
    char last_key[64];
    unsigned char seen[TEST_MAX_EXPIRED]; /* per "k:<n>" key: times reported */
} hook;

static void test_expired_hook(int id, const char *key, size_t len)
{
    hook.calls++;
    hook.last_id = id;
    size_t n = len < sizeof(hook.last_key) - 1 ? len : sizeof(hook.last_key) - 1;
    memcpy(hook.last_key, key, n);
    hook.last_key[n] = '\0';
    int idx;
    if (sscanf(hook.last_key, "k:%d", &idx) == 1 && idx >= 0 && idx < TEST_MAX_EXPIRED)
        hook.seen[idx]++;
}

static void test_setup(void)
{
    uint8_t seed[16];
    for (int i = 0; i < 16; i++) seed[i] = (uint8_t)(0x3c ^ (i * 13));
    dict_set_hash_seed(seed);
    memset(&hook, 0, sizeof(hook));
    db_init(TEST_DBS);
    db_set_expire_mode(DB_EXPIRE_DELETE);
    db_set_expired_hook(test_expired_hook);
}

static void test_teardown(void) { db_free_all(); }

/* Adds key=val to a database and returns the kv. */
static kv *put(int id, const char *key, const char *val)
{
    kv *o = kv_new_string(key, strlen(key), val, strlen(val));
    db_set(id, o, 0);
    return o;
}

static kv *find(int id, const char *key) { return db_find(id, key, strlen(key)); }

/* The string value of o as a C string in buf. */
static const char *value_of(const kv *o, char *buf, size_t size)
{
    char tmp[OBJ_LL_TEXT];
    size_t len;
    const char *p = kv_string(o, tmp, &len);
    ck_assert_uint_lt(len, size);
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

static void key_name(char *buf, size_t size, int i) { snprintf(buf, size, "k:%d", i); }

/* Fills a database with n keys "k:<i>"; those with i < expired expire at
 * past_ms, the others at future_ms when future_ms > 0. */
static void fill(int id, int n, int expired, long long past_ms, long long future_ms)
{
    char key[32];
    for (int i = 0; i < n; i++) {
        key_name(key, sizeof(key), i);
        kv *o = put(id, key, "v");
        if (i < expired)
            db_set_expire(id, o, past_ms);
        else if (future_ms > 0)
            db_set_expire(id, o, future_ms);
    }
}

/* ------------------------------------------------------------ objects */

START_TEST(test_kv_string_encodings)
{
    char buf[128];
    kv *i = kv_new_string("a", 1, "9999", 4);
    ck_assert_str_eq(kv_encoding_name(i), "int");
    long long v;
    ck_assert_int_eq(kv_get_ll(i, &v), 0);
    ck_assert_int_eq(v, 9999);
    ck_assert_str_eq(value_of(i, buf, sizeof(buf)), "9999");
    ck_assert_int_eq(kv_refcount(i), OBJ_SHARED_REFCOUNT);

    kv *big = kv_new_string("b", 1, "10000", 5);
    ck_assert_str_eq(kv_encoding_name(big), "int");
    ck_assert_int_eq(kv_refcount(big), 1);
    kv *lead = kv_new_string("c", 1, "0123", 4);
    ck_assert_str_eq(kv_encoding_name(lead), "embstr");
    kv *emb = kv_new_string("d", 1, "hello", 5);
    ck_assert_str_eq(kv_encoding_name(emb), "embstr");
    char long_val[OBJ_EMBSTR_LIMIT + 2];
    memset(long_val, 'x', sizeof(long_val));
    kv *at_limit = kv_new_string("e", 1, long_val, OBJ_EMBSTR_LIMIT);
    ck_assert_str_eq(kv_encoding_name(at_limit), "embstr");
    kv *raw = kv_new_string("f", 1, long_val, OBJ_EMBSTR_LIMIT + 1);
    ck_assert_str_eq(kv_encoding_name(raw), "raw");
    ck_assert_uint_eq(kv_strlen(raw), OBJ_EMBSTR_LIMIT + 1);
    ck_assert_str_eq(kv_type_name(raw), "string");

    kv *objs[] = {i, big, lead, emb, at_limit, raw};
    for (size_t j = 0; j < sizeof(objs) / sizeof(objs[0]); j++) kv_free(objs[j]);
}
END_TEST

START_TEST(test_kv_copy_as_keeps_value_and_encoding)
{
    char a[128], b[128];
    const char *vals[] = {"42", "short text", "a value that is longer than forty-four bytes, so raw"};
    for (size_t j = 0; j < 3; j++) {
        kv *o = kv_new_string("src", 3, vals[j], strlen(vals[j]));
        kv *c = kv_copy_as(o, "a-much-longer-destination-key", 29);
        ck_assert_uint_eq(kv_keylen(c), 29);
        ck_assert_int_eq(memcmp(kv_key(c), "a-much-longer-destination-key", 29), 0);
        ck_assert_str_eq(kv_encoding_name(c), kv_encoding_name(o));
        ck_assert_str_eq(value_of(c, a, sizeof(a)), value_of(o, b, sizeof(b)));
        kv_free(o);
        kv_free(c);
    }
}
END_TEST

START_TEST(test_kv_grow_copy_is_raw_with_room)
{
    char buf[128];
    kv *o = kv_new_string("k", 1, "77", 2);
    kv *g = kv_grow_copy(o, 10);
    ck_assert_str_eq(kv_encoding_name(g), "raw");
    ck_assert_uint_eq(kv_strlen(g), 10);
    ck_assert_int_eq(memcmp(kv_string_mut(g), "77\0\0\0\0\0\0\0\0", 10), 0);
    ck_assert_uint_ge(kv_string_room(g), 10);
    memcpy(kv_string_mut(g) + 2, "abc", 3);
    kv_set_strlen(g, 5);
    ck_assert_str_eq(value_of(g, buf, sizeof(buf)), "77abc");
    kv_free(o);
    kv_free(g);
}
END_TEST

/* ------------------------------------------------------------ basics */

START_TEST(test_db_set_find_delete)
{
    char buf[64];
    ck_assert_int_eq(db_count(), TEST_DBS);
    ck_assert(db_valid_index(15));
    ck_assert(!db_valid_index(16));
    ck_assert(!db_valid_index(-1));
    put(0, "a", "1");
    put(0, "b", "two");
    put(3, "a", "other");
    ck_assert_int_eq(db_size(0), 2);
    ck_assert_int_eq(db_size(3), 1);
    ck_assert_str_eq(value_of(find(0, "a"), buf, sizeof(buf)), "1");
    ck_assert_str_eq(value_of(find(3, "a"), buf, sizeof(buf)), "other");
    put(0, "a", "replaced");
    ck_assert_int_eq(db_size(0), 2);
    ck_assert_str_eq(value_of(find(0, "a"), buf, sizeof(buf)), "replaced");
    ck_assert_int_eq(db_delete(0, "a", 1), 1);
    ck_assert_int_eq(db_delete(0, "a", 1), 0);
    ck_assert_ptr_null(find(0, "a"));
    ck_assert_int_eq(db_size(0), 1);
}
END_TEST

START_TEST(test_db_add_binary_keys)
{
    const char key[] = {'x', '\0', 'y'};
    kv *o = kv_new_string(key, 3, "v", 1);
    db_add(1, o);
    ck_assert_ptr_eq(db_find(1, key, 3), o);
    ck_assert_ptr_null(db_find(1, "x", 1));
}
END_TEST

START_TEST(test_db_lookup_stats_and_clock)
{
    db_stats *st = db_get_stats();
    kv *o = put(0, "k", "v");
    o->lru = 0;
    ck_assert_ptr_eq(db_lookup_read_notouch(0, "k", 1), o);
    ck_assert_uint_eq(o->lru, 0);
    ck_assert_int_eq(st->keyspace_hits, 1);
    ck_assert_ptr_null(db_lookup_read_notouch(0, "nope", 4));
    ck_assert_int_eq(st->keyspace_misses, 1);
    ck_assert_ptr_eq(db_lookup_peek(0, "k", 1), o);
    ck_assert_ptr_eq(db_find(0, "k", 1), o);
    ck_assert_uint_eq(o->lru, 0);
    ck_assert_int_eq(st->keyspace_hits, 1);

    unsigned now_clock = kv_lru_clock(db_time_ms());
    ck_assert_ptr_eq(db_lookup_read(0, "k", 1), o);
    ck_assert_uint_ge(o->lru, now_clock);
    ck_assert_int_eq(st->keyspace_hits, 2);
    o->lru = 0;
    ck_assert_ptr_eq(db_lookup_write(0, "k", 1), o);
    ck_assert_uint_ge(o->lru, now_clock);
    ck_assert_int_eq(st->keyspace_hits, 2);
    ck_assert_int_eq(st->keyspace_misses, 1);
    ck_assert_int_ge(kv_idle_ms(o, kv_lru_clock(db_time_ms() + 5000)), 4000);
}
END_TEST

/* ------------------------------------------------------------ expiry */

START_TEST(test_db_expire_future_and_persist)
{
    long long now = db_time_ms();
    kv *o = put(0, "k", "v");
    ck_assert_int_eq(db_get_expire(0, o), -1);
    db_set_expire(0, o, now + 100000);
    ck_assert_int_eq(db_get_expire(0, o), now + 100000);
    ck_assert_int_eq(db_expires_count(0), 1);
    ck_assert_ptr_eq(db_lookup_read(0, "k", 1), o);
    db_set_expire(0, o, now + 200000);
    ck_assert_int_eq(db_get_expire(0, o), now + 200000);
    ck_assert_int_eq(db_expires_count(0), 1);
    ck_assert(!db_is_expired(0, o, now + 200000));
    ck_assert(db_is_expired(0, o, now + 200001));
    ck_assert_int_eq(db_persist(0, o), 1);
    ck_assert_int_eq(db_persist(0, o), 0);
    ck_assert_int_eq(db_get_expire(0, o), -1);
    ck_assert_int_eq(db_expires_count(0), 0);
    ck_assert_int_eq(hook.calls, 0);
}
END_TEST

START_TEST(test_db_set_keep_ttl_or_drop)
{
    long long when = db_time_ms() + 100000;
    kv *o = put(0, "k", "v1");
    db_set_expire(0, o, when);
    kv *n = kv_new_string("k", 1, "v2", 2);
    db_set(0, n, 1);
    ck_assert_int_eq(db_get_expire(0, n), when);
    ck_assert_int_eq(db_expires_count(0), 1);
    kv *m = kv_new_string("k", 1, "v3", 2);
    db_set(0, m, 0);
    ck_assert_int_eq(db_get_expire(0, m), -1);
    ck_assert_int_eq(db_expires_count(0), 0);
    ck_assert_int_eq(db_size(0), 1);
}
END_TEST

START_TEST(test_db_lazy_expiry_deletes_on_primary)
{
    long long past = db_time_ms() - 1000;
    kv *o = put(2, "gone", "v");
    db_set_expire(2, o, past);
    put(2, "stays", "v");
    ck_assert_ptr_null(db_lookup_read(2, "gone", 4));
    ck_assert_int_eq(hook.calls, 1);
    ck_assert_int_eq(hook.last_id, 2);
    ck_assert_str_eq(hook.last_key, "gone");
    ck_assert_ptr_null(find(2, "gone"));
    ck_assert_int_eq(db_size(2), 1);
    ck_assert_int_eq(db_expires_count(2), 0);
    ck_assert_int_eq(db_get_stats()->expired_keys, 1);
    ck_assert_int_eq(db_get_stats()->keyspace_misses, 1);
    ck_assert_ptr_null(db_lookup_write(2, "gone", 4));
    ck_assert_int_eq(hook.calls, 1);

    o = put(2, "w", "v");
    db_set_expire(2, o, past);
    ck_assert_ptr_null(db_lookup_write(2, "w", 1));
    ck_assert_int_eq(hook.calls, 2);
    ck_assert_str_eq(hook.last_key, "w");
    o = put(2, "p", "v");
    db_set_expire(2, o, past);
    ck_assert_ptr_null(db_lookup_peek(2, "p", 1));
    ck_assert_int_eq(hook.calls, 3);
    ck_assert_int_eq(db_size(2), 1);
}
END_TEST

START_TEST(test_db_expire_hide_mode_keeps_keys)
{
    db_set_expire_mode(DB_EXPIRE_HIDE);
    ck_assert_int_eq(db_get_expire_mode(), DB_EXPIRE_HIDE);
    kv *o = put(0, "k", "v");
    db_set_expire(0, o, db_time_ms() - 10);
    ck_assert_ptr_null(db_lookup_read(0, "k", 1));
    ck_assert_ptr_null(db_lookup_write(0, "k", 1));
    ck_assert_ptr_eq(find(0, "k"), o);
    ck_assert_int_eq(db_size(0), 1);
    ck_assert_int_eq(hook.calls, 0);
    ck_assert_int_eq(db_get_stats()->expired_keys, 0);
    for (int i = 0; i < 20; i++) db_cron(db_time_ms(), 10);
    ck_assert_int_eq(db_size(0), 1);
    ck_assert_int_eq(hook.calls, 0);
}
END_TEST

START_TEST(test_db_expire_none_mode_returns_expired)
{
    db_set_expire_mode(DB_EXPIRE_NONE);
    kv *o = put(0, "k", "v");
    db_set_expire(0, o, db_time_ms() - 10);
    ck_assert_ptr_eq(db_lookup_read(0, "k", 1), o);
    ck_assert_ptr_eq(db_lookup_write(0, "k", 1), o);
    ck_assert(db_is_expired(0, o, db_time_ms()));
    ck_assert_ptr_eq(db_random_key(0), o);
    for (int i = 0; i < 20; i++) db_cron(db_time_ms(), 10);
    ck_assert_int_eq(db_size(0), 1);
    ck_assert_int_eq(hook.calls, 0);
}
END_TEST

/* Runs the cron until the database holds want keys, at most max_ticks. */
static int cron_until_size(int id, long long want, int max_ticks)
{
    for (int i = 0; i < max_ticks; i++) {
        if (db_size(id) == want) return 1;
        db_cron(db_time_ms(), 10);
    }
    return db_size(id) == want;
}

START_TEST(test_db_active_expiry_reports_each_key_once)
{
    long long now = db_time_ms();
    fill(5, 10000, 6000, now - 1000, now + 3600 * 1000);
    ck_assert_int_eq(db_expires_count(5), 10000);
    ck_assert(cron_until_size(5, 4000, 10000));
    ck_assert_int_eq(hook.calls, 6000);
    for (int i = 0; i < 10000; i++) ck_assert_int_eq(hook.seen[i], i < 6000 ? 1 : 0);
    ck_assert_int_eq(db_get_stats()->expired_keys, 6000);
    ck_assert_int_eq(db_expires_count(5), 4000);
    ck_assert_int_gt(db_avg_ttl(5), 0);
    ck_assert_int_le(db_avg_ttl(5), 3600 * 1000);
}
END_TEST

START_TEST(test_db_active_expiry_off)
{
    fill(0, 100, 100, db_time_ms() - 1000, 0);
    db_set_active_expire(0);
    for (int i = 0; i < 50; i++) db_cron(db_time_ms(), 10);
    ck_assert_int_eq(db_size(0), 100);
    db_set_active_expire(1);
    ck_assert(cron_until_size(0, 0, 1000));
    ck_assert_int_eq(hook.calls, 100);
}
END_TEST

START_TEST(test_db_lazy_then_active_never_twice)
{
    fill(0, 50, 50, db_time_ms() - 1000, 0);
    char key[32];
    for (int i = 0; i < 50; i += 2) {
        key_name(key, sizeof(key), i);
        ck_assert_ptr_null(db_lookup_read(0, key, strlen(key)));
    }
    ck_assert(cron_until_size(0, 0, 1000));
    for (int i = 0; i < 50; i++) ck_assert_int_eq(hook.seen[i], 1);
    ck_assert_int_eq(hook.calls, 50);
}
END_TEST

/* ------------------------------------------------------------ changes */

START_TEST(test_db_swap_kv_keeps_ttl)
{
    char buf[64];
    long long when = db_time_ms() + 50000;
    kv *o = put(0, "k", "abc");
    db_set_expire(0, o, when);
    kv *g = kv_grow_copy(o, 3);
    memcpy(kv_string_mut(g) + 3, "def", 3);
    kv_set_strlen(g, 6);
    ck_assert_ptr_eq(db_swap_kv(0, o, g), g);
    ck_assert_ptr_eq(find(0, "k"), g);
    ck_assert_int_eq(db_get_expire(0, g), when);
    ck_assert_str_eq(value_of(g, buf, sizeof(buf)), "abcdef");
    ck_assert_int_eq(db_expires_count(0), 1);
    ck_assert_int_eq(db_delete(0, "k", 1), 1);
    ck_assert_int_eq(db_expires_count(0), 0);

    kv *p = put(0, "p", "x");
    kv *q = kv_grow_copy(p, 1);
    db_swap_kv(0, p, q);
    ck_assert_int_eq(db_get_expire(0, q), -1);
    ck_assert_int_eq(db_expires_count(0), 0);
}
END_TEST

START_TEST(test_db_take_hands_over_kv_and_expiry)
{
    long long when = db_time_ms() + 50000, got = 0;
    kv *o = put(0, "k", "v");
    db_set_expire(0, o, when);
    ck_assert_ptr_eq(db_take(0, "k", 1, &got), o);
    ck_assert_int_eq(got, when);
    ck_assert_int_eq(db_size(0), 0);
    ck_assert_int_eq(db_expires_count(0), 0);
    ck_assert_ptr_null(db_take(0, "k", 1, &got));
    db_add(7, o);
    ck_assert_int_eq(db_get_expire(7, o), -1);
    db_set_expire(7, o, when);
    ck_assert_int_eq(db_get_expire(7, o), when);
    ck_assert_int_eq(db_expires_count(7), 1);

    kv *p = put(0, "p", "v");
    ck_assert_ptr_eq(db_take(0, "p", 1, &got), p);
    ck_assert_int_eq(got, -1);
    kv_free(p);
}
END_TEST

/* ------------------------------------------------------------ scan, random */

static void scan_mark(void *priv, kv *o)
{
    unsigned char *seen = priv;
    int idx;
    char key[32];
    size_t n = kv_keylen(o) < sizeof(key) - 1 ? kv_keylen(o) : sizeof(key) - 1;
    memcpy(key, kv_key(o), n);
    key[n] = '\0';
    if (sscanf(key, "k:%d", &idx) == 1 && idx >= 0 && idx < TEST_MAX_EXPIRED) seen[idx] = 1;
}

START_TEST(test_db_scan_and_foreach_cover_all)
{
    static unsigned char seen[TEST_MAX_EXPIRED];
    fill(0, 5000, 0, 0, 0);
    unsigned long cursor = 0;
    int calls = 0;
    do {
        cursor = db_scan(0, cursor, scan_mark, seen);
        ck_assert_int_lt(++calls, 1 << 20);
    } while (cursor != 0);
    for (int i = 0; i < 5000; i++) ck_assert_int_eq(seen[i], 1);
    memset(seen, 0, sizeof(seen));
    db_foreach(0, scan_mark, seen);
    for (int i = 0; i < 5000; i++) ck_assert_int_eq(seen[i], 1);
}
END_TEST

START_TEST(test_db_random_key_skips_expired_on_primary)
{
    ck_assert_ptr_null(db_random_key(0));
    long long now = db_time_ms();
    fill(0, 200, 190, now - 1000, 0);
    for (int i = 0; i < 300; i++) {
        kv *o = db_random_key(0);
        ck_assert_ptr_nonnull(o);
        ck_assert(!db_is_expired(0, o, db_time_ms()));
    }
    /* One live key among many expired ones is still found. */
    fill(1, 2000, 1999, now - 1000, 0);
    kv *o = db_random_key(1);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(kv_keylen(o), 6);
    ck_assert_int_eq(memcmp(kv_key(o), "k:1999", 6), 0);
    /* All expired: the table empties and the answer is NULL. */
    fill(2, 300, 300, now - 1000, 0);
    ck_assert_ptr_null(db_random_key(2));
    ck_assert_int_eq(db_size(2), 0);
    /* Every expired key met was deleted and reported. */
    ck_assert_int_eq(hook.calls, (200 - db_size(0)) + (2000 - db_size(1)) + 300);
}
END_TEST

START_TEST(test_db_random_key_on_replica)
{
    db_set_expire_mode(DB_EXPIRE_HIDE);
    long long now = db_time_ms();
    /* Every key expired: an answer, after bounded sampling. */
    fill(0, 100, 100, now - 1000, 0);
    ck_assert_ptr_nonnull(db_random_key(0));
    ck_assert_int_eq(db_size(0), 100);
    /* A key without expiry among expired ones is the answer. */
    fill(1, 500, 499, now - 1000, 0);
    kv *o = db_random_key(1);
    ck_assert_ptr_nonnull(o);
    ck_assert(!db_is_expired(1, o, db_time_ms()));
    ck_assert_int_eq(db_size(1), 500);
    ck_assert_int_eq(hook.calls, 0);
}
END_TEST

/* ------------------------------------------------------------ flush, swap */

START_TEST(test_db_flush_sync_releases_memory)
{
    size_t before = alloc_used_memory();
    fill(0, 5000, 0, 0, db_time_ms() + 100000);
    fill(4, 3000, 0, 0, 0);
    ck_assert_uint_gt(alloc_used_memory(), before);
    ck_assert_int_eq(db_flush(0, 0), 5000);
    ck_assert_int_eq(db_size(0), 0);
    ck_assert_int_eq(db_expires_count(0), 0);
    ck_assert_int_eq(db_size(4), 3000);
    ck_assert_int_eq(db_flush(-1, 0), 3000);
    ck_assert_uint_eq(alloc_used_memory(), before);
    ck_assert_int_eq(db_flush(-1, 0), 0);
}
END_TEST

START_TEST(test_db_flush_async_releases_memory)
{
    ck_assert_int_eq(bio_init(), 0);
    size_t before = alloc_used_memory();
    fill(0, 20000, 0, 0, db_time_ms() + 100000);
    fill(9, 1000, 0, 0, 0);
    ck_assert_int_eq(db_flush(-1, 1), 21000);
    ck_assert_int_eq(db_size(0), 0);
    ck_assert_int_eq(db_size(9), 0);
    ck_assert_int_eq(db_expires_count(0), 0);
    /* The emptied databases work at once. */
    put(0, "new", "v");
    ck_assert_ptr_nonnull(find(0, "new"));
    ck_assert_int_eq(db_delete(0, "new", 3), 1);
    bio_drain();
    ck_assert_int_eq(bio_pending(), 0);
    db_flush(0, 0); /* drops the 4-bucket table "new" left */
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

START_TEST(test_db_swap_moves_contents_and_expiries)
{
    long long when = db_time_ms() + 100000;
    kv *o = put(0, "a", "v");
    db_set_expire(0, o, when);
    put(0, "b", "v");
    put(1, "c", "v");
    ck_assert_int_eq(db_swap(0, 1), 0);
    ck_assert_int_eq(db_size(0), 1);
    ck_assert_int_eq(db_size(1), 2);
    ck_assert_ptr_nonnull(find(0, "c"));
    ck_assert_ptr_eq(find(1, "a"), o);
    ck_assert_int_eq(db_get_expire(1, o), when);
    ck_assert_int_eq(db_expires_count(1), 1);
    ck_assert_int_eq(db_expires_count(0), 0);
    ck_assert_int_eq(db_swap(1, 1), 0);
    ck_assert_int_eq(db_size(1), 2);
    ck_assert_int_eq(db_swap(0, TEST_DBS), -1);
    ck_assert_int_eq(db_swap(-1, 0), -1);
    /* Expiry keeps working in the new place. */
    db_set_expire(1, o, db_time_ms() - 1);
    ck_assert_ptr_null(db_lookup_read(1, "a", 1));
    ck_assert_int_eq(hook.last_id, 1);
    ck_assert_str_eq(hook.last_key, "a");
}
END_TEST

START_TEST(test_db_exchange_all_keeps_both_keyspaces)
{
    put(0, "old", "1");
    put(3, "old3", "1");
    db_keyspace *aside = db_detach_all(); /* an empty keyspace installed */
    ck_assert_int_eq(db_size(0), 0);
    put(0, "new", "2");
    db_exchange_all(aside); /* the old one back; aside holds the new one */
    ck_assert_ptr_nonnull(find(0, "old"));
    ck_assert_ptr_nonnull(find(3, "old3"));
    ck_assert_ptr_null(find(0, "new"));
    put(1, "written while old", "3");
    db_exchange_all(aside); /* the new one again, nothing lost or freed */
    ck_assert_ptr_nonnull(find(0, "new"));
    ck_assert_int_eq(db_size(1), 0);
    db_exchange_all(aside);
    ck_assert_int_eq(db_size(1), 1);
    db_release_set(aside, 0);
    ck_assert_int_eq(db_size(0), 1);
    ck_assert_int_eq(db_count(), TEST_DBS);
}
END_TEST

START_TEST(test_db_keys_survive_shrinking)
{
    char key[32];
    fill(0, 20000, 0, 0, 0);
    for (int i = 0; i < 19990; i++) {
        key_name(key, sizeof(key), i);
        ck_assert_int_eq(db_delete(0, key, strlen(key)), 1);
    }
    for (int i = 0; i < 200; i++) db_cron(db_time_ms(), 10);
    ck_assert_int_eq(db_size(0), 10);
    for (int i = 19990; i < 20000; i++) {
        key_name(key, sizeof(key), i);
        ck_assert_ptr_nonnull(find(0, key));
    }
}
END_TEST

static Suite *test_db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = suite_new_tcase(s, "objects", test_setup, test_teardown, 10);
    tcase_add_test(tc, test_kv_string_encodings);
    tcase_add_test(tc, test_kv_copy_as_keeps_value_and_encoding);
    tcase_add_test(tc, test_kv_grow_copy_is_raw_with_room);
    tc = suite_new_tcase(s, "basics", test_setup, test_teardown, 10);
    tcase_add_test(tc, test_db_set_find_delete);
    tcase_add_test(tc, test_db_add_binary_keys);
    tcase_add_test(tc, test_db_lookup_stats_and_clock);
    tc = suite_new_tcase(s, "expiry", test_setup, test_teardown, 60);
    tcase_add_test(tc, test_db_expire_future_and_persist);
    tcase_add_test(tc, test_db_set_keep_ttl_or_drop);
    tcase_add_test(tc, test_db_lazy_expiry_deletes_on_primary);
    tcase_add_test(tc, test_db_expire_hide_mode_keeps_keys);
    tcase_add_test(tc, test_db_expire_none_mode_returns_expired);
    tcase_add_test(tc, test_db_active_expiry_reports_each_key_once);
    tcase_add_test(tc, test_db_active_expiry_off);
    tcase_add_test(tc, test_db_lazy_then_active_never_twice);
    tc = suite_new_tcase(s, "changes", test_setup, test_teardown, 10);
    tcase_add_test(tc, test_db_swap_kv_keeps_ttl);
    tcase_add_test(tc, test_db_take_hands_over_kv_and_expiry);
    tc = suite_new_tcase(s, "scan-random", test_setup, test_teardown, 30);
    tcase_add_test(tc, test_db_scan_and_foreach_cover_all);
    tcase_add_test(tc, test_db_random_key_skips_expired_on_primary);
    tcase_add_test(tc, test_db_random_key_on_replica);
    tc = suite_new_tcase(s, "flush-swap", test_setup, test_teardown, 60);
    tcase_add_test(tc, test_db_flush_sync_releases_memory);
    tcase_add_test(tc, test_db_flush_async_releases_memory);
    tcase_add_test(tc, test_db_swap_moves_contents_and_expiries);
    tcase_add_test(tc, test_db_exchange_all_keeps_both_keyspaces);
    tcase_add_test(tc, test_db_keys_survive_shrinking);
    return s;
}

int main(void)
{
    return run_suite(test_db_suite());
}
