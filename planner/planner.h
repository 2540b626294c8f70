/*
 * The rebalance planner: a fleet snapshot in, an ordered list of moves and
 * its metrics out. Pure computation: no I/O, no catalog, no globals, and
 * the same input always gives the same plan, byte for byte (every tie is
 * broken by index).
 *
 * Terms
 *
 *   effective used  used - pending_out + pending_in: queued and in-flight
 *                   moves are counted as done. Every fill below uses it.
 *   fill            effective used / capacity.
 *   balancing       a slice with balances set and a capacity: it counts in
 *                   the fleet mean and in the band.
 *   mean            sum of effective used / sum of capacity over balancing
 *                   slices; for a drain, over the balancing slices other
 *                   than the drained one, with its movable bytes added.
 *   band            [mean - band, top] where top is mean + band, lowered to
 *                   target_fill when the mean is below target_fill but
 *                   mean + band is not (the fleet then allows every slice
 *                   under the target fill).
 *   imbalance       sum over balancing slices of capacity * (fill - mean)^2,
 *                   in bytes. Moving x bytes from s to t lowers it by
 *                   2x(fill_s - fill_t) - x^2 (1/cap_s + 1/cap_t).
 *
 * Guarantees of every plan, move by move in plan order: no target goes
 * above the hard limit; pinned and moving accounts stay; no slice without
 * receives (or without balances), and no unhealthy slice, gets anything
 * (it may still give); with other_pair no move
 * stays inside its pair; max_moves and max_bytes hold; every account moves
 * at most once. Balance and fill moves each lower the imbalance by at least
 * min_gain (and strictly). A drain move instead lowers
 *
 *   imbalance of the other balancing slices + 2 * bytes left on the drained
 *   slice
 *
 * strictly, unless the account is empty (each drain move is needed, so
 * min_gain does not apply).
 *
 * Load, the second dimension (by_load): each slice also has a load (ops/s
 * its storage serves, queued moves counted as done) and an ops capacity;
 * its load fill is load / ops capacity, with its own mean, band
 * (load_band) and limits (load_target, load_hard) defined as for bytes.
 * An account's load is its share of its slice's (planner_apportion).
 * With by_load, a balance moves bytes first, as without load but under
 * the load hard limit, taking accounts lighter than their slice's
 * average per byte toward slices with more load fill and heavier ones
 * toward slices with less (big idle mailboxes relieve space). Then load:
 * from the slice with the highest load fill to the one with the lowest,
 * the account with the most load per byte that keeps the target under
 * the load band's top and the byte band's top, the source over the load
 * band's bottom, and lowers the sum of both imbalances, each over its
 * fleet's capacity (small busy mailboxes relieve load cheaply; a source
 * over the load top may lose bytes down to a band under the byte
 * bottom). Then bytes again, each move within half a load band of the
 * load top (or an idle mailbox into a slice short of bytes), and load
 * and bytes again while bytes move (planner/load.c). Every target of
 * every strategy stays under the load hard limit.
 *
 * Preferences: accounts active within active_within seconds of now move
 * only when no idle account can do (last_activity 0, unknown, counts as
 * idle; now 0 ignores activity); accounts that alone would move their
 * slice by more than half the band ("giants") move last of all; among the
 * rest the one closest in size to what source and target need, so neither
 * many tiny accounts nor one giant when a few mid-sized ones do.
 */
#ifndef MAILSHIFT_PLANNER_H
#define MAILSHIFT_PLANNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Balance moves accounts between balancing slices only, until each is in
 * the band. Drain moves every movable account off one slice (of any
 * state) onto the others, emptiest first. Fill moves accounts from the
 * fullest balancing slices into one receiving slice, aiming at the mean.
 */
enum planner_strategy {
	PLANNER_BALANCE,	/* every balancing slice into the band */
	PLANNER_DRAIN,		/* every movable account off one slice */
	PLANNER_FILL		/* one (new, empty) slice up to the mean */
};

struct planner_slice {
	int64_t		 id;		/* catalog id, for causes */
	const char	*name;		/* for causes; NULL prints "#id" */
	int64_t		 pair_id;	/* failure domain */
	uint64_t	 capacity;	/* bytes; 0 keeps it out of the fleet */
	uint64_t	 used;		/* bytes of the accounts placed here */
	uint64_t	 pending_in;	/* bytes of queued moves into it */
	uint64_t	 pending_out;	/* bytes of queued moves out of it */
	int		 receives;	/* 0: draining, readonly, degraded */
	int		 balances;	/* 0: retired, not in the fleet mean */
	int		 unhealthy;	/* 1: health not ok: receives nothing */
	double		 load;		/* ops/s served, measured; 0 unknown */
	double		 load_in;	/* ops/s of queued moves into it */
	double		 load_out;	/* ops/s of queued moves out of it */
	double		 ops_capacity;	/* ops/s at 100% load; 0: no load */
};

struct planner_account {
	int64_t		 id;
	size_t		 slice;		/* index into the slices */
	uint64_t	 bytes;
	uint64_t	 files;
	int64_t		 last_activity;	/* Unix time, 0 = unknown */
	int		 pinned;	/* never moves */
	int		 moving;	/* queued or in flight: never moves */
	double		 load;		/* ops/s: its share of its slice's */
};

