/*
 * pipesize.h - how large the log FIFO's pipe is made: the slack dnsmasq
 * has before a write() to its log would block, when nobody drains it (an
 * exporter stopped with SIGSTOP holds the guard's lock without reading).
 * Shared by the module's reader thread (reader.c) and dnsagg-guard
 * (guard.c), which enlarge the same pipe.
 *
 * The size asked for is /proc/sys/fs/pipe-max-size (what the kernel lets
 * any process ask for; raise it to raise the slack), and at least 1 MiB
 * (a root process may exceed pipe-max-size); the kernel rounds it up to a
 * power of two pages.  When refused (not root, or the user's pipe pages
 * are used up: fs/pipe-user-pages-soft), half that is asked, and so on.
 * The pipe is never made smaller than it is: the guard, as root, may have
 * made it larger than the module may.
 */
#ifndef DNSAGG_PIPESIZE_H
#define DNSAGG_PIPESIZE_H

#include <fcntl.h>
#include <unistd.h>

#define PIPE_SIZE_FLOOR (1L << 20)   /* asked for even when pipe-max-size is less */
#define PIPE_SIZE_CEILING (1L << 30) /* the kernel refuses more than 2 GiB anyway */

/* /proc/sys/fs/pipe-max-size, or 0 when it cannot be read. */
static inline long pipe_max_size(void)
{
	char buf[32];
	long size = 0;
	int fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	for (ssize_t i = 0; i < got && buf[i] >= '0' && buf[i] <= '9' && size <= PIPE_SIZE_CEILING; i++)
		size = size * 10 + (buf[i] - '0');
	return size;
}

/* Makes the pipe of fd as large as allowed; returns its capacity in bytes,
 * or -1 when fd is not a pipe. */
static inline int pipe_enlarge(int fd)
{
	long want = pipe_max_size();
	long have = fcntl(fd, F_GETPIPE_SZ);
	if (want < PIPE_SIZE_FLOOR)
		want = PIPE_SIZE_FLOOR;
	if (want > PIPE_SIZE_CEILING)
		want = PIPE_SIZE_CEILING;
	for (long size = want; have >= 0 && size > have; size /= 2)
		if (fcntl(fd, F_SETPIPE_SZ, (int)size) >= 0)
			break;
	return fcntl(fd, F_GETPIPE_SZ);
}

#endif
