/* fuzz_dump.c: libFuzzer target for RESTORE's payload handling
 * (rdb/dump.c over rdb/codec.c). The input is a DUMP payload: its footer is
 * checked as RESTORE checks it and, when it passes, the value is decoded,
 * dumped again (the new payload must pass and decode to the same value)
 * and stored into the keyspace, which is emptied afterwards. Since the
 * fuzzer seldom guesses a CRC-64, the input is also tried with its CRC
 * rewritten to match, which must then pass whenever the version is one
 * RESTORE reads, so that the decoder sees every mutation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/object.h"
#include "core/str.h"
#include "rdb/crc64.h"
#include "rdb/dump.h"
#include "rdb/format.h"
#include "tests/fuzz/fuzz_keyspace.h"

#define FOOTER_LEN (2 + RDB_CHECKSUM_LEN)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_keyspace_init();
    return 0;
}

static int same_value(const kv *a, const kv *b)
{
    char ba[32], bb[32];
    size_t la, lb;
    const char *va = kv_string(a, ba, &la), *vb = kv_string(b, bb, &lb);
    return la == lb && memcmp(va, vb, la) == 0;
}

/* RESTORE's path for one payload of exactly len bytes. */
static void restore(const char *p, size_t len, int must_pass)
{
    if (!dump_payload_verify(p, len)) {
        if (must_pass) abort();
        return;
    }
    str key = str_new("key");
    kv *o = dump_payload_decode(p, len, key);
    if (o) {
        for (int compress = 0; compress <= 1; compress++) {
            str again = dump_payload(o, compress);
            if (!dump_payload_verify(again, str_len(again))) abort();
            kv *o2 = dump_payload_decode(again, str_len(again), key);
            if (!o2 || !same_value(o, o2)) abort();
            kv_free(o2);
            str_free(again);
        }
        db_add(0, o);
        fuzz_keyspace_flush();
    }
    str_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    restore((const char *)data, size, 0);
    if (size < FOOTER_LEN) return 0;
    char *p = tmalloc(size); /* exactly sized: the sanitizer sees overreads */
    memcpy(p, data, size);
    uint64_t crc = crc64(0, p, size - RDB_CHECKSUM_LEN);
    for (int i = 0; i < RDB_CHECKSUM_LEN; i++) p[size - RDB_CHECKSUM_LEN + i] = (char)(crc >> (8 * i));
    unsigned version = (unsigned char)p[size - FOOTER_LEN] | (unsigned char)p[size - FOOTER_LEN + 1] << 8;
    restore(p, size, version <= RDB_VERSION);
    tfree(p);
    return 0;
}
