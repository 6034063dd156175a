/*
 * sessions.c - the DNSTT session table and per-domain counters (see
 * sessions.h).
 */
#include "sessions.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct sessions *sessions_new(const char *const *domains, size_t ndomains, uint32_t window, uint32_t max,
                              const struct hash_key *key)
{
	struct sessions *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->window = window ? window : SESSIONS_DEFAULT_WINDOW;
	s->max = max ? max : SESSIONS_DEFAULT_MAX;
	s->key = *key;
	s->newest = s->oldest = NIL;
	for (size_t i = 0; i < ndomains && s->ndomains < SESSIONS_MAX_DOMAINS; i++) {
		struct sessions_domain *d = &s->domain[s->ndomains++];
		size_t n = strlen(domains[i]);
		if (n > 0 && domains[i][n - 1] == '.')
			n--;
		if (n > SESSIONS_DOMAIN_MAX)
			n = SESSIONS_DOMAIN_MAX;
		for (size_t j = 0; j < n; j++) {
			char c = domains[i][j];
			d->name[j] = c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
		}
		d->name[n] = '\0';
	}
	s->nbuckets = 1;
	while (s->nbuckets < s->max)
		s->nbuckets <<= 1;
	s->nodes = malloc((size_t)s->max * sizeof *s->nodes);
	s->buckets = malloc((size_t)s->nbuckets * sizeof *s->buckets);
	if (!s->nodes || !s->buckets) {
		sessions_free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < s->nbuckets; i++)
		s->buckets[i] = NIL;
	return s;
}

void sessions_free(struct sessions *s)
{
	if (!s)
		return;
	free(s->nodes);
	free(s->buckets);
	free(s);
}

static uint32_t bucket_of(const struct sessions *s, uint32_t d, const uint8_t id[SESSIONS_ID_LEN])
{
	uint8_t key[SESSIONS_ID_LEN + 1];
	memcpy(key, id, SESSIONS_ID_LEN);
	key[SESSIONS_ID_LEN] = (uint8_t)d;
	return (uint32_t)hash_bytes(&s->key, key, sizeof key) & (s->nbuckets - 1);
}

static void unlink_recency(struct sessions *s, uint32_t i)
{
	struct sessions_node *n = &s->nodes[i];
	if (n->newer != NIL)
		s->nodes[n->newer].older = n->older;
	else
		s->newest = n->older;
	if (n->older != NIL)
		s->nodes[n->older].newer = n->newer;
	else
		s->oldest = n->newer;
}

static void push_newest(struct sessions *s, uint32_t i)
{
	struct sessions_node *n = &s->nodes[i];
	n->newer = NIL;
	n->older = s->newest;
	if (s->newest != NIL)
		s->nodes[s->newest].newer = i;
	s->newest = i;
	if (s->oldest == NIL)
		s->oldest = i;
}

static void unlink_bucket(struct sessions *s, uint32_t i)
{
	struct sessions_node *n = &s->nodes[i];
	uint32_t *p = &s->buckets[bucket_of(s, n->domain, n->id)];
	while (*p != NIL && *p != i)
		p = &s->nodes[*p].hnext;
	if (*p == i)
		*p = n->hnext;
}

int sessions_seen(struct sessions *s, uint32_t d, const uint8_t id[SESSIONS_ID_LEN], uint32_t now)
{
	uint32_t b = bucket_of(s, d, id), i;
	for (i = s->buckets[b]; i != NIL; i = s->nodes[i].hnext)
		if (s->nodes[i].domain == d && memcmp(s->nodes[i].id, id, SESSIONS_ID_LEN) == 0) {
			s->nodes[i].last_seen = now;
			unlink_recency(s, i);
			push_newest(s, i);
			return 0;
		}
	if (s->used < s->max) {
		i = s->used++;
	} else {
		i = s->oldest;
		unlink_recency(s, i);
		unlink_bucket(s, i);
		s->evictions++;
	}
	struct sessions_node *n = &s->nodes[i];
	memcpy(n->id, id, SESSIONS_ID_LEN);
	n->domain = d;
	n->last_seen = now;
	n->hnext = s->buckets[b];
	s->buckets[b] = i;
	push_newest(s, i);
	return 1;
}

void sessions_tick(struct sessions *s, uint32_t now)
{
	uint32_t from = now >= s->window ? now - s->window + 1 : 0;
	for (uint32_t d = 0; d < s->ndomains; d++)
		s->domain[d].active = 0;
	/* newest first: the first session too old ends the walk */
	for (uint32_t i = s->newest; i != NIL && s->nodes[i].last_seen >= from; i = s->nodes[i].older)
		s->domain[s->nodes[i].domain].active++;
	for (uint32_t d = 0; d < s->ndomains; d++)
		if (s->domain[d].active > s->domain[d].peak)
			s->domain[d].peak = s->domain[d].active;
}

size_t sessions_bytes(const struct sessions *s)
{
	return sizeof *s + (size_t)s->max * sizeof *s->nodes + (size_t)s->nbuckets * sizeof *s->buckets;
}
