/*
 * test_agg.c - unit tests of src/agg.c (struct agg driven directly, with
 * explicit `now` values) and src/expo.c (the text exposition and its
 * escaping).
 */
#include "agg.h"
#include "check.h"
#include "expo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define P "Nov 22 01:41:33 dnsmasq[19222]: "

/* ---- helpers ---- */

static struct agg_config config(void)
{
	struct agg_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.max_entries = 100;
	cfg.max_clients = 50;
	cfg.max_servers = 10;
	cfg.max_leases = 20;
	return cfg;
}

static struct agg *new_agg(const struct agg_config *cfg)
{
	struct agg *agg = agg_new(cfg);
	if (!agg) {
		fprintf(stderr, "agg_new failed\n");
		exit(2);
	}
	return agg;
}

/* Feeds text through a fresh line buffer at time now, then flushes. */
static void feed(struct agg *agg, const char *text, uint32_t now)
{
	struct linebuf lb = { .len = 0 };
	agg_lock(agg);
	agg_feed_bytes(agg, &lb, text, strlen(text), now);
	agg_flush_line(agg, &lb, now);
	agg_unlock(agg);
}

static struct agg_view *view_of(struct agg *agg)
{
	struct agg_view *v = agg_view_new(agg);
	if (!v) {
		fprintf(stderr, "agg_view_new failed\n");
		exit(2);
	}
	return v;
}

/* The row of (client, domain, type) in a view, or NULL. */
static const struct view_row *row_of(const struct agg_view *v, const char *client, const char *domain,
                                     const char *type)
{
	for (uint32_t i = 0; i < v->nrows; i++)
		if (!strcmp(v->rows[i].client, client) && !strcmp(v->rows[i].domain, domain) &&
		    !strcmp(v->rows[i].type, type))
			return &v->rows[i];
	return NULL;
}

static uint64_t count_of(const struct agg_view *v, const char *client, const char *domain, const char *type)
{
	const struct view_row *r = row_of(v, client, domain, type);
	return r ? r->count : 0;
}

static uint64_t replies_total(const struct agg_view *v)
{
	uint64_t sum = 0;
	for (int s = 0; s < SOURCE_COUNT; s++)
		for (int r = 0; r < RESULT_COUNT; r++)
			sum += v->replies[s][r];
	return sum;
}

/* 1 when two views show the same rows in the same order, the same clients,
 * servers, reply classes and line counts. */
static int same_counts(const struct agg_view *a, const struct agg_view *b)
{
	if (a->nrows != b->nrows || a->nclients != b->nclients || a->nservers != b->nservers)
		return 0;
	for (uint32_t i = 0; i < a->nrows; i++)
		if (strcmp(a->rows[i].client, b->rows[i].client) || strcmp(a->rows[i].domain, b->rows[i].domain) ||
		    strcmp(a->rows[i].type, b->rows[i].type) || a->rows[i].count != b->rows[i].count)
			return 0;
	for (uint32_t i = 0; i < a->nclients; i++)
		if (strcmp(a->clients[i].key, b->clients[i].key) || a->clients[i].count != b->clients[i].count)
			return 0;
	for (uint32_t i = 0; i < a->nservers; i++)
		if (strcmp(a->servers[i].key, b->servers[i].key) || a->servers[i].count != b->servers[i].count)
			return 0;
	return memcmp(a->replies, b->replies, sizeof a->replies) == 0 &&
	       memcmp(a->stats.lines, b->stats.lines, sizeof a->stats.lines) == 0 &&
	       a->stats.bytes_read == b->stats.bytes_read;
}

static void temp_file(char *path, const char *text)
{
	strcpy(path, "/tmp/dnsagg-agg-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("temp file");
		exit(2);
	}
	close(fd);
}

static void rewrite_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* ---- line reassembly ---- */

static const char mixed_log[] =
	P "1 10.0.0.1/1000 query[A] a.example from 10.0.0.1\n"
	P "1 10.0.0.1/1000 forwarded a.example to 8.8.8.8\n"
	P "1 10.0.0.1/1000 reply a.example is 1.2.3.4\n"
	P "2 10.0.0.2/1001 query[AAAA] b.example from 10.0.0.2\n"
	P "2 10.0.0.2/1001 cached b.example is 2001:db8::1\n"
	"not a dnsmasq line\n"
	P "3 10.0.0.1/1002 query[A] a.example from 10.0.0.1\n"
	P "3 10.0.0.1/1002 forwarded a.example to 1.1.1.1\n"
	P "3 10.0.0.1/1002 reply a.example is <CNAME>\n"
	P "3 10.0.0.1/1002 reply c.example is 1.2.3.5\n"
	"\n"
	P "query[A] d.example from 10.0.0.3\n"
	P "config d.example is 0.0.0.0\n";

static void test_whole_text_counts(void)
{
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	feed(agg, mixed_log, 1000);
	struct agg_view *v = view_of(agg);

	CHECK_INT(v->nrows, 3);
	CHECK_U64(count_of(v, "10.0.0.1", "a.example", "A"), 2);
	CHECK_U64(count_of(v, "10.0.0.2", "b.example", "AAAA"), 1);
	CHECK_U64(count_of(v, "10.0.0.3", "d.example", "A"), 1);
	CHECK_U64(v->stats.lines[LOGLINE_QUERY], 4);
	CHECK_U64(v->stats.lines[LOGLINE_FORWARDED], 2);
	CHECK_U64(v->stats.lines[LOGLINE_ANSWER], 5);
	CHECK_U64(v->stats.lines[LOGLINE_UNPARSED], 2); /* the foreign line and the empty one */
	CHECK_U64(v->stats.bytes_read, strlen(mixed_log));
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_ADDRESS], 1);
	CHECK_U64(v->replies[SOURCE_CACHE][RESULT_ADDRESS], 1);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_CNAME], 1);
	CHECK_U64(v->replies[SOURCE_BLOCKED][RESULT_ADDRESS], 1);
	CHECK_U64(replies_total(v), 4);
	agg_view_free(v);
	agg_free(agg);
}

