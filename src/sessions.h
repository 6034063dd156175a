/*
 * sessions.h - DNSTT sessions: the per-domain counters and a bounded table
 * of the sessions seen, least recently seen evicted.
 *
 * Owns the (domain, ClientID) table: a slab of max nodes allocated once, a
 * keyed hash index and a recency list through the nodes, so that seeing a
 * session is O(1) and never allocates.  The active count (seen within the
 * window) and its peak are computed by sessions_tick(), once a second, by a
 * walk from the newest session that stops at the first one too old.  Not
 * locked itself: the aggregator's lock guards it.
 */
#ifndef DNSAGG_SESSIONS_H
#define DNSAGG_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define SESSIONS_MAX_DOMAINS 16u
#define SESSIONS_DOMAIN_MAX 253u          /* characters of a domain's text */
#define SESSIONS_DEFAULT_WINDOW 30u       /* seconds: a client polls at least every 10 s */
#define SESSIONS_DEFAULT_MAX 1000u
#define SESSIONS_LIMIT_MAX 1000000u       /* a larger max_sessions is refused */
#define SESSIONS_ID_LEN 8

struct sessions_domain {
	char name[SESSIONS_DOMAIN_MAX + 1]; /* lowercase, no trailing dot */
	uint64_t queries, bytes_in, bytes_out, sessions;
	uint32_t active, peak;
};

struct sessions_node {
	uint8_t id[SESSIONS_ID_LEN];
	uint32_t domain;
	uint32_t hnext, newer, older;
	uint32_t last_seen;
};

struct sessions {
	struct sessions_domain domain[SESSIONS_MAX_DOMAINS];
	uint32_t ndomains;
	uint32_t window;        /* seconds */
	uint32_t max, used;
	struct sessions_node *nodes;
	uint32_t *buckets;
	uint32_t nbuckets;      /* a power of two */
	uint32_t newest, oldest;
	uint64_t evictions;
	struct hash_key key;
};

/* NULL when memory runs out.  Domains are copied, lowercased, a trailing
 * dot dropped; at most SESSIONS_MAX_DOMAINS are taken. */
struct sessions *sessions_new(const char *const *domains, size_t ndomains, uint32_t window, uint32_t max,
                              const struct hash_key *key);
void sessions_free(struct sessions *s);

/* Marks the session id of domain d as seen at now; returns 1 when it is new
 * to the table (evicting the least recently seen one if full), else 0. */
int sessions_seen(struct sessions *s, uint32_t d, const uint8_t id[SESSIONS_ID_LEN], uint32_t now);

/* Recomputes each domain's active count (seen at or after now - window + 1,
 * i.e. within the last `window` seconds) and raises its peak. */
void sessions_tick(struct sessions *s, uint32_t now);

/* Bytes of memory held. */
size_t sessions_bytes(const struct sessions *s);

#endif
