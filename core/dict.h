/* dict.h: the hash table of the keyspace (and of anything else that maps
 * byte-string keys to entries). A leaf: knows nothing of the server.
 *
 * Intrusive chaining. The caller embeds a dict_node as the first member of
 * its entry, so key, value and chain link can live in one allocation; the
 * dict allocates nothing per entry, only its bucket arrays (one pointer per
 * bucket). It never owns the entries: unlinking hands a node back, and the
 * release/empty functions take a callback to free them. The dict does not
 * store hashes; it asks the dict_type for a node's key bytes when it needs to
 * compare or rehash, and hashes them with SipHash under a process-wide seed.
 *
 * Two tables and incremental rehashing. Normally only table 0 exists. A
 * resize allocates table 1 with the new size and moves the buckets of table
 * 0 to it a few at a time: every find, add and unlink performs one step (one
 * non-empty bucket moved, at most 10 empty buckets passed over), and the cron
 * drives bulk progress with dict_rehash_ms() within a time budget. When table
 * 0 is empty, table 1 becomes table 0. During a rehash lookups search both
 * tables and new nodes go to table 1, so no operation ever has to touch the
 * whole table: ten million keys resize without stalling the event loop.
 *
 * Resize policy. Sizes are powers of two (index = hash & (size - 1)). The
 * first node allocates a 4-bucket table; a dict that never held a node has
 * no table. An add grows the table (to the next power of two >= 2 * used)
 * when used >= size, or, while resizing is disallowed process-wide (a fork
 * child is running and copy-on-write must be spared), only when used/size > 5.
 * Nothing shrinks on its own: the cron calls dict_try_shrink(), which, when
 * resizing is allowed and fewer than 10% of the buckets are used, rehashes to
 * the smallest power of two >= used (at least 4). A rehash never starts while
 * another is in progress.
 *
 * Iterators. A safe iterator pauses rehashing while it lives, so the caller
 * may unlink, replace or free any node (the one just returned included) and
 * add nodes while iterating; every node present throughout is returned
 * exactly once, nodes added meanwhile may or may not be. An unsafe iterator
 * allows no call on the dict that may change it (not even dict_find, which
 * performs a rehash step) until it is released; misuse that changes the
 * tables or counts is detected at release and aborts.
 *
 * SCAN. dict_scan() visits one bucket per call and returns a cursor. The
 * cursor is incremented in reversed bit order (the high bit of the bucket
 * index first), so the buckets already visited form a set of index prefixes
 * that stays "already visited" when the table doubles or halves between
 * calls. During a rehash the bucket of the smaller table and all its
 * expansions in the larger one are visited together. Hence every node present
 * from the first call to the last is returned at least once (some may be
 * returned more than once) whatever resizes happen in between.
 *
 * Not thread safe: one thread uses a dict (and the sampling random state). */
#ifndef TANDEM_DICT_H
#define TANDEM_DICT_H

#include <stddef.h>
#include <stdint.h>

/* Embedded as the first member of the caller's entry. */
typedef struct dict_node {
    struct dict_node *next;
} dict_node;

typedef struct dict_type {
    /* The key bytes of a node (for rehashing and comparing). */
    void (*node_key)(const dict_node *n, const char **key, size_t *len);
} dict_type;

typedef struct dict dict;

/* Frees one node when a dict is emptied or released. */
typedef void dict_free_fn(dict_node *n, void *priv);

/* ------------------------------------------------------------- hashing */

/* Sets the process-wide SipHash key (and seeds the sampling random source).
 * Call it once at start, before any dict holds nodes: nodes hashed under
 * another seed can no longer be found. */
void dict_set_hash_seed(const uint8_t seed[16]);
uint64_t dict_hash(const char *key, size_t len);
/* Hash that ignores ASCII case: "Get" and "GET" hash alike. */
uint64_t dict_hash_nocase(const char *key, size_t len);

/* --------------------------------------------------------- the table */

dict *dict_create(const dict_type *type);
/* Frees every node with free_node (NULL: the nodes are just forgotten) and
 * the dict. No safe iterator may be alive. */
