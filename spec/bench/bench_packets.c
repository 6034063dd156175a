/*
 * bench_packets.c - cost per captured packet through the path the reader
 * thread uses for each frame: the lock (taken once for each
 * CAPTURE_FRAMES_PER_LOCK frames, as the reader does), then
 * capture_account() (frame, DNS question, DNSTT decoding and the session
 * table).
 *
 *   bench_packets KIND   account 100000 copies of one frame of KIND:
 *                        dnstt-query     a DNSTT data query (DESIGN.md section 4's vector)
 *                        dnstt-response  the resolver's TXT answer to it
 *                        dns-query       an ordinary A query, outside the tunnel domain
 *                        client-query    with queries = "packets": A queries for 1,000 names
 *                                        (h0000.example.org ...) in turn, each counted into the
 *                                        (client, domain, type) table
 *                        client-exchange 500 queries each followed by its response (a
 *                                        TXT answer), which closes it: the average of both
 *                        client-response the same exchanges, the responses alone measured
 *                        the measured phase is the function measured_packets, for
 *                        client-response measured_response (callgrind --toggle-collect)
 *   bench_packets sizes  the bytes of the tables of exchanges in flight, as this build
 *                        lays them out: pending (each query until its outcome) and
 *                        forwards (each question until the resolver's own query)
 *
 * Frames are Ethernet, IPv4, UDP to or from port 53, as the kernel hands
 * them over on a LAN interface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "capture.h"

#define PACKETS 100000u
#define PORT 53

static const char TUNNEL_DOMAIN[] = "t.example.com";
static const char TUNNEL_NAME[] =
	"ingesrkokreujy6zumkse43vobsxey3bnruwm4tbm5uwy2ltoruwgzlyobuwc3d.jmrxwg2lpovzq.t.example.com";

struct writer {
	uint8_t *p;
};

static void u8(struct writer *w, unsigned v)
{
	*w->p++ = (uint8_t)v;
}

static void u16(struct writer *w, unsigned v)
{
	u8(w, v >> 8);
	u8(w, v & 0xff);
}

static void dns_name(struct writer *w, const char *name)
{
	for (const char *label = name; *label;) {
		size_t n = strcspn(label, ".");
		u8(w, (unsigned)n);
		memcpy(w->p, label, n);
		w->p += n;
		label += n + (label[n] == '.');
	}
	u8(w, 0);
}

/* One frame: Ethernet, IPv4 (20 bytes), UDP, then a DNS message with one
 * question and, for a response, one TXT answer of 120 bytes. */
static size_t frame(uint8_t *f, const char *name, unsigned qtype, int response)
{
	struct writer w = { f };
	memset(f, 0, 12); /* MACs */
	w.p += 12;
	u16(&w, 0x0800);
	uint8_t *ip = w.p;
	memset(ip, 0, 28);
	ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
	ip[12] = 192, ip[13] = 168, ip[14] = 1, ip[15] = response ? 1 : 20;
	ip[16] = 192, ip[17] = 168, ip[18] = 1, ip[19] = response ? 20 : 1;
	w.p = ip + 20;
	u16(&w, response ? PORT : 40000);
	u16(&w, response ? 40000 : PORT);
	uint8_t *udp_len = w.p;
	w.p += 4; /* length, checksum */
	uint8_t *dns = w.p;
	u16(&w, 0x1234);
	u16(&w, response ? 0x8180 : 0x0100);
	u16(&w, 1);
	u16(&w, response ? 1 : 0);
	u16(&w, 0);
	u16(&w, 0);
	dns_name(&w, name);
	u16(&w, qtype);
	u16(&w, 1);
	if (response) {
		u16(&w, 0xc00c);
		u16(&w, 16);
		u16(&w, 1);
		u16(&w, 0);
		u16(&w, 60);
		u16(&w, 121);
		u8(&w, 120);
		memset(w.p, 'a', 120);
		w.p += 120;
	}
	size_t dns_len = (size_t)(w.p - dns);
	udp_len[0] = (uint8_t)((8 + dns_len) >> 8), udp_len[1] = (uint8_t)(8 + dns_len);
	ip[2] = (uint8_t)((28 + dns_len) >> 8), ip[3] = (uint8_t)(28 + dns_len);
	return (size_t)(w.p - f);
}

#define NAMES 1000u

/* Frame i of the run, as the reader thread accounts each: the lock taken
 * once for each CAPTURE_FRAMES_PER_LOCK frames, as account_block() does. */
static void account(struct agg *agg, const uint8_t *frame, size_t len, uint32_t i)
{
	if (i % CAPTURE_FRAMES_PER_LOCK == 0)
		agg_lock(agg);
	capture_account(agg, frame, len, PORT, 0, 1700000000u + i / 1000);
	if (i % CAPTURE_FRAMES_PER_LOCK == CAPTURE_FRAMES_PER_LOCK - 1 || i == PACKETS - 1)
		agg_unlock(agg);
}

