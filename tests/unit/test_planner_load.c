/*
 * Unit tests for the planner's load dimension (planner/load.c): fleets
 * balanced by bytes but not by load, the load hard limit move by move,
 * the lower bounds against hand computations, apportioning, drains and
 * fills that keep the load limits, and random fleets replayed move by
 * move by the checker below (independent of the planner's own state).
 */
#define _GNU_SOURCE
/* util.h first: cmocka.h defines a fail() macro that clashes with fail(). */
#include "common/util.h"
#include "testutil.h"
#include "planfix.h"

#define MIB	(UINT64_C(1) << 20)

/* Give account i a load and add it to its slice's. */
static void
load_set(struct fleet *f, size_t i, double load)
{
	f->ac[i].load = load;
	f->sl[f->ac[i].slice].load += load;
}

/* Every slice gets ops capacity c. */
static void
ops_all(struct fleet *f, double c)
{
	size_t i;

	for (i = 0; i < f->ns; i++)
		f->sl[i].ops_capacity = c;
}

static void
lopts(struct planner_options *o, enum planner_strategy st, size_t slice)
{
	opts(o, st, slice);
	o->by_load = 1;
}

/*
 * Replay a plan: each account once, movable, to a receiver; bytes and
 * load in plan order never over either hard limit on the target; the
 * sums and the per-slice fills the result gives. ua and la get the
 * bytes and load of every slice after it.
 */
static void
check_load_plan(const struct fleet *f, const struct planner_options *o,
    const struct planner_result *r, uint64_t *ua, double *la)
{
	unsigned char *moved;
	const struct planner_move *m;
	const struct planner_account *a;
	double load = 0, c;
	uint64_t bytes = 0;
	size_t i;

	moved = calloc(f->na ? f->na : 1, 1);
	assert_non_null(moved);
	for (i = 0; i < f->ns; i++) {
		ua[i] = eff(f, i);
		la[i] = f->sl[i].load - f->sl[i].load_out + f->sl[i].load_in;
	}
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		assert_true(m->account < f->na);
		a = &f->ac[m->account];
		if (moved[m->account]++)
			fail_msg("move %zu: account %zu moves twice", i,
			    m->account);
		assert_false(a->pinned);
		assert_false(a->moving);
		assert_int_equal(m->from, a->slice);
		assert_true(f->sl[m->to].receives && !f->sl[m->to].unhealthy);
		assert_int_equal(m->bytes, a->bytes);
		assert_true(fabs(m->load - a->load) < 1e-12);
		ua[m->from] -= m->bytes;
		ua[m->to] += m->bytes;
		la[m->from] -= m->load;
		la[m->to] += m->load;
		if ((double)ua[m->to] > o->hard_limit *
		    (double)f->sl[m->to].capacity)
			fail_msg("move %zu pushes slice %zu over the hard "
			    "limit", i, m->to);
		c = f->sl[m->to].ops_capacity;
		if (c > 0 && la[m->to] > o->load_hard * c + 1e-6)
			fail_msg("move %zu pushes slice %zu over the load hard "
			    "limit: %.3f > %.3f ops/s", i, m->to, la[m->to],
			    o->load_hard * c);
		bytes += m->bytes;
		load += m->load;
	}
	free(moved);
	assert_int_equal(r->bytes, bytes);
	assert_true(fabs(r->load - load) < 1e-6);
	for (i = 0; i < f->ns; i++) {
		c = f->sl[i].ops_capacity;
		if (c > 0)
			assert_true(fabs(r->load_after[i] - la[i] / c) < 1e-9);
		assert_true(fabs(r->fill_after[i] - fillof(f, i, ua[i])) <
		    1e-12);
	}
}

/* Is every balancing slice inside both bands of r (receivers over the
 * bottoms, every one under the tops)? */
static int
both_in_band(const struct fleet *f, const struct planner_result *r,
    const uint64_t *ua, const double *la)
{
	double fl, lf;
	size_t i;

	for (i = 0; i < f->ns; i++) {
		if (!f->sl[i].balances)
			continue;
		fl = fillof(f, i, ua[i]);
		lf = la[i] / f->sl[i].ops_capacity;
		if (fl > r->band_high + 1e-12 || lf > r->load_band_high + 1e-9)
			return 0;
		if (f->sl[i].receives && (fl < r->band_low - 1e-12 ||
		    lf < r->load_band_low - 1e-9))
			return 0;
	}
	return 1;
}

