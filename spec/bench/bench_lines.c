/*
 * bench_lines.c - cost per log line through the path the FIFO reader uses
 * (agg_feed_bytes on 64 KiB chunks under the lock), and memory per entry.
 *
 *   bench_lines cost KEYS MAX_ENTRIES   feed a skewed stream of extra-form lines over
 *                                       KEYS distinct (client, domain, type) keys into a
 *                                       table of MAX_ENTRIES; the measured phase is the
 *                                       function measured_feed (callgrind --toggle-collect)
 *   bench_lines cost KEYS MAX_ENTRIES RULES   the same with privacy rules on: "exclude" (two
 *                                       suffixes, none of them matching), "psl" (folding by
 *                                       the public-suffix list), "hash" (client pseudonyms),
 *                                       "all" (the three together)
 *   bench_lines memory KEYS [distinct]  heap bytes per entry, all in (mallinfo2); with
 *                                       "distinct", every key has a domain of its own
 *   bench_lines rss KEYS MAX_ENTRIES    RSS every 10% of a stream of KEYS distinct keys
 *   bench_lines fifo QUERIES            lines per second through the reader thread from a
 *                                       real FIFO that a writer process fills
 *   bench_lines logfile PATH QUERIES    writes a log file of QUERIES skewed queries (100k
 *                                       keys) for the `log` option, as dnsmasq writes one: two
 *                                       queries every three seconds, local time, from Nov 21
 *                                       06:00 (across a midnight, and no DST change in any
 *                                       year); prints its lines
 *
 * Keys: client = key % 500 (500 clients), type = A or AAAA, domain = key / 1000, so a
 * domain is asked for by many clients and stored once; names are 20 characters.
 */
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agg.h"
#include "reader.h"

#define CHUNK 65536
#define MEASURED_QUERIES 200000

struct stream {
	char *data;
	size_t len, cap, lines;
	uint32_t serial;
};

static void append(struct stream *s, const char *line)
{
	size_t n = strlen(line);
	if (s->len + n + 1 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1 << 20;
		s->data = realloc(s->data, s->cap);
		if (!s->data) {
			perror("realloc");
			exit(2);
		}
	}
	memcpy(s->data + s->len, line, n);
	s->data[s->len + n] = '\n';
	s->len += n + 1;
	s->lines++;
}

/* Keys per domain: 1000 (a domain asked for by many clients), or 1 for the
 * worst case of memory, where every key brings a name of its own. */
static uint32_t keys_per_domain = 1000;

/* logfile: the "Mmm dd hh:mm:ss dnsmasq[812]:" of the next query, not the serial's */
static char fixed_prefix[48];

/* One query of key k and the lines of its outcome: two in three forwarded
 * upstream (forwarded + reply), one in three answered from the cache. */
static void add_query(struct stream *s, uint32_t k)
{
	uint32_t d = k / keys_per_domain;
	char client[32], prefix[48], line[256];
	const char *type = (k / 500) % 2 ? "AAAA" : "A";
	uint32_t serial = ++s->serial;
	snprintf(client, sizeof client, "192.168.%u.%u", (k % 500) / 250, (k % 250) + 1);
	/* a new second every 200 queries (about 530 lines), as on a busy router */
	snprintf(prefix, sizeof prefix, "Nov 22 %02u:%02u:%02u dnsmasq[812]:", serial / 200 / 3600 % 24,
	         serial / 200 / 60 % 60, serial / 200 % 60);
	if (fixed_prefix[0])
		memcpy(prefix, fixed_prefix, sizeof prefix);
	snprintf(line, sizeof line, "%s %u %s/%u query[%s] s%07u.example.com from %s",
	         prefix, serial, client, 30000 + serial % 30000, type, d, client);
	append(s, line);
	if (serial % 3 == 0) {
		snprintf(line, sizeof line, "%s %u %s/%u cached s%07u.example.com is 10.%u.%u.%u",
		         prefix, serial, client, 30000 + serial % 30000, d, k % 250, (k / 250) % 250, 7);
		append(s, line);
	} else {
		snprintf(line, sizeof line, "%s %u %s/%u forwarded s%07u.example.com to 9.9.9.9",
		         prefix, serial, client, 30000 + serial % 30000, d);
		append(s, line);
		snprintf(line, sizeof line, "%s %u %s/%u reply s%07u.example.com is 10.%u.%u.%u",
		         prefix, serial, client, 30000 + serial % 30000, d, k % 250, (k / 250) % 250, 7);
		append(s, line);
	}
}

