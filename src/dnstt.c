/*
 * dnstt.c - the DNSTT query layout (see dnstt.h).
 *
 * Owns: the suffix match on the tunnel domain, the base32 decoding of the
 * labels before it, and the check of the decoded bytes.  No allocation, no
 * ctype, no table.
 *
 * What the upstream client writes (dnstt-client/dns.go, send(), unchanged
 * since 2021), for a packet p of 0 to 223 bytes:
 *
 *     ClientID[8] || 0xe0+n || n random bytes || [ len(p) || p ]
 *
 * with n = 3 (numPadding) when p is not empty and n = 8 (numPaddingForPoll)
 * for an empty poll, which has no length byte and no packet.  Then RFC 4648
 * base32 with no '=' padding (Go's encoder: the unused bits of the last
 * character are zero), lowercased, cut every 63 characters, the domain
 * appended; QTYPE TXT, class IN, opcode QUERY.
 *
 * What is accepted here is exactly that, and nothing else the server would
 * also take:
 *   - the labels before the domain, joined, are base32 letters and digits
 *     2-7 in either case (0x20 randomisation), of a length an encoder
 *     writes (not 1, 3 or 6 modulo 8) with zero unused bits;
 *   - a data query decodes to 13 + L bytes: byte 8 is 0xe3, byte 12 is L,
 *     1 <= L <= 223, and nothing follows the L bytes;
 *   - a poll decodes to exactly 17 bytes: byte 8 is 0xe8.
 * The server (dnstt-server/main.go, recvLoop() and nextPacket()) is more
 * lenient: any padding prefix 0xe0-0xff, several packets, trailing bytes,
 * any non-empty remainder of Go's non-strict decoder.  None of that comes
 * from the real client, and each would let more names count.  As it is, a
 * name under the domain is taken for a session only with 23 or more base32
 * characters (no '-', no 0, 1, 8 or 9), a length an encoder writes, zero
 * unused bits, and the marker: random base32 text of exactly 28 characters
 * is a poll once in 4096 (marker, 4 unused bits), of a data query's length
 * far more rarely (marker and length byte: 1 in 65536 at best).  Words and
 * host names are never that.  The ID and the padding are random bytes, so
 * no check can do better.  Where the labels are cut is not checked (the
 * client cuts every 63 characters, the server joins any cut).
 */
#include "dnstt.h"

#include <string.h>

#define MARKER_DATA 0xe3  /* 0xe0 + numPadding */
#define MARKER_POLL 0xe8  /* 0xe0 + numPaddingForPoll */
#define DATA_MIN (DNSTT_ID_LEN + 1 + 3 + 1) /* ID, marker, 3 padding, length */
#define POLL_LEN (DNSTT_ID_LEN + 1 + 8)     /* ID, marker, 8 padding */
#define PACKET_MAX 223                       /* a length byte >= 0xe0 is padding */
#define HEAD_LEN DATA_MIN                    /* the decoded bytes that are looked at */

/* 0 to 25 for an ASCII letter of either case, 26 or more for any other byte. */
static unsigned letter_index(unsigned char c)
{
	return (unsigned)(c | 0x20) - 'a';
}

/* The n bytes of a and b are equal, ASCII case-insensitively. */
static int same_text(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x != y && ((x ^ y) != 0x20 || letter_index(x) >= 26))
			return 0;
	}
	return 1;
}

/*
 * How many labels of the name come before the domain, domain[0..end), or
 * -1 when the name does not end with the domain's labels.
 */
static int labels_before(const struct dnspkt_name *name, const char *domain, size_t end)
{
	int i = name->nlabels;

	if (end > 0 && domain[end - 1] == '.')
		end--;
	if (end == 0 || end > DNSPKT_NAME_TEXT_MAX)
		return -1;
	/* most names end otherwise: the last character of the name's text is
	 * that of its last label, which must be the domain's */
	if (i == 0 || !same_text(name->text + name->text_len - 1, domain + end - 1, 1))
		return -1;
	for (;;) { /* the domain's labels, right to left */
		size_t start = end;
		const struct dnspkt_label *l;
		while (start > 0 && domain[start - 1] != '.')
			start--;
		if (i == 0 || start == end)
			return -1;
		l = &name->label[--i];
		if (l->len != end - start || !same_text(name->text + l->off, domain + start, l->len))
			return -1;
		if (start == 0)
			return i;
		end = start - 1;
	}
}

/* A base32 character's 5 bits (A-Z or a-z, 2-7), or 32 for any other byte:
 * one table lookup a character, built by the compiler. */
