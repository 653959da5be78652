/* test_rdb_codec.c: unit tests of the RDB format: the memory and file
 * streams (sticky errors, offsets, the running CRC), every encoding of
 * rdb/codec.c round-tripped through a memory stream (lengths at each form's
 * boundaries, strings as raw, int8/16/32 and LZF, times, values), whole
 * files written by rdb/save.c and read back by rdb/load.c (to memory and to
 * disk), a file that Redis 7.0 wrote (tests/fixtures), the truncation of a
 * file at every byte, each kind of corruption refused with its message and
 * the right offset, and the loader's aux and key hooks. Every test runs in
 * its own process with sixteen fresh databases. */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/dict.h"
#include "core/log.h"
#include "core/object.h"
#include "core/version.h"
#include "rdb/codec.h"
#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/load.h"
#include "rdb/save.h"
#include "rdb/stream.h"
#include "tests/unit/fake/check_suite.h"

#define TEST_DBS 16
#define FIXTURE "tests/fixtures/redis-7.0.rdb"
/* Far in the future (2100-01-01), so that nothing expires during a test. */
#define FUTURE_MS 4102444800000LL

static void test_setup(void)
{
    uint8_t seed[16];
    for (int i = 0; i < 16; i++)
        seed[i] = (uint8_t)(0x5a ^ (i * 29));
    dict_set_hash_seed(seed);
    log_set_level(LOG_NOTHING);
    db_init(TEST_DBS);
}

static void test_teardown(void)
{
    db_free_all();
}

/* ------------------------------------------------------------ helpers */

static const rdb_save_opts save_opts = {.compress = 1, .checksum = 1};
static const rdb_load_opts load_opts = {.verify_checksum = 1, .skip_expired = 1, .store = 1};

/* Loads len bytes (copied into a buffer of exactly that size, so that the
 * sanitizer build catches any overread): 0, or -1 with *err. */
static int load_bytes(const void *p, size_t len, const rdb_load_opts *opts, rdb_load_info *info,
                      str *err)
{
    void *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    rdb_stream s;
    rdb_stream_mem_reader(&s, copy, len);
    int rc = rdb_load_stream(&s, opts, info, err);
    rdb_stream_close(&s);
    free(copy);
    return rc;
}

/* Expects the load of p to fail with a message containing want. */
static void expect_load_error(const void *p, size_t len, const char *want)
{
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(p, len, &load_opts, &info, &err), -1);
    ck_assert_ptr_nonnull(err);
    if (!strstr(err, want)) ck_abort_msg("error \"%s\" does not contain \"%s\"", err, want);
    str_free(err);
    db_flush(-1, 0);
}

/* A file being built by hand: the header, then whatever the test adds. */
static str file_start(int version)
{
    char h[RDB_HEADER_LEN + 1];
    snprintf(h, sizeof(h), "REDIS%04d", version);
    return str_new(h);
}

/* Appends the bytes of a string literal (NULs included). */
#define ADD(f, lit) str_cat_len(f, lit, sizeof(lit) - 1)

/* EOF and the CRC-64 of everything before it. */
static str file_end(str f)
{
    f = str_cat_len(f, "\xff", 1);
    uint64_t crc = crc64(0, f, str_len(f));
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(crc >> (8 * i));
    return str_cat_len(f, le, 8);
}

static str save_to_memory(const rdb_aux *aux, const rdb_save_opts *opts)
{
    rdb_stream s;
    rdb_stream_mem_writer(&s);
    ck_assert_int_eq(rdb_save_stream(&s, aux, opts), 0);
    str out = rdb_stream_mem_take(&s);
    rdb_stream_close(&s);
    return out;
}

static const rdb_aux no_aux = {.repl_id = "", .repl_offset = -1, .repl_stream_db = -1};

/* The string value of a key, or NULL when missing. */
static int value_is(int db, const char *key, size_t keylen, const char *want, size_t wantlen)
{
    kv *o = db_find(db, key, keylen);
    if (!o) return 0;
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *p = kv_string(o, buf, &len);
    return len == wantlen && memcmp(p, want, len) == 0;
}

#define VALUE_IS(db, key, want) value_is(db, key, strlen(key), want, strlen(want))

/* ------------------------------------------------------------ a dataset */

/* Key i of a generated dataset: its database, name, value and expiry. The
 * kinds cover small and large integers (int8 to text), short text, long
 * compressible text, incompressible bytes and binary keys. */
typedef struct gen_key {
    int db;
    char key[48];
    size_t keylen;
    char val[2048];
    size_t vallen;
    long long expire;
} gen_key;

static void gen(int i, gen_key *g)
{
    static const int dbs[] = {0, 3, 9, 15};
    g->db = dbs[i % 4];
    g->keylen = (size_t)snprintf(g->key, sizeof(g->key), "key:%d", i);
    if (i % 7 == 6) {
        g->key[3] = '\0'; /* binary key */
        g->key[g->keylen++] = '\xff';
    }
    switch (i % 6) {
    case 0:
        g->vallen = (size_t)snprintf(g->val, sizeof(g->val), "%d", i * 37 - 500);
        break;
    case 1:
        g->vallen = (size_t)snprintf(g->val, sizeof(g->val), "%lld", 1000000000000LL * i);
        break;
    case 2:
        g->vallen = (size_t)snprintf(g->val, sizeof(g->val), "v%d", i);
        break;
    case 3:
        g->vallen = 0;
        for (int k = 0; k < 40; k++)
            g->vallen +=
                (size_t)snprintf(g->val + g->vallen, sizeof(g->val) - g->vallen, "payload-%d ", i);
        break;
    default: {
        unsigned x = (unsigned)i * 2654435761u;
        g->vallen = 100;
        for (int k = 0; k < 100; k++) {
            x = x * 1103515245u + 12345u;
            g->val[k] = (char)(x >> 16);
        }
    }
    }
    g->expire = i % 3 == 0 ? FUTURE_MS + i : -1;
}

