/* alloc.h: the allocator wrapper. Every allocation of the server goes through
 * these functions so that used_memory is known at any time; the memory comes
 * from jemalloc (linked in place of libc malloc). Out of memory is fatal: the
 * functions never return NULL. A leaf: knows nothing of the server. */
#ifndef TANDEM_ALLOC_H
#define TANDEM_ALLOC_H

#include <stddef.h>

void *tmalloc(size_t size);
void *tcalloc(size_t size);
void *trealloc(void *ptr, size_t size);
void tfree(void *ptr);
char *tstrdup(const char *s);
char *tstrndup(const char *s, size_t n);

/* Usable size of a block returned by the functions above. */
size_t alloc_size(void *ptr);

/* A thread other than the main one calls this once at its start, so that
 * its counting is thread-safe (the main thread's stays cheap). */
void alloc_mark_background_thread(void);

/* Bytes currently allocated through this wrapper (usable sizes), read by
 * the main thread. */
size_t alloc_used_memory(void);
/* Resident set size of the process, from /proc/self/stat. */
size_t alloc_rss(void);
/* "jemalloc-5.3.0" or similar, for INFO mem_allocator. */
const char *alloc_name(void);

#endif
