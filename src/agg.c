/*
 * agg.c - counting parsed lines into the tables, and the copy handed to the
 * scrape side (see agg.h).
 */
#include "agg.h"
#include "hot.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* With the lock held: drops one reference to a lease map. */
static void leases_unref(struct leases *l)
{
	if (l && --l->refs == 0)
		leases_free(l);
}

/* The four counter tables by their place in struct agg, and their limits
 * by theirs in struct agg_config: one loop each where they are set up,
 * freed or measured. */
#define TABLES 4
static const unsigned short table_at[TABLES] = {
	offsetof(struct agg, entries), offsetof(struct agg, clients),
	offsetof(struct agg, servers), offsetof(struct agg, blocked)
};
static const unsigned char table_max_at[TABLES] = {
	offsetof(struct agg_config, max_entries), offsetof(struct agg_config, max_clients),
	offsetof(struct agg_config, max_servers), offsetof(struct agg_config, max_blocked)
};
typedef char table_offsets_fit[offsetof(struct agg, blocked) < 65536 ? 1 : -1];

static struct lru *table(struct agg *agg, int i)
{
	return (struct lru *)(void *)((char *)agg + table_at[i]);
}

struct agg *agg_new(const struct agg_config *cfg)
{
	struct agg *agg = calloc(1, sizeof *agg);
	if (!agg)
		return NULL;
	agg->cfg = *cfg;
	if (!agg->cfg.max_blocked)
		agg->cfg.max_blocked = AGG_DEFAULT_MAX_BLOCKED;
	hash_key_random(&agg->key);
	hash_ms_key_derive(&agg->exchange_key, &agg->key);
	if (pthread_mutex_init(&agg->mu, NULL) != 0) {
		free(agg);
		return NULL;
	}
	/* the tables and the pending ring before anything that can fail:
	 * agg_free() then frees whatever there is */
	for (int i = 0; i < TABLES; i++) {
		uint32_t max;
		memcpy(&max, (const char *)&agg->cfg + table_max_at[i], sizeof max);
		lru_init(table(agg, i), max, &agg->pool);
	}
	pending_init(&agg->pending);
	forwards_init(&agg->forwards, (uint32_t)(agg->key.k1 >> 32));
	if (strpool_init(&agg->pool, &agg->key) != 0)
		goto fail;
	if (cfg->ndnstt_domains) {
		agg->dnstt = sessions_new(cfg->dnstt_domains, cfg->ndnstt_domains, cfg->dnstt_window,
		                          cfg->dnstt_max_sessions, cfg->geoip ? SESSIONS_DEFAULT_MAX_GROUPS : 0,
		                          &agg->key);
		if (!agg->dnstt)
			goto fail;
	}
	for (size_t i = 0; i < SESSIONS_MAX_DOMAINS; i++)
		agg->cfg.dnstt_domains[i] = NULL; /* copied: the caller's strings need not outlive this call */
	return agg;
fail:
	agg->cfg.geoip = NULL; /* still the caller's */
	agg->cfg.names = NULL;
	agg_free(agg);
	return NULL;
}

void agg_free(struct agg *agg)
{
	if (!agg)
		return;
	for (int i = 0; i < TABLES; i++)
		lru_free(table(agg, i));
	strpool_free(&agg->pool);
	leases_unref(agg->leases);
	sessions_free(agg->dnstt);
	geoip_close(agg->cfg.geoip);
	names_free(agg->cfg.names);
	pthread_mutex_destroy(&agg->mu);
	free(agg);
}

/* HOT (hot.h): a query interns three strings. */
HOT struct str *intern(struct agg *agg, struct logline_span span)
{
	struct str *s = strpool_get(&agg->pool, span.ptr, span.len);
	if (!s)
		agg->stats.alloc_failures++;
	return s;
}

/* intern() of a query's name as stored (name), given name_fast, hash_fast()
 * of the name as seen (NULL: none): reused when the two are the same text. */
