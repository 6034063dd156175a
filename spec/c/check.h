/*
 * check.h - the smallest test harness that reports honestly.
 *
 * Each test file includes this once, defines its test functions, and calls
 * CHECK_MAIN(fn1, fn2, ...).  Every CHECK* counts one assertion; a failing
 * one prints file:line and the values, and the run exits non-zero.
 */
#ifndef DNSAGG_CHECK_H
#define DNSAGG_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned check_passed, check_failed;

#define CHECK(cond) do { \
	if (cond) check_passed++; \
	else { check_failed++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ == w_) check_passed++; \
	else { check_failed++; fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); } \
} while (0)

#define CHECK_U64(got, want) do { \
	uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want); \
	if (g_ == w_) check_passed++; \
	else { check_failed++; fprintf(stderr, "%s:%d: %s == %" PRIu64 ", want %" PRIu64 "\n", __FILE__, __LINE__, #got, g_, w_); } \
} while (0)

/* Compares a (pointer, length) span with a C string. */
#define CHECK_SPAN(ptr, len, want) do { \
	const char *p_ = (ptr), *w_ = (want); size_t l_ = (len); \
	if (p_ && strlen(w_) == l_ && memcmp(p_, w_, l_) == 0) check_passed++; \
	else { check_failed++; fprintf(stderr, "%s:%d: %s == \"%.*s\", want \"%s\"\n", __FILE__, __LINE__, #ptr, \
		p_ ? (int)l_ : 6, p_ ? p_ : "(null)", w_); } \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ && strcmp(g_, w_) == 0) check_passed++; \
	else { check_failed++; fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_); } \
} while (0)

/* A fixed-seed xorshift generator: the same "random" inputs on every run,
 * so a failure found by one reproduces. */
static inline uint64_t check_rand(void)
{
	static uint64_t state = 0x9e3779b97f4a7c15ULL;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

typedef void (*check_fn)(void);

static int check_run(const char *file, const check_fn *tests, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tests[i]();
	printf("%s: %u passed, %u failed\n", file, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#define CHECK_MAIN(...) \
	int main(void) { \
		static const check_fn tests_[] = { __VA_ARGS__ }; \
		return check_run(__FILE__, tests_, sizeof tests_ / sizeof tests_[0]); \
	}

#endif
