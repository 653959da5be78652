/* log.c: Redis-layout log lines to standard output or a file (see log.h).
 * Each line is formatted into one buffer and written with a single write(2)
 * so that lines from a forked child and its parent never interleave. */
#include "core/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192

static int log_level = LOG_NOTICE;
static int log_out_fd = STDOUT_FILENO;
static char log_role = 'M';

void log_set_level(int level) { log_level = level; }
int log_get_level(void) { return log_level; }
void log_set_role(char role) { log_role = role; }
int log_fd(void) { return log_out_fd; }

int log_set_file(const char *path)
{
    if (!path || !path[0]) {
        if (log_out_fd != STDOUT_FILENO) close(log_out_fd);
        log_out_fd = STDOUT_FILENO;
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) return -1;
    if (log_out_fd != STDOUT_FILENO) close(log_out_fd);
    log_out_fd = fd;
    return 0;
}

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(log_out_fd, p, len);
        if (n <= 0) return;
        p += n;
        len -= (size_t)n;
    }
}

void log_msg(int level, const char *fmt, ...)
{
    if (level < log_level || level >= LOG_NOTHING) return;
    static const char marks[] = ".-*#";
    char line[LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int off = snprintf(line, sizeof(line), "%d:%c ", (int)getpid(), log_role);
    off += (int)strftime(line + off, sizeof(line) - (size_t)off, "%d %b %Y %H:%M:%S.", &tm);
    off += snprintf(line + off, sizeof(line) - (size_t)off, "%03d %c ", (int)(tv.tv_usec / 1000),
                    marks[level]);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + off, sizeof(line) - (size_t)off - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    off += n;
    if (off > (int)sizeof(line) - 2) off = (int)sizeof(line) - 2;
    line[off++] = '\n';
    write_all(line, (size_t)off);
}

void log_raw_unsafe(const char *msg) { write_all(msg, strlen(msg)); }