static void gen_add_all(int n)
{
    gen_key g;
    for (int i = 0; i < n; i++) {
        gen(i, &g);
        kv *o = kv_new_string(g.key, g.keylen, g.val, g.vallen);
        db_add(g.db, o);
        if (g.expire != -1) db_set_expire(g.db, o, g.expire);
    }
}

/* The keyspace holds exactly the dataset of n keys. */
static void gen_check_all(int n)
{
    gen_key g;
    long long total = 0;
    for (int db = 0; db < TEST_DBS; db++)
        total += db_size(db);
    ck_assert_int_eq(total, n);
    for (int i = 0; i < n; i++) {
        gen(i, &g);
        kv *o = db_find(g.db, g.key, g.keylen);
        ck_assert_ptr_nonnull(o);
        ck_assert(value_is(g.db, g.key, g.keylen, g.val, g.vallen));
        ck_assert_int_eq(db_get_expire(g.db, o), g.expire);
        /* Canonical integers come back int-encoded, as they went in. */
        kv *fresh = kv_new_string(g.key, g.keylen, g.val, g.vallen);
        ck_assert_int_eq(o->encoding, fresh->encoding);
        kv_free(fresh);
    }
}

/* ------------------------------------------------------------ streams */

START_TEST(test_mem_stream_offset_crc_and_sticky_error)
{
    rdb_stream w;
    rdb_stream_mem_writer(&w);
    rdb_stream_crc_start(&w);
    ck_assert_int_eq(rdb_stream_write(&w, "1234", 4), 0);
    ck_assert_int_eq(rdb_stream_write(&w, "56789", 5), 0);
    ck_assert_uint_eq(w.offset, 9);
    ck_assert_uint_eq(w.crc, 0xe9c6d914c4b8d9caULL);
    str out = rdb_stream_mem_take(&w);
    ck_assert_uint_eq(str_len(out), 9);
    rdb_stream_close(&w);

    rdb_stream r;
    rdb_stream_mem_reader(&r, out, str_len(out));
    char buf[16];
    ck_assert_uint_eq(rdb_stream_remaining(&r), 9);
    ck_assert_int_eq(rdb_stream_read(&r, buf, 4), 0);
    ck_assert_uint_eq(rdb_stream_remaining(&r), 5);
    /* Asking for more than is left fails, names the offset, and sticks. */
    ck_assert_int_eq(rdb_stream_read(&r, buf, 6), -1);
    ck_assert_str_eq(r.errmsg, "Unexpected EOF reading RDB file at offset 4");
    ck_assert_int_eq(rdb_stream_read(&r, buf, 1), -1);
    rdb_stream_fail(&r, "a later error");
    ck_assert_str_eq(r.errmsg, "Unexpected EOF reading RDB file at offset 4");
    ck_assert_uint_eq(r.offset, 4);
    rdb_stream_close(&r);
    ck_assert_int_eq(rdb_stream_read(&r, buf, 1), -1);
    str_free(out);
}
END_TEST

START_TEST(test_file_stream_round_trip_and_limit)
{
    char dir[] = "/tmp/tandem-rdb-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/f.bin", dir);
    size_t n = 300000; /* several buffers, and one write larger than one */
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 31 + (i >> 9));

    rdb_stream w;
    ck_assert_int_eq(rdb_stream_file_writer(&w, path, 4096), 0);
    rdb_stream_crc_start(&w);
    ck_assert_int_eq(rdb_stream_write(&w, data, 10), 0);
    ck_assert_int_eq(rdb_stream_write(&w, data + 10, 200000), 0);
    for (size_t i = 200010; i < n; i += 1000)
        ck_assert_int_eq(rdb_stream_write(&w, data + i, 1000 < n - i ? 1000 : n - i), 0);
    ck_assert_int_eq(rdb_stream_flush(&w, 1), 0);
    uint64_t crc = w.crc;
    rdb_stream_close(&w);
    ck_assert_uint_eq(crc, crc64(0, data, n));

    rdb_stream r;
    ck_assert_int_eq(rdb_stream_file_reader(&r, path), 0);
    ck_assert_uint_eq(rdb_stream_remaining(&r), n);
    unsigned char *back = malloc(n);
    ck_assert_int_eq(rdb_stream_read(&r, back, 7), 0);
    ck_assert_int_eq(rdb_stream_read(&r, back + 7, 150000), 0);
    ck_assert_int_eq(rdb_stream_read(&r, back + 150007, n - 150007), 0);
    ck_assert(memcmp(back, data, n) == 0);
    ck_assert_uint_eq(rdb_stream_remaining(&r), 0);
    ck_assert_int_eq(rdb_stream_read(&r, back, 1), -1);
    ck_assert_str_eq(r.errmsg, "Unexpected EOF reading RDB file at offset 300000");
    rdb_stream_close(&r);

    ck_assert_int_eq(rdb_stream_file_reader(&r, "/nonexistent/x.rdb"), -1);
    ck_assert_int_eq(errno, ENOENT);
    unlink(path);
    rmdir(dir);
    free(data);
    free(back);
}
END_TEST

START_TEST(test_file_writer_reports_disk_full)
{
    rdb_stream w;
    ck_assert_int_eq(rdb_stream_file_writer(&w, "/dev/full", 0), 0);
    char buf[1000] = {0};
    for (int i = 0; i < 100; i++)
        rdb_stream_write(&w, buf, sizeof(buf));
    ck_assert_int_eq(rdb_stream_flush(&w, 0), -1);
    ck_assert_str_eq(w.errmsg, "No space left on device");
    rdb_stream_close(&w);
}
END_TEST

/* ------------------------------------------------------------ encodings */

