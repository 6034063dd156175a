/*
 * test_capture.c - unit tests of the capture's pure parts: the kernel
 * filter (capture_bpf(), run here by a small classic BPF interpreter with
 * the kernel's semantics: a load past the end rejects the frame), the
 * accounting of frames (capture_account(), with dnspkt and dnstt
 * underneath), and the DNSTT session table (src/sessions.c).  The capture
 * spec (spec/capture_spec.lua) runs the same filter in the kernel.
 *
 * Frames are built here the way the kernel hands them to an AF_PACKET
 * socket: Ethernet II, an optional 802.1Q tag, IPv4 or IPv6, UDP or TCP.
 */
#include "check.h"
#include "agg.h"
#include "capture.h"
#include "dnspkt.h"
#include "pktquery.h"
#include "sessions.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>

#define PORT 53
#define DOMAIN "t.example.com"

/* DESIGN.md section 4 */
static const char VECTOR_DATA[] =
	"ingesrkokreujy6zumkse43vobsxey3bnruwm4tbm5uwy2ltoruwgzlyobuwc3d.jmrxwg2lpovzq.t.example.com";
static const char VECTOR_POLL[] = "aerukz4jvpg672aaaaaaaaaaaaaa.t.example.com";

/* ---- a classic BPF interpreter: the opcodes capture_bpf() uses ---- */

/* The metadata of the frame run next (SKF_AD_PKTTYPE, SKF_AD_HATYPE): by
 * default a frame that came in on Ethernet. */
static uint32_t frame_pkttype = 0 /* PACKET_HOST */, frame_hatype = 1 /* ARPHRD_ETHER */;

/* Returns what the program returns (bytes kept; 0: dropped), or -1 on an
 * instruction it does not know. */
static long run_bpf(const struct capture_insn *prog, size_t n, const uint8_t *pkt, size_t len)
{
	uint32_t a = 0, x = 0;
	for (size_t pc = 0; pc < n; pc++) {
		const struct capture_insn *i = &prog[pc];
		uint32_t off;
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k == (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE))
				a = frame_pkttype;
			else if (i->k == (uint32_t)(SKF_AD_OFF + SKF_AD_HATYPE))
				a = frame_hatype;
			else
				return -1; /* no word load of the frame's bytes is used */
			break;
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND: {
			size_t size = (i->code & BPF_B) ? 1 : 2;
			off = i->k + ((i->code & BPF_IND) ? x : 0);
			if (off + size > len)
				return 0; /* the kernel: an out of bounds load ends the filter with 0 */
			a = size == 1 ? pkt[off] : (uint32_t)(pkt[off] << 8 | pkt[off + 1]);
			break;
		}
		case BPF_LDX | BPF_W | BPF_IMM:
			x = i->k;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
			a <<= i->k;
			break;
		case BPF_ALU | BPF_ADD | BPF_X:
			a += x;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return (long)i->k;
		default:
			return -1;
		}
		if (pc >= n)
			return -1;
	}
	return -1; /* fell off the end: the kernel refuses such a program */
}

/* ---- frames ---- */

struct spec {
	int vlan;         /* one 802.1Q tag */
	int v6;
	int proto;        /* 17 UDP, 6 TCP */
	int ip_options;   /* IPv4: words of options */
	unsigned frag;    /* IPv4: flags and fragment offset field */
	int hop_by_hop;   /* IPv6: a hop-by-hop header first */
	int fragment6;    /* IPv6: a fragment header first */
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t plen;
};

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static size_t build_frame(uint8_t *f, const struct spec *s)
{
	uint8_t *p = f;
	memset(p, 0, 12); /* lo's MACs */
	p += 12;
	if (s->vlan) {
		p = put16(p, 0x8100);
		p = put16(p, 42);
	}
	p = put16(p, s->v6 ? 0x86dd : 0x0800);
	size_t l4len = (s->proto == 17 ? 8 : 20) + s->plen;
	uint8_t *ip = p;
	if (!s->v6) {
		size_t ihl = 5 + (size_t)s->ip_options;
		memset(ip, 0, ihl * 4);
		ip[0] = (uint8_t)(0x40 | ihl);
		put16(ip + 2, (unsigned)(ihl * 4 + l4len));
		put16(ip + 6, s->frag);
		ip[8] = 64;
		ip[9] = (uint8_t)s->proto;
		ip[12] = 127, ip[15] = 1, ip[16] = 127, ip[19] = 1;
		p = ip + ihl * 4;
	} else {
		size_t ext = s->hop_by_hop || s->fragment6 ? 8 : 0;
		memset(ip, 0, 40 + ext);
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(ext + l4len));
		ip[6] = s->hop_by_hop ? 0 : s->fragment6 ? 44 : (uint8_t)s->proto;
		ip[7] = 64;
		ip[23] = 1, ip[39] = 1;
		p = ip + 40;
		if (ext) {
			p[0] = (uint8_t)s->proto; /* next header; the rest: length 0, no options, offset 0 */
			if (s->hop_by_hop)
				p[2] = 1, p[3] = 4; /* PadN */
			p += 8;
		}
	}
	p = put16(p, s->sport);
	p = put16(p, s->dport);
	if (s->proto == 17) {
		p = put16(p, (unsigned)(8 + s->plen));
		p = put16(p, 0);
	} else {
		memset(p, 0, 16);
		p[8] = 0x50;
		p += 16;
	}
	memcpy(p, s->payload, s->plen);
	return (size_t)(p - f) + s->plen;
}

