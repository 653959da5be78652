/* test_resp_parse.c: Check suite for the request parser. Valid requests are
 * fed whole, split in two at every byte and one byte at a time, the way the
 * client code feeds it (the unconsumed tail is kept and the next read appended);
 * every protocol error must come with Redis's exact text; memory held for
 * partial commands must follow what arrived and be freed by resp_parser_free. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "net/resp_parse.h"
#include "tests/unit/fake/check_suite.h"

#define MB (1024 * 1024)
#define LIT(s) s, sizeof(s) - 1

static const resp_limits limits = {512LL * MB, 1024 * 1024};

/* What feeding an input produced. */
typedef struct fed {
    str dump;        /* every command as "[len:arg|len:arg|]" */
    int rc;          /* result of the last resp_parse call */
    char error[128]; /* the error text when rc is RESP_PARSE_ERR */
    size_t tail;     /* bytes the parser left unconsumed at the end */
    int idle;        /* resp_parser_idle at the end */
} fed;

static str dump_command(str d, str *argv, int argc)
{
    d = str_cat(d, "[");
    for (int i = 0; i < argc; i++) {
        d = str_cat_fmt(d, "%zu:", str_len(argv[i]));
        d = str_cat_str(d, argv[i]);
        d = str_cat(d, "|");
    }
    return str_cat(d, "]");
}

/* Parses buf as one read's worth of input: commands are taken until the
 * parser wants more. Works on an exact-size copy so that ASan sees any read
 * past the end. Returns the bytes consumed. */
static size_t parse_read(resp_parser *p, const str buf, fed *r)
{
    size_t len = str_len(buf);
    char *exact = tmalloc(len);
    memcpy(exact, buf, len);
    size_t pos = 0;
    while ((r->rc = resp_parse(p, exact, len, &pos)) == RESP_PARSE_OK) {
        int argc;
        str *argv = resp_parser_take(p, &argc);
        ck_assert_int_gt(argc, 0);
        r->dump = dump_command(r->dump, argv, argc);
        resp_free_args(argv, argc);
    }
    ck_assert_uint_le(pos, len);
    if (r->rc == RESP_PARSE_ERR) {
        ck_assert_ptr_nonnull(p->error);
        snprintf(r->error, sizeof(r->error), "%s", p->error);
    }
    tfree(exact);
    return pos;
}

/* Feeds in[0..len) in reads that end at each of cuts[] and at len. */
static void feed_cuts(const resp_limits *lim, const char *in, size_t len, const size_t *cuts,
                      size_t ncuts, fed *r)
{
    resp_parser p;
    resp_parser_init(&p, lim);
    str buf = str_empty();
    r->dump = str_empty();
    r->rc = RESP_PARSE_AGAIN;
    r->error[0] = '\0';
    size_t start = 0;
    for (size_t c = 0; c <= ncuts && r->rc != RESP_PARSE_ERR; c++) {
        size_t stop = c < ncuts ? cuts[c] : len;
        buf = str_cat_len(buf, in + start, stop - start);
        start = stop;
        str_consume(buf, parse_read(&p, buf, r));
    }
    r->tail = str_len(buf);
    r->idle = resp_parser_idle(&p);
    resp_parser_free(&p);
    str_free(buf);
}

static void feed_whole(const char *in, size_t len, fed *r)
{
    feed_cuts(&limits, in, len, NULL, 0, r);
}

static void feed_split(const char *in, size_t len, size_t at, fed *r)
{
    feed_cuts(&limits, in, len, &at, 1, r);
}

/* Reads of step bytes each (1: byte at a time). */
static void feed_steps(const resp_limits *lim, const char *in, size_t len, size_t step, fed *r)
{
    size_t ncuts = len ? (len - 1) / step : 0;
    size_t *cuts = tmalloc(sizeof(size_t) * (ncuts + 1));
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = (i + 1) * step;
    feed_cuts(lim, in, len, cuts, ncuts, r);
    tfree(cuts);
}

