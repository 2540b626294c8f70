/*
 * Failover of a slice to the other server of its pair, in recorded,
 * timed steps (migrator/failover.c):
 *
 *   mark      the catalog marks the slice: moves touching it pause
 *   quiesce   wait until no running move touches it ([failover] quiesce)
 *   fence     [failover] fence for the old server (it must not write);
 *             skipped only with old_is_down
 *   promote   [failover] promote on the new one (drbdadm primary, mount,
 *             export); skipped when not configured
 *   switch    one transaction: the new serving server and one more
 *             generation for every account on the slice; the mark goes
 *   after     [failover] after_failover (kick sessions, flush caches);
 *             a failure here is a warning: the switch is done
 *
 * A failure before the switch clears the mark and changes nothing else.
 * follow records what a cluster manager already did: the switch alone,
 * no hooks, no wait. Hooks get the slice, the old and the new server and
 * the path as $1..$4 and MAILSHIFT_* in the environment, and run at most
 * [failover] timeout each.
 */
#ifndef MAILSHIFT_FAILOVER_H
#define MAILSHIFT_FAILOVER_H

#include <stdint.h>

struct config;
struct state;

struct failover_req {
	const char		*slice;
	const char		*to;		/* NULL: the pair's other server */
	int			 old_is_down;	/* the admin says: skip the fence */
	int			 follow;	/* record the cluster's decision */
	int			 automatic;	/* the daemon's, on health */
	const struct config	*cfg;
	long			 pid;		/* the process that owns it */
};

#define FAILOVER_STEPS 6

struct failover_step {
	const char	*name;		/* mark, quiesce, fence, ... */
	double		 ms;
	int		 ran;		/* 0: skipped */
	char		*detail;	/* what happened, or NULL */
};

struct failover_result {
	struct failover_step steps[FAILOVER_STEPS];
	int		 nsteps;
	double		 total_ms;
	char		*slice;
	char		*from;		/* server names */
	char		*to;
	int64_t		 bumped;	/* accounts one generation on */
	int		 changed;	/* 0: already served by `to` (follow) */
	char		*warning;	/* after_failover failed, or NULL */
};

/*
 * Run a failover. 0 when the slice is now served by the new server (or
 * already was, with follow: changed 0); -1 with a cause naming the step
 * that failed and what to do, the catalog as it was but for events.
 * Free the result in both cases.
 */
int failover_run(struct state *, const struct failover_req *,
    struct failover_result *, char **cause);
void failover_result_free(struct failover_result *);

#endif
