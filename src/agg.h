/*
 * agg.h - the aggregator: what one `dnsagg.new{}` owns.
 *
 * It turns parsed log lines into counts (the bounded (client, domain, type)
 * table, per-client totals, upstream servers, reply classes), and holds
 * the capture's packet counters and DNSTT sessions (capture.c, sessions.c),
 * under one mutex, and hands the scrape side a self-contained copy of them (a view),
 * so that rendering, sorting and talking to Lua never hold the lock.
 */
#ifndef DNSAGG_AGG_H
#define DNSAGG_AGG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "dnspkt.h"
#include "geoip.h"
#include "hash.h"
#include "leases.h"
#include "logline.h"
#include "logtime.h"
#include "lru.h"
#include "names.h"
#include "forwards.h"
#include "pending.h"
#include "sessions.h"
#include "strpool.h"

#define AGG_DEFAULT_MAX_ENTRIES 5000u
#define AGG_DEFAULT_MAX_CLIENTS 1000u
#define AGG_DEFAULT_MAX_SERVERS 32u
#define AGG_DEFAULT_MAX_LEASES 1000u
#define AGG_DEFAULT_MAX_BLOCKED 1000u /* (client, domain) keys of blocked queries */
#define AGG_MAX_LEASE_FILES 8u
#define AGG_LIMIT_ENTRIES 10000000u /* a larger max_entries is refused */

/* What a client address becomes before it is stored. */
enum agg_clients {
	AGG_CLIENTS_KEEP = 0,
	AGG_CLIENTS_DROP,   /* "": every client's queries counted together */
	AGG_CLIENTS_HASH    /* a keyed hash of the address, AGG_PSEUDONYM_LEN hex digits */
};
#define AGG_PSEUDONYM_LEN 12

/* Where the (client, domain, type) counts come from. */
enum agg_queries {
	AGG_QUERIES_LOG = 0, /* dnsmasq's query log (fifo, log, feed) */
	AGG_QUERIES_PACKETS  /* the capture: clients' queries on the DNS port (src/pktquery.c) */
};

struct agg_config {
	uint32_t max_entries;
	uint32_t max_clients;
	uint32_t max_servers;
	uint32_t max_leases;
	uint32_t max_blocked;
	const char *lease_files[AGG_MAX_LEASE_FILES];
	size_t nlease_files;
	int capture;                        /* 1: a capture feeds the packet counters */
	enum agg_queries queries;
	const char *dnstt_domains[SESSIONS_MAX_DOMAINS]; /* none: no DNSTT counting */
	size_t ndnstt_domains;
	uint32_t dnstt_window;              /* seconds */
	uint32_t dnstt_max_sessions;
	struct geoip *geoip;                /* or NULL; the aggregator owns it once agg_new() succeeds */
	int geoip_country, geoip_asn;       /* which labels the dnstt families carry */
	struct names *names;                /* or NULL: every name counted as logged; owned once agg_new() succeeds */
	enum agg_clients clients;           /* what the client label shows */
	struct hash_key client_key;         /* of the pseudonyms (AGG_CLIENTS_HASH) */
	uint32_t max_series;                /* most dnsmasq_queries_total series a scrape writes; 0: all */
};

enum fifo_state {
	FIFO_NONE = 0,   /* no FIFO configured */
	FIFO_WAITING,    /* configured, not open (missing, not a FIFO, no permission) */
	FIFO_OPEN
};

struct agg_stats {
	uint64_t lines[LOGLINE_OTHER + 1];  /* by enum logline_kind */
	uint64_t bytes_read;
	uint64_t fifo_opens;
	uint64_t reopen_signals;            /* SIGUSR2 sent to dnsmasq */
	uint64_t lease_reloads;
	uint64_t lease_bad_lines;
	uint64_t alloc_failures;
	uint64_t excluded;                  /* queries whose name the include/exclude rules left out */
	uint64_t packets[DNSPKT_STATUS_COUNT]; /* captured frames by dnspkt status (DNSPKT_OK: DNS) */
	uint64_t packets_dropped;           /* by the kernel, for want of room in the socket's queue */
	uint64_t packet_queries;            /* clients' queries counted from packets */
	uint64_t packet_replies;            /* their responses, matched to them */
	uint64_t packet_forwards;           /* the resolver's own queries, seen going out */
	int capture_buffer_bytes;           /* that queue's size, as the kernel granted it */
	enum fifo_state fifo;
	int fifo_buffer_bytes;              /* the pipe's capacity once open */
};

/* Line reassembly across reads. */
struct linebuf {
	char buf[LOGLINE_MAX + 1];
	size_t len;
	int overlong; /* dropping the rest of a line longer than LOGLINE_MAX */
	struct logline_memo memo;
	/* Set by the owner for a log file read after the fact: a line is
	 * counted at the time its prefix gives, not at `now` (logtime.h). */
	int line_times;
	struct logtime time;
};

/* The packet query source's memo of a client: its address (family and the
 * 16 bytes of struct dnspkt_frame) and the string it is stored as. */
#define AGG_CLIENT_MEMOS 64 /* a power of two */

struct agg_client_memo {
	uint8_t family; /* 0: empty */
	uint8_t addr[16];
	struct str_memo who;
};

/* The packet query source's memo of a query type, by its number. */
#define AGG_TYPE_MEMOS 16 /* a power of two */

struct agg_type_memo {
	uint16_t qtype;
	struct str_memo type; /* its s NULL: empty */
};