static size_t put_name(uint8_t *p, const char *name)
{
	size_t o = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		p[o++] = (uint8_t)n;
		memcpy(p + o, name, n);
		o += n;
		name += n + (dot ? 1 : 0);
	}
	p[o++] = 0;
	return o;
}

/* A query (with an OPT record) or a response (question echoed, one TXT answer). */
static size_t build_msg(uint8_t *b, const char *name, uint16_t qtype, int response)
{
	uint8_t *p = b;
	p = put16(p, 0x1234);
	p = put16(p, response ? 0x8180 : 0x0100);
	p = put16(p, 1);
	p = put16(p, response ? 1 : 0);
	p = put16(p, 0);
	p = put16(p, response ? 0 : 1);
	p += put_name(p, name);
	p = put16(p, qtype);
	p = put16(p, 1);
	if (response) {
		p = put16(p, 0xc00c);
		p = put16(p, 16);
		p = put16(p, 1);
		p = put16(p, 0);
		p = put16(p, 60);
		p = put16(p, 6);
		*p++ = 5;
		memcpy(p, "hello", 5);
		p += 5;
	} else {
		*p++ = 0;
		p = put16(p, 41);
		p = put16(p, 1232);
		p = put16(p, 0);
		p = put16(p, 0);
		p = put16(p, 0);
	}
	return (size_t)(p - b);
}

static const uint8_t DNS_PAYLOAD[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 };

static long filter(const struct spec *s)
{
	struct capture_insn prog[CAPTURE_BPF_MAX];
	uint8_t f[2048];
	size_t n = capture_bpf(prog, PORT);
	size_t len = build_frame(f, s);
	CHECK(n <= CAPTURE_BPF_MAX);
	return run_bpf(prog, n, f, len);
}

static struct spec dns_spec(int vlan, int v6, uint16_t sport, uint16_t dport)
{
	struct spec s = { vlan, v6, 17, 0, 0, 0, 0, sport, dport, DNS_PAYLOAD, sizeof DNS_PAYLOAD };
	return s;
}

static void test_filter_accepts_dns(void)
{
	for (int vlan = 0; vlan < 2; vlan++)
		for (int v6 = 0; v6 < 2; v6++) {
			struct spec q = dns_spec(vlan, v6, 40000, PORT), r = dns_spec(vlan, v6, PORT, 40000);
			CHECK(filter(&q) > 0);
			CHECK(filter(&r) > 0);
		}
	struct spec opt = dns_spec(0, 0, 40000, PORT);
	opt.ip_options = 3; /* the ports sit after the options */
	CHECK(filter(&opt) > 0);
	opt.dport = 54;
	CHECK_INT(filter(&opt), 0);
	opt.vlan = 1;
	opt.dport = PORT;
	CHECK(filter(&opt) > 0);
	struct spec first = dns_spec(0, 0, 40000, PORT);
	first.frag = 0x2000; /* MF, offset 0: has the ports; dnspkt counts it a fragment */
	CHECK(filter(&first) > 0);
	struct spec hop = dns_spec(1, 1, 40000, 9999);
	hop.hop_by_hop = 1; /* extension headers: left to dnspkt */
	CHECK(filter(&hop) > 0);
}

/* On loopback each packet is seen going out and coming in: only the copy
 * coming in is queued.  Elsewhere frames going out are kept. */
static void test_filter_outgoing(void)
{
	struct spec q = dns_spec(0, 0, 40000, PORT);
	const uint32_t HOST = 0, OUTGOING = 4, ETHER = 1, LOOPBACK = 772;
	frame_pkttype = OUTGOING, frame_hatype = LOOPBACK;
	CHECK_INT(filter(&q), 0);
	frame_pkttype = HOST;
	CHECK(filter(&q) > 0);
	frame_pkttype = OUTGOING, frame_hatype = ETHER;
	CHECK(filter(&q) > 0);
	frame_pkttype = HOST;
	CHECK(filter(&q) > 0);
}

