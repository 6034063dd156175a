/*
 * test_leases.c - unit tests of src/leases.c: the lease line grammar, the
 * map, and the reading of lease files (temporary files under /tmp).
 */
#include "check.h"
#include "leases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct hash_key test_key = { 0x1111222233334444ULL, 0x5555666677778888ULL };

/* ---- helpers ---- */

static struct leases *parsed(uint32_t max, const char *text)
{
	struct leases *l = leases_new(max, &test_key);
	if (!l) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	leases_parse(l, text, strlen(text));
	return l;
}

static const struct lease *find(const struct leases *l, const char *ip)
{
	return leases_find(l, ip, strlen(ip));
}

/* Parses one line alone: 1 when it gave a lease, 0 when it counted as bad,
 * -1 when it was neither (the duid line). */
static int line_kind(const char *line)
{
	struct leases *l = parsed(10, line);
	int kind = l->count == 1 && l->bad_lines == 0 ? 1 : l->count == 0 && l->bad_lines == 1 ? 0 : -1;
	leases_free(l);
	return kind;
}

static void write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t put = write(fd, data, len);
		if (put <= 0) {
			perror("write");
			exit(2);
		}
		data += put;
		len -= (size_t)put;
	}
}

/* Makes a temporary file holding data[0..len); path must hold 64 bytes. */
static void temp_file(char *path, const char *data, size_t len)
{
	strcpy(path, "/tmp/dnsagg-leases-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	write_all(fd, data, len);
	close(fd);
}

/* Replaces the content of an existing file in place (same inode). */
static void rewrite_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(data, f);
	fclose(f);
}

/* ---- leases_parse ---- */

static void test_ipv4_line(void)
{
	struct leases *l = parsed(10, "1700000000 aa:bb:cc:dd:ee:ff 192.168.1.10 laptop 01:aa:bb:cc:dd:ee:ff\n");
	CHECK_INT(l->count, 1);
	CHECK_INT(l->bad_lines, 0);
	const struct lease *x = find(l, "192.168.1.10");
	CHECK(x != NULL);
	if (x) {
		CHECK_STR(x->ip, "192.168.1.10");
		CHECK_STR(x->mac, "aa:bb:cc:dd:ee:ff");
		CHECK_STR(x->hostname, "laptop");
		CHECK_U64(x->expiry, 1700000000);
	}
	leases_free(l);
}

static void test_star_hostname_and_zero_expiry(void)
{
	struct leases *l = parsed(10, "0 00:11:22:33:44:55 10.0.0.7 * *\n");
	const struct lease *x = find(l, "10.0.0.7");
	CHECK(x != NULL);
	if (x) {
		CHECK_STR(x->hostname, "");
		CHECK_STR(x->mac, "00:11:22:33:44:55");
		CHECK_U64(x->expiry, 0); /* never expires */
	}
	CHECK_INT(l->bad_lines, 0);
	leases_free(l);
}

static void test_duid_line_skipped(void)
{
	struct leases *l = parsed(10, "duid 00:01:00:01:2c:4a:8e:11:52:54:00:12:34:56\n"
	                              "1700000000 aa:bb:cc:dd:ee:01 10.0.0.1 a *\n");
	CHECK_INT(l->count, 1);
	CHECK_INT(l->bad_lines, 0);
	CHECK(find(l, "10.0.0.1") != NULL);
	leases_free(l);
	CHECK_INT(line_kind("duid 00:03:00:01:52:54:00:12:34:56"), -1);
}

