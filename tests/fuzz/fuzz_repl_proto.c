/* fuzz_repl_proto.c: libFuzzer target for the replica link's reader of the
 * primary's replies (repl/proto.c): the resumable line reader, the reply
 * and bulk-header parsers on every line it yields, and the scanner of the
 * "$EOF:" end mark. After a 4-byte header (fuzz_split.h), the input is what
 * a primary sends, delivered in the chunks the header picks; the lines must
 * equal those of the whole input read at once, and the mark must be found
 * exactly where memmem finds it in the whole input. Options: bit 0 a short
 * line limit (16 instead of PROTO_LINE_MAX), bits 4-5 the period of the
 * mark ('a', "ab", "abc" or "abcd" repeated), bit 6 a 'z' as its last byte
 * (a mark that almost repeats is where scanners go wrong). */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "repl/proto.h"
#include "tests/fuzz/fuzz_split.h"

static void check_line(const char *line, size_t len, size_t max)
{
    if (len == 0 || len > max || memchr(line, '\n', len)) abort();
    proto_reply r;
    enum proto_reply_type t = proto_parse_reply(line, len, &r);
    if (t != r.type) abort();
    size_t idlen = strnlen(r.replid, sizeof(r.replid));
    if (idlen == sizeof(r.replid)) abort(); /* not NUL-terminated */
    if (t == PROTO_REPLY_FULLRESYNC && idlen != PROTO_REPLID_LEN) abort();
    if (t == PROTO_REPLY_CONTINUE && idlen != 0 && idlen != PROTO_REPLID_LEN) abort();
    proto_bulk b;
    if (proto_parse_bulk(line, len, &b) != b.type) abort();
    if (b.type == PROTO_BULK_LEN && b.len < 0) abort();
    char shown[64];
    if (strlen(proto_printable(shown, sizeof(shown), line, len)) >= sizeof(shown)) abort();
}

/* Every line of the input, fed whole (f NULL) or in chunks; the log ends
 * with "!" when the reader refused a line. */
static str read_lines(fuzz_split *f, const uint8_t *data, size_t size, size_t max)
{
    proto_lines r;
    proto_lines_init(&r, max);
    str log = str_empty();
    size_t fed = 0;
    int failed = 0;
    while (fed < size && !failed) {
        size_t n = f ? fuzz_split_next(f, size - fed) : size;
        proto_lines_feed(&r, (const char *)data + fed, n);
        fed += n;
        const char *line;
        size_t len;
        int rc;
        while ((rc = proto_lines_next(&r, &line, &len)) == PROTO_OK) {
            check_line(line, len, max);
            log = str_cat_fmt(log, "%zu:", len);
            log = str_cat_len(log, line, len);
        }
        if (rc == PROTO_ERR) {
            log = str_cat(log, "!");
            failed = 1;
        }
    }
    size_t rest;
    proto_lines_rest(&r, &rest);
    if (rest > size) abort();
    proto_lines_free(&r);
    return log;
}

static void scan_mark(fuzz_split *f, int opts, const uint8_t *data, size_t size)
{
    char mark[PROTO_MARK_LEN];
    int period = 1 + (opts >> 4 & 3);
    for (int i = 0; i < PROTO_MARK_LEN; i++) mark[i] = (char)('a' + i % period);
    if (opts & 0x40) mark[PROTO_MARK_LEN - 1] = 'z';
    const uint8_t *hit = memmem(data, size, mark, PROTO_MARK_LEN);
    long long want = hit ? (long long)(hit - data) + PROTO_MARK_LEN : -1;

    proto_mark_scan m;
    proto_mark_init(&m, mark);
    size_t fed = 0;
    long long found = -1;
    while (fed < size) {
        size_t n = fuzz_split_next(f, size - fed);
        long long end = proto_mark_feed(&m, (const char *)data + fed, n);
        if (end >= 0) {
            if (end == 0 || (size_t)end > n) abort();
            found = (long long)fed + end;
            break;
        }
        fed += n;
    }
    if (found != want) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_split f;
    int opts = fuzz_split_init(&f, &data, &size);
    fuzz_split f2 = f;
    size_t max = opts & 1 ? 16 : PROTO_LINE_MAX;
    str whole = read_lines(NULL, data, size, max);
    str split = read_lines(&f, data, size, max);
    if (str_len(whole) != str_len(split) || memcmp(whole, split, str_len(whole)) != 0) abort();
    str_free(whole);
    str_free(split);
    scan_mark(&f2, opts, data, size);
    return 0;
}
