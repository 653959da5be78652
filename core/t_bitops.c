/* t_bitops.c: the bit commands over string values: SETBIT, GETBIT,
 * BITCOUNT, BITPOS and BITOP, with Redis 7.0's replies and errors. Bit 0 is
 * the most significant bit of the first byte. Ranges are inclusive, in
 * bytes or (with BIT) in bits, negative values counting from the end. */
#include "core/t_bitops.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/call.h"
#include "core/command.h"
#include "core/db.h"
#include "core/t_string.h"
#include "core/util.h"
#include "net/output.h"

#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_SYNTAX "ERR syntax error"

enum bitop { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

/* ------------------------------------------------------------ bit helpers */

static int bit_at(const unsigned char *p, long long i)
{
    return (p[i >> 3] >> (7 - (i & 7))) & 1;
}

static long long popcount(const unsigned char *p, size_t n)
{
    long long count = 0;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
        count += __builtin_popcountll(w);
    }
    while (n--)
        count += __builtin_popcount(*p++);
    return count;
}

/* Set bits from bit sb to bit eb, both included. */
static long long count_bits(const unsigned char *p, long long sb, long long eb)
{
    long long first = sb >> 3, last = eb >> 3;
    long long n = popcount(p + first, (size_t)(last - first + 1));
    n -= __builtin_popcount(p[first] & ~(0xffu >> (sb & 7)) & 0xffu);
    n -= __builtin_popcount(p[last] & (0xffu >> ((eb & 7) + 1)));
    return n;
}

/* The first bit from sb to eb (included) that equals bit, or -1. Whole
 * words and bytes that cannot hold it are skipped. */
static long long find_bit(const unsigned char *p, long long sb, long long eb, int bit)
{
    long long i = sb;
    for (; i <= eb && (i & 7); i++)
        if (bit_at(p, i) == bit) return i;
    uint64_t skip_word = bit ? 0 : UINT64_MAX;
    unsigned char skip_byte = bit ? 0 : 0xff;
    for (; i + 63 <= eb; i += 64) {
        uint64_t w;
        memcpy(&w, p + (i >> 3), sizeof(w));
        if (w != skip_word) break;
    }
    while (i + 7 <= eb && p[i >> 3] == skip_byte)
        i += 8;
    for (; i <= eb; i++)
        if (bit_at(p, i) == bit) return i;
    return -1;
}

/* The string bytes of o (a formatted integer goes into buf). */
static const unsigned char *string_bytes(const kv *o, char *buf, size_t *len)
{
    return (const unsigned char *)kv_string(o, buf, len);
}

/* Turns negative range ends into offsets from the end of total units and
 * clamps them into the string; the range is empty when *start > *end. */
static void clamp_range(long long *start, long long *end, long long total)
{
    if (*start < 0) *start += total;
    if (*end < 0) *end += total;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= total) *end = total - 1;
}

/* BYTE (0) or BIT (1), or -1 after the syntax error. */
static int parse_unit(client *c, const char *arg)
{
    if (!strcasecmp(arg, "bit")) return 1;
    if (!strcasecmp(arg, "byte")) return 0;
    reply_error(c, ERR_SYNTAX);
    return -1;
}

static int parse_ll_arg(client *c, const str arg, long long *out)
{
    if (parse_ll(arg, str_len(arg), out) == 0) return 0;
    reply_error(c, ERR_NOT_INT);
    return -1;
}

/* A bit offset: not negative and within proto-max-bulk-len bytes. */
static int parse_bit_offset(client *c, const str arg, long long *out)
{
    if (parse_ll(arg, str_len(arg), out) == 0 && *out >= 0 &&
        (*out >> 3) < cmd_proto_max_bulk_len())
        return 0;
    reply_error(c, "ERR bit offset is not an integer or out of range");
    return -1;
}

/* ------------------------------------------------------------ SETBIT / GETBIT */

