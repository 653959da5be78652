/* codec.c: RDB lengths, strings, times and values over a stream (see
 * codec.h and the bit layout in format.h). Writing picks the smallest form
 * Redis would: a small canonical integer as int8/16/32, a string over 20
 * bytes LZF-compressed when that saves at least 4 bytes, else raw bytes.
 *
 * Reading trusts nothing: a length is checked against what the stream can
 * still deliver before anything is allocated (streams of unknown size are
 * read in 1 MB steps, so memory follows the bytes that really arrive); an
 * LZF string's compressed bytes are read first and measured by a dry
 * decompression before its output is allocated, so a corrupt "original
 * length" costs nothing. Every error goes into the stream's sticky error
 * with the offset it is about. */
#include "rdb/codec.h"

#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "rdb/format.h"
#include "rdb/lzf.h"

/* Reading a string from a stream of unknown size: steps of this many. */
#define CODEC_READ_STEP (1024 * 1024)
/* Compressing a string this long or shorter uses a buffer on the stack. */
#define CODEC_LZF_STACK 4096
/* The most one LZF byte can stand for: a 3-byte reference copies 264. */
#define CODEC_LZF_MAX_RATIO 88

typedef unsigned long long ull;

/* ------------------------------------------------------------ writing */

int rdb_write_byte(rdb_stream *s, unsigned char b)
{
    return rdb_stream_write(s, &b, 1);
}

static void codec_put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static void codec_put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

int rdb_write_len(rdb_stream *s, uint64_t len)
{
    unsigned char buf[9];
    size_t n;
    if (len <= RDB_LEN_6BIT_MAX) {
        buf[0] = (unsigned char)(RDB_LEN_6BIT | len);
        n = 1;
    } else if (len <= RDB_LEN_14BIT_MAX) {
        buf[0] = (unsigned char)(RDB_LEN_14BIT | (len >> 8));
        buf[1] = (unsigned char)(len & 0xff);
        n = 2;
    } else if (len <= UINT32_MAX) {
        buf[0] = RDB_LEN_32BIT;
        codec_put_be(buf + 1, len, 4);
        n = 5;
    } else {
        buf[0] = RDB_LEN_64BIT;
        codec_put_be(buf + 1, len, 8);
        n = 9;
    }
    return rdb_stream_write(s, buf, n);
}

/* The int8/16/32 form of v in buf (5 bytes): its size, or 0 when v needs
 * more than 32 bits. */
static size_t codec_encode_int(long long v, unsigned char *buf)
{
    int bytes, enc;
    if (v >= INT8_MIN && v <= INT8_MAX) {
        bytes = 1;
        enc = RDB_ENC_INT8;
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        bytes = 2;
        enc = RDB_ENC_INT16;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        bytes = 4;
        enc = RDB_ENC_INT32;
    } else {
        return 0;
    }
    buf[0] = (unsigned char)(RDB_LEN_ENCVAL | enc);
    codec_put_le(buf + 1, (uint64_t)v, bytes);
    return 1 + (size_t)bytes;
}

static int codec_write_raw(rdb_stream *s, const char *p, size_t len)
{
    if (rdb_write_len(s, len) < 0) return -1;
    return rdb_stream_write(s, p, len);
}

int rdb_write_ll_string(rdb_stream *s, long long v)
{
    unsigned char buf[5];
    size_t n = codec_encode_int(v, buf);
    if (n) return rdb_stream_write(s, buf, n);
    char text[OBJ_LL_TEXT];
    return codec_write_raw(s, text, ll_to_text(text, v));
}

/* The LZF form when it saves RDB_LZF_MIN_SAVING bytes: 1 written, 0 not
 * worth it, -1 on a stream error. */
