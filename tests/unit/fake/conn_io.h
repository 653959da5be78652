/* conn_io.h: what the connection suites (test_conn_socket.c,
 * test_conn_tls.c) share: a free loopback port, and handlers that echo,
 * collect what arrives and push a buffer through CONN_AGAIN, all working on
 * one state (cio) that a suite resets before each test. */
#ifndef TANDEM_CONN_IO_H
#define TANDEM_CONN_IO_H

#include <stddef.h>

#include "core/str.h"
#include "net/conn.h"

typedef struct conn_io {
    str in;                    /* what conn_io_collect read */
    size_t piece;              /* bytes per read of conn_io_collect */
    int eof;                   /* conn_io_collect saw the end of stream */
    enum conn_state eof_state; /* the conn's state then */
    str out;                   /* what conn_io_push writes (NULL: nothing) */
    size_t out_off;            /* bytes of out written */
    int saw_again;             /* a write met CONN_AGAIN */
} conn_io;

extern conn_io cio;

/* in empty, out NULL, pieces of 64 KB; conn_io_free releases both. */
void conn_io_reset(void);
void conn_io_free(void);
/* A port that was free on 127.0.0.1 a moment ago. */
int conn_io_free_port(void);

/* One read of up to cio.piece bytes into cio.in; at the end of stream
 * notes it and removes the read handler. */
void conn_io_collect(conn *c);
/* Writes back what one read returns. */
void conn_io_echo(conn *c);
/* Writes cio.out from cio.out_off; on CONN_AGAIN installs itself as the
 * write handler, and removes it once everything is written. */
void conn_io_push(conn *c);

#endif
