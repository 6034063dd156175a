/*
 * agg.c - counting parsed lines into the tables, and the copy handed to the
 * scrape side (see agg.h).
 */
#include "agg.h"

#include <stdlib.h>
#include <string.h>

/* With the lock held: drops one reference to a lease map. */
static void leases_unref(struct leases *l)
{
	if (l && --l->refs == 0)
		leases_free(l);
}

struct agg *agg_new(const struct agg_config *cfg)
{
	struct agg *agg = calloc(1, sizeof *agg);
	if (!agg)
		return NULL;
	agg->cfg = *cfg;
	hash_key_random(&agg->key);
	if (pthread_mutex_init(&agg->mu, NULL) != 0) {
		free(agg);
		return NULL;
	}
	if (strpool_init(&agg->pool, &agg->key) != 0) {
		pthread_mutex_destroy(&agg->mu);
		free(agg);
		return NULL;
	}
	lru_init(&agg->entries, cfg->max_entries, &agg->pool);
	lru_init(&agg->clients, cfg->max_clients, &agg->pool);
	lru_init(&agg->servers, cfg->max_servers, &agg->pool);
	pending_init(&agg->pending);
	if (cfg->ndnstt_domains) {
		agg->dnstt = sessions_new(cfg->dnstt_domains, cfg->ndnstt_domains, cfg->dnstt_window,
		                          cfg->dnstt_max_sessions, cfg->geoip ? SESSIONS_DEFAULT_MAX_GROUPS : 0,
		                          &agg->key);
		if (!agg->dnstt) {
			agg->cfg.geoip = NULL; /* still the caller's */
			agg_free(agg);
			return NULL;
		}
	}
	for (size_t i = 0; i < SESSIONS_MAX_DOMAINS; i++)
		agg->cfg.dnstt_domains[i] = NULL; /* copied: the caller's strings need not outlive this call */
	return agg;
}

static void recent_free(struct agg *agg, struct recent *r)
{
	for (unsigned i = 0; i < RECENT_SLOTS; i++)
		strpool_put(&agg->pool, r->str[i]);
	memset(r, 0, sizeof *r);
}

void agg_free(struct agg *agg)
{
	if (!agg)
		return;
	recent_free(agg, &agg->recent_types);
	recent_free(agg, &agg->recent_servers);
	lru_free(&agg->entries);
	lru_free(&agg->clients);
	lru_free(&agg->servers);
	strpool_free(&agg->pool);
	leases_unref(agg->leases);
	sessions_free(agg->dnstt);
	geoip_close(agg->cfg.geoip);
	pthread_mutex_destroy(&agg->mu);
	free(agg);
}

static struct str *intern(struct agg *agg, struct logline_span span)
{
	struct str *s = strpool_get(&agg->pool, span.ptr, span.len);
	if (!s)
		agg->stats.alloc_failures++;
	return s;
}

/* intern(), looking first among the last few strings seen in this role. */
static struct str *intern_recent(struct agg *agg, struct recent *r, struct logline_span span)
{
	for (unsigned i = 0; i < RECENT_SLOTS; i++) {
		struct str *s = r->str[i];
		if (s && s->len == span.len && memcmp(s->data, span.ptr, span.len) == 0)
			return str_ref(s);
	}
	struct str *s = intern(agg, span);
	if (s) {
		unsigned slot = r->next++ % RECENT_SLOTS;
		strpool_put(&agg->pool, r->str[slot]);
		r->str[slot] = str_ref(s);
	}
	return s;
}

static uint32_t span_hash(const struct agg *agg, struct logline_span span)
{
	return (uint32_t)hash_bytes(&agg->key, span.ptr, span.len);
}

/* Bumps the counter of one key in a table. */
static void count_in(struct agg *agg, struct lru *table, struct str *k0, struct str *k1, struct str *k2,
                     uint32_t now)
{
	struct str *key[LRU_KEYS] = { k0, k1, k2 };
	struct lru_node *n = lru_touch(table, key, now);
	if (n)
		n->count++;
	else
		agg->stats.alloc_failures++;
}

static void apply_query(struct agg *agg, const struct logline *line, uint32_t now)
{
	struct str *client = intern(agg, line->client);
	struct str *domain = intern(agg, line->name);
	struct str *type = intern_recent(agg, &agg->recent_types, line->qtype);

	if (client && domain && type) {
		count_in(agg, &agg->entries, client, domain, type, now);
		count_in(agg, &agg->clients, client, NULL, NULL, now);
		if (line->has_serial)
			pending_query(&agg->pending, line->serial, hash_fast(client->data, client->len), agg->replies);
		else
			pending_query(&agg->pending, domain->hash, 0, agg->replies);
	}
	strpool_put(&agg->pool, client);
	strpool_put(&agg->pool, domain);
	strpool_put(&agg->pool, type);
}

