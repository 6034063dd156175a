/*
 * hash.c - the out-of-line SipHash (hash.h holds its inline core), the
 * random key that seeds it, the multiply-shift key drawn from it, and the
 * out-of-line copy of hash_fast().
 */
#include "hash.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len)
{
	return hash_sip13(key, data, len);
}

/* The out-of-line copy of the inline hash_fast() of hash.h. */
extern inline uint32_t hash_fast(const void *data, size_t len);

void hash_key_derive(struct hash_key *key, const void *secret, size_t len)
{
	/* two fixed keys ("dnsagg client k0", "... k1"): SipHash is a PRF, so
	 * the derived halves are as secret as the configured string */
	static const struct hash_key k0 = { 0x6761736e64ULL, 0x30206b20746e6569ULL };
	static const struct hash_key k1 = { 0x6761736e64ULL, 0x31206b20746e6569ULL };
	key->k0 = hash_bytes(&k0, secret, len);
	key->k1 = hash_bytes(&k1, secret, len);
}

void hash_key_random(struct hash_key *key)
{
	ssize_t got = -1;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) { /* random bytes: the key's, in whatever byte order */
		got = read(fd, key, sizeof *key);
		close(fd);
	}
	if (got == (ssize_t)sizeof *key)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	key->k0 = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)key;
	key->k1 = (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
}

/* The SipHash of the 64-bit counts 0, 1, 2, ... into b[0], a[0][0..], b[1],
 * a[1][0..] in turn. */
void hash_ms_key_derive(struct hash_ms_key *ms, const struct hash_key *key)
{
	for (uint32_t n = 0; n < 2 * (HASH_MS_WORDS + 1); n++) {
		uint64_t i = n;
		uint32_t k = n / (HASH_MS_WORDS + 1), j = n % (HASH_MS_WORDS + 1);
		uint64_t h = hash_bytes(key, &i, sizeof i);
		if (j == 0)
			ms->b[k] = h;
		else
			ms->a[k][j - 1] = h;
	}
}
