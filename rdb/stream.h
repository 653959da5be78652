/* stream.h: the byte stream that RDB encoding and decoding run over, so that
 * the same code writes a file, a memory buffer (DUMP, tests) or, later, a
 * replica's socket. Errors are sticky: after a short read or a failed write
 * every later call fails too, and the caller checks once at the end. The
 * stream keeps a running CRC-64 of the bytes that pass (when enabled), the
 * offset, and, for files, fsyncs every N bytes written. A leaf. */
#ifndef TANDEM_RDB_STREAM_H
#define TANDEM_RDB_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

typedef struct rdb_stream rdb_stream;

typedef struct rdb_stream_ops {
    /* Exactly len bytes, or -1. */
    int (*read)(rdb_stream *s, void *buf, size_t len);
    int (*write)(rdb_stream *s, const void *buf, size_t len);
    /* Pushes buffered bytes to the backend (and the disk, for sync). */
    int (*flush)(rdb_stream *s, int sync);
    void (*close)(rdb_stream *s);
} rdb_stream_ops;

struct rdb_stream {
    const rdb_stream_ops *ops;
    uint64_t offset;      /* bytes read or written so far */
    uint64_t crc;         /* CRC-64 of those bytes, when crc_on */
    int crc_on;
    int error;            /* sticky */
    char errmsg[160];
    uint64_t limit;       /* readers: total bytes available (UINT64_MAX unknown) */
    size_t fsync_every;   /* file writers: fsync after this many bytes, 0 never */
    size_t since_fsync;
    union {
        struct {
            const unsigned char *buf;
            size_t len, pos;
        } mem_in;
        str mem_out;
        struct {
            int fd;
            unsigned char *buf;
            size_t len, pos, cap;
        } file;
        struct rdb_conn_source *conn; /* stream_conn.c */
    } u;
};

/* Reads exactly len bytes: 0, or -1 (the error is set and sticky). */
int rdb_stream_read(rdb_stream *s, void *buf, size_t len);
int rdb_stream_write(rdb_stream *s, const void *buf, size_t len);
/* Flushes (and fsyncs with sync); 0 or -1. */
int rdb_stream_flush(rdb_stream *s, int sync);
void rdb_stream_close(rdb_stream *s);
/* Bytes a reader can still deliver (UINT64_MAX when unknown): a length read
 * from the stream is checked against this before anything is allocated. */
uint64_t rdb_stream_remaining(const rdb_stream *s);
/* Sets the sticky error with a message (first one wins). */
void rdb_stream_fail(rdb_stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rdb_stream_crc_start(rdb_stream *s); /* crc = 0, crc_on = 1 */

/* Ready-made operations for backends: a reader's write and a writer's read
 * fail with the stream's error; a flush or a close with nothing to do. */
int rdb_stream_op_refuse_write(rdb_stream *s, const void *buf, size_t len);
int rdb_stream_op_refuse_read(rdb_stream *s, void *buf, size_t len);
int rdb_stream_op_flush_nothing(rdb_stream *s, int sync);
void rdb_stream_op_close_nothing(rdb_stream *s);

void rdb_stream_mem_reader(rdb_stream *s, const void *buf, size_t len);
void rdb_stream_mem_writer(rdb_stream *s);
/* The bytes written to a memory writer; the stream gives them up. */
str rdb_stream_mem_take(rdb_stream *s);

/* Files (stream_file.c). 0, or -1 with errno set. */
int rdb_stream_file_reader(rdb_stream *s, const char *path);
int rdb_stream_file_writer(rdb_stream *s, const char *path, size_t fsync_every);
/* A writer over a descriptor already open (the diskless sync's pipe), which
 * closing the stream closes; a flush with sync must not be asked of a pipe. */
void rdb_stream_fd_writer(rdb_stream *s, int fd);

#endif
