/* fuzz_rdb_load.c: libFuzzer target for the RDB loader (rdb/load.c and the
 * decoding half of rdb/codec.c). The input is a whole RDB file, read
 * through a memory stream of exactly its size, twice: checked only (as the
 * backup tool and a replica's verification do, checksum not verified) and
 * stored into the keyspace (checksum verified, expired keys skipped, as a
 * primary loads at start-up), which is emptied afterwards. A file stored
 * must also pass the check, with the same key count, and every failure
 * must come with a message. Run it with -malloc_limit_mb: no length in the
 * file may make the loader allocate more than the input can justify. */
#include <stdint.h>
#include <stdlib.h>

#include "core/str.h"
#include "rdb/load.h"
#include "rdb/stream.h"
#include "tests/fuzz/fuzz_keyspace.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_keyspace_init();
    return 0;
}

static void on_progress(uint64_t done, uint64_t total, void *priv)
{
    if (done > total || total != *(size_t *)priv) abort();
}

static int load(const uint8_t *data, size_t size, int store, rdb_load_info *info)
{
    rdb_load_opts opts = {.verify_checksum = store, .skip_expired = 1, .store = store,
                          .progress = on_progress, .priv = &size};
    rdb_stream s;
    str err;
    rdb_stream_mem_reader(&s, data, size);
    int rc = rdb_load_stream(&s, &opts, info, &err);
    rdb_stream_close(&s);
    if (rc < 0 && (!err || !err[0])) abort();
    str_free(err);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rdb_load_info checked, stored;
    int check_rc = load(data, size, 0, &checked);
    int store_rc = load(data, size, 1, &stored);
    if (store_rc == 0) {
        if (check_rc != 0 || stored.keys_loaded != checked.keys_loaded) abort();
        if (fuzz_keyspace_size() != stored.keys_loaded) abort();
    }
    fuzz_keyspace_flush();
    return 0;
}
