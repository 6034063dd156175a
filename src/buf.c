/*
 * buf.c - the growable text buffer (see buf.h).
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void buf_add(struct buf *b, const char *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Without a 64-bit division: on 32-bit MIPS that would link libgcc's
 * __udivdi3 and __umoddi3 (2 KiB of the module) for numbers that rarely
 * pass 2^32.  Those lose four digits at a time, by a long division by
 * 10,000 in 16-bit steps (a remainder below 10,000 and 16 bits fit a
 * 32-bit division); the rest, and those, with 32-bit divisions. */
char *u64_text(uint64_t v, char out[21])
{
	char tmp[20]; /* the digits, the last first */
	size_t n = 0;
	while (v > UINT32_MAX) {
		uint64_t q = 0;
		uint32_t r = 0;
		for (int shift = 48; shift >= 0; shift -= 16) {
			uint32_t x = r << 16 | (uint32_t)(v >> shift & 0xffff);
			q = q << 16 | x / 10000u;
			r = x % 10000u;
		}
		for (int i = 0; i < 4; i++, r /= 10u)
			tmp[n++] = (char)('0' + r % 10u);
		v = q;
	}
	uint32_t w = (uint32_t)v;
	do {
		tmp[n++] = (char)('0' + w % 10u);
		w /= 10u;
	} while (w);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return out;
}

void buf_u64(struct buf *b, uint64_t v)
{
	char text[21];
	buf_str(b, u64_text(v, text));
}

void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
