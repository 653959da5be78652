/* str.h: binary-safe growable strings. A str is a char pointer to the bytes,
 * always followed by a NUL, with its length and capacity stored just before
 * it, so a str can be passed wherever a C string is read. Functions that may
 * grow the string return the (possibly moved) new pointer. A leaf. */
#ifndef TANDEM_STR_H
#define TANDEM_STR_H

#include <stdarg.h>
#include <stddef.h>

typedef char *str;

struct __attribute__((packed)) str_header {
    size_t len;
    size_t cap; /* bytes available for content, NUL not counted */
};

#define STR_HDR(s) ((struct str_header *)((s) - sizeof(struct str_header)))

static inline size_t str_len(const str s) { return STR_HDR(s)->len; }
static inline size_t str_avail(const str s) { return STR_HDR(s)->cap - STR_HDR(s)->len; }

str str_new_len(const void *init, size_t len); /* init may be NULL: zeroed */
str str_new(const char *cstr);
str str_empty(void);
str str_dup(const str s);
void str_free(str s);
str str_cat_len(str s, const void *p, size_t len);
str str_cat(str s, const char *cstr);
str str_cat_str(str s, const str t);
str str_cat_fmt(str s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
str str_cat_vfmt(str s, const char *fmt, va_list ap);
str str_from_ll(long long v);
/* Make room for addlen more bytes without changing the length. */
str str_make_room(str s, size_t addlen);
/* Adjust the length after writing into the room directly. */
void str_incr_len(str s, long long incr);
void str_set_len(str s, size_t len);
void str_clear(str s);
/* Drop the first n bytes, keeping the rest. */
void str_consume(str s, size_t n);
/* Shrink the allocation to the length. */
str str_shrink(str s);
/* Total allocated bytes including the header. */
size_t str_alloc_size(const str s);
void str_tolower(str s);
int str_cmp(const str a, const str b);

#endif