static void test_ipv6_duid_gives_mac(void)
{
	struct leases *l = parsed(10,
		/* DUID-LLT: type 1, hardware 1, a time, then the MAC */
		"1700000100 305419896 fd00::10 phone 00:01:00:01:2c:4a:8e:11:52:54:00:ab:cd:ef\n"
		/* DUID-LL: type 3, hardware 1, then the MAC (upper case here) */
		"1700000200 1 fd00::11 tablet 00:03:00:01:52:54:00:AB:CD:0F\n"
		/* DUID-EN: no MAC in it */
		"1700000300 2 fd00::12 printer 00:02:00:00:ab:11:de:ad:be:ef:00:01\n"
		/* DUID-LLT of another hardware type (6, IEEE 802): no MAC either */
		"1700000400 3 fd00::13 odd 00:01:00:06:2c:4a:8e:11:52:54:00:ab:cd:ef\n"
		"1700000500 4 2001:db8::1 * *\n");
	CHECK_INT(l->count, 5);
	CHECK_INT(l->bad_lines, 0);
	const struct lease *llt = find(l, "fd00::10"), *ll = find(l, "fd00::11"), *en = find(l, "fd00::12"),
	                   *odd = find(l, "fd00::13"), *none = find(l, "2001:db8::1");
	CHECK(llt && ll && en && odd && none);
	if (llt && ll && en && odd && none) {
		CHECK_STR(llt->mac, "52:54:00:ab:cd:ef");
		CHECK_STR(llt->hostname, "phone");
		CHECK_U64(llt->expiry, 1700000100);
		CHECK_STR(ll->mac, "52:54:00:ab:cd:0f");
		CHECK_STR(ll->hostname, "tablet");
		CHECK_STR(en->mac, "");
		CHECK_STR(en->hostname, "printer");
		CHECK_STR(odd->mac, "");
		CHECK_STR(none->mac, "");
		CHECK_STR(none->hostname, "");
	}
	leases_free(l);
}

static void test_malformed_lines_counted(void)
{
	static const char *const bad[] = {
		"17000x0000 aa:bb:cc:dd:ee:ff 10.0.0.1 host *",     /* expiry not a number */
		"-1 aa:bb:cc:dd:ee:ff 10.0.0.1 host *",             /* negative expiry */
		"1234567890123 aa:bb:cc:dd:ee:ff 10.0.0.1 host *",  /* 13 digits */
		"1700000000 aa:bb:cc:dd:ee:ff 10.0.0.256 host *",   /* bad IPv4 */
		"1700000000 aa:bb:cc:dd:ee:ff 10.0.0 host *",       /* bad IPv4 */
		"1700000000 1 fd00:::1 host *",                     /* bad IPv6 */
		"1700000000 aa:bb:cc:dd:ee:ff host.lan 10.0.0.1 *", /* fields swapped */
		"1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 my host *",  /* a space in the hostname */
		"1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 h\"st *",    /* a quote in the hostname */
		("1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 "
		 "a123456789b123456789c123456789d123456789e123456789f123456789abcd *"), /* 64 bytes */
		"1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 host",       /* four fields */
		"1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 host * x",   /* six fields */
		"1700000000",                                       /* one field */
		"1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1  *",         /* an empty hostname */
		"1700000000 12ab fd00::1 host *",                   /* IAID not decimal */
		"duid",                                             /* "duid" alone */
	};
	char text[2048] = "";
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(line_kind(bad[i]), 0);
		if (line_kind(bad[i]) != 0)
			fprintf(stderr, "  ... for \"%s\"\n", bad[i]);
		strcat(text, bad[i]);
		strcat(text, "\n");
	}
	strcat(text, "1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 ok *\n\n"); /* and an empty line: not counted */
	struct leases *l = parsed(10, text);
	CHECK_INT(l->bad_lines, sizeof bad / sizeof bad[0]);
	CHECK_INT(l->count, 1);
	CHECK_STR(find(l, "10.0.0.1") ? find(l, "10.0.0.1")->hostname : NULL, "ok");
	leases_free(l);

	/* the longest hostname kept, and a hardware address that is not a MAC */
	CHECK_INT(line_kind("1 aa:bb:cc:dd:ee:ff 10.0.0.1 "
	                    "a123456789b123456789c123456789d123456789e123456789f123456789abc *"), 1);
	l = parsed(10, "1 20:aa:bb:cc:dd:ee:ff:00:11 10.0.0.2 ib-host *\n");
	CHECK_INT(l->count, 1);
	CHECK_STR(find(l, "10.0.0.2") ? find(l, "10.0.0.2")->mac : NULL, "");
	leases_free(l);
}

