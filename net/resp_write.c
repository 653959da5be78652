/* resp_write.c: RESP2 and RESP3 encoders (see resp_write.h). Headers are
 * formatted by hand, since they are written for every reply; the appenders
 * reserve their whole reply once and write into the str directly. */
#include "net/resp_write.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DOUBLE_MAX_CHARS 32 /* "%.17g" text of any double, with room to spare */

size_t resp_format_header(char *dst, char prefix, long long n)
{
    char digits[20];
    unsigned long long v = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    size_t k = 0;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char *p = dst;
    *p++ = prefix;
    if (n < 0) *p++ = '-';
    while (k)
        *p++ = digits[--k];
    *p++ = '\r';
    *p++ = '\n';
    return (size_t)(p - dst);
}

size_t resp_format_double(char *dst, size_t cap, double d)
{
    int n;
    if (isnan(d))
        n = snprintf(dst, cap, "nan");
    else if (isinf(d))
        n = snprintf(dst, cap, "%s", d > 0 ? "inf" : "-inf");
    else
        n = snprintf(dst, cap, "%.17g", d);
    if (n < 0 || cap == 0) return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

static str add_header(str s, char prefix, long long n)
{
    s = str_make_room(s, RESP_HEADER_MAX);
    str_incr_len(s, (long long)resp_format_header(s + str_len(s), prefix, n));
    return s;
}

/* prefix, text with any CR or LF turned into a space, CRLF: a reply text
 * must not be able to break the protocol. */
static str add_line(str s, char prefix, const char *text, size_t len)
{
    s = str_make_room(s, len + 3);
    char *p = s + str_len(s);
    *p++ = prefix;
    for (size_t i = 0; i < len; i++)
        p[i] = text[i] == '\r' || text[i] == '\n' ? ' ' : text[i];
    p[len] = '\r';
    p[len + 1] = '\n';
    str_incr_len(s, (long long)len + 3);
    return s;
}

str resp_add_simple(str s, const char *text, size_t len)
{
    return add_line(s, '+', text, len);
}

str resp_add_error(str s, const char *text, size_t len)
{
    return add_line(s, '-', text, len);
}

str resp_add_integer(str s, long long v)
{
    return add_header(s, ':', v);
}

str resp_add_bulk(str s, const void *p, size_t len)
{
    s = str_make_room(s, RESP_HEADER_MAX + len + 2);
    s = add_header(s, '$', (long long)len);
    memcpy(s + str_len(s), p, len);
    memcpy(s + str_len(s) + len, "\r\n", 2);
    str_incr_len(s, (long long)len + 2);
    return s;
}

str resp_add_null(str s, int resp3)
{
    return resp3 ? str_cat_len(s, "_\r\n", 3) : str_cat_len(s, "$-1\r\n", 5);
}

str resp_add_null_array(str s, int resp3)
{
    return resp3 ? str_cat_len(s, "_\r\n", 3) : str_cat_len(s, "*-1\r\n", 5);
}

str resp_add_array_len(str s, long long n)
{
    return add_header(s, '*', n);
}

str resp_add_map_len(str s, int resp3, long long pairs)
{
    return resp3 ? add_header(s, '%', pairs) : add_header(s, '*', pairs * 2);
}

str resp_add_set_len(str s, int resp3, long long n)
{
    return add_header(s, resp3 ? '~' : '*', n);
}

str resp_add_double(str s, int resp3, double d)
{
    char text[DOUBLE_MAX_CHARS];
    size_t len = resp_format_double(text, sizeof(text), d);
    if (!resp3) return resp_add_bulk(s, text, len);
    s = str_make_room(s, len + 3);
    s = str_cat_len(s, ",", 1);
    s = str_cat_len(s, text, len);
    return str_cat_len(s, "\r\n", 2);
}

str resp_add_bool(str s, int resp3, int b)
{
    if (resp3) return str_cat_len(s, b ? "#t\r\n" : "#f\r\n", 4);
    return add_header(s, ':', b ? 1 : 0);
}

str resp_add_verbatim(str s, int resp3, const char *p, size_t len, const char *ext)
{
    if (!resp3) return resp_add_bulk(s, p, len);
    /* The format is exactly three bytes: shorter is space padded, longer cut. */
    char prefix[4] = {' ', ' ', ' ', ':'};
    for (int i = 0; i < 3 && ext[i]; i++)
        prefix[i] = ext[i];
    s = str_make_room(s, RESP_HEADER_MAX + sizeof(prefix) + len + 2);
    s = add_header(s, '=', (long long)(len + sizeof(prefix)));
    s = str_cat_len(s, prefix, sizeof(prefix));
    s = str_cat_len(s, p, len);
    return str_cat_len(s, "\r\n", 2);
}

str resp_add_command(str s, int argc, const char **argv, const size_t *lens)
{
    s = add_header(s, '*', argc);
    for (int i = 0; i < argc; i++)
        s = resp_add_bulk(s, argv[i], lens[i]);
    return s;
}
