/* child.c: the one owner of fork() and waitpid() (see child.h). One
 * background child at a time. The child runs its body and never returns to
 * the event loop, so it serves no client even though it keeps every
 * descriptor of the parent; it exits with the body's return value through
 * _exit(), so no atexit handler or stdio buffer of the parent runs twice.
 * Progress and copy-on-write bytes travel from the child to the parent as
 * fixed-size records on a nonblocking pipe; the parent reads them in
 * child_poll(), which the cron calls every tick, and which reaps the child
 * with waitpid(WNOHANG) and calls the done handler of its type once.
 *
 * Rule zero (STYLE.md 4b): this T1 file includes core/db.h (T2) for one
 * process-wide switch, db_set_resize_allowed(): while a child shares the
 * parent's pages, resizing the hash tables would copy them all. */
#define _GNU_SOURCE /* pipe2 */
#include "rdb/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/db.h"
#include "core/log.h"

/* The child reports at most this often while it works. */
#define CHILD_REPORT_INTERVAL_MS 1000

enum { CHILD_RECORD_PROGRESS = 1, CHILD_RECORD_FINAL };

/* One message on the pipe: smaller than PIPE_BUF, so each write is atomic. */
typedef struct child_record {
    int kind;
    long long keys_done;
    size_t cow_bytes;
} child_record;

static struct {
    enum child_type type;
    pid_t pid;
    int pipe_rd, pipe_wr;           /* parent's end, child's end (-1 closed) */
    unsigned char partial[sizeof(child_record)];
    size_t partial_len;             /* bytes of an incomplete record read */
    int final_seen;
    child_done_fn *done[CHILD_TYPES];
    void *done_priv[CHILD_TYPES];
    void (*after_fork)(void);
    int held; /* child_hold: no new child */
    child_stats stats;
    /* In the child only. */
    long long last_report_ms;
    size_t cow_peak;
    unsigned long long cow_sum, cow_samples;
} child = {.pid = -1, .pipe_rd = -1, .pipe_wr = -1};

static long long child_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *child_type_name(enum child_type type)
{
    switch (type) {
    case CHILD_RDB: return "rdb";
    case CHILD_REPL: return "repl";
    default: return "none";
    }
}

void child_set_done_handler(enum child_type type, child_done_fn *done, void *priv)
{
    if (type <= CHILD_NONE || type >= CHILD_TYPES) return;
    child.done[type] = done;
    child.done_priv[type] = priv;
}

void child_set_after_fork_hook(void (*fn)(void)) { child.after_fork = fn; }

void child_hold(int held) { child.held = held; }

enum child_type child_running(void) { return child.type; }
pid_t child_pid(void) { return child.pid; }
child_stats *child_get_stats(void) { return &child.stats; }

/* ---------- in the child ---------- */

/* The sum of the Private_Dirty fields of the process's mappings: the pages
 * the child has copied (or dirtied) since the fork. smaps_rollup holds the
 * same sum precomputed; smaps is the fallback on older kernels. */
static size_t child_private_dirty(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[256];
    size_t total = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long kb;
        if (sscanf(line, "Private_Dirty: %llu kB", &kb) == 1) total += (size_t)kb * 1024;
    }
    fclose(f);
    return total;
}

static void child_send(int kind, long long keys_done, size_t cow)
{
    if (child.pipe_wr == -1) return;
    child_record r;
    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.keys_done = keys_done;
    r.cow_bytes = cow;
    /* Nonblocking: a full pipe drops the report rather than stall the save. */
    ssize_t n;
    do {
        n = write(child.pipe_wr, &r, sizeof(r));
    } while (n == -1 && errno == EINTR);
}

static size_t child_sample_cow(void)
{
    size_t cow = child_private_dirty();
    if (cow > child.cow_peak) child.cow_peak = cow;
    child.cow_sum += cow;
    child.cow_samples++;
    return cow;
}

void child_report(long long keys_done)
{
    if (child.pipe_wr == -1) return;
    long long now = child_now_us() / 1000;
    if (child.last_report_ms && now - child.last_report_ms < CHILD_REPORT_INTERVAL_MS) return;
    child.last_report_ms = now;
    child_send(CHILD_RECORD_PROGRESS, keys_done, child_sample_cow());
}

/* The last report, once the body succeeded, with Redis's log line. */
static void child_send_final(enum child_type type)
{
    size_t cow = child_sample_cow();
    log_msg(LOG_NOTICE, "Fork CoW for %s: current %zu MB, peak %zu MB, average %llu MB",
            type == CHILD_RDB || type == CHILD_REPL ? "RDB" : child_type_name(type), cow >> 20,
            child.cow_peak >> 20, (child.cow_sum / child.cow_samples) >> 20);
    child_send(CHILD_RECORD_FINAL, 0, cow);
}

static void child_run(enum child_type type, child_body_fn *body, void *priv)
{
    log_set_role('C');
    if (child.after_fork) child.after_fork();
    /* The parent's shutdown handlers mean nothing here: SIGTERM and SIGINT
     * end the child, and SIGUSR1 is how the parent ends it (child_kill). */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    if (child.pipe_rd != -1) close(child.pipe_rd);
    child.pipe_rd = -1;
    child.last_report_ms = 0;
    child.cow_peak = 0;
    child.cow_sum = child.cow_samples = 0;
    int code = body(priv);
    if (code == 0) child_send_final(type);
    _exit(code);
}

