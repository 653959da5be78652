/* cron.c: periodic hooks run from the server's timer (see cron.h). */
#include "core/cron.h"

#include "core/panic.h"

#define CRON_MAX_HOOKS 16

static struct {
    const char *name;
    long long period_ms;
    long long last_ms;
    cron_fn *fn;
    void *data;
} hooks[CRON_MAX_HOOKS];
static int nhooks;

void cron_register(const char *name, long long period_ms, cron_fn *fn, void *data)
{
    tassert(nhooks < CRON_MAX_HOOKS);
    hooks[nhooks].name = name;
    hooks[nhooks].period_ms = period_ms;
    hooks[nhooks].last_ms = 0;
    hooks[nhooks].fn = fn;
    hooks[nhooks++].data = data;
}

void cron_tick(long long now_ms)
{
    for (int i = 0; i < nhooks; i++) {
        if (hooks[i].period_ms && now_ms - hooks[i].last_ms < hooks[i].period_ms) continue;
        hooks[i].last_ms = now_ms;
        hooks[i].fn(now_ms, hooks[i].data);
    }
}

long long cron_interval_ms(long long hz)
{
    if (hz < 1) hz = 1;
    if (hz > 500) hz = 500;
    return 1000 / hz;
}
