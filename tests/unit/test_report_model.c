/*
 * Unit tests of the reports' model (cli/report.c): a real catalog with
 * known slices, snapshots and moves gives known fills, growth, days to
 * the target and the hard limit, group and fleet sums, and move totals.
 * The fleet: see reportfix.h.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>

#include "cli/report.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/report.h"
#include "state/server.h"
#include "state/slice.h"
#include "state/snapshot.h"

#include "catalogfix.h"
#include "reportfix.h"

/* Fill, growth, days and the forecast of every slice. */
static void
test_slices(void **arg)
{
	struct fixture *f = *arg;
	const struct report_row *s;
	struct report r;
	char buf[64];

	fleet_history(f);
	build(f, &r, REPORT_BY_SLICE, INT64_MIN, INT64_MAX);
	assert_int_equal(r.nslices, 5);
	assert_ptr_equal(r.groups, r.slices);
	assert_int_equal(r.ngroups, 5);
	assert_string_equal(r.slices[0].name, "s1");
	assert_string_equal(r.slices[4].name, "s5");

	/* s1: 190 of 1000 B, +10 B a day: 750 B in 56 days, 900 in 71. */
	s = row(r.slices, r.nslices, "s1");
	assert_string_equal(s->pair, "p1");
	assert_string_equal(s->server, "mx1");
	assert_string_equal(s->state, "active");
	assert_int_equal(s->accounts, 1);
	assert_int_equal(s->files, 19);
	assert_int_equal(s->used, 190);
	assert_int_equal(s->capacity, 1000);
	assert_int_equal(s->growth.ok, 1);
	assert_int_equal(s->growth.points, 10);
	assert_int_equal(s->growth.first, T0);
	assert_int_equal(s->growth.last, NOW);
	assert_near(s->growth.per_day, 10);
	assert_near(s->to_target, 56);
	assert_near(s->to_hard, 71);
	assert_near(s->projected, 190 + 90 * 10);
	assert_non_null(s->series);
	assert_int_equal(s->series->n, 10);
	assert_string_equal(report_trend(s), "growing");
	assert_string_equal(report_days_text(s, s->to_target, buf,
	    sizeof buf), "56d");
	assert_string_equal(report_days_date(&r, s->to_target, buf,
	    sizeof buf), "2026-03-07");
	assert_string_equal(report_days_time(&r, s->to_hard, buf,
	    sizeof buf), "2026-03-22T00:00:00Z");
	assert_string_equal(report_signed_size(s->growth.per_day, buf,
	    sizeof buf), "+10 B");

	/* s2: flat, never fills; its forecast is what it holds. */
	s = row(r.slices, r.nslices, "s2");
	assert_int_equal(s->growth.ok, 1);
	assert_near(s->growth.per_day, 0);
	assert_true(s->to_target == -1 && s->to_hard == -1);
	assert_near(s->projected, 500);
	assert_string_equal(report_trend(s), "flat");
	assert_string_equal(report_days_text(s, s->to_target, buf,
	    sizeof buf), "never");
	assert_string_equal(report_days_date(&r, s->to_target, buf,
	    sizeof buf), "-");

	/* s3: one snapshot is not enough history: no trend made up. */
	s = row(r.slices, r.nslices, "s3");
	assert_int_equal(s->used, 1000);
	assert_int_equal(s->growth.ok, 0);
	assert_int_equal(s->growth.points, 1);
	assert_near(s->growth.per_day, 0);
	assert_true(s->to_target == -1 && s->to_hard == -1);
	assert_near(s->projected, 1000);
	assert_string_equal(report_trend(s), "not enough history");
	assert_string_equal(report_days_text(s, s->to_target, buf,
	    sizeof buf), "-");

	/* s4: past the target already, shrinking: never the hard limit;
	 * the forecast never goes below empty. */
	s = row(r.slices, r.nslices, "s4");
	assert_int_equal(s->used, 790);
	assert_near(s->growth.per_day, -5);
	assert_true(s->to_target == 0);
	assert_true(s->to_hard == -1);
	assert_near(s->projected, 790 - 90 * 5);
	assert_string_equal(report_trend(s), "shrinking");
	assert_string_equal(report_days_text(s, s->to_target, buf,
	    sizeof buf), "now");
	assert_string_equal(report_days_text(s, s->to_hard, buf,
	    sizeof buf), "never");

	/* s5: retired, no capacity of its own to fill. */
	s = row(r.slices, r.nslices, "s5");
	assert_int_equal(s->retired, 1);
	assert_int_equal(s->used, 0);
	assert_int_equal(s->growth.points, 0);
	assert_null(s->series);
	assert_true(s->to_target == -1 && s->to_hard == -1);
	assert_string_equal(report_days_text(s, s->to_target, buf,
	    sizeof buf), "-");
	report_free(&r);
	assert_null(r.slices);
	assert_int_equal(r.nslices, 0);
}

