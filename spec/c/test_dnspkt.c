/*
 * test_dnspkt.c - unit tests of src/dnspkt.c.
 *
 * Frames and messages are built here byte by byte, in network order, and
 * every one is parsed from a heap copy of exactly its length, so that a read
 * past the end shows up under AddressSanitizer and valgrind.
 *
 *   gcc -std=c99 -D_GNU_SOURCE -Wall -Wextra ... -Isrc -o /tmp/t spec/c/test_dnspkt.c src/dnspkt.c
 */
#include "check.h"
#include "dnspkt.h"

#include <stdint.h>
#include <stdlib.h>

/* A failure found by a loop, which counts only what fails. */
#define FAIL(what) do { \
	check_failed++; \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, (what)); \
} while (0)

/* ---- building DNS messages ---- */

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/* The wire form of a dotted name ("." is the root); no escapes. */
static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	const char *s = name;
	if (strcmp(name, ".") != 0) {
		for (;;) {
			const char *dot = strchr(s, '.');
			size_t l = dot ? (size_t)(dot - s) : strlen(s);
			p[n++] = (uint8_t)l;
			memcpy(p + n, s, l);
			n += l;
			if (!dot || !dot[1])
				break;
			s = dot + 1;
		}
	}
	p[n++] = 0;
	return n;
}

/*
 * A message: header, one question with the wire name qname[0..qn), for a
 * response one TXT answer whose name points at the question, then an OPT
 * RR.  *qend (if given) gets the offset just past the question.
 */
static size_t build_msg(uint8_t *b, uint16_t id, uint16_t flags, const uint8_t *qname, size_t qn,
                        uint16_t qtype, uint16_t qclass, size_t *qend)
{
	int response = flags >> 15;
	uint8_t *p = b;
	p = put16(p, id);
	p = put16(p, flags);
	p = put16(p, 1);            /* qdcount */
	p = put16(p, response);     /* ancount */
	p = put16(p, 0);            /* nscount */
	p = put16(p, 1);            /* arcount */
	memcpy(p, qname, qn);
	p += qn;
	p = put16(p, qtype);
	p = put16(p, qclass);
	if (qend)
		*qend = (size_t)(p - b);
	if (response) {
		p = put16(p, 0xc00c);
		p = put16(p, qtype);
		p = put16(p, qclass);
		p = put16(p, 0);
		p = put16(p, 60);   /* TTL */
		p = put16(p, 6);    /* rdlength */
		*p++ = 5;
		memcpy(p, "hello", 5);
		p += 5;
	}
	*p++ = 0;                   /* OPT: root name */
	p = put16(p, 41);
	p = put16(p, 4096);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, 0);            /* rdlength */
	return (size_t)(p - b);
}

static size_t build_query(uint8_t *b, const char *name, uint16_t qtype, size_t *qend)
{
	uint8_t wire[300];
	size_t n = put_name(wire, name);
	return build_msg(b, 0x1234, 0x0100, wire, n, qtype, DNSPKT_CLASS_IN, qend);
}

/* ---- building frames ---- */

struct spec {
	int v6;
	int ntags;
	uint16_t tag_type[3];
	uint16_t ethertype;  /* 0: IPv4 or IPv6 as v6 says */
	int ihl;             /* IPv4 header length in words: 5 when 0 */
	uint16_t frag;       /* IPv4 flags and fragment offset */
	uint8_t proto;       /* IPv4 protocol / the last IPv6 next header: UDP when 0 */
	int next_n;          /* IPv6 extension headers, of these types */
	uint8_t next_ext[8];
	uint8_t ext_len8;    /* their "hdr ext len" */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t plen;
};

static const uint8_t CLIENT4[4] = { 192, 168, 1, 10 }, SERVER4[4] = { 192, 168, 1, 1 };
static const uint8_t CLIENT6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
static const uint8_t SERVER6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static struct spec udp_spec(int v6, int response, const uint8_t *payload, size_t plen)
{
	struct spec s;
	memset(&s, 0, sizeof s);
	s.v6 = v6;
	memcpy(s.src, v6 ? (response ? SERVER6 : CLIENT6) : (response ? SERVER4 : CLIENT4), v6 ? 16 : 4);
	memcpy(s.dst, v6 ? (response ? CLIENT6 : SERVER6) : (response ? CLIENT4 : SERVER4), v6 ? 16 : 4);
	s.sport = response ? 53 : 40000;
	s.dport = response ? 40000 : 53;
	s.payload = payload;
	s.plen = plen;
	return s;
}

