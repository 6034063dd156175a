/*
 * pending.h - ties a query to the line that tells its outcome, so that each
 * counted query is classed exactly once by source and result.
 *
 * A fixed ring of slots: in the extra/proto forms a query is found by its
 * serial (and checked against its client); in the plain form, which has no
 * serial, by the hash of its name.  A slot reused while its query is still
 * open closes that query as (upstream, none): dnsmasq never logged an
 * outcome for it.  O(1) per line, fixed memory.
 */
#ifndef DNSAGG_PENDING_H
#define DNSAGG_PENDING_H

#include <stdint.h>

#include "logline.h"

#define PENDING_SLOTS 1024u /* a power of two: queries in flight at once */

struct pending_slot {
	uint64_t key;    /* serial, or name hash in the plain form */
	uint64_t check;  /* client hash (extra form) */
	uint8_t state;
};

struct pending {
	struct pending_slot slot[PENDING_SLOTS];
};

/* Counts of outcomes, added to by the calls below. */
typedef uint64_t pending_counts[SOURCE_COUNT][RESULT_COUNT];

void pending_init(struct pending *p);

/* Whether the query (key, check) is open: a retransmission of it. */
int pending_is_open(const struct pending *p, uint64_t key, uint64_t check);

/* A query was seen: open a slot for it. */
void pending_query(struct pending *p, uint64_t key, uint64_t check, pending_counts counts);

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

#endif
