/* log.h: log lines in Redis's layout, "<pid>:<role> <day> <mon> <year>
 * <hh:mm:ss.mmm> <mark> <message>", where the mark is . - * # for debug,
 * verbose, notice and warning. Operators' alerts match Redis's wording, so the
 * key events keep it. A leaf: the role letter and destination are set by the
 * caller. */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING, LOG_NOTHING };

void log_set_level(int level);
int log_get_level(void);
/* "" or NULL means standard output. Returns 0, or -1 if the file cannot be
 * opened (the previous destination stays). */
int log_set_file(const char *path);
/* M primary, S replica, C child, X sentinel-like tools. */
void log_set_role(char role);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes a message without formatting or locking, for signal handlers. */
void log_raw_unsafe(const char *msg);
/* The descriptor log lines go to (crash reports write backtraces to it). */
int log_fd(void);

#endif
