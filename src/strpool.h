/*
 * strpool.h - interned, reference-counted strings.
 *
 * A domain asked for by fifty clients is stored once.  Because equal strings
 * are the same object, tables compare keys by pointer.  The pool holds no
 * reference of its own: a string is freed when its last holder puts it.
 *
 * The chains are keyed with SipHash, so no name chosen on the LAN makes one
 * long.  Before them, a small two-way set-associative cache indexed by the
 * cheap unkeyed hash_fast() finds the strings that recur line after line
 * (the clients, the popular names, the query types) without SipHash.  Its
 * slots hold no reference and are cleared when their string is freed;
 * names made to collide in it only make it miss.
 */
#ifndef DNSAGG_STRPOOL_H
#define DNSAGG_STRPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "hot.h"

struct str {
	struct str *next; /* hash chain */
	uint32_t refs;
	uint32_t hash;
	uint16_t len;
	char data[];      /* len bytes, then a NUL */
};

/* A power of two.  4096 slots (32 KiB on x86-64, 16 KiB on 32-bit MIPS)
 * hold a busy network's clients and popular names: with 1024, a thousand
 * names and 500 clients missed there often enough to cost 38 instructions
 * a line (make bench, 1M keys).  They are 2048 sets of two: direct-mapped,
 * a thousand names (make bench, client-query) missed one time in 13 in
 * the birthday collisions of their slots. */
#define STRPOOL_RECENT_SLOTS 4096

struct strpool {
	struct str *recent[STRPOOL_RECENT_SLOTS]; /* no references */
	uint32_t frees[STRPOOL_RECENT_SLOTS / 2]; /* strings of each set freed so far (str_memo) */
	struct str **buckets;
	uint32_t nbuckets; /* a power of two */
	uint32_t count;
	size_t bytes;      /* memory held by strings and buckets */
	struct hash_key key;
};

#define STRPOOL_MAX_LEN 0xffff

int strpool_init(struct strpool *pool, const struct hash_key *key);
void strpool_free(struct strpool *pool);

/* Returns the string if the pool has it, without taking a reference. */
struct str *strpool_find(const struct strpool *pool, const char *data, size_t len);

static inline struct str *str_ref(struct str *s)
{
	s->refs++;
	return s;
}

/* strpool_get() past the cache of recent strings: slot is data's set
 * there, neither of whose slots held it.  The string found or made takes
 * the set's first slot, the string there moves to the second. */
struct str *strpool_get_uncached(struct strpool *pool, const char *data, size_t len, struct str **slot);

/* A string's set in the cache, its two slots: strings that share a set
 * only miss there, the third of them on.  fast is hash_fast() of its text. */
HOT struct str **strpool_recent_set(struct strpool *pool, uint32_t fast)
{
	return &pool->recent[fast & (STRPOOL_RECENT_SLOTS - 2)];
}

HOT struct str **strpool_recent_slot(struct strpool *pool, const char *data, size_t len)
{
	return strpool_recent_set(pool, hash_fast(data, len));
}

/* Whether s, a slot's string or NULL, is data[0..len). */
HOT int strpool_holds(const struct str *s, const char *data, size_t len)
{
	return s && s->len == len && same_bytes(s->data, data, len); /* never for len > STRPOOL_MAX_LEN */
}

/* strpool_get() for a caller that has hash_fast(data, len) already, in
 * fast (a packet's name, which its pending check hashes the same way). */
HOT struct str *strpool_get_fast(struct strpool *pool, const char *data, size_t len, uint32_t fast)
{
	struct str **slot = strpool_recent_set(pool, fast);
	if (strpool_holds(slot[0], data, len))
		return str_ref(slot[0]);
	if (strpool_holds(slot[1], data, len))
		return str_ref(slot[1]);
	return strpool_get_uncached(pool, data, len, slot);
}

/* Returns the string equal to data[0..len) with one more reference, making
 * it if needed; NULL when memory runs out or len > STRPOOL_MAX_LEN.  The
 * cache's hit inline (HOT: every line and packet interns two to four). */
HOT struct str *strpool_get(struct strpool *pool, const char *data, size_t len)
{
	return strpool_get_fast(pool, data, len, hash_fast(data, len));
}

/* A string remembered without a reference: the pointer, its set in the
 * cache of recent strings and how many strings of that set had been freed
 * then.  strpool_recall() gives it back, with a reference, while no string
 * of its set has been freed since (strpool_release() counts them): so it
 * is alive, and the same string (another one at its address would have
 * been made after it was freed, a free the count saw; the count comes
 * round only after 2^32 frees in one set).  The holder need not make the
 * text again (a packet's client address, for one) nor compare it; frees
 * in the other 2047 sets leave the memo be.  The counts take 8 KiB. */
struct str_memo {
	struct str *s; /* NULL: nothing remembered */
	uint32_t frees;
	uint16_t set;
};

HOT struct str *strpool_recall(struct strpool *pool, const struct str_memo *m)
{
	struct str *s = m->s;
	if (s && pool->frees[m->set] == m->frees)
		return str_ref(s);
	return NULL;
}

/* Remembers s (NULL: nothing) in *m. */
static inline void strpool_remember(struct strpool *pool, struct str_memo *m, struct str *s)
{
	m->s = s;
	if (!s)
		return;
	m->set = (uint16_t)((strpool_recent_slot(pool, s->data, s->len) - pool->recent) / 2);
	m->frees = pool->frees[m->set];
}

/* Frees a string whose last reference was dropped. */
void strpool_release(struct strpool *pool, struct str *s);

/* Drops one reference; frees the string with the last one. NULL is ignored.
 * An inline definition (C99): a line drops three or four; strpool.c holds
 * the out-of-line copy. */
inline void strpool_put(struct strpool *pool, struct str *s)
{
	if (s && --s->refs == 0)
		strpool_release(pool, s);
}

#endif
