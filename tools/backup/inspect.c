/* inspect.c: `tandem-backup inspect FILE`: what a dump holds, read in one
 * pass of the loader (check.c): the aux fields, keys per database and per
 * type, keys with an expiry (and how many of those are already past), and
 * the biggest keys by serialized size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rdb/codec.h"
#include "tools/backup/backup.h"
#include "tools/backup/check.h"

#define INSPECT_TOP 10
#define INSPECT_TYPES 256
#define INSPECT_KEY_SHOWN 64

typedef unsigned long long ull;

typedef struct inspect_big {
    uint64_t db;
    int type;
    uint64_t bytes;
    char key[4 * INSPECT_KEY_SHOWN + 4]; /* printable, cut */
} inspect_big;

typedef struct inspect_state {
    str aux; /* "  key: value\n" lines in file order */
    long long per_type[INSPECT_TYPES];
    long long expired; /* expiry already past */
    long long now_ms;
    inspect_big top[INSPECT_TOP]; /* biggest first */
    int ntop;
} inspect_state;

/* p as text for a report line: unprintable bytes as \xNN, cut with "...". */
static void inspect_quote(char *out, size_t cap, const char *p, size_t n)
{
    size_t o = 0, i = 0;
    for (; i < n && i < INSPECT_KEY_SHOWN && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
    }
    if (i < n && o + 4 < cap) o += (size_t)snprintf(out + o, cap - o, "...");
    out[o] = '\0';
}

static void inspect_on_aux(const str key, const str val, void *priv)
{
    inspect_state *st = priv;
    char k[4 * INSPECT_KEY_SHOWN + 4], v[4 * INSPECT_KEY_SHOWN + 4];
    inspect_quote(k, sizeof(k), key, str_len(key));
    inspect_quote(v, sizeof(v), val, str_len(val));
    st->aux = str_cat_fmt(st->aux, "  %s: %s", k, v);
    /* The creation time, also as a date. */
    time_t when = (time_t)strtoll(val, NULL, 10);
    struct tm tm;
    char date[40];
    if (!strcmp(key, "ctime") && gmtime_r(&when, &tm) &&
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm))
        st->aux = str_cat_fmt(st->aux, " (%s)", date);
    st->aux = str_cat(st->aux, "\n");
}

static void inspect_on_key(const rdb_load_key *k, void *priv)
{
    inspect_state *st = priv;
    st->per_type[k->type & (INSPECT_TYPES - 1)]++;
    if (k->expire != -1 && k->expire < st->now_ms) st->expired++;
    if (st->ntop == INSPECT_TOP && k->bytes <= st->top[INSPECT_TOP - 1].bytes) return;
    int i = st->ntop < INSPECT_TOP ? st->ntop++ : INSPECT_TOP - 1;
    while (i > 0 && st->top[i - 1].bytes < k->bytes) {
        st->top[i] = st->top[i - 1];
        i--;
    }
    inspect_big *b = &st->top[i];
    b->db = k->db;
    b->type = k->type;
    b->bytes = k->bytes;
    inspect_quote(b->key, sizeof(b->key), k->key, k->keylen);
}

static void inspect_print(const char *path, const bk_check *c, const inspect_state *st)
{
    printf("file: %s\nbytes: %llu\nrdb version: %d\n", path, (ull)c->bytes, c->info.version);
    if (c->has_checksum)
        printf("checksum: %016llx\n", (ull)c->checksum);
    else
        printf("checksum: none stored\n");
    printf("aux fields:\n%s", str_len(st->aux) ? st->aux : "  (none)\n");
    long long expires = 0;
    for (int i = 0; i < c->ndbs; i++)
        expires += c->dbs[i].expires;
    printf("keys: %lld in %d database%s\n", c->keys, c->ndbs, c->ndbs == 1 ? "" : "s");
    for (int i = 0; i < c->ndbs; i++)
        printf("  db%llu: %lld keys, %lld with an expiry\n", (ull)c->dbs[i].db, c->dbs[i].keys,
               c->dbs[i].expires);
    printf("keys per type:\n");
    for (int t = 0; t < INSPECT_TYPES; t++)
        if (st->per_type[t]) printf("  %s: %lld\n", rdb_type_name(t), st->per_type[t]);
    printf("keys with an expiry: %lld (already past: %lld)\n", expires, st->expired);
    printf("biggest keys (serialized bytes):\n");
    for (int i = 0; i < st->ntop; i++)
        printf("  %2d. %llu bytes  db%llu  %s  \"%s\"\n", i + 1, (ull)st->top[i].bytes,
               (ull)st->top[i].db, rdb_type_name(st->top[i].type), st->top[i].key);
}

int bk_inspect(const char *path)
{
    inspect_state st = {.aux = str_empty(), .now_ms = (long long)time(NULL) * 1000};
    bk_check c = {.on_aux = inspect_on_aux, .on_key = inspect_on_key, .priv = &st};
    int code = BK_EXIT_OK;
    if (bk_check_file(path, &c) < 0) {
        bk_error("%s: %s", path, c.err);
        code = c.err_fs ? BK_EXIT_FS : BK_EXIT_VERIFY;
    } else {
        inspect_print(path, &c, &st);
    }
    bk_check_free(&c);
    str_free(st.aux);
    return code;
}
