/*
 * fuzz_capture.c - the accounting of captured frames: capture_account()
 * (src/capture.c), which runs dnspkt, dnstt and the DNSTT session table
 * (src/sessions.c) of an aggregator, as the reader thread does for each
 * frame, with the session table's once-a-second tick in between.
 *
 * The input is a sequence of records: two bytes of frame length (big-
 * endian), one byte of seconds since the previous frame, then the frame; a
 * record cut short ends the sequence (its bytes, as far as they go, are
 * the last frame).  Each frame is accounted from a heap copy of exactly
 * its length.  Two tunnel domains, one under the other, and a table of
 * MAX_SESSIONS sessions, so that it evicts.  Checked:
 *   - every frame is counted once, under one status;
 *   - the session table stays within MAX_SESSIONS, and the sessions
 *     counted are those in the table plus those evicted;
 *   - no domain has more active sessions than the table holds, nor a peak
 *     below its active count, nor more tunnel queries than DNS frames;
 *   - queries are counted from packets too (queries = "packets"), every
 *     seventh frame as one this host sent: no more queries than DNS frames,
 *     and the (client, domain, type) and client tables within their bounds.
 */
#include "fuzz.h"
#include "agg.h"
#include "capture.h"
#include "sessions.h"

#include <string.h>

#define PORT 53
#define MAX_SESSIONS 4
#define MAX_ENTRIES 4
#define MAX_CLIENTS 2
#define WINDOW 30
#define START 1700000000u

static struct agg *new_agg(void)
{
	struct agg_config cfg = fuzz_agg_config(MAX_ENTRIES, MAX_CLIENTS, 1);
	cfg.capture = 1;
	cfg.queries = AGG_QUERIES_PACKETS;
	cfg.dnstt_domains[0] = "t.example.com";
	cfg.dnstt_domains[1] = "example.com";
	cfg.ndnstt_domains = 2;
	cfg.dnstt_window = WINDOW;
	cfg.dnstt_max_sessions = MAX_SESSIONS;
	return fuzz_agg_new(&cfg);
}

static void check_counts(const struct agg *agg, uint64_t frames)
{
	const struct sessions *s = agg->dnstt;
	uint64_t counted = 0, sessions = 0, queries = 0;

	for (int st = 0; st < DNSPKT_STATUS_COUNT; st++)
		counted += agg->stats.packets[st];
	FUZZ_CHECK(counted == frames);
	FUZZ_CHECK(s->used <= MAX_SESSIONS && s->ndomains == 2);
	for (uint32_t d = 0; d < s->ndomains; d++) {
		const struct sessions_domain *dom = &s->domain[d];
		sessions += dom->n.sessions;
		queries += dom->n.queries;
		FUZZ_CHECK(dom->n.active <= s->used && dom->n.active <= dom->n.peak);
	}
	FUZZ_CHECK(sessions == s->used + s->evictions);
	FUZZ_CHECK(queries <= agg->stats.packets[DNSPKT_OK]);
	FUZZ_CHECK(agg->stats.packet_queries <= agg->stats.packets[DNSPKT_OK]);
	FUZZ_CHECK(agg->entries.used <= MAX_ENTRIES && agg->clients.used <= MAX_CLIENTS);
	FUZZ_CHECK(agg->pool.count <= 3 * MAX_ENTRIES + MAX_CLIENTS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agg *agg = new_agg();
	uint32_t now = START;
	uint64_t frames = 0;
	size_t off = 0;

	while (off < size) {
		size_t len = 0, head = size - off < 3 ? size - off : 3;
		if (head >= 2)
			len = (size_t)data[off] << 8 | data[off + 1];
		if (head == 3)
			now += data[off + 2];
		off += head;
		if (len > size - off)
			len = size - off;
		uint8_t *frame = fuzz_copy(data + off, len);
		agg_lock(agg);
		capture_account(agg, frame, len, PORT, frames % 7 == 6, now);
		agg_unlock(agg);
		agg_tick(agg, now);
		free(frame);
		frames++;
		off += len;
	}
	check_counts(agg, frames);
	agg_free(agg);
	return 0;
}
