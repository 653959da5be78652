/* loop_until.h: running an event loop in a unit test until a condition
 * holds, with a bound so that a broken test fails instead of hanging. */
#ifndef TANDEM_LOOP_UNTIL_H
#define TANDEM_LOOP_UNTIL_H

#include "core/loop.h"

/* Processes events of loop l until cond holds or bound_ms pass. */
#define LOOP_RUN_UNTIL(l, cond, bound_ms)                                                          \
    do {                                                                                           \
        long long end_ = loop_now_ms() + (bound_ms);                                               \
        while (!(cond) && loop_now_ms() < end_)                                                    \
            loop_process((l), LOOP_ALL_EVENTS);                                                    \
    } while (0)

#endif