static void expect_commands(const fed *r, const char *want, size_t want_len, const char *how)
{
    ck_assert_msg(r->rc == RESP_PARSE_AGAIN, "%s: rc %d (%s)", how, r->rc, r->error);
    ck_assert_msg(str_len(r->dump) == want_len && memcmp(r->dump, want, want_len) == 0,
                  "%s: got %s", how, r->dump);
    ck_assert_msg(r->tail == 0, "%s: %zu bytes left", how, r->tail);
    ck_assert_msg(r->idle, "%s: parser not idle", how);
}

static void expect_error(const fed *r, const char *error, const char *how)
{
    ck_assert_msg(r->rc == RESP_PARSE_ERR, "%s: rc %d, wanted error %s", how, r->rc, error);
    ck_assert_msg(strcmp(r->error, error) == 0, "%s: error '%s', wanted '%s'", how, r->error,
                  error);
}

/* ---- valid requests ---- */

typedef struct valid_case {
    const char *in;
    size_t in_len;
    const char *want;
    size_t want_len;
} valid_case;

/* clang-format off */
#define VALID(in, want) {LIT(in), LIT(want)}
/* clang-format on */

static const valid_case valid_cases[] = {
    /* binary data, CRLF and NUL inside an argument, an empty argument */
    VALID("*3\r\n$3\r\nSET\r\n$7\r\nk\r\n\0x\r\n\r\n$0\r\n\r\n", "[3:SET|7:k\r\n\0x\r\n|0:|]"),
    /* inline with both quote kinds, escapes and empty quoted arguments */
    VALID("set \"a\\x41\\n\\\"\" 'it\\'s' plain \"\" ''\r\n",
          "[3:set|4:aA\n\"|4:it's|5:plain|0:|0:|]"),
    /* pipelined: multibulk, empty multibulks, inline with LF only, blank
     * inline lines, multibulk, inline ending the buffer */
    VALID("*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\nPING\n\r\n \t \r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
          "echo \"x y\" '\\x41'\n",
          "[4:PING|][4:PING|][4:ECHO|2:hi|][4:echo|3:x y|4:\\x41|]"),
    /* Redis skips the byte after each '\r' and the two after the data
     * without looking at them */
    VALID("*1\rx$1\ryazz*1\r\n$1\r\nb\r\n", "[1:a|][1:b|]"),
    /* a CR inside an inline line separates arguments */
    VALID("GET\rkey\r\n", "[3:GET|3:key|]"),
    /* a two-digit count and lengths */
    VALID("*12\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n"
          "$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n$1\r\nk\r\n$10\r\n0123456789\r\n",
          "[1:a|1:b|1:c|1:d|1:e|1:f|1:g|1:h|1:i|1:j|1:k|10:0123456789|]"),
};

#define N_VALID (int)(sizeof(valid_cases) / sizeof(valid_cases[0]))

START_TEST(test_valid_whole)
{
    const valid_case *c = &valid_cases[_i];
    fed r;
    feed_whole(c->in, c->in_len, &r);
    expect_commands(&r, c->want, c->want_len, "whole");
    str_free(r.dump);
}
END_TEST

START_TEST(test_valid_every_split)
{
    const valid_case *c = &valid_cases[_i];
    for (size_t at = 0; at <= c->in_len; at++) {
        fed r;
        feed_split(c->in, c->in_len, at, &r);
        char how[64];
        snprintf(how, sizeof(how), "split at %zu", at);
        expect_commands(&r, c->want, c->want_len, how);
        str_free(r.dump);
    }
}
END_TEST

START_TEST(test_valid_byte_at_a_time)
{
    const valid_case *c = &valid_cases[_i];
    fed r;
    feed_steps(&limits, c->in, c->in_len, 1, &r);
    expect_commands(&r, c->want, c->want_len, "byte at a time");
    str_free(r.dump);
}
END_TEST

