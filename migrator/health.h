/*
 * The daemon's health watch (README "Health back-off"): the latency each
 * slice shows the copier, and what is made of it.
 *
 * Workers report, for every file, how long its metadata work took on a
 * slice (health_sample, from any thread). Once a second the daemon folds
 * the samples of that second into one median (health_check), so that the
 * judgement does not depend on the copy rate, and compares the median of
 * the last window with the slice's own baseline before it:
 *
 *   state   entered when                               moves touching it
 *   ok      start; slow and the window's median is     the window's rates
 *           under twice the baseline (or under 5 ms,
 *           or nothing was measured) for a window
 *   slow    ok and the median is over five times the   1 MiB/s, 20 files/s
 *           baseline and over 5 ms; or paused for a    (or the window's
 *           window (try again, to measure)             rates if lower)
 *   paused  slow for a window and still that slow      stopped at a safe
 *                                                      point, none started
 *
 * The clock is the caller's (monotonic seconds), so tests can drive it.
 * Every function is thread-safe.
 */
#ifndef MAILSHIFT_HEALTH_H
#define MAILSHIFT_HEALTH_H

#include <stdint.h>

#define HEALTH_SLOW_BYTES (1 << 20)	/* rates near a slow slice */
#define HEALTH_SLOW_FILES 20

enum health_state { HEALTH_OK, HEALTH_SLOW, HEALTH_PAUSED };

/* What is known about one slice, as health_list copies it. */
struct health_slice {
	int64_t		  slice;	/* slice id */
	enum health_state state;
	double		  recent;	/* median of the last window, s; -1 none */
	double		  baseline;	/* median before it, s; -1 none */
};

struct health;

/* A watch with no slice in it yet. Never fails (aborts without memory). */
struct health *health_new(void);
void health_free(struct health *);

/*
 * One sample: seconds of file work on slice. Samples beyond the first
 * 512 of a second, and slices beyond the first 256, are dropped.
 */
void health_sample(struct health *, int64_t slice, double seconds);

/*
 * The once-a-second judgement at time now (monotonic seconds) with a
 * window of window seconds. Logs every change of state. Returns the
 * number of slices whose state changed.
 */
int health_check(struct health *, double now, double window);

/* The state of a slice (ok for a slice never measured). */
enum health_state health_state_of(struct health *, int64_t slice);
/* "ok", "slow", "paused". */
const char *health_name(enum health_state);

/*
 * The rates for a move between source and target: in[0] bytes/s and
 * in[1] files/s (0 = unlimited) as the window gives them, lowered to
 * HEALTH_SLOW_* when either slice is not ok. Writes out[0], out[1].
 */
void health_limits(struct health *, int64_t source, int64_t target,
    const uint64_t in[2], uint64_t out[2]);

/* Copy up to max slices (in the order first seen) into v; returns how
 * many were copied. */
int health_list(struct health *, struct health_slice *v, int max);

#endif