HOT struct str *intern_name(struct agg *agg, struct logline_span name, struct logline_span name_seen,
                            const uint32_t *name_fast)
{
	if (!name_fast || name.ptr != name_seen.ptr || name.len != name_seen.len)
		return intern(agg, name);
	struct str *s = strpool_get_fast(&agg->pool, name.ptr, name.len, *name_fast);
	if (!s)
		agg->stats.alloc_failures++;
	return s;
}

static uint32_t span_hash(const struct agg *agg, struct logline_span span)
{
	return (uint32_t)hash_bytes(&agg->key, span.ptr, span.len);
}

/* What ties an outcome to its query's client, beside the serial: the
 * address's length and its first and last eight bytes, which hold all of
 * an IPv4 client's.  Not a hash: it guards against honest mix-ups only. */
static uint64_t client_check(struct logline_span client)
{
	uint64_t first, last;
	if (client.len < 8)
		return hash_fast(client.ptr, client.len);
	memcpy(&first, client.ptr, 8);
	memcpy(&last, client.ptr + client.len - 8, 8);
	/* an even factor: with first == last (8 bytes) the sum is first times an odd number, one to one */
	return first * 0x9e3779b97f4a7c14u + last + client.len;
}

/* Bumps the counter of one key in a table.  HOT (hot.h): the unused keys
 * are constants where a query counts its client. */
HOT void count_in(struct agg *agg, struct lru *table, struct str *k0, struct str *k1, struct str *k2,
                     uint32_t now)
{
	struct str *key[LRU_KEYS] = { k0, k1, k2 };
	struct lru_node *n = lru_touch(table, key, now);
	if (n)
		n->count++;
	else
		agg->stats.alloc_failures++;
}

/* The client as stored: the address, nothing, or its pseudonym written to out. */
static struct logline_span client_label(const struct agg *agg, struct logline_span client,
                                        char out[AGG_PSEUDONYM_LEN])
{
	static const char hex[] = "0123456789abcdef";
	struct logline_span shown = { out, 0 };
	if (agg->cfg.clients == AGG_CLIENTS_HASH) {
		uint64_t h = hash_bytes(&agg->cfg.client_key, client.ptr, client.len);
		for (int i = 0; i < AGG_PSEUDONYM_LEN; i++, h >>= 4)
			out[i] = hex[h & 15];
		shown.len = AGG_PSEUDONYM_LEN;
	}
	return shown;
}

/* The client as the privacy options store it: the address, nothing or its
 * pseudonym (written to pseudonym). */
static inline struct logline_span stored_client(const struct agg *agg, struct logline_span client,
                                                char pseudonym[AGG_PSEUDONYM_LEN])
{
	if (agg->cfg.clients != AGG_CLIENTS_KEEP && client.len)
		return client_label(agg, client, pseudonym);
	return client;
}

/* The name as the privacy options store it in *shown (the name or its
 * folded form).  Returns 0 when the include/exclude rules leave it out. */
static inline int stored_name(const struct agg *agg, struct logline_span name, struct logline_span *shown)
{
	*shown = name;
	if (!agg->cfg.names)
		return 1;
	size_t skipped = 0;
	int counted = names_apply(agg->cfg.names, name.ptr, name.len, &skipped);
	shown->ptr += skipped;
	shown->len -= skipped;
	return counted;
}

/* What a query's client and name are stored as under the privacy options.
 * Returns 0 when the include/exclude rules leave the name out. */
static inline int stored_as(const struct agg *agg, struct logline_span client, struct logline_span name,
                            struct logline_span *who, struct logline_span *shown,
                            char pseudonym[AGG_PSEUDONYM_LEN])
{
	*who = stored_client(agg, client, pseudonym);
	return stored_name(agg, name, shown);
}

/* How a query is tied to the line that will tell its outcome: none (the
 * packet source ties its own), by the serial of the extra and proto forms,
 * or by the name in the plain form. */
enum query_tie { TIE_NONE, TIE_SERIAL, TIE_NAME };

/* The query type as interned: the one given (type_had, a reference handed
 * over), else qtype's text interned and, with a memo, remembered there. */
