/* output.c: the reply path (see output.h). */
#include "net/output.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "core/alloc.h"
#include "core/log.h"
#include "net/resp_write.h"

#define OUTPUT_IOV_MAX 16

static struct {
    client_settings *settings;
    list_node pending;
} output;

void output_init(client_settings *settings)
{
    output.settings = settings;
    list_init(&output.pending);
}

int output_has_pending(const client *c) { return c->bufpos > 0 || c->reply_head != NULL; }

size_t output_block_count(const client *c)
{
    size_t n = 0;
    for (reply_block *b = c->reply_head; b; b = b->next) n++;
    return n;
}

static void output_close_over_limit(client *c)
{
    str info = client_info_line(str_empty(), c);
    log_msg(LOG_WARNING,
            "Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", info);
    str_free(info);
    clients_stats()->client_output_buffer_limit_disconnections++;
    client_close_async(c);
}

/* The hard limit is checked as replies grow; the soft one by the cron. */
static void output_check_limits(client *c)
{
    const client_obuf_limit *lim = &output.settings->obuf[client_class_of(c)];
    size_t used = c->reply_bytes;
    if (used > clients_stats()->max_output) clients_stats()->max_output = used;
    if (lim->hard && used >= (size_t)lim->hard) output_close_over_limit(c);
}

void output_check_soft_limit(client *c, long long now_ms)
{
    const client_obuf_limit *lim = &output.settings->obuf[client_class_of(c)];
    if (!lim->soft || c->reply_bytes < (size_t)lim->soft) {
        c->obuf_soft_since_ms = -1;
        return;
    }
    if (c->obuf_soft_since_ms < 0) c->obuf_soft_since_ms = now_ms;
    if (now_ms - c->obuf_soft_since_ms >= lim->soft_seconds * 1000) output_close_over_limit(c);
}

static void output_mark_pending(client *c)
{
    if (c->flags & CLIENT_PENDING_WRITE) return;
    c->flags |= CLIENT_PENDING_WRITE;
    list_add_tail(&output.pending, &c->pending_node);
}

static void output_append_blocks(client *c, const char *p, size_t len)
{
    reply_block *tail = c->reply_tail;
    if (tail && tail->used < tail->size) {
        size_t n = tail->size - tail->used < len ? tail->size - tail->used : len;
        memcpy(tail->data + tail->used, p, n);
        tail->used += n;
        c->reply_bytes += n;
        p += n;
        len -= n;
    }
    if (len == 0) return;
    size_t size = len < CLIENT_REPLY_CHUNK ? CLIENT_REPLY_CHUNK : len;
    reply_block *b = tmalloc(sizeof(*b) + size);
    b->next = NULL;
    b->size = size;
    b->used = len;
    memcpy(b->data, p, len);
    if (c->reply_tail)
        c->reply_tail->next = b;
    else
        c->reply_head = b;
    c->reply_tail = b;
    c->reply_bytes += len;
}

static void output_append(client *c, const void *p, size_t len)
{
    if (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP)) return;
    if (!c->conn) return;
    output_mark_pending(c);
    if (!c->reply_head) {
        if (!c->buf) c->buf = tmalloc(CLIENT_REPLY_CHUNK);
        size_t room = CLIENT_REPLY_CHUNK - c->bufpos;
        size_t n = room < len ? room : len;
        memcpy(c->buf + c->bufpos, p, n);
        c->bufpos += n;
        p = (const char *)p + n;
        len -= n;
        if (len == 0) return;
    }
    output_append_blocks(c, p, len);
    output_check_limits(c);
}

/* The primary's stream is applied without replies. */
void reply_raw(client *c, const void *p, size_t len)
{
    if (!(c->flags & CLIENT_PRIMARY)) output_append(c, p, len);
}

void reply_raw_force(client *c, const void *p, size_t len) { output_append(c, p, len); }

static void reply_header(client *c, char prefix, long long n)
{
    char hdr[RESP_HEADER_MAX];
    reply_raw(c, hdr, resp_format_header(hdr, prefix, n));
}