static void test_split_at_every_byte_equals_whole(void)
{
	const size_t len = strlen(mixed_log);
	struct agg_config cfg = config();
	struct agg *whole = new_agg(&cfg);
	feed(whole, mixed_log, 1000);
	struct agg_view *want = view_of(whole);
	size_t same = 0, nothing_early = 0;

	for (size_t cut = 0; cut <= len; cut++) {
		struct agg *agg = new_agg(&cfg);
		struct linebuf lb = { .len = 0 };
		agg_lock(agg);
		agg_feed_bytes(agg, &lb, mixed_log, cut, 1000);
		agg_feed_bytes(agg, &lb, mixed_log + cut, len - cut, 1000);
		nothing_early += lb.len == 0; /* the text ends with a newline */
		agg_unlock(agg);
		struct agg_view *got = view_of(agg);
		same += same_counts(got, want);
		agg_view_free(got);
		agg_free(agg);
	}
	CHECK_U64(same, len + 1);
	CHECK_U64(nothing_early, len + 1);

	/* three pieces, cut at two positions a prime apart */
	same = 0;
	for (size_t cut = 0; cut + 37 <= len; cut++) {
		struct agg *agg = new_agg(&cfg);
		struct linebuf lb = { .len = 0 };
		agg_lock(agg);
		agg_feed_bytes(agg, &lb, mixed_log, cut, 1000);
		agg_feed_bytes(agg, &lb, mixed_log + cut, 37, 1000);
		agg_feed_bytes(agg, &lb, mixed_log + cut + 37, len - cut - 37, 1000);
		agg_unlock(agg);
		struct agg_view *got = view_of(agg);
		same += same_counts(got, want);
		agg_view_free(got);
		agg_free(agg);
	}
	CHECK_U64(same, len - 37 + 1);

	/* one byte at a time */
	struct agg *agg = new_agg(&cfg);
	struct linebuf lb = { .len = 0 };
	agg_lock(agg);
	for (size_t i = 0; i < len; i++)
		agg_feed_bytes(agg, &lb, mixed_log + i, 1, 1000);
	agg_unlock(agg);
	struct agg_view *got = view_of(agg);
	CHECK(same_counts(got, want));
	agg_view_free(got);
	agg_free(agg);

	agg_view_free(want);
	agg_free(whole);
}

static void test_overlong_line_counted_once(void)
{
	struct agg_config cfg = config();
	char *text = malloc(3 * LOGLINE_MAX + 200);
	const char next[] = P "query[A] after.example from 10.0.0.1\n";
	size_t n = 3 * LOGLINE_MAX;

	memset(text, 'x', n);
	text[n++] = '\n';
	memcpy(text + n, next, sizeof next);
	n += sizeof next - 1;

	/* at once */
	struct agg *agg = new_agg(&cfg);
	struct linebuf lb = { .len = 0 };
	agg_lock(agg);
	agg_feed_bytes(agg, &lb, text, n, 5);
	agg_unlock(agg);
	struct agg_view *v = view_of(agg);
	CHECK_U64(v->stats.lines[LOGLINE_UNPARSED], 1);
	CHECK_U64(v->stats.lines[LOGLINE_QUERY], 1);
	CHECK_U64(count_of(v, "10.0.0.1", "after.example", "A"), 1);
	agg_view_free(v);
	agg_free(agg);

	/* in pieces of 100 bytes, then flushed: still once */
	agg = new_agg(&cfg);
	memset(&lb, 0, sizeof lb);
	agg_lock(agg);
	for (size_t at = 0; at < n; at += 100)
		agg_feed_bytes(agg, &lb, text + at, n - at < 100 ? n - at : 100, 5);
	agg_flush_line(agg, &lb, 5);
	agg_unlock(agg);
	v = view_of(agg);
	CHECK_U64(v->stats.lines[LOGLINE_UNPARSED], 1);
	CHECK_U64(v->stats.lines[LOGLINE_QUERY], 1);
	CHECK_U64(v->stats.bytes_read, n);
	agg_view_free(v);
	agg_free(agg);

	/* an overlong last line with no newline is not counted again at the flush */
	agg = new_agg(&cfg);
	memset(&lb, 0, sizeof lb);
	agg_lock(agg);
	agg_feed_bytes(agg, &lb, text, LOGLINE_MAX + 1, 5);
	agg_flush_line(agg, &lb, 5);
	agg_unlock(agg);
	v = view_of(agg);
	CHECK_U64(v->stats.lines[LOGLINE_UNPARSED], 1);
	CHECK_INT(lb.len, 0);
	CHECK_INT(lb.overlong, 0);
	agg_view_free(v);
	agg_free(agg);
	free(text);
}

/* A dnsmasq line of n bytes that is not about a query: LOGLINE_OTHER when
 * parsed, so it tells a parsed line from one dropped as overlong. */
static char *other_line(size_t n)
{
	static const char head[] = P "warning: ";
	char *line = malloc(n + 1);
	memset(line, 'y', n);
	memcpy(line, head, sizeof head - 1);
	line[n] = '\n';
	return line;
}

static void test_line_of_exactly_max_is_parsed(void)
{
	struct agg_config cfg = config();
	char *max = other_line(LOGLINE_MAX), *over = other_line(LOGLINE_MAX + 1);
	const char query[] = P "query[A] next.example from 10.0.0.1\n";
	struct agg *agg = new_agg(&cfg);
	struct linebuf lb = { .len = 0 };

	agg_lock(agg);
	agg_feed_bytes(agg, &lb, max, 600, 1); /* reassembled to exactly LOGLINE_MAX */
	agg_feed_bytes(agg, &lb, max + 600, LOGLINE_MAX + 1 - 600, 1);
	CHECK_U64(agg->stats.lines[LOGLINE_OTHER], 1);
	CHECK_U64(agg->stats.lines[LOGLINE_UNPARSED], 0);
	agg_feed_bytes(agg, &lb, max, LOGLINE_MAX + 1, 1); /* at once */
	CHECK_U64(agg->stats.lines[LOGLINE_OTHER], 2);

	agg_feed_bytes(agg, &lb, over, 600, 1); /* one byte more: dropped */
	agg_feed_bytes(agg, &lb, over + 600, LOGLINE_MAX + 2 - 600, 1);
	CHECK_U64(agg->stats.lines[LOGLINE_OTHER], 2);
	CHECK_U64(agg->stats.lines[LOGLINE_UNPARSED], 1);
	agg_feed_bytes(agg, &lb, over, LOGLINE_MAX + 2, 1);
	CHECK_U64(agg->stats.lines[LOGLINE_UNPARSED], 2);

	agg_feed_bytes(agg, &lb, query, sizeof query - 1, 1);
	CHECK_U64(agg->stats.lines[LOGLINE_QUERY], 1);
	CHECK_INT(lb.len, 0);
	CHECK_INT(lb.overlong, 0);
	agg_unlock(agg);
	struct agg_view *v = view_of(agg);
	CHECK_U64(count_of(v, "10.0.0.1", "next.example", "A"), 1);
	agg_view_free(v);
	agg_free(agg);
	free(max);
	free(over);
}

