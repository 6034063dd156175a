/*
 * pktquery.h - the packet query source (`queries = "packets"`): a client's
 * DNS query seen on the capture socket, counted into the same tables as
 * dnsmasq's `query[TYPE] NAME from CLIENT` log line, with no query log.
 *
 * Owns the text a query becomes, written as dnsmasq writes it so that both
 * sources give the same series: the client's address (as inet_ntop writes
 * it), the name
 * as the client sent it (dnsmasq does not change its case; a label holding a
 * '.' or a byte outside printable ASCII makes it "<name unprintable>"), and
 * the type by dnsmasq's names ("type=N" for a type it has no name for).
 * A response from the resolver's port is the outcome of the query it
 * answers (same client address and port, ID and question), found in the
 * aggregator's fixed ring of pending queries: its result from the RCODE and
 * the first answer, its source "blocked" for a null address and "resolver"
 * otherwise (packets on one side of the resolver cannot tell its cache from
 * its upstream).  Nothing is allocated; the work per packet does not depend
 * on the tables.
 */
#ifndef DNSAGG_PKTQUERY_H
#define DNSAGG_PKTQUERY_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "dnspkt.h"

#define PKTQUERY_TYPE_MAX 12     /* "type=65535" and its NUL */
#define PKTQUERY_CLIENT_MAX 46   /* INET6_ADDRSTRLEN */

/* dnsmasq's name of a query type, *len set to its length: a static text,
 * NUL-terminated, or "type=N" written to buf. */
const char *pktquery_type_text(uint16_t type, char buf[PKTQUERY_TYPE_MAX], size_t *len);

/* The client (the query's source) as text; returns its length. */
size_t pktquery_client_text(const struct dnspkt_frame *fr, char out[PKTQUERY_CLIENT_MAX]);

/* The name's text as dnsmasq logs it: points to name->text or to the
 * static "<name unprintable>"; *len is set to its length. */
const char *pktquery_name_text(const struct dnspkt_name *name, size_t *len);

/* The result class of a response (RCODE, first answer); q is the
 * message's question as dnspkt_question() parsed msg[0..len) (its answers
 * start at q->end); *blocked: that answer is 0.0.0.0 or ::. */
enum logline_result pktquery_result(const uint8_t *msg, size_t len, const struct dnspkt_question *q, int *blocked);

/* With the lock held: fr and q are a frame and its first question as
 * dnspkt parsed them.  Counts a query (QR 0, opcode QUERY, class IN or any)
 * sent to the resolver's port and received, not sent, by this host (the
 * resolver's own queries to its upstream servers go out: they are not a
 * client's). */
void pktquery_count(struct agg *agg, const struct dnspkt_frame *fr, const struct dnspkt_question *q,
                    int outgoing, uint32_t now);

#endif
