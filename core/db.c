/* db.c: the keyspace (see db.h). Each database is two intrusive hash
 * tables: keys (the kvs themselves) and expires (small nodes pointing at
 * the kvs that have an expiry, with the time). A kv's has_expire bit says
 * whether the second lookup is needed at all. */
#include "core/db.h"

#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/bio.h"
#include "core/panic.h"

#define ACTIVE_EXPIRE_KEYS_PER_LOOP 20
#define ACTIVE_EXPIRE_TIME_PERC 25    /* of a cron tick */
#define ACTIVE_EXPIRE_STALE_PERC 25   /* repeat while more than this expired */
#define ACTIVE_EXPIRE_BATCH 64        /* nodes collected per scan call, at most */
#define REHASH_BUDGET_US 1000

typedef struct expire_node {
    dict_node node;
    kv *o;
    long long when;
} expire_node;

static void expire_node_key(const dict_node *n, const char **key, size_t *len)
{
    const kv *o = ((const expire_node *)n)->o;
    *key = o->data;
    *len = o->keylen;
}

static const dict_type expire_dict_type = {expire_node_key};

typedef struct db {
    dict *keys;
    dict *expires;
    unsigned long expire_cursor;
    long long avg_ttl;
} db;

static struct {
    db *dbs;
    int count;
    enum db_expire_mode mode;
    db_expired_fn *expired_hook;
    db_stats stats;
    int active_expire;
    int expire_next_db;
    int rehash_next_db;
    unsigned lru_clock; /* the access clock, refreshed by the cron */
} ks;

/* ------------------------------------------------------------ set-up */

static void db_make(db *d)
{
    d->keys = dict_create(&kv_dict_type);
    d->expires = dict_create(&expire_dict_type);
    d->expire_cursor = 0;
    d->avg_ttl = 0;
}

void db_init(int count)
{
    ks.dbs = tcalloc(sizeof(db) * (size_t)count);
    ks.count = count;
    for (int i = 0; i < count; i++) db_make(&ks.dbs[i]);
    ks.active_expire = 1;
    ks.lru_clock = kv_lru_clock(db_time_ms());
}

static void free_kv_node(dict_node *n, void *priv)
{
    (void)priv;
    kv_free((kv *)n);
}

static void free_expire_node(dict_node *n, void *priv)
{
    (void)priv;
    tfree(n);
}

static void db_release(db *d)
{
    dict_release(d->expires, free_expire_node, NULL);
    dict_release(d->keys, free_kv_node, NULL);
}

void db_free_all(void)
{
    for (int i = 0; i < ks.count; i++) db_release(&ks.dbs[i]);
    tfree(ks.dbs);
    ks.dbs = NULL;
    ks.count = 0;
}

void db_set_expired_hook(db_expired_fn *fn) { ks.expired_hook = fn; }
void db_set_expire_mode(enum db_expire_mode mode) { ks.mode = mode; }
enum db_expire_mode db_get_expire_mode(void) { return ks.mode; }
db_stats *db_get_stats(void) { return &ks.stats; }
void db_set_active_expire(int on) { ks.active_expire = on; }
void db_set_resize_allowed(int allowed) { dict_set_resize_allowed(allowed); }

long long db_time_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int db_count(void) { return ks.count; }
int db_valid_index(long long id) { return id >= 0 && id < ks.count; }
long long db_size(int id) { return (long long)dict_size(ks.dbs[id].keys); }

long long db_total_keys(void)
{
    long long n = 0;
    for (int i = 0; i < ks.count; i++) n += db_size(i);
    return n;
}
long long db_expires_count(int id) { return (long long)dict_size(ks.dbs[id].expires); }
long long db_avg_ttl(int id) { return ks.dbs[id].avg_ttl; }

/* ------------------------------------------------------------ expiry */

static expire_node *expire_find(db *d, const kv *o)
{
    return (expire_node *)dict_find(d->expires, o->data, o->keylen);
}

long long db_get_expire(int id, const kv *o)
{
    if (!o->has_expire) return -1;
    expire_node *e = expire_find(&ks.dbs[id], o);
    return e ? e->when : -1;
}

void db_set_expire(int id, kv *o, long long when_ms)
{
    db *d = &ks.dbs[id];
    if (o->has_expire) {
        expire_node *e = expire_find(d, o);
        tassert(e != NULL);
        e->when = when_ms;
        return;
    }
    expire_node *e = tmalloc(sizeof(*e));
    e->o = o;
    e->when = when_ms;
    dict_add(d->expires, &e->node);
    o->has_expire = 1;
}

