/* follow.h: an RDB stream (rdb/stream.h) that reads a file while another
 * thread is still writing it: a read waits until the writer has published
 * enough bytes, and fails at the end once the writer says there is no more.
 * It lets pull verify the temp file through the loader during the transfer
 * instead of after it. Reads go through a buffer with pread(2), so the
 * writer's lock is taken once per buffer, not once per field. The CRC-64 of
 * the file is kept here too, a whole buffer at a time (far cheaper than the
 * stream's per-read CRC over the loader's many small reads), always leaving
 * out the last 8 bytes read: those are the stored checksum when the RDB
 * ends there. */
#ifndef TANDEM_BACKUP_FOLLOW_H
#define TANDEM_BACKUP_FOLLOW_H

#include <pthread.h>
#include <stdint.h>

#include "rdb/stream.h"

typedef struct bk_follow {
    rdb_stream s; /* first: the stream's ops find the follower from it */
    int fd;       /* the file, open for reading */
    unsigned char *buf;
    size_t len, pos, cap;
    uint64_t file_off; /* where the next pread starts */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t avail;    /* bytes the writer has published */
    int done;          /* the writer is finished: avail is final */
    int stop;          /* give up (the transfer failed) */
    uint64_t crc;      /* CRC-64 of the bytes read but the last 8 */
    unsigned char tail[8]; /* the last bytes read, not in crc */
    size_t tail_len;
} bk_follow;

/* Follows path, of limit bytes when known (UINT64_MAX otherwise). 0, or -1
 * with errno. */
int bk_follow_open(bk_follow *f, const char *path, uint64_t limit);
/* Writer side: bytes are readable up to avail; done when it is final. */
void bk_follow_publish(bk_follow *f, uint64_t avail, int done);
/* Writer side: wake the reader and make its reads fail. */
void bk_follow_stop(bk_follow *f);
void bk_follow_close(bk_follow *f);
/* The CRC-64 of every byte read but the last 8, and those 8 as a
 * little-endian number: 0, or -1 when fewer than 8 bytes were read. */
int bk_follow_crc(const bk_follow *f, uint64_t *crc, uint64_t *last8);

#endif
