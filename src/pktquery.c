/*
 * pktquery.c - a client's query from the capture, as the log's query line
 * would have counted it (see pktquery.h).
 */
#include "pktquery.h"
#include "hot.h"

#include <arpa/inet.h>
#include <string.h>

/* dnsmasq 2.90's names of query types, read off its log for every type
 * from 1 to 300 and 32768 to 32769 ("-": none, logged as type=N).  Runs of
 * consecutive numbers, their names one after another, each ended by a NUL
 * (no padding: half the bytes of a table of fixed-width names), all in one
 * string (no pointers: no relocations in the shared object).  A name is
 * looked up only when the type memo misses (pktquery_count()): a walk of at
 * most 65 short names. */
#define NAMES_1 \
	"A\0" "NS\0" "MD\0" "MF\0" "CNAME\0" "SOA\0" "MB\0" "MG\0" "MR\0" "NULL\0" "WKS\0" "PTR\0" \
	"HINFO\0" "MINFO\0" "MX\0" "TXT\0" "RP\0" "AFSDB\0" "X25\0" "ISDN\0" "RT\0" "NSAP\0" "NSAP_PTR\0" \
	"SIG\0" "KEY\0" "PX\0" "GPOS\0" "AAAA\0" "LOC\0" "NXT\0" "EID\0" "NIMLOC\0" "SRV\0" "ATMA\0" \
	"NAPTR\0" "KX\0" "CERT\0" "A6\0" "DNAME\0" "SINK\0" "OPT\0" "APL\0" "DS\0" "SSHFP\0" "IPSECKEY\0" \
	"RRSIG\0" "NSEC\0" "DNSKEY\0" "DHCID\0" "NSEC3\0" "NSEC3PARAM\0" "TLSA\0" "SMIMEA\0" "-\0" "HIP\0" \
	"NINFO\0" "RKEY\0" "TALINK\0" "CDS\0" "CDNSKEY\0" "OPENPGPKEY\0" "CSYNC\0" "ZONEMD\0" "SVCB\0" \
	"HTTPS\0"
#define NAMES_99 \
	"SPF\0" "UINFO\0" "UID\0" "GID\0" "UNSPEC\0" "NID\0" "L32\0" "L64\0" "LP\0" "EUI48\0" "EUI64\0"
#define NAMES_249 \
	"TKEY\0" "TSIG\0" "-\0" "AXFR\0" "MAILB\0" "MAILA\0" "ANY\0" "URI\0" "CAA\0" "AVC\0" "DOA\0" \
	"AMTRELAY\0" "RESINFO\0"
#define NAMES_32768 \
	"TA\0" "DLV\0"
static const char type_names[] = NAMES_1 NAMES_99 NAMES_249 NAMES_32768;

static const struct {
	uint16_t first, count, at; /* at: where its first name is in type_names */
} type_runs[] = {
	{ 1, 65, 0 },
	{ 99, 11, sizeof NAMES_1 - 1 },
	{ 249, 13, sizeof NAMES_1 NAMES_99 - 1 },
	{ 32768, 2, sizeof NAMES_1 NAMES_99 NAMES_249 - 1 },
};

/* v in decimal at out, no NUL; returns the digits' count (at most 5). */
static size_t put_decimal(char *out, unsigned v)
{
	char digits[5];
	size_t n = 0, len = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[len++] = digits[--n];
	return len;
}

const char *pktquery_type_text(uint16_t type, char buf[PKTQUERY_TYPE_MAX], size_t *len)
{
	for (size_t r = 0; r < sizeof type_runs / sizeof type_runs[0]; r++) {
		unsigned skip = (unsigned)type - type_runs[r].first;
		if (type < type_runs[r].first || skip >= type_runs[r].count)
			continue;
		const char *name = type_names + type_runs[r].at, *end;
		for (; skip; skip--)
			while (*name++)
				;
		for (end = name; *end; end++) /* a few characters: no call to strlen */
			;
		if (name[0] == '-')
			break;
		*len = (size_t)(end - name);
		return name;
	}
	/* "type=N", N in decimal */
	memcpy(buf, "type=", 5);
	size_t at = 5 + put_decimal(buf + 5, type);
	buf[at] = '\0';
	*len = at;
	return buf;
}

static const char UNPRINTABLE[] = "<name unprintable>";

/* Whether a word holds a byte outside printable ASCII: below 0x20, 0x7f
 * or above.  Exact as a yes or no on either byte order (a carry out of a
 * byte of 0xff, itself a yes, only adds to it). */
