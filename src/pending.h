/*
 * pending.h - ties a query to the line that tells its outcome, so that each
 * counted query is classed exactly once by source and result.
 *
 * A fixed ring of slots: in the extra/proto forms a query is found by its
 * serial (and checked against its client); in the plain form, which has no
 * serial, by the hash of its name.  A query is closed as (upstream, none)
 * when its outcome can no longer come: its slot is reused while it is still
 * open, or it has been open PENDING_TIMEOUT seconds.  dnsmasq then logged
 * no outcome for it: the upstream did not answer, or answered in a way that
 * older releases do not log (README, "dnsmasq versions": before 2.86 an MX
 * answer, in 2.80 and 2.85 a TXT one only without serial, before 2.89 a
 * negative answer without SOA).  O(1) per line, fixed memory.
 */
#ifndef DNSAGG_PENDING_H
#define DNSAGG_PENDING_H

#include <stdint.h>

#include "logline.h"

#define PENDING_SLOTS 1024u /* a power of two: queries in flight at once */

/* Seconds a query stays open.  dnsmasq gives up on a UDP query it forwarded
 * after TIMEOUT (10 s, src/config.h of 2.80 to 2.91) and on a TCP one after
 * 5 s to connect and 10 s to answer (TCP_TIMEOUT); above both. */
#define PENDING_TIMEOUT 20u

enum { PENDING_EMPTY = 0, PENDING_OPEN, PENDING_DONE }; /* a slot's state */

struct pending_slot {
	uint64_t key;    /* serial, or name hash in the plain form */
	uint64_t check;  /* client hash (extra form) */
	uint32_t opened; /* the clock (pending.now) when it was opened */
	uint8_t state;
};

struct pending {
	struct pending_slot slot[PENDING_SLOTS];
	uint32_t now;    /* the clock: of the last pending_expire() or pending_step() */
	uint32_t sweep;  /* where the next pending_expire() looks */
};

/* Counts of outcomes, added to by the calls below. */
typedef uint64_t pending_counts[SOURCE_COUNT][RESULT_COUNT];

void pending_init(struct pending *p);

/* A query was seen: open a slot for it, at the clock's time. */
void pending_query(struct pending *p, uint64_t key, uint64_t check, pending_counts counts);

/* pending_query() unless the query (key, check) is open already (a
 * retransmission of it): returns 1 when it opened the query, 0 when it
 * was open (and is left as it was).  One look at the slot for both. */
int pending_query_new(struct pending *p, uint64_t key, uint64_t check, pending_counts counts);

/* The slot of the open query (key, check), or NULL: for a caller that
 * has work to do between finding its query and closing it. */
struct pending_slot *pending_find(struct pending *p, uint64_t key, uint64_t check);

/* Counts the outcome of the query in s, a slot pending_find() returned,
 * and closes it. */
void pending_close(struct pending_slot *s, enum logline_source source, enum logline_result result,
                   pending_counts counts);

/* An outcome was seen: counts it once if its query is open; returns 1 when
 * it was counted, 0 when it belongs to no open query (a later line of the
 * same answer, or a query from before the reader started). */
int pending_outcome(struct pending *p, uint64_t key, uint64_t check, enum logline_source source,
                    enum logline_result result, pending_counts counts);

/* The clock: now is the time of the lines that follow.  Looks at the next
 * n slots of the ring (all of them for n >= PENDING_SLOTS) and closes as
 * (upstream, none) each query there opened PENDING_TIMEOUT seconds or more
 * before now (or as long after it: a clock set back that far). */
void pending_expire(struct pending *p, uint32_t now, unsigned n, pending_counts counts);

/* What each line does: pending_expire(p, now, 1, counts), the slot's
 * check inline (in steady state the slot is closed already).  So the
 * lines alone go round the ring every PENDING_SLOTS lines. */
static inline void pending_step(struct pending *p, uint32_t now, pending_counts counts)
{
	if (p->slot[p->sweep & (PENDING_SLOTS - 1)].state == PENDING_OPEN) {
		pending_expire(p, now, 1, counts);
	} else {
		p->now = now;
		p->sweep++;
	}
}

/* No line will follow (the end of a log file read once): closes every open
 * query as (upstream, none). */
void pending_close_all(struct pending *p, pending_counts counts);

#endif
