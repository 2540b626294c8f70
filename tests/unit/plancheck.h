/*
 * The independent checker of the planner's unit tests: it recomputes what
 * planner.h promises (mean, band, roles, lower bound) and replays a plan
 * move by move against every promise. Include after planfix.h.
 */
#ifndef MAILSHIFT_PLANCHECK_H
#define MAILSHIFT_PLANCHECK_H

#include "planfix.h"

/* What the checker computes independently of the planner. */
struct expect {
	size_t		 drained;	/* ns when none */
	unsigned char	 bal[MAXSLICES];	/* balancing */
	unsigned char	 recv[MAXSLICES];	/* receiving */
	long double	 mean;		/* the fleet's mean fill */
	double		 top;		/* top of the band */
	double		 bottom;	/* bottom of the band */
	uint64_t	 movable[MAXSLICES];	/* bytes, per slice */
	uint64_t	 lower_bound;	/* as planner.h defines it */
};

/* The mean, band, roles and lower bound the header promises. */
static inline void
expect_make(const struct fleet *f, const struct planner_options *o,
    struct expect *x)
{
	long double cs = 0, us = 0;
	uint64_t e = 0, d = 0, top_b, bot_b, u;
	size_t i;

	memset(x, 0, sizeof *x);
	x->drained = o->strategy == PLANNER_DRAIN ? o->slice : f->ns;
	for (i = 0; i < f->na; i++) {
		if (!f->ac[i].pinned && !f->ac[i].moving)
			x->movable[f->ac[i].slice] += f->ac[i].bytes;
	}
	for (i = 0; i < f->ns; i++) {
		x->bal[i] = f->sl[i].balances && f->sl[i].capacity > 0 &&
		    i != x->drained;
		x->recv[i] = x->bal[i] && f->sl[i].receives &&
		    !f->sl[i].unhealthy;
		if (x->bal[i]) {
			cs += f->sl[i].capacity;
			us += eff(f, i);
		}
	}
	if (x->drained < f->ns)
		us += x->movable[x->drained];
	x->mean = cs > 0 ? us / cs : 0;
	x->top = (double)x->mean + o->band;
	if ((double)x->mean <= o->target_fill && o->target_fill < x->top)
		x->top = o->target_fill;
	x->bottom = (double)x->mean - o->band;
	if (x->bottom < 0)
		x->bottom = 0;
	for (i = 0; i < f->ns; i++) {
		u = eff(f, i);
		top_b = (uint64_t)floorl((long double)f->sl[i].capacity *
		    x->top);
		bot_b = (uint64_t)ceill((long double)f->sl[i].capacity *
		    x->bottom);
		if (x->bal[i] && u > top_b)
			e += u - top_b;
		if (x->recv[i] && u < bot_b)
			d += bot_b - u;
	}
	switch (o->strategy) {
	case PLANNER_BALANCE:
		x->lower_bound = e > d ? e : d;
		break;
	case PLANNER_DRAIN:
		x->lower_bound = x->movable[o->slice];
		break;
	case PLANNER_FILL:
		bot_b = (uint64_t)ceill((long double)f->sl[o->slice].capacity *
		    x->bottom);
		u = eff(f, o->slice);
		x->lower_bound = u < bot_b ? bot_b - u : 0;
		break;
	}
}

/* Term of slice i in the imbalance with used u. */
static inline long double
term(const struct fleet *f, const struct expect *x, size_t i, uint64_t u)
{
	long double d = (long double)u - x->mean * f->sl[i].capacity;

	return d * d / f->sl[i].capacity;
}

/* Hard limit of slice i in bytes, as the header defines it. */
static inline uint64_t
hard_b(const struct fleet *f, const struct planner_options *o, size_t i)
{
	return (uint64_t)floorl((long double)f->sl[i].capacity *
	    o->hard_limit);
}

