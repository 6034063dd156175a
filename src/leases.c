/*
 * leases.c - parsing of dnsmasq lease files (see leases.h).
 *
 * IPv4 lines:  <expiry> <mac> <ip> <hostname|*> <client-id|*>
 * the line:    duid <server-duid>
 * IPv6 lines:  <expiry> <iaid> <ipv6> <hostname|*> <duid|*>
 * The MAC of an IPv6 client is taken from its DUID when the DUID holds one
 * (DUID-LLT or DUID-LL of an Ethernet address).
 */
#include "leases.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct leases *leases_new(uint32_t max, const struct hash_key *key)
{
	struct leases *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->max = max;
	l->key = *key;
	return l;
}

void leases_free(struct leases *l)
{
	if (!l)
		return;
	free(l->lease);
	free(l->index);
	free(l);
}

/* The slot of the index that holds ip, else the empty one where it would
 * go (the index is never full). */
static uint32_t slot_of(const struct leases *l, const char *ip, size_t len)
{
	uint32_t s = (uint32_t)hash_bytes(&l->key, ip, len) & (l->nindex - 1);
	for (uint32_t i; (i = l->index[s]) != 0; s = (s + 1) & (l->nindex - 1))
		if (strlen(l->lease[i - 1].ip) == len && memcmp(l->lease[i - 1].ip, ip, len) == 0)
			break;
	return s;
}

const struct lease *leases_find(const struct leases *l, const char *ip, size_t len)
{
	if (!l || !l->nindex)
		return NULL;
	uint32_t i = l->index[slot_of(l, ip, len)];
	return i ? &l->lease[i - 1] : NULL;
}

/* Keeps the index at most half full; 0 when there is room for one more. */
static int make_room(struct leases *l)
{
	if (l->count >= l->max)
		return -1;
	if ((l->count + 1) * 2 <= l->nindex)
		return 0;
	uint32_t n = l->nindex ? l->nindex * 2 : 16;
	struct lease *lease = realloc(l->lease, (size_t)(n / 2) * sizeof *lease);
	if (!lease)
		return -1;
	l->lease = lease;
	uint32_t *index = calloc(n, sizeof *index);
	if (!index)
		return -1;
	free(l->index);
	l->index = index;
	l->nindex = n;
	for (uint32_t i = 0; i < l->count; i++) /* each address once: each finds an empty slot */
		index[slot_of(l, l->lease[i].ip, strlen(l->lease[i].ip))] = i + 1;
	return 0;
}

static void add(struct leases *l, const struct lease *lease)
{
	size_t len = strlen(lease->ip);
	if (leases_find(l, lease->ip, len) || make_room(l) != 0)
		return; /* the first file that names an address wins */
	l->lease[l->count] = *lease;
	l->index[slot_of(l, lease->ip, len)] = ++l->count; /* its number + 1 */
}

struct field {
	const char *p;
	size_t len;
};