/* A command with a 1000-byte binary argument, at every split. */
START_TEST(test_valid_medium_arg_every_split)
{
    char arg[1000];
    for (size_t i = 0; i < sizeof(arg); i++)
        arg[i] = (char)(i * 7 % 256);
    str in = str_new("*2\r\n$3\r\nSET\r\n$1000\r\n");
    in = str_cat_len(in, arg, sizeof(arg));
    in = str_cat(in, "\r\nPING\r\n");
    str want = str_new("[3:SET|1000:");
    want = str_cat_len(want, arg, sizeof(arg));
    want = str_cat(want, "|][4:PING|]");
    for (size_t at = 0; at <= str_len(in); at++) {
        fed r;
        feed_split(in, str_len(in), at, &r);
        expect_commands(&r, want, str_len(want), "medium split");
        str_free(r.dump);
    }
    fed r;
    feed_steps(&limits, in, str_len(in), 1, &r);
    expect_commands(&r, want, str_len(want), "medium byte at a time");
    str_free(r.dump);
    str_free(in);
    str_free(want);
}
END_TEST

/* A 300 KB argument arriving in uneven reads comes out intact, and its
 * allocation is trimmed to its size once complete. */
START_TEST(test_large_arg_in_pieces)
{
    size_t n = 300 * 1024;
    str in = str_new("*1\r\n$307200\r\n");
    size_t head = str_len(in);
    in = str_make_room(in, n + 2);
    for (size_t i = 0; i < n; i++)
        in[head + i] = (char)(i * 131 % 251);
    str_incr_len(in, (long long)n);
    in = str_cat(in, "\r\n");
    static const size_t steps[] = {1, 7, 4096, 16384, 65536};
    resp_parser p;
    resp_parser_init(&p, &limits);
    size_t off = 0, pos = 0, end = 0;
    int rc = RESP_PARSE_AGAIN;
    for (int k = 0; rc == RESP_PARSE_AGAIN; k++) {
        end += steps[k % 5];
        if (end > str_len(in)) end = str_len(in);
        rc = resp_parse(&p, in + off, end - off, &pos);
        off += pos;
        pos = 0;
        ck_assert_int_ne(rc, RESP_PARSE_ERR);
    }
    ck_assert_uint_eq(off, str_len(in));
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), n);
    int argc;
    str *argv = resp_parser_take(&p, &argc);
    ck_assert_int_eq(argc, 1);
    ck_assert_uint_eq(str_len(argv[0]), n);
    ck_assert(memcmp(argv[0], in + head, n) == 0);
    ck_assert_uint_lt(str_alloc_size(argv[0]), n + n / 4 + 4096);
    ck_assert(resp_parser_idle(&p));
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), 0);
    resp_free_args(argv, argc);
    resp_parser_free(&p);
    str_free(in);
}
END_TEST

/* ---- protocol errors ---- */

typedef struct error_case {
    const char *in;
    size_t in_len;
    const char *error;
} error_case;

/* clang-format off */
#define BAD(in, error) {LIT(in), "Protocol error: " error}
/* clang-format on */

static const error_case error_cases[] = {
    BAD("*abc\r\n", "invalid multibulk length"),
    BAD("*3x\r\n", "invalid multibulk length"),
    BAD("*\r\n", "invalid multibulk length"),
    BAD("*01\r\n", "invalid multibulk length"),
    BAD("*+1\r\n", "invalid multibulk length"),
    BAD("* 1\r\n", "invalid multibulk length"),
    BAD("*-0\r\n", "invalid multibulk length"),
    BAD("*1048577\r\n", "invalid multibulk length"),
    BAD("*99999999999999999999\r\n", "invalid multibulk length"),
    BAD("*1\r\nx3\r\nfoo\r\n", "expected '$', got 'x'"),
    BAD("*2\r\n$1\r\na\r\n:1\r\n", "expected '$', got ':'"),
    BAD("*1\r\n\r\n", "expected '$', got ' '"),
    BAD("*1\r\n\nx\r\n", "expected '$', got ' '"),
    /* Redis waits forever here (its strchr stops at the NUL); we answer,
     * with the text its printf would make */
    BAD("*1\r\n\0\r\n", "expected '$', got '"),
    BAD("*1\r\n$-1\r\n", "invalid bulk length"),
    BAD("*1\r\n$abc\r\n", "invalid bulk length"),
    BAD("*1\r\n$12x\r\n", "invalid bulk length"),
    BAD("*1\r\n$\r\n", "invalid bulk length"),
    BAD("*1\r\n$05\r\n", "invalid bulk length"),
    BAD("*1\r\n$536870913\r\n", "invalid bulk length"),
    BAD("set \"foo\n", "unbalanced quotes in request"),
    BAD("set 'foo\r\n", "unbalanced quotes in request"),
    BAD("set \"foo\"bar\n", "unbalanced quotes in request"),
    BAD("set 'foo'bar\n", "unbalanced quotes in request"),
    BAD("set \"foo\\\"\n", "unbalanced quotes in request"),
    /* an error after good commands in the same buffer */
    BAD("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$-5\r\n", "invalid bulk length"),
};

