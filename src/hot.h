/*
 * hot.h - what the path that every log line or packet takes shares.
 *
 * HOT marks a small function there: always inlined when optimising for
 * speed.  Under -Os (OpenWrt's packages, `make cross`) the compiler chooses:
 * the module must fit its flash budget.  same_bytes() compares the few
 * bytes of a name, a client or a query type without a call to memcmp
 * (but under -Os, where one call is smaller).
 * word_t is a machine word of bytes looked at at once (8 on x86-64, 4 on
 * 32-bit MIPS), ONES and HIGHS the constants of tests on all its bytes, and
 * two such tests below.
 */
#ifndef DNSAGG_HOT_H
#define DNSAGG_HOT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef unsigned long word_t;
#define WORD_BYTES sizeof(word_t)
#define ONES ((word_t)-1 / 0xff)
#define HIGHS (ONES * 0x80)

#ifdef __OPTIMIZE_SIZE__
#define HOT static inline
#else
#define HOT static inline __attribute__((always_inline))
#endif

/* Whether a word holds a byte below `low` (at most 0x80) or a 0x7f.
 * Exact as a yes or no, whatever the byte order. */
HOT word_t word_has_below_or_del(word_t w, unsigned low)
{
	word_t del = w ^ (0x7f * ONES);
	return ((w - low * ONES) & ~w & HIGHS) | ((del - ONES) & ~del & HIGHS);
}

/* 0x80 in each byte of w that is zero and nowhere else: no carry crosses
 * from byte to byte, so the first flag is the first zero on either byte
 * order. */
HOT word_t zero_bytes(word_t w)
{
	const word_t low7 = ONES * 0x7f;
	return ~(((w & low7) + low7) | w | low7);
}

/* Whether the n bytes at a and at b are equal: a machine word at a time,
 * the last word overlapping the one before it; under a word, two 4-byte
 * halves that overlap, or (under 4) the bytes at 0, n / 2 and n - 1, which
 * are all of them.  Under -Os, memcmp(): one call, where on MIPS16 (no
 * unaligned loads) each word read below is a call to memcpy(). */
HOT int same_bytes(const char *a, const char *b, size_t n)
{
#ifdef __OPTIMIZE_SIZE__
	return memcmp(a, b, n) == 0;
#else
	unsigned long x, y;
	uint32_t h[2], k[2];
	if (n < sizeof x) {
		if (n < 4)
			return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
		memcpy(h, a, 4);
		memcpy(h + 1, a + n - 4, 4);
		memcpy(k, b, 4);
		memcpy(k + 1, b + n - 4, 4);
		return h[0] == k[0] && h[1] == k[1];
	}
	for (size_t i = 0; i + sizeof x < n; i += sizeof x) {
		memcpy(&x, a + i, sizeof x);
		memcpy(&y, b + i, sizeof y);
		if (x != y)
			return 0;
	}
	memcpy(&x, a + n - sizeof x, sizeof x);
	memcpy(&y, b + n - sizeof y, sizeof y);
	return x == y;
#endif
}

#endif
