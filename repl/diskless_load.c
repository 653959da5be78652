/* diskless_load.c: repl-diskless-load (see diskless_load.h): the directive, the
 * choice at +FULLRESYNC, and the load from the link through rdb/bgsave,
 * which swaps datasets around each nested event-loop iteration in swapdb
 * mode. What clients may not run meanwhile (REPLICAOF, SYNC, SAVE...) is
 * refused by the LOADING gate through CMD_NO_ASYNC_LOADING, so nothing
 * tears the link down under the loader. */
#include "repl/diskless_load.h"

#include "core/config.h"
#include "core/db.h"
#include "core/log.h"
#include "rdb/bgsave.h"

enum diskless_mode { DISKLESS_DISABLED = 0, DISKLESS_ON_EMPTY_DB, DISKLESS_SWAPDB };

static const config_enum diskless_modes[] = {
    {"disabled", DISKLESS_DISABLED},
    {"on-empty-db", DISKLESS_ON_EMPTY_DB},
    {"swapdb", DISKLESS_SWAPDB},
    {NULL, 0},
};

static struct {
    int mode;  /* the directive */
    int async; /* the transfer being loaded is a swapdb one */
} dl;

void diskless_load_register_config(void)
{
    config_register_enum("repl-diskless-load", &dl.mode, diskless_modes, DISKLESS_DISABLED, 0, NULL,
                         NULL);
}

int diskless_load_choose(void)
{
    dl.async = 0;
    switch (dl.mode) {
    case DISKLESS_SWAPDB:
        dl.async = 1;
        log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: repl-diskless-load swapdb: loading from "
                            "the socket into a new dataset while the old one serves clients");
        return 1;
    case DISKLESS_ON_EMPTY_DB: {
        long long keys = db_total_keys();
        if (keys == 0) {
            log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: repl-diskless-load on-empty-db: the "
                                "dataset is empty, loading from the socket");
            return 1;
        }
        log_msg(LOG_NOTICE,
                "MASTER <-> REPLICA sync: repl-diskless-load on-empty-db: the dataset holds %lld "
                "keys, loading through a file on disk",
                keys);
        return 0;
    }
    default:
        return 0;
    }
}

int diskless_load_run(rdb_stream *s, void (*tick)(void *data), void *tick_data, rdb_load_info *info,
                      str *err)
{
    if (!dl.async) log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Flushing old data");
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory");
    int rc = bgsave_load_conn_for_replication(s, dl.async, tick, tick_data, info, err);
    if (rc != 0)
        log_msg(LOG_WARNING,
                "MASTER <-> REPLICA sync: Discarding the half-loaded data; the previous dataset "
                "is kept");
    return rc;
}
