/*
 * logline.c - the grammar of one dnsmasq log line (see logline.h).
 *
 * Owns: the three prefixes (file, syslog/logread, none), the proto and
 * log-queries=extra fields, the verbs dnsmasq 2.90 log_query() prints, and
 * the classification of an answer into source and result.  One forward pass
 * with a cursor over [line, line + len); no allocation, no locale, no libc
 * parsing of the unterminated line.
 */
#include "logline.h"
#include "hot.h"

#include <string.h>

struct cur {
	const char *p, *end;
	struct logline_memo *memo; /* or NULL: what the last lines of a stream held */
	const char *clock;         /* take_stamp(): where its "hh:mm:ss" is (else NULL) */
	uint32_t seconds;          /* and what it says, since midnight */
};

/* ---- byte classes (no ctype: it depends on the locale) ---- */

/* One table lookup a byte: these run over every byte of every line. */
enum {
	C_DIGIT = 1,  /* 0-9 */
	C_HEX = 2,    /* 0-9 a-f A-F */
	C_ADDR = 4,   /* what an IPv4 or IPv6 address is made of: hex, ':', '.' */
	C_NAME = 8,   /* what dnsmasq may print in a name: printable ASCII but space, and 8-bit bytes */
	C_TYPE = 16,  /* inside query[...] and <...>: "A", "NSAP_PTR", "type=65" */
	C_LOWER = 32  /* a-z */
};

/* The class bits of byte c, for a table built by the compiler. */
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
#define LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define HEX(c) (DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CLASS(c)                                                                 \
	((DIGIT(c) ? C_DIGIT : 0) | (HEX(c) ? C_HEX : 0) |                           \
	 (HEX(c) || (c) == ':' || (c) == '.' ? C_ADDR : 0) |                         \
	 (((c) > 0x20 && (c) < 0x7f) || (c) >= 0x80 ? C_NAME : 0) |                  \
	 (DIGIT(c) || LOWER(c) || UPPER(c) || (c) == '=' || (c) == '-' || (c) == '_' \
	      ? C_TYPE : 0) |                                                        \
	 (LOWER(c) ? C_LOWER : 0))
#define CLASS4(c) CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define CLASS16(c) CLASS4(c), CLASS4((c) + 4), CLASS4((c) + 8), CLASS4((c) + 12)
#define CLASS64(c) CLASS16(c), CLASS16((c) + 16), CLASS16((c) + 32), CLASS16((c) + 48)
static const unsigned char byte_class[256] = { CLASS64(0), CLASS64(64), CLASS64(128), CLASS64(192) };

#define IS(c, cls) (byte_class[(unsigned char)(c)] & (cls))

/* The small helpers below run for every byte or field of every line (HOT: hot.h). */
HOT int is_digit(unsigned char c) { return IS(c, C_DIGIT); }
HOT int is_lower(unsigned char c) { return IS(c, C_LOWER); }
HOT int is_hex(unsigned char c) { return IS(c, C_HEX); }
HOT int is_addr_byte(unsigned char c) { return IS(c, C_ADDR); }
HOT int is_name_byte(unsigned char c) { return IS(c, C_NAME); }
HOT int is_type_byte(unsigned char c) { return IS(c, C_TYPE); }

#define TYPE_MAX 16


/* No byte below 0x20 and no 0x7f. */
static int all_printable(const char *s, size_t n)
{
	size_t i = 0;
	word_t w;
	if (n >= WORD_BYTES) { /* whole words, the last one overlapping the one before it */
		for (; i + WORD_BYTES < n; i += WORD_BYTES) {
			memcpy(&w, s + i, WORD_BYTES);
			if (word_has_below_or_del(w, 0x20))
				return 0;
		}
		memcpy(&w, s + n - WORD_BYTES, WORD_BYTES);
		return !word_has_below_or_del(w, 0x20);
	}
	for (; i < n; i++) {
		unsigned char b = (unsigned char)s[i];
		if (b < 0x20 || b == 0x7f)
			return 0;
	}
	return 1;
}

/* ---- cursor helpers ---- */

HOT size_t left(const struct cur *c) { return (size_t)(c->end - c->p); }
HOT int at_end(const struct cur *c) { return c->p == c->end; }
HOT int peek(const struct cur *c, char ch) { return c->p < c->end && *c->p == ch; }

/* Short compares, inline: a call to memcmp costs more than the bytes. */
HOT int bytes_equal(const char *a, const char *b, size_t n)
{
	return memcmp(a, b, n) == 0; /* n is a constant where it matters: compiled inline */
}

HOT int expect_mem(struct cur *c, const char *s, size_t n)
{
	if (left(c) < n || !bytes_equal(c->p, s, n))
		return 0;
	c->p += n;
	return 1;
}
#define expect_literal(c, lit) expect_mem((c), (lit), sizeof(lit) - 1)

/* The byte ch at the cursor: past it. */
HOT int expect_char(struct cur *c, char ch)
{
	if (c->p == c->end || *c->p != ch)
		return 0;
	c->p++;
	return 1;
}

/* The span is the non-empty literal s: its first byte is looked at before
 * the call that compares the rest (answers often have a literal's length). */
