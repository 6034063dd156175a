/*
 * capture.c - the AF_PACKET socket, its kernel filter, and the accounting
 * of captured frames (see capture.h).
 */
#include "capture.h"

#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dnspkt.h"
#include "dnstt.h"
#include "geoip.h"
#include "pktquery.h"
#include "sessions.h"

#define SNAP_LEN 0x40000u           /* what the filter keeps of an accepted frame */

/* linux/if_packet.h's (not in every libc's headers): PACKET_STATISTICS,
 * and the TPACKET_V3 ring: its request, the head of a block and of a frame
 * in it (the fields read here; the kernel's layout up to them). */
struct tpacket_counts {
	unsigned int tp_packets, tp_drops;
};
enum { RING_PACKET_RX_RING = 5, RING_PACKET_VERSION = 10, RING_TPACKET_V3 = 2, RING_STATUS_USER = 1 };
struct ring_request {
	unsigned int block_size, block_nr, frame_size, frame_nr, retire_blk_tov, sizeof_priv, feature_req_word;
};
struct ring_block {
	uint32_t version, offset_to_priv;
	uint32_t block_status, num_pkts, offset_to_first_pkt, blk_len;
};
struct ring_frame {
	uint32_t next_offset, sec, nsec, snaplen, len, status;
	uint16_t mac, net;
};
#define RING_FRAME_HEAD 48u   /* TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): the sockaddr_ll after it */

/* The ring: blocks of RING_BLOCK bytes, each handed to the thread when
 * full or RING_RETIRE_MS after it was opened, whichever comes first: the
 * thread reads a block of frames with no system call per frame, and the
 * kernel copies a frame into the ring in the sender's path instead of
 * cloning it onto a queue.  A frame takes its bytes and about 80 more
 * (its head, the sender's address), so the default 4 MiB hold some 20,000
 * DNS packets, and at low rates (a block a frame at worst) 64 blocks of
 * 50 ms: 3.2 s of frames while the thread is off the CPU.  A datagram
 * longer than a block's room (65,400 bytes) is cut at its end: dnspkt
 * counts it as truncated. */
#define RING_BLOCK (64u << 10)
#define RING_MIN_BLOCKS 2u
#define RING_FRAME 2048u       /* the kernel's frame count (V3 packs frames tighter) */
#define RING_RETIRE_MS 50

/* linux/filter.h's */
struct insn_prog {
	unsigned short len;
	struct capture_insn *filter;
};

struct capture {
	int fd;
	int buffer_bytes;
	uint16_t port;
	unsigned ifindex;        /* 0: every interface */
	char ifname[IF_NAMESIZE];
	uint8_t *ring;           /* mapped, blocks * RING_BLOCK bytes */
	unsigned blocks, next;   /* the ring's blocks, the next one to read */
};

/* linux/if_packet.h's (Linux 4.20), not in every libc's headers */
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* The socket's options, names and mapping as the system calls themselves
 * (libc's functions only pass these on): six imports fewer. */
static long set_option(int fd, int level, int name, const void *value, socklen_t len)
{
	return syscall(SYS_setsockopt, (long)fd, (long)level, (long)name, value, (long)len);
}

static long get_option(int fd, int level, int name, void *value, socklen_t *len)
{
	return syscall(SYS_getsockopt, (long)fd, (long)level, (long)name, value, len);
}

/* htons(ETH_P_ALL), which musl makes a call */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ETH_P_ALL_NET ETH_P_ALL
#else
#define ETH_P_ALL_NET ((uint16_t)(ETH_P_ALL >> 8 | (ETH_P_ALL & 0xff) << 8))
#endif

/* Binds to one interface (0: every one).  A loopback interface shows each
 * packet twice, going out and coming in: the copy going out is then not
 * even handed to the socket (no filter run, no copy of the packet, in the
 * sender's own path: dnsmasq's), where the kernel can (Linux 4.20 and
 * later; before, the filter drops it).  Elsewhere frames going out stay:
 * they are the router's own resolver's queries and responses. */
static int bind_to(int fd, unsigned ifindex)
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = ETH_P_ALL_NET;
	sll.sll_ifindex = (int)ifindex;
	if (syscall(SYS_bind, (long)fd, &sll, (long)sizeof sll) != 0)
		return -1;
	if (ifindex && syscall(SYS_getsockname, (long)fd, &sll, &len) == 0) {
		int ignore = sll.sll_hatype == ARPHRD_LOOPBACK;
		(void)set_option(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &ignore, sizeof ignore);
	}
	return 0;
}

