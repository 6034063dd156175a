/*
 * dnstt.h - is a DNS question a DNSTT tunnel query, and whose?
 *
 * Owns the DNSTT name layout of DESIGN.md section 4: the tunnel domain as a
 * suffix on a label boundary, the base32 of the labels before it, and the
 * decoded bytes exactly as the upstream client writes them.  Works on a
 * question parsed by dnspkt_question(), so a query and the response that
 * echoes its question give the same answer.  No allocation, no state, no
 * locale.
 */
#ifndef DNSAGG_DNSTT_H
#define DNSAGG_DNSTT_H

#include <stddef.h>
#include <stdint.h>

#include "dnspkt.h"

#define DNSTT_ID_LEN 8 /* the ClientID: the session */

enum dnstt_result {
	DNSTT_OUTSIDE = 0, /* the name is not under the domain (or the domain is not a name) */
	DNSTT_INSIDE,      /* under the domain, or the domain itself, but not a tunnel query:
	                      an ordinary name, a type other than TXT, a class other than IN,
	                      an opcode other than QUERY, or bytes the client would not write */
	DNSTT_SESSION      /* a tunnel query (or a response echoing one) */
};

/*
 * Matches q against domain, a name in lowercase presentation form
 * ("t.example.com"; a trailing dot is allowed).  The suffix is compared
 * label by label, ASCII case-insensitively (resolvers randomise case).
 *
 * This function checks the question's type itself: only opcode QUERY,
 * QTYPE TXT and class IN are sessions.  It does not look at the QR bit, so
 * a response is attributed through the question it echoes.
 *
 * On DNSTT_SESSION, session_id gets the 8-byte ClientID, *payload_len the
 * length of the carried packet (0 for a poll) and *is_poll 1 for a poll, 0
 * for a data query.  On any other result they are left alone.  Each of
 * them may be NULL.
 */
int dnstt_match(const struct dnspkt_question *q, const char *domain, uint8_t session_id[DNSTT_ID_LEN],
                size_t *payload_len, int *is_poll);

/* dnstt_match() for a domain whose length, domain_len (strlen(domain)), is
 * known: the capture's domains, matched against every frame. */
int dnstt_match_n(const struct dnspkt_question *q, const char *domain, size_t domain_len,
                  uint8_t session_id[DNSTT_ID_LEN], size_t *payload_len, int *is_poll);

/* 0 when q's name cannot be under domain (domain_len bytes, no trailing
 * dot): its last character is not the domain's, in either case.  1 tells
 * nothing; dnstt_match_n() decides.  Inline, before the call, for every
 * frame of a name outside the tunnel (most of them). */
static inline int dnstt_may_match(const struct dnspkt_question *q, const char *domain, size_t domain_len)
{
	const struct dnspkt_name *name = &q->name;
	return domain_len > 0 && name->text_len > 0 &&
	       ((unsigned char)name->text[name->text_len - 1] | 0x20) == ((unsigned char)domain[domain_len - 1] | 0x20);
}

#endif