START_TEST(test_lengths_at_every_boundary)
{
    static const struct {
        uint64_t len;
        size_t bytes;
        unsigned char first;
    } cases[] = {
        {0, 1, 0x00},          {1, 1, 0x01},          {63, 1, 0x3f},
        {64, 2, 0x40},         {16383, 2, 0x7f},      {16384, 5, 0x80},
        {UINT32_MAX, 5, 0x80}, {1ULL << 32, 9, 0x81}, {UINT64_MAX, 9, 0x81},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rdb_stream w;
        rdb_stream_mem_writer(&w);
        ck_assert_int_eq(rdb_write_len(&w, cases[i].len), 0);
        str out = rdb_stream_mem_take(&w);
        rdb_stream_close(&w);
        ck_assert_uint_eq(str_len(out), cases[i].bytes);
        ck_assert_uint_eq((unsigned char)out[0], cases[i].first);
        rdb_stream r;
        rdb_stream_mem_reader(&r, out, str_len(out));
        uint64_t len;
        int encoded;
        ck_assert_int_eq(rdb_read_len(&r, &len, &encoded), 0);
        ck_assert_uint_eq(len, cases[i].len);
        ck_assert_int_eq(encoded, 0);
        ck_assert_uint_eq(r.offset, cases[i].bytes);
        str_free(out);
    }
    /* 14-bit lengths are big endian across their two bytes. */
    rdb_stream r;
    rdb_stream_mem_reader(&r, "\x41\x02", 2);
    uint64_t len;
    int encoded;
    ck_assert_int_eq(rdb_read_len(&r, &len, &encoded), 0);
    ck_assert_uint_eq(len, 0x102);
    /* 10xxxxxx other than 0x80 and 0x81 is not a length. */
    rdb_stream_mem_reader(&r, "\x00\x82", 2);
    ck_assert_int_eq(rdb_read_len(&r, &len, &encoded), 0);
    ck_assert_int_eq(rdb_read_len(&r, &len, &encoded), -1);
    ck_assert_str_eq(r.errmsg, "Unknown length encoding 130 at offset 1");
}
END_TEST

/* Writes p as a string and checks its encoded form (size and first byte)
 * and that it reads back the same. */
static void check_string(const char *p, size_t len, int compress, size_t want_bytes, int want_first)
{
    rdb_stream w;
    rdb_stream_mem_writer(&w);
    ck_assert_int_eq(rdb_write_string(&w, p, len, compress), 0);
    str out = rdb_stream_mem_take(&w);
    rdb_stream_close(&w);
    if (want_bytes) ck_assert_uint_eq(str_len(out), want_bytes);
    if (want_first >= 0) ck_assert_int_eq((unsigned char)out[0], want_first);
    rdb_stream r;
    rdb_stream_mem_reader(&r, out, str_len(out));
    str back = rdb_read_string(&r);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(str_len(back), len);
    ck_assert(memcmp(back, p, len) == 0);
    ck_assert_uint_eq(r.offset, str_len(out));
    str_free(back);
    str_free(out);
}

#define CHECK_STRING(text, compress, bytes, first)                                                 \
    check_string(text, strlen(text), compress, bytes, first)