static void setbit_command(client *c, const command *cmd)
{
    (void)cmd;
    const str key = c->argv[1];
    long long offset, on;
    if (parse_bit_offset(c, c->argv[2], &offset) == -1) return;
    if (parse_ll(c->argv[3], str_len(c->argv[3]), &on) == -1 || (on & ~1LL)) {
        reply_error(c, "ERR bit is not an integer or out of range");
        return;
    }
    kv *o = db_lookup_write(c->db, key, str_len(key));
    if (o && string_check_type(c, o) == -1) return;
    size_t byte = (size_t)(offset >> 3);
    int grown = 1;
    if (!o) {
        o = string_new_raw(key, str_len(key), NULL, byte + 1);
        db_set(c->db, o, 0);
    } else {
        size_t old_len = kv_strlen(o);
        o = string_unshare(c->db, o, byte + 1);
        grown = kv_strlen(o) != old_len;
    }
    unsigned char *p = (unsigned char *)kv_string_mut(o);
    unsigned char mask = (unsigned char)(1u << (7 - (offset & 7)));
    int old = (p[byte] & mask) != 0;
    if (grown || old != on) {
        p[byte] = (unsigned char)(on ? p[byte] | mask : p[byte] & ~mask);
        propagate_current(c);
    }
    reply_integer(c, old);
}

static void getbit_command(client *c, const command *cmd)
{
    (void)cmd;
    long long offset;
    if (parse_bit_offset(c, c->argv[2], &offset) == -1) return;
    kv *o = db_lookup_read(c->db, c->argv[1], str_len(c->argv[1]));
    if (o && string_check_type(c, o) == -1) return;
    char buf[OBJ_LL_TEXT];
    size_t len = 0;
    const unsigned char *p = o ? string_bytes(o, buf, &len) : NULL;
    reply_integer(c, (size_t)(offset >> 3) < len ? bit_at(p, offset) : 0);
}

/* ------------------------------------------------------------ BITCOUNT / BITPOS */

static void bitcount_command(client *c, const command *cmd)
{
    (void)cmd;
    kv *o = db_lookup_read(c->db, c->argv[1], str_len(c->argv[1]));
    if (!o) {
        reply_integer(c, 0);
        return;
    }
    if (string_check_type(c, o) == -1) return;
    char buf[OBJ_LL_TEXT];
    size_t len;
    const unsigned char *p = string_bytes(o, buf, &len);
    long long start = 0, end = (long long)len - 1;
    int isbit = 0;
    if (c->argc == 4 || c->argc == 5) {
        if (parse_ll_arg(c, c->argv[2], &start) == -1 || parse_ll_arg(c, c->argv[3], &end) == -1)
            return;
        if (c->argc == 5 && (isbit = parse_unit(c, c->argv[4])) == -1) return;
        if (start < 0 && end < 0 && start > end) {
            reply_integer(c, 0);
            return;
        }
        clamp_range(&start, &end, isbit ? (long long)len * 8 : (long long)len);
    } else if (c->argc != 2) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (start > end) {
        reply_integer(c, 0);
        return;
    }
    reply_integer(c, isbit ? count_bits(p, start, end) : count_bits(p, start * 8, end * 8 + 7));
}

