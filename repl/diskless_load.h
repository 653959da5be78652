/* diskless_load.h: repl-diskless-load on the replica side (Redis 7.0 semantics):
 * the directive (disabled, on-empty-db, swapdb), the choice made at each
 * +FULLRESYNC between the temp file and loading straight from the link, and
 * the load from the link's connection stream. disabled: always the temp
 * file. on-empty-db: from the link when the dataset is empty (clients get
 * -LOADING meanwhile, as with the file), else the file. swapdb: from the
 * link into a new dataset while the old one keeps serving clients; the new
 * one replaces it once whole, and a failed transfer leaves the old one in
 * place. Every choice and outcome is logged. The replica role wires these
 * into the link's diskless and load_conn hooks. */
#ifndef TANDEM_REPL_DISKLESS_LOAD_H
#define TANDEM_REPL_DISKLESS_LOAD_H

#include "core/str.h"
#include "rdb/load.h"
#include "rdb/stream.h"

/* Registers repl-diskless-load (call with the replica's directives). */
void diskless_load_register_config(void);
/* At +FULLRESYNC: 1 to load this transfer from the connection, 0 for the
 * temp file (logged either way when the directive is not disabled). */
int diskless_load_choose(void);
/* Loads the RDB from s (a connection stream) as diskless_load_choose decided,
 * serving clients meanwhile; tick runs about once a second. All or nothing:
 * 0 with *info, or -1 with *err and the old dataset in place. */
int diskless_load_run(rdb_stream *s, void (*tick)(void *data), void *tick_data, rdb_load_info *info,
                      str *err);

#endif
