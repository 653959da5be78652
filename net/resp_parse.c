/* resp_parse.c: the resumable request parser (see resp_parse.h). Follows
 * Redis 7.0's processMultibulkBuffer and processInlineBuffer wherever a client
 * can tell the difference: the same line rules, number syntax, limits and
 * error texts. Lines are only consumed whole; bulk data is consumed as it
 * arrives into the argument being built, whose room grows with the bytes
 * received rather than with the length the client announced. */
#include "net/resp_parse.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

enum { KIND_NONE = 0, KIND_MULTIBULK = 1, KIND_INLINE = 2 };

#define ARGV_FIRST_MAX 1024 /* argv slots reserved up front for a multibulk */
#define LL_DIGITS_MAX 20    /* longest text of a long long, sign included */

void resp_parser_init(resp_parser *p, const resp_limits *limits)
{
    memset(p, 0, sizeof(*p));
    p->limits = limits;
    p->bulk_len = -1;
}

void resp_free_args(str *argv, int argc)
{
    for (int i = 0; i < argc; i++)
        str_free(argv[i]);
    tfree(argv);
}

/* Back to the between-commands state; the arguments must have been freed or
 * handed over already. */
static void reset_command(resp_parser *p)
{
    p->kind = KIND_NONE;
    p->multibulk = 0;
    p->bulk_len = -1;
    p->argc = p->argv_cap = 0;
    p->argv = NULL;
    p->bulk = NULL;
    p->pending = 0;
}

void resp_parser_free(resp_parser *p)
{
    resp_free_args(p->argv, p->argc);
    str_free(p->bulk);
    reset_command(p);
}

str *resp_parser_take(resp_parser *p, int *argc)
{
    str *argv = p->argv;
    *argc = p->argc;
    reset_command(p);
    return argv;
}

size_t resp_parser_pending_bytes(const resp_parser *p)
{
    return p->pending;
}

int resp_parser_idle(const resp_parser *p)
{
    return p->kind == KIND_NONE;
}

static int fail(resp_parser *p, const char *msg)
{
    p->error = msg;
    return RESP_PARSE_ERR;
}

/* Redis's string2ll: the whole text must be the number, with an optional
 * '-', no '+', no spaces, no leading zeros and no overflow. */
