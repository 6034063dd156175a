/*
 * test_table.c - unit tests of the tables: src/hash.c, src/strpool.c,
 * src/lru.c and src/pending.c.
 *
 * The tables are driven directly, with a fixed hash key.  The test holds its
 * own reference to every string it passes to lru_touch(), as agg.c does,
 * and puts it afterwards, so that the table's references can be counted.
 */
#include "check.h"
#include "hash.h"
#include "lru.h"
#include "pending.h"
#include "strpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hash_key test_key = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };

/* ---- hash ---- */

/* SipHash-1-3 with a zero key, as an independent implementation gives it:
 * CPython 3.11's hash() of bytes under PYTHONHASHSEED=0 (PEP 456), e.g.
 * PYTHONHASHSEED=0 python3 -c 'print(hex(hash(b"a") & (2**64-1)))'.
 * Lengths below, at and above one 8-byte block; run on big-endian MIPS too. */
static void test_siphash_vectors(void)
{
	static const struct {
		const char *in;
		uint64_t out;
	} v[] = {
		{ "a", 0x407448d2b89b1813ULL },
		{ "abcdefg", 0x6db12aae9070f506ULL },
		{ "abcdefgh", 0x3f7b849c0b8e35eaULL },
		{ "s0000123.example.com", 0x7ff96846f74d9683ULL },
		{ "192.168.0.5", 0xa590907e0aa018e7ULL },
		/* every way the last partial block is read (1 to 3, 4 to 7, after a block) */
		{ "ab", 0x555508cbc6add439ULL },
		{ "abc", 0xc03bc3a0042630f2ULL },
		{ "abcd", 0xe3d1d5fdd52aae89ULL },
		{ "abcde", 0x251f3c725bd784a2ULL },
		{ "abcdef", 0x62207e654289df28ULL },
		{ "abcdefghi", 0xf89b34a3d11eb6e5ULL },
		{ "abcdefghij", 0xf47c264806c40ff1ULL },
		{ "abcdefghijkl", 0x83275255f37565c1ULL },
		{ "abcdefghijklmno", 0x1fd27a29b0e9dc7aULL },
		{ "abcdefghijklmnop", 0x94f60d3d29e6a312ULL },
		{ "abcdefghijklmnopqrstuv", 0xb679c8ef18bea06aULL },
		{ "abcdefghijklmnopqrstuvw", 0xd9c26100b33ee39cULL },
	};
	const struct hash_key zero = { 0, 0 };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		CHECK(hash_bytes(&zero, v[i].in, strlen(v[i].in)) == v[i].out);
	/* the unkeyed check hash: equal bytes, equal values; the length counts */
	CHECK(hash_fast("192.168.1.10", 12) == hash_fast("192.168.1.10", 12));
	CHECK(hash_fast("192.168.1.10", 12) != hash_fast("192.168.1.10", 11));
	CHECK(hash_fast("192.168.1.10", 12) != hash_fast("192.168.1.11", 12));
	CHECK(hash_fast("2001:db8::1", 11) != hash_fast("3001:db8::1", 11)); /* first bytes */
	CHECK(hash_fast("A", 1) != hash_fast("B", 1));                     /* under eight bytes */
	CHECK(hash_fast("AAAA", 4) != hash_fast("AAA", 3));
	CHECK(hash_fast("", 0) == hash_fast("", 0));
}

/* Multiply-shift: the formula on a key written by hand (the high 32 bits
 * of each running sum); keys drawn from a SipHash key are the same for the
 * same key and differ for another; and, with a drawn key, 2^16 ports times
 * 4 IDs (the fields a sender picks) give 262,144 different 64-bit keys
 * whose low 10 bits (a pending slot) spread evenly. */
static void test_multiply_shift(void)
{
	struct hash_ms_key k;
	memset(&k, 0, sizeof k);
	k.b[0] = 7ULL << 32;
	k.b[1] = 0xffffffffULL; /* carries into the high half only with a product */
	k.a[0][0] = 1ULL << 32;
	k.a[1][0] = 3ULL << 32;
	k.a[0][1] = 0x80000000ULL; /* the product's carry reaches the high half */
	k.a[1][1] = 1;
	uint64_t h[2] = { k.b[0], k.b[1] };
	hash_ms_add(h, &k, 0, 5);
	hash_ms_add(h, &k, 1, 2);
	CHECK(hash_ms_end(h) == ((7ULL + 5 + 1) << 32 | (15ULL + 1)));

	const struct hash_key one = { 1, 2 }, other = { 1, 3 };
	struct hash_ms_key a, b, c;
	hash_ms_key_derive(&a, &one);
	hash_ms_key_derive(&b, &one);
	hash_ms_key_derive(&c, &other);
	CHECK(memcmp(&a, &b, sizeof a) == 0);
	CHECK(a.a[0][0] != c.a[0][0] && a.b[1] != c.b[1]);
	CHECK(a.a[0][0] != a.a[1][0] && a.a[0][5] != a.a[1][5]); /* two draws, not one twice */

	enum { N = 1 << 18, SLOTS = 1024 };
	uint64_t *out = malloc(N * sizeof *out);
	unsigned *slot = calloc(SLOTS, sizeof *slot);
	CHECK(out && slot);
	if (!out || !slot) {
		free(out);
		free(slot);
		return;
	}
	for (uint32_t i = 0; i < N; i++) {
		uint64_t s[2] = { a.b[0], a.b[1] };
		hash_ms_add(s, &a, 0, (i & 0xffff) | (i >> 16) << 16); /* port, ID */
		hash_ms_add(s, &a, 1, 1 | 4u << 16);                   /* type A, IPv4 */
		hash_ms_add(s, &a, 2, 0x0100007f);                    /* one client */
		out[i] = hash_ms_end(s);
		slot[out[i] & (SLOTS - 1)]++;
	}
	unsigned most = 0, fewest = N;
	for (unsigned i = 0; i < SLOTS; i++) {
		most = slot[i] > most ? slot[i] : most;
		fewest = slot[i] < fewest ? slot[i] : fewest;
	}
	CHECK(most < 256 * 3 / 2 && fewest > 256 / 2); /* 256 a slot on average */
	/* no two equal: sorted, each differs from the next */
	for (uint32_t gap = N / 2; gap; gap /= 2) /* a shell sort: no qsort callback */
		for (uint32_t i = gap; i < N; i++)
			for (uint32_t j = i; j >= gap && out[j - gap] > out[j]; j -= gap) {
				uint64_t t = out[j];
				out[j] = out[j - gap];
				out[j - gap] = t;
			}
	unsigned equal = 0;
	for (uint32_t i = 1; i < N; i++)
		equal += out[i] == out[i - 1];
	CHECK(equal == 0);
	free(out);
	free(slot);
}

