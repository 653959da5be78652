/* fuzz_resp_parse.c: libFuzzer target for the request parser
 * (net/resp_parse.c), inline and multibulk. The input, after a 4-byte
 * header (fuzz_split.h: option bits, the cuts), is a client's byte stream.
 * It is parsed twice: whole, and delivered in the chunks the header picks
 * into a query buffer that keeps the unconsumed tail, as the client code
 * does. Both must yield the same commands and the same error (a request may
 * be split at any byte), and the bytes the parser holds must never exceed
 * the bytes received. Options: bit 0 unauthenticated limits, bit 1 a small
 * proto-max-bulk-len, bit 2 a small multibulk limit, bit 3 the client's
 * direct path: while an argument of 4 bytes or more misses data and the
 * query buffer is empty, the chunk goes straight into the argument
 * (resp_parser_bulk_room and _commit), its rest into the query buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "net/resp_parse.h"
#include "tests/fuzz/fuzz_split.h"

/* Appends what the parser produced to a log that both runs must share. */
static str log_command(str log, str *argv, int argc)
{
    log = str_cat_fmt(log, "C%d", argc);
    for (int i = 0; i < argc; i++) {
        log = str_cat_fmt(log, " %zu:", str_len(argv[i]));
        log = str_cat_len(log, argv[i], str_len(argv[i]));
    }
    resp_free_args(argv, argc);
    return str_cat(log, "\n");
}

/* Runs the parser over buf[*pos..len) until it needs more bytes (0) or
 * fails (-1, logged). */
static int drain(resp_parser *p, const char *buf, size_t len, size_t *pos, str *log)
{
    for (;;) {
        int rc = resp_parse(p, buf, len, pos);
        if (rc == RESP_PARSE_AGAIN) return 0;
        if (rc == RESP_PARSE_ERR) {
            *log = str_cat_fmt(*log, "E %s\n", p->error);
            return -1;
        }
        int argc;
        str *argv = resp_parser_take(p, &argc);
        *log = log_command(*log, argv, argc);
    }
}

static str parse_whole(const resp_limits *lim, int unauth, const uint8_t *data, size_t size)
{
    resp_parser p;
    resp_parser_init(&p, lim);
    p.unauthenticated = unauth;
    str log = str_empty();
    size_t pos = 0;
    drain(&p, (const char *)data, size, &pos, &log);
    if (pos > size) abort();
    resp_parser_free(&p);
    return log;
}

static str parse_split(const resp_limits *lim, int unauth, int direct, fuzz_split *f,
                       const uint8_t *data, size_t size)
{
    resp_parser p;
    resp_parser_init(&p, lim);
    p.unauthenticated = unauth;
    str log = str_empty(), qb = str_empty();
    size_t fed = 0;
    while (fed < size) {
        size_t n = fuzz_split_next(f, size - fed);
        char *dst;
        size_t room = direct && str_len(qb) == 0 ? resp_parser_bulk_room(&p, 4, n, &dst) : 0;
        if (room > n) abort();
        if (room) {
            memcpy(dst, data + fed, room);
            resp_parser_bulk_commit(&p, room);
            fed += room;
            n -= room;
        }
        qb = str_cat_len(qb, data + fed, n);
        fed += n;
        size_t pos = 0;
        int rc = drain(&p, qb, str_len(qb), &pos, &log);
        if (pos > str_len(qb) || resp_parser_pending_bytes(&p) > fed) abort();
        if (rc < 0) break;
        str_consume(qb, pos); /* keep the unconsumed tail */
    }
    str_free(qb);
    resp_parser_free(&p);
    return log;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_split f;
    int opts = fuzz_split_init(&f, &data, &size);
    /* Past RESP_INLINE_MAX a line's verdict depends on how much of it has
     * arrived (as in Redis), so the two runs may rightly differ. */
    if (size > RESP_INLINE_MAX) return 0;
    resp_limits lim = {
        .max_bulk_len = opts & 2 ? 32 : 512LL * 1024 * 1024,
        .max_multibulk = opts & 4 ? 8 : 1024LL * 1024 * 1024,
    };
    int unauth = opts & 1;
    str whole = parse_whole(&lim, unauth, data, size);
    str split = parse_split(&lim, unauth, opts & 8, &f, data, size);
    if (str_len(whole) != str_len(split) || memcmp(whole, split, str_len(whole)) != 0) abort();
    str_free(whole);
    str_free(split);
    return 0;
}