#define N_ERRORS (int)(sizeof(error_cases) / sizeof(error_cases[0]))

START_TEST(test_error_cases)
{
    const error_case *c = &error_cases[_i];
    fed r;
    feed_whole(c->in, c->in_len, &r);
    expect_error(&r, c->error, "whole");
    str_free(r.dump);
    feed_steps(&limits, c->in, c->in_len, 1, &r);
    expect_error(&r, c->error, "byte at a time");
    str_free(r.dump);
    for (size_t at = 0; at <= c->in_len; at++) {
        feed_split(c->in, c->in_len, at, &r);
        expect_error(&r, c->error, "split");
        str_free(r.dump);
    }
}
END_TEST

START_TEST(test_multibulk_count_limit)
{
    resp_limits small = {512LL * MB, 100};
    fed r;
    feed_cuts(&small, LIT("*101\r\n"), NULL, 0, &r);
    expect_error(&r, "Protocol error: invalid multibulk length", "over the limit");
    str_free(r.dump);
    feed_cuts(&small, LIT("*100\r\n"), NULL, 0, &r);
    ck_assert_int_eq(r.rc, RESP_PARSE_AGAIN);
    ck_assert(!r.idle);
    str_free(r.dump);
    /* INT_MAX bounds the count whatever the configured limit */
    resp_limits huge = {512LL * MB, 1LL << 40};
    feed_cuts(&huge, LIT("*2147483648\r\n"), NULL, 0, &r);
    expect_error(&r, "Protocol error: invalid multibulk length", "over INT_MAX");
    str_free(r.dump);
}
END_TEST

START_TEST(test_bulk_len_limit)
{
    resp_limits small = {10, 1024};
    fed r;
    feed_cuts(&small, LIT("*1\r\n$10\r\n0123456789\r\n"), NULL, 0, &r);
    expect_commands(&r, LIT("[10:0123456789|]"), "at the limit");
    str_free(r.dump);
    feed_cuts(&small, LIT("*1\r\n$11\r\n"), NULL, 0, &r);
    expect_error(&r, "Protocol error: invalid bulk length", "over the limit");
    str_free(r.dump);
}
END_TEST

/* Parses in one call with the unauthenticated flag set; returns the result. */
static int parse_unauthenticated(const char *in, const char **error)
{
    resp_parser p;
    resp_parser_init(&p, &limits);
    p.unauthenticated = 1;
    size_t pos = 0;
    int rc = resp_parse(&p, in, strlen(in), &pos);
    *error = p.error;
    if (rc == RESP_PARSE_OK) {
        int argc;
        resp_free_args(resp_parser_take(&p, &argc), argc);
    }
    resp_parser_free(&p);
    return rc;
}

START_TEST(test_unauthenticated_limits)
{
    const char *err;
    ck_assert_int_eq(parse_unauthenticated("*10\r\n", &err), RESP_PARSE_AGAIN);
    ck_assert_int_eq(parse_unauthenticated("*11\r\n", &err), RESP_PARSE_ERR);
    ck_assert_str_eq(err, "Protocol error: unauthenticated multibulk length");
    ck_assert_int_eq(parse_unauthenticated("*2\r\n$4\r\nAUTH\r\n$16384\r\n", &err),
                     RESP_PARSE_AGAIN);
    ck_assert_int_eq(parse_unauthenticated("*2\r\n$4\r\nAUTH\r\n$16385\r\n", &err),
                     RESP_PARSE_ERR);
    ck_assert_str_eq(err, "Protocol error: unauthenticated bulk length");
    /* The usual limits still come first. */
    ck_assert_int_eq(parse_unauthenticated("*1\r\n$-1\r\n", &err), RESP_PARSE_ERR);
    ck_assert_str_eq(err, "Protocol error: invalid bulk length");
}
END_TEST