void dict_release(dict *d, dict_free_fn *free_node, void *priv);
/* Frees every node like dict_release and drops the tables; d stays usable. */
void dict_empty(dict *d, dict_free_fn *free_node, void *priv);

dict_node *dict_find(dict *d, const char *key, size_t len);
/* Inserts n, whose key must not be present: 0, or -1 (nothing done) if the
 * key is present. */
int dict_add(dict *d, dict_node *n);
/* The node with n's key if there is one (n is not inserted), else inserts n
 * and returns NULL. */
dict_node *dict_add_or_find(dict *d, dict_node *n);
/* Inserts n, or puts it in the place of the node with the same key and
 * returns that node (for the caller to free); NULL if n was added. One
 * lookup, one hash. */
dict_node *dict_add_or_replace(dict *d, dict_node *n);
/* Removes the node with this key and returns it for the caller to free, or
 * NULL if absent. */
dict_node *dict_unlink(dict *d, const char *key, size_t len);
/* Puts new_node where old is in its chain (the caller reallocated the entry;
 * the key must be the same). old must be in d; it is left for the caller to
 * free. */
void dict_replace_node(dict *d, dict_node *old, dict_node *new_node);

unsigned long dict_size(const dict *d);
/* Buckets of both tables (memory: 8 bytes each). */
unsigned long dict_buckets(const dict *d);
int dict_is_rehashing(const dict *d);

/* ------------------------------------------------------------ resizing */

/* Process-wide: 0 while a fork child is running (see the policy above). */
void dict_set_resize_allowed(int allowed);
/* Sizes the table for n nodes ahead of time (a loader that knows the key
 * count from RESIZEDB): an empty dict gets its table at once, a populated
 * one starts rehashing to it. Does nothing if already that large or while
 * a rehash runs. 1 if it did something. */
int dict_expand(dict *d, unsigned long n);
/* Starts a shrinking rehash if the policy allows and calls for one: 1 if it
 * started one, else 0. */
int dict_try_shrink(dict *d);
/* Performs n rehash steps: 1 if the rehash is still in progress after them,
 * else 0. Does nothing (but answers) while a safe iterator pauses rehashing. */
int dict_rehash_steps(dict *d, int n);
/* Rehashes in batches of 100 steps until done or until budget_us
 * microseconds have passed; returns the buckets moved (0 if paused). */
long long dict_rehash_ms(dict *d, long long budget_us);

/* ----------------------------------------------------------- iterating */

/* Opaque to callers: stack-allocate, then init, next, release. */
typedef struct dict_iter {
    dict *d;
    dict_node *next;             /* next node of the current chain */
    struct dict_iter *next_safe; /* the dict's list of live safe iterators */
    unsigned long bucket;        /* next bucket to load */
    uint64_t fingerprint;        /* unsafe iterators: the dict at init */
    int table;
    int safe;
} dict_iter;

void dict_iter_init(dict_iter *it, dict *d, int safe);
/* The next node, or NULL at the end. */
dict_node *dict_iter_next(dict_iter *it);
/* Must be called once for every init, even after an early stop. */
void dict_iter_release(dict_iter *it);

/* Calls fn for the nodes of the bucket(s) at cursor and returns the next
 * cursor, 0 when the scan is complete (start with 0). fn must not add,
 * unlink or replace nodes of d; rehashing is paused during the call. */
unsigned long dict_scan(dict *d, unsigned long cursor, void (*fn)(void *priv, dict_node *n),
                        void *priv);

/* ------------------------------------------------------------ sampling */

/* A random node (a random non-empty bucket, then a random node of its
 * chain: nodes in long chains are a little less likely), or NULL if empty. */
dict_node *dict_random(dict *d);
/* Up to count distinct nodes into out, walking consecutive buckets from a
 * random one and visiting at most count * 10 buckets; returns how many. Cheap
 * but not uniform: for eviction and expiry sampling. */
unsigned dict_sample(dict *d, dict_node **out, unsigned count);

#endif
