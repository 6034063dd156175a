/*
 * sessions.c - the DNSTT session table and per-domain counters (see
 * sessions.h).
 */
#include "sessions.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

/* The bucket of (domain, country, ASN), hashed as three 32-bit words (no
 * bytes copied into place: an unaligned copy is a call on MIPS16). */
static uint32_t group_bucket(const struct sessions *s, uint32_t d, const char *country, uint32_t asn)
{
	uint32_t key[3] = { d, (uint32_t)(unsigned char)country[0] << 8 | (unsigned char)country[1], asn };
	return (uint32_t)hash_bytes(&s->key, key, sizeof key) & (s->ngroup_buckets - 1);
}

/* A new group; the caller checked there is room. */
static uint32_t add_group(struct sessions *s, uint32_t d, const char *country, uint32_t asn)
{
	uint32_t b = group_bucket(s, d, country, asn), i = s->ngroups++;
	struct sessions_group *g = &s->groups[i];
	memset(g, 0, sizeof *g);
	g->domain = d;
	g->asn = asn;
	g->country[0] = country[0];
	g->country[1] = country[1];
	g->hnext = s->group_buckets[b];
	s->group_buckets[b] = i;
	return i;
}

static int make_groups(struct sessions *s, uint32_t max_groups)
{
	s->max_groups = max_groups < s->ndomains ? s->ndomains : max_groups;
	s->ngroup_buckets = pow2_at_least(s->max_groups);
	s->groups = malloc((size_t)s->max_groups * sizeof *s->groups);
	s->group_buckets = malloc((size_t)s->ngroup_buckets * sizeof *s->group_buckets);
	if (!s->groups || !s->group_buckets)
		return -1;
	for (uint32_t i = 0; i < s->ngroup_buckets; i++)
		s->group_buckets[i] = NIL;
	for (uint32_t d = 0; d < s->ndomains; d++)
		add_group(s, d, SESSIONS_UNMAPPED_COUNTRY, 0);
	return 0;
}

struct sessions *sessions_new(const char *const *domains, size_t ndomains, uint32_t window, uint32_t max,
                              uint32_t max_groups, const struct hash_key *key)
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
		d->len = (uint16_t)n;
		if (n > 0) {
			unsigned last = (unsigned char)d->name[n - 1] | 0x20u;
			s->last_chars[last >> 3] |= (uint8_t)(1u << (last & 7));
		}
	}
	s->nbuckets = pow2_at_least(s->max);
	s->nodes = malloc((size_t)s->max * sizeof *s->nodes);
	s->buckets = malloc((size_t)s->nbuckets * sizeof *s->buckets);
	if (!s->nodes || !s->buckets || (max_groups && make_groups(s, max_groups) != 0)) {
		sessions_free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < s->nbuckets; i++)
		s->buckets[i] = NIL;
	return s;
}

uint32_t sessions_group(struct sessions *s, uint32_t d, const char *country, uint32_t asn)
{
	if (!s->groups)
		return 0;
	for (uint32_t i = s->group_buckets[group_bucket(s, d, country, asn)]; i != NIL; i = s->groups[i].hnext) {
		const struct sessions_group *g = &s->groups[i];
		if (g->domain == d && g->asn == asn && g->country[0] == country[0] && g->country[1] == country[1])
			return i;
	}
	if (s->ngroups == s->max_groups) {
		s->group_overflows++;
		return d; /* the domain's unmapped group */
	}
	return add_group(s, d, country, asn);
}

void sessions_free(struct sessions *s)
{
	if (!s)
		return;
	free(s->nodes);
	free(s->buckets);
	free(s->groups);
	free(s->group_buckets);
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

int sessions_seen(struct sessions *s, uint32_t d, uint32_t g, const uint8_t id[SESSIONS_ID_LEN], uint32_t now)
{
	uint32_t b = bucket_of(s, d, id), i;
	for (i = s->buckets[b]; i != NIL; i = s->nodes[i].hnext)
		if (s->nodes[i].domain == d && memcmp(s->nodes[i].id, id, SESSIONS_ID_LEN) == 0) {
			s->nodes[i].last_seen = now;
			s->nodes[i].group = g;
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
	n->group = g;
	n->last_seen = now;
	n->hnext = s->buckets[b];
	s->buckets[b] = i;
	push_newest(s, i);
	return 1;
}

static void add_message(struct sessions_tally *t, int is_response, size_t bytes, int is_new)
{
	if (is_response) {
		t->bytes_out += bytes;
	} else {
		t->queries++;
		t->bytes_in += bytes;
	}
	t->sessions += (uint64_t)is_new;
}

void sessions_count(struct sessions *s, uint32_t d, uint32_t g, int is_response, size_t bytes,
                    const uint8_t id[SESSIONS_ID_LEN], uint32_t now)
{
	int is_new = sessions_seen(s, d, g, id, now);
	add_message(&s->domain[d].n, is_response, bytes, is_new);
	if (s->groups)
		add_message(&s->groups[g].n, is_response, bytes, is_new);
}

static void raise_peak(struct sessions_tally *t)
{
	if (t->active > t->peak)
		t->peak = t->active;
}

void sessions_tick(struct sessions *s, uint32_t now)
{
	uint32_t from = now >= s->window ? now - s->window + 1 : 0;
	for (uint32_t d = 0; d < s->ndomains; d++)
		s->domain[d].n.active = 0;
	for (uint32_t g = 0; g < s->ngroups; g++)
		s->groups[g].n.active = 0;
	/* newest first: the first session too old ends the walk */
	for (uint32_t i = s->newest; i != NIL && s->nodes[i].last_seen >= from; i = s->nodes[i].older) {
		s->domain[s->nodes[i].domain].n.active++;
		if (s->groups)
			s->groups[s->nodes[i].group].n.active++;
	}
	for (uint32_t d = 0; d < s->ndomains; d++)
		raise_peak(&s->domain[d].n);
	for (uint32_t g = 0; g < s->ngroups; g++)
		raise_peak(&s->groups[g].n);
}

size_t sessions_bytes(const struct sessions *s)
{
	return sizeof *s + (size_t)s->max * sizeof *s->nodes + (size_t)s->nbuckets * sizeof *s->buckets +
	       (size_t)s->max_groups * sizeof *s->groups + (size_t)s->ngroup_buckets * sizeof *s->group_buckets;
}
