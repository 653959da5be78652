/* proto.c: the replica link's builders and parsers (see proto.h). Commands
 * are encoded with the RESP encoder of net/resp_write.h, another leaf; the
 * parsers take one line at a time, without its CRLF, and never allocate. */
#define _GNU_SOURCE /* memmem */
#include "repl/proto.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "net/resp_write.h"

#define PROTO_ARGV_MAX 5

/* ------------------------------------------------------------ builders */

static str proto_command(str s, int argc, const char **argv)
{
    size_t lens[PROTO_ARGV_MAX];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return resp_add_command(s, argc, argv, lens);
}

str proto_ping(str s)
{
    const char *argv[] = {"PING"};
    return proto_command(s, 1, argv);
}

str proto_auth(str s, const char *user, const char *pass)
{
    if (user && user[0]) {
        const char *argv[] = {"AUTH", user, pass};
        return proto_command(s, 3, argv);
    }
    const char *argv[] = {"AUTH", pass};
    return proto_command(s, 2, argv);
}

str proto_replconf(str s, const char *option, const char *value)
{
    const char *argv[] = {"REPLCONF", option, value};
    return proto_command(s, 3, argv);
}

str proto_replconf_capa(str s)
{
    const char *argv[] = {"REPLCONF", "capa", "eof", "capa", "psync2"};
    return proto_command(s, 5, argv);
}

str proto_psync(str s, const char *replid, long long offset)
{
    char off[24];
    snprintf(off, sizeof(off), "%lld", offset);
    const char *argv[] = {"PSYNC", replid ? replid : "?", replid ? off : "-1"};
    return proto_command(s, 3, argv);
}

str proto_ack(str s, long long offset)
{
    char off[24];
    snprintf(off, sizeof(off), "%lld", offset);
    const char *argv[] = {"REPLCONF", "ACK", off};
    return proto_command(s, 3, argv);
}

/* ------------------------------------------------------------- replies */

static int proto_starts(const char *p, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(p, prefix, n) == 0;
}

static int proto_equals(const char *p, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(p, word, len) == 0;
}

static int proto_is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return 1;
}

