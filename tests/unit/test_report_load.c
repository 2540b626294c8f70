/*
 * Unit tests of the load, evacuation and forecast parts of the reports'
 * model (cli/report.c): loads recorded in a real catalog give known load
 * now, trends, days to the load target and hard limit, group sums; a
 * configuration gives known evacuation and restore times per slice and
 * group; the forecast counts the slices to add. The fleet: reportfix.h.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <math.h>

#include "cli/report.h"
#include "common/config.h"
#include "state/state.h"
#include "state/slice.h"

#include "catalogfix.h"
#include "reportfix.h"

/*
 * Load: now (the last day), its trend over the daily loads, the days to
 * the load target and hard limit: s1 at 100 of 1000 ops/s growing 10 a
 * day reaches 75% (750) in 65 days and 90% in 80.
 */
static void
test_load(void **arg)
{
	struct fixture *f = *arg;
	const struct report_row *s, *g;
	struct report r;
	char buf[64];

	fleet_history(f);
	fleet_load(f);
	build(f, &r, REPORT_BY_SLICE, INT64_MIN, INT64_MAX);
	s = row(r.slices, r.nslices, "s1");
	assert_int_equal(s->load_slices, 1);
	assert_int_equal(s->ops_capacity, 1000);
	assert_int_equal(s->load_capacity, 1000);
	assert_near(s->ops, 100);
	assert_near(s->load_bytes, 4096);
	assert_near(report_load_fill(s), 0.1);
	assert_int_equal(s->load_growth.ok, 1);
	assert_int_equal(s->load_growth.points, 10);
	assert_near(s->load_growth.per_day, 10);
	assert_near(s->load_to_target, 65);
	assert_near(s->load_to_hard, 80);
	assert_near(s->load_projected, 100 + 90 * 10);
	assert_non_null(s->loads);
	assert_int_equal(s->loads->n, 10);
	assert_string_equal(report_load_trend(s), "growing");
	assert_string_equal(report_load_days_text(s, s->load_to_target, buf,
	    sizeof buf), "65d");
	assert_string_equal(report_days_date(&r, s->load_to_target, buf,
	    sizeof buf), "2026-03-16");
	assert_string_equal(report_days_date(&r, s->load_to_hard, buf,
	    sizeof buf), "2026-03-31");
	assert_string_equal(report_ops_text(s, s->ops, buf, sizeof buf),
	    "100");
	assert_string_equal(report_load_fill_text(s, buf, sizeof buf),
	    "10.0%");
	assert_string_equal(report_signed_ops(s->load_growth.per_day, buf,
	    sizeof buf), "+10/s");
	/* s2: its own ops capacity, flat: 25%, never. */
	s = row(r.slices, r.nslices, "s2");
	assert_int_equal(s->ops_capacity, 2000);
	assert_near(s->ops, 500);
	assert_near(report_load_fill(s), 0.25);
	assert_near(s->load_growth.per_day, 0);
	assert_true(s->load_to_target == -1 && s->load_to_hard == -1);
	assert_string_equal(report_load_days_text(s, s->load_to_target, buf,
	    sizeof buf), "never");
	/* s3: never measured: no load, not 0. */
	s = row(r.slices, r.nslices, "s3");
	assert_int_equal(s->load_slices, 0);
	assert_true(isnan(report_load_fill(s)));
	assert_null(s->loads);
	assert_true(s->load_to_target == -1);
	assert_string_equal(report_load_trend(s), "not measured");
	assert_string_equal(report_ops_text(s, s->ops, buf, sizeof buf), "-");
	assert_string_equal(report_load_fill_text(s, buf, sizeof buf), "-");
	assert_string_equal(report_load_days_text(s, s->load_to_target, buf,
	    sizeof buf), "-");
	/* The fleet: the measured slices' load against their capacity:
	 * 600 of 3000 ops/s, +10 a day: 2250 in 165 days. */
	g = &r.fleet;
	assert_int_equal(g->load_slices, 2);
	assert_int_equal(g->ops_capacity, 1000 + 2000 + 1000 + 1000);
	assert_int_equal(g->load_capacity, 3000);
	assert_near(g->ops, 600);
	assert_near(report_load_fill(g), 0.2);
	assert_near(g->load_growth.per_day, 10);
	assert_near(g->load_to_target, 165);
	assert_near(g->load_to_hard, 210);
	report_free(&r);

	/* By pair: p1 = s1 + s2 (+ s5 retired, not counted); p2 has no
	 * load measured. */
	build(f, &r, REPORT_BY_PAIR, INT64_MIN, INT64_MAX);
	g = row(r.groups, r.ngroups, "p1");
	assert_int_equal(g->load_slices, 2);
	assert_int_equal(g->ops_capacity, 3000);
	assert_near(g->ops, 600);
	assert_near(g->load_to_target, 165);
	g = row(r.groups, r.ngroups, "p2");
	assert_int_equal(g->load_slices, 0);
	assert_int_equal(g->ops_capacity, 2000);
	assert_true(g->load_to_target == -1);
	assert_string_equal(report_load_days_text(g, g->load_to_target, buf,
	    sizeof buf), "-");
	report_free(&r);

	/* The last three days only: the trend is the same, three points. */
	build(f, &r, REPORT_BY_SLICE, T0 + 7 * DAY, INT64_MAX);
	s = row(r.slices, r.nslices, "s1");
	assert_int_equal(s->load_growth.points, 3);
	assert_near(s->load_growth.per_day, 10);
	report_free(&r);

	/* Made a day later, the load window holds no interval: no load
	 * now, however much history. */
	report_init(&r, NOW + DAY);
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	s = row(r.slices, r.nslices, "s1");
	assert_int_equal(s->load_slices, 0);
	assert_int_equal(s->load_growth.ok, 1);
	assert_true(s->load_to_target == -1);
	assert_int_equal(r.fleet.load_slices, 0);
	report_free(&r);

	/* A load window of 10 days averages the ten hours: 55 ops/s. */
	report_init(&r, NOW);
	r.load_window = 10 * DAY;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_near(row(r.slices, r.nslices, "s1")->ops, 55);
	report_free(&r);
}

