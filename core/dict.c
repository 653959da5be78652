/* dict.c: the intrusive, incrementally rehashed hash table (see dict.h for
 * the design). Table 1 exists only during a rehash; rehash_idx is then the
 * next bucket of table 0 to move, and the buckets below it are empty. */
#include "core/dict.h"

#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/panic.h"
#include "core/siphash.h"

#define DICT_INITIAL_SIZE 4UL
#define DICT_FORCE_RESIZE_RATIO 5 /* grow past this load even if disallowed */
#define DICT_MIN_FILL_PERCENT 10  /* shrink below this fill */
#define DICT_EMPTY_VISITS_PER_STEP 10
#define DICT_REHASH_BATCH 100 /* steps between clock reads in rehash_ms */
#define DICT_SAMPLE_VISITS_PER_NODE 10

struct dict {
    const dict_type *type;
    dict_node **table[2];
    unsigned long size[2]; /* buckets: 0 or a power of two */
    unsigned long used[2];
    unsigned long rehash_idx;
    int pause_rehash;      /* safe iterators and scans in progress */
    dict_iter *safe_iters; /* live safe iterators, to fix up on unlink */
};

static uint8_t dict_seed[SIPHASH_KEY_LEN];
static uint64_t dict_rng_state;
static int dict_resize_allowed = 1;

/* ------------------------------------------------------------- hashing */

void dict_set_hash_seed(const uint8_t seed[16])
{
    memcpy(dict_seed, seed, sizeof(dict_seed));
    dict_rng_state = siphash("dict-rng", 8, dict_seed);
}

uint64_t dict_hash(const char *key, size_t len)
{
    return siphash(key, len, dict_seed);
}

uint64_t dict_hash_nocase(const char *key, size_t len)
{
    return siphash_nocase(key, len, dict_seed);
}