HOT int span_is_mem(const char *p, size_t n, const char *s, size_t sn)
{
	return n == sn && p[0] == s[0] && bytes_equal(p, s, n);
}
#define span_is(p, n, lit) span_is_mem((p), (n), (lit), sizeof(lit) - 1)
#define starts_with(p, n, lit) ((n) >= sizeof(lit) - 1 && bytes_equal((p), (lit), sizeof(lit) - 1))

/* Two spans equal, neither length a constant. */
HOT int same_span(const char *p, size_t n, const char *s, size_t sn)
{
	return n == sn && same_bytes(p, s, n);
}


/* Which entry of table the span is (1 for the first), or 0; with prefix
 * set, which one it starts with.  The table's entries are each a length
 * byte, then that many bytes; a 0 ends it. */
HOT unsigned keyword_of(const char *p, size_t n, const char *table, int prefix)
{
	for (unsigned i = 1; *table; table += 1 + (unsigned char)*table, i++) {
		size_t k = (unsigned char)*table;
		if ((k == n || (prefix && k < n)) && same_bytes(p, table + 1, k))
			return i;
	}
	return 0;
}
#define keyword(p, n, table) keyword_of((p), (n), (table), 0)
#define starts_keyword(p, n, table) keyword_of((p), (n), (table), 1)

/* Where in memory the first byte of a word that a nonzero exact mask flags is. */
HOT unsigned first_flagged(word_t mask)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (unsigned)__builtin_clzl(mask) / 8;
#else
	return (unsigned)__builtin_ctzl(mask) / 8;
#endif
}