/* True when every balancing slice is in the band with used u. */
static inline int
in_band(const struct fleet *f, const struct expect *x, const uint64_t *u)
{
	size_t i;
	double fl;

	for (i = 0; i < f->ns; i++) {
		if (!x->bal[i])
			continue;
		fl = fillof(f, i, u[i]);
		if (fl > x->top + 1e-9)
			return 0;
		if (x->recv[i] && fl < x->bottom - 1e-9)
			return 0;
	}
	return 1;
}

/* Bytes of slice i at fill fl, rounded as the header's band edges are. */
static inline uint64_t
at_fill(const struct fleet *f, size_t i, double fl, int up)
{
	long double v = (long double)f->sl[i].capacity * fl;

	return (uint64_t)(up ? ceill(v) : floorl(v));
}

/*
 * True when moving account k (bytes x) from s to t is admissible for the
 * planner after the plan, with used u: the pair, roles, hard limit, band
 * edges, budget and min_gain (with a margin for rounding) allow it, and
 * it serves the goal of the strategy. mode 0 asks for a balance move
 * that lowers the excess over the top, mode 1 one that lowers the deficit
 * under the bottom, mode 2 a fill move, mode 3 a drain move.
 */
static inline int
admissible(const struct fleet *f, const struct planner_options *o,
    const struct expect *x, const uint64_t *u, uint64_t left, size_t s,
    size_t t, uint64_t b, int mode)
{
	long double g;
	uint64_t top = at_fill(f, t, x->top, 0);

	if (s == t || !x->recv[t] || b > left || b == 0)
		return 0;
	if (o->other_pair && f->sl[s].pair_id == f->sl[t].pair_id)
		return 0;
	if (u[t] + b > hard_b(f, o, t))
		return 0;
	if (mode == 3)
		return 1;
	if (u[t] + b > top || u[s] < at_fill(f, s, x->bottom, 1) + b)
		return 0;
	if (mode == 0 && !(u[s] > at_fill(f, s, x->top, 0) && u[t] < top))
		return 0;
	if (mode == 1 && !(u[s] > at_fill(f, s, (double)x->mean, 0) &&
	    u[t] < at_fill(f, t, x->bottom, 1)))
		return 0;
	if (mode == 2 && !(u[s] > at_fill(f, s, (double)x->mean, 0) &&
	    u[t] < at_fill(f, t, (double)x->mean, 0)))
		return 0;
	g = term(f, x, s, u[s]) + term(f, x, t, u[t]) -
	    term(f, x, s, u[s] - b) - term(f, x, t, u[t] + b);
	return g > (long double)o->min_gain * (1 + 1e-6L) + 1;
}

/*
 * The plan stops only when its goal is met, a limit is hit, or no single
 * admissible move is left: every account that stayed is checked against
 * every slice. This is what makes the greedy's bookkeeping of stuck
 * sources testable.
 */
static inline void
check_complete(const struct fleet *f, const struct planner_options *o,
    const struct expect *x, const struct planner_result *r,
    const uint64_t *u, const unsigned char *moved)
{
	uint64_t left = o->max_bytes ? o->max_bytes - r->bytes : UINT64_MAX;
	uint64_t e = 0, d = 0;
	size_t i, k, s;
	int mode;

	if (o->max_moves && r->nmoves >= o->max_moves)
		return;
	for (i = 0; i < f->ns; i++) {
		if (x->bal[i] && u[i] > at_fill(f, i, x->top, 0))
			e++;
		if (x->recv[i] && u[i] < at_fill(f, i, x->bottom, 1))
			d++;
	}
	for (k = 0; k < f->na; k++) {
		if (moved[k] || f->ac[k].pinned || f->ac[k].moving)
			continue;
		s = f->ac[k].slice;
		for (i = 0; i < f->ns; i++) {
			for (mode = 0; mode < 4; mode++) {
				if ((mode == 0 && (o->strategy !=
				    PLANNER_BALANCE || !e || !x->bal[s])) ||
				    (mode == 1 && (o->strategy !=
				    PLANNER_BALANCE || !d || !x->bal[s])) ||
				    (mode == 2 && (o->strategy !=
				    PLANNER_FILL || i != o->slice ||
				    !x->bal[s])) ||
				    (mode == 3 && (o->strategy !=
				    PLANNER_DRAIN || s != o->slice)))
					continue;
				if (admissible(f, o, x, u, left, s, i,
				    f->ac[k].bytes, mode))
					fail_msg("plan stops early: account %zu "
					    "(%llu bytes) could still move "
					    "from slice %zu to %zu (mode %d)",
					    k, (unsigned long long)
					    f->ac[k].bytes, s, i, mode);
			}
		}
	}
}

