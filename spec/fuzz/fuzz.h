/*
 * fuzz.h - what every fuzz target under spec/fuzz/ shares.
 *
 * A target is one C file defining LLVMFuzzerTestOneInput().  It is linked
 * two ways (see the Makefile): with clang's libFuzzer, ASan and UBSan for
 * `make fuzz`, and with spec/fuzz/replay.c, a plain main() that feeds it
 * every file of its seed corpus and of its regressions, for `make test`.
 *
 * Beyond not crashing, each target checks what the code promises about its
 * output (spans inside the input, counts that add up, text that is valid
 * exposition).  A broken promise aborts with FUZZ_CHECK's message, which
 * libFuzzer reports as a crash and keeps the input of.
 */
#ifndef DNSAGG_FUZZ_H
#define DNSAGG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* A heap copy of exactly n bytes (one byte for n == 0), so that a read past
 * the end of a part of the input is caught by ASan, not only a read past
 * the end of the whole input. */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	FUZZ_CHECK(p != NULL);
	if (n)
		memcpy(p, data, n);
	return p;
}

/* p[0..n) lies inside base[0..size). */
static inline int fuzz_inside(const void *p, size_t n, const void *base, size_t size)
{
	const uint8_t *q = p, *b = base;
	return q >= b && n <= size && (size_t)(q - b) <= size - n;
}

/* A configuration with tables of these sizes, no lease file, no capture. */
static inline struct agg_config fuzz_agg_config(uint32_t entries, uint32_t clients, uint32_t servers)
{
	struct agg_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.max_entries = entries;
	cfg.max_clients = clients;
	cfg.max_servers = servers;
	cfg.max_leases = 1;
	return cfg;
}

/* An aggregator whose tables are keyed with a fixed key instead of a random
 * one, so that an input takes the same path on every run (libFuzzer wants
 * that) and two aggregators fed alike can be compared.  The key is set while
 * every table is still empty, before anything was hashed with the old one. */
static inline struct agg *fuzz_agg_new(const struct agg_config *cfg)
{
	static const struct hash_key fixed = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	struct agg *agg = agg_new(cfg);
	FUZZ_CHECK(agg != NULL);
	FUZZ_CHECK(agg->pool.count == 0 && (!agg->dnstt || agg->dnstt->used == 0));
	agg->key = fixed;
	agg->pool.key = fixed;
	if (agg->dnstt)
		agg->dnstt->key = fixed;
	return agg;
}

#endif
