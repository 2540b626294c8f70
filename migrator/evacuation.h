/*
 * How long emptying a slice takes at the daemon's schedule, and how long
 * restoring it from its replica or backup takes: the evacuation and
 * restore times of `report usage` and `slice show`. Pure computation
 * from the configuration (migrator/evacuation.c); no I/O.
 *
 * The model follows what the daemon does (scheduler.c, sched_gate.c,
 * move.c, daemon.c):
 *  - every move has throttle buckets of its own; the rates of the window
 *    in force apply to each move, outside every window the [throttle]
 *    rates (0 is no limit: a window's 0 lifts [throttle] too);
 *  - at most min(per_source, max_moves, 16 worker threads) moves leave
 *    one slice at once, and no more than it has accounts; they run in
 *    and out of windows alike, so the slice's rate at any time is that
 *    many times the per-move rate then;
 *  - a move's bytes and files go through the buckets together: the
 *    slice's files are taken to carry its bytes evenly, and whichever
 *    limit is tighter sets the pace;
 *  - cutovers wait while the window in force allows none: the
 *    evacuation ends at the first time one is allowed after the last
 *    byte is copied.
 * The walk goes through the UTC day's windows from now on, whole days at
 * a time once it has seen one. Not modelled: the health back-off near a
 * slow slice, per-move rates given to 'mailshift move', presence (users
 * online delay their cutover), per_target (the targets are taken to be
 * many), and the copier's own speed: when the walk reaches a time with
 * no limit at all the time cannot be known from the configuration, and
 * the estimate says so (EVACUATION_UNTHROTTLED) instead of guessing.
 *
 * Restore: the slice's used bytes at [capacity] restore_rate. A slice
 * whose evacuation or restore takes longer than [capacity] max_restore
 * is flagged, with the number of slices of its own size divided evenly
 * that would each stay within it: ceil(max(evacuation, restore) /
 * max_restore).
 */
#ifndef MAILSHIFT_EVACUATION_H
#define MAILSHIFT_EVACUATION_H

#include <stdint.h>

#include "common/config.h"

/* A stretch of the UTC day with one set of rates. */
struct evacuation_segment {
	int	 from;			/* second of the day, inclusive */
	int	 to;			/* exclusive, at most 86400 */
	uint64_t bytes_per_second;	/* per move, 0 = no limit */
	uint64_t files_per_second;	/* per move, 0 = no limit */
	int	 cutover;		/* cutovers allowed */
	char	 name[80];		/* "window 'nights'" or "[throttle]" */
};

/* The day's segments and what else the estimate needs, from a config. */
struct evacuation_schedule {
	struct evacuation_segment seg[2 * CONFIG_MAX_WINDOWS + 1];
	int	 nseg;			/* in day order, covering the day */
	uint64_t streams;		/* moves out of one slice at once */
	uint64_t restore_rate;		/* bytes/s, not 0 */
	uint64_t max_restore;		/* seconds, not 0 */
};

enum evacuation_status {
	EVACUATION_OK,			/* seconds is the estimate */
	EVACUATION_EMPTY,		/* nothing to move: 0 seconds */
	EVACUATION_UNTHROTTLED,		/* a time without limits was reached:
					   unknown (seconds -1) */
	EVACUATION_NO_CUTOVER		/* no time of day allows a cutover:
					   never (seconds -1) */
};

/* The estimate for one slice. */
struct evacuation {
	enum evacuation_status status;
	int64_t	 seconds;		/* evacuation, -1 when not known */
	int64_t	 restore;		/* restore seconds */
	uint64_t streams;		/* moves at once used for it */
	int	 flagged;		/* either is over max_restore */
	int64_t	 split;			/* slices to split it into; 1 when
					   not flagged */
	char	 unthrottled[80];	/* UNTHROTTLED: where, as in
					   evacuation_segment.name */
};

/* The schedule of configuration c: windows, throttle, caps, restore. */
void evacuation_schedule_init(struct evacuation_schedule *,
    const struct config *c);

/*
 * Estimate, from Unix time now, the evacuation of a slice holding bytes
 * in files over accounts accounts, and its restore; fills *e. Always
 * succeeds (see the statuses).
 */
void evacuation_estimate(const struct evacuation_schedule *, int64_t now,
    uint64_t bytes, uint64_t files, int64_t accounts, struct evacuation *e);

/* Slices to split into so that both take at most max_restore: 1 when
 * they already do; an unknown time (-1) does not count. */
int64_t evacuation_split(int64_t evacuation, int64_t restore,
    uint64_t max_restore);

/* "ok", "empty", "unthrottled" or "no cutover". */
const char *evacuation_status_name(enum evacuation_status);

#endif
