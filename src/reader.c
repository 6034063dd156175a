/*
 * reader.c - the FIFO reader thread, its fork handlers, and the SIGUSR2
 * that makes dnsmasq reopen its log (see reader.h).  The capture's socket
 * is drained in the same poll loop, a batch a round (capture.c).
 */
#include "reader.h"
#include "capture.h"
#include "pipesize.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES 65536
#define DRAIN_MAX (1u << 20)       /* bytes read before looking at stop/sync again */
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 10000
#define LOCK_RETRY_MS 50           /* the guard holds the lock only while it drains */
#define HOUSEKEEPING_MS 1000       /* lease files, FIFO identity, packet drops, DNSTT sessions, expiry */
#define SYNC_CAPTURE_BATCHES 256   /* a sync reads at most this many batches of blocks */
/* Once the FIFO is drained, it is left alone this long before the next
 * poll on it: dnsmasq writes a line at a time, and waking for each line
 * would cost a context switch per line on the router's one core.  The pipe
 * (see pipesize.h: 1 MiB or more, 64 KiB at least) holds far more than
 * this many milliseconds of log at any rate dnsmasq can answer. */
#define FIFO_REST_MS 10
/* With no FIFO to drain (queries counted from packets), the thread runs
 * under SCHED_IDLE (or, where that is refused, at PACKETS_ONLY_NICE), so
 * that the resolver and the packets' own path come first: what waits
 * meanwhile is frames in the capture's ring, never DNS.  The scheduler
 * preempts a running thread at nice 10 only once its lead in virtual time
 * passes the wakeup granularity (a few milliseconds), so a woken resolver
 * may wait for it; a SCHED_IDLE thread is preempted by any other at once
 * (measured with the forked scrape below: README, "Queries from
 * packets").  A FIFO's reader keeps the host's priority: a reader that
 * falls behind would stall dnsmasq. */
#define PACKETS_ONLY_NICE 10
/* A forked child's scrape (uhttpd forks one a request) runs under
 * SCHED_IDLE too (else at this nice value): the child lives for one
 * response, and formatting a large table through the host's metric() takes
 * tens of milliseconds here, hundreds on the router, in which dnsmasq
 * should never wait for a core.  On a core kept busy by others a scrape
 * slows down, never DNS. */
#define SCRAPE_NICE 10

struct reader {
	struct agg *agg;
	char *fifo_path;
	char *pid_glob;
	char *lock_path;
	pthread_t thread;
	pid_t owner;                 /* the process that runs the thread */
	int wake[2];                 /* self-pipe: stop and sync requests */
	int fifo_fd, keep_fd;        /* our read end, and a write end of our own */
	int lock_fd;                 /* holds the flock() shared with dnsagg-guard */
	dev_t fifo_dev;
	ino_t fifo_ino;
	/* Times in milliseconds of now_ms(), which wraps: a wait is where it
	 * began and how long it is, and what is compared is the time elapsed. */
	uint32_t open_tried_ms, open_wait_ms; /* the FIFO is opened again once open_wait_ms passed */
	uint32_t backoff_ms;
	uint32_t housekept_ms;       /* the last housekeeping */
	uint32_t rest_from_ms;       /* the FIFO, found empty then, is not polled for FIFO_REST_MS */
	struct linebuf lb;
	char *chunk;
	struct capture *capture;     /* or NULL */

	/* Held by the thread but while it waits in poll(): a fork waits for it
	 * (before_fork), so a forked scrape never inherits a round half done,
	 * such as memory that only the thread's stack points to (a lease file
	 * being read, glob()'s list), which the child, without the thread,
	 * would hold and never reach. */
	pthread_mutex_t work_mu;
	pthread_mutex_t sync_mu;     /* guards the fields below */
	pthread_cond_t sync_cond;
	uint32_t sync_asked, sync_done; /* requests numbered modulo 2^32 */
	int started;                 /* the thread holds work_mu: its start is over */
	int stop;

	struct reader *next;         /* the registry the fork handlers walk */
	char paths[];                /* fifo_path, pid_glob and lock_path point here */
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct reader *registry;
static int atfork_state; /* under registry_mu: 0 not tried yet, 1 registered, -1 refused */

/* CLOCK_MONOTONIC in milliseconds, modulo 2^32 (49.7 days): 32-bit
 * arithmetic, which MIPS32 does in one instruction, 64-bit in several. */
static uint32_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec * 1000u + (uint32_t)ts.tv_nsec / 1000000u;
}