static void test_filter_drops_the_rest(void)
{
	for (int vlan = 0; vlan < 2; vlan++)
		for (int v6 = 0; v6 < 2; v6++) {
			struct spec other = dns_spec(vlan, v6, 40000, 5353);
			CHECK_INT(filter(&other), 0);
			struct spec tcp = dns_spec(vlan, v6, 40000, PORT);
			tcp.proto = 6; /* TCP to port 53: not captured */
			CHECK_INT(filter(&tcp), 0);
		}
	struct spec later = dns_spec(0, 0, 40000, PORT);
	later.frag = 185; /* a non-first fragment: its "ports" are data */
	CHECK_INT(filter(&later), 0);
	later.frag = 0x2000 | 185;
	CHECK_INT(filter(&later), 0);

	struct capture_insn prog[CAPTURE_BPF_MAX];
	size_t n = capture_bpf(prog, PORT);
	uint8_t arp[42] = { 0 };
	put16(arp + 12, 0x0806);
	CHECK_INT(run_bpf(prog, n, arp, sizeof arp), 0);
	uint8_t qinq[64] = { 0 };
	put16(qinq + 12, 0x8100);
	put16(qinq + 16, 0x8100); /* two tags: not followed */
	CHECK_INT(run_bpf(prog, n, qinq, sizeof qinq), 0);
	/* every prefix of a DNS frame: accepted only with the ports in it */
	struct spec q = dns_spec(1, 0, 40000, PORT);
	uint8_t f[256];
	size_t len = build_frame(f, &q);
	for (size_t cut = 0; cut < len; cut++) {
		long got = run_bpf(prog, n, f, cut);
		if (cut < 14 + 4 + 20 + 4)
			CHECK_INT(got, 0);
		else
			CHECK(got > 0);
	}
	/* every instruction known, no jump out of the program */
	for (unsigned port = 1; port < 65536; port += 977) {
		n = capture_bpf(prog, (uint16_t)port);
		struct spec p = dns_spec(0, 0, 40000, (uint16_t)port);
		CHECK(run_bpf(prog, n, (uint8_t *)f, build_frame(f, &p)) > 0);
	}
}

/* ---- accounting ---- */

static struct agg *new_agg(uint32_t max_sessions)
{
	struct agg_config cfg = { 0 };
	cfg.max_entries = cfg.max_clients = 10;
	cfg.max_servers = 4;
	cfg.max_leases = 4;
	cfg.capture = 1;
	cfg.dnstt_domains[0] = "other.example";
	cfg.dnstt_domains[1] = DOMAIN;
	cfg.ndnstt_domains = 2;
	cfg.dnstt_window = 30;
	cfg.dnstt_max_sessions = max_sessions;
	return agg_new(&cfg);
}

/* builds a frame carrying a DNS message, accounts it; returns the payload length */
static size_t account(struct agg *agg, int vlan, int v6, const char *name, uint16_t qtype, int response,
                      uint32_t now)
{
	uint8_t msg[512], f[1024];
	size_t mlen = build_msg(msg, name, qtype, response);
	struct spec s = dns_spec(vlan, v6, response ? PORT : 40000, response ? 40000 : PORT);
	s.payload = msg;
	s.plen = mlen;
	size_t len = build_frame(f, &s);
	uint8_t *copy = malloc(len); /* exactly its length: a read past the end shows under ASan/valgrind */
	memcpy(copy, f, len);
	capture_account(agg, copy, len, PORT, 0, now);
	free(copy);
	return mlen;
}

static void test_account_dnstt(void)
{
	struct agg *agg = new_agg(100);
	struct sessions *s = agg->dnstt;
	const uint32_t t0 = 1000000;
	CHECK(s != NULL);
	CHECK_STR(s->domain[1].name, DOMAIN);

	size_t in = 0, out = 0;
	in += account(agg, 0, 0, VECTOR_DATA, 16, 0, t0);
	out += account(agg, 0, 0, VECTOR_DATA, 16, 1, t0);
	in += account(agg, 1, 1, VECTOR_POLL, 16, 0, t0 + 1);
	out += account(agg, 1, 1, VECTOR_POLL, 16, 1, t0 + 1);
	in += account(agg, 0, 1, VECTOR_DATA, 16, 0, t0 + 2); /* the same session again */
	/* not tunnel queries */
	account(agg, 0, 0, VECTOR_DATA, 1, 0, t0 + 2);   /* type A */
	account(agg, 0, 0, "www.t.example.com", 16, 0, t0 + 2);
	account(agg, 0, 0, "example.org", 16, 1, t0 + 2);

	const struct sessions_domain *d = &s->domain[1];
	CHECK_U64(d->n.queries, 3);
	CHECK_U64(d->n.sessions, 2);
	CHECK_U64(d->n.bytes_in, in);
	CHECK_U64(d->n.bytes_out, out);
	CHECK_U64(s->domain[0].n.queries, 0);
	CHECK_U64(agg->stats.packets[DNSPKT_OK], 8);

	sessions_tick(s, t0 + 2);
	CHECK_INT(d->n.active, 2);
	CHECK_INT(d->n.peak, 2);
	sessions_tick(s, t0 + 31); /* the poll's session (t0 + 1) was seen 30 s ago: out */
	CHECK_INT(d->n.active, 1);
	sessions_tick(s, t0 + 32);
	CHECK_INT(d->n.active, 0);
	CHECK_INT(d->n.peak, 2);

	/* what is not DNS is counted by status */
	uint8_t f[256];
	struct spec bad = dns_spec(0, 0, 40000, PORT);
	bad.frag = 0x2000;
	capture_account(agg, f, build_frame(f, &bad), PORT, 0, t0);
	struct spec shortmsg = dns_spec(0, 0, 40000, PORT);
	shortmsg.plen = 5;
	capture_account(agg, f, build_frame(f, &shortmsg), PORT, 0, t0);
	capture_account(agg, f, 10, PORT, 0, t0);
	CHECK_U64(agg->stats.packets[DNSPKT_FRAGMENT], 1);
	CHECK_U64(agg->stats.packets[DNSPKT_TRUNCATED], 2);
	CHECK_U64(agg->stats.packets[DNSPKT_OK], 8);
	agg_free(agg);
}