/* The fleet is the sum of its slices; retired capacity does not count. */
static void
test_fleet(void **arg)
{
	struct fixture *f = *arg;
	const struct report_row **v;
	struct report r;
	char buf[64];

	fleet_history(f);
	build(f, &r, REPORT_BY_SLICE, INT64_MIN, INT64_MAX);
	assert_string_equal(r.fleet.name, "fleet");
	assert_int_equal(r.fleet.slices, 5);
	assert_int_equal(r.fleet.accounts, 4);
	assert_int_equal(r.fleet.files, 19 + 50 + 100 + 79);
	assert_int_equal(r.fleet.used, 2480);
	assert_int_equal(r.fleet.capacity, 8000);
	assert_int_equal(r.fleet.growth.ok, 1);
	assert_int_equal(r.fleet.growth.points, 31);
	assert_int_equal(r.fleet.growth.first, T0);
	assert_int_equal(r.fleet.growth.last, NOW);
	/* +10 + 0 - 5 (s3 has no trend): 6000 B in 704 days, 7200 in 944. */
	assert_near(r.fleet.growth.per_day, 5);
	assert_near(r.fleet.to_target, 704);
	assert_near(r.fleet.to_hard, 944);
	assert_near(r.fleet.projected, 1090 + 500 + 1000 + 340);
	assert_near(r.needed, 0);
	assert_string_equal(report_days_text(&r.fleet, r.fleet.to_hard, buf,
	    sizeof buf), "944d");

	/* Soonest to the hard limit first, then the target, then by name. */
	v = report_forecast_order(&r);
	assert_string_equal(v[0]->name, "s1");
	assert_string_equal(v[1]->name, "s4");
	assert_string_equal(v[2]->name, "s2");
	assert_string_equal(v[3]->name, "s3");
	assert_string_equal(v[4]->name, "s5");
	free(v);

	/* The chart: every 6 hours over the 9 days, each slice's latest
	 * snapshot (or one up to 6 hours later). */
	assert_int_equal(r.nfleet, 37);
	assert_int_equal(r.fleet_t[0], T0);
	assert_int_equal(r.fleet_t[36], NOW);
	assert_near(r.fleet_used[0], 100 + 500 + 835);
	assert_near(r.fleet_used[34], 180 + 500 + 795);
	assert_near(r.fleet_used[35], 2480);
	assert_near(r.fleet_used[36], 2480);
	report_free(&r);

	/* Staying below 25% in 90 days: 2930 B need 11720 B, 3720 more. */
	report_init(&r, NOW);
	r.target = 0.25;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_near(r.needed, 3720);
	assert_near(r.fleet.to_target, 0);
	assert_int_equal(r.nfleet, 0);
	assert_null(r.fleet_t);
	report_free(&r);

	/* In 10 days: s1 290, s2 500, s3 1000, s4 740. */
	report_init(&r, NOW);
	r.days = 10;
	assert_ok(report_capacity_build(f->st, &r, 0, &cause));
	assert_near(r.fleet.projected, 290 + 500 + 1000 + 740);
	report_free(&r);
}

