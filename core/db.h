/* db.h: the numbered databases (`databases`, 16 by default). This module
 * holds what the foundation needs of them (which indexes exist, their key
 * counts, flushing); the keyspace work fills each with a hash table. */
#ifndef TANDEM_DB_H
#define TANDEM_DB_H

void db_init(int count);
void db_free_all(void);
int db_count(void);
int db_valid_index(long long id);
long long db_size(int id);
/* Removes every key of one database (or all with id -1); returns the number
 * of keys removed. */
long long db_flush(int id);

#endif
