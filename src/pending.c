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

static int holds_open(const struct pending_slot *s, uint64_t key, uint64_t check)
{
	return s->state == SLOT_OPEN && s->key == key && s->check == check;
}

struct pending_slot *pending_find(struct pending *p, uint64_t key, uint64_t check)
{
	struct pending_slot *s = slot_for(p, key);
	return holds_open(s, key, check) ? s : NULL;
}

int pending_is_open(const struct pending *p, uint64_t key, uint64_t check)
{
	return holds_open(&p->slot[key & (PENDING_SLOTS - 1)], key, check);
}

void pending_close(struct pending_slot *s, enum logline_source source, enum logline_result result,
                   pending_counts counts)
{
	counts[source][result]++;
	s->state = SLOT_DONE;
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