/* Copies a 40-hex ID at p into dst; 0, or -1 when p is not one. */
static int proto_take_replid(char *dst, const char *p, size_t n)
{
    if (n != PROTO_REPLID_LEN || !proto_is_hex(p, n)) return -1;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* "+FULLRESYNC <40 hex> <offset>", strictly. */
static enum proto_reply_type proto_parse_fullresync(const char *line, size_t len, proto_reply *r)
{
    const size_t head = strlen("+FULLRESYNC ");
    const size_t off_at = head + PROTO_REPLID_LEN + 1;
    if (len <= off_at || line[head - 1] != ' ' || line[off_at - 1] != ' ')
        return PROTO_REPLY_INVALID;
    if (proto_take_replid(r->replid, line + head, PROTO_REPLID_LEN) == -1)
        return PROTO_REPLY_INVALID;
    if (parse_ll(line + off_at, len - off_at, &r->offset) == -1 || r->offset < 0) {
        r->replid[0] = '\0';
        return PROTO_REPLY_INVALID;
    }
    return PROTO_REPLY_FULLRESYNC;
}

/* "+CONTINUE" or "+CONTINUE <id>"; as Redis does, an ID that is not 40
 * characters long is ignored (the primary kept its ID). */
static enum proto_reply_type proto_parse_continue(const char *line, size_t len, proto_reply *r)
{
    const size_t head = strlen("+CONTINUE");
    if (len > head && line[head] != ' ') return PROTO_REPLY_STATUS;
    if (len > head + 1) proto_take_replid(r->replid, line + head + 1, len - head - 1);
    return PROTO_REPLY_CONTINUE;
}

static enum proto_reply_type proto_parse_status(const char *line, size_t len, proto_reply *r)
{
    if (proto_equals(line, len, "+PONG")) return PROTO_REPLY_PONG;
    if (proto_equals(line, len, "+OK")) return PROTO_REPLY_OK;
    if (proto_starts(line, len, "+FULLRESYNC")) return proto_parse_fullresync(line, len, r);
    if (proto_starts(line, len, "+CONTINUE")) return proto_parse_continue(line, len, r);
    return PROTO_REPLY_STATUS;
}

static enum proto_reply_type proto_parse_error(const char *line, size_t len)
{
    if (proto_starts(line, len, "-NOAUTH") || proto_starts(line, len, "-NOPERM") ||
        proto_starts(line, len, "-ERR operation not permitted"))
        return PROTO_REPLY_NOAUTH;
    if (proto_starts(line, len, "-NOMASTERLINK")) return PROTO_REPLY_NOMASTERLINK;
    if (proto_starts(line, len, "-LOADING")) return PROTO_REPLY_LOADING;
    return PROTO_REPLY_ERROR;
}

enum proto_reply_type proto_parse_reply(const char *line, size_t len, proto_reply *r)
{
    memset(r, 0, sizeof(*r));
    if (len > 0 && line[0] == '+')
        r->type = proto_parse_status(line, len, r);
    else if (len > 0 && line[0] == '-')
        r->type = proto_parse_error(line, len);
    else
        r->type = PROTO_REPLY_INVALID;
    return r->type;
}

/* --------------------------------------------------------- bulk header */

enum proto_bulk_type proto_parse_bulk(const char *line, size_t len, proto_bulk *b)
{
    const size_t eof_head = strlen("$EOF:");
    memset(b, 0, sizeof(*b));
    if (len > 0 && line[0] == '-') {
        b->type = PROTO_BULK_ERROR;
    } else if (len == 0 || line[0] != '$') {
        b->type = PROTO_BULK_INVALID;
    } else if (proto_starts(line, len, "$EOF:")) {
        if (len == eof_head + PROTO_MARK_LEN) {
            memcpy(b->mark, line + eof_head, PROTO_MARK_LEN);
            b->type = PROTO_BULK_EOF;
        }
    } else if (parse_ll(line + 1, len - 1, &b->len) == 0 && b->len >= 0) {
        b->type = PROTO_BULK_LEN;
    }
    return b->type;
}

/* ------------------------------------------------------ end-mark scanner */

void proto_mark_init(proto_mark_scan *m, const char mark[PROTO_MARK_LEN])
{
    memcpy(m->mark, mark, PROTO_MARK_LEN);
    m->tail_len = 0;
}

/* Keeps the last PROTO_MARK_LEN - 1 bytes of tail followed by p. */
static void proto_mark_keep_tail(proto_mark_scan *m, const char *p, size_t n)
{
    const size_t want = PROTO_MARK_LEN - 1;
    if (n >= want) {
        memcpy(m->tail, p + n - want, want);
        m->tail_len = want;
        return;
    }
    size_t keep = m->tail_len < want - n ? m->tail_len : want - n;
    memmove(m->tail, m->tail + m->tail_len - keep, keep);
    memcpy(m->tail + keep, p, n);
    m->tail_len = keep + n;
}

long long proto_mark_feed(proto_mark_scan *m, const char *p, size_t n)
{
    /* A mark that starts in the bytes kept from earlier pieces. */
    char win[2 * PROTO_MARK_LEN];
    size_t head = n < PROTO_MARK_LEN - 1 ? n : PROTO_MARK_LEN - 1;
    memcpy(win, m->tail, m->tail_len);
    memcpy(win + m->tail_len, p, head);
    size_t wlen = m->tail_len + head;
    for (size_t i = 0; i < m->tail_len && wlen - i >= PROTO_MARK_LEN; i++)
        if (memcmp(win + i, m->mark, PROTO_MARK_LEN) == 0)
            return (long long)(i + PROTO_MARK_LEN - m->tail_len);
    /* A mark wholly inside this piece. */
    const char *hit = memmem(p, n, m->mark, PROTO_MARK_LEN);
    if (hit) return (long long)(hit - p) + PROTO_MARK_LEN;
    proto_mark_keep_tail(m, p, n);
    return -1;
}

/* --------------------------------------------------------- line reader */

void proto_lines_init(proto_lines *r, size_t max_line)
{
    r->buf = str_empty();
    r->pos = 0;
    r->max_line = max_line;
}

void proto_lines_free(proto_lines *r)
{
    str_free(r->buf);
    r->buf = NULL;
    r->pos = 0;
}

void proto_lines_feed(proto_lines *r, const char *p, size_t n)
{
    if (r->pos > 0) {
        str_consume(r->buf, r->pos);
        r->pos = 0;
    }
    r->buf = str_cat_len(r->buf, p, n);
}

int proto_lines_next(proto_lines *r, const char **line, size_t *len)
{
    for (;;) {
        const char *start = r->buf + r->pos;
        size_t avail = str_len(r->buf) - r->pos;
        const char *nl = memchr(start, '\n', avail);
        /* Unterminated: room for max_line bytes and a "\r" still to come. */
        if (!nl) return avail > r->max_line + 1 ? PROTO_ERR : PROTO_AGAIN;
        size_t n = (size_t)(nl - start);
        r->pos += n + 1;
        if (n > 0 && start[n - 1] == '\r') n--;
        if (n > r->max_line) return PROTO_ERR;
        if (n == 0) continue; /* a keep-alive */
        *line = start;
        *len = n;
        return PROTO_OK;
    }
}

const char *proto_lines_rest(const proto_lines *r, size_t *len)
{
    *len = str_len(r->buf) - r->pos;
    return r->buf + r->pos;
}

void proto_lines_clear(proto_lines *r)
{
    str_clear(r->buf);
    r->pos = 0;
}

/* --------------------------------------------------------------- misc */

char *proto_printable(char *dst, size_t cap, const char *p, size_t n)
{
    size_t i = 0;
    for (; i < n && i + 1 < cap; i++)
        dst[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    dst[i] = '\0';
    return dst;
}
