/*
 * names.h - the privacy and cardinality rules for query names: which names
 * are counted (include and exclude lists of suffixes) and what a counted
 * name is shown as (folded to its registrable domain by a public-suffix
 * list, or to its last N labels).
 *
 * Every rule lives in one hash set of suffixes, built once at new().  A
 * name is looked at once, from its last label towards its first, with one
 * keyed hash per label and no allocation, and never more labels than the
 * longest rule has plus one: O(labels) whatever the name, and never a
 * chain an attacker can choose (the set's key is random).  Matching is on a
 * label boundary and case-insensitive.
 */
#ifndef DNSAGG_NAMES_H
#define DNSAGG_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define NAMES_MAX_NAME 255       /* a longer name matches no rule */
#define NAMES_MAX_LABELS 128
#define NAMES_MAX_LISTED 10000u  /* include or exclude entries */
#define NAMES_MAX_PSL_RULES 50000u  /* 5 times the list of 2023: at most 2.5 MB */
#define NAMES_FOLD_PSL (-1)
#define NAMES_DEFAULT_PSL "/usr/share/publicsuffix/public_suffix_list.dat"

/* Flags of a suffix in the set. */
enum {
	RULE_EXCLUDE = 1,
	RULE_INCLUDE = 2,
	RULE_PSL = 4,           /* "co.uk" */
	RULE_PSL_WILDCARD = 8,  /* "*.ck", kept under "ck" */
	RULE_PSL_EXCEPTION = 16 /* "!www.ck" */
};

struct suffix_slot {
	uint32_t hash;
	uint32_t off;   /* of the text in the arena */
	uint8_t len;    /* 0: an empty slot */
	uint8_t flags;
};

struct names {
	struct hash_key key;
	struct suffix_slot *slots; /* open addressing, at most 3/4 full */
	uint32_t nslots, count;    /* nslots: a power of two */
	char *text;
	size_t text_len, text_cap;
	unsigned max_labels;       /* of the longest rule */
	unsigned nincluded;        /* include rules: none means every name is */
	unsigned nexcluded;
	int fold;                  /* 0: none; N > 0: last N labels; NAMES_FOLD_PSL */
	uint32_t psl_rules, psl_skipped;
};

/* An empty rule set (counts every name, folds none); NULL when memory runs out. */
struct names *names_new(void);
void names_free(struct names *n);

/* Adds a suffix with a RULE_* flag; -1 when memory runs out or the rule is
 * not a name (empty, longer than NAMES_MAX_NAME). */
int names_add(struct names *n, const char *suffix, size_t len, unsigned flag);

/* Reads a public-suffix list (publicsuffix.org format: one rule a line,
 * "//" comments, "*." wildcards, "!" exceptions) and folds names by it.
 * Rules that are not plain ASCII are skipped (dnsmasq logs IDNs in their
 * xn-- form).  Returns 0, or -1 with errno (EFBIG past NAMES_MAX_PSL_RULES). */
int names_load_psl(struct names *n, const char *path);

/* Decides on one name: returns 0 when it is not counted, else 1 with
 * *shown set to the offset in name where the name as shown begins (0
 * unless folded). */
int names_apply(const struct names *n, const char *name, size_t len, size_t *shown);

/* Bytes of memory the rules hold. */
size_t names_bytes(const struct names *n);

#endif
