/*
 * fuzz_feed.c - the aggregator fed a stream of log bytes, as the reader
 * thread feeds it: agg_feed_bytes() and agg_flush_line() (src/agg.c) over
 * the line reassembly, the parser's memo, the string pool, the LRU tables
 * (tiny here, so that they evict), the pending ring and the reply classes;
 * then a view of it (agg_view_new()) and its exposition (expo_render()).
 *
 * The same stream goes to two aggregators: in one piece, and cut into
 * reads of 1 to 97 bytes (sizes drawn from a generator seeded by the
 * input's length).  Checked:
 *   - where reads cut lines changes nothing: the statistics, the reply
 *     classes and every row of the two views are equal;
 *   - the tables stay within their bounds;
 *   - the exposition is valid text format whatever the names: each line a
 *     HELP or TYPE comment or `name{label="value",...} value`, label values
 *     escaped (no raw '"', '\' only before '\', '"' or 'n'), no control
 *     byte, the whole of it valid UTF-8.
 */
#include "fuzz.h"
#include "agg.h"
#include "buf.h"
#include "expo.h"

#include <string.h>

#define MAX_ENTRIES 8
#define MAX_CLIENTS 4
#define MAX_SERVERS 2
#define NOW 1700000000u

/* ---- the text format ---- */

static int is_alpha_(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 (written apart from
 * expo.c's, by the table of RFC 3629 section 4). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static int valid_utf8(const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t len = utf8_seq(p, n);
		if (len == 0)
			return 0;
		p += len;
		n -= len;
	}
	return 1;
}

/* A metric or label name from p: returns where it ends, or NULL. */
static const char *take_ident(const char *p, const char *end, int colon)
{
	if (p == end || !is_alpha_((unsigned char)*p))
		return NULL;
	while (p < end && (is_alpha_((unsigned char)*p) || is_digit((unsigned char)*p) || (colon && *p == ':')))
		p++;
	return p;
}

/* {label="value",...}: returns where it ends, or NULL. */
static const char *take_labels(const char *p, const char *end)
{
	p++; /* '{' */
	while (p < end && *p != '}') {
		if (!(p = take_ident(p, end, 0)) || end - p < 2 || p[0] != '=' || p[1] != '"')
			return NULL;
		for (p += 2; p < end && *p != '"'; p++)
			if (*p == '\\' && (++p == end || (*p != '\\' && *p != '"' && *p != 'n')))
				return NULL;
		if (p == end)
			return NULL;
		p++; /* '"' */
		if (p < end && *p == ',' && end - p > 1 && p[1] != '}')
			p++;
		else if (p < end && *p != '}')
			return NULL;
	}
	return p < end ? p + 1 : NULL;
}

static int valid_sample(const char *p, const char *end)
{
	if (!(p = take_ident(p, end, 1)))
		return 0;
	if (p < end && *p == '{' && !(p = take_labels(p, end)))
		return 0;
	if (p == end || *p++ != ' ' || p == end)
		return 0;
	if ((size_t)(end - p) == 4 && memcmp(p, "+Inf", 4) == 0)
		return 1;
	for (; p < end; p++)
		if (!is_digit((unsigned char)*p))
			return 0;
	return 1;
}

static int valid_comment(const char *p, const char *end)
{
	if (end - p < 7 || (memcmp(p, "# HELP ", 7) != 0 && memcmp(p, "# TYPE ", 7) != 0))
		return 0;
	p = take_ident(p + 7, end, 1);
	return p && p < end && *p == ' ';
}

static void check_exposition(const struct buf *out)
{
	const char *p = out->data, *end = out->data + out->len;
	FUZZ_CHECK(!out->failed && out->len > 0 && end[-1] == '\n');
	FUZZ_CHECK(valid_utf8((const unsigned char *)p, out->len));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		for (const char *q = p; q < eol; q++)
			FUZZ_CHECK((unsigned char)*q >= 0x20 && *q != 0x7f);
		FUZZ_CHECK(*p == '#' ? valid_comment(p, eol) : valid_sample(p, eol));
		p = eol + 1;
	}
}