/* Pairs and servers sum their slices, ordered by name. */
static void
test_groups(void **arg)
{
	struct fixture *f = *arg;
	const struct report_row *g;
	struct report r;

	fleet_history(f);
	build(f, &r, REPORT_BY_PAIR, INT64_MIN, INT64_MAX);
	assert_int_equal(r.ngroups, 2);
	assert_true(r.groups != r.slices);
	assert_string_equal(r.groups[0].name, "p1");
	assert_string_equal(r.groups[1].name, "p2");
	/* p1 = s1 + s2 + s5: 690 of 3000 B, +10 a day: 2250 B in 156
	 * days, 2700 B in 201. */
	g = &r.groups[0];
	assert_null(g->pair);
	assert_int_equal(g->id, 0);
	assert_int_equal(g->slices, 3);
	assert_int_equal(g->accounts, 2);
	assert_int_equal(g->used, 690);
	assert_int_equal(g->capacity, 3000);
	assert_int_equal(g->growth.ok, 1);
	assert_int_equal(g->growth.points, 20);
	assert_near(g->growth.per_day, 10);
	assert_near(g->to_target, 156);
	assert_near(g->to_hard, 201);
	assert_near(g->projected, 1090 + 500);
	/* p2 = s3 + s4: a group's trend is its slices' with a trend. */
	g = &r.groups[1];
	assert_int_equal(g->slices, 2);
	assert_int_equal(g->used, 1790);
	assert_int_equal(g->capacity, 5000);
	assert_int_equal(g->growth.ok, 1);
	assert_int_equal(g->growth.points, 11);
	assert_near(g->growth.per_day, -5);
	assert_true(g->to_target == -1 && g->to_hard == -1);
	assert_near(g->projected, 1000 + 340);
	/* The fleet does not depend on the grouping. */
	assert_int_equal(r.fleet.used, 2480);
	assert_near(r.fleet.growth.per_day, 5);
	report_free(&r);

	/* mx4 serves no slice: no row. mx2 = s2 + retired s5. */
	build(f, &r, REPORT_BY_SERVER, INT64_MIN, INT64_MAX);
	assert_int_equal(r.ngroups, 3);
	assert_string_equal(r.groups[0].name, "mx1");
	assert_string_equal(r.groups[1].name, "mx2");
	assert_string_equal(r.groups[2].name, "mx3");
	g = row(r.groups, r.ngroups, "mx1");
	assert_int_equal(g->slices, 1);
	assert_int_equal(g->used, 190);
	assert_near(g->to_target, 56);
	g = row(r.groups, r.ngroups, "mx2");
	assert_int_equal(g->slices, 2);
	assert_int_equal(g->used, 500);
	assert_int_equal(g->capacity, 2000);
	assert_int_equal(g->growth.ok, 1);
	assert_true(g->to_target == -1);
	g = row(r.groups, r.ngroups, "mx3");
	assert_int_equal(g->slices, 2);
	assert_int_equal(g->used, 1790);
	assert_near(g->growth.per_day, -5);
	report_free(&r);
}