/* A key of a skewed popularity: log-uniform ranks, so rank r is asked about
 * 1/r as often as rank 1 (a Zipf-like curve), over all `keys` keys. */
static uint32_t skewed_key(uint32_t keys, uint64_t *rng)
{
	*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
	double u = (double)(*rng >> 11) / 9007199254740992.0;
	uint32_t rank = (uint32_t)exp(u * log((double)keys + 1)) - 1;
	return (rank * 2654435761u) % keys; /* popular keys spread over clients and domains */
}

static const char *rules = ""; /* cost's privacy rules */

static struct agg *new_agg(uint32_t max_entries)
{
	struct agg_config cfg = { 0 };
	cfg.max_entries = max_entries;
	cfg.max_clients = 1000;
	cfg.max_servers = 32;
	cfg.max_leases = 16;
	int all = strcmp(rules, "all") == 0;
	if (all || strcmp(rules, "exclude") == 0 || strcmp(rules, "psl") == 0) {
		cfg.names = names_new();
		if (!cfg.names || names_add(cfg.names, "lan", 3, RULE_EXCLUDE) != 0 ||
		    names_add(cfg.names, "doubleclick.net", 15, RULE_EXCLUDE) != 0 ||
		    (strcmp(rules, "exclude") != 0 && names_load_psl(cfg.names, NAMES_DEFAULT_PSL) != 0)) {
			perror("rules");
			exit(2);
		}
	}
	if (all || strcmp(rules, "hash") == 0) {
		cfg.clients = AGG_CLIENTS_HASH;
		hash_key_derive(&cfg.client_key, "a key of the bench", 18);
	}
	struct agg *agg = agg_new(&cfg);
	if (!agg) {
		fprintf(stderr, "agg_new failed\n");
		exit(2);
	}
	return agg;
}

static void feed(struct agg *agg, const struct stream *s)
{
	struct linebuf lb = { .len = 0 };
	for (size_t off = 0; off < s->len; off += CHUNK) {
		size_t n = s->len - off < CHUNK ? s->len - off : CHUNK;
		agg_lock(agg);
		agg_feed_bytes(agg, &lb, s->data + off, n, 1700000000u);
		agg_unlock(agg);
	}
}

/* The only function callgrind counts (--toggle-collect=measured_feed). */
__attribute__((noinline)) void measured_feed(struct agg *agg, const struct stream *s);
__attribute__((noinline)) void measured_feed(struct agg *agg, const struct stream *s)
{
	feed(agg, s);
}

static int cost(uint32_t keys, uint32_t max_entries)
{
	struct agg *agg = new_agg(max_entries);
	struct stream fill = { 0 }, measured = { 0 };
	uint64_t rng = 42;

	for (uint32_t k = 0; k < keys; k++) /* every key once: the table is as full as it gets */
		add_query(&fill, k);
	measured.serial = fill.serial;
	for (uint32_t i = 0; i < MEASURED_QUERIES; i++)
		add_query(&measured, skewed_key(keys, &rng));
	feed(agg, &fill);
	uint64_t evictions_before = agg->entries.evictions;
	measured_feed(agg, &measured);
	printf("keys %u max_entries %u measured_lines %zu entries %u evictions_during %llu unparsed %llu\n", keys,
	       max_entries, measured.lines, agg->entries.used,
	       (unsigned long long)(agg->entries.evictions - evictions_before),
	       (unsigned long long)agg->stats.lines[LOGLINE_UNPARSED]);
	agg_free(agg);
	free(fill.data);
	free(measured.data);
	return 0;
}

