/* str.c: binary-safe growable strings (see str.h). Growth doubles below 1 MB
 * and adds 1 MB above, so appends are amortised constant time. */
#include "core/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

#define STR_PREALLOC_MAX (1024 * 1024)

static str str_alloc(size_t cap)
{
    char *raw = tmalloc(sizeof(struct str_header) + cap + 1);
    str s = raw + sizeof(struct str_header);
    STR_HDR(s)->len = 0;
    STR_HDR(s)->cap = cap;
    s[0] = '\0';
    return s;
}

str str_new_len(const void *init, size_t len)
{
    str s = str_alloc(len);
    if (init)
        memcpy(s, init, len);
    else
        memset(s, 0, len);
    s[len] = '\0';
    STR_HDR(s)->len = len;
    return s;
}

str str_new(const char *cstr) { return str_new_len(cstr, cstr ? strlen(cstr) : 0); }
str str_empty(void) { return str_new_len("", 0); }
str str_dup(const str s) { return str_new_len(s, str_len(s)); }

void str_free(str s)
{
    if (s) tfree(s - sizeof(struct str_header));
}

str str_make_room(str s, size_t addlen)
{
    struct str_header *h = STR_HDR(s);
    if (h->cap - h->len >= addlen) return s;
    size_t newcap = h->len + addlen;
    newcap = newcap < STR_PREALLOC_MAX ? newcap * 2 : newcap + STR_PREALLOC_MAX;
    char *raw = trealloc(s - sizeof(struct str_header), sizeof(struct str_header) + newcap + 1);
    s = raw + sizeof(struct str_header);
    STR_HDR(s)->cap = newcap;
    return s;
}

void str_incr_len(str s, long long incr)
{
    STR_HDR(s)->len += incr;
    s[STR_HDR(s)->len] = '\0';
}

void str_set_len(str s, size_t len)
{
    STR_HDR(s)->len = len;
    s[len] = '\0';
}

void str_clear(str s) { str_set_len(s, 0); }

str str_cat_len(str s, const void *p, size_t len)
{
    s = str_make_room(s, len);
    memcpy(s + str_len(s), p, len);
    str_incr_len(s, (long long)len);
    return s;
}

str str_cat(str s, const char *cstr) { return str_cat_len(s, cstr, strlen(cstr)); }
str str_cat_str(str s, const str t) { return str_cat_len(s, t, str_len(t)); }

str str_cat_vfmt(str s, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int need = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (need < 0) return s;
    s = str_make_room(s, (size_t)need);
    vsnprintf(s + str_len(s), (size_t)need + 1, fmt, ap);
    str_incr_len(s, need);
    return s;
}

str str_cat_fmt(str s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s = str_cat_vfmt(s, fmt, ap);
    va_end(ap);
    return s;
}

str str_from_ll(long long v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    return str_new_len(buf, (size_t)n);
}

void str_consume(str s, size_t n)
{
    size_t len = str_len(s);
    if (n >= len) {
        str_clear(s);
        return;
    }
    memmove(s, s + n, len - n);
    str_set_len(s, len - n);
}

str str_shrink(str s)
{
    size_t len = str_len(s);
    if (STR_HDR(s)->cap == len) return s;
    char *raw = trealloc(s - sizeof(struct str_header), sizeof(struct str_header) + len + 1);
    s = raw + sizeof(struct str_header);
    STR_HDR(s)->cap = len;
    return s;
}

size_t str_alloc_size(const str s) { return alloc_size(s - sizeof(struct str_header)); }

void str_tolower(str s)
{
    size_t len = str_len(s);
    for (size_t i = 0; i < len; i++) s[i] = (char)tolower((unsigned char)s[i]);
}

int str_cmp(const str a, const str b)
{
    size_t la = str_len(a), lb = str_len(b);
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : (la > lb ? 1 : 0);
}
