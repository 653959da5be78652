/* object.h: a key and its value in one allocation (a "kv"). The dict_node
 * that chains it in its database's hash table comes first, then the type,
 * encoding and access clock, the key length, the key bytes with a NUL, and
 * the value right after them:
 *
 *   | next | type enc lru | keylen exp | key ... \0 | value ... |
 *     8      4              4            keylen + 1
 *
 * The value is an 8-byte integer (encoding INT), or a string: one length
 * byte (lengths below 255) or 0xFF and an 8-byte length, then the bytes (no
 * NUL). A key with a 100-byte string thus fits jemalloc's 128-byte class,
 * where a classic layout (hash entry, key string, value object, value
 * string) needs four allocations and about 190 bytes. Strings are reported
 * as "embstr" (short, never modified) or "raw", as Redis reports them,
 * though both are stored the same way.
 *
 * A string that grows (APPEND, SETRANGE, SETBIT) needs a bigger allocation:
 * kv_grow_copy() makes the new one (always with the long length form, so it
 * can then grow in place) and the keyspace swaps it in, since the hash table
 * and the expiry index point at the kv. A leaf over dict.h. */
#ifndef TANDEM_OBJECT_H
#define TANDEM_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/dict.h"

/* Types: the RDB type ids. */
#define OBJ_STRING 0

/* Encodings: Redis's numbering, so that DEBUG OBJECT and RDB agree. */
#define OBJ_ENCODING_RAW 0
#define OBJ_ENCODING_INT 1
#define OBJ_ENCODING_EMBSTR 8

/* Strings this short are "embstr" when created whole (Redis's limit). */
#define OBJ_EMBSTR_LIMIT 44
/* Integers in [0, OBJ_SHARED_INTEGERS) are "shared" for OBJECT REFCOUNT. */
#define OBJ_SHARED_INTEGERS 10000
#define OBJ_SHARED_REFCOUNT 2147483647
/* Longest decimal text of a long long, sign included. */
#define OBJ_LL_TEXT 21

typedef struct kv {
    dict_node node;
    unsigned type : 4;
    unsigned encoding : 4;
    unsigned lru : 24; /* access clock in seconds (mod 2^24) */
    uint32_t keylen : 31;
    uint32_t has_expire : 1;
    char data[]; /* key, NUL, value */
} kv;

/* A string value: integer-encoded when it is the canonical text of a long
 * long of at most 20 characters, else embedded. */
kv *kv_new_string(const char *key, size_t keylen, const char *val, size_t vlen);
kv *kv_new_int(const char *key, size_t keylen, long long v);
/* A string value never integer-encoded ("embstr" or, with raw, "raw"). */
kv *kv_new_text(const char *key, size_t keylen, const char *val, size_t vlen, int raw);
/* An exact copy under another key (COPY, RENAME): same value and encoding. */
kv *kv_copy_as(const kv *o, const char *key, size_t keylen);
void kv_free(kv *o);

static inline const char *kv_key(const kv *o) { return o->data; }
static inline size_t kv_keylen(const kv *o) { return o->keylen; }

/* The string value: for INT, formatted into buf (OBJ_LL_TEXT bytes). */
const char *kv_string(const kv *o, char *buf, size_t *len);
size_t kv_strlen(const kv *o);
/* The value as a long long if it is one (INT, or a string that parses). */
int kv_get_ll(const kv *o, long long *out);
/* The integer of an INT-encoded kv, and setting it in place. */
long long kv_int(const kv *o);
void kv_set_int(kv *o, long long v);

/* A copy of o whose string value is raw, at least newlen bytes long (zero
 * padded), with room to grow; o is not freed. The key and has_expire carry
 * over. For APPEND, SETRANGE and SETBIT. */
kv *kv_grow_copy(const kv *o, size_t newlen);
/* Writable bytes of a raw string (after kv_grow_copy or in place). */
char *kv_string_mut(kv *o);
/* Bytes the string can reach without a new allocation. */
size_t kv_string_room(const kv *o);
/* Sets the length of a raw string within its room. */
void kv_set_strlen(kv *o, size_t len);

const char *kv_type_name(const kv *o);
const char *kv_encoding_name(const kv *o);
int kv_refcount(const kv *o);
size_t kv_alloc_size(const kv *o);

/* The access clock: seconds, 24 bits, as Redis's LRU clock. */
unsigned kv_lru_clock(long long now_ms);
/* Milliseconds since the last access, given the clock now. */
long long kv_idle_ms(const kv *o, unsigned clock);

/* dict_type for tables of kvs keyed by their key. */
extern const dict_type kv_dict_type;

#endif