static void test_flush_counts_final_line(void)
{
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	struct linebuf lb = { .len = 0 };
	const char text[] = P "query[A] one.example from 10.0.0.1\n" P "query[MX] two.example from 10.0.0.1";

	agg_lock(agg);
	agg_feed_bytes(agg, &lb, text, sizeof text - 1, 7);
	CHECK_U64(agg->stats.lines[LOGLINE_QUERY], 1); /* the last line waits for its newline */
	agg_flush_line(agg, &lb, 7);
	CHECK_U64(agg->stats.lines[LOGLINE_QUERY], 2);
	agg_flush_line(agg, &lb, 8); /* nothing left */
	CHECK_U64(agg->stats.lines[LOGLINE_QUERY], 2);
	CHECK_U64(agg->stats.lines[LOGLINE_UNPARSED], 0);
	agg_unlock(agg);

	struct agg_view *v = view_of(agg);
	CHECK_U64(count_of(v, "10.0.0.1", "two.example", "MX"), 1);
	agg_view_free(v);
	agg_free(agg);
}

/* ---- reply classes ---- */

static void test_extra_form_reply_classes(void)
{
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	feed(agg,
	     P "1 10.0.0.1/100 query[A] up.example from 10.0.0.1\n"
	     P "1 10.0.0.1/100 forwarded up.example to 8.8.8.8\n"
	     P "1 10.0.0.1/100 reply up.example is 1.2.3.4\n"
	     P "1 10.0.0.1/100 reply up.example is 1.2.3.5\n" /* the same answer's next line */
	     P "2 10.0.0.1/101 query[A] cache.example from 10.0.0.1\n"
	     P "2 10.0.0.1/101 cached cache.example is 1.2.3.4\n"
	     P "3 10.0.0.2/102 query[A] ads.example from 10.0.0.2\n"
	     P "3 10.0.0.2/102 config ads.example is 0.0.0.0\n"
	     P "4 10.0.0.2/103 query[A] nx.lan from 10.0.0.2\n"
	     P "4 10.0.0.2/103 config nx.lan is NXDOMAIN\n"
	     P "5 10.0.0.1/104 query[A] dup.example from 10.0.0.1\n"
	     P "5 10.0.0.1/104 reply query is duplicate\n"
	     P "6 10.0.0.1/105 query[A] other.example from 10.0.0.1\n"
	     P "6 10.0.0.9/105 reply other.example is 1.2.3.4\n" /* another client: not this query */
	     P "7 10.0.0.1/106 reply never.example is 1.2.3.4\n", /* no query seen */
	     10);
	struct agg_view *v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_ADDRESS], 1);
	CHECK_U64(v->replies[SOURCE_CACHE][RESULT_ADDRESS], 1);
	CHECK_U64(v->replies[SOURCE_BLOCKED][RESULT_ADDRESS], 1);
	CHECK_U64(v->replies[SOURCE_LOCAL][RESULT_NXDOMAIN], 1);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_DUPLICATE], 1);
	CHECK_U64(replies_total(v), 5);
	CHECK_U64(v->stats.lines[LOGLINE_DUPLICATE], 1);
	CHECK_U64(v->stats.lines[LOGLINE_ANSWER], 7);
	agg_view_free(v);

	/* query 6 is still open: its answer from the right client counts */
	feed(agg, P "6 10.0.0.1/105 reply other.example is NODATA-IPv4\n", 11);
	v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NODATA], 1);
	CHECK_U64(replies_total(v), 6);
	agg_view_free(v);

	/* a serial whose slot is reused while still open: (upstream, none) */
	feed(agg,
	     P "7 10.0.0.1/107 query[A] lost.example from 10.0.0.1\n"
	     P "1031 10.0.0.1/108 query[A] next.example from 10.0.0.1\n", 12);
	v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NONE], 1);
	CHECK_U64(replies_total(v), 7);
	agg_view_free(v);
	agg_free(agg);
}

static void test_plain_form_ties_by_name(void)
{
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	feed(agg,
	     P "query[A] p.example from 10.0.0.1\n"
	     P "forwarded p.example to 8.8.8.8\n"
	     P "reply p.example is <CNAME>\n"
	     P "reply target.example is 1.2.3.4\n" /* the chain's next line: another name */
	     P "reply p.example is 1.2.3.4\n"      /* already counted */
	     P "query[AAAA] q.example from 10.0.0.2\n"
	     P "cached q.example is NODATA-IPv6\n"
	     P "reply unrelated.example is 1.2.3.4\n"
	     P "query[A] r.example from 10.0.0.2\n"
	     P "reply query is duplicate\n", /* the plain form cannot tell which query */
	     20);
	struct agg_view *v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_CNAME], 1);
	CHECK_U64(v->replies[SOURCE_CACHE][RESULT_NODATA], 1);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_DUPLICATE], 0);
	CHECK_U64(replies_total(v), 2);
	CHECK_U64(v->stats.lines[LOGLINE_DUPLICATE], 1);
	agg_view_free(v);

	feed(agg, P "config r.example is ::\n", 21);
	v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_BLOCKED][RESULT_ADDRESS], 1);
	CHECK_U64(replies_total(v), 3);
	agg_view_free(v);
	agg_free(agg);
}

/* Lines of dnsmasq 2.80 (log-queries=extra, dig against it, upstream on
 * 127.0.0.2): the MX query's reply is never logged, the TXT one's is
 * logged without serial or client, and the last query went to a server
 * that never answered. */
