/*
 * test_logtime.c - the times of a log file's lines (src/logtime.c) against
 * the C library's mktime(), as the module converted every stamp before it
 * kept a cache: in several zones (TZ set here), every hour and many random
 * seconds of 2025 to 2027, every minute of the DST change days, New Year,
 * logread's form with a year, and streams of lines through the parser's
 * memo.  A zone the C library cannot load here (no zoneinfo) is skipped,
 * with a message, and counted neither passed nor failed.
 */
#include "check.h"
#include "logline.h"
#include "logtime.h"

#include <stdlib.h>
#include <time.h>

/* A zone, and its local clock at 12:00 UTC on 2026-01-15 and on 2026-07-15
 * (what shows that the C library loaded it). */
struct zone {
	const char *tz;
	int jan_hour, jan_minute, jul_hour, jul_minute;
};

static const struct zone zones[] = {
	{ "UTC", 12, 0, 12, 0 },
	{ "Europe/Berlin", 13, 0, 14, 0 },
	{ "America/New_York", 7, 0, 8, 0 },
	{ "Australia/Lord_Howe", 23, 0, 22, 30 }, /* DST of 30 minutes */
	{ "Asia/Kathmandu", 17, 45, 17, 45 },     /* +05:45, no DST */
};
#define NZONES (sizeof zones / sizeof zones[0])

static int shows(time_t t, int hour, int minute)
{
	struct tm tm;
	return localtime_r(&t, &tm) && tm.tm_hour == hour && tm.tm_min == minute;
}

/* Sets TZ; 0 (and says so, once) when the C library cannot load the zone. */
static int use_zone(size_t i)
{
	static int said[NZONES];
	const struct zone *z = &zones[i];
	setenv("TZ", z->tz, 1);
	tzset();
	if (shows(1768478400, z->jan_hour, z->jan_minute) && shows(1784116800, z->jul_hour, z->jul_minute))
		return 1;
	if (!said[i]++)
		printf("test_logtime: TZ=%s skipped: the C library here cannot load it\n", z->tz);
	return 0;
}

static int64_t by_mktime(int year, int month, int day, int hour, int minute, int second)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	tm.tm_isdst = -1;
	time_t v = mktime(&tm);
	return v == (time_t)-1 || v < 0 || (uint64_t)v > UINT32_MAX ? -1 : (int64_t)v;
}

static int days_in(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return days[month - 1] + (month == 2 && year % 4 == 0);
}

/* One local time through the cache, then through mktime(): the same. */
static void check_local(struct logtime *lt, int year, int month, int day, int hour, int minute, int second)
{
	int64_t got = logtime_local(lt, year, month, day, hour, minute, second);
	int64_t want = by_mktime(year, month, day, hour, minute, second);
	if (got != want)
		fprintf(stderr, "TZ=%s %04d-%02d-%02d %02d:%02d:%02d: ", getenv("TZ"), year, month, day, hour, minute,
		        second);
	CHECK_INT(got, want);
}

/* Every hour of 2025 to 2027, and every minute of the days whose UTC
 * offset changes (found by mktime()), in order. */
static void test_every_hour_and_change_days(void)
{
	for (size_t z = 0; z < NZONES; z++) {
		if (!use_zone(z))
			continue;
		struct logtime lt;
		int change_days = 0;
		memset(&lt, 0, sizeof lt);
		for (int year = 2025; year <= 2027; year++)
			for (int month = 1; month <= 12; month++)
				for (int day = 1; day <= days_in(year, month); day++) {
					int change = by_mktime(year, month, day, 23, 59, 59) - by_mktime(year, month, day, 0, 0, 0) != 86399;
					change_days += change;
					for (int minute = 0; minute < 24 * 60; minute += change ? 1 : 60) {
						check_local(&lt, year, month, day, minute / 60, minute % 60, 0);
						if (change && minute % 15 == 14)
							check_local(&lt, year, month, day, minute / 60, minute % 60, 59);
					}
				}
		/* two a year where DST is kept, none elsewhere */
		CHECK_INT(change_days, strcmp(zones[z].tz, "UTC") == 0 || strcmp(zones[z].tz, "Asia/Kathmandu") == 0 ? 0 : 6);
	}
}

