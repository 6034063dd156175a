/*
 * logtime.h - the unix time of a log line's stamp, for a log file read
 * after the fact (the `log` option): "Nov 22 01:41:33" is local time
 * without a year (the year is inferred from `now`), logread's
 * "Sun Nov 22 01:41:33 2026" has one.
 *
 * Owns the conversion of a line's stamp to unix seconds, and the caches
 * that keep the C library's mktime() and localtime_r() off the per-line
 * path:
 *   - the local date last converted: mktime() of its 00:00:00 and of its
 *     23:59:59; when they are 86399 s apart the date has one UTC offset,
 *     and any time of it is that midnight plus the clock;
 *   - the local year of `now`, while `now` stays the same;
 *   - the parser's memo (logline.h): a line that begins with the memo's
 *     prefix has the stamp of the line that last did while the memo's
 *     counts are the same, and the memo's clock (checked by the parser)
 *     when only the clock changed: a few instructions a line.
 * mktime() (tm_isdst = -1) converts the rest: a date whose offset changes
 * (a DST change day), 23:59:60, a time a uint32_t or time_t cannot hold.
 *
 * What a local time maps to is what mktime() gives, as before this cache:
 *   - a time that occurs once: the instant it names;
 *   - a time that occurs twice (clocks set back, e.g. 02:30 on the last
 *     Sunday of October in Europe/Berlin): musl's mktime() gives the
 *     earlier instant, glibc's the one on the offset of its last result,
 *     here that of the date's 00:00:00 or of the stamp before.  In a log
 *     read in order both give the earlier (summer time) both times the
 *     hour is logged: its second pass is counted an hour early;
 *   - a time that never occurs (clocks set forward; dnsmasq never writes
 *     one): glibc as on the offset before the change (02:30 is 03:30
 *     summer time), musl as on the one after it (01:30 winter time).
 * A stamp without a year gets `now`'s local year, or the one before when
 * that puts it more than a day after `now` ("Dec 31" read on January 1st).
 *
 * A struct logtime is zeroed by its owner and used by one thread.
 */
#ifndef DNSAGG_LOGTIME_H
#define DNSAGG_LOGTIME_H

#include <stddef.h>
#include <stdint.h>

#include "hot.h"
#include "logline.h"

struct logtime {
	uint32_t unix_time; /* of the last line */
	/* the local year of `now` */
	uint32_t now;
	int now_year; /* 0: not known */
	/* the local date last converted (year 0: none), and, when 23:59:59 is
	 * 86399 s after its 00:00:00 (one UTC offset all day), the unix time
	 * of that midnight */
	int year, month, day;
	int one_offset;
	uint32_t midnight;
	/* the parser's memo when the last stamp was its prefix's: its counts of
	 * changes then (or counts it has not had), and, while `now` is
	 * memo_now, the stamp date's midnight and the latest time a new clock
	 * may give by arithmetic (before 24:00, not a day after now) */
	uint32_t memo_stamps, memo_dates, memo_now;
	uint32_t memo_midnight, limit;
};

/*
 * The time to count a line at: the unix time its stamp gives (the year,
 * without one, as above); `now` when the line has no stamp or its time is
 * none a uint32_t holds.
 */
uint32_t logtime_line(struct logtime *lt, const char *line, size_t len, uint32_t now);

/* logtime_memo_line() but for its shortcuts. */
uint32_t logtime_memo_new(struct logtime *lt, const struct logline_memo *memo, const char *line, size_t len,
                          uint32_t now);

/*
 * The same for a line just parsed by logline_parse_memo() with memo: when
 * the line began with the memo's prefix, and the memo saw only new clocks
 * since the last line that did, the clock the parser checked is taken
 * from the memo.
 */
HOT uint32_t logtime_memo_line(struct logtime *lt, const struct logline_memo *memo, const char *line, size_t len,
                               uint32_t now)
{
	if (memo->hit) {
		uint32_t v = lt->memo_midnight + memo->clock;
		if (memo->stamps == lt->memo_stamps)
			return lt->unix_time; /* the prefix, so the stamp, of the line before */
		if (memo->dates == lt->memo_dates && now == lt->memo_now && v <= lt->limit) {
			lt->memo_stamps = memo->stamps;
			lt->unix_time = v;
			return v;
		}
	}
	return logtime_memo_new(lt, memo, line, len, now);
}

/*
 * The unix time of a local date and time as logline_time() gives them
 * (month 1 to 12, day 1 to 31, a day past the month's end carrying over;
 * hour 0 to 23, minute 0 to 59, second 0 to 60), through the date cache;
 * -1 when mktime() gives none a uint32_t holds.
 */
int64_t logtime_local(struct logtime *lt, int year, int month, int day, int hour, int minute, int second);

#endif