HOT word_t word_unprintable(word_t w)
{
	return (((w - ONES * 0x20) & ~w) | (w + ONES) | w) & HIGHS;
}

/* 1 in each byte of a word that is a '.', 0 in the others. */
HOT word_t dot_bytes(word_t w)
{
	return zero_bytes(w ^ (ONES * '.')) >> 7;
}

/* Of a word's bytes in memory order, only the last `fresh` (1 to WORD_BYTES - 1). */
HOT word_t last_bytes(word_t w, size_t fresh)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return w & ((word_t)-1 >> (8 * (WORD_BYTES - fresh)));
#else
	return w & ((word_t)-1 << (8 * (WORD_BYTES - fresh)));
#endif
}

/* One pass over the text, a word at a time (the last one overlapping the
 * one before it, its old bytes' dots not counted again): a byte outside
 * printable ASCII anywhere, or more dots than the labels' joints (one
 * inside a label), makes it "<name unprintable>".  The dots are counted in
 * each byte of a word, added up once at the end (at most 32 words).  HOT
 * (hot.h): inline where a client query or a blocked answer is counted. */
HOT const char *name_text(const struct dnspkt_name *name, size_t *len)
{
	const char *text = name->text;
	size_t n = name->text_len, i = 0;
	word_t w, bad = 0, dots = 0;
	for (; i + WORD_BYTES <= n; i += WORD_BYTES) {
		memcpy(&w, text + i, WORD_BYTES);
		bad |= word_unprintable(w);
		dots += dot_bytes(w);
	}
	if (i < n && n >= WORD_BYTES) {
		memcpy(&w, text + n - WORD_BYTES, WORD_BYTES);
		bad |= word_unprintable(w);
		dots += last_bytes(dot_bytes(w), n - i);
	} else {
		for (; i < n; i++) { /* a name shorter than a word */
			unsigned char c = (unsigned char)text[i];
			bad |= (unsigned)(c - 0x20u) > 0x5eu;
			dots += c == '.';
		}
	}
	unsigned ndots = (unsigned)((dots * ONES) >> (8 * (WORD_BYTES - 1)));
	if (bad || (name->nlabels && ndots != (unsigned)name->nlabels - 1)) {
		*len = sizeof UNPRINTABLE - 1;
		return UNPRINTABLE;
	}
	*len = n; /* the root: "." */
	return text;
}

const char *pktquery_name_text(const struct dnspkt_name *name, size_t *len)
{
	return name_text(name, len);
}

static char *put_ipv4(char *out, const uint8_t a[4])
{
	for (int i = 0; i < 4; i++) {
		out += put_decimal(out, a[i]);
		*out++ = '.';
	}
	return out - 1;
}

/* IPv4 here (inet_ntop formats it with sprintf: 1,700 instructions a
 * packet); IPv6 by the C library's inet_ntop, as dnsmasq writes it with the
 * same library (musl and glibc place "::" differently between two equal
 * runs of zero groups). */
static size_t address_text(int family, const uint8_t *addr, char out[PKTQUERY_CLIENT_MAX])
{
	if (family == 4) {
		char *end = put_ipv4(out, addr);
		*end = '\0';
		return (size_t)(end - out);
	}
	if (!inet_ntop(AF_INET6, addr, out, PKTQUERY_CLIENT_MAX))
		out[0] = '\0';
	return strlen(out);
}

size_t pktquery_client_text(const struct dnspkt_frame *fr, char out[PKTQUERY_CLIENT_MAX])
{
	return address_text(fr->family, fr->resolver, out);
}

/* The client of a query as the aggregator stores it, interned (a
 * reference, or NULL when memory ran out): from the memo of its address
 * while the string pool still holds that string (strpool_recall()), else
 * from its text, then remembered.  A known client needs neither its text
 * nor a lookup by it. */
static struct str *stored_client(struct agg *agg, const struct dnspkt_frame *fr)
{
	uint64_t a, b;
	memcpy(&a, fr->resolver, 8);
	memcpy(&b, fr->resolver + 8, 8);
	/* the address folded to 32 bits, whose product's high bits mix in
	 * every bit of it: no key needed, a collision only costs a miss */
	uint64_t x = a ^ b;
	uint32_t mix = ((uint32_t)x ^ (uint32_t)(x >> 32)) * 0x9e3779b1u;
	struct agg_client_memo *m = &agg->client_memo[(mix >> 26) & (AGG_CLIENT_MEMOS - 1)];
	struct str *s;
	if (m->family == fr->family && memcmp(m->addr, fr->resolver, 16) == 0 && (s = strpool_recall(&agg->pool, &m->who)))
		return s;
	char text[PKTQUERY_CLIENT_MAX];
	struct logline_span client = { text, address_text(fr->family, fr->resolver, text) };
	s = agg_stored_client(agg, client);
	strpool_remember(&agg->pool, &m->who, s);
	m->family = fr->family;
	memcpy(m->addr, fr->resolver, 16);
	return s;
}

