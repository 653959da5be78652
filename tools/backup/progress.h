/* progress.h: the transfer's progress for a person: on a terminal, one line
 * redrawn in place with the bytes received, the rate and (when the size is
 * known) the ETA; otherwise a plain line every few seconds; nothing with
 * --quiet. Updates are cheap to call often: they draw only when due. */
#ifndef TANDEM_BACKUP_PROGRESS_H
#define TANDEM_BACKUP_PROGRESS_H

enum bk_progress_mode { BK_PROGRESS_QUIET = 0, BK_PROGRESS_TTY, BK_PROGRESS_LOG };

typedef struct bk_progress {
    enum bk_progress_mode mode;
    long long start_ms;
    long long next_ms; /* next draw */
    long long total;   /* payload bytes, -1 unknown (EOF-marked transfer) */
    long long done;
    int on_screen;     /* a terminal line is drawn and not yet ended */
} bk_progress;

/* The mode follows quiet and whether stderr is a terminal. */
void bk_progress_init(bk_progress *p, int quiet);
/* The transfer starts now (the clock of rate and ETA). */
void bk_progress_start(bk_progress *p, long long total);
void bk_progress_update(bk_progress *p, long long done);
/* A final line (terminal: the line is ended) for a finished transfer. */
void bk_progress_end(bk_progress *p);
/* Ends a terminal line without more, before an error message. */
void bk_progress_break(bk_progress *p);

#endif