/* The only functions callgrind counts (--toggle-collect=measured_packets,
 * --toggle-collect=measured_response). */
__attribute__((noinline)) void measured_packets(struct agg *agg, uint8_t (*f)[1024], const size_t *len, uint32_t n);
__attribute__((noinline)) void measured_packets(struct agg *agg, uint8_t (*f)[1024], const size_t *len, uint32_t n)
{
	/* as account_block() reads a block: the lock, up to
	 * CAPTURE_FRAMES_PER_LOCK frames, the lock let go; no division a frame */
	for (uint32_t i = 0, at = 0; i < PACKETS;) {
		agg_lock(agg);
		for (uint32_t end = i + CAPTURE_FRAMES_PER_LOCK; i < end && i < PACKETS; i++) {
			capture_account(agg, f[at], len[at], PORT, 0, 1700000000u + i / 1000);
			if (++at == n)
				at = 0;
		}
		agg_unlock(agg);
	}
}

__attribute__((noinline)) void measured_response(struct agg *agg, const uint8_t *frame, size_t len, uint32_t i);
__attribute__((noinline)) void measured_response(struct agg *agg, const uint8_t *frame, size_t len, uint32_t i)
{
	account(agg, frame, len, i);
}

int main(int argc, char **argv)
{
	static uint8_t f[NAMES][1024];
	static size_t len[NAMES];
	uint32_t n = 1;
	const char *kind = argc == 2 ? argv[1] : "";
	struct agg_config cfg = { 0 };

	if (strcmp(kind, "dnstt-query") == 0)
		len[0] = frame(f[0], TUNNEL_NAME, 16, 0);
	else if (strcmp(kind, "dnstt-response") == 0)
		len[0] = frame(f[0], TUNNEL_NAME, 16, 1);
	else if (strcmp(kind, "dns-query") == 0)
		len[0] = frame(f[0], "www.example.org", 1, 0);
	else if (strcmp(kind, "client-query") == 0) {
		for (n = 0; n < NAMES; n++) {
			char name[32];
			snprintf(name, sizeof name, "h%04u.example.org", (unsigned)n);
			len[n] = frame(f[n], name, 1, 0);
		}
		cfg.queries = AGG_QUERIES_PACKETS;
	} else if (strcmp(kind, "sizes") == 0) {
		printf("pending_bytes %zu pending_slots %u forwards_bytes %zu forward_slots %u\n", sizeof(struct pending),
		       PENDING_SLOTS, sizeof(struct forwards), FORWARD_SLOTS);
		return 0;
	} else if (strcmp(kind, "client-exchange") == 0 || strcmp(kind, "client-response") == 0) {
		for (n = 0; n < NAMES; n++) {
			char name[32];
			snprintf(name, sizeof name, "h%04u.example.org", (unsigned)n / 2);
			len[n] = frame(f[n], name, 1, n & 1);
		}
		cfg.queries = AGG_QUERIES_PACKETS;
	} else {
		fprintf(stderr, "usage: bench_packets dnstt-query|dnstt-response|dns-query|client-query|client-exchange|"
		                "client-response|sizes\n");
		return 2;
	}

	cfg.max_entries = 1000;
	cfg.max_clients = 100;
	cfg.max_servers = 8;
	cfg.max_leases = 16;
	cfg.capture = 1;
	cfg.dnstt_domains[0] = TUNNEL_DOMAIN;
	cfg.ndnstt_domains = 1;
	cfg.dnstt_window = 30;
	cfg.dnstt_max_sessions = 1000;
	struct agg *agg = agg_new(&cfg);
	if (!agg) {
		fprintf(stderr, "agg_new failed\n");
		return 2;
	}
	uint32_t measured = PACKETS;
	if (strcmp(kind, "client-response") == 0) {
		for (uint32_t i = 0; i < PACKETS; i++) /* a query, then its response */
			if (i & 1)
				measured_response(agg, f[i % n], len[i % n], i);
			else
				account(agg, f[i % n], len[i % n], i);
		measured = PACKETS / 2;
	} else {
		measured_packets(agg, f, len, n);
	}
	const struct sessions_domain *d = &agg->dnstt->domain[0];
	printf("kind %s packets %u measured %u frame_bytes %zu entries %u client_queries %llu replies %llu ok %llu tunnel_queries %llu bytes_in %llu bytes_out %llu\n", kind,
	       PACKETS, measured, len[measured < PACKETS], agg->entries.used, (unsigned long long)agg->stats.packet_queries,
	       (unsigned long long)agg->stats.packet_replies,
	       (unsigned long long)agg->stats.packets[DNSPKT_OK], (unsigned long long)d->n.queries,
	       (unsigned long long)d->n.bytes_in, (unsigned long long)d->n.bytes_out);
	agg_free(agg);
	return 0;
}
