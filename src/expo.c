/*
 * expo.c - the metric families and the text exposition (see expo.h).
 */
#include "expo.h"

#include <stddef.h>
#include <string.h>

/* --- escaping --------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most `left` bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned min;
	unsigned cp;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; min = 0x80; cp = p[0] & 0x1fu; }
	else if (p[0] >= 0xe0 && p[0] <= 0xef) { n = 3; min = 0x800; cp = p[0] & 0x0fu; }
	else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; min = 0x10000; cp = p[0] & 0x07u; }
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void expo_escape(struct buf *out, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t left = strlen(value);
	char escaped[2] = { '\\', 0 };
	while (left > 0) {
		const char *add = (const char *)p;
		size_t n = 0, step;
		/* the longest run that needs no escape, in one go */
		while (n < left && p[n] >= 0x20 && p[n] < 0x80 && p[n] != '\\' && p[n] != '"')
			n++;
		if (n) {
			step = n;
		} else if (*p == '\\' || *p == '"' || *p == '\n') {
			escaped[1] = *p == '\n' ? 'n' : (char)*p;
			add = escaped;
			n = 2;
			step = 1;
		} else if ((n = utf8_len(p, left)) != 0) { /* UTF-8, or another control byte (legal): kept */
			step = n;
		} else {
			add = "\xef\xbf\xbd";
			n = 3;
			step = 1;
		}
		buf_add(out, add, n);
		p += step;
		left -= step;
	}
}

/* --- the families ----------------------------------------------------- */

/* Every family, in the order written: name, type, help, what its series
 * are (enum family_series), where the value is (IN_VIEW: a field of the
 * view; IN_EXTRA: of struct health_extra, the two computed; IN_TALLY: of
 * struct sessions_tally, a uint32_t or a uint64_t; NOWHERE: the series
 * say), when written. */
