/* bgsave.h: the persistence subsystem: the RDB directives (save points,
 * dbfilename, rdbcompression, rdbchecksum, stop-writes-on-bgsave-error,
 * ...), SAVE, BGSAVE [SCHEDULE] and LASTSAVE, the save points checked by the
 * cron, the background save through rdb/child and its done handler, the
 * MISCONF and LOADING gates, INFO persistence, loading the dump at start-up
 * and for DEBUG RELOAD, and the final save of SHUTDOWN and SIGTERM. Its
 * state is private to bgsave.c; the composition root wires it up with the
 * functions below. The replication fields of the aux header come from a
 * provider hook, so rdb/ never knows replication. */
#ifndef TANDEM_RDB_BGSAVE_H
#define TANDEM_RDB_BGSAVE_H

#include "core/loop.h"
#include "net/client.h"
#include "rdb/load.h"
#include "rdb/save.h"

/* Registers the directives. Call before config_register_redis_unimplemented(),
 * which would otherwise take these names as placeholders. */
void bgsave_register_config(void);
/* Registers the commands, the cron hook (save points), the MISCONF and
 * LOADING gates and the child done handler. l is the server's loop: file
 * events are served from it while the dump loads at start-up. */
void bgsave_init(loop *l);
/* Registers INFO's "Persistence" section (call where it belongs in the order
 * of sections). */
void bgsave_register_info(void);
/* The replication fields written in the aux header of every save. Until a
 * provider is set, they are unknown ("" and -1). */
void bgsave_set_aux_provider(void (*fn)(rdb_aux *aux));
/* Whether this server is a replica: loading the dump (start-up, DEBUG
 * RELOAD) then keeps keys already expired, as Redis does. Unset: a primary. */
void bgsave_set_role_query(int (*is_replica)(void));

/* A BGSAVE for replication (the replicas' full sync, disk target): the same
 * save as BGSAVE, started when no child runs. 0 started, or -1 (logged). */
int bgsave_start_for_replication(void);
/* The aux fields and options a save made now would use, for a save to
 * another target (the diskless sync's child). 0, or -1 while the dataset
 * loads: no save may start then. */
int bgsave_settings_for_replication(rdb_aux *aux, rdb_save_opts *opts);
/* Told when a background save ends, after the persistence state is updated:
 * ok when the file is whole, and the file's path. Replication's full sync
 * learns of its save through this hook, set by the composition root. */
typedef void bgsave_done_fn(int ok, const char *path, void *data);
void bgsave_set_done_hook(bgsave_done_fn *fn, void *data);

/* Loads dir/dbfilename at start-up (a missing file is an empty dataset),
 * serving -LOADING replies meanwhile; *aux gets the file's aux fields
 * (unknown without a file). 0, or -1 after logging the fatal error: the
 * caller exits with status 1, the file left as it was. */
int bgsave_load_at_startup(rdb_aux *aux);
/* A replica's full sync: loads path in place of the dataset, serving
 * clients meanwhile as at start-up (-LOADING replies, INFO answers). Keys
 * already expired are kept (the primary's DELs remove them); the old
 * dataset comes back unless the whole file loads. tick (may be NULL) runs
 * about once a second during the load. 0, or -1 with *err. */
int bgsave_load_for_replication(const char *path, void (*tick)(void *data), void *tick_data,
                                rdb_load_info *info, str *err);
/* The same from the primary's connection (repl-diskless-load): s is a
 * connection stream (rdb/stream_conn.h) whose waits serve clients. With
 * async (swapdb) the old dataset keeps serving clients (no -LOADING; INFO
 * async_loading:1) until the new one is whole and takes its place; commands
 * flagged CMD_NO_ASYNC_LOADING get -LOADING meanwhile. Either way a failed
 * load (garbage, a short payload, a broken EOF mark, a lost connection, a
 * timeout) leaves the old dataset in place. 0, or -1 with *err. */
int bgsave_load_conn_for_replication(rdb_stream *s, int async, void (*tick)(void *data),
                                     void *tick_data, rdb_load_info *info, str *err);
/* DEBUG RELOAD [NOSAVE]: saves, then loads the file in place of the dataset
 * (which comes back if the load fails); replies to c. */
void bgsave_debug_reload(client *c);

/* SHUTDOWN flags. */
#define BGSAVE_SHUTDOWN_NOSAVE (1 << 0)
#define BGSAVE_SHUTDOWN_SAVE (1 << 1)
#define BGSAVE_SHUTDOWN_FORCE (1 << 2)
/* Before exiting: kills a running child, then saves in the foreground when
 * save points are set (unless NOSAVE) or with SAVE. 0: the server may exit;
 * -1: the save failed (logged) and, without FORCE, the server must not. */
int bgsave_prepare_shutdown(int flags);

/* rdbcompression (DUMP uses it too). */
int bgsave_compression(void);

#endif
