/* backup.h: what the parts of tandem-backup share: the exit codes (a
 * contract with the scripts that run the tool, documented in --help and
 * docs/backup.md), the options of each subcommand, their entry points, and
 * the tool's message helpers (stderr, so that --json output stays clean). */
#ifndef TANDEM_BACKUP_H
#define TANDEM_BACKUP_H

#include <stdarg.h>

enum bk_exit {
    BK_EXIT_OK = 0,
    BK_EXIT_USAGE = 1,    /* bad command line */
    BK_EXIT_CONN = 2,     /* cannot connect, authentication, server refuses to sync */
    BK_EXIT_TRANSFER = 3, /* protocol violation, link cut, timeout mid-transfer */
    BK_EXIT_VERIFY = 4,   /* the RDB is not sound */
    BK_EXIT_FS = 5        /* local file system: open, write, fsync, rename */
};

typedef struct bk_pull_opts {
    const char *host;
    int port;
    const char *out;  /* the final file name */
    const char *user; /* NULL: the default user */
    const char *pass; /* NULL: no AUTH */
    int timeout_s;    /* connect, and longest silence of the server */
    int tls;          /* --tls: the connection is TLS, checked against: */
    const char *cacert, *cacertdir; /* NULL: the system's CAs */
    const char *cert, *key;         /* our client certificate, if any */
    int quiet;
    int json;
} bk_pull_opts;

int bk_pull(const bk_pull_opts *o);
int bk_verify(const char *path, int quiet);
int bk_inspect(const char *path);

/* "tandem-backup: <message>" on stderr: errors, and pull's log lines. */
void bk_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bk_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
