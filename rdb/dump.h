/* dump.h: DUMP and RESTORE (dump.c): their registration and the payload
 * functions they share with the fuzz target. The payload they exchange is
 * Redis 7.0's: a value serialized as in an RDB file, the RDB
 * version (2 bytes, little endian) and the CRC-64 of everything before (8
 * bytes, little endian). */
#ifndef TANDEM_RDB_DUMP_H
#define TANDEM_RDB_DUMP_H

#include <stddef.h>

#include "core/object.h"
#include "core/str.h"

void dump_commands_register(void);

/* The payload of o as DUMP returns it (caller frees). */
str dump_payload(const kv *o, int compress);
/* Whether a payload's footer holds a version we read and a matching CRC,
 * as RESTORE checks it before decoding anything. */
int dump_payload_verify(const char *p, size_t len);
/* The value of a verified payload as a new kv under key, or NULL when it is
 * malformed. RESTORE and the fuzz target call these. */
kv *dump_payload_decode(const char *p, size_t len, const str key);

#endif