/* ---- helpers ---- */

static struct str *get(struct strpool *pool, const char *s)
{
	struct str *str = strpool_get(pool, s, strlen(s));
	if (!str) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return str;
}

/* Interns prefix, n in decimal, then suffix: "host-" 12 ".example". */
static struct str *get_num(struct strpool *pool, const char *prefix, unsigned n, const char *suffix)
{
	char text[64];
	snprintf(text, sizeof text, "%s%u%s", prefix, n, suffix);
	return get(pool, text);
}

/* Touches the one-string key s and bumps its count, as agg.c does. */
static struct lru_node *touch1(struct lru *t, struct str *s, uint32_t now)
{
	struct str *key[LRU_KEYS] = { s, NULL, NULL };
	struct lru_node *n = lru_touch(t, key, now);
	if (n)
		n->count++;
	return n;
}

/* Touches the key named by the C string s, holding a reference only for the
 * time of the call. */
static struct lru_node *touch_name(struct lru *t, const char *s, uint32_t now)
{
	struct str *str = get(t->pool, s);
	struct lru_node *n = touch1(t, str, now);
	strpool_put(t->pool, str);
	return n;
}

/* Writes the first keys of the table, newest to oldest, as "a,b,c". */
static const char *order_of(const struct lru *t)
{
	static char text[256];
	size_t len = 0;
	text[0] = '\0';
	for (uint32_t i = t->newest; i != LRU_NIL && len < sizeof text - 64; i = t->nodes[i].older)
		len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", len ? "," : "", t->nodes[i].key[0]->data);
	return text;
}

/* The same order, walked from the oldest end. */
static const char *order_backwards(const struct lru *t)
{
	static char text[256];
	const char *names[64];
	size_t n = 0, len = 0;
	for (uint32_t i = t->oldest; i != LRU_NIL && n < 64; i = t->nodes[i].newer)
		names[n++] = t->nodes[i].key[0]->data;
	text[0] = '\0';
	while (n > 0 && len < sizeof text - 64) {
		n--;
		len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", len ? "," : "", names[n]);
	}
	return text;
}

/* The node whose first key is the string s, or NULL (a walk, not the index). */
static const struct lru_node *node_named(const struct lru *t, const char *s)
{
	for (uint32_t i = t->newest; i != LRU_NIL; i = t->nodes[i].older)
		if (strcmp(t->nodes[i].key[0]->data, s) == 0)
			return &t->nodes[i];
	return NULL;
}

/* References the table's nodes hold to s. */
static uint32_t table_refs(const struct lru *t, const struct str *s)
{
	uint32_t refs = 0;
	for (uint32_t i = 0; i < t->used; i++)
		for (int k = 0; k < LRU_KEYS; k++)
			refs += t->nodes[i].key[k] == s;
	return refs;
}

/* 1 when every string in the pool is held by the table's nodes exactly as
 * many times as its reference count says, and by nothing else. */
static int pool_matches_table(const struct strpool *pool, const struct lru *t)
{
	uint32_t seen = 0;
	for (uint32_t b = 0; b < pool->nbuckets; b++)
		for (const struct str *s = pool->buckets[b]; s; s = s->next, seen++)
			if (s->refs == 0 || table_refs(t, s) != s->refs)
				return 0;
	return seen == pool->count;
}

/* ---- strpool ---- */

static void test_strpool_interns_equal_bytes_once(void)
{
	struct strpool pool;
	CHECK_INT(strpool_init(&pool, &test_key), 0);
	size_t empty_bytes = pool.bytes;

	struct str *a = strpool_get(&pool, "example.com", 11);
	struct str *b = strpool_get(&pool, "example.com!", 11); /* the same 11 bytes */
	struct str *c = strpool_get(&pool, "example.org", 11);
	struct str *d = strpool_get(&pool, "example.co", 10);   /* a prefix is another string */
	struct str *e = strpool_get(&pool, "a\0b", 3);           /* lengths, not NULs, delimit */
	struct str *f = strpool_get(&pool, "a", 1);

	CHECK(a != NULL && b == a);
	CHECK(c != NULL && c != a);
	CHECK(d != NULL && d != a);
	CHECK(e != NULL && f != NULL && e != f);
	CHECK_INT(a->refs, 2);
	CHECK_INT(c->refs, 1);
	CHECK_INT(a->len, 11);
	CHECK_STR(a->data, "example.com");
	CHECK_INT(e->len, 3);
	CHECK(memcmp(e->data, "a\0b", 4) == 0); /* NUL-terminated after len bytes */
	CHECK_INT(pool.count, 5);
	CHECK(pool.bytes > empty_bytes);

	strpool_put(&pool, a);
	strpool_put(&pool, b);
	strpool_put(&pool, c);
	strpool_put(&pool, d);
	strpool_put(&pool, e);
	strpool_put(&pool, f);
	CHECK_INT(pool.count, 0);
	CHECK_U64(pool.bytes, empty_bytes);
	strpool_free(&pool);
}