static size_t build_frame(uint8_t *f, const struct spec *s)
{
	uint8_t *p = f, *ip, *udp;
	size_t udp_len = 8 + s->plen;

	memset(p, 0, 12); /* MACs, as on lo */
	p += 12;
	for (int i = 0; i < s->ntags; i++) {
		p = put16(p, s->tag_type[i]);
		p = put16(p, (unsigned)(100 + i)); /* VLAN ID */
	}
	p = put16(p, s->ethertype ? s->ethertype : s->v6 ? 0x86dd : 0x0800);
	ip = p;
	if (!s->v6) {
		int ihl = s->ihl ? s->ihl : 5;
		size_t hlen = (size_t)ihl * 4;
		memset(ip, 0, hlen);
		ip[0] = (uint8_t)(0x40 | ihl);
		put16(ip + 2, (unsigned)(hlen + udp_len));
		put16(ip + 4, 0xbeef);
		put16(ip + 6, s->frag);
		ip[8] = 64;
		ip[9] = s->proto ? s->proto : 17;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		for (size_t i = 20; i < hlen; i++)
			ip[i] = 1; /* NOP options */
		p = ip + hlen;
	} else {
		size_t ext = (size_t)s->next_n * ((size_t)s->ext_len8 + 1) * 8;
		memset(ip, 0, 40);
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(ext + udp_len));
		ip[6] = s->next_n ? s->next_ext[0] : s->proto ? s->proto : 17;
		ip[7] = 64;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		p = ip + 40;
		for (int i = 0; i < s->next_n; i++) {
			size_t len = ((size_t)s->ext_len8 + 1) * 8;
			memset(p, 0, len);
			p[0] = i + 1 < s->next_n ? s->next_ext[i + 1] : s->proto ? s->proto : 17;
			p[1] = s->ext_len8;
			p += len;
		}
	}
	udp = p;
	put16(udp, s->sport);
	put16(udp + 2, s->dport);
	put16(udp + 4, (unsigned)udp_len);
	put16(udp + 6, 0); /* no checksum */
	memcpy(udp + 8, s->payload, s->plen);
	return (size_t)(udp + udp_len - f);
}

/* ---- parsing from exact heap copies ---- */

static void *copy_of(const void *s, size_t n)
{
	void *buf = malloc(n ? n : 1);
	if (!buf) {
		perror("malloc");
		exit(2);
	}
	if (n)
		memcpy(buf, s, n);
	return buf;
}

static int parse_frame(const uint8_t *f, size_t n, uint16_t port, struct dnspkt_frame *out)
{
	uint8_t *copy = copy_of(f, n);
	int status = dnspkt_frame(copy, n, port, out);
	if (status == DNSPKT_OK) {
		if (!(out->payload >= copy && out->payload_len <= n && out->payload <= copy + n - out->payload_len))
			FAIL("payload inside the frame");
		if (out->family != 4 && out->family != 6)
			FAIL("family 4 or 6");
		out->payload = f + (out->payload - copy);
	}
	free(copy);
	return status;
}

/* The name's fields agree with each other. */
static int name_ok(const struct dnspkt_name *nm)
{
	size_t sum = 0;
	if (nm->text_len > DNSPKT_NAME_TEXT_MAX || nm->wire_len > DNSPKT_NAME_WIRE_MAX ||
	    nm->nlabels > DNSPKT_LABELS_MAX || nm->text[nm->text_len] != '\0')
		return 0;
	for (unsigned i = 0; i < nm->nlabels; i++) {
		const struct dnspkt_label *l = &nm->label[i];
		if (l->len == 0 || l->len > 63 || (size_t)l->off + l->len > nm->text_len)
			return 0;
		if (i > 0 && (l->off != nm->label[i - 1].off + nm->label[i - 1].len + 1 || nm->text[l->off - 1] != '.'))
			return 0;
		sum += l->len;
	}
	if (nm->nlabels == 0)
		return nm->text_len == 1 && nm->text[0] == '.' && nm->wire_len == 1;
	return nm->label[0].off == 0 && nm->wire_len == 1 + sum + nm->nlabels &&
	       nm->text_len == sum + nm->nlabels - 1;
}

static int parse_question(const uint8_t *m, size_t n, struct dnspkt_question *q)
{
	uint8_t *copy = copy_of(m, n);
	int status = dnspkt_question(copy, n, q);
	if (status == DNSPKT_OK && !name_ok(&q->name))
		FAIL("a consistent name");
	free(copy);
	return status;
}

/* Reads a name, and skips it: the same status and, read, the same end. */
static int parse_name_at(const uint8_t *m, size_t n, size_t *off, struct dnspkt_name *nm)
{
	uint8_t *copy = copy_of(m, n);
	size_t skipped_to = *off;
	int status = dnspkt_name(copy, n, off, nm);
	if (status == DNSPKT_OK && !name_ok(nm))
		FAIL("a consistent name");
	if (dnspkt_skip_name(copy, n, &skipped_to) != status || (status == DNSPKT_OK && skipped_to != *off))
		FAIL("dnspkt_skip_name as dnspkt_name");
	free(copy);
	return status;
}

/* ---- frames ---- */

static void check_resolver(const struct dnspkt_frame *fr, const uint8_t *addr, size_t n)
{
	uint8_t want[16] = { 0 };
	memcpy(want, addr, n);
	CHECK(memcmp(fr->resolver, want, 16) == 0);
}