struct agg {
	pthread_mutex_t mu;
	struct agg_config cfg;
	struct hash_key key;
	struct hash_ms_key exchange_key; /* of a packet's exchange (pktquery.c) */
	struct strpool pool;
	struct lru entries;  /* (client, domain, type) */
	struct lru clients;  /* (client) */
	struct lru servers;  /* (server) */
	struct lru blocked;  /* (client, domain) of queries answered by a blocking rule */
	struct pending pending;
	struct forwards forwards; /* queries = "packets": which client queries were forwarded */
	pending_counts replies;
	struct leases *leases;   /* immutable; shared with views by reference count */
	uint64_t leases_fingerprint;
	uint64_t leases_cut_fingerprint; /* of files last seen ending mid-line (0: none); only
	                                    the one refreshing the leases touches it */
	struct sessions *dnstt;  /* NULL without dnstt domains */
	struct agg_stats stats;
	struct agg_client_memo client_memo[AGG_CLIENT_MEMOS]; /* queries = "packets" (pktquery.c) */
	struct agg_type_memo type_memo[AGG_TYPE_MEMOS];       /* the same */
};

/* Copies cfg (not the strings it points to: they must outlive the agg). */
struct agg *agg_new(const struct agg_config *cfg);
void agg_free(struct agg *agg);

static inline void agg_lock(struct agg *agg) { pthread_mutex_lock(&agg->mu); }
static inline void agg_unlock(struct agg *agg) { pthread_mutex_unlock(&agg->mu); }

/* With the lock held: counts one parsed line. */
void agg_apply(struct agg *agg, const struct logline *line, uint32_t now);

/* With the lock held: the client as the privacy options store it (the
 * address, nothing or its pseudonym), interned: a reference for
 * agg_count_query_of(), or NULL
 * when memory ran out (counted in stats.alloc_failures). */
struct str *agg_stored_client(struct agg *agg, struct logline_span client);

/* With the lock held: counts one query of the packet query source, as a
 * query line would be, into the (client, domain, type) and client tables
 * under the privacy options: for a client already interned by
 * agg_stored_client() (or NULL, its failure), name_fast the name's
 * hash_fast() (hash.h; the string pool's cache reuses it), and a type:
 * type, interned already (strpool_recall()), else qtype's text, interned
 * only when the name is counted and then remembered in *type_memo.  Takes
 * over the references to client and type. */
void agg_count_query_of(struct agg *agg, struct str *client, struct logline_span name, uint32_t name_fast,
                        struct str *type, struct logline_span qtype, struct str_memo *type_memo, uint32_t now);

/* With the lock held: counts a query answered by a blocking rule into the
 * (client, domain) table, under the privacy options, as a blocked answer's
 * line would be (the packet source, once pending closed its query). */
void agg_count_blocked(struct agg *agg, struct logline_span client, struct logline_span name, uint32_t now);

/* With the lock held: one query forwarded to server (its text as
 * dnsmasq's "forwarded NAME to SERVER" line gives it): dnsmasq_forwarded_total. */
void agg_count_forwarded(struct agg *agg, struct logline_span server, uint32_t now);

/* With the lock held: splits data into lines, reassembling across calls
 * through lb, and parses and counts each. */
void agg_feed_bytes(struct agg *agg, struct linebuf *lb, const char *data, size_t len, uint32_t now);

/* With the lock held: counts a last line that had no newline. */
void agg_flush_line(struct agg *agg, struct linebuf *lb, uint32_t now);

/* The reader's housekeeping, once a second, in one hold of the lock:
 * recomputes the DNSTT active counts and peaks, and closes as (upstream,
 * none) every query open PENDING_TIMEOUT seconds (pending.h), the whole
 * ring at once, so that with no more lines such a query is still counted
 * a second or so after its time is up.  (Each line also looks at one
 * slot: pending_step().) */
void agg_tick(struct agg *agg, uint32_t now);

/* With the lock held: no line will follow (a log file read to its end):
 * every query still open is closed as (upstream, none). */
void agg_close_pending(struct agg *agg);

/* Without the lock: rebuilds the lease map if a lease file changed.
 * Returns 1 when a new map was swapped in. */
int agg_refresh_leases(struct agg *agg);

/* A self-contained copy of everything the scrape side shows. */
struct view_row {
	const char *client, *domain, *type;
	uint64_t count;
	uint32_t first_seen, last_seen;
};

struct view_counter {
	const char *key;
	uint64_t count;
	uint32_t first_seen, last_seen;
};

struct agg_view {
	struct view_row *rows;         /* newest first; by count once agg_view_cap() left some out */
	uint32_t nrows;
	uint32_t rows_omitted;         /* the last so many rows are not exported (max_series) */
	struct view_counter *clients;  /* newest first */
	uint32_t nclients;
	struct view_counter *servers;
	uint32_t nservers;
	struct view_row *blocked;      /* newest first; type "" */
	uint32_t nblocked;
	struct sessions_domain *dnstt; /* one per configured domain */
	uint32_t ndnstt;
	struct sessions_group *dnstt_groups; /* with GeoIP: per (domain, country, ASN) */
	uint32_t ndnstt_groups;
	uint64_t dnstt_evictions, dnstt_group_overflows;
	struct leases *leases;         /* a reference; may be NULL */
	pending_counts replies;
	struct agg_stats stats;
	struct agg_config cfg;
	uint64_t entry_evictions, client_evictions, blocked_evictions;
	size_t memory_bytes;
	struct agg *agg; /* the arrays above and their strings' text follow in the same allocation */
};

/* Takes the lock for the time of a copy. NULL when memory runs out. */
struct agg_view *agg_view_new(struct agg *agg);
void agg_view_free(struct agg_view *view);

/* Without the lock: when the view has more rows than cfg.max_series,
 * sorts them by count (most first, then most recently seen) and marks the
 * rest as left out of the exposition. */
void agg_view_cap(struct agg_view *view);

/* The lease of a client address in a view, or NULL. */
const struct lease *view_lease(const struct agg_view *view, const char *client);

#endif
