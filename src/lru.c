/*
 * lru.c - the bounded least-recently-used counter table (see lru.h).
 */
#include "lru.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_NODES 64u

int lru_init(struct lru *t, uint32_t max, struct strpool *pool)
{
	memset(t, 0, sizeof *t);
	t->max = max ? max : 1;
	t->pool = pool;
	t->newest = t->oldest = LRU_NIL;
	return 0;
}

void lru_free(struct lru *t)
{
	for (uint32_t i = 0; i < t->used; i++)
		for (int k = 0; k < LRU_KEYS; k++)
			strpool_put(t->pool, t->nodes[i].key[k]);
	free(t->nodes);
	free(t->buckets);
	memset(t, 0, sizeof *t);
	t->newest = t->oldest = LRU_NIL;
}

size_t lru_bytes(const struct lru *t)
{
	return (size_t)t->allocated * sizeof *t->nodes + (size_t)t->nbuckets * sizeof *t->buckets;
}

static uint32_t key_hash_of(const struct str *s)
{
	return s ? s->hash : 0;
}

/* Written out for the three keys: the loop cost more than the mixing. */
#if LRU_KEYS != 3
#error "key_hash mixes three keys"
#endif
static uint32_t key_hash(struct str *const key[LRU_KEYS])
{
	return hash_mix(hash_mix(hash_mix(0, key_hash_of(key[0])), key_hash_of(key[1])), key_hash_of(key[2]));
}

static int same_key(const struct lru_node *n, struct str *const key[LRU_KEYS])
{
	for (int k = 0; k < LRU_KEYS; k++)
		if (n->key[k] != key[k])
			return 0;
	return 1;
}

static inline void list_unlink(struct lru *t, uint32_t i)
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

static void list_push_newest(struct lru *t, uint32_t i)
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

static void index_insert(struct lru *t, uint32_t i)
{
	uint32_t b = t->nodes[i].hash & (t->nbuckets - 1);
	t->nodes[i].hnext = t->buckets[b];
	t->buckets[b] = i;
}

static void index_remove(struct lru *t, uint32_t i)
{
	uint32_t *link = &t->buckets[t->nodes[i].hash & (t->nbuckets - 1)];
	while (*link != i)
		link = &t->nodes[*link].hnext;
	*link = t->nodes[i].hnext;
}

/* Doubles the slab (never past max) and keeps the index at least as large
 * as the slab.  Returns 0 when there is room for one more node. */
static int grow(struct lru *t)
{
	uint32_t want = t->allocated ? t->allocated * 2 : INITIAL_NODES;
	if (want > t->max || want < t->allocated)
		want = t->max;
	struct lru_node *nodes = realloc(t->nodes, (size_t)want * sizeof *nodes);
	if (!nodes)
		return -1;
	t->nodes = nodes;
	t->allocated = want;

	uint32_t nb = t->nbuckets ? t->nbuckets : 1;
	while (nb < want)
		nb *= 2;
	if (nb != t->nbuckets) {
		uint32_t *buckets = malloc((size_t)nb * sizeof *buckets);
		if (buckets) {
			free(t->buckets);
			t->buckets = buckets;
			t->nbuckets = nb;
			memset(buckets, 0xff, (size_t)nb * sizeof *buckets);
			for (uint32_t i = 0; i < t->used; i++)
				index_insert(t, i);
		} else if (!t->buckets) {
			return -1;
		}
	}
	return 0;
}

/* Takes the least recent node out of the table and returns its index. */
static uint32_t evict_oldest(struct lru *t)
{
	uint32_t i = t->oldest;
	index_remove(t, i);
	list_unlink(t, i);
	for (int k = 0; k < LRU_KEYS; k++)
		strpool_put(t->pool, t->nodes[i].key[k]);
	t->evictions++;
	return i;
}

struct lru_node *lru_touch(struct lru *t, struct str *const key[LRU_KEYS], uint32_t now)
{
	uint32_t hash = key_hash(key);
	uint32_t i;

	if (t->nbuckets) {
		for (i = t->buckets[hash & (t->nbuckets - 1)]; i != LRU_NIL; i = t->nodes[i].hnext) {
			struct lru_node *n = &t->nodes[i];
			if (n->hash == hash && same_key(n, key)) {
				if (t->newest != i) {
					list_unlink(t, i);
					list_push_newest(t, i);
				}
				n->last_seen = now;
				return n;
			}
		}
	}

	if (t->used < t->allocated || (t->used < t->max && grow(t) == 0))
		i = t->used++;
	else if (t->used > 0)
		i = evict_oldest(t);
	else
		return NULL;

	struct lru_node *n = &t->nodes[i];
	n->hash = hash;
	for (int k = 0; k < LRU_KEYS; k++)
		n->key[k] = key[k] ? str_ref(key[k]) : NULL;
	n->count = 0;
	n->first_seen = n->last_seen = now;
	index_insert(t, i);
	list_push_newest(t, i);
	return n;
}