void reply_simple(client *c, const char *text)
{
    str s = resp_add_simple(str_empty(), text, strlen(text));
    reply_raw(c, s, str_len(s));
    str_free(s);
}

void reply_simple_lines(client *c, const char *const *lines, size_t n)
{
    reply_array_len(c, (long long)n);
    for (size_t i = 0; i < n; i++) reply_simple(c, lines[i]);
}

void reply_ok(client *c) { reply_raw(c, "+OK\r\n", 5); }

/* INFO errorstats: replies counted by error code, the text's first word. */
#define OUTPUT_ERROR_CODES 128
static struct {
    char code[32];
    long long count;
} error_codes[OUTPUT_ERROR_CODES];
static int n_error_codes;

static void output_count_error(const char *text, size_t len)
{
    size_t n = 0;
    while (n < len && n < sizeof(error_codes[0].code) - 1 && text[n] != ' ') n++;
    for (int i = 0; i < n_error_codes; i++) {
        if (strlen(error_codes[i].code) == n && !memcmp(error_codes[i].code, text, n)) {
            error_codes[i].count++;
            return;
        }
    }
    if (n_error_codes == OUTPUT_ERROR_CODES) return; /* Redis caps the table too */
    memcpy(error_codes[n_error_codes].code, text, n);
    error_codes[n_error_codes].code[n] = '\0';
    error_codes[n_error_codes++].count = 1;
}

str output_errorstats(str s)
{
    for (int i = 0; i < n_error_codes; i++)
        s = str_cat_fmt(s, "errorstat_%s:count=%lld\r\n", error_codes[i].code,
                        error_codes[i].count);
    return s;
}

void output_reset_errorstats(void) { n_error_codes = 0; }

void reply_error_len(client *c, const char *text, size_t len)
{
    clients_stats()->error_replies++;
    output_count_error(text, len);
    str s = resp_add_error(str_empty(), text, len);
    reply_raw(c, s, str_len(s));
    str_free(s);
}

void reply_error(client *c, const char *text) { reply_error_len(c, text, strlen(text)); }

void reply_error_fmt(client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str s = str_cat_vfmt(str_empty(), fmt, ap);
    va_end(ap);
    reply_error_len(c, s, str_len(s));
    str_free(s);
}

void reply_integer(client *c, long long v) { reply_header(c, ':', v); }