/* What is left of a wait of `wait` ms begun at `since`: 0 once it is over. */
static uint32_t ms_left(uint32_t since, uint32_t wait, uint32_t now)
{
	uint32_t elapsed = now - since;
	return elapsed < wait ? wait - elapsed : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The FIFO's two ends and the lock, and with all the self-pipe's too. */
static void close_fds(struct reader *r, int all)
{
	int *const fds[] = { &r->fifo_fd, &r->keep_fd, &r->lock_fd, &r->wake[0], &r->wake[1] };
	for (int i = 0; i < (all ? 5 : 3); i++)
		close_fd(fds[i]);
}

/* --- fork safety ------------------------------------------------------ */

static void before_fork(void)
{
	pthread_mutex_lock(&registry_mu);
	for (struct reader *r = registry; r; r = r->next) {
		pthread_mutex_lock(&r->work_mu);
		agg_lock(r->agg);
		pthread_mutex_lock(&r->sync_mu);
	}
}

static void after_fork_parent(void)
{
	for (struct reader *r = registry; r; r = r->next) {
		pthread_mutex_unlock(&r->sync_mu);
		agg_unlock(r->agg);
		pthread_mutex_unlock(&r->work_mu);
	}
	pthread_mutex_unlock(&registry_mu);
}

/* The child has no reader thread: it keeps the tables as they were at the
 * fork, and lets go of the FIFO so that only the parent holds it open. */
static void after_fork_child(void)
{
	for (struct reader *r = registry; r; r = r->next) {
		close_fds(r, 1); /* the lock too: else a child outliving the parent would keep it */
		capture_forget_fd(r->capture);
	}
	after_fork_parent(); /* the locks, as in the parent (the child has one thread) */
}

/* The fork handlers, registered once, by the first reader started; 0 if
 * they could not be.  Under registry_mu (a pthread_once() would be one
 * more import): no handler of ours runs before they are registered. */
static int atfork_registered(void)
{
	pthread_mutex_lock(&registry_mu);
	if (!atfork_state)
		atfork_state = pthread_atfork(before_fork, after_fork_parent, after_fork_child) == 0 ? 1 : -1;
	int registered = atfork_state > 0;
	pthread_mutex_unlock(&registry_mu);
	return registered;
}

static void registry_add(struct reader *r)
{
	pthread_mutex_lock(&registry_mu);
	r->next = registry;
	registry = r;
	pthread_mutex_unlock(&registry_mu);
}

static void registry_remove(struct reader *r)
{
	pthread_mutex_lock(&registry_mu);
	struct reader **at = &registry;
	while (*at && *at != r)
		at = &(*at)->next;
	if (*at)
		*at = r->next;
	pthread_mutex_unlock(&registry_mu);
}

/* --- dnsmasq ---------------------------------------------------------- */

/* Reads a small file into buf as a string; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	ssize_t got = read(fd, buf, size - 1);
	close(fd);
	if (got < 0)
		return -1;
	buf[got] = '\0';
	return got;
}

/* The pid in a pid file, if it names a running dnsmasq: a stale pid file
 * may name a reused pid, and SIGUSR2 kills a process that does not handle it. */
static pid_t dnsmasq_pid(const char *pidfile)
{
	char buf[32], path[64];
	long pid = 0;
	if (read_small(pidfile, buf, sizeof buf) <= 0)
		return 0;
	for (const char *p = buf; *p >= '0' && *p <= '9' && pid < 4194304; p++)
		pid = pid * 10 + (*p - '0');
	if (pid <= 1 || pid >= 4194304)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/comm", pid);
	if (read_small(path, buf, sizeof buf) < 0 || strcmp(buf, "dnsmasq\n") != 0)
		return 0;
	return (pid_t)pid;
}

/* dnsmasq stops writing its log file after EPIPE (no reader): SIGUSR2 makes
 * it open the file again, now that a reader holds it.  Returns how many
 * were sent. */
static uint64_t signal_dnsmasq(const struct reader *r)
{
	glob_t g;
	uint64_t sent = 0;
	if (!r->pid_glob || glob(r->pid_glob, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		pid_t pid = dnsmasq_pid(g.gl_pathv[i]);
		if (pid > 0 && syscall(SYS_kill, (long)pid, (long)SIGUSR2) == 0) /* kill(): one import fewer */
			sent++;
	}
	globfree(&g);
	return sent;
}

/* --- the FIFO --------------------------------------------------------- */

/* The FIFO's state in the stats, and signals: SIGUSR2 sent on opening it. */
static void set_fifo_state(struct reader *r, enum fifo_state state, int buffer_bytes, uint64_t signals)
{
	agg_lock(r->agg);
	r->agg->stats.fifo = state;
	r->agg->stats.fifo_buffer_bytes = buffer_bytes;
	if (state == FIFO_OPEN)
		r->agg->stats.fifo_opens++;
	r->agg->stats.reopen_signals += signals;
	agg_unlock(r->agg);
}

/* Closed after its end, an error or its replacement: opened again at once
 * (no wait left over from the last try, however long ago that was). */
static void close_fifo(struct reader *r)
{
	close_fds(r, 0);
	r->lb.len = 0;
	r->lb.overlong = 0;
	r->open_wait_ms = 0;
	set_fifo_state(r, FIFO_WAITING, 0, 0);
}

static void open_again_in(struct reader *r, uint32_t now, uint32_t wait)
{
	r->open_tried_ms = now;
	r->open_wait_ms = wait;
}

/* flock(fd, LOCK_EX | LOCK_NB), as the system call: one import fewer. */
static long lock_now(int fd)
{
	return syscall(SYS_flock, (long)fd, (long)(LOCK_EX | LOCK_NB));
}

static void open_fifo(struct reader *r, uint32_t now)
{
	struct stat st, keep_st;
	int busy = 0; /* a lock that another holds: tried again soon */
	/* With a guard: the FIFO is ours to read only while we hold the lock.
	 * The guard holds it for a drain at most. */
	if (r->lock_path) {
		r->lock_fd = open(r->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (r->lock_fd < 0 || lock_now(r->lock_fd) != 0) {
			busy = r->lock_fd >= 0 && errno == EWOULDBLOCK;
			goto fail;
		}
	}
	/* O_NONBLOCK: opening the read end never waits for a writer */
	r->fifo_fd = open(r->fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (r->fifo_fd < 0 || fstat(r->fifo_fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		goto fail;
	/* A write end of our own: no EOF, no POLLHUP storm when dnsmasq restarts. */
	r->keep_fd = open(r->fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (r->keep_fd < 0 || fstat(r->keep_fd, &keep_st) != 0 || keep_st.st_ino != st.st_ino ||
	    keep_st.st_dev != st.st_dev)
		goto fail;
	/* Without a guard's lock, the FIFO itself is locked: a second reader
	 * (the exporter run once from the command line beside the running
	 * one) would take lines away from the first.  It waits its turn. */
	if (!r->lock_path && lock_now(r->fifo_fd) != 0) {
		busy = 1;
		goto fail;
	}
	r->fifo_dev = st.st_dev;
	r->fifo_ino = st.st_ino;
	r->backoff_ms = BACKOFF_FIRST_MS;
	int buffer_bytes = pipe_enlarge(r->fifo_fd);
	set_fifo_state(r, FIFO_OPEN, buffer_bytes, signal_dnsmasq(r));
	return;
fail:
	close_fds(r, 0);
	if (busy) {
		open_again_in(r, now, LOCK_RETRY_MS);
	} else { /* tried again later and later */
		open_again_in(r, now, r->backoff_ms);
		r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
	}
}

/* Counts, under the lock, the got bytes a read put in chunk, or when got
 * is 0 (a log file's end) its last line and the queries still open. */
static void feed(struct agg *agg, struct linebuf *lb, const char *chunk, size_t got)
{
	uint32_t now = (uint32_t)time(NULL);
	agg_lock(agg);
	if (got) {
		agg_feed_bytes(agg, lb, chunk, got, now);
	} else {
		agg_flush_line(agg, lb, now);
		agg_close_pending(agg); /* no outcome will be read now */
	}
	agg_unlock(agg);
}

/* Reads what the FIFO holds, up to DRAIN_MAX bytes; returns 1 when it is
 * empty now, 0 when more may be waiting. */
static int drain(struct reader *r)
{
	size_t total = 0;
	while (r->fifo_fd >= 0 && total < DRAIN_MAX) {
		ssize_t got = read(r->fifo_fd, r->chunk, CHUNK_BYTES);
		if (got > 0) {
			feed(r->agg, &r->lb, r->chunk, (size_t)got);
			total += (size_t)got;
		} else if (got < 0 && errno == EINTR) {
			continue;
		} else if (got < 0 && errno == EAGAIN) {
			return 1;
		} else {
			close_fifo(r); /* EOF or an error: open it again */
			return 1;
		}
	}
	return r->fifo_fd < 0;
}

/* The path must still name the FIFO we hold: if it was deleted or replaced,
 * let go of the old one and open what is there now. */
static void check_fifo_identity(struct reader *r)
{
	struct stat st;
	if (r->fifo_fd < 0)
		return;
	if (stat(r->fifo_path, &st) != 0 || st.st_ino != r->fifo_ino || st.st_dev != r->fifo_dev) {
		drain(r);
		close_fifo(r);
	}
}

/* The capture's drops, the DNSTT sessions' window and the queries whose
 * outcome never came: each housekeeping, and at the end of a sync. */
static void tick(struct reader *r)
{
	uint32_t now = (uint32_t)time(NULL);
	if (r->capture)
		capture_housekeeping(r->capture, r->agg);
	agg_tick(r->agg, now);
}

static void housekeeping(struct reader *r, uint32_t now)
{
	if (ms_left(r->housekept_ms, HOUSEKEEPING_MS, now))
		return;
	r->housekept_ms = now;
	check_fifo_identity(r);
	agg_refresh_leases(r->agg);
	tick(r);
}

/* Until the next housekeeping, or the next try to open the FIFO. */
static uint32_t poll_timeout(const struct reader *r, uint32_t now)
{
	uint32_t left = ms_left(r->housekept_ms, HOUSEKEEPING_MS, now);
	uint32_t open_left = ms_left(r->open_tried_ms, r->open_wait_ms, now);
	return r->fifo_path && r->fifo_fd < 0 && open_left < left ? open_left : left;
}

/* The calling thread under SCHED_IDLE, else at nice (raised, never
 * lowered).  A thread's own policy and nice: the system calls on its ID
 * (musl's sched_setscheduler() is a stub; pthread_setschedparam(),
 * getpriority() and setpriority() would be three more imports).  The
 * kernel's getpriority returns 20 - nice, 1 to 40. */
static void run_when_idle(int nice)
{
	struct sched_param param = { 0 };
	long self = syscall(SYS_gettid);
	if (syscall(SYS_sched_setscheduler, self, (long)SCHED_IDLE, &param) == 0)
		return;
	long now = syscall(SYS_getpriority, (long)PRIO_PROCESS, self);
	if (now > 0 && 20 - now < nice)
		(void)syscall(SYS_setpriority, (long)PRIO_PROCESS, self, (long)nice);
}

void reader_scrape_gives_way(const struct reader *r)
{
	if (r && r->owner != getpid())
		run_when_idle(SCRAPE_NICE);
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	/* shows in top -H and /proc: what pthread_setname_np() does for the
	 * calling thread, without its two imports */
	(void)syscall(SYS_prctl, (long)PR_SET_NAME, "dnsagg");
	if (!r->fifo_path)
		run_when_idle(PACKETS_ONLY_NICE);
	pthread_mutex_lock(&r->work_mu);
	uint32_t start = now_ms(), done = 0;
	r->housekept_ms = start - HOUSEKEEPING_MS; /* the first round does it */
	r->rest_from_ms = start - FIFO_REST_MS;
	/* The start, and each sync once done, are told at the top of the next
	 * round, in the one hold of sync_mu that reads stop and sync_asked. */
	for (int tell = 1;;) {
		pthread_mutex_lock(&r->sync_mu);
		if (tell) {
			r->started = 1;
			r->sync_done = done;
			pthread_cond_broadcast(&r->sync_cond);
			tell = 0;
		}
		int stop = r->stop;
		uint32_t asked = r->sync_asked;
		pthread_mutex_unlock(&r->sync_mu);
		if (stop)
			break;

		uint32_t now = now_ms();
		if (r->fifo_path && r->fifo_fd < 0 && !ms_left(r->open_tried_ms, r->open_wait_ms, now))
			open_fifo(r, now);
		housekeeping(r, now);

		/* a negative fd is ignored by poll() (its revents 0): the slots stay
		 * where they are */
		/* the capture needs no rest: its ring wakes the thread a block of
		 * frames at a time (capture.c) */
		uint32_t rest = ms_left(r->rest_from_ms, FIFO_REST_MS, now);
		struct pollfd pfd[3] = { { r->wake[0], POLLIN, 0 }, { rest ? -1 : r->fifo_fd, POLLIN, 0 },
		                         { capture_fd(r->capture), POLLIN, 0 } };
		uint32_t timeout = asked != r->sync_done ? 0 : poll_timeout(r, now);
		if (rest && rest < timeout)
			timeout = rest;
		pthread_mutex_unlock(&r->work_mu); /* a fork may happen while it waits */
		int polled = poll(pfd, 3, (int)timeout), poll_errno = errno;
		pthread_mutex_lock(&r->work_mu);
		if (polled < 0 && poll_errno != EINTR)
			continue;
		if (pfd[0].revents & POLLIN) {
			char buf[64];
			while (read(r->wake[0], buf, sizeof buf) > 0)
				;
		}
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && drain(r))
			r->rest_from_ms = now_ms(); /* empty now: let lines gather */
		/* a batch at most: a flood of frames never starves the FIFO */
		if (pfd[2].revents & POLLERR)
			capture_clear_error(r->capture);
		if (pfd[2].revents & POLLIN)
			capture_drain(r->capture, r->agg, CAPTURE_BATCH);

		if (asked != r->sync_done) {
			if (r->fifo_path && r->fifo_fd < 0)
				open_fifo(r, now_ms());
			while (!drain(r))
				;
			/* the frames of the block the kernel still fills, too */
			for (int round = 0; r->capture && round < 2; round++) {
				for (int i = 0; i < SYNC_CAPTURE_BATCHES; i++)
					if (capture_drain(r->capture, r->agg, CAPTURE_BATCH))
						break;
				if (round > 0)
					break;
				/* a fork may happen while it waits (up to 110 ms) */
				pthread_mutex_unlock(&r->work_mu);
				int came = capture_wait_block(r->capture);
				pthread_mutex_lock(&r->work_mu);
				if (!came)
					break;
			}
			tick(r);
			done = asked;
			tell = 1;
		}
	}
	pthread_mutex_unlock(&r->work_mu);
	return NULL;
}

/* --- the public calls ------------------------------------------------- */

static void reader_free(struct reader *r)
{
	close_fds(r, 1);
	pthread_cond_destroy(&r->sync_cond);
	pthread_mutex_destroy(&r->sync_mu);
	pthread_mutex_destroy(&r->work_mu);
	free(r->chunk);
	capture_close(r->capture);
	free(r);
}

struct reader *reader_start(struct agg *agg, const struct reader_opts *opts, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	const char *const paths[] = { opts->fifo, opts->pid_glob, opts->lock };
	size_t len[3], size = sizeof(struct reader);
	const char *what = "", *why = "out of memory";
	struct reader *r = NULL;
	int rc;

	for (int i = 0; i < 3; i++) {
		len[i] = paths[i] ? strlen(paths[i]) + 1 : 0;
		size += len[i];
	}
	if (!atfork_registered() || !(r = calloc(1, size)))
		goto fail;
	r->agg = agg;
	r->fifo_fd = r->keep_fd = r->lock_fd = r->wake[0] = r->wake[1] = -1;
	r->backoff_ms = BACKOFF_FIRST_MS;
	r->owner = getpid();
	pthread_mutex_init(&r->work_mu, NULL);
	pthread_mutex_init(&r->sync_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->sync_cond, &ca);
	pthread_condattr_destroy(&ca);
	/* the paths copied after the struct, in the same allocation */
	char **path_of[] = { &r->fifo_path, &r->pid_glob, &r->lock_path };
	char *copy = r->paths;
	for (int i = 0; i < 3; copy += len[i++])
		*path_of[i] = paths[i] ? memcpy(copy, paths[i], len[i]) : NULL;
	r->chunk = malloc(CHUNK_BYTES);
	/* pipe2() as the system call: one import fewer */
	if (!r->chunk || syscall(SYS_pipe2, r->wake, (long)(O_CLOEXEC | O_NONBLOCK)) != 0) {
		why = strerror(errno ? errno : ENOMEM);
		goto fail;
	}
	if (r->fifo_path)
		set_fifo_state(r, FIFO_WAITING, 0, 0);

	r->capture = opts->capture; /* ours from here on, if the thread starts */

	/* The thread takes no signal: the host (uhttpd) handles its own. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, reader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		what = " thread";
		why = strerror(rc);
		r->capture = NULL; /* still the caller's */
		goto fail;
	}
	/* Returns once the thread is in its loop: a fork from here on finds it
	 * in a round (and waits) or in poll(), never still starting, when the
	 * thread may hold locks of the C library or of a sanitizer's allocator
	 * that no prepare handler takes (seen under ASan: a child forked at that
	 * moment hung in exit). */
	pthread_mutex_lock(&r->sync_mu);
	while (!r->started)
		pthread_cond_wait(&r->sync_cond, &r->sync_mu);
	pthread_mutex_unlock(&r->sync_mu);
	registry_add(r);
	return r;
fail:
	snprintf(err, errlen, "cannot start the reader%s: %s", what, why);
	if (r)
		reader_free(r);
	return NULL;
}

static void wake_up(struct reader *r)
{
	ssize_t ignored = write(r->wake[1], "", 1); /* a full pipe already wakes it */
	(void)ignored;
}

uint32_t reader_wait_ms(double seconds)
{
	uint64_t bits;
	memcpy(&bits, &seconds, sizeof bits);
	int exponent = (int)((bits >> 52) & 0x7ff);
	if ((bits >> 63) || exponent == 0) /* negative, or zero and subnormals */
		return 0;
	if (exponent == 0x7ff) /* infinite or NaN */
		return (bits << 12) ? 0 : READER_MAX_WAIT_MS;
	if (exponent >= 1023 + 17) /* 2^17 s and more: over a day */
		return READER_MAX_WAIT_MS;
	/* seconds = mantissa * 2^-shift, mantissa < 2^53 and shift > 35: the
	 * product with 1000 fits 63 bits, and shifting it right rounds down;
	 * by 32, then by the rest (4 to 31): 32-bit shifts, no libgcc call */
	uint64_t mantissa = (bits & ((1ull << 52) - 1)) | (1ull << 52);
	int shift = 1075 - exponent;
	uint32_t ms = shift >= 64 ? 0 : (uint32_t)((mantissa * 1000u) >> 32) >> (shift - 32);
	return ms > READER_MAX_WAIT_MS ? READER_MAX_WAIT_MS : ms;
}

/* Whether request n is done: sync_done is n or a later one (modulo 2^32,
 * with fewer than 2^31 requests between them). */
static int sync_done(const struct reader *r, uint32_t n)
{
	return (int32_t)(r->sync_done - n) >= 0;
}

int reader_sync(struct reader *r, double seconds)
{
	struct timespec until;
	int done;

	if (r->owner != getpid())
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &until);
	uint32_t ms = reader_wait_ms(seconds);
	/* the deadline ms later, a second carried when the nanoseconds pass one */
	long nsec = until.tv_nsec + (long)(ms % 1000u) * 1000000L;
	int carry = nsec >= 1000000000L;
	until.tv_sec += (time_t)(ms / 1000u + (unsigned)carry);
	until.tv_nsec = carry ? nsec - 1000000000L : nsec;

	pthread_mutex_lock(&r->sync_mu);
	uint32_t mine = ++r->sync_asked;
	wake_up(r);
	while (!sync_done(r, mine))
		if (pthread_cond_timedwait(&r->sync_cond, &r->sync_mu, &until) == ETIMEDOUT)
			break;
	done = sync_done(r, mine);
	pthread_mutex_unlock(&r->sync_mu);
	return done;
}

void reader_stop(struct reader *r)
{
	if (!r)
		return;
	registry_remove(r);
	if (r->owner == getpid()) {
		pthread_mutex_lock(&r->sync_mu);
		r->stop = 1;
		pthread_mutex_unlock(&r->sync_mu);
		wake_up(r);
		pthread_join(r->thread, NULL);
	}
	reader_free(r);
}

int reader_read_file(struct agg *agg, const char *path)
{
	struct linebuf lb = { .len = 0, .line_times = 1 }; /* counted at the times the lines carry */
	char *chunk = malloc(CHUNK_BYTES);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = -1;

	if (fd < 0 || !chunk)
		goto out;
	for (;;) {
		ssize_t got = read(fd, chunk, CHUNK_BYTES);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		feed(agg, &lb, chunk, (size_t)got);
		if (got == 0)
			break;
	}
	rc = 0;
out:
	free(chunk);
	if (fd >= 0)
		close(fd);
	return rc;
}
