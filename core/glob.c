/* glob.c: the glob matcher (see glob.h). Every pattern element other than
 * '*' consumes exactly one byte, so a single left-to-right pass that, on a
 * mismatch, returns to the most recent '*' and lets it swallow one more byte
 * finds a match whenever one exists. Earlier stars never need revisiting,
 * which bounds the work by plen * slen element tests. */
#include "core/glob.h"

#include <ctype.h>

static int glob_same(unsigned char a, unsigned char b, int nocase)
{
    if (nocase) return tolower(a) == tolower(b);
    return a == b;
}

/* A set "[...]" starting at p[i] == '['. Returns whether c is in it and
 * sets *next past its closing ']' (or to plen when it is not closed). */
static int glob_match_set(const char *p, size_t plen, size_t i, unsigned char c, int nocase,
                          size_t *next)
{
    int negate = 0, found = 0;
    i++;
    if (i < plen && p[i] == '^') {
        negate = 1;
        i++;
    }
    while (i < plen && p[i] != ']') {
        if (p[i] == '\\' && i + 1 < plen) {
            found |= glob_same((unsigned char)p[i + 1], c, nocase);
            i += 2;
        } else if (i + 2 < plen && p[i + 1] == '-') {
            unsigned char lo = (unsigned char)p[i], hi = (unsigned char)p[i + 2];
            unsigned char x = c;
            if (lo > hi) {
                unsigned char t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = (unsigned char)tolower(lo);
                hi = (unsigned char)tolower(hi);
                x = (unsigned char)tolower(x);
            }
            found |= (x >= lo && x <= hi);
            i += 3;
        } else {
            found |= glob_same((unsigned char)p[i], c, nocase);
            i++;
        }
    }
    *next = i < plen ? i + 1 : plen;
    return negate ? !found : found;
}

/* Tests the element at p[i] (anything but '*') against byte c and sets
 * *next past the element. */
static int glob_match_element(const char *p, size_t plen, size_t i, unsigned char c, int nocase,
                              size_t *next)
{
    switch (p[i]) {
    case '?':
        *next = i + 1;
        return 1;
    case '[':
        return glob_match_set(p, plen, i, c, nocase, next);
    case '\\':
        if (i + 1 < plen) {
            *next = i + 2;
            return glob_same((unsigned char)p[i + 1], c, nocase);
        }
        *next = i + 1; /* a trailing backslash stands for itself */
        return c == '\\';
    default:
        *next = i + 1;
        return glob_same((unsigned char)p[i], c, nocase);
    }
}

int glob_match(const char *pattern, size_t plen, const char *string, size_t slen, int nocase)
{
    size_t pi = 0, si = 0, next;
    size_t star_p = 0, star_s = 0; /* resume points after the last '*' */
    int have_star = 0;

    while (si < slen) {
        if (pi < plen && pattern[pi] == '*') {
            while (pi < plen && pattern[pi] == '*') pi++;
            if (pi == plen) return 1;
            have_star = 1;
            star_p = pi;
            star_s = si;
            continue;
        }
        if (pi < plen && glob_match_element(pattern, plen, pi, (unsigned char)string[si], nocase, &next)) {
            pi = next;
            si++;
            continue;
        }
        if (!have_star) return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && pattern[pi] == '*') pi++;
    return pi == plen;
}