static int codec_try_lzf(rdb_stream *s, const char *p, size_t len)
{
    size_t room = len - RDB_LZF_MIN_SAVING;
    unsigned char stack[CODEC_LZF_STACK];
    unsigned char *out = room <= sizeof(stack) ? stack : tmalloc(room);
    size_t clen = lzf_compress(p, len, out, room);
    int rc = 0;
    if (clen) {
        rc = 1;
        if (rdb_write_byte(s, RDB_LEN_ENCVAL | RDB_ENC_LZF) < 0 || rdb_write_len(s, clen) < 0 ||
            rdb_write_len(s, len) < 0 || rdb_stream_write(s, out, clen) < 0)
            rc = -1;
    }
    if (out != stack) tfree(out);
    return rc;
}

int rdb_write_string(rdb_stream *s, const char *p, size_t len, int compress)
{
    long long v;
    if (len <= RDB_INT_ENC_MAX_LEN && parse_ll(p, len, &v) == 0) {
        unsigned char buf[5];
        size_t n = codec_encode_int(v, buf);
        if (n) return rdb_stream_write(s, buf, n);
    }
    if (compress && len > RDB_LZF_MIN_LEN) {
        int rc = codec_try_lzf(s, p, len);
        if (rc) return rc < 0 ? -1 : 0;
    }
    return codec_write_raw(s, p, len);
}

int rdb_write_millis(rdb_stream *s, long long ms)
{
    unsigned char buf[8];
    codec_put_le(buf, (uint64_t)ms, 8);
    return rdb_stream_write(s, buf, sizeof(buf));
}

int rdb_write_value_type(rdb_stream *s, const kv *o)
{
    if (o->type == OBJ_STRING) return rdb_write_byte(s, RDB_TYPE_STRING);
    rdb_stream_fail(s, "Unknown object type %d", (int)o->type);
    return -1;
}

int rdb_write_value(rdb_stream *s, const kv *o, int compress)
{
    if (o->type != OBJ_STRING) {
        rdb_stream_fail(s, "Unknown object type %d", (int)o->type);
        return -1;
    }
    if (o->encoding == OBJ_ENCODING_INT) return rdb_write_ll_string(s, kv_int(o));
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *p = kv_string(o, buf, &len);
    return rdb_write_string(s, p, len, compress);
}

/* ------------------------------------------------------------ reading */

int rdb_read_byte(rdb_stream *s, unsigned char *b)
{
    return rdb_stream_read(s, b, 1);
}

static uint64_t codec_get_be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

static uint64_t codec_get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int rdb_read_len(rdb_stream *s, uint64_t *len, int *encoded)
{
    unsigned char b, buf[8];
    *encoded = 0;
    if (rdb_read_byte(s, &b) < 0) return -1;
    switch (b & RDB_LEN_KIND_MASK) {
    case RDB_LEN_6BIT:
        *len = b & RDB_LEN_VALUE_MASK;
        return 0;
    case RDB_LEN_14BIT:
        if (rdb_read_byte(s, &buf[0]) < 0) return -1;
        *len = (uint64_t)(b & RDB_LEN_VALUE_MASK) << 8 | buf[0];
        return 0;
    case RDB_LEN_ENCVAL:
        *encoded = 1;
        *len = b & RDB_LEN_VALUE_MASK;
        return 0;
    }
    if (b == RDB_LEN_32BIT || b == RDB_LEN_64BIT) {
        int bytes = b == RDB_LEN_32BIT ? 4 : 8;
        if (rdb_stream_read(s, buf, (size_t)bytes) < 0) return -1;
        *len = codec_get_be(buf, bytes);
        return 0;
    }
    rdb_stream_fail(s, "Unknown length encoding %d at offset %llu", b, (ull)(s->offset - 1));
    return -1;
}

/* A plain length (not a special encoding), for the places that need one. */
static int codec_read_plain_len(rdb_stream *s, uint64_t *len, const char *what)
{
    uint64_t at = s->offset;
    int encoded;
    if (rdb_read_len(s, len, &encoded) < 0) return -1;
    if (!encoded) return 0;
    rdb_stream_fail(s, "Invalid %s length encoding at offset %llu", what, (ull)at);
    return -1;
}