/*
 * Four slices at 50% of 100 GiB, the same bytes each; on slice 0 ten
 * small busy mailboxes (100 MiB, 40 ops/s each) make it 59.6% loaded of
 * 1000 ops/s while the others serve 200 (1 GiB mailboxes at 4 ops/s).
 * By bytes it is balanced; by load the busy ones move, few bytes, and
 * both bands are reached.
 */
static void
test_hot_slice(void **state)
{
	struct planner_options o;
	struct planner_result r, r2;
	struct fleet f;
	uint64_t ua[MAXSLICES];
	double la[MAXSLICES];
	char *cause = NULL;
	size_t i, s;

	(void)state;
	fleet_init(&f);
	for (s = 0; s < 4; s++)
		slice_add(&f, "s", 100 * GIB, (int64_t)s + 1);
	f.sl[0].name = "hot";
	for (i = 0; i < 10; i++)
		load_set(&f, acct_add(&f, 0, 100 * MIB), 40);
	/* 50 GiB each: 1000 MiB of busy ones, 24 MiB idle, 49 GiB. */
	load_set(&f, acct_add(&f, 0, 24 * MIB), 0);
	for (s = 0; s < 4; s++) {
		for (i = 0; i < (s == 0 ? 49u : 50u); i++)
			load_set(&f, acct_add(&f, s, GIB), 4);
	}
	ops_all(&f, 1000);
	fleet_sync(&f);

	/* Bytes alone: balanced, nothing to do. */
	opts(&o, PLANNER_BALANCE, 0);
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    0);
	assert_int_equal(r.nmoves, 0);
	assert_null(r.load_after);
	planner_result_free(&r);

	lopts(&o, PLANNER_BALANCE, 0);
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    0);
	check_load_plan(&f, &o, &r, ua, la);
	assert_true(r.band_reached);
	assert_true(r.load_band_reached);
	assert_true(both_in_band(&f, &r, ua, la));
	/* Load before: 596 ops/s on hot, 200 elsewhere; mean 29.9%. */
	assert_true(fabs(r.load_before[0] - 0.596) < 1e-9);
	assert_true(fabs(r.load_mean - 0.299) < 1e-9);
	assert_true(fabs(r.load_band_high - 0.349) < 1e-9);
	assert_true(fabs(r.load_band_low - 0.249) < 1e-9);
	/* Only busy mailboxes leave hot, and few bytes move at all. */
	assert_true(r.nmoves > 0);
	for (i = 0; i < r.nmoves; i++) {
		if (r.moves[i].from == 0)
			assert_int_equal(r.moves[i].bytes, 100 * MIB);
	}
	assert_true(r.bytes <= 10 * 100 * MIB);
	/* 247 ops/s over the top, 40 ops/s per 100 MiB: 617.5 MiB; the
	 * others miss 3 x 49 ops/s, less. */
	assert_true(fabs(r.load_lower_bound - 247) < 1e-6);
	assert_int_equal(r.load_lower_bytes, (uint64_t)floor(247.0 / 40 *
	    100 * MIB));
	assert_true(r.bytes >= r.load_lower_bytes);
	assert_true(r.both_lower_bytes >= r.load_lower_bytes);
	assert_true(r.load_max_after <= 0.399 + 1e-9);
	assert_true(r.load_stddev_after < r.load_stddev_before);

	/* The same input gives the same plan. */
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r2,
	    &cause), 0);
	assert_int_equal(r2.nmoves, r.nmoves);
	assert_memory_equal(r2.moves, r.moves, r.nmoves * sizeof *r.moves);
	planner_result_free(&r);
	planner_result_free(&r2);
	fleet_free(&f);
}

/*
 * A slice full of bytes but idle, one empty of bytes but hot: bytes go
 * one way in big idle mailboxes, load the other in small busy ones.
 */