static void test_ipv4_query(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	struct dnspkt_question q;
	size_t mn = build_query(msg, "www.example.com", 1, NULL);
	struct spec s = udp_spec(0, 0, msg, mn);
	size_t fn = build_frame(f, &s);

	CHECK_INT(parse_frame(f, fn, DNSPKT_PORT, &fr), DNSPKT_OK);
	CHECK_INT(fr.family, 4);
	CHECK_INT(fr.is_response, 0);
	CHECK_INT(fr.src_port, 40000);
	CHECK_INT(fr.dst_port, 53);
	check_resolver(&fr, CLIENT4, 4);
	CHECK(fr.payload == f + 14 + 20 + 8);
	CHECK_INT(fr.payload_len, mn);

	CHECK_INT(parse_question(fr.payload, fr.payload_len, &q), DNSPKT_OK);
	CHECK_INT(q.id, 0x1234);
	CHECK_INT(q.flags, 0x0100);
	CHECK_INT(q.qr, 0);
	CHECK_INT(q.opcode, 0);
	CHECK_INT(q.rcode, 0);
	CHECK_INT(q.qdcount, 1);
	CHECK_INT(q.ancount, 0);
	CHECK_INT(q.nscount, 0);
	CHECK_INT(q.arcount, 1);
	CHECK_INT(q.qtype, 1);
	CHECK_INT(q.qclass, 1);
	CHECK_STR(q.name.text, "www.example.com");
	CHECK_INT(q.name.text_len, 15);
	CHECK_INT(q.name.wire_len, 17);
	CHECK_INT(q.name.nlabels, 3);
	CHECK_SPAN(q.name.text + q.name.label[0].off, q.name.label[0].len, "www");
	CHECK_SPAN(q.name.text + q.name.label[1].off, q.name.label[1].len, "example");
	CHECK_SPAN(q.name.text + q.name.label[2].off, q.name.label[2].len, "com");
}

static void test_ipv4_response(void)
{
	uint8_t wire[64], msg[512], f[1600];
	struct dnspkt_frame fr;
	struct dnspkt_question q;
	size_t wn = put_name(wire, "Www.Example.COM");
	size_t mn = build_msg(msg, 0xabcd, 0x8583, wire, wn, 16, 1, NULL); /* QR AA RD RA, NXDOMAIN */
	struct spec s = udp_spec(0, 1, msg, mn);
	size_t fn = build_frame(f, &s);

	CHECK_INT(parse_frame(f, fn, DNSPKT_PORT, &fr), DNSPKT_OK);
	CHECK_INT(fr.is_response, 1);
	check_resolver(&fr, CLIENT4, 4); /* the destination of a response */
	CHECK_INT(fr.src_port, 53);
	CHECK_INT(parse_question(fr.payload, fr.payload_len, &q), DNSPKT_OK);
	CHECK_INT(q.id, 0xabcd);
	CHECK_INT(q.qr, 1);
	CHECK_INT(q.rcode, 3);
	CHECK_INT(q.ancount, 1);
	CHECK_INT(q.qtype, 16);
	CHECK_STR(q.name.text, "Www.Example.COM"); /* raw bytes, case kept */

	/* the answer's name points back at the question */
	size_t off = 12 + wn + 4;
	struct dnspkt_name nm;
	CHECK_INT(q.end, off);
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_OK);
	CHECK_STR(nm.text, "Www.Example.COM");
	CHECK_INT(off, 12 + wn + 4 + 2);
}

static void test_both_ports_and_custom_port(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	size_t mn = build_query(msg, "example.org", 1, NULL);
	struct spec s = udp_spec(0, 0, msg, mn);
	size_t fn;

	s.sport = s.dport = 53; /* a server's query from port 53: QR 0 */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.is_response, 0);
	check_resolver(&fr, CLIENT4, 4);
	msg[2] |= 0x80; /* now a response */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.is_response, 1);
	check_resolver(&fr, SERVER4, 4);
	s.plen = 2; /* too short to carry QR: a query */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.is_response, 0);
	CHECK_INT(fr.payload_len, 2);

	s = udp_spec(0, 0, msg, mn);
	s.dport = 5353;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_DNS_PORT);
	CHECK_INT(parse_frame(f, fn, 5353, &fr), DNSPKT_OK);
	CHECK_INT(fr.is_response, 0);
	s.sport = 5353;
	s.dport = 1234;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 5353, &fr), DNSPKT_OK);
	CHECK_INT(fr.is_response, 1);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_DNS_PORT);
}