static void test_strpool_frees_at_last_put(void)
{
	struct strpool pool;
	strpool_init(&pool, &test_key);
	struct str *a = get(&pool, "a.example");
	str_ref(a);
	get(&pool, "a.example");
	CHECK_INT(a->refs, 3);

	strpool_put(&pool, a);
	CHECK_INT(a->refs, 2);
	strpool_put(&pool, a);
	CHECK_INT(a->refs, 1);
	CHECK(strpool_find(&pool, "a.example", 9) == a);
	CHECK_INT(pool.count, 1);

	strpool_put(&pool, a); /* the last reference: freed */
	CHECK(strpool_find(&pool, "a.example", 9) == NULL);
	CHECK_INT(pool.count, 0);

	strpool_put(&pool, NULL); /* ignored */
	CHECK_INT(pool.count, 0);

	/* made again from nothing, with one reference */
	struct str *again = get(&pool, "a.example");
	CHECK_INT(again->refs, 1);
	CHECK_INT(pool.count, 1);
	strpool_put(&pool, again);
	strpool_free(&pool);
}

/* A name that shares the cache set of `of`, the first ("n0", "n1", ...) after
 * `skip` others that do. */
static void slot_mate(const char *of, int skip, char *out, size_t size)
{
	uint32_t want = hash_fast(of, strlen(of)) & (STRPOOL_RECENT_SLOTS - 2);
	for (unsigned i = 0;; i++) {
		snprintf(out, size, "n%u", i);
		if (strcmp(out, of) != 0 && (hash_fast(out, strlen(out)) & (STRPOOL_RECENT_SLOTS - 2)) == want &&
		    skip-- == 0)
			return;
	}
}

/* The cache in front of the chains, sets of two slots: two strings in one
 * set are both kept, a third takes the place of the one filled first and
 * all are found, and a freed string leaves its slot (ASan would see a
 * later compare against it). */
static void test_strpool_recent_cache(void)
{
	struct strpool pool;
	char mate[32], third[32];
	strpool_init(&pool, &test_key);
	slot_mate("a.example", 0, mate, sizeof mate);
	slot_mate("a.example", 1, third, sizeof third);
	struct str **slot = &pool.recent[hash_fast("a.example", 9) & (STRPOOL_RECENT_SLOTS - 2)];

	struct str *a = get(&pool, "a.example");
	CHECK(slot[0] == a && slot[1] == NULL);
	CHECK(get(&pool, "a.example") == a); /* from the cache */
	struct str *b = get(&pool, mate);
	CHECK(slot[0] == b && slot[1] == a && b != a);
	CHECK(get(&pool, "a.example") == a); /* from the cache, the second slot */
	CHECK(slot[0] == b && slot[1] == a);
	struct str *c = get(&pool, third);
	CHECK(slot[0] == c && slot[1] == b); /* a went */
	CHECK(get(&pool, "a.example") == a); /* from the chains, and back in the set */
	CHECK(slot[0] == a && slot[1] == c);
	CHECK_INT(a->refs, 4);
	CHECK_INT(b->refs, 1);
	CHECK_INT(pool.count, 3);

	strpool_put(&pool, b); /* freed while not in the set: the set keeps a and c */
	CHECK(slot[0] == a && slot[1] == c);
	strpool_put(&pool, c); /* freed while in the second slot: that slot is emptied */
	CHECK(slot[0] == a && slot[1] == NULL);
	for (int i = 0; i < 4; i++)
		strpool_put(&pool, a); /* freed while in the first: the slot is emptied */
	CHECK(slot[0] == NULL);
	CHECK_INT(pool.count, 0);

	struct str *again = get(&pool, "a.example");
	CHECK_INT(again->refs, 1);
	CHECK_INT(pool.count, 1);
	strpool_put(&pool, again);
	strpool_free(&pool);
}

/* A memo gives its string back, with a reference, while no string of its
 * set in the cache has been freed: out of the set's slots too, not after a
 * string of its set was freed (a string made since, perhaps at the freed
 * one's address, even of the same text, is not recalled), untouched by
 * frees in other sets. */
static void test_strpool_memo(void)
{
	struct strpool pool;
	struct str_memo memo = { 0 };
	char mate[32], third[32];
	strpool_init(&pool, &test_key);
	slot_mate("a.example", 0, mate, sizeof mate);
	slot_mate("a.example", 1, third, sizeof third);

	struct str *a = get(&pool, "a.example");
	strpool_remember(&pool, &memo, a);
	CHECK(strpool_recall(&pool, &memo) == a);
	CHECK_INT(a->refs, 2);
	struct str *b = get(&pool, mate);
	struct str *c = get(&pool, third); /* a leaves the set's slots */
	CHECK(pool.recent[memo.set * 2] != a && pool.recent[memo.set * 2 + 1] != a);
	CHECK(strpool_recall(&pool, &memo) == a);
	CHECK_INT(a->refs, 3);
	struct str *other = get(&pool, "b.example");
	CHECK((hash_fast("b.example", 9) & (STRPOOL_RECENT_SLOTS - 2)) / 2 != memo.set);
	strpool_put(&pool, other); /* freed, in another set */
	CHECK(strpool_recall(&pool, &memo) == a);
	strpool_put(&pool, c); /* freed, in the set */
	CHECK(strpool_recall(&pool, &memo) == NULL);
	CHECK_INT(a->refs, 4);

	strpool_remember(&pool, &memo, a);
	for (int i = 0; i < 4; i++)
		strpool_put(&pool, a); /* freed */
	strpool_put(&pool, b);
	CHECK_INT(pool.count, 0);
	CHECK(strpool_recall(&pool, &memo) == NULL);
	struct str *d = get(&pool, mate); /* the set again, made anew */
	struct str *e = get(&pool, "a.example"); /* the memo's text, made anew */
	CHECK(strpool_recall(&pool, &memo) == NULL);
	CHECK_INT(d->refs, 1);
	CHECK_INT(e->refs, 1);

	strpool_remember(&pool, &memo, NULL);
	CHECK(strpool_recall(&pool, &memo) == NULL);
	strpool_put(&pool, d);
	strpool_put(&pool, e);
	CHECK_INT(pool.count, 0);
	strpool_free(&pool);
}

