/*
 * hash.c - SipHash-1-3 (Aumasson and Bernstein), written from the paper's
 * description, the random key that seeds it, and the out-of-line copy of
 * hash_fast() (hash.h).
 */
#include "hash.h"
#include "hot.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t v0, v1, v2, v3;
};

/* HOT (hot.h): four rounds a short string. */
HOT void sip_round(struct sip *s)
{
	s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
}

/* Eight bytes, little-endian whatever the host (MIPS routers are big). */
static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "unknown byte order"
#endif
	return v;
}

static uint64_t load_le32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* The last len & 7 bytes of p[0..len), little-endian, in a few loads
 * rather than a loop: the last eight bytes shifted down after a whole
 * block; two 4-byte words that overlap for 4 to 7; else the bytes at 0,
 * len / 2 and len - 1, which are all of them. */
static uint64_t load_tail(const unsigned char *p, size_t len)
{
	unsigned tail = (unsigned)(len & 7);
	if (tail == 0)
		return 0;
	if (len >= 8)
		return load_le64(p + len - 8) >> (64 - 8 * tail);
	if (len >= 4)
		return load_le32(p) | load_le32(p + len - 4) << (8 * (len - 4));
	return (uint64_t)p[0] | (uint64_t)p[len / 2] << (8 * (len / 2)) | (uint64_t)p[len - 1] << (8 * (len - 1));
}

uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len)
{
	const unsigned char *p = data;
	struct sip s = {
		key->k0 ^ 0x736f6d6570736575ULL, key->k1 ^ 0x646f72616e646f6dULL,
		key->k0 ^ 0x6c7967656e657261ULL, key->k1 ^ 0x7465646279746573ULL,
	};
	size_t whole = len & ~(size_t)7;

	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m = load_le64(p + i);
		s.v3 ^= m;
		sip_round(&s);
		s.v0 ^= m;
	}
	uint64_t last = (uint64_t)(len & 0xff) << 56 | load_tail(p, len);
	s.v3 ^= last;
	sip_round(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
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
	unsigned char buf[16];
	ssize_t got = -1;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		got = read(fd, buf, sizeof buf);
		close(fd);
	}
	if (got == (ssize_t)sizeof buf) {
		key->k0 = load_le64(buf);
		key->k1 = load_le64(buf + 8);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	key->k0 = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)key;
	key->k1 = (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
}
