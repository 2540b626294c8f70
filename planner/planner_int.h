/*
 * What the pieces of the planner share; not for its users (they include
 * planner.h). Still pure: nothing here does I/O or keeps a global.
 *
 *   planner.c   planner_run: options, the order of the steps, the result
 *   fleet.c     the working state of a run: its fleet checked, the roles
 *               of the slices, the slices sorted by fill (ord)
 *   metrics.c   the mean and band, the lower bound, the metrics
 *   pool.c      movable accounts by slice, tier and size; which to move
 *   move.c      choosing the account for a source and target; making
 *               the move
 *   balance.c   the balance and fill strategies
 *   drain.c     the drain strategy and its refusals
 *   load.c      the load dimension: its band, bound, moves and metrics
 *
 * Every function here takes the working state of one run (struct plan)
 * and is named plan_*; none fails except where it says so, and those
 * return 0 or -1 with a heap *cause as planner_run does. Out of memory is
 * fatal (xcalloc).
 */
#ifndef MAILSHIFT_PLANNER_INT_H
#define MAILSHIFT_PLANNER_INT_H

#include "planner/planner.h"

#include <stddef.h>
#include <stdint.h>

/* Tiers of movable accounts, in the order they are preferred. */
#define TIER_IDLE	0	/* not active recently, moderate size */
#define TIER_ACTIVE	1	/* active recently, moderate size */
#define TIER_GIANT	2	/* alone moves its slice over half the band */
#define NTIER		3

/* Balance modes: which side of the band a move must serve. */
#define MODE_EXCESS	0	/* sources above the top give their excess */
#define MODE_DEFICIT	1	/* targets below the bottom take what they miss */

/* The largest fleet the byte sums may reach without overflow. */
#define BYTES_MAX	(UINT64_C(1) << 62)

/* Slack on fill comparisons that only prune scans. */
#define FILL_EPS	1e-9

/* Movable accounts by slice, tier and size, with removal links. */
struct pool {
	size_t		*acct;		/* account index */
	uint64_t	*bytes;		/* its bytes, for the searches */
	size_t		*left;		/* 1 + nearest live at or before; 0 none */
	size_t		*right;		/* nearest live at or after; n none */
	size_t		*seg;		/* start of slice s tier k at s*NTIER+k */
	size_t		 n;		/* entries; also "none" in searches */
};

/* Moves out of one slice, for the after links. */
struct outs {
	size_t		*move;		/* move index */
	uint64_t	*cum;		/* bytes out of the slice up to it */
	size_t		 n;		/* moves out so far */
	size_t		 cap;		/* allocated */
};

/* The working state of one run. */
struct plan {
	const struct planner_slice	*sl;	/* the caller's slices */
	size_t				 ns;	/* how many */
	const struct planner_account	*ac;	/* the caller's accounts */
	size_t				 na;	/* how many */
	const struct planner_options	*o;	/* the caller's options */
	struct planner_result		*r;	/* the result being built */
	size_t				 movecap; /* allocated r->moves */

	uint64_t	*u0;		/* effective used at the start */
	uint64_t	*u;		/* effective used now */
	uint64_t	*cin;		/* bytes planned into each slice */
	uint64_t	*mean_b;	/* mean * capacity */
	uint64_t	*top_b;		/* top of the band, bytes */
	uint64_t	*bot_b;		/* bottom of the band, bytes */
	uint64_t	*hard_b;	/* hard limit, bytes */
	double		*fill;		/* u / capacity */
	unsigned char	*bal;		/* balancing in this plan */
	unsigned char	*recv;		/* may receive in this plan */
	size_t		*nmov;		/* live movable accounts per slice */
	uint64_t	*movb;		/* live movable bytes per slice */
	size_t		*ord;		/* balancing slices by fill, ascending */
	size_t		*pos;		/* index of a slice in ord */
	size_t		 nord;		/* slices in ord */
	unsigned char	*stuck[2];	/* no move from it in that mode */
	size_t		*stucklist[2];	/* the stuck slices of each mode */
	size_t		 nstuck[2];	/* how many */
	struct outs	*out;		/* moves out, per slice */
	struct pool	 pool;		/* the movable accounts */