/* ---------- in the parent ---------- */

static void child_close_pipe(void)
{
    if (child.pipe_rd != -1) close(child.pipe_rd);
    if (child.pipe_wr != -1) close(child.pipe_wr);
    child.pipe_rd = child.pipe_wr = -1;
    child.partial_len = 0;
}

/* Opens the pipe, nonblocking at both ends. Without it the child still runs,
 * only unheard. */
static void child_open_pipe(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
        log_msg(LOG_WARNING, "Can't open the child info pipe: %s", strerror(errno));
        return;
    }
    child.pipe_rd = fds[0];
    child.pipe_wr = fds[1];
}

int child_start(enum child_type type, child_body_fn *body, void *priv, str *err)
{
    if (type <= CHILD_NONE || type >= CHILD_TYPES) {
        *err = str_new("invalid child type");
        return -1;
    }
    if (child.held) {
        *err = str_new("the server is shutting down");
        return -1;
    }
    if (child.type != CHILD_NONE) {
        *err = str_cat_fmt(str_empty(), "a child process is already running (%s, pid %d)",
                           child_type_name(child.type), (int)child.pid);
        return -1;
    }
    child_open_pipe();
    long long start = child_now_us();
    pid_t pid = fork();
    if (pid == 0) child_run(type, body, priv);
    if (pid == -1) {
        *err = str_cat_fmt(str_empty(), "fork: %s", strerror(errno));
        child_close_pipe();
        return -1;
    }
    child.stats.latest_fork_usec = child_now_us() - start;
    child.stats.total_forks++;
    child.stats.start_ms = start / 1000;
    child.stats.current_cow_size = child.stats.current_cow_peak = 0;
    child.stats.current_keys_done = 0;
    if (child.pipe_wr != -1) close(child.pipe_wr);
    child.pipe_wr = -1;
    child.final_seen = 0;
    child.type = type;
    child.pid = pid;
    db_set_resize_allowed(0);
    return 0;
}

static void child_apply_record(const child_record *r)
{
    child_stats *st = &child.stats;
    if (r->cow_bytes > st->current_cow_peak) st->current_cow_peak = r->cow_bytes;
    if (r->kind == CHILD_RECORD_PROGRESS) {
        st->current_cow_size = r->cow_bytes;
        st->current_keys_done = r->keys_done;
    } else if (r->kind == CHILD_RECORD_FINAL) {
        child.final_seen = 1;
    }
}

/* Reads every whole record waiting on the pipe. */
static void child_read_pipe(void)
{
    while (child.pipe_rd != -1) {
        ssize_t n = read(child.pipe_rd, child.partial + child.partial_len,
                         sizeof(child.partial) - child.partial_len);
        if (n == -1 && errno == EINTR) continue;
        if (n <= 0) return;
        child.partial_len += (size_t)n;
        if (child.partial_len < sizeof(child.partial)) continue;
        child_record r;
        memcpy(&r, child.partial, sizeof(r));
        child.partial_len = 0;
        child_apply_record(&r);
    }
}

/* The child has ended with status: forget it, then tell its type's handler
 * (which may start the next child). */
static void child_finish(int status)
{
    enum child_type type = child.type;
    int exitcode = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    int bysignal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    child_read_pipe();
    if (child.final_seen && exitcode == 0) child.stats.last_cow_size = child.stats.current_cow_peak;
    child_close_pipe();
    child.type = CHILD_NONE;
    child.pid = -1;
    child.stats.current_cow_size = child.stats.current_cow_peak = 0;
    child.stats.current_keys_done = 0;
    db_set_resize_allowed(1);
    if (child.done[type]) child.done[type](exitcode, bysignal, child.done_priv[type]);
}

int child_poll(void)
{
    if (child.type == CHILD_NONE) return 0;
    child_read_pipe();
    int status = 0;
    pid_t r = waitpid(child.pid, &status, WNOHANG);
    if (r == 0 || (r == -1 && errno == EINTR)) return 0;
    if (r == -1) {
        /* ECHILD: someone else reaped it. Count it as a failure rather than
         * wait forever for a child that is gone. */
        log_msg(LOG_WARNING, "waitpid() returned an error: %s. child_type: %s, child_pid = %d",
                strerror(errno), child_type_name(child.type), (int)child.pid);
        status = 1 << 8;
    }
    child_finish(status);
    return 1;
}

/* The one blocking waitpid(): the child reset SIGUSR1 to its default action,
 * so it ends at once and the wait is short; and the callers (SHUTDOWN, a
 * load that replaces the dataset) must know the child is gone before they go
 * on, or it could rename its file over the one they write, or outlive the
 * server. */
void child_kill(void)
{
    if (child.type == CHILD_NONE) return;
    kill(child.pid, SIGUSR1);
    int status = 0;
    pid_t r;
    do {
        r = waitpid(child.pid, &status, 0);
    } while (r == -1 && errno == EINTR);
    if (r == -1) status = SIGUSR1; /* already reaped: a wait status of "killed by SIGUSR1" */
    child_finish(status);
}