/* prefix, fill_len fill bytes and end, fed whole and in 1000-byte reads:
 * the error expected, or none (NULL) with nothing consumed. */
static void expect_big_line_end(const char *prefix, char fill, size_t fill_len, const char *end,
                                const char *error)
{
    str in = str_new(prefix);
    size_t head = str_len(in);
    in = str_make_room(in, fill_len);
    memset(in + head, fill, fill_len);
    str_incr_len(in, (long long)fill_len);
    in = str_cat(in, end);
    fed r;
    feed_whole(in, str_len(in), &r);
    if (error) {
        expect_error(&r, error, prefix);
    } else {
        ck_assert_int_eq(r.rc, RESP_PARSE_AGAIN);
        ck_assert_uint_ge(r.tail, fill_len);
    }
    str_free(r.dump);
    feed_steps(&limits, in, str_len(in), 1000, &r);
    ck_assert_int_eq(r.rc, error ? RESP_PARSE_ERR : RESP_PARSE_AGAIN);
    str_free(r.dump);
    str_free(in);
}

static void expect_big_line(const char *prefix, char fill, size_t fill_len, const char *error)
{
    expect_big_line_end(prefix, fill, fill_len, "", error);
}

START_TEST(test_too_big_lines)
{
    /* a line may hold up to RESP_INLINE_MAX bytes without its end */
    expect_big_line("*", '1', RESP_INLINE_MAX - 1, NULL);
    expect_big_line("*", '1', RESP_INLINE_MAX, "Protocol error: too big mbulk count string");
    expect_big_line("*1\r\n$", '1', RESP_INLINE_MAX - 1, NULL);
    expect_big_line("*1\r\n$", '1', RESP_INLINE_MAX, "Protocol error: too big bulk count string");
    /* Redis checks the length before the '$' */
    expect_big_line("*1\r\n", 'x', RESP_INLINE_MAX + 1,
                    "Protocol error: too big bulk count string");
    expect_big_line("", 'a', RESP_INLINE_MAX, NULL);
    expect_big_line("", 'a', RESP_INLINE_MAX + 1, "Protocol error: too big inline request");
    /* a long line is not too big once its end has arrived */
    expect_big_line_end("*", '1', RESP_INLINE_MAX * 2, "\r\n",
                        "Protocol error: invalid multibulk length");
    expect_big_line_end("*1\r\n$", '1', RESP_INLINE_MAX * 2, "\r\n",
                        "Protocol error: invalid bulk length");
}
END_TEST

START_TEST(test_long_complete_inline_line)
{
    size_t n = RESP_INLINE_MAX * 2;
    str in = str_new("echo ");
    in = str_make_room(in, n + 1);
    memset(in + 5, 'z', n);
    str_incr_len(in, (long long)n);
    in = str_cat(in, "\n");
    fed r;
    feed_whole(in, str_len(in), &r);
    ck_assert_int_eq(r.rc, RESP_PARSE_AGAIN);
    ck_assert_uint_eq(r.tail, 0);
    ck_assert_uint_eq(str_len(r.dump), 8 + 7 + n + 2);
    str_free(r.dump);
    str_free(in);
}
END_TEST

/* ---- state between calls ---- */

START_TEST(test_empty_commands_skipped)
{
    static const char in[] = "*0\r\n*-1\r\n\r\n\n   \r\n\t\n*0\r\n";
    resp_parser p;
    resp_parser_init(&p, &limits);
    size_t pos = 0;
    ck_assert_int_eq(resp_parse(&p, in, sizeof(in) - 1, &pos), RESP_PARSE_AGAIN);
    ck_assert_uint_eq(pos, sizeof(in) - 1);
    ck_assert(resp_parser_idle(&p));
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), 0);
    resp_parser_free(&p);
}
END_TEST