static int memory(uint32_t keys)
{
	struct stream fill = { 0 };
	for (uint32_t k = 0; k < keys; k++)
		add_query(&fill, k);
	struct mallinfo2 before = mallinfo2();
	struct agg *agg = new_agg(keys);
	feed(agg, &fill);
	struct mallinfo2 after = mallinfo2();
	/* in use from the heap and from mmap (the slab, once large) */
	size_t bytes = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
	printf("keys %u entries %u heap_bytes %zu bytes_per_entry %.1f domains %u\n", keys, agg->entries.used,
	       bytes, (double)bytes / agg->entries.used, agg->pool.count);
	agg_free(agg);
	free(fill.data);
	return 0;
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int rss(uint32_t keys, uint32_t max_entries)
{
	struct agg *agg = new_agg(max_entries);
	uint32_t step = keys / 10;
	long full = 0, peak = 0;
	for (uint32_t done = 0; done < keys; done += step) {
		struct stream s = { 0 };
		s.serial = done;
		for (uint32_t k = done; k < done + step && k < keys; k++)
			add_query(&s, k);
		feed(agg, &s);
		free(s.data);
		malloc_trim(0);
		long now = rss_kib();
		if (!full && agg->entries.used == max_entries)
			full = now;
		peak = now > peak ? now : peak;
		printf("keys_seen %u entries %u rss_kib %ld\n", done + step, agg->entries.used, now);
	}
	printf("rss_after_full_kib %ld rss_peak_kib %ld\n", full, peak);
	agg_free(agg);
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t lines_counted(struct agg *agg)
{
	uint64_t n = 0;
	agg_lock(agg);
	for (int k = 0; k <= LOGLINE_OTHER; k++)
		n += agg->stats.lines[k];
	agg_unlock(agg);
	return n;
}

/* The reader thread drains a FIFO that a forked writer fills as fast as it
 * can; the time runs from the writer's start to the last line counted. */
static int fifo(uint32_t queries)
{
	char dir[] = "/tmp/dnsagg-bench-XXXXXX", path[64], err[128];
	struct stream s = { 0 };
	uint64_t rng = 7;
	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof path, "%s/q.fifo", dir);
	if (mkfifo(path, 0600) != 0)
		return 2;
	for (uint32_t i = 0; i < queries; i++)
		add_query(&s, skewed_key(100000, &rng));

	struct agg *agg = new_agg(10000);
	struct reader_opts opts = { path, NULL, NULL, NULL };
	struct reader *r = reader_start(agg, &opts, err, sizeof err);
	if (!r) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	while (agg->stats.fifo != FIFO_OPEN) /* the thread opens it at once */
		usleep(1000);
	double t0 = now_seconds();
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY);
		for (size_t off = 0; fd >= 0 && off < s.len;) {
			ssize_t n = write(fd, s.data + off, s.len - off > 4096 ? 4096 : s.len - off);
			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		_exit(0);
	}
	while (lines_counted(agg) < s.lines && now_seconds() - t0 < 120)
		usleep(200);
	double elapsed = now_seconds() - t0;
	waitpid(pid, NULL, 0);
	printf("lines %zu seconds %.3f lines_per_second %.0f counted %llu\n", s.lines, elapsed,
	       (double)s.lines / elapsed, (unsigned long long)lines_counted(agg));
	reader_stop(r);
	agg_free(agg);
	unlink(path);
	rmdir(dir);
	free(s.data);
	return 0;
}

/* A log file as the `log` option reads it: the lines' own local times, a
 * query every 1.5 s from 2026-11-21 06:00 (the same dates, so the same
 * cost, on any day the benchmark runs). */
static int logfile(const char *path, uint32_t queries)
{
	struct stream s = { 0 };
	uint64_t rng = 11;
	struct tm from = { .tm_year = 126, .tm_mon = 10, .tm_mday = 21, .tm_hour = 6, .tm_isdst = -1 };
	time_t start = mktime(&from);
	for (uint32_t i = 0; i < queries; i++) {
		time_t t = start + (time_t)i * 3 / 2;
		struct tm tm;
		if (!localtime_r(&t, &tm) ||
		    strftime(fixed_prefix, sizeof fixed_prefix, "%b %e %H:%M:%S dnsmasq[812]:", &tm) == 0)
			return 2;
		add_query(&s, skewed_key(100000, &rng));
	}
	FILE *f = fopen(path, "w");
	if (!f || fwrite(s.data, 1, s.len, f) != s.len || fclose(f) != 0) {
		perror(path);
		return 2;
	}
	printf("lines %zu bytes %zu\n", s.lines, s.len);
	free(s.data);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "logfile") == 0)
		return logfile(argv[2], (uint32_t)atol(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "fifo") == 0)
		return fifo((uint32_t)atol(argv[2]));
	if (argc >= 5)
		rules = argv[4];
	if (argc >= 4 && strcmp(argv[1], "cost") == 0)
		return cost((uint32_t)atol(argv[2]), (uint32_t)atol(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "memory") == 0) {
		if (argc >= 4 && strcmp(argv[3], "distinct") == 0)
			keys_per_domain = 1;
		return memory((uint32_t)atol(argv[2]));
	}
	if (argc >= 4 && strcmp(argv[1], "rss") == 0)
		return rss((uint32_t)atol(argv[2]), (uint32_t)atol(argv[3]));
	fprintf(stderr, "usage: bench_lines cost KEYS MAX | memory KEYS | rss KEYS MAX | fifo QUERIES | logfile PATH QUERIES\n");
	return 2;
}
