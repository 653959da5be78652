/* glob.h: glob-style pattern matching as KEYS, SCAN MATCH, PSUBSCRIBE and
 * CONFIG GET use it. Owns nothing but the matcher. A leaf.
 *
 * Syntax: '*' any run of bytes (also empty), '?' any one byte, "[abc]" one
 * of a set, "[a-z]" a range, "[^...]" a negated set, and '\' to take the next
 * byte literally (inside sets too). The work done is bounded by
 * plen * slen steps whatever the pattern, so no pattern can stall the server. */
#ifndef TANDEM_GLOB_H
#define TANDEM_GLOB_H

#include <stddef.h>

/* 1 when string[0..slen) matches pattern[0..plen), else 0. With nocase,
 * ASCII letters compare without regard to case. */
int glob_match(const char *pattern, size_t plen, const char *string, size_t slen, int nocase);

#endif
