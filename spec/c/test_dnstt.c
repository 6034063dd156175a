/*
 * test_dnstt.c - unit tests of src/dnstt.c (with src/dnspkt.c underneath).
 *
 * Tunnel names are made here the way the upstream client makes them
 * (dnstt-client/dns.go, send()): ClientID, 0xe0+n, n padding bytes, then a
 * length-prefixed packet unless it is a poll; base32 without padding,
 * lowercase, cut into labels, the domain appended.  They travel in real DNS
 * messages (header, question, OPT RR; responses echo the question and carry
 * a TXT answer), some inside Ethernet frames, each parsed from a heap copy
 * of exactly its length.
 *
 *   gcc -std=c99 -D_GNU_SOURCE -Wall -Wextra ... -Isrc -o /tmp/t spec/c/test_dnstt.c src/dnstt.c src/dnspkt.c
 */
#include "check.h"
#include "dnspkt.h"
#include "dnstt.h"

#include <stdint.h>
#include <stdlib.h>

/* A failure found by a loop, which counts only what fails. */
#define FAIL(what) do { \
	check_failed++; \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, (what)); \
} while (0)

#define DOMAIN "t.example.com"

/* DESIGN.md section 4 */
static const char VECTOR_DATA[] =
	"ingesrkokreujy6zumkse43vobsxey3bnruwm4tbm5uwy2ltoruwgzlyobuwc3d.jmrxwg2lpovzq.t.example.com";
static const char VECTOR_POLL[] = "aerukz4jvpg672aaaaaaaaaaaaaa.t.example.com";
static const uint8_t POLL_ID[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };


/* ---- what the client writes ---- */

/* ClientID || 0xe3 || 3 padding bytes || len || packet */
static size_t data_bytes(uint8_t *out, const uint8_t id[8], const uint8_t pad[3], const uint8_t *p, size_t len)
{
	memcpy(out, id, 8);
	out[8] = 0xe3;
	memcpy(out + 9, pad, 3);
	out[12] = (uint8_t)len;
	memcpy(out + 13, p, len);
	return 13 + len;
}

/* ClientID || 0xe8 || 8 padding bytes */
static size_t poll_bytes(uint8_t *out, const uint8_t id[8], const uint8_t pad[8])
{
	memcpy(out, id, 8);
	out[8] = 0xe8;
	memcpy(out + 9, pad, 8);
	return 17;
}

/* RFC 4648 base32, lowercase, no padding. */
static size_t base32(char *out, const uint8_t *in, size_t n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned acc = 0, bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | in[i]) & 0xffff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[acc >> bits & 31];
		}
	}
	if (bits)
		out[o++] = alphabet[acc << (5 - bits) & 31];
	out[o] = '\0';
	return o;
}

/* The encoded text cut into labels of cut characters, then ".DOMAIN". */
static void tunnel_name(char *name, const char *encoded, size_t cut, const char *domain)
{
	size_t n = strlen(encoded), o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && i % cut == 0)
			name[o++] = '.';
		name[o++] = encoded[i];
	}
	name[o++] = '.';
	strcpy(name + o, domain);
}

static void tunnel_name_of(char *name, const uint8_t *bytes, size_t n, size_t cut)
{
	char encoded[600];
	base32(encoded, bytes, n);
	tunnel_name(name, encoded, cut, DOMAIN);
}

/* ---- DNS messages ---- */

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/* The wire form of a dotted name; 0 when a label or the name is too long for DNS. */
static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	const char *s = name;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > 63 || n + 1 + l + 1 > 255)
			return 0;
		p[n++] = (uint8_t)l;
		memcpy(p + n, s, l);
		n += l;
		if (!dot)
			break;
		s = dot + 1;
	}
	p[n++] = 0;
	return n;
}

/* Header, question, a TXT answer pointing at the question for a response, OPT RR. */
static size_t build_msg(uint8_t *b, uint16_t flags, const uint8_t *qname, size_t qn, uint16_t qtype,
                        uint16_t qclass)
{
	int response = flags >> 15;
	uint8_t *p = b;
	p = put16(p, (unsigned)(check_rand() & 0xffff));
	p = put16(p, flags);
	p = put16(p, 1);
	p = put16(p, response);
	p = put16(p, 0);
	p = put16(p, 1);
	memcpy(p, qname, qn);
	p += qn;
	p = put16(p, qtype);
	p = put16(p, qclass);
	if (response) {
		p = put16(p, 0xc00c);
		p = put16(p, qtype);
		p = put16(p, qclass);
		p = put16(p, 0);
		p = put16(p, 60);
		p = put16(p, 5);
		*p++ = 4;
		memcpy(p, "\0\2ok", 4);
		p += 4;
	}
	*p++ = 0;
	p = put16(p, 41);
	p = put16(p, 4096);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, 0);
	return (size_t)(p - b);
}

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

