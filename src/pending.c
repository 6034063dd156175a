/*
 * pending.c - the ring of queries waiting for their outcome (see pending.h).
 */
#include "pending.h"

#include <string.h>

enum { SLOT_EMPTY = 0, SLOT_OPEN, SLOT_DONE };

void pending_init(struct pending *p)
{
	memset(p, 0, sizeof *p);
}

static struct pending_slot *slot_for(struct pending *p, uint64_t key)
{
	return &p->slot[key & (PENDING_SLOTS - 1)];
}

void pending_query(struct pending *p, uint64_t key, uint64_t check, pending_counts counts)
{
	struct pending_slot *s = slot_for(p, key);
	if (s->state == SLOT_OPEN)
		counts[SOURCE_UPSTREAM][RESULT_NONE]++;
	s->key = key;
	s->check = check;
	s->state = SLOT_OPEN;
}

static struct pending_slot *find_open(struct pending *p, uint64_t key, uint64_t check)
{
	struct pending_slot *s = slot_for(p, key);
	return s->state == SLOT_OPEN && s->key == key && s->check == check ? s : NULL;
}

int pending_is_open(const struct pending *p, uint64_t key, uint64_t check)
{
	const struct pending_slot *s = &p->slot[key & (PENDING_SLOTS - 1)];
	return s->state == SLOT_OPEN && s->key == key && s->check == check;
}

int pending_outcome(struct pending *p, uint64_t key, uint64_t check, enum logline_source source,
                    enum logline_result result, pending_counts counts)
{
	struct pending_slot *s = find_open(p, key, check);
	if (!s)
		return 0;
	counts[source][result]++;
	s->state = SLOT_DONE;
	return 1;
}