/* Random seconds, in random order (the date cache changes at nearly every
 * one), 23:59:60 and days past the month's end among them. */
static void test_random_seconds(void)
{
	for (size_t z = 0; z < NZONES; z++) {
		if (!use_zone(z))
			continue;
		struct logtime lt;
		memset(&lt, 0, sizeof lt);
		for (int i = 0; i < 5000; i++) {
			uint64_t r = check_rand();
			int year = 2025 + (int)(r % 3), month = 1 + (int)((r >> 8) % 12), day = 1 + (int)((r >> 16) % 31);
			int hour = (int)((r >> 24) % 24), minute = (int)((r >> 32) % 60), second = (int)((r >> 40) % 61);
			check_local(&lt, year, month, day, hour, minute, second);
			check_local(&lt, year, month, day, hour, minute, (second + 1) % 60); /* the same date again */
		}
		check_local(&lt, 2026, 12, 31, 23, 59, 60);
		check_local(&lt, 2026, 11, 31, 12, 0, 0);
		check_local(&lt, 2027, 2, 29, 12, 0, 0);
	}
}

/* ---- lines ---- */

/* mktime() with tm_isdst given; -1 unless the instant shows that local time. */
static int64_t with_dst(const struct logline_time *t, int year, int dst)
{
	struct tm tm, shown;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = t->month - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->minute;
	tm.tm_sec = t->second;
	tm.tm_isdst = dst;
	time_t v = mktime(&tm);
	if (v == (time_t)-1 || !localtime_r(&v, &shown) || shown.tm_year != year - 1900 || shown.tm_mon != t->month - 1 ||
	    shown.tm_mday != t->day || shown.tm_hour != t->hour || shown.tm_min != t->minute || shown.tm_sec != t->second)
		return -1;
	return (int64_t)v;
}

/* mktime() of a stamp (tm_isdst = -1), but of a time that occurs twice the
 * earlier instant, what mktime() gives for it in a log read in order. */
static int64_t stamp_mktime(const struct logline_time *t, int year)
{
	int64_t winter = with_dst(t, year, 0), summer = with_dst(t, year, 1);
	if (winter != -1 && summer != -1 && winter != summer)
		return winter < summer ? winter : summer;
	return by_mktime(year, t->month, t->day, t->hour, t->minute, t->second);
}

/* A line's time as the module took it before the cache: the stamp in
 * now's local year or, when that is more than a day after now, the year
 * before. */
static uint32_t as_before(const char *line, uint32_t now)
{
	struct logline_time t;
	time_t now_t = (time_t)now;
	struct tm local;
	if (!logline_time(line, strlen(line), &t) || !localtime_r(&now_t, &local))
		return now;
	int year = t.year ? t.year : local.tm_year + 1900;
	int64_t v = stamp_mktime(&t, year);
	if (!t.year && v != -1 && v > (int64_t)now + 86400)
		v = stamp_mktime(&t, year - 1);
	return v < 0 ? now : (uint32_t)v;
}

/* A log line at instant t, in one of the shapes a log file has. */
static void line_at(char *out, size_t size, time_t t, unsigned shape, uint32_t serial)
{
	char stamp[64];
	struct tm tm;
	localtime_r(&t, &tm);
	switch (shape % 10) {
	case 0: /* logread's, with the year */
		strftime(stamp, sizeof stamp, "%a %b %e %H:%M:%S %Y daemon.info", &tm);
		snprintf(out, size, "%s dnsmasq[812]: %u 10.0.0.1/4000 query[A] a.example from 10.0.0.1", stamp, serial);
		return;
	case 1: /* another tag: not the memo's */
		strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
		snprintf(out, size, "%s dnsmasq-dhcp[812]: DHCPACK(br-lan) 10.0.0.2 aa:bb:cc:dd:ee:ff phone", stamp);
		return;
	case 2: /* no stamp */
		snprintf(out, size, "dnsmasq[812]: %u 10.0.0.1/4000 query[A] a.example from 10.0.0.1", serial);
		return;
	case 3: /* a stamp, then what the parser does not take */
		strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
		snprintf(out, size, "%s something else", stamp);
		return;
	case 4:
		strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
		snprintf(out, size, "%s dnsmasq[812]: %u 10.0.0.1/4000 forwarded a.example to 9.9.9.9", stamp, serial);
		return;
	default:
		strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
		snprintf(out, size, "%s dnsmasq[812]: %u 10.0.0.1/4000 query[A] a.example from 10.0.0.1", stamp, serial);
		return;
	}
}

