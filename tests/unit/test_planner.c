/*
 * Unit tests for planner/: hand-made fleets with known answers, every kind
 * of bad input, and a property test over random fleets in which an
 * independent checker replays each plan move by move.
 */
#define _GNU_SOURCE
/* util.h first: cmocka.h defines a fail() macro that clashes with fail(). */
#include "common/util.h"
#include "testutil.h"

#include <math.h>

#include "planner/planner.h"

#define GIB		(UINT64_C(1) << 30)
#define MAXSLICES	32
#define NOW		INT64_C(1800000000)
#define DAY		(24 * 3600)

/* A fleet under test; used and pending follow from the accounts. */
struct fleet {
	struct planner_slice	 sl[MAXSLICES];
	uint64_t		 extra[MAXSLICES];	/* used not in accounts */
	size_t			 ns;
	struct planner_account	*ac;
	size_t			 na;
	size_t			 cap;
	size_t			*dest;			/* of moving accounts */
};

/* Start an empty fleet. */
static void
fleet_init(struct fleet *f)
{
	memset(f, 0, sizeof *f);
}

/* Free a fleet's accounts. */
static void
fleet_free(struct fleet *f)
{
	free(f->ac);
	free(f->dest);
	f->ac = NULL;
	f->dest = NULL;
}

/* Add an active, balancing slice; returns its index. */
static size_t
slice_add(struct fleet *f, const char *name, uint64_t capacity,
    int64_t pair)
{
	struct planner_slice *s = &f->sl[f->ns];

	assert_true(f->ns < MAXSLICES);
	memset(s, 0, sizeof *s);
	s->id = (int64_t)f->ns + 100;
	s->name = name;
	s->pair_id = pair;
	s->capacity = capacity;
	s->receives = 1;
	s->balances = 1;
	return f->ns++;
}

/* Add an account; returns its index. */
static size_t
acct_add(struct fleet *f, size_t slice, uint64_t bytes)
{
	struct planner_account *a;

	if (f->na == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->ac = realloc(f->ac, f->cap * sizeof *f->ac);
		f->dest = realloc(f->dest, f->cap * sizeof *f->dest);
		assert_non_null(f->ac);
		assert_non_null(f->dest);
	}
	a = &f->ac[f->na];
	memset(a, 0, sizeof *a);
	a->id = (int64_t)f->na + 1000;
	a->slice = slice;
	a->bytes = bytes;
	a->files = bytes / 4096 + 1;
	a->last_activity = NOW - 30 * DAY;
	f->dest[f->na] = slice;
	return f->na++;
}

/* Add n accounts of the same size. */
static void
accts_add(struct fleet *f, size_t slice, size_t n, uint64_t bytes)
{
	while (n-- > 0)
		acct_add(f, slice, bytes);
}

/* Set used and pending of every slice from its accounts. */
static void
fleet_sync(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->ns; i++) {
		f->sl[i].used = f->extra[i];
		f->sl[i].pending_in = f->sl[i].pending_out = 0;
	}
	for (i = 0; i < f->na; i++) {
		f->sl[f->ac[i].slice].used += f->ac[i].bytes;
		if (f->ac[i].moving && f->dest[i] != f->ac[i].slice) {
			f->sl[f->ac[i].slice].pending_out += f->ac[i].bytes;
			f->sl[f->dest[i]].pending_in += f->ac[i].bytes;
		}
	}
}

/* Options as the tests use them: defaults, a fixed now. */
static void
opts(struct planner_options *o, enum planner_strategy st, size_t slice)
{
	planner_options_default(o);
	o->strategy = st;
	o->slice = slice;
	o->now = NOW;
}

/* Effective used of slice i before any plan. */
static uint64_t
eff(const struct fleet *f, size_t i)
{
	return f->sl[i].used - f->sl[i].pending_out + f->sl[i].pending_in;
}

/* Fill of slice i with used u. */
static double
fillof(const struct fleet *f, size_t i, uint64_t u)
{
	return f->sl[i].capacity ? (double)u / (double)f->sl[i].capacity : 0;
}

/* What the checker computes independently of the planner. */
struct expect {
	size_t		 drained;	/* ns when none */
	unsigned char	 bal[MAXSLICES];
	unsigned char	 recv[MAXSLICES];
	long double	 mean;
	double		 top;
	double		 bottom;
	uint64_t	 movable[MAXSLICES];
	uint64_t	 lower_bound;
};

/* The mean, band, roles and lower bound the header promises. */
static void
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
		x->recv[i] = x->bal[i] && f->sl[i].receives;
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
static long double
term(const struct fleet *f, const struct expect *x, size_t i, uint64_t u)
{
	long double d = (long double)u - x->mean * f->sl[i].capacity;

	return d * d / f->sl[i].capacity;
}