#define D280 "Dec  2 09:13:09 dnsmasq[20449]: "
static const char log_280[] =
	D280 "3 127.0.0.11/38901 query[AAAA] example.org from 127.0.0.11\n"
	D280 "3 127.0.0.11/38901 forwarded example.org to 127.0.0.2\n"
	D280 "3 127.0.0.11/38901 reply example.org is 2001:db8::9\n"
	D280 "4 127.0.0.11/51858 query[MX] example.org from 127.0.0.11\n"
	D280 "4 127.0.0.11/51858 forwarded example.org to 127.0.0.2\n"
	D280 "5 127.0.0.11/54647 query[TXT] example.org from 127.0.0.11\n"
	D280 "5 127.0.0.11/54647 forwarded example.org to 127.0.0.2\n"
	D280 "reply example.org is hello\n"
	D280 "6 127.0.0.11/51295 query[type=65] example.org from 127.0.0.11\n"
	D280 "6 127.0.0.11/51295 forwarded example.org to 127.0.0.2\n"
	D280 "6 127.0.0.11/51295 reply error is REFUSED\n"
	D280 "17 127.0.0.11/37971 query[A] x.dead.test from 127.0.0.11\n"
	D280 "17 127.0.0.11/37971 forwarded x.dead.test to 127.0.0.3\n";

static uint64_t queries_total(const struct agg_view *v)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < v->nclients; i++)
		sum += v->clients[i].count;
	return sum;
}

/* A query whose outcome is never logged is closed as (upstream, none)
 * PENDING_TIMEOUT seconds after it, by the reader's sweep of the ring
 * (agg_tick): then every query has its one reply class. */
static void test_unlogged_replies_expire(void)
{
	const uint32_t t = 5000;
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	feed(agg, log_280, t);
	struct agg_view *v = view_of(agg);
	CHECK_U64(queries_total(v), 5);
	CHECK_U64(v->stats.lines[LOGLINE_UNPARSED], 0);
	CHECK_U64(v->stats.lines[LOGLINE_ANSWER], 3);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_ADDRESS], 1);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_ERROR], 1);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_RECORD], 0); /* the TXT line names no query */
	CHECK_U64(replies_total(v), 2);
	agg_view_free(v);

	agg_tick(agg, t + PENDING_TIMEOUT - 1);
	v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NONE], 0);
	agg_view_free(v);

	agg_tick(agg, t + PENDING_TIMEOUT);
	v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NONE], 3); /* MX, TXT, x.dead.test */
	CHECK_U64(replies_total(v), queries_total(v));
	agg_view_free(v);

	/* a reply logged after that counts nothing more */
	feed(agg, D280 "17 127.0.0.11/37971 reply x.dead.test is 10.0.0.9\n", t + PENDING_TIMEOUT + 1);
	v = view_of(agg);
	CHECK_U64(replies_total(v), 5);
	agg_view_free(v);
	agg_free(agg);
}

/* Without the reader's sweep (agg:feed, a log file read once) the lines
 * sweep the ring themselves, a slot each (pending_step): the same queries
 * are closed once enough later lines have passed. */
static void test_lines_sweep_the_ring(void)
{
	const uint32_t t = 7000;
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	feed(agg, log_280, t);
	const char *other = D280 "using nameserver 127.0.0.2#35353\n";
	size_t n = PENDING_SLOTS, len = strlen(other);
	char *later = malloc(n * len + 1);
	CHECK(later != NULL);
	if (!later)
		exit(2);
	for (size_t i = 0; i < n; i++)
		memcpy(later + i * len, other, len);
	later[n * len] = '\0';
	feed(agg, later, t + PENDING_TIMEOUT - 1); /* not yet */
	struct agg_view *v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NONE], 0);
	agg_view_free(v);
	feed(agg, later, t + PENDING_TIMEOUT);
	v = view_of(agg);
	CHECK_U64(v->stats.lines[LOGLINE_OTHER], 2 * n);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NONE], 3);
	CHECK_U64(replies_total(v), queries_total(v));
	agg_view_free(v);
	free(later);

	/* the plain form (dnsmasq 2.80, log-queries): tied by name, expired the same */
	feed(agg,
	     "Dec  2 09:16:29 dnsmasq[1607]: query[A] x.dead.test from 127.0.0.11\n"
	     "Dec  2 09:16:29 dnsmasq[1607]: forwarded x.dead.test to 127.0.0.3\n", t + 100);
	agg_tick(agg, t + 100 + PENDING_TIMEOUT);
	v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NONE], 4);
	CHECK_U64(replies_total(v), queries_total(v));
	agg_view_free(v);
	agg_free(agg);
}

/* The packet source's queries (agg_count_query_of, then pending_query as
 * src/pktquery.c opens them) expire the same way. */
static void test_packet_queries_expire(void)
{
	const uint32_t t = 9000;
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	struct logline_span client = { "10.0.0.7", 8 }, name = { "slow.example", 12 }, type = { "A", 1 };
	agg_lock(agg);
	agg_count_query_of(agg, agg_stored_client(agg, client), name, hash_fast(name.ptr, name.len), NULL, type, NULL, t);
	pending_query(&agg->pending, 0x1234, 99, agg->replies);
	agg_unlock(agg);
	agg_tick(agg, t + PENDING_TIMEOUT - 1);
	agg_lock(agg);
	CHECK(pending_find(&agg->pending, 0x1234, 99) != NULL);
	agg_unlock(agg);
	agg_tick(agg, t + PENDING_TIMEOUT);
	struct agg_view *v = view_of(agg);
	CHECK_U64(v->replies[SOURCE_UPSTREAM][RESULT_NONE], 1);
	CHECK_U64(replies_total(v), queries_total(v));
	agg_view_free(v);
	agg_free(agg);
}

/* The blocked queries' table: each blocked query once, by client and name;
 * other outcomes and lines of no open query add nothing. */