/* --- the kernel filter ------------------------------------------------ */

/*
 * Classic BPF, run by the kernel on every frame before it is queued.  On
 * a loopback device the kernel shows each packet twice, going out and
 * coming in: the copy going out is dropped here, before it takes room in
 * the queue.  Elsewhere a frame going out (a response of the router's own
 * resolver) is kept.  X
 * holds the 802.1Q tag's length (0 or 4), and later the IPv4 header's end,
 * so that loads are relative to it (BPF_IND).  It accepts:
 *   - IPv4 UDP, not a non-first fragment (a first fragment has the ports
 *     and passes; dnspkt counts it as a fragment), either port = port;
 *   - IPv6 with UDP next: either port = port;
 *   - IPv6 with an extension header first (hop-by-hop, routing, fragment,
 *     destination options): left to dnspkt, which skips them or counts a
 *     fragment;
 * after Ethernet, or Ethernet and one 802.1Q tag.  Everything else, TCP and
 * UDP on other ports included, never reaches user space.
 */
enum {
	I_PKTTYPE, I_IS_OUT, I_HATYPE, I_IS_LOOPBACK, I_ETYPE, I_NOTAG, I_IS_TAG, I_TAG_ETYPE, I_TAGLEN,
	I_IS_IP4, I_PROTO4, I_IS_UDP4, I_FRAG4, I_NOT_LATER, I_IHL, I_IHL_AND, I_IHL_LSH, I_IHL_ADD, I_TAX,
	I_SPORT4, I_IS_SPORT4, I_DPORT4, I_IS_DPORT4,
	I_IS_IP6, I_NEXT6, I_IS_UDP6, I_SPORT6, I_IS_SPORT6, I_DPORT6, I_IS_DPORT6,
	I_HOP6, I_ROUTING6, I_DSTOPT6, I_FRAG6,
	I_ACCEPT, I_DROP, I_COUNT
};

#define PORT_MARK 0x10000u /* no port: capture_bpf() puts the port where it stands */
#define STMT(code, k) { (uint16_t)(code), 0, 0, (uint32_t)(k) }
/* a conditional jump at instruction `at` to instructions t and f */
#define JUMP(at, code, k, t, f) \
	{ (uint16_t)(BPF_JMP | (code) | BPF_K), (uint8_t)((t) - (at) - 1), (uint8_t)((f) - (at) - 1), (uint32_t)(k) }