static int parse_question(const uint8_t *m, size_t n, struct dnspkt_question *q)
{
	uint8_t *copy = copy_of(m, n);
	int status = dnspkt_question(copy, n, q);
	free(copy);
	return status;
}

/* The outputs of the last match. */
static uint8_t got_id[8];
static size_t got_len;
static int got_poll;

static int match_question(const struct dnspkt_question *q, const char *domain)
{
	struct dnspkt_question *copy = copy_of(q, sizeof *q);
	int r;
	memset(got_id, 0xaa, sizeof got_id);
	got_len = 999;
	got_poll = 9;
	r = dnstt_match(copy, domain, got_id, &got_len, &got_poll);
	free(copy);
	return r;
}

/* Builds a message for name, parses it, matches it; -1 when the message does not parse. */
static int match_msg(const char *name, uint16_t flags, uint16_t qtype, uint16_t qclass, const char *domain)
{
	uint8_t wire[300], msg[600];
	struct dnspkt_question q;
	size_t wn = put_name(wire, name);
	size_t mn;
	if (wn == 0)
		return -1;
	mn = build_msg(msg, flags, wire, wn, qtype, qclass);
	if (parse_question(msg, mn, &q) != DNSPKT_OK)
		return -1;
	return match_question(&q, domain);
}

static int match(const char *name)
{
	return match_msg(name, 0x0100, DNSPKT_TYPE_TXT, DNSPKT_CLASS_IN, DOMAIN);
}

static int match_response(const char *name)
{
	return match_msg(name, 0x8580, DNSPKT_TYPE_TXT, DNSPKT_CLASS_IN, DOMAIN);
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ---- the vectors ---- */

static void test_design_vectors(void)
{
	uint8_t bytes[64];
	char name[300], id_hex[17];
	size_t n;

	/* the client's encoding of the vectors gives DESIGN.md's names */
	n = data_bytes(bytes, (const uint8_t *)"CLIENTID", (const uint8_t *)"\xd9\xa3\x15",
	               (const uint8_t *)"supercalifragilisticexpialidocious", 34);
	CHECK_INT(bytes[12], 0x22);
	tunnel_name_of(name, bytes, n, 63);
	CHECK_STR(name, VECTOR_DATA);
	memset(bytes + 9, 0, 8);
	n = poll_bytes(bytes, POLL_ID, bytes + 9);
	tunnel_name_of(name, bytes, n, 63);
	CHECK_STR(name, VECTOR_POLL);

	CHECK_INT(match(VECTOR_DATA), DNSTT_SESSION);
	CHECK(memcmp(got_id, "CLIENTID", 8) == 0);
	hex(id_hex, got_id, 8);
	CHECK_STR(id_hex, "434c49454e544944");
	CHECK_INT(got_len, 34);
	CHECK_INT(got_poll, 0);

	CHECK_INT(match(VECTOR_POLL), DNSTT_SESSION);
	hex(id_hex, got_id, 8);
	CHECK_STR(id_hex, "0123456789abcdef");
	CHECK_INT(got_len, 0);
	CHECK_INT(got_poll, 1);

	/* the response echoes the question: the same session */
	CHECK_INT(match_response(VECTOR_DATA), DNSTT_SESSION);
	CHECK(memcmp(got_id, "CLIENTID", 8) == 0);
	CHECK_INT(got_len, 34);
	CHECK_INT(match_response(VECTOR_POLL), DNSTT_SESSION);
	CHECK(memcmp(got_id, POLL_ID, 8) == 0);
	CHECK_INT(got_poll, 1);

	/* outputs may be NULL */
	{
		uint8_t wire[300], msg[600];
		struct dnspkt_question q;
		size_t mn = build_msg(msg, 0x0100, wire, put_name(wire, VECTOR_POLL), 16, 1);
		CHECK_INT(parse_question(msg, mn, &q), DNSPKT_OK);
		CHECK_INT(dnstt_match(&q, DOMAIN, NULL, NULL, NULL), DNSTT_SESSION);
		CHECK_INT(dnstt_match(&q, DOMAIN ".", NULL, NULL, NULL), DNSTT_SESSION);
		CHECK_INT(dnstt_match(&q, "T.Example.COM", NULL, NULL, NULL), DNSTT_SESSION);
		CHECK_INT(dnstt_match(&q, "example.com", NULL, NULL, NULL), DNSTT_INSIDE);
		CHECK_INT(dnstt_match(&q, "com", NULL, NULL, NULL), DNSTT_INSIDE);
		CHECK_INT(dnstt_match(&q, "u.example.com", NULL, NULL, NULL), DNSTT_OUTSIDE);
		CHECK_INT(dnstt_match(&q, "", NULL, NULL, NULL), DNSTT_OUTSIDE);
		CHECK_INT(dnstt_match(&q, ".", NULL, NULL, NULL), DNSTT_OUTSIDE);
		CHECK_INT(dnstt_match(&q, "t..example.com", NULL, NULL, NULL), DNSTT_OUTSIDE);
		CHECK_INT(dnstt_match(&q, ".t.example.com", NULL, NULL, NULL), DNSTT_OUTSIDE);
		CHECK_INT(dnstt_match(&q, NULL, NULL, NULL, NULL), DNSTT_OUTSIDE);
		CHECK_INT(dnstt_match(NULL, DOMAIN, NULL, NULL, NULL), DNSTT_OUTSIDE);
		/* the known length, and the capture's quick test before it */
		CHECK_INT(dnstt_match_n(&q, DOMAIN, strlen(DOMAIN), NULL, NULL, NULL), DNSTT_SESSION);
		CHECK_INT(dnstt_match_n(&q, "example.com", 11, NULL, NULL, NULL), DNSTT_INSIDE);
		CHECK_INT(dnstt_match_n(&q, "", 0, NULL, NULL, NULL), DNSTT_OUTSIDE);
		CHECK_INT(dnstt_may_match(&q, DOMAIN, strlen(DOMAIN)), 1);
		CHECK_INT(dnstt_may_match(&q, "T.EXAMPLE.COM", 13), 1);
		CHECK_INT(dnstt_may_match(&q, "u.example.com", 13), 1); /* only the last character */
		CHECK_INT(dnstt_may_match(&q, "t.example.org", 13), 0);
		CHECK_INT(dnstt_may_match(&q, "t.example.co", 12), 0);
		CHECK_INT(dnstt_may_match(&q, "", 0), 0);
	}
}

/* ---- inside frames ---- */

static size_t frame4(uint8_t *f, int response, const uint8_t *payload, size_t plen)
{
	static const uint8_t client[4] = { 10, 0, 0, 7 }, server[4] = { 10, 0, 0, 1 };
	uint8_t *ip = f + 14, *udp = ip + 20;
	memset(f, 0, 14 + 20 + 8);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(20 + 8 + plen));
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, response ? server : client, 4);
	memcpy(ip + 16, response ? client : server, 4);
	put16(udp, response ? 53 : 51000);
	put16(udp + 2, response ? 51000 : 53);
	put16(udp + 4, (unsigned)(8 + plen));
	memcpy(udp + 8, payload, plen);
	return 14 + 20 + 8 + plen;
}