/*
 * Replay a plan move by move and check every promise of planner.h:
 * accounts, roles, pairs, limits, the hard limit in plan order and for
 * any order that honours after, the imbalance drop of each move, totals,
 * fills and metrics. Returns the used bytes after the plan in u.
 */
static inline void
check_plan(const struct fleet *f, const struct planner_options *o,
    const struct planner_result *r, uint64_t *u)
{
	struct expect x;
	uint64_t u0[MAXSLICES], cin[MAXSLICES], cout[MAXSLICES], *outat;
	uint64_t bytes = 0, files = 0, v;
	unsigned char *moved;
	const struct planner_move *m;
	const struct planner_account *a;
	long double before, after, mg = (long double)o->min_gain;
	size_t i;

	expect_make(f, o, &x);
	moved = calloc(f->na ? f->na : 1, 1);
	outat = calloc(r->nmoves ? r->nmoves : 1, sizeof *outat);
	assert_non_null(moved);
	assert_non_null(outat);
	for (i = 0; i < f->ns; i++) {
		u0[i] = u[i] = eff(f, i);
		cin[i] = cout[i] = 0;
	}
	if (o->max_moves)
		assert_true(r->nmoves <= o->max_moves);
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		assert_true(m->account < f->na);
		a = &f->ac[m->account];
		if (moved[m->account])
			fail_msg("move %zu: account %zu moves twice", i,
			    m->account);
		moved[m->account] = 1;
		assert_false(a->pinned);
		assert_false(a->moving);
		assert_int_equal(m->from, a->slice);
		assert_true(m->to < f->ns);
		assert_int_not_equal(m->to, m->from);
		assert_int_equal(m->bytes, a->bytes);
		assert_int_equal(m->files, a->files);
		if (!x.recv[m->to])
			fail_msg("move %zu goes to slice %zu, which may not "
			    "receive", i, m->to);
		if (o->other_pair)
			assert_true(f->sl[m->from].pair_id !=
			    f->sl[m->to].pair_id);
		if (o->strategy == PLANNER_DRAIN)
			assert_int_equal(m->from, o->slice);
		if (o->strategy == PLANNER_FILL)
			assert_int_equal(m->to, o->slice);
		if (o->strategy != PLANNER_DRAIN)
			assert_true(x.bal[m->from]);

		/* The imbalance drops with this move on its own. */
		if (o->strategy == PLANNER_DRAIN) {
			before = term(f, &x, m->to, u[m->to]) +
			    2.0L * m->bytes;
			after = term(f, &x, m->to, u[m->to] + m->bytes);
			if (m->bytes > 0 && !(after < before))
				fail_msg("drain move %zu does not lower the "
				    "imbalance", i);
		} else {
			before = term(f, &x, m->from, u[m->from]) +
			    term(f, &x, m->to, u[m->to]);
			after = term(f, &x, m->from, u[m->from] - m->bytes) +
			    term(f, &x, m->to, u[m->to] + m->bytes);
			if (!(after < before) ||
			    before - after < mg * (1 - 1e-9L))
				fail_msg("move %zu lowers the imbalance by "
				    "%Lg, less than min_gain %Lg", i,
				    before - after, mg);
		}

		/* The hard limit, in plan order... */
		u[m->from] -= m->bytes;
		u[m->to] += m->bytes;
		if (u[m->to] > hard_b(f, o, m->to))
			fail_msg("move %zu pushes slice %zu over its hard "
			    "limit", i, m->to);
		/* ...and in any order that honours after: moves into it
		 * may all be running, only the waited-for ones out done. */
		cin[m->to] += m->bytes;
		cout[m->from] += m->bytes;
		outat[i] = cout[m->from];
		v = 0;
		if (m->after >= 0) {
			assert_true((size_t)m->after < i);
			assert_int_equal(r->moves[m->after].from, m->to);
			v = outat[m->after];
		} else
			assert_int_equal(m->after, -1);
		if (u0[m->to] + cin[m->to] - v > hard_b(f, o, m->to))
			fail_msg("move %zu: its after (%zd) leaves slice %zu "
			    "over the hard limit when moves run in parallel",
			    i, m->after, m->to);
		bytes += m->bytes;
		files += m->files;
	}
	assert_int_equal(r->bytes, bytes);
	assert_int_equal(r->files, files);
	if (o->max_bytes)
		assert_true(bytes <= o->max_bytes);
	for (i = 0; i < f->ns; i++) {
		assert_true(fabs(r->fill_before[i] - fillof(f, i, u0[i])) <
		    1e-12);
		assert_true(fabs(r->fill_after[i] - fillof(f, i, u[i])) <
		    1e-12);
	}
	assert_true(fabsl((long double)r->mean_fill - x.mean) < 1e-12);
	assert_true(fabs(r->band_high - x.top) < 1e-12);
	assert_true(fabs(r->band_low - x.bottom) < 1e-12);
	assert_int_equal(r->lower_bound, x.lower_bound);
	assert_int_equal(r->band_reached, in_band(f, &x, u));
	if (r->band_reached && o->strategy == PLANNER_BALANCE)
		assert_true(r->bytes >= r->lower_bound);
	if (o->strategy == PLANNER_DRAIN) {
		assert_int_equal(r->unmet, x.movable[o->slice] - bytes);
		assert_true(bytes <= r->lower_bound);
	}
	if (o->strategy == PLANNER_FILL && r->unmet == 0)
		assert_true(bytes >= r->lower_bound);
	check_complete(f, o, &x, r, u, moved);
	free(moved);
	free(outat);
}

