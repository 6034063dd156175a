/*
 * strpool.c - the string interning pool: a chained hash table keyed with
 * SipHash, grown by doubling while the number of strings grows.  Its size
 * follows the number of live strings, which the tables that hold them bound.
 */
#include "strpool.h"
#include "hot.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 64u

int strpool_init(struct strpool *pool, const struct hash_key *key)
{
	memset(pool, 0, sizeof *pool);
	pool->key = *key;
	pool->buckets = calloc(INITIAL_BUCKETS, sizeof *pool->buckets);
	if (!pool->buckets)
		return -1;
	pool->nbuckets = INITIAL_BUCKETS;
	pool->bytes = INITIAL_BUCKETS * sizeof *pool->buckets;
	return 0;
}

void strpool_free(struct strpool *pool)
{
	for (uint32_t i = 0; i < pool->nbuckets; i++) {
		struct str *s = pool->buckets ? pool->buckets[i] : NULL;
		while (s) {
			struct str *next = s->next;
			free(s);
			s = next;
		}
	}
	free(pool->buckets);
	memset(pool, 0, sizeof *pool);
}

static void grow(struct strpool *pool)
{
	uint32_t n = pool->nbuckets * 2;
	struct str **buckets = calloc(n, sizeof *buckets);

	if (!buckets)
		return; /* longer chains, still correct */
	for (uint32_t i = 0; i < pool->nbuckets; i++) {
		struct str *s = pool->buckets[i];
		while (s) {
			struct str *next = s->next;
			s->next = buckets[s->hash & (n - 1)];
			buckets[s->hash & (n - 1)] = s;
			s = next;
		}
	}
	free(pool->buckets);
	pool->bytes += (size_t)(n - pool->nbuckets) * sizeof *buckets;
	pool->buckets = buckets;
	pool->nbuckets = n;
}

static struct str *lookup(const struct strpool *pool, const char *data, size_t len, uint32_t hash)
{
	for (struct str *s = pool->buckets[hash & (pool->nbuckets - 1)]; s; s = s->next)
		if (s->hash == hash && s->len == len && memcmp(s->data, data, len) == 0)
			return s;
	return NULL;
}

struct str *strpool_find(const struct strpool *pool, const char *data, size_t len)
{
	if (len > STRPOOL_MAX_LEN)
		return NULL;
	return lookup(pool, data, len, (uint32_t)hash_bytes(&pool->key, data, len));
}

/* Bytes of a string of len: its header up to the text, not the padding
 * after the last field (sizeof would count it: 6 bytes on x86-64, enough
 * to put a 20-character name in glibc's next chunk size up). */
static size_t str_size(size_t len)
{
	size_t n = offsetof(struct str, data) + len + 1;
	return n < sizeof(struct str) ? sizeof(struct str) : n;
}

struct str *strpool_get_uncached(struct strpool *pool, const char *data, size_t len, struct str **slot)
{
	if (len > STRPOOL_MAX_LEN)
		return NULL;
	if (!data)
		data = ""; /* an empty span may have no pointer: memcmp and memcpy want one */
	uint32_t hash = (uint32_t)hash_bytes(&pool->key, data, len);
	struct str *s = lookup(pool, data, len, hash);
	if (s) {
		str_ref(s);
	} else {
		s = malloc(str_size(len));
		if (!s)
			return NULL;
		s->refs = 1;
		s->hash = hash;
		s->len = (uint16_t)len;
		memcpy(s->data, data, len);
		s->data[len] = '\0';
		s->next = pool->buckets[hash & (pool->nbuckets - 1)];
		pool->buckets[hash & (pool->nbuckets - 1)] = s;
		pool->count++;
		pool->bytes += str_size(len);
		if (pool->count > pool->nbuckets)
			grow(pool);
	}
	slot[1] = slot[0];
	slot[0] = s;
	return s;
}

extern inline void strpool_put(struct strpool *pool, struct str *s);

void strpool_release(struct strpool *pool, struct str *s)
{
	struct str **link = &pool->buckets[s->hash & (pool->nbuckets - 1)];
	while (*link != s)
		link = &(*link)->next;
	*link = s->next;
	struct str **slot = strpool_recent_slot(pool, s->data, s->len);
	if (slot[0] == s)
		slot[0] = NULL;
	if (slot[1] == s)
		slot[1] = NULL;
	pool->frees[(slot - pool->recent) / 2]++;
	pool->count--;
	pool->bytes -= str_size(s->len);
	free(s);
}
