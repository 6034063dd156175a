/*
 * expo.h - the Prometheus side: which metric families a view shows, with
 * which labels, and the text exposition format with escaped label values.
 *
 * expo_walk() is the one list of families; render() and the collector's
 * export through the host's metric() are two sinks of the same walk, so the
 * two can never disagree.
 */
#ifndef DNSAGG_EXPO_H
#define DNSAGG_EXPO_H

#include <stddef.h>

#include "agg.h"
#include "buf.h"

struct expo_label {
	const char *name;
	const char *value; /* raw: the sink escapes it */
};

struct expo_sink {
	void (*family)(void *ctx, const char *name, const char *type, const char *help);
	void (*sample)(void *ctx, const char *name, const struct expo_label *labels, size_t nlabels,
	               const char *value);
	void *ctx;
};

/* Calls sink->family once per family, then sink->sample for its series. */
void expo_walk(const struct agg_view *view, const struct expo_sink *sink);

/* The whole text exposition, HELP and TYPE lines included, appended to out. */
void expo_render(const struct agg_view *view, struct buf *out);

/* Appends a label value escaped for the text format: backslash, double
 * quote and newline escaped, bytes that are not UTF-8 replaced by U+FFFD. */
void expo_escape(struct buf *out, const char *value);

/* The unsigned integer of `size` bytes (4 or 8) at base + at, or (is_int)
 * the int there, 0 when below: a counter found by a table of fields. */
uint64_t expo_field(const void *base, size_t at, size_t size, int is_int);

#endif