/* Hard limit of slice i in bytes, as the header defines it. */
static uint64_t
hard_b(const struct fleet *f, const struct planner_options *o, size_t i)
{
	return (uint64_t)floorl((long double)f->sl[i].capacity *
	    o->hard_limit);
}

/* True when every balancing slice is in the band with used u. */
static int
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
static uint64_t
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
static int
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
static void
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
static void
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
static void
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
static void
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
static void
plan_bad(struct fleet *f, const struct planner_options *o, const char *what)
{
	fleet_sync(f);
	run_bad(f, o, what);
}

/* Two equal slices at 80% and 20% meet near 50%, moving the bound. */
static void
test_two_slices(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];
	size_t a, b;

	(void)state;
	fleet_init(&f);
	a = slice_add(&f, "a", 100 * GIB, 1);
	b = slice_add(&f, "b", 100 * GIB, 2);
	accts_add(&f, a, 80, GIB);
	accts_add(&f, b, 20, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	assert_true(r.band_reached);
	assert_true(fabs(r.mean_fill - 0.5) < 1e-12);
	assert_true(r.fill_after[a] <= 0.52 + 1e-12);
	assert_true(r.fill_after[b] >= 0.48 - 1e-12);
	/* 28 GiB above 52% and 28 GiB below 48%: the bound, exactly. */
	assert_int_equal(r.lower_bound, 28 * GIB);
	assert_int_equal(r.bytes, 28 * GIB);
	assert_int_equal(r.nmoves, 28);
	assert_int_equal(r.unmet, 0);
	assert_true(fabs(r.max_before - 0.8) < 1e-12);
	assert_true(fabs(r.min_before - 0.2) < 1e-12);
	assert_true(fabs(r.stddev_before - 0.3) < 1e-12);
	assert_true(r.stddev_after < 0.021);
	planner_result_free(&r);
	fleet_free(&f);
}

/* A fleet inside the band gets no moves at all. */
static void
test_balanced(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 200 * GIB, 2);
	slice_add(&f, "c", 100 * GIB, 3);
	accts_add(&f, 0, 51, GIB);
	accts_add(&f, 1, 98, GIB);
	accts_add(&f, 2, 49, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	assert_int_equal(r.nmoves, 0);
	assert_int_equal(r.lower_bound, 0);
	assert_true(r.band_reached);
	planner_result_free(&r);
	fleet_free(&f);
}

/* Draining one of three slices moves every movable account off it and
 * leaves the other two balanced; a pinned account stays. */
static void
test_drain(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES], left = 0;
	size_t i, k, pin;
	int tier, prev = 0;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	slice_add(&f, "c", 100 * GIB, 3);
	for (i = 0; i < 3; i++) {
		accts_add(&f, i, 10, GIB);
		accts_add(&f, i, 10, GIB / 2);
		accts_add(&f, i, 5, 2 * GIB);
		accts_add(&f, i, 20, GIB / 4);
	}
	pin = acct_add(&f, 0, GIB);
	f.ac[pin].pinned = 1;
	for (i = 0; i < f.na; i++) {
		if (f.ac[i].slice == 0 && i % 3 == 0)
			f.ac[i].last_activity = NOW - 60;
	}
	opts(&o, PLANNER_DRAIN, 0);
	plan_ok(&f, &o, &r, u);
	/* Giants (over half the 2 GiB band of a) first, then idle, then
	 * active accounts, each largest first. */
	for (i = 0; i < r.nmoves; i++) {
		k = r.moves[i].account;
		tier = r.moves[i].bytes > GIB ? 0 :
		    f.ac[k].last_activity < NOW - DAY ? 1 : 2;
		assert_true(tier >= prev);
		if (tier == prev && i > 0)
			assert_true(r.moves[i].bytes <= r.moves[i - 1].bytes);
		prev = tier;
	}
	assert_int_equal(prev, 2);
	/* 30 GiB on each, 1 pinned more on a: its 30 go to b and c. */
	assert_int_equal(r.lower_bound, 30 * GIB);
	assert_int_equal(r.bytes, 30 * GIB);
	assert_int_equal(r.nmoves, 45);
	assert_int_equal(r.unmet, 0);
	assert_int_equal(u[0], GIB);
	for (i = 0; i < r.nmoves; i++)
		left += r.moves[i].to == 1 ? r.moves[i].bytes : 0;
	assert_true(left >= 13 * GIB && left <= 17 * GIB);
	assert_true(fabs(r.mean_fill - 0.45) < 1e-9);
	assert_true(r.band_reached);
	assert_true(fabs(r.fill_after[1] - r.fill_after[2]) <= 0.04);
	/* The drained slice is out of the after statistics. */
	assert_true(r.min_after > 0.4);
	planner_result_free(&r);
	fleet_free(&f);
}

