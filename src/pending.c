/*
 * pending.c - the ring of queries waiting for their outcome (see pending.h).
 */
#include "pending.h"

#include <string.h>

void pending_init(struct pending *p)
{
	memset(p, 0, sizeof *p);
}

static struct pending_slot *slot_for(struct pending *p, uint64_t key)
{
	return &p->slot[key & (PENDING_SLOTS - 1)];
}

/* An open query whose outcome will not come: dnsmasq logged none. */
static void close_unanswered(struct pending_slot *s, pending_counts counts)
{
	counts[SOURCE_UPSTREAM][RESULT_NONE]++;
	s->state = PENDING_DONE;
}

/* The query (key, check) opens slot s, closing as unanswered the one it held. */
static void open_slot(const struct pending *p, struct pending_slot *s, uint64_t key, uint64_t check,
                      pending_counts counts)
{
	if (s->state == PENDING_OPEN)
		close_unanswered(s, counts);
	s->key = key;
	s->check = check;
	s->opened = p->now;
	s->state = PENDING_OPEN;
}

void pending_query(struct pending *p, uint64_t key, uint64_t check, pending_counts counts)
{
	open_slot(p, slot_for(p, key), key, check, counts);
}

static int holds_open(const struct pending_slot *s, uint64_t key, uint64_t check)
{
	return s->state == PENDING_OPEN && s->key == key && s->check == check;
}

int pending_query_new(struct pending *p, uint64_t key, uint64_t check, pending_counts counts)
{
	struct pending_slot *s = slot_for(p, key);
	if (holds_open(s, key, check))
		return 0;
	open_slot(p, s, key, check, counts);
	return 1;
}

struct pending_slot *pending_find(struct pending *p, uint64_t key, uint64_t check)
{
	struct pending_slot *s = slot_for(p, key);
	return holds_open(s, key, check) ? s : NULL;
}

void pending_close(struct pending_slot *s, enum logline_source source, enum logline_result result,
                   pending_counts counts)
{
	counts[source][result]++;
	s->state = PENDING_DONE;
}

int pending_outcome(struct pending *p, uint64_t key, uint64_t check, enum logline_source source,
                    enum logline_result result, pending_counts counts)
{
	struct pending_slot *s = pending_find(p, key, check);
	if (!s)
		return 0;
	pending_close(s, source, result, counts);
	return 1;
}

/* Whether a query opened at `opened` can no longer get its outcome at now:
 * PENDING_TIMEOUT seconds or more apart, either way (a clock set back by a
 * second or two, as two threads' time() can be, closes nothing). */
static int expired(uint32_t opened, uint32_t now)
{
	int64_t age = (int64_t)now - (int64_t)opened;
	return age >= (int64_t)PENDING_TIMEOUT || age <= -(int64_t)PENDING_TIMEOUT;
}

void pending_expire(struct pending *p, uint32_t now, unsigned n, pending_counts counts)
{
	p->now = now;
	if (n > PENDING_SLOTS)
		n = PENDING_SLOTS;
	for (; n > 0; n--) {
		struct pending_slot *s = &p->slot[p->sweep++ & (PENDING_SLOTS - 1)];
		if (s->state == PENDING_OPEN && expired(s->opened, now))
			close_unanswered(s, counts);
	}
}

void pending_close_all(struct pending *p, pending_counts counts)
{
	for (unsigned i = 0; i < PENDING_SLOTS; i++)
		if (p->slot[i].state == PENDING_OPEN)
			close_unanswered(&p->slot[i], counts);
}
