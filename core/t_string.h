/* t_string.h: registration of the string commands (t_string.c), and the
 * string helpers the bit commands (t_bitops.c) share with them. */
#ifndef TANDEM_T_STRING_H
#define TANDEM_T_STRING_H

#include <stddef.h>

#include "core/object.h"
#include "net/client.h"

/* Registers the string commands and the bit commands. */
void string_commands_register(void);

/* Replies WRONGTYPE and returns -1 when o does not hold a string. */
int string_check_type(client *c, const kv *o);
/* Whether a string of base + add bytes stays within proto-max-bulk-len:
 * otherwise replies the error and returns -1. */
int string_check_length(client *c, unsigned long long base, unsigned long long add);
/* A new raw-encoded string kv of vlen bytes: a copy of val, or zeros when
 * val is NULL (as Redis creates the strings of BITOP, SETBIT, SETRANGE). */
kv *string_new_raw(const char *key, size_t keylen, const char *val, size_t vlen);
/* Makes o (in database db) a raw string of at least minlen bytes, zero
 * padded, that may be edited in place through kv_string_mut(); returns the
 * kv now in the keyspace: o itself, or a grown copy swapped in for it. */
kv *string_unshare(int db, kv *o, size_t minlen);

#endif