START_TEST(test_strings_in_every_encoding)
{
    CHECK_STRING("", 1, 1, 0x00);
    CHECK_STRING("hello", 1, 6, 0x05);
    /* Integers: int8, int16, int32 at their limits, then text. */
    CHECK_STRING("0", 1, 2, 0xc0);
    CHECK_STRING("7", 1, 2, 0xc0);
    CHECK_STRING("-128", 1, 2, 0xc0);
    CHECK_STRING("127", 1, 2, 0xc0);
    CHECK_STRING("128", 1, 3, 0xc1);
    CHECK_STRING("-129", 1, 3, 0xc1);
    CHECK_STRING("32767", 1, 3, 0xc1);
    CHECK_STRING("-32768", 1, 3, 0xc1);
    CHECK_STRING("32768", 1, 5, 0xc2);
    CHECK_STRING("2147483647", 1, 5, 0xc2);
    CHECK_STRING("-2147483648", 1, 5, 0xc2);
    CHECK_STRING("2147483648", 1, 11, 0x0a);
    CHECK_STRING("-2147483649", 1, 12, 0x0b);
    /* Not canonical: kept as text, so that they read back the same. */
    CHECK_STRING("007", 1, 4, 0x03);
    CHECK_STRING("-0", 1, 3, 0x02);
    CHECK_STRING("+1", 1, 3, 0x02);
    CHECK_STRING(" 1", 1, 3, 0x02);
    /* LZF above 20 bytes when it saves, raw otherwise or when off. */
    CHECK_STRING("aaaaaaaaaaaaaaaaaaaa", 1, 21, 0x14);
    CHECK_STRING("aaaaaaaaaaaaaaaaaaaaa", 1, 0, 0xc3);
    CHECK_STRING("aaaaaaaaaaaaaaaaaaaaa", 0, 22, 0x15);
    char big[20000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = "abcdefgh"[i % 8];
    check_string(big, sizeof(big), 1, 0, 0xc3);
    check_string(big, sizeof(big), 0, 20005, 0x80);
    char noise[100];
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (char)(i * 151 + 17);
    check_string(noise, sizeof(noise), 1, 102, 0x40);
    /* Binary bytes. */
    check_string("\x00\xff\x01", 3, 1, 4, 0x03);
}
END_TEST

START_TEST(test_ll_strings_millis_and_seconds)
{
    static const long long vals[] = {0,          -1,           127,       -32768,
                                     2147483647, 2147483648LL, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        rdb_stream w;
        rdb_stream_mem_writer(&w);
        ck_assert_int_eq(rdb_write_ll_string(&w, vals[i]), 0);
        ck_assert_int_eq(rdb_write_millis(&w, vals[i]), 0);
        str out = rdb_stream_mem_take(&w);
        rdb_stream_close(&w);
        rdb_stream r;
        rdb_stream_mem_reader(&r, out, str_len(out));
        str text = rdb_read_string(&r);
        ck_assert_int_eq(strtoll(text, NULL, 10), vals[i]);
        long long ms;
        ck_assert_int_eq(rdb_read_millis(&r, &ms), 0);
        ck_assert_int_eq(ms, vals[i]);
        ck_assert_uint_eq(rdb_stream_remaining(&r), 0);
        str_free(text);
        str_free(out);
    }
    /* Milliseconds are 8 bytes little endian; old seconds 4. */
    rdb_stream r;
    rdb_stream_mem_reader(&r, "\x01\x02\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00", 12);
    long long ms;
    ck_assert_int_eq(rdb_read_millis(&r, &ms), 0);
    ck_assert_int_eq(ms, 0x201);
    ck_assert_int_eq(rdb_read_seconds(&r, &ms), 0);
    ck_assert_int_eq(ms, 16000);
}
END_TEST

/* Writes o's type and value, reads them back under the same key. */
static kv *value_round_trip(const kv *o, int compress)
{
    rdb_stream w;
    rdb_stream_mem_writer(&w);
    ck_assert_int_eq(rdb_write_value_type(&w, o), 0);
    ck_assert_int_eq(rdb_write_value(&w, o, compress), 0);
    str out = rdb_stream_mem_take(&w);
    rdb_stream_close(&w);
    rdb_stream r;
    rdb_stream_mem_reader(&r, out, str_len(out));
    unsigned char type;
    ck_assert_int_eq(rdb_read_byte(&r, &type), 0);
    ck_assert_int_eq(type, RDB_TYPE_STRING);
    kv *back = rdb_read_value(&r, type, kv_key(o), kv_keylen(o));
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(rdb_stream_remaining(&r), 0);
    str_free(out);
    return back;
}

START_TEST(test_values_round_trip)
{
    const char *texts[] = {"12345", "-9223372036854775808", "hello world", "", "0012"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        kv *o = kv_new_string("k", 1, texts[i], strlen(texts[i]));
        kv *back = value_round_trip(o, 1);
        ck_assert_str_eq(kv_key(back), "k");
        ck_assert_int_eq(back->encoding, o->encoding);
        ck_assert_int_eq(kv_strlen(back), kv_strlen(o));
        char b1[OBJ_LL_TEXT], b2[OBJ_LL_TEXT];
        size_t l1, l2;
        const char *p1 = kv_string(o, b1, &l1), *p2 = kv_string(back, b2, &l2);
        ck_assert(l1 == l2 && memcmp(p1, p2, l1) == 0);
        kv_free(o);
        kv_free(back);
    }
    char big[5000];
    memset(big, 'z', sizeof(big));
    kv *o = kv_new_text("big", 3, big, sizeof(big), 1);
    kv *back = value_round_trip(o, 1);
    ck_assert_uint_eq(kv_strlen(back), sizeof(big));
    ck_assert_int_eq(back->encoding, OBJ_ENCODING_RAW);
    kv_free(o);
    kv_free(back);
}
END_TEST

START_TEST(test_type_names_and_refusals)
{
    ck_assert_str_eq(rdb_type_name(RDB_TYPE_STRING), "string");
    ck_assert_str_eq(rdb_type_name(RDB_TYPE_HASH), "hash");
    ck_assert_str_eq(rdb_type_name(RDB_TYPE_HASH_LISTPACK), "hash-listpack");
    ck_assert_str_eq(rdb_type_name(RDB_TYPE_STREAM_LISTPACKS_3), "stream-listpacks-3");
    ck_assert_str_eq(rdb_type_name(8), "unknown");
    ck_assert_str_eq(rdb_type_name(200), "unknown");
    rdb_stream r;
    rdb_stream_mem_reader(&r, "\x04\x01k", 3);
    unsigned char type;
    rdb_read_byte(&r, &type);
    ck_assert_ptr_null(rdb_read_value(&r, type, "k", 1));
    ck_assert_str_eq(
        r.errmsg,
        "Unsupported value type 4 (hash) at offset 0: this tandem does not have hashes yet");
}
END_TEST

/* ------------------------------------------------------------ whole files */

START_TEST(test_whole_file_round_trip)
{
    int n = 3000;
    gen_add_all(n);
    rdb_aux aux = {.repl_id = "0123456789abcdef0123456789abcdef01234567",
                   .repl_offset = 123456789,
                   .repl_stream_db = 3,
                   .aof_base = 0};
    str file = save_to_memory(&aux, &save_opts);
    ck_assert(memcmp(file, "REDIS0010", 9) == 0);
    /* The checksum is that of every byte before it. */
    uint64_t stored;
    memcpy(&stored, file + str_len(file) - 8, 8);
    ck_assert_uint_eq(stored, crc64(0, file, str_len(file) - 8));

    db_keyspace *old = db_detach_all();
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(file, str_len(file), &load_opts, &info, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(info.version, RDB_VERSION);
    ck_assert_str_eq(info.redis_ver, TANDEM_REDIS_VERSION);
    ck_assert_str_eq(info.aux.repl_id, aux.repl_id);
    ck_assert_int_eq(info.aux.repl_offset, 123456789);
    ck_assert_int_eq(info.aux.repl_stream_db, 3);
    ck_assert_int_eq(info.aux.aof_base, 0);
    ck_assert_int_eq(info.keys_loaded, n);
    ck_assert_int_eq(info.keys_expired, 0);
    ck_assert(info.ctime > 1600000000);
    gen_check_all(n);
    ck_assert_int_eq(db_expires_count(0) + db_expires_count(3) + db_expires_count(9) +
                         db_expires_count(15),
                     (n + 2) / 3);

    /* Saved again, the same data makes the same key records. */
    str again = save_to_memory(&aux, &save_opts);
    ck_assert_uint_eq(str_len(again), str_len(file));
    db_release_set(old, 0);
    str_free(again);
    str_free(file);
}
END_TEST

START_TEST(test_save_without_replication_or_checksum)
{
    gen_add_all(50);
    rdb_save_opts opts = {.compress = 0, .checksum = 0};
    str file = save_to_memory(&no_aux, &opts);
    ck_assert_ptr_null(memmem(file, str_len(file), "repl-id", 7));
    ck_assert_ptr_nonnull(memmem(file, str_len(file), "aof-base", 8));
    uint64_t stored;
    memcpy(&stored, file + str_len(file) - 8, 8);
    ck_assert_uint_eq(stored, 0);
    db_flush(-1, 0);
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(file, str_len(file), &load_opts, &info, &err), 0);
    ck_assert_str_eq(info.aux.repl_id, "");
    ck_assert_int_eq(info.aux.repl_offset, -1);
    ck_assert_int_eq(info.aux.repl_stream_db, -1);
    gen_check_all(50);
    str_free(file);
}
END_TEST

START_TEST(test_load_options)
{
    /* An expired key is skipped on a primary, kept otherwise; store=0
     * parses without touching the keyspace. */
    kv *o = kv_new_string("old", 3, "v", 1);
    db_add(0, o);
    db_set_expire(0, o, 1000);
    db_add(1, kv_new_string("live", 4, "w", 1));
    str file = save_to_memory(&no_aux, &save_opts);
    db_flush(-1, 0);
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(file, str_len(file), &load_opts, &info, &err), 0);
    ck_assert_int_eq(info.keys_loaded, 1);
    ck_assert_int_eq(info.keys_expired, 1);
    ck_assert_ptr_null(db_find(0, "old", 3));
    ck_assert(VALUE_IS(1, "live", "w"));
    db_flush(-1, 0);
    rdb_load_opts keep = load_opts;
    keep.skip_expired = 0;
    ck_assert_int_eq(load_bytes(file, str_len(file), &keep, &info, &err), 0);
    ck_assert_int_eq(info.keys_loaded, 2);
    ck_assert_int_eq(db_get_expire(0, db_find(0, "old", 3)), 1000);
    db_flush(-1, 0);
    rdb_load_opts check = {.verify_checksum = 1, .store = 0};
    ck_assert_int_eq(load_bytes(file, str_len(file), &check, &info, &err), 0);
    ck_assert_int_eq(info.keys_loaded, 2);
    ck_assert_int_eq(db_size(0) + db_size(1), 0);
    str_free(file);
}
END_TEST

