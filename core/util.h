/* util.h: small parsing and formatting helpers shared by commands and
 * configuration. A leaf. */
#ifndef TANDEM_UTIL_H
#define TANDEM_UTIL_H

#include <stddef.h>

/* Strict decimal long long (no spaces, no "+", no leading zeros except "0").
 * 0 or -1. */
int parse_ll(const char *s, size_t len, long long *out);
/* Writes the decimal text of v (no NUL) into buf, at least 21 bytes;
 * returns its length. */
size_t ll_to_text(char *buf, long long v);
/* A finite double as strtod reads it, the whole string. 0 or -1. */
int parse_double(const char *s, size_t len, double *out);
/* A byte count with an optional unit: k=1000 kb=1024 m mb g gb (any case).
 * 0 or -1. */
int parse_memory(const char *s, long long *out);
/* "1.50M" style, as INFO's *_human fields. */
void format_human_bytes(char *buf, size_t len, unsigned long long n);
/* Compares in time independent of where the first difference is. */
int constant_time_equal(const char *a, size_t alen, const char *b, size_t blen);
/* Random bytes from the kernel. */
void random_bytes(void *out, size_t len);
/* 40 random hex characters (run IDs). */
void random_hex(char *out, size_t len);

#endif