/* The filter in front of the domains' matching: a bit for each domain's
 * last byte, folded as the matching folds it; a name ending otherwise is
 * no tunnel's, one ending in upper case still is. */
static void test_dnstt_last_chars(void)
{
	struct agg *agg = new_agg(100);
	const struct sessions *s = agg->dnstt;
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(sessions_may_end_with(s, 'e')); /* other.example */
	CHECK(sessions_may_end_with(s, 'm')); /* t.example.com */
	CHECK(sessions_may_end_with(s, 'M'));
	CHECK(!sessions_may_end_with(s, 'g'));
	char upper[sizeof VECTOR_DATA];
	memcpy(upper, VECTOR_DATA, sizeof upper);
	upper[sizeof upper - 2] = 'M'; /* ...t.example.coM */
	account(agg, 0, 0, upper, 16, 0, 1000);
	account(agg, 0, 0, "t.example.org", 16, 0, 1000);
	CHECK_U64(s->domain[1].n.queries, 1);
	agg_free(agg);
}

/* ---- the session table ---- */

static void test_sessions_bounded(void)
{
	struct hash_key key = { 1, 2 };
	const char *domains[] = { "A.Example.", "b.example" };
	struct sessions *s = sessions_new(domains, 2, 10, 3, 0, &key);
	uint8_t id[8] = { 0 };
	CHECK_STR(s->domain[0].name, "a.example");
	for (uint8_t i = 0; i < 3; i++) {
		id[0] = i;
		CHECK_INT(sessions_seen(s, 0, 0, id, 100 + i), 1);
	}
	id[0] = 0;
	CHECK_INT(sessions_seen(s, 0, 0, id, 103), 0);   /* known: now the newest */
	CHECK_INT(sessions_seen(s, 1, 0, id, 103), 1);   /* the same ID under another domain: another session */
	CHECK_U64(s->evictions, 1);                   /* session 1, the least recently seen, went */
	id[0] = 1;
	CHECK_INT(sessions_seen(s, 0, 0, id, 104), 1);
	CHECK_U64(s->evictions, 2);                   /* then session 2 */
	id[0] = 0;
	CHECK_INT(sessions_seen(s, 0, 0, id, 104), 0);
	CHECK_INT(s->used, 3);
	sessions_tick(s, 104);
	CHECK_INT(s->domain[0].n.active, 2);
	CHECK_INT(s->domain[1].n.active, 1);
	/* many sessions through a small table: never more than max, lookups stay right */
	for (uint32_t i = 0; i < 10000; i++) {
		memcpy(id, &i, sizeof i);
		sessions_seen(s, i % 2, 0, id, 200 + i / 100);
		CHECK_INT(sessions_seen(s, i % 2, 0, id, 200 + i / 100), 0);
	}
	CHECK_INT(s->used, 3);
	sessions_free(s);
}

