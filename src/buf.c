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
 * pass 2^32.  Those are written digit by digit, by subtracting powers of
 * ten; the rest with 32-bit divisions. */
char *u64_text(uint64_t v, char out[21])
{
	char tmp[21];
	size_t n = 0;
	if (v > UINT32_MAX) {
		static const uint64_t powers[] = {
			10000000000000000000u, 1000000000000000000u, 100000000000000000u, 10000000000000000u,
			1000000000000000u, 100000000000000u, 10000000000000u, 1000000000000u, 100000000000u,
			10000000000u, 1000000000u, 100000000u, 10000000u, 1000000u, 100000u, 10000u, 1000u,
			100u, 10u, 1u,
		};
		int started = 0;
		for (size_t i = 0; i < sizeof powers / sizeof powers[0]; i++) {
			unsigned digit = 0;
			while (v >= powers[i]) {
				v -= powers[i];
				digit++;
			}
			started |= digit != 0;
			if (started)
				out[n++] = (char)('0' + digit);
		}
		out[n] = '\0';
		return out;
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
