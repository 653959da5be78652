/* resp_parse.h: the resumable request parser. Turns the bytes a client sends
 * (multibulk "*<n>\r\n$<len>\r\n<data>\r\n..." or inline "cmd arg \"q\"\n")
 * into argument vectors. Bytes may arrive split at any point: the parser keeps
 * its state between calls. It never consumes an incomplete line (the caller
 * keeps the unconsumed tail), but it does consume partial bulk data into the
 * argument being built, so a large argument is never held twice.
 * A leaf: limits come in as parameters, errors as Redis's texts. */
#ifndef TANDEM_RESP_PARSE_H
#define TANDEM_RESP_PARSE_H

#include <stddef.h>

#include "core/str.h"

#define RESP_PARSE_OK 0    /* a whole command is ready: take it */
#define RESP_PARSE_AGAIN 1 /* everything usable was consumed, need more bytes */
#define RESP_PARSE_ERR 2   /* protocol error, text in parser->error */

#define RESP_INLINE_MAX (64 * 1024) /* longest inline or length line */

typedef struct resp_limits {
    long long max_bulk_len;  /* proto-max-bulk-len */
    long long max_multibulk; /* largest accepted element count */
} resp_limits;

/* Before AUTH, when a password is required, requests are held much shorter
 * (Redis's limits), so that a stranger cannot make the server buffer much. */
#define RESP_UNAUTH_MULTIBULK_MAX 10
#define RESP_UNAUTH_BULK_MAX 16384

typedef struct resp_parser {
    const resp_limits *limits; /* shared and live: CONFIG SET applies at once */
    int unauthenticated;       /* the caller sets it: apply the limits above */
    int kind;              /* 0 none yet, 1 multibulk, 2 inline */
    long long multibulk;   /* elements still expected */
    long long bulk_len;    /* -1 when waiting for a $ line */
    int argc, argv_cap;
    str *argv;             /* arguments parsed so far */
    str bulk;              /* the argument being read, NULL if none */
    size_t pending;        /* bytes in argv and bulk of this command */
    const char *error;     /* set when RESP_PARSE_ERR was returned */
    char error_buf[128];
} resp_parser;

/* limits must outlive the parser. */
void resp_parser_init(resp_parser *p, const resp_limits *limits);
/* Frees the arguments of a command in progress. */
void resp_parser_free(resp_parser *p);

/* Parses from buf[*pos] up to buf[len]; advances *pos past what it consumed.
 * On RESP_PARSE_OK, take the command with resp_parser_take(). */
int resp_parse(resp_parser *p, const char *buf, size_t len, size_t *pos);

/* Hands over the finished argument vector (caller frees each str and the
 * array with tfree) and readies the parser for the next command. */
str *resp_parser_take(resp_parser *p, int *argc);

/* Reading a big argument straight into it, with no copy through the query
 * buffer: when the argument being read was announced at min_big bytes or
 * more and still misses data, makes room for up to max of its bytes, sets
 * *dst there and returns how many may be written (0 otherwise). The room
 * grows with what has arrived, never straight to the announced length.
 * resp_parser_bulk_commit() then counts the n bytes that were written. */
size_t resp_parser_bulk_room(resp_parser *p, size_t min_big, size_t max, char **dst);
void resp_parser_bulk_commit(resp_parser *p, size_t n);

/* Bytes held in partially built arguments (for the query-buffer limit). */
size_t resp_parser_pending_bytes(const resp_parser *p);

/* True between commands (nothing partial held). */
int resp_parser_idle(const resp_parser *p);

/* Splits a line the way redis-cli and inline commands do: spaces separate,
 * "..." with \n \r \t \b \a \\ \" \xHH escapes, '...' with \' only.
 * Returns an array of strs (tfree it and each element) or NULL on
 * unbalanced quotes. Used by the inline parser and the config file. */
str *resp_split_args(const char *line, size_t len, int *argc);
void resp_free_args(str *argv, int argc);

#endif