static void test_uppercase_mac_lowercased(void)
{
	struct leases *l = parsed(10, "1700000000 AA:BB:CC:0D:Ee:fF 10.0.0.9 Host-9 *\n");
	const struct lease *x = find(l, "10.0.0.9");
	CHECK(x != NULL);
	if (x) {
		CHECK_STR(x->mac, "aa:bb:cc:0d:ee:ff");
		CHECK_STR(x->hostname, "Host-9"); /* hostnames are kept as written */
	}
	leases_free(l);
}

static void test_first_file_wins_for_duplicate_ip(void)
{
	struct leases *l = parsed(10, "1700000000 aa:bb:cc:dd:ee:01 10.0.0.5 first *\n"
	                              "1700000001 aa:bb:cc:dd:ee:02 10.0.0.5 second *\n");
	const char second_file[] = "1700000002 aa:bb:cc:dd:ee:03 10.0.0.5 third *\n"
	                           "1700000003 aa:bb:cc:dd:ee:04 10.0.0.6 other *\n";
	leases_parse(l, second_file, strlen(second_file));
	CHECK_INT(l->count, 2);
	CHECK_INT(l->bad_lines, 0);
	const struct lease *x = find(l, "10.0.0.5");
	CHECK(x != NULL);
	if (x) {
		CHECK_STR(x->hostname, "first");
		CHECK_STR(x->mac, "aa:bb:cc:dd:ee:01");
		CHECK_U64(x->expiry, 1700000000);
	}
	CHECK_STR(find(l, "10.0.0.6") ? find(l, "10.0.0.6")->hostname : NULL, "other");
	leases_free(l);
}

static void test_max_leases_bound(void)
{
	struct leases *l = parsed(3, "1 aa:bb:cc:dd:ee:01 10.0.0.1 h1 *\n"
	                             "2 aa:bb:cc:dd:ee:02 10.0.0.2 h2 *\n"
	                             "3 aa:bb:cc:dd:ee:03 10.0.0.3 h3 *\n"
	                             "4 aa:bb:cc:dd:ee:04 10.0.0.4 h4 *\n"
	                             "5 aa:bb:cc:dd:ee:05 10.0.0.5 h5 *\n");
	CHECK_INT(l->count, 3);
	CHECK_INT(l->bad_lines, 0); /* well-formed: not bad, only not kept */
	CHECK(find(l, "10.0.0.1") && find(l, "10.0.0.2") && find(l, "10.0.0.3"));
	CHECK(find(l, "10.0.0.4") == NULL);
	CHECK(find(l, "10.0.0.5") == NULL);
	leases_free(l);

	l = parsed(0, "1 aa:bb:cc:dd:ee:01 10.0.0.1 h1 *\n");
	CHECK_INT(l->count, 0);
	CHECK(find(l, "10.0.0.1") == NULL);
	leases_free(l);
}

static void test_find_hit_miss_and_growth(void)
{
	enum { N = 1000 };
	struct leases *l = leases_new(N, &test_key);
	char line[128], ip[32];
	int hits = 0, right = 0;

	CHECK(find(l, "10.0.0.1") == NULL); /* empty map */
	for (int i = 0; i < N; i++) {
		int n = snprintf(line, sizeof line, "%d aa:bb:cc:dd:%02x:%02x 10.1.%d.%d h%d *\n", 1000 + i,
		                 i / 256, i % 256, i / 256, i % 256, i);
		leases_parse(l, line, (size_t)n);
	}
	CHECK_INT(l->count, N);
	CHECK(l->nindex >= 2 * N); /* at most half full */
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof ip, "10.1.%d.%d", i / 256, i % 256);
		const struct lease *x = find(l, ip);
		hits += x != NULL;
		right += x && x->expiry == 1000 + i;
	}
	CHECK_INT(hits, N);
	CHECK_INT(right, N);
	CHECK(find(l, "10.1.100.1") == NULL);
	CHECK(find(l, "10.1.0.") == NULL);              /* a prefix */
	const struct lease *by_len = leases_find(l, "10.1.0.10", 8); /* the length counts: "10.1.0.1" */
	CHECK_STR(by_len ? by_len->ip : NULL, "10.1.0.1");
	CHECK(leases_find(NULL, "10.1.0.1", 8) == NULL);
	leases_free(l);
}