static void
test_crossed(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t ua[MAXSLICES];
	double la[MAXSLICES];
	char *cause = NULL;
	size_t i, full, hot, third;

	(void)state;
	fleet_init(&f);
	full = slice_add(&f, "full", 100 * GIB, 1);
	hot = slice_add(&f, "hot", 100 * GIB, 2);
	third = slice_add(&f, "third", 100 * GIB, 3);
	accts_add(&f, full, 70, GIB);		/* idle: 0.5 ops/s each */
	accts_add(&f, hot, 20, GIB);		/* 0.5 ops/s each */
	accts_add(&f, hot, 100, 100 * MIB);	/* busy: 6 ops/s each */
	accts_add(&f, third, 45, GIB);
	for (i = 0; i < f.na; i++)
		load_set(&f, i, f.ac[i].bytes == GIB ? 0.5 : 6);
	ops_all(&f, 1000);
	fleet_sync(&f);
	lopts(&o, PLANNER_BALANCE, 0);
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    0);
	check_load_plan(&f, &o, &r, ua, la);
	assert_true(r.band_reached);
	assert_true(r.load_band_reached);
	assert_true(both_in_band(&f, &r, ua, la));
	for (i = 0; i < r.nmoves; i++) {
		/* Out of hot only busy ones; out of full only idle ones. */
		if (r.moves[i].from == hot)
			assert_true(r.moves[i].bytes == 100 * MIB);
		if (r.moves[i].from == full)
			assert_true(r.moves[i].bytes == GIB);
	}
	assert_true(r.bytes >= r.both_lower_bytes);
	assert_true((double)r.bytes <= 1.25 * (double)r.both_lower_bytes);
	planner_result_free(&r);
	fleet_free(&f);
}

/*
 * The load hard limit holds move by move, in a drain and a fill too: a
 * drain onto slices near the load limit skips those that would go over.
 */
static void
test_load_hard(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t ua[MAXSLICES];
	double la[MAXSLICES];
	char *cause = NULL;
	size_t i, d, busy, calm, fresh;

	(void)state;
	fleet_init(&f);
	d = slice_add(&f, "d", 100 * GIB, 1);
	busy = slice_add(&f, "busy", 100 * GIB, 2);
	calm = slice_add(&f, "calm", 100 * GIB, 3);
	accts_add(&f, d, 20, GIB);		/* 20 ops/s each: 400 */
	accts_add(&f, busy, 20, GIB);		/* 44.5 ops/s each: 890 */
	accts_add(&f, calm, 40, GIB);		/* 1 ops/s each */
	for (i = 0; i < f.na; i++)
		load_set(&f, i, f.ac[i].slice == d ? 20 :
		    f.ac[i].slice == busy ? 44.5 : 1);
	ops_all(&f, 1000);
	fleet_sync(&f);
	lopts(&o, PLANNER_DRAIN, d);
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    0);
	check_load_plan(&f, &o, &r, ua, la);
	assert_int_equal(r.nmoves, 20);
	for (i = 0; i < r.nmoves; i++)
		assert_int_equal(r.moves[i].to, calm);	/* busy: 890 + 20 */
	assert_true(fabs(r.load_lower_bound - 400) < 1e-9);
	planner_result_free(&r);

	/* A fill stays under the load band's top: 0.05 over the mean. */
	fleet_free(&f);
	fleet_init(&f);
	busy = slice_add(&f, "busy", 100 * GIB, 1);
	calm = slice_add(&f, "calm", 100 * GIB, 2);
	fresh = slice_add(&f, "fresh", 100 * GIB, 3);
	accts_add(&f, busy, 60, GIB);
	accts_add(&f, calm, 60, GIB);
	for (i = 0; i < f.na; i++)
		load_set(&f, i, f.ac[i].slice == busy ? 10 : 1);
	ops_all(&f, 1000);
	fleet_sync(&f);
	lopts(&o, PLANNER_FILL, fresh);
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    0);
	check_load_plan(&f, &o, &r, ua, la);
	assert_true(r.nmoves > 0);
	assert_true(la[fresh] <= 1000 * r.load_band_high + 1e-6);
	planner_result_free(&r);
	fleet_free(&f);
}

/* Apportioning: by weight, evenly without any, nothing without load. */
static void
test_apportion(void **state)
{
	struct planner_slice sl[3];
	struct planner_account ac[6];
	double w[6] = { 1, 3, 0, 0, 5, -2 };
	size_t i;

	(void)state;
	memset(sl, 0, sizeof sl);
	memset(ac, 0, sizeof ac);
	sl[0].load = 100;
	sl[1].load = 30;
	sl[2].load = 0;
	ac[0].slice = ac[1].slice = 0;
	ac[2].slice = ac[3].slice = 1;
	ac[4].slice = 2;
	ac[5].slice = 7;		/* out of range */
	for (i = 0; i < 6; i++)
		ac[i].load = 99;
	planner_apportion(sl, 3, ac, 6, w);
	assert_true(fabs(ac[0].load - 25) < 1e-12);
	assert_true(fabs(ac[1].load - 75) < 1e-12);
	assert_true(fabs(ac[2].load - 15) < 1e-12);	/* evenly */
	assert_true(fabs(ac[3].load - 15) < 1e-12);
	assert_true(ac[4].load == 0);			/* no load */
	assert_true(ac[5].load == 0);
	planner_apportion(sl, 3, ac, 6, NULL);
	assert_true(fabs(ac[0].load - 50) < 1e-12);
}