static void test_strpool_find_takes_no_reference(void)
{
	struct strpool pool;
	strpool_init(&pool, &test_key);
	struct str *a = get(&pool, "b.example");

	CHECK(strpool_find(&pool, "b.example", 9) == a);
	CHECK(strpool_find(&pool, "b.example", 9) == a);
	CHECK_INT(a->refs, 1);
	CHECK(strpool_find(&pool, "b.exampl", 8) == NULL);
	CHECK(strpool_find(&pool, "c.example", 9) == NULL);
	CHECK(strpool_find(&pool, "", 0) == NULL);
	CHECK_INT(pool.count, 1);

	struct str *empty = strpool_get(&pool, "", 0);
	CHECK(empty != NULL && empty->len == 0 && empty->data[0] == '\0');
	CHECK(strpool_find(&pool, "", 0) == empty);

	strpool_put(&pool, a);
	strpool_put(&pool, empty);
	strpool_free(&pool);
}

static void test_strpool_refuses_overlong(void)
{
	struct strpool pool;
	strpool_init(&pool, &test_key);
	char *big = calloc(STRPOOL_MAX_LEN + 2, 1);
	memset(big, 'x', STRPOOL_MAX_LEN + 1);

	CHECK(strpool_get(&pool, big, STRPOOL_MAX_LEN + 1) == NULL);
	CHECK(strpool_find(&pool, big, STRPOOL_MAX_LEN + 1) == NULL);
	CHECK_INT(pool.count, 0);
	struct str *max = strpool_get(&pool, big, STRPOOL_MAX_LEN);
	CHECK(max != NULL && max->len == STRPOOL_MAX_LEN);
	CHECK(strpool_find(&pool, big, STRPOOL_MAX_LEN) == max);
	strpool_put(&pool, max);
	free(big);
	strpool_free(&pool);
}

static void test_strpool_growth_keeps_strings_findable(void)
{
	enum { N = 10000 };
	struct strpool pool;
	static struct str *s[N];
	uint32_t first_buckets;
	int found = 0, refs_one = 0, distinct = 1;
	char text[32];

	strpool_init(&pool, &test_key);
	first_buckets = pool.nbuckets;
	for (unsigned i = 0; i < N; i++)
		s[i] = get_num(&pool, "host-", i, ".example");
	CHECK_INT(pool.count, N);
	CHECK(pool.nbuckets > first_buckets);
	CHECK_INT(pool.nbuckets & (pool.nbuckets - 1), 0); /* a power of two */
	CHECK(pool.nbuckets >= N);

	for (unsigned i = 0; i < N; i++) {
		int len = snprintf(text, sizeof text, "host-%u.example", i);
		found += strpool_find(&pool, text, (size_t)len) == s[i];
		refs_one += s[i]->refs == 1;
		distinct &= i == 0 || s[i] != s[i - 1];
	}
	CHECK_INT(found, N);
	CHECK_INT(refs_one, N);
	CHECK_INT(distinct, 1);

	/* interning again after growth finds the same objects */
	for (unsigned i = 0; i < N; i += 997) {
		struct str *again = get_num(&pool, "host-", i, ".example");
		CHECK(again == s[i]);
		CHECK_INT(again->refs, 2);
		strpool_put(&pool, again);
	}
	CHECK_INT(pool.count, N);

	for (unsigned i = 0; i < N; i += 2)
		strpool_put(&pool, s[i]);
	CHECK_INT(pool.count, N / 2);
	found = 0;
	for (unsigned i = 1; i < N; i += 2) {
		int len = snprintf(text, sizeof text, "host-%u.example", i);
		found += strpool_find(&pool, text, (size_t)len) == s[i];
	}
	CHECK_INT(found, N / 2);
	CHECK(strpool_find(&pool, "host-0.example", 14) == NULL);
	for (unsigned i = 1; i < N; i += 2)
		strpool_put(&pool, s[i]);
	CHECK_INT(pool.count, 0);
	strpool_free(&pool);
}

/* ---- lru ---- */

static void test_lru_touch_creates_then_finds(void)
{
	struct strpool pool;
	struct lru t;
	strpool_init(&pool, &test_key);
	lru_init(&t, 10, &pool);
	struct str *a = get(&pool, "a.example");
	struct str *key[LRU_KEYS] = { a, NULL, NULL };

	CHECK_INT(t.used, 0);
	CHECK_INT(t.newest, LRU_NIL);
	struct lru_node *n = lru_touch(&t, key, 100);
	CHECK(n != NULL);
	CHECK_U64(n->count, 0); /* the caller counts */
	CHECK_INT(n->first_seen, 100);
	CHECK_INT(n->last_seen, 100);
	CHECK(n->key[0] == a && n->key[1] == NULL && n->key[2] == NULL);
	CHECK_INT(a->refs, 2); /* ours and the table's */
	CHECK_INT(t.used, 1);
	n->count++;

	struct lru_node *again = lru_touch(&t, key, 250);
	CHECK(again == n);
	CHECK_U64(again->count, 1);
	CHECK_INT(again->first_seen, 100);
	CHECK_INT(again->last_seen, 250);
	CHECK_INT(a->refs, 2); /* no reference taken for a key already there */
	CHECK_INT(t.used, 1);

	/* a key of three strings differs from its first string alone */
	struct str *b = get(&pool, "b.example"), *c = get(&pool, "A");
	struct str *key3[LRU_KEYS] = { a, b, c };
	struct str *swapped[LRU_KEYS] = { b, a, c };
	struct lru_node *n3 = lru_touch(&t, key3, 300);
	CHECK(n3 != NULL && n3 != n);
	n3->count += 5;
	struct lru_node *n4 = lru_touch(&t, swapped, 300);
	CHECK(n4 != NULL && n4 != n3 && n4 != n);
	CHECK_INT(t.used, 3);
	CHECK(lru_touch(&t, key3, 301) == n3);
	CHECK_U64(n3->count, 5);
	CHECK_INT(a->refs, 4);
	CHECK_INT(b->refs, 3);
	CHECK_INT(c->refs, 3);
	CHECK_U64(t.evictions, 0);

	lru_free(&t);
	CHECK_INT(a->refs, 1); /* the table let go of its references */
	CHECK_INT(b->refs, 1);
	CHECK_INT(c->refs, 1);
	strpool_put(&pool, a);
	strpool_put(&pool, b);
	strpool_put(&pool, c);
	CHECK_INT(pool.count, 0);
	strpool_free(&pool);
}

