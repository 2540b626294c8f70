/*
 * Property tests for planner/: random fleets of every kind and strategy,
 * in which the independent checker of plancheck.h replays each plan move
 * by move, and the same input must give the same plan.
 */
#define _GNU_SOURCE
/* util.h first: cmocka.h defines a fail() macro that clashes with fail(). */
#include "common/util.h"
#include "testutil.h"
#include "planfix.h"
#include "plancheck.h"

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
 * the argument in balance.c: every balancing slice receives; no pair,
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_property),
	};

	return cmocka_run_group_tests_name("planner_property", tests, NULL,
	    NULL);
}