/* Plan, expect success, check the plan; u gets the used after it. */
static inline void
plan_ok(struct fleet *f, const struct planner_options *o,
    struct planner_result *r, uint64_t *u)
{
	char *cause = NULL;

	fleet_sync(f);
	if (planner_run(f->sl, f->ns, f->ac, f->na, o, r, &cause) != 0)
		fail_msg("planner_run refused: %s", cause);
	assert_null(cause);
	check_plan(f, o, r, u);
}

/* Plan the fleet as it is, expect -1 with a cause containing what and
 * the result untouched. */
static inline void
run_bad(const struct fleet *f, const struct planner_options *o,
    const char *what)
{
	struct planner_result r;
	char *cause = NULL;

	memset(&r, 0xa5, sizeof r);
	if (planner_run(f->sl, f->ns, f->ac, f->na, o, &r, &cause) != -1)
		fail_msg("planner_run accepted a bad input (wanted \"%s\")",
		    what);
	assert_non_null(cause);
	if (strstr(cause, what) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, what);
	assert_true(((unsigned char *)&r)[0] == 0xa5 &&
	    ((unsigned char *)&r)[sizeof r - 1] == 0xa5);
	free(cause);
}

/* Set used from the accounts, then run_bad. */
static inline void
plan_bad(struct fleet *f, const struct planner_options *o, const char *what)
{
	fleet_sync(f);
	run_bad(f, o, what);
}

#endif