HOT struct str *query_type(struct agg *agg, struct str *type_had, struct logline_span qtype,
                           struct str_memo *memo)
{
	if (type_had)
		return type_had;
	struct str *type = intern(agg, qtype);
	if (memo)
		strpool_remember(&agg->pool, memo, type);
	return type;
}

/* One query of client (already interned in its stored form, the reference
 * handed over; NULL when that failed) for name and type, whichever source
 * saw it: the (client, domain, type) and client tables under the privacy
 * options, then the tie (with the serial for TIE_SERIAL, client_seen the
 * address as the line gave it).  The type is type_had when that is not
 * NULL (a reference handed over), else qtype's text, interned only when
 * the name is counted.  name_fast, when not NULL, is hash_fast() of
 * name_seen.  HOT (hot.h): inline in each source's path. */
HOT void count_query_of(struct agg *agg, struct str *client, struct logline_span client_seen,
                        struct logline_span name_seen, const uint32_t *name_fast, struct str *type_had,
                        struct logline_span qtype, struct str_memo *type_memo, enum query_tie tie,
                        uint64_t serial, uint32_t now)
{
	struct logline_span name;
	int counted = stored_name(agg, name_seen, &name);

	agg->stats.excluded += !counted;
	struct str *domain = counted ? intern_name(agg, name, name_seen, name_fast) : NULL;
	struct str *type = counted ? query_type(agg, type_had, qtype, type_memo) : NULL;
	if (!counted)
		strpool_put(&agg->pool, type_had);

	if (client && (!counted || (domain && type))) {
		if (counted)
			count_in(agg, &agg->entries, client, domain, type, now);
		count_in(agg, &agg->clients, client, NULL, NULL, now);
		/* outcomes are tied by what their own lines carry: the address, the whole name */
		if (tie != TIE_NONE) {
			uint64_t key = serial, check = 0;
			if (tie == TIE_SERIAL)
				check = client_check(client_seen);
			else
				key = domain && name.len == name_seen.len ? domain->hash : span_hash(agg, name_seen);
			pending_query(&agg->pending, key, check, agg->replies);
		}
	}
	strpool_put(&agg->pool, client);
	strpool_put(&agg->pool, domain);
	strpool_put(&agg->pool, type);
}

/* count_query_of() for the client as a line gives it. */
HOT void count_query(struct agg *agg, struct logline_span client_seen, struct logline_span name_seen,
                     struct logline_span qtype, enum query_tie tie, uint64_t serial, uint32_t now)
{
	char pseudonym[AGG_PSEUDONYM_LEN];
	struct str *client = intern(agg, stored_client(agg, client_seen, pseudonym));
	count_query_of(agg, client, client_seen, name_seen, NULL, NULL, qtype, NULL, tie, serial, now);
}

/* A query answered by a blocking rule, by client ("" in the plain form,
 * which names none) and name, both as the privacy options store them. */
static void count_blocked(struct agg *agg, struct logline_span client_seen, struct logline_span name_seen,
                          uint32_t now)
{
	struct logline_span name, who;
	char pseudonym[AGG_PSEUDONYM_LEN];
	if (!stored_as(agg, client_seen, name_seen, &who, &name, pseudonym))
		return; /* the rules leave the name out here too */
	struct str *client = intern(agg, who);
	struct str *domain = intern(agg, name);
	if (client && domain)
		count_in(agg, &agg->blocked, client, domain, NULL, now);
	strpool_put(&agg->pool, client);
	strpool_put(&agg->pool, domain);
}

static void apply_outcome(struct agg *agg, const struct logline *line, enum logline_source source,
                          enum logline_result result, uint32_t now)
{
	/* tied as count_query_of() tied the query: by the serial and the
	 * client's check, else (the plain form) by the name */
	uint64_t key = line->serial, check = 0;
	if (!line->has_serial)
		key = span_hash(agg, line->name);
	else if (line->client.len)
		check = client_check(line->client);
	else
		return; /* a serial without its client: nothing ties it */
	if (pending_outcome(&agg->pending, key, check, source, result, agg->replies) && source == SOURCE_BLOCKED)
		count_blocked(agg, line->client, line->name, now);
}

