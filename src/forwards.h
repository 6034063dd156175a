/*
 * forwards.h - which client queries the resolver forwarded, as the capture
 * saw its own queries leave for its upstream servers (queries = "packets").
 *
 * A fixed table of slots, one a question (name, type): a client's query
 * takes its question's slot and names itself by its exchange key; the
 * resolver's query for the same question, seen going out, marks the slot
 * forwarded; the client's response then finds its slot marked, so its
 * source is "upstream".  A question asked by two clients at once keeps the
 * later one only (dnsmasq joins it to the earlier forward: its reply shows
 * as the resolver's), and two questions sharing a slot lose a mark: either
 * costs a source label, never a count.  O(1) a packet, fixed memory.
 */
#ifndef DNSAGG_FORWARDS_H
#define DNSAGG_FORWARDS_H

#include <stddef.h>
#include <stdint.h>

#define FORWARD_SLOTS 1024u /* a power of two: questions in flight at once */

struct forward_slot {
	uint64_t exchange; /* the exchange key (pktquery.c) of the client query that took the slot */
	uint32_t question; /* forwards_question() of its name and type; 0: empty */
	uint32_t forwarded;
};

struct forwards {
	uint32_t secret; /* so that no client can choose names that share a slot */
	struct forward_slot slot[FORWARD_SLOTS];
};

void forwards_init(struct forwards *f, uint32_t secret);

/* The question's value: the name without regard to case (an upstream query
 * may vary it, as dnsmasq's 0x20 encoding does) and the type. */
uint32_t forwards_question(const struct forwards *f, const char *name, size_t len, uint16_t qtype);

/* A client's query of question, tied to its response by exchange. */
void forwards_query(struct forwards *f, uint32_t question, uint64_t exchange);

/* The resolver's own query of question went out: marks the client query
 * waiting on it; returns 1 if there was one. */
int forwards_sent(struct forwards *f, uint32_t question);

/* The response to the client query (question, exchange): 1 if that query
 * was forwarded.  The slot is freed either way. */
int forwards_answered(struct forwards *f, uint32_t question, uint64_t exchange);

#endif