/* len raw bytes into *out (emptied first), len having been announced at
 * offset at. 0 or -1. */
static int codec_read_raw(rdb_stream *s, uint64_t len, uint64_t at, str *out)
{
    uint64_t remaining = rdb_stream_remaining(s);
    if (len > remaining || len > SIZE_MAX / 2) {
        rdb_stream_fail(s, "String length %llu at offset %llu is larger than the %llu bytes left",
                        (ull)len, (ull)at, (ull)remaining);
        return -1;
    }
    str_clear(*out);
    /* With the size unknown, memory follows the bytes as they come. */
    size_t step = remaining != UINT64_MAX ? (size_t)len : CODEC_READ_STEP;
    for (size_t got = 0; got < len;) {
        size_t n = len - got < step ? (size_t)(len - got) : step;
        *out = str_make_room(*out, n);
        if (rdb_stream_read(s, *out + got, n) < 0) return -1;
        str_incr_len(*out, (long long)n);
        got += n;
    }
    return 0;
}

/* An LZF string whose marker byte was at offset at: both lengths, then
 * the compressed bytes, decompressed into room for the announced size. */
static int codec_read_lzf(rdb_stream *s, uint64_t at, str *out)
{
    uint64_t clen, ulen;
    if (codec_read_plain_len(s, &clen, "LZF") < 0 || codec_read_plain_len(s, &ulen, "LZF") < 0)
        return -1;
    if (clen == 0 || ulen == 0 || clen > rdb_stream_remaining(s) ||
        ulen / CODEC_LZF_MAX_RATIO > clen) {
        rdb_stream_fail(s,
                        "Invalid LZF string at offset %llu: %llu compressed bytes for %llu "
                        "(%llu bytes left)",
                        (ull)at, (ull)clen, (ull)ulen, (ull)rdb_stream_remaining(s));
        return -1;
    }
    str c = str_empty();
    int rc = codec_read_raw(s, clen, at, &c);
    if (rc == 0) {
        rc = -1;
        /* ulen is within LZF's ratio of the clen bytes that arrived, so
         * the room is justified before the data is checked. */
        str_clear(*out);
        *out = str_make_room(*out, (size_t)ulen);
        if (lzf_decompress(c, clen, *out, (size_t)ulen) == ulen) {
            str_set_len(*out, (size_t)ulen);
            rc = 0;
        }
        if (rc) rdb_stream_fail(s, "Invalid LZF compressed string at offset %llu", (ull)at);
    }
    str_free(c);
    return rc;
}

/* An int8/16/32 string as its decimal text. */
static int codec_read_int(rdb_stream *s, int bytes, str *out)
{
    unsigned char buf[4];
    if (rdb_stream_read(s, buf, (size_t)bytes) < 0) return -1;
    uint64_t u = codec_get_le(buf, bytes);
    long long v = bytes == 1 ? (int8_t)u : bytes == 2 ? (int16_t)u : (long long)(int32_t)u;
    str_clear(*out);
    *out = str_cat_fmt(*out, "%lld", v);
    return 0;
}

int rdb_read_string_into(rdb_stream *s, str *out)
{
    uint64_t at = s->offset, len;
    int encoded;
    if (rdb_read_len(s, &len, &encoded) < 0) return -1;
    if (!encoded) return codec_read_raw(s, len, at, out);
    switch (len) {
    case RDB_ENC_INT8:
        return codec_read_int(s, 1, out);
    case RDB_ENC_INT16:
        return codec_read_int(s, 2, out);
    case RDB_ENC_INT32:
        return codec_read_int(s, 4, out);
    case RDB_ENC_LZF:
        return codec_read_lzf(s, at, out);
    }
    rdb_stream_fail(s, "Unknown RDB string encoding type %llu at offset %llu", (ull)len, (ull)at);
    return -1;
}

str rdb_read_string(rdb_stream *s)
{
    str r = str_empty();
    if (rdb_read_string_into(s, &r) == 0) return r;
    str_free(r);
    return NULL;
}