/*
 * Evacuation and restore per slice and group from a configuration:
 * [throttle] 10 B/s, restore at 5 B/s, max_restore 60 s. s1 190 B: 19 s
 * and 38 s; s2 500 B: 50 s and 100 s, split in 2; s3 1000 B: 100 s and
 * 200 s, in 4; s4 790 B: 79 s and 158 s, in 3.
 */
static void
test_evacuation(void **arg)
{
	struct fixture *f = *arg;
	const struct report_row *s, *g;
	struct config c;
	struct report r;
	char buf[64];

	fleet_history(f);
	config_defaults(&c);
	c.bytes_per_second = 10;
	c.restore_rate = 5;
	c.max_restore = 60;
	report_init(&r, NOW);
	report_configure(&r, &c);
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	s = row(r.slices, r.nslices, "s1");
	assert_int_equal(s->evac.status, EVACUATION_OK);
	assert_int_equal(s->evac.seconds, 19);
	assert_int_equal(s->evac.restore, 38);
	assert_int_equal(s->evac.flagged, 0);
	assert_int_equal(s->evac.split, 1);
	assert_string_equal(report_evac_text(s, buf, sizeof buf), "19s");
	s = row(r.slices, r.nslices, "s2");
	assert_int_equal(s->evac.seconds, 50);
	assert_int_equal(s->evac.restore, 100);
	assert_int_equal(s->evac.split, 2);
	s = row(r.slices, r.nslices, "s3");
	assert_int_equal(s->evac.seconds, 100);
	assert_int_equal(s->evac.restore, 200);
	assert_int_equal(s->evac.split, 4);
	assert_int_equal(s->flagged, 1);
	s = row(r.slices, r.nslices, "s4");
	assert_int_equal(s->evac.split, 3);
	s = row(r.slices, r.nslices, "s5");
	assert_int_equal(s->evac.status, EVACUATION_EMPTY);
	assert_int_equal(s->evac.flagged, 0);
	assert_string_equal(report_evac_text(s, buf, sizeof buf), "-");
	/* The fleet: the longest, and how many are flagged. */
	assert_int_equal(r.fleet.evac.seconds, 100);
	assert_int_equal(r.fleet.evac.restore, 200);
	assert_int_equal(r.fleet.flagged, 3);
	assert_string_equal(report_evac_text(&r.fleet, buf, sizeof buf),
	    "1m 40s");
	report_free(&r);

	r.by = REPORT_BY_PAIR;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	g = row(r.groups, r.ngroups, "p1");
	assert_int_equal(g->evac.seconds, 50);
	assert_int_equal(g->evac.restore, 100);
	assert_int_equal(g->flagged, 1);
	g = row(r.groups, r.ngroups, "p2");
	assert_int_equal(g->evac.seconds, 100);
	assert_int_equal(g->flagged, 2);
	report_free(&r);

	/* Without any throttle the evacuation is not known, for a slice
	 * and for every group holding one; the restore still is. */
	c.bytes_per_second = 0;
	report_configure(&r, &c);
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	s = row(r.slices, r.nslices, "s1");
	assert_int_equal(s->evac.status, EVACUATION_UNTHROTTLED);
	assert_int_equal(s->evac.seconds, -1);
	assert_string_equal(report_evac_text(s, buf, sizeof buf),
	    "unthrottled");
	assert_non_null(report_evac_why(s, buf, sizeof buf));
	assert_non_null(strstr(buf, "[throttle] sets no rate"));
	assert_int_equal(r.fleet.evac.seconds, -1);
	assert_int_equal(r.fleet.evac.status, EVACUATION_UNTHROTTLED);
	assert_int_equal(r.fleet.evac.restore, 200);
	assert_int_equal(r.fleet.flagged, 3);
	report_free(&r);
	config_free(&c);
}

