/* format.h: every constant of the RDB file format, in one place: the magic
 * and versions, the opcodes, the value type ids, and the bits of the length
 * prefix and of the special string encodings. Nothing else lives here. A
 * leaf.
 *
 * The file: "REDIS" and four ASCII digits of version, then a sequence of
 * items each starting with one byte, which is either an opcode (0xF5 and
 * above) or the type id of a key/value pair that follows (key string, then
 * the value). EOF (0xFF) ends it, followed (version 5 and later) by the
 * CRC-64 of every byte before, 8 bytes little endian, 0 when not computed.
 *
 * How a length is written (big endian where it spans bytes). The two top
 * bits of the first byte say which form follows:
 *
 *   00LLLLLL                       6-bit length, 0..63, in the byte itself
 *   01LLLLLL LLLLLLLL              14-bit length, 64..16383: the low 6 bits
 *                                  of the first byte are the high bits
 *   10000000 [4 bytes]             32-bit length (0x80), big endian
 *   10000001 [8 bytes]             64-bit length (0x81), big endian
 *   11EEEEEE                       not a length: a specially encoded string
 *                                  follows, of the kind EEEEEE says:
 *       0  int8  (1 byte)     a signed integer, little endian, standing
 *       1  int16 (2 bytes)    for its decimal text ("-5", "1000"), which
 *       2  int32 (4 bytes)    must be canonical to be written this way
 *       3  LZF: a length (compressed size), a length (original size), then
 *          the compressed bytes
 *
 * A string is a length and that many bytes, or one of the special forms.
 * Lengths 10xxxxxx other than 0x80 and 0x81 are not defined. */
#ifndef TANDEM_RDB_FORMAT_H
#define TANDEM_RDB_FORMAT_H

/* Header: magic, then the version as four ASCII digits. */
#define RDB_MAGIC "REDIS"
#define RDB_MAGIC_LEN 5
#define RDB_HEADER_LEN 9
#define RDB_VERSION 10     /* what we write: Redis 7.0's */
#define RDB_VERSION_MIN 1  /* oldest we read */
#define RDB_VERSION_MAX 11 /* newest we read: Redis 7.2's */
/* The checksum after EOF exists from this version on. */
#define RDB_VERSION_CHECKSUM 5
#define RDB_CHECKSUM_LEN 8

/* Opcodes: item bytes that are not value types. */
#define RDB_OPCODE_FUNCTION2 0xF5     /* Redis 7.0 function library */
#define RDB_OPCODE_FUNCTION 0xF6      /* functions, pre-GA 7.0 form */
#define RDB_OPCODE_MODULE_AUX 0xF7    /* module auxiliary data */
#define RDB_OPCODE_IDLE 0xF8          /* LRU idle seconds: a length */
#define RDB_OPCODE_FREQ 0xF9          /* LFU frequency: one byte */
#define RDB_OPCODE_AUX 0xFA           /* aux field: two strings */
#define RDB_OPCODE_RESIZEDB 0xFB      /* db size, expires size: two lengths */
#define RDB_OPCODE_EXPIRETIME_MS 0xFC /* 8 bytes LE, Unix milliseconds */
#define RDB_OPCODE_EXPIRETIME 0xFD    /* 4 bytes LE, Unix seconds (old) */
#define RDB_OPCODE_SELECTDB 0xFE      /* database index: a length */
#define RDB_OPCODE_EOF 0xFF
/* The lowest byte value used by an opcode. */
#define RDB_OPCODE_FIRST RDB_OPCODE_FUNCTION2

/* Value types. */
#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_ZSET 3
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_MODULE_PRE_GA 6
#define RDB_TYPE_MODULE_2 7
/* 8 was never used. */
#define RDB_TYPE_HASH_ZIPMAP 9
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_ZIPLIST 12
#define RDB_TYPE_HASH_ZIPLIST 13
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_STREAM_LISTPACKS 15
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_ZSET_LISTPACK 17
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define RDB_TYPE_STREAM_LISTPACKS_3 20
/* The highest type id any version we read defines. */
#define RDB_TYPE_LAST RDB_TYPE_STREAM_LISTPACKS_3

/* Length prefix: the two top bits of the first byte. */
#define RDB_LEN_KIND_MASK 0xC0
#define RDB_LEN_6BIT 0x00
#define RDB_LEN_14BIT 0x40
#define RDB_LEN_32BIT 0x80 /* the whole byte */
#define RDB_LEN_64BIT 0x81 /* the whole byte */
#define RDB_LEN_ENCVAL 0xC0
#define RDB_LEN_VALUE_MASK 0x3F
#define RDB_LEN_6BIT_MAX 63
#define RDB_LEN_14BIT_MAX 16383

/* Special string encodings (the low 6 bits after RDB_LEN_ENCVAL). */
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* Strings this long or shorter are never LZF-compressed (Redis's rule:
 * nothing that short compresses), and a compressed form is kept only when
 * it saves at least RDB_LZF_MIN_SAVING bytes. */
#define RDB_LZF_MIN_LEN 20
#define RDB_LZF_MIN_SAVING 4
/* Strings this long or shorter are tried as integers. */
#define RDB_INT_ENC_MAX_LEN 11

#endif