/* A range without two snapshots a day apart has no trend anywhere. */
static void
test_not_enough_history(void **arg)
{
	struct fixture *f = *arg;
	const struct report_row *s;
	struct report r;
	char buf[96];
	size_t i;

	fleet_history(f);
	build(f, &r, REPORT_BY_SLICE, NOW, INT64_MAX);
	for (i = 0; i < r.nslices; i++) {
		s = &r.slices[i];
		assert_int_equal(s->growth.ok, 0);
		assert_int_equal(s->growth.points, strcmp(s->name, "s5") ? 1 :
		    0);
		assert_string_equal(report_trend(s), "not enough history");
	}
	/* What is used now still counts: s4 is past its target now. */
	assert_true(row(r.slices, r.nslices, "s4")->to_target == 0);
	assert_true(row(r.slices, r.nslices, "s1")->to_target == -1);
	assert_int_equal(r.fleet.growth.ok, 0);
	assert_true(r.fleet.to_target == -1);
	assert_near(r.fleet.projected, 2480);
	assert_string_equal(report_days_text(&r.fleet, r.fleet.to_target, buf,
	    sizeof buf), "-");
	assert_string_equal(report_range_text(&r, buf, sizeof buf),
	    "since 2026-01-10T00:00:00Z");
	report_free(&r);

	/* Days 0 to 4: s1 keeps 5 snapshots and its trend, s3 has none. */
	build(f, &r, REPORT_BY_SLICE, INT64_MIN, T0 + 4 * DAY);
	s = row(r.slices, r.nslices, "s1");
	assert_int_equal(s->growth.points, 5);
	assert_near(s->growth.per_day, 10);
	s = row(r.slices, r.nslices, "s3");
	assert_int_equal(s->growth.points, 0);
	assert_null(s->series);
	assert_string_equal(report_range_text(&r, buf, sizeof buf),
	    "until 2026-01-05T00:00:00Z");
	report_free(&r);

	/* A range before every snapshot: rows, no trend, no chart. */
	report_init(&r, NOW);
	r.since = T0 - 10 * DAY;
	r.until = T0 - DAY;
	assert_ok(report_capacity_build(f->st, &r, 1, &cause));
	assert_int_equal(r.nslices, 5);
	assert_int_equal(r.nseries, 0);
	assert_int_equal(r.nfleet, 0);
	assert_int_equal(r.fleet.growth.ok, 0);
	assert_int_equal(r.fleet.growth.points, 0);
	report_free(&r);
}

/* Set a move's times with SQL, as if it had run then; -1 keeps one. */
static void
move_times(struct fixture *f, int64_t id, int64_t created, int64_t started,
    int64_t finished)
{
	test_exec(f->db, "UPDATE moves SET created = %lld, started = CASE "
	    "WHEN %lld < 0 THEN started ELSE %lld END, finished = CASE WHEN "
	    "%lld < 0 THEN finished ELSE %lld END WHERE id = %lld",
	    (long long)created, (long long)started, (long long)started,
	    (long long)finished, (long long)finished, (long long)id);
}

enum end { END_DONE, END_RETRIED, END_FAILED, END_CANCELLED, END_OPEN };

/* A move of user's 10 B from s1 to s2 that ends as end. */
static int64_t
move_run(struct fixture *f, const char *user, enum end end, int64_t lock_ms)
{
	struct state_move_request req;
	int64_t id;

	account_bytes(f, user, "s1", 10);
	memset(&req, 0, sizeof req);
	req.user = user;
	req.target = "s2";
	req.target_path = user;
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	if (end == END_CANCELLED) {
		assert_ok(state_move_fail(f->st, id, MOVE_CANCELLED, "asked to",
		    &cause));
		return id;
	}
	assert_ok(state_move_set_state(f->st, id, MOVE_QUEUED, MOVE_COPYING,
	    &cause));
	if (end == END_OPEN) {
		assert_ok(state_move_progress(f->st, id, 5, 1, 10, 1, 1, 5,
		    &cause));
		return id;
	}
	assert_ok(state_move_set_state(f->st, id, MOVE_COPYING, MOVE_SYNCING,
	    &cause));
	assert_ok(state_move_progress(f->st, id, 10, 1, 10, 1, 3, 5, &cause));
	if (end == END_FAILED) {
		assert_ok(state_move_fail(f->st, id, MOVE_FAILED, "no space left",
		    &cause));
		return id;
	}
	assert_ok(state_move_set_state(f->st, id, MOVE_SYNCING, MOVE_READY, &cause));
	assert_ok(state_move_lock(f->st, id, 1, now_unix() + 3600, &cause));
	if (end == END_RETRIED) {
		/* A cutover abandoned once (a retry), then done. */
		assert_ok(state_move_unlock(f->st, id, "lock timeout", &cause));
		assert_ok(state_move_set_state(f->st, id, MOVE_SYNCING, MOVE_READY,
		    &cause));
		assert_ok(state_move_lock(f->st, id, 2, now_unix() + 3600,
		    &cause));
	}
	assert_ok(state_move_commit(f->st, id, lock_ms, NULL, &cause));
	return id;
}

