/* fuzz_glob.c: libFuzzer target for the glob matcher (core/glob.c). The
 * first byte holds the options (bit 0 nocase) and, with the second, where
 * the rest splits into pattern and string. glob_match must agree with a
 * reference written here the slow, obvious way: each pattern element is
 * turned into the set of the 256 bytes it accepts, and '*' is tried at
 * every length by a memoized recursion. The time limit of the fuzzer
 * (-timeout) checks that no pattern stalls the matcher. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/glob.h"

#define REF_MAX 128 /* the reference runs on shorter patterns and strings */

typedef struct element {
    int star;
    uint8_t accepts[256];
} element;

static element elems[REF_MAX];
static signed char memo[REF_MAX + 1][REF_MAX + 1];

static int same(int a, int b, int nocase)
{
    return nocase ? tolower(a) == tolower(b) : a == b;
}

static void accept_like(element *e, int ch, int nocase)
{
    for (int c = 0; c < 256; c++)
        if (same(c, ch, nocase)) e->accepts[c] = 1;
}

/* The set "[...]" whose '[' is at p[i]; returns the index after it. */
static size_t compile_set(const unsigned char *p, size_t n, size_t i, element *e, int nocase)
{
    int negate = 0;
    i++;
    if (i < n && p[i] == '^') negate = 1, i++;
    for (; i < n && p[i] != ']';) {
        if (p[i] == '\\' && i + 1 < n) {
            accept_like(e, p[i + 1], nocase);
            i += 2;
        } else if (i + 2 < n && p[i + 1] == '-') {
            int lo = p[i] < p[i + 2] ? p[i] : p[i + 2];
            int hi = p[i] < p[i + 2] ? p[i + 2] : p[i];
            if (nocase) lo = tolower(lo), hi = tolower(hi);
            for (int c = 0; c < 256; c++) {
                int x = nocase ? tolower(c) : c;
                if (x >= lo && x <= hi) e->accepts[c] = 1;
            }
            i += 3;
        } else {
            accept_like(e, p[i], nocase);
            i++;
        }
    }
    if (negate)
        for (int c = 0; c < 256; c++) e->accepts[c] = !e->accepts[c];
    return i < n ? i + 1 : n;
}

static int compile(const unsigned char *p, size_t n, int nocase)
{
    int count = 0;
    for (size_t i = 0; i < n; count++) {
        element *e = &elems[count];
        memset(e, 0, sizeof(*e));
        if (p[i] == '*') {
            e->star = 1;
            i++;
        } else if (p[i] == '?') {
            memset(e->accepts, 1, sizeof(e->accepts));
            i++;
        } else if (p[i] == '[') {
            i = compile_set(p, n, i, e, nocase);
        } else if (p[i] == '\\' && i + 1 < n) {
            accept_like(e, p[i + 1], nocase);
            i += 2;
        } else {
            accept_like(e, p[i], nocase);
            i++;
        }
    }
    return count;
}

static int ref_match(int ei, int count, const unsigned char *s, size_t si, size_t slen)
{
    if (memo[ei][si] >= 0) return memo[ei][si];
    int r;
    if (ei == count)
        r = si == slen;
    else if (elems[ei].star)
        r = ref_match(ei + 1, count, s, si, slen) ||
            (si < slen && ref_match(ei, count, s, si + 1, slen));
    else
        r = si < slen && elems[ei].accepts[s[si]] && ref_match(ei + 1, count, s, si + 1, slen);
    memo[ei][si] = (signed char)r;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int nocase = data[0] & 1;
    size_t rest = size - 2;
    size_t plen = rest ? ((size_t)data[1] | (size_t)(data[0] >> 1) << 8) % (rest + 1) : 0;
    const unsigned char *pat = data + 2, *s = pat + plen;
    size_t slen = rest - plen;
    int got = glob_match((const char *)pat, plen, (const char *)s, slen, nocase);
    if (got != 0 && got != 1) abort();
    if (plen > REF_MAX || slen > REF_MAX) return 0;
    int count = compile(pat, plen, nocase);
    for (int i = 0; i <= count; i++) memset(memo[i], -1, slen + 1);
    if (ref_match(0, count, s, 0, slen) != got) abort();
    return 0;
}