/* A log read in order from `start`: mostly the same second again or the
 * next ones, sometimes hours or days later; each line's time through the
 * memo is what it was before.  The expected times are found first, so
 * that the module's calls of mktime() follow one another as they do when
 * it reads a log (glibc's mktime() starts from the offset it last gave). */
#define STREAM_MAX 400
static void check_stream(time_t start, int lines, uint32_t now)
{
	static char text[STREAM_MAX][160];
	static uint32_t want[STREAM_MAX];
	struct logline_memo memo;
	struct logtime lt;
	time_t t = start;
	memset(&memo, 0, sizeof memo);
	memset(&lt, 0, sizeof lt);
	for (int i = 0; i < lines && i < STREAM_MAX; i++) {
		uint64_t r = check_rand();
		unsigned kind = (unsigned)(r % 100), more = (unsigned)((r >> 8) % 172800); /* forward only */
		t += kind < 50 ? 0 : kind < 85 ? 1 + more % 3 : kind < 97 ? 60 + more % 7200 : 86400 + more;
		line_at(text[i], sizeof text[i], t, (unsigned)((r >> 40) % 10), (uint32_t)i + 1);
		want[i] = as_before(text[i], now);
	}
	for (int i = 0; i < lines && i < STREAM_MAX; i++) {
		struct logline parsed;
		size_t len = strlen(text[i]);
		logline_parse_memo(text[i], len, &parsed, &memo);
		uint32_t got = logtime_memo_line(&lt, &memo, text[i], len, now);
		if (got != want[i])
			fprintf(stderr, "TZ=%s now %u: %s: ", getenv("TZ"), now, text[i]);
		CHECK_U64(got, want[i]);
	}
}

/* Streams across each DST change and New Year of 2025 to 2027, and from
 * random instants, read a day after their start and much later. */
static void test_streams_as_before(void)
{
	for (size_t z = 0; z < NZONES; z++) {
		if (!use_zone(z))
			continue;
		for (int year = 2025; year <= 2027; year++)
			for (int month = 1; month <= 12; month++)
				for (int day = 1; day <= days_in(year, month); day++) {
					int64_t midnight = by_mktime(year, month, day, 0, 0, 0);
					int change = by_mktime(year, month, day, 23, 59, 59) - midnight != 86399;
					int new_year = month == 12 && day == 31;
					if (change || new_year) {
						check_stream((time_t)midnight - 3600, 400, (uint32_t)midnight + 86400);
						check_stream((time_t)midnight - 3600, 100, (uint32_t)midnight + 200 * 86400);
					}
				}
		for (int i = 0; i < 10; i++) {
			time_t start = 1735689600 + (time_t)(check_rand() % (3u * 365 * 86400)); /* 2025 to 2027 */
			check_stream(start, 300, (uint32_t)start + (uint32_t)(check_rand() % (400u * 86400)));
		}
	}
}

static uint32_t time_of(struct logtime *lt, struct logline_memo *memo, const char *line, uint32_t now)
{
	struct logline parsed;
	logline_parse_memo(line, strlen(line), &parsed, memo);
	return logtime_memo_line(lt, memo, line, strlen(line), now);
}

/* Dec 31 read on the 1st of January is of the year before; logread's
 * year is the line's own. */