/* Drops the expiry entry of o (which stays in the keyspace or not). */
static void expire_remove(db *d, kv *o)
{
    if (!o->has_expire) return;
    dict_node *n = dict_unlink(d->expires, o->data, o->keylen);
    tfree(n);
    o->has_expire = 0;
}

int db_persist(int id, kv *o)
{
    if (!o->has_expire) return 0;
    expire_remove(&ks.dbs[id], o);
    return 1;
}

int db_is_expired(int id, const kv *o, long long now_ms)
{
    long long when = db_get_expire(id, o);
    return when >= 0 && now_ms > when;
}

/* Deletes an expired key and tells the hook (which propagates a DEL). */
static void db_delete_expired(int id, kv *o)
{
    char small[256];
    size_t len = o->keylen;
    char *key = len < sizeof(small) ? small : tmalloc(len);
    memcpy(key, o->data, len);
    db_delete(id, key, len);
    ks.stats.expired_keys++;
    if (ks.expired_hook) ks.expired_hook(id, key, len);
    if (key != small) tfree(key);
}

/* Whether o must be treated as missing; on a primary it is deleted. */
static int db_expire_if_needed(int id, kv *o)
{
    if (!o->has_expire || ks.mode == DB_EXPIRE_NONE) return 0;
    if (!db_is_expired(id, o, db_time_ms())) return 0;
    if (ks.mode == DB_EXPIRE_DELETE) db_delete_expired(id, o);
    return 1;
}

/* ------------------------------------------------------------ lookups */

kv *db_find(int id, const char *key, size_t len)
{
    return (kv *)dict_find(ks.dbs[id].keys, key, len);
}

kv *db_lookup_peek(int id, const char *key, size_t len)
{
    kv *o = db_find(id, key, len);
    if (o && db_expire_if_needed(id, o)) return NULL;
    return o;
}

static kv *db_touch(kv *o)
{
    if (o) o->lru = ks.lru_clock;
    return o;
}

kv *db_lookup_write(int id, const char *key, size_t len)
{
    return db_touch(db_lookup_peek(id, key, len));
}

kv *db_lookup_read_notouch(int id, const char *key, size_t len)
{
    kv *o = db_lookup_peek(id, key, len);
    if (o)
        ks.stats.keyspace_hits++;
    else
        ks.stats.keyspace_misses++;
    return o;
}

kv *db_lookup_read(int id, const char *key, size_t len)
{
    return db_touch(db_lookup_read_notouch(id, key, len));
}

/* ------------------------------------------------------------ changes */

void db_expand(int id, unsigned long keys, unsigned long expires)
{
    dict_expand(ks.dbs[id].keys, keys);
    if (expires) dict_expand(ks.dbs[id].expires, expires);
}

int db_try_add(int id, kv *o)
{
    o->has_expire = 0;
    o->lru = ks.lru_clock;
    return dict_add(ks.dbs[id].keys, &o->node);
}

void db_add(int id, kv *o)
{
    if (db_try_add(id, o) != 0) panic("db_add: key exists");
}

/* Moves o's expiry entry to point at new_o. */
static void expire_redirect(db *d, kv *o, kv *new_o)
{
    expire_node *e = expire_find(d, o);
    tassert(e != NULL);
    e->o = new_o;
    new_o->has_expire = 1;
}

void db_set(int id, kv *o, int keep_ttl)
{
    db *d = &ks.dbs[id];
    o->has_expire = 0;
    o->lru = ks.lru_clock;
    kv *old = (kv *)dict_add_or_replace(d->keys, &o->node);
    if (!old) return;
    if (old->has_expire) {
        if (keep_ttl)
            expire_redirect(d, old, o);
        else
            expire_remove(d, old);
    }
    kv_free(old);
}

kv *db_swap_kv(int id, kv *old, kv *new_o)
{
    db *d = &ks.dbs[id];
    new_o->has_expire = 0;
    if (old->has_expire) expire_redirect(d, old, new_o);
    dict_replace_node(d->keys, &old->node, &new_o->node);
    kv_free(old);
    return new_o;
}

kv *db_take(int id, const char *key, size_t len, long long *when)
{
    db *d = &ks.dbs[id];
    kv *o = (kv *)dict_find(d->keys, key, len);
    if (!o) return NULL;
    *when = db_get_expire(id, o);
    expire_remove(d, o);
    dict_unlink(d->keys, key, len);
    return o;
}

