/*
 * dnspkt.h - a captured frame down to its DNS payload, and a DNS message's
 * header and first question.
 *
 * Owns the wire formats below the DNS name's meaning: Ethernet II, 802.1Q /
 * 802.1ad tags, IPv4, IPv6 and its extension headers, UDP, the DNS header
 * and the name compression of RFC 1035.  No allocation, no state, no locale;
 * every multi-byte field is read byte by byte in network order (the router
 * is big-endian, the build machine is not), and every read is checked
 * against the end of the caller's buffer first.
 */
#ifndef DNSAGG_DNSPKT_H
#define DNSAGG_DNSPKT_H

#include <stddef.h>
#include <stdint.h>

#define DNSPKT_PORT 53          /* the default DNS port */
#define DNSPKT_HEADER_LEN 12    /* the DNS header */
#define DNSPKT_NAME_WIRE_MAX 255 /* octets of a name on the wire, root label included */
#define DNSPKT_NAME_TEXT_MAX 253 /* characters of its text: 255 less the first length and the root */
#define DNSPKT_LABELS_MAX 127   /* (255 - 1) / 2: one-octet labels */
#define DNSPKT_JUMPS_MAX 16     /* compression pointers followed in one name */
#define DNSPKT_IPV6_EXT_MAX 4   /* IPv6 extension headers skipped before UDP */

#define DNSPKT_TYPE_TXT 16
#define DNSPKT_CLASS_IN 1

enum dnspkt_status {
	DNSPKT_OK = 0,
	DNSPKT_NOT_IP,       /* not IPv4 or IPv6 (ARP, LLDP, 802.3 lengths, three VLAN tags...) */
	DNSPKT_NOT_UDP,      /* IP, but not UDP (TCP, ICMP, AH, no next header...) */
	DNSPKT_NOT_DNS_PORT, /* UDP, but neither port is the DNS port */
	DNSPKT_FRAGMENT,     /* a UDP fragment: IPv4 MF or offset, any IPv6 fragment header */
	DNSPKT_TRUNCATED,    /* the buffer ends before a header, or before the IP length */
	DNSPKT_MALFORMED,    /* fields that contradict each other or the format */
	DNSPKT_STATUS_COUNT
};

/* What dnspkt_frame() found: the payload points into the caller's frame. */
struct dnspkt_frame {
	uint8_t resolver[16]; /* the far end of the DNS port: the source of a query, the destination
	                         of a response.  IPv4: the 4 bytes first, then 12 zero bytes. */
	uint8_t server[16];   /* the near end, the DNS port's: the destination of a query, the
	                         source of a response; laid out the same */
	const uint8_t *payload; /* the UDP payload (the DNS message), payload_len bytes, as long as
	                           the UDP length says (Ethernet padding left out) */
	size_t payload_len;
	uint8_t family;       /* 4 or 6 */
	uint8_t is_response;  /* 0: a query (UDP to the DNS port); 1: a response (from it).  When
	                         both ports are the DNS port, the payload's QR bit decides. */
	uint16_t src_port, dst_port;
};

/*
 * Parses frame[0..len), an Ethernet II frame as AF_PACKET/SOCK_RAW gives it
 * (on "lo" too: there the MACs are zero): up to two 802.1Q (0x8100) or
 * 802.1ad (0x88a8) tags, then IPv4 (options skipped by the header length)
 * or IPv6 (up to DNSPKT_IPV6_EXT_MAX hop-by-hop, routing and destination
 * options headers skipped), then UDP with port as its source or destination.
 * Returns an enum dnspkt_status; *out is filled only on DNSPKT_OK.  No
 * checksum is verified (captures of local traffic carry none).
 */
int dnspkt_frame(const uint8_t *frame, size_t len, uint16_t port, struct dnspkt_frame *out);

/*
 * A name, as text and as labels.  The text is the labels' raw bytes joined
 * by '.', not lowercased and not escaped (a label may hold a '.' or any
 * byte, so the labels, not the text, are the name's structure), NUL-
 * terminated; the root is "." with no labels.  label[i] is the i-th label,
 * left to right, as an offset and a length into text.
 */
struct dnspkt_label {
	uint8_t off, len;
};

struct dnspkt_name {
	uint16_t text_len; /* bytes in text, the NUL not counted; at most DNSPKT_NAME_TEXT_MAX */
	uint16_t wire_len; /* octets it takes uncompressed on the wire: 1 (root) to 255 */
	uint8_t nlabels;   /* at most DNSPKT_LABELS_MAX */
	struct dnspkt_label label[DNSPKT_LABELS_MAX];
	char text[DNSPKT_NAME_TEXT_MAX + 1];
};

/*
 * Reads the name at msg[*off] of the message msg[0..len) into *name and
 * moves *off past it (past its first compression pointer, if any).  A label
 * is at most 63 octets (the 0x40 and 0x80 label types are refused); the name
 * at most 255.  A compression pointer must point into the message after its
 * header and strictly before the run of labels that holds it (before every
 * octet read so far), so a name can neither loop nor point forward; at most
 * DNSPKT_JUMPS_MAX are followed.  Returns DNSPKT_OK, DNSPKT_TRUNCATED (the
 * name runs past the end) or DNSPKT_MALFORMED.
 */
int dnspkt_name(const uint8_t *msg, size_t len, size_t *off, struct dnspkt_name *name);

/* The same walk and the same checks as dnspkt_name(), the same status and
 * *off, without writing the name anywhere (an answer's owner name). */
int dnspkt_skip_name(const uint8_t *msg, size_t len, size_t *off);

/* The DNS header and the first question of a message. */
struct dnspkt_question {
	uint16_t id, flags; /* flags as on the wire: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode */
	uint8_t qr;         /* 1: a response */
	uint8_t opcode;     /* 0: QUERY */
	uint8_t rcode;      /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN... (the header's 4 bits) */
	uint16_t qdcount, ancount, nscount, arcount;
	uint16_t qtype, qclass;
	size_t end;         /* offset in the message just past the question: the answers */
	struct dnspkt_name name;
};

/*
 * Parses the header of the DNS message msg[0..len) and its first question.
 * Returns DNSPKT_OK, DNSPKT_TRUNCATED (the message ends inside the header or
 * the question) or DNSPKT_MALFORMED (qdcount 0, a bad name).  The rest of
 * the message is not looked at.  *q is to be used only on DNSPKT_OK.
 */
int dnspkt_question(const uint8_t *msg, size_t len, struct dnspkt_question *q);

/* Label values for the statuses, as dnsagg_packets_total's result label
 * and agg:stats() name them: "dns" (DNSPKT_OK: a DNS message), "not_ip",
 * "not_udp", "not_dns_port", "fragment", "truncated", "malformed". */
const char *dnspkt_status_name(int status);

#endif
