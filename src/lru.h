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
struct lru_node *lru_touch(struct lru *t, struct str *const key[LRU_KEYS], uint32_t now);

/* Iteration from newest to oldest: for (i = t->newest; i != LRU_NIL; i = t->nodes[i].older) */

/* Bytes of memory the table holds (slab and index, not the strings). */
size_t lru_bytes(const struct lru *t);

#endif