/* With GeoIP: counts per (domain, country, ASN), a bounded number of groups. */
static void test_sessions_groups(void)
{
	struct hash_key key = { 3, 4 };
	const char *domains[] = { "a.example", "b.example" };
	struct sessions *s = sessions_new(domains, 2, 30, 100, 4, &key);
	uint8_t id[8] = { 1 };
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(s->ngroups, 2); /* each domain's unmapped group, first */
	CHECK_STR(s->groups[1].country, "ZZ");
	CHECK_INT(s->groups[1].domain, 1);
	uint32_t de = sessions_group(s, 0, "DE", 3320);
	CHECK_INT(de, 2);
	CHECK_INT(sessions_group(s, 0, "DE", 3320), de);     /* found again */
	CHECK_INT(sessions_group(s, 0, "ZZ", 0), 0);         /* the unmapped one */
	uint32_t us = sessions_group(s, 1, "US", 15169);
	CHECK_INT(us, 3);
	CHECK_INT(sessions_group(s, 0, "US", 15169), 0);     /* full: the domain's unmapped group */
	CHECK_INT(sessions_group(s, 1, "DE", 1), 1);
	CHECK_U64(s->group_overflows, 2);
	CHECK_INT(s->ngroups, 4);

	sessions_count(s, 0, de, 0, 100, id, 1000);          /* a query of session 1 through DE */
	sessions_count(s, 0, de, 1, 300, id, 1000);          /* its response */
	id[0] = 2;
	sessions_count(s, 0, 0, 0, 50, id, 1001);            /* session 2, unmapped */
	sessions_count(s, 0, de, 0, 60, id, 1002);           /* ... then through DE: it moves there */
	id[0] = 3;
	sessions_count(s, 1, us, 0, 70, id, 1002);
	CHECK_U64(s->groups[de].n.queries, 2);
	CHECK_U64(s->groups[de].n.bytes_in, 160);
	CHECK_U64(s->groups[de].n.bytes_out, 300);
	CHECK_U64(s->groups[de].n.sessions, 1);              /* session 2 was new where first seen */
	CHECK_U64(s->groups[0].n.sessions, 1);
	CHECK_U64(s->domain[0].n.queries, 3);
	CHECK_U64(s->domain[0].n.sessions, 2);
	CHECK_U64(s->domain[1].n.bytes_in, 70);
	sessions_tick(s, 1002);
	CHECK_INT(s->groups[de].n.active, 2);                /* by the group of their last message */
	CHECK_INT(s->groups[0].n.active, 0);
	CHECK_INT(s->groups[us].n.active, 1);
	CHECK_INT(s->domain[0].n.active, 2);
	CHECK_INT(s->groups[de].n.peak, 2);
	sessions_tick(s, 1100);
	CHECK_INT(s->groups[de].n.active, 0);
	CHECK_INT(s->groups[de].n.peak, 2);
	CHECK(sessions_bytes(s) >= 4 * sizeof(struct sessions_group));
	sessions_free(s);

	/* max_groups below the number of domains still gives each its own */
	s = sessions_new(domains, 2, 30, 10, 1, &key);
	CHECK(s != NULL);
	if (s) {
		CHECK_INT(s->max_groups, 2);
		CHECK_INT(sessions_group(s, 1, "DE", 3320), 1);
		sessions_free(s);
	}
}

/* ---- the packet query source (src/pktquery.c) ---- */

static void test_type_names(void)
{
	static const struct { uint16_t type; const char *name; } want[] = {
		{ 1, "A" }, { 28, "AAAA" }, { 65, "HTTPS" }, { 64, "SVCB" }, { 54, "type=54" }, { 53, "SMIMEA" },
		{ 66, "type=66" }, { 99, "SPF" }, { 109, "EUI64" }, { 110, "type=110" }, { 248, "type=248" },
		{ 249, "TKEY" }, { 251, "type=251" }, { 252, "AXFR" }, { 255, "ANY" }, { 257, "CAA" },
		{ 261, "RESINFO" }, { 262, "type=262" }, { 32768, "TA" }, { 32769, "DLV" }, { 32770, "type=32770" },
		{ 0, "type=0" }, { 65535, "type=65535" },
	};
	char buf[PKTQUERY_TYPE_MAX];
	size_t len;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		CHECK_STR(pktquery_type_text(want[i].type, buf, &len), want[i].name);
		CHECK_INT(len, strlen(want[i].name));
	}
	for (unsigned t = 0; t < 65536; t++) { /* every type fits, NUL included, and its length is right */
		const char *text = pktquery_type_text((uint16_t)t, buf, &len);
		CHECK(len < PKTQUERY_TYPE_MAX && strlen(text) == len);
	}
}

/* A name's text is itself when every label octet is printable ASCII and
 * none is a '.', "<name unprintable>" otherwise (dnsmasq's rule), for
 * random names of octets near the edges; the root is ".". */
static void test_name_text(void)
{
	static const unsigned char octets[] = { 'a', 'Z', '-', '.', ' ', '~', '"', '\\', 0x1f, 0x7f, 0x80, 0xff, 0 };
	struct dnspkt_name name;
	size_t len;
	memset(&name, 0, sizeof name);
	strcpy(name.text, ".");
	name.text_len = 1;
	CHECK_STR(pktquery_name_text(&name, &len), ".");
	for (unsigned n = 0; n < 20000; n++) {
		int printable = 1;
		size_t text = 0;
		name.nlabels = (uint8_t)(1 + check_rand() % 5);
		for (unsigned l = 0; l < name.nlabels; l++) {
			unsigned llen = 1 + (unsigned)(check_rand() % (l == 0 ? 40 : 8));
			if (l > 0)
				name.text[text++] = '.';
			name.label[l].off = (uint8_t)text;
			name.label[l].len = (uint8_t)llen;
			for (unsigned i = 0; i < llen; i++) {
				/* mostly letters, so that a whole name is printable often enough */
				unsigned char c = check_rand() % 8 ? 'a' : octets[check_rand() % sizeof octets];
				name.text[text++] = (char)c;
				printable &= c >= 0x20 && c <= 0x7e && c != '.';
			}
		}
		name.text[text] = '\0';
		name.text_len = (uint16_t)text;
		const char *got = pktquery_name_text(&name, &len);
		if (printable ? got != name.text || len != text : strcmp(got, "<name unprintable>") != 0 || len != 18) {
			CHECK_STR(got, printable ? name.text : "<name unprintable>");
			break;
		}
		check_passed++;
	}
}

