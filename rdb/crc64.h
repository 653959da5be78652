/* crc64.h: the CRC-64 that RDB files end with: the Jones variant (reflected,
 * polynomial 0xad93d23594c935a9, initial value 0, no final xor), whose check
 * value over "123456789" is 0xe9c6d914c4b8d9ca. Table driven, eight bytes a
 * step. A leaf. */
#ifndef TANDEM_RDB_CRC64_H
#define TANDEM_RDB_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over len bytes at p (start with 0). Feeding the data in any
 * number of pieces gives the one-call result. */
uint64_t crc64(uint64_t crc, const void *p, size_t len);

#endif
