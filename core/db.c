/* db.c: the numbered databases (see db.h). */
#include "core/db.h"

#include "core/alloc.h"

typedef struct db {
    long long keys;
} db;

static db *dbs;
static int ndbs;

void db_init(int count)
{
    dbs = tcalloc(sizeof(db) * (size_t)count);
    ndbs = count;
}

void db_free_all(void)
{
    tfree(dbs);
    dbs = NULL;
    ndbs = 0;
}

int db_count(void) { return ndbs; }
int db_valid_index(long long id) { return id >= 0 && id < ndbs; }
long long db_size(int id) { return db_valid_index(id) ? dbs[id].keys : 0; }

long long db_flush(int id)
{
    long long removed = 0;
    for (int i = 0; i < ndbs; i++) {
        if (id != -1 && i != id) continue;
        removed += dbs[i].keys;
        dbs[i].keys = 0;
    }
    return removed;
}