	double		 mean;		/* the fleet's mean fill */
	double		 top;		/* top of the band, fill */
	double		 bottom;	/* bottom of the band, fill */
	uint64_t	 E;		/* bytes above the top */
	uint64_t	 D;		/* bytes below the bottom, receivers */
	size_t		 drained;	/* drained slice, or ns */

	/* Load (o->by_load); all NULL and 0 without it. */
	int		 byload;	/* o->by_load and some ops capacity */
	int		 hard_only;	/* byte moves keep the load hard
					   limit only, not the load band */
	double		*L0;		/* effective load at the start */
	double		*L;		/* effective load now, ops/s */
	double		*lfill;		/* L / ops capacity */
	double		*lmean_o;	/* load mean * ops capacity */
	double		*ltop_o;	/* top of the load band, ops/s */
	double		*lbot_o;	/* bottom of the load band */
	double		*lhard_o;	/* load hard limit */
	double		*movl;		/* live movable load per slice */
	size_t		*lord;		/* balancing slices by load fill */
	size_t		*lpos;		/* index of a slice in lord */
	size_t		 nlord;		/* slices in lord */
	size_t		*dens;		/* movable accounts, per slice, most
					   load per byte first */
	size_t		*dseg;		/* start of slice s in dens */
	size_t		*dhead;		/* first entry of s not yet moved */
	size_t		*entry;		/* pool entry of each account */
	unsigned char	*moved;		/* per account: moved in this plan */
	unsigned char	*lstuck;	/* no load move from it */
	double		 lmean;
	double		 ltop;
	double		 lbottom;
	double		 opsum;		/* ops capacity of balancing slices */
	double		 capsum;	/* byte capacity of balancing slices */
	double		 usesum;	/* their effective used, bytes */
	double		 loadsum;	/* their effective load, ops/s */
	double		 leps;		/* slack on load sums, ops/s */
};

/* Entries of a slice's density list a load move looks at, at most. */
#define LOAD_SCAN	512

/* Room of slice t under a limit in bytes, 0 when at or over it. */
static inline uint64_t
room(uint64_t used, uint64_t limit)
{
	return used < limit ? limit - used : 0;
}

/* Fill of slice i from its effective used; 0 without capacity. */
static inline double
fill_of(const struct plan *p, size_t i, uint64_t used)
{
	if (p->sl[i].capacity == 0)
		return 0;
	return (double)used / (double)p->sl[i].capacity;
}

/* True when slice a sorts before slice b in ord. */
static inline int
ord_before(const struct plan *p, size_t a, size_t b)
{
	if (p->fill[a] != p->fill[b])
		return p->fill[a] < p->fill[b];
	return a < b;
}

/* Bytes of slice i above the top of the band. */
static inline uint64_t
excess(const struct plan *p, size_t i)
{
	return p->bal[i] ? room(p->top_b[i], p->u[i]) : 0;
}

/* Bytes a receiving slice i misses to the bottom of the band. */
static inline uint64_t
deficit(const struct plan *p, size_t i)
{
	return p->bal[i] && p->recv[i] ? room(p->u[i], p->bot_b[i]) : 0;
}

/* Bytes the plan may still move under max_bytes. */
static inline uint64_t
budget(const struct plan *p)
{
	if (p->o->max_bytes == 0)
		return UINT64_MAX;
	return p->r->bytes < p->o->max_bytes ? p->o->max_bytes - p->r->bytes :
	    0;
}

/* True once max_moves or max_bytes allow nothing more. */
static inline int
limits_hit(const struct plan *p)
{
	if (p->o->max_moves != 0 && p->r->nmoves >= p->o->max_moves)
		return 1;
	return budget(p) == 0;
}

/* True when t may take accounts from s at all. */
static inline int
may_take(const struct plan *p, size_t s, size_t t)
{
	if (s == t || !p->recv[t])
		return 0;
	return !p->o->other_pair || p->sl[s].pair_id != p->sl[t].pair_id;
}

/* fleet.c */

/* A slice's name for a cause: its name, or "#id" written into buf (len
 * bytes). Returns one of the two; never fails. */
const char *plan_slice_name(const struct planner_slice *, char *buf,
    size_t len);

/* Allocate the per-slice arrays of p (p->ns set); never fails. */
void plan_init(struct plan *);

/* Free the working state, not the result; safe after a failed run. */
void plan_free(struct plan *);

