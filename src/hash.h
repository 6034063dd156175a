/*
 * hash.h - keyed hashing of attacker-chosen bytes: SipHash-1-3 for
 * strings, multiply-shift for a few fixed words.
 *
 * Every hash table of the module is keyed with a random secret, so that no
 * one on the LAN can choose names that collide and turn O(1) into O(n).
 */
#ifndef DNSAGG_HASH_H
#define DNSAGG_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hot.h"

struct hash_key {
	uint64_t k0, k1;
};

/* Fills *key from the kernel's random source; falls back to time and
 * addresses when none can be read (still unpredictable enough to spread). */
void hash_key_random(struct hash_key *key);

/* A key derived from a configured secret: the same secret, the same key. */
void hash_key_derive(struct hash_key *key, const void *secret, size_t len);

uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len);

/* SipHash-1-3 (Aumasson and Bernstein), written from the paper's
 * description: what hash_bytes() computes (hash.c; a packet's exchange key
 * is a multiply-shift now, pktquery.c). */
#define HASH_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct hash_sip {
	uint64_t v0, v1, v2, v3;
};

HOT void hash_sip_round(struct hash_sip *s)
{
	s->v0 += s->v1; s->v1 = HASH_ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = HASH_ROTL(s->v0, 32);
	s->v2 += s->v3; s->v3 = HASH_ROTL(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = HASH_ROTL(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = HASH_ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = HASH_ROTL(s->v2, 32);
}

/* Eight bytes, little-endian whatever the host (MIPS routers are big):
 * there, byte by byte (a copy and a byte swap are two calls on MIPS16). */
HOT uint64_t hash_load_le64(const unsigned char *p)
{
	uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (unsigned i = 8; i--;)
		v = v << 8 | p[i];
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&v, p, sizeof v);
#else
#error "unknown byte order"
#endif
	return v;
}

/* The last len & 7 bytes of p[0..len), little-endian: a byte at a time
 * from the last (shifts by a constant: no libgcc call on a 32-bit host). */
HOT uint64_t hash_load_tail(const unsigned char *p, size_t len)
{
	uint64_t v = 0;
	for (size_t i = len; i > (len & ~(size_t)7);)
		v = v << 8 | p[--i];
	return v;
}

HOT uint64_t hash_sip13(const struct hash_key *key, const void *data, size_t len)
{
	const unsigned char *p = data;
	struct hash_sip s = {
		key->k0 ^ 0x736f6d6570736575ULL, key->k1 ^ 0x646f72616e646f6dULL,
		key->k0 ^ 0x6c7967656e657261ULL, key->k1 ^ 0x7465646279746573ULL,
	};
	size_t whole = len & ~(size_t)7;

	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m = hash_load_le64(p + i);
		s.v3 ^= m;
		hash_sip_round(&s);
		s.v0 ^= m;
	}
	uint64_t last = (uint64_t)(len & 0xff) << 56 | hash_load_tail(p, len);
	s.v3 ^= last;
	hash_sip_round(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	hash_sip_round(&s);
	hash_sip_round(&s);
	hash_sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* Multiply-shift for vectors (Dietzfelbinger, 1996; as Thorup's "High
 * Speed Hashing for Integers and Strings" states it): for words x[i] of 32
 * bits and random 64-bit a[i] and b, the high 32 bits of b + sum a[i] x[i]
 * (mod 2^64) are strongly universal: any two different inputs of the same
 * length collide with probability 2^-32, whatever they are, to someone who
 * does not know the key.  Two draws of the key make 64 bits (2^-64).  For
 * the few fixed fields of a packet's exchange (ports, ID, type, address):
 * a multiplication a word where SipHash takes 100 instructions; no table
 * that the outputs index ever tells a packet's sender whether they
 * collided, so the universal bound is the one that holds. */
#define HASH_MS_WORDS 6

struct hash_ms_key {
	uint64_t a[2][HASH_MS_WORDS], b[2];
};

/* The multipliers drawn from key (SipHash of their index: a PRF). */
void hash_ms_key_derive(struct hash_ms_key *ms, const struct hash_key *key);

/* The hash in two running sums: h = { k->b[0], k->b[1] }, then each word
 * added by its index (below HASH_MS_WORDS, each index once), inline. */
HOT void hash_ms_add(uint64_t h[2], const struct hash_ms_key *k, unsigned i, uint32_t x)
{
	h[0] += k->a[0][i] * x;
	h[1] += k->a[1][i] * x;
}

HOT uint64_t hash_ms_end(const uint64_t h[2])
{
	return (h[0] >> 32) << 32 | h[1] >> 32;
}

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