static void test_lru_recency_order(void)
{
	struct strpool pool;
	struct lru t;
	strpool_init(&pool, &test_key);
	lru_init(&t, 10, &pool);

	touch_name(&t, "a", 1);
	touch_name(&t, "b", 2);
	touch_name(&t, "c", 3);
	touch_name(&t, "d", 4);
	CHECK_STR(order_of(&t), "d,c,b,a");
	CHECK_STR(order_backwards(&t), "d,c,b,a");

	touch_name(&t, "b", 5); /* from the middle */
	CHECK_STR(order_of(&t), "b,d,c,a");
	touch_name(&t, "a", 6); /* from the oldest end */
	CHECK_STR(order_of(&t), "a,b,d,c");
	CHECK_STR(order_backwards(&t), "a,b,d,c");
	touch_name(&t, "a", 7); /* already the newest */
	CHECK_STR(order_of(&t), "a,b,d,c");
	touch_name(&t, "e", 8); /* a new key */
	CHECK_STR(order_of(&t), "e,a,b,d,c");
	touch_name(&t, "c", 9);
	CHECK_STR(order_of(&t), "c,e,a,b,d");
	CHECK_STR(order_backwards(&t), "c,e,a,b,d");

	CHECK_U64(node_named(&t, "a")->count, 3);
	CHECK_INT(node_named(&t, "a")->first_seen, 1);
	CHECK_INT(node_named(&t, "a")->last_seen, 7);
	CHECK_U64(node_named(&t, "d")->count, 1);
	CHECK_INT(node_named(&t, "d")->last_seen, 4);
	CHECK_INT(t.nodes[t.newest].newer, LRU_NIL);
	CHECK_INT(t.nodes[t.oldest].older, LRU_NIL);
	CHECK_INT(t.used, 5);
	CHECK_INT(pool.count, 5);

	lru_free(&t);
	CHECK_INT(pool.count, 0);
	strpool_free(&pool);
}

static void test_lru_evicts_least_recent_at_max(void)
{
	struct strpool pool;
	struct lru t;
	strpool_init(&pool, &test_key);
	lru_init(&t, 3, &pool);

	touch_name(&t, "a", 1);
	touch_name(&t, "b", 2);
	touch_name(&t, "c", 3);
	CHECK_INT(t.used, 3);
	CHECK_U64(t.evictions, 0);
	touch_name(&t, "a", 4); /* now b is the least recent */
	CHECK_STR(order_of(&t), "a,c,b");
	CHECK_U64(t.evictions, 0);

	touch_name(&t, "d", 5);
	CHECK_STR(order_of(&t), "d,a,c");
	CHECK_INT(t.used, 3);
	CHECK_U64(t.evictions, 1);
	CHECK(node_named(&t, "b") == NULL);
	CHECK(strpool_find(&pool, "b", 1) == NULL); /* its string is gone */
	CHECK_INT(pool.count, 3);

	touch_name(&t, "c", 6); /* present: no eviction */
	CHECK_U64(t.evictions, 1);
	CHECK_STR(order_of(&t), "c,d,a");

	touch_name(&t, "b", 7); /* back, as a new key with a fresh count */
	CHECK_U64(t.evictions, 2);
	CHECK_STR(order_of(&t), "b,c,d");
	CHECK_U64(node_named(&t, "b")->count, 1);
	CHECK_INT(node_named(&t, "b")->first_seen, 7);

	touch_name(&t, "e", 8);
	touch_name(&t, "f", 9);
	CHECK_U64(t.evictions, 4);
	CHECK_STR(order_of(&t), "f,e,b");
	CHECK_INT(t.used, 3);
	CHECK_INT(pool.count, 3);
	CHECK(pool_matches_table(&pool, &t));

	lru_free(&t);
	strpool_free(&pool);
}

static void test_lru_eviction_releases_key_strings(void)
{
	struct strpool pool;
	struct lru t;
	strpool_init(&pool, &test_key);
	lru_init(&t, 2, &pool);
	struct str *client = get(&pool, "10.0.0.1"), *type = get(&pool, "A");
	struct str *d1 = get(&pool, "one.example"), *d2 = get(&pool, "two.example"),
	           *d3 = get(&pool, "three.example");
	struct str *k1[LRU_KEYS] = { client, d1, type }, *k2[LRU_KEYS] = { client, d2, type },
	           *k3[LRU_KEYS] = { client, d3, type };

	lru_touch(&t, k1, 1);
	lru_touch(&t, k2, 2);
	strpool_put(&pool, d1); /* the table holds the only references to the domains */
	strpool_put(&pool, d2);
	CHECK_INT(client->refs, 3);
	CHECK_INT(type->refs, 3);
	CHECK_INT(d1->refs, 1);
	CHECK_INT(pool.count, 5);

	lru_touch(&t, k3, 3); /* evicts (client, one.example, A) */
	CHECK_U64(t.evictions, 1);
	CHECK(strpool_find(&pool, "one.example", 11) == NULL);
	CHECK_INT(client->refs, 3); /* one released, one taken */
	CHECK_INT(type->refs, 3);
	CHECK_INT(d2->refs, 1);
	CHECK_INT(d3->refs, 2);
	CHECK_INT(pool.count, 4);

	strpool_put(&pool, d3);
	lru_touch(&t, k3, 4);
	struct str *d4 = get(&pool, "four.example");
	struct str *k4[LRU_KEYS] = { client, d4, type };
	lru_touch(&t, k4, 5); /* evicts (client, two.example, A) */
	strpool_put(&pool, d4);
	CHECK(strpool_find(&pool, "two.example", 11) == NULL);
	CHECK_INT(pool.count, 4);
	CHECK_INT(d3->refs, 1);

	strpool_put(&pool, client);
	strpool_put(&pool, type);
	CHECK_INT(client->refs, 2); /* the two entries */
	CHECK(pool_matches_table(&pool, &t));
	lru_free(&t);
	CHECK_INT(pool.count, 0);
	strpool_free(&pool);
}

