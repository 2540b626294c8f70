/*
 * The judgement of the daemon's health watch (README "Health watch"):
 * what the probes (probe.h) and the copier measure on each slice, and
 * what is made of it. No I/O here: the caller feeds samples and drives
 * the clock (monotonic seconds), so tests can too.
 *
 * Two streams per slice: the probes' op-set times (health_probe), and
 * the copier's per-file metadata times on the slices its moves touch
 * (health_sample, from any thread). Each window (default 10 s) gives
 * the slice's p50 and p99 of both. A window is deviant when
 *
 *   peers: its probe p50 (or p99) is over max(floor, factor x the
 *          median of the other slices' p50 (p99), median + 3 x their
 *          MAD), with at least `peers` other slices measured (the HDFS
 *          slow-node rule, with an absolute floor); and
 *   self:  it is over max(floor, factor x the slice's own baseline, the
 *          median of its clean windows of the last hour) too, unless the
 *          slice has no baseline yet (slow from the start);
 *
 * or, for a slice without peers, by the self rule alone; or when the
 * copier's median there is over max(floor, factor x its own baseline).
 * The p99 rules use five times the floor. Only clean windows go into
 * the baselines.
 *
 *   state         entered when
 *   ok            start; degraded and recover_after clean windows in a
 *                 row
 *   degraded      degraded_after of the last history windows deviant; or
 *                 unresponsive and a probe came back
 *   unresponsive  a probe failed, or is in flight for longer than timeout
 *
 * Moves touching a slice that is not ok run at HEALTH_SLOW_* at most;
 * those touching one unresponsive, or degraded for pause_after, pause
 * (health_paused). Every function is thread-safe.
 */
#ifndef MAILSHIFT_HEALTH_H
#define MAILSHIFT_HEALTH_H

#include <stdint.h>

struct config;

#define HEALTH_SLOW_BYTES (1 << 20)	/* rates near a slow slice */
#define HEALTH_SLOW_FILES 20
#define HEALTH_BUCKETS 12		/* probe histogram, see health_bounds */

enum health_state { HEALTH_OK, HEALTH_DEGRADED, HEALTH_UNRESPONSIVE };

/* How the watch judges ([health] in the configuration). */
struct health_params {
	double	 window;		/* seconds */
	int	 degraded_after;	/* deviant windows of the last history */
	int	 history;		/* <= 64 */
	int	 recover_after;		/* clean windows in a row, <= 64 */
	double	 factor;
	double	 floor;			/* seconds */
	int	 peers;			/* other slices needed to compare */
	double	 baseline;		/* seconds of past clean windows */
	double	 timeout;		/* probe in flight this long: hung */
	double	 pause_after;		/* degraded this long: moves pause */
};

/* What is known about one slice, as health_list copies it. */
struct health_slice {
	int64_t		  slice;	/* slice id */
	enum health_state state;
	double		  since;	/* monotonic time of the last change */
	int		  judged;	/* windows judged so far */
	char		  reason[256];	/* why it is in this state */
	double		  p50, p99;	/* probes, last window; -1 none */
	double		  base50, base99; /* its baseline; -1 none yet */
	double		  peers50;	/* the others' median p50; -1 none */
	double		  copier;	/* copier median, last window; -1 */
	uint64_t	  probes;	/* probes done, failed ones too */
	uint64_t	  failed;
	double		  sum;		/* seconds of all completed probes */
	double		  last_ok;	/* monotonic end of the last probe
					   within the timeout; 0 none */
	uint64_t	  bucket[HEALTH_BUCKETS + 1];	/* counts, + overflow */
};

struct health;

/* A watch with no slice in it yet; params NULL: the defaults. Never
 * fails (aborts without memory). */
struct health *health_new(const struct health_params *);
void health_free(struct health *);
/* The parameters of a configuration. */
void health_params_from(struct health_params *, const struct config *);
/* New parameters (a reload); states and baselines are kept. */
void health_set_params(struct health *, const struct health_params *);

/* The histogram's upper bounds, seconds (HEALTH_BUCKETS of them). */
extern const double health_bounds[HEALTH_BUCKETS];

/* Watch slice (probes come for it); forget it (retired, removed). */
void health_watch(struct health *, int64_t slice);
void health_forget(struct health *, int64_t slice);

/* Start slice in state st for reason (as the catalog had it when the
 * daemon started): it leaves it as it would have. */
void health_seed(struct health *, int64_t slice, enum health_state st,
    const char *reason);

/* A probe of slice that ended at now: it took seconds, or failed (why
 * says how). */
void health_probe(struct health *, int64_t slice, double now,
    double seconds);
void health_probe_failed(struct health *, int64_t slice, double now,
    const char *why);
/* A probe of slice in flight since started (0: none in flight). */
void health_inflight(struct health *, int64_t slice, double started);

/* One copier sample: seconds of file work on slice (any thread). */
void health_sample(struct health *, int64_t slice, double seconds);

/* Judge at now: closes the window when it is over, notices hung probes.
 * Returns the number of slices whose state changed. */
int health_check(struct health *, double now);

/* The state of a slice (ok for a slice never measured). */
enum health_state health_state_of(struct health *, int64_t slice);
/* Should moves touching slice pause (unresponsive, or degraded for
 * pause_after at the last check)? */
int health_paused(struct health *, int64_t slice);
/* "ok", "degraded", "unresponsive". */
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