static void test_find_ipv6(void)
{
	struct leases *l = parsed(10, "1700000000 1 fd00::1 six *\n"
	                              "1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 four *\n");
	CHECK_STR(find(l, "fd00::1") ? find(l, "fd00::1")->hostname : NULL, "six");
	CHECK_STR(find(l, "10.0.0.1") ? find(l, "10.0.0.1")->hostname : NULL, "four");
	CHECK(find(l, "fd00::2") == NULL);
	CHECK(find(l, "fd00::") == NULL);
	leases_free(l);
}

/* ---- leases_load_file ---- */

static void test_load_complete_file(void)
{
	char path[64];
	const char text[] = "duid 00:01:00:01:2c:4a:8e:11:52:54:00:12:34:56\n"
	                    "1700000000 aa:bb:cc:dd:ee:01 10.0.0.1 one *\n"
	                    "1700000000 1 fd00::1 two 00:03:00:01:52:54:00:00:00:02\n"
	                    "garbage\n";
	int missing = -1;
	temp_file(path, text, strlen(text));
	struct leases *l = leases_new(10, &test_key);
	CHECK_INT(leases_load_file(l, path, 0, &missing), 0);
	CHECK_INT(missing, 0);
	CHECK_INT(l->count, 2);
	CHECK_INT(l->bad_lines, 1);
	CHECK_STR(find(l, "fd00::1") ? find(l, "fd00::1")->mac : NULL, "52:54:00:00:00:02");
	leases_free(l);

	/* an empty file is complete */
	rewrite_file(path, "");
	l = leases_new(10, &test_key);
	CHECK_INT(leases_load_file(l, path, 0, &missing), 0);
	CHECK_INT(missing, 0);
	CHECK_INT(l->count, 0);
	leases_free(l);
	unlink(path);
}

static void test_load_file_ending_mid_line(void)
{
	char path[64];
	const char text[] = "1700000000 aa:bb:cc:dd:ee:01 10.0.0.1 one *\n"
	                    "1700000000 aa:bb:cc:dd:ee:02 10.0.0.2 two *";
	int missing = -1;
	temp_file(path, text, strlen(text));
	struct leases *l = leases_new(10, &test_key);
	CHECK_INT(leases_load_file(l, path, 0, &missing), -2);
	CHECK_INT(missing, 0);
	CHECK_INT(l->count, 0); /* nothing of an untrusted file is kept */
	/* settled (unchanged since): taken as it is; the last line lacks only
	 * its newline, so it is a lease too */
	CHECK_INT(leases_load_file(l, path, 1, &missing), 0);
	CHECK_INT(l->count, 2);
	CHECK_INT((int)l->bad_lines, 0);
	leases_free(l);
	unlink(path);

	/* a line cut short of its fields: the whole lines, the cut one bad */
	const char cut[] = "1700000000 aa:bb:cc:dd:ee:01 10.0.0.1 one *\n"
	                   "1700000000 aa:bb:cc:dd:ee:02 10.0.0.2 tw";
	temp_file(path, cut, strlen(cut));
	l = leases_new(10, &test_key);
	CHECK_INT(leases_load_file(l, path, 0, &missing), -2);
	CHECK_INT(leases_load_file(l, path, 1, &missing), 0);
	CHECK_INT(l->count, 1);
	CHECK_INT((int)l->bad_lines, 1);
	CHECK(leases_find(l, "10.0.0.1", 8) != NULL);
	leases_free(l);
	unlink(path);
}

static void test_load_missing_file(void)
{
	int missing = -1;
	struct leases *l = leases_new(10, &test_key);
	CHECK_INT(leases_load_file(l, "/tmp/dnsagg-no-such-dir/no-such-file", 0, &missing), 0);
	CHECK_INT(missing, 1);
	CHECK_INT(l->count, 0);
	leases_free(l);
}

static void test_load_directory(void)
{
	int missing = -1;
	char dir[] = "/tmp/dnsagg-leases-dir-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	struct leases *l = leases_new(10, &test_key);
	CHECK_INT(leases_load_file(l, dir, 0, &missing), -1);
	CHECK_INT(missing, 0);
	CHECK_INT(l->count, 0);
	leases_free(l);
	rmdir(dir);
}