/*
 * Twenty done moves of 10 B in 100 s each, locked 10, 20, ... 200 ms
 * (median 105, p95 190 by nearest rank, max 200), two of them retried
 * once; a failed, a cancelled and an open move.
 */
static void
test_moves(void **arg)
{
	struct fixture *f = *arg;
	const struct report_moves_total *t;
	struct report r;
	char user[64], buf[64];
	int64_t id, i;

	for (i = 0; i < 20; i++) {
		snprintf(user, sizeof user, "u%02lld@example.com",
		    (long long)i);
		id = move_run(f, user, i < 2 ? END_RETRIED : END_DONE,
		    (i + 1) * 10);
		move_times(f, id, T0 + i * DAY, T0 + i * DAY, T0 + i * DAY +
		    100);
	}
	id = move_run(f, "failed@example.com", END_FAILED, 0);
	move_times(f, id, T0 + 20 * DAY, T0 + 20 * DAY, T0 + 20 * DAY + 20);
	id = move_run(f, "cancelled@example.com", END_CANCELLED, 0);
	move_times(f, id, T0 + 21 * DAY, -1, -1);
	id = move_run(f, "open@example.com", END_OPEN, 0);
	move_times(f, id, T0 + 22 * DAY, T0 + 22 * DAY, -1);

	report_init(&r, T0 + 30 * DAY);
	assert_ok(report_moves_build(f->st, &r, &cause));
	assert_int_equal(r.nmoves, 23);
	t = &r.total;
	assert_int_equal(t->moves, 23);
	assert_int_equal(t->done, 20);
	assert_int_equal(t->failed, 1);
	assert_int_equal(t->cancelled, 1);
	assert_int_equal(t->open, 1);
	/* What was moved is what the done moves moved. */
	assert_int_equal(t->bytes, 200);
	assert_int_equal(t->files, 20);
	assert_int_equal(t->seconds, 2000);
	assert_near(t->rate, 0.1);
	assert_int_equal(t->passes, 20 * 3 + 3 + 0 + 1);
	assert_int_equal(t->retries, 2);
	assert_int_equal(t->locks, 20);
	assert_near(t->lock_median, 105);
	assert_near(t->lock_p95, 190);
	assert_near(t->lock_max, 200);
	/* Each move: duration once ended, a rate only when done. */
	assert_int_equal(report_move_seconds(&r.moves[0]), 100);
	assert_near(report_move_rate(&r.moves[0]), 0.1);
	assert_int_equal(r.moves[0].attempts, 1);
	assert_int_equal(r.moves[20].state, MOVE_FAILED);
	assert_string_equal(r.moves[20].error, "no space left");
	assert_int_equal(report_move_seconds(&r.moves[20]), 20);
	assert_true(report_move_rate(&r.moves[20]) == -1);
	assert_int_equal(r.moves[21].state, MOVE_CANCELLED);
	assert_int_equal(report_move_seconds(&r.moves[21]), -1);
	assert_int_equal(r.moves[22].state, MOVE_COPYING);
	assert_int_equal(report_move_seconds(&r.moves[22]), -1);
	assert_string_equal(report_duration_text(t->seconds, buf, sizeof buf),
	    "33m 20s");
	report_free(&r);

	/* Days 5 to 7 by created time, both ends included. */
	report_init(&r, T0 + 30 * DAY);
	r.since = T0 + 5 * DAY;
	r.until = T0 + 7 * DAY;
	assert_ok(report_moves_build(f->st, &r, &cause));
	t = &r.total;
	assert_int_equal(t->moves, 3);
	assert_int_equal(t->done, 3);
	assert_int_equal(t->locks, 3);
	assert_near(t->lock_median, 70);
	assert_near(t->lock_p95, 80);
	assert_near(t->lock_max, 80);
	assert_int_equal(t->seconds, 300);
	assert_int_equal(t->retries, 0);
	assert_string_equal(report_range_text(&r, buf, sizeof buf),
	    "between 2026-01-06T00:00:00Z and 2026-01-08T00:00:00Z");
	report_free(&r);

	/* Only the failed, cancelled and open moves: no lock time, no rate. */
	report_init(&r, T0 + 30 * DAY);
	r.since = T0 + 20 * DAY;
	assert_ok(report_moves_build(f->st, &r, &cause));
	t = &r.total;
	assert_int_equal(t->moves, 3);
	assert_int_equal(t->done, 0);
	assert_int_equal(t->bytes, 0);
	assert_int_equal(t->seconds, 0);
	assert_true(t->rate == -1);
	assert_int_equal(t->locks, 0);
	assert_true(isnan(t->lock_median) && isnan(t->lock_p95) &&
	    isnan(t->lock_max));
	assert_string_equal(report_rate_text(t->rate, buf, sizeof buf), "-");
	report_free(&r);
}

