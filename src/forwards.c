/*
 * forwards.c - the table of client questions that the resolver forwarded
 * (see forwards.h).
 */
#include "forwards.h"

#include <string.h>

void forwards_init(struct forwards *f, uint32_t secret)
{
	memset(f, 0, sizeof *f);
	f->secret = secret;
}

/* Letters fold to lower case by OR 0x20; the other bytes it changes only
 * share a value with their neighbours, which a hash may. */
static uint32_t folded_word(const unsigned char *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w | 0x20202020u;
}

uint32_t forwards_question(const struct forwards *f, const char *name, size_t len, uint16_t qtype)
{
	const unsigned char *p = (const unsigned char *)name;
	uint32_t h = (f->secret ^ (uint32_t)len * 0x9e3779b1u ^ qtype) * 0x85ebca77u;
	/* the first and the last eight bytes, as hash_fast reads them */
	if (len >= 8) {
		h = (h ^ folded_word(p)) * 0xc2b2ae3du;
		h = (h ^ folded_word(p + 4)) * 0x27d4eb2fu;
		h = (h ^ folded_word(p + len - 8)) * 0x165667b1u;
		h = (h ^ folded_word(p + len - 4)) * 0x85ebca77u;
	} else {
		for (size_t i = 0; i < len; i++)
			h = (h ^ (p[i] | 0x20u)) * 0xc2b2ae3du;
	}
	h ^= h >> 15;
	h = (h ^ f->secret) * 0x2c1b3c6du;
	h ^= h >> 13;
	return h ? h : 1; /* 0 marks an empty slot */
}

static struct forward_slot *slot_of(struct forwards *f, uint32_t question)
{
	return &f->slot[question & (FORWARD_SLOTS - 1)];
}

void forwards_query(struct forwards *f, uint32_t question, uint64_t exchange)
{
	struct forward_slot *s = slot_of(f, question);
	s->exchange = exchange;
	s->question = question;
	s->forwarded = 0;
}

int forwards_sent(struct forwards *f, uint32_t question)
{
	struct forward_slot *s = slot_of(f, question);
	if (s->question != question)
		return 0;
	s->forwarded = 1;
	return 1;
}

int forwards_answered(struct forwards *f, uint32_t question, uint64_t exchange)
{
	struct forward_slot *s = slot_of(f, question);
	if (s->question != question || s->exchange != exchange)
		return 0;
	int forwarded = (int)s->forwarded;
	s->question = 0;
	return forwarded;
}
