/* resp_write.h: RESP2 and RESP3 encoders. Two forms: header formatters that
 * write into a caller's small buffer (the client output path uses these to
 * avoid a copy), and appenders onto a str (for building commands and for
 * tests). A leaf. */
#ifndef TANDEM_RESP_WRITE_H
#define TANDEM_RESP_WRITE_H

#include <stddef.h>

#include "core/str.h"

#define RESP_HEADER_MAX 32

/* Writes prefix, the decimal n and CRLF into dst (>= RESP_HEADER_MAX bytes):
 * "*3\r\n", "$5\r\n", ":42\r\n". Returns the byte count. */
size_t resp_format_header(char *dst, char prefix, long long n);
/* Formats a double as Redis does in RESP3 (",1.5\r\n", ",inf\r\n") and as
 * a bulk string's content in RESP2 ("1.5"; %.17g). Returns bytes written. */
size_t resp_format_double(char *dst, size_t cap, double d);

str resp_add_simple(str s, const char *text, size_t len);      /* +text */
str resp_add_error(str s, const char *text, size_t len);       /* -text */
str resp_add_integer(str s, long long v);                      /* :v */
str resp_add_bulk(str s, const void *p, size_t len);           /* $len data */
str resp_add_null(str s, int resp3);                           /* $-1 or _ */
str resp_add_null_array(str s, int resp3);                     /* *-1 or _ */
str resp_add_array_len(str s, long long n);                    /* *n */
str resp_add_map_len(str s, int resp3, long long pairs);       /* %n or *2n */
str resp_add_set_len(str s, int resp3, long long n);           /* ~n or *n */
str resp_add_double(str s, int resp3, double d);               /* ,d or bulk */
str resp_add_bool(str s, int resp3, int b);                    /* #t/#f or :1/:0 */
str resp_add_verbatim(str s, int resp3, const char *p, size_t len, const char *ext); /* =len ext:data or bulk */
/* A whole command as a multibulk array, for clients of other servers. */
str resp_add_command(str s, int argc, const char **argv, const size_t *lens);

#endif