static void test_blocked_table(void)
{
	struct agg_config cfg = config();
	cfg.max_blocked = 2;
	struct agg *agg = new_agg(&cfg);
	feed(agg,
	     P "1 10.0.0.1/100 query[A] ads.example from 10.0.0.1\n"
	     P "1 10.0.0.1/100 config ads.example is 0.0.0.0\n"
	     P "1 10.0.0.1/100 config ads.example is 0.0.0.0\n" /* the answer's next line: counted already */
	     P "2 10.0.0.1/101 query[AAAA] ads.example from 10.0.0.1\n"
	     P "2 10.0.0.1/101 config ads.example is ::\n"
	     P "3 10.0.0.2/102 query[A] ads.example from 10.0.0.2\n"
	     P "3 10.0.0.2/102 config ads.example is 0.0.0.0\n"
	     P "4 10.0.0.2/103 query[A] ok.example from 10.0.0.2\n"
	     P "4 10.0.0.2/103 config ok.example is 10.1.1.1\n"   /* local, not blocked */
	     P "9 10.0.0.3/109 config late.example is 0.0.0.0\n", /* no query open */
	     30);
	struct agg_view *v = view_of(agg);
	CHECK_INT(v->nblocked, 2);
	CHECK_U64(v->replies[SOURCE_BLOCKED][RESULT_ADDRESS], 3);
	for (uint32_t i = 0; i < v->nblocked; i++) {
		CHECK_STR(v->blocked[i].domain, "ads.example");
		CHECK_STR(v->blocked[i].type, "");
		CHECK_U64(v->blocked[i].count, strcmp(v->blocked[i].client, "10.0.0.1") == 0 ? 2 : 1);
		CHECK_INT(v->blocked[i].first_seen, 30);
	}
	CHECK_STR(v->blocked[0].client, "10.0.0.2"); /* newest first */
	CHECK_U64(v->blocked_evictions, 0);
	agg_view_free(v);

	/* a third key evicts the least recent; the plain form has no client */
	feed(agg, P "query[A] tracker.example from 10.0.0.4\n" P "config tracker.example is 0.0.0.0\n", 31);
	v = view_of(agg);
	CHECK_INT(v->nblocked, 2);
	CHECK_STR(v->blocked[0].client, "");
	CHECK_STR(v->blocked[0].domain, "tracker.example");
	CHECK_STR(v->blocked[1].client, "10.0.0.2");
	CHECK_U64(v->blocked_evictions, 1);
	agg_view_free(v);
	agg_free(agg);
}

/* The unix time of a local date and time. */
static uint32_t local_time(int year, int month, int day, int hour, int minute, int second)
{
	struct tm tm = { 0 };
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	tm.tm_isdst = -1;
	return (uint32_t)mktime(&tm);
}

/* A log read after the fact (line_times): each line is counted at its own
 * stamp, in local time, with the year of `now` or the one before. */
static void test_line_times(void)
{
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	struct linebuf lb = { .len = 0, .line_times = 1 };
	uint32_t now = local_time(2026, 1, 2, 12, 0, 0);
	const char text[] = "Dec 31 23:59:58 dnsmasq[1]: query[A] old.example from 10.0.0.1\n"
	                    "Jan  2 11:00:00 dnsmasq[1]: query[A] old.example from 10.0.0.1\n"
	                    "Jan  2 11:00:00 dnsmasq[1]: query[A] new.example from 10.0.0.1\n"
	                    "Fri Jan  2 11:30:00 2026 daemon.info dnsmasq[1]: query[A] new.example from 10.0.0.1\n"
	                    "query[A] bare.example from 10.0.0.1\n"; /* no stamp: now */
	agg_lock(agg);
	agg_feed_bytes(agg, &lb, text, sizeof text - 1, now);
	agg_unlock(agg);

	struct agg_view *v = view_of(agg);
	const struct view_row *old = row_of(v, "10.0.0.1", "old.example", "A");
	const struct view_row *fresh = row_of(v, "10.0.0.1", "new.example", "A");
	const struct view_row *bare = row_of(v, "10.0.0.1", "bare.example", "A");
	CHECK(old && fresh && bare);
	if (old && fresh && bare) {
		CHECK_INT(old->first_seen, local_time(2025, 12, 31, 23, 59, 58));
		CHECK_INT(old->last_seen, now - 3600);
		CHECK_INT(fresh->first_seen, now - 3600);
		CHECK_INT(fresh->last_seen, now - 1800);
		CHECK_INT(bare->last_seen, now);
	}
	agg_view_free(v);

	/* without line_times (the FIFO) every line is counted at now */
	const char live[] = "Dec 31 23:59:58 dnsmasq[1]: query[A] live.example from 10.0.0.1\n";
	struct linebuf fifo = { .len = 0 };
	agg_lock(agg);
	agg_feed_bytes(agg, &fifo, live, sizeof live - 1, now);
	agg_unlock(agg);
	v = view_of(agg);
	const struct view_row *r = row_of(v, "10.0.0.1", "live.example", "A");
	CHECK(r && r->first_seen == now);
	agg_view_free(v);
	agg_free(agg);
}

/* ---- views ---- */