/*
 * A drain puts an account on the emptiest receiver where it stays under
 * the top of the band, not simply on the emptiest: a small empty slice
 * would go over the top with it.
 */
static void
test_drain_top(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];

	(void)state;
	fleet_init(&f);
	slice_add(&f, "old", 100 * GIB, 1);
	slice_add(&f, "small", 10 * GIB, 2);
	slice_add(&f, "big", 1000 * GIB, 3);
	acct_add(&f, 0, 6 * GIB);
	accts_add(&f, 2, 400, GIB);
	opts(&o, PLANNER_DRAIN, 0);
	plan_ok(&f, &o, &r, u);
	/* mean (400 + 6) / 1010 = 40.2%: 6 GiB would fill small to 60%. */
	assert_int_equal(r.nmoves, 1);
	assert_int_equal(r.moves[0].to, 2);
	assert_int_equal(r.unmet, 0);
	planner_result_free(&r);

	/* With big at its hard limit, small is the only room left: the
	 * account goes there, though the band is out of reach. */
	accts_add(&f, 2, 500, GIB);
	plan_ok(&f, &o, &r, u);
	assert_int_equal(r.nmoves, 1);
	assert_int_equal(r.moves[0].to, 1);
	assert_false(r.band_reached);
	planner_result_free(&r);
	fleet_free(&f);
}

/* A fleet fuller than the hard limit allows on average: targets stop at
 * the hard limit though the band reaches past it. */
static void
test_full_fleet(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	slice_add(&f, "c", 100 * GIB, 3);
	accts_add(&f, 0, 99, GIB);
	accts_add(&f, 1, 87, GIB);
	accts_add(&f, 2, 88, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	/* mean 91.3%, top 93.3% above the 90% hard limit. */
	assert_true(r.band_high > o.hard_limit);
	assert_true(r.nmoves > 0);
	assert_true(u[1] <= 90 * GIB && u[2] <= 90 * GIB);
	assert_int_equal(u[0], 94 * GIB);
	assert_false(r.band_reached);
	planner_result_free(&r);
	fleet_free(&f);
}

/* A new, empty slice is filled to the band from the fullest slices. */
static void
test_fill(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES], from[MAXSLICES] = { 0 };
	size_t i, n;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	slice_add(&f, "c", 100 * GIB, 3);
	n = slice_add(&f, "new", 200 * GIB, 4);
	accts_add(&f, 0, 70, GIB);
	accts_add(&f, 1, 60, GIB);
	accts_add(&f, 2, 50, GIB);
	opts(&o, PLANNER_FILL, n);
	plan_ok(&f, &o, &r, u);
	/* mean 180/500 = 36%: the new slice needs 200 * 34% = 68 GiB. */
	assert_int_equal(r.lower_bound, 68 * GIB);
	assert_int_equal(r.unmet, 0);
	assert_true(r.fill_after[n] >= 0.34 && r.fill_after[n] <= 0.38);
	for (i = 0; i < r.nmoves; i++)
		from[r.moves[i].from] += r.moves[i].bytes;
	/* The fullest gives most; the first move comes from it. */
	assert_int_equal(r.moves[0].from, 0);
	assert_true(from[0] > from[1] && from[1] > from[2]);
	assert_true(r.band_reached);
	planner_result_free(&r);
	fleet_free(&f);
}

/* Pinned and moving accounts stay even when only they could help. */
static void
test_pinned_moving(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];
	size_t i, k;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	for (i = 0; i < 40; i++) {
		k = acct_add(&f, 0, 2 * GIB);
		if (i % 2)
			f.ac[k].pinned = 1;
		else {
			f.ac[k].moving = 1;
			f.dest[k] = i % 4 ? 0 : 1;
		}
	}
	accts_add(&f, 0, 4, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	/* Only the four 1 GiB accounts may move; check_plan saw none else. */
	assert_true(r.nmoves <= 4);
	for (i = 0; i < r.nmoves; i++)
		assert_int_equal(r.moves[i].bytes, GIB);
	planner_result_free(&r);
	fleet_free(&f);
}

/* A slice that does not receive gets nothing, however empty. */
static void
test_no_receive(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];
	size_t i;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "ro", 100 * GIB, 2);
	slice_add(&f, "c", 100 * GIB, 3);
	slice_add(&f, "d", 100 * GIB, 4);
	f.sl[1].receives = 0;
	accts_add(&f, 0, 70, GIB);
	accts_add(&f, 1, 10, GIB);
	accts_add(&f, 2, 30, GIB);
	accts_add(&f, 3, 40, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	o.band = 0.10;
	plan_ok(&f, &o, &r, u);
	assert_true(r.nmoves > 0);
	for (i = 0; i < r.nmoves; i++)
		assert_int_not_equal(r.moves[i].to, 1);
	/* a sheds to c and d; ro, the emptiest, stays as it is and, since
	 * it cannot be raised, does not count against the bottom. */
	assert_int_equal(u[1], 10 * GIB);
	assert_true(r.fill_after[1] < r.band_low);
	assert_true(r.band_reached);
	planner_result_free(&r);
	fleet_free(&f);
}

