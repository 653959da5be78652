/* bio.c: the background job thread (see bio.h): a mutex-protected FIFO of
 * jobs and a condition variable each way (new job, queue drained). */
#include "core/bio.h"

#include <pthread.h>
#include <signal.h>

#include "core/alloc.h"

typedef struct bio_job {
    struct bio_job *next;
    bio_job_fn *fn;
    void *arg;
} bio_job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    bio_job *head, *tail;
    long long pending; /* queued + running */
    int running;
} bio = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER};

static void *bio_main(void *unused)
{
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
    alloc_mark_background_thread();
    pthread_mutex_lock(&bio.lock);
    for (;;) {
        while (!bio.head) pthread_cond_wait(&bio.wake, &bio.lock);
        bio_job *job = bio.head;
        bio.head = job->next;
        if (!bio.head) bio.tail = NULL;
        pthread_mutex_unlock(&bio.lock);
        job->fn(job->arg);
        tfree(job);
        pthread_mutex_lock(&bio.lock);
        if (--bio.pending == 0) pthread_cond_broadcast(&bio.idle);
    }
    return NULL;
}

int bio_init(void)
{
    if (bio.running) return 0;
    pthread_t tid;
    if (pthread_create(&tid, NULL, bio_main, NULL) != 0) return -1;
    pthread_detach(tid);
    bio.running = 1;
    return 0;
}

void bio_submit(bio_job_fn *fn, void *arg)
{
    if (!bio.running) {
        fn(arg);
        return;
    }
    bio_job *job = tmalloc(sizeof(*job));
    job->next = NULL;
    job->fn = fn;
    job->arg = arg;
    pthread_mutex_lock(&bio.lock);
    if (bio.tail)
        bio.tail->next = job;
    else
        bio.head = job;
    bio.tail = job;
    bio.pending++;
    pthread_cond_signal(&bio.wake);
    pthread_mutex_unlock(&bio.lock);
}

long long bio_pending(void)
{
    pthread_mutex_lock(&bio.lock);
    long long n = bio.pending;
    pthread_mutex_unlock(&bio.lock);
    return n;
}

void bio_drain(void)
{
    pthread_mutex_lock(&bio.lock);
    while (bio.pending > 0) pthread_cond_wait(&bio.idle, &bio.lock);
    pthread_mutex_unlock(&bio.lock);
}
