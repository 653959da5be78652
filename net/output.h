/* output.h: the reply path. Replies are appended to the client's fixed
 * buffer, then to a list of blocks; clients with output wait in a pending
 * list that before-sleep writes out (output_flush_pending). A write handler
 * is installed only when the socket could not take everything. The
 * client-output-buffer-limit of the client's class is enforced as replies are
 * added (hard limit) and by the cron (soft limit held for its seconds). */
#ifndef TANDEM_OUTPUT_H
#define TANDEM_OUTPUT_H

#include <stddef.h>

#include "net/client.h"

void output_init(client_settings *settings);

void reply_raw(client *c, const void *p, size_t len);
/* Even to the primary, whose replies are otherwise dropped (REPLCONF ACK). */
void reply_raw_force(client *c, const void *p, size_t len);
void reply_simple(client *c, const char *text);
void reply_ok(client *c);
/* text is the whole error ("ERR ..." or "WRONGTYPE ..."), without '-'. */
void reply_error(client *c, const char *text);
void reply_error_len(client *c, const char *text, size_t len);
void reply_error_fmt(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_integer(client *c, long long v);
void reply_bulk(client *c, const void *p, size_t len);
void reply_bulk_cstr(client *c, const char *s);
void reply_bulk_str(client *c, const str s);
void reply_null(client *c);
void reply_array_len(client *c, long long n);
void reply_map_len(client *c, long long pairs);
void reply_set_len(client *c, long long n);
void reply_double(client *c, double d);
/* An array of simple strings: the HELP subcommands' replies. */
void reply_simple_lines(client *c, const char *const *lines, size_t n);
void reply_verbatim(client *c, const char *p, size_t len, const char *ext);

/* INFO errorstats lines ("errorstat_ERR:count=3"), and their reset. */
str output_errorstats(str s);
void output_reset_errorstats(void);

/* Before-sleep: write pending replies of every client, except those whose
 * output is held. */
void output_flush_pending(void);
/* Holds the client's output (replies are kept, in order, but not written:
 * a replica's stream while its RDB is prepared and sent), or releases it,
 * scheduling what accumulated for the next flush. */
void output_hold(client *c, int hold);
/* Appends the unwritten output of src to dst's (a replica joining a sync
 * takes the stream another one has accumulated). */
void output_copy_pending(client *dst, const client *src);
/* Release the client's reply memory and leave the pending list. */
void output_forget(client *c);
/* Cron, for a client idle a while: gives back its empty reply buffer (the
 * next reply allocates it again), so that idle clients cost little. */
void output_release_idle(client *c);
size_t output_block_count(const client *c);
int output_has_pending(const client *c);
/* Cron: close a client whose soft limit has held too long. */
void output_check_soft_limit(client *c, long long now_ms);

#endif
