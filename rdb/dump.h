/* dump.h: registration of DUMP and RESTORE (dump.c). The payload they
 * exchange is Redis 7.0's: a value serialized as in an RDB file, the RDB
 * version (2 bytes, little endian) and the CRC-64 of everything before (8
 * bytes, little endian). */
#ifndef TANDEM_RDB_DUMP_H
#define TANDEM_RDB_DUMP_H

void dump_commands_register(void);

#endif
