/*
 * guard.c - dnsagg-guard: keeps dnsmasq's log FIFO safe when the module is
 * not reading it.
 *
 * dnsmasq writes its log with blocking writes: with a FIFO as its log and no
 * reader, it blocks in open() at start, or in write() once the pipe is
 * full, and the whole network loses DNS.  The module reads the FIFO inside
 * the exporter, which starts late at boot, can crash, crash-loop or be
 * disabled.  This small daemon starts before dnsmasq and holds the FIFO
 * open for reading and writing for as long as it runs, so dnsmasq's open()
 * never waits and dnsmasq never sees EPIPE; and whenever the module is not
 * reading, it reads and discards what dnsmasq writes.
 *
 * Who reads is settled with flock() on a lock file: the module holds it
 * while it reads; the guard drains only while it can take it, and lets go
 * after each drain, so the module can take over within one round.  The
 * kernel releases a crashed module's lock at once.
 *
 * dnsmasq is pointed at the FIFO only while the guard holds it: once the
 * FIFO is open, the guard writes each SNIPPET (a dnsmasq conf-dir file:
 * log-queries=extra, log-facility=FIFO), and removes them when it is
 * stopped.  They live in /tmp, so a reboot forgets them too.
 *
 *   dnsagg-guard FIFO LOCKFILE [SNIPPET...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipesize.h"

#define ROUND_MS 100          /* how long the guard leaves data to a module that reads */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The FIFO at path, made if missing; a regular file there (dnsmasq's init
 * touches a missing log path) is replaced. */
static int make_fifo(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return 0;
	if (lstat(path, &st) == 0 && unlink(path) != 0) {
		fprintf(stderr, "dnsagg-guard: cannot replace %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (mkfifo(path, 0600) != 0) {
		fprintf(stderr, "dnsagg-guard: cannot make the FIFO %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes the conf-dir snippet that points dnsmasq at the FIFO: whole or
 * not at all (a temporary file renamed into place). */
static int write_snippet(const char *path, const char *fifo)
{
	char tmp[4096];
	FILE *f;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp || !(f = fopen(tmp, "w"))) {
		fprintf(stderr, "dnsagg-guard: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# written by dnsagg-guard while it holds the FIFO; removed when it stops\n"
	           "log-queries=extra\nlog-facility=%s\n", fifo);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "dnsagg-guard: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Reads and discards what the FIFO holds; returns the bytes dropped. */
static size_t drain(int fd)
{
	char buf[16384];
	size_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0)
			total += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else
			return total;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int fifo = -1, lock = -1, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: dnsagg-guard FIFO LOCKFILE [SNIPPET...]\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (make_fifo(argv[1]) != 0)
		goto out;
	/* O_RDWR on a FIFO: a reader and a writer at once, so neither open nor
	 * EPIPE can ever hold dnsmasq up while the guard runs. */
	fifo = open(argv[1], O_RDWR | O_NONBLOCK | O_CLOEXEC);
	lock = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fifo < 0 || lock < 0) {
		fprintf(stderr, "dnsagg-guard: cannot open %s: %s\n", fifo < 0 ? argv[1] : argv[2], strerror(errno));
		goto out;
	}
	pipe_enlarge(fifo); /* the slack dnsmasq has while a stopped module holds the lock */
	for (int i = 3; i < argc; i++)
		if (write_snippet(argv[i], argv[1]) != 0)
			goto out;

	while (!stopping) {
		struct pollfd pfd = { fifo, POLLIN, 0 };
		if (poll(&pfd, 1, ROUND_MS) <= 0)
			continue;
		/* Data waits.  The lock is held only for the drain, so the
		 * module can take it between any two rounds. */
		if (flock(lock, LOCK_EX | LOCK_NB) == 0) {
			drain(fifo); /* nobody reads: dnsmasq must never find the pipe full */
			flock(lock, LOCK_UN);
		} else {
			poll(NULL, 0, ROUND_MS); /* the module reads it */
		}
	}
	rc = 0;
out:
	/* first point dnsmasq away (its next start), then let go of the FIFO */
	for (int i = 3; i < argc; i++)
		unlink(argv[i]);
	if (fifo >= 0)
		close(fifo);
	if (lock >= 0)
		close(lock);
	return rc;
}
