/* codec.h: RDB values over a stream: lengths (the 2-bit prefix forms),
 * strings (raw, 8/16/32-bit integer, LZF-compressed), millisecond times, and
 * whole values of the types the keyspace has. Decoding checks every length
 * against what the stream can still deliver before allocating, and every
 * error names the byte offset (through the stream's sticky error). */
#ifndef TANDEM_RDB_CODEC_H
#define TANDEM_RDB_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/object.h"
#include "rdb/stream.h"

int rdb_write_byte(rdb_stream *s, unsigned char b);
int rdb_write_len(rdb_stream *s, uint64_t len);
/* Integer-encodes when the text is a small canonical integer, LZF-compresses
 * strings over 20 bytes when compress is set and it saves space. */
int rdb_write_string(rdb_stream *s, const char *p, size_t len, int compress);
int rdb_write_ll_string(rdb_stream *s, long long v);
int rdb_write_millis(rdb_stream *s, long long ms); /* 8 bytes, little endian */
/* The type byte and the value of a kv. */
int rdb_write_value_type(rdb_stream *s, const kv *o);
int rdb_write_value(rdb_stream *s, const kv *o, int compress);

int rdb_read_byte(rdb_stream *s, unsigned char *b);
/* A length; *encoded is set (and the special encoding in *len) for the
 * 11xxxxxx form that announces an integer or LZF string. */
int rdb_read_len(rdb_stream *s, uint64_t *len, int *encoded);
/* A string in any of its encodings, as a str (caller frees), or NULL. */
str rdb_read_string(rdb_stream *s);
/* The same into *out, emptied first and grown as needed (a buffer reused
 * from key to key saves an allocation each). 0, or -1 with the stream's
 * error set. */
int rdb_read_string_into(rdb_stream *s, str *out);
int rdb_read_millis(rdb_stream *s, long long *ms);
int rdb_read_seconds(rdb_stream *s, long long *ms); /* old EXPIRETIME: 4 bytes */
/* A value of the given RDB type stored under key: a new kv, or NULL with
 * the stream's error set ("unsupported type 4 (hash) at offset 123" for
 * types the keyspace does not have yet). */
kv *rdb_read_value(rdb_stream *s, int type, const char *key, size_t keylen);
/* The value alone, into *out as rdb_read_string_into (strings are the only
 * type the keyspace has): 0, or -1 with the stream's error set. */
int rdb_read_value_into(rdb_stream *s, int type, str *out);
/* The name of an RDB type id ("string", "hash-listpack", ...). */
const char *rdb_type_name(int type);

#endif
