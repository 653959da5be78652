/* siphash.h: SipHash-2-4, the keyed 64-bit hash of Aumasson and Bernstein,
 * written from the algorithm's definition. With a secret random key an
 * attacker cannot choose keys that collide, so hash tables fed by clients
 * (the keyspace) keep their expected O(1) operations. A leaf. */
#ifndef TANDEM_SIPHASH_H
#define TANDEM_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* SipHash-2-4 of len bytes of in under the 16-byte key. */
uint64_t siphash(const void *in, size_t len, const uint8_t key[SIPHASH_KEY_LEN]);
/* The same as siphash() of the input with ASCII letters lowercased, so that
 * keys differing only in case hash alike. */
uint64_t siphash_nocase(const void *in, size_t len, const uint8_t key[SIPHASH_KEY_LEN]);

#endif
