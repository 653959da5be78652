/* pull.c: `tandem-backup pull`: a snapshot of a live server taken over the
 * replication protocol, as a replica would. The steps, each with its exit
 * code when it fails (backup.h):
 *
 *   open FILE.tmp ........................................ 5 file system
 *   connect, AUTH, PING, REPLCONF capa eof, REPLCONF rdb-only 1
 *   (a server without rdb-only is fine), PSYNC ? -1 ...... 2 connection
 *   the bulk header ($<len> or $EOF:<mark>, after keep-alive newlines)
 *   and the payload into FILE.tmp ........................ 3 transfer
 *   (a write that fails ................................... 5 file system)
 *   the whole file through the loader, fsync ............. 4 verification
 *   rename FILE.tmp to FILE, fsync the folder ............ 5 file system
 *
 * The verification runs in a second thread during the transfer: it reads
 * FILE.tmp back behind the writer (follow.h) with the loader, so a pull
 * costs the transfer's time rather than the transfer's plus a re-read of the
 * file, and garbage stops the transfer as soon as the loader sees it. The
 * rename waits for both the fsync and the loader's verdict on the whole
 * file, checksum included.
 *
 * Replies that are not RESP at all count as transfer (protocol) errors. On
 * every way out before the rename FILE.tmp is removed, so FILE is either
 * the previous file or a complete, verified new one. FILE.tmp is locked
 * (flock) from its creation to the end, so a second pull to the same FILE
 * fails (5) instead of writing into it; a FILE.tmp left by a killed pull is
 * simply taken over. A server without PSYNC gets SYNC, as from redis-cli.
 * SIGINT and SIGTERM stop the pull through the same path. The connection is
 * made by pull_new_conn: TLS under --tls, plain TCP otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"
#include "net/resp_write.h"
#include "net/tls.h"
#include "rdb/format.h"
#include "tools/backup/backup.h"
#include "tools/backup/check.h"
#include "tools/backup/follow.h"
#include "tools/backup/progress.h"
#include "tools/backup/wire.h"

#define PULL_CHUNK (256 * 1024)
#define PULL_SHOWN 128

typedef unsigned long long ull;

typedef struct pull {
    const bk_pull_opts *o;
    bk_wire w;
    bk_progress prog;
    str tmp;          /* FILE.tmp */
    int fd;
    int tmp_busy;     /* FILE.tmp belongs to another pull: leave it */
    int rdb_only;     /* the server accepted REPLCONF rdb-only 1 */
    int use_mark;     /* $EOF:<mark> framing */
    proto_mark_scan mark;
    long long size;   /* $<len> framing: payload bytes */
    long long got;    /* bytes written to FILE.tmp (the mark included) */
    char replid[PROTO_REPLID_LEN + 1];
    long long offset;
    long long start_ms;
    /* The verifier thread. */
    bk_follow follow;
    bk_check check;
    pthread_t verifier;
    int verifier_on;
    int verify_rc;
    int verify_done; /* atomic: the thread has finished */
    int crc_ok;      /* the follower's CRC-64 and the file's last 8 bytes */
    uint64_t crc, crc_stored;
} pull;

static pull *pull_active; /* for the signal handler */

static void pull_on_signal(int sig)
{
    (void)sig;
    if (pull_active) pull_active->w.stop = 1;
}

