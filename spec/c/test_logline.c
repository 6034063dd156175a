/*
 * test_logline.c - unit tests of src/logline.c.
 *
 * Every line is parsed from a heap copy of exactly its length, so that a
 * read past the end shows up under AddressSanitizer.  Lines marked "real"
 * were written by dnsmasq 2.90 (Debian 12) on loopback: a front instance
 * with log-queries=extra (then plain log-queries), an upstream instance,
 * and a DNSSEC-validating instance.
 */
#include "check.h"
#include "logline.h"

#include <stdint.h>
#include <stdlib.h>

#define P "Nov 22 01:41:33 dnsmasq[19222]: " /* DESIGN.md section 3 prefix */
#define R "Nov 22 01:57:50 dnsmasq[3986]: "  /* real front instance, extra form */
#define U "Nov 22 01:57:50 dnsmasq[3983]: "  /* real upstream instance, extra form */

enum { NONE = -1 };

/* ---- helpers ---- */

static struct logline last;

/* Parses a heap copy of exactly n bytes of s; the spans point into the copy. */
static char *copy_of(const char *s, size_t n)
{
	char *buf = malloc(n ? n : 1);
	if (!buf) {
		perror("malloc");
		exit(2);
	}
	memcpy(buf, s, n);
	return buf;
}

static enum logline_kind parse_n(const char *s, size_t n)
{
	char *buf = copy_of(s, n);
	enum logline_kind k = logline_parse(buf, n, &last);
	/* Re-point the spans at the caller's string so they outlive buf (all
	 * but the static "type=0" of a plain "query"). */
	struct logline_span *spans[] = { &last.client, &last.name, &last.qtype, &last.server };
	for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++)
		if (spans[i]->ptr && !(spans[i] == &last.qtype && k == LOGLINE_QUERY && spans[i]->ptr[0] == 't' &&
		                       spans[i]->len == 6 && memcmp(spans[i]->ptr, "type=0", 6) == 0 &&
		                       !(spans[i]->ptr >= buf && spans[i]->ptr < buf + n))) {
			CHECK(spans[i]->ptr >= buf && spans[i]->ptr + spans[i]->len <= buf + n);
			spans[i]->ptr = s + (spans[i]->ptr - buf);
		}
	free(buf);
	return k;
}

static enum logline_kind parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static void check_span(const struct logline_span *got, const char *want)
{
	if (want)
		CHECK_SPAN(got->ptr, got->len, want);
	else
		CHECK_INT(got->len, 0);
}

/* Parses line and checks every field of the result. */
static void expect(const char *line, enum logline_kind kind, long long serial, const char *client,
                   const char *name, const char *qtype, const char *server, int source, int result)
{
	unsigned before = check_failed;

	CHECK_INT(parse(line), kind);
	CHECK_INT(last.kind, kind);
	CHECK_INT(last.has_serial, serial != NONE);
	CHECK_U64(last.serial, serial == NONE ? 0 : serial);
	check_span(&last.client, client);
	check_span(&last.name, name);
	check_span(&last.qtype, qtype);
	check_span(&last.server, server);
	CHECK_INT(last.source, source);
	CHECK_INT(last.result, result);
	if (check_failed != before)
		fprintf(stderr, "  ... in line \"%s\"\n", line);
}

static void expect_query(const char *line, long long serial, const char *client, const char *name, const char *qtype)
{
	expect(line, LOGLINE_QUERY, serial, client, name, qtype, NULL, 0, 0);
}

static void expect_forwarded(const char *line, long long serial, const char *client, const char *name, const char *server)
{
	expect(line, LOGLINE_FORWARDED, serial, client, name, NULL, server, 0, 0);
}

static void expect_answer(const char *line, long long serial, const char *client, const char *name, int source, int result)
{
	expect(line, LOGLINE_ANSWER, serial, client, name, NULL, NULL, source, result);
}

static void expect_other(const char *line, long long serial, const char *client)
{
	unsigned before = check_failed;
	CHECK_INT(parse(line), LOGLINE_OTHER);
	CHECK_INT(last.has_serial, serial != NONE);
	CHECK_U64(last.serial, serial == NONE ? 0 : serial);
	check_span(&last.client, client);
	if (check_failed != before)
		fprintf(stderr, "  ... in line \"%s\"\n", line);
}

static int span_is_lit(const struct logline_span *sp, const char *lit)
{
	return sp->len == strlen(lit) && memcmp(sp->ptr, lit, sp->len) == 0;
}

/* Every field zero (field by field: the padding between them is not the parser's). */
static int is_zero(const struct logline *l)
{
	return l->kind == 0 && l->has_serial == 0 && l->serial == 0 && !l->client.ptr && !l->client.len &&
	       !l->name.ptr && !l->name.len && !l->qtype.ptr && !l->qtype.len && !l->server.ptr &&
	       !l->server.len && l->source == 0 && l->result == 0;
}

static void expect_unparsed_n(const char *line, size_t n)
{
	unsigned before = check_failed;
	CHECK_INT(parse_n(line, n), LOGLINE_UNPARSED);
	CHECK(is_zero(&last));
	if (check_failed != before)
		fprintf(stderr, "  ... in line \"%.*s\"\n", (int)n, line);
}

static void expect_unparsed(const char *line)
{
	expect_unparsed_n(line, strlen(line));
}

/* ---- DESIGN.md section 3, verbatim ---- */

