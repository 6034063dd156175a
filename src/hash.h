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
#include <string.h>

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
 * slot) or where it guards against honest mix-ups, never for the index of
 * a table whose chains it would make long.  An inline definition (C99):
 * callers on the per-line path inline it; hash.c holds the one
 * out-of-line copy that -Os builds call. */
inline uint32_t hash_fast(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = (uint32_t)len * 0x9e3779b1u, w[4];
	if (len >= 8) { /* the first and the last eight bytes, overlapping in a short string */
		memcpy(w, p, 8);
		memcpy(w + 2, p + len - 8, 8);
		h = (h ^ w[0]) * 0x85ebca77u;
		h = (h ^ w[1]) * 0xc2b2ae3du;
		h = (h ^ w[2]) * 0x27d4eb2fu;
		h = (h ^ w[3]) * 0x165667b1u;
	} else if (len >= 4) { /* every byte, in two words that overlap */
		memcpy(w, p, 4);
		memcpy(w + 1, p + len - 4, 4);
		h = (h ^ w[0]) * 0x85ebca77u;
		h = (h ^ w[1]) * 0xc2b2ae3du;
	} else if (len > 0) { /* the bytes at 0, len / 2 and len - 1: all of them */
		h = (h ^ ((uint32_t)p[0] << 16 | (uint32_t)p[len / 2] << 8 | p[len - 1])) * 0x85ebca77u;
	}
	h = (h ^ h >> 15) * 0x2c1b3c6du; /* every bit of the result from every byte read */
	return h ^ h >> 13;
}

/* Combines hashes that are already keyed (interned strings') into one
 * table index: mixing, no secret needed. */
static inline uint32_t hash_mix(uint32_t h, uint32_t v)
{
	h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
	return h;
}

#endif