/* The client's text is inet_ntop's, for addresses with zero groups in
 * every place, runs of every length, mapped and compatible IPv4 (IPv6 is
 * inet_ntop's own; IPv4 is written here). */
static void test_client_text(void)
{
	struct dnspkt_frame fr;
	char got[PKTQUERY_CLIENT_MAX], want[INET6_ADDRSTRLEN];
	memset(&fr, 0, sizeof fr);
	fr.family = 6;
	for (unsigned n = 0; n < 70000; n++) {
		if (n < 65536) {
			/* each group zero or not, by the bits of n (the low 8: which), the rest: values */
			for (int g = 0; g < 8; g++) {
				unsigned v = (n >> g & 1) ? 0 : (unsigned)(check_rand() >> (n >> 8 & 7) * 4) & 0xffff;
				fr.resolver[2 * g] = (uint8_t)(v >> 8);
				fr.resolver[2 * g + 1] = (uint8_t)v;
			}
		} else {
			for (int i = 0; i < 16; i++)
				fr.resolver[i] = (uint8_t)check_rand();
			memset(fr.resolver, 0, 10 + (n & 1) * 2); /* ::ffff:a.b.c.d and ::a.b.c.d */
			if (!(n & 1))
				fr.resolver[10] = fr.resolver[11] = 0xff;
		}
		size_t len = pktquery_client_text(&fr, got);
		CHECK(inet_ntop(AF_INET6, fr.resolver, want, sizeof want) != NULL);
		if (strcmp(got, want) != 0 || len != strlen(want)) {
			CHECK_STR(got, want);
			break;
		}
		check_passed++;
	}
	fr.family = 4;
	for (unsigned n = 0; n < 20000; n++) {
		uint32_t a = n < 256 ? n * 0x01010101u : (uint32_t)check_rand();
		memcpy(fr.resolver, &a, 4);
		pktquery_client_text(&fr, got);
		CHECK(inet_ntop(AF_INET, fr.resolver, want, sizeof want) != NULL);
		if (strcmp(got, want) != 0) {
			CHECK_STR(got, want);
			break;
		}
		check_passed++;
	}
}

/* A query or response from 127.0.0.1 (or ::1) counted from packets; opcode
 * as the header's bits 11-14. */
static void account_query(struct agg *agg, int v6, const uint8_t *name_wire, size_t name_len, uint16_t qtype,
                          int response, int outgoing, unsigned opcode)
{
	uint8_t msg[512], f[1024];
	size_t mlen = build_msg(msg, "x", qtype, response);
	/* the name as given, wire form: replaces "x" (3 octets) */
	memmove(msg + 12 + name_len, msg + 12 + 3, mlen - 15);
	memcpy(msg + 12, name_wire, name_len);
	mlen = mlen - 3 + name_len;
	msg[2] = (uint8_t)(msg[2] | opcode << 3);
	struct spec s = dns_spec(0, v6, response ? PORT : 40000, response ? 40000 : PORT);
	s.payload = msg;
	s.plen = mlen;
	capture_account(agg, f, build_frame(f, &s), PORT, outgoing, 1000);
}

/* the count of (client, domain, type) in agg, or -1 */
static long long entry_count(struct agg *agg, const char *client, const char *domain, const char *type)
{
	struct agg_view *v = agg_view_new(agg);
	long long n = -1;
	for (uint32_t i = 0; v && i < v->nrows; i++)
		if (!strcmp(v->rows[i].client, client) && !strcmp(v->rows[i].domain, domain) &&
		    !strcmp(v->rows[i].type, type))
			n = (long long)v->rows[i].count;
	agg_view_free(v);
	return n;
}

/* A small aggregator with a capture, counting queries from `queries`. */
static struct agg *capture_agg(enum agg_queries queries)
{
	struct agg_config cfg = { 0 };
	cfg.max_entries = cfg.max_clients = 10;
	cfg.max_servers = cfg.max_leases = 4;
	cfg.capture = 1;
	cfg.queries = queries;
	struct agg *agg = agg_new(&cfg);
	CHECK(agg != NULL);
	return agg;
}

