/* verify.c: `tandem-backup verify FILE`: the whole file through the loader
 * (check.c); exit 0 and a one-line summary only when it is sound, else the
 * first problem with its byte offset and exit 4 (5 when the file cannot be
 * read at all). */
#include <stdio.h>

#include "tools/backup/backup.h"
#include "tools/backup/check.h"

typedef unsigned long long ull;

int bk_verify(const char *path, int quiet)
{
    bk_check c = {0};
    if (bk_check_file(path, &c) < 0) {
        bk_error("%s: %s", path, c.err);
        int code = c.err_fs ? BK_EXIT_FS : BK_EXIT_VERIFY;
        bk_check_free(&c);
        return code;
    }
    if (!quiet) {
        printf("%s: OK, RDB version %d, %llu bytes, %lld keys in %d database%s, ", path,
               c.info.version, (ull)c.bytes, c.keys, c.ndbs, c.ndbs == 1 ? "" : "s");
        if (c.has_checksum)
            printf("checksum %016llx\n", (ull)c.checksum);
        else
            printf("no checksum stored\n");
    }
    bk_check_free(&c);
    return BK_EXIT_OK;
}