static void test_ethernet_padding(void)
{
	uint8_t msg[64], f[128];
	struct dnspkt_frame fr;
	struct dnspkt_question q;
	size_t mn = build_query(msg, ".", 2, NULL) - 11; /* no OPT: 17 bytes */
	struct spec s = udp_spec(0, 0, msg, mn);
	size_t fn = build_frame(f, &s);

	CHECK_INT(fn, 59);
	memset(f + fn, 0xee, 60 - fn); /* padded to the 60-byte minimum */
	CHECK_INT(parse_frame(f, 60, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.payload_len, 17);
	CHECK_INT(parse_question(fr.payload, fr.payload_len, &q), DNSPKT_OK);
	CHECK_STR(q.name.text, ".");
	CHECK_INT(q.name.nlabels, 0);
	CHECK_INT(q.name.wire_len, 1);
	CHECK_INT(q.qtype, 2);
	/* a UDP length shorter than the IP length: the UDP length wins */
	put16(f + 14 + 20 + 4, 8 + 10);
	CHECK_INT(parse_frame(f, 60, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.payload_len, 10);
}

static void test_vlan_tags(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	size_t mn = build_query(msg, "example.net", 28, NULL), fn;
	struct spec s = udp_spec(0, 0, msg, mn);

	s.ntags = 1;
	s.tag_type[0] = 0x8100;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK(fr.payload == f + 18 + 28);
	CHECK_INT(fr.payload_len, mn);

	s.ntags = 2;
	s.tag_type[0] = 0x88a8;
	s.tag_type[1] = 0x8100;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK(fr.payload == f + 22 + 28);

	s.tag_type[0] = 0x8100;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);

	s.ntags = 3; /* more than two tags: not parsed */
	s.tag_type[2] = 0x8100;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_IP);

	s.ntags = 1;
	s.ethertype = 0x0806; /* ARP behind a tag */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_IP);
}

static void test_ipv6(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	struct dnspkt_question q;
	size_t mn = build_query(msg, "ipv6.example", 28, NULL), fn;
	struct spec s = udp_spec(1, 0, msg, mn);

	s.ntags = 1;
	s.tag_type[0] = 0x8100;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.family, 6);
	CHECK_INT(fr.is_response, 0);
	check_resolver(&fr, CLIENT6, 16);
	CHECK(fr.payload == f + 18 + 40 + 8);
	CHECK_INT(fr.payload_len, mn);
	CHECK_INT(parse_question(fr.payload, fr.payload_len, &q), DNSPKT_OK);
	CHECK_STR(q.name.text, "ipv6.example");

	s = udp_spec(1, 1, msg, mn);
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.is_response, 1);
	check_resolver(&fr, CLIENT6, 16);
	CHECK(fr.payload == f + 14 + 40 + 8);
}

static void test_ipv6_extension_headers(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	size_t mn = build_query(msg, "ext.example", 1, NULL), fn;
	struct spec s = udp_spec(1, 0, msg, mn);

	/* hop-by-hop, destination options, routing */
	s.next_n = 3;
	s.next_ext[0] = 0;
	s.next_ext[1] = 60;
	s.next_ext[2] = 43;
	s.ext_len8 = 1;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK(fr.payload == f + 14 + 40 + 3 * 16 + 8);
	CHECK_INT(fr.payload_len, mn);

	s.next_n = DNSPKT_IPV6_EXT_MAX;
	s.next_ext[3] = 60;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	s.next_n = DNSPKT_IPV6_EXT_MAX + 1; /* over the cap */
	s.next_ext[4] = 60;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);

	s.next_n = 1; /* a fragment header */
	s.next_ext[0] = 44;
	s.ext_len8 = 0;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_FRAGMENT);
	s.next_n = 2; /* behind a hop-by-hop header */
	s.next_ext[0] = 0;
	s.next_ext[1] = 44;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_FRAGMENT);

	s.next_n = 0;
	s.proto = 6; /* TCP */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_UDP);
	s.proto = 59; /* no next header */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_UDP);
	s.proto = 58; /* ICMPv6 behind a destination options header */
	s.next_n = 1;
	s.next_ext[0] = 60;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_UDP);

	/* an extension header longer than the payload length */
	s = udp_spec(1, 0, msg, mn);
	s.next_n = 1;
	s.next_ext[0] = 0;
	fn = build_frame(f, &s);
	f[14 + 40 + 1] = 200;
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	/* a payload length too short for an extension header */
	f[14 + 40 + 1] = 0;
	put16(f + 14 + 4, 4);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	/* a payload length too short for UDP */
	s.next_n = 0;
	fn = build_frame(f, &s);
	put16(f + 14 + 4, 7);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	/* a version that is not 6 */
	fn = build_frame(f, &s);
	f[14] = 0x40;
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
}

static void test_ipv4_options_and_fragments(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	size_t mn = build_query(msg, "opt.example", 1, NULL), fn;
	struct spec s = udp_spec(0, 0, msg, mn);

	for (int ihl = 5; ihl <= 15; ihl++) {
		s.ihl = ihl;
		fn = build_frame(f, &s);
		CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
		CHECK(fr.payload == f + 14 + ihl * 4 + 8);
		CHECK_INT(fr.payload_len, mn);
	}
	s.ihl = 5;
	s.frag = 0x4000; /* DF */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	s.frag = 0x2000; /* MF: the first fragment */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_FRAGMENT);
	s.frag = 0x0010; /* a later fragment, the last one */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_FRAGMENT);
	s.frag = 0x6001;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_FRAGMENT);
	s.proto = 6; /* a TCP fragment is not UDP */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_UDP);
}