static void apply_outcome(struct agg *agg, const struct logline *line, enum logline_source source,
                          enum logline_result result)
{
	if (line->has_serial && line->client.len)
		pending_outcome(&agg->pending, line->serial, hash_fast(line->client.ptr, line->client.len), source, result,
		                agg->replies);
	else if (!line->has_serial)
		pending_outcome(&agg->pending, span_hash(agg, line->name), 0, source, result, agg->replies);
}

void agg_apply(struct agg *agg, const struct logline *line, uint32_t now)
{
	agg->stats.lines[line->kind]++;
	switch (line->kind) {
	case LOGLINE_QUERY:
		apply_query(agg, line, now);
		break;
	case LOGLINE_FORWARDED: {
		struct str *server = intern_recent(agg, &agg->recent_servers, line->server);
		if (server)
			count_in(agg, &agg->servers, server, NULL, NULL, now);
		strpool_put(&agg->pool, server);
		break;
	}
	case LOGLINE_ANSWER:
		apply_outcome(agg, line, line->source, line->result);
		break;
	case LOGLINE_DUPLICATE:
		if (line->has_serial) /* the plain form cannot tell which query it was */
			apply_outcome(agg, line, SOURCE_UPSTREAM, RESULT_DUPLICATE);
		break;
	case LOGLINE_UNPARSED:
	case LOGLINE_OTHER:
		break;
	}
}

static void feed_line(struct agg *agg, struct linebuf *lb, const char *p, size_t len, uint32_t now)
{
	struct logline line;
	logline_parse_memo(p, len, &line, &lb->memo);
	agg_apply(agg, &line, now);
}

void agg_feed_bytes(struct agg *agg, struct linebuf *lb, const char *data, size_t len, uint32_t now)
{
	const char *p = data, *end = data + len;

	agg->stats.bytes_read += len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t part = (size_t)((eol ? eol : end) - p);

		if (lb->overlong) {
			/* the rest of a line already counted as unparsed */
		} else if (lb->len + part > LOGLINE_MAX) {
			lb->overlong = 1;
			lb->len = 0;
			agg->stats.lines[LOGLINE_UNPARSED]++;
		} else if (eol && lb->len == 0) {
			feed_line(agg, lb, p, part, now); /* the common case: no copy */
		} else {
			memcpy(lb->buf + lb->len, p, part);
			lb->len += part;
			if (eol) {
				feed_line(agg, lb, lb->buf, lb->len, now);
				lb->len = 0;
			}
		}
		if (!eol)
			break;
		lb->overlong = 0;
		p = eol + 1;
	}
}

void agg_flush_line(struct agg *agg, struct linebuf *lb, uint32_t now)
{
	if (lb->len > 0 && !lb->overlong)
		feed_line(agg, lb, lb->buf, lb->len, now);
	lb->len = 0;
	lb->overlong = 0;
}

void agg_dnstt_tick(struct agg *agg, uint32_t now)
{
	if (!agg->dnstt)
		return;
	agg_lock(agg);
	sessions_tick(agg->dnstt, now);
	agg_unlock(agg);
}

int agg_refresh_leases(struct agg *agg)
{
	if (agg->cfg.nlease_files == 0)
		return 0;
	uint64_t fp = leases_fingerprint(agg->cfg.lease_files, agg->cfg.nlease_files);
	agg_lock(agg);
	int unchanged = agg->leases && fp == agg->leases_fingerprint;
	agg_unlock(agg);
	if (unchanged)
		return 0;

	struct leases *fresh = leases_new(agg->cfg.max_leases, &agg->key);
	if (!fresh)
		return 0;
	/* Files that ended mid-line last time and have not changed since (a
	 * round ago, a second) are not being rewritten: a rewrite stopped. */
	int settled = fp == agg->leases_cut_fingerprint;
	for (size_t i = 0; i < agg->cfg.nlease_files; i++) {
		int missing;
		if (leases_load_file(fresh, agg->cfg.lease_files[i], settled, &missing) == -2) {
			leases_free(fresh); /* being rewritten: try again later */
			agg->leases_cut_fingerprint = fp;
			return 0;
		}
	}
	agg->leases_cut_fingerprint = 0;
	fresh->refs = 1; /* the aggregator's own */

	agg_lock(agg);
	leases_unref(agg->leases);
	agg->leases = fresh;
	agg->leases_fingerprint = fp;
	agg->stats.lease_reloads++;
	agg->stats.lease_bad_lines = fresh->bad_lines;
	agg_unlock(agg);
	return 1;
}