/* agg_apply(), inlined where the reader feeds every line */
HOT void apply_line(struct agg *agg, const struct logline *line, uint32_t now)
{
	agg->stats.lines[line->kind]++;
	pending_step(&agg->pending, now, agg->replies);
	switch (line->kind) {
	case LOGLINE_QUERY:
		count_query(agg, line->client, line->name, line->qtype, line->has_serial ? TIE_SERIAL : TIE_NAME,
		            line->serial, now);
		break;
	case LOGLINE_FORWARDED:
		agg_count_forwarded(agg, line->server, now);
		break;
	case LOGLINE_ANSWER:
		apply_outcome(agg, line, line->source, line->result, now);
		break;
	case LOGLINE_DUPLICATE:
		if (line->has_serial) /* the plain form cannot tell which query it was */
			apply_outcome(agg, line, SOURCE_UPSTREAM, RESULT_DUPLICATE, now);
		break;
	case LOGLINE_UNPARSED:
	case LOGLINE_OTHER:
		break;
	}
}

void agg_apply(struct agg *agg, const struct logline *line, uint32_t now)
{
	apply_line(agg, line, now);
}

void agg_count_forwarded(struct agg *agg, struct logline_span server, uint32_t now)
{
	struct str *s = intern(agg, server);
	if (s)
		count_in(agg, &agg->servers, s, NULL, NULL, now);
	strpool_put(&agg->pool, s);
}

struct str *agg_stored_client(struct agg *agg, struct logline_span client)
{
	char pseudonym[AGG_PSEUDONYM_LEN];
	return intern(agg, stored_client(agg, client, pseudonym));
}

void agg_count_query_of(struct agg *agg, struct str *client, struct logline_span name, uint32_t name_fast,
                        struct str *type, struct logline_span qtype, struct str_memo *type_memo, uint32_t now)
{
	static const struct logline_span none = { "", 0 };
	/* the clock of the pending_query_new() the caller makes next */
	pending_step(&agg->pending, now, agg->replies);
	count_query_of(agg, client, none, name, &name_fast, type, qtype, type_memo, TIE_NONE, 0, now);
}

void agg_count_blocked(struct agg *agg, struct logline_span client, struct logline_span name, uint32_t now)
{
	count_blocked(agg, client, name, now);
}

/* The time to count a line at: now, or (line_times) its stamp's; after
 * the line's parse, which leaves its prefix in the memo. */
static uint32_t line_time(struct linebuf *lb, const char *p, size_t len, uint32_t now)
{
	return lb->line_times ? logtime_memo_line(&lb->time, &lb->memo, p, len, now) : now;
}

