/*
 * fuzz_dnspkt.c - the packet parser: dnspkt_frame() and dnspkt_question()
 * (src/dnspkt.c).
 *
 * The input is taken two ways: as an Ethernet frame captured on port 53
 * (and, when it holds a DNS message, that message's question), and as a
 * DNS message by itself.  Checked:
 *   - every status is one of the enum;
 *   - a frame's payload lies inside the frame and the ports agree with the
 *     direction (a query goes to port 53, a response comes from it);
 *   - a name is what dnspkt.h promises: at most 127 labels, 253 characters
 *     and 255 octets on the wire; the labels follow each other in the text,
 *     joined by single dots, each of 1 to 63 octets; the text is NUL-
 *     terminated at text_len, and "." for the root;
 *   - the question ends inside the message, and an answer's name skipped
 *     from there (dnspkt_skip_name()) ends where reading it would.
 */
#include "fuzz.h"
#include "dnspkt.h"

#include <string.h>

#define PORT 53

static void check_name(const struct dnspkt_name *n)
{
	size_t text = 0, wire = 1;

	FUZZ_CHECK(n->nlabels <= DNSPKT_LABELS_MAX && n->text_len <= DNSPKT_NAME_TEXT_MAX);
	FUZZ_CHECK(n->wire_len >= 1 && n->wire_len <= DNSPKT_NAME_WIRE_MAX);
	FUZZ_CHECK(n->text[n->text_len] == '\0');
	if (n->nlabels == 0) {
		FUZZ_CHECK(n->text_len == 1 && n->text[0] == '.' && n->wire_len == 1);
		return;
	}
	for (unsigned i = 0; i < n->nlabels; i++) {
		const struct dnspkt_label *l = &n->label[i];
		FUZZ_CHECK(l->len >= 1 && l->len <= 63 && l->off == text);
		text += l->len;
		wire += 1u + l->len;
		if (i + 1 < n->nlabels)
			FUZZ_CHECK(n->text[text++] == '.');
	}
	FUZZ_CHECK(text == n->text_len && wire == n->wire_len);
}

/* The name at off read and skipped: the same status, the same end. */
static void check_skip(const uint8_t *msg, size_t len, size_t off)
{
	struct dnspkt_name name;
	size_t read_to = off, skipped_to = off;
	int status = dnspkt_name(msg, len, &read_to, &name);
	FUZZ_CHECK(dnspkt_skip_name(msg, len, &skipped_to) == status);
	if (status == DNSPKT_OK) {
		FUZZ_CHECK(skipped_to == read_to && read_to <= len);
		check_name(&name);
	}
}

static void check_question(const uint8_t *msg, int status, const struct dnspkt_question *q, size_t len)
{
	FUZZ_CHECK(status == DNSPKT_OK || status == DNSPKT_TRUNCATED || status == DNSPKT_MALFORMED);
	if (status != DNSPKT_OK)
		return;
	FUZZ_CHECK(len >= DNSPKT_HEADER_LEN + 1 + 4 && q->qdcount > 0);
	FUZZ_CHECK(q->qr == q->flags >> 15 && q->opcode == (q->flags >> 11 & 0x0f) && q->rcode == (q->flags & 0x0f));
	check_name(&q->name);
	FUZZ_CHECK(q->end >= DNSPKT_HEADER_LEN + 1 + 4 && q->end <= len);
	check_skip(msg, len, q->end);
}

static void check_frame(const uint8_t *frame, size_t len)
{
	struct dnspkt_frame fr;
	struct dnspkt_question q;
	int status = dnspkt_frame(frame, len, PORT, &fr);

	FUZZ_CHECK(status >= 0 && status < DNSPKT_STATUS_COUNT);
	FUZZ_CHECK(strcmp(dnspkt_status_name(status), "unknown") != 0);
	if (status != DNSPKT_OK)
		return;
	FUZZ_CHECK(fr.family == 4 || fr.family == 6);
	FUZZ_CHECK(fuzz_inside(fr.payload, fr.payload_len, frame, len));
	FUZZ_CHECK(fr.src_port == PORT || fr.dst_port == PORT);
	if (fr.src_port != fr.dst_port)
		FUZZ_CHECK(fr.is_response == (fr.src_port == PORT));
	/* the payload read from a copy of exactly its length */
	uint8_t *payload = fuzz_copy(fr.payload, fr.payload_len);
	check_question(payload, dnspkt_question(payload, fr.payload_len, &q), &q, fr.payload_len);
	free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnspkt_question q;

	check_frame(data, size);
	check_question(data, dnspkt_question(data, size, &q), &q, size);
	return 0;
}
