/* progress.c: drawing the transfer's progress (see progress.h). */
#include "tools/backup/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/util.h"

#define PROGRESS_TTY_MS 200
#define PROGRESS_LOG_MS 5000
#define PROGRESS_MIN_MS 50 /* no rate before this much time */

void bk_progress_init(bk_progress *p, int quiet)
{
    p->mode = quiet ? BK_PROGRESS_QUIET : isatty(2) ? BK_PROGRESS_TTY : BK_PROGRESS_LOG;
    p->start_ms = loop_now_ms();
    p->next_ms = 0;
    p->total = -1;
    p->done = 0;
    p->on_screen = 0;
}

void bk_progress_start(bk_progress *p, long long total)
{
    p->start_ms = loop_now_ms();
    p->total = total;
    p->done = 0;
    p->next_ms = p->start_ms + (p->mode == BK_PROGRESS_TTY ? PROGRESS_TTY_MS : PROGRESS_LOG_MS);
}

/* "1.20G of 2.00G (60%), 350.00M/s, ETA 2s" or "1.20G, 350.00M/s"; the
 * rate and ETA once there is a rate to speak of. */
static void progress_format(const bk_progress *p, long long now, char *out, size_t cap)
{
    char done[32], total[48] = "", rate[32] = "", eta[32] = "";
    long long ms = now - p->start_ms;
    double bps = ms >= PROGRESS_MIN_MS ? (double)p->done * 1000.0 / (double)ms : 0;
    format_human_bytes(done, sizeof(done), (unsigned long long)p->done);
    if (bps > 0) {
        format_human_bytes(rate + 2, sizeof(rate) - 2, (unsigned long long)bps);
        memcpy(rate, ", ", 2);
        strcat(rate, "/s");
    }
    if (p->total > 0) {
        char n[24];
        format_human_bytes(n, sizeof(n), (unsigned long long)p->total);
        snprintf(total, sizeof(total), " of %s (%d%%)", n,
                 (int)(100.0 * (double)p->done / (double)p->total));
        if (bps > 0 && p->done < p->total)
            snprintf(eta, sizeof(eta), ", ETA %.0fs", (double)(p->total - p->done) / bps);
    }
    snprintf(out, cap, "%s%s%s%s", done, total, rate, eta);
}

static void progress_draw(bk_progress *p, long long now)
{
    char line[160];
    progress_format(p, now, line, sizeof(line));
    if (p->mode == BK_PROGRESS_TTY) {
        fprintf(stderr, "\rreceiving: %s\033[K", line);
        p->on_screen = 1;
    } else {
        fprintf(stderr, "tandem-backup: received %s\n", line);
    }
    fflush(stderr);
}

void bk_progress_update(bk_progress *p, long long done)
{
    p->done = done;
    if (p->mode == BK_PROGRESS_QUIET) return;
    long long now = loop_now_ms();
    if (now < p->next_ms) return;
    p->next_ms = now + (p->mode == BK_PROGRESS_TTY ? PROGRESS_TTY_MS : PROGRESS_LOG_MS);
    progress_draw(p, now);
}

void bk_progress_end(bk_progress *p)
{
    if (p->mode == BK_PROGRESS_QUIET) return;
    progress_draw(p, loop_now_ms());
    bk_progress_break(p);
}

void bk_progress_break(bk_progress *p)
{
    if (!p->on_screen) return;
    fputc('\n', stderr);
    fflush(stderr);
    p->on_screen = 0;
}