/* Check slices and accounts, set effective used and the movable counts.
 * Returns 0, or -1 with a cause naming the slice or account at fault. */
int plan_check_fleet(struct plan *, char **cause);

/* Decide which slices balance and receive, set the band (plan_band).
 * Returns 0, or -1 with a cause: a fill of a slice that cannot receive,
 * no balancing capacity (for a drain, plan_drain_check's cause first). */
int plan_set_roles(struct plan *, char **cause);

/* Put the balancing slices into ord, sorted by fill; never fails. */
void plan_order(struct plan *);

/* Move slice i to its place in ord after its fill changed. */
void plan_reorder(struct plan *, size_t i);

/* metrics.c */

/* Set the mean, band and per-slice byte limits. Returns 0, or -1 when no
 * balancing slice has capacity (no cause: the caller names it). */
int plan_band(struct plan *);

/* Set the lower bound of the result and the running E and D. */
void plan_bound(struct plan *);

/* Fill in the metrics of the result once the moves are made; target is
 * the drained or filled slice (options' slice). Never fails. */
void plan_metrics(struct plan *, size_t target);

/* pool.c */

/* Build the pool of movable accounts by slice, tier and size. */
void plan_pool_build(struct plan *);

/* Free the pool; safe on a pool never built (all NULL). */
void plan_pool_free(struct pool *);

/* Remove entry k from the pool. */
void plan_pool_remove(struct pool *, size_t k);

/*
 * Of the live entries of slice s with bytes in [xmin, xmax], the one to
 * move toward goal bytes, from the first tier that has one (idle, then
 * recently active, then giants; busy_first: active, then idle): the largest at most goal, unless it
 * covers less than half of goal and the smallest above goal is nearer.
 * Returns the entry, or p->pool.n when there is none.
 */
size_t plan_pool_pick(struct plan *, size_t s, uint64_t goal, uint64_t xmin,
    uint64_t xmax, int busy_first);

/* move.c */

/*
 * The entry to move from s to t aiming at goal bytes: the source stays at
 * or over the bottom of the band, the target at or under its top and the
 * hard limit, max_bytes holds and the imbalance drops by min_gain.
 * Returns the entry, or p->pool.n when no account qualifies.
 */
size_t plan_choose(struct plan *, size_t s, size_t t, uint64_t goal);

/* Record the move of pool entry e from s to t (its after link included)
 * and update the state; never fails. */
void plan_apply(struct plan *, size_t e, size_t s, size_t t);

/* balance.c */

/* Plan a balance: moves until every slice is in the band or none is
 * left; never fails (a plan may have zero moves). */
void plan_balance(struct plan *);

/* Plan a fill of slice f from the fullest slices, up to the mean. */
void plan_fill(struct plan *, size_t f);

/* load.c */

/* Set up the load dimension (p->byload), its band and limits; after
 * plan_band and the pool. Never fails. */
void plan_load_init(struct plan *);

/* Free what plan_load_init allocated; safe when it never ran. */
void plan_load_free(struct plan *);

/* Is moving an account with load l and bytes from s to t within the load
 * limits of a move that serves bytes: t stays under the load hard limit
 * and (unless hard_only) half a load band over the load band's top, or
 * t lacks bytes and the account is idle (load.c)? 1 when it is, or
 * without load. */
int plan_load_fits(const struct plan *, size_t s, size_t t, double l,
    uint64_t bytes);

/* Record the load side of a move of account a from s to t. */
void plan_load_apply(struct plan *, size_t a, size_t s, size_t t);

/* Plan load moves until the load band is reached or none is left.
 * Returns the number of moves made. */
size_t plan_load_balance(struct plan *);

/* The load lower bound, from the state at the start. */
void plan_load_bound(struct plan *);

/* Fill in the load metrics of the result. */
void plan_load_metrics(struct plan *);

/* drain.c */

/* Refuse a drain of d that has nowhere to go. Returns 0, or -1 with a
 * cause: d the only slice, no receiver, the movable bytes or the largest
 * account not fitting under the hard limit. Needs the pool built. */
int plan_drain_check(struct plan *, size_t d, char **cause);

/* Plan a drain of d onto the other receiving slices. */
void plan_drain(struct plan *, size_t d);

#endif