static void test_view_rows_newest_first_with_times(void)
{
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	feed(agg, P "query[A] a.example from 10.0.0.1\n", 100);
	feed(agg, P "forwarded a.example to 8.8.8.8\n", 150);
	feed(agg, P "query[AAAA] b.example from 10.0.0.2\n", 200);
	feed(agg, P "forwarded b.example to 1.1.1.1\n", 250);
	feed(agg, P "query[A] a.example from 10.0.0.1\n", 300);
	feed(agg, P "forwarded a.example to 8.8.8.8\n", 350);
	feed(agg, P "query[A] c.example from 10.0.0.2\n", 400);
	struct agg_view *v = view_of(agg);

	CHECK_INT(v->nrows, 3);
	if (v->nrows == 3) {
		CHECK_STR(v->rows[0].domain, "c.example");
		CHECK_STR(v->rows[0].client, "10.0.0.2");
		CHECK_STR(v->rows[0].type, "A");
		CHECK_U64(v->rows[0].count, 1);
		CHECK_INT(v->rows[0].first_seen, 400);
		CHECK_INT(v->rows[0].last_seen, 400);
		CHECK_STR(v->rows[1].domain, "a.example");
		CHECK_STR(v->rows[1].client, "10.0.0.1");
		CHECK_U64(v->rows[1].count, 2);
		CHECK_INT(v->rows[1].first_seen, 100);
		CHECK_INT(v->rows[1].last_seen, 300);
		CHECK_STR(v->rows[2].domain, "b.example");
		CHECK_STR(v->rows[2].type, "AAAA");
		CHECK_U64(v->rows[2].count, 1);
		CHECK_INT(v->rows[2].first_seen, 200);
		CHECK_INT(v->rows[2].last_seen, 200);
	}
	CHECK_INT(v->nclients, 2);
	if (v->nclients == 2) {
		CHECK_STR(v->clients[0].key, "10.0.0.2");
		CHECK_U64(v->clients[0].count, 2);
		CHECK_INT(v->clients[0].first_seen, 200);
		CHECK_INT(v->clients[0].last_seen, 400);
		CHECK_STR(v->clients[1].key, "10.0.0.1");
		CHECK_U64(v->clients[1].count, 2);
		CHECK_INT(v->clients[1].first_seen, 100);
		CHECK_INT(v->clients[1].last_seen, 300);
	}
	CHECK_INT(v->nservers, 2);
	if (v->nservers == 2) {
		CHECK_STR(v->servers[0].key, "8.8.8.8");
		CHECK_U64(v->servers[0].count, 2);
		CHECK_INT(v->servers[0].first_seen, 150);
		CHECK_INT(v->servers[0].last_seen, 350);
		CHECK_STR(v->servers[1].key, "1.1.1.1");
		CHECK_U64(v->servers[1].count, 1);
		CHECK_INT(v->servers[1].last_seen, 250);
	}
	CHECK(v->memory_bytes > 0);
	CHECK(v->memory_bytes >= sizeof(struct agg) + agg->pool.bytes);
	CHECK_INT(v->cfg.max_entries, 100);
	CHECK_U64(v->entry_evictions, 0);
	CHECK_U64(v->client_evictions, 0);
	CHECK(v->leases == NULL);
	CHECK(view_lease(v, "10.0.0.1") == NULL);
	CHECK(v->agg == agg);
	agg_view_free(v);
	agg_free(agg);
}

static void test_view_is_a_copy(void)
{
	struct agg_config cfg = config();
	cfg.max_entries = 2;
	cfg.max_clients = 1;
	struct agg *agg = new_agg(&cfg);
	feed(agg, P "query[A] a.example from 10.0.0.1\n", 1);
	struct agg_view *before = view_of(agg);
	feed(agg, P "query[A] b.example from 10.0.0.2\n" P "query[A] c.example from 10.0.0.3\n", 2);
	struct agg_view *after = view_of(agg);

	/* the earlier view still shows what it copied, though a.example was evicted */
	CHECK_INT(before->nrows, 1);
	CHECK_STR(before->rows[0].domain, "a.example");
	CHECK_INT(after->nrows, 2);
	CHECK_STR(after->rows[0].domain, "c.example");
	CHECK_STR(after->rows[1].domain, "b.example");
	CHECK_U64(after->entry_evictions, 1);
	CHECK_INT(after->nclients, 1);
	CHECK_STR(after->clients[0].key, "10.0.0.3");
	CHECK_U64(after->client_evictions, 2);
	CHECK(strpool_find(&agg->pool, "a.example", 9) == NULL); /* the agg let go of it */
	CHECK(strpool_find(&agg->pool, "10.0.0.1", 8) == NULL);
	CHECK_INT(agg->pool.count, 5); /* b.example, c.example, A, 10.0.0.2, 10.0.0.3 */
	agg_view_free(before);
	agg_view_free(after);
	agg_free(agg);
}

static void test_leases_joined_in_views(void)
{
	char path[64];
	struct agg_config cfg = config();
	temp_file(path, "1700000000 AA:BB:CC:DD:EE:01 10.0.0.1 laptop *\n"
	                "0 aa:bb:cc:dd:ee:02 10.0.0.2 * *\n"
	                "bad line\n");
	cfg.lease_files[0] = path;
	cfg.nlease_files = 1;
	struct agg *agg = new_agg(&cfg);

	CHECK_INT(agg_refresh_leases(agg), 1);
	CHECK_INT(agg_refresh_leases(agg), 0); /* unchanged */
	struct agg_view *old = view_of(agg);
	const struct lease *l1 = view_lease(old, "10.0.0.1");
	CHECK(l1 != NULL);
	if (l1) {
		CHECK_STR(l1->hostname, "laptop");
		CHECK_STR(l1->mac, "aa:bb:cc:dd:ee:01");
	}
	CHECK_STR(view_lease(old, "10.0.0.2") ? view_lease(old, "10.0.0.2")->hostname : NULL, "");
	CHECK(view_lease(old, "10.0.0.3") == NULL);
	CHECK_U64(old->stats.lease_reloads, 1);
	CHECK_U64(old->stats.lease_bad_lines, 1);
	CHECK_INT(old->leases->count, 2);

	rewrite_file(path, "1700000000 aa:bb:cc:dd:ee:01 10.0.0.1 desktop-renamed *\n");
	CHECK_INT(agg_refresh_leases(agg), 1);
	struct agg_view *fresh = view_of(agg);
	CHECK_STR(view_lease(fresh, "10.0.0.1") ? view_lease(fresh, "10.0.0.1")->hostname : NULL,
	          "desktop-renamed");
	CHECK(view_lease(fresh, "10.0.0.2") == NULL);
	CHECK_U64(fresh->stats.lease_reloads, 2);
	CHECK_U64(fresh->stats.lease_bad_lines, 0);
	/* the older view keeps the map it took */
	CHECK_STR(view_lease(old, "10.0.0.1") ? view_lease(old, "10.0.0.1")->hostname : NULL, "laptop");
	CHECK_INT(old->leases->refs, 1);
	CHECK_INT(fresh->leases->refs, 2); /* the agg's and this view's */
	agg_view_free(old);

	/* a file being written (cut mid-line) keeps the map in use */
	rewrite_file(path, "1700000000 aa:bb:cc:dd:ee:01 10.0.0.1 half");
	CHECK_INT(agg_refresh_leases(agg), 0);
	struct agg_view *kept = view_of(agg);
	CHECK(kept->leases == fresh->leases);
	CHECK_U64(kept->stats.lease_reloads, 2);
	agg_view_free(kept);
	agg_view_free(fresh);

	unlink(path); /* a missing file: an empty map */
	CHECK_INT(agg_refresh_leases(agg), 1);
	struct agg_view *empty = view_of(agg);
	CHECK(empty->leases != NULL && empty->leases->count == 0);
	CHECK(view_lease(empty, "10.0.0.1") == NULL);
	agg_view_free(empty);
	agg_free(agg);

	/* an agg without lease files never loads any */
	struct agg_config none = config();
	agg = new_agg(&none);
	CHECK_INT(agg_refresh_leases(agg), 0);
	agg_free(agg);
}

