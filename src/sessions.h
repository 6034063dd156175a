/*
 * sessions.h - DNSTT sessions: the per-domain counters, their breakdown by
 * resolver group (GeoIP country and ASN), and a bounded table of the
 * sessions seen, least recently seen evicted.
 *
 * Owns the (domain, ClientID) table: a slab of max nodes allocated once, a
 * keyed hash index and a recency list through the nodes, so that seeing a
 * session is O(1) and never allocates.  With GeoIP, the counters are also
 * kept per (domain, country, ASN) group, in a table of max_groups allocated
 * once and never evicted (counters must not go back); when it is full, new
 * pairs are counted in the domain's unmapped group and counted as overflow.
 * The active counts (seen within the window) and their peaks are computed
 * by sessions_tick(), once a second, by a walk from the newest session that
 * stops at the first one too old.  Not locked itself: the aggregator's lock
 * guards it.
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
#define SESSIONS_DEFAULT_MAX_GROUPS 1024u /* (domain, country, ASN) groups with GeoIP */
#define SESSIONS_UNMAPPED_COUNTRY "ZZ"    /* the country of an address no database maps */

/* What is counted of a domain, or of one of its groups. */
struct sessions_tally {
	uint64_t queries, bytes_in, bytes_out, sessions;
	uint32_t active, peak;
};

struct sessions_domain {
	char name[SESSIONS_DOMAIN_MAX + 1]; /* lowercase, no trailing dot */
	uint16_t len;                       /* strlen(name) */
	struct sessions_tally n;
};

/* The resolvers of one country and ASN under one domain.  Groups
 * 0..ndomains-1 are the domains' unmapped groups ("ZZ", 0). */
struct sessions_group {
	uint32_t domain;
	uint32_t asn;
	char country[3];
	uint32_t hnext;
	struct sessions_tally n;
};

struct sessions_node {
	uint8_t id[SESSIONS_ID_LEN];
	uint32_t domain, group;  /* group: of the last message seen */
	uint32_t hnext, newer, older;
	uint32_t last_seen;
};

struct sessions {
	struct sessions_domain domain[SESSIONS_MAX_DOMAINS];
	uint32_t ndomains;
	uint8_t last_chars[32]; /* a bit for each domain's last byte (| 0x20): a name
	                         * ending in none of them is in no domain */
	uint32_t window;        /* seconds */
	uint32_t max, used;
	struct sessions_node *nodes;
	uint32_t *buckets;
	uint32_t nbuckets;      /* a power of two */
	uint32_t newest, oldest;
	uint64_t evictions;
	struct sessions_group *groups; /* NULL without GeoIP */
	uint32_t ngroups, max_groups;
	uint32_t *group_buckets;
	uint32_t ngroup_buckets; /* a power of two */
	uint64_t group_overflows;
	struct hash_key key;
};

/* Whether some domain ends in the byte c (letters in either case): a name
 * whose last byte no domain has is in no domain. */
static inline int sessions_may_end_with(const struct sessions *s, unsigned char c)
{
	unsigned folded = c | 0x20u;
	return s->last_chars[folded >> 3] >> (folded & 7) & 1;
}

/* NULL when memory runs out.  Domains are copied, lowercased, a trailing
 * dot dropped; at most SESSIONS_MAX_DOMAINS are taken.  max_groups 0: no
 * groups (no GeoIP); else at least one per domain is kept. */
struct sessions *sessions_new(const char *const *domains, size_t ndomains, uint32_t window, uint32_t max,
                              uint32_t max_groups, const struct hash_key *key);
void sessions_free(struct sessions *s);

/* The group of (domain d, country, asn), made if new: country is two
 * characters.  Without groups, 0. */
uint32_t sessions_group(struct sessions *s, uint32_t d, const char *country, uint32_t asn);

/* Counts one tunnel message of session id under domain d, from resolvers
 * of group g: a query (its bytes in) or a response (its bytes out). */
void sessions_count(struct sessions *s, uint32_t d, uint32_t g, int is_response, size_t bytes,
                    const uint8_t id[SESSIONS_ID_LEN], uint32_t now);

/* Marks the session id of domain d as seen at now, from group g; returns 1
 * when it is new to the table (evicting the least recently seen one if
 * full), else 0. */
int sessions_seen(struct sessions *s, uint32_t d, uint32_t g, const uint8_t id[SESSIONS_ID_LEN], uint32_t now);

/* Recomputes the active counts (seen at or after now - window + 1, i.e.
 * within the last `window` seconds) of each domain and group, and raises
 * their peaks. */
void sessions_tick(struct sessions *s, uint32_t now);

/* Bytes of memory held. */
size_t sessions_bytes(const struct sessions *s);

#endif
