/* cron.h: serverCron's registry of periodic hooks. The loop calls cron_tick()
 * hz times a second; each hook runs when its period has elapsed and gets the
 * time as an argument, so hooks are deterministic under test. Every hook is
 * idempotent: a tick in any state does no harm. */
#ifndef TANDEM_CRON_H
#define TANDEM_CRON_H

typedef void cron_fn(long long now_ms, void *data);

/* period_ms 0 means every tick. */
void cron_register(const char *name, long long period_ms, cron_fn *fn, void *data);
void cron_tick(long long now_ms);
/* Milliseconds between ticks for a given hz (1..500). */
long long cron_interval_ms(long long hz);

#endif