#define FAMILIES(X) \
	X("dnsmasq_queries_total", COUNTER, \
	  "DNS queries by client, domain and query type, for the most recently seen keys.", ROWS, NOWHERE, ALWAYS) \
	X("dnsmasq_client_queries_total", COUNTER, "DNS queries by client, all domains together.", CLIENTS, NOWHERE, \
	  ALWAYS) \
	X("dnsmasq_replies_total", COUNTER, \
	  "Outcomes of counted queries, by where the answer came from and what it was.", REPLIES, NOWHERE, ALWAYS) \
	X("dnsmasq_blocked_queries_total", COUNTER, \
	  "Queries answered 0.0.0.0 or :: by a blocking rule, by client and domain, for the most recently seen keys.", \
	  BLOCKED, NOWHERE, ALWAYS) \
	X("dnsmasq_forwarded_total", COUNTER, "Queries forwarded, by upstream server.", SERVERS, NOWHERE, ALWAYS) \
	X("dnsmasq_lease_expiry_timestamp_seconds", GAUGE, \
	  "When each DHCP lease expires, in unix seconds; +Inf for a lease that never does.", LEASE_EXPIRY, NOWHERE, \
	  ALWAYS) \
	X("dnstt_active_clients", GAUGE, "DNSTT sessions seen within the active window.", DNSTT_TALLY, \
	  IN_TALLY(active), DNSTT) \
	X("dnstt_peak_clients", GAUGE, "Most DNSTT sessions active at once since the start.", DNSTT_TALLY, \
	  IN_TALLY(peak), DNSTT) \
	X("dnstt_queries_total", COUNTER, "DNSTT tunnel queries.", DNSTT_TALLY, IN_TALLY(queries), DNSTT) \
	X("dnstt_bytes_in_total", COUNTER, "Bytes of DNS messages (UDP payload) of DNSTT queries.", DNSTT_TALLY, \
	  IN_TALLY(bytes_in), DNSTT) \
	X("dnstt_bytes_out_total", COUNTER, "Bytes of DNS messages (UDP payload) of DNSTT responses.", DNSTT_TALLY, \
	  IN_TALLY(bytes_out), DNSTT) \
	X("dnstt_sessions_total", COUNTER, "Distinct DNSTT sessions (client IDs) seen.", DNSTT_TALLY, \
	  IN_TALLY(sessions), DNSTT) \
	X("dnsagg_lines_total", COUNTER, "Log lines read, by what they were.", LINES, NOWHERE, ALWAYS) \
	X("dnsagg_read_bytes_total", COUNTER, "Bytes of log read.", VALUE, IN_VIEW(stats.bytes_read), ALWAYS) \
	X("dnsagg_table_entries", GAUGE, "(client, domain, type) keys in the table.", VALUE, IN_VIEW(nrows), ALWAYS) \
	X("dnsagg_table_capacity", GAUGE, "Most keys the table holds (max_entries).", VALUE, IN_VIEW(cfg.max_entries), \
	  ALWAYS) \
	X("dnsagg_table_evictions_total", COUNTER, "Keys evicted, least recently used first, to make room.", VALUE, \
	  IN_VIEW(entry_evictions), ALWAYS) \
	X("dnsagg_clients", GAUGE, "Clients with a query total.", VALUE, IN_VIEW(nclients), ALWAYS) \
	X("dnsagg_clients_capacity", GAUGE, "Most clients kept (max_clients).", VALUE, IN_VIEW(cfg.max_clients), \
	  ALWAYS) \
	X("dnsagg_client_evictions_total", COUNTER, "Clients evicted to make room.", VALUE, IN_VIEW(client_evictions), \
	  ALWAYS) \
	X("dnsagg_blocked_evictions_total", COUNTER, "Keys of dnsmasq_blocked_queries_total evicted to make room.", \
	  VALUE, IN_VIEW(blocked_evictions), ALWAYS) \
	X("dnsagg_query_series_limit", GAUGE, \
	  "Most dnsmasq_queries_total series a scrape writes (max_series), the most counted first.", VALUE, \
	  IN_VIEW(cfg.max_series), SERIES) \
	X("dnsagg_query_series_omitted", GAUGE, \
	  "Keys of the table left out of this scrape's dnsmasq_queries_total by max_series.", VALUE, \
	  IN_VIEW(rows_omitted), SERIES) \
	X("dnsagg_excluded_queries_total", COUNTER, \
	  "Queries whose name the include/exclude rules left out of dnsmasq_queries_total.", VALUE, \
	  IN_VIEW(stats.excluded), RULES) \
	X("dnsagg_fifo_up", GAUGE, "1 when the dnsmasq log FIFO is open and read.", EXTRA_VALUE, IN_EXTRA(fifo_up), \
	  FIFO) \
	X("dnsagg_fifo_opens_total", COUNTER, "Times the FIFO was opened.", VALUE, IN_VIEW(stats.fifo_opens), FIFO) \
	X("dnsagg_fifo_buffer_bytes", GAUGE, "Capacity of the FIFO's pipe buffer.", INT_VALUE, \
	  IN_VIEW(stats.fifo_buffer_bytes), FIFO) \
	X("dnsagg_dnsmasq_reopen_signals_total", COUNTER, \
	  "SIGUSR2 signals sent to dnsmasq to make it reopen its log.", VALUE, IN_VIEW(stats.reopen_signals), FIFO) \
	X("dnsagg_packets_total", COUNTER, \
	  "Frames captured on the DNS port, by what they were (dns: a DNS message with a question).", PACKETS, \
	  NOWHERE, CAPTURE) \
	X("dnsagg_packets_dropped_total", COUNTER, \
	  "Frames on the DNS port that the kernel dropped because the capture's ring was full " \
	  "(the reader fell behind): neither counted nor decoded. Raise capture.buffer if it grows.", \
	  VALUE, IN_VIEW(stats.packets_dropped), CAPTURE) \
	X("dnsagg_packet_queries_total", COUNTER, \
	  "Clients' queries counted from captured packets (queries = \"packets\").", VALUE, \
	  IN_VIEW(stats.packet_queries), PACKET_QUERIES) \
	X("dnsagg_capture_buffer_bytes", GAUGE, \
	  "Size of the capture's ring in bytes (capture.buffer, in whole 64 KiB blocks).", INT_VALUE, \
	  IN_VIEW(stats.capture_buffer_bytes), CAPTURE) \
	X("dnsagg_dnstt_session_evictions_total", COUNTER, \
	  "DNSTT sessions evicted from the session table (max_sessions) to make room.", VALUE, \
	  IN_VIEW(dnstt_evictions), DNSTT) \
	X("dnsagg_dnstt_group_overflows_total", COUNTER, \
	  "DNSTT messages counted as country ZZ, ASN 0 because the (domain, country, ASN) groups were all taken.", \
	  VALUE, IN_VIEW(dnstt_group_overflows), GROUPS) \
	X("dnsagg_leases", GAUGE, "DHCP leases known.", EXTRA_VALUE, IN_EXTRA(leases), LEASES) \
	X("dnsagg_lease_reloads_total", COUNTER, "Times the lease files were read.", VALUE, \
	  IN_VIEW(stats.lease_reloads), LEASES) \
	X("dnsagg_lease_bad_lines", GAUGE, "Lines of the lease files that were not leases.", VALUE, \
	  IN_VIEW(stats.lease_bad_lines), LEASES) \
	X("dnsagg_memory_bytes", GAUGE, "Memory held by the tables and strings.", VALUE, IN_VIEW(memory_bytes), \
	  ALWAYS) \
	X("dnsagg_alloc_failures_total", COUNTER, "Allocations that failed (counts lost).", VALUE, \
	  IN_VIEW(stats.alloc_failures), ALWAYS)