static void feed_line(struct agg *agg, struct linebuf *lb, const char *p, size_t len, uint32_t now)
{
	struct logline line;
	logline_parse_memo(p, len, &line, &lb->memo);
	apply_line(agg, &line, line_time(lb, p, len, now));
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

void agg_tick(struct agg *agg, uint32_t now)
{
	agg_lock(agg);
	if (agg->dnstt)
		sessions_tick(agg->dnstt, now);
	pending_expire(&agg->pending, now, PENDING_SLOTS, agg->replies);
	agg_unlock(agg);
}

void agg_close_pending(struct agg *agg)
{
	pending_close_all(&agg->pending, agg->replies);
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

/* Rows of a table keyed (client, domain[, type]); type "" when it has none. */
static uint32_t copy_rows(const struct lru *t, struct view_row *out, char **arena)
{
	uint32_t n = 0;
	for (uint32_t i = t->newest; i != LRU_NIL; i = t->nodes[i].older, n++) {
		const struct lru_node *node = &t->nodes[i];
		struct view_row *row = &out[n];
		row->client = copy_str(arena, node->key[0]);
		row->domain = copy_str(arena, node->key[1]);
		row->type = node->key[2] ? copy_str(arena, node->key[2]) : "";
		row->count = node->count;
		row->first_seen = node->first_seen;
		row->last_seen = node->last_seen;
	}
	return n;
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

/* The next part of a view's one allocation: n items of size bytes at *at,
 * which moves on by a multiple of the largest alignment. */
static void *carve(char **at, size_t n, size_t size)
{
	void *p = *at;
	*at += (n * size + 7) & ~(size_t)7;
	return p;
}

struct agg_view *agg_view_new(struct agg *agg)
{
	agg_lock(agg);
	const struct sessions *dnstt = agg->dnstt;
	uint32_t ndnstt = dnstt ? dnstt->ndomains : 0, ngroups = dnstt ? dnstt->ngroups : 0;
	size_t text = 0, bytes = 0; /* the strings' text; the tables' (and the sessions') allocations */
	for (int i = 0; i < TABLES; i++) {
		text += table_text_bytes(table(agg, i));
		bytes += lru_bytes(table(agg, i));
	}
	/* the view, then its arrays and the text of their strings, in one block */
	size_t rows = agg->entries.used + agg->blocked.used, counters = agg->clients.used + agg->servers.used;
	struct agg_view *v = malloc(((sizeof *v + 7) & ~(size_t)7) + rows * sizeof *v->rows +
	                            counters * sizeof *v->clients + ndnstt * sizeof *v->dnstt +
	                            ngroups * sizeof *v->dnstt_groups + 6 * 8 + text + 1);
	if (!v) {
		agg_unlock(agg);
		return NULL;
	}
	memset(v, 0, sizeof *v);
	char *at = (char *)v;
	carve(&at, 1, sizeof *v);
	v->agg = agg;
	v->rows = carve(&at, agg->entries.used, sizeof *v->rows);
	v->blocked = carve(&at, agg->blocked.used, sizeof *v->blocked);
	v->clients = carve(&at, agg->clients.used, sizeof *v->clients);
	v->servers = carve(&at, agg->servers.used, sizeof *v->servers);
	v->dnstt = carve(&at, ndnstt, sizeof *v->dnstt);
	v->dnstt_groups = carve(&at, ngroups, sizeof *v->dnstt_groups);

	char *arena = at;
	v->nrows = copy_rows(&agg->entries, v->rows, &arena);
	v->nblocked = copy_rows(&agg->blocked, v->blocked, &arena);
	copy_counters(&agg->clients, v->clients, &arena);
	v->nclients = agg->clients.used;
	copy_counters(&agg->servers, v->servers, &arena);
	v->nservers = agg->servers.used;

	if (dnstt) { /* with at least one domain; else all zero, as the memset left them */
		memcpy(v->dnstt, dnstt->domain, ndnstt * sizeof *v->dnstt);
		v->ndnstt = ndnstt;
		if (ngroups)
			memcpy(v->dnstt_groups, dnstt->groups, ngroups * sizeof *v->dnstt_groups);
		v->ndnstt_groups = ngroups;
		v->dnstt_evictions = dnstt->evictions;
		v->dnstt_group_overflows = dnstt->group_overflows;
		bytes += sessions_bytes(dnstt);
	}
	memcpy(v->replies, agg->replies, sizeof v->replies);
	v->stats = agg->stats;
	v->cfg = agg->cfg;
	v->entry_evictions = agg->entries.evictions;
	v->client_evictions = agg->clients.evictions;
	v->blocked_evictions = agg->blocked.evictions;
	v->memory_bytes = sizeof *agg + names_bytes(agg->cfg.names) + agg->pool.bytes + bytes;
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
	free(v);
}

static int cmp_row_count(const void *a, const void *b)
{
	const struct view_row *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->last_seen < y->last_seen ? 1 : x->last_seen > y->last_seen ? -1 : 0;
}

void agg_view_cap(struct agg_view *v)
{
	uint32_t max = v->cfg.max_series;
	if (max == 0 || v->nrows <= max)
		return;
	qsort(v->rows, v->nrows, sizeof *v->rows, cmp_row_count);
	v->rows_omitted = v->nrows - max;
}

const struct lease *view_lease(const struct agg_view *v, const char *client)
{
	return v->leases ? leases_find(v->leases, client, strlen(client)) : NULL;
}