/* A table, not code that builds it: on MIPS the stores took 500 bytes. */
static const struct capture_insn filter[I_COUNT] = {
	[I_PKTTYPE] = STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	[I_IS_OUT] = JUMP(I_IS_OUT, BPF_JEQ, PACKET_OUTGOING, I_HATYPE, I_ETYPE),
	[I_HATYPE] = STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_HATYPE),
	[I_IS_LOOPBACK] = JUMP(I_IS_LOOPBACK, BPF_JEQ, ARPHRD_LOOPBACK, I_DROP, I_ETYPE),
	[I_ETYPE] = STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	[I_NOTAG] = STMT(BPF_LDX | BPF_W | BPF_IMM, 0),
	[I_IS_TAG] = JUMP(I_IS_TAG, BPF_JEQ, ETHERTYPE_VLAN, I_TAG_ETYPE, I_IS_IP4),
	[I_TAG_ETYPE] = STMT(BPF_LD | BPF_H | BPF_ABS, 16),
	[I_TAGLEN] = STMT(BPF_LDX | BPF_W | BPF_IMM, 4),

	[I_IS_IP4] = JUMP(I_IS_IP4, BPF_JEQ, ETHERTYPE_IP, I_PROTO4, I_IS_IP6),
	[I_PROTO4] = STMT(BPF_LD | BPF_B | BPF_IND, 14 + 9),
	[I_IS_UDP4] = JUMP(I_IS_UDP4, BPF_JEQ, IPPROTO_UDP, I_FRAG4, I_DROP),
	[I_FRAG4] = STMT(BPF_LD | BPF_H | BPF_IND, 14 + 6),
	[I_NOT_LATER] = JUMP(I_NOT_LATER, BPF_JSET, 0x1fff, I_DROP, I_IHL),
	[I_IHL] = STMT(BPF_LD | BPF_B | BPF_IND, 14),
	[I_IHL_AND] = STMT(BPF_ALU | BPF_AND | BPF_K, 0x0f),
	[I_IHL_LSH] = STMT(BPF_ALU | BPF_LSH | BPF_K, 2),
	[I_IHL_ADD] = STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
	[I_TAX] = STMT(BPF_MISC | BPF_TAX, 0),
	[I_SPORT4] = STMT(BPF_LD | BPF_H | BPF_IND, 14),
	[I_IS_SPORT4] = JUMP(I_IS_SPORT4, BPF_JEQ, PORT_MARK, I_ACCEPT, I_DPORT4),
	[I_DPORT4] = STMT(BPF_LD | BPF_H | BPF_IND, 14 + 2),
	[I_IS_DPORT4] = JUMP(I_IS_DPORT4, BPF_JEQ, PORT_MARK, I_ACCEPT, I_DROP),

	[I_IS_IP6] = JUMP(I_IS_IP6, BPF_JEQ, ETHERTYPE_IPV6, I_NEXT6, I_DROP),
	[I_NEXT6] = STMT(BPF_LD | BPF_B | BPF_IND, 14 + 6),
	[I_IS_UDP6] = JUMP(I_IS_UDP6, BPF_JEQ, IPPROTO_UDP, I_SPORT6, I_HOP6),
	[I_SPORT6] = STMT(BPF_LD | BPF_H | BPF_IND, 14 + 40),
	[I_IS_SPORT6] = JUMP(I_IS_SPORT6, BPF_JEQ, PORT_MARK, I_ACCEPT, I_DPORT6),
	[I_DPORT6] = STMT(BPF_LD | BPF_H | BPF_IND, 14 + 42),
	[I_IS_DPORT6] = JUMP(I_IS_DPORT6, BPF_JEQ, PORT_MARK, I_ACCEPT, I_DROP),
	[I_HOP6] = JUMP(I_HOP6, BPF_JEQ, IPPROTO_HOPOPTS, I_ACCEPT, I_ROUTING6),
	[I_ROUTING6] = JUMP(I_ROUTING6, BPF_JEQ, IPPROTO_ROUTING, I_ACCEPT, I_DSTOPT6),
	[I_DSTOPT6] = JUMP(I_DSTOPT6, BPF_JEQ, IPPROTO_DSTOPTS, I_ACCEPT, I_FRAG6),
	[I_FRAG6] = JUMP(I_FRAG6, BPF_JEQ, IPPROTO_FRAGMENT, I_ACCEPT, I_DROP),

	[I_ACCEPT] = STMT(BPF_RET | BPF_K, SNAP_LEN),
	[I_DROP] = STMT(BPF_RET | BPF_K, 0),
};

size_t capture_bpf(struct capture_insn *p, uint16_t port)
{
	for (size_t i = 0; i < I_COUNT; i++) {
		p[i] = filter[i];
		if (p[i].k == PORT_MARK)
			p[i].k = port;
	}
	return I_COUNT;
}

/* --- the socket ------------------------------------------------------- */

/* mmap() with an offset of 0: mmap2 where there is one (its offset in pages) */
#ifdef SYS_mmap2
#define MMAP_CALL SYS_mmap2
#else
#define MMAP_CALL SYS_mmap
#endif

/* The ring of bytes (in whole blocks, two at least), mapped into c. */
static int set_ring(struct capture *c, uint32_t bytes)
{
	int version = RING_TPACKET_V3;
	unsigned blocks = (bytes + RING_BLOCK - 1) / RING_BLOCK;
	if (blocks < RING_MIN_BLOCKS)
		blocks = RING_MIN_BLOCKS;
	struct ring_request req = { RING_BLOCK, blocks, RING_FRAME, blocks * (RING_BLOCK / RING_FRAME), RING_RETIRE_MS,
	                            0, 0 };
	if (set_option(c->fd, SOL_PACKET, RING_PACKET_VERSION, &version, sizeof version) != 0 ||
	    set_option(c->fd, SOL_PACKET, RING_PACKET_RX_RING, &req, sizeof req) != 0)
		return -1;
	long ring = syscall(MMAP_CALL, 0L, (long)((size_t)blocks * RING_BLOCK), (long)(PROT_READ | PROT_WRITE),
	                    (long)MAP_SHARED, (long)c->fd, 0L);
	if (ring == -1)
		return -1;
	c->ring = (uint8_t *)ring;
	c->blocks = blocks;
	c->buffer_bytes = (int)(blocks * RING_BLOCK);
	return 0;
}