static void test_load_file_over_limit_keeps_whole_lines(void)
{
	enum { LINE = 60, LINES = 20000 };
	const uint32_t whole = LEASES_FILE_MAX / LINE; /* 17476 lines, then 16 bytes of the next */
	char *text = malloc((size_t)LINE * LINES + 1), path[64];
	char ip[32];
	int missing = -1;

	for (int i = 0; i < LINES; i++) {
		char *line = text + (size_t)i * LINE;
		int n = snprintf(line, LINE + 1, "1700000000 aa:bb:cc:dd:ee:ff 10.%d.%d.%d h", i / 65536,
		                 i / 256 % 256, i % 256);
		memset(line + n, 'x', (size_t)(LINE - 3 - n)); /* pad the hostname */
		memcpy(line + LINE - 3, " *\n", 3);
	}
	CHECK(LEASES_FILE_MAX % LINE != 0);
	temp_file(path, text, (size_t)LINE * LINES);
	struct leases *l = leases_new(LINES, &test_key);
	CHECK_INT(leases_load_file(l, path, 0, &missing), 0);
	CHECK_INT(l->count, whole);
	CHECK_INT(l->bad_lines, 0); /* the cut line is not read as a short one */
	snprintf(ip, sizeof ip, "10.0.%u.%u", (whole - 1) / 256, (whole - 1) % 256);
	CHECK(find(l, ip) != NULL);
	snprintf(ip, sizeof ip, "10.0.%u.%u", whole / 256, whole % 256);
	CHECK(find(l, ip) == NULL);
	leases_free(l);
	unlink(path);
	free(text);
}

static void test_fingerprint_follows_content(void)
{
	char a[64], b[64];
	const char first[] = "1 aa:bb:cc:dd:ee:01 10.0.0.1 one *\n";
	temp_file(a, first, strlen(first));
	temp_file(b, "", 0);
	const char *const both[] = { a, b }, *const missing[] = { "/tmp/dnsagg-no-such-dir/x" };

	uint64_t fp1 = leases_fingerprint(both, 2);
	CHECK_U64(leases_fingerprint(both, 2), fp1); /* stable while nothing changes */
	CHECK(leases_fingerprint(both, 1) != fp1);
	CHECK_U64(leases_fingerprint(missing, 1), leases_fingerprint(missing, 1));

	rewrite_file(a, "1 aa:bb:cc:dd:ee:01 10.0.0.1 renamed *\n"); /* another size */
	uint64_t fp2 = leases_fingerprint(both, 2);
	CHECK(fp2 != fp1);
	CHECK_U64(leases_fingerprint(both, 2), fp2);

	rewrite_file(b, "2 aa:bb:cc:dd:ee:02 10.0.0.2 two *\n"); /* the second file */
	uint64_t fp3 = leases_fingerprint(both, 2);
	CHECK(fp3 != fp2 && fp3 != fp1);

	/* a rewrite within one tick of a coarse clock: the size still tells */
	struct stat st;
	CHECK_INT(stat(a, &st), 0);
	struct timespec times[2] = { st.st_atim, st.st_mtim };
	uint64_t fp4 = leases_fingerprint(both, 2);
	rewrite_file(a, "1 aa:bb:cc:dd:ee:01 10.0.0.1 x *\n");
	CHECK_INT(utimensat(AT_FDCWD, a, times, 0), 0);
	CHECK(leases_fingerprint(both, 2) != fp4);

	unlink(b); /* a file that goes away */
	CHECK(leases_fingerprint(both, 2) != fp3);
	unlink(a);
}

CHECK_MAIN(test_ipv4_line, test_star_hostname_and_zero_expiry, test_duid_line_skipped, test_ipv6_duid_gives_mac,
           test_malformed_lines_counted, test_uppercase_mac_lowercased, test_first_file_wins_for_duplicate_ip,
           test_max_leases_bound, test_find_hit_miss_and_growth, test_find_ipv6, test_load_complete_file,
           test_load_file_ending_mid_line, test_load_missing_file, test_load_directory,
           test_load_file_over_limit_keeps_whole_lines, test_fingerprint_follows_content)
