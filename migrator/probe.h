/*
 * The health watch's probes (README "Health watch"): every slice is
 * probed by a thread of its own, so that a hung mount (an NFS hard mount
 * in D state, a dead server) blocks that thread and nothing else.
 *
 * One probe is the operations of a delivery and a login, in the slice:
 *
 *   open the root; open (or make) .mailshift-health/ in it; create
 *   probe.PID.N there, write 4 KiB, fsync, close, rename, unlink; stat
 *   an account's directory and read it.
 *
 * That is eleven system calls, 4 KiB written and one fsync per probe;
 * at the default interval (1 s) a few operations per second per slice.
 * A thread runs at most one probe at a time, one per interval at most;
 * a full slice (ENOSPC, EDQUOT) is timed by the rest of the probe. The
 * names are never followed through a symlink (O_NOFOLLOW, and the
 * account through tree_open_below).
 *
 * Threads are detached. A slice's record is shared by its thread and the
 * set, and freed by whichever lets go of it last: a thread hung in the
 * kernel may outlive the set, never touching freed memory.
 */
#ifndef MAILSHIFT_PROBE_H
#define MAILSHIFT_PROBE_H

#include <stddef.h>
#include <stdint.h>

struct probe_target {
	int64_t		 slice;
	const char	*root;		/* absolute */
	const char	*account;	/* below root, or NULL */
};

/* A probe that ended. */
struct probe_report {
	int64_t	 slice;
	double	 started;	/* monotonic seconds */
	double	 seconds;	/* how long it took */
	int	 failed;	/* an operation failed: error says which */
	int	 full;		/* no space: the write was left out */
	char	 error[200];
};

struct probe_set;

/* A set probing nothing yet; one probe per interval seconds per slice. */
struct probe_set *probe_new(double interval);
/* A new interval, for every slice (a reload). */
void probe_interval(struct probe_set *, double interval);

/* Probe exactly these slices from now on: threads start for new ones,
 * those of slices not named stop after their probe (a hung one when it
 * comes back); a slice's root or account may change. */
void probe_sync(struct probe_set *, const struct probe_target *, size_t n);

/*
 * Hand every probe that ended since the last call to done, and for each
 * slice with a probe in flight its start to busy (0 when none).
 */
void probe_collect(struct probe_set *,
    void (*done)(void *, const struct probe_report *),
    void (*busy)(void *, int64_t slice, double started), void *arg);

/* Stop every thread (without waiting) and let go of the set. */
void probe_free(struct probe_set *);

/* Run one probe now on this thread (tests, and the threads). */
void probe_once(const char *root, const char *account, unsigned serial,
    struct probe_report *);

#endif
