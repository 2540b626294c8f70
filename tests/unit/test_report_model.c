/*
 * Unit tests of the reports' model (cli/report.c): a real catalog with
 * known slices, snapshots and moves gives known fills, growth, days to
 * the target and the hard limit, group and fleet sums, and move totals.
 *
 * The fleet (capacities in bytes), as of NOW, day 9 of the snapshots:
 *   pair p1: s1 on mx1, 1000 B: 100 B growing 10 B a day to 190 B;
 *            s2 on mx2, 2000 B: flat at 500 B;
 *            s5 on mx2, 500 B: retired, empty, no snapshot;
 *   pair p2: s3 on mx3, 4000 B: 1000 B, one snapshot (no trend);
 *            s4 on mx3, 1000 B: 835 B shrinking 5 B a day to 790 B.
 *
 * Its load (fleet_load): s1 (1000 ops/s, the default) 10 ops/s on day 0
 * growing 10 a day to 100 ops/s on day 9; s2 (2000 ops/s of its own)
 * flat at 500 ops/s; s3 and s4 never measured.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>

#include "cli/report.h"
#include "common/config.h"
#include "state/state.h"
#include "state/account.h"
#include "state/load.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/report.h"
#include "state/server.h"
#include "state/slice.h"
#include "state/snapshot.h"

#include "catalogfix.h"

#define DAY 86400
#define T0 1767225600		/* 2026-01-01T00:00:00Z */
#define NOW (T0 + 9 * DAY)	/* the last snapshot */

struct fixture {
	char		*dir;
	char		*db;
	struct state	*st;
};


/* Two doubles that should be equal up to rounding. */
#define assert_near(a, b) do {						\
	double a_ = (a), b_ = (b);					\
	if (!(fabs(a_ - b_) < 1e-6))					\
		fail_msg("%s = %.10g, want %.10g", #a, a_, b_);		\
} while (0)


/* A fresh catalog with the fleet above, without accounts or snapshots. */
static int
setup(void **arg)
{
	static const struct {
		const char	*name, *pair, *server;
		uint64_t	 capacity;
	} sl[] = {
		{ "s1", "p1", "mx1", 1000 }, { "s2", "p1", "mx2", 2000 },
		{ "s3", "p2", "mx3", 4000 }, { "s4", "p2", "mx3", 1000 },
		{ "s5", "p1", "mx2", 500 },
	};
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL, *path;
	size_t i;

	f->dir = test_tmpdir();
	f->db = test_catalog_name(f->dir);
	if ((f->st = state_open(f->db, 1, &cause)) == NULL ||
	    state_server_add(f->st, "mx1", "10.0.0.1", &cause) != 0 ||
	    state_server_add(f->st, "mx2", "10.0.0.2", &cause) != 0 ||
	    state_server_add(f->st, "mx3", "10.0.0.3", &cause) != 0 ||
	    state_server_add(f->st, "mx4", "10.0.0.4", &cause) != 0 ||
	    state_pair_add(f->st, "p1", "mx1", "mx2", &cause) != 0 ||
	    state_pair_add(f->st, "p2", "mx3", "mx4", &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	for (i = 0; i < sizeof sl / sizeof sl[0]; i++) {
		if (asprintf(&path, "%s/%s", f->dir, sl[i].name) < 0)
			abort();
		if (state_slice_add(f->st, sl[i].name, sl[i].pair,
		    sl[i].server, path, sl[i].capacity, &cause) != 0) {
			fprintf(stderr, "%s\n", cause);
			return -1;
		}
		free(path);
	}
	*arg = f;
	return 0;
}

static int
teardown(void **arg)
{
	struct fixture *f = *arg;

	state_close(f->st);
	free(f->db);
	test_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Put an account of bytes (and bytes / 10 files) on a slice. */
static void
account_bytes(struct fixture *f, const char *user, const char *slice,
    uint64_t bytes)
{
	struct state_account a;
	char *cause = NULL;

	if (state_account_find(f->st, user, &a, &cause) == 1) {
		assert_ok(state_account_insert(f->st, user, test_slice_id(f->st,
		    slice), user, bytes, bytes / 10, 0, "counted", &cause));
		return;
	}
	assert_ok(state_account_update_usage(f->st, a.id, bytes, bytes / 10,
	    0, "counted", &cause));
	state_account_free(&a);
}

/* The snapshots of the fleet above, days 0 to 9, and s5 retired. */
static void
fleet_history(struct fixture *f)
{
	int64_t k;

	for (k = 0; k < 10; k++) {
		account_bytes(f, "alice@example.com", "s1", 100 + 10 * k);
		account_bytes(f, "bob@example.com", "s2", 500);
		account_bytes(f, "dave@example.com", "s4", 835 - 5 * k);
		assert_ok(state_snapshot_take(f->st, test_slice_id(f->st, "s1"),
		    T0 + k * DAY, &cause));
		assert_ok(state_snapshot_take(f->st, test_slice_id(f->st, "s2"),
		    T0 + k * DAY, &cause));
		assert_ok(state_snapshot_take(f->st, test_slice_id(f->st, "s4"),
		    T0 + k * DAY, &cause));
	}
	account_bytes(f, "carol@example.com", "s3", 1000);
	assert_ok(state_snapshot_take(f->st, test_slice_id(f->st, "s3"), NOW,
	    &cause));
	assert_ok(state_slice_set_state(f->st, "s5", "retired", &cause));
}

/* One load interval of an hour of a slice ending at ts, at ops/s. */
static void
load_hour(struct fixture *f, const char *slice, int64_t ts, double ops)
{
	struct state_io_reading raw = { "diskstats:vdb", 0, 0, ts * 1000 };

	assert_ok(state_load_record(f->st, test_slice_id(f->st, slice), &raw,
	    (uint64_t)llround(ops * 3600), 4096 * 3600, 3600000, &cause));
}

/* The load of the fleet above: one hour a day, ending at midnight of
 * days 0 to 9 (the last in the load window of NOW, the others not). */
static void
fleet_load(struct fixture *f)
{
	int64_t k;

	assert_ok(state_slice_set_ops_capacity(f->st, "s2", 2000, &cause));
	for (k = 0; k < 10; k++) {
		load_hour(f, "s1", T0 + k * DAY, 10 + 10 * (double)k);
		load_hour(f, "s2", T0 + k * DAY, 500);
	}
}

/* Build the capacity model grouped by, over [since, until]. */
static void
build(struct fixture *f, struct report *r, enum report_by by, int64_t since,
    int64_t until)
{
	report_init(r, NOW);
	r->by = by;
	r->since = since;
	r->until = until;
	assert_ok(report_capacity_build(f->st, r, 1, &cause));
}

static const struct report_row *
row(const struct report_row *rows, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	}
	fail_msg("no row '%s'", name);
	return NULL;
}

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
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evacuation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forecast_add, setup,
		    teardown),
		cmocka_unit_test(test_by_names),
	};

	return cmocka_run_group_tests_name("report_model", tests, NULL, NULL);
}
