/*
 * buf.h - a growable byte buffer for building text.  A failed allocation
 * sets `failed` and makes later appends do nothing, so callers check once.
 */
#ifndef DNSAGG_BUF_H
#define DNSAGG_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len, cap;
	int failed;
};

void buf_add(struct buf *b, const char *data, size_t len);
void buf_str(struct buf *b, const char *s);
void buf_u64(struct buf *b, uint64_t v);
void buf_free(struct buf *b);

/* Formats v in decimal into out (at least 21 bytes); returns out. */
char *u64_text(uint64_t v, char out[21]);

#endif