static void test_not_ip_not_udp(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	size_t mn = build_query(msg, "example.com", 1, NULL), fn;
	struct spec s = udp_spec(0, 0, msg, mn);

	s.ethertype = 0x0806; /* ARP */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_IP);
	s.ethertype = 0x05dc; /* an 802.3 length */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_IP);
	s.ethertype = 0x88cc; /* LLDP */
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_IP);
	s.ethertype = 0;
	s.proto = 6;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_UDP);
	s.proto = 1;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_UDP);
	s.proto = 0;
	s.sport = 1234;
	s.dport = 5678;
	fn = build_frame(f, &s);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_NOT_DNS_PORT);
	CHECK_INT(dnspkt_frame(NULL, 0, 53, &fr), DNSPKT_TRUNCATED);
	CHECK_STR(dnspkt_status_name(DNSPKT_OK), "dns");
	CHECK_STR(dnspkt_status_name(DNSPKT_NOT_DNS_PORT), "not_dns_port");
	CHECK_STR(dnspkt_status_name(DNSPKT_MALFORMED), "malformed");
	CHECK_STR(dnspkt_status_name(-1), "unknown");
	CHECK_STR(dnspkt_status_name(DNSPKT_STATUS_COUNT), "unknown");
}

static void test_malformed_ipv4_udp(void)
{
	uint8_t msg[512], f[1600];
	struct dnspkt_frame fr;
	size_t mn = build_query(msg, "example.com", 1, NULL), fn;
	struct spec s = udp_spec(0, 0, msg, mn);
	uint8_t *ip = f + 14, *udp = f + 14 + 20;

	fn = build_frame(f, &s);
	ip[0] = 0x55; /* version 5 */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	ip[0] = 0x44; /* header length 16 */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	ip[0] = 0x45;
	put16(ip + 2, 19); /* total length shorter than the header */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	put16(ip + 2, 24); /* no room for the UDP header */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	put16(ip + 2, (unsigned)(fn - 14 + 1)); /* longer than the frame */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_TRUNCATED);
	put16(ip + 2, (unsigned)(fn - 14));
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	put16(udp + 4, 7); /* UDP length below its header */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	put16(udp + 4, (unsigned)(8 + mn + 1)); /* longer than the IP length */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_MALFORMED);
	put16(udp + 4, 8); /* empty: parsed, then too short for a DNS header */
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
	CHECK_INT(fr.payload_len, 0);
	struct dnspkt_question q;
	CHECK_INT(parse_question(fr.payload, fr.payload_len, &q), DNSPKT_TRUNCATED);
}

/* Every cut of a frame, short of its end, is TRUNCATED. */
static void check_cuts(const uint8_t *f, size_t fn)
{
	struct dnspkt_frame fr;
	unsigned bad = 0;
	for (size_t cut = 0; cut < fn; cut++)
		if (parse_frame(f, cut, 53, &fr) != DNSPKT_TRUNCATED)
			bad++;
	CHECK_INT(bad, 0);
	CHECK_INT(parse_frame(f, fn, 53, &fr), DNSPKT_OK);
}

static void test_truncated_frames(void)
{
	uint8_t msg[512], f[1600];
	size_t mn = build_query(msg, "cut.example.com", 16, NULL);
	struct spec s = udp_spec(0, 0, msg, mn);

	check_cuts(f, build_frame(f, &s));
	s.ihl = 15;
	s.ntags = 2;
	s.tag_type[0] = 0x88a8;
	s.tag_type[1] = 0x8100;
	check_cuts(f, build_frame(f, &s));
	s = udp_spec(1, 1, msg, mn);
	s.ntags = 1;
	s.tag_type[0] = 0x8100;
	s.next_n = 2;
	s.next_ext[0] = 0;
	s.next_ext[1] = 60;
	s.ext_len8 = 2;
	check_cuts(f, build_frame(f, &s));
}

/* ---- messages and names ---- */

/* Every cut inside the header and question is TRUNCATED, every cut after it OK. */
static void check_message_cuts(const uint8_t *m, size_t mn, size_t qend)
{
	struct dnspkt_question q;
	unsigned bad = 0;
	for (size_t cut = 0; cut <= mn; cut++)
		if (parse_question(m, cut, &q) != (cut < qend ? DNSPKT_TRUNCATED : DNSPKT_OK))
			bad++;
	CHECK_INT(bad, 0);
}

static void test_truncated_messages(void)
{
	uint8_t wire[300], msg[600];
	size_t qend, mn;

	mn = build_query(msg, "www.example.com", 1, &qend);
	CHECK_INT(qend, 12 + 17 + 4);
	check_message_cuts(msg, mn, qend);
	mn = build_msg(msg, 1, 0x8180, wire, put_name(wire, "a.b.c.d.e.f.g"), 16, 1, &qend);
	check_message_cuts(msg, mn, qend);
	mn = build_query(msg, ".", 255, &qend);
	check_message_cuts(msg, mn, qend);
}