/* What a family's series are: ROWS and BLOCKED, the rows of the view's
 * table and of the blocked one; CLIENTS, SERVERS; REPLIES, by source and
 * result; LEASE_EXPIRY, a series per lease; DNSTT_TALLY, per DNSTT domain
 * or group; LINES and PACKETS, by kind of line and by result; VALUE and
 * INT_VALUE, one series without labels (INT_VALUE: an int, 0 when below),
 * EXTRA_VALUE the same of struct health_extra. */
enum family_series {
	ROWS, CLIENTS, REPLIES, BLOCKED, SERVERS, LEASE_EXPIRY, DNSTT_TALLY, LINES, PACKETS, VALUE, INT_VALUE,
	EXTRA_VALUE
};
enum family_when { ALWAYS, SERIES, RULES, FIFO, CAPTURE, PACKET_QUERIES, DNSTT, GROUPS, LEASES, WHEN_COUNT };
enum family_type { COUNTER, GAUGE };

/* The two values computed, not a field of the view. */
struct health_extra {
	uint64_t fifo_up, leases;
};

struct family {
	uint16_t at;
	unsigned size : 4, series : 4, type : 1, when : 4;
};

#define IN_VIEW(field) offsetof(struct agg_view, field), sizeof(((struct agg_view *)0)->field)
#define IN_EXTRA(field) offsetof(struct health_extra, field), sizeof(uint64_t)
#define IN_TALLY(field) offsetof(struct sessions_tally, field), sizeof(((struct sessions_tally *)0)->field)
#define NOWHERE 0, 0
#define FAMILY_NAME(name, type, help, series, where, when) name "\0"
#define FAMILY_HELP(name, type, help, series, where, when) help "\0"
#define FAMILY_ROW(name, type, help, series, where, when) { where, series, type, when },

/* The names and the help texts one after another: no pointer in the table
 * for the loader to relocate. */
static const char family_names[] = FAMILIES(FAMILY_NAME);
static const char family_helps[] = FAMILIES(FAMILY_HELP);
static const struct family families[] = { FAMILIES(FAMILY_ROW) };

uint64_t expo_field(const void *base, size_t at, size_t size, int is_int)
{
	union {
		uint64_t u64;
		uint32_t u32;
		int i;
	} v;
	size_t n = is_int ? sizeof v.i : size == sizeof v.u32 ? sizeof v.u32 : sizeof v.u64;
	memcpy(&v, (const char *)base + at, n); /* one copy: the first n bytes of v */
	if (is_int)
		return v.i > 0 ? (uint64_t)v.i : 0;
	return n == sizeof v.u32 ? v.u32 : v.u64;
}

