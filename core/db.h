/* db.h: the keyspace: `databases` numbered databases, each a hash table of
 * kvs (object.h) and an index of the keys that have an expiry. Owns lookups
 * with lazy expiry, adding, replacing and deleting keys, expiry times, SCAN,
 * random keys, flushing (in the foreground or by a background thread),
 * SWAPDB, and databasesCron: incremental rehashing within about 1 ms a tick,
 * shrinking, and the active expiry cycle.
 *
 * Expiry follows Redis. On a primary an expired key is deleted when it is
 * touched (lazily) or found by the active cycle, and the deletion goes out
 * through the expired hook as a DEL, so replicas never rely on their own
 * clocks. On a replica (DB_EXPIRE_HIDE) reads treat an expired key as
 * missing but nothing deletes it: the primary's DEL will. While the
 * primary's stream is applied (DB_EXPIRE_NONE) keys are never expired. */
#ifndef TANDEM_DB_H
#define TANDEM_DB_H

#include <stddef.h>

#include "core/object.h"

enum db_expire_mode { DB_EXPIRE_DELETE = 0, DB_EXPIRE_HIDE, DB_EXPIRE_NONE };

typedef struct db_stats {
    long long keyspace_hits, keyspace_misses;
    long long expired_keys;
    long long expired_time_cap_reached_count;
    long long expire_cycle_cpu_ms;
    double expired_stale_perc;
} db_stats;

/* Told of every key deleted because it expired (to propagate a DEL). */
typedef void db_expired_fn(int id, const char *key, size_t len);

void db_init(int count);
void db_free_all(void);
void db_set_expired_hook(db_expired_fn *fn);
void db_set_expire_mode(enum db_expire_mode mode);
enum db_expire_mode db_get_expire_mode(void);
db_stats *db_get_stats(void);
/* Unix time in milliseconds, as expiry uses it. */
long long db_time_ms(void);

int db_count(void);
int db_valid_index(long long id);
long long db_size(int id);
/* Keys in every database together. */
long long db_total_keys(void);
long long db_expires_count(int id);
long long db_avg_ttl(int id);

/* Lookups return NULL for a missing or logically expired key. Both forms
 * update the access clock of a key found, as Redis does; the read form also
 * counts keyspace hits and misses. The notouch read (EXISTS, TYPE, TTL,
 * OBJECT) counts but leaves the clock. */
kv *db_lookup_read(int id, const char *key, size_t len);
kv *db_lookup_write(int id, const char *key, size_t len);
kv *db_lookup_read_notouch(int id, const char *key, size_t len);
/* Expires the key as lookups do, but neither counts nor touches (DEL, the
 * filters of SCAN). */
kv *db_lookup_peek(int id, const char *key, size_t len);
/* No expiry check, no statistics (DEBUG, digests, SCAN filters). */
kv *db_find(int id, const char *key, size_t len);

/* Sizes a database's tables for the given key and expiry counts (RESIZEDB,
 * DEBUG POPULATE) so a bulk load does not rehash over and over. */
void db_expand(int id, unsigned long keys, unsigned long expires);
/* Adds o, whose key must be absent. */
void db_add(int id, kv *o);
/* Adds o unless its key is present: 0, or -1 (o not added) with one
 * lookup (the loader's duplicate check). */
int db_try_add(int id, kv *o);
/* Stores o under its key, replacing and freeing any value there. The old
 * expiry is kept with keep_ttl (SET KEEPTTL, APPEND...), else dropped. */
void db_set(int id, kv *o, int keep_ttl);
/* Swaps new_o in for old (same key, e.g. a grown string) and frees old;
 * the expiry stays. Returns new_o. */
kv *db_swap_kv(int id, kv *old, kv *new_o);
/* Deletes a key: 1 if it existed. */
int db_delete(int id, const char *key, size_t len);
/* Removes a key and hands its kv to the caller (MOVE): expiry in *when. */
kv *db_take(int id, const char *key, size_t len, long long *when);

/* Expiry times are absolute Unix milliseconds; -1 means none. */
long long db_get_expire(int id, const kv *o);
void db_set_expire(int id, kv *o, long long when_ms);
/* 1 if o had an expiry. */
int db_persist(int id, kv *o);
/* Whether a key is past its expiry (regardless of the mode). */
int db_is_expired(int id, const kv *o, long long now_ms);

/* SCAN over one database (see dict_scan for the guarantee). fn must not
 * change the database. */
unsigned long db_scan(int id, unsigned long cursor, void (*fn)(void *priv, kv *o), void *priv);
/* Calls fn for every key; fn may not change the database. */
void db_foreach(int id, void (*fn)(void *priv, kv *o), void *priv);
/* A random key that is not expired, or NULL. */
kv *db_random_key(int id);

/* Empties one database or all (id -1); async hands the memory to the
 * background thread. Returns the number of keys removed. */
long long db_flush(int id, int async);
/* SWAPDB: 0, or -1 for an invalid index. */
int db_swap(int a, int b);

/* The whole keyspace set aside, so that a load can fill an empty one and
 * the old data comes back if the load fails (never good data for bad). */
typedef struct db_keyspace db_keyspace;
db_keyspace *db_detach_all(void);
/* Exchanges the installed keyspace with set, which then holds the one that
 * was installed; nothing is freed. A failed load puts the old data back this
 * way; a swapdb load keeps the new keyspace installed while it stores keys
 * and the old one while clients are served. */
void db_exchange_all(db_keyspace *set);
/* Frees a detached keyspace (async: in the background thread). */
void db_release_set(db_keyspace *set, int async);

/* databasesCron: rehash and shrink tables, run the active expiry cycle. */
void db_cron(long long now_ms, int hz);
void db_set_active_expire(int on);
/* Process-wide: forbid resizing while a fork child runs. */
void db_set_resize_allowed(int allowed);

#endif
