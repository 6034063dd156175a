/*
 * logtime.c - the unix time of a log line's stamp (see logtime.h).
 */
#include "logtime.h"

#include <string.h>
#include <time.h>

#define DAY 86400u

/* mktime() of a local time, the C library choosing DST (tm_isdst = -1). */
static time_t local_mktime(int year, int month, int day, int hour, int minute, int second)
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
	return mktime(&tm);
}

/* The instant of t's local time in the given year, into *out; 0 when
 * mktime() gives none that a uint32_t holds. */
static int instant(struct logtime *lt, const struct logline_time *t, int year, uint32_t *out)
{
	uint32_t clock = (uint32_t)(t->hour * 3600 + t->minute * 60 + t->second);
	time_t v;
	if (year != lt->year || t->month != lt->month || t->day != lt->day) {
		/* a new date: its midnight, and whether 23:59:59 is 86399 s after it.
		 * Midnight last: glibc's mktime() takes the offset of its last result
		 * for a time that occurs twice, and the date's first one is that of
		 * the stamps before it in a log read in order. */
		time_t end = local_mktime(year, t->month, t->day, 23, 59, 59);
		v = local_mktime(year, t->month, t->day, 0, 0, 0);
		lt->year = year;
		lt->month = t->month;
		lt->day = t->day;
		lt->one_offset = v != (time_t)-1 && v >= 0 && (uint64_t)v < UINT32_MAX - DAY && end - v == (time_t)(DAY - 1);
		lt->midnight = (uint32_t)v;
	}
	if (lt->one_offset && clock < DAY) {
		*out = lt->midnight + clock;
		return 1;
	}
	v = local_mktime(year, t->month, t->day, t->hour, t->minute, t->second);
	if (v == (time_t)-1 || v < 0 || (uint64_t)v > UINT32_MAX)
		return 0;
	*out = (uint32_t)v;
	return 1;
}

int64_t logtime_local(struct logtime *lt, int year, int month, int day, int hour, int minute, int second)
{
	struct logline_time t = { year, month, day, hour, minute, second };
	uint32_t v;
	return instant(lt, &t, year, &v) ? (int64_t)v : -1;
}

/* The local year of now, kept while now stays the same; 0 if unknown. */
static int year_of_now(struct logtime *lt, uint32_t now)
{
	if (!lt->now_year || lt->now != now) {
		time_t t = (time_t)now;
		struct tm tm;
		lt->now = now;
		lt->now_year = localtime_r(&t, &tm) ? tm.tm_year + 1900 : 0;
	}
	return lt->now_year;
}

uint32_t logtime_line(struct logtime *lt, const char *line, size_t len, uint32_t now)
{
	struct logline_time t;
	uint32_t v;
	lt->limit = 0;
	lt->unix_time = now;
	if (!logline_time(line, len, &t))
		return now;
	int year = t.year ? t.year : year_of_now(lt, now);
	int ok = year && instant(lt, &t, year, &v), year_before = 0;
	if (ok && !t.year && v > now && v - now > DAY) { /* "Dec 31" read on the 1st of January */
		ok = instant(lt, &t, year - 1, &v);
		year_before = 1;
	}
	lt->unix_time = ok ? v : now;
	/* a new clock on this date, in the year tried first, is its midnight plus the clock */
	uint32_t clock = (uint32_t)(t.hour * 3600 + t.minute * 60 + t.second);
	if (ok && !year_before && lt->one_offset && clock < DAY) {
		lt->memo_midnight = lt->midnight;
		lt->limit = lt->midnight + (DAY - 1);
		if (!t.year && (uint64_t)now + DAY < lt->limit)
			lt->limit = now + DAY;
	}
	return lt->unix_time;
}

uint32_t logtime_memo_new(struct logtime *lt, const struct logline_memo *memo, const char *line, size_t len,
                          uint32_t now)
{
	uint32_t v = logtime_line(lt, line, len, now);
	/* A line that began with the memo's prefix has the prefix's stamp: the
	 * lines after it with the same prefix have its time, and a new clock on
	 * its date (one offset all day, the year not the one before) is the
	 * date's midnight plus the clock.  Otherwise counts the memo will not
	 * have for 2^32 changes. */
	int same = memo->hit && memo->clock_at;
	lt->memo_stamps = memo->stamps - !same;
	lt->memo_dates = memo->dates - !(same && lt->limit);
	lt->memo_now = now;
	return v;
}