/* An empty catalog: no rows, no moves, an empty fleet. */
static void
test_empty(void **arg)
{
	struct fixture *f = *arg;
	struct report r;
	char buf[64];

	report_init(&r, NOW);
	assert_true(r.since == INT64_MIN && r.until == INT64_MAX);
	assert_near(r.target, 0.75);
	assert_near(r.hard, 0.90);
	assert_int_equal(r.days, 90);
	assert_int_equal(r.by, REPORT_BY_SLICE);
	assert_string_equal(report_range_text(&r, buf, sizeof buf),
	    "over all history");
	assert_ok(report_moves_build(f->st, &r, &cause));
	assert_int_equal(r.nmoves, 0);
	assert_int_equal(r.total.moves, 0);
	assert_true(isnan(r.total.lock_median));
	report_free(&r);
	/* Slices without accounts or snapshots: nothing used, no trend. */
	assert_ok(state_slice_set_state(f->st, "s5", "retired", &cause));
	assert_ok(report_capacity_build(f->st, &r, 1, &cause));
	assert_int_equal(r.nslices, 5);
	assert_int_equal(r.fleet.used, 0);
	assert_int_equal(r.fleet.capacity, 8000);
	assert_int_equal(r.fleet.growth.ok, 0);
	assert_true(r.fleet.to_target == -1);
	report_free(&r);
}

/* The grouping names round-trip; unknown names are refused. */
static void
test_by_names(void **arg)
{
	enum report_by by = REPORT_BY_SERVER;

	(void)arg;
	assert_int_equal(report_by_parse("pair", &by), 0);
	assert_int_equal(by, REPORT_BY_PAIR);
	assert_string_equal(report_by_name(by), "pair");
	assert_int_equal(report_by_parse("slice", &by), 0);
	assert_int_equal(by, REPORT_BY_SLICE);
	assert_int_equal(report_by_parse("server", &by), 0);
	assert_string_equal(report_by_name(by), "server");
	assert_int_equal(report_by_parse("rack", &by), -1);
	assert_int_equal(report_by_parse("", &by), -1);
	assert_int_equal(by, REPORT_BY_SERVER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fleet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_enough_history, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test(test_by_names),
	};

	return cmocka_run_group_tests_name("report_model", tests, NULL, NULL);
}
