/* fuzz_keyspace.h: the keyspace that the RDB and DUMP fuzz targets store
 * into: sixteen databases made once with a fixed hash seed and the log
 * silenced, and emptied after every input so that each run starts alike.
 * Header only: each target is one program. */
#ifndef TANDEM_FUZZ_KEYSPACE_H
#define TANDEM_FUZZ_KEYSPACE_H

#include <stdint.h>

#include "core/db.h"
#include "core/dict.h"
#include "core/log.h"

#define FUZZ_DBS 16

static inline void fuzz_keyspace_init(void)
{
    uint8_t seed[16];
    for (int i = 0; i < 16; i++) seed[i] = (uint8_t)(0x5a ^ (i * 29));
    dict_set_hash_seed(seed);
    log_set_level(LOG_NOTHING);
    db_init(FUZZ_DBS);
}

/* Keys stored in all the databases. */
static inline long long fuzz_keyspace_size(void)
{
    long long n = 0;
    for (int i = 0; i < FUZZ_DBS; i++) n += db_size(i);
    return n;
}

static inline void fuzz_keyspace_flush(void)
{
    for (int i = 0; i < FUZZ_DBS; i++) db_flush(i, 0);
}

#endif
