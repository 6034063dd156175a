/*
 * test_geoip.c - unit tests of src/geoip.c.  Built with libmaxminddb
 * (DNSAGG_GEOIP), it writes small MaxMind DB files with
 * spec/support/make_mmdb.pl (Debian's libmaxmind-db-writer-perl) and looks
 * addresses up in them; built without (the MIPS and musl runs), it checks
 * that the option is refused with a message saying why.
 */
#include "check.h"
#include "geoip.h"

#include <stdint.h>
#include <stdlib.h>

#ifdef DNSAGG_GEOIP

#include <arpa/inet.h>
#include <unistd.h>

static char dir[] = "/tmp/dnsagg-geoip-XXXXXX";
static char country_db[64], asn_db[64];

static void make_databases(void)
{
	char cmd[128];
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(cmd, sizeof cmd, "perl spec/support/make_mmdb.pl %s", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed\n", cmd);
		exit(2);
	}
	snprintf(country_db, sizeof country_db, "%s/country.mmdb", dir);
	snprintf(asn_db, sizeof asn_db, "%s/asn.mmdb", dir);
}

static void remove_databases(void)
{
	unlink(country_db);
	unlink(asn_db);
	rmdir(dir);
}

/* looks text (an IPv4 or IPv6 address) up; returns "CC/ASN" */
static const char *lookup(struct geoip *g, const char *text)
{
	static char out[32];
	uint8_t addr[16];
	int family = strchr(text, ':') ? 6 : 4;
	char country[3];
	uint32_t asn = 12345;
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, text, addr) != 1)
		return "bad address";
	geoip_lookup(g, family, addr, country, &asn);
	snprintf(out, sizeof out, "%s/%u", country, (unsigned)asn);
	return out;
}

static void test_both_databases(void)
{
	char err[256];
	struct geoip *g = geoip_open(country_db, asn_db, err, sizeof err);
	CHECK(g != NULL);
	if (!g)
		return;
	CHECK(geoip_supported());
	CHECK(geoip_has_country(g));
	CHECK(geoip_has_asn(g));
	CHECK_STR(lookup(g, "127.0.0.2"), "DE/3320");
	CHECK_STR(lookup(g, "127.0.0.3"), "US/15169");
	CHECK_STR(lookup(g, "127.0.0.4"), "ZZ/0");   /* in neither */
	CHECK_STR(lookup(g, "127.0.0.5"), "FR/0");   /* a country, no ASN */
	CHECK_STR(lookup(g, "192.0.2.1"), "ZZ/0");
	CHECK_STR(lookup(g, "::2"), "JP/2497");
	CHECK_STR(lookup(g, "::3"), "ZZ/64500");     /* an ASN, no country */
	CHECK_STR(lookup(g, "::ffff:127.0.0.2"), "DE/3320"); /* IPv4-mapped IPv6 */
	CHECK_STR(lookup(g, "2001:db8::1"), "ZZ/0");
	/* the cache: many addresses, again and again, always the right answer */
	for (int round = 0; round < 3; round++)
		for (unsigned i = 0; i < 1000; i++) {
			char text[32];
			snprintf(text, sizeof text, "10.%u.%u.1", i / 256, i % 256);
			CHECK_STR(lookup(g, text), "ZZ/0");
			CHECK_STR(lookup(g, i % 2 ? "127.0.0.2" : "::2"), i % 2 ? "DE/3320" : "JP/2497");
		}
	geoip_close(g);
}

static void test_one_database(void)
{
	char err[256];
	struct geoip *g = geoip_open(NULL, asn_db, err, sizeof err);
	CHECK(g != NULL);
	if (!g)
		return;
	CHECK(!geoip_has_country(g));
	CHECK(geoip_has_asn(g));
	CHECK_STR(lookup(g, "127.0.0.2"), "ZZ/3320"); /* no country database: ZZ */
	geoip_close(g);

	g = geoip_open(country_db, NULL, err, sizeof err);
	CHECK(g != NULL);
	if (!g)
		return;
	CHECK_STR(lookup(g, "127.0.0.3"), "US/0");
	geoip_close(g);
}

static void test_open_errors_name_the_option(void)
{
	char err[256] = "";
	CHECK(geoip_open("/nonexistent/Country.mmdb", asn_db, err, sizeof err) == NULL);
	CHECK_STR(err, "dnsagg: option 'geoip.country': cannot open /nonexistent/Country.mmdb: "
	               "Error opening the specified MaxMind DB file");
	/* a file that is not a MaxMind DB */
	CHECK(geoip_open(country_db, "spec/support/make_mmdb.pl", err, sizeof err) == NULL);
	CHECK_STR(err, "dnsagg: option 'geoip.asn': cannot open spec/support/make_mmdb.pl: "
	               "The MaxMind DB file contains invalid metadata");
	geoip_close(NULL);
}

/* the databases are made first and removed last */
CHECK_MAIN(make_databases, test_both_databases, test_one_database, test_open_errors_name_the_option,
           remove_databases)

#else

static void test_refused_without_libmaxminddb(void)
{
	char err[256] = "";
	char country[3];
	uint32_t asn = 7;
	uint8_t addr[4] = { 127, 0, 0, 2 };
	CHECK(!geoip_supported());
	CHECK(geoip_open("/x/Country.mmdb", NULL, err, sizeof err) == NULL);
	CHECK_STR(err, "dnsagg.new: option 'geoip' is not supported by this build (built without libmaxminddb)");
	geoip_lookup(NULL, 4, addr, country, &asn);
	CHECK_STR(country, "ZZ");
	CHECK_INT(asn, 0);
}

CHECK_MAIN(test_refused_without_libmaxminddb)

#endif