static void test_header_fields(void)
{
	uint8_t msg[512];
	struct dnspkt_question q;
	size_t mn = build_query(msg, "example.com", 1, NULL);

	put16(msg + 2, 0x2800 | 0x8000 | 0x0005); /* QR, opcode 5 (UPDATE), REFUSED */
	put16(msg + 4, 2);
	put16(msg + 6, 0xfffe);
	put16(msg + 8, 0x8001);
	put16(msg + 10, 0x0102);
	CHECK_INT(parse_question(msg, mn, &q), DNSPKT_OK);
	CHECK_INT(q.qr, 1);
	CHECK_INT(q.opcode, 5);
	CHECK_INT(q.rcode, 5);
	CHECK_INT(q.qdcount, 2);
	CHECK_INT(q.ancount, 0xfffe);
	CHECK_INT(q.nscount, 0x8001);
	CHECK_INT(q.arcount, 0x0102);
	put16(msg + 4, 0); /* no question */
	CHECK_INT(parse_question(msg, mn, &q), DNSPKT_MALFORMED);
	CHECK_INT(dnspkt_question(NULL, 0, &q), DNSPKT_TRUNCATED);
}

/* A query for the wire name wire[0..wn); returns the parse status. */
static int question_of_wire(const uint8_t *wire, size_t wn, struct dnspkt_question *q)
{
	uint8_t msg[1024];
	size_t mn = build_msg(msg, 7, 0x0100, wire, wn, 1, 1, NULL);
	return parse_question(msg, mn, q);
}

/* The wire name of count labels of length len each. */
static size_t labels_wire(uint8_t *w, int count, int len, char fill)
{
	size_t n = 0;
	for (int i = 0; i < count; i++) {
		w[n++] = (uint8_t)len;
		memset(w + n, fill, (size_t)len);
		n += (size_t)len;
	}
	w[n++] = 0;
	return n;
}

static void test_name_limits(void)
{
	uint8_t w[600];
	struct dnspkt_question q;
	size_t n;

	/* 63-octet label: the longest */
	n = labels_wire(w, 1, 63, 'x');
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_OK);
	CHECK_INT(q.name.label[0].len, 63);
	/* 0x40 and 0x80 label types */
	w[0] = 0x40;
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_MALFORMED);
	w[0] = 0x80 | 1;
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_MALFORMED);

	/* 127 one-octet labels: 255 octets */
	n = labels_wire(w, 127, 1, 'a');
	CHECK_INT(n, 255);
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_OK);
	CHECK_INT(q.name.nlabels, 127);
	CHECK_INT(q.name.text_len, 253);
	CHECK_INT(q.name.label[126].off, 252);
	/* 128 of them: 257 */
	n = labels_wire(w, 128, 1, 'a');
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_MALFORMED);

	/* 63 + 63 + 63 + 61: exactly 255 octets */
	n = labels_wire(w, 3, 63, 'y');
	n--;
	w[n++] = 61;
	memset(w + n, 'z', 61);
	n += 61;
	w[n++] = 0;
	CHECK_INT(n, 255);
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_OK);
	CHECK_INT(q.name.wire_len, 255);
	CHECK_INT(q.name.text_len, 253);
	CHECK_INT(q.name.nlabels, 4);
	CHECK_INT(q.name.text[253], 0);
	/* 63 + 63 + 63 + 62: 256 octets */
	n = labels_wire(w, 3, 63, 'y');
	n--;
	w[n++] = 62;
	memset(w + n, 'z', 62);
	n += 62;
	w[n++] = 0;
	CHECK_INT(n, 256);
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_MALFORMED);
	/* 5 x 63: refused as soon as it passes 255, not when the data ends */
	n = labels_wire(w, 5, 63, 'q');
	CHECK_INT(question_of_wire(w, n, &q), DNSPKT_MALFORMED);
	{
		uint8_t msg[1024];
		size_t mn = build_msg(msg, 7, 0x0100, w, n, 1, 1, NULL);
		CHECK(mn > 12 + 4 * 64 + 10);
		CHECK_INT(parse_question(msg, 12 + 4 * 64 + 10, &q), DNSPKT_MALFORMED);
	}
}

static void test_raw_label_bytes(void)
{
	static const uint8_t w[] = { 3, 'a', '.', 'B', 2, 0, 0xff, 3, 'c', 'o', 'm', 0 };
	struct dnspkt_question q;

	CHECK_INT(question_of_wire(w, sizeof w, &q), DNSPKT_OK);
	CHECK_INT(q.name.nlabels, 3);
	CHECK_INT(q.name.text_len, 3 + 1 + 2 + 1 + 3);
	CHECK(memcmp(q.name.text, "a.B.\0\xff.com", 10) == 0);
	CHECK_INT(q.name.label[0].len, 3);
	CHECK_INT(q.name.label[1].off, 4);
	CHECK_INT(q.name.label[1].len, 2);
	CHECK_INT(q.name.label[2].off, 7);
	static const uint8_t printable[] = { 4, ' ', '"', '\\', '~', 3, 'C', 'o', 'M', 0 };
	CHECK_INT(question_of_wire(printable, sizeof printable, &q), DNSPKT_OK);
	CHECK_INT(q.end, 12 + sizeof printable + 4);
}