/* What the aux and key hooks saw. */
static int hook_auxes, hook_keys;
static rdb_load_key hook_seen[4];
static char hook_names[4][8];

static void on_aux_hook(const str key, const str val, void *priv)
{
    ck_assert_ptr_eq(priv, &hook_auxes);
    ck_assert_str_eq(key, "foo");
    ck_assert_str_eq(val, "bar");
    hook_auxes++;
}

static void on_key_hook(const rdb_load_key *k, void *priv)
{
    ck_assert_ptr_eq(priv, &hook_auxes);
    ck_assert_int_lt(hook_keys, 4);
    hook_seen[hook_keys] = *k;
    snprintf(hook_names[hook_keys], sizeof(hook_names[0]), "%.*s", (int)k->keylen, k->key);
    hook_keys++;
}

START_TEST(test_key_and_aux_hooks)
{
    str f = file_start(10);
    f = ADD(f, "\xfa\x03" "foo\x03" "bar");                  /* aux foo=bar */
    f = ADD(f, "\xfe\x02");                                  /* SELECTDB 2 */
    f = ADD(f, "\xfc\xe8\x03\x00\x00\x00\x00\x00\x00");      /* expires at 1000 ms */
    uint64_t at = str_len(f);
    f = ADD(f, "\x00\x01k\x05value");                        /* 9 bytes */
    f = ADD(f, "\x00\x02k2\xc0\x07");                        /* int8 7: 6 bytes */
    f = file_end(f);
    for (int store = 0; store <= 1; store++) {
        hook_auxes = hook_keys = 0;
        /* Storing skips the expired key, but the hooks still see it. */
        rdb_load_opts opts = {.verify_checksum = 1, .skip_expired = store, .store = store,
                              .on_aux = on_aux_hook, .on_key = on_key_hook, .priv = &hook_auxes};
        rdb_load_info info;
        str err = NULL;
        ck_assert_int_eq(load_bytes(f, str_len(f), &opts, &info, &err), 0);
        ck_assert_int_eq(hook_auxes, 1);
        ck_assert_int_eq(hook_keys, 2);
        ck_assert_str_eq(hook_names[0], "k");
        ck_assert_uint_eq(hook_seen[0].db, 2);
        ck_assert_int_eq(hook_seen[0].type, RDB_TYPE_STRING);
        ck_assert_int_eq(hook_seen[0].expire, 1000);
        ck_assert_uint_eq(hook_seen[0].offset, at);
        ck_assert_uint_eq(hook_seen[0].bytes, 9);
        ck_assert_str_eq(hook_names[1], "k2");
        ck_assert_int_eq(hook_seen[1].expire, -1);
        ck_assert_uint_eq(hook_seen[1].offset, at + 9);
        ck_assert_uint_eq(hook_seen[1].bytes, 6);
        ck_assert_int_eq(info.keys_expired, store);
        ck_assert_int_eq(db_size(2), store);
        db_flush(-1, 0);
    }
    str_free(f);
}
END_TEST

static long long progress_calls;
static uint64_t progress_last, progress_total;

static void on_progress(uint64_t done, uint64_t total, void *priv)
{
    (void)priv;
    ck_assert_uint_ge(done, progress_last);
    progress_calls++;
    progress_last = done;
    progress_total = total;
}

static long long save_progress_keys;

static void on_save_progress(long long keys, void *priv)
{
    (void)priv;
    save_progress_keys = keys;
}

START_TEST(test_progress_callbacks)
{
    char val[1000], key[32];
    memset(val, 'p', sizeof(val));
    for (int i = 0; i < 3000; i++) /* 3 MB */
        db_add(0,
               kv_new_string(key, (size_t)snprintf(key, sizeof(key), "p:%d", i), val, sizeof(val)));
    rdb_save_opts sopts = {.compress = 0, .checksum = 1, .progress = on_save_progress};
    str file = save_to_memory(&no_aux, &sopts);
    ck_assert_int_eq(save_progress_keys, 2048);
    db_flush(-1, 0);
    rdb_load_opts lopts = load_opts;
    lopts.progress = on_progress;
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(file, str_len(file), &lopts, &info, &err), 0);
    ck_assert_int_eq(progress_calls, 1);
    ck_assert_uint_ge(progress_last, 2 * 1024 * 1024);
    ck_assert_uint_eq(progress_total, str_len(file));
    str_free(file);
}
END_TEST

