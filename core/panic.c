/* panic.c: panic() and the crash report (see panic.h). The signal handler
 * uses only async-signal-safe calls: write(2) through log_raw_unsafe and
 * backtrace_symbols_fd, which writes straight to the log descriptor. */
#include "core/panic.h"

#include <execinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static const char *crash_version = "";

static void write_backtrace(void)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    log_raw_unsafe("\n------ STACK TRACE ------\n");
    backtrace_symbols_fd(frames, n, log_fd());
    log_raw_unsafe("------ END OF STACK TRACE ------\n");
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_msg(LOG_WARNING, "------------------------------------------------");
    log_msg(LOG_WARNING, "!!! Software Failure. Press left mouse button to continue");
    log_msg(LOG_WARNING, "Guru Meditation: %s #%s:%d", msg, file, line);
    write_backtrace();
    signal(SIGABRT, SIG_DFL);
    abort();
}

static void crash_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    char head[256];
    /* snprintf is not formally async-signal-safe, but with these plain
     * integer and string conversions glibc does not allocate. */
    snprintf(head, sizeof(head),
             "\n\n=== TANDEM BUG REPORT START: Cut & paste starting from here ===\n"
             "tandem %s crashed by signal: %d, si_code: %d, address: %p\n",
             crash_version, sig, info ? info->si_code : 0, info ? info->si_addr : NULL);
    log_raw_unsafe(head);
    write_backtrace();
    log_raw_unsafe("=== TANDEM BUG REPORT END. Make sure to include from START to END. ===\n");
    /* Re-raise with the default action so the exit status shows the signal. */
    signal(sig, SIG_DFL);
    raise(sig);
}

void panic_install_crash_handlers(const char *version)
{
    crash_version = version;
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
    act.sa_sigaction = crash_handler;
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) sigaction(sigs[i], &act, NULL);
}