static size_t frame6_vlan(uint8_t *f, int response, const uint8_t *payload, size_t plen)
{
	uint8_t client[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 }, server[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint8_t *ip = f + 18, *udp = ip + 40;
	memset(f, 0, 18 + 40 + 8);
	put16(f + 12, 0x8100);
	put16(f + 14, 42);
	put16(f + 16, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, (unsigned)(8 + plen));
	ip[6] = 17;
	ip[7] = 64;
	memcpy(ip + 8, response ? server : client, 16);
	memcpy(ip + 24, response ? client : server, 16);
	put16(udp, response ? 53 : 51000);
	put16(udp + 2, response ? 51000 : 53);
	put16(udp + 4, (unsigned)(8 + plen));
	memcpy(udp + 8, payload, plen);
	return 18 + 40 + 8 + plen;
}

/* The whole path: frame, question, match. */
static int match_frame(const uint8_t *f, size_t n, struct dnspkt_frame *fr)
{
	uint8_t *copy = copy_of(f, n);
	struct dnspkt_question q;
	int r = -1;
	if (dnspkt_frame(copy, n, DNSPKT_PORT, fr) == DNSPKT_OK &&
	    dnspkt_question(fr->payload, fr->payload_len, &q) == DNSPKT_OK)
		r = match_question(&q, DOMAIN);
	free(copy);
	return r;
}

static void test_vectors_in_frames(void)
{
	const char *names[2] = { VECTOR_DATA, VECTOR_POLL };
	uint8_t wire[300], msg[600], f[800];
	struct dnspkt_frame fr;

	for (int v = 0; v < 2; v++) {
		for (int response = 0; response <= 1; response++) {
			size_t wn = put_name(wire, names[v]);
			size_t mn = build_msg(msg, response ? 0x8400 : 0x0100, wire, wn, 16, 1);
			size_t fn = frame4(f, response, msg, mn);
			CHECK_INT(match_frame(f, fn, &fr), DNSTT_SESSION);
			CHECK_INT(fr.is_response, response);
			CHECK_INT(fr.family, 4);
			CHECK(memcmp(fr.resolver, "\x0a\0\0\x07", 4) == 0); /* source of the query, destination of the response */
			CHECK(memcmp(got_id, v ? POLL_ID : (const uint8_t *)"CLIENTID", 8) == 0);
			CHECK_INT(got_poll, v);

			fn = frame6_vlan(f, response, msg, mn);
			CHECK_INT(match_frame(f, fn, &fr), DNSTT_SESSION);
			CHECK_INT(fr.is_response, response);
			CHECK_INT(fr.family, 6);
			CHECK_INT(fr.resolver[15], 7);
			CHECK(memcmp(got_id, v ? POLL_ID : (const uint8_t *)"CLIENTID", 8) == 0);
			CHECK_INT(got_poll, v);
		}
	}
}

/* ---- what resolvers do to names ---- */

static void flip_case(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) && check_rand() & 1)
			s[i] ^= 0x20;
}