/* What ties a response to its query: the client's port, the DNS ID, the
 * question's type and the client's address, checked against the name's
 * hash.  Keyed (multiply-shift, hash.h), so that no one on the LAN can aim
 * the IDs and ports of queries of their own at another client's slot, nor
 * forge a response whose key is another client's.  Words of 32 bits: the
 * port and ID, the type and family, then the address (1 word for IPv4, 4
 * for IPv6; an IPv4 key is an IPv6 one whose last words are 0, told apart
 * by the family). */
static uint64_t exchange_key(const struct agg *agg, const struct dnspkt_frame *fr, uint16_t client_port,
                             const struct dnspkt_question *q)
{
	const struct hash_ms_key *k = &agg->exchange_key;
	uint64_t h[2] = { k->b[0], k->b[1] };
	uint32_t a[4];
	memcpy(a, fr->resolver, sizeof a);
	hash_ms_add(h, k, 0, (uint32_t)client_port | (uint32_t)q->id << 16);
	hash_ms_add(h, k, 1, (uint32_t)q->qtype | (uint32_t)fr->family << 16);
	hash_ms_add(h, k, 2, a[0]);
	if (fr->family != 4) { /* the rest of an IPv6 address, unrolled */
		hash_ms_add(h, k, 3, a[1]);
		hash_ms_add(h, k, 4, a[2]);
		hash_ms_add(h, k, 5, a[3]);
	}
	return hash_ms_end(h);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The result a response gives, from its RCODE and first answer; *blocked
 * when that answer is the null address a blocking rule gives (0.0.0.0 or
 * ::).  A response whose answer cannot be read is an error.  HOT (hot.h):
 * inline in count_response(), pktquery_result() is its out-of-line copy. */
HOT enum logline_result result_of(const uint8_t *msg, size_t len, const struct dnspkt_question *q, int *blocked)
{
	size_t off = q->end;
	*blocked = 0;
	if (q->rcode == 3)
		return RESULT_NXDOMAIN;
	if (q->rcode != 0)
		return RESULT_ERROR;
	if (q->ancount == 0)
		return RESULT_NODATA;
	/* after the question, the first answer: name, type, class, TTL, length,
	 * data.  Its name is most often a pointer to the question's, which
	 * dnspkt_question() read whole: the walk would find it valid. */
	if (len - off >= 2 && msg[off] == (0xc0 | DNSPKT_HEADER_LEN >> 8) && msg[off + 1] == DNSPKT_HEADER_LEN)
		off += 2;
	else if (dnspkt_skip_name(msg, len, &off) != DNSPKT_OK)
		return RESULT_ERROR;
	if (len - off < 10)
		return RESULT_ERROR;
	uint16_t type = be16(msg + off), rdlen = be16(msg + off + 8);
	const uint8_t *rdata = msg + off + 10;
	if ((size_t)rdlen > len - off - 10)
		return RESULT_ERROR;
	if (type == 5)
		return RESULT_CNAME;
	if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
		uint8_t any = 0;
		for (uint16_t i = 0; i < rdlen; i++)
			any |= rdata[i];
		*blocked = !any;
		return RESULT_ADDRESS;
	}
	return RESULT_RECORD;
}

enum logline_result pktquery_result(const uint8_t *msg, size_t len, const struct dnspkt_question *q, int *blocked)
{
	return result_of(msg, len, q, blocked);
}

/* What a response's question must match of its query's beside the
 * exchange key: the name as sent (its octets, not the text dnsmasq would
 * log, so no second pass over them for a response).  hash_fast(), which
 * the string pool's cache also takes: a counted query's name is hashed
 * once. */
static uint32_t name_check(const struct dnspkt_name *name)
{
	return hash_fast(name->text, name->text_len);
}

/* A question as the forwards table knows it: its name as sent, its type. */
static uint32_t question_of(const struct agg *agg, const struct dnspkt_question *q)
{
	return forwards_question(&agg->forwards, q->name.text, q->name.text_len, q->qtype);
}

