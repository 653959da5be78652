/* fake_conn.h: a scriptable connection type for unit tests, built on
 * net/conn_impl.h next to the socket (and TLS) types. It has no descriptor
 * and is born CONNECTED, or unconnected for a connect the test completes or
 * fails. A test queues the bytes that conn_read returns, fails reads, limits
 * or fails what writes accept, reads back what was written, and fires the
 * read and write handlers the way the socket type's loop handler does, so
 * that a handler may close its own connection. */
#ifndef TANDEM_FAKE_CONN_H
#define TANDEM_FAKE_CONN_H

#include <stddef.h>

#include "net/conn.h"

/* A connection in state CONNECTED with fd -1, writes unlimited. */
conn *fake_conn_create(loop *l);
/* A connection in state NONE for conn_connect, which records the target and
 * leaves it CONNECTING until fake_conn_connect_done. (conn_connect on a conn
 * from fake_conn_create fails.) */
conn *fake_conn_create_unconnected(loop *l);
/* The next conn_connect fails at once: -1, state ERROR, last error err. */
void fake_conn_fail_connect(conn *c, const char *err);
/* Ends a pending connect, with success (err NULL: CONNECTED) or failure
 * (ERROR, last error err), and calls the connect handler. The conn may be
 * freed by the time this returns if the handler closed it. */
void fake_conn_connect_done(conn *c, const char *err);
/* From now on conn_handshake starts a handshake (state CONNECTING) that
 * the test ends with fake_conn_handshake_done; without this call the conn
 * has none (conn_handshake returns 1), as a plain socket. */
void fake_conn_enable_handshake(conn *c);
/* Ends a pending handshake like fake_conn_connect_done ends a connect. */
void fake_conn_handshake_done(conn *c, const char *err);
/* The host and port given to conn_connect (NULL and 0 before). */
const char *fake_conn_connect_target(const conn *c, int *port);
/* Fake connections created and not yet released. */
size_t fake_conn_live(void);

/* Queues bytes for conn_read; an empty queue reads as CONN_AGAIN. */
void fake_conn_feed(conn *c, const void *p, size_t len);
/* Once the queue is drained, conn_read returns 0 (state CLOSED). */
void fake_conn_feed_eof(conn *c);
/* Queued bytes that conn_read has not returned yet. */
size_t fake_conn_unread(const conn *c);
/* From now on reads fail: CONN_ERR, state ERROR, last error err. */
void fake_conn_fail_reads(conn *c, const char *err);

/* Writes accept at most this many more bytes in total, then return
 * CONN_AGAIN; SIZE_MAX means unlimited. */
void fake_conn_set_write_budget(conn *c, size_t bytes);
/* From now on writes fail: CONN_ERR, state ERROR, last error err. */
void fake_conn_fail_writes(conn *c, const char *err);

/* The bytes written so far (not NUL-terminated), and clearing them. */
const char *fake_conn_written(const conn *c, size_t *len);
void fake_conn_clear_written(conn *c);

/* The events the conn asked for on its last update: LOOP_READABLE,
 * LOOP_WRITABLE and LOOP_BARRIER bits. */
int fake_conn_events(const conn *c);

/* Calls the read and/or write handler for mask (LOOP_READABLE,
 * LOOP_WRITABLE), write first under the barrier flag. The conn may be freed
 * by the time this returns if a handler closed it. */
void fake_conn_fire(conn *c, int mask);

#endif