/* ---- expo ---- */

/* 1 when text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static int occurrences(const char *text, const char *part)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, part)) != NULL; p += strlen(part))
		n++;
	return n;
}

/* Checks the shape of an exposition: every family has one HELP and one TYPE
 * line, before its samples, and samples follow only their own family.
 * Returns the number of families, or -1. */
static int families_well_formed(const char *text)
{
	char names[64][64], current[64] = "";
	int n = 0;
	for (const char *p = text; *p; ) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			return -1;
		size_t len = (size_t)(eol - p);
		char line[512];
		if (len >= sizeof line)
			return -1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (!strncmp(line, "# HELP ", 7)) {
			if (sscanf(line + 7, "%63s", current) != 1 || n == 64)
				return -1;
			for (int i = 0; i < n; i++)
				if (!strcmp(names[i], current))
					return -1; /* a family twice */
			strcpy(names[n++], current);
		} else if (!strncmp(line, "# TYPE ", 7)) {
			char name[64], type[16];
			if (sscanf(line + 7, "%63s %15s", name, type) != 2 || strcmp(name, current) ||
			    (strcmp(type, "counter") && strcmp(type, "gauge")))
				return -1;
		} else {
			size_t name_len = strcspn(line, "{ ");
			if (!current[0] || name_len != strlen(current) || strncmp(line, current, name_len))
				return -1;
		}
		p = eol + 1;
	}
	return n;
}

static struct agg *expo_agg(char *lease_path)
{
	static struct agg_config cfg;
	cfg = config();
	temp_file(lease_path, "1700000000 aa:bb:cc:dd:ee:ff 10.0.0.2 phone *\n"
	                      "0 aa:bb:cc:dd:ee:00 10.0.0.50 * *\n");
	cfg.lease_files[0] = lease_path;
	cfg.nlease_files = 1;
	struct agg *agg = new_agg(&cfg);
	agg_refresh_leases(agg);
	feed(agg,
	     P "1 10.0.0.1/100 query[A] a.example from 10.0.0.1\n"
	     P "1 10.0.0.1/100 forwarded a.example to 8.8.8.8\n"
	     P "1 10.0.0.1/100 reply a.example is 1.2.3.4\n"
	     P "2 10.0.0.1/101 query[A] a.example from 10.0.0.1\n"
	     P "2 10.0.0.1/101 cached a.example is 1.2.3.4\n"
	     P "3 10.0.0.2/102 query[AAAA] b.example from 10.0.0.2\n"
	     P "3 10.0.0.2/102 config b.example is NXDOMAIN\n"
	     "garbage\n",
	     1000);
	return agg;
}

static void test_expo_render_lines(void)
{
	char lease_path[64], memory[64];
	struct agg *agg = expo_agg(lease_path);
	struct agg_view *v = view_of(agg);
	struct buf out = { 0 };
	expo_render(v, &out);
	CHECK(!out.failed && out.data != NULL);
	const char *t = out.data ? out.data : "";

	CHECK(has_line(t, "dnsmasq_queries_total{client=\"10.0.0.1\",hostname=\"\",domain=\"a.example\",type=\"A\"} 2"));
	CHECK(has_line(t, "dnsmasq_queries_total{client=\"10.0.0.2\",hostname=\"phone\",domain=\"b.example\",type=\"AAAA\"} 1"));
	CHECK(has_line(t, "dnsmasq_client_queries_total{client=\"10.0.0.1\",hostname=\"\",mac=\"\"} 2"));
	CHECK(has_line(t, "dnsmasq_client_queries_total{client=\"10.0.0.2\",hostname=\"phone\",mac=\"aa:bb:cc:dd:ee:ff\"} 1"));
	CHECK(has_line(t, "dnsmasq_replies_total{source=\"upstream\",result=\"address\"} 1"));
	CHECK(has_line(t, "dnsmasq_replies_total{source=\"cache\",result=\"address\"} 1"));
	CHECK(has_line(t, "dnsmasq_replies_total{source=\"local\",result=\"nxdomain\"} 1"));
	CHECK_INT(occurrences(t, "\ndnsmasq_replies_total{"), 3); /* zero classes are left out */
	CHECK(has_line(t, "dnsmasq_forwarded_total{server=\"8.8.8.8\"} 1"));
	CHECK(has_line(t, "dnsmasq_lease_expiry_timestamp_seconds{client=\"10.0.0.2\",mac=\"aa:bb:cc:dd:ee:ff\",hostname=\"phone\"} 1700000000"));
	CHECK(has_line(t, "dnsmasq_lease_expiry_timestamp_seconds{client=\"10.0.0.50\",mac=\"aa:bb:cc:dd:ee:00\",hostname=\"\"} +Inf"));
	CHECK(has_line(t, "dnsagg_lines_total{kind=\"query\"} 3"));
	CHECK(has_line(t, "dnsagg_lines_total{kind=\"answer\"} 3"));
	CHECK(has_line(t, "dnsagg_lines_total{kind=\"forwarded\"} 1"));
	CHECK(has_line(t, "dnsagg_lines_total{kind=\"unparsed\"} 1"));
	CHECK(has_line(t, "dnsagg_lines_total{kind=\"duplicate\"} 0"));
	CHECK(has_line(t, "dnsagg_table_entries 2"));
	CHECK(has_line(t, "dnsagg_table_capacity 100"));
	CHECK(has_line(t, "# TYPE dnsmasq_blocked_queries_total counter"));
	CHECK_INT(occurrences(t, "\ndnsmasq_blocked_queries_total{"), 0); /* nothing blocked */
	CHECK(has_line(t, "dnsagg_blocked_evictions_total 0"));
	CHECK(has_line(t, "dnsagg_clients 2"));
	CHECK(has_line(t, "dnsagg_clients_capacity 50"));
	CHECK(has_line(t, "dnsagg_leases 2"));
	CHECK(has_line(t, "dnsagg_lease_reloads_total 1"));
	CHECK(has_line(t, "dnsagg_lease_bad_lines 0"));
	snprintf(memory, sizeof memory, "dnsagg_memory_bytes %zu", v->memory_bytes);
	CHECK(has_line(t, memory));
	CHECK(has_line(t, "# TYPE dnsmasq_queries_total counter"));
	CHECK(has_line(t, "# HELP dnsmasq_queries_total DNS queries by client, domain and query type, for the most recently seen keys."));
	CHECK(has_line(t, "# TYPE dnsmasq_lease_expiry_timestamp_seconds gauge"));
	CHECK(strncmp(t, "# HELP dnsmasq_queries_total ", 29) == 0); /* the first family */
	CHECK_INT(occurrences(t, "dnsagg_fifo_"), 0); /* no FIFO configured */

	/* one HELP and one TYPE per family, and nothing out of its family */
	CHECK_INT(families_well_formed(t), 20);
	CHECK_INT(occurrences(t, "# HELP "), 20);
	CHECK_INT(occurrences(t, "# TYPE "), 20);
	CHECK_INT(occurrences(t, "# TYPE dnsmasq_queries_total "), 1);
	CHECK_INT(occurrences(t, "# HELP dnsmasq_queries_total "), 1);
	CHECK(t[0] && t[strlen(t) - 1] == '\n');

	buf_free(&out);
	agg_view_free(v);
	agg_free(agg);
	unlink(lease_path);
}

