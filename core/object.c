/* object.c: keys with their values in one allocation (see object.h). */
#include "core/object.h"

#include <string.h>

#include "core/alloc.h"
#include "core/panic.h"
#include "core/util.h"

#define LRU_CLOCK_MAX ((1 << 24) - 1)
#define KV_LONG_LEN 0xFF /* length byte announcing an 8-byte length */
#define KV_SHORT_MAX 254 /* longest string with a one-byte length */

static void kv_node_key(const dict_node *n, const char **key, size_t *len)
{
    const kv *o = (const kv *)n;
    *key = o->data;
    *len = o->keylen;
}

const dict_type kv_dict_type = {kv_node_key};

static inline unsigned char *kv_value(const kv *o)
{
    return (unsigned char *)o->data + o->keylen + 1;
}

static inline int kv_long_form(const kv *o) { return kv_value(o)[0] == KV_LONG_LEN; }
static inline size_t kv_len_bytes(int long_form) { return long_form ? 9 : 1; }

static kv *kv_alloc(const char *key, size_t keylen, size_t value_bytes)
{
    kv *o = tmalloc(sizeof(kv) + keylen + 1 + value_bytes);
    o->node.next = NULL;
    o->type = OBJ_STRING;
    o->encoding = OBJ_ENCODING_RAW;
    o->lru = 0;
    o->keylen = (uint32_t)keylen;
    o->has_expire = 0;
    memcpy(o->data, key, keylen);
    o->data[keylen] = '\0';
    return o;
}

static void kv_write_len(kv *o, int long_form, size_t len)
{
    unsigned char *v = kv_value(o);
    if (long_form) {
        v[0] = KV_LONG_LEN;
        uint64_t l = len;
        memcpy(v + 1, &l, 8);
    } else {
        tassert(len <= KV_SHORT_MAX);
        v[0] = (unsigned char)len;
    }
}

static size_t kv_read_len(const kv *o)
{
    const unsigned char *v = kv_value(o);
    if (v[0] != KV_LONG_LEN) return v[0];
    uint64_t l;
    memcpy(&l, v + 1, 8);
    return (size_t)l;
}

/* A string kv with room for cap bytes, holding len bytes of val (zeroed
 * when val is NULL). */
static kv *kv_alloc_string(const char *key, size_t keylen, const char *val, size_t len,
                           size_t cap, int long_form)
{
    kv *o = kv_alloc(key, keylen, kv_len_bytes(long_form) + cap);
    kv_write_len(o, long_form, len);
    char *dst = kv_string_mut(o);
    if (val)
        memcpy(dst, val, len);
    else
        memset(dst, 0, len);
    return o;
}

kv *kv_new_int(const char *key, size_t keylen, long long v)
{
    kv *o = kv_alloc(key, keylen, sizeof(long long));
    o->encoding = OBJ_ENCODING_INT;
    kv_set_int(o, v);
    return o;
}

kv *kv_new_text(const char *key, size_t keylen, const char *val, size_t vlen, int raw)
{
    kv *o = kv_alloc_string(key, keylen, val, vlen, vlen, vlen > KV_SHORT_MAX);
    o->encoding = raw || vlen > OBJ_EMBSTR_LIMIT ? OBJ_ENCODING_RAW : OBJ_ENCODING_EMBSTR;
    return o;
}

kv *kv_new_string(const char *key, size_t keylen, const char *val, size_t vlen)
{
    long long v;
    if (vlen <= 20 && parse_ll(val, vlen, &v) == 0) return kv_new_int(key, keylen, v);
    return kv_new_text(key, keylen, val, vlen, 0);
}

/* Bytes of the value region in use. */
static size_t kv_value_bytes(const kv *o)
{
    if (o->encoding == OBJ_ENCODING_INT) return sizeof(long long);
    return kv_len_bytes(kv_long_form(o)) + kv_read_len(o);
}

kv *kv_copy_as(const kv *o, const char *key, size_t keylen)
{
    size_t bytes = kv_value_bytes(o);
    kv *c = kv_alloc(key, keylen, bytes);
    c->type = o->type;
    c->encoding = o->encoding;
    c->lru = o->lru;
    memcpy(kv_value(c), kv_value(o), bytes);
    return c;
}

void kv_free(kv *o) { tfree(o); }

long long kv_int(const kv *o)
{
    long long v;
    memcpy(&v, kv_value(o), sizeof(v));
    return v;
}

void kv_set_int(kv *o, long long v) { memcpy(kv_value(o), &v, sizeof(v)); }

const char *kv_string(const kv *o, char *buf, size_t *len)
{
    if (o->encoding == OBJ_ENCODING_INT) {
        *len = ll_to_text(buf, kv_int(o));
        return buf;
    }
    *len = kv_read_len(o);
    return (const char *)kv_value(o) + kv_len_bytes(kv_long_form(o));
}

size_t kv_strlen(const kv *o)
{
    char buf[OBJ_LL_TEXT];
    size_t len;
    kv_string(o, buf, &len);
    return len;
}

int kv_get_ll(const kv *o, long long *out)
{
    if (o->encoding == OBJ_ENCODING_INT) {
        *out = kv_int(o);
        return 0;
    }
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *p = kv_string(o, buf, &len);
    return parse_ll(p, len, out);
}

size_t kv_string_room(const kv *o)
{
    int long_form = kv_long_form(o);
    size_t head = sizeof(kv) + o->keylen + 1 + kv_len_bytes(long_form);
    size_t room = alloc_size((void *)o) - head;
    return !long_form && room > KV_SHORT_MAX ? KV_SHORT_MAX : room;
}

kv *kv_grow_copy(const kv *o, size_t newlen)
{
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *cur = kv_string(o, buf, &len);
    if (newlen < len) newlen = len;
    /* Room to grow: double below 1 MB, +1 MB above (as strings do). */
    size_t room = newlen < 1024 * 1024 ? newlen * 2 : newlen + 1024 * 1024;
    kv *c = kv_alloc_string(o->data, o->keylen, NULL, newlen, room, 1);
    c->type = o->type;
    c->encoding = OBJ_ENCODING_RAW;
    c->lru = o->lru;
    c->has_expire = o->has_expire;
    memcpy(kv_string_mut(c), cur, len);
    return c;
}

char *kv_string_mut(kv *o) { return (char *)kv_value(o) + kv_len_bytes(kv_long_form(o)); }

void kv_set_strlen(kv *o, size_t len) { kv_write_len(o, kv_long_form(o), len); }

const char *kv_type_name(const kv *o)
{
    (void)o;
    return "string";
}

const char *kv_encoding_name(const kv *o)
{
    switch (o->encoding) {
    case OBJ_ENCODING_INT: return "int";
    case OBJ_ENCODING_EMBSTR: return "embstr";
    default: return "raw";
    }
}

int kv_refcount(const kv *o)
{
    if (o->encoding != OBJ_ENCODING_INT) return 1;
    long long v = kv_int(o);
    return v >= 0 && v < OBJ_SHARED_INTEGERS ? OBJ_SHARED_REFCOUNT : 1;
}

size_t kv_alloc_size(const kv *o) { return alloc_size((void *)o); }

unsigned kv_lru_clock(long long now_ms) { return (unsigned)((now_ms / 1000) & LRU_CLOCK_MAX); }

long long kv_idle_ms(const kv *o, unsigned clock)
{
    unsigned diff = clock >= o->lru ? clock - o->lru : clock + (LRU_CLOCK_MAX - o->lru);
    return (long long)diff * 1000;
}
