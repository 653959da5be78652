/* util.c: parsing and formatting helpers (see util.h). */
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

int parse_ll(const char *s, size_t len, long long *out)
{
    if (len == 0 || len > 20) return -1;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        if (++i == len) return -1;
    }
    if (s[i] == '0' && len - i > 1) return -1;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return -1;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > LLONG_MAX) return -1;
        *out = (long long)v;
    }
    if (neg && v == 0) return -1; /* "-0" */
    return 0;
}

size_t ll_to_text(char *buf, long long v)
{
    char tmp[21];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = tmp[--n];
    return len;
}

int parse_double(const char *s, size_t len, double *out)
{
    char buf[256];
    if (len == 0 || len >= sizeof(buf)) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] == ' ' || buf[0] == '\t') return -1;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end != '\0' || errno == ERANGE || isnan(d)) return -1;
    *out = d;
    return 0;
}

int parse_memory(const char *s, long long *out)
{
    static const struct {
        const char *suffix;
        long long mul;
    } units[] = {{"kb", 1024}, {"mb", 1024LL * 1024}, {"gb", 1024LL * 1024 * 1024},
                 {"k", 1000}, {"m", 1000000}, {"g", 1000000000}, {"b", 1}};
    size_t len = strlen(s);
    long long mul = 1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t sl = strlen(units[i].suffix);
        if (len > sl && !strcasecmp(s + len - sl, units[i].suffix)) {
            mul = units[i].mul;
            len -= sl;
            break;
        }
    }
    long long v;
    if (parse_ll(s, len, &v) == -1 || v < 0) return -1;
    if (v > LLONG_MAX / mul) return -1;
    *out = v * mul;
    return 0;
}

void format_human_bytes(char *buf, size_t len, unsigned long long n)
{
    static const char units[] = "BKMGTP";
    double d = (double)n;
    int u = 0;
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%lluB", n);
    else
        snprintf(buf, len, "%.2f%c", d, units[u]);
}

int constant_time_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Compare over the longer length so that the time does not reveal where
     * a prefix stops matching, and fold the length difference in too. */
    size_t n = alen > blen ? alen : blen;
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= x ^ y;
    }
    return diff == 0;
}

void random_bytes(void *out, size_t len)
{
    unsigned char *p = out;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n <= 0) { /* no entropy source: still vary between runs */
            for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(rand() ^ getpid());
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

void random_hex(char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[64];
    size_t need = len > sizeof(bytes) ? sizeof(bytes) : len;
    random_bytes(bytes, need);
    for (size_t i = 0; i < need; i++) out[i] = hex[bytes[i] & 15];
}