/* Parses in once from position 0; returns the position reached. */
static size_t parse_once(resp_parser *p, const char *in, int want_rc)
{
    size_t pos = 0;
    ck_assert_int_eq(resp_parse(p, in, strlen(in), &pos), want_rc);
    return pos;
}

START_TEST(test_incomplete_lines_not_consumed)
{
    static const char *const partial[] = {"*",       "*1",        "*1\r",
                                          "get foo", "get foo\r", "PING\r\n*2\r"};
    static const size_t consumed[] = {0, 0, 0, 0, 0, 6};
    for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
        resp_parser p;
        resp_parser_init(&p, &limits);
        size_t pos = 0;
        int rc = resp_parse(&p, partial[i], strlen(partial[i]), &pos);
        if (rc == RESP_PARSE_OK) {
            int argc;
            str *argv = resp_parser_take(&p, &argc);
            resp_free_args(argv, argc);
            rc = resp_parse(&p, partial[i], strlen(partial[i]), &pos);
        }
        ck_assert_int_eq(rc, RESP_PARSE_AGAIN);
        ck_assert_uint_eq(pos, consumed[i]);
        ck_assert(resp_parser_idle(&p));
        resp_parser_free(&p);
    }
}
END_TEST

START_TEST(test_pending_and_idle)
{
    resp_parser p;
    resp_parser_init(&p, &limits);
    ck_assert(resp_parser_idle(&p));
    ck_assert_uint_eq(parse_once(&p, "*3\r\n$3", RESP_PARSE_AGAIN), 4);
    ck_assert(!resp_parser_idle(&p));
    ck_assert_int_eq(p.bulk_len, -1);
    ck_assert_uint_eq(parse_once(&p, "$3\r\nSET\r\n$5\r\nke", RESP_PARSE_AGAIN), 15);
    ck_assert_int_eq(p.bulk_len, 5);
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), 5);
    ck_assert_uint_eq(parse_once(&p, "y12\r", RESP_PARSE_AGAIN), 3);
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), 8);
    ck_assert_uint_eq(parse_once(&p, "\r\n$1\r\nv\r\n", RESP_PARSE_OK), 9);
    ck_assert(!resp_parser_idle(&p));
    int argc;
    str *argv = resp_parser_take(&p, &argc);
    ck_assert_int_eq(argc, 3);
    ck_assert_str_eq(argv[0], "SET");
    ck_assert_str_eq(argv[1], "key12");
    ck_assert_str_eq(argv[2], "v");
    resp_free_args(argv, argc);
    ck_assert(resp_parser_idle(&p));
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), 0);
    resp_parser_free(&p);
}
END_TEST

/* A client announcing 100 MB gets memory only for what it sends. */
START_TEST(test_huge_declared_bulk)
{
    size_t before = alloc_used_memory();
    resp_parser p;
    resp_parser_init(&p, &limits);
    static const char head[] = "*2\r\n$3\r\nSET\r\n$104857600\r\nabc";
    ck_assert_uint_eq(parse_once(&p, head, RESP_PARSE_AGAIN), sizeof(head) - 1);
    ck_assert_int_eq(p.bulk_len, 104857600);
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), 6);
    ck_assert_uint_lt(alloc_used_memory() - before, MB);
    /* 4 MB more in 16 KB reads: room follows the data (doubling) */
    static char chunk[16384];
    memset(chunk, 'x', sizeof(chunk));
    size_t sent = 0;
    while (sent < 4 * MB) {
        size_t pos = 0;
        ck_assert_int_eq(resp_parse(&p, chunk, sizeof(chunk), &pos), RESP_PARSE_AGAIN);
        ck_assert_uint_eq(pos, sizeof(chunk));
        sent += sizeof(chunk);
        ck_assert_uint_lt(alloc_used_memory() - before, 2 * sent + 2 * MB);
    }
    ck_assert_uint_eq(resp_parser_pending_bytes(&p), 6 + sent);
    resp_parser_free(&p);
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

/* A big argument read straight into place (the client's read path):
 * bulk_room offers room only inside a big argument's data, never more than
 * asked or than what is missing, the room grows with what arrived, and the
 * trailing CRLF and the next command still come through resp_parse. */
