/*
 * hash.h - keyed hashing of attacker-chosen bytes (SipHash-1-3).
 *
 * Every hash table of the module is keyed with a random secret, so that no
 * one on the LAN can choose names that collide and turn O(1) into O(n).
 */
#ifndef DNSAGG_HASH_H
#define DNSAGG_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
	uint64_t k0, k1;
};

/* Fills *key from the kernel's random source; falls back to time and
 * addresses when none can be read (still unpredictable enough to spread). */
void hash_key_random(struct hash_key *key);

/* A key derived from a configured secret: the same secret, the same key. */
void hash_key_derive(struct hash_key *key, const void *secret, size_t len);

uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len);

/* Cheap and unkeyed: a string's length and its first and last eight bytes,
 * not the ones between.  Only where a collision costs a miss (a cache's
 * slot) or where it guards against honest mix-ups (which client a serial
 * belongs to), never for the index of a table whose chains it would make
 * long. */
uint32_t hash_fast(const void *data, size_t len);

/* Combines hashes that are already keyed (interned strings') into one
 * table index: mixing, no secret needed. */
static inline uint32_t hash_mix(uint32_t h, uint32_t v)
{
	h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
	return h;
}

#endif
