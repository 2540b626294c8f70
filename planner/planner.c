/*
 * The rebalance planner: see planner.h; its pieces: see planner_int.h.
 *
 * A run checks the options and the fleet, builds the pool of movable
 * accounts, decides the roles of the slices and the band, sorts the
 * balancing slices by fill, sets the lower bound, then lets one strategy
 * make its moves and fills in the metrics. A plan costs O(accounts log
 * accounts) to sort plus O(log) per move, and O(slices) per source found
 * stuck.
 */
#include "planner/planner_int.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
planner_options_default(struct planner_options *o)
{
	memset(o, 0, sizeof *o);
	o->strategy = PLANNER_BALANCE;
	o->band = 0.02;
	o->target_fill = 0.75;
	o->hard_limit = 0.90;
	o->min_gain = UINT64_C(1) << 20;
	o->active_within = 7 * 24 * 3600;
	o->load_band = 0.05;
	o->load_target = 0.75;
	o->load_hard = 0.90;
}

void
planner_result_free(struct planner_result *r)
{
	if (r == NULL)
		return;
	free(r->moves);
	free(r->fill_before);
	free(r->fill_after);
	free(r->load_before);
	free(r->load_after);
	memset(r, 0, sizeof *r);
}

/* Check the options on their own; 0 or -1 with a cause. */
static int
check_options(const struct planner_options *o, size_t ns, char **cause)
{
	if (o->strategy != PLANNER_BALANCE && o->strategy != PLANNER_DRAIN &&
	    o->strategy != PLANNER_FILL)
		return fail(cause, "unknown planner strategy %d; use balance, "
		    "drain or fill", (int)o->strategy);
	if (!(o->band > 0 && o->band < 0.5))
		return fail(cause, "band %g is out of range; give a half width "
		    "above 0 and below 0.5, e.g. 0.02 for +-2 points", o->band);
	if (!(o->hard_limit > 0 && o->hard_limit <= 1))
		return fail(cause, "hard limit %g is out of range; give a fill "
		    "above 0 and at most 1, e.g. 0.90", o->hard_limit);
	if (!(o->target_fill > 0 && o->target_fill <= o->hard_limit))
		return fail(cause, "target fill %g is above the hard limit %g "
		    "or not positive; give a target fill at most the hard "
		    "limit", o->target_fill, o->hard_limit);
	if (o->by_load && !(o->load_band > 0 && o->load_band < 0.5))
		return fail(cause, "load band %g is out of range; give a half "
		    "width above 0 and below 0.5, e.g. 0.05 for +-5 points",
		    o->load_band);
	if (o->by_load && !(o->load_hard > 0 && o->load_hard <= 1))
		return fail(cause, "load hard limit %g is out of range; give a "
		    "load fill above 0 and at most 1, e.g. 0.90",
		    o->load_hard);
	if (o->by_load && !(o->load_target > 0 &&
	    o->load_target <= o->load_hard))
		return fail(cause, "load target %g is above the load hard "
		    "limit %g or not positive; give a load target at most the "
		    "load hard limit", o->load_target, o->load_hard);
	if (o->active_within < 0)
		return fail(cause, "active_within %lld is negative; give "
		    "seconds, e.g. 604800 for 7 days",
		    (long long)o->active_within);
	if (o->strategy != PLANNER_BALANCE && o->slice >= ns)
		return fail(cause, "slice index %zu is out of range (the fleet "
		    "has %zu slices); name an existing slice", o->slice, ns);
	return 0;
}

/* Check the loads; set p->byload. 0, or -1 with a cause. */
static int
check_loads(struct plan *p, char **cause)
{
	const struct planner_slice *s;
	size_t i;
	char b1[32];

	for (i = 0; i < p->ns; i++) {
		s = &p->sl[i];
		if (!(s->load >= 0) || !(s->load_in >= 0) ||
		    !(s->load_out >= 0) || !(s->ops_capacity >= 0) ||
		    !isfinite(s->load + s->load_in + s->load_out +
		    s->ops_capacity))
			return fail(cause, "slice %s: its load or ops capacity "
			    "is negative or not a number; record its load again",
			    plan_slice_name(s, b1, sizeof b1));
		if (p->o->by_load && s->ops_capacity > 0)
			p->byload = 1;
	}
	for (i = 0; i < p->na; i++) {
		if (!(p->ac[i].load >= 0) || !isfinite(p->ac[i].load))
			return fail(cause, "account %lld: its load is negative "
			    "or not a number", (long long)p->ac[i].id);
	}
	return 0;
}

/*
 * A balance. With load: first bytes, as without load but for the load
 * hard limit (the cheapest way into the byte band; moves toward less
 * load take busy accounts along); then load; then bytes again, now kept
 * inside the load band; and load and bytes again while bytes move (a
 * byte move may free a load move: an account that fits only once its
 * source was refilled). Stuck marks of byte moves hold for their own
 * moves only: cleared each round.
 */
static void
balance(struct plan *p)
{
	size_t round, before;

	if (!p->byload) {
		plan_balance(p);
		return;
	}
	p->hard_only = 1;
	plan_balance(p);
	p->hard_only = 0;
	for (round = 0; round < 32 && !limits_hit(p); round++) {
		plan_load_balance(p);
		memset(p->stuck[0], 0, p->ns);
		memset(p->stuck[1], 0, p->ns);
		p->nstuck[0] = p->nstuck[1] = 0;
		before = p->r->nmoves;
		plan_balance(p);
		if (p->r->nmoves == before)
			break;
	}
}

int
planner_run(const struct planner_slice *sl, size_t ns,
    const struct planner_account *ac, size_t na,
    const struct planner_options *o, struct planner_result *result,
    char **cause)
{
	struct planner_result r;
	struct plan p;

	if (ns == 0)
		return fail(cause, "empty fleet: no slices; add slices before "
		    "planning");
	if (check_options(o, ns, cause) != 0)
		return -1;
	memset(&p, 0, sizeof p);
	memset(&r, 0, sizeof r);
	p.sl = sl;
	p.ns = ns;
	p.ac = ac;
	p.na = na;
	p.o = o;
	p.r = &r;
	plan_init(&p);
	if (plan_check_fleet(&p, cause) != 0 || check_loads(&p, cause) != 0)
		goto bad;
	plan_pool_build(&p);
	if (plan_set_roles(&p, cause) != 0)
		goto bad;
	plan_load_init(&p);
	if (o->strategy == PLANNER_DRAIN && plan_drain_check(&p, o->slice,
	    cause) != 0)
		goto bad;
	plan_order(&p);
	plan_bound(&p);
	plan_load_bound(&p);

	switch (o->strategy) {
	case PLANNER_BALANCE:
		balance(&p);
		break;
	case PLANNER_DRAIN:
		plan_drain(&p, o->slice);
		break;
	case PLANNER_FILL:
		plan_fill(&p, o->slice);
		break;
	}
	plan_metrics(&p, o->slice);
	plan_load_metrics(&p);
	plan_free(&p);
	*result = r;
	return 0;
bad:
	plan_free(&p);
	planner_result_free(&r);
	return -1;
}
