/*
 * dnspkt.c - from a captured frame to its DNS question (see dnspkt.h).
 *
 * Owns: the Ethernet II header and its VLAN tags, the IPv4 and IPv6 headers
 * (IPv6 extension headers up to a cap), the UDP header, the DNS header and
 * the uncompressing of a name.  A cursor over [p, end) that only moves
 * forward for the layers; offsets for the name, since its pointers are
 * offsets.  Every read is checked against the end first, every multi-byte
 * field is assembled byte by byte in network order.
 */
#include "dnspkt.h"
#include "hot.h"

#include <string.h>

#define ETH_HEADER_LEN 14
#define VLAN_TAG_LEN 4
#define VLAN_TAGS_MAX 2
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100 /* 802.1Q */
#define ETHERTYPE_QINQ 0x88a8 /* 802.1ad */

#define IPV4_HEADER_MIN 20
#define IPV6_HEADER_LEN 40
#define UDP_HEADER_LEN 8

/* IP protocol / IPv6 next header numbers */
#define PROTO_HOPOPTS 0
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_DSTOPTS 60

struct cur {
	const uint8_t *p, *end;
};

static size_t left(const struct cur *c)
{
	return (size_t)(c->end - c->p);
}

/* The next n bytes, consumed; NULL (and nothing consumed) when fewer are left. */
static const uint8_t *take(struct cur *c, size_t n)
{
	const uint8_t *p = c->p;
	if (left(c) < n)
		return NULL;
	c->p += n;
	return p;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What the IP layer gives the UDP layer. */
struct ip {
	uint8_t family;
	const uint8_t *src, *dst; /* 4 or 16 bytes inside the frame */
};

/* ---- link layer ---- */

/* The EtherType after the MAC addresses and up to two VLAN tags. */
static int take_ethertype(struct cur *c, uint16_t *type)
{
	const uint8_t *h = take(c, ETH_HEADER_LEN);
	if (!h)
		return DNSPKT_TRUNCATED;
	*type = be16(h + 12);
	for (int tags = 0; *type == ETHERTYPE_VLAN || *type == ETHERTYPE_QINQ; tags++) {
		if (tags == VLAN_TAGS_MAX)
			return DNSPKT_NOT_IP;
		if (!(h = take(c, VLAN_TAG_LEN)))
			return DNSPKT_TRUNCATED;
		*type = be16(h + 2); /* after the tag control information */
	}
	return DNSPKT_OK;
}

/* ---- network layer: on DNSPKT_OK, c covers the UDP datagram as the IP length bounds it ---- */

static int take_ipv4(struct cur *c, struct ip *ip)
{
	const uint8_t *h = c->p;
	size_t hlen, total;

	if (left(c) < IPV4_HEADER_MIN)
		return DNSPKT_TRUNCATED;
	hlen = (size_t)(h[0] & 0x0f) * 4;
	total = be16(h + 2);
	if (h[0] >> 4 != 4 || hlen < IPV4_HEADER_MIN || total < hlen)
		return DNSPKT_MALFORMED;
	if (total > left(c))
		return DNSPKT_TRUNCATED;
	if (h[9] != PROTO_UDP)
		return DNSPKT_NOT_UDP;
	if (be16(h + 6) & 0x3fff) /* MF or a fragment offset; DF (0x4000) is fine */
		return DNSPKT_FRAGMENT;
	c->p = h + hlen;
	c->end = h + total; /* leaves out Ethernet padding */
	ip->family = 4;
	ip->src = h + 12;
	ip->dst = h + 16;
	return DNSPKT_OK;
}

static int take_ipv6(struct cur *c, struct ip *ip)
{
	const uint8_t *h = c->p;
	uint8_t next;

	if (left(c) < IPV6_HEADER_LEN)
		return DNSPKT_TRUNCATED;
	if (h[0] >> 4 != 6)
		return DNSPKT_MALFORMED;
	if (be16(h + 4) > left(c) - IPV6_HEADER_LEN)
		return DNSPKT_TRUNCATED;
	c->p = h + IPV6_HEADER_LEN;
	c->end = c->p + be16(h + 4);
	next = h[6];
	for (int skipped = 0; next != PROTO_UDP; skipped++) {
		size_t ext_len;
		if (next == PROTO_FRAGMENT)
			return DNSPKT_FRAGMENT;
		if (next != PROTO_HOPOPTS && next != PROTO_ROUTING && next != PROTO_DSTOPTS)
			return DNSPKT_NOT_UDP;
		if (skipped == DNSPKT_IPV6_EXT_MAX || left(c) < 8)
			return DNSPKT_MALFORMED;
		ext_len = ((size_t)c->p[1] + 1) * 8; /* in 8-octet units, the first not counted */
		if (ext_len > left(c))
			return DNSPKT_MALFORMED;
		next = c->p[0];
		c->p += ext_len;
	}
	ip->family = 6;
	ip->src = h + 8;
	ip->dst = h + 24;
	return DNSPKT_OK;
}

/* ---- transport layer ---- */

/* An address as dnspkt_frame stores it: 16 bytes, an IPv4 one's 4 first and
 * then zeros.  Copies of a constant size (a variable one is a call). */
static void put_address(uint8_t to[16], const uint8_t *from, uint8_t family)
{
	if (family == 4) {
		memset(to, 0, 16);
		memcpy(to, from, 4);
	} else {
		memcpy(to, from, 16);
	}
}

int dnspkt_frame(const uint8_t *frame, size_t len, uint16_t port, struct dnspkt_frame *out)
{
	struct cur c;
	struct ip ip;
	const uint8_t *udp;
	uint16_t type, sport, dport, ulen;
	int status, response;

	if (!frame)
		return DNSPKT_TRUNCATED;
	c.p = frame;
	c.end = frame + len;
	if ((status = take_ethertype(&c, &type)) != DNSPKT_OK)
		return status;
	if (type == ETHERTYPE_IPV4)
		status = take_ipv4(&c, &ip);
	else if (type == ETHERTYPE_IPV6)
		status = take_ipv6(&c, &ip);
	else
		return DNSPKT_NOT_IP;
	if (status != DNSPKT_OK)
		return status;

	if (!(udp = take(&c, UDP_HEADER_LEN)))
		return DNSPKT_MALFORMED; /* the IP length leaves no room for it */
	sport = be16(udp);
	dport = be16(udp + 2);
	ulen = be16(udp + 4);
	if (sport != port && dport != port)
		return DNSPKT_NOT_DNS_PORT;
	if (ulen < UDP_HEADER_LEN || (size_t)ulen - UDP_HEADER_LEN > left(&c))
		return DNSPKT_MALFORMED;
	if (sport == port && dport == port) /* server to server: the DNS header's QR bit */
		response = ulen - UDP_HEADER_LEN > 2 && (c.p[2] & 0x80);
	else
		response = sport == port;

	out->family = ip.family;
	out->is_response = (uint8_t)response;
	out->src_port = sport;
	out->dst_port = dport;
	put_address(out->resolver, response ? ip.dst : ip.src, ip.family);
	put_address(out->server, response ? ip.src : ip.dst, ip.family);
	out->payload = c.p;
	out->payload_len = (size_t)(ulen - UDP_HEADER_LEN);
	return DNSPKT_OK;
}

/* ---- DNS ---- */

/* The walk dnspkt_name() and dnspkt_skip_name() share: every check of the
 * format, and, when copy is 1, the text of the name and its labels (HOT:
 * each caller gets its own copy of the walk, with copy a constant).
 *
 * The text is copied a run at a time: the labels between the start (or a
 * pointer's target) and the root (or the next pointer) lie together on the
 * wire, their length octets where the text has its dots.  So a run is one
 * memcpy() from its first label's first octet to its end (one call on the
 * router, where copying a word at a time costs two calls for each unaligned
 * word), and then each label's length octet in the text becomes its dot.
 * Within a run, a wire offset plus `shift` is the text offset (unsigned
 * arithmetic, modulo: shift may be "negative"). */
HOT int walk_name(const uint8_t *msg, size_t len, size_t *off, struct dnspkt_name *name, int copy)
{
	size_t pos = *off, run = pos, resume = 0, from = pos, shift = (size_t)0 - (pos + 1);
	unsigned jumps = 0, wire = 1, text = 0, n = 0;

	for (;;) {
		unsigned b;
		if (pos >= len)
			return DNSPKT_TRUNCATED;
		b = msg[pos];
		if (b == 0)
			break;
		if (b > 0x3f) { /* a label type other than a label's length */
			size_t target;
			if (b < 0xc0) /* 0x40 (extended) and 0x80 (reserved) */
				return DNSPKT_MALFORMED;
			/* 0xc0: a compression pointer */
			if (len - pos < 2)
				return DNSPKT_TRUNCATED;
			target = (size_t)(b & 0x3f) << 8 | msg[pos + 1];
			if (target < DNSPKT_HEADER_LEN || target >= run || jumps == DNSPKT_JUMPS_MAX)
				return DNSPKT_MALFORMED;
			if (jumps++ == 0)
				resume = pos + 2;
			if (copy && pos > from) { /* the run so far, then a dot before the next */
				memcpy(name->text + (from + 1 + shift), msg + from + 1, pos - from - 1);
				text = (unsigned)(pos + shift);
			}
			pos = run = from = target;
			shift = text ? text - from : (size_t)0 - (from + 1);
			continue;
		}
		wire += b + 1;
		if (wire > DNSPKT_NAME_WIRE_MAX)
			return DNSPKT_MALFORMED;
		if (len - pos - 1 < b)
			return DNSPKT_TRUNCATED;
		if (copy) {
			/* wire <= 255 bounds n to 127 and the text to 253 (see dnspkt.h) */
			name->label[n].off = (uint8_t)(pos + 1 + shift);
			name->label[n].len = (uint8_t)b;
			n++;
		}
		pos += 1 + b;
	}
	if (copy) {
		if (pos > from) {
			memcpy(name->text + (from + 1 + shift), msg + from + 1, pos - from - 1);
			text = (unsigned)(pos + shift);
		}
		for (unsigned i = 1; i < n; i++)
			name->text[name->label[i].off - 1] = '.';
		if (n == 0)
			name->text[text++] = '.';
		name->text[text] = '\0';
		name->text_len = (uint16_t)text;
		name->wire_len = (uint16_t)wire;
		name->nlabels = (uint8_t)n;
	}
	*off = jumps ? resume : pos + 1;
	return DNSPKT_OK;
}

int dnspkt_name(const uint8_t *msg, size_t len, size_t *off, struct dnspkt_name *name)
{
	return walk_name(msg, len, off, name, 1);
}

int dnspkt_skip_name(const uint8_t *msg, size_t len, size_t *off)
{
	return walk_name(msg, len, off, NULL, 0);
}

int dnspkt_question(const uint8_t *msg, size_t len, struct dnspkt_question *q)
{
	size_t off = DNSPKT_HEADER_LEN;
	int status;

	if (!msg || len < DNSPKT_HEADER_LEN)
		return DNSPKT_TRUNCATED;
	q->id = be16(msg);
	q->flags = be16(msg + 2);
	q->qr = (uint8_t)(q->flags >> 15);
	q->opcode = (uint8_t)(q->flags >> 11 & 0x0f);
	q->rcode = (uint8_t)(q->flags & 0x0f);
	q->qdcount = be16(msg + 4);
	q->ancount = be16(msg + 6);
	q->nscount = be16(msg + 8);
	q->arcount = be16(msg + 10);
	if (q->qdcount == 0)
		return DNSPKT_MALFORMED;
	/* dnspkt_name(), its walk inline: no call for every frame's question */
	if ((status = walk_name(msg, len, &off, &q->name, 1)) != DNSPKT_OK)
		return status;
	if (len - off < 4)
		return DNSPKT_TRUNCATED;
	q->qtype = be16(msg + off);
	q->qclass = be16(msg + off + 2);
	q->end = off + 4;
	return DNSPKT_OK;
}

const char *dnspkt_status_name(int status)
{
	/* one after another, each ended by a NUL: no padding, no pointers */
	static const char names[] = "dns\0not_ip\0not_udp\0not_dns_port\0fragment\0truncated\0malformed";
	const char *name = names;
	if ((unsigned)status >= DNSPKT_STATUS_COUNT)
		return "unknown";
	for (; status; status--)
		while (*name++)
			;
	return name;
}
