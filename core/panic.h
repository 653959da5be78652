/* panic.h: fatal errors and the crash report. panic() logs the reason with
 * the file and line, writes a backtrace, and aborts. The crash handler turns
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT into a report with a backtrace
 * in the log, then lets the signal kill the process. A leaf. */
#ifndef TANDEM_PANIC_H
#define TANDEM_PANIC_H

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define tassert(cond) ((cond) ? (void)0 : panic("assertion failed: %s", #cond))

void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* Installs the crash signal handlers. version goes into the report. */
void panic_install_crash_handlers(const char *version);

#endif