/* splitmix64: a fast generator, good enough to pick buckets. */
static uint64_t dict_rand(void)
{
    uint64_t z = (dict_rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t dict_node_hash(const dict *d, const dict_node *n)
{
    const char *key;
    size_t len;
    d->type->node_key(n, &key, &len);
    return dict_hash(key, len);
}

static int dict_node_has_key(const dict *d, const dict_node *n, const char *key, size_t len)
{
    const char *nkey;
    size_t nlen;
    d->type->node_key(n, &nkey, &nlen);
    return nlen == len && memcmp(nkey, key, len) == 0;
}

/* --------------------------------------------------------- the table */

dict *dict_create(const dict_type *type)
{
    dict *d = tcalloc(sizeof(*d));
    d->type = type;
    return d;
}

unsigned long dict_size(const dict *d)
{
    return d->used[0] + d->used[1];
}

unsigned long dict_buckets(const dict *d)
{
    return d->size[0] + d->size[1];
}

int dict_is_rehashing(const dict *d)
{
    return d->table[1] != NULL;
}

static void dict_free_table(dict_node **table, unsigned long size, dict_free_fn *free_node,
                            void *priv)
{
    for (unsigned long i = 0; free_node && i < size; i++) {
        dict_node *n = table[i];
        while (n) {
            dict_node *next = n->next;
            free_node(n, priv);
            n = next;
        }
    }
    tfree(table);
}

void dict_empty(dict *d, dict_free_fn *free_node, void *priv)
{
    tassert(d->safe_iters == NULL);
    for (int t = 0; t < 2; t++)
        dict_free_table(d->table[t], d->size[t], free_node, priv);
    const dict_type *type = d->type;
    memset(d, 0, sizeof(*d));
    d->type = type;
}

void dict_release(dict *d, dict_free_fn *free_node, void *priv)
{
    dict_empty(d, free_node, priv);
    tfree(d);
}

/* ------------------------------------------------------------ rehashing */

static void dict_start_rehash(dict *d, unsigned long size)
{
    d->table[1] = tcalloc(size * sizeof(dict_node *));
    d->size[1] = size;
    d->used[1] = 0;
    d->rehash_idx = 0;
}

static void dict_finish_rehash(dict *d)
{
    tfree(d->table[0]);
    d->table[0] = d->table[1];
    d->size[0] = d->size[1];
    d->used[0] = d->used[1];
    d->table[1] = NULL;
    d->size[1] = 0;
    d->used[1] = 0;
    d->rehash_idx = 0;
}

/* Moves the chain of bucket idx of table 0 to table 1. When shrinking, the
 * new index is the old one's low bits: no need to hash. */
static void dict_move_bucket(dict *d, unsigned long idx)
{
    unsigned long mask = d->size[1] - 1;
    int shrinking = d->size[1] < d->size[0];
    dict_node *n = d->table[0][idx];
    while (n) {
        dict_node *next = n->next;
        unsigned long j = shrinking ? idx & mask : dict_node_hash(d, n) & mask;
        n->next = d->table[1][j];
        d->table[1][j] = n;
        d->used[0]--;
        d->used[1]++;
        n = next;
    }
    d->table[0][idx] = NULL;
}

/* Up to n steps, each moving one non-empty bucket; passes over at most 10
 * empty buckets per step. Returns the buckets moved. */
static unsigned long dict_rehash(dict *d, unsigned long n)
{
    unsigned long empty_visits = n * DICT_EMPTY_VISITS_PER_STEP;
    unsigned long moved = 0;
    if (!dict_is_rehashing(d)) return 0;
    while (moved < n && d->used[0] > 0) {
        while (d->table[0][d->rehash_idx] == NULL) {
            d->rehash_idx++;
            if (--empty_visits == 0) return moved;
        }
        dict_move_bucket(d, d->rehash_idx++);
        moved++;
    }
    if (d->used[0] == 0) dict_finish_rehash(d);
    return moved;
}

/* The step that operations perform, unless rehashing is paused. */
static void dict_rehash_step(dict *d)
{
    if (d->pause_rehash == 0) dict_rehash(d, 1);
}

int dict_rehash_steps(dict *d, int n)
{
    if (d->pause_rehash == 0 && n > 0) dict_rehash(d, (unsigned long)n);
    return dict_is_rehashing(d);
}

static long long dict_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long dict_rehash_ms(dict *d, long long budget_us)
{
    long long start = dict_now_us();
    long long moved = 0;
    while (d->pause_rehash == 0 && dict_is_rehashing(d)) {
        moved += (long long)dict_rehash(d, DICT_REHASH_BATCH);
        if (dict_now_us() - start >= budget_us) break;
    }
    return moved;
}

/* ------------------------------------------------------------- resizing */

void dict_set_resize_allowed(int allowed)
{
    dict_resize_allowed = allowed;
}

/* The smallest power of two >= n, at least the initial size. */
static unsigned long dict_power_at_least(unsigned long n)
{
    if (n <= DICT_INITIAL_SIZE) return DICT_INITIAL_SIZE;
    if (n > (~0UL >> 1)) return ~(~0UL >> 1);
    return 1UL << (64 - __builtin_clzl(n - 1));
}

/* Before an add: allocate the first table, or start growing if the load
 * calls for it. */
static void dict_grow_if_needed(dict *d)
{
    if (dict_is_rehashing(d)) return;
    if (d->size[0] == 0) {
        d->table[0] = tcalloc(DICT_INITIAL_SIZE * sizeof(dict_node *));
        d->size[0] = DICT_INITIAL_SIZE;
        return;
    }
    unsigned long used = d->used[0], size = d->size[0];
    if (used < size) return;
    if (dict_resize_allowed || used / size > DICT_FORCE_RESIZE_RATIO)
        dict_start_rehash(d, dict_power_at_least(used * 2));
}

int dict_expand(dict *d, unsigned long n)
{
    if (dict_is_rehashing(d)) return 0;
    unsigned long size = dict_power_at_least(n);
    if (size <= d->size[0]) return 0;
    if (d->size[0] == 0) { /* empty: the table is simply made at that size */
        d->table[0] = tcalloc(size * sizeof(dict_node *));
        d->size[0] = size;
        return 1;
    }
    dict_start_rehash(d, size);
    return 1;
}

int dict_try_shrink(dict *d)
{
    unsigned long used = d->used[0], size = d->size[0];
    if (!dict_resize_allowed || dict_is_rehashing(d) || size <= DICT_INITIAL_SIZE) return 0;
    if (used * 100 / size >= DICT_MIN_FILL_PERCENT) return 0;
    dict_start_rehash(d, dict_power_at_least(used));
    return 1;
}

/* ------------------------------------------------------ find, add, unlink */

/* The link (bucket head or next field) pointing at the node with this key,
 * or NULL; *table is set to the table holding it. Buckets of table 0 below
 * rehash_idx are known empty: not read (a cache miss saved). */
static dict_node **dict_link_of(dict *d, uint64_t h, const char *key, size_t len, int *table)
{
    for (int t = 0; t < 2 && d->table[t]; t++) {
        unsigned long idx = h & (d->size[t] - 1);
        if (t == 0 && dict_is_rehashing(d) && idx < d->rehash_idx) continue;
        dict_node **link = &d->table[t][idx];
        for (; *link; link = &(*link)->next) {
            if (dict_node_has_key(d, *link, key, len)) {
                *table = t;
                return link;
            }
        }
    }
    return NULL;
}

dict_node *dict_find(dict *d, const char *key, size_t len)
{
    int t;
    if (dict_size(d) == 0) return NULL;
    dict_rehash_step(d);
    dict_node **link = dict_link_of(d, dict_hash(key, len), key, len, &t);
    return link ? *link : NULL;
}

/* Puts n at the head of its bucket in the table new nodes go to. */
static void dict_insert_head(dict *d, uint64_t h, dict_node *n)
{
    int t = dict_is_rehashing(d) ? 1 : 0;
    dict_node **head = &d->table[t][h & (d->size[t] - 1)];
    n->next = *head;
    *head = n;
    d->used[t]++;
}

/* Before an add: a rehash step, growth if due, then n's hash and the link
 * of the node with the same key (NULL if none). */
static dict_node **dict_prepare_add(dict *d, dict_node *n, uint64_t *h)
{
    const char *key;
    size_t len;
    int t;
    dict_rehash_step(d);
    dict_grow_if_needed(d);
    d->type->node_key(n, &key, &len);
    *h = dict_hash(key, len);
    return dict_link_of(d, *h, key, len, &t);
}

dict_node *dict_add_or_find(dict *d, dict_node *n)
{
    uint64_t h;
    dict_node **link = dict_prepare_add(d, n, &h);
    if (link) return *link;
    dict_insert_head(d, h, n);
    return NULL;
}

int dict_add(dict *d, dict_node *n)
{
    return dict_add_or_find(d, n) ? -1 : 0;
}

/* A node leaves its place: safe iterators about to return it return its
 * successor in the chain instead. */
static void dict_redirect_iters(dict *d, const dict_node *gone, dict_node *instead);

dict_node *dict_add_or_replace(dict *d, dict_node *n)
{
    uint64_t h;
    dict_node **link = dict_prepare_add(d, n, &h);
    if (link) { /* one hash for the lookup and the replacement */
        dict_node *old = *link;
        n->next = old->next;
        *link = n;
        dict_redirect_iters(d, old, n);
        return old;
    }
    dict_insert_head(d, h, n);
    return NULL;
}

static void dict_redirect_iters(dict *d, const dict_node *gone, dict_node *instead)
{
    for (dict_iter *it = d->safe_iters; it; it = it->next_safe)
        if (it->next == gone) it->next = instead;
}

dict_node *dict_unlink(dict *d, const char *key, size_t len)
{
    int t;
    if (dict_size(d) == 0) return NULL;
    dict_rehash_step(d);
    dict_node **link = dict_link_of(d, dict_hash(key, len), key, len, &t);
    if (!link) return NULL;
    dict_node *n = *link;
    *link = n->next;
    d->used[t]--;
    dict_redirect_iters(d, n, n->next);
    n->next = NULL;
    return n;
}

void dict_replace_node(dict *d, dict_node *old, dict_node *new_node)
{
    uint64_t h = dict_node_hash(d, old);
    for (int t = 0; t < 2 && d->table[t]; t++) {
        dict_node **link = &d->table[t][h & (d->size[t] - 1)];
        while (*link && *link != old)
            link = &(*link)->next;
        if (*link) {
            new_node->next = old->next;
            *link = new_node;
            dict_redirect_iters(d, old, new_node);
            return;
        }
    }
    panic("dict_replace_node: the node is not in the dict");
}

/* ------------------------------------------------------------ iterating */

/* Mixes what any change to the dict's structure changes. */
static uint64_t dict_fingerprint(const dict *d)
{
    uint64_t parts[6] = {
        (uint64_t)(uintptr_t)d->table[0], d->size[0], d->used[0],
        (uint64_t)(uintptr_t)d->table[1], d->size[1], d->used[1],
    };
    uint64_t h = 0;
    for (int i = 0; i < 6; i++) {
        h = (h ^ parts[i]) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    return h;
}

void dict_iter_init(dict_iter *it, dict *d, int safe)
{
    memset(it, 0, sizeof(*it));
    it->d = d;
    it->safe = safe;
    if (safe) {
        d->pause_rehash++;
        it->next_safe = d->safe_iters;
        d->safe_iters = it;
    } else {
        it->fingerprint = dict_fingerprint(d);
    }
}

/* How many buckets ahead an iteration prefetches the first node: a full
 * walk (a snapshot, KEYS) is bound by the cache misses on each node, and the
 * bucket array itself is read in order. The node's first cache lines are
 * fetched (the keyspace's nodes hold the key and a short value inline). */
#define DICT_ITER_PREFETCH_AHEAD 16
#define DICT_ITER_PREFETCH_LINES 3

static inline void dict_prefetch_node(const dict_node *n)
{
    for (int i = 0; i < DICT_ITER_PREFETCH_LINES; i++)
        __builtin_prefetch((const char *)n + 64 * i);
}

/* Loads the chain of the next bucket into it->next: 0 past the last one. */
static int dict_iter_advance(dict_iter *it)
{
    const dict *d = it->d;
    while (it->bucket >= d->size[it->table]) {
        if (it->table == 1 || !dict_is_rehashing(d)) return 0;
        it->table = 1;
        it->bucket = 0;
    }
    dict_node *const *table = d->table[it->table];
    if (it->bucket + DICT_ITER_PREFETCH_AHEAD < d->size[it->table]) {
        const dict_node *ahead = table[it->bucket + DICT_ITER_PREFETCH_AHEAD];
        if (ahead) dict_prefetch_node(ahead);
    }
    it->next = table[it->bucket++];
    if (it->next && it->next->next) dict_prefetch_node(it->next->next); /* the chain's second */
    return 1;
}

dict_node *dict_iter_next(dict_iter *it)
{
    while (it->next == NULL) {
        if (!dict_iter_advance(it)) return NULL;
    }
    dict_node *n = it->next;
    it->next = n->next;
    return n;
}

static void dict_forget_iter(dict *d, const dict_iter *it)
{
    dict_iter **link = &d->safe_iters;
    while (*link != it)
        link = &(*link)->next_safe;
    *link = it->next_safe;
}

void dict_iter_release(dict_iter *it)
{
    dict *d = it->d;
    if (it->safe) {
        dict_forget_iter(d, it);
        d->pause_rehash--;
    } else if (it->fingerprint != dict_fingerprint(d)) {
        panic("dict: the dict changed during an unsafe iteration");
    }
}

/* ----------------------------------------------------------------- scan */

static unsigned long dict_reverse_bits(unsigned long v)
{
    v = __builtin_bswap64(v);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fUL) | ((v & 0x0f0f0f0f0f0f0f0fUL) << 4);
    v = ((v >> 2) & 0x3333333333333333UL) | ((v & 0x3333333333333333UL) << 2);
    v = ((v >> 1) & 0x5555555555555555UL) | ((v & 0x5555555555555555UL) << 1);
    return v;
}

/* Increments the masked bits of the cursor from the high one down; the
 * bits above the mask are cleared. */
static unsigned long dict_cursor_next(unsigned long v, unsigned long mask)
{
    v |= ~mask;
    return dict_reverse_bits(dict_reverse_bits(v) + 1);
}

static void dict_scan_bucket(dict_node *n, void (*fn)(void *priv, dict_node *n), void *priv)
{
    while (n) {
        dict_node *next = n->next;
        fn(priv, n);
        n = next;
    }
}

unsigned long dict_scan(dict *d, unsigned long cursor, void (*fn)(void *priv, dict_node *n),
                        void *priv)
{
    if (dict_size(d) == 0) return 0;
    d->pause_rehash++;
    if (!dict_is_rehashing(d)) {
        unsigned long mask = d->size[0] - 1;
        dict_scan_bucket(d->table[0][cursor & mask], fn, priv);
        cursor = dict_cursor_next(cursor, mask);
    } else {
        int small = d->size[0] <= d->size[1] ? 0 : 1;
        dict_node **big = d->table[!small];
        unsigned long m0 = d->size[small] - 1, m1 = d->size[!small] - 1;
        dict_scan_bucket(d->table[small][cursor & m0], fn, priv);
        /* The buckets of the larger table whose low bits are cursor & m0,
         * from the cursor's own high bits on; the last increment carries
         * into the low bits, moving to the next bucket of the small table. */
        do {
            dict_scan_bucket(big[cursor & m1], fn, priv);
            cursor = dict_cursor_next(cursor, m1);
        } while (cursor & (m0 ^ m1));
    }
    d->pause_rehash--;
    return cursor;
}

/* ------------------------------------------------------------- sampling */

/* Where the nodes can be: during a rehash table 0 from rehash_idx, then
 * table 1, as one range of indexes. */
static dict_node *dict_random_bucket(const dict *d)
{
    if (!dict_is_rehashing(d)) return d->table[0][dict_rand() & (d->size[0] - 1)];
    unsigned long span = d->size[0] + d->size[1] - d->rehash_idx;
    unsigned long i = d->rehash_idx + dict_rand() % span;
    return i < d->size[0] ? d->table[0][i] : d->table[1][i - d->size[0]];
}

dict_node *dict_random(dict *d)
{
    if (dict_size(d) == 0) return NULL;
    dict_rehash_step(d);
    dict_node *head;
    do {
        head = dict_random_bucket(d);
    } while (head == NULL);
    unsigned long len = 0;
    for (dict_node *n = head; n; n = n->next)
        len++;
    for (unsigned long k = dict_rand() % len; k > 0; k--)
        head = head->next;
    return head;
}

/* Bucket i of table t, or NULL when i is beyond it or already moved. */
static dict_node *dict_sample_bucket(const dict *d, int t, unsigned long i)
{
    if (i >= d->size[t]) return NULL;
    if (t == 0 && dict_is_rehashing(d) && i < d->rehash_idx) return NULL;
    return d->table[t][i];
}

unsigned dict_sample(dict *d, dict_node **out, unsigned count)
{
    if (count > dict_size(d)) count = (unsigned)dict_size(d);
    if (count == 0) return 0;
    for (unsigned j = 0; j < count && dict_is_rehashing(d); j++)
        dict_rehash_step(d);
    unsigned long size = d->size[0] > d->size[1] ? d->size[0] : d->size[1];
    unsigned long visits = (unsigned long)count * DICT_SAMPLE_VISITS_PER_NODE;
    unsigned long i = dict_rand() & (size - 1);
    unsigned got = 0;
    /* One pass over the indexes finds every node, and count <= dict_size:
     * the walk ends before it could come back to a bucket, so the nodes are
     * distinct. */
    for (; visits > 0 && got < count; visits--, i = (i + 1) & (size - 1)) {
        for (int t = 0; t < 2; t++) {
            dict_node *n = dict_sample_bucket(d, t, i);
            for (; n && got < count; n = n->next)
                out[got++] = n;
        }
    }
    return got;
}