static void test_design_samples(void)
{
	expect_query(P "query[A] example.com from 192.168.1.10", NONE, "192.168.1.10", "example.com", "A");
	expect_query(P "4 192.168.1.10/56833 query[A] www.example.org from 192.168.1.10",
	             4, "192.168.1.10", "www.example.org", "A");
	expect_forwarded(P "4 192.168.1.10/56833 forwarded www.example.org to 8.8.8.8",
	                 4, "192.168.1.10", "www.example.org", "8.8.8.8");
	expect_answer(P "4 192.168.1.10/56833 reply www.example.org is <CNAME>",
	              4, "192.168.1.10", "www.example.org", SOURCE_UPSTREAM, RESULT_CNAME);
	expect_answer(P "4 192.168.1.10/56833 reply target.example.org is 10.9.9.9",
	              4, "192.168.1.10", "target.example.org", SOURCE_UPSTREAM, RESULT_ADDRESS);
	expect_answer(P "9 192.168.1.10/58999 config blocked.test is 0.0.0.0",
	              9, "192.168.1.10", "blocked.test", SOURCE_BLOCKED, RESULT_ADDRESS);
	expect_answer(P "12 192.168.1.10/47869 config other.lan is NXDOMAIN",
	              12, "192.168.1.10", "other.lan", SOURCE_LOCAL, RESULT_NXDOMAIN);
	expect_answer(P "114 192.168.1.10/45496 config 192.168.1.5 is nas.lan",
	              114, "192.168.1.10", "192.168.1.5", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer(P "8 192.168.1.10/45071 reply error is REFUSED",
	              8, "192.168.1.10", "error", SOURCE_UPSTREAM, RESULT_ERROR);
	expect_answer(P "config error is REFUSED (EDE: not ready)", NONE, NULL, "error", SOURCE_LOCAL, RESULT_ERROR);
	/* the syslog/logread prefix */
	expect_query("Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: query[A] example.com from 192.168.1.10",
	             NONE, "192.168.1.10", "example.com", "A");
}

/* ---- real dnsmasq 2.90 lines, log-queries=extra ---- */

static void test_real_extra(void)
{
	expect_other("Nov 22 01:57:47 dnsmasq[3986]: started, version 2.90 cachesize 150", NONE, NULL);
	expect_other("Nov 22 01:57:47 dnsmasq[3986]: compile time options: IPv6 GNU-getopt DBus no-UBus i18n IDN2 "
	             "DHCP DHCPv6 no-Lua TFTP conntrack ipset nftset auth cryptohash DNSSEC loop-detect inotify dumpfile",
	             NONE, NULL);
	expect_other("Nov 22 01:57:47 dnsmasq[3986]: using nameserver 127.0.0.2#5398", NONE, NULL);
	expect_other("Nov 22 01:57:47 dnsmasq[3986]: using only locally-known addresses for lan", NONE, NULL);
	expect_other("Nov 22 01:57:47 dnsmasq[3986]: read /tmp/dq/hosts - 3 names", NONE, NULL);
	expect_other("Nov 22 01:57:47 dnsmasq[3983]: warning: no upstream servers configured", NONE, NULL);
	expect_other("Nov 22 01:57:47 dnsmasq[3983]: cleared cache", NONE, NULL);

	/* A, AAAA, MX, TXT, CNAME, SRV through the upstream */
	expect_query(R "1 127.0.0.1/39408 query[A] www.example.org from 127.0.0.1", 1, "127.0.0.1", "www.example.org", "A");
	expect_forwarded(R "1 127.0.0.1/39408 forwarded www.example.org to 127.0.0.2#5398",
	                 1, "127.0.0.1", "www.example.org", "127.0.0.2#5398");
	expect_answer(R "1 127.0.0.1/39408 reply www.example.org is 10.9.9.9",
	              1, "127.0.0.1", "www.example.org", SOURCE_UPSTREAM, RESULT_ADDRESS);
	expect_query(R "2 127.0.0.1/49857 query[AAAA] www.example.org from 127.0.0.1", 2, "127.0.0.1", "www.example.org", "AAAA");
	expect_answer(R "2 127.0.0.1/49857 reply www.example.org is 2001:db8::9",
	              2, "127.0.0.1", "www.example.org", SOURCE_UPSTREAM, RESULT_ADDRESS);
	expect_query(R "3 127.0.0.1/55177 query[MX] example.org from 127.0.0.1", 3, "127.0.0.1", "example.org", "MX");
	expect_answer(R "3 127.0.0.1/55177 reply example.org is <MX>", 3, "127.0.0.1", "example.org", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_query(R "4 127.0.0.1/51868 query[TXT] example.org from 127.0.0.1", 4, "127.0.0.1", "example.org", "TXT");
	/* dnsmasq logs the strings of an upstream TXT answer as they are, spaces and all */
	expect_answer(R "4 127.0.0.1/51868 reply example.org is hello world",
	              4, "127.0.0.1", "example.org", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_answer("Nov 22 01:58:12 dnsmasq[4138]: 8 127.0.0.1/53280 reply t2.example.org is a",
	              8, "127.0.0.1", "t2.example.org", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_answer(R "5 127.0.0.1/60172 reply alias.example.org is <CNAME>",
	              5, "127.0.0.1", "alias.example.org", SOURCE_UPSTREAM, RESULT_CNAME);
	expect_query(R "6 127.0.0.1/45155 query[SRV] _sip._udp.example.org from 127.0.0.1",
	             6, "127.0.0.1", "_sip._udp.example.org", "SRV");
	expect_answer(R "6 127.0.0.1/45155 reply _sip._udp.example.org is <SRV>",
	              6, "127.0.0.1", "_sip._udp.example.org", SOURCE_UPSTREAM, RESULT_RECORD);

	/* address=/blocked.test/0.0.0.0 and address=/blocked6.test/:: */
	expect_query(R "7 127.0.0.1/44439 query[A] blocked.test from 127.0.0.1", 7, "127.0.0.1", "blocked.test", "A");
	expect_answer(R "7 127.0.0.1/44439 config blocked.test is 0.0.0.0",
	              7, "127.0.0.1", "blocked.test", SOURCE_BLOCKED, RESULT_ADDRESS);
	expect_answer(R "9 127.0.0.1/35315 config blocked6.test is ::",
	              9, "127.0.0.1", "blocked6.test", SOURCE_BLOCKED, RESULT_ADDRESS);
	expect_answer(R "8 127.0.0.1/46003 reply error is REFUSED", 8, "127.0.0.1", "error", SOURCE_UPSTREAM, RESULT_ERROR);
	/* local=/lan/ */
	expect_answer(R "10 127.0.0.1/58221 config unknown.lan is NXDOMAIN",
	              10, "127.0.0.1", "unknown.lan", SOURCE_LOCAL, RESULT_NXDOMAIN);
	/* addn-hosts */
	expect_answer(R "11 127.0.0.1/54349 /tmp/dq/hosts nas.lan is 192.168.1.5",
	              11, "127.0.0.1", "nas.lan", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer(R "12 127.0.0.1/39649 /tmp/dq/hosts fromhosts.example.org is 10.1.1.1",
	              12, "127.0.0.1", "fromhosts.example.org", SOURCE_LOCAL, RESULT_ADDRESS);
	/* reverse lookups */
	expect_query(R "15 127.0.0.1/39563 query[PTR] 5.0.0.127.in-addr.arpa from 127.0.0.1",
	             15, "127.0.0.1", "5.0.0.127.in-addr.arpa", "PTR");
	expect_forwarded(R "15 127.0.0.1/39563 forwarded 5.0.0.127.in-addr.arpa to 127.0.0.2#5398",
	                 15, "127.0.0.1", "5.0.0.127.in-addr.arpa", "127.0.0.2#5398");
	expect_answer(R "16 127.0.0.1/42212 /tmp/dq/hosts 192.168.1.5 is nas.lan",
	              16, "127.0.0.1", "192.168.1.5", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer(R "123 127.0.0.1/36681 reply 10.9.9.9 is www.example.org",
	              123, "127.0.0.1", "10.9.9.9", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_answer("Nov 22 01:58:14 dnsmasq[4138]: 18 127.0.0.1/36891 reply 2001:db8::9 is www.example.org",
	              18, "127.0.0.1", "2001:db8::9", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_answer(U "117 127.0.0.1/52213 config 10.9.9.9 is www.example.org",
	              117, "127.0.0.1", "10.9.9.9", SOURCE_LOCAL, RESULT_RECORD);
	expect_query("Nov 22 01:58:14 dnsmasq[4138]: 18 127.0.0.1/36891 query[PTR] "
	             "9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa from 127.0.0.1",
	             18, "127.0.0.1", "9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR");
	/* +tcp: a forked child with its own PID */
	expect_query("Nov 22 01:57:50 dnsmasq[4055]: 17 127.0.0.1/37571 query[A] tcp.example.org from 127.0.0.1",
	             17, "127.0.0.1", "tcp.example.org", "A");
	expect_answer("Nov 22 01:57:50 dnsmasq[4055]: 17 127.0.0.1/37571 reply error is REFUSED",
	              17, "127.0.0.1", "error", SOURCE_UPSTREAM, RESULT_ERROR);
	expect_query(R "119 127.0.0.1/56648 query[HTTPS] example.org from 127.0.0.1", 119, "127.0.0.1", "example.org", "HTTPS");
	expect_query(R "120 127.0.0.1/41084 query[NS] . from 127.0.0.1", 120, "127.0.0.1", ".", "NS");
	expect_forwarded(R "120 127.0.0.1/41084 forwarded . to 127.0.0.2#5398", 120, "127.0.0.1", ".", "127.0.0.2#5398");
	/* an upstream's null address is not the router blocking it */
	expect_answer(R "117 127.0.0.1/59992 reply refused.test is 0.0.0.0",
	              117, "127.0.0.1", "refused.test", SOURCE_UPSTREAM, RESULT_ADDRESS);

	/* the upstream instance */
	expect_answer(U "1 127.0.0.1/52636 config www.example.org is 10.9.9.9",
	              1, "127.0.0.1", "www.example.org", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer(U "2 127.0.0.1/38138 config www.example.org is 2001:db8::9",
	              2, "127.0.0.1", "www.example.org", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer(U "3 127.0.0.1/46047 config example.org is <MX>", 3, "127.0.0.1", "example.org", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer(U "4 127.0.0.1/38651 config example.org is <TXT>", 4, "127.0.0.1", "example.org", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer(U "5 127.0.0.1/34890 config alias.example.org is <CNAME>",
	              5, "127.0.0.1", "alias.example.org", SOURCE_LOCAL, RESULT_CNAME);
	expect_answer(U "7 127.0.0.1/36682 config error is REFUSED (EDE: not ready)",
	              7, "127.0.0.1", "error", SOURCE_LOCAL, RESULT_ERROR);
	expect_answer(U "111 127.0.0.1/39136 config refused.test is 0.0.0.0",
	              111, "127.0.0.1", "refused.test", SOURCE_BLOCKED, RESULT_ADDRESS);
	expect_answer("Nov 22 01:58:24 dnsmasq[4138]: 30 127.0.0.1/35797 config error is REFUSED (EDE: invalid data)",
	              30, "127.0.0.1", "error", SOURCE_LOCAL, RESULT_ERROR);
}

static void test_real_cache_and_negative(void)
{
#define C "Nov 22 01:58:12 dnsmasq[4138]: "
	expect_answer(C "2 127.0.0.1/32994 cached www.example.org is 10.9.9.9",
	              2, "127.0.0.1", "www.example.org", SOURCE_CACHE, RESULT_ADDRESS);
	expect_answer(C "3 127.0.0.1/37776 reply nothere.example.org is NXDOMAIN",
	              3, "127.0.0.1", "nothere.example.org", SOURCE_UPSTREAM, RESULT_NXDOMAIN);
	expect_answer(C "5 127.0.0.1/32995 reply v4only.example.org is NODATA-IPv6",
	              5, "127.0.0.1", "v4only.example.org", SOURCE_UPSTREAM, RESULT_NODATA);
	expect_answer(C "7 127.0.0.1/49408 config nas.lan is NODATA-IPv6", 7, "127.0.0.1", "nas.lan", SOURCE_LOCAL, RESULT_NODATA);
	expect_answer(C "12 127.0.0.1/42162 cached alias.example.org is <CNAME>",
	              12, "127.0.0.1", "alias.example.org", SOURCE_CACHE, RESULT_CNAME);
	expect_answer(C "12 127.0.0.1/42162 cached www.example.org is 10.9.9.9",
	              12, "127.0.0.1", "www.example.org", SOURCE_CACHE, RESULT_ADDRESS);
#undef C
	/* two identical queries in flight: the second is answered with the first */
	expect_query("Nov 22 01:58:40 dnsmasq[4138]: 32 127.0.0.1/39899 query[A] dup2.slow.test from 127.0.0.1",
	             32, "127.0.0.1", "dup2.slow.test", "A");
	expect("Nov 22 01:58:41 dnsmasq[4138]: 32 127.0.0.1/39899 reply query is duplicate",
	       LOGLINE_DUPLICATE, 32, "127.0.0.1", NULL, NULL, NULL, SOURCE_UPSTREAM, RESULT_DUPLICATE);
	expect("reply query is duplicate", LOGLINE_DUPLICATE, NONE, NULL, NULL, NULL, NULL, SOURCE_UPSTREAM, RESULT_DUPLICATE);
	/* odd names from a crafted client */
	expect_query("Nov 22 01:58:23 dnsmasq[4138]: 24 127.0.0.1/35797 query[A] <name unprintable> from 127.0.0.1",
	             24, "127.0.0.1", "<name unprintable>", "A");
	expect_forwarded("Nov 22 01:58:23 dnsmasq[4138]: 24 127.0.0.1/35797 forwarded <name unprintable> to 127.0.0.2#5398",
	                 24, "127.0.0.1", "<name unprintable>", "127.0.0.2#5398");
	expect_answer("Nov 22 01:58:23 dnsmasq[4138]: 24 127.0.0.1/35797 reply <name unprintable> is NXDOMAIN",
	              24, "127.0.0.1", "<name unprintable>", SOURCE_UPSTREAM, RESULT_NXDOMAIN);
	expect_query("Nov 22 01:58:23 dnsmasq[4138]: 25 127.0.0.1/35797 query[A] q\"uo\\te.example.org from 127.0.0.1",
	             25, "127.0.0.1", "q\"uo\\te.example.org", "A");
	expect_answer("Nov 22 01:58:23 dnsmasq[4138]: 25 127.0.0.1/35797 reply q\"uo\\te.example.org is NXDOMAIN",
	              25, "127.0.0.1", "q\"uo\\te.example.org", SOURCE_UPSTREAM, RESULT_NXDOMAIN);
	expect_query("Nov 22 01:58:24 dnsmasq[4138]: 29 127.0.0.1/35797 query[type=999] t999.example.org from 127.0.0.1",
	             29, "127.0.0.1", "t999.example.org", "type=999");
	/* a question of type 0 is logged as "query", without brackets */
	expect_query("Nov 22 01:58:24 dnsmasq[4138]: 27 127.0.0.1/35797 query . from 127.0.0.1", 27, "127.0.0.1", ".", "type=0");
	/* Real, but refused: dnsmasq prints a name with a space as it is; names have no spaces here. */
	expect_unparsed("Nov 22 01:58:24 dnsmasq[4138]: 26 127.0.0.1/35797 query[A] sp ace.example.org from 127.0.0.1");
	expect_unparsed("Nov 22 01:58:24 dnsmasq[4138]: 26 127.0.0.1/35797 forwarded sp ace.example.org to 127.0.0.2#5398");
}

static void test_real_plain(void)
{
#define L "Nov 22 01:59:37 dnsmasq[4594]: "
	expect_query(L "query[A] www.example.org from 127.0.0.1", NONE, "127.0.0.1", "www.example.org", "A");
	expect_forwarded(L "forwarded www.example.org to 127.0.0.2#5398", NONE, NULL, "www.example.org", "127.0.0.2#5398");
	expect_forwarded(L "forwarded www.example.org to ::1#5396", NONE, NULL, "www.example.org", "::1#5396");
	expect_answer(L "reply www.example.org is 10.9.9.9", NONE, NULL, "www.example.org", SOURCE_UPSTREAM, RESULT_ADDRESS);
	expect_answer(L "cached www.example.org is 10.9.9.9", NONE, NULL, "www.example.org", SOURCE_CACHE, RESULT_ADDRESS);
	expect_query(L "query[AAAA] www.example.org from ::1", NONE, "::1", "www.example.org", "AAAA");
	expect_answer(L "reply www.example.org is 2001:db8::9", NONE, NULL, "www.example.org", SOURCE_UPSTREAM, RESULT_ADDRESS);
	expect_query(L "query[A] blocked.test from ::1", NONE, "::1", "blocked.test", "A");
	expect_answer(L "config blocked.test is 0.0.0.0", NONE, NULL, "blocked.test", SOURCE_BLOCKED, RESULT_ADDRESS);
	expect_answer(L "config unknown.lan is NXDOMAIN", NONE, NULL, "unknown.lan", SOURCE_LOCAL, RESULT_NXDOMAIN);
	expect_query("Nov 22 01:59:37 dnsmasq[4614]: query[MX] example.org from 127.0.0.1", NONE, "127.0.0.1", "example.org", "MX");
	expect_answer("Nov 22 01:59:37 dnsmasq[4614]: reply example.org is <MX>", NONE, NULL, "example.org", SOURCE_UPSTREAM, RESULT_RECORD);
#undef L
}

static void test_real_dnssec(void)
{
#define S "Nov 22 01:58:42 dnsmasq[4462]: "
	expect_other(S "DNSSEC validation enabled", NONE, NULL);
	expect_other(S "configured with trust anchor for <root> keytag 20326", NONE, NULL);
	expect_query(S "1 127.0.0.1/39878 query[A] www.example.org from 127.0.0.1", 1, "127.0.0.1", "www.example.org", "A");
	/* DNSSEC queries of their own carry the serial only */
	expect_other(S "2 dnssec-query[DS] org to 127.0.0.2#5398", 2, NULL);
	expect_other(S "2 dnssec-retry[DS] org to 127.0.0.2#5398", 2, NULL);
	expect_other(S "validation of org failed: resource limit exceeded.", NONE, NULL);
	/* the validation result carries the client too (not only the serial) */
	expect_other(S "1 127.0.0.1/39878 validation www.example.org is ABANDONED", 1, "127.0.0.1");
#undef S
	/* and without a prefix, as agg:feed may get them */
	expect_other("2 dnssec-query[DS] org to 127.0.0.2#5398", 2, NULL);
	expect_other("1 127.0.0.1/39878 validation www.example.org is ABANDONED", 1, "127.0.0.1");
	expect_other("7 validation example.com is SECURE", 7, NULL);
	expect_other("validation example.com is BOGUS (EDE: DNSSEC bogus)", NONE, NULL);
	expect_other("dnssec-query[DNSKEY] example.com to 8.8.8.8", NONE, NULL);
	/* DNSSEC records printed as answers (dnssec.c) are bookkeeping, not outcomes */
	expect_other("5 reply example.com is DNSKEY keytag 20326, algo 8", 5, NULL);
	expect_other("reply com is DS keytag 19718, algo 13, digest 2", NONE, NULL);
	expect_other("reply example.com is DS keytag 1, algo 250, digest 9 (not supported)", NONE, NULL);
	expect_other("reply example.com is no DS", NONE, NULL);
	expect_other("reply example.com is no DS/cut", NONE, NULL);
	expect_other("reply example.com is BOGUS DS", NONE, NULL);
	expect_other("reply example.com is BOGUS DNSKEY", NONE, NULL);
	/* (DNSSEC signed) only appears in the extra form */
	expect_answer(P "3 10.0.0.2/1234 reply example.com is 93.184.215.14 (DNSSEC signed)",
	              3, "10.0.0.2", "example.com", SOURCE_UPSTREAM, RESULT_ADDRESS);
	expect_answer(P "3 10.0.0.2/1234 cached example.com is <CNAME> (DNSSEC signed)",
	              3, "10.0.0.2", "example.com", SOURCE_CACHE, RESULT_CNAME);
}

/* Lines of the releases OpenWrt ships before Debian's 2.90, captured
 * with log-queries=extra (README, "dnsmasq versions"). */
static void test_real_older_releases(void)
{
#define O "Dec  2 09:13:09 dnsmasq[20449]: " /* 2.80 */
	expect_other(O "using local addresses only for domain lan", NONE, NULL);
	expect_other(O "using nameserver 127.0.0.3#9 for domain dead.test ", NONE, NULL);
	/* before 2.89 the server has no #PORT, even off port 53 */
	expect_forwarded(O "4 127.0.0.11/51858 forwarded example.org to 127.0.0.2", 4, "127.0.0.11",
	                 "example.org", "127.0.0.2");
	/* before 2.89 HTTPS (65) and SVCB (64) have no name */
	expect_query(O "6 127.0.0.11/51295 query[type=65] example.org from 127.0.0.11", 6, "127.0.0.11",
	             "example.org", "type=65");
	expect_answer(O "6 127.0.0.11/51295 reply error is REFUSED", 6, "127.0.0.11", "error", SOURCE_UPSTREAM,
	              RESULT_ERROR);
	/* 2.80 and 2.85 log an upstream TXT answer's strings on lines of their
	 * own (rfc1035.c), without serial and client */
	expect_answer(O "reply example.org is hello", NONE, NULL, "example.org", SOURCE_UPSTREAM, RESULT_RECORD);
#undef O
	/* 2.80 and 2.85 with DNSSEC: a query's DNSSEC lines have "*" for serial
	 * (bookkeeping: the client is not taken) */
#define O "Dec  2 09:49:35 dnsmasq[6623]: " /* 2.85 */
	expect_other(O "* 127.0.0.11/54463 dnssec-query[DS] org to 127.0.0.2", NONE, NULL);
	expect_other(O "* 127.0.0.11/54463 dnssec retry to 127.0.0.2", NONE, NULL);
	expect_other(O "* 127.0.0.11/54463 reply org is BOGUS DS", NONE, NULL);
	expect_other(O "Insecure DS reply received for org, check domain configuration and upstream DNS server "
	               "DNSSEC support", NONE, NULL);
	expect_other(O "1 127.0.0.11/54463 validation example.org is BOGUS", 1, "127.0.0.11");
#undef O
	/* and without a prefix, as agg:feed may get them */
	expect_other("* 127.0.0.11/54463 dnssec-query[DS] org to 127.0.0.2", NONE, NULL);
	expect_other("* 127.0.0.11/54463 reply org is BOGUS DS", NONE, NULL);
	expect_unparsed("* 127.0.0.11/54463 query[A] example.org from 127.0.0.11");
	expect_unparsed("* 127.0.0.11 dnssec-query[DS] org to 127.0.0.2");
	expect_unparsed("* 127.0.0.11/54463 ");
	/* 2.86: the records it does not cache are "<TYPE>", as later */
	expect_answer("Dec  2 09:13:24 dnsmasq[21192]: 4 127.0.0.11/56186 reply example.org is <MX>", 4, "127.0.0.11",
	              "example.org", SOURCE_UPSTREAM, RESULT_RECORD);
	/* 2.89 names an ANY answer's records "(null)" */
	expect_answer("Dec  2 09:13:35 dnsmasq[21865]: 118 127.0.0.11/41075 reply example.org is (null)", 118,
	              "127.0.0.11", "example.org", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_other("Dec  2 09:13:29 dnsmasq[21550]: using only locally-known addresses for lan", NONE, NULL);
}

/* ---- prefixes ---- */

static void test_prefixes(void)
{
	const char *msg = "query[A] example.com from 192.168.1.10";
	static const char *const prefixes[] = {
		"Nov 22 01:41:33 dnsmasq[19222]: ",
		"Nov  2 01:41:33 dnsmasq[1]: ",
		"Jan  1 00:00:00 dnsmasq[1]: ",
		"Dec 31 23:59:60 dnsmasq[4294967295]: ",
		"Nov 22 01:41:33 dnsmasq: ",
		"Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: ",
		"Sat Feb  7 09:05:00 2026 local0.debug dnsmasq[31]: ",
		"Wed Nov 22 01:41:33 2026 daemon.info dnsmasq: ",
		"dnsmasq[12]: ",
		"dnsmasq: ",
		"",
	};
	char buf[256];

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s", prefixes[i], msg);
		expect_query(buf, NONE, "192.168.1.10", "example.com", "A");
		snprintf(buf, sizeof buf, "%sUDP 4 192.168.1.10/56833 %s", prefixes[i], msg);
		expect_query(buf, 4, "192.168.1.10", "example.com", "A");
	}

	/* other dnsmasq processes: dnsmasq lines, not query-log lines */
	expect_other("Nov 22 01:41:33 dnsmasq-dhcp[12]: DHCPACK(br-lan) 192.168.1.100 aa:bb:cc:dd:ee:ff phone", NONE, NULL);
	expect_other("Sun Nov 22 01:41:33 2026 daemon.info dnsmasq-dhcp[12]: DHCPREQUEST(br-lan) 192.168.1.100 aa:bb:cc:dd:ee:ff",
	             NONE, NULL);
	expect_other("Nov 22 01:41:33 dnsmasq-tftp[3]: sent /srv/tftp/pxelinux.0 to 192.168.1.7", NONE, NULL);
	expect_other("dnsmasq-dhcp: DHCP, IP range 192.168.1.100 -- 192.168.1.249, lease time 12h", NONE, NULL);
	/* other programs are not dnsmasq's */
	expect_unparsed("Sun Nov 22 01:41:33 2026 daemon.info odhcpd[1234]: Using a RA lifetime of 0 seconds on br-lan");
	expect_unparsed("Nov 22 01:41:33 sshd[5]: query[A] example.com from 192.168.1.10");
	expect_unparsed("Nov 22 01:41:33 router dnsmasq[5]: query[A] example.com from 192.168.1.10");

	/* strict timestamps */
	static const char *const bad[] = {
		"Nox 22 01:41:33 dnsmasq[1]: ",
		"nov 22 01:41:33 dnsmasq[1]: ",
		"Nov 2 01:41:33 dnsmasq[1]: ",
		"Nov 02 01:41:33 dnsmasq[1]: ",
		"Nov 32 01:41:33 dnsmasq[1]: ",
		"Nov  0 01:41:33 dnsmasq[1]: ",
		"Nov 22 24:41:33 dnsmasq[1]: ",
		"Nov 22 01:60:33 dnsmasq[1]: ",
		"Nov 22 01:41:61 dnsmasq[1]: ",
		"Nov 22 1:41:33 dnsmasq[1]: ",
		"Nov 22 01:41 dnsmasq[1]: ",
		"Nov 22 01-41-33 dnsmasq[1]: ",
		"Nov 22 01:41:33  dnsmasq[1]: ",
		"Nov 22 01:41:33 dnsmasq[]: ",
		"Nov 22 01:41:33 dnsmasq[x]: ",
		"Nov 22 01:41:33 dnsmasq[1: ",
		"Nov 22 01:41:33 dnsmasq[4294967296]: ",
		"Nov 22 01:41:33 dnsmasq[1] ",
		"Nov 22 01:41:33 dnsmasq[1]:",
		"Nov 22 01:41:33 dnsmasq-[1]: ",
		"Nov 22 01:41:33 DNSMASQ[1]: ",
		"Nov 22 01:41:33 ",
		"Sun Nov 22 01:41:33 daemon.info dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 26 daemon.info dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 20266 daemon.info dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 2026 dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 2026 daemon. dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 2026 .info dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 2026 daemoninfo dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 2026 daemon.INFO dnsmasq[1]: ",
		"Sun 22 Nov 01:41:33 2026 daemon.info dnsmasq[1]: ",
		"Sun Nov 22 01:41:33 2026  daemon.info dnsmasq[1]: ",
		"Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: ",
		"Sun Sun 22 01:41:33 2026 daemon.info dnsmasq[1]: ",
		"2026-11-22T01:41:33 dnsmasq[1]: ",
		"dnsmasq[1]:",
		"dnsmasq ",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s", bad[i], msg);
		expect_unparsed(buf);
	}
	/* a prefix with nothing after it */
	expect_unparsed("Nov 22 01:41:33 dnsmasq[1]: ");
	expect_unparsed("Nov 22 01:41:33 dnsmasq-dhcp[1]: ");
	expect_unparsed("Nov 22 01:41:33 dnsmasq[1]: UDP ");
	expect_unparsed("Nov 22 01:41:33 dnsmasq[1]: 4 ");
	expect_unparsed("Nov 22 01:41:33 dnsmasq[1]: 4 192.168.1.10/56833 ");
}

/* ---- log-queries=proto and the extra form ---- */

static void test_extra_and_proto(void)
{
	expect_query(P "UDP 4 192.168.1.10/56833 query[A] www.example.org from 192.168.1.10",
	             4, "192.168.1.10", "www.example.org", "A");
	expect_query(P "TCP 5 192.168.1.10/40000 query[AAAA] www.example.org from 192.168.1.10",
	             5, "192.168.1.10", "www.example.org", "AAAA");
	expect_forwarded(P "TCP 5 192.168.1.10/40000 forwarded www.example.org to 8.8.8.8", 5, "192.168.1.10", "www.example.org", "8.8.8.8");
	expect_answer("UDP 6 192.168.1.10/1 cached www.example.org is 10.9.9.9",
	              6, "192.168.1.10", "www.example.org", SOURCE_CACHE, RESULT_ADDRESS);
	/* an IPv6 client, scoped in the extra field but not in "from" */
	expect_query(P "7 fe80::1%br-lan/5353 query[AAAA] printer.lan from fe80::1", 7, "fe80::1", "printer.lan", "AAAA");
	expect_answer(P "7 fe80::1%br-lan/5353 config printer.lan is fd00::7", 7, "fe80::1%br-lan", "printer.lan", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_query(P "8 2001:db8::42/65535 query[A] example.com from 2001:db8::42", 8, "2001:db8::42", "example.com", "A");
	expect_query(P "9 ::ffff:192.168.1.2/53 query[A] example.com from ::ffff:192.168.1.2",
	             9, "::ffff:192.168.1.2", "example.com", "A");
	/* the serial is a uint32 */
	expect_query(P "4294967295 192.168.1.10/1 query[A] example.com from 192.168.1.10",
	             4294967295LL, "192.168.1.10", "example.com", "A");
	expect_query(P "0 192.168.1.10/1 query[A] example.com from 192.168.1.10", 0, "192.168.1.10", "example.com", "A");
	expect_unparsed(P "4294967296 192.168.1.10/1 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "99999999999 192.168.1.10/1 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "00000000001 192.168.1.10/1 query[A] example.com from 192.168.1.10");
	/* 1 to 10 digits: 8 and more are read a digit at a time, fewer a word at a time on
	 * 64-bit little-endian machines */
	static const char *const serials[] = { "7", "42", "105", "9999", "10000", "654321", "1234567",
	                                       "09876543", "12345678", "999999999", "1000000000", "4000000000" };
	for (size_t i = 0; i < sizeof serials / sizeof serials[0]; i++) {
		char line[160];
		snprintf(line, sizeof line, P "%s 192.168.1.10/1 query[A] example.com from 192.168.1.10", serials[i]);
		expect_query(line, strtoll(serials[i], NULL, 10), "192.168.1.10", "example.com", "A");
		snprintf(line, sizeof line, P "%s. 192.168.1.10/1 query[A] example.com from 192.168.1.10", serials[i]);
		expect_unparsed(line);
	}
	/* malformed client or port */
	expect_unparsed(P "4 192.168.1.10 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 192.168.1.10/ query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 192.168.1.10/65536 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 192.168.1.10/5x query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 192.168.1.256/5 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 192.168.1/5 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 1:2:3/5 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 192.168.1.10%eth0/5 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 fe80::1%/5 query[A] example.com from fe80::1");
	expect_unparsed(P "4  192.168.1.10/5 query[A] example.com from 192.168.1.10");
	expect_unparsed(P "4 192.168.1.10/5  query[A] example.com from 192.168.1.10");
	expect_unparsed(P "UDP  4 192.168.1.10/5 query[A] example.com from 192.168.1.10");
	expect_unparsed("4 192.168.1.10/56833 started, version 2.90"); /* no prefix: no evidence */
	expect_unparsed("4 something else");
	expect_other(P "4 something else", 4, NULL);
}

/* ---- every verb and answer ---- */

static void test_queries(void)
{
	expect_query("query[A] example.com from 192.168.1.10", NONE, "192.168.1.10", "example.com", "A");
	expect_query("query[type=65] example.com from 10.0.0.1", NONE, "10.0.0.1", "example.com", "type=65");
	expect_query("query[NSAP_PTR] example.com from 10.0.0.1", NONE, "10.0.0.1", "example.com", "NSAP_PTR");
	expect_query("query[ABCDEFGHIJKLMNOP] example.com from 10.0.0.1", NONE, "10.0.0.1", "example.com", "ABCDEFGHIJKLMNOP");
	expect_query("auth[A] example.com from 10.0.0.1", NONE, "10.0.0.1", "example.com", "A");
	expect_query("query[A] \xc3\xa9t\xc3\xa9.example from 10.0.0.1", NONE, "10.0.0.1", "\xc3\xa9t\xc3\xa9.example", "A");
	expect_unparsed("query[ABCDEFGHIJKLMNOPQ] example.com from 10.0.0.1");
	expect_unparsed("query[] example.com from 10.0.0.1");
	expect_unparsed("query[A example.com from 10.0.0.1");
	expect_unparsed("query[A]x example.com from 10.0.0.1");
	expect_unparsed("query[A.B] example.com from 10.0.0.1");
	expect_unparsed("queryx example.com from 10.0.0.1");
	expect_unparsed("query[A] example.com from 10.0.0.1 trailing");
	expect_unparsed("query[A] example.com from 10.0.0.1 ");
	expect_unparsed("query[A] example.com from 10.0.0.300");
	expect_unparsed("query[A] example.com from host.lan");
	expect_unparsed("query[A] example.com to 10.0.0.1");
	expect_unparsed("query[A]  example.com from 10.0.0.1");
	expect_unparsed("query[A] example.com  from 10.0.0.1");
	expect_unparsed("query[A] from 10.0.0.1");
	/* a prefix is no excuse for a broken query line */
	expect_unparsed(P "query[A] example.com from 10.0.0.1 trailing");
	expect_unparsed(P "query[A] example.com");
}

static void test_forwarded(void)
{
	expect_forwarded("forwarded example.com to 8.8.8.8", NONE, NULL, "example.com", "8.8.8.8");
	expect_forwarded("forwarded example.com to 2001:db8::1", NONE, NULL, "example.com", "2001:db8::1");
	expect_forwarded("forwarded example.com to 127.0.0.1#5353", NONE, NULL, "example.com", "127.0.0.1#5353");
	expect_forwarded("forwarded example.com to 2001:4860:4860:0:0:0:0:8888", NONE, NULL, "example.com", "2001:4860:4860:0:0:0:0:8888");
	expect_unparsed("forwarded example.com to 8.8.8.8#");
	expect_unparsed("forwarded example.com to 8.8.8.8#99999");
	expect_unparsed("forwarded example.com to 8.8.8.8 ");
	expect_unparsed("forwarded example.com to 8.8.8.8#53 x");
	expect_unparsed("forwarded example.com to dns.google");
	expect_unparsed("forwarded example.com to fe80::1%eth0");
	expect_unparsed("forwarded example.com");
	expect_unparsed("forwarded example.com from 8.8.8.8");
}

static void test_answers(void)
{
	/* every source */
	expect_answer("reply a.example is 1.2.3.4", NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_ADDRESS);
	expect_answer("cached a.example is 1.2.3.4", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_ADDRESS);
	expect_answer("cached-stale a.example is 1.2.3.4", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_ADDRESS);
	expect_answer("config a.example is 1.2.3.4", NONE, NULL, "a.example", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer("config a.example is 0.0.0.0", NONE, NULL, "a.example", SOURCE_BLOCKED, RESULT_ADDRESS);
	expect_answer("config a.example is ::", NONE, NULL, "a.example", SOURCE_BLOCKED, RESULT_ADDRESS);
	expect_answer("config a.example is ::1", NONE, NULL, "a.example", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer("DHCP laptop.lan is 192.168.1.100", NONE, NULL, "laptop.lan", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer("DHCP 192.168.1.100 is laptop.lan", NONE, NULL, "192.168.1.100", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer("auth www.zone.example is 10.0.0.8", NONE, NULL, "www.zone.example", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer("/etc/hosts localhost is 127.0.0.1", NONE, NULL, "localhost", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer("/etc/hosts 127.0.0.1 is localhost", NONE, NULL, "127.0.0.1", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer("/tmp/hosts/dhcp.cfg01411c nas.lan is 192.168.1.5", NONE, NULL, "nas.lan", SOURCE_LOCAL, RESULT_ADDRESS);
	expect_answer("/etc/hosts ip6-localhost is ::1", NONE, NULL, "ip6-localhost", SOURCE_LOCAL, RESULT_ADDRESS);
	/* every result */
	expect_answer("reply a.example is <CNAME>", NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_CNAME);
	expect_answer("reply a.example is NXDOMAIN", NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_NXDOMAIN);
	expect_answer("cached a.example is NODATA", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_NODATA);
	expect_answer("cached a.example is NODATA-IPv4", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_NODATA);
	expect_answer("cached a.example is NODATA-IPv6", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_NODATA);
	expect_answer("config a.example is <SRV>", NONE, NULL, "a.example", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer("cached a.example is <TXT>", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_RECORD);
	expect_answer("reply a.example is <HTTPS>", NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_answer("reply a.example is <type=65>", NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_answer("config 192.168.1.5 is nas.lan", NONE, NULL, "192.168.1.5", SOURCE_LOCAL, RESULT_RECORD);
	expect_answer("config 192.168.1.5 is NXDOMAIN", NONE, NULL, "192.168.1.5", SOURCE_LOCAL, RESULT_NXDOMAIN);
	expect_answer("cached fd00::5 is <name unprintable>", NONE, NULL, "fd00::5", SOURCE_CACHE, RESULT_RECORD);
	/* errors, from any source */
	expect_answer("reply error is SERVFAIL", NONE, NULL, "error", SOURCE_UPSTREAM, RESULT_ERROR);
	expect_answer("reply error is REFUSED (EDE: not ready)", NONE, NULL, "error", SOURCE_UPSTREAM, RESULT_ERROR);
	expect_answer("config error is REFUSED", NONE, NULL, "error", SOURCE_LOCAL, RESULT_ERROR);
	expect_answer("reply error is not implemented", NONE, NULL, "error", SOURCE_UPSTREAM, RESULT_ERROR);
	expect_answer("reply error is 5", NONE, NULL, "error", SOURCE_UPSTREAM, RESULT_ERROR);
	expect_answer("reply error is 9 (EDE: NSEC(3) missing)", NONE, NULL, "error", SOURCE_UPSTREAM, RESULT_ERROR);
	expect_answer("cached a.example is SERVFAIL", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_ERROR);
	expect_answer("cached-stale a.example is REFUSED (EDE: stale answer)", NONE, NULL, "a.example", SOURCE_CACHE, RESULT_ERROR);
	expect_answer("reply error is SERVFAIL (EDE: DNSSEC bogus)", NONE, NULL, "error", SOURCE_UPSTREAM, RESULT_ERROR);
	/* TXT strings from upstream are logged raw (any text, even empty) */
	expect_answer("reply a.example is v=spf1 -all", NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_RECORD);
	expect_answer("reply a.example is ", NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_RECORD);
	/* not answers */
	expect_unparsed("config a.example is 1.2.3.4 trailing");
	expect_unparsed("config a.example is 1.2.3.4 (DNSSEC signed");
	expect_unparsed("config a.example is 1.2.3.4 (EDE: )");
	expect_unparsed("cached a.example is 1.2.3");
	expect_unparsed("cached a.example is ");
	expect_unparsed("cached a.example is");
	expect_unparsed("cached a.example");
	expect_unparsed("cached a.example is <>");
	expect_unparsed("cached a.example is <CNAME");
	expect_unparsed("cached a.example is <SR V>");
	expect_unparsed("config a.example is other.example"); /* a name answer needs an address question */
	expect_unparsed("config a.example is 5");
	expect_unparsed("config 1.2.3.4 is a b");
	expect_unparsed("config error is 123456");
	expect_unparsed("cached query is duplicate");
	expect_unparsed("DHCPx a.example is 1.2.3.4");
	expect_unparsed("/ a.example is nowhere");
	expect_unparsed("reply a.example was 1.2.3.4");
	expect_unparsed(P "cached a.example is 1.2.3.4 junk");
}

static void test_other(void)
{
	/* known query-log verbs that count nothing */
	expect_other("ipset add vpn,direct 93.184.215.14 example.com", NONE, NULL);
	expect_other("nftset add inet#fw4#vpn 93.184.215.14 example.com", NONE, NULL);
	expect_other(P "3 192.168.1.10/5 ipset add vpn 93.184.215.14 example.com", 3, "192.168.1.10");
	expect_other("validation example.com is INSECURE", NONE, NULL);
	/* any message after dnsmasq's prefix */
	expect_other(P "started, version 2.90 cachesize 150", NONE, NULL);
	expect_other(P "failed to access /tmp/x: No such file or directory", NONE, NULL);
	expect_other(P "Maximum number of concurrent DNS queries reached (max: 150)", NONE, NULL);
	expect_other(P "exiting on receipt of SIGTERM", NONE, NULL);
	/* ... but without one there is no evidence it is dnsmasq's */
	expect_unparsed("started, version 2.90 cachesize 150");
	expect_unparsed("using nameserver 127.0.0.2#53");
	expect_unparsed("read /etc/hosts - 7 names");
	expect_unparsed("ipset add");
	expect_unparsed("ipset delete x 1.2.3.4 y");
	expect_unparsed("validation");
	expect_unparsed("hello");
	expect_unparsed("");
	expect_unparsed(" ");
	expect_unparsed("\n");
}

/* ---- names, bytes and lengths ---- */

static void test_names_and_bytes(void)
{
	char name[300], line[400];

	memset(name, 'a', sizeof name);
	for (size_t i = 63; i < sizeof name; i += 64)
		name[i] = '.';
	name[255] = '\0';
	snprintf(line, sizeof line, "query[A] %s from 10.0.0.1", name);
	expect_query(line, NONE, "10.0.0.1", name, "A");
	snprintf(line, sizeof line, "cached %s is 10.0.0.1", name);
	expect_answer(line, NONE, NULL, name, SOURCE_CACHE, RESULT_ADDRESS);
	name[255] = 'a';
	name[256] = '\0';
	snprintf(line, sizeof line, "query[A] %s from 10.0.0.1", name);
	expect_unparsed(line);
	snprintf(line, sizeof line, "forwarded %s to 10.0.0.1", name);
	expect_unparsed(line);
	snprintf(line, sizeof line, P "reply %s is 10.0.0.1", name);
	expect_unparsed(line);

	/* "<name unprintable>" only as a whole */
	expect_unparsed("query[A] <name unprintable>x from 10.0.0.1");
	expect_query("query[A] <name from 10.0.0.1", NONE, "10.0.0.1", "<name", "A");

	/* a trailing newline is allowed, once */
	expect_query("query[A] example.com from 10.0.0.1\n", NONE, "10.0.0.1", "example.com", "A");
	expect_query("query[A] example.com from 10.0.0.1\r\n", NONE, "10.0.0.1", "example.com", "A");
	expect_unparsed("query[A] example.com from 10.0.0.1\r");
	expect_unparsed("query[A] example.com from 10.0.0.1\n\n");
	expect_unparsed("query[A] example.com from 10.0.0.1\r\r\n");
	expect_unparsed("query[A] example.com from 10.0.0.1\t");
	expect_unparsed("query[A] exa\x7f" "mple.com from 10.0.0.1");
	expect_unparsed("query[A] exa\x1bmple.com from 10.0.0.1");
	expect_unparsed(P "started, version\t2.90");
	expect_unparsed_n("query[A] exa\0mple.com from 10.0.0.1", 36);
	expect_unparsed_n(P "started\0 version 2.90", sizeof(P "started\0 version 2.90") - 1);
	expect_unparsed_n("query[A] example.com from 10.0.0.1\0", 35);
	/* wherever the grammar leaves the text free */
	expect_unparsed(P "10 192.168.1.10/5000 query[A] k\001.example from 192.168.1.10");
	expect_unparsed(P "10 192.168.1.10/5000 /etc/ho\001sts k.example is 1.2.3.4");
	expect_unparsed(P "10 192.168.1.10/5000 reply k.example is 1.2.3.4 (EDE: a\001b)");
	expect_unparsed(P "10 192.168.1.10/5000 reply k.example is \"txt\001\"");
	expect_unparsed(P "10 dnssec-query\001[DS] k.example to 9.9.9.9");
	expect_unparsed(P "10 192.168.1.10/5000 validation k.example is \177BOGUS");
	expect_unparsed("Nov 22 01:41:34 dnsmasq-dhcp[812]: DHCPACK(br-lan)\001");

	/* LOGLINE_MAX */
	char big[LOGLINE_MAX + 3];
	size_t plen = strlen(P "started, ");
	memcpy(big, P "started, ", plen);
	memset(big + plen, 'x', sizeof big - plen);
	CHECK_INT(parse_n(big, LOGLINE_MAX), LOGLINE_OTHER);
	big[LOGLINE_MAX] = '\n';
	CHECK_INT(parse_n(big, LOGLINE_MAX + 1), LOGLINE_OTHER);
	big[LOGLINE_MAX] = 'x';
	expect_unparsed_n(big, LOGLINE_MAX + 1);
	big[LOGLINE_MAX + 1] = '\n';
	expect_unparsed_n(big, LOGLINE_MAX + 2);
	CHECK_INT(logline_parse(NULL, 10, &last), LOGLINE_UNPARSED);
}

static void test_addresses(void)
{
	static const char *const good[] = {
		"0.0.0.0", "255.255.255.255", "1.2.3.4", "::", "::1", "1::", "fe80::1", "2001:db8::9",
		"1:2:3:4:5:6:7:8", "1::8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "::ffff:192.168.1.2",
		"64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4", "ABCD:ef01::",
	};
	static const char *const bad[] = {
		"256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1234.1.1.1", ":", ":::",
		"1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1:2:3:4:5:6:7", "12345::", "::g", "1:", ":1",
		"1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "1.2.3.4::", "::1.2.3.4:5",
	};
	char line[128];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(line, sizeof line, "reply a.example is %s", good[i]);
		expect_answer(line, NONE, NULL, "a.example", SOURCE_UPSTREAM, RESULT_ADDRESS);
		snprintf(line, sizeof line, "query[A] a.example from %s", good[i]);
		expect_query(line, NONE, good[i], "a.example", "A");
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(line, sizeof line, "config a.example is %s", bad[i]);
		expect_unparsed(line);
		snprintf(line, sizeof line, "query[A] a.example from %s", bad[i]);
		expect_unparsed(line);
		snprintf(line, sizeof line, "forwarded a.example to %s", bad[i]);
		expect_unparsed(line);
	}
}

static void test_label_names(void)
{
	CHECK_STR(logline_source_name(SOURCE_UPSTREAM), "upstream");
	CHECK_STR(logline_source_name(SOURCE_CACHE), "cache");
	CHECK_STR(logline_source_name(SOURCE_LOCAL), "local");
	CHECK_STR(logline_source_name(SOURCE_BLOCKED), "blocked");
	CHECK_STR(logline_source_name(SOURCE_COUNT), "unknown");
	CHECK_STR(logline_result_name(RESULT_ADDRESS), "address");
	CHECK_STR(logline_result_name(RESULT_CNAME), "cname");
	CHECK_STR(logline_result_name(RESULT_RECORD), "record");
	CHECK_STR(logline_result_name(RESULT_NXDOMAIN), "nxdomain");
	CHECK_STR(logline_result_name(RESULT_NODATA), "nodata");
	CHECK_STR(logline_result_name(RESULT_ERROR), "error");
	CHECK_STR(logline_result_name(RESULT_DUPLICATE), "duplicate");
	CHECK_STR(logline_result_name(RESULT_NONE), "none");
	CHECK_STR(logline_result_name(RESULT_COUNT), "unknown");
}

/* ---- robustness: truncations, mutations, random bytes ---- */

/* The result is UNPARSED with every field zero, or a kind whose spans lie in the line. */
static int sane(const char *buf, size_t n, enum logline_kind k, const struct logline *l)
{
	const struct logline_span *spans[] = { &l->client, &l->name, &l->qtype, &l->server };

	if (k != l->kind || (unsigned)k > LOGLINE_OTHER)
		return 0;
	if (k == LOGLINE_UNPARSED)
		return is_zero(l);
	if ((unsigned)l->source >= SOURCE_COUNT || (unsigned)l->result >= RESULT_COUNT)
		return 0;
	for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
		if (spans[i]->ptr == NULL ? spans[i]->len != 0
		                          : spans[i]->ptr < buf || spans[i]->ptr + spans[i]->len > buf + n)
			return 0;
	}
	return 1;
}

/* Parses a heap copy of exactly n bytes; 1 if the result is sane. */
static int parse_sane(const char *s, size_t n, enum logline_kind *kind)
{
	struct logline l;
	char *buf = copy_of(s, n);
	enum logline_kind k = logline_parse(buf, n, &l);
	int ok = sane(buf, n, k, &l);
	free(buf);
	if (kind)
		*kind = k;
	if (!ok)
		fprintf(stderr, "insane result %d for \"%.*s\"\n", (int)k, (int)n, s);
	return ok;
}

static const char *const samples[] = {
	P "4 192.168.1.10/56833 query[A] www.example.org from 192.168.1.10",
	P "4 192.168.1.10/56833 forwarded www.example.org to 8.8.8.8",
	P "4 192.168.1.10/56833 reply www.example.org is <CNAME>",
	P "config error is REFUSED (EDE: not ready)",
	R "16 127.0.0.1/42212 /tmp/dq/hosts 192.168.1.5 is nas.lan",
	"Nov 22 01:58:41 dnsmasq[4138]: 32 127.0.0.1/39899 reply query is duplicate",
	"Nov 22 01:58:42 dnsmasq[4462]: 2 dnssec-query[DS] org to 127.0.0.2#5398",
	"Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: UDP 7 fe80::1%br-lan/5353 query[AAAA] printer.lan from fe80::1",
	"Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: 7 fe80::1%br-lan/5353 cached printer.lan is NODATA-IPv6 (DNSSEC signed)",
	"Nov 22 01:41:33 dnsmasq-dhcp[12]: DHCPACK(br-lan) 192.168.1.100 aa:bb:cc:dd:ee:ff phone",
	"query[type=65] example.com from 2001:db8::42",
	"forwarded <name unprintable> to 127.0.0.1#5353",
	"config blocked.test is ::",
};

static void test_truncations(void)
{
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		const char *s = samples[i];
		size_t len = strlen(s);
		unsigned insane = 0, unparsed_in_prefix = 0, prefix_len = 0;
		enum logline_kind full, k;
		const char *colon = strstr(s, "]: ");

		if (colon && colon < s + 60)
			prefix_len = (unsigned)(colon + 3 - s);
		CHECK(parse_sane(s, len, &full) && full != LOGLINE_UNPARSED);
		for (size_t n = 0; n < len; n++) {
			if (!parse_sane(s, n, &k))
				insane++;
			if (n <= prefix_len && k != LOGLINE_UNPARSED)
				unparsed_in_prefix++; /* a cut prefix is never anything */
		}
		CHECK_INT(insane, 0);
		CHECK_INT(unparsed_in_prefix, 0);
	}
	/*
	 * The query line cut anywhere is UNPARSED; or OTHER when cut inside the
	 * verb ("...56833 quer" is some message after dnsmasq's prefix); or a
	 * query of the same name when cut inside the last address ("192.168.1.1").
	 */
	const char *q = samples[0];
	size_t verb_at = (size_t)(strstr(q, "query[") - q), verb_end = verb_at + strlen("query[A]");
	unsigned bad = 0;
	for (size_t n = 0; n < strlen(q); n++) {
		enum logline_kind k = parse_n(q, n);
		if (k == LOGLINE_UNPARSED)
			continue;
		if (k == LOGLINE_OTHER && n > verb_at && n < verb_end)
			continue;
		if (k == LOGLINE_QUERY && span_is_lit(&last.name, "www.example.org") && span_is_lit(&last.client, "192.168.1.1"))
			continue;
		bad++;
	}
	CHECK_INT(bad, 0);
}


static void test_random_bytes(void)
{
	static char buf[LOGLINE_MAX + 64];
	unsigned insane = 0, parsed = 0;

	for (int i = 0; i < 100000; i++) {
		size_t n = (size_t)(check_rand() % sizeof buf);
		enum logline_kind k;
		for (size_t j = 0; j < n; j++)
			buf[j] = (char)(check_rand() & 0xff);
		if (!parse_sane(buf, n, &k))
			insane++;
		parsed += k != LOGLINE_UNPARSED;
	}
	CHECK_INT(insane, 0);
	CHECK_INT(parsed, 0); /* random bytes never look like dnsmasq */
}

/* Valid lines with a few bytes replaced by ones the grammar cares about. */
static void test_mutations(void)
{
	static const char alphabet[] = " 0123456789:./%#[]<>()-abcdefqrsxyzAENOSUDPT\n\x80\xff";
	char buf[LOGLINE_MAX];
	unsigned insane = 0, kinds[LOGLINE_OTHER + 1] = { 0 };

	for (int i = 0; i < 100000; i++) {
		const char *s = samples[check_rand() % (sizeof samples / sizeof samples[0])];
		size_t n = strlen(s);
		enum logline_kind k;
		memcpy(buf, s, n);
		for (int m = (int)(check_rand() % 3) + 1; m > 0; m--) {
			size_t at = (size_t)(check_rand() % n);
			uint64_t op = check_rand() % 4;
			if (op == 0 && n > 1) { /* delete */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			} else if (op == 1 && n < sizeof buf) { /* insert */
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = alphabet[check_rand() % (sizeof alphabet - 1)];
				n++;
			} else {
				buf[at] = alphabet[check_rand() % (sizeof alphabet - 1)];
			}
		}
		if (!parse_sane(buf, n, &k))
			insane++;
		kinds[k]++;
	}
	CHECK_INT(insane, 0);
	for (int k = 0; k <= LOGLINE_OTHER; k++)
		CHECK(kinds[k] > 0); /* the mutations reach every kind */
}

/* The memo (logline_parse_memo) never changes a result: each line parsed
 * in a stream that primes it gives what logline_parse gives alone. */
static void test_memo_changes_nothing(void)
{
	static const char *const stream[] = {
		/* first, while the memo holds no client yet: an empty client is no
		 * client (found by spec/fuzz/fuzz_logline.c; it was taken for the
		 * memo's empty one, and the line parsed as OTHER) */
		"Nov 22 01:57:50 dnsmasq[3986]: 120 /41084 qu/41084 query[NS] . 0.0..",
		"Nov 22 01:41:33 dnsmasq[812]: 120 /41084 query[A] j.example from 192.168.1.1",
		"Nov 22 01:41:33 dnsmasq[812]: 1 192.168.1.10/5000 query[A] a.example from 192.168.1.10",
		"Nov 22 01:41:33 dnsmasq[812]: 1 192.168.1.10/5000 forwarded a.example to 9.9.9.9",
		"Nov 22 01:41:33 dnsmasq[812]: 1 192.168.1.10/5000 reply a.example is 1.2.3.4",
		"Nov 22 01:41:33 dnsmasq[812]: 2 192.168.1.100/5000 query[A] b.example from 192.168.1.100",
		"Nov 22 01:41:33 dnsmasq[812]: 3 192.168.1.1/5000 query[A] c.example from 192.168.1.1",
		"Nov 22 01:41:33 dnsmasq[812]: 4 192.168.1.1 /5000 query[A] c.example from 192.168.1.1",
		"Nov 22 01:41:33 dnsmasq[812]: garbage after a known prefix",
		"Nov 22 01:41:33 dnsmasq[812]:",
		"Nov 22 01:41:33 dnsmasq[812]: ",
		"Nov 22 01:41:33 dnsmasq[8120]: 5 192.168.1.1/5000 query[A] d.example from 192.168.1.1",
		"Nov 22 01:41:34 dnsmasq[812]: 6 fe80::1%br-lan/5000 query[A] e.example from fe80::1%br-lan",
		"Nov 22 01:41:34 dnsmasq[812]: 6 fe80::1%br-lan/5000 reply e.example is ::1",
		"Nov 22 01:41:34 dnsmasq[812]: 7 999.1.1.1/5000 query[A] f.example from 999.1.1.1",
		"Nov 22 01:41:34 dnsmasq[812]: 7 192.168.1.1/5000 query[A] g.example from 192.168.1.2",
		"Nov 22 01:41:34 dnsmasq-dhcp[812]: DHCPACK(br-lan) 192.168.1.1 aa:bb:cc:dd:ee:ff",
		"Sun Nov 22 01:41:34 2026 daemon.info dnsmasq[812]: 8 192.168.1.1/5000 query[A] h.example from 192.168.1.1",
		"Nov 22 01:41:3",
		"8 192.168.1.1/5000 query[A] i.example from 192.168.1.1",
		/* a control byte after a prefix the memo knows: still unparsed */
		"Nov 22 01:41:34 dnsmasq[812]: 9 192.168.1.1/5000 reply j.example is \001text",
		"Nov 22 01:41:34 dnsmasq[812]: 9 192.168.1.1/5000 reply j.example is \177",
		"Nov 22 01:41:34 dnsmasq[812]: 9 192.168.1.1/5000 reply j.example\tis 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]:\001",
		/* the serial, client and port of the last line, then free text */
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 query[A] k.example from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 query[A] k\001.example from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 forwarded k.example to 9.9.9.9",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/50001 forwarded k.example to 9.9.9.9",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/500011 forwarded k.example to 9.9.9.9",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 /etc/ho\001sts k.example is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 /etc/hosts k.example is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 reply k.example is 1.2.3.4 (EDE: a\001b)",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 validation k.example is \177BOGUS",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 reply k.example is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 100 192.168.1.10/5000 reply k.example is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000",
		"Nov 22 01:41:34 dnsmasq[812]: 10 192.168.1.10/5000 ",
		/* the name of the last line, then a longer, a shorter, another one */
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 query[A] m.example from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 forwarded m.example.org to 9.9.9.9",
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 reply m.example.org is <CNAME>",
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 reply m.exampl is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 reply m.exampl\001 is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 reply m.exampl",
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 reply m.exampl\tis 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 11 192.168.1.10/5000 reply n.example is 1.2.3.4",
		/* "<name unprintable>" holds a space: a name "<name" is not kept */
		"Nov 22 01:41:34 dnsmasq[812]: 12 192.168.1.10/5000 query[A] <name from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 12 192.168.1.10/5000 reply <name unprintable> is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 12 192.168.1.10/5000 reply <name is 1.2.3.4",
		"Nov 22 01:41:34 dnsmasq[812]: 12 192.168.1.10/5000 reply <name unprintable> is 1.2.3.4",
		/* serials of every length, at the end of a line or not */
		"Nov 22 01:41:34 dnsmasq[812]: 1234567 192.168.1.10/5000 query[A] o.example from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 12345678 192.168.1.10/5000 query[A] o.example from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 4294967295 192.168.1.10/5000 query[A] o.example from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 4294967296 192.168.1.10/5000 query[A] o.example from 192.168.1.10",
		"Nov 22 01:41:34 dnsmasq[812]: 1234567",
		"Nov 22 01:41:34 dnsmasq[812]: 1234567 ",
		"Nov 22 01:41:34 dnsmasq[812]: 1234567x validation",
		/* the memo's prefix but for the clock: only the clock is checked */
		"Nov 22 01:41:35 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 01:41:60 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 01:41:61 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 01:41:3x dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 01:41:5 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 01:42:00 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 01:60:00 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 01:4:000 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 23:59:59 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 24:00:00 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 29:00:00 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 22 02 00:00 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 23 00:00:00 dnsmasq[812]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Nov 23 00:00:00 dnsmasq[813]: 13 192.168.1.10/5000 query[A] p.example from 192.168.1.10",
		"Sun Nov 22 01:41:35 2026 daemon.info dnsmasq[812]: 8 192.168.1.1/5000 query[A] h.example from 192.168.1.1",
		"Sun Nov 22 01:41:36 2026 daemon.info dnsmasq[812]: 8 192.168.1.1/5000 query[A] h.example from 192.168.1.1",
		"Sun Nov 22 01:41:36 2027 daemon.info dnsmasq[812]: 8 192.168.1.1/5000 query[A] h.example from 192.168.1.1",
		"Sun Nov 22 01:41:99 2026 daemon.info dnsmasq[812]: 8 192.168.1.1/5000 query[A] h.example from 192.168.1.1",
	};
	struct logline_memo memo;
	memset(&memo, 0, sizeof memo);
	for (size_t round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof stream / sizeof stream[0]; i++) {
			struct logline alone, streamed;
			size_t n = strlen(stream[i]);
			enum logline_kind k = logline_parse(stream[i], n, &alone);
			CHECK_INT(logline_parse_memo(stream[i], n, &streamed, &memo), k);
			CHECK_INT(streamed.has_serial, alone.has_serial);
			CHECK_INT(streamed.serial, alone.serial);
			CHECK_INT(streamed.client.len, alone.client.len);
			CHECK(streamed.client.len == 0 || memcmp(streamed.client.ptr, alone.client.ptr, alone.client.len) == 0);
			CHECK_INT(streamed.name.len, alone.name.len);
			CHECK(streamed.name.len == 0 || memcmp(streamed.name.ptr, alone.name.ptr, alone.name.len) == 0);
			CHECK_INT(streamed.source, alone.source);
			CHECK_INT(streamed.result, alone.result);
		}
}

/* What the memo tells a reader of a log file's times: whether a line began
 * with its prefix, the prefix's clock in seconds, and its changes. */
static void expect_memo(struct logline_memo *memo, const char *line, int hit, int clock_at, uint32_t clock,
                        uint32_t stamps, uint32_t dates)
{
	struct logline out;
	logline_parse_memo(line, strlen(line), &out, memo);
	CHECK_INT(memo->hit, hit);
	if (hit)
		CHECK_INT(memo->clock_at, clock_at);
	if (hit && clock_at)
		CHECK_U64(memo->clock, clock);
	CHECK_U64(memo->stamps, stamps);
	CHECK_U64(memo->dates, dates);
}

static void test_memo_clock(void)
{
	struct logline_memo memo;
	memset(&memo, 0, sizeof memo);
	expect_memo(&memo, "Nov 22 01:41:33 dnsmasq[812]: query[A] a.example from 10.0.0.1", 1, 7, 6093, 1, 1);
	expect_memo(&memo, "Nov 22 01:41:33 dnsmasq[812]: forwarded a.example to 9.9.9.9", 1, 7, 6093, 1, 1);
	expect_memo(&memo, "Nov 22 01:41:34 dnsmasq[812]: query[A] a.example from 10.0.0.1", 1, 7, 6094, 2, 1);
	expect_memo(&memo, "Nov 22 01:42:00 dnsmasq[812]: query[A] a.example from 10.0.0.1", 1, 7, 6120, 3, 1);
	expect_memo(&memo, "Nov 22 23:59:60 dnsmasq[812]: query[A] a.example from 10.0.0.1", 1, 7, 86400, 4, 1);
	expect_memo(&memo, "Nov 22 23:59:61 dnsmasq[812]: query[A] a.example from 10.0.0.1", 0, 0, 0, 4, 1);
	expect_memo(&memo, "Nov 22 01:42:01 dnsmasq-dhcp[812]: DHCPACK(br-lan) 10.0.0.2", 0, 0, 0, 4, 1);
	expect_memo(&memo, "query[A] a.example from 10.0.0.1", 0, 0, 0, 4, 1);
	expect_memo(&memo, "", 0, 0, 0, 4, 1);
	expect_memo(&memo, "Nov 22 23:59:59 dnsmasq[812]: query[A] a.example from 10.0.0.1", 1, 7, 86399, 5, 1);
	expect_memo(&memo, "Nov 23 00:00:00 dnsmasq[812]: query[A] a.example from 10.0.0.1", 1, 7, 0, 6, 2);
	expect_memo(&memo, "Nov 23 00:00:00 dnsmasq[9]: query[A] a.example from 10.0.0.1", 1, 7, 0, 7, 3);
	expect_memo(&memo, "Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[19222]: query[A] a.example from 10.0.0.1", 1, 11,
	            6093, 8, 4);
	expect_memo(&memo, "Sun Nov 22 01:41:34 2026 daemon.info dnsmasq[19222]: query[A] a.example from 10.0.0.1", 1, 11,
	            6094, 9, 4);
	expect_memo(&memo, "dnsmasq[812]: query[A] a.example from 10.0.0.1", 1, 0, 0, 10, 5);
	expect_memo(&memo, "dnsmasq[812]: query[A] b.example from 10.0.0.1", 1, 0, 0, 10, 5);
}

/* logline_time(): the stamps of both prefixes, and what is not one. */
static void expect_time(const char *line, int year, int month, int day, int hour, int minute, int second)
{
	struct logline_time t;
	CHECK_INT(logline_time(line, strlen(line), &t), 1);
	CHECK_INT(t.year, year);
	CHECK_INT(t.month, month);
	CHECK_INT(t.day, day);
	CHECK_INT(t.hour, hour);
	CHECK_INT(t.minute, minute);
	CHECK_INT(t.second, second);
}

static void expect_no_time(const char *line)
{
	struct logline_time t;
	CHECK_INT(logline_time(line, strlen(line), &t), 0);
	CHECK_INT(t.month, 0);
}

static void test_stamps(void)
{
	expect_time("Nov 22 01:41:33 dnsmasq[19222]: query[A] example.com from 192.168.1.10", 0, 11, 22, 1, 41, 33);
	expect_time("Jan  2 23:59:60 dnsmasq[1]: x", 0, 1, 2, 23, 59, 60);
	expect_time("Dec 31 00:00:00 ", 0, 12, 31, 0, 0, 0);
	expect_time("Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: query[A] a.b from 10.0.0.1", 2026, 11, 22, 1, 41,
	            33);
	expect_time("Fri Jan  2 11:30:00 2026 daemon.info dnsmasq[1]: x", 2026, 1, 2, 11, 30, 0);
	expect_no_time("query[A] example.com from 192.168.1.10");
	expect_no_time("Nov 22 01:41:33");          /* no space after it */
	expect_no_time("Nov 32 01:41:33 dnsmasq: x");
	expect_no_time("Nov 22 24:00:00 dnsmasq: x");
	expect_no_time("Nov 22 01:60:00 dnsmasq: x");
	expect_no_time("Nov  0 01:41:33 dnsmasq: x");
	expect_no_time("Nov 22 1:41:33 dnsmasq: x");
	expect_no_time("Nox 22 01:41:33 dnsmasq: x");
	expect_no_time("nov 22 01:41:33 dnsmasq: x");
	expect_no_time("Sun Nov 22 01:41:33 dnsmasq: x"); /* logread's needs its year */
	expect_no_time("Sun Nov 22 01:41:33 26 daemon.info dnsmasq: x");
	expect_no_time("Sun Nov 22 01:41:33 1969 daemon.info dnsmasq: x");
	expect_no_time("");
	/* every truncation of a stamp is safe and not a stamp */
	const char *full = "Sun Nov 22 01:41:33 2026 ";
	for (size_t n = 0; n < strlen(full); n++) {
		struct logline_time t;
		char *copy = copy_of(full, n);
		CHECK_INT(logline_time(copy, n, &t), 0);
		free(copy);
	}
}

CHECK_MAIN(test_stamps, test_memo_changes_nothing, test_memo_clock, test_design_samples, test_real_extra, test_real_cache_and_negative, test_real_plain, test_real_dnssec, test_real_older_releases,
           test_prefixes, test_extra_and_proto, test_queries, test_forwarded, test_answers, test_other,
           test_names_and_bytes, test_addresses, test_label_names, test_truncations, test_random_bytes,
           test_mutations)