static void test_compression_pointers(void)
{
	uint8_t msg[1024];
	struct dnspkt_question q;
	struct dnspkt_name nm;
	size_t mn, off;

	/* in the first question, nothing comes before: every pointer is refused */
	static const uint8_t self[] = { 0xc0, 12 };             /* to itself */
	static const uint8_t header[] = { 0xc0, 4 };            /* into the header */
	static const uint8_t forward[] = { 1, 'a', 0xc0, 20, 0 };  /* past itself */
	static const uint8_t loop[] = { 1, 'a', 0xc0, 12 };     /* to its own start */
	static const uint8_t cut[] = { 1, 'a', 0xc0 };          /* half a pointer at the end */
	CHECK_INT(question_of_wire(self, sizeof self, &q), DNSPKT_MALFORMED);
	CHECK_INT(question_of_wire(header, sizeof header, &q), DNSPKT_MALFORMED);
	CHECK_INT(question_of_wire(forward, sizeof forward, &q), DNSPKT_MALFORMED);
	CHECK_INT(question_of_wire(loop, sizeof loop, &q), DNSPKT_MALFORMED);
	memcpy(msg, "\0\1\1\0\0\1\0\0\0\0\0\0", 12);
	memcpy(msg + 12, cut, sizeof cut);
	CHECK_INT(parse_question(msg, 12 + sizeof cut, &q), DNSPKT_TRUNCATED);

	/* names after the question: "x.example" at 12, then a chain of pointers, each to the one before */
	mn = build_query(msg, "x.example", 1, &off) - 11; /* no OPT */
	size_t at[40];
	at[0] = 12;
	for (int k = 1; k < 40; k++) {
		at[k] = mn;
		put16(msg + mn, 0xc000 | (unsigned)at[k - 1]);
		mn += 2;
	}
	unsigned bad = 0;
	for (int k = 1; k < 40; k++) {
		off = at[k];
		int st = parse_name_at(msg, mn, &off, &nm);
		if (k <= DNSPKT_JUMPS_MAX) {
			if (st != DNSPKT_OK || strcmp(nm.text, "x.example") != 0 || off != at[k] + 2)
				bad++;
		} else if (st != DNSPKT_MALFORMED || off != at[k]) {
			bad++;
		}
	}
	CHECK_INT(bad, 0);

	/* a chain with a label in every link: "y.y.y...x.example" */
	mn = build_query(msg, "x.example", 1, &off) - 11;
	at[0] = 12;
	for (int k = 1; k < 40; k++) {
		at[k] = mn;
		msg[mn++] = 1;
		msg[mn++] = 'y';
		put16(msg + mn, 0xc000 | (unsigned)at[k - 1]);
		mn += 2;
	}
	off = at[16];
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_OK);
	CHECK_INT(nm.nlabels, 16 + 2);
	CHECK_INT(nm.text_len, 16 * 2 + 9);
	CHECK_INT(off, at[16] + 4); /* past the first pointer */
	off = at[17];
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_MALFORMED);

	/* a pointer to an earlier label of the same name: a loop */
	mn = build_query(msg, "x.example", 1, &off) - 11;
	size_t start = mn;
	msg[mn++] = 1;
	msg[mn++] = 'z';
	put16(msg + mn, 0xc000 | (unsigned)start);
	mn += 2;
	off = start;
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_MALFORMED);
	/* two names pointing at each other: one of the two points forward */
	mn = build_query(msg, "x.example", 1, &off) - 11;
	size_t a = mn, b = mn + 4;
	msg[mn++] = 1;
	msg[mn++] = 'a';
	put16(msg + mn, 0xc000 | (unsigned)b);
	mn += 2;
	msg[mn++] = 1;
	msg[mn++] = 'b';
	put16(msg + mn, 0xc000 | (unsigned)a);
	mn += 2;
	off = a;
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_MALFORMED);
	off = b;
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_MALFORMED);
	/* a pointer past the end of the message */
	mn = build_query(msg, "x.example", 1, &off) - 11;
	a = mn;
	put16(msg + mn, 0xc000 | 0x3fff);
	mn += 2;
	off = a;
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_MALFORMED);

	/* through pointers, the 255-octet limit counts the whole name */
	uint8_t w[300];
	size_t wn = labels_wire(w, 3, 63, 'p'); /* 193 octets */
	mn = build_msg(msg, 1, 0x0100, w, wn, 1, 1, NULL) - 11;
	a = mn;
	msg[mn++] = 62;
	memset(msg + mn, 'q', 62);
	mn += 62;
	put16(msg + mn, 0xc00c);
	mn += 2;
	off = a;
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_MALFORMED); /* 63 + 193 = 256 octets */
	msg[a] = 61;
	memmove(msg + a + 62, msg + a + 63, 2);
	mn--;
	off = a;
	CHECK_INT(parse_name_at(msg, mn, &off, &nm), DNSPKT_OK); /* 62 + 193 = 255 */
	CHECK_INT(nm.wire_len, 255);
	CHECK_INT(nm.text_len, 253);
}

/* ---- random bytes ---- */