static int parse_ll(const char *s, size_t len, long long *out)
{
    if (len == 0 || len > LL_DIGITS_MAX) return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    int neg = s[0] == '-';
    size_t i = (size_t)neg;
    if (i == len || s[i] < '1' || s[i] > '9') return 0;
    unsigned long long v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9 || v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (!neg) {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *out = (long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    }
    return 1;
}

/* Finds the length line at buf[*pos]: like Redis, it ends at the first '\r',
 * and the byte after it (not checked) must have arrived too. Sets *n to the
 * length without the "\r\n". A line with no '\r' in more than
 * RESP_INLINE_MAX bytes is the error too_big. */
static int find_line(resp_parser *p, const char *buf, size_t len, size_t pos, size_t *n,
                     const char *too_big)
{
    size_t avail = len - pos;
    const char *cr = memchr(buf + pos, '\r', avail);
    if (!cr) return avail > RESP_INLINE_MAX ? fail(p, too_big) : RESP_PARSE_AGAIN;
    *n = (size_t)(cr - (buf + pos));
    return *n + 2 <= avail ? RESP_PARSE_OK : RESP_PARSE_AGAIN;
}

/* The "*<count>" line. A count <= 0 is an empty command: consumed, and the
 * parser stays between commands. */
static int parse_count(resp_parser *p, const char *buf, size_t len, size_t *pos)
{
    size_t n;
    int rc = find_line(p, buf, len, *pos, &n, "Protocol error: too big mbulk count string");
    if (rc != RESP_PARSE_OK) return rc;
    long long count;
    if (!parse_ll(buf + *pos + 1, n - 1, &count) || count > INT_MAX ||
        count > p->limits->max_multibulk)
        return fail(p, "Protocol error: invalid multibulk length");
    if (p->unauthenticated && count > RESP_UNAUTH_MULTIBULK_MAX)
        return fail(p, "Protocol error: unauthenticated multibulk length");
    *pos += n + 2;
    if (count <= 0) return RESP_PARSE_OK;
    p->kind = KIND_MULTIBULK;
    p->multibulk = count;
    p->argv_cap = count < ARGV_FIRST_MAX ? (int)count : ARGV_FIRST_MAX;
    p->argv = tmalloc(sizeof(str) * (size_t)p->argv_cap);
    return RESP_PARSE_OK;
}

/* The "$<len>" line of the next element. */
static int parse_bulk_len(resp_parser *p, const char *buf, size_t len, size_t *pos)
{
    size_t n;
    int rc = find_line(p, buf, len, *pos, &n, "Protocol error: too big bulk count string");
    if (rc != RESP_PARSE_OK) return rc;
    const char *line = buf + *pos;
    if (line[0] != '$') {
        /* Redis's reply shows a CR or LF as a space (a NUL cuts it short) */
        char got = line[0] == '\r' || line[0] == '\n' ? ' ' : line[0];
        snprintf(p->error_buf, sizeof(p->error_buf), "Protocol error: expected '$', got '%c'", got);
        return fail(p, p->error_buf);
    }
    long long blen;
    if (!parse_ll(line + 1, n - 1, &blen) || blen < 0 || blen > p->limits->max_bulk_len)
        return fail(p, "Protocol error: invalid bulk length");
    if (p->unauthenticated && blen > RESP_UNAUTH_BULK_MAX)
        return fail(p, "Protocol error: unauthenticated bulk length");
    *pos += n + 2;
    p->bulk_len = blen;
    return RESP_PARSE_OK;
}

/* Appends a finished argument; argv grows by doubling, up to the count. */
static void push_arg(resp_parser *p, str arg)
{
    if (p->argc == p->argv_cap) {
        long long cap = 2LL * p->argv_cap;
        long long total = p->argc + p->multibulk;
        p->argv_cap = (int)(cap < total ? cap : total);
        p->argv = trealloc(p->argv, sizeof(str) * (size_t)p->argv_cap);
    }
    p->argv[p->argc++] = arg;
    p->multibulk--;
    p->bulk_len = -1;
}

/* Makes room for n more bytes of the argument being read. The room asked for
 * doubles with what has arrived (so copying stays linear) and stops at the
 * announced length: memory held stays a small multiple of the bytes the
 * client actually sent, whatever length it announced. */
static void bulk_reserve(resp_parser *p, size_t n)
{
    size_t have = str_len(p->bulk);
    if (str_avail(p->bulk) >= n) return;
    size_t want = have + n > 2 * have ? have + n : 2 * have;
    if (want > (size_t)p->bulk_len) want = (size_t)p->bulk_len;
    p->bulk = str_make_room(p->bulk, want - have);
}

void resp_parser_bulk_commit(resp_parser *p, size_t n)
{
    str_incr_len(p->bulk, (long long)n);
    p->pending += n;
}

/* Adds n arrived bytes to the argument being read. */
static void bulk_append(resp_parser *p, const char *data, size_t n)
{
    bulk_reserve(p, n);
    memcpy(p->bulk + str_len(p->bulk), data, n);
    resp_parser_bulk_commit(p, n);
}

size_t resp_parser_bulk_room(resp_parser *p, size_t min_big, size_t max, char **dst)
{
    if (!p->bulk || p->bulk_len < 0 || (size_t)p->bulk_len < min_big) return 0;
    size_t missing = (size_t)p->bulk_len - str_len(p->bulk);
    size_t n = missing < max ? missing : max;
    if (n == 0) return 0;
    bulk_reserve(p, n);
    *dst = p->bulk + str_len(p->bulk);
    return n;
}

/* Reads the data of the current element and the 2 bytes after it (skipped
 * unchecked, as Redis does). Returns 1 once the argument is complete. */
static int read_bulk(resp_parser *p, const char *buf, size_t len, size_t *pos)
{
    size_t blen = (size_t)p->bulk_len;
    size_t avail = len - *pos;
    if (!p->bulk) {
        if (avail >= blen + 2) { /* all here: a single exact copy */
            push_arg(p, str_new_len(buf + *pos, blen));
            p->pending += blen;
            *pos += blen + 2;
            return 1;
        }
        size_t n = avail < blen ? avail : blen;
        p->bulk = str_new_len(buf + *pos, n);
        p->pending += n;
        *pos += n;
    } else {
        size_t missing = blen - str_len(p->bulk);
        size_t n = avail < missing ? avail : missing;
        bulk_append(p, buf + *pos, n);
        *pos += n;
    }
    if (str_len(p->bulk) < blen || len - *pos < 2) return 0;
    *pos += 2;
    str arg = str_shrink(p->bulk); /* drop the growth slack: args may be kept */
    p->bulk = NULL;
    push_arg(p, arg);
    return 1;
}

static int parse_bulks(resp_parser *p, const char *buf, size_t len, size_t *pos)
{
    while (p->multibulk > 0) {
        if (p->bulk_len < 0) {
            int rc = parse_bulk_len(p, buf, len, pos);
            if (rc != RESP_PARSE_OK) return rc;
        }
        if (!read_bulk(p, buf, len, pos)) return RESP_PARSE_AGAIN;
    }
    return RESP_PARSE_OK;
}

/* A line up to '\n' (an '\r' before it dropped), split like redis-cli does.
 * A line with no arguments is consumed and yields no command. */
static int parse_inline(resp_parser *p, const char *buf, size_t len, size_t *pos)
{
    const char *line = buf + *pos;
    size_t avail = len - *pos;
    const char *nl = memchr(line, '\n', avail);
    if (!nl)
        return avail > RESP_INLINE_MAX ? fail(p, "Protocol error: too big inline request")
                                       : RESP_PARSE_AGAIN;
    size_t n = (size_t)(nl - line);
    int argc;
    str *argv = resp_split_args(line, n && line[n - 1] == '\r' ? n - 1 : n, &argc);
    if (!argv) return fail(p, "Protocol error: unbalanced quotes in request");
    *pos += n + 1;
    if (argc == 0) {
        resp_free_args(argv, 0);
        return RESP_PARSE_OK;
    }
    p->kind = KIND_INLINE;
    p->argv = argv;
    p->argc = p->argv_cap = argc;
    return RESP_PARSE_OK;
}

int resp_parse(resp_parser *p, const char *buf, size_t len, size_t *pos)
{
    while (p->kind == KIND_NONE) {
        if (*pos >= len) return RESP_PARSE_AGAIN;
        int rc = buf[*pos] == '*' ? parse_count(p, buf, len, pos) : parse_inline(p, buf, len, pos);
        if (rc != RESP_PARSE_OK) return rc;
    }
    if (p->kind == KIND_INLINE) return RESP_PARSE_OK;
    return parse_bulks(p, buf, len, pos);
}

/* ---- resp_split_args: sdssplitargs's rules ---- */

/* Skipped between arguments (isspace in the C locale). */
static int is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Ends an unquoted argument: a narrower set than is_space, as in Redis. */
static int ends_arg(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char unescape(char c)
{
    switch (c) {
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'b':
        return '\b';
    case 'a':
        return '\a';
    default:
        return c;
    }
}

/* The backslash sequence at p, inside double quotes; returns what follows. */
static const char *read_escape(const char *p, const char *end, str *arg)
{
    char c;
    if (end - p >= 4 && p[1] == 'x' && hex_value(p[2]) >= 0 && hex_value(p[3]) >= 0) {
        c = (char)(hex_value(p[2]) * 16 + hex_value(p[3]));
        p += 4;
    } else if (end - p >= 2) {
        c = unescape(p[1]);
        p += 2;
    } else {
        c = '\\';
        p++;
    }
    *arg = str_cat_len(*arg, &c, 1);
    return p;
}

/* From just after an opening '"': returns the position after the closing
 * quote, or NULL if there is none. */
static const char *read_double_quoted(const char *p, const char *end, str *arg)
{
    while (p < end) {
        const char *run = p;
        while (p < end && *p != '"' && *p != '\\')
            p++;
        *arg = str_cat_len(*arg, run, (size_t)(p - run));
        if (p == end) break;
        if (*p == '"') return p + 1;
        p = read_escape(p, end, arg);
    }
    return NULL;
}

/* From just after an opening '\'': only \' is an escape. */
static const char *read_single_quoted(const char *p, const char *end, str *arg)
{
    while (p < end) {
        const char *run = p;
        while (p < end && *p != '\'' && *p != '\\')
            p++;
        *arg = str_cat_len(*arg, run, (size_t)(p - run));
        if (p == end) break;
        if (*p == '\'') return p + 1;
        int quote = end - p >= 2 && p[1] == '\'';
        *arg = str_cat_len(*arg, quote ? "'" : "\\", 1);
        p += quote ? 2 : 1;
    }
    return NULL;
}

/* One argument starting at p (not a space): unquoted bytes, optionally
 * followed by a quoted part that must end the argument. Always sets *arg;
 * returns the position after it, or NULL on unbalanced quotes. */
static const char *read_arg(const char *p, const char *end, str *arg)
{
    const char *run = p;
    while (p < end && !ends_arg(*p) && *p != '"' && *p != '\'')
        p++;
    *arg = str_new_len(run, (size_t)(p - run));
    if (p == end || ends_arg(*p)) return p;
    p = *p == '"' ? read_double_quoted(p + 1, end, arg) : read_single_quoted(p + 1, end, arg);
    if (p && p < end && !is_space(*p)) return NULL;
    return p;
}

str *resp_split_args(const char *line, size_t len, int *argc)
{
    /* Redis splits a C string: a NUL ends the line. */
    const char *nul = memchr(line, '\0', len);
    const char *p = line, *end = nul ? nul : line + len;
    int n = 0, cap = 4;
    str *argv = tmalloc(sizeof(str) * (size_t)cap);
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (p == end) break;
        str arg;
        p = read_arg(p, end, &arg);
        if (!p) {
            str_free(arg);
            resp_free_args(argv, n);
            return NULL;
        }
        if (n == cap) {
            cap *= 2;
            argv = trealloc(argv, sizeof(str) * (size_t)cap);
        }
        argv[n++] = arg;
    }
    *argc = n;
    return argv;
}
