/* waiters.h: the clients that wait for replicas (WAIT), each until enough
 * replicas acknowledged an offset of the stream or until its deadline. A
 * leaf: it knows neither clients nor replicas. The caller counts the
 * acknowledgements (a callback) and answers and unblocks each waiter the
 * list releases (another callback). */
#ifndef TANDEM_REPL_WAITERS_H
#define TANDEM_REPL_WAITERS_H

#include "core/list.h"

typedef struct waiter {
    void *owner;           /* who waits (the blocked client) */
    long long offset;      /* replicas must have acknowledged this far */
    long long needed;      /* this many of them */
    long long deadline_ms; /* then it gives up; 0: never */
    list_node node;
} waiter;

typedef struct waiters {
    list_node head; /* waiter.node, oldest first */
    unsigned long count;
} waiters;

/* How many replicas acknowledged offset. */
typedef long long waiters_count_fn(void *data, long long offset);
/* owner's wait is over with acked replicas (it is no longer listed). It
 * must not add or remove waiters. */
typedef void waiters_done_fn(void *data, void *owner, long long acked);

void waiters_init(waiters *w);
void waiters_add(waiters *w, void *owner, long long offset, long long needed,
                 long long deadline_ms);
/* Forgets owner's waiter (owner went away); 1 if it had one. */
int waiters_remove(waiters *w, const void *owner);
/* Releases, oldest first, every waiter whose deadline passed at now_ms and,
 * when acks_changed, every waiter whose offset enough replicas acknowledged:
 * done() gets the count for each. Returns how many were released. */
unsigned long waiters_release(waiters *w, long long now_ms, int acks_changed,
                              waiters_count_fn *count, waiters_done_fn *done, void *data);
/* Releases every waiter with acked -1 (done() replies what it must). */
void waiters_release_all(waiters *w, waiters_done_fn *done, void *data);

#endif