static void test_random_frames(void)
{
	static uint8_t tmpl[6][1600], f[1600];
	size_t tn[6];
	uint8_t msg[512];
	size_t mn = build_query(msg, "random.example.com", 16, NULL);
	unsigned seen[DNSPKT_STATUS_COUNT] = { 0 }, qseen[DNSPKT_STATUS_COUNT] = { 0 };
	struct spec s;

	s = udp_spec(0, 0, msg, mn);
	tn[0] = build_frame(tmpl[0], &s);
	s = udp_spec(0, 1, msg, mn);
	s.ihl = 7;
	s.ntags = 1;
	s.tag_type[0] = 0x8100;
	tn[1] = build_frame(tmpl[1], &s);
	s = udp_spec(1, 0, msg, mn);
	tn[2] = build_frame(tmpl[2], &s);
	s.next_n = 2;
	s.next_ext[0] = 0;
	s.next_ext[1] = 43;
	s.ntags = 2;
	s.tag_type[0] = 0x88a8;
	s.tag_type[1] = 0x8100;
	tn[3] = build_frame(tmpl[3], &s);
	s = udp_spec(0, 0, msg, mn);
	s.frag = 0x2000;
	tn[4] = build_frame(tmpl[4], &s);
	s = udp_spec(1, 1, msg, mn);
	s.next_n = 1;
	s.next_ext[0] = 44;
	tn[5] = build_frame(tmpl[5], &s);

	for (int i = 0; i < 100000; i++) {
		size_t n;
		struct dnspkt_frame fr;
		int st;
		if (i % 4 == 0) { /* pure noise, sometimes with a plausible EtherType */
			n = (size_t)(check_rand() % 200);
			for (size_t j = 0; j < n; j++)
				f[j] = (uint8_t)check_rand();
			if (n > 14 && i % 8 == 0)
				put16(f + 12, check_rand() & 1 ? 0x0800 : 0x86dd);
		} else { /* a real frame with a few bytes changed, sometimes cut */
			int t = (int)(check_rand() % 6);
			n = tn[t];
			memcpy(f, tmpl[t], n);
			for (int m = (int)(check_rand() % 4) + 1; m > 0; m--)
				f[check_rand() % n] = (uint8_t)check_rand();
			if (check_rand() % 4 == 0)
				n = (size_t)(check_rand() % n);
		}
		st = parse_frame(f, n, (uint16_t)(i % 16 ? 53 : check_rand()), &fr);
		if ((unsigned)st >= DNSPKT_STATUS_COUNT) {
			FAIL("a known status");
			continue;
		}
		seen[st]++;
		if (st == DNSPKT_OK) {
			struct dnspkt_question q;
			st = parse_question(fr.payload, fr.payload_len, &q);
			if (st == DNSPKT_OK || st == DNSPKT_TRUNCATED || st == DNSPKT_MALFORMED)
				qseen[st]++;
			else
				FAIL("ok, truncated or malformed");
		}
	}
	for (int st = 0; st < DNSPKT_STATUS_COUNT; st++)
		CHECK(seen[st] > 0); /* every outcome was reached */
	CHECK(qseen[DNSPKT_OK] > 0);
	CHECK(qseen[DNSPKT_TRUNCATED] > 0);
	CHECK(qseen[DNSPKT_MALFORMED] > 0);
}

static void test_random_messages(void)
{
	/* bytes that make names: lengths, pointers, letters, the root */
	static const uint8_t alphabet[] = { 0, 1, 2, 3, 63, 64, 0xc0, 0xc0, 0xc0, 0x0c, 0x0d, 0x0e, 0x10, 'a', 'b', 0xff };
	uint8_t msg[600];
	unsigned ok = 0, malformed = 0;

	for (int i = 0; i < 100000; i++) {
		size_t n = (size_t)(check_rand() % 600);
		struct dnspkt_question q;
		int st;
		for (size_t j = 0; j < n; j++)
			msg[j] = i % 2 ? (uint8_t)check_rand() : alphabet[check_rand() % sizeof alphabet];
		if (n >= 12)
			put16(msg + 4, 1);
		st = parse_question(msg, n, &q);
		if (st != DNSPKT_OK && st != DNSPKT_TRUNCATED && st != DNSPKT_MALFORMED)
			FAIL("ok, truncated or malformed");
		ok += st == DNSPKT_OK;
		malformed += st == DNSPKT_MALFORMED;
		if (n > 12) { /* the same bytes as a later name */
			size_t off = 12 + (size_t)(check_rand() % (n - 12));
			struct dnspkt_name nm;
			size_t before = off;
			st = parse_name_at(msg, n, &off, &nm);
			if (st == DNSPKT_OK && (off <= before || off > n))
				FAIL("the offset moves forward, inside the message");
			if (st != DNSPKT_OK && off != before)
				FAIL("the offset is left alone on failure");
		}
	}
	CHECK(ok > 0);
	CHECK(malformed > 0);
}

CHECK_MAIN(test_ipv4_query, test_ipv4_response, test_both_ports_and_custom_port, test_ethernet_padding,
           test_vlan_tags, test_ipv6, test_ipv6_extension_headers, test_ipv4_options_and_fragments,
           test_not_ip_not_udp, test_malformed_ipv4_udp, test_truncated_frames, test_truncated_messages,
           test_header_fields, test_name_limits, test_raw_label_bytes, test_compression_pointers,
           test_random_frames, test_random_messages)
