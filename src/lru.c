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
	lru_list_unlink(t, i);
	for (int k = 0; k < LRU_KEYS; k++)
		strpool_put(t->pool, t->nodes[i].key[k]);
	t->evictions++;
	return i;
}

struct lru_node *lru_insert(struct lru *t, struct str *const key[LRU_KEYS], uint32_t hash, uint32_t now)
{
	uint32_t i;
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
	lru_list_push_newest(t, i);
	return n;
}