static void test_lru_growth_never_passes_max(void)
{
	enum { MAX = 1000 };
	struct strpool pool;
	struct lru t;
	uint32_t sizes[16], nsizes = 0;
	int within = 1, holds_used = 1, index_large_enough = 1;

	strpool_init(&pool, &test_key);
	lru_init(&t, MAX, &pool);
	CHECK_INT(t.allocated, 0);
	CHECK_U64(lru_bytes(&t), 0);
	for (unsigned i = 0; i < 3 * MAX; i++) {
		struct str *s = get_num(&pool, "grow-", i, "");
		touch1(&t, s, i);
		strpool_put(&pool, s);
		within &= t.allocated <= t.max;
		holds_used &= t.used <= t.allocated;
		index_large_enough &= t.nbuckets >= t.allocated && (t.nbuckets & (t.nbuckets - 1)) == 0;
		if (nsizes == 0 || sizes[nsizes - 1] != t.allocated) {
			if (nsizes < 16)
				sizes[nsizes] = t.allocated;
			nsizes++;
		}
	}
	CHECK_INT(within, 1);
	CHECK_INT(holds_used, 1);
	CHECK_INT(index_large_enough, 1);
	CHECK_INT(nsizes, 5); /* 64, 128, 256, 512, then max */
	CHECK_INT(sizes[0], 64);
	CHECK_INT(sizes[1], 128);
	CHECK_INT(sizes[2], 256);
	CHECK_INT(sizes[3], 512);
	CHECK_INT(sizes[4], MAX);
	CHECK_INT(t.allocated, MAX);
	CHECK_INT(t.used, MAX);
	CHECK_INT(t.nbuckets, 1024);
	CHECK_U64(t.evictions, 2 * MAX);
	CHECK_U64(lru_bytes(&t), MAX * sizeof(struct lru_node) + 1024 * sizeof(uint32_t));
	lru_free(&t);
	strpool_free(&pool);
}

static void test_lru_memory_ceiling(void)
{
	enum { MAX = 1000, KEYS = 100000 };
	struct strpool pool;
	struct lru t;
	size_t bytes_after_fill = 0, max_bytes = 0;
	uint32_t count_after_fill = 0, max_count = 0, buckets_after_fill = 0, max_buckets = 0;

	strpool_init(&pool, &test_key);
	lru_init(&t, MAX, &pool);
	struct str *client = get(&pool, "10.0.0.1"), *type = get(&pool, "AAAA");
	for (unsigned i = 0; i < KEYS; i++) {
		struct str *domain = get_num(&pool, "d", i, ".example");
		struct str *key[LRU_KEYS] = { client, domain, type };
		lru_touch(&t, key, i)->count++;
		strpool_put(&pool, domain);
		if (i == MAX - 1) {
			bytes_after_fill = lru_bytes(&t);
			count_after_fill = pool.count;
			buckets_after_fill = pool.nbuckets;
		} else if (i >= MAX) {
			max_bytes = lru_bytes(&t) > max_bytes ? lru_bytes(&t) : max_bytes;
			max_count = pool.count > max_count ? pool.count : max_count;
			max_buckets = pool.nbuckets > max_buckets ? pool.nbuckets : max_buckets;
		}
	}
	CHECK_INT(count_after_fill, MAX + 2); /* the domains, the client and the type */
	CHECK_U64(max_bytes, bytes_after_fill);
	CHECK_INT(max_count, count_after_fill);
	CHECK_INT(max_buckets, buckets_after_fill);
	CHECK_INT(t.allocated, MAX);
	CHECK_INT(t.used, MAX);
	CHECK_U64(t.evictions, KEYS - MAX);

	/* the table holds exactly the newest MAX keys, newest first */
	unsigned expect = KEYS - 1, in_order = 0;
	char text[32];
	for (uint32_t i = t.newest; i != LRU_NIL; i = t.nodes[i].older, expect--) {
		snprintf(text, sizeof text, "d%u.example", expect);
		in_order += strcmp(t.nodes[i].key[1]->data, text) == 0 && t.nodes[i].count == 1;
	}
	CHECK_INT(in_order, MAX);
	CHECK_INT(expect, KEYS - MAX - 1);

	/* the pool holds exactly the strings the table references */
	strpool_put(&pool, client);
	strpool_put(&pool, type);
	CHECK_INT(pool.count, MAX + 2);
	CHECK_INT(client->refs, MAX);
	CHECK(pool_matches_table(&pool, &t));
	lru_free(&t);
	CHECK_INT(pool.count, 0);
	strpool_free(&pool);
}

static void test_lru_max_one(void)
{
	struct strpool pool;
	struct lru t;
	strpool_init(&pool, &test_key);
	lru_init(&t, 1, &pool);

	struct lru_node *a = touch_name(&t, "a", 1);
	CHECK(a != NULL);
	CHECK_INT(t.allocated, 1);
	CHECK_INT(t.used, 1);
	CHECK_INT(t.newest, t.oldest);
	size_t bytes = lru_bytes(&t);
	CHECK_U64(bytes, sizeof(struct lru_node) + sizeof(uint32_t));

	CHECK(touch_name(&t, "a", 2) == a);
	CHECK_U64(a->count, 2);
	CHECK_U64(t.evictions, 0);

	struct lru_node *b = touch_name(&t, "b", 3);
	CHECK(b != NULL);
	CHECK_U64(t.evictions, 1);
	CHECK_STR(order_of(&t), "b");
	CHECK_U64(b->count, 1);
	CHECK_INT(b->first_seen, 3);
	CHECK(strpool_find(&pool, "a", 1) == NULL);
	CHECK_INT(pool.count, 1);

	for (unsigned i = 0; i < 100; i++)
		touch_name(&t, i % 2 ? "x" : "y", 10 + i);
	CHECK_U64(t.evictions, 101);
	CHECK_STR(order_of(&t), "x");
	CHECK_INT(t.allocated, 1);
	CHECK_U64(lru_bytes(&t), bytes);
	CHECK_INT(pool.count, 1);
	lru_free(&t);
	CHECK_INT(pool.count, 0);
	strpool_free(&pool);
}

