/*
 * geoip.c - country and ASN lookups in MaxMind DB files (see geoip.h).
 */
#include "geoip.h"

#include <stdio.h>

#ifdef DNSAGG_GEOIP

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hash.h"

#define CACHE_SLOTS 64u /* a power of two */

struct cached {
	uint8_t family;        /* 0: empty */
	uint8_t addr[16];
	char country[3];
	uint32_t asn;
};

struct geoip {
	MMDB_s country_db, asn_db;
	int has_country, has_asn;
	struct cached cache[CACHE_SLOTS];
};

static int open_db(const char *path, const char *option, MMDB_s *db, char *err, size_t errlen)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "dnsagg: option '%s': cannot open %s: %s", option, path, MMDB_strerror(rc));
		return -1;
	}
	return 0;
}

int geoip_supported(void)
{
	return 1;
}

struct geoip *geoip_open(const char *country_path, const char *asn_path, char *err, size_t errlen)
{
	struct geoip *g = calloc(1, sizeof *g);
	if (!g) {
		snprintf(err, errlen, "dnsagg: geoip: out of memory");
		return NULL;
	}
	if (country_path) {
		if (open_db(country_path, "geoip.country", &g->country_db, err, errlen) != 0)
			goto fail;
		g->has_country = 1;
	}
	if (asn_path) {
		if (open_db(asn_path, "geoip.asn", &g->asn_db, err, errlen) != 0)
			goto fail;
		g->has_asn = 1;
	}
	return g;
fail:
	geoip_close(g);
	return NULL;
}

void geoip_close(struct geoip *g)
{
	if (!g)
		return;
	if (g->has_country)
		MMDB_close(&g->country_db);
	if (g->has_asn)
		MMDB_close(&g->asn_db);
	free(g);
}

int geoip_has_country(const struct geoip *g)
{
	return g && g->has_country;
}

int geoip_has_asn(const struct geoip *g)
{
	return g && g->has_asn;
}

/* The record of addr in db, or 0 when the address is not in it. */
static int find(const MMDB_s *db, const struct sockaddr *sa, MMDB_lookup_result_s *res)
{
	int mmdb_error = MMDB_SUCCESS;
	*res = MMDB_lookup_sockaddr(db, sa, &mmdb_error);
	return mmdb_error == MMDB_SUCCESS && res->found_entry;
}

static void lookup_country(const MMDB_s *db, const struct sockaddr *sa, char country[3])
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s data;
	if (find(db, sa, &res) && MMDB_get_value(&res.entry, &data, "country", "iso_code", NULL) == MMDB_SUCCESS &&
	    data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2 &&
	    data.utf8_string[0] >= 'A' && data.utf8_string[0] <= 'Z' && data.utf8_string[1] >= 'A' &&
	    data.utf8_string[1] <= 'Z') {
		country[0] = data.utf8_string[0];
		country[1] = data.utf8_string[1];
	}
}

static void lookup_asn(const MMDB_s *db, const struct sockaddr *sa, uint32_t *asn)
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s data;
	if (find(db, sa, &res) &&
	    MMDB_get_value(&res.entry, &data, "autonomous_system_number", NULL) == MMDB_SUCCESS && data.has_data &&
	    data.type == MMDB_DATA_TYPE_UINT32)
		*asn = data.uint32;
}

void geoip_lookup(struct geoip *g, int family, const uint8_t *addr, char country[3], uint32_t *asn)
{
	size_t len = family == 4 ? 4 : 16;
	struct cached *c = &g->cache[hash_fast(addr, len) & (CACHE_SLOTS - 1)];
	if (c->family != family || memcmp(c->addr, addr, len) != 0) {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		const struct sockaddr *sa;
		memset(&sin, 0, sizeof sin);
		memset(&sin6, 0, sizeof sin6);
		if (family == 4) {
			sin.sin_family = AF_INET;
			memcpy(&sin.sin_addr, addr, 4);
			sa = (const struct sockaddr *)&sin;
		} else {
			sin6.sin6_family = AF_INET6;
			memcpy(&sin6.sin6_addr, addr, 16);
			sa = (const struct sockaddr *)&sin6;
		}
		c->family = (uint8_t)family;
		memcpy(c->addr, addr, len);
		memcpy(c->country, "ZZ", 3);
		c->asn = 0;
		if (g->has_country)
			lookup_country(&g->country_db, sa, c->country);
		if (g->has_asn)
			lookup_asn(&g->asn_db, sa, &c->asn);
	}
	memcpy(country, c->country, 3);
	*asn = c->asn;
}

#else /* built without libmaxminddb: the option is refused */

int geoip_supported(void)
{
	return 0;
}

struct geoip *geoip_open(const char *country_path, const char *asn_path, char *err, size_t errlen)
{
	(void)country_path;
	(void)asn_path;
	snprintf(err, errlen, "dnsagg.new: option 'geoip' is not supported by this build (built without libmaxminddb)");
	return NULL;
}

void geoip_close(struct geoip *g)
{
	(void)g;
}

int geoip_has_country(const struct geoip *g)
{
	(void)g;
	return 0;
}

int geoip_has_asn(const struct geoip *g)
{
	(void)g;
	return 0;
}

void geoip_lookup(struct geoip *g, int family, const uint8_t *addr, char country[3], uint32_t *asn)
{
	(void)g;
	(void)family;
	(void)addr;
	country[0] = 'Z';
	country[1] = 'Z';
	country[2] = '\0';
	*asn = 0;
}

#endif