/* Not inlined (its one caller is dnsagg.new's l_new()): its filter of
 * CAPTURE_BPF_MAX instructions in a local array would push the variables of
 * that big function past MIPS16e's short sp-relative offsets. */
__attribute__((noinline)) struct capture *capture_open(const char *ifname, uint16_t port, uint32_t buffer_bytes,
                                                       char *err, size_t errlen)
{
	struct capture_insn prog[CAPTURE_BPF_MAX];
	struct insn_prog fprog = { (unsigned short)capture_bpf(prog, port), prog };
	struct capture *c = calloc(1, sizeof *c);
	unsigned ifindex = 0;
	/* what failed (NULL: the message is written), then a name: the message
	 * is "dnsagg: capture<what><name>: <strerror(errno)>" */
	const char *what = NULL, *name = "";

	if (!c) {
		snprintf(err, errlen, "dnsagg: capture: out of memory");
		return NULL;
	}
	c->fd = -1;
	c->port = port;
	if (ifname && *ifname) {
		size_t len = strlen(ifname);
		if (len >= sizeof c->ifname || (ifindex = if_nametoindex(ifname)) == 0) {
			if (!errno)
				errno = ENODEV;
			what = ": no interface ";
			name = ifname;
			goto fail;
		}
		memcpy(c->ifname, ifname, len + 1);
		c->ifindex = ifindex;
	}
	/* Protocol 0: nothing is queued until the filter is on and bind() names
	 * the protocol, so no unfiltered frame is ever read. */
	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		what = errno == EPERM || errno == EACCES ? " needs root or CAP_NET_RAW" : ": cannot open a packet socket";
		goto fail;
	}
	if (set_ring(c, buffer_bytes) != 0) {
		snprintf(err, errlen, "dnsagg: capture: cannot map a ring of %u bytes (capture.buffer): %s", buffer_bytes,
		         strerror(errno));
		goto fail;
	}
	if (set_option(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
		what = ": cannot attach the filter";
		goto fail;
	}
	if (bind_to(c->fd, ifindex) != 0) {
		what = ": cannot bind to ";
		name = ifindex ? ifname : "every interface";
		goto fail;
	}
	return c;
fail:
	if (what)
		snprintf(err, errlen, "dnsagg: capture%s%s: %s", what, name, strerror(errno));
	capture_close(c);
	return NULL;
}

