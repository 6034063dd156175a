/*
 * names.c - include and exclude lists, and folding names to their
 * registrable domain (see names.h).
 *
 * A suffix's hash is built label by label from the right: the keyed hash of
 * the last label, then of the one before mixed in, and so on, so that every
 * suffix of a name is hashed in one pass over it.  Rules are stored in
 * lowercase; a name is lowercased into a buffer of its own before hashing.
 */
#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INITIAL_SLOTS 64u

struct names *names_new(void)
{
	struct names *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	hash_key_random(&n->key);
	n->slots = calloc(INITIAL_SLOTS, sizeof *n->slots);
	if (!n->slots) {
		free(n);
		return NULL;
	}
	n->nslots = INITIAL_SLOTS;
	return n;
}

void names_free(struct names *n)
{
	if (!n)
		return;
	free(n->slots);
	free(n->text);
	free(n);
}

size_t names_bytes(const struct names *n)
{
	return n ? sizeof *n + n->nslots * sizeof *n->slots + n->text_cap : 0;
}

static void lower(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + ('a' - 'A') : src[i]);
}

/* Takes one more label of s, leftwards from *pos (the end of what is left,
 * exclusive) into the suffix hash *h; *pos becomes the suffix's start. */
static void take_label(const struct names *n, const char *s, size_t *pos, uint64_t *h)
{
	size_t end = *pos, i = end;
	while (i > 0 && s[i - 1] != '.')
		i--;
	uint64_t v = *h ^ hash_bytes(&n->key, s + i, end - i);
	v *= 0x9e3779b97f4a7c15ULL;
	*h = v ^ (v >> 29);
	*pos = i;
}

static struct suffix_slot *find_slot(const struct names *n, uint32_t hash, const char *s, size_t len)
{
	uint32_t mask = n->nslots - 1;
	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		struct suffix_slot *slot = &n->slots[i];
		if (slot->len == 0 || (slot->hash == hash && slot->len == len &&
		                       memcmp(n->text + slot->off, s, len) == 0))
			return slot;
	}
}

static int grow_slots(struct names *n)
{
	uint32_t nslots = n->nslots * 2;
	struct suffix_slot *old = n->slots, *slots = calloc(nslots, sizeof *slots);
	if (!slots)
		return -1;
	n->slots = slots;
	n->nslots = nslots;
	for (uint32_t i = 0; i < nslots / 2; i++)
		if (old[i].len)
			*find_slot(n, old[i].hash, n->text + old[i].off, old[i].len) = old[i];
	free(old);
	return 0;
}

int names_add(struct names *n, const char *suffix, size_t len, unsigned flag)
{
	char buf[NAMES_MAX_NAME];
	if (len > 0 && suffix[len - 1] == '.')
		len--;
	if (len == 0 || len > NAMES_MAX_NAME) {
		errno = EINVAL;
		return -1;
	}
	lower(buf, suffix, len);
	uint64_t h = 0;
	unsigned labels = 0;
	for (size_t pos = len;; pos--) {
		take_label(n, buf, &pos, &h);
		labels++;
		if (pos == 0)
			break;
	}
	if (labels >= NAMES_MAX_LABELS) {
		errno = EINVAL;
		return -1;
	}
	if ((n->count + 1) * 4 > n->nslots * 3 && grow_slots(n) != 0)
		return -1;
	struct suffix_slot *slot = find_slot(n, (uint32_t)h, buf, len);
	if (slot->len == 0) {
		if (n->text_len + len > n->text_cap) {
			size_t cap = n->text_cap ? n->text_cap * 2 : 1024;
			char *text = realloc(n->text, cap);
			if (!text)
				return -1;
			n->text = text;
			n->text_cap = cap;
		}
		memcpy(n->text + n->text_len, buf, len);
		*slot = (struct suffix_slot){ (uint32_t)h, (uint32_t)n->text_len, (uint8_t)len, 0 };
		n->text_len += len;
		n->count++;
	}
	slot->flags |= (uint8_t)flag;
	/* a wildcard matches one label more than its text has */
	unsigned reach = labels + (flag == RULE_PSL_WILDCARD);
	if (reach > n->max_labels)
		n->max_labels = reach;
	n->nincluded += flag == RULE_INCLUDE;
	n->nexcluded += flag == RULE_EXCLUDE;
	return 0;
}

/* One line of the list (len bytes, no newline): its first word is a rule,
 * or a comment. */