static void test_new_year_and_logread(void)
{
	for (size_t z = 0; z < NZONES; z++) {
		if (!use_zone(z))
			continue;
		struct logline_memo memo;
		struct logtime lt;
		memset(&memo, 0, sizeof memo);
		memset(&lt, 0, sizeof lt);
		uint32_t now = (uint32_t)by_mktime(2027, 1, 1, 0, 0, 30);
		CHECK_U64(time_of(&lt, &memo, "Dec 31 23:59:58 dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2026, 12, 31, 23, 59, 58));
		CHECK_U64(time_of(&lt, &memo, "Dec 31 23:59:59 dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2026, 12, 31, 23, 59, 59));
		CHECK_U64(time_of(&lt, &memo, "Jan  1 00:00:00 dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2027, 1, 1, 0, 0, 0));
		CHECK_U64(time_of(&lt, &memo, "Jan  1 00:00:01 dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2027, 1, 1, 0, 0, 1));
		/* the year of now first, as before: read on Dec 31, Jan 1 is this year's */
		now = (uint32_t)by_mktime(2026, 12, 31, 12, 0, 0);
		CHECK_U64(time_of(&lt, &memo, "Jan  1 00:00:02 dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2026, 1, 1, 0, 0, 2));
		/* more than a day after now: the year before */
		CHECK_U64(time_of(&lt, &memo, "Jan  2 12:00:01 dnsmasq[1]: query[A] a.example from 10.0.0.1",
		                  (uint32_t)by_mktime(2026, 1, 1, 12, 0, 0)),
		          by_mktime(2025, 1, 2, 12, 0, 1));
		CHECK_U64(time_of(&lt, &memo, "Jan  2 12:00:00 dnsmasq[1]: query[A] a.example from 10.0.0.1",
		                  (uint32_t)by_mktime(2026, 1, 1, 12, 0, 0)),
		          by_mktime(2026, 1, 2, 12, 0, 0));
		now = (uint32_t)by_mktime(2030, 6, 1, 0, 0, 0);
		CHECK_U64(time_of(&lt, &memo,
		                  "Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2026, 11, 22, 1, 41, 33));
		CHECK_U64(time_of(&lt, &memo,
		                  "Sun Nov 22 01:41:34 2026 daemon.info dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2026, 11, 22, 1, 41, 34));
		CHECK_U64(time_of(&lt, &memo,
		                  "Thu Dec 31 23:59:59 2026 daemon.info dnsmasq[1]: query[A] a.example from 10.0.0.1", now),
		          by_mktime(2026, 12, 31, 23, 59, 59));
		CHECK_U64(time_of(&lt, &memo, "query[A] a.example from 10.0.0.1", now), now); /* no stamp */
	}
}

/* The hour that occurs twice, in a log read in order: the earlier instant
 * (summer time) both times; the same when it is the first of its day. */
static void test_repeated_hour(void)
{
	size_t berlin = 1;
	if (!use_zone(berlin))
		return;
	static const char *const lines[] = {
		"Oct 25 01:59:59 dnsmasq[1]: query[A] a.example from 10.0.0.1",
		"Oct 25 02:30:00 dnsmasq[1]: query[A] a.example from 10.0.0.1", /* first pass */
		"Oct 25 02:59:59 dnsmasq[1]: query[A] a.example from 10.0.0.1",
		"Oct 25 02:00:00 dnsmasq[1]: query[A] a.example from 10.0.0.1", /* second pass */
		"Oct 25 02:30:00 dnsmasq[1]: query[A] a.example from 10.0.0.1",
		"Oct 25 03:00:00 dnsmasq[1]: query[A] a.example from 10.0.0.1",
	};
	static const uint32_t want[] = { 1792886399, 1792888200, 1792889999, 1792886400, 1792888200, 1792893600 };
	uint32_t now = 1793000000; /* 2026-10-26 */
	struct logline_memo memo;
	struct logtime lt;
	memset(&memo, 0, sizeof memo);
	memset(&lt, 0, sizeof lt);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		CHECK_U64(time_of(&lt, &memo, lines[i], now), want[i]);
	/* a quiet night: nothing between the evening before and the repeated hour */
	memset(&memo, 0, sizeof memo);
	memset(&lt, 0, sizeof lt);
	CHECK_U64(time_of(&lt, &memo, "Oct 24 23:50:00 dnsmasq[1]: query[A] a.example from 10.0.0.1", now), 1792878600);
	CHECK_U64(time_of(&lt, &memo, "Oct 25 02:30:00 dnsmasq[1]: query[A] a.example from 10.0.0.1", now), 1792888200);
	memset(&memo, 0, sizeof memo);
	memset(&lt, 0, sizeof lt);
	CHECK_U64(time_of(&lt, &memo, "Oct 25 02:30:00 dnsmasq[1]: query[A] a.example from 10.0.0.1", now), 1792888200);
}

CHECK_MAIN(test_every_hour_and_change_days, test_random_seconds, test_streams_as_before, test_new_year_and_logread,
           test_repeated_hour)