int db_delete(int id, const char *key, size_t len)
{
    long long when;
    kv *o = db_take(id, key, len, &when);
    if (!o) return 0;
    kv_free(o);
    return 1;
}

/* ------------------------------------------------------------ iteration */

typedef struct kv_visit {
    void (*fn)(void *priv, kv *o);
    void *priv;
} kv_visit;

static void db_visit_node(void *priv, dict_node *n)
{
    kv_visit *v = priv;
    v->fn(v->priv, (kv *)n);
}

unsigned long db_scan(int id, unsigned long cursor, void (*fn)(void *priv, kv *o), void *priv)
{
    kv_visit v = {fn, priv};
    return dict_scan(ks.dbs[id].keys, cursor, db_visit_node, &v);
}

void db_foreach(int id, void (*fn)(void *priv, kv *o), void *priv)
{
    dict_iter it;
    dict_iter_init(&it, ks.dbs[id].keys, 1);
    for (dict_node *n; (n = dict_iter_next(&it));) fn(priv, (kv *)n);
    dict_iter_release(&it);
}

/* Samples until a live key turns up. A primary deletes each expired key it
 * meets, so it ends with a key or an empty table. A replica deletes nothing:
 * when every key has an expiry (all may be expired) it gives up after 100
 * samples and returns the last, as Redis does; otherwise a key without one
 * will turn up. */
kv *db_random_key(int id)
{
    db *d = &ks.dbs[id];
    long long now = db_time_ms();
    for (int tries = 1;; tries++) {
        kv *o = (kv *)dict_random(d->keys);
        if (!o || !db_is_expired(id, o, now) || ks.mode == DB_EXPIRE_NONE) return o;
        if (ks.mode == DB_EXPIRE_DELETE)
            db_delete_expired(id, o);
        else if (tries >= 100 && dict_size(d->expires) == dict_size(d->keys))
            return o;
    }
}

/* ------------------------------------------------------------ flushing */

typedef struct db_garbage {
    dict *keys, *expires;
} db_garbage;

static void db_free_garbage(void *arg)
{
    db_garbage *g = arg;
    dict_release(g->expires, free_expire_node, NULL);
    dict_release(g->keys, free_kv_node, NULL);
    tfree(g);
}

static long long db_empty(db *d, int async)
{
    long long removed = (long long)dict_size(d->keys);
    if (async && removed > 0) {
        db_garbage *g = tmalloc(sizeof(*g));
        g->keys = d->keys;
        g->expires = d->expires;
        db_make(d);
        bio_submit(db_free_garbage, g);
    } else {
        dict_empty(d->expires, free_expire_node, NULL);
        dict_empty(d->keys, free_kv_node, NULL);
    }
    d->expire_cursor = 0;
    d->avg_ttl = 0;
    return removed;
}

long long db_flush(int id, int async)
{
    long long removed = 0;
    for (int i = 0; i < ks.count; i++)
        if (id == -1 || i == id) removed += db_empty(&ks.dbs[i], async);
    return removed;
}

int db_swap(int a, int b)
{
    if (!db_valid_index(a) || !db_valid_index(b)) return -1;
    db tmp = ks.dbs[a];
    ks.dbs[a] = ks.dbs[b];
    ks.dbs[b] = tmp;
    return 0;
}

/* ------------------------------------------------------------ detaching */

struct db_keyspace {
    db *dbs;
    int count;
};

db_keyspace *db_detach_all(void)
{
    db_keyspace *set = tmalloc(sizeof(*set));
    set->dbs = ks.dbs;
    set->count = ks.count;
    ks.dbs = tcalloc(sizeof(db) * (size_t)set->count);
    for (int i = 0; i < set->count; i++) db_make(&ks.dbs[i]);
    return set;
}

static void db_free_set(void *arg)
{
    db_keyspace *set = arg;
    for (int i = 0; i < set->count; i++) db_release(&set->dbs[i]);
    tfree(set->dbs);
    tfree(set);
}

void db_exchange_all(db_keyspace *set)
{
    db *dbs = ks.dbs;
    int count = ks.count;
    ks.dbs = set->dbs;
    ks.count = set->count;
    set->dbs = dbs;
    set->count = count;
}

void db_release_set(db_keyspace *set, int async)
{
    if (async)
        bio_submit(db_free_set, set);
    else
        db_free_set(set);
}