void capture_forget_fd(struct capture *c)
{
	if (!c)
		return;
	if (c->ring)
		(void)syscall(SYS_munmap, c->ring, (long)((size_t)c->blocks * RING_BLOCK));
	c->ring = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void capture_close(struct capture *c)
{
	capture_forget_fd(c);
	free(c);
}

int capture_fd(const struct capture *c)
{
	return c ? c->fd : -1;
}

int capture_buffer_bytes(const struct capture *c)
{
	return c->buffer_bytes;
}

/* Counts the frames of one block the kernel handed over, the lock taken
 * per CAPTURE_FRAMES_PER_LOCK frames (a scrape never waits for a whole
 * block).  The heads are read in place: the block is the thread's until
 * it hands it back, and the kernel aligns each frame (to 16 bytes).  The
 * kernel wrote the offsets; each is still checked against the block's end,
 * and to be aligned for the reads. */
static void account_block(struct capture *c, struct agg *agg, const uint8_t *block)
{
	const struct ring_block *head = (const void *)block;
	size_t at = head->offset_to_first_pkt;
	for (uint32_t i = 0;; i++) {
		if (i % CAPTURE_FRAMES_PER_LOCK == 0) { /* the first frame's, then let a scrape or a fork in */
			if (i)
				agg_unlock(agg);
			agg_lock(agg);
		}
		if (i == head->num_pkts || at > RING_BLOCK - RING_FRAME_HEAD - sizeof(struct sockaddr_ll) || at % 4)
			break;
		const struct ring_frame *f = (const void *)(block + at);
		const struct sockaddr_ll *from = (const void *)(block + at + RING_FRAME_HEAD);
		if (f->mac > RING_BLOCK - at || f->snaplen > RING_BLOCK - at - f->mac)
			break;
		capture_account(agg, block + at + f->mac, f->snaplen, c->port, from->sll_pkttype == PACKET_OUTGOING,
		                f->sec);
		if (f->next_offset == 0)
			break;
		at += f->next_offset;
	}
	agg_unlock(agg);
}

int capture_drain(struct capture *c, struct agg *agg, unsigned max)
{
	for (unsigned n = 0; c->ring && n < max; n++) {
		uint8_t *block = c->ring + (size_t)c->next * RING_BLOCK;
		uint32_t *status = (uint32_t *)(void *)(block + offsetof(struct ring_block, block_status));
		if (!(__atomic_load_n(status, __ATOMIC_ACQUIRE) & RING_STATUS_USER))
			return 1; /* the kernel's still: nothing more to read */
		account_block(c, agg, block);
		__atomic_store_n(status, 0, __ATOMIC_RELEASE); /* TP_STATUS_KERNEL: the kernel's again */
		c->next = (c->next + 1) % c->blocks;
	}
	return 0;
}

void capture_clear_error(struct capture *c)
{
	int error = 0;
	socklen_t len = sizeof error;
	if (c->fd >= 0)
		(void)get_option(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
}

int capture_wait_block(struct capture *c)
{
	if (!c->ring)
		return 0;
	/* the block after the last one read is the one the kernel fills: a
	 * count of its frames so far, read while it writes, is enough to know
	 * whether any wait */
	const uint8_t *block = c->ring + (size_t)c->next * RING_BLOCK;
	if (__atomic_load_n((const uint32_t *)(const void *)(block + offsetof(struct ring_block, num_pkts)),
	                    __ATOMIC_RELAXED) == 0)
		return 0;
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	return poll(&pfd, 1, 2 * RING_RETIRE_MS + 10) > 0;
}

void capture_housekeeping(struct capture *c, struct agg *agg)
{
	struct tpacket_counts st;
	socklen_t len = sizeof st;
	if (c->fd < 0)
		return;
	/* An interface deleted and made again (a bridge when the network
	 * restarts) has a new index: follow the name. */
	if (c->ifindex) {
		unsigned now_index = if_nametoindex(c->ifname);
		if (now_index && now_index != c->ifindex && bind_to(c->fd, now_index) == 0)
			c->ifindex = now_index;
	}
	if (get_option(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0)
		return;
	agg_lock(agg);
	agg->stats.packets_dropped += st.tp_drops;
	agg_unlock(agg);
}

/* --- accounting ------------------------------------------------------- */

/* The first domain that matches takes the message; with GeoIP, the
 * resolver's country and ASN choose the group. */
static void count_dnstt(struct agg *agg, const struct dnspkt_frame *fr, const struct dnspkt_question *q,
                        uint32_t now)
{
	struct sessions *s = agg->dnstt;
	uint8_t id[DNSTT_ID_LEN];
	size_t n = q->name.text_len;
	if (!n || !sessions_may_end_with(s, (unsigned char)q->name.text[n - 1]))
		return; /* most queries: no domain ends as the name does */
	for (uint32_t d = 0; d < s->ndomains; d++) {
		const struct sessions_domain *dom = &s->domain[d];
		if (!dnstt_may_match(q, dom->name, dom->len) ||
		    dnstt_match_n(q, dom->name, dom->len, id, NULL, NULL) != DNSTT_SESSION)
			continue;
		uint32_t g = 0;
		if (agg->cfg.geoip) {
			char country[3];
			uint32_t asn;
			geoip_lookup(agg->cfg.geoip, fr->family, fr->resolver, country, &asn);
			g = sessions_group(s, d, country, asn);
		}
		sessions_count(s, d, g, q->qr, fr->payload_len, id, now);
		return;
	}
}

void capture_account(struct agg *agg, const uint8_t *frame, size_t len, uint16_t port, int outgoing,
                     uint32_t now)
{
	struct dnspkt_frame fr;
	int status = dnspkt_frame(frame, len, port, &fr);
	if (status == DNSPKT_OK) {
		struct dnspkt_question q;
		status = dnspkt_question(fr.payload, fr.payload_len, &q);
		if (status == DNSPKT_OK && agg->dnstt)
			count_dnstt(agg, &fr, &q, now);
		if (status == DNSPKT_OK && agg->cfg.queries == AGG_QUERIES_PACKETS)
			pktquery_count(agg, &fr, &q, outgoing, now);
	}
	agg->stats.packets[status]++;
}