/* A response from the resolver's port: the outcome of the query it
 * answers, once, if that query is open (no count of any other query
 * changes: an unmatched, repeated or spoofed response counts nothing). */
static void count_response(struct agg *agg, const struct dnspkt_frame *fr, const struct dnspkt_question *q,
                           uint32_t now)
{
	int blocked;
	uint64_t key = exchange_key(agg, fr, fr->dst_port, q);
	struct pending_slot *open = pending_find(&agg->pending, key, name_check(&q->name));
	if (!open)
		return; /* no query of that client in flight: nothing to class */
	enum logline_result result = result_of(fr->payload, fr->payload_len, q, &blocked);
	int forwarded = forwards_answered(&agg->forwards, question_of(agg, q), key);
	pending_close(open, blocked ? SOURCE_BLOCKED : forwarded ? SOURCE_UPSTREAM : SOURCE_RESOLVER, result,
	              agg->replies);
	agg->stats.packet_replies++;
	if (blocked) {
		char client[PKTQUERY_CLIENT_MAX];
		size_t name_len;
		const char *name = name_text(&q->name, &name_len);
		struct logline_span who = { client, pktquery_client_text(fr, client) }, what = { name, name_len };
		agg_count_blocked(agg, who, what, now);
	}
}

/* The resolver's own query, going out to one of its servers (to the DNS
 * port, from this host): counted by server, written as dnsmasq's
 * "forwarded" line writes it (the port after a '#' when it is not 53), and
 * marks the client query it forwards. */
static void count_forward(struct agg *agg, const struct dnspkt_frame *fr, const struct dnspkt_question *q,
                          uint32_t now)
{
	char server[PKTQUERY_CLIENT_MAX + 6];
	size_t len = address_text(fr->family, fr->server, server);
	if (fr->dst_port != 53) {
		server[len++] = '#';
		len += put_decimal(server + len, fr->dst_port);
	}
	struct logline_span as = { server, len };
	agg->stats.packet_forwards++;
	agg_count_forwarded(agg, as, now);
	forwards_sent(&agg->forwards, question_of(agg, q));
}

/* Not inlined (LTO) into capture_account(), its one caller: in a frame and
 * registers of its own, with its text buffers, both functions take 128
 * bytes less on MIPS16 (capture_account()'s frame 880 -> 744 bytes).  A
 * build without LTO (x86-64's tests and benchmarks) calls it anyway. */
__attribute__((noinline)) void pktquery_count(struct agg *agg, const struct dnspkt_frame *fr,
                                              const struct dnspkt_question *q, int outgoing, uint32_t now)
{
	char type_buf[PKTQUERY_TYPE_MAX];
	if (q->opcode != 0)
		return;
	if (fr->is_response && q->qr) {
		count_response(agg, fr, q, now);
		return;
	}
	if (fr->is_response || q->qr)
		return;
	if (outgoing) {
		count_forward(agg, fr, q, now);
		return;
	}
	size_t name_len;
	const char *name = name_text(&q->name, &name_len);
	struct logline_span what = { name, name_len }, as = { "", 0 };
	/* the type from its memo while the pool holds it, else its text */
	struct agg_type_memo *tm = &agg->type_memo[(q->qtype * 0x9e3779b1u) >> 28 & (AGG_TYPE_MEMOS - 1)];
	struct str *type = tm->qtype == q->qtype ? strpool_recall(&agg->pool, &tm->type) : NULL;
	if (!type) {
		as.ptr = pktquery_type_text(q->qtype, type_buf, &as.len);
		tm->qtype = q->qtype;
		tm->type.s = NULL;
	}
	agg->stats.packet_queries++;
	/* the name as sent, hashed once: the pending check and, when its text
	 * is the name's, the string pool's cache (name_check() is hash_fast()) */
	uint32_t check = name_check(&q->name);
	uint32_t name_fast = name == q->name.text ? check : hash_fast(name, name_len);
	agg_count_query_of(agg, stored_client(agg, fr), what, name_fast, type, as, &tm->type, now);
	/* a retransmission (same client, port, ID and question) is one query in
	 * flight: dnsmasq answers it as a duplicate */
	uint64_t key = exchange_key(agg, fr, fr->src_port, q);
	if (pending_query_new(&agg->pending, key, check, agg->replies))
		forwards_query(&agg->forwards, question_of(agg, q), key);
	else
		agg->replies[SOURCE_UPSTREAM][RESULT_DUPLICATE]++;
}
