/*
 * fuzz_dnstt.c - the DNSTT decoder: dnstt_match() (src/dnstt.c) on the
 * question of a DNS message (dnspkt_question()).
 *
 * The input is a DNS message.  Its question is matched against two tunnel
 * domains, and each answer is compared with a reference written here apart
 * from src/dnstt.c, straight from DESIGN.md section 4 and dnstt.c's header
 * comment: the domain's labels compared one by one, the labels before it
 * joined and base32-decoded bit by bit, and the decoded bytes held against
 * the two layouts the client writes.  The two must agree on the result, the
 * session ID, the payload length and poll or data.
 */
#include "fuzz.h"
#include "dnspkt.h"
#include "dnstt.h"

#include <string.h>

#define DECODED_MAX (DNSPKT_NAME_TEXT_MAX * 5 / 8 + 1)

static const char *const DOMAINS[] = { "t.example.com", "example.com." };

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* How many labels of the name come before the domain's, or -1. */
static int ref_labels_before(const struct dnspkt_name *name, const char *domain)
{
	struct dnspkt_label want[DNSPKT_LABELS_MAX + 1];
	int nwant = 0;
	size_t len = strlen(domain), start = 0;

	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (size_t i = 0; i <= len; i++) { /* the domain's labels, left to right */
		if (i < len && domain[i] != '.')
			continue;
		if (i == start || nwant > DNSPKT_LABELS_MAX)
			return -1; /* an empty label: not a name */
		want[nwant].off = (uint8_t)start;
		want[nwant++].len = (uint8_t)(i - start);
		start = i + 1;
	}
	if (nwant > name->nlabels)
		return -1;
	int first = name->nlabels - nwant;
	for (int j = 0; j < nwant; j++) {
		const struct dnspkt_label *have = &name->label[first + j];
		if (have->len != want[j].len)
			return -1;
		for (unsigned k = 0; k < have->len; k++)
			if (lower((unsigned char)name->text[have->off + k]) != lower((unsigned char)domain[want[j].off + k]))
				return -1;
	}
	return first;
}

/* Base32 of the first nlabels labels, joined; the byte count or -1. */
static int ref_base32(const struct dnspkt_name *name, int nlabels, uint8_t out[DECODED_MAX])
{
	static const char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t bit = 0;

	memset(out, 0, DECODED_MAX);
	for (int i = 0; i < nlabels; i++)
		for (unsigned k = 0; k < name->label[i].len; k++) {
			unsigned char c = lower((unsigned char)name->text[name->label[i].off + k]);
			const char *at = c ? memchr(ALPHABET, c, 32) : NULL;
			if (!at)
				return -1;
			for (int b = 4; b >= 0; b--, bit++)
				if ((at - ALPHABET) >> b & 1) {
					if (bit / 8 >= DECODED_MAX)
						return -1;
					out[bit / 8] |= (uint8_t)(0x80 >> bit % 8);
				}
		}
	/* the bits after the last whole byte: fewer than 5, all zero */
	if (bit % 8 >= 5 || (bit % 8 && (bit / 8 >= DECODED_MAX || out[bit / 8] != 0)))
		return -1;
	return (int)(bit / 8);
}

static int reference(const struct dnspkt_question *q, const char *domain, uint8_t id[DNSTT_ID_LEN],
                     size_t *payload_len, int *is_poll)
{
	uint8_t d[DECODED_MAX];
	int before = ref_labels_before(&q->name, domain), n;

	if (before < 0)
		return DNSTT_OUTSIDE;
	if (before == 0 || q->opcode != 0 || q->qtype != 16 || q->qclass != 1)
		return DNSTT_INSIDE;
	n = ref_base32(&q->name, before, d);
	if (n == 17 && d[8] == 0xe8) {
		*is_poll = 1;
		*payload_len = 0;
	} else if (n >= 13 && d[8] == 0xe3 && d[12] >= 1 && d[12] <= 223 && n == 13 + d[12]) {
		*is_poll = 0;
		*payload_len = d[12];
	} else {
		return DNSTT_INSIDE;
	}
	memcpy(id, d, DNSTT_ID_LEN);
	return DNSTT_SESSION;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnspkt_question q;

	if (dnspkt_question(data, size, &q) != DNSPKT_OK)
		return 0;
	for (size_t i = 0; i < sizeof DOMAINS / sizeof DOMAINS[0]; i++) {
		uint8_t id[DNSTT_ID_LEN], ref_id[DNSTT_ID_LEN];
		size_t payload = 999, ref_payload = 999;
		int poll = -1, ref_poll = -1;
		int got = dnstt_match(&q, DOMAINS[i], id, &payload, &poll);
		int want = reference(&q, DOMAINS[i], ref_id, &ref_payload, &ref_poll);

		FUZZ_CHECK(got == want);
		if (got == DNSTT_SESSION) {
			FUZZ_CHECK(memcmp(id, ref_id, DNSTT_ID_LEN) == 0);
			FUZZ_CHECK(payload == ref_payload && poll == ref_poll);
		} else {
			FUZZ_CHECK(payload == 999 && poll == -1); /* left alone */
		}
		FUZZ_CHECK(dnstt_match(&q, DOMAINS[i], NULL, NULL, NULL) == got);
	}
	return 0;
}