static void sample(const struct expo_sink *sink, const char *name, const struct expo_label *labels,
                   size_t n, uint64_t value)
{
	char text[21];
	sink->sample(sink->ctx, name, labels, n, u64_text(value, text));
}

static const char *hostname_of(const struct lease *lease)
{
	return lease ? lease->hostname : "";
}

/* The rows of the table (client, hostname, domain, type), of the blocked
 * one (the same but type), or the clients (client, hostname, mac). */
static void walk_keys(const struct agg_view *v, const struct expo_sink *sink, const char *name,
                      enum family_series series)
{
	const struct view_row *rows = series == BLOCKED ? v->blocked : v->rows;
	uint32_t n = series == BLOCKED ? v->nblocked : series == CLIENTS ? v->nclients : v->nrows - v->rows_omitted;
	for (uint32_t i = 0; i < n; i++) {
		struct expo_label labels[4];
		const char *client;
		uint64_t count;
		size_t nlabels = 3;
		if (series == CLIENTS) {
			client = v->clients[i].key;
			count = v->clients[i].count;
		} else {
			client = rows[i].client;
			count = rows[i].count;
			labels[2] = (struct expo_label){ "domain", rows[i].domain };
			labels[3] = (struct expo_label){ "type", rows[i].type };
			nlabels += series == ROWS;
		}
		const struct lease *lease = view_lease(v, client);
		labels[0] = (struct expo_label){ "client", client };
		labels[1] = (struct expo_label){ "hostname", hostname_of(lease) };
		if (series == CLIENTS)
			labels[2] = (struct expo_label){ "mac", lease ? lease->mac : "" };
		sample(sink, name, labels, nlabels, count);
	}
}

static void walk_replies(const struct agg_view *v, const struct expo_sink *sink, const char *name)
{
	for (int s = 0; s < SOURCE_COUNT; s++)
		for (int r = 0; r < RESULT_COUNT; r++) {
			if (!v->replies[s][r])
				continue;
			struct expo_label labels[] = {
				{ "source", logline_source_name((enum logline_source)s) },
				{ "result", logline_result_name((enum logline_result)r) },
			};
			sample(sink, name, labels, 2, v->replies[s][r]);
		}
}

static void walk_leases(const struct agg_view *v, const struct expo_sink *sink, const char *name)
{
	for (uint32_t i = 0; v->leases && i < v->leases->count; i++) {
		const struct lease *l = &v->leases->lease[i];
		char text[21];
		struct expo_label labels[] = {
			{ "client", l->ip },
			{ "mac", l->mac },
			{ "hostname", l->hostname },
		};
		sink->sample(sink->ctx, name, labels, 3,
		             l->expiry > 0 ? u64_text((uint64_t)l->expiry, text) : "+Inf");
	}
}

/* A series per configured domain (at 0 until traffic comes), or with
 * GeoIP per (domain, country, ASN) group seen. */
static void walk_dnstt(const struct agg_view *v, const struct expo_sink *sink, const char *name,
                       const struct family *f)
{
	uint32_t nseries = v->ndnstt_groups ? v->ndnstt_groups : v->ndnstt;
	for (uint32_t i = 0; i < nseries; i++) {
		const struct sessions_group *g = v->ndnstt_groups ? &v->dnstt_groups[i] : NULL;
		const struct sessions_tally *t = g ? &g->n : &v->dnstt[i].n;
		char asn[21];
		struct expo_label labels[3] = { { "domain", v->dnstt[g ? g->domain : i].name } };
		size_t nlabels = 1;
		if (g && v->cfg.geoip_country)
			labels[nlabels++] = (struct expo_label){ "country", g->country };
		if (g && v->cfg.geoip_asn)
			labels[nlabels++] = (struct expo_label){ "asn", u64_text(g->asn, asn) };
		sample(sink, name, labels, nlabels, expo_field(t, f->at, f->size, 0));
	}
}

/* The series of one label: by upstream server, by kind of line, by the
 * result of a captured frame. */