/* ---- pending ---- */

static uint64_t total(pending_counts counts)
{
	uint64_t sum = 0;
	for (int s = 0; s < SOURCE_COUNT; s++)
		for (int r = 0; r < RESULT_COUNT; r++)
			sum += counts[s][r];
	return sum;
}

static void test_pending_outcome_counts_once(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	pending_query(&p, 42, 7, counts);
	CHECK_U64(total(counts), 0);
	CHECK_INT(pending_outcome(&p, 42, 7, SOURCE_CACHE, RESULT_ADDRESS, counts), 1);
	CHECK_U64(counts[SOURCE_CACHE][RESULT_ADDRESS], 1);
	CHECK_U64(total(counts), 1);

	/* a later line of the same answer */
	CHECK_INT(pending_outcome(&p, 42, 7, SOURCE_UPSTREAM, RESULT_CNAME, counts), 0);
	CHECK_INT(pending_outcome(&p, 42, 7, SOURCE_CACHE, RESULT_ADDRESS, counts), 0);
	CHECK_U64(counts[SOURCE_CACHE][RESULT_ADDRESS], 1);
	CHECK_U64(total(counts), 1);

	/* a closed slot reused by the next query is not an unanswered one */
	pending_query(&p, 42 + PENDING_SLOTS, 7, counts);
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 0);
	CHECK_INT(pending_outcome(&p, 42 + PENDING_SLOTS, 7, SOURCE_BLOCKED, RESULT_ADDRESS, counts), 1);
	CHECK_U64(counts[SOURCE_BLOCKED][RESULT_ADDRESS], 1);
	CHECK_U64(total(counts), 2);
}

static void test_pending_unknown_key_not_counted(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	CHECK_INT(pending_outcome(&p, 5, 0, SOURCE_UPSTREAM, RESULT_ADDRESS, counts), 0);
	pending_query(&p, 6, 0, counts);
	CHECK_INT(pending_outcome(&p, 5, 0, SOURCE_UPSTREAM, RESULT_ADDRESS, counts), 0);
	/* the same slot, another key */
	CHECK_INT(pending_outcome(&p, 6 + PENDING_SLOTS, 0, SOURCE_UPSTREAM, RESULT_ADDRESS, counts), 0);
	CHECK_U64(total(counts), 0);
	CHECK_INT(pending_outcome(&p, 6, 0, SOURCE_LOCAL, RESULT_NXDOMAIN, counts), 1);
	CHECK_U64(counts[SOURCE_LOCAL][RESULT_NXDOMAIN], 1);
	CHECK_U64(total(counts), 1);
}

static void test_pending_reused_open_slot_counts_unanswered(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	pending_query(&p, 3, 1, counts);
	pending_query(&p, 3 + PENDING_SLOTS, 1, counts); /* the first query never answered */
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 1);
	CHECK_U64(total(counts), 1);
	CHECK_INT(pending_outcome(&p, 3, 1, SOURCE_UPSTREAM, RESULT_ADDRESS, counts), 0);
	CHECK_INT(pending_outcome(&p, 3 + PENDING_SLOTS, 1, SOURCE_UPSTREAM, RESULT_ADDRESS, counts), 1);
	CHECK_U64(total(counts), 2);

	pending_query(&p, 9, 1, counts);
	pending_query(&p, 9, 1, counts); /* the same key again while open */
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 2);

	/* a ring's worth of unanswered queries, then one more lap */
	pending_init(&p);
	memset(counts, 0, sizeof(pending_counts));
	for (uint64_t k = 0; k < 2 * PENDING_SLOTS; k++)
		pending_query(&p, k, 0, counts);
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], PENDING_SLOTS);
	CHECK_U64(total(counts), PENDING_SLOTS);
}

static void test_pending_client_mismatch_not_counted(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	pending_query(&p, 77, 0x1111, counts);
	CHECK_INT(pending_outcome(&p, 77, 0x2222, SOURCE_UPSTREAM, RESULT_ADDRESS, counts), 0);
	CHECK_U64(total(counts), 0);
	/* the slot stays open for its own client */
	CHECK_INT(pending_outcome(&p, 77, 0x1111, SOURCE_UPSTREAM, RESULT_NODATA, counts), 1);
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NODATA], 1);
	CHECK_U64(total(counts), 1);
}

/* A query open PENDING_TIMEOUT seconds is closed as (upstream, none) by a
 * sweep that reaches its slot, once; an answered one is not; its outcome
 * coming later counts nothing. */
static void test_pending_expires_after_timeout(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	const uint32_t t = 1000;
	pending_init(&p);

	pending_expire(&p, t, 0, counts); /* the clock only */
	pending_query(&p, 1, 5, counts);
	pending_query(&p, 2, 5, counts);
	CHECK_INT(pending_outcome(&p, 2, 5, SOURCE_CACHE, RESULT_ADDRESS, counts), 1);
	pending_expire(&p, t + PENDING_TIMEOUT - 1, PENDING_SLOTS, counts);
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 0);
	CHECK((pending_find(&p, 1, 5) != NULL));

	pending_expire(&p, t + PENDING_TIMEOUT, PENDING_SLOTS, counts);
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 1);
	CHECK_U64(total(counts), 2);
	CHECK(!(pending_find(&p, 1, 5) != NULL));
	CHECK_INT(pending_outcome(&p, 1, 5, SOURCE_UPSTREAM, RESULT_ADDRESS, counts), 0);
	pending_expire(&p, t + 10 * PENDING_TIMEOUT, PENDING_SLOTS, counts); /* closed once */
	CHECK_U64(total(counts), 2);

	/* opened at the clock of its time: a query opened later lives longer */
	pending_query(&p, 3, 5, counts);
	pending_expire(&p, t + 10 * PENDING_TIMEOUT + PENDING_TIMEOUT - 1, PENDING_SLOTS, counts);
	CHECK((pending_find(&p, 3, 5) != NULL));
	CHECK_U64(total(counts), 2);
}

