/*
 * logline.h - parse one line of dnsmasq's query log into its fields.
 *
 * Owns nothing but the grammar: no allocation, no state, no locale.  The
 * result points into the caller's line, which must stay alive while the
 * result is used.  Every shape of DESIGN.md section 3 is recognised: the
 * file prefix ("Nov 22 01:41:33 dnsmasq[123]: "), the syslog/logread prefix
 * ("Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: "), no prefix at all,
 * and the plain, log-queries=extra and log-queries=proto forms.
 */
#ifndef DNSAGG_LOGLINE_H
#define DNSAGG_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

#define LOGLINE_MAX 1024 /* dnsmasq never logs a longer entry */
#define LOGLINE_NAME_MAX 255 /* longer names are refused as unparsed */

enum logline_kind {
	LOGLINE_UNPARSED = 0, /* not a dnsmasq line we understand */
	LOGLINE_QUERY,        /* query[TYPE] NAME from CLIENT */
	LOGLINE_FORWARDED,    /* forwarded NAME to SERVER */
	LOGLINE_ANSWER,       /* reply/cached/cached-stale/config/hosts/DHCP/auth NAME is ANSWER */
	LOGLINE_DUPLICATE,    /* reply query is duplicate */
	LOGLINE_OTHER         /* a well-formed dnsmasq line that is not about one query's outcome:
	                         validation, dnssec-query, ipset/nftset add, and any line whose
	                         prefix is dnsmasq's but whose message is not a query-log verb */
};

enum logline_source { /* where an answer came from (LOGLINE_ANSWER) */
	SOURCE_UPSTREAM = 0, /* reply */
	SOURCE_CACHE,        /* cached, cached-stale */
	SOURCE_LOCAL,        /* config (not a null address), /etc/hosts, addn-hosts paths, DHCP, auth */
	SOURCE_BLOCKED,      /* config NAME is 0.0.0.0 or :: (address=/NAME/0.0.0.0 style blocking) */
	SOURCE_RESOLVER,     /* from packets: the resolver answered; cache, upstream or local cannot be told */
	SOURCE_COUNT
};

enum logline_result { /* what the answer was (LOGLINE_ANSWER) */
	RESULT_ADDRESS = 0, /* an IPv4 or IPv6 address */
	RESULT_CNAME,       /* <CNAME> */
	RESULT_RECORD,      /* any other record: <SRV>, <TXT>, <HTTPS>, <type=N>, a PTR target name */
	RESULT_NXDOMAIN,    /* NXDOMAIN */
	RESULT_NODATA,      /* NODATA, NODATA-IPv4, NODATA-IPv6 */
	RESULT_ERROR,       /* error is SERVFAIL|REFUSED|not implemented|N [(EDE: ...)] */
	RESULT_DUPLICATE,   /* the query was merged into an identical one in flight */
	RESULT_NONE,        /* no outcome was ever logged (upstream never answered) */
	RESULT_COUNT
};

/* A span of the caller's line: not NUL-terminated. */
struct logline_span {
	const char *ptr;
	size_t len;
};

struct logline {
	enum logline_kind kind;
	int has_serial;          /* extra/proto form: serial (and usually client) given */
	uint32_t serial;         /* the query's serial number (extra/proto form) */
	struct logline_span client;  /* extra form: the "CLIENT/PORT" client, without port;
	                                LOGLINE_QUERY: the "from CLIENT" address */
	struct logline_span name;    /* the queried / answered / forwarded name ("." for root) */
	struct logline_span qtype;   /* LOGLINE_QUERY: "A", "AAAA", "type=65", ...; "type=0" for a
	                                plain "query" (may point to a static string) */
	struct logline_span server;  /* LOGLINE_FORWARDED: "8.8.8.8" or "127.0.0.1#5353" */
	enum logline_source source;  /* LOGLINE_ANSWER */
	enum logline_result result;  /* LOGLINE_ANSWER */
};

/*
 * Parses line[0..len) (no trailing newline needed; one is ignored).
 * Fills *out and returns out->kind.  Never reads outside the line.  A line
 * longer than LOGLINE_MAX, one with a NUL or another control byte, a name
 * longer than LOGLINE_NAME_MAX, or any shape not listed above is
 * LOGLINE_UNPARSED.
 */
enum logline_kind logline_parse(const char *line, size_t len, struct logline *out);

/*
 * The same, for a stream of lines: a busy log repeats its prefix
 * ("Nov 22 01:41:33 dnsmasq[812]: ") line after line, and the lines of one
 * query carry the same serial, client and port ("812 192.168.1.5/41234 ")
 * and mostly the same name: bytes equal to the last prefix, fields, client
 * or name that passed the checks are not checked again (of a prefix that
 * differs only in its clock, only the clock).  The memo is zeroed
 * by its owner and used by one thread.
 */
struct logline_memo {
	char prefix[64]; /* logread's "Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[19222]: " is 53 */
	unsigned char len;
	/* What a reader of a log file's times may take from the memo
	 * (logtime.c): whether the line just parsed began with prefix[] (0 for
	 * a prefix that is not dnsmasq's or that the memo cannot hold), where
	 * prefix[]'s "hh:mm:ss" starts (0: it has none) and its seconds since
	 * midnight, and counts of the changes of prefix[]: of every one
	 * (stamps: while it is the same, so is prefix[]) and of those that
	 * took it whole (dates: while it is the same, only the clock changed). */
	unsigned char hit;
	unsigned char clock_at;
	uint32_t clock;
	uint32_t stamps, dates;
	unsigned char client_len;
	char client[LOGLINE_NAME_MAX > 64 ? 64 : LOGLINE_NAME_MAX];
	char extra[64];            /* "SERIAL CLIENT/PORT " of the last extra-form line */
	unsigned char extra_len;
	unsigned char extra_client_at, extra_client_len;
	uint32_t extra_serial;
	unsigned char name_len;
	char name[LOGLINE_NAME_MAX]; /* the last name taken */
};
enum logline_kind logline_parse_memo(const char *line, size_t len, struct logline *out,
                                     struct logline_memo *memo);

/*
 * The time stamp a line's prefix carries, as written: "Nov 22 01:41:33"
 * (a file or FIFO: local time, no year) or "Sun Nov 22 01:41:33 2026"
 * (logread).  Read apart from logline_parse(), for the lines of a log file
 * read after the fact, whose times are those of the lines, not of the
 * reading.  Returns 1 and fills *out when the line starts with a stamp,
 * else 0.
 */
struct logline_time {
	int year;   /* 0: the prefix gives none */
	int month;  /* 1 to 12 */
	int day, hour, minute, second;
};
int logline_time(const char *line, size_t len, struct logline_time *out);

/* Label values for the enums: "query", "forwarded", ...; "upstream",
 * "cache", ...; "address", "cname", ... */
const char *logline_kind_name(enum logline_kind kind);
const char *logline_source_name(enum logline_source source);
const char *logline_result_name(enum logline_result result);

#endif