static void walk_one_label(const struct agg_view *v, const struct expo_sink *sink, const char *name,
                           enum family_series series)
{
	uint32_t n = series == SERVERS ? v->nservers : series == LINES ? LOGLINE_OTHER + 1 : DNSPKT_STATUS_COUNT;
	for (uint32_t i = 0; i < n; i++) {
		struct expo_label label;
		uint64_t count;
		if (series == SERVERS) {
			label = (struct expo_label){ "server", v->servers[i].key };
			count = v->servers[i].count;
		} else if (series == LINES) {
			label = (struct expo_label){ "kind", logline_kind_name((enum logline_kind)i) };
			count = v->stats.lines[i];
		} else {
			label = (struct expo_label){ "result", dnspkt_status_name((int)i) };
			count = v->stats.packets[i];
		}
		sample(sink, name, &label, 1, count);
	}
}

/* Whether the view shows the families written `when`. */
static int is_shown(const struct agg_view *v, enum family_when when)
{
	switch (when) {
	case SERIES:
		return v->cfg.max_series != 0;
	case RULES:
		return v->cfg.names && (v->cfg.names->nincluded || v->cfg.names->nexcluded);
	case FIFO:
		return v->stats.fifo != FIFO_NONE;
	case CAPTURE:
		return v->cfg.capture;
	case PACKET_QUERIES:
		return v->cfg.capture && v->cfg.queries == AGG_QUERIES_PACKETS;
	case DNSTT:
		return v->ndnstt != 0;
	case GROUPS:
		return v->ndnstt_groups != 0;
	case LEASES:
		return v->cfg.nlease_files != 0;
	default:
		return 1; /* ALWAYS */
	}
}

void expo_walk(const struct agg_view *v, const struct expo_sink *sink)
{
	const struct agg_stats *s = &v->stats;
	const struct health_extra extra = { s->fifo == FIFO_OPEN, v->leases ? v->leases->count : 0 };
	const char *name = family_names, *help = family_helps;
	for (size_t i = 0; i < sizeof families / sizeof families[0];
	     i++, name += strlen(name) + 1, help += strlen(help) + 1) {
		const struct family *f = &families[i];
		if (!is_shown(v, (enum family_when)f->when))
			continue;
		sink->family(sink->ctx, name, f->type == GAUGE ? "gauge" : "counter", help);
		switch (f->series) {
		case ROWS:
		case BLOCKED:
		case CLIENTS:
			walk_keys(v, sink, name, (enum family_series)f->series);
			break;
		case REPLIES:
			walk_replies(v, sink, name);
			break;
		case LEASE_EXPIRY:
			walk_leases(v, sink, name);
			break;
		case DNSTT_TALLY:
			walk_dnstt(v, sink, name, f);
			break;
		case SERVERS:
		case LINES:
		case PACKETS:
			walk_one_label(v, sink, name, (enum family_series)f->series);
			break;
		default: {
			const void *base = f->series == EXTRA_VALUE ? (const void *)&extra : (const void *)v;
			sample(sink, name, NULL, 0, expo_field(base, f->at, f->size, f->series == INT_VALUE));
		}
		}
	}
}

/* --- the text sink ---------------------------------------------------- */

static void add_strings(struct buf *out, const char *const *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_str(out, parts[i]);
}

static void text_family(void *ctx, const char *name, const char *type, const char *help)
{
	const char *const parts[] = { "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n" };
	add_strings(ctx, parts, sizeof parts / sizeof parts[0]);
}

static void text_sample(void *ctx, const char *name, const struct expo_label *labels, size_t n,
                        const char *value)
{
	struct buf *out = ctx;
	buf_str(out, name);
	for (size_t i = 0; i < n; i++) {
		buf_str(out, i ? ",": "{");
		buf_str(out, labels[i].name);
		buf_str(out, "=\"");
		expo_escape(out, labels[i].value);
		buf_str(out, "\"");
	}
	buf_str(out, n ? "} " : " ");
	buf_str(out, value);
	buf_str(out, "\n");
}

void expo_render(const struct agg_view *v, struct buf *out)
{
	struct expo_sink sink = { text_family, text_sample, out };
	expo_walk(v, &sink);
}