static void test_case_randomisation(void)
{
	char name[300];
	unsigned bad = 0;

	for (int i = 0; i < 2000; i++) {
		int v = i & 1;
		strcpy(name, v ? VECTOR_POLL : VECTOR_DATA);
		flip_case(name, strlen(name)); /* the domain's labels too */
		if (match_msg(name, (uint16_t)(i & 2 ? 0x8400 : 0x0100), 16, 1, DOMAIN) != DNSTT_SESSION ||
		    memcmp(got_id, v ? POLL_ID : (const uint8_t *)"CLIENTID", 8) != 0 || got_poll != v ||
		    got_len != (v ? 0u : 34u))
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(match("INGESRKOKREUJY6ZUMKSE43VOBSXEY3BNRUWM4TBM5UWY2LTORUWGZLYOBUWC3D.JMRXWG2LPOVZQ.T.EXAMPLE.COM"),
	          DNSTT_SESSION);
}

static void test_label_splits(void)
{
	uint8_t bytes[300];
	char name[600];
	unsigned bad = 0, tried = 0;
	size_t n;
	static const uint8_t pad3[3] = { 1, 2, 3 }, pad8[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	uint8_t packet[223];

	for (size_t i = 0; i < sizeof packet; i++)
		packet[i] = (uint8_t)(i * 7);
	for (size_t cut = 1; cut <= 63; cut++) {
		/* the two vectors, a poll, and data queries of a few lengths */
		static const size_t lens[] = { 1, 4, 34, 60, 100, 134 };
		int r;
		tunnel_name(name, "ingesrkokreujy6zumkse43vobsxey3bnruwm4tbm5uwy2ltoruwgzlyobuwc3djmrxwg2lpovzq", cut, DOMAIN);
		bad += match(name) != DNSTT_SESSION || memcmp(got_id, "CLIENTID", 8) != 0 || got_len != 34;
		tunnel_name(name, "aerukz4jvpg672aaaaaaaaaaaaaa", cut, DOMAIN);
		bad += match(name) != DNSTT_SESSION || memcmp(got_id, POLL_ID, 8) != 0 || got_poll != 1;
		n = poll_bytes(bytes, (const uint8_t *)"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", pad8);
		tunnel_name_of(name, bytes, n, cut);
		bad += match(name) != DNSTT_SESSION || got_poll != 1;
		tried += 3;
		for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
			n = data_bytes(bytes, (const uint8_t *)"\0\0\0\0\0\0\0\0", pad3, packet, lens[j]);
			tunnel_name_of(name, bytes, n, cut);
			r = match(name);
			if (r == -1)
				continue; /* too long for a DNS name at this cut */
			tried++;
			bad += r != DNSTT_SESSION || got_len != lens[j] || got_poll != 0;
		}
	}
	CHECK_INT(bad, 0);
	CHECK(tried > 63 * 5);
}

/* ---- every packet length, random IDs and padding ---- */

static void test_data_lengths(void)
{
	uint8_t bytes[300], id[8], pad[8], packet[223];
	char name[600];
	unsigned bad = 0;
	size_t last = 0;

	for (size_t len = 1; len <= 223; len++) {
		size_t n;
		int r;
		for (int i = 0; i < 8; i++)
			id[i] = (uint8_t)check_rand();
		for (int i = 0; i < 8; i++)
			pad[i] = (uint8_t)check_rand();
		for (size_t i = 0; i < len; i++)
			packet[i] = (uint8_t)check_rand();
		n = data_bytes(bytes, id, pad, packet, len);
		tunnel_name_of(name, bytes, n, 63);
		r = match(name);
		if (r == -1) /* longer than 255 octets: from here on, none fits */
			break;
		last = len;
		bad += r != DNSTT_SESSION || memcmp(got_id, id, 8) != 0 || got_len != len || got_poll != 0;
		r = match_response(name);
		bad += r != DNSTT_SESSION || memcmp(got_id, id, 8) != 0 || got_len != len;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(last, 134); /* 13 + 134 bytes: 236 characters, 4 labels: 255 octets with the domain */

	for (int i = 0; i < 1000; i++) {
		size_t n;
		for (int j = 0; j < 8; j++)
			id[j] = (uint8_t)check_rand();
		for (int j = 0; j < 8; j++)
			pad[j] = (uint8_t)check_rand();
		n = poll_bytes(bytes, id, pad);
		tunnel_name_of(name, bytes, n, 63);
		bad += match(name) != DNSTT_SESSION || memcmp(got_id, id, 8) != 0 || got_poll != 1 || got_len != 0;
	}
	CHECK_INT(bad, 0);
}

static void test_name_length_limit(void)
{
	uint8_t bytes[300], wire[300], msg[700], packet[223] = { 0 };
	char name[600];
	struct dnspkt_question q;
	size_t n, wn, mn;

	/* the longest data query: exactly 255 octets */
	n = data_bytes(bytes, (const uint8_t *)"CLIENTID", (const uint8_t *)"abc", packet, 134);
	tunnel_name_of(name, bytes, n, 63);
	wn = put_name(wire, name);
	CHECK_INT(wn, 255);
	mn = build_msg(msg, 0x0100, wire, wn, 16, 1);
	CHECK_INT(parse_question(msg, mn, &q), DNSPKT_OK);
	CHECK_INT(q.name.wire_len, 255);
	CHECK_INT(match_question(&q, DOMAIN), DNSTT_SESSION);
	CHECK_INT(got_len, 134);

	/* one byte more: 256 octets, refused by the parser */
	n = data_bytes(bytes, (const uint8_t *)"CLIENTID", (const uint8_t *)"abc", packet, 135);
	tunnel_name_of(name, bytes, n, 63);
	CHECK_INT(strlen(name), 254);
	{
		/* put_name() of this file refuses it, so write it here */
		size_t o = 0;
		const char *s = name;
		while (*s) {
			const char *dot = strchr(s, '.');
			size_t l = dot ? (size_t)(dot - s) : strlen(s);
			wire[o++] = (uint8_t)l;
			memcpy(wire + o, s, l);
			o += l;
			s += l + (dot ? 1 : 0);
		}
		wire[o++] = 0;
		CHECK_INT(o, 256);
		mn = build_msg(msg, 0x0100, wire, o, 16, 1);
		CHECK_INT(parse_question(msg, mn, &q), DNSPKT_MALFORMED);
	}
}

/* ---- what is not a session ---- */

static void test_ordinary_names(void)
{
	static const char *const inside[] = {
		"t.example.com", "www.t.example.com", "a.b.t.example.com", "mail.t.example.com",
		"_acme-challenge.t.example.com", "ns1.t.example.com", "WWW.T.EXAMPLE.COM",
		"abcdefghijklmnopqrstuvwxyz234567.t.example.com",                     /* 32 characters: 20 bytes */
		"aaaaaaaaaaaaaaaaaaaaaaa.t.example.com",                              /* 23: too short */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.t.example.com",
		"wpad.t.example.com", "localhost.t.example.com", "1.0.0.127.t.example.com",
		"google.com.t.example.com", "xn--bcher-kva.t.example.com",
	};
	static const char *const outside[] = {
		"example.com", "com", "t.example.org", "xt.example.com", "t.example.com.evil.net",
		"www.example.com", "ingesrkokreujy6zumkse43vobsxey3bnruwm4tbm5uwy2ltoruwgzlyobuwc3d.jmrxwg2lpovzq.u.example.com",
		"aerukz4jvpg672aaaaaaaaaaaaaa.t.example.co", "aerukz4jvpg672aaaaaaaaaaaaaa.example.com",
		"aerukz4jvpg672aaaaaaaaaaaaaa.tt.example.com", "aerukz4jvpg672aaaaaaaaaaaaaa.t.example.com.t.example",
	};
	for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++)
		CHECK_INT(match(inside[i]), DNSTT_INSIDE);
	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
		CHECK_INT(match(outside[i]), DNSTT_OUTSIDE);
	CHECK_INT(match_msg(".", 0x0100, 16, 1, DOMAIN), -1); /* put_name() of this file does no root */

	/* labels are compared as labels: "t.example" as one label is not two */
	{
		static const uint8_t wire[] = { 28, 'a', 'e', 'r', 'u', 'k', 'z', '4', 'j', 'v', 'p', 'g', '6', '7', '2',
			'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
			9, 't', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
		uint8_t msg[200];
		struct dnspkt_question q;
		size_t mn = build_msg(msg, 0x0100, wire, sizeof wire, 16, 1);
		CHECK_INT(parse_question(msg, mn, &q), DNSPKT_OK);
		CHECK_STR(q.name.text, VECTOR_POLL); /* the same text... */
		CHECK_INT(match_question(&q, DOMAIN), DNSTT_OUTSIDE); /* ...but not the same labels */
	}
	/* no output is touched when it is not a session */
	CHECK_INT(match("www.t.example.com"), DNSTT_INSIDE);
	CHECK_INT(got_len, 999);
	CHECK_INT(got_poll, 9);
	CHECK_INT(got_id[0], 0xaa);
}

static void test_wrong_type_class_opcode(void)
{
	static const uint16_t types[] = { 1, 2, 5, 6, 10, 12, 15, 28, 33, 65, 99, 255 };
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		CHECK_INT(match_msg(VECTOR_DATA, 0x0100, types[i], 1, DOMAIN), DNSTT_INSIDE);
		CHECK_INT(match_msg(VECTOR_POLL, 0x8400, types[i], 1, DOMAIN), DNSTT_INSIDE);
	}
	CHECK_INT(match_msg(VECTOR_DATA, 0x0100, 16, 3, DOMAIN), DNSTT_INSIDE);   /* CH */
	CHECK_INT(match_msg(VECTOR_DATA, 0x0100, 16, 255, DOMAIN), DNSTT_INSIDE); /* ANY */
	CHECK_INT(match_msg(VECTOR_POLL, 0x2000, 16, 1, DOMAIN), DNSTT_INSIDE);   /* NOTIFY */
	CHECK_INT(match_msg(VECTOR_POLL, 0x2800, 16, 1, DOMAIN), DNSTT_INSIDE);   /* UPDATE */
	CHECK_INT(match_msg(VECTOR_POLL, 0x0000, 16, 1, DOMAIN), DNSTT_SESSION);  /* RD does not matter */
	CHECK_INT(match_msg(VECTOR_POLL, 0x8583, 16, 1, DOMAIN), DNSTT_SESSION);  /* nor does an NXDOMAIN */
	CHECK_INT(match_msg(VECTOR_DATA, 0x0100, 1, 1, "example.com"), DNSTT_INSIDE);
	CHECK_INT(match_msg(VECTOR_DATA, 0x0100, 1, 1, "example.org"), DNSTT_OUTSIDE);
}

/* Matches the base32 of bytes[0..n) under the domain. */
static int match_bytes(const uint8_t *bytes, size_t n)
{
	char name[600];
	tunnel_name_of(name, bytes, n, 63);
	return match(name);
}

static void test_bad_layouts(void)
{
	uint8_t b[300] = { 0 }, packet[223] = { 0 };
	static const uint8_t id[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, pad[8] = { 0 };
	size_t n;
	unsigned bad = 0;

	/* every other padding marker, in both shapes */
	for (unsigned m = 0xe0; m <= 0xff; m++) {
		if (m == 0xe3 || m == 0xe8)
			continue;
		n = data_bytes(b, id, pad, packet, 20);
		b[8] = (uint8_t)m;
		bad += match_bytes(b, n) != DNSTT_INSIDE;
		n = poll_bytes(b, id, pad);
		b[8] = (uint8_t)m;
		bad += match_bytes(b, n) != DNSTT_INSIDE;
	}
	/* a marker below 0xe0 (a packet length where the padding should be) */
	n = poll_bytes(b, id, pad);
	b[8] = 7;
	bad += match_bytes(b, n) != DNSTT_INSIDE;
	CHECK_INT(bad, 0);

	/* data: a length of 0, a length that is padding, lengths that disagree, a byte more */
	n = data_bytes(b, id, pad, packet, 0);
	CHECK_INT(match_bytes(b, n), DNSTT_INSIDE);
	n = data_bytes(b, id, pad, packet, 20);
	b[12] = 0xe0;
	CHECK_INT(match_bytes(b, n), DNSTT_INSIDE);
	b[12] = 19;
	CHECK_INT(match_bytes(b, n), DNSTT_INSIDE);
	b[12] = 21;
	CHECK_INT(match_bytes(b, n), DNSTT_INSIDE);
	b[12] = 20;
	CHECK_INT(match_bytes(b, n), DNSTT_SESSION);
	CHECK_INT(match_bytes(b, n + 1), DNSTT_INSIDE);
	CHECK_INT(match_bytes(b, n - 1), DNSTT_INSIDE);
	/* two packets in one query: the server reads both, the client never writes it */
	n = data_bytes(b, id, pad, packet, 10);
	b[n++] = 5;
	n += 5;
	CHECK_INT(match_bytes(b, n), DNSTT_INSIDE);
	/* a poll: one byte less, one more, a packet after it */
	n = poll_bytes(b, id, pad);
	CHECK_INT(match_bytes(b, n), DNSTT_SESSION);
	CHECK_INT(match_bytes(b, n - 1), DNSTT_INSIDE);
	CHECK_INT(match_bytes(b, n + 1), DNSTT_INSIDE);
	b[17] = 3;
	CHECK_INT(match_bytes(b, n + 4), DNSTT_INSIDE);
	/* a poll-sized data query is data: 8 + 1 + 3 + 1 + 4 = 17 */
	n = data_bytes(b, id, pad, packet, 4);
	CHECK_INT(n, 17);
	CHECK_INT(match_bytes(b, n), DNSTT_SESSION);
	CHECK_INT(got_poll, 0);
	CHECK_INT(got_len, 4);
	/* too short for a ClientID and its padding */
	for (size_t k = 1; k < 13; k++)
		CHECK_INT(match_bytes(b, k), DNSTT_INSIDE);
}

static void test_bad_base32(void)
{
	static const char bad_chars[] = "01890189-_=+/ .\x80\xff";
	char name[300];
	size_t at = 10;

	/* a character outside the alphabet, at places in the label ('.' makes two labels of 27) */
	for (size_t i = 0; i < sizeof bad_chars - 1; i++) {
		strcpy(name, VECTOR_POLL);
		name[at + i] = bad_chars[i];
		CHECK_INT(match(name), DNSTT_INSIDE);
	}
	/* non-zero unused bits in the last character (the server's decoder would take them) */
	strcpy(name, VECTOR_POLL);
	name[27] = 'b'; /* 28 characters: 4 unused bits, 'a' = 00000, 'b' = 00001 */
	CHECK_INT(match(name), DNSTT_INSIDE);
	name[27] = 'q'; /* 10000: the used bit only, the last padding byte becomes 01 */
	CHECK_INT(match(name), DNSTT_SESSION);
	CHECK_INT(got_poll, 1);
	strcpy(name, VECTOR_DATA);
	name[strlen("ingesrkokreujy6zumkse43vobsxey3bnruwm4tbm5uwy2ltoruwgzlyobuwc3d.jmrxwg2lpovz")] = 'r';
	CHECK_INT(match(name), DNSTT_INSIDE); /* 'q' = 10000 -> 'r' = 10001 */

	/* lengths no encoder writes: 1, 3 or 6 modulo 8, with one character more than a valid
	 * query (the same bytes decode, the extra 5 bits are zero) */
	{
		static const struct { size_t len, chars; } cases[] = { { 2, 25 }, { 3, 27 }, { 5, 30 } };
		uint8_t b[64];
		char enc[64];
		for (size_t i = 0; i < 3; i++) {
			size_t n = data_bytes(b, (const uint8_t *)"CLIENTID", (const uint8_t *)"xyz",
			                      (const uint8_t *)"hello", cases[i].len);
			size_t c = base32(enc, b, n);
			tunnel_name(name, enc, 63, DOMAIN);
			CHECK_INT(match(name), DNSTT_SESSION);
			CHECK_INT(c + 1, cases[i].chars);
			enc[c] = 'a';
			enc[c + 1] = '\0';
			tunnel_name(name, enc, 63, DOMAIN);
			CHECK_INT(match(name), DNSTT_INSIDE);
		}
	}
	/* the same, for lengths that the layout refuses anyway */
	CHECK_INT(match("aerukz4jvpg672aaaaaaaaaaaaaaa.t.example.com"), DNSTT_INSIDE);   /* 29: 5 */
	CHECK_INT(match("aerukz4jvpg672aaaaaaaaaaaaa.t.example.com"), DNSTT_INSIDE);     /* 27: 3 */
	CHECK_INT(match("aerukz4jvpg672aaaaaaaaaaaaaaaaaaaaaa.t.example.com"), DNSTT_INSIDE); /* 36: 4 */
	CHECK_INT(match("aerukz4jvpg672aaaaaaaaaaaaaaaaa.t.example.com"), DNSTT_INSIDE); /* 31: 7 */
	CHECK_INT(match("aerukz4jvpg672aaaaaaaaaaaaaaaaaaaaaaa.t.example.com"), DNSTT_INSIDE); /* 37: 5 */
}

/*
 * What the layout says of text (the joined labels), worked out another way:
 * decode it leniently, then take it only if encoding the bytes gives the
 * text back (which refuses stray characters, impossible lengths and
 * non-zero unused bits at once).  Returns DNSTT_SESSION or DNSTT_INSIDE.
 */
static int oracle(const char *text)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t d[200] = { 0 };
	char lower[300], again[300];
	size_t n = strlen(text), bits = 0;

	for (size_t i = 0; i < n; i++) {
		char c = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] | 0x20) : text[i];
		const char *at = c ? strchr(alphabet, c) : NULL;
		if (!at)
			return DNSTT_INSIDE;
		lower[i] = c;
		for (int k = 4; k >= 0; k--, bits++) /* bit by bit, most significant first */
			if ((at - alphabet) >> k & 1)
				d[bits / 8] |= (uint8_t)(0x80 >> bits % 8);
	}
	lower[n] = '\0';
	n = bits / 8;
	base32(again, d, n);
	if (strcmp(again, lower) != 0)
		return DNSTT_INSIDE;
	if (n == 17 && d[8] == 0xe8)
		return DNSTT_SESSION;
	if (n >= 14 && d[8] == 0xe3 && d[12] >= 1 && d[12] < 0xe0 && n == 13u + d[12])
		return DNSTT_SESSION;
	return DNSTT_INSIDE;
}