START_TEST(test_save_file_and_load_file)
{
    char dir[] = "/tmp/tandem-rdb-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[PATH_MAX], tmp[PATH_MAX];
    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    snprintf(tmp, sizeof(tmp), "%s/temp-%d.rdb", dir, (int)getpid());
    gen_add_all(500);
    str err = NULL;
    ck_assert_int_eq(rdb_save_file(path, &no_aux, &save_opts, 1024, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(access(tmp, F_OK), -1); /* renamed */
    db_flush(-1, 0);
    rdb_load_info info;
    ck_assert_int_eq(rdb_load_file(path, &load_opts, &info, &err), 0);
    gen_check_all(500);

    /* A missing file is not an error; a directory cannot be read. */
    char missing[PATH_MAX];
    snprintf(missing, sizeof(missing), "%s/nothing.rdb", dir);
    ck_assert_int_eq(rdb_load_file(missing, &load_opts, &info, &err), 1);
    ck_assert_int_eq(rdb_load_file(dir, &load_opts, &info, &err), -1);
    ck_assert_ptr_nonnull(err);
    str_free(err);

    /* The temp file cannot be created: the message is Redis's. */
    ck_assert_int_eq(rdb_save_file("/nonexistent-dir/dump.rdb", &no_aux, &save_opts, 0, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "Failed opening the temp RDB file /nonexistent-dir/temp-"));
    ck_assert_ptr_nonnull(strstr(err, "for saving: No such file or directory"));
    str_free(err);

    /* The rename fails (the target is a non-empty directory): the temp
     * file goes, the target stays. */
    char sub[PATH_MAX], inner[PATH_MAX];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    snprintf(inner, sizeof(inner), "%s/sub/keep", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    FILE *f = fopen(inner, "w");
    fclose(f);
    ck_assert_int_eq(rdb_save_file(sub, &no_aux, &save_opts, 0, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "Error moving temp DB file"));
    str_free(err);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(access(inner, F_OK), 0);
    unlink(inner);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_redis_written_file)
{
    /* Written by redis-server 7.0.15 (tests/fixtures/README.md). */
    rdb_load_info info;
    str err = NULL;
    int rc = rdb_load_file(FIXTURE, &load_opts, &info, &err);
    if (rc != 0) ck_abort_msg("load failed (%d): %s", rc, err ? err : "no file");
    ck_assert_int_eq(info.version, 10);
    ck_assert_str_eq(info.redis_ver, "7.0.15");
    ck_assert_int_eq(info.keys_loaded, 50);
    ck_assert_int_eq(info.keys_expired, 1);
    ck_assert(VALUE_IS(0, "int:small", "7"));
    ck_assert(VALUE_IS(0, "int:medium", "1000"));
    ck_assert(VALUE_IS(0, "int:big", "100000"));
    ck_assert(VALUE_IS(0, "int:huge", "12345678901234"));
    ck_assert(VALUE_IS(0, "int:neg", "-5"));
    ck_assert(VALUE_IS(0, "int:min", "-9223372036854775808"));
    ck_assert_int_eq(db_find(0, "int:big", 7)->encoding, OBJ_ENCODING_INT);
    ck_assert(VALUE_IS(0, "notint", "007"));
    ck_assert(VALUE_IS(0, "str", "hello"));
    ck_assert(VALUE_IS(0, "empty", ""));
    ck_assert(value_is(0, "bin\x00\xffkey", 8, "\x01\x02\x00\x03", 4));
    char want[3000];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(want + n, sizeof(want) - n, "abc");
    ck_assert(VALUE_IS(0, "long", want));
    n = 0;
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(want + n, sizeof(want) - n, "xyz");
    ck_assert(VALUE_IS(0, "a key name longer than twenty bytes, compressed too", want));
    kv *big = db_find(0, "big", 3);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq(kv_strlen(big), 800 * strlen("The quick brown fox 3. "));
    ck_assert_uint_eq(kv_strlen(db_find(0, "random", 6)), 100);
    ck_assert_int_eq(db_get_expire(0, db_find(0, "exp:future", 10)), FUTURE_MS);
    ck_assert_ptr_null(db_find(0, "exp:soon", 8));
    for (int i = 1; i < 16; i++) {
        char key[16], val[16];
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(val, sizeof(val), "db%d", i);
        ck_assert(VALUE_IS(i, key, val));
        snprintf(key, sizeof(key), "t%d", i);
        kv *t = db_find(i, key, strlen(key));
        if (i % 3 == 0)
            ck_assert_int_eq(db_get_expire(i, t), FUTURE_MS + i);
        else
            ck_assert_ptr_null(t);
    }
}
END_TEST

/* ------------------------------------------------------------ corruption */

START_TEST(test_truncation_at_every_byte)
{
    gen_add_all(40);
    str file = save_to_memory(&no_aux, &save_opts);
    db_flush(-1, 0);
    size_t baseline = alloc_used_memory();
    for (size_t cut = 0; cut < str_len(file); cut++) {
        rdb_load_info info;
        str err = NULL;
        ck_assert_int_eq(load_bytes(file, cut, &load_opts, &info, &err), -1);
        ck_assert_ptr_nonnull(err);
        const char *at = strstr(err, "at offset ");
        if (!at) ck_abort_msg("cut %zu: no offset in \"%s\"", cut, err);
        ck_assert_uint_le(strtoull(at + 10, NULL, 10), cut);
        str_free(err);
        db_flush(-1, 0);
    }
    /* Nothing left behind by any of the failed loads. */
    ck_assert_uint_eq(alloc_used_memory(), baseline);
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(file, str_len(file), &load_opts, &info, &err), 0);
    gen_check_all(40);
    str_free(file);
}
END_TEST

START_TEST(test_header_errors)
{
    expect_load_error("", 0,
                      "Short read or empty file: unexpected EOF reading RDB file at offset 0");
    expect_load_error("REDIS00", 7, "Unexpected EOF reading RDB file at offset 0");
    expect_load_error("RODIS0010\xff", 10,
                      "Wrong signature trying to load DB from file at offset 0");
    expect_load_error("REDIS0012\xff", 10, "Can't handle RDB format version 12 at offset 5");
    expect_load_error("REDIS0000\xff", 10, "Can't handle RDB format version 0 at offset 5");
}
END_TEST

START_TEST(test_item_errors)
{
    str f = ADD(file_start(10), "\xf0");
    expect_load_error(f, str_len(f), "Unknown RDB opcode 0xF0 at offset 9");
    str_free(f);
    f = ADD(file_start(10), "\x15\x01k\x01v");
    expect_load_error(f, str_len(f), "Unknown RDB encoding type 21 at offset 9");
    str_free(f);
    f = ADD(file_start(10), "\xfe\x00\x08\x01k\x01v");
    expect_load_error(f, str_len(f), "Unknown RDB encoding type 8 at offset 11");
    str_free(f);
    f = ADD(file_start(10), "\xfe\x00\x10\x01k");
    expect_load_error(
        f, str_len(f),
        "Unsupported value type 16 (hash-listpack) at offset 11: this tandem does not "
        "have hashes yet");
    str_free(f);
    f = ADD(file_start(10), "\xfe\x10");
    expect_load_error(f, str_len(f), "DB index 16 out of range (databases 16) at offset 9");
    str_free(f);
    f = ADD(file_start(10), "\xf7\x00");
    expect_load_error(f, str_len(f),
                      "Module auxiliary data (opcode 0xF7) at offset 9 not supported");
    str_free(f);
    f = ADD(file_start(10), "\xfa\x01x\x01y\xf5\x00");
    expect_load_error(f, str_len(f), "Functions (opcode 0xF5) at offset 14 not supported");
    str_free(f);
    /* Lengths larger than what remains, in the 32- and 64-bit forms. */
    f = ADD(file_start(10), "\x00\x80\x7f\xff\xff\xff");
    expect_load_error(f, str_len(f),
                      "String length 2147483647 at offset 10 is larger than the 0 bytes left");
    str_free(f);
    f = ADD(file_start(10), "\x00\x01k\x81\x40\x00\x00\x00\x00\x00\x00\x00zz");
    expect_load_error(
        f, str_len(f),
        "String length 4611686018427387904 at offset 12 is larger than the 2 bytes left");
    str_free(f);
    /* A duplicate key. */
    f = file_end(ADD(file_start(10), "\x00\x01k\x01v\x00\x01k\x01w"));
    expect_load_error(f, str_len(f), "RDB has duplicated key 'k' in DB 0 at offset 14");
    str_free(f);
    /* A special string encoding that does not exist. */
    f = ADD(file_start(10), "\x00\xc5");
    expect_load_error(f, str_len(f), "Unknown RDB string encoding type 5 at offset 10");
    str_free(f);
}
END_TEST

START_TEST(test_lzf_string_errors)
{
    /* Compressed length beyond the file. */
    str f = ADD(file_start(10), "\x00\x01k\xc3\x20\x30\x00");
    expect_load_error(f, str_len(f), "Invalid LZF string at offset 12");
    str_free(f);
    /* An original length the data cannot make (a huge claim costs nothing). */
    f = ADD(file_start(10), "\x00\x01k\xc3\x04\x81\x10\x00\x00\x00\x00\x00\x00\x00"
                            "aaaa");
    expect_load_error(f, str_len(f), "Invalid LZF string at offset 12");
    str_free(f);
    f = ADD(file_start(10), "\x00\x01k\xc3\x04\x10\x00"
                            "aaa");
    expect_load_error(f, str_len(f), "Invalid LZF compressed string at offset 12");
    str_free(f);
    /* A reference before the start. */
    f = ADD(file_start(10), "\x00\x01k\xc3\x02\x03\x20\x00");
    expect_load_error(f, str_len(f), "Invalid LZF compressed string at offset 12");
    str_free(f);
    /* The length of an LZF string cannot itself be encoded. */
    f = ADD(file_start(10), "\x00\x01k\xc3\xc0\x03");
    expect_load_error(f, str_len(f), "Invalid LZF length encoding at offset 13");
    str_free(f);
}
END_TEST

START_TEST(test_checksum_handling)
{
    gen_add_all(30);
    str file = save_to_memory(&no_aux, &save_opts);
    db_flush(-1, 0);
    size_t len = str_len(file);
    /* A flipped byte (in the redis-ver aux field): the checksum catches it. */
    str bad = str_dup(file);
    char *ver = memmem(bad, len, TANDEM_REDIS_VERSION, strlen(TANDEM_REDIS_VERSION));
    ck_assert_ptr_nonnull(ver);
    ver[0] ^= 0x01;
    uint64_t good_crc = crc64(0, file, len - 8), bad_crc = crc64(0, bad, len - 8);
    char want[160];
    snprintf(want, sizeof(want), "Wrong RDB checksum expected: (%llx) but got (%llx) at offset %zu",
             (unsigned long long)bad_crc, (unsigned long long)good_crc, len - 8);
    expect_load_error(bad, len, want);
    /* Not checked when verification is off. */
    rdb_load_opts nocheck = load_opts;
    nocheck.verify_checksum = 0;
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(bad, len, &nocheck, &info, &err), 0);
    db_flush(-1, 0);
    /* A zero checksum means "not computed". */
    memset(bad + len - 8, 0, 8);
    ck_assert_int_eq(load_bytes(bad, len, &load_opts, &info, &err), 0);
    db_flush(-1, 0);
    /* Whatever follows the checksum is ignored, as Redis does. */
    str tail = str_cat_len(str_dup(file), "garbage", 7);
    ck_assert_int_eq(load_bytes(tail, str_len(tail), &load_opts, &info, &err), 0);
    gen_check_all(30);
    str_free(tail);
    str_free(bad);
    str_free(file);
}
END_TEST

START_TEST(test_old_versions_and_opcodes)
{
    /* Version 4: no checksum; the old seconds expiry; and in a version 9
     * file the LRU and LFU hints, RESIZEDB and unknown aux fields. */
    str f = file_start(4);
    f = ADD(f, "\xfe\x02\xfd\x00\x00\x00\x80\x00\x01"
               "a\x01"
               "b\x00\x01"
               "c\xc1\x00\x01\xff");
    rdb_load_opts opts = load_opts;
    opts.skip_expired = 0;
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(load_bytes(f, str_len(f), &opts, &info, &err), 0);
    ck_assert_int_eq(info.version, 4);
    ck_assert(VALUE_IS(2, "a", "b"));
    ck_assert(VALUE_IS(2, "c", "256"));
    ck_assert_int_eq(db_get_expire(2, db_find(2, "a", 1)), -2147483648LL * 1000);
    str_free(f);
    db_flush(-1, 0);

    f = file_start(9);
    f = ADD(f, "\xfa\x03lua\x01x\xfa\x0aunknown-ab\x01y\xfe\x01\xfb\x02\x01");
    f = ADD(f, "\xf8\x3c\x00\x01i\x01v\xf9\x05\xfc\x00\x10\xa5\xd4\xe8\x00\x00\x00\x00\x01"
               "f\x01w");
    f = file_end(f);
    ck_assert_int_eq(load_bytes(f, str_len(f), &opts, &info, &err), 0);
    kv *idle = db_find(1, "i", 1);
    ck_assert_ptr_nonnull(idle);
    long long idle_ms = kv_idle_ms(idle, kv_lru_clock(db_time_ms()));
    ck_assert(idle_ms >= 60000 && idle_ms <= 62000);
    ck_assert_int_eq(db_get_expire(1, db_find(1, "f", 1)), 1000000000000LL);
    str_free(f);
}
END_TEST

START_TEST(test_resizedb_hint_bounded_by_the_input)
{
    /* RESIZEDB announcing 16M keys and expires in a file of a few bytes:
     * with the stream's size known, the hint is not trusted past what the
     * bytes could hold; with it unknown (a pipe), not past 64K keys. Either
     * way the tables grow by kilobytes, not by the 256 MB announced. Found
     * by tests/fuzz/fuzz_rdb_load (corpus: regress-unsized-resizedb.rdb). */
    str f = file_start(10);
    f = ADD(f, "\xfe\x00\xfb\x80\x00\xff\xff\xff\x80\x00\xff\xff\xff");
    f = file_end(f);
    for (int sized = 0; sized <= 1; sized++) {
        long long before = (long long)alloc_used_memory();
        rdb_stream s;
        rdb_stream_mem_reader(&s, f, str_len(f));
        if (!sized) s.limit = UINT64_MAX; /* reads still stop at the end */
        rdb_load_info info;
        str err = NULL;
        ck_assert_int_eq(rdb_load_stream(&s, &load_opts, &info, &err), 0);
        rdb_stream_close(&s);
        ck_assert_int_lt((long long)alloc_used_memory() - before, 4 << 20);
        db_flush(-1, 0);
    }
    str_free(f);
}
END_TEST

/* From a stream of unknown size, a RESIZEDB hint far above the keys that
 * come is followed only as they arrive: the tables stay within 16 times the
 * keys really loaded (about 8 MB here), never the 128 MB the hint asks. */
START_TEST(test_unsized_resizedb_hint_grows_with_the_keys)
{
    enum { KEYS = 100000 };
    str f = file_start(10);
    f = ADD(f, "\xfe\x00\xfb\x80\x00\xff\xff\xff\x00");
    for (int i = 0; i < KEYS; i++) {
        char pair[16];
        int n = snprintf(pair, sizeof(pair), "%c%ck%06d%cv", 0, 7, i, 1);
        f = str_cat_len(f, pair, (size_t)n);
    }
    f = file_end(f);
    long long before = (long long)alloc_used_memory();
    rdb_stream s;
    rdb_stream_mem_reader(&s, f, str_len(f));
    s.limit = UINT64_MAX; /* its size unknown, as from a connection */
    rdb_load_info info;
    str err = NULL;
    ck_assert_int_eq(rdb_load_stream(&s, &load_opts, &info, &err), 0);
    rdb_stream_close(&s);
    ck_assert_int_eq(db_size(0), KEYS);
    ck_assert_ptr_nonnull(db_find(0, "k099999", 7));
    ck_assert_int_lt((long long)alloc_used_memory() - before, 32 << 20);
    db_flush(-1, 0);
    str_free(f);
}
END_TEST

static Suite *rdb_codec_suite(void)
{
    Suite *s = suite_create("rdb_codec");
    TCase *tc = suite_new_tcase(s, "streams", test_setup, test_teardown, 30);
    tcase_add_test(tc, test_mem_stream_offset_crc_and_sticky_error);
    tcase_add_test(tc, test_file_stream_round_trip_and_limit);
    tcase_add_test(tc, test_file_writer_reports_disk_full);
    tc = suite_new_tcase(s, "encodings", test_setup, test_teardown, 30);
    tcase_add_test(tc, test_lengths_at_every_boundary);
    tcase_add_test(tc, test_strings_in_every_encoding);
    tcase_add_test(tc, test_ll_strings_millis_and_seconds);
    tcase_add_test(tc, test_values_round_trip);
    tcase_add_test(tc, test_type_names_and_refusals);
    tc = suite_new_tcase(s, "files", test_setup, test_teardown, 60);
    tcase_add_test(tc, test_whole_file_round_trip);
    tcase_add_test(tc, test_save_without_replication_or_checksum);
    tcase_add_test(tc, test_load_options);
    tcase_add_test(tc, test_progress_callbacks);
    tcase_add_test(tc, test_key_and_aux_hooks);
    tcase_add_test(tc, test_save_file_and_load_file);
    tcase_add_test(tc, test_redis_written_file);
    tc = suite_new_tcase(s, "corruption", test_setup, test_teardown, 60);
    tcase_add_test(tc, test_truncation_at_every_byte);
    tcase_add_test(tc, test_header_errors);
    tcase_add_test(tc, test_item_errors);
    tcase_add_test(tc, test_lzf_string_errors);
    tcase_add_test(tc, test_checksum_handling);
    tcase_add_test(tc, test_old_versions_and_opcodes);
    tcase_add_test(tc, test_resizedb_hint_bounded_by_the_input);
    tcase_add_test(tc, test_unsized_resizedb_hint_grows_with_the_keys);
    return s;
}

int main(void)
{
    return run_suite(rdb_codec_suite());
}