/* pending_query_new(): opens a query unless it is open already (a
 * retransmission, left as it was); a query of another check in the same
 * slot is closed as unanswered, as by pending_query(). */
static void test_pending_query_new_once(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	CHECK_INT(pending_query_new(&p, 1, 5, counts), 1);
	CHECK((pending_find(&p, 1, 5) != NULL));
	CHECK_INT(pending_query_new(&p, 1, 5, counts), 0);
	CHECK((pending_find(&p, 1, 5) != NULL));
	CHECK_U64(total(counts), 0);
	CHECK_INT(pending_outcome(&p, 1, 5, SOURCE_CACHE, RESULT_ADDRESS, counts), 1);
	CHECK_INT(pending_query_new(&p, 1, 5, counts), 1); /* closed: a new query */
	CHECK_U64(total(counts), 1);

	CHECK_INT(pending_query_new(&p, 1, 6, counts), 1); /* same slot, another check */
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 1);
	CHECK(!(pending_find(&p, 1, 5) != NULL));
	CHECK((pending_find(&p, 1, 6) != NULL));
	CHECK_INT(pending_query_new(&p, 1 + PENDING_SLOTS, 6, counts), 1); /* same slot, another key */
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 2);
	CHECK((pending_find(&p, 1 + PENDING_SLOTS, 6) != NULL));
	CHECK_U64(total(counts), 3);
}

/* A sweep of n slots looks at n slots, going round the ring: a query is
 * closed once the sweep reaches its slot, and every slot is reached within
 * PENDING_SLOTS / n sweeps. */
static void test_pending_sweep_is_bounded(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	pending_expire(&p, 50, 0, counts);
	pending_query(&p, 10, 0, counts);                 /* slot 10 */
	pending_query(&p, PENDING_SLOTS - 1, 0, counts);  /* the last slot */
	pending_expire(&p, 50 + PENDING_TIMEOUT, 10, counts); /* slots 0 to 9 */
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 0);
	pending_expire(&p, 50 + PENDING_TIMEOUT, 1, counts); /* slot 10 */
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 1);
	CHECK((pending_find(&p, PENDING_SLOTS - 1, 0) != NULL));
	unsigned sweeps = 0;
	while ((pending_find(&p, PENDING_SLOTS - 1, 0) != NULL) && sweeps < PENDING_SLOTS)
		pending_step(&p, 50 + PENDING_TIMEOUT, counts), sweeps++;
	CHECK_INT(sweeps, PENDING_SLOTS - 11); /* a slot a step */
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 2);

	/* the next lap finds nothing more to close */
	pending_expire(&p, 60 + PENDING_TIMEOUT, PENDING_SLOTS, counts);
	CHECK_U64(total(counts), 2);
}

/* A clock set back: by a second (two threads' time()), nothing closes; by
 * PENDING_TIMEOUT, the queries opened "later" close rather than wait for
 * the clock to catch up. */
static void test_pending_clock_set_back(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	pending_expire(&p, 5000, 0, counts);
	pending_query(&p, 1, 0, counts);
	pending_expire(&p, 4999, PENDING_SLOTS, counts);
	CHECK((pending_find(&p, 1, 0) != NULL));
	pending_expire(&p, 5000 - PENDING_TIMEOUT + 1, PENDING_SLOTS, counts);
	CHECK((pending_find(&p, 1, 0) != NULL));
	pending_expire(&p, 5000 - PENDING_TIMEOUT, PENDING_SLOTS, counts);
	CHECK(!(pending_find(&p, 1, 0) != NULL));
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 1);
}

/* The end of the lines closes every open query, and only those. */
static void test_pending_close_all(void)
{
	static struct pending p;
	pending_counts counts = { { 0 } };
	pending_init(&p);

	for (uint64_t k = 0; k < 5; k++)
		pending_query(&p, k * 300, 0, counts);
	CHECK_INT(pending_outcome(&p, 600, 0, SOURCE_LOCAL, RESULT_ADDRESS, counts), 1);
	pending_close_all(&p, counts);
	CHECK_U64(counts[SOURCE_UPSTREAM][RESULT_NONE], 4);
	CHECK_U64(total(counts), 5);
	pending_close_all(&p, counts);
	CHECK_U64(total(counts), 5);
	for (uint64_t k = 0; k < 5; k++)
		CHECK(!(pending_find(&p, k * 300, 0) != NULL));
}

CHECK_MAIN(test_siphash_vectors, test_multiply_shift, test_strpool_interns_equal_bytes_once, test_strpool_frees_at_last_put,
           test_strpool_recent_cache, test_strpool_memo, test_strpool_find_takes_no_reference, test_strpool_refuses_overlong,
           test_strpool_growth_keeps_strings_findable, test_lru_touch_creates_then_finds, test_lru_recency_order,
           test_lru_evicts_least_recent_at_max, test_lru_eviction_releases_key_strings,
           test_lru_growth_never_passes_max, test_lru_memory_ceiling, test_lru_max_one,
           test_pending_outcome_counts_once, test_pending_unknown_key_not_counted,
           test_pending_reused_open_slot_counts_unanswered, test_pending_client_mismatch_not_counted,
           test_pending_expires_after_timeout, test_pending_query_new_once, test_pending_sweep_is_bounded, test_pending_clock_set_back,
           test_pending_close_all)