/* Splits a line on single spaces into at most max fields; returns how many. */
static size_t split(const char *p, const char *end, struct field *f, size_t max)
{
	size_t n = 0;
	while (p < end && n < max) {
		const char *s = p;
		while (p < end && *p != ' ')
			p++;
		f[n].p = s;
		f[n].len = (size_t)(p - s);
		n++;
		if (p < end)
			p++;
	}
	return p < end ? max + 1 : n;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int parse_expiry(struct field f, int64_t *out)
{
	int64_t v = 0;
	if (f.len == 0 || f.len > 12)
		return -1;
	for (size_t i = 0; i < f.len; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return -1;
		v = v * 10 + (f.p[i] - '0');
	}
	*out = v;
	return 0;
}

/* "xx:xx:..." with n_bytes bytes, each two hex digits. */
static int is_hex_bytes(const char *p, size_t len, size_t n_bytes)
{
	if (len != n_bytes * 3 - 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (i % 3 == 2 ? p[i] != ':' : !is_hex(p[i]))
			return 0;
	return 1;
}

static void copy_lower(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
	dst[len] = '\0';
}

static int parse_ip(struct field f, int v6, char *out)
{
	unsigned char bin[16];
	if (f.len == 0 || f.len > LEASE_IP_MAX)
		return -1;
	memcpy(out, f.p, f.len);
	out[f.len] = '\0';
	return inet_pton(v6 ? AF_INET6 : AF_INET, out, bin) == 1 ? 0 : -1;
}

static int parse_hostname(struct field f, char *out)
{
	if (f.len == 1 && f.p[0] == '*') {
		out[0] = '\0';
		return 0;
	}
	if (f.len == 0 || f.len > LEASE_HOSTNAME_MAX)
		return -1;
	for (size_t i = 0; i < f.len; i++) { /* copied as checked: a bad line's lease is dropped */
		char c = f.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return -1;
		out[i] = c;
	}
	out[f.len] = '\0';
	return 0;
}

/* An Ethernet address "xx:xx:xx:xx:xx:xx" of len bytes at p, copied to mac
 * in lowercase; 0 (nothing copied) when it is not one. */
static int take_mac(const char *p, size_t len, char *mac)
{
	if (!is_hex_bytes(p, len, 6))
		return 0;
	copy_lower(mac, p, len);
	return 1;
}

/* The Ethernet address inside a DUID-LLT (type 1: its time, 4 bytes, before
 * the address) or a DUID-LL (type 3): the DUID's last 17 characters. */
static void mac_from_duid(struct field duid, char *mac)
{
	if (duid.len != 12 + 12 + 17 && duid.len != 12 + 17)
		return;
	const char *p = duid.p + duid.len - 17;
	if (memcmp(duid.p, duid.len == 12 + 17 ? "00:03:00:01:" : "00:01:00:01:", 12) == 0)
		take_mac(p, 17, mac);
}

static int parse_line(const char *p, const char *end, struct lease *lease)
{
	struct field f[5];
	lease->mac[0] = '\0'; /* the rest is written below, or the line is bad */
	if (split(p, end, f, 5) != 5)
		return -1;
	int v6 = memchr(f[2].p, ':', f[2].len) != NULL;
	if (parse_expiry(f[0], &lease->expiry) != 0 || parse_ip(f[2], v6, lease->ip) != 0 ||
	    parse_hostname(f[3], lease->hostname) != 0)
		return -1;
	if (v6) {
		for (size_t i = 0; i < f[1].len; i++) /* the IAID, decimal */
			if (f[1].p[i] < '0' || f[1].p[i] > '9')
				return -1;
		mac_from_duid(f[4], lease->mac);
		return 0;
	}
	if (!take_mac(f[1].p, f[1].len, lease->mac) && (f[1].len == 0 || f[1].len > 64))
		return -1; /* another hardware type: kept, without a MAC */
	return 0;
}

void leases_parse(struct leases *l, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end;
		struct lease lease;
		if (line_end == p || (line_end - p > 5 && memcmp(p, "duid ", 5) == 0))
			; /* an empty line, or the server's own DUID: nothing to join */
		else if (parse_line(p, line_end, &lease) == 0)
			add(l, &lease);
		else
			l->bad_lines++;
		p = eol ? eol + 1 : end;
	}
}

int leases_load_file(struct leases *l, const char *path, int settled, int *missing)
{
	struct stat before, after;
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	*missing = 0;
	if (fd < 0) {
		*missing = errno == ENOENT;
		return *missing ? 0 : -1;
	}
	if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode))
		goto out;
	buf = malloc(LEASES_FILE_MAX);
	if (!buf)
		goto out;
	for (;;) {
		ssize_t got = read(fd, buf + len, LEASES_FILE_MAX - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0 || (len += (size_t)got) == LEASES_FILE_MAX)
			break;
	}
	if (fstat(fd, &after) != 0)
		goto out;
	rc = -2;
	if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
	    (!settled && len > 0 && len < LEASES_FILE_MAX && buf[len - 1] != '\n'))
		goto out;
	if (len == LEASES_FILE_MAX) /* a larger file: keep its whole lines only */
		while (len > 0 && buf[len - 1] != '\n')
			len--;
	leases_parse(l, buf, len);
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

uint64_t leases_fingerprint(const char *const *paths, size_t n)
{
	uint64_t fp = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(paths[i], &st) != 0)
			memset(&st, 0, sizeof st); /* a missing file: all five zero */
		const uint64_t parts[5] = { (uint64_t)st.st_ino, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
		                            (uint64_t)st.st_mtim.tv_nsec, (uint64_t)st.st_dev };
		for (int k = 0; k < 5; k++)
			fp = (fp ^ parts[k]) * 1099511628211ULL;
	}
	return fp;
}