/*
 * The forecast's slices to add, of the median active capacity (1000 B)
 * and 1000 ops/s unless told: in 200 days the measured load is 2100 +
 * 500 ops/s, over 75% of 3000: 467 ops/s more, one slice, needed by day
 * 165 when the load crosses its target; bytes stay below 75%.
 */
static void
test_forecast_add(void **arg)
{
	struct fixture *f = *arg;
	const struct report_row **v;
	struct report r;

	fleet_history(f);
	fleet_load(f);
	report_init(&r, NOW);
	r.days = 200;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_int_equal(r.add_size, 1000);
	assert_int_equal(r.add_ops, 1000);
	assert_near(r.fleet.load_projected, 2100 + 500);
	assert_int_equal(r.fleet.add_for_bytes, 0);
	assert_int_equal(r.fleet.add_for_load, 1);
	assert_int_equal(r.fleet.add_slices, 1);
	assert_near(r.fleet.add_by, 165);
	/* s1 alone: 2100 ops/s against 75% of 1000 needs 1800 more: 2. */
	assert_int_equal(row(r.slices, r.nslices, "s1")->add_for_load, 2);
	assert_int_equal(row(r.slices, r.nslices, "s2")->add_slices, 0);
	assert_true(row(r.slices, r.nslices, "s2")->add_by == -1);
	report_free(&r);

	/* Slices of 200 ops/s: three of them. */
	r.slice_ops = 200;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_int_equal(r.fleet.add_for_load, 3);
	assert_int_equal(r.fleet.add_slices, 3);
	report_free(&r);

	/* Below 25% fill in 90 days needs 3720 B more: 4 slices of 1000 B,
	 * 2 of 2000 B; the bytes cross 25% now. */
	report_init(&r, NOW);
	r.target = 0.25;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_int_equal(r.fleet.add_for_bytes, 4);
	assert_int_equal(r.fleet.add_for_load, 0);
	assert_int_equal(r.fleet.add_slices, 4);
	assert_near(r.fleet.add_by, 0);
	report_free(&r);
	r.slice_size = 2000;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_int_equal(r.fleet.add_slices, 2);
	report_free(&r);

	/* The order counts the load: s3, last by its bytes (no trend),
	 * goes first once its load, 850 ops/s growing 50 a day, reaches the
	 * hard limit (900) in a day, before s1's bytes do (71 days). */
	load_hour(f, "s3", T0 + 8 * DAY, 800);
	load_hour(f, "s3", T0 + 9 * DAY, 850);
	report_init(&r, NOW);
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_near(row(r.slices, r.nslices, "s3")->load_to_hard, 1);
	v = report_forecast_order(&r);
	assert_string_equal(v[0]->name, "s3");
	assert_string_equal(v[1]->name, "s1");
	assert_string_equal(v[2]->name, "s4");
	free(v);
	report_free(&r);

	/* No active slice: the size to add is the median of the slices
	 * not retired. */
	report_init(&r, NOW);
	r.target = 0.25;
	assert_ok(state_slice_set_state(f->st, "s1", "readonly", &cause));
	assert_ok(state_slice_set_state(f->st, "s2", "readonly", &cause));
	assert_ok(state_slice_set_state(f->st, "s3", "readonly", &cause));
	assert_ok(state_slice_set_state(f->st, "s4", "readonly", &cause));
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_int_equal(r.add_size, 1000);	/* of the slices not retired */
	report_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evacuation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forecast_add, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("report_load", tests, NULL, NULL);
}