/* Bad loads and load options are refused with a cause. */
static void
test_load_bad(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	char *cause = NULL;
	size_t a;

	(void)state;
	fleet_init(&f);
	a = slice_add(&f, "a", 100 * GIB, 1);
	slice_add(&f, "b", 100 * GIB, 2);
	accts_add(&f, a, 10, GIB);
	ops_all(&f, 1000);
	fleet_sync(&f);
	lopts(&o, PLANNER_BALANCE, 0);
	f.sl[0].load = -1;
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    -1);
	assert_non_null(strstr(cause, "slice a: its load"));
	free(cause);
	cause = NULL;
	f.sl[0].load = NAN;
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    -1);
	free(cause);
	cause = NULL;
	f.sl[0].load = 1;
	f.ac[0].load = -0.5;
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    -1);
	assert_non_null(strstr(cause, "its load is negative"));
	free(cause);
	cause = NULL;
	f.ac[0].load = 0;
	o.load_band = 0.7;
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    -1);
	assert_non_null(strstr(cause, "load band"));
	free(cause);
	cause = NULL;
	o.load_band = 0.05;
	o.load_target = 0.95;
	assert_int_equal(planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause),
	    -1);
	assert_non_null(strstr(cause, "load target"));
	free(cause);
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

/*
 * Random fleets: 6 to 20 slices at 30% to 70% of bytes, thousands of
 * small accounts with loads spread over three decades, one slice in four
 * three times as busy, some pinned and moving. Every plan replays within
 * both hard limits, its bytes are at least the bound for both, and with
 * accounts this small both bands are reached.
 */
static void
test_random(void **state)
{
	struct planner_options o;
	struct planner_result r;
	struct fleet f;
	uint64_t st = 2026, ua[MAXSLICES];
	double la[MAXSLICES], hot;
	char *cause = NULL;
	size_t run, i, s, n, reached = 0;

	(void)state;
	for (run = 0; run < 40; run++) {
		fleet_init(&f);
		n = 6 + rnd(&st) % 15;
		for (s = 0; s < n; s++)
			slice_add(&f, "r", (50 + rnd(&st) % 100) * GIB,
			    (int64_t)(s / 2));
		for (s = 0; s < n; s++) {
			hot = rnd(&st) % 4 == 0 ? 3 : 1;
			while (eff(&f, s) + 64 * MIB < (uint64_t)((double)
			    f.sl[s].capacity * (0.3 + 0.4 * (double)(rnd(&st)
			    % 100) / 100))) {
				i = acct_add(&f, s, (1 + rnd(&st) % 64) * MIB);
				load_set(&f, i, hot * 0.001 *
				    pow(10, (double)(rnd(&st) % 300) / 100));
				f.ac[i].pinned = rnd(&st) % 100 == 0;
				fleet_sync(&f);
			}
		}
		for (i = 0; i < f.na; i++)
			f.ac[i].moving = !f.ac[i].pinned &&
			    rnd(&st) % 200 == 0;
		for (s = 0; s < n; s++)
			f.sl[s].ops_capacity = 4 * (double)f.sl[s].capacity /
			    (double)GIB;
		fleet_sync(&f);
		lopts(&o, PLANNER_BALANCE, 0);
		o.other_pair = run % 3 == 0;
		if (planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause) != 0)
			fail_msg("run %zu refused: %s", run, cause);
		check_load_plan(&f, &o, &r, ua, la);
		assert_true(r.bytes + GIB >= r.both_lower_bytes ||
		    !r.band_reached || !r.load_band_reached);
		if (r.band_reached && r.load_band_reached) {
			assert_true(both_in_band(&f, &r, ua, la));
			reached++;
		}
		planner_result_free(&r);
		fleet_free(&f);
	}
	/* Moving accounts keep some fleets out of reach; not most. */
	assert_true(reached >= 36);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_slice),
		cmocka_unit_test(test_crossed),
		cmocka_unit_test(test_load_hard),
		cmocka_unit_test(test_apportion),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
