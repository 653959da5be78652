/* alloc.c: counting wrapper around malloc, which jemalloc provides (the build
 * links -ljemalloc, which replaces libc malloc; sanitizer builds use libc's). The counter is updated with the
 * usable size of each block (see count_bytes for threads). */
#include "core/alloc.h"

#ifdef TANDEM_NO_JEMALLOC
#include <malloc.h> /* sanitizer builds: ASan owns malloc */
#else
#include <jemalloc/jemalloc.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The main thread counts in a plain variable (no atomic instruction on the
 * hot path); background threads, which mostly free what the main thread
 * allocated, count in an atomic one that may go negative. */
static size_t used_main;
static _Atomic long long used_background;
static _Thread_local int in_background;

static inline void count_bytes(long long delta)
{
    if (!in_background)
        used_main += (size_t)delta;
    else
        atomic_fetch_add_explicit(&used_background, delta, memory_order_relaxed);
}

void alloc_mark_background_thread(void) { in_background = 1; }

static void out_of_memory(size_t size)
{
    fprintf(stderr, "tandem: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *tmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) out_of_memory(size);
    count_bytes((long long)malloc_usable_size(p));
    return p;
}

void *tcalloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p) out_of_memory(size);
    count_bytes((long long)malloc_usable_size(p));
    return p;
}

void *trealloc(void *ptr, size_t size)
{
    if (!ptr) return tmalloc(size);
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size ? size : 1);
    if (!p) out_of_memory(size);
    count_bytes((long long)malloc_usable_size(p) - (long long)old);
    return p;
}

void tfree(void *ptr)
{
    if (!ptr) return;
    count_bytes(-(long long)malloc_usable_size(ptr));
    free(ptr);
}

char *tstrndup(const char *s, size_t n)
{
    char *p = tmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *tstrdup(const char *s) { return tstrndup(s, strlen(s)); }

size_t alloc_size(void *ptr) { return ptr ? malloc_usable_size(ptr) : 0; }

size_t alloc_used_memory(void)
{
    return used_main + (size_t)atomic_load_explicit(&used_background, memory_order_relaxed);
}

size_t alloc_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

const char *alloc_name(void)
{
    static char name[32];
#ifdef TANDEM_NO_JEMALLOC
    if (!name[0]) snprintf(name, sizeof(name), "libc");
#else
    if (!name[0]) snprintf(name, sizeof(name), "jemalloc-%.5s", JEMALLOC_VERSION);
#endif
    return name;
}