static void test_expo_render_empty_with_fifo(void)
{
	struct agg_config cfg = config();
	struct agg *agg = new_agg(&cfg);
	agg->stats.fifo = FIFO_OPEN;
	agg->stats.fifo_opens = 1;
	agg->stats.fifo_buffer_bytes = 1048576;
	struct agg_view *v = view_of(agg);
	struct buf out = { 0 };
	expo_render(v, &out);
	const char *t = out.data ? out.data : "";

	CHECK_INT(occurrences(t, "\ndnsmasq_queries_total"), 0);
	CHECK(has_line(t, "# TYPE dnsmasq_queries_total counter")); /* families shown even empty */
	CHECK(has_line(t, "dnsagg_fifo_up 1"));
	CHECK(has_line(t, "dnsagg_fifo_opens_total 1"));
	CHECK(has_line(t, "dnsagg_fifo_buffer_bytes 1048576"));
	CHECK(has_line(t, "dnsagg_dnsmasq_reopen_signals_total 0"));
	CHECK(has_line(t, "dnsagg_table_entries 0"));
	CHECK_INT(occurrences(t, "dnsagg_leases"), 0); /* no lease files configured */
	CHECK_INT(families_well_formed(t), 21);
	buf_free(&out);
	agg_view_free(v);
	agg_free(agg);
}

/* expo_escape(in) appended to an empty buffer equals want[0..want_len). */
static void check_escape(const char *in, const char *want)
{
	struct buf out = { 0 };
	expo_escape(&out, in);
	const char *got = out.data ? out.data : "";
	if (out.len == strlen(want) && memcmp(got, want, out.len) == 0) {
		check_passed++;
	} else {
		check_failed++;
		fprintf(stderr, "expo_escape(\"%s\") == \"%.*s\", want \"%s\"\n", in, (int)out.len, got, want);
	}
	buf_free(&out);
}

static void test_expo_escape(void)
{
	check_escape("", "");
	check_escape("plain.example", "plain.example");
	check_escape("a\"b", "a\\\"b");
	check_escape("a\\b", "a\\\\b");
	check_escape("a\nb", "a\\nb");
	check_escape("\\\"\n", "\\\\\\\"\\n");
	check_escape("tab\there", "tab\there");               /* other control bytes kept */
	check_escape("caf\xc3\xa9", "caf\xc3\xa9");           /* 2-byte UTF-8 */
	check_escape("\xe2\x82\xac 5", "\xe2\x82\xac 5");     /* 3-byte */
	check_escape("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!"); /* 4-byte */
	check_escape("\xef\xbf\xbd", "\xef\xbf\xbd");          /* U+FFFD itself */
	check_escape("a\xff" "b", "a\xef\xbf\xbd" "b");
	check_escape("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd");  /* truncated at the end */
	check_escape("\xe2\x82x", "\xef\xbf\xbd\xef\xbf\xbdx"); /* truncated before ASCII */
	check_escape("\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd");  /* overlong NUL */
	check_escape("\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* overlong '/' */
	check_escape("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	check_escape("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* > U+10FFFF */
	check_escape("\x80", "\xef\xbf\xbd");                  /* a lone continuation byte */
	check_escape("x\xc3\"", "x\xef\xbf\xbd\\\"");          /* a lead byte then a quote */
}

/* u64_text() writes 64-bit numbers without a 64-bit division: the same
 * digits as printf at the edges and at random. */
static void test_u64_text(void)
{
	static const uint64_t edges[] = { 0, 1, 9, 10, 99, 4294967295u, 4294967296u, 4294967297u,
		9999999999u, 10000000000u, 9223372036854775807u, 10000000000000000000u, 18446744073709551615u };
	char got[21], want[32];
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		snprintf(want, sizeof want, "%" PRIu64, edges[i]);
		CHECK_STR(u64_text(edges[i], got), want);
	}
	for (int i = 0; i < 2000; i++) {
		uint64_t v = check_rand() >> (i % 64);
		snprintf(want, sizeof want, "%" PRIu64, v);
		CHECK_STR(u64_text(v, got), want);
	}
}

CHECK_MAIN(test_u64_text, test_blocked_table, test_line_times, test_whole_text_counts, test_split_at_every_byte_equals_whole, test_overlong_line_counted_once,
           test_line_of_exactly_max_is_parsed, test_flush_counts_final_line, test_extra_form_reply_classes,
           test_plain_form_ties_by_name, test_view_rows_newest_first_with_times, test_view_is_a_copy,
           test_leases_joined_in_views, test_expo_render_lines, test_expo_render_empty_with_fifo,
           test_expo_escape, test_unlogged_replies_expire, test_lines_sweep_the_ring, test_packet_queries_expire)
