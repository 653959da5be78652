/* bio.h: one background thread for slow work the event loop must not do
 * itself, such as freeing a flushed database (FLUSHALL ASYNC). Jobs run in
 * submission order. The allocator wrapper counts memory atomically, so jobs
 * may free what the main thread allocated. A leaf. */
#ifndef TANDEM_BIO_H
#define TANDEM_BIO_H

typedef void bio_job_fn(void *arg);

/* Starts the thread (at most once); 0 or -1. */
int bio_init(void);
/* Queues fn(arg); runs it at once in the caller if the thread is not
 * running. */
void bio_submit(bio_job_fn *fn, void *arg);
/* Jobs queued or running (INFO lazyfree_pending_objects). */
long long bio_pending(void);
/* Waits until every queued job has run. */
void bio_drain(void);

#endif
