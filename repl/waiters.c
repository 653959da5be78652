/* waiters.c: the list of WAIT's waiters (see waiters.h). */
#include "repl/waiters.h"

#include "core/alloc.h"

void waiters_init(waiters *w)
{
    list_init(&w->head);
    w->count = 0;
}

static void waiters_unlink(waiters *w, waiter *wt)
{
    list_del(&wt->node);
    w->count--;
    tfree(wt);
}

void waiters_add(waiters *w, void *owner, long long offset, long long needed,
                 long long deadline_ms)
{
    waiter *wt = tmalloc(sizeof(*wt));
    wt->owner = owner;
    wt->offset = offset;
    wt->needed = needed;
    wt->deadline_ms = deadline_ms;
    list_add_tail(&w->head, &wt->node);
    w->count++;
}

int waiters_remove(waiters *w, const void *owner)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &w->head)
    {
        waiter *wt = list_entry(pos, waiter, node);
        if (wt->owner == owner) {
            waiters_unlink(w, wt);
            return 1;
        }
    }
    return 0;
}

/* Unlinks wt, then tells done(). */
static void waiters_finish(waiters *w, waiter *wt, long long acked, waiters_done_fn *done,
                           void *data)
{
    void *owner = wt->owner;
    waiters_unlink(w, wt);
    done(data, owner, acked);
}

unsigned long waiters_release(waiters *w, long long now_ms, int acks_changed,
                              waiters_count_fn *count, waiters_done_fn *done, void *data)
{
    unsigned long released = 0;
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &w->head)
    {
        waiter *wt = list_entry(pos, waiter, node);
        int expired = wt->deadline_ms && now_ms >= wt->deadline_ms;
        if (!expired && !acks_changed) continue;
        long long acked = count(data, wt->offset);
        if (!expired && acked < wt->needed) continue;
        waiters_finish(w, wt, acked, done, data);
        released++;
    }
    return released;
}

void waiters_release_all(waiters *w, waiters_done_fn *done, void *data)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &w->head)
        waiters_finish(w, list_entry(pos, waiter, node), -1, done, data);
}