static void test_packet_queries(void)
{
	struct agg *agg = capture_agg(AGG_QUERIES_PACKETS);
	if (!agg)
		return;
	static const uint8_t mixed[] = "\3Foo\7Example\3org";       /* case kept, as dnsmasq logs it */
	static const uint8_t quote[] = "\5a\"b\\c\4test";           /* '"' and '\\' are printable */
	static const uint8_t dot[] = "\3a.b\4test";                  /* a '.' inside a label */
	static const uint8_t ctrl[] = "\3a\001b\4test";             /* a control byte */
	static const uint8_t high[] = "\4caf\303\4test";            /* not ASCII */
	static const uint8_t root[] = "";

	account_query(agg, 0, mixed, sizeof mixed, 65, 0, 0, 0);
	account_query(agg, 0, mixed, sizeof mixed, 65, 0, 0, 0); /* a retransmission is a query too */
	account_query(agg, 1, mixed, sizeof mixed, 1, 0, 0, 0);
	account_query(agg, 0, quote, sizeof quote, 1, 0, 0, 0);
	account_query(agg, 0, dot, sizeof dot, 1, 0, 0, 0);
	account_query(agg, 0, ctrl, sizeof ctrl, 1, 0, 0, 0);
	account_query(agg, 0, high, sizeof high, 28, 0, 0, 0);
	account_query(agg, 0, root, sizeof root, 2, 0, 0, 0);
	/* not a client's query: a response, one this host sent, an UPDATE, a NOTIFY */
	account_query(agg, 0, mixed, sizeof mixed, 1, 1, 0, 0);
	account_query(agg, 0, mixed, sizeof mixed, 1, 0, 1, 0);
	account_query(agg, 0, mixed, sizeof mixed, 1, 0, 0, 5);
	account_query(agg, 0, mixed, sizeof mixed, 1, 0, 0, 4);

	CHECK_INT(entry_count(agg, "127.0.0.1", "Foo.Example.org", "HTTPS"), 2);
	CHECK_INT(entry_count(agg, "::1", "Foo.Example.org", "A"), 1);
	CHECK_INT(entry_count(agg, "127.0.0.1", "Foo.Example.org", "A"), -1);
	CHECK_INT(entry_count(agg, "127.0.0.1", "a\"b\\c.test", "A"), 1);
	CHECK_INT(entry_count(agg, "127.0.0.1", "<name unprintable>", "A"), 2);
	CHECK_INT(entry_count(agg, "127.0.0.1", "<name unprintable>", "AAAA"), 1);
	CHECK_INT(entry_count(agg, "127.0.0.1", ".", "NS"), 1);
	CHECK_U64(agg->stats.packet_queries, 8);
	CHECK_U64(agg->stats.packets[DNSPKT_OK], 12);
	CHECK_U64(agg->stats.lines[LOGLINE_QUERY], 0);
	agg_free(agg);

	/* the log source (the default) counts no query from packets */
	agg = capture_agg(AGG_QUERIES_LOG);
	if (!agg)
		return;
	account_query(agg, 0, mixed, sizeof mixed, 65, 0, 0, 0);
	CHECK_INT(entry_count(agg, "127.0.0.1", "Foo.Example.org", "HTTPS"), -1);
	CHECK_U64(agg->stats.packet_queries, 0);
	agg_free(agg);
}

/* A response to 127.0.0.1 port `port` from the resolver's port: ID id,
 * question h1.test type A, RCODE rcode, then an answer of type atype with
 * rdata (none when rdlen is 0 and atype 0). */
static void account_response(struct agg *agg, uint16_t id, uint16_t port, unsigned rcode, uint16_t atype,
                             const uint8_t *rdata, uint16_t rdlen)
{
	uint16_t have = rdlen > 16 ? 4 : rdlen; /* a length past the end: only 4 bytes follow */
	uint8_t msg[256], f[512], *p = msg;
	p = put16(p, id);
	p = put16(p, 0x8180 | rcode);
	p = put16(p, 1);
	p = put16(p, atype ? 1 : 0);
	p = put16(p, 0);
	p = put16(p, 0);
	p += put_name(p, "h1.test");
	p = put16(p, 1);
	p = put16(p, 1);
	if (atype) {
		p = put16(p, 0xc00c);
		p = put16(p, atype);
		p = put16(p, 1);
		p = put16(p, 0);
		p = put16(p, 60);
		p = put16(p, rdlen);
		memcpy(p, rdata, have);
		p += have;
	}
	struct spec sp = dns_spec(0, 0, PORT, port);
	sp.payload = msg;
	sp.plen = (size_t)(p - msg);
	capture_account(agg, f, build_frame(f, &sp), PORT, 1, 1000); /* sent by this host */
}

/* A query for h1.test type A from 127.0.0.1 port `port`, ID id. */
static void account_h1(struct agg *agg, uint16_t id, uint16_t port)
{
	uint8_t msg[256], f[512];
	size_t mlen = build_msg(msg, "h1.test", 1, 0);
	msg[0] = (uint8_t)(id >> 8), msg[1] = (uint8_t)id;
	struct spec sp = dns_spec(0, 0, port, PORT);
	sp.payload = msg;
	sp.plen = mlen;
	capture_account(agg, f, build_frame(f, &sp), PORT, 0, 1000);
}

static uint64_t replies(const struct agg *agg, enum logline_source s, enum logline_result r)
{
	return agg->replies[s][r];
}

/* Responses close their own query once: matched by client address and
 * port, ID and question; the result from RCODE and the first answer. */