/*
 * Random text under the domain: the result is what the layout says, and a
 * session is rare.  Random base32 of exactly 28 characters is a poll once
 * in 4096 (the marker, and the 4 unused bits zero): the layout cannot do
 * better, the ID and the padding being random bytes themselves.
 */
static void test_random_names(void)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	char enc[300], name[600];
	unsigned sessions = 0, parsed = 0, differ = 0, hostlike = 0;

	/* random base32 text of every plausible length, cut anywhere */
	for (int i = 0; i < 100000; i++) {
		size_t n = 1 + (size_t)(check_rand() % 230), cut = 1 + (size_t)(check_rand() % 63);
		int r;
		for (size_t j = 0; j < n; j++)
			enc[j] = alphabet[check_rand() % 32];
		enc[n] = '\0';
		if (i % 10 == 0) /* the lengths of a poll and of the shortest data query */
			enc[i % 20 ? 28 : 23] = '\0';
		if (i % 3 == 0)
			flip_case(enc, strlen(enc));
		tunnel_name(name, enc, cut, DOMAIN);
		r = match(name);
		if (r == -1)
			continue;
		parsed++;
		sessions += r == DNSTT_SESSION;
		differ += r != oracle(enc);
	}
	CHECK(parsed > 50000);
	CHECK_INT(differ, 0);
	CHECK(sessions > 0); /* with this seed, the oracle is compared on a few sessions too */
	CHECK(sessions < 10);

	/* random hostname-like labels */
	for (int i = 0; i < 20000; i++) {
		size_t n = 1 + (size_t)(check_rand() % 63);
		for (size_t j = 0; j < n; j++)
			enc[j] = letters[check_rand() % (sizeof letters - 1)];
		enc[n] = '\0';
		tunnel_name(name, enc, 63, DOMAIN);
		hostlike += match(name) != DNSTT_INSIDE;
	}
	CHECK_INT(hostlike, 0);
}