#define B32(c) ((c) >= 'a' && (c) <= 'z'   ? (c) - 'a'      \
                : (c) >= 'A' && (c) <= 'Z' ? (c) - 'A'      \
                : (c) >= '2' && (c) <= '7' ? (c) - '2' + 26 \
                                           : 32)
#define B32_4(c) B32(c), B32((c) + 1), B32((c) + 2), B32((c) + 3)
#define B32_16(c) B32_4(c), B32_4((c) + 4), B32_4((c) + 8), B32_4((c) + 12)
#define B32_64(c) B32_16(c), B32_16((c) + 16), B32_16((c) + 32), B32_16((c) + 48)
static const uint8_t BASE32[256] = { B32_64(0), B32_64(64), B32_64(128), B32_64(192) };
#define B32_BAD 32

/*
 * Decodes the first nlabels labels of the name, joined: the first HEAD_LEN
 * bytes into head, the others only counted (their characters only
 * checked).  Returns the byte count, or -1 for a character outside the
 * alphabet, a length no encoder writes or non-zero unused bits.
 */
static int base32_decode(const struct dnspkt_name *name, int nlabels, uint8_t head[HEAD_LEN])
{
	unsigned acc = 0, bits = 0, bad = 0, last = 0; /* the low bits of acc are pending */
	size_t chars = 0;
	int n = 0;

	for (int i = 0; i < nlabels; i++) {
		const unsigned char *s = (const unsigned char *)name->text + name->label[i].off;
		const unsigned char *end = s + name->label[i].len;
		chars += name->label[i].len;
		for (; s < end && n < HEAD_LEN; s++) {
			unsigned v = BASE32[*s];
			bad |= v;
			acc = acc << 5 | v;
			bits += 5;
			if (bits >= 8) {
				bits -= 8;
				head[n++] = (uint8_t)(acc >> bits);
			}
		}
		/* past the head, only the alphabet matters: four at a time */
		for (; end - s >= 4; s += 4)
			bad |= BASE32[s[0]] | BASE32[s[1]] | BASE32[s[2]] | BASE32[s[3]];
		for (; s < end; s++)
			bad |= BASE32[*s];
		if (name->label[i].len)
			last = BASE32[end[-1]];
	}
	/* 5 or more bits left: a length of 1, 3 or 6 modulo 8; the unused
	 * bits are the low ones of the last character */
	bits = (unsigned)(chars * 5 % 8);
	if ((bad & B32_BAD) || bits >= 5 || (last & ((1u << bits) - 1)) != 0)
		return -1;
	return (int)(chars * 5 / 8);
}

int dnstt_match(const struct dnspkt_question *q, const char *domain, uint8_t session_id[DNSTT_ID_LEN],
                size_t *payload_len, int *is_poll)
{
	if (!domain)
		return DNSTT_OUTSIDE;
	return dnstt_match_n(q, domain, strlen(domain), session_id, payload_len, is_poll);
}

int dnstt_match_n(const struct dnspkt_question *q, const char *domain, size_t domain_len,
                  uint8_t session_id[DNSTT_ID_LEN], size_t *payload_len, int *is_poll)
{
	uint8_t d[HEAD_LEN];
	int before, n, poll;
	size_t packet;

	if (!q || !domain || (before = labels_before(&q->name, domain, domain_len)) < 0)
		return DNSTT_OUTSIDE;
	if (before == 0 || q->opcode != 0 || q->qtype != DNSPKT_TYPE_TXT || q->qclass != DNSPKT_CLASS_IN)
		return DNSTT_INSIDE;
	if ((n = base32_decode(&q->name, before, d)) < DATA_MIN)
		return DNSTT_INSIDE;
	if (d[DNSTT_ID_LEN] == MARKER_POLL && n == POLL_LEN) {
		poll = 1;
		packet = 0;
	} else if (d[DNSTT_ID_LEN] == MARKER_DATA && d[DATA_MIN - 1] >= 1 && d[DATA_MIN - 1] <= PACKET_MAX &&
	           (size_t)n == DATA_MIN + (size_t)d[DATA_MIN - 1]) {
		poll = 0;
		packet = d[DATA_MIN - 1];
	} else {
		return DNSTT_INSIDE;
	}
	if (session_id)
		memcpy(session_id, d, DNSTT_ID_LEN);
	if (payload_len)
		*payload_len = packet;
	if (is_poll)
		*is_poll = poll;
	return DNSTT_SESSION;
}
