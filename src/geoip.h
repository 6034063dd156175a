/*
 * geoip.h - the resolver's country and ASN, from MaxMind DB files.
 *
 * Owns the opened databases (libmaxminddb, memory-mapped) and a small
 * direct-mapped cache of the last addresses looked up, so that a tunnel's
 * few resolvers cost a tree walk once, not per packet.  Built with
 * libmaxminddb only when the Makefile finds it (DNSAGG_GEOIP); without it
 * geoip_open() fails with a message saying so, and nothing else is here.
 */
#ifndef DNSAGG_GEOIP_H
#define DNSAGG_GEOIP_H

#include <stddef.h>
#include <stdint.h>

struct geoip;

/* 1 when this build reads MaxMind DB files. */
int geoip_supported(void);

/* Opens either database or both (a NULL path: that label is not wanted).
 * Returns NULL and a message naming the option in err when one cannot be
 * opened or is not of the right kind. */
struct geoip *geoip_open(const char *country_path, const char *asn_path, char *err, size_t errlen);
void geoip_close(struct geoip *g);

int geoip_has_country(const struct geoip *g);
int geoip_has_asn(const struct geoip *g);

/* The country (two letters, "ZZ" when unmapped or without that database)
 * and the ASN (0 likewise) of addr: 4 bytes for family 4, 16 for 6. */
void geoip_lookup(struct geoip *g, int family, const uint8_t *addr, char country[3], uint32_t *asn);

#endif