void reply_bulk(client *c, const void *p, size_t len)
{
    reply_header(c, '$', (long long)len);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

void reply_bulk_cstr(client *c, const char *s) { reply_bulk(c, s, strlen(s)); }
void reply_bulk_str(client *c, const str s) { reply_bulk(c, s, str_len(s)); }

void reply_null(client *c)
{
    if (c->resp >= 3)
        reply_raw(c, "_\r\n", 3);
    else
        reply_raw(c, "$-1\r\n", 5);
}

void reply_array_len(client *c, long long n) { reply_header(c, '*', n); }

void reply_map_len(client *c, long long pairs)
{
    if (c->resp >= 3)
        reply_header(c, '%', pairs);
    else
        reply_header(c, '*', pairs * 2);
}

void reply_set_len(client *c, long long n) { reply_header(c, c->resp >= 3 ? '~' : '*', n); }

void reply_double(client *c, double d)
{
    str s = resp_add_double(str_empty(), c->resp >= 3, d);
    reply_raw(c, s, str_len(s));
    str_free(s);
}

void reply_verbatim(client *c, const char *p, size_t len, const char *ext)
{
    str s = resp_add_verbatim(str_empty(), c->resp >= 3, p, len, ext);
    reply_raw(c, s, str_len(s));
    str_free(s);
}

/* ---------- writing ---------- */

static void output_free_blocks(client *c)
{
    reply_block *b = c->reply_head;
    while (b) {
        reply_block *next = b->next;
        tfree(b);
        b = next;
    }
    c->reply_head = c->reply_tail = NULL;
    c->reply_bytes = 0;
}

void output_forget(client *c)
{
    if (c->flags & CLIENT_PENDING_WRITE) list_del(&c->pending_node);
    c->flags &= ~CLIENT_PENDING_WRITE;
    output_free_blocks(c);
    c->bufpos = c->sentlen = 0;
    tfree(c->buf);
    c->buf = NULL;
}

void output_release_idle(client *c)
{
    if (c->buf && !output_has_pending(c)) {
        tfree(c->buf);
        c->buf = NULL;
    }
}

/* Drops n written bytes from the front of buf and the blocks. */
static void output_consume(client *c, size_t n)
{
    if (c->bufpos) {
        size_t left = c->bufpos - c->sentlen;
        if (n < left) {
            c->sentlen += n;
            return;
        }
        n -= left;
        c->bufpos = c->sentlen = 0;
    }
    while (c->reply_head) {
        reply_block *b = c->reply_head;
        size_t left = b->used - c->sentlen;
        if (n < left) {
            c->sentlen += n;
            return;
        }
        n -= left;
        c->sentlen = 0;
        c->reply_bytes -= b->used;
        c->reply_head = b->next;
        if (!c->reply_head) c->reply_tail = NULL;
        tfree(b);
    }
}

/* Writes as much as the socket takes. 0 when all written or would block,
 * -1 when the client was closed because of a write error. */
static int output_write(client *c)
{
    while (output_has_pending(c)) {
        struct iovec iov[OUTPUT_IOV_MAX];
        int cnt = 0;
        size_t off = c->sentlen;
        if (c->bufpos) {
            iov[cnt].iov_base = c->buf + off;
            iov[cnt++].iov_len = c->bufpos - off;
            off = 0;
        }
        for (reply_block *b = c->reply_head; b && cnt < OUTPUT_IOV_MAX; b = b->next) {
            iov[cnt].iov_base = b->data + off;
            iov[cnt++].iov_len = b->used - off;
            off = 0;
        }
        ssize_t n = cnt == 1 ? conn_write(c->conn, iov[0].iov_base, iov[0].iov_len)
                             : conn_writev(c->conn, iov, cnt);
        if (n == CONN_AGAIN) return 0;
        if (n < 0) {
            log_msg(LOG_VERBOSE, "Error writing to client: %s", conn_last_error(c->conn));
            client_close_async(c);
            return -1;
        }
        clients_stats()->net_output_bytes += n;
        output_consume(c, (size_t)n);
    }
    c->obuf_soft_since_ms = -1;
    return 0;
}

static void output_write_handler(conn *cn)
{
    client *c = conn_get_private(cn);
    if (c->flags & CLIENT_HOLD_OUTPUT) {
        /* Held since the handler was installed: release writes it. */
        conn_set_write_handler(cn, NULL);
        return;
    }
    if (output_write(c) == -1) return;
    if (!output_has_pending(c)) {
        conn_set_write_handler(cn, NULL);
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) client_close_async(c);
    }
}

void output_flush_pending(void)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &output.pending)
    {
        client *c = list_entry(pos, client, pending_node);
        list_del(pos);
        c->flags &= ~CLIENT_PENDING_WRITE;
        if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_HOLD_OUTPUT)) continue;
        if (output_write(c) == -1) continue;
        if (output_has_pending(c)) {
            if (!conn_has_write_handler(c->conn)) conn_set_write_handler(c->conn, output_write_handler);
        } else if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            client_close_async(c);
        }
    }
}

void output_hold(client *c, int hold)
{
    if (hold) {
        c->flags |= CLIENT_HOLD_OUTPUT;
        return;
    }
    c->flags &= ~CLIENT_HOLD_OUTPUT;
    if (output_has_pending(c)) output_mark_pending(c);
}

void output_copy_pending(client *dst, const client *src)
{
    size_t off = src->sentlen;
    if (src->bufpos) {
        reply_raw(dst, src->buf + off, src->bufpos - off);
        off = 0;
    }
    for (reply_block *b = src->reply_head; b; b = b->next) {
        reply_raw(dst, b->data + off, b->used - off);
        off = 0;
    }
}