static int add_psl_line(struct names *n, const char *line, size_t len)
{
	const char *end = line + len;
	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	const char *rule = line;
	while (line < end && *line != ' ' && *line != '\t' && *line != '\r' && *line != '\0')
		line++;
	len = (size_t)(line - rule);
	unsigned flag = RULE_PSL;
	if (len == 0 || (len >= 2 && rule[0] == '/' && rule[1] == '/'))
		return 0;
	if (rule[0] == '!') {
		flag = RULE_PSL_EXCEPTION;
		rule++;
		len--;
	} else if (len > 2 && rule[0] == '*' && rule[1] == '.') {
		flag = RULE_PSL_WILDCARD;
		rule += 2;
		len -= 2;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)rule[i] >= 0x80 || rule[i] == '*') {
			n->psl_skipped++;
			return 0;
		}
	if (n->psl_rules >= NAMES_MAX_PSL_RULES) {
		errno = EFBIG;
		return -1;
	}
	if (names_add(n, rule, len, flag) != 0) {
		if (errno != EINVAL)
			return -1;
		n->psl_skipped++;
		return 0;
	}
	n->psl_rules++;
	return 0;
}

/* Lines longer than this are skipped: longer than any name. */
#define PSL_LINE_MAX (NAMES_MAX_NAME + 6)

int names_load_psl(struct names *n, const char *path)
{
	char buf[4096], line[PSL_LINE_MAX];
	size_t len = 0;   /* of the line so far */
	int too_long = 0; /* the line so far is longer than PSL_LINE_MAX */
	int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			errno = EIO;
			rc = -1;
		}
		if (got <= 0)
			break;
		for (ssize_t i = 0; rc == 0 && i < got; i++) {
			if (buf[i] != '\n') {
				too_long |= len == sizeof line;
				if (!too_long)
					line[len++] = buf[i];
				continue;
			}
			if (too_long)
				n->psl_skipped++;
			else
				rc = add_psl_line(n, line, len);
			len = 0;
			too_long = 0;
		}
		if (rc != 0)
			break;
	}
	if (rc == 0 && too_long) /* the last line, without a newline */
		n->psl_skipped++;
	else if (rc == 0 && len)
		rc = add_psl_line(n, line, len);
	close(fd);
	char *text = rc == 0 && n->text_len ? realloc(n->text, n->text_len) : NULL;
	if (text) { /* the list is read: give back the arena's slack */
		n->text = text;
		n->text_cap = n->text_len;
	}
	if (rc == 0)
		n->fold = NAMES_FOLD_PSL;
	return rc;
}

/* Offset of the last `keep` labels of name (0: it has no more). */
static size_t last_labels(const char *name, size_t len, unsigned keep)
{
	unsigned dots = 0;
	for (size_t i = len; i > 0; i--)
		if (name[i - 1] == '.' && ++dots == keep)
			return i;
	return 0;
}

int names_apply(const struct names *n, const char *name, size_t len, size_t *shown)
{
	char buf[NAMES_MAX_NAME];
	unsigned flags = 0, suffix = 0; /* labels of the public suffix */
	int exception = 0;

	if (n->count && len <= NAMES_MAX_NAME) {
		lower(buf, name, len);
		uint64_t h = 0;
		unsigned prev = 0;
		size_t pos = len;
		for (unsigned k = 1; k <= n->max_labels; k++) {
			take_label(n, buf, &pos, &h);
			const struct suffix_slot *slot = find_slot(n, (uint32_t)h, buf + pos, len - pos);
			unsigned f = slot->len ? slot->flags : 0;
			flags |= f;
			if (!exception && (f & RULE_PSL_EXCEPTION)) {
				exception = 1;
				suffix = k - 1;
			} else if (!exception && ((f & RULE_PSL) || (prev & RULE_PSL_WILDCARD))) {
				suffix = k;
			}
			prev = f;
			if (pos == 0)
				break;
			pos--;
		}
	}
	if ((flags & RULE_EXCLUDE) || (n->nincluded && !(flags & RULE_INCLUDE)))
		return 0;
	*shown = 0;
	if (n->fold > 0)
		*shown = last_labels(name, len, (unsigned)n->fold);
	else if (n->fold == NAMES_FOLD_PSL)
		*shown = last_labels(name, len, (suffix ? suffix : 1) + 1);
	return 1;
}
