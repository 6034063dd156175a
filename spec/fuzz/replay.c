/*
 * replay.c - runs a fuzz target without libFuzzer: a main() that calls
 * LLVMFuzzerTestOneInput() once on each file of the directories it is
 * given (the target's seed corpus and its regressions), each from a heap
 * buffer of exactly the file's size.  Built with gcc by `make test` (and
 * with ASan and UBSan by `make test-asan`), so that every kept input is
 * replayed on every test run.
 *
 * With no argument it replays spec/fuzz/corpus/TARGET and, when there is
 * one, spec/fuzz/regressions/TARGET (TARGET compiled in as FUZZ_TARGET),
 * from the top of the repository; with arguments, the directories named.
 * An input that breaks a target's check aborts the run; a directory named
 * that is missing or empty is a failure.  Ends with one line,
 * "fuzz replay TARGET: N passed, N failed", as spec/run.sh expects.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET: the name of the target (spec/fuzz/fuzz_NAME.c)"
#endif

#define INPUT_MAX (1u << 20)

static unsigned passed, failed;

static int replay_file(const char *path)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	int rc = -1;

	if (!f || fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > INPUT_MAX)
		goto out;
	data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data || fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		goto out;
	LLVMFuzzerTestOneInput(data, (size_t)st.st_size);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno ? errno : EIO));
	free(data);
	if (f)
		fclose(f);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of dir, in name order; counts them. */
static void replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0, inputs = 0;
	struct dirent *e;

	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		failed++;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
			FUZZ_CHECK(more != NULL);
			names = more;
		}
		names[n] = strdup(e->d_name);
		FUZZ_CHECK(names[n] != NULL);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) == 0)
				passed++;
			else
				failed++;
			inputs++;
		}
		free(names[i]);
	}
	free(names);
	printf("%s: %zu inputs\n", dir, inputs);
	if (inputs == 0)
		failed++;
}

int main(int argc, char **argv)
{
	struct stat st;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_dir(argv[i]);
	} else {
		replay_dir("spec/fuzz/corpus/" FUZZ_TARGET);
		if (stat("spec/fuzz/regressions/" FUZZ_TARGET, &st) == 0)
			replay_dir("spec/fuzz/regressions/" FUZZ_TARGET);
	}
	printf("fuzz replay %s: %u passed, %u failed\n", FUZZ_TARGET, passed, failed);
	return failed ? 1 : 0;
}