int rdb_read_millis(rdb_stream *s, long long *ms)
{
    unsigned char buf[8];
    if (rdb_stream_read(s, buf, sizeof(buf)) < 0) return -1;
    *ms = (long long)codec_get_le(buf, 8);
    return 0;
}

int rdb_read_seconds(rdb_stream *s, long long *ms)
{
    unsigned char buf[4];
    if (rdb_stream_read(s, buf, sizeof(buf)) < 0) return -1;
    *ms = (long long)(int32_t)codec_get_le(buf, 4) * 1000;
    return 0;
}

/* ------------------------------------------------------------ types */

static const struct {
    const char *name;
    const char *plural; /* of the data type, for "does not have ... yet" */
} codec_types[RDB_TYPE_LAST + 1] = {
    [RDB_TYPE_STRING] = {"string", "strings"},
    [RDB_TYPE_LIST] = {"list", "lists"},
    [RDB_TYPE_SET] = {"set", "sets"},
    [RDB_TYPE_ZSET] = {"zset", "sorted sets"},
    [RDB_TYPE_HASH] = {"hash", "hashes"},
    [RDB_TYPE_ZSET_2] = {"zset-2", "sorted sets"},
    [RDB_TYPE_MODULE_PRE_GA] = {"module-pre-ga", "modules"},
    [RDB_TYPE_MODULE_2] = {"module-2", "modules"},
    [RDB_TYPE_HASH_ZIPMAP] = {"hash-zipmap", "hashes"},
    [RDB_TYPE_LIST_ZIPLIST] = {"list-ziplist", "lists"},
    [RDB_TYPE_SET_INTSET] = {"set-intset", "sets"},
    [RDB_TYPE_ZSET_ZIPLIST] = {"zset-ziplist", "sorted sets"},
    [RDB_TYPE_HASH_ZIPLIST] = {"hash-ziplist", "hashes"},
    [RDB_TYPE_LIST_QUICKLIST] = {"list-quicklist", "lists"},
    [RDB_TYPE_STREAM_LISTPACKS] = {"stream-listpacks", "streams"},
    [RDB_TYPE_HASH_LISTPACK] = {"hash-listpack", "hashes"},
    [RDB_TYPE_ZSET_LISTPACK] = {"zset-listpack", "sorted sets"},
    [RDB_TYPE_LIST_QUICKLIST_2] = {"list-quicklist-2", "lists"},
    [RDB_TYPE_STREAM_LISTPACKS_2] = {"stream-listpacks-2", "streams"},
    [RDB_TYPE_STREAM_LISTPACKS_3] = {"stream-listpacks-3", "streams"},
};

const char *rdb_type_name(int type)
{
    if (type < 0 || type > RDB_TYPE_LAST || !codec_types[type].name) return "unknown";
    return codec_types[type].name;
}

/* A type other than string is refused before anything more is read; the
 * offset named is that of the type byte, which the caller has just read
 * (the loader calls this before reading the key for such a type). */
int rdb_read_value_into(rdb_stream *s, int type, str *out)
{
    if (type == RDB_TYPE_STRING) return rdb_read_string_into(s, out);
    ull at = s->offset ? s->offset - 1 : 0;
    if (type < 0 || type > RDB_TYPE_LAST || !codec_types[type].name)
        rdb_stream_fail(s, "Unknown RDB encoding type %d at offset %llu", type, at);
    else
        rdb_stream_fail(s,
                        "Unsupported value type %d (%s) at offset %llu: this tandem does not "
                        "have %s yet",
                        type, codec_types[type].name, at, codec_types[type].plural);
    return -1;
}

kv *rdb_read_value(rdb_stream *s, int type, const char *key, size_t keylen)
{
    str v = str_empty();
    kv *o = rdb_read_value_into(s, type, &v) == 0 ? kv_new_string(key, keylen, v, str_len(v)) : NULL;
    str_free(v);
    return o;
}
