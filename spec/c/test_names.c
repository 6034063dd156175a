/*
 * test_names.c - unit tests of src/names.c: include and exclude suffixes
 * on label boundaries, folding by a public-suffix list (normal, wildcard
 * and exception rules, the default rule) and by a label count, and the
 * bounds of reading a list.
 */
#include "check.h"
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct names *fresh(void)
{
	struct names *n = names_new();
	if (!n) {
		fprintf(stderr, "names_new failed\n");
		exit(2);
	}
	return n;
}

/* The name as shown, or "-" when it is not counted. */
static const char *shown(const struct names *n, const char *name)
{
	size_t off = 0;
	return names_apply(n, name, strlen(name), &off) ? name + off : "-";
}

static void temp_list(char *path, const char *text)
{
	strcpy(path, "/tmp/dnsagg-psl-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("temp file");
		exit(2);
	}
	close(fd);
}

static void test_exclude_on_label_boundary(void)
{
	struct names *n = fresh();
	CHECK_INT(names_add(n, "lan", 3, RULE_EXCLUDE), 0);
	CHECK_INT(names_add(n, "Apple.COM.", 10, RULE_EXCLUDE), 0);
	CHECK_STR(shown(n, "printer.lan"), "-");
	CHECK_STR(shown(n, "lan"), "-");
	CHECK_STR(shown(n, "PRINTER.LAN"), "-");
	CHECK_STR(shown(n, "xlan"), "xlan");              /* not on a label boundary */
	CHECK_STR(shown(n, "lan.example.org"), "lan.example.org");
	CHECK_STR(shown(n, "www.apple.com"), "-");
	CHECK_STR(shown(n, "apple.com"), "-");
	CHECK_STR(shown(n, "pineapple.com"), "pineapple.com");
	CHECK_STR(shown(n, "apple.com.evil.org"), "apple.com.evil.org");
	CHECK_STR(shown(n, "com"), "com");
	CHECK_INT(names_add(n, "", 0, RULE_EXCLUDE), -1);
	names_free(n);
}

static void test_include_then_exclude(void)
{
	struct names *n = fresh();
	names_add(n, "example.org", 11, RULE_INCLUDE);
	names_add(n, "ads.example.org", 15, RULE_EXCLUDE);
	CHECK_STR(shown(n, "example.org"), "example.org");
	CHECK_STR(shown(n, "www.example.org"), "www.example.org");
	CHECK_STR(shown(n, "x.ads.example.org"), "-"); /* exclude wins */
	CHECK_STR(shown(n, "example.com"), "-");      /* not included */
	CHECK_STR(shown(n, "org"), "-");
	/* a name too long to be a DNS name matches no rule: with an include list it is not counted */
	char name[400];
	memset(name, 'a', sizeof name - 12);
	strcpy(name + sizeof name - 13, ".example.org");
	CHECK_STR(shown(n, name), "-");
	names_free(n);
}

static void test_fold_labels(void)
{
	struct names *n = fresh();
	n->fold = 2;
	CHECK_STR(shown(n, "a.b.c.example.com"), "example.com");
	CHECK_STR(shown(n, "example.com"), "example.com");
	CHECK_STR(shown(n, "com"), "com");
	CHECK_STR(shown(n, "www.example.co.uk"), "co.uk"); /* what a label count cannot know */
	n->fold = 3;
	CHECK_STR(shown(n, "www.example.co.uk"), "example.co.uk");
	names_free(n);
}

static const char LIST[] =
	"// a list in the publicsuffix.org format\n"
	"com\n"
	"uk\n"
	"co.uk\n"
	"\n"
	"// wildcard and exception\n"
	"ck\n"
	"*.ck\n"
	"!www.ck\n"
	"*.kawasaki.jp\n"
	"!city.kawasaki.jp\n"
	"jp\n"
	"blogspot.com  trailing words are ignored\n"
	"\xe4\xb8\xad\xe5\x9b\xbd\n" /* not ASCII: skipped */
	"// ===BEGIN PRIVATE DOMAINS===\n";

static void test_fold_psl(void)
{
	char path[64];
	temp_list(path, LIST);
	struct names *n = fresh();
	CHECK_INT(names_load_psl(n, path), 0);
	CHECK_INT(n->fold, NAMES_FOLD_PSL);
	CHECK_INT(n->psl_rules, 10);
	CHECK_INT(n->psl_skipped, 1);
	CHECK_STR(shown(n, "www.example.com"), "example.com");
	CHECK_STR(shown(n, "a.b.example.co.uk"), "example.co.uk");
	CHECK_STR(shown(n, "WWW.Example.CO.UK"), "Example.CO.UK");
	CHECK_STR(shown(n, "co.uk"), "co.uk");             /* a public suffix stays whole */
	CHECK_STR(shown(n, "x.y.blogspot.com"), "y.blogspot.com");
	CHECK_STR(shown(n, "a.b.c.ck"), "b.c.ck");           /* *.ck: c.ck is public */
	CHECK_STR(shown(n, "a.www.ck"), "www.ck");           /* !www.ck: www.ck is registrable */
	CHECK_STR(shown(n, "www.ck"), "www.ck");
	CHECK_STR(shown(n, "x.city.kawasaki.jp"), "city.kawasaki.jp");
	CHECK_STR(shown(n, "x.y.other.kawasaki.jp"), "y.other.kawasaki.jp");
	CHECK_STR(shown(n, "a.b.example.unlisted"), "example.unlisted"); /* the default rule "*" */
	CHECK_STR(shown(n, "localhost"), "localhost");
	names_free(n);
	unlink(path);
}

static void test_psl_bounds(void)
{
	struct names *n = fresh();
	CHECK_INT(names_load_psl(n, "/nonexistent/list.dat"), -1);
	CHECK_INT(errno, ENOENT);
	names_free(n);

	/* a line longer than any name is skipped whole, the next one read */
	char path[64], text[1200];
	memset(text, 'x', 1000);
	strcpy(text + 1000, "\norg\n");
	temp_list(path, text);
	n = fresh();
	CHECK_INT(names_load_psl(n, path), 0);
	CHECK_INT(n->psl_rules, 1);
	CHECK_STR(shown(n, "a.b.example.org"), "example.org");
	names_free(n);
	unlink(path);

	/* more rules than NAMES_MAX_PSL_RULES: refused, not grown without end */
	strcpy(path, "/tmp/dnsagg-psl-XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	for (unsigned i = 0; f && i <= NAMES_MAX_PSL_RULES; i++)
		fprintf(f, "r%u.example\n", i);
	if (f)
		fclose(f);
	n = fresh();
	CHECK_INT(names_load_psl(n, path), -1);
	CHECK_INT(errno, EFBIG);
	CHECK(names_bytes(n) < 3u * 1024 * 1024);
	names_free(n);
	unlink(path);
}

CHECK_MAIN(test_exclude_on_label_boundary, test_include_then_exclude, test_fold_labels, test_fold_psl, test_psl_bounds)
