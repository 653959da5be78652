/* stream_conn.h: the connection backend of rdb/stream.h, for a replica that
 * loads its primary's RDB straight from the link (repl-diskless-load)
 * instead of a temp file. It reads the payload of either framing: "$<len>"
 * (it stops at len bytes) or "$EOF:<mark>" (the RDB delimits itself; once
 * the loader is done, rdb_stream_conn_finish reads the 40 mark bytes and
 * compares them). Bytes read past the payload are kept for the caller (the
 * replication stream that follows). When the connection has no data, the
 * stream calls the serve hook, which runs a nested event-loop iteration for
 * at most the given wait (clients are served meanwhile), and fails after
 * timeout_ms without a byte. While the stream is open, the connection's read
 * handler is the stream's own (it only wakes the loop): nobody else reads
 * from it; closing the stream removes it. Knows net/conn.h and the loop's
 * clock; no socket call. */
#ifndef TANDEM_RDB_STREAM_CONN_H
#define TANDEM_RDB_STREAM_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"
#include "rdb/stream.h"

#define RDB_CONN_MARK_LEN 40 /* the "$EOF:" mark */
/* The longest wait the stream asks of the serve hook at once (ms). */
#define RDB_CONN_SERVE_MS 100

/* Runs the event loop for at most wait_ms (0: only what is ready). */
typedef void rdb_conn_serve_fn(void *priv, int wait_ms);

typedef struct rdb_conn_opts {
    long long size;   /* "$<len>": the payload's bytes; -1 with a mark */
    const char *mark; /* "$EOF:<mark>": RDB_CONN_MARK_LEN bytes; NULL with a size */
    const char *pre;  /* bytes already read after the header line */
    size_t pre_len;
    long long timeout_ms; /* without a byte for this long, reads fail */
} rdb_conn_opts;

/* A reader of the payload on c (which stays the caller's: closing the stream
 * does not close it). pre is copied. */
void rdb_stream_conn_reader(rdb_stream *s, conn *c, const rdb_conn_opts *opts);
/* Sets the hook called while the connection has no data; without one,
 * a read that would wait fails. */
void rdb_stream_conn_set_serve(rdb_stream *s, rdb_conn_serve_fn *fn, void *priv);
/* After the loader read the whole RDB: with a mark, reads the mark and
 * checks it; with a size, checks that the RDB took exactly size bytes.
 * 0, or -1 with the stream's error set. */
int rdb_stream_conn_finish(rdb_stream *s);
/* The bytes that followed the payload (valid until the stream is closed). */
const char *rdb_stream_conn_extra(const rdb_stream *s, size_t *len);
/* Bytes received after the header, the mark included (INFO's
 * master_sync_read_bytes), and the loop_now_ms() time of the last byte. */
uint64_t rdb_stream_conn_received(const rdb_stream *s);
long long rdb_stream_conn_last_io_ms(const rdb_stream *s);

#endif