/* ------------------------------------------------------------ cron */

typedef struct expire_batch {
    expire_node *nodes[ACTIVE_EXPIRE_BATCH];
    int n;
} expire_batch;

static void expire_collect(void *priv, dict_node *n)
{
    expire_batch *b = priv;
    if (b->n < ACTIVE_EXPIRE_BATCH) b->nodes[b->n++] = (expire_node *)n;
}

/* One sampling loop over a database: returns the keys sampled and sets
 * *expired to those deleted. Resumes the scan where the last one stopped. */
static int active_expire_loop(int id, long long now, int *expired, long long *ttl_sum,
                              int *ttl_samples)
{
    db *d = &ks.dbs[id];
    int sampled = 0, buckets = 0;
    *expired = 0;
    while (sampled < ACTIVE_EXPIRE_KEYS_PER_LOOP && buckets < ACTIVE_EXPIRE_KEYS_PER_LOOP * 20) {
        expire_batch b = {.n = 0};
        d->expire_cursor = dict_scan(d->expires, d->expire_cursor, expire_collect, &b);
        buckets++;
        for (int i = 0; i < b.n; i++) {
            sampled++;
            if (now > b.nodes[i]->when) {
                db_delete_expired(id, b.nodes[i]->o);
                (*expired)++;
            } else {
                *ttl_sum += b.nodes[i]->when - now;
                (*ttl_samples)++;
            }
        }
        if (d->expire_cursor == 0) break;
    }
    return sampled;
}

static long long mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The active expiry cycle: sample keys with an expiry, delete the expired
 * ones, and repeat on a database while more than a quarter of a sample had
 * expired, within about a quarter of a cron tick. */
static void active_expire_cycle(int hz)
{
    long long start = mono_us();
    long long limit = 1000000LL * ACTIVE_EXPIRE_TIME_PERC / (hz > 0 ? hz : 10) / 100;
    long long total_sampled = 0, total_expired = 0;
    int timed_out = 0;
    for (int j = 0; j < ks.count && !timed_out; j++) {
        int id = ks.expire_next_db++ % ks.count;
        db *d = &ks.dbs[id];
        long long ttl_sum = 0;
        int ttl_samples = 0, loops = 0, expired, sampled;
        do {
            if (dict_size(d->expires) == 0) {
                d->avg_ttl = 0;
                break;
            }
            sampled = active_expire_loop(id, db_time_ms(), &expired, &ttl_sum, &ttl_samples);
            total_sampled += sampled;
            total_expired += expired;
            if ((++loops & 15) == 0 && mono_us() - start > limit) {
                timed_out = 1;
                ks.stats.expired_time_cap_reached_count++;
            }
        } while (!timed_out && sampled > 0 &&
                 expired * 100 > sampled * ACTIVE_EXPIRE_STALE_PERC);
        if (ttl_samples > 0) {
            long long avg = ttl_sum / ttl_samples;
            d->avg_ttl = d->avg_ttl ? (d->avg_ttl / 50) * 49 + avg / 50 : avg;
        }
    }
    long long elapsed = mono_us() - start;
    ks.stats.expire_cycle_cpu_ms += elapsed / 1000;
    double perc = total_sampled ? (double)total_expired / (double)total_sampled : 0;
    ks.stats.expired_stale_perc = perc * 0.05 + ks.stats.expired_stale_perc * 0.95;
}

/* Shrinks what can shrink, then rehashes one database for about 1 ms. */
static void db_rehash_step(void)
{
    for (int i = 0; i < ks.count; i++) {
        dict_try_shrink(ks.dbs[i].keys);
        dict_try_shrink(ks.dbs[i].expires);
    }
    for (int j = 0; j < ks.count; j++) {
        db *d = &ks.dbs[ks.rehash_next_db++ % ks.count];
        if (dict_is_rehashing(d->keys)) {
            dict_rehash_ms(d->keys, REHASH_BUDGET_US);
            return;
        }
        if (dict_is_rehashing(d->expires)) {
            dict_rehash_ms(d->expires, REHASH_BUDGET_US);
            return;
        }
    }
}

void db_cron(long long now_ms, int hz)
{
    (void)now_ms;
    ks.lru_clock = kv_lru_clock(db_time_ms());
    if (ks.active_expire && ks.mode == DB_EXPIRE_DELETE) active_expire_cycle(hz);
    db_rehash_step();
}