static void pull_log(const pull *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pull_log(const pull *p, const char *fmt, ...)
{
    if (p->o->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    bk_verror(fmt, ap);
    va_end(ap);
}

/* Prints the reason and returns the exit code. */
static int pull_fail(pull *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pull_fail(pull *p, int code, const char *fmt, ...)
{
    bk_progress_break(&p->prog);
    va_list ap;
    va_start(ap, fmt);
    bk_verror(fmt, ap);
    va_end(ap);
    return code;
}

/* The connection to the server: TLS with the context built from
 * --cacert/--cert/--key (priv) under --tls, plain TCP otherwise. */
static conn *pull_new_conn(loop *l, void *priv)
{
    tls_context *ctx = priv;
    return ctx ? conn_create_tls(l, ctx) : conn_create_socket(l);
}

/* --tls: the client context, or NULL with *err. */
static tls_context *pull_tls_context(const bk_pull_opts *o, str *err)
{
    tls_options t = {.ca_file = o->cacert,
                     .ca_dir = o->cacertdir,
                     .cert_file = o->cert,
                     .key_file = o->key,
                     .handshake_timeout_ms = (long long)o->timeout_s * 1000};
    return tls_context_new_client(&t, err);
}

/* ------------------------------------------------------------ handshake */

/* Sends cmd (consumed) and reads one reply line into r and shown. 0, or an
 * exit code. */
static int pull_ask(pull *p, str cmd, proto_reply *r, char *shown)
{
    int rc = bk_wire_send(&p->w, cmd);
    str_free(cmd);
    const char *line;
    size_t len;
    if (rc == 0) rc = bk_wire_line(&p->w, &line, &len);
    if (rc < 0) return pull_fail(p, BK_EXIT_CONN, "%s", p->w.err);
    proto_printable(shown, PULL_SHOWN, line, len);
    proto_parse_reply(line, len, r);
    return 0;
}

/* The exit code for a reply that is not the expected one. */
static int pull_refused(pull *p, const char *step, const proto_reply *r, const char *shown)
{
    switch (r->type) {
    case PROTO_REPLY_NOAUTH:
        return pull_fail(p, BK_EXIT_CONN, "%s: authentication required or refused: %s "
                         "(give --user/--pass or REDISCLI_AUTH)", step, shown);
    case PROTO_REPLY_LOADING:
        return pull_fail(p, BK_EXIT_CONN, "%s: the server is loading its dataset, try later: %s",
                         step, shown);
    case PROTO_REPLY_NOMASTERLINK:
        return pull_fail(p, BK_EXIT_CONN, "%s: the server is a replica without a link to its "
                         "primary, try later: %s", step, shown);
    case PROTO_REPLY_ERROR:
        return pull_fail(p, BK_EXIT_CONN, "%s: the server refused: %s", step, shown);
    case PROTO_REPLY_INVALID:
        return pull_fail(p, BK_EXIT_TRANSFER, "%s: protocol error, the server's reply is not "
                         "RESP: '%s' (is this a tandem or Redis server?)", step, shown);
    default:
        return pull_fail(p, BK_EXIT_TRANSFER, "%s: unexpected reply '%s'", step, shown);
    }
}

static int pull_auth(pull *p)
{
    proto_reply r;
    char shown[PULL_SHOWN];
    int rc = pull_ask(p, proto_auth(str_empty(), p->o->user, p->o->pass), &r, shown);
    if (rc) return rc;
    if (r.type == PROTO_REPLY_OK) return 0;
    if (r.type == PROTO_REPLY_ERROR && strstr(shown, "without any password configured")) {
        pull_log(p, "warning: the server has no password: %s", shown);
        return 0;
    }
    if (r.type == PROTO_REPLY_ERROR) r.type = PROTO_REPLY_NOAUTH; /* -WRONGPASS and alike */
    return pull_refused(p, "AUTH", &r, shown);
}

/* SYNC, for a server without PSYNC (as redis-cli --rdb always does): the
 * RDB follows at once, with no +FULLRESYNC line (the ID and offset then
 * come from the RDB's aux fields). */
static int pull_sync(pull *p)
{
    const char *argv[] = {"SYNC"};
    const size_t lens[] = {4};
    str cmd = resp_add_command(str_empty(), 1, argv, lens);
    int rc = bk_wire_send(&p->w, cmd);
    str_free(cmd);
    if (rc < 0) return pull_fail(p, BK_EXIT_CONN, "%s", p->w.err);
    pull_log(p, "the server has no PSYNC: SYNC sent");
    return 0;
}

static int pull_handshake(pull *p)
{
    proto_reply r;
    char shown[PULL_SHOWN];
    int rc = p->o->pass ? pull_auth(p) : 0;
    if (rc) return rc;
    if ((rc = pull_ask(p, proto_ping(str_empty()), &r, shown))) return rc;
    if (r.type != PROTO_REPLY_PONG) return pull_refused(p, "PING", &r, shown);
    if ((rc = pull_ask(p, proto_replconf_capa(str_empty()), &r, shown))) return rc;
    if (r.type != PROTO_REPLY_OK) return pull_refused(p, "REPLCONF capa", &r, shown);
    if ((rc = pull_ask(p, proto_replconf(str_empty(), "rdb-only", "1"), &r, shown))) return rc;
    p->rdb_only = r.type == PROTO_REPLY_OK;
    if (r.type == PROTO_REPLY_INVALID) return pull_refused(p, "REPLCONF rdb-only", &r, shown);
    if (!p->rdb_only) pull_log(p, "the server does not take REPLCONF rdb-only (%s): going on", shown);
    if ((rc = pull_ask(p, proto_psync(str_empty(), NULL, -1), &r, shown))) return rc;
    if (r.type == PROTO_REPLY_ERROR && strstr(shown, "unknown command")) return pull_sync(p);
    if (r.type != PROTO_REPLY_FULLRESYNC) return pull_refused(p, "PSYNC", &r, shown);
    memcpy(p->replid, r.replid, sizeof(p->replid));
    p->offset = r.offset;
    pull_log(p, "full resync from replication ID %s offset %lld", p->replid, p->offset);
    return 0;
}

/* ------------------------------------------------------------ verifier */

static void *pull_verifier_main(void *arg)
{
    pull *p = arg;
    alloc_mark_background_thread(); /* its own allocation counter */
    p->verify_rc = bk_check_stream(&p->check, &p->follow.s, p->tmp);
    __atomic_store_n(&p->verify_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Starts the loader on FILE.tmp, behind the writer. Signals stay with the
 * main thread. */
static int pull_verifier_start(pull *p)
{
    uint64_t limit = p->use_mark ? UINT64_MAX : (uint64_t)p->size;
    if (bk_follow_open(&p->follow, p->tmp, limit) < 0)
        return pull_fail(p, BK_EXIT_FS, "opening %s: %s", p->tmp, strerror(errno));
    p->check.bytes = UINT64_MAX;
    p->check.own_crc = 1;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&p->verifier, NULL, pull_verifier_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        bk_follow_close(&p->follow);
        return pull_fail(p, BK_EXIT_FS, "starting the verifier: %s", strerror(rc));
    }
    p->verifier_on = 1;
    return 0;
}

/* Waits for the verifier (stopping it first unless the file is whole). */
static void pull_verifier_join(pull *p, int stop)
{
    if (!p->verifier_on) return;
    if (stop) bk_follow_stop(&p->follow);
    pthread_join(p->verifier, NULL);
    p->crc_ok = bk_follow_crc(&p->follow, &p->crc, &p->crc_stored) == 0;
    bk_follow_close(&p->follow);
    p->verifier_on = 0;
}

/* The checksum, as the loader would check it: the follower's CRC-64 of
 * everything before the last 8 bytes of a file that ends with the RDB
 * (stored 0: saved with rdbchecksum no). */
static int pull_checksum(pull *p)
{
    bk_check *c = &p->check;
    if (c->info.version < RDB_VERSION_CHECKSUM || (p->crc_ok && p->crc_stored == 0)) return 0;
    if (p->crc_ok && p->crc == p->crc_stored) return 0;
    c->err = str_cat_fmt(str_empty(),
                         "Wrong RDB checksum expected: (%llx) but got (%llx) at offset %llu",
                         (ull)p->crc, (ull)p->crc_stored, (ull)(c->end - RDB_CHECKSUM_LEN));
    return -1;
}

/* The loader's verdict on the whole file. */
static int pull_verdict(pull *p)
{
    pull_verifier_join(p, 0);
    bk_check *c = &p->check;
    c->bytes = (uint64_t)p->got;
    if (p->verify_rc == 0 && bk_check_size(c) == 0 && pull_checksum(p) == 0) return 0;
    return pull_fail(p, c->err_fs ? BK_EXIT_FS : BK_EXIT_VERIFY,
                     "the received RDB failed verification, nothing saved: %s", c->err);
}

/* ------------------------------------------------------------ transfer */

static int pull_header(pull *p)
{
    const char *line;
    size_t len;
    char shown[PULL_SHOWN];
    proto_bulk b;
    if (bk_wire_line(&p->w, &line, &len) < 0)
        return pull_fail(p, BK_EXIT_TRANSFER, "waiting for the RDB: %s", p->w.err);
    proto_printable(shown, sizeof(shown), line, len);
    switch (proto_parse_bulk(line, len, &b)) {
    case PROTO_BULK_ERROR:
        return pull_fail(p, BK_EXIT_TRANSFER, "the server aborted the transfer: %s", shown);
    case PROTO_BULK_INVALID:
        return pull_fail(p, BK_EXIT_TRANSFER, "protocol error: bad RDB header from the server: '%s'",
                         shown);
    case PROTO_BULK_EOF:
        p->use_mark = 1;
        proto_mark_init(&p->mark, b.mark);
        pull_log(p, "receiving a streamed RDB (end-marked)");
        break;
    case PROTO_BULK_LEN:
        p->size = b.len;
        pull_log(p, "receiving %lld bytes", b.len);
        break;
    }
    return 0;
}

static int pull_write(pull *p, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(p->fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return pull_fail(p, BK_EXIT_FS, "writing %s: %s", p->tmp,
                             w < 0 ? strerror(errno) : "no progress");
        buf += w;
        n -= (size_t)w;
        p->got += w;
    }
    return 0;
}

static void pull_tick(void *priv)
{
    pull *p = priv;
    bk_progress_update(&p->prog, p->got);
}

/* The payload, whole, into FILE.tmp (the end mark cut off). */
static int pull_payload(pull *p)
{
    static char buf[PULL_CHUNK];
    bk_progress_start(&p->prog, p->use_mark ? -1 : p->size);
    p->w.tick = pull_tick;
    p->w.tick_priv = p;
    for (;;) {
        size_t cap = sizeof(buf);
        if (!p->use_mark && p->size - p->got < (long long)cap) cap = (size_t)(p->size - p->got);
        if (cap == 0) break;
        ssize_t n = bk_wire_read(&p->w, buf, cap);
        if (n == 0)
            return pull_fail(p, BK_EXIT_TRANSFER,
                             "the server closed the connection after %lld bytes of the RDB", p->got);
        if (n < 0)
            return pull_fail(p, BK_EXIT_TRANSFER, "after %lld bytes of the RDB: %s", p->got,
                             p->w.err);
        long long upto = p->use_mark ? proto_mark_feed(&p->mark, buf, (size_t)n) : -1;
        if (pull_write(p, buf, upto >= 0 ? (size_t)upto : (size_t)n)) return BK_EXIT_FS;
        bk_progress_update(&p->prog, p->got);
        if (upto >= 0) break;
        /* The bytes that may be the start of the end mark are held back. */
        long long safe = p->use_mark ? p->got - PROTO_MARK_LEN : p->got;
        if (safe > 0) bk_follow_publish(&p->follow, (uint64_t)safe, 0);
        if (__atomic_load_n(&p->verify_done, __ATOMIC_ACQUIRE) && p->verify_rc < 0)
            return pull_verdict(p);
    }
    p->w.tick = NULL;
    if (p->use_mark) {
        p->got -= PROTO_MARK_LEN;
        if (ftruncate(p->fd, p->got) < 0)
            return pull_fail(p, BK_EXIT_FS, "truncating %s: %s", p->tmp, strerror(errno));
    }
    bk_follow_publish(&p->follow, (uint64_t)p->got, 1);
    bk_progress_update(&p->prog, p->got);
    bk_progress_end(&p->prog);
    return 0;
}

/* ------------------------------------------------------------ the file */

/* Creates FILE.tmp, or takes over one that a killed pull left, but never
 * one that a running pull holds (its lock). */
static int pull_open_tmp(pull *p)
{
    p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (p->fd < 0) return pull_fail(p, BK_EXIT_FS, "creating %s: %s", p->tmp, strerror(errno));
    if (flock(p->fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        close(p->fd);
        p->fd = -1;
        p->tmp_busy = 1;
        return pull_fail(p, BK_EXIT_FS, "%s: %s", p->tmp,
                         err == EWOULDBLOCK ? "another pull to the same file is running"
                                            : strerror(err));
    }
    if (ftruncate(p->fd, 0) < 0)
        return pull_fail(p, BK_EXIT_FS, "truncating %s: %s", p->tmp, strerror(errno));
    return 0;
}

/* fsync; the descriptor stays open (and locked) until the pull ends. */
static int pull_seal(pull *p)
{
    if (fsync(p->fd) < 0) return pull_fail(p, BK_EXIT_FS, "fsync %s: %s", p->tmp, strerror(errno));
    return 0;
}

static int pull_rename(pull *p)
{
    if (rename(p->tmp, p->o->out) < 0)
        return pull_fail(p, BK_EXIT_FS, "renaming %s to %s: %s", p->tmp, p->o->out, strerror(errno));
    str dir = str_new(p->o->out);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : fsync(fd);
    int saved = errno;
    if (fd >= 0) close(fd);
    str_free(dir);
    if (rc < 0)
        return pull_fail(p, BK_EXIT_FS, "%s is in place but its folder could not be synced: %s",
                         p->o->out, strerror(saved));
    return 0;
}

/* ------------------------------------------------------------ summary */

static void pull_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void pull_summary(pull *p, const bk_check *c, double secs)
{
    /* The +FULLRESYNC line names the source; the aux fields are the fallback. */
    const char *replid = p->replid[0] ? p->replid : c->info.aux.repl_id;
    long long offset = p->replid[0] ? p->offset : c->info.aux.repl_offset;
    pull_log(p, "saved %s: %llu bytes, %lld keys, %.3f s", p->o->out, (ull)c->bytes, c->keys, secs);
    if (!p->o->json) return;
    printf("{\"file\": ");
    pull_json_string(p->o->out);
    printf(", \"source\": ");
    pull_json_string(p->o->host);
    printf(", \"port\": %d, \"bytes\": %llu, \"seconds\": %.3f, \"rdb_version\": %d", p->o->port,
           (ull)c->bytes, secs, c->info.version);
    if (c->has_checksum)
        printf(", \"checksum\": \"%016llx\"", (ull)c->checksum);
    else
        printf(", \"checksum\": null");
    printf(", \"framing\": \"%s\", \"rdb_only\": %s", p->use_mark ? "eof" : "length",
           p->rdb_only ? "true" : "false");
    printf(", \"replid\": ");
    pull_json_string(replid);
    printf(", \"offset\": %lld, \"keys_total\": %lld, \"keys\": {", offset, c->keys);
    for (int i = 0; i < c->ndbs; i++)
        printf("%s\"%llu\": %lld", i ? ", " : "", (ull)c->dbs[i].db, c->dbs[i].keys);
    printf("}}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ the steps */

static int pull_run(pull *p)
{
    const bk_pull_opts *o = p->o;
    tls_context *tls = NULL;
    if (o->tls) {
        str err = NULL;
        tls = pull_tls_context(o, &err);
        if (!tls) {
            bk_error("TLS: %s", err ? err : "cannot build the context");
            str_free(err);
            return BK_EXIT_CONN;
        }
    }
    if (pull_open_tmp(p)) {
        tls_context_free(tls);
        return BK_EXIT_FS;
    }
    int opened = bk_wire_open(&p->w, o->host, o->port, (long long)o->timeout_s * 1000,
                              pull_new_conn, tls);
    tls_context_free(tls); /* the connection keeps its reference */
    if (opened < 0) return pull_fail(p, BK_EXIT_CONN, "%s", p->w.err);
    pull_log(p, "connected to %s:%d", o->host, o->port);
    int rc = pull_handshake(p);
    if (!rc) rc = pull_header(p);
    if (!rc) rc = pull_verifier_start(p);
    if (!rc) rc = pull_payload(p);
    bk_wire_close(&p->w);
    if (!rc) rc = pull_seal(p);
    if (!rc) rc = pull_verdict(p);
    if (!rc) rc = pull_rename(p);
    if (!rc) pull_summary(p, &p->check, (double)(loop_now_ms() - p->start_ms) / 1000.0);
    return rc;
}

int bk_pull(const bk_pull_opts *o)
{
    pull p = {.o = o, .fd = -1, .offset = -1};
    p.start_ms = loop_now_ms();
    p.tmp = str_cat_fmt(str_empty(), "%s.tmp", o->out);
    bk_progress_init(&p.prog, o->quiet);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit: write fails with EFBIG instead */
    pull_active = &p;
    struct sigaction sa = {.sa_handler = pull_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = pull_run(&p);
    pull_verifier_join(&p, 1);
    bk_check_free(&p.check);
    bk_wire_close(&p.w);
    if (rc && !p.tmp_busy) unlink(p.tmp); /* still locked: nobody else's yet */
    if (p.fd >= 0) close(p.fd);
    pull_active = NULL;
    str_free(p.tmp);
    return rc;
}
