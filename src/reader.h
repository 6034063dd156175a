/*
 * reader.h - the background thread that drains dnsmasq's log FIFO and the
 * capture's packet socket.
 *
 * dnsmasq writes its log with blocking writes: a reader that stops reading
 * stops DNS for the whole network.  So this thread opens the FIFO without
 * blocking, keeps a write end of its own (no EOF when dnsmasq restarts),
 * enlarges the pipe, drains it with poll() and never waits on the scrape
 * side for longer than one short copy.  It is safe across fork(): handlers
 * registered with pthread_atfork let a forked child (uhttpd's per-request
 * process) read the tables without the thread, and close the child's copy
 * of the FIFO so that only the parent holds it.
 */
#ifndef DNSAGG_READER_H
#define DNSAGG_READER_H

#include "agg.h"

struct reader;
struct capture;

struct reader_opts {
	const char *fifo;     /* the path to read (it need not exist yet), or NULL: no FIFO */
	const char *pid_glob; /* pid files of dnsmasq to send SIGUSR2 once the FIFO is open, or NULL */
	const char *lock;     /* lock file shared with dnsagg-guard, or NULL: the FIFO is read
	                         only while an exclusive flock() on it is held */
	struct capture *capture; /* or NULL; the reader owns it once started */
};

/* Starts the thread.  Returns NULL and a message in err when it cannot. */
struct reader *reader_start(struct agg *agg, const struct reader_opts *opts, char *err, size_t errlen);

/* Waits until every byte readable from the FIFO (and every frame queued on
 * the capture) at the time of the call has been counted.  Returns 1 when done, 0 on time-out, -1 in a forked child
 * (which has no thread to wait for). */
int reader_sync(struct reader *r, double seconds);

/* seconds as whole milliseconds, rounded down: 0 for a negative time or
 * NaN, at most READER_MAX_WAIT_MS.  Computed from the double's bits with
 * integer arithmetic only: on a soft-float CPU (OpenWrt's MIPS) the module
 * then carries no double addition or multiplication routine. */
#define READER_MAX_WAIT_MS 86400000u /* a day */
uint32_t reader_wait_ms(double seconds);

/* Stops and joins the thread (only in the process that started it), closes
 * the FIFO and the capture and frees r.  NULL is ignored. */
void reader_stop(struct reader *r);

/* Called by a scrape: in a process forked from r's owner (a scrape under
 * uhttpd), raises the calling thread's nice to 10, so that the resolver
 * comes first while the scrape formats the tables; in the owner itself
 * (a host that does not fork) it does nothing.  NULL: nothing. */
void reader_scrape_gives_way(const struct reader *r);

/* Reads a plain log file to its end into agg (no thread), each line
 * counted at the time its prefix gives (first and last seen are those of
 * the log, not of the reading).  Returns 0, or -1 with errno set when it
 * cannot be read. */
int reader_read_file(struct agg *agg, const char *path);

#endif