static void test_random_messages(void)
{
	uint8_t wire[300], msg[700];
	char name[600];
	size_t base_n;
	unsigned sessions = 0, matched = 0;

	/* a real tunnel query, its bytes changed at random */
	tunnel_name_of(name, (const uint8_t *)"CLIENTID\xe3\xd9\xa3\x15\x22supercalifragilisticexpialidocious", 47, 63);
	base_n = build_msg(msg, 0x0100, wire, put_name(wire, name), 16, 1);
	for (int i = 0; i < 100000; i++) {
		uint8_t m[700];
		size_t n = base_n;
		struct dnspkt_question q;
		memcpy(m, msg, n);
		if (i % 3 == 0) {
			n = (size_t)(check_rand() % 300);
			for (size_t j = 0; j < n; j++)
				m[j] = (uint8_t)check_rand();
			if (n >= 12)
				put16(m + 4, 1);
		} else {
			for (int k = (int)(check_rand() % 3) + 1; k > 0; k--)
				m[check_rand() % n] = i % 2 ? (uint8_t)check_rand() : (uint8_t)"aA2z7.0\xe3"[check_rand() % 8];
			if (check_rand() % 4 == 0)
				n = (size_t)(check_rand() % n);
		}
		if (parse_question(m, n, &q) != DNSPKT_OK)
			continue;
		matched++;
		int r = match_question(&q, DOMAIN);
		sessions += r == DNSTT_SESSION;
		if (r == DNSTT_SESSION && (got_poll != 0 || got_len < 1 || got_len > 223))
			FAIL("a session's outputs are in range");
	}
	CHECK(matched > 10000);
	CHECK(sessions > 0); /* changes in the header, the type's high byte, the OPT RR */
}

CHECK_MAIN(test_design_vectors, test_vectors_in_frames, test_case_randomisation, test_label_splits,
           test_data_lengths, test_name_length_limit, test_ordinary_names, test_wrong_type_class_opcode,
           test_bad_layouts, test_bad_base32, test_random_names, test_random_messages)
