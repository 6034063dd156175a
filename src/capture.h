/*
 * capture.h - the raw-socket capture: an AF_PACKET socket whose kernel
 * filter lets through only UDP to or from the DNS port, drained by the
 * reader thread, and the accounting of each captured frame.
 *
 * Owns the socket, the classic BPF program attached to it, its receive
 * queue's size, the kernel's drop counter, and capture_account(): a frame's
 * dnspkt status, for a DNS message under a DNSTT domain the session and
 * byte counts, and with queries = "packets" the client's query or its
 * response (pktquery.c).  One frame buffer is allocated when the capture
 * opens; nothing per packet.
 */
#ifndef DNSAGG_CAPTURE_H
#define DNSAGG_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"

#define CAPTURE_BATCH 4u  /* blocks of the ring read per round of the poll loop */
/* Frames of a block counted under one taking of the lock: its cost (about
 * 50 instructions) shared, and a scrape or a fork waits for at most this
 * many frames (tens of microseconds on the router), never a whole block. */
#define CAPTURE_FRAMES_PER_LOCK 16u
/* The ring (TPACKET_V3, capture.buffer): what a burst can fill while the
 * thread is off the CPU, allocated by the kernel when the capture opens;
 * 4 MiB hold some 20,000 DNS packets, or 3.2 s of them at low rates (see
 * capture.c). */
#define CAPTURE_DEFAULT_BUFFER (4u << 20)
#define CAPTURE_MAX_BUFFER (64u << 20)

struct capture;

/* Opens the socket on ifname (NULL or "": every interface) for UDP port,
 * with a ring of buffer_bytes (rounded up to whole blocks, two at least).
 * Returns NULL and a message in err when it cannot (no CAP_NET_RAW, no
 * such interface, no memory for the ring). */
struct capture *capture_open(const char *ifname, uint16_t port, uint32_t buffer_bytes, char *err,
                             size_t errlen);

/* The ring's size in bytes. */
int capture_buffer_bytes(const struct capture *c);

/* Closes the socket and frees c.  NULL is ignored. */
void capture_close(struct capture *c);

/* Closes the socket and unmaps the ring only (a forked child's copy); c
 * stays to be freed. */
void capture_forget_fd(struct capture *c);

int capture_fd(const struct capture *c);

/* Reads up to max blocks of the ring that the kernel handed over and
 * counts their frames into agg (taking its lock per frame).  Returns 1
 * when none is left now, 0 when more may wait. */
int capture_drain(struct capture *c, struct agg *agg, unsigned max);

/* Reads and so clears the socket's pending error (ENETDOWN when its
 * interface goes down): poll() reports it until then, and nothing else
 * reads the socket. */
void capture_clear_error(struct capture *c);

/* When the block the kernel fills holds frames, waits until it is handed
 * over (50 ms at most after it was opened; 110 ms at most in all): what a
 * sync needs to see every frame captured before it.  1 if one came. */
int capture_wait_block(struct capture *c);

/* Once a second: adds the kernel's drop count (reset by each read) to
 * agg's stats, and binds again to the interface's name if it was made
 * anew under another index. */
void capture_housekeeping(struct capture *c, struct agg *agg);

/* With the lock held: counts one Ethernet frame seen on the DNS port;
 * outgoing: this host sent it (PACKET_OUTGOING). */
void capture_account(struct agg *agg, const uint8_t *frame, size_t len, uint16_t port, int outgoing,
                     uint32_t now);

/*
 * Classic BPF as the kernel takes it (SO_ATTACH_FILTER): the layout of
 * linux/filter.h's struct sock_filter and the opcodes used here, written
 * out because not every C library ships the kernel's headers (musl-gcc).
 */
struct capture_insn {
	uint16_t code;
	uint8_t jt, jf; /* instructions to skip when true, when false */
	uint32_t k;
};

#ifndef BPF_LD
#define BPF_LD 0x00
#define BPF_LDX 0x01
#define BPF_ALU 0x04
#define BPF_JMP 0x05
#define BPF_RET 0x06
#define BPF_MISC 0x07
#define BPF_W 0x00
#define BPF_H 0x08
#define BPF_B 0x10
#define BPF_IMM 0x00
#define BPF_ABS 0x20
#define BPF_IND 0x40
#define BPF_ADD 0x00
#define BPF_LSH 0x60
#define BPF_AND 0x50
#define BPF_JEQ 0x10
#define BPF_JSET 0x40
#define BPF_K 0x00
#define BPF_X 0x08
#define BPF_TAX 0x00
#endif
#ifndef SKF_AD_OFF
#define SKF_AD_OFF (-0x1000)   /* loads of the frame's metadata, not its bytes */
#define SKF_AD_PKTTYPE 4
#define SKF_AD_HATYPE 28
#endif

/* The filter for port: fills prog (room for CAPTURE_BPF_MAX instructions)
 * and returns its length. */
#define CAPTURE_BPF_MAX 48
size_t capture_bpf(struct capture_insn *prog, uint16_t port);

#endif
