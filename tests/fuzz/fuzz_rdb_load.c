/* fuzz_rdb_load.c: libFuzzer target for the RDB loader (rdb/load.c and the
 * decoding half of rdb/codec.c). The input is a whole RDB file, read
 * through a memory stream of exactly its size three times: checked only
 * (as the backup tool does, checksum not verified), then stored into the
 * keyspace (checksum verified, expired keys skipped, as a primary loads at
 * start-up) with the stream's size hidden, as from a pipe, and with it
 * known, as from a file; the keyspace is emptied after each. Both stores
 * must end the same way, a file stored must also pass the check, with the
 * same key count, and every failure must come with a message. Run it with -malloc_limit_mb: no length in the
 * file may make the loader allocate more than the input can justify, with
 * the size known (lengths are checked against it) or not (memory follows
 * the bytes that really arrive). */
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

/* total is 0 when the stream's size is unknown. */
static void on_progress(uint64_t done, uint64_t total, void *priv)
{
    if (total != *(uint64_t *)priv || (total && done > total)) abort();
}

static int load(const uint8_t *data, size_t size, int store, int sized, rdb_load_info *info)
{
    uint64_t total = sized ? size : 0;
    rdb_load_opts opts = {.verify_checksum = store, .skip_expired = 1, .store = store,
                          .progress = on_progress, .priv = &total};
    rdb_stream s;
    str err;
    rdb_stream_mem_reader(&s, data, size);
    if (!sized) s.limit = UINT64_MAX; /* reads still stop at the end */
    int rc = rdb_load_stream(&s, &opts, info, &err);
    rdb_stream_close(&s);
    if (rc < 0 && (!err || !err[0])) abort();
    str_free(err);
    return rc;
}

/* Keys loaded or skipped as expired: which of the two a key near its
 * expiry time counts as may change between passes. */
static long long keys_read(const rdb_load_info *info)
{
    return info->keys_loaded + info->keys_expired;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rdb_load_info checked, streamed, stored;
    int check_rc = load(data, size, 0, 1, &checked);
    int stream_rc = load(data, size, 1, 0, &streamed);
    fuzz_keyspace_flush();
    int store_rc = load(data, size, 1, 1, &stored);
    if (stream_rc != store_rc || keys_read(&streamed) != keys_read(&stored)) abort();
    if (store_rc == 0) {
        if (check_rc != 0 || keys_read(&stored) != keys_read(&checked)) abort();
        if (fuzz_keyspace_size() != stored.keys_loaded) abort();
    }
    fuzz_keyspace_flush();
    return 0;
}