/*
 * With other_pair nothing moves inside a pair: a cannot feed its pair
 * mate b directly, so bytes pass through c, which is over its hard limit
 * at first and takes from a only after it gave to b (the after links).
 */
static void
test_other_pair_after(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];
	size_t i, nafter = 0;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 1);
	slice_add(&f, "c", 100 * GIB, 2);
	accts_add(&f, 0, 80, GIB);
	accts_add(&f, 2, 95, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	o.other_pair = 1;
	plan_ok(&f, &o, &r, u);
	for (i = 0; i < r.nmoves; i++) {
		assert_false(r.moves[i].from == 0 && r.moves[i].to == 1);
		if (r.moves[i].after >= 0) {
			nafter++;
			assert_int_equal(r.moves[i].to, 2);
		}
	}
	/* a gave to c, and c's 95 GiB start over the 90 GiB hard limit. */
	assert_true(u[0] < 80 * GIB);
	assert_true(nafter > 0);
	assert_true(r.band_reached);
	planner_result_free(&r);

	/* Without other_pair a feeds b directly and nothing waits. */
	o.other_pair = 0;
	plan_ok(&f, &o, &r, u);
	for (i = 0; i < r.nmoves; i++)
		assert_int_equal(r.moves[i].after, -1);
	assert_true(r.band_reached);
	planner_result_free(&r);
	fleet_free(&f);
}

/* max_moves and max_bytes stop the plan early, each move still good. */
static void
test_limits(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	accts_add(&f, 0, 80, GIB);
	accts_add(&f, 1, 20, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	o.max_moves = 5;
	plan_ok(&f, &o, &r, u);
	assert_int_equal(r.nmoves, 5);
	assert_false(r.band_reached);
	assert_int_equal(r.unmet, 23 * GIB);
	planner_result_free(&r);

	o.max_moves = 0;
	o.max_bytes = 10 * GIB + GIB / 2;
	plan_ok(&f, &o, &r, u);
	assert_int_equal(r.bytes, 10 * GIB);
	assert_false(r.band_reached);
	planner_result_free(&r);

	/* A drain skips what does not fit the budget, takes what does. */
	opts(&o, PLANNER_DRAIN, 1);
	o.hard_limit = 1.0;
	o.max_bytes = 5 * GIB;
	plan_ok(&f, &o, &r, u);
	assert_int_equal(r.bytes, 5 * GIB);
	assert_int_equal(r.unmet, 15 * GIB);
	planner_result_free(&r);
	fleet_free(&f);
}

/* An account larger than any room stays; the plan says so. */
static void
test_huge_account(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];
	size_t k;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	slice_add(&f, "c", 100 * GIB, 3);
	acct_add(&f, 0, 70 * GIB);
	k = acct_add(&f, 0, 25 * GIB);
	f.ac[k].pinned = 1;
	accts_add(&f, 1, 50, GIB);
	accts_add(&f, 2, 50, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	/* 40 GiB free under the hard limit on b and c, the account is 70. */
	assert_int_equal(r.nmoves, 0);
	assert_false(r.band_reached);
	assert_true(r.unmet > 0);
	assert_int_equal(r.unmet, r.lower_bound);
	planner_result_free(&r);

	/* Draining it is refused: it fits nowhere under the hard limit. */
	opts(&o, PLANNER_DRAIN, 0);
	plan_bad(&f, &o, "fits on no receiving slice");
	fleet_free(&f);
}

/* A fleet of pinned accounts plans zero moves, without error. */
static void
test_all_pinned(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];
	size_t i;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	accts_add(&f, 0, 85, GIB);
	accts_add(&f, 1, 5, GIB);
	for (i = 0; i < f.na; i++)
		f.ac[i].pinned = 1;
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	assert_int_equal(r.nmoves, 0);
	assert_false(r.band_reached);
	assert_true(r.lower_bound > 0);
	planner_result_free(&r);
	opts(&o, PLANNER_DRAIN, 0);
	plan_ok(&f, &o, &r, u);
	assert_int_equal(r.nmoves, 0);
	assert_int_equal(r.lower_bound, 0);
	planner_result_free(&r);
	fleet_free(&f);
}