static void bitpos_command(client *c, const command *cmd)
{
    (void)cmd;
    long long bit;
    if (parse_ll_arg(c, c->argv[2], &bit) == -1) return;
    if (bit != 0 && bit != 1) {
        reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    kv *o = db_lookup_read(c->db, c->argv[1], str_len(c->argv[1]));
    if (!o) {
        reply_integer(c, bit ? -1 : 0);
        return;
    }
    if (string_check_type(c, o) == -1) return;
    char buf[OBJ_LL_TEXT];
    size_t len;
    const unsigned char *p = string_bytes(o, buf, &len);
    long long start = 0, end = (long long)len - 1;
    int isbit = 0, end_given = c->argc >= 5;
    if (c->argc >= 4 && c->argc <= 6) {
        if (parse_ll_arg(c, c->argv[3], &start) == -1) return;
        if (c->argc == 6 && (isbit = parse_unit(c, c->argv[5])) == -1) return;
        if (end_given && parse_ll_arg(c, c->argv[4], &end) == -1) return;
        long long total = isbit ? (long long)len * 8 : (long long)len;
        if (!end_given) end = total - 1;
        clamp_range(&start, &end, total);
    } else if (c->argc != 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (start > end) {
        reply_integer(c, -1);
        return;
    }
    long long sb = isbit ? start : start * 8, eb = isbit ? end : end * 8 + 7;
    long long pos = find_bit(p, sb, eb, (int)bit);
    /* No clear bit in an open-ended range: the string is taken as padded
     * with zeros, so the answer is the first bit after it. */
    if (pos == -1 && bit == 0 && !end_given) pos = eb + 1;
    reply_integer(c, pos);
}

/* ------------------------------------------------------------ BITOP */

typedef struct bitop_src {
    const unsigned char *p;
    size_t len;
    char buf[OBJ_LL_TEXT];
} bitop_src;

static int parse_bitop(const char *name)
{
    if (!strcasecmp(name, "and")) return BITOP_AND;
    if (!strcasecmp(name, "or")) return BITOP_OR;
    if (!strcasecmp(name, "xor")) return BITOP_XOR;
    if (!strcasecmp(name, "not")) return BITOP_NOT;
    return -1;
}

/* res (maxlen bytes) = the operation over the sources, each zero padded. */
static void bitop_compute(int op, const bitop_src *src, int n, unsigned char *res, size_t maxlen)
{
    memcpy(res, src[0].p, src[0].len);
    memset(res + src[0].len, 0, maxlen - src[0].len);
    if (op == BITOP_NOT)
        for (size_t i = 0; i < maxlen; i++)
            res[i] = (unsigned char)~res[i];
    for (int j = 1; j < n; j++) {
        const unsigned char *p = src[j].p;
        size_t len = src[j].len;
        if (op == BITOP_AND) {
            for (size_t i = 0; i < len; i++)
                res[i] &= p[i];
            memset(res + len, 0, maxlen - len);
        } else if (op == BITOP_OR) {
            for (size_t i = 0; i < len; i++)
                res[i] |= p[i];
        } else {
            for (size_t i = 0; i < len; i++)
                res[i] ^= p[i];
        }
    }
}

/* Reads the source keys; -1 after WRONGTYPE. */
static int bitop_sources(client *c, bitop_src *src, int n, size_t *maxlen)
{
    *maxlen = 0;
    for (int j = 0; j < n; j++) {
        const str key = c->argv[j + 3];
        kv *o = db_lookup_read(c->db, key, str_len(key));
        src[j].p = (const unsigned char *)"";
        src[j].len = 0;
        if (!o) continue;
        if (string_check_type(c, o) == -1) return -1;
        src[j].p = string_bytes(o, src[j].buf, &src[j].len);
        if (src[j].len > *maxlen) *maxlen = src[j].len;
    }
    return 0;
}

static void bitop_command(client *c, const command *cmd)
{
    (void)cmd;
    const str dest = c->argv[2];
    int op = parse_bitop(c->argv[1]);
    if (op == -1) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (op == BITOP_NOT && c->argc != 4) {
        reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    int n = c->argc - 3;
    bitop_src *src = tmalloc(sizeof(*src) * (size_t)n);
    size_t maxlen;
    if (bitop_sources(c, src, n, &maxlen) == -1) {
        tfree(src);
        return;
    }
    if (maxlen) {
        unsigned char *res = tmalloc(maxlen);
        bitop_compute(op, src, n, res, maxlen);
        kv *o = string_new_raw(dest, str_len(dest), (const char *)res, maxlen);
        tfree(res);
        db_set(c->db, o, 0);
        propagate_current(c);
    } else if (db_delete(c->db, dest, str_len(dest))) {
        propagate_current(c);
    }
    tfree(src);
    reply_integer(c, (long long)maxlen);
}

/* ------------------------------------------------------------ table */

/* name, proc, arity, flags, key positions (first, last, step), summary,
 * since: as Redis 7.0's COMMAND INFO and COMMAND DOCS give them. */
#define BITMAP_CMD(n, p, a, f, fk, lk, s, v)                                                       \
    {                                                                                              \
        .name = n, .proc = p, .arity = a, .flags = f, .first_key = fk, .last_key = lk,             \
        .key_step = 1, .group = "bitmap", .summary = s, .since = v                                 \
    }

static command bitops_commands[] = {
    BITMAP_CMD("setbit", setbit_command, 4, CMD_WRITE | CMD_DENYOOM, 1, 1,
               "Sets or clears the bit at offset in the string value stored at key", "2.2.0"),
    BITMAP_CMD("getbit", getbit_command, 3, CMD_READONLY | CMD_FAST, 1, 1,
               "Returns the bit value at offset in the string value stored at key", "2.2.0"),
    BITMAP_CMD("bitcount", bitcount_command, -2, CMD_READONLY, 1, 1, "Count set bits in a string",
               "2.6.0"),
    BITMAP_CMD("bitpos", bitpos_command, -3, CMD_READONLY, 1, 1,
               "Find first bit set or clear in a string", "2.8.7"),
    BITMAP_CMD("bitop", bitop_command, -4, CMD_WRITE | CMD_DENYOOM, 2, -1,
               "Perform bitwise operations between strings", "2.6.0"),
    {0},
};

void bitops_commands_register(void)
{
    command_register_all(bitops_commands);
}
