/*
 * Unit tests for planner/: hand-made fleets with known answers and every
 * kind of bad input, each plan checked by the independent checker of
 * plancheck.h. The property test over random fleets is in
 * test_planner_property.c.
 */
#define _GNU_SOURCE
/* util.h first: cmocka.h defines a fail() macro that clashes with fail(). */
#include "common/util.h"
#include "testutil.h"
#include "planfix.h"
#include "plancheck.h"

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
 * A slice whose health is not ok (degraded, unresponsive) is never a
 * target, however empty, in any strategy; it may still give.
 */
static void
test_unhealthy(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t u[MAXSLICES], from_deg = 0;
	size_t i;

	(void)state;
	fleet_init(&f);
	slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "deg", 100 * GIB, 2);
	slice_add(&f, "unr", 100 * GIB, 3);
	slice_add(&f, "c", 100 * GIB, 4);
	slice_add(&f, "d", 100 * GIB, 5);
	f.sl[1].unhealthy = 1;
	f.sl[2].unhealthy = 1;
	accts_add(&f, 0, 70, GIB);
	accts_add(&f, 3, 30, GIB);
	accts_add(&f, 4, 20, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	assert_true(r.nmoves > 0);
	for (i = 0; i < r.nmoves; i++)
		assert_true(r.moves[i].to != 1 && r.moves[i].to != 2);
	planner_result_free(&r);
	opts(&o, PLANNER_DRAIN, 0);
	plan_ok(&f, &o, &r, u);
	assert_true(r.nmoves > 0);
	for (i = 0; i < r.nmoves; i++)
		assert_true(r.moves[i].to != 1 && r.moves[i].to != 2);
	planner_result_free(&r);
	opts(&o, PLANNER_FILL, 1);
	plan_bad(&f, &o, "cannot fill deg: its health is not ok");
	opts(&o, PLANNER_FILL, 2);
	plan_bad(&f, &o, "cannot fill unr: its health is not ok");

	/* Full and degraded: it gives, to healthy slices only. */
	accts_add(&f, 1, 80, GIB);
	opts(&o, PLANNER_BALANCE, 0);
	plan_ok(&f, &o, &r, u);
	for (i = 0; i < r.nmoves; i++) {
		assert_true(r.moves[i].to != 1 && r.moves[i].to != 2);
		if (r.moves[i].from == 1)
			from_deg += r.moves[i].bytes;
	}
	assert_true(from_deg > 0);
	planner_result_free(&r);

	/* Only unhealthy slices left to receive: nowhere to drain. */
	f.sl[3].unhealthy = 1;
	f.sl[4].receives = 0;
	opts(&o, PLANNER_DRAIN, 0);
	plan_bad(&f, &o, "no other slice can receive: none is active with "
	    "health ok");
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
		cmocka_unit_test(test_unhealthy),
		cmocka_unit_test(test_other_pair_after),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_huge_account),
		cmocka_unit_test(test_all_pinned),
		cmocka_unit_test(test_unequal),
		cmocka_unit_test(test_min_gain),
		cmocka_unit_test(test_activity),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests_name("planner", tests, NULL, NULL);
}