/* Unequal capacities balance by fill, not by bytes. */
static void
test_unequal(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];

	(void)state;
	fleet_init(&f);
	slice_add(&f, "big", 1000 * GIB, 1);
	slice_add(&f, "small", 100 * GIB, 2);
	accts_add(&f, 0, 300, GIB);
	accts_add(&f, 1, 90, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	/* mean 390/1100 = 35.5%: small sheds to about 37 GiB. */
	assert_true(r.band_reached);
	assert_true(fabs(r.fill_after[0] - r.mean_fill) <= 0.02 + 1e-12);
	assert_true(fabs(r.fill_after[1] - r.mean_fill) <= 0.02 + 1e-12);
	assert_true(u[1] <= 38 * GIB && u[1] >= 33 * GIB);
	/* 1 GiB accounts: at most one over the bound. */
	assert_true(r.bytes >= r.lower_bound &&
	    r.bytes < r.lower_bound + GIB);
	planner_result_free(&r);
	fleet_free(&f);
}

/* The next number of a splitmix64 generator. */
static uint64_t
rnd(uint64_t *st)
{
	uint64_t z = (*st += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A size spread log-uniformly over decades decades from lo upwards. */
static uint64_t
rnd_size(uint64_t *st, uint64_t lo, double decades)
{
	double e = decades * (double)(rnd(st) % 1000) / 1000.0;

	return (uint64_t)((double)lo * pow(10, e));
}

/* Kinds of random fleet: bits of fleet_random's kind argument. */
#define RF_WILD	1	/* pins, moving accounts, odd roles, shared pairs */
#define RF_FINE	2	/* thousands of small accounts */
#define RF_EVEN	4	/* slices other than `even` start at 40-44% */
#define RF_FULL	8	/* fills from 85% to 99%: the band reaches past
			 * the hard limit */

/*
 * A random fleet of the given kind. Capacities follow from the accounts
 * and a random fill, from nearly empty to over-full.
 */
static void
fleet_random(struct fleet *f, uint64_t *st, int kind, size_t even)
{
	size_t ns, na, i, k;
	uint64_t fillpm;

	ns = 2 + rnd(st) % ((kind & RF_FINE) ? 7 : 11);
	na = (kind & RF_FINE) ? 1500 + rnd(st) % 2500 : rnd(st) % 240;
	fleet_init(f);
	for (i = 0; i < ns; i++) {
		slice_add(f, NULL, 0, (kind & RF_WILD) ?
		    (int64_t)(rnd(st) % 3) : (int64_t)i);
		if ((kind & RF_WILD) && rnd(st) % 6 == 0)
			f->sl[i].receives = 0;
		if ((kind & RF_WILD) && rnd(st) % 10 == 0)
			f->sl[i].balances = f->sl[i].receives = 0;
	}
	for (k = 0; k < na; k++) {
		i = rnd(st) % ns;
		if (kind & RF_FINE)
			acct_add(f, i, rnd_size(st, GIB / 256, 1.5));
		else
			acct_add(f, i, rnd_size(st, GIB / 64, 3));
		f->ac[k].last_activity = rnd(st) % 4 ? NOW - 30 * DAY :
		    NOW - (int64_t)(rnd(st) % DAY);
		if ((kind & RF_WILD) && rnd(st) % 12 == 0)
			f->ac[k].pinned = 1;
		else if ((kind & RF_WILD) && rnd(st) % 20 == 0) {
			f->ac[k].moving = 1;
			f->dest[k] = rnd(st) % ns;
		}
	}
	fleet_sync(f);
	for (i = 0; i < ns; i++) {
		fillpm = 20 + rnd(st) % 940;
		if ((kind & RF_EVEN) && i != even)
			fillpm = 400 + rnd(st) % 40;
		if (kind & RF_FULL)
			fillpm = 850 + rnd(st) % 140;
		f->sl[i].capacity = f->sl[i].used * 1000 / fillpm + GIB;
	}
}

/* Largest movable account, smallest positive one and smallest capacity. */
static void
fleet_sizes(const struct fleet *f, const struct expect *x, uint64_t *big,
    uint64_t *small, uint64_t *mincap)
{
	size_t i;

	*big = 0;
	*small = UINT64_MAX;
	*mincap = UINT64_MAX;
	for (i = 0; i < f->na; i++) {
		if (f->ac[i].pinned || f->ac[i].moving || f->ac[i].bytes == 0)
			continue;
		if (f->ac[i].bytes > *big)
			*big = f->ac[i].bytes;
		if (f->ac[i].bytes < *small)
			*small = f->ac[i].bytes;
	}
	for (i = 0; i < f->ns; i++) {
		if (x->bal[i] && f->sl[i].capacity < *mincap)
			*mincap = f->sl[i].capacity;
	}
}

/*
 * True when the band is reachable by the planner's greedy for sure, by
 * the argument in planner.c: every balancing slice receives; no pair,
 * move or byte limit; the top is mean + band with the hard limit at
 * least one band above it; min_gain at most band * the smallest account
 * / 2; every movable account at most a quarter of the band of the
 * smallest slice; and every slice can shed down to the bottom of the
 * band with movable accounts alone. Then the fullest slice above the top
 * (or, while bytes are missing below the bottom, above the mean) can
 * always give any of its accounts to the emptiest slice, so the greedy
 * only stops in the band. Drain and fill have their own variants below.
 */
static int
reachable(const struct fleet *f, const struct planner_options *o,
    const struct expect *x)
{
	uint64_t big, small, mincap, bot_b;
	size_t i;

	if (o->other_pair || o->max_moves || o->max_bytes)
		return 0;
	if (fabs(x->top - ((double)x->mean + o->band)) > 1e-12 ||
	    x->top + o->band > o->hard_limit)
		return 0;
	fleet_sizes(f, x, &big, &small, &mincap);
	if (big == 0)
		return 0;
	if ((double)o->min_gain > o->band * (double)small / 2 ||
	    (double)big > o->band * (double)mincap / 4)
		return 0;
	for (i = 0; i < f->ns; i++) {
		if (!x->bal[i])
			continue;
		if (!x->recv[i])
			return 0;
		bot_b = (uint64_t)ceill((long double)f->sl[i].capacity *
		    x->bottom);
		if (o->strategy == PLANNER_DRAIN) {
			/* Receivers start at most at the mean after. */
			if (fillof(f, i, eff(f, i)) > (double)x->mean)
				return 0;
		} else if (eff(f, i) - x->movable[i] > bot_b)
			return 0;
	}
	if (o->strategy == PLANNER_DRAIN) {
		/* Other slices of the drained one's pair must receive too. */
		for (i = 0; i < f->ns; i++) {
			if (x->bal[i] && f->sl[i].pair_id ==
			    f->sl[x->drained].pair_id && o->other_pair)
				return 0;
		}
	}
	return 1;
}

/* Check a drain refusal against the fleet, independently. */
static void
check_drain_refusal(const struct fleet *f, const struct planner_options *o,
    const struct expect *x, const char *cause)
{
	uint64_t room, free_sum = 0, free_max = 0, big = 0;
	size_t i, n = 0;

	for (i = 0; i < f->ns; i++) {
		if (!x->recv[i] || (o->other_pair &&
		    f->sl[i].pair_id == f->sl[o->slice].pair_id))
			continue;
		n++;
		room = eff(f, i) < hard_b(f, o, i) ? hard_b(f, o, i) -
		    eff(f, i) : 0;
		free_sum += room;
		if (room > free_max)
			free_max = room;
	}
	for (i = 0; i < f->na; i++) {
		if (f->ac[i].slice == o->slice && !f->ac[i].pinned &&
		    !f->ac[i].moving && f->ac[i].bytes > big)
			big = f->ac[i].bytes;
	}
	if (strstr(cause, "only slice") || strstr(cause, "no other slice"))
		assert_int_equal(n, 0);
	else if (strstr(cause, "do not fit"))
		assert_true(x->movable[o->slice] > free_sum);
	else if (strstr(cause, "fits on no receiving slice"))
		assert_true(big > free_max);
	else
		fail_msg("unexpected drain refusal: %s", cause);
}

/*
 * Random fleets of every kind, every strategy: each plan passes
 * check_plan, and when reachable() says the goal can be met, it is:
 * balance ends in the band; a drain leaves nothing movable behind and
 * ends in the band; a fill brings its slice up to the bottom of the band.
 * A refusal must name a real problem, checked here independently.
 */
static void
test_property(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct expect x;
	struct fleet f;
	uint64_t st = 20260612, u[MAXSLICES];
	int n, kind, nreach[3] = { 0, 0, 0 }, nrefused = 0, nplans = 0;
	size_t k, d;
	char *cause;

	(void)state;
	for (n = 0; n < 800; n++) {
		kind = n % 4 | (n % 16 >= 13 ? RF_FULL : 0);
		opts(&o, (enum planner_strategy)(n % 5 < 3 ? PLANNER_BALANCE :
		    n % 5 == 3 ? PLANNER_DRAIN : PLANNER_FILL), 0);
		d = rnd(&st) % 2;
		if (o.strategy == PLANNER_DRAIN && (kind & RF_FINE))
			kind |= RF_EVEN;
		fleet_random(&f, &st, kind, d);
		o.slice = d;
		o.min_gain = rnd(&st) % 2 ? 0 : UINT64_C(1) << 20;
		if ((kind & RF_FINE) && rnd(&st) % 2)
			o.min_gain = 4096;
		if (rnd(&st) % 3 == 0)
			o.band = 0.01 + (double)(rnd(&st) % 50) / 1000;
		if ((kind & RF_WILD) && rnd(&st) % 3 == 0)
			o.other_pair = 1;
		if ((kind & RF_WILD) && rnd(&st) % 4 == 0)
			o.max_moves = 1 + rnd(&st) % 20;
		if ((kind & RF_WILD) && rnd(&st) % 4 == 0)
			o.max_bytes = rnd(&st) % (200 * GIB);
		if (o.strategy == PLANNER_FILL && rnd(&st) % 2) {
			/* A new slice: empty, of any size. */
			for (k = 0; k < f.na; k++) {
				if (f.ac[k].slice == o.slice)
					f.ac[k].slice = f.dest[k] =
					    (o.slice + 1) % f.ns;
			}
		}
		fleet_sync(&f);
		expect_make(&f, &o, &x);
		cause = NULL;
		if (planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause) != 0) {
			assert_non_null(cause);
			nrefused++;
			if (o.strategy == PLANNER_BALANCE)
				assert_non_null(strstr(cause,
				    "no balancing slice"));
			else if (o.strategy == PLANNER_FILL)
				assert_false(x.recv[o.slice]);
			else
				check_drain_refusal(&f, &o, &x, cause);
			free(cause);
			fleet_free(&f);
			continue;
		}
		nplans++;
		check_plan(&f, &o, &r, u);
		if (reachable(&f, &o, &x)) {
			nreach[o.strategy]++;
			if (o.strategy == PLANNER_BALANCE && !r.band_reached)
				fail_msg("fleet %d: band reachable but not "
				    "reached (unmet %llu)", n,
				    (unsigned long long)r.unmet);
			if (o.strategy == PLANNER_DRAIN && (r.unmet != 0 ||
			    !r.band_reached))
				fail_msg("fleet %d: drain reachable, unmet "
				    "%llu, band %d", n, (unsigned long long)
				    r.unmet, r.band_reached);
			if (o.strategy == PLANNER_FILL && r.unmet != 0)
				fail_msg("fleet %d: fill reachable, unmet "
				    "%llu", n, (unsigned long long)r.unmet);
		}
		planner_result_free(&r);
		fleet_free(&f);
	}
	/* The claims must have been put to the test, not skipped. */
	print_message("# %d plans, %d refused, reachable: balance %d, drain "
	    "%d, fill %d\n", nplans, nrefused, nreach[0], nreach[1],
	    nreach[2]);
	assert_true(nreach[PLANNER_BALANCE] >= 20);
	assert_true(nreach[PLANNER_DRAIN] >= 5);
	assert_true(nreach[PLANNER_FILL] >= 5);
}

/* Same input, same plan, byte for byte. */
static void
test_deterministic(void **state)
{
	struct planner_options o;
	struct planner_result r1, r2;
	struct fleet f;
	uint64_t st = 7, u[MAXSLICES];
	int n;

	(void)state;
	for (n = 0; n < 20; n++) {
		fleet_random(&f, &st, n % 2 ? RF_WILD : RF_FINE, 0);
		opts(&o, PLANNER_BALANCE, 0);
		o.min_gain = 0;
		plan_ok(&f, &o, &r1, u);
		plan_ok(&f, &o, &r2, u);
		assert_int_equal(r1.nmoves, r2.nmoves);
		if (r1.nmoves > 0)
			assert_memory_equal(r1.moves, r2.moves,
			    r1.nmoves * sizeof *r1.moves);
		assert_memory_equal(r1.fill_after, r2.fill_after,
		    f.ns * sizeof *r1.fill_after);
		assert_int_equal(r1.bytes, r2.bytes);
		planner_result_free(&r1);
		planner_result_free(&r2);
		fleet_free(&f);
	}
}

/* A large min_gain refuses small moves; each made move clears it. */
static void
test_min_gain(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	accts_add(&f, 0, 6, 10 * GIB);
	accts_add(&f, 0, 40, GIB / 16);
	accts_add(&f, 1, 30, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	/* Moving 1/16 GiB at a 30-point gap gains 2 * 0.3 / 16 GiB. */
	o.min_gain = GIB / 20;
	plan_ok(&f, &o, &r, u);
	assert_true(r.nmoves > 0);
	for (size_t i = 0; i < r.nmoves; i++)
		assert_true(r.moves[i].bytes > GIB / 16);
	planner_result_free(&r);
	fleet_free(&f);
}

/*
 * Recently active accounts move last: only idle ones move while they can
 * do the job, even when active ones would fit the need better; once the
 * idle ones are gone, active ones move.
 */
static void
test_activity(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES];
	size_t i, k;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	for (i = 0; i < 30; i++) {
		k = acct_add(&f, 0, GIB);
		f.ac[k].last_activity = NOW - 3600;
	}
	accts_add(&f, 0, 200, GIB / 4);
	accts_add(&f, 1, 20, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	assert_true(r.band_reached);
	assert_int_equal(r.nmoves, 112);
	for (i = 0; i < r.nmoves; i++)
		assert_true(f.ac[r.moves[i].account].last_activity <
		    NOW - DAY);
	planner_result_free(&r);

	/* With fewer idle accounts, those go first, then active ones. */
	fleet_free(&f);
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	for (i = 0; i < 70; i++) {
		k = acct_add(&f, 0, GIB);
		f.ac[k].last_activity = NOW - 3600;
	}
	accts_add(&f, 0, 40, GIB / 4);
	accts_add(&f, 1, 20, GIB);
	plan_ok(&f, &o, &r, u);
	assert_true(r.band_reached);
	for (i = 0; i < r.nmoves; i++) {
		if (i < 40)
			assert_int_equal(r.moves[i].bytes, GIB / 4);
		else
			assert_int_equal(r.moves[i].bytes, GIB);
	}
	assert_true(r.nmoves > 40);
	planner_result_free(&r);
	fleet_free(&f);
}

/* Every refusal names its problem. */
static void
test_bad_input(void **state)
{
	struct planner_options o;
	struct fleet f;
	size_t k;

	(void)state;
	fleet_init(&f);
	opts(&o, PLANNER_BALANCE, 0);
	plan_bad(&f, &o, "empty fleet: no slices");
	opts(&o, PLANNER_DRAIN, 0);
	plan_bad(&f, &o, "no slices");

	slice_add(&f, "a", 100 * GIB, 1);
	accts_add(&f, 0, 10, GIB);
	opts(&o, PLANNER_DRAIN, 0);
	plan_bad(&f, &o, "only slice");
	opts(&o, PLANNER_DRAIN, 3);
	plan_bad(&f, &o, "slice index 3 is out of range");
	opts(&o, PLANNER_FILL, 1);
	plan_bad(&f, &o, "out of range");

	slice_add(&f, "b", 100 * GIB, 1);
	f.sl[1].receives = 0;
	opts(&o, PLANNER_DRAIN, 0);
	plan_bad(&f, &o, "no other slice can receive");
	opts(&o, PLANNER_FILL, 1);
	plan_bad(&f, &o, "cannot fill b");
	f.sl[1].receives = 1;
	opts(&o, PLANNER_DRAIN, 0);
	o.other_pair = 1;
	plan_bad(&f, &o, "outside its pair");

	/* b can hold 90 GiB; 95 movable GiB do not fit. */
	accts_add(&f, 0, 85, GIB);
	f.sl[0].capacity = 200 * GIB;
	opts(&o, PLANNER_DRAIN, 0);
	plan_bad(&f, &o, "do not fit under the hard limit");

	opts(&o, PLANNER_BALANCE, 0);
	o.band = 0;
	plan_bad(&f, &o, "band 0 is out of range");
	o.band = NAN;
	plan_bad(&f, &o, "band");
	o.band = -0.1;
	plan_bad(&f, &o, "band");
	opts(&o, PLANNER_BALANCE, 0);
	o.target_fill = 0.95;
	plan_bad(&f, &o, "target fill 0.95 is above the hard limit");
	opts(&o, PLANNER_BALANCE, 0);
	o.hard_limit = 1.5;
	plan_bad(&f, &o, "hard limit 1.5");
	opts(&o, PLANNER_BALANCE, 0);
	o.strategy = (enum planner_strategy)9;
	plan_bad(&f, &o, "unknown planner strategy");
	opts(&o, PLANNER_BALANCE, 0);
	o.active_within = -1;
	plan_bad(&f, &o, "active_within");

	/* An account on slice 7 of 2 (fleet_sync would index it). */
	opts(&o, PLANNER_BALANCE, 0);
	fleet_sync(&f);
	k = acct_add(&f, 0, GIB);
	f.ac[k].slice = 7;
	run_bad(&f, &o, "account 1095: slice index 7 is out of range");
	f.na--;

	/* Used that the accounts contradict. */
	fleet_sync(&f);
	f.sl[0].pending_out = f.sl[0].used + 1;
	run_bad(&f, &o, "slice a: pending moves out");
	f.sl[0].pending_out = 0;
	f.sl[0].used = GIB;
	run_bad(&f, &o, "rescan");

	/* No balancing slice with capacity. */
	f.sl[0].balances = 0;
	f.sl[1].capacity = 0;
	opts(&o, PLANNER_BALANCE, 0);
	plan_bad(&f, &o, "no balancing slice has capacity");
	fleet_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_slices),
		cmocka_unit_test(test_balanced),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_drain_top),
		cmocka_unit_test(test_full_fleet),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_pinned_moving),
		cmocka_unit_test(test_no_receive),
		cmocka_unit_test(test_other_pair_after),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_huge_account),
		cmocka_unit_test(test_all_pinned),
		cmocka_unit_test(test_unequal),
		cmocka_unit_test(test_min_gain),
		cmocka_unit_test(test_activity),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_property),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests_name("planner", tests, NULL, NULL);
}
