/*
 * fuzz_leases.c - the lease file parser: leases_parse() and leases_find()
 * (src/leases.c).
 *
 * The input is the content of one lease file, parsed into a map of at most
 * MAX_LEASES leases (so that the index grows a few times, and fills).
 * Checked, for every lease kept: its address is a valid IPv4 or IPv6
 * address; its MAC is empty or six lowercase hex pairs; its hostname is
 * empty or at most LEASE_HOSTNAME_MAX letters, digits, '-', '_' or '.';
 * each string ends inside its array; leases_find() gives the lease back
 * (the first line that names an address wins, so there is one per
 * address); the map stays within MAX_LEASES and its index half full; and
 * lines that were not leases are counted, at most once each.
 */
#include "fuzz.h"
#include "leases.h"

#include <arpa/inet.h>
#include <string.h>

#define MAX_LEASES 64

static size_t bounded_len(const char *s, size_t size)
{
	const char *nul = memchr(s, '\0', size);
	FUZZ_CHECK(nul != NULL);
	return (size_t)(nul - s);
}

static void check_lease(const struct leases *l, const struct lease *x)
{
	unsigned char bin[16];
	size_t ip_len = bounded_len(x->ip, sizeof x->ip);
	size_t mac_len = bounded_len(x->mac, sizeof x->mac);
	size_t host_len = bounded_len(x->hostname, sizeof x->hostname);

	FUZZ_CHECK(inet_pton(strchr(x->ip, ':') ? AF_INET6 : AF_INET, x->ip, bin) == 1);
	FUZZ_CHECK(leases_find(l, x->ip, ip_len) == x);
	FUZZ_CHECK(mac_len == 0 || mac_len == LEASE_MAC_MAX);
	for (size_t i = 0; i < mac_len; i++)
		FUZZ_CHECK(i % 3 == 2 ? x->mac[i] == ':'
		                      : (x->mac[i] >= '0' && x->mac[i] <= '9') || (x->mac[i] >= 'a' && x->mac[i] <= 'f'));
	for (size_t i = 0; i < host_len; i++) {
		char c = x->hostname[i];
		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		           c == '_' || c == '.');
	}
	FUZZ_CHECK(x->expiry >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hash_key key = { 1, 2 };
	struct leases *l = leases_new(MAX_LEASES, &key);
	char *text = (char *)fuzz_copy(data, size);
	size_t lines = 0;

	FUZZ_CHECK(l != NULL);
	leases_parse(l, text, size);
	for (size_t i = 0; i < size; i++)
		lines += text[i] == '\n';
	if (size > 0 && text[size - 1] != '\n')
		lines++;

	FUZZ_CHECK(l->count <= MAX_LEASES && l->count + l->bad_lines <= lines);
	FUZZ_CHECK(l->count == 0 || (l->nindex >= 2 * l->count && (l->nindex & (l->nindex - 1)) == 0));
	for (uint32_t i = 0; i < l->count; i++)
		check_lease(l, &l->lease[i]);
	/* any bytes may be looked up */
	(void)leases_find(l, text, size < LEASE_IP_MAX ? size : LEASE_IP_MAX);

	leases_free(l);
	free(text);
	return 0;
}
