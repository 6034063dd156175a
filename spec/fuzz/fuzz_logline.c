/*
 * fuzz_logline.c - the log line grammar: logline_parse() and
 * logline_parse_memo() (src/logline.c).
 *
 * The input is one line, or two: up to the first '\n', and the rest.  Each
 * is parsed from a heap copy of exactly its length.  Checked:
 *   - the kind and the enums are in range, and an unparsed line leaves the
 *     result all zero;
 *   - every span of the result lies inside the line (a plain "query"'s
 *     static "type=0" aside), and what a kind promises is there: a query
 *     has a name, a client and a type; a name is at most LOGLINE_NAME_MAX
 *     bytes, without a space or a control byte ("<name unprintable>" aside);
 *   - the memo changes nothing: the second line parsed right after the
 *     first, with the memo the first left, gives what it gives alone; and
 *     so does each line parsed twice in a row (the memo then holds its own
 *     prefix and client).
 */
#include "fuzz.h"
#include "logline.h"

#include <string.h>

static int is_static_type0(const struct logline *l, const char *line, size_t len)
{
	return l->kind == LOGLINE_QUERY && l->qtype.len == 6 && memcmp(l->qtype.ptr, "type=0", 6) == 0 &&
	       !fuzz_inside(l->qtype.ptr, 6, line, len);
}

static void check_span(struct logline_span s, const char *line, size_t len)
{
	if (s.ptr || s.len)
		FUZZ_CHECK(s.ptr && s.len > 0 && fuzz_inside(s.ptr, s.len, line, len));
}

/* dnsmasq's stand-in for a name with unprintable bytes, the one name with a space */
static const char UNPRINTABLE[] = "<name unprintable>";

static void check_name(struct logline_span name)
{
	FUZZ_CHECK(name.len > 0 && name.len <= LOGLINE_NAME_MAX);
	if (name.len == sizeof UNPRINTABLE - 1 && memcmp(name.ptr, UNPRINTABLE, name.len) == 0)
		return;
	for (size_t i = 0; i < name.len; i++) {
		unsigned char c = (unsigned char)name.ptr[i];
		FUZZ_CHECK(c > 0x20 && c != 0x7f);
	}
}

static void check_result(enum logline_kind kind, const struct logline *l, const char *line, size_t len)
{
	FUZZ_CHECK(l->kind == kind && (unsigned)kind <= LOGLINE_OTHER);
	FUZZ_CHECK((unsigned)l->source < SOURCE_COUNT && (unsigned)l->result < RESULT_COUNT);
	if (kind == LOGLINE_UNPARSED) { /* every field zero (the padding between them is not the parser's) */
		FUZZ_CHECK(!l->has_serial && !l->serial && !l->client.ptr && !l->client.len && !l->name.ptr &&
		           !l->name.len && !l->qtype.ptr && !l->qtype.len && !l->server.ptr && !l->server.len &&
		           l->source == 0 && l->result == 0);
		return;
	}
	FUZZ_CHECK(l->has_serial || l->serial == 0);
	check_span(l->client, line, len);
	check_span(l->name, line, len);
	check_span(l->server, line, len);
	if (!is_static_type0(l, line, len))
		check_span(l->qtype, line, len);
	switch (kind) {
	case LOGLINE_QUERY:
		check_name(l->name);
		FUZZ_CHECK(l->client.len > 0 && l->qtype.len > 0);
		break;
	case LOGLINE_FORWARDED:
		check_name(l->name);
		FUZZ_CHECK(l->server.len > 0);
		break;
	case LOGLINE_ANSWER:
		check_name(l->name);
		break;
	default:
		break;
	}
}

static int same_span(struct logline_span a, struct logline_span b)
{
	return a.ptr == b.ptr && a.len == b.len;
}

/* Two results of the same bytes are the same. */
static int same_result(const struct logline *a, const struct logline *b)
{
	return a->kind == b->kind && a->has_serial == b->has_serial && a->serial == b->serial &&
	       same_span(a->client, b->client) && same_span(a->name, b->name) && same_span(a->qtype, b->qtype) &&
	       same_span(a->server, b->server) && a->source == b->source && a->result == b->result;
}

static enum logline_kind parse_checked(const char *line, size_t len, struct logline *out)
{
	enum logline_kind kind = logline_parse(line, len, out);
	check_result(kind, out, line, len);
	return kind;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first_len = nl ? (size_t)(nl - data) : size;
	size_t second_len = nl ? size - first_len - 1 : 0;
	char *first = (char *)fuzz_copy(data, first_len);
	char *second = (char *)fuzz_copy(nl ? nl + 1 : data, second_len);
	struct logline alone_first, alone_second, with_memo;
	struct logline_memo memo;

	parse_checked(first, first_len, &alone_first);
	parse_checked(second, second_len, &alone_second);

	memset(&memo, 0, sizeof memo);
	logline_parse_memo(first, first_len, &with_memo, &memo);
	FUZZ_CHECK(same_result(&with_memo, &alone_first));
	logline_parse_memo(second, second_len, &with_memo, &memo);
	FUZZ_CHECK(same_result(&with_memo, &alone_second));
	logline_parse_memo(second, second_len, &with_memo, &memo);
	FUZZ_CHECK(same_result(&with_memo, &alone_second));
	logline_parse_memo(first, first_len, &with_memo, &memo);
	FUZZ_CHECK(same_result(&with_memo, &alone_first));

	free(first);
	free(second);
	return 0;
}
