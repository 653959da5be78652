/* object.c: keys with their values in one allocation (see object.h). */
#include "core/object.h"

#include <string.h>

#include "core/alloc.h"
#include "core/util.h"

#define LRU_CLOCK_MAX ((1 << 24) - 1)

static void kv_node_key(const dict_node *n, const char **key, size_t *len)
{
    const kv *o = (const kv *)n;
    *key = o->data;
    *len = o->keylen;
}

const dict_type kv_dict_type = {kv_node_key};

static kv *kv_alloc(const char *key, size_t keylen, size_t extra)
{
    kv *o = tmalloc(sizeof(kv) + keylen + 1 + extra);
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

kv *kv_new_int(const char *key, size_t keylen, long long v)
{
    kv *o = kv_alloc(key, keylen, 0);
    o->encoding = OBJ_ENCODING_INT;
    o->v.ival = v;
    return o;
}

kv *kv_new_string(const char *key, size_t keylen, const char *val, size_t vlen)
{
    long long v;
    if (vlen <= 20 && parse_ll(val, vlen, &v) == 0) return kv_new_int(key, keylen, v);
    kv *o = kv_alloc(key, keylen, vlen + 1);
    o->encoding = vlen <= OBJ_EMBSTR_LIMIT ? OBJ_ENCODING_EMBSTR : OBJ_ENCODING_RAW;
    o->v.slen = vlen;
    char *dst = o->data + keylen + 1;
    memcpy(dst, val, vlen);
    dst[vlen] = '\0';
    return o;
}

kv *kv_new_string_like(const kv *o, const char *val, size_t vlen)
{
    return kv_new_string(o->data, o->keylen, val, vlen);
}

kv *kv_copy_as(const kv *o, const char *key, size_t keylen)
{
    size_t extra = o->encoding == OBJ_ENCODING_INT ? 0 : o->v.slen + 1;
    kv *c = kv_alloc(key, keylen, extra);
    c->type = o->type;
    c->encoding = o->encoding;
    c->lru = o->lru;
    c->v = o->v;
    if (extra) memcpy(c->data + keylen + 1, o->data + o->keylen + 1, extra);
    return c;
}

void kv_free(kv *o) { tfree(o); }

const char *kv_string(const kv *o, char *buf, size_t *len)
{
    if (o->encoding == OBJ_ENCODING_INT) {
        *len = ll_to_text(buf, o->v.ival);
        return buf;
    }
    *len = o->v.slen;
    return o->data + o->keylen + 1;
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
        *out = o->v.ival;
        return 0;
    }
    return parse_ll(o->data + o->keylen + 1, o->v.slen, out);
}

size_t kv_string_room(const kv *o)
{
    size_t head = sizeof(kv) + o->keylen + 1;
    return alloc_size((void *)o) - head - 1;
}

kv *kv_grow_copy(const kv *o, size_t newlen)
{
    char buf[OBJ_LL_TEXT];
    size_t len;
    const char *cur = kv_string(o, buf, &len);
    if (newlen < len) newlen = len;
    /* Room to grow: double below 1 MB, +1 MB above (as strings do). */
    size_t room = newlen < 1024 * 1024 ? newlen * 2 : newlen + 1024 * 1024;
    kv *c = kv_alloc(o->data, o->keylen, room + 1);
    c->type = o->type;
    c->encoding = OBJ_ENCODING_RAW;
    c->lru = o->lru;
    c->has_expire = o->has_expire;
    char *dst = c->data + c->keylen + 1;
    memcpy(dst, cur, len);
    memset(dst + len, 0, newlen - len + 1);
    c->v.slen = newlen;
    return c;
}

char *kv_string_mut(kv *o) { return o->data + o->keylen + 1; }

void kv_set_strlen(kv *o, size_t len)
{
    o->v.slen = len;
    o->data[o->keylen + 1 + len] = '\0';
}

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
    if (o->encoding == OBJ_ENCODING_INT && o->v.ival >= 0 && o->v.ival < OBJ_SHARED_INTEGERS)
        return OBJ_SHARED_REFCOUNT;
    return 1;
}

size_t kv_alloc_size(const kv *o) { return alloc_size((void *)o); }

unsigned kv_lru_clock(long long now_ms) { return (unsigned)((now_ms / 1000) & LRU_CLOCK_MAX); }

long long kv_idle_ms(const kv *o, unsigned clock)
{
    unsigned diff = clock >= o->lru ? clock - o->lru : clock + (LRU_CLOCK_MAX - o->lru);
    return (long long)diff * 1000;
}