/* ---- feeding ---- */

/* Feeds data[0..size) in reads of `piece` bytes (all of it when 0), then
 * the last line without a newline, each read from a heap copy of exactly
 * its length. */
static struct agg *fed(const uint8_t *data, size_t size, int cut)
{
	struct agg_config cfg = fuzz_agg_config(MAX_ENTRIES, MAX_CLIENTS, MAX_SERVERS);
	struct agg *agg = fuzz_agg_new(&cfg);
	struct linebuf lb;
	uint64_t state = size * 0x9e3779b97f4a7c15ULL + 1;
	size_t off = 0;

	memset(&lb, 0, sizeof lb);
	while (off < size) {
		size_t piece = size - off;
		if (cut) {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			if (piece > 1 + state % 97)
				piece = 1 + state % 97;
		}
		uint8_t *copy = fuzz_copy(data + off, piece);
		agg_lock(agg);
		agg_feed_bytes(agg, &lb, (const char *)copy, piece, NOW);
		agg_unlock(agg);
		free(copy);
		off += piece;
	}
	agg_lock(agg);
	agg_flush_line(agg, &lb, NOW);
	agg_unlock(agg);
	return agg;
}

static void check_same_views(const struct agg_view *a, const struct agg_view *b)
{
	FUZZ_CHECK(memcmp(&a->stats, &b->stats, sizeof a->stats) == 0);
	FUZZ_CHECK(memcmp(a->replies, b->replies, sizeof a->replies) == 0);
	FUZZ_CHECK(a->nrows == b->nrows && a->nclients == b->nclients && a->nservers == b->nservers);
	FUZZ_CHECK(a->entry_evictions == b->entry_evictions && a->client_evictions == b->client_evictions);
	for (uint32_t i = 0; i < a->nrows; i++) {
		const struct view_row *x = &a->rows[i], *y = &b->rows[i];
		FUZZ_CHECK(strcmp(x->client, y->client) == 0 && strcmp(x->domain, y->domain) == 0 &&
		           strcmp(x->type, y->type) == 0 && x->count == y->count);
	}
	for (uint32_t i = 0; i < a->nclients; i++)
		FUZZ_CHECK(strcmp(a->clients[i].key, b->clients[i].key) == 0 && a->clients[i].count == b->clients[i].count);
	for (uint32_t i = 0; i < a->nservers; i++)
		FUZZ_CHECK(strcmp(a->servers[i].key, b->servers[i].key) == 0 && a->servers[i].count == b->servers[i].count);
}

static void check_bounds(const struct agg_view *v, size_t size)
{
	uint64_t lines = 0, queries = 0;
	for (int k = 0; k <= LOGLINE_OTHER; k++)
		lines += v->stats.lines[k];
	FUZZ_CHECK(lines <= size + 1 && v->stats.bytes_read == size);
	FUZZ_CHECK(v->nrows <= MAX_ENTRIES && v->nclients <= MAX_CLIENTS && v->nservers <= MAX_SERVERS);
	FUZZ_CHECK(v->stats.alloc_failures == 0);
	for (uint32_t i = 0; i < v->nrows; i++)
		FUZZ_CHECK(v->rows[i].count > 0);
	for (uint32_t i = 0; i < v->nclients; i++)
		queries += v->clients[i].count;
	FUZZ_CHECK(queries <= v->stats.lines[LOGLINE_QUERY]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agg *whole = fed(data, size, 0), *cut = fed(data, size, 1);
	struct agg_view *a = agg_view_new(whole), *b = agg_view_new(cut);
	struct buf out;

	FUZZ_CHECK(a && b);
	check_same_views(a, b);
	check_bounds(a, size);
	memset(&out, 0, sizeof out);
	expo_render(a, &out);
	check_exposition(&out);

	buf_free(&out);
	agg_view_free(a);
	agg_view_free(b);
	agg_free(whole);
	agg_free(cut);
	return 0;
}