/* A non-empty run of bytes up to the next space or the end. */
HOT int take_word(struct cur *c, struct logline_span *w)
{
	const char *s = c->p, *p = s, *end = c->end;
	for (word_t v; (size_t)(end - p) >= WORD_BYTES; p += WORD_BYTES) {
		memcpy(&v, p, WORD_BYTES);
		word_t spaces = zero_bytes(v ^ (ONES * ' '));
		if (spaces) {
			p += first_flagged(spaces); /* the space: the loop below stops there */
			break;
		}
	}
	while (p < end && *p != ' ')
		p++;
	c->p = p;
	w->ptr = s;
	w->len = (size_t)(p - s);
	return w->len > 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && UINTPTR_MAX > 0xffffffffu
#define SWAR_DIGITS 1
/* The number that 1 to 7 digits at p make when the 8 bytes at p hold a
 * non-digit after them (a serial, a port): the digits found and combined a
 * word at a time.  0 digits when the word does not start with 1 to 7. */
HOT unsigned swar_digits(const char *p, uint32_t *v)
{
	const uint64_t nibbles = 0xf0f0f0f0f0f0f0f0u, threes = 0x3030303030303030u;
	uint64_t w;
	memcpy(&w, p, 8);
	/* a digit's high nibble is 3 before and after adding 6: a byte is
	 * flagged when it is not a digit; a carry out of a byte only reaches
	 * bytes after it, past the first flag */
	uint64_t not_digit = ((w & nibbles) ^ threes) | (((w + 0x0606060606060606u) & nibbles) ^ threes);
	if (!not_digit)
		return 0;
	unsigned n = (unsigned)__builtin_ctzll(not_digit) / 8;
	if (n == 0)
		return 0;
	w = (w - threes) << (64 - 8 * n); /* the digits, leading zero bytes before them */
	w = ((w & 0x0f0f0f0f0f0f0f0fu) * (10 * 256 + 1)) >> 8;
	w = ((w & 0x00ff00ff00ff00ffu) * (100 * 65536 + 1)) >> 16;
	w = ((w & 0x0000ffff0000ffffu) * (10000 * 4294967296u + 1)) >> 32;
	*v = (uint32_t)w;
	return n;
}
#endif

/* 1 to 10 decimal digits that fit in a uint32_t. */
static int take_uint32(struct cur *c, uint32_t *v)
{
	const char *s = c->p, *p = s, *end = c->end, *nine = left(c) > 9 ? s + 9 : end;
	uint32_t n = 0, d;
#ifdef SWAR_DIGITS
	unsigned got;
	if (left(c) >= 8 && (got = swar_digits(s, &n)) != 0) {
		c->p = s + got;
		*v = n;
		return 1;
	}
#endif
	while (p < nine && (d = (unsigned char)*p - '0') <= 9) {
		n = n * 10 + d; /* nine digits never overflow */
		p++;
	}
	if (p - s == 9 && p < end && (d = (unsigned char)*p - '0') <= 9) {
		if (n > (UINT32_MAX - d) / 10)
			return 0;
		n = n * 10 + d;
		p++;
	}
	c->p = p;
	if (p == s || (p < end && is_digit((unsigned char)*p)))
		return 0;
	*v = n;
	return 1;
}

/* Past the bytes of class cls (a mask of C_*) from the cursor on; how many. */
static size_t skip_class(struct cur *c, int cls)
{
	const char *s = c->p;
	while (c->p < c->end && IS(*c->p, cls))
		c->p++;
	return (size_t)(c->p - s);
}

/* ---- addresses ---- */

/* The length of a dotted quad at the start of q (1 to 3 digits a part, at
 * most 255), or 0.  Reads at most IPV4_READ bytes of q, all of them only
 * when they are digits and dots. */
#define IPV4_READ 15
static size_t quad_len(const unsigned char *q)
{
	const unsigned char *p = q;
	for (int part = 0;; part++) {
		unsigned v = (unsigned)p[0] - '0', d1, d2;
		if (v > 9)
			return 0;
		if ((d1 = (unsigned)p[1] - '0') > 9) {
			p += 1;
		} else if ((d2 = (unsigned)p[2] - '0') > 9) {
			v = v * 10 + d1;
			p += 2;
		} else {
			v = v * 100 + d1 * 10 + d2;
			p += 3;
		}
		if (v > 255)
			return 0;
		if (part == 3)
			return (size_t)(p - q);
		if (*p++ != '.')
			return 0;
	}
}

/* The end of a dotted quad starting at p, or NULL: read in place when the
 * line holds enough bytes after it, else from a copy ended by a NUL. */
static const char *ipv4_end(const char *p, const char *end)
{
	size_t n;
	if (end - p >= IPV4_READ) {
		n = quad_len((const unsigned char *)p);
	} else {
		unsigned char copy[IPV4_READ] = { 0 };
		memcpy(copy, p, (size_t)(end - p));
		n = quad_len(copy);
	}
	return n ? p + n : NULL;
}

static int is_ipv4(const char *s, size_t n)
{
	return ipv4_end(s, s + n) == s + n;
}

/* Groups of 1-4 hex digits, at most one "::", an optional dotted IPv4 tail. */
static int is_ipv6(const char *s, size_t n)
{
	size_t i = 0, groups = 0;
	int gap = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 1;
		i = 2;
	}
	while (i < n) {
		size_t start = i, d = 0;
		while (i < n && d < 5 && is_hex((unsigned char)s[i])) {
			i++;
			d++;
		}
		if (i < n && s[i] == '.') {
			if (!is_ipv4(s + start, n - start))
				return 0;
			groups += 2;
			break;
		}
		if (d == 0 || d > 4)
			return 0;
		groups++;
		if (i == n)
			break;
		if (s[i++] != ':' || i == n)
			return 0; /* a single trailing ':' */
		if (s[i] == ':') {
			if (gap)
				return 0;
			gap = 1;
			i++;
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

static int is_addr(const char *s, size_t n)
{
	return is_ipv4(s, n) || is_ipv6(s, n);
}

/*
 * An IPv4 or IPv6 address; with allow_scope an IPv6 one may carry
 * "%ifname" (prettyprint_addr() of a link-local client).
 */
static int take_addr(struct cur *c, struct logline_span *a, int allow_scope)
{
	const char *s = c->p, *p = ipv4_end(s, c->end), *end = c->end;
	if (p && (p == end || (!is_addr_byte((unsigned char)*p) && *p != '%'))) {
		c->p = p; /* the common case, in one pass: an IPv4 address */
		a->ptr = s;
		a->len = (size_t)(p - s);
		return 1;
	}
	c->p = s;
	if (!is_addr(s, skip_class(c, C_ADDR)))
		return 0;
	if (allow_scope && peek(c, '%')) {
		const char *scope;
		if (!is_ipv6(s, (size_t)(c->p - s)))
			return 0;
		scope = ++c->p;
		while (c->p < c->end && *c->p != ' ' && *c->p != '/')
			c->p++;
		if (c->p == scope)
			return 0;
	}
	a->ptr = s;
	a->len = (size_t)(c->p - s);
	return 1;
}

/* 1 to 5 digits, at most 65535. */
static int take_port(struct cur *c)
{
	uint32_t v;
	const char *s = c->p;
	return take_uint32(c, &v) && c->p - s <= 5 && v <= 65535;
}

/* ---- names ---- */

static const char UNPRINTABLE[] = "<name unprintable>";

static int is_name(const char *s, size_t n)
{
	if (n == 0 || n > LOGLINE_NAME_MAX)
		return 0;
	if (span_is(s, n, UNPRINTABLE))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (!is_name_byte((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A name: a run of name bytes, or dnsmasq's "<name unprintable>".  The
 * lines of one query mostly name the same name: the bytes of the last name
 * taken, then a space, are that name again. */
static int take_name_run(struct cur *c, struct logline_span *name)
{
	const char *s = c->p;
	struct logline_memo *memo = c->memo;
	if (memo && memo->name_len && left(c) > memo->name_len && s[memo->name_len] == ' ' &&
	    same_bytes(s, memo->name, memo->name_len)) {
		c->p += memo->name_len;
		name->ptr = s;
		name->len = memo->name_len;
		return 1;
	}
	if (peek(c, '<') && expect_literal(c, UNPRINTABLE) && (at_end(c) || peek(c, ' '))) {
		name->ptr = s;
		name->len = sizeof(UNPRINTABLE) - 1;
		return 1;
	}
	/* at most LOGLINE_NAME_MAX name bytes, then anything but a name byte;
	 * name bytes are those above 0x20 but 0x7f, so whole words go first */
	const char *p = s, *lim = left(c) > LOGLINE_NAME_MAX ? s + LOGLINE_NAME_MAX : c->end;
	for (word_t w; (size_t)(lim - p) >= WORD_BYTES; p += WORD_BYTES) {
		memcpy(&w, p, WORD_BYTES);
		word_t stop = word_has_below_or_del(w, 0x21);
		if (stop) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* the lowest flag is never a false one: the first byte that ends the name */
			p += (unsigned)__builtin_ctzl(stop) / 8;
#endif
			break;
		}
	}
	while (p < lim && is_name_byte((unsigned char)*p))
		p++;
	c->p = p;
	if (p < c->end && is_name_byte((unsigned char)*p))
		return 0;
	name->ptr = s;
	name->len = (size_t)(p - s);
	/* not one that starts with '<': "<name unprintable>" has a space in it */
	if (memo && name->len && *s != '<') {
		memcpy(memo->name, s, name->len);
		memo->name_len = (unsigned char)name->len;
	}
	return name->len > 0;
}

/* " NAME" and the words after it (" from ", " to ", " is "), of n bytes:
 * one call for the three verbs that name a name. */
HOT int take_name(struct cur *c, struct logline_span *name, const char *after, size_t n)
{
	return expect_char(c, ' ') && take_name_run(c, name) && expect_mem(c, after, n);
}

/* ---- prefixes ---- */

/* Which 3-letter entry of table the 3 bytes at p are (1 for the first), or 0. */
static int in_table3(const char *table, const char *p)
{
	for (int i = 1; *table; table += 3, i++)
		if (table[0] == p[0] && table[1] == p[1] && table[2] == p[2])
			return i;
	return 0;
}

static const char MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
static const char WEEKDAYS[] = "SunMonTueWedThuFriSat";

/* ctime()'s "%3d" day of the month at p: " 2" or "22" (take_stamp()
 * counted the bytes of the stamp). */
static int is_day(const char *p)
{
	unsigned v;
	if (!is_digit((unsigned char)p[1]))
		return 0;
	if (p[0] == ' ')
		v = (unsigned)(p[1] - '0');
	else if (is_digit((unsigned char)p[0]) && p[0] != '0')
		v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
	else
		return 0;
	return v >= 1 && v <= 31;
}

/* "hh:mm:ss" (take_stamp()'s, a memo's new clock): into *seconds (since midnight), or 0. */
static int clock_seconds(const char *s, uint32_t *seconds)
{
	static const unsigned char most[3] = { 23, 59, 60 };
	uint32_t v = 0;
	for (int i = 0; i < 3; i++, s += 3) {
		unsigned hi = (unsigned char)s[0] - '0', lo = (unsigned char)s[1] - '0';
		if (hi > 9 || lo > 9 || hi * 10 + lo > most[i] || (i < 2 && s[2] != ':'))
			return 0;
		v = v * 60 + hi * 10 + lo;
	}
	*seconds = v;
	return 1;
}

/* "Nov 22 01:41:33": the month is already known to be one. */
static int take_stamp(struct cur *c)
{
	const char *s = c->p + 3;
	if ((size_t)(c->end - s) < sizeof " dd hh:mm:ss" - 1 || s[0] != ' ' || s[3] != ' ' || !is_day(s + 1) ||
	    !clock_seconds(s + 4, &c->seconds))
		return 0;
	c->clock = s + 4;
	c->p = s + sizeof " dd hh:mm:ss" - 1;
	return 1;
}

/* logread's "Sun Nov 22 01:41:33 2026 daemon.info": the weekday is already known. */
static int take_syslog_stamp(struct cur *c)
{
	c->p += 4;
	if (left(c) < 3 || !in_table3(MONTHS, c->p) || !take_stamp(c) || !expect_char(c, ' '))
		return 0;
	if (skip_class(c, C_DIGIT) != 4 || !expect_char(c, ' '))
		return 0; /* the year */
	if (at_end(c) || !is_lower((unsigned char)*c->p))
		return 0; /* facility.level: [a-z][a-z0-9]*\.[a-z]+ */
	skip_class(c, C_LOWER | C_DIGIT);
	return expect_char(c, '.') && skip_class(c, C_LOWER) > 0;
}

enum prefix { PREFIX_NONE, PREFIX_DNSMASQ, PREFIX_OTHER_DNSMASQ, PREFIX_BAD };

/* "dnsmasq[PID]: ", "dnsmasq: ", "dnsmasq-dhcp[PID]: "; `none` when the
 * line does not go on with "dnsmasq" (the cursor then unmoved). */
static enum prefix take_tag(struct cur *c, enum prefix none)
{
	int other = 0;
	uint32_t pid;

	if (!expect_literal(c, "dnsmasq"))
		return none;
	if (expect_char(c, '-')) {
		if (!skip_class(c, C_LOWER))
			return PREFIX_BAD;
		other = 1;
	}
	if (expect_char(c, '[') && !(take_uint32(c, &pid) && expect_char(c, ']')))
		return PREFIX_BAD;
	if (!expect_literal(c, ": "))
		return PREFIX_BAD;
	return other ? PREFIX_OTHER_DNSMASQ : PREFIX_DNSMASQ;
}

static enum prefix take_prefix(struct cur *c)
{
	int stamped = -1; /* whether the stamp was one, if there was one */
	if (left(c) >= 4 && c->p[3] == ' ') {
		if (in_table3(WEEKDAYS, c->p))
			stamped = take_syslog_stamp(c);
		else if (in_table3(MONTHS, c->p))
			stamped = take_stamp(c);
	}
	if (stamped < 0)
		return take_tag(c, PREFIX_NONE);
	if (!stamped || !expect_char(c, ' '))
		return PREFIX_BAD;
	return take_tag(c, PREFIX_BAD);
}

/* ---- verbs ---- */

/* The verbs but "query[TYPE]" and "auth[TYPE]" (keyword()), and their numbers. */
static const char VERBS[] = "\011forwarded" "\005reply" "\006cached" "\014cached-stale" "\006config" "\004DHCP"
                            "\004auth" "\001*" "\005ipset" "\006nftset" "\012validation";
enum verb {
	VERB_OTHER, VERB_FORWARDED,
	VERB_REPLY, VERB_CACHED, VERB_CACHED_STALE, VERB_CONFIG, VERB_DHCP, VERB_AUTH, /* of answers */
	VERB_STAR, VERB_IPSET, VERB_NFTSET, VERB_VALIDATION
};

/* query[TYPE] NAME from CLIENT; also "query" (type 0) and auth[TYPE]: the
 * verb's "[TYPE]" starts at its byte `at` (after "query" or "auth"). */
static enum logline_kind parse_query(struct cur *c, struct logline_span verb, size_t at, struct logline *out)
{
	struct cur v = { verb.ptr + at, verb.ptr + verb.len, NULL, NULL, 0 };

	if (expect_char(&v, '[')) {
		out->qtype.ptr = v.p;
		out->qtype.len = skip_class(&v, C_TYPE);
		if (out->qtype.len == 0 || out->qtype.len > TYPE_MAX || !expect_char(&v, ']'))
			return LOGLINE_UNPARSED;
	} else { /* dnsmasq prints a question of type 0 as plain "query" */
		out->qtype.ptr = "type=0";
		out->qtype.len = 6;
	}
	if (!at_end(&v))
		return LOGLINE_UNPARSED;
	if (!take_name(c, &out->name, " from ", 6))
		return LOGLINE_UNPARSED;
	if (out->client.len && same_span(c->p, left(c), out->client.ptr, out->client.len))
		return LOGLINE_QUERY; /* the same client as the extra form's, already checked */
	if (!take_addr(c, &out->client, 1) || !at_end(c))
		return LOGLINE_UNPARSED;
	return LOGLINE_QUERY;
}

/* forwarded NAME to SERVER[#PORT] */
static enum logline_kind parse_forwarded(struct cur *c, struct logline *out)
{
	if (!take_name(c, &out->name, " to ", 4) || !take_addr(c, &out->server, 0))
		return LOGLINE_UNPARSED;
	if (expect_char(c, '#')) {
		if (!take_port(c))
			return LOGLINE_UNPARSED;
		out->server.len = (size_t)(c->p - out->server.ptr);
	}
	return at_end(c) ? LOGLINE_FORWARDED : LOGLINE_UNPARSED;
}

/* Where " (DNSSEC signed)" or " (EDE: text)" starts, else end. */
static const char *answer_end(const char *p, const char *end)
{
	static const char SIGNED[] = " (DNSSEC signed)";
	static const char EDE[] = " (EDE: ";
	size_t n = (size_t)(end - p);

	if (n == 0 || end[-1] != ')')
		return end;
	if (n >= sizeof(SIGNED) - 1 && memcmp(end - (sizeof(SIGNED) - 1), SIGNED, sizeof(SIGNED) - 1) == 0)
		return end - (sizeof(SIGNED) - 1);
	for (const char *s = p; (size_t)(end - s) > sizeof(EDE); s++) /* text of >= 1 byte, then ')' */
		if (*s == ' ' && memcmp(s, EDE, sizeof(EDE) - 1) == 0)
			return s;
	return end;
}

/* The answers that are words (keyword()): first those of the results
 * below, then DNSSEC bookkeeping printed as an answer, not one query's
 * outcome (as are "DNSKEY keytag ..." and "DS keytag ..."). */
static const char ANSWERS[] = "\010NXDOMAIN" "\006NODATA" "\013NODATA-IPv4" "\013NODATA-IPv6" "\010SERVFAIL"
                              "\007REFUSED" "\017not implemented" "\007<CNAME>"
                              "\005no DS" "\011no DS/cut" "\010BOGUS DS" "\014BOGUS DNSKEY";
static const unsigned char ANSWER_RESULTS[] = { RESULT_NXDOMAIN, RESULT_NODATA, RESULT_NODATA, RESULT_NODATA,
                                                RESULT_ERROR,    RESULT_ERROR,  RESULT_ERROR,  RESULT_CNAME };

static int is_all_digits(const char *a, size_t n)
{
	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_digit((unsigned char)a[i]))
			return 0;
	return 1;
}

/* <TYPE>: <CNAME>, <SRV>, <HTTPS>, <type=65> */
static int is_bracketed_type(const char *a, size_t n)
{
	if (n < 3 || n > TYPE_MAX + 2 || a[0] != '<' || a[n - 1] != '>')
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_type_byte((unsigned char)a[i]))
			return 0;
	return 1;
}

/* SOURCE NAME is ANSWER[ (DNSSEC signed)| (EDE: text)]; the source as the
 * verb tells it: "reply" upstream, "cached" and "cached-stale" the cache,
 * "config", "DHCP", "auth" and a hosts file's path local. */
static enum logline_kind parse_answer(struct cur *c, struct logline_span verb, enum verb v, struct logline *out)
{
	const char *a;
	size_t n;
	unsigned k;
	int is_reply = v == VERB_REPLY;

	out->source = is_reply ? SOURCE_UPSTREAM
	              : v == VERB_CACHED || v == VERB_CACHED_STALE ? SOURCE_CACHE : SOURCE_LOCAL;

	if (!take_name(c, &out->name, " is ", 4))
		return LOGLINE_UNPARSED;
	a = c->p;
	/* the grammar checked the bytes up to here, but a hosts file's path */
	if (!all_printable(a, left(c)) || (verb.ptr[0] == '/' && !all_printable(verb.ptr, verb.len)))
		return LOGLINE_UNPARSED;
	n = (size_t)(answer_end(a, c->end) - a);

	/* "reply query is duplicate": the name "query", the answer "duplicate" */
	if (is_reply && span_is(out->name.ptr, (size_t)(c->end - out->name.ptr), "query is duplicate")) {
		out->name.ptr = NULL;
		out->name.len = 0;
		out->result = RESULT_DUPLICATE;
		return LOGLINE_DUPLICATE;
	}

	/* no word below is an address: the common answer is tried first */
	if (is_addr(a, n)) {
		out->result = RESULT_ADDRESS;
		if (v == VERB_CONFIG && keyword(a, n, "\007" "0.0.0.0" "\002" "::"))
			out->source = SOURCE_BLOCKED;
	} else if ((k = keyword(a, n, ANSWERS)) != 0 && k <= sizeof ANSWER_RESULTS) {
		out->result = ANSWER_RESULTS[k - 1];
	} else if (k || starts_keyword(a, n, "\016DNSKEY keytag \012DS keytag ")) {
		out->source = SOURCE_UPSTREAM; /* zero: no outcome to count */
		out->result = RESULT_ADDRESS;
		return LOGLINE_OTHER;
	} else if (span_is(out->name.ptr, out->name.len, "error") && is_all_digits(a, n))
		out->result = RESULT_ERROR;
	else if (is_bracketed_type(a, n))
		out->result = RESULT_RECORD;
	else if (is_addr(out->name.ptr, out->name.len) && is_name(a, n))
		out->result = RESULT_RECORD; /* reverse: "config 192.168.1.5 is nas.lan" */
	else if (is_reply)
		out->result = RESULT_RECORD; /* TXT strings are logged as text, spaces and all */
	else
		return LOGLINE_UNPARSED;
	return LOGLINE_ANSWER;
}

/* After a "*" word: dnsmasq 2.80 and 2.85 write a query's DNSSEC lines
 * with "*" for its serial (F_NOEXTRA): "* CLIENT/PORT dnssec-query[DS]
 * ...", "* CLIENT/PORT dnssec retry ...", "* CLIENT/PORT reply org is BOGUS
 * DS". */
static int is_star_line(const struct cur *c)
{
	struct cur r = *c;
	struct logline_span client;
	if (!expect_char(&r, ' ') || !take_addr(&r, &client, 1) || !expect_char(&r, '/') || !take_port(&r) ||
	    !expect_char(&r, ' '))
		return 0;
	return starts_keyword(r.p, left(&r), "\006dnssec\006reply ") != 0;
}

/* Query-log lines that count nothing: validation, dnssec-*, ipset/nftset
 * add, and the DNSSEC lines of 2.80 and 2.85 ("* CLIENT/PORT ..."). */
static int is_other_verb(enum verb v, struct logline_span verb, const struct cur *c)
{
	if (v == VERB_STAR)
		return is_star_line(c);
	if (v == VERB_IPSET || v == VERB_NFTSET)
		return left(c) > 5 && bytes_equal(c->p, " add ", 5);
	return (v == VERB_VALIDATION || starts_with(verb.ptr, verb.len, "dnssec-")) && left(c) > 1;
}

/*
 * "<serial> <client>/<port> " (extra form) or "<serial> " alone (DNSSEC
 * lines).  Returns 1 with a client, 0 serial only, -1 malformed.
 */
static int take_extra(struct cur *c, struct logline *out)
{
	const char *start = c->p, *s;
	struct logline_memo *memo = c->memo;

	if (memo && memo->extra_len && left(c) > memo->extra_len && same_bytes(start, memo->extra, memo->extra_len)) {
		/* the serial, client and port of the last line: already checked */
		out->has_serial = 1;
		out->serial = memo->extra_serial;
		out->client.ptr = start + memo->extra_client_at;
		out->client.len = memo->extra_client_len;
		c->p += memo->extra_len;
		return 1;
	}
	if (!take_uint32(c, &out->serial) || !expect_char(c, ' '))
		return -1;
	out->has_serial = 1;
	s = c->p;
	const char *v4 = ipv4_end(s, c->end);
	if (v4 && v4 < c->end && *v4 == '/') {
		out->client.ptr = s; /* the common case, in one pass: an IPv4 client */
		out->client.len = (size_t)(v4 - s);
		c->p = v4;
		goto port;
	}
	skip_class(c, C_ADDR);
	if (at_end(c) || peek(c, ' '))
		return -1; /* a client cut before its "/port" */
	if (!peek(c, '/') && !peek(c, '%')) {
		c->p = s; /* not a client: "4 dnssec-query[DS] ..." */
		return 0;
	}
	if (memo && memo->client_len && peek(c, '/') &&
	    same_span(s, (size_t)(c->p - s), memo->client, memo->client_len)) {
		out->client.ptr = s; /* the client of the last line: already checked */
		out->client.len = memo->client_len;
	} else {
		c->p = s;
		if (!take_addr(c, &out->client, 1))
			return -1;
		if (memo && out->client.len <= sizeof memo->client) {
			memcpy(memo->client, out->client.ptr, out->client.len);
			memo->client_len = (unsigned char)out->client.len;
		}
	}
port:
	if (!expect_char(c, '/') || !take_port(c) || !expect_char(c, ' '))
		return -1;
	if (memo && (size_t)(c->p - start) <= sizeof memo->extra) {
		memo->extra_len = (unsigned char)(c->p - start);
		memcpy(memo->extra, start, memo->extra_len);
		memo->extra_serial = out->serial;
		memo->extra_client_at = (unsigned char)(out->client.ptr - start);
		memo->extra_client_len = (unsigned char)out->client.len;
	}
	return 1;
}

static enum logline_kind parse_message(struct cur *c, int prefixed, struct logline *out)
{
	struct logline_span verb;

	if (!expect_literal(c, "UDP ")) /* log-queries=proto */
		(void)expect_literal(c, "TCP ");
	if (!at_end(c) && is_digit((unsigned char)*c->p)) {
		int extra = take_extra(c, out);
		if (extra < 0)
			return LOGLINE_UNPARSED;
		if (extra == 0) { /* only DNSSEC lines carry a bare serial */
			if (at_end(c))
				return LOGLINE_UNPARSED;
			if (prefixed || starts_keyword(c->p, left(c), "\007dnssec-\013validation \006reply "))
				return LOGLINE_OTHER;
			return LOGLINE_UNPARSED;
		}
	}
	if (!take_word(c, &verb))
		return LOGLINE_UNPARSED;
	size_t at = starts_with(verb.ptr, verb.len, "query") ? 5 : starts_with(verb.ptr, verb.len, "auth[") ? 4 : 0;
	if (at)
		return parse_query(c, verb, at, out);
	enum verb v = keyword(verb.ptr, verb.len, VERBS);
	if (v == VERB_FORWARDED)
		return parse_forwarded(c, out);
	if ((v >= VERB_REPLY && v <= VERB_AUTH) || verb.ptr[0] == '/')
		return parse_answer(c, verb, v, out);
	if (is_other_verb(v, verb, c) || prefixed)
		return LOGLINE_OTHER;
	return LOGLINE_UNPARSED;
}

/* ---- entry points ---- */

/* Whether the memo's prefix, but for a new clock, starts the line (of at
 * least memo->len bytes); the memo then takes the clock. */
static int new_clock(struct logline_memo *memo, const char *start)
{
	size_t at = memo->clock_at, rest = at + 8;
	if (!at || !same_bytes(start + rest, memo->prefix + rest, memo->len - rest))
		return 0;
	const char *clock = start + at;
	char *was = memo->prefix + at;
	if (same_bytes(start, memo->prefix, at + 6)) { /* up to "hh:mm:" as before: a new second */
		unsigned s0 = (unsigned char)clock[6] - '0', s1 = (unsigned char)clock[7] - '0', second = s0 * 10 + s1;
		if (s0 > 9 || s1 > 9 || second > 60)
			return 0;
		memo->clock = memo->clock - ((unsigned char)was[6] - '0') * 10u - ((unsigned char)was[7] - '0') + second;
	} else if (!same_bytes(start, memo->prefix, at) || !clock_seconds(clock, &memo->clock)) {
		return 0;
	}
	memcpy(was, clock, 8);
	memo->stamps++;
	return 1;
}

/* The prefix of the line: from the memo when the line starts with the same
 * bytes as the last one whose prefix was dnsmasq's, or with the same but
 * for the clock (a log's next second), else parsed (and kept). */
static enum prefix prefix_of(struct cur *c, const char **checked)
{
	const char *start = c->p;
	struct logline_memo *memo = c->memo;
	if (memo && memo->len && left(c) > memo->len &&
	    (same_bytes(start, memo->prefix, memo->len) || new_clock(memo, start))) {
		c->p += memo->len;
		*checked = c->p;
		memo->hit = 1;
		return PREFIX_DNSMASQ;
	}
	enum prefix prefix = take_prefix(c);
	if (memo)
		memo->hit = 0;
	if (memo && prefix == PREFIX_DNSMASQ && (size_t)(c->p - start) <= sizeof memo->prefix &&
	    all_printable(start, (size_t)(c->p - start))) {
		memo->len = (unsigned char)(c->p - start);
		memcpy(memo->prefix, start, memo->len);
		/* the clock as take_stamp() took it, in "Mmm dd hh:mm:ss " or
		 * "Www Mmm dd hh:mm:ss yyyy " (logread) before the tag; none in
		 * "dnsmasq..." */
		memo->clock_at = (unsigned char)(c->clock ? c->clock - start : 0);
		if (c->clock)
			memo->clock = c->seconds;
		memo->stamps++;
		memo->dates++;
		memo->hit = 1;
	}
	return prefix;
}

enum logline_kind logline_parse(const char *line, size_t len, struct logline *out)
{
	return logline_parse_memo(line, len, out, NULL);
}

/* Every field zero, field by field: stores the compiler keeps in
 * registers, where a memset of the whole became a slow `rep stos`. */
static void clear(struct logline *out)
{
	static const struct logline_span none = { NULL, 0 };
	out->kind = LOGLINE_UNPARSED;
	out->has_serial = 0;
	out->serial = 0;
	out->client = out->name = out->qtype = out->server = none;
	out->source = SOURCE_UPSTREAM;
	out->result = RESULT_ADDRESS;
}

enum logline_kind logline_parse_memo(const char *line, size_t len, struct logline *out, struct logline_memo *memo)
{
	struct cur c;
	enum logline_kind kind = LOGLINE_UNPARSED;

	clear(out);
	if (!line || len > LOGLINE_MAX + 2)
		goto refused;
	if (len > 0 && line[len - 1] == '\n') {
		len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
	}
	if (len == 0 || len > LOGLINE_MAX)
		goto refused;

	c.p = line;
	c.end = line + len;
	c.memo = memo;
	c.clock = NULL;
	const char *checked = line;
	enum prefix prefix = prefix_of(&c, &checked);
	/* one call of parse_message(), which the compiler then inlines */
	if (prefix == PREFIX_NONE || (prefix == PREFIX_DNSMASQ && !at_end(&c)))
		kind = parse_message(&c, prefix == PREFIX_DNSMASQ, out);
	else if (prefix == PREFIX_OTHER_DNSMASQ && !at_end(&c))
		kind = LOGLINE_OTHER;
	/* No control byte anywhere.  The grammar of queries, forwards and
	 * duplicates admits none, parse_answer() checks an answer's free text,
	 * and a memo's bytes were checked when they were taken: only the other
	 * lines, whose text is free, are checked here. */
	if (kind == LOGLINE_OTHER && !all_printable(checked, (size_t)(c.end - checked)))
		kind = LOGLINE_UNPARSED;
	if (kind == LOGLINE_UNPARSED)
		clear(out);
	out->kind = kind;
	return kind;
refused:
	if (memo)
		memo->hit = 0; /* prefix_of() says otherwise */
	return LOGLINE_UNPARSED;
}

const char *logline_kind_name(enum logline_kind kind)
{
	static const char names[][10] = { "unparsed", "query", "forwarded", "answer", "duplicate", "other" };
	return names[(unsigned)kind <= LOGLINE_OTHER ? kind : LOGLINE_UNPARSED];
}

/* n decimal digits at s (a leading space allowed where pad is set); -1 if not */
static int stamp_number(const char *s, int n, int pad)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (pad && i == 0 && s[i] == ' ' && n > 1)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int logline_time(const char *line, size_t len, struct logline_time *out)
{
	/* "Mmm dd hh:mm:ss " after "Www " in logread's form, then "yyyy " */
	static const char shape[] = "Mmm dd hh:mm:ss ";
	/* the day, hour, minute and second: where, the least and the most */
	static const unsigned char field_at[4] = { 4, 7, 10, 13 }, least[4] = { 1, 0, 0, 0 },
	                           most[4] = { 31, 23, 59, 60 };
	size_t at = 0;
	int month, year = 0, v[4];

	memset(out, 0, sizeof *out);
	if (len >= 4 && line[3] == ' ' && in_table3(WEEKDAYS, line))
		at = 4;
	if (len < at + sizeof shape - 1 + (at ? 5 : 0) || !(month = in_table3(MONTHS, line + at)))
		return 0;
	const char *s = line + at;
	if (s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' || s[15] != ' ')
		return 0;
	for (int i = 0; i < 4; i++) {
		v[i] = stamp_number(s + field_at[i], 2, i == 0);
		if (v[i] < least[i] || v[i] > most[i])
			return 0;
	}
	if (at && ((year = stamp_number(s + 16, 4, 0)) < 1970 || s[20] != ' '))
		return 0;
	out->year = year;
	out->month = month;
	out->day = v[0];
	out->hour = v[1];
	out->minute = v[2];
	out->second = v[3];
	return 1;
}

const char *logline_source_name(enum logline_source source)
{
	static const char names[SOURCE_COUNT][9] = { "upstream", "cache", "local", "blocked", "resolver" };
	return (unsigned)source < SOURCE_COUNT ? names[source] : "unknown";
}

const char *logline_result_name(enum logline_result result)
{
	static const char names[RESULT_COUNT][10] = {
		"address", "cname", "record", "nxdomain", "nodata", "error", "duplicate", "none"
	};
	return (unsigned)result < RESULT_COUNT ? names[result] : "unknown";
}
