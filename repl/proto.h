/* proto.h: the replica link's wire protocol as pure functions: builders of
 * the handshake commands (PING, AUTH, REPLCONF, PSYNC, the ACK), a parser of
 * one reply line (+PONG, +OK, +FULLRESYNC, +CONTINUE, -NOMASTERLINK, -LOADING,
 * other errors), a parser of the bulk header that precedes the RDB ("$<len>"
 * or "$EOF:<mark>"), a scanner that finds the 40-byte end mark in a stream
 * fed in pieces, and a resumable line reader. A leaf (T0): no connection, no
 * clock, no server state; bytes in, results out. */
#ifndef TANDEM_REPL_PROTO_H
#define TANDEM_REPL_PROTO_H

#include <stddef.h>

#include "core/str.h"

#define PROTO_REPLID_LEN 40 /* replication IDs: 40 hex characters */
#define PROTO_MARK_LEN 40   /* the "$EOF:" mark of a diskless transfer */
#define PROTO_LINE_MAX 4096 /* longest reply or header line accepted */

/* Results of the resumable calls. */
#define PROTO_OK 0
#define PROTO_AGAIN 1
#define PROTO_ERR (-1)

/* ------------------------------------------------------------ builders */

/* Each appends one RESP multibulk command to s and returns s. */
str proto_ping(str s);
/* AUTH pass, or AUTH user pass when user is non-empty. */
str proto_auth(str s, const char *user, const char *pass);
/* REPLCONF option value (listening-port, ip-address). */
str proto_replconf(str s, const char *option, const char *value);
/* REPLCONF capa eof capa psync2. */
str proto_replconf_capa(str s);
/* PSYNC replid offset, or PSYNC ? -1 when replid is NULL. */
str proto_psync(str s, const char *replid, long long offset);
/* REPLCONF ACK offset. */
str proto_ack(str s, long long offset);

/* ------------------------------------------------------------- replies */

enum proto_reply_type {
    PROTO_REPLY_INVALID = 0,  /* neither "+..." nor "-...", or a bad +FULLRESYNC */
    PROTO_REPLY_PONG,         /* +PONG */
    PROTO_REPLY_OK,           /* +OK */
    PROTO_REPLY_STATUS,       /* any other +status */
    PROTO_REPLY_FULLRESYNC,   /* +FULLRESYNC <replid> <offset> */
    PROTO_REPLY_CONTINUE,     /* +CONTINUE [<new replid>] */
    PROTO_REPLY_NOAUTH,       /* -NOAUTH, -NOPERM, -ERR operation not permitted */
    PROTO_REPLY_NOMASTERLINK, /* -NOMASTERLINK ... */
    PROTO_REPLY_LOADING,      /* -LOADING ... */
    PROTO_REPLY_ERROR         /* any other -error */
};

typedef struct proto_reply {
    enum proto_reply_type type;
    /* FULLRESYNC: the primary's ID; CONTINUE: the new ID, or "" when the
     * reply carries none (the ID did not change). */
    char replid[PROTO_REPLID_LEN + 1];
    long long offset; /* FULLRESYNC: the offset the RDB stands for */
} proto_reply;

/* Parses one reply line without its CRLF. Returns the type (also in *r). */
enum proto_reply_type proto_parse_reply(const char *line, size_t len, proto_reply *r);

/* --------------------------------------------------------- bulk header */

enum proto_bulk_type {
    PROTO_BULK_INVALID = 0, /* not a bulk header (the first byte is not '$') */
    PROTO_BULK_LEN,         /* $<len>: len payload bytes follow */
    PROTO_BULK_EOF,         /* $EOF:<mark>: payload, then the mark */
    PROTO_BULK_ERROR        /* -error: the primary aborted the transfer */
};

typedef struct proto_bulk {
    enum proto_bulk_type type;
    long long len;             /* PROTO_BULK_LEN */
    char mark[PROTO_MARK_LEN]; /* PROTO_BULK_EOF (not NUL-terminated) */
} proto_bulk;

/* Parses the header line without its CRLF. Returns the type (also in *b). */
enum proto_bulk_type proto_parse_bulk(const char *line, size_t len, proto_bulk *b);

/* ------------------------------------------------------ end-mark scanner */

/* Finds the first occurrence of the mark in a stream fed in pieces of any
 * size; a mark split across pieces is found too. */
typedef struct proto_mark_scan {
    char mark[PROTO_MARK_LEN];
    char tail[PROTO_MARK_LEN - 1]; /* the last bytes fed, up to 39 */
    size_t tail_len;
} proto_mark_scan;

void proto_mark_init(proto_mark_scan *m, const char mark[PROTO_MARK_LEN]);
/* Feeds n bytes. Returns -1 while the mark is incomplete, else the number of
 * bytes of p up to and including the mark's last byte (bytes after it are not
 * part of the stream). */
long long proto_mark_feed(proto_mark_scan *m, const char *p, size_t n);

/* --------------------------------------------------------- line reader */

/* Turns bytes into lines, resumably: a line may arrive split at any byte.
 * Lines end in "\n" (a "\r" before it is dropped). Empty lines are the
 * keep-alives a primary sends while it prepares the RDB, and are skipped. */
typedef struct proto_lines {
    str buf; /* buffered bytes; those before pos were taken */
    size_t pos;
    size_t max_line; /* longest line accepted, without its terminator */
} proto_lines;

void proto_lines_init(proto_lines *r, size_t max_line);
void proto_lines_free(proto_lines *r);
void proto_lines_feed(proto_lines *r, const char *p, size_t n);
/* PROTO_OK with the next non-empty line (valid until the next feed, clear
 * or free), PROTO_AGAIN when no complete line is buffered, PROTO_ERR when a
 * line is longer than max_line. */
int proto_lines_next(proto_lines *r, const char **line, size_t *len);
/* The bytes buffered after the lines taken (the start of what follows). */
const char *proto_lines_rest(const proto_lines *r, size_t *len);
/* Drops every buffered byte. */
void proto_lines_clear(proto_lines *r);

/* --------------------------------------------------------------- misc */

/* Copies p into dst (cap > 0) for a log line: NUL-terminated, unprintable
 * bytes as '?', cut at cap - 1 bytes. Returns dst. */
char *proto_printable(char *dst, size_t cap, const char *p, size_t n);

#endif