static size_t table_text_bytes(const struct lru *t)
{
	size_t bytes = 0;
	for (uint32_t i = 0; i < t->used; i++)
		for (int k = 0; k < LRU_KEYS; k++)
			if (t->nodes[i].key[k])
				bytes += t->nodes[i].key[k]->len + 1u;
	return bytes;
}

static const char *copy_str(char **arena, const struct str *s)
{
	char *dst = *arena;
	memcpy(dst, s->data, s->len + 1u);
	*arena += s->len + 1u;
	return dst;
}

static void copy_counters(const struct lru *t, struct view_counter *out, char **arena)
{
	uint32_t n = 0;
	for (uint32_t i = t->newest; i != LRU_NIL; i = t->nodes[i].older, n++) {
		const struct lru_node *node = &t->nodes[i];
		out[n].key = copy_str(arena, node->key[0]);
		out[n].count = node->count;
		out[n].first_seen = node->first_seen;
		out[n].last_seen = node->last_seen;
	}
}

struct agg_view *agg_view_new(struct agg *agg)
{
	struct agg_view *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->agg = agg;

	agg_lock(agg);
	size_t text = table_text_bytes(&agg->entries) + table_text_bytes(&agg->clients) +
	              table_text_bytes(&agg->servers);
	v->rows = malloc((agg->entries.used + 1u) * sizeof *v->rows);
	v->clients = malloc((agg->clients.used + 1u) * sizeof *v->clients);
	v->servers = malloc((agg->servers.used + 1u) * sizeof *v->servers);
	v->arena = malloc(text + 1);
	uint32_t ndnstt = agg->dnstt ? agg->dnstt->ndomains : 0;
	uint32_t ngroups = agg->dnstt ? agg->dnstt->ngroups : 0;
	v->dnstt = malloc((ndnstt + 1u) * sizeof *v->dnstt);
	v->dnstt_groups = malloc((ngroups + 1u) * sizeof *v->dnstt_groups);
	if (!v->rows || !v->clients || !v->servers || !v->arena || !v->dnstt || !v->dnstt_groups) {
		agg_unlock(agg);
		agg_view_free(v);
		return NULL;
	}

	char *arena = v->arena;
	const struct lru *t = &agg->entries;
	for (uint32_t i = t->newest; i != LRU_NIL; i = t->nodes[i].older) {
		const struct lru_node *node = &t->nodes[i];
		struct view_row *row = &v->rows[v->nrows++];
		row->client = copy_str(&arena, node->key[0]);
		row->domain = copy_str(&arena, node->key[1]);
		row->type = copy_str(&arena, node->key[2]);
		row->count = node->count;
		row->first_seen = node->first_seen;
		row->last_seen = node->last_seen;
	}
	copy_counters(&agg->clients, v->clients, &arena);
	v->nclients = agg->clients.used;
	copy_counters(&agg->servers, v->servers, &arena);
	v->nservers = agg->servers.used;

	if (ndnstt)
		memcpy(v->dnstt, agg->dnstt->domain, ndnstt * sizeof *v->dnstt);
	v->ndnstt = ndnstt;
	if (ngroups)
		memcpy(v->dnstt_groups, agg->dnstt->groups, ngroups * sizeof *v->dnstt_groups);
	v->ndnstt_groups = ngroups;
	v->dnstt_evictions = agg->dnstt ? agg->dnstt->evictions : 0;
	v->dnstt_group_overflows = agg->dnstt ? agg->dnstt->group_overflows : 0;
	memcpy(v->replies, agg->replies, sizeof v->replies);
	v->stats = agg->stats;
	v->cfg = agg->cfg;
	v->entry_evictions = agg->entries.evictions;
	v->client_evictions = agg->clients.evictions;
	v->memory_bytes = sizeof *agg + agg->pool.bytes + lru_bytes(&agg->entries) +
	                  lru_bytes(&agg->clients) + lru_bytes(&agg->servers) +
	                  (agg->dnstt ? sessions_bytes(agg->dnstt) : 0);
	v->leases = agg->leases;
	if (v->leases)
		v->leases->refs++;
	agg_unlock(agg);
	return v;
}

void agg_view_free(struct agg_view *v)
{
	if (!v)
		return;
	if (v->leases) {
		agg_lock(v->agg);
		leases_unref(v->leases);
		agg_unlock(v->agg);
	}
	free(v->rows);
	free(v->clients);
	free(v->servers);
	free(v->dnstt);
	free(v->dnstt_groups);
	free(v->arena);
	free(v);
}

const struct lease *view_lease(const struct agg_view *v, const char *client)
{
	return v->leases ? leases_find(v->leases, client, strlen(client)) : NULL;
}
