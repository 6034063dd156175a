/*
 * lru.h - a bounded table of counters keyed by up to three interned strings,
 * evicting the least recently used entry when full.
 *
 * Find, insert, touch and evict are O(1): a chained hash index over a slab
 * of nodes addressed by 32-bit indices, and a doubly linked recency list
 * through the same nodes.  The slab grows by doubling up to `max` nodes and
 * never beyond, so memory has a ceiling set by `max` alone.  Keys are
 * compared by pointer: equal interned strings are one object, and a key's
 * index comes from its strings' own (keyed) hashes, so no name chosen on
 * the LAN can make a chain long.
 */
#ifndef DNSAGG_LRU_H
#define DNSAGG_LRU_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "hot.h"
#include "strpool.h"

#define LRU_NIL UINT32_MAX
#define LRU_KEYS 3

struct lru_node {
	uint32_t hnext;            /* next node in the same bucket */
	uint32_t newer, older;     /* recency list */
	uint32_t hash;
	struct str *key[LRU_KEYS]; /* references held by the table; unused keys NULL */
	uint64_t count;
	uint32_t first_seen, last_seen; /* unix seconds */
};

struct lru {
	struct lru_node *nodes;
	uint32_t used, allocated, max;
	uint32_t *buckets;
	uint32_t nbuckets;          /* a power of two */
	uint32_t newest, oldest;
	uint64_t evictions;
	struct strpool *pool;
};

int lru_init(struct lru *t, uint32_t max, struct strpool *pool);
void lru_free(struct lru *t);

/*
 * Finds the entry for key[0..LRU_KEYS) (NULL for unused keys) and makes it
 * the most recent, or makes a new one (count 0, first seen `now`), evicting
 * the least recent entry when the table is full.  Returns NULL only when no
 * memory could be had for the very first node.
 */
HOT struct lru_node *lru_touch(struct lru *t, struct str *const key[LRU_KEYS], uint32_t now);

/* The rest of lru_touch() when the table does not hold the key: hash is
 * lru_key_hash(key). */
struct lru_node *lru_insert(struct lru *t, struct str *const key[LRU_KEYS], uint32_t hash, uint32_t now);

/* The index, the recency list and the finding of a key, inline where a
 * table is touched (HOT, hot.h: every line and packet touches two). */
HOT uint32_t lru_key_hash_of(const struct str *s)
{
	return s ? s->hash : 0;
}

/* Written out for the three keys: the loop cost more than the mixing. */
#if LRU_KEYS != 3
#error "lru_key_hash mixes three keys"
#endif
HOT uint32_t lru_key_hash(struct str *const key[LRU_KEYS])
{
	return hash_mix(hash_mix(hash_mix(0, lru_key_hash_of(key[0])), lru_key_hash_of(key[1])), lru_key_hash_of(key[2]));
}

HOT int lru_same_key(const struct lru_node *n, struct str *const key[LRU_KEYS])
{
	for (int k = 0; k < LRU_KEYS; k++)
		if (n->key[k] != key[k])
			return 0;
	return 1;
}

HOT void lru_list_unlink(struct lru *t, uint32_t i)
{
	struct lru_node *n = &t->nodes[i];
	if (n->newer != LRU_NIL)
		t->nodes[n->newer].older = n->older;
	else
		t->newest = n->older;
	if (n->older != LRU_NIL)
		t->nodes[n->older].newer = n->newer;
	else
		t->oldest = n->newer;
}

HOT void lru_list_push_newest(struct lru *t, uint32_t i)
{
	struct lru_node *n = &t->nodes[i];
	n->newer = LRU_NIL;
	n->older = t->newest;
	if (t->newest != LRU_NIL)
		t->nodes[t->newest].newer = i;
	t->newest = i;
	if (t->oldest == LRU_NIL)
		t->oldest = i;
}

HOT struct lru_node *lru_touch(struct lru *t, struct str *const key[LRU_KEYS], uint32_t now)
{
	uint32_t hash = lru_key_hash(key);
	if (t->nbuckets) {
		for (uint32_t i = t->buckets[hash & (t->nbuckets - 1)]; i != LRU_NIL; i = t->nodes[i].hnext) {
			struct lru_node *n = &t->nodes[i];
			if (n->hash == hash && lru_same_key(n, key)) {
				if (t->newest != i) {
					lru_list_unlink(t, i);
					lru_list_push_newest(t, i);
				}
				n->last_seen = now;
				return n;
			}
		}
	}
	return lru_insert(t, key, hash, now);
}

/* Iteration from newest to oldest: for (i = t->newest; i != LRU_NIL; i = t->nodes[i].older) */

/* Bytes of memory the table holds (slab and index, not the strings). */
size_t lru_bytes(const struct lru *t);

#endif