struct planner_options {
	enum planner_strategy strategy;
	size_t		 slice;		/* DRAIN, FILL: index of the slice */
	double		 band;		/* half width, fill fraction (0.02) */
	double		 target_fill;	/* keep slices under it if possible */
	double		 hard_limit;	/* never push a target above it */
	int		 other_pair;	/* never move inside a pair */
	uint64_t	 max_moves;	/* 0 = no limit */
	uint64_t	 max_bytes;	/* 0 = no limit */
	uint64_t	 min_gain;	/* least imbalance drop of a move, bytes */
	int64_t		 now;		/* Unix time; 0 ignores activity */
	int64_t		 active_within;	/* seconds: "recently active" */
	int		 by_load;	/* balance load as well as bytes */
	double		 load_band;	/* half width, load fill (0.05) */
	double		 load_target;	/* as target_fill, for load (0.75) */
	double		 load_hard;	/* as hard_limit, for load (0.90) */
};

/* Defaults: BALANCE, band 0.02, target 0.75, hard 0.90, min_gain 1 MiB,
 * active_within 7 days, now 0, no limits, other_pair off; by_load off,
 * load band 0.05, load target 0.75, load hard limit 0.90. */
void planner_options_default(struct planner_options *);

struct planner_move {
	size_t		 account;	/* index into the accounts */
	size_t		 from;		/* slice index */
	size_t		 to;		/* slice index */
	uint64_t	 bytes;
	uint64_t	 files;
	double		 load;		/* ops/s the account takes along */
	ssize_t		 after;		/* see below, or -1 */
};

/*
 * after: when `to` has room for a move only once earlier moves out of it
 * are done, the index of the last of those. Start such a move only when
 * every move out of `to` up to and including moves[after] has finished.
 * Moves with after = -1, or whose wait is over, may run in any order and
 * in parallel: no slice goes above its hard limit (queued moves counted
 * as done, as everywhere here).
 */
struct planner_result {
	struct planner_move *moves;	/* in plan order */
	size_t		 nmoves;
	uint64_t	 bytes;		/* sum over the moves */
	uint64_t	 files;		/* sum over the moves */
	uint64_t	 lower_bound;	/* bytes any plan reaching the goal moves */
	uint64_t	 unmet;		/* bytes of the goal the plan leaves */
	double		 mean_fill;	/* the mean the band is centred on */
	double		 band_low;	/* lower edge of the band */
	double		 band_high;	/* upper edge (top) of the band */
	double		*fill_before;	/* per slice; 0 without capacity */
	double		*fill_after;	/* per slice, once every move is done */
	double		 min_before;	/* over balancing slices */
	double		 max_before;
	double		 stddev_before;
	double		 min_after;	/* same, less a drained slice */
	double		 max_after;
	double		 stddev_after;
	int		 band_reached;	/* see below */

	/* Load (by_load), the same measures in ops/s and load fill. */
	double		 load;		/* ops/s moved: sum over the moves */
	double		 load_lower_bound; /* ops/s any plan moves */
	uint64_t	 load_lower_bytes; /* bytes any plan moving them moves */
	uint64_t	 both_lower_bytes; /* bytes any plan reaching both
					      bands moves */
	double		 load_unmet;	/* ops/s of the goal left */
	double		 load_mean;
	double		 load_band_low;
	double		 load_band_high;
	double		*load_before;	/* per slice; 0 without ops capacity */
	double		*load_after;
	double		 load_min_before;
	double		 load_max_before;
	double		 load_stddev_before;
	double		 load_min_after;
	double		 load_max_after;
	double		 load_stddev_after;
	int		 load_band_reached;
};

/*
 * lower_bound: balance, the larger of the bytes above the band's top and
 * the bytes missing below its bottom on receiving slices; drain, the
 * movable bytes on the slice; fill, the bytes the slice lacks to reach
 * the bottom of the band. unmet is the same measure after the plan.
 *
 * load_lower_bound: balance, the larger of the ops/s above the load
 * band's top and missing below its bottom on receiving slices (drain and
 * fill: the drained slice's movable load, the filled one's lack);
 * load_lower_bytes: the fewest bytes that carry that much load, each
 * source giving its most load per byte first (a fractional knapsack). A
 * plan reaching both goals moves at least both_lower_bytes, the larger of
 * the bytes out of and into slices, each slice counted alone: out of s
 * at least its bytes over the top and K_s, the fewest bytes carrying its
 * load over the load top; into a receiving s at least what it then
 * misses to the byte bottom, (bottom - (used - K_s)). That is at least
 * both lower_bound and load_lower_bytes' excess side.
 *
 * band_reached: after the plan every balancing slice (less a drained one)
 * is at or under the top of the band, and every one of them that receives
 * is at or over its bottom (a slice that cannot receive cannot be raised).
 */

/*
 * Plan moves for the fleet. Returns 0 and fills *result (free it with
 * planner_result_free), possibly with zero moves; or -1 with a heap *cause
 * naming what is wrong with the input and what to do, *result untouched.
 * Refused: no slices, no balancing slice with capacity, a slice index out
 * of range, contradictory options, a drain that has nowhere to go or no
 * room under the hard limit, a fill of a slice that cannot receive.
 */
int planner_run(const struct planner_slice *, size_t nslices,
    const struct planner_account *, size_t naccounts,
    const struct planner_options *, struct planner_result *, char **cause);

void planner_result_free(struct planner_result *);

/*
 * Apportion each slice's load to its accounts: account i gets
 * weight[i] / the sum of the weights of its slice's accounts of the
 * slice's load, or an even share when those weights sum to 0. Weights
 * are activity (messages delivered plus logins per day); negative ones
 * count as 0. Accounts with a slice index out of range get 0.
 */
void planner_apportion(const struct planner_slice *, size_t nslices,
    struct planner_account *, size_t naccounts, const double *weight);

#endif
