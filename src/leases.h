/*
 * leases.h - dnsmasq DHCP lease files, read into an immutable map from a
 * client address to its hostname, MAC address and lease expiry.
 *
 * A map, once built, is never changed: the reader thread builds a new one
 * when a file changes and swaps it in, so a scrape never sees a half-built
 * one.  A file that changes while it is read, or whose last line is cut, is
 * not trusted: the caller keeps the map it had and tries again later.
 */
#ifndef DNSAGG_LEASES_H
#define DNSAGG_LEASES_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define LEASE_IP_MAX 46        /* INET6_ADDRSTRLEN */
#define LEASE_MAC_MAX 17       /* xx:xx:xx:xx:xx:xx */
#define LEASE_HOSTNAME_MAX 63
#define LEASES_FILE_MAX (1u << 20) /* bytes read of one lease file */

struct lease {
	char ip[LEASE_IP_MAX + 1];
	char mac[LEASE_MAC_MAX + 1];           /* "" when unknown (IPv6 without a MAC in its DUID) */
	char hostname[LEASE_HOSTNAME_MAX + 1]; /* "" for "*" */
	int64_t expiry;                        /* unix seconds; 0 means never */
};

struct leases {
	struct lease *lease;
	uint32_t count, max;
	uint32_t *index;   /* open addressing: a lease's number + 1, 0 when empty */
	uint32_t nindex;   /* a power of two */
	uint32_t bad_lines; /* lines that were neither leases nor the duid line */
	uint32_t refs;     /* holders of an immutable map (kept by its owner) */
	struct hash_key key;
};

/* An empty map for at most `max` leases.  NULL when memory runs out. */
struct leases *leases_new(uint32_t max, const struct hash_key *key);
void leases_free(struct leases *l);

/* Adds every well-formed lease line of buf[0..len) (one file's content)
 * and counts the others in l->bad_lines. */
void leases_parse(struct leases *l, const char *buf, size_t len);

/* Reads one lease file and adds it.  Returns 0 on success, -1 when the file
 * cannot be read (missing is not an error: returns 0 with nothing added and
 * *missing set), and -2 when it changed while being read, or ends in the
 * middle of a line and is not `settled`.  A settled file (the caller saw it
 * unchanged since it last ended mid-line: a rewrite that stopped, e.g. on a
 * full /tmp) is taken as it is: its whole lines, the cut one counted bad. */
int leases_load_file(struct leases *l, const char *path, int settled, int *missing);

const struct lease *leases_find(const struct leases *l, const char *ip, size_t len);

/* A fingerprint of the files' identity, size and time of change: when it
 * changes, the map is built again. */
uint64_t leases_fingerprint(const char *const *paths, size_t n);

#endif