START_TEST(test_big_arg_read_in_place)
{
    size_t before = alloc_used_memory();
    resp_parser p;
    resp_parser_init(&p, &limits);
    char *dst;
    ck_assert_uint_eq(resp_parser_bulk_room(&p, 1024, 4096, &dst), 0); /* between commands */
    static const char small[] = "*2\r\n$3\r\nGET\r\n$100\r\nab";
    ck_assert_uint_eq(parse_once(&p, small, RESP_PARSE_AGAIN), sizeof(small) - 1);
    ck_assert_uint_eq(resp_parser_bulk_room(&p, 1024, 4096, &dst), 0); /* not big */
    resp_parser_free(&p);

    size_t n = 3 * MB + 5;
    str head = str_cat_fmt(str_empty(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\nxy", n);
    ck_assert_uint_eq(parse_once(&p, head, RESP_PARSE_AGAIN), str_len(head));
    size_t have = 2;
    while (have < n) {
        size_t room = resp_parser_bulk_room(&p, 1024, 65536, &dst);
        ck_assert_uint_eq(room, n - have < 65536 ? n - have : 65536);
        for (size_t i = 0; i < room; i++)
            dst[i] = (char)((have + i) * 7 % 251);
        resp_parser_bulk_commit(&p, room);
        have += room;
        ck_assert_uint_eq(resp_parser_pending_bytes(&p), 4 + have);
        ck_assert_uint_lt(alloc_used_memory() - before, 2 * have + 2 * MB);
    }
    ck_assert_uint_eq(resp_parser_bulk_room(&p, 1024, 65536, &dst), 0); /* data complete */
    static const char rest[] = "\r\n*1\r\n$4\r\nPING\r\n";
    size_t pos = 0;
    ck_assert_int_eq(resp_parse(&p, rest, sizeof(rest) - 1, &pos), RESP_PARSE_OK);
    int argc;
    str *argv = resp_parser_take(&p, &argc);
    ck_assert_int_eq(argc, 3);
    ck_assert_uint_eq(str_len(argv[2]), n);
    ck_assert_int_eq(argv[2][0], 'x');
    ck_assert_int_eq(argv[2][1], 'y');
    char *want = tmalloc(n);
    for (size_t i = 2; i < n; i++)
        want[i] = (char)(i * 7 % 251);
    ck_assert(memcmp(argv[2] + 2, want + 2, n - 2) == 0);
    tfree(want);
    resp_free_args(argv, argc);
    ck_assert_int_eq(resp_parse(&p, rest, sizeof(rest) - 1, &pos), RESP_PARSE_OK);
    argv = resp_parser_take(&p, &argc);
    ck_assert_int_eq(argc, 1);
    resp_free_args(argv, argc);
    ck_assert_uint_eq(pos, sizeof(rest) - 1);
    str_free(head);
    resp_parser_free(&p);
    ck_assert_uint_eq(alloc_used_memory(), before);
}
END_TEST

/* Whatever the parser holds mid-command, resp_parser_free releases it. */
START_TEST(test_free_partial)
{
    static const char *const partial[] = {
        "*3\r\n",
        "*3\r\n$3\r\nSET\r\n",
        "*3\r\n$3\r\nSET\r\n$5\r\nab",
        "*3\r\n$3\r\nSET\r\n$5\r\nabcde",
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-2\r\n",
        "*3\r\n$3\r\nSET\r\n$9\r\nabc\r\n!",
        "PING\r\n*2\r\n$1\r\na",
    };
    size_t before = alloc_used_memory();
    for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
        resp_parser p;
        resp_parser_init(&p, &limits);
        fed r = {.dump = str_empty()};
        str buf = str_new(partial[i]);
        parse_read(&p, buf, &r);
        ck_assert(!resp_parser_idle(&p) || r.rc == RESP_PARSE_ERR);
        resp_parser_free(&p);
        ck_assert(resp_parser_idle(&p));
        resp_parser_free(&p); /* harmless twice */
        str_free(buf);
        str_free(r.dump);
        ck_assert_uint_eq(alloc_used_memory(), before);
    }
}
END_TEST

/* ---- resp_split_args ---- */

static void expect_split(const char *line, size_t len, const char *want)
{
    int argc = -1;
    str *argv = resp_split_args(line, len, &argc);
    if (!want) {
        ck_assert_msg(argv == NULL, "split of '%s' should fail", line);
        return;
    }
    ck_assert_msg(argv != NULL, "split of '%s' failed", line);
    str d = dump_command(str_empty(), argv, argc);
    ck_assert_msg(strcmp(d, want) == 0, "split of '%s': got %s, wanted %s", line, d, want);
    str_free(d);
    resp_free_args(argv, argc);
}

START_TEST(test_split_args)
{
    int argc = -1;
    str *argv = resp_split_args("", 0, &argc);
    ck_assert_ptr_nonnull(argv);
    ck_assert_int_eq(argc, 0);
    resp_free_args(argv, argc);
    expect_split(LIT(" \t\r\n\v\f "), "[]");
    expect_split(LIT("set \"a b\" 'c d' e"), "[3:set|3:a b|3:c d|1:e|]");
    expect_split(LIT("\"\\n\\r\\t\\b\\a\\\\\\\"\""), "[7:\n\r\t\b\a\\\"|]");
    expect_split(LIT("\"\\x41\\x7a\\xZZ\\x4\""), "[7:AzxZZx4|]");
    expect_split(LIT("\"\\q\""), "[1:q|]");
    expect_split(LIT("'it\\'s' 'a\\nb' 'a\\\\b'"), "[4:it's|4:a\\nb|4:a\\\\b|]");
    expect_split(LIT("foo\"bar baz\" x"), "[10:foobar baz|1:x|]");
    expect_split(LIT("a\vb"), "[3:a\vb|]");
    expect_split(LIT("\"a\"\vb"), "[1:a|1:b|]");
    expect_split(LIT("\"a\"\t'b'\n\"\""), "[1:a|1:b|0:|]");
    expect_split(LIT("get a\0b c"), "[3:get|1:a|]"); /* a NUL ends the line */
    expect_split(LIT("\"foo"), NULL);
    expect_split(LIT("'foo"), NULL);
    expect_split(LIT("\"foo\"bar"), NULL);
    expect_split(LIT("'foo'bar"), NULL);
    expect_split(LIT("\"foo\\\""), NULL);
    expect_split(LIT("'foo\\'"), NULL);
    expect_split(LIT("\"foo\\"), NULL);
}
END_TEST

static Suite *parse_suite(void)
{
    Suite *s = suite_create("resp_parse");
    TCase *tc = suite_new_tcase(s, "valid", NULL, NULL, 0);
    tcase_add_loop_test(tc, test_valid_whole, 0, N_VALID);
    tcase_add_loop_test(tc, test_valid_every_split, 0, N_VALID);
    tcase_add_loop_test(tc, test_valid_byte_at_a_time, 0, N_VALID);
    tcase_add_test(tc, test_valid_medium_arg_every_split);
    tcase_add_test(tc, test_large_arg_in_pieces);
    tcase_add_test(tc, test_long_complete_inline_line);

    tc = suite_new_tcase(s, "errors", NULL, NULL, 0);
    tcase_add_loop_test(tc, test_error_cases, 0, N_ERRORS);
    tcase_add_test(tc, test_multibulk_count_limit);
    tcase_add_test(tc, test_bulk_len_limit);
    tcase_add_test(tc, test_unauthenticated_limits);
    tcase_add_test(tc, test_too_big_lines);

    tc = suite_new_tcase(s, "state", NULL, NULL, 0);
    tcase_add_test(tc, test_empty_commands_skipped);
    tcase_add_test(tc, test_incomplete_lines_not_consumed);
    tcase_add_test(tc, test_pending_and_idle);
    tcase_add_test(tc, test_huge_declared_bulk);
    tcase_add_test(tc, test_big_arg_read_in_place);
    tcase_add_test(tc, test_free_partial);

    tc = suite_new_tcase(s, "split_args", NULL, NULL, 0);
    tcase_add_test(tc, test_split_args);
    return s;
}

int main(void)
{
    return run_suite(parse_suite());
}