static void test_packet_replies(void)
{
	struct agg *agg = capture_agg(AGG_QUERIES_PACKETS);
	if (!agg)
		return;
	static const uint8_t addr[4] = { 10, 1, 1, 1 }, null4[4] = { 0 }, null6[16] = { 0 }, txt[3] = { 2, 'h', 'i' };
	static const uint8_t cname[9] = { 1, 'x', 4, 't', 'e', 's', 't', 0, 0 };

	account_h1(agg, 1, 5001);
	account_response(agg, 1, 5001, 0, 1, addr, 4);
	account_response(agg, 1, 5001, 0, 1, addr, 4);          /* again: closed already */
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_ADDRESS), 1);

	account_h1(agg, 2, 5002);
	account_response(agg, 2, 5003, 0, 1, addr, 4);          /* another port: not its response */
	account_response(agg, 3, 5002, 0, 1, addr, 4);          /* another ID */
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_ADDRESS), 1);
	account_response(agg, 2, 5002, 3, 0, NULL, 0);          /* NXDOMAIN */
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_NXDOMAIN), 1);

	account_h1(agg, 4, 5004);
	account_h1(agg, 4, 5004);                               /* a retransmission */
	CHECK_U64(replies(agg, SOURCE_UPSTREAM, RESULT_DUPLICATE), 1);
	account_response(agg, 4, 5004, 0, 1, null4, 4);         /* 0.0.0.0: blocked */
	CHECK_U64(replies(agg, SOURCE_BLOCKED, RESULT_ADDRESS), 1);
	CHECK_INT(agg->blocked.used, 1);

	account_h1(agg, 5, 5005);
	account_response(agg, 5, 5005, 0, 28, null6, 16);       /* :: */
	account_h1(agg, 6, 5006);
	account_response(agg, 6, 5006, 0, 5, cname, 7);
	account_h1(agg, 7, 5007);
	account_response(agg, 7, 5007, 0, 16, txt, 3);
	account_h1(agg, 8, 5008);
	account_response(agg, 8, 5008, 0, 0, NULL, 0);          /* no answer */
	account_h1(agg, 9, 5009);
	account_response(agg, 9, 5009, 2, 0, NULL, 0);          /* SERVFAIL */
	account_h1(agg, 10, 5010);
	account_response(agg, 10, 5010, 0, 1, addr, 40);        /* rdata past the end */
	CHECK_U64(replies(agg, SOURCE_BLOCKED, RESULT_ADDRESS), 2);
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_CNAME), 1);
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_RECORD), 1);
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_NODATA), 1);
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_ERROR), 2);
	CHECK_U64(agg->stats.packet_queries, 10);
	CHECK_U64(agg->stats.packet_replies, 9);
	agg_free(agg);
}

/* The resolver's own query for a question, going out from this host to a
 * server's DNS port, with its case as given. */
static void account_forward(struct agg *agg, const char *name, uint16_t id)
{
	uint8_t msg[256], f[512];
	size_t mlen = build_msg(msg, name, 1, 0);
	msg[0] = (uint8_t)(id >> 8), msg[1] = (uint8_t)id;
	struct spec sp = dns_spec(0, 0, 41000, PORT);
	sp.payload = msg;
	sp.plen = mlen;
	capture_account(agg, f, build_frame(f, &sp), PORT, 1, 1000);
}

/* A forward seen going out makes its client's reply "upstream"; without
 * one the reply is the resolver's; every forward is counted by server. */
static void test_packet_forwards(void)
{
	struct agg *agg = capture_agg(AGG_QUERIES_PACKETS);
	if (!agg)
		return;
	static const uint8_t addr[4] = { 10, 1, 1, 1 };

	account_h1(agg, 21, 5021);
	account_forward(agg, "H1.tEsT", 777);                   /* dnsmasq 2.91's 0x20 case: the same question */
	account_response(agg, 21, 5021, 0, 1, addr, 4);
	CHECK_U64(replies(agg, SOURCE_UPSTREAM, RESULT_ADDRESS), 1);
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_ADDRESS), 0);

	account_h1(agg, 22, 5022);                              /* from the cache: no forward */
	account_response(agg, 22, 5022, 0, 1, addr, 4);
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_ADDRESS), 1);

	account_forward(agg, "other.test", 778);                /* no client waits on it */
	account_h1(agg, 23, 5023);
	account_forward(agg, "h2.test", 779);                   /* another question */
	account_response(agg, 23, 5023, 0, 1, addr, 4);
	CHECK_U64(replies(agg, SOURCE_RESOLVER, RESULT_ADDRESS), 2);
	CHECK_U64(replies(agg, SOURCE_UPSTREAM, RESULT_ADDRESS), 1);

	/* a forward is no client's query; each is counted by its server */
	CHECK_U64(agg->stats.packet_queries, 3);
	CHECK_U64(agg->stats.packet_forwards, 3);
	CHECK_INT(agg->servers.used, 1);
	struct agg_view *v = agg_view_new(agg);
	CHECK(v != NULL);
	if (v && v->nservers == 1) {
		CHECK_STR(v->servers[0].key, "127.0.0.1");
		CHECK_U64(v->servers[0].count, 3);
	}
	agg_view_free(v);
	agg_free(agg);
}

CHECK_MAIN(test_type_names, test_name_text, test_client_text, test_packet_queries, test_packet_replies, test_packet_forwards, test_filter_accepts_dns, test_filter_outgoing, test_filter_drops_the_rest, test_account_dnstt, test_dnstt_last_chars, test_sessions_bounded,
           test_sessions_groups)
