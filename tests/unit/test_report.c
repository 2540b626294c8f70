/*
 * Unit tests of what the capacity reports read (state/report.c) and the
 * numbers computed from it (common/stats.c): known snapshots give known
 * growth and forecasts, known moves give known lock-time percentiles.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>

#include "state/state.h"
#include "state/account.h"
#include "state/load.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/report.h"
#include "state/server.h"
#include "state/slice.h"
#include "state/snapshot.h"
#include "common/stats.h"

#define DAY 86400
#define T0 1767225600		/* 2026-01-01T00:00:00Z */

struct fixture {
	char		*dir;
	char		*db;
	struct state	*st;
	int64_t		 s1, s2;	/* slice ids */
};

#define assert_ok(call) do {						\
	char *cause = NULL;						\
	if ((call) != 0)						\
		fail_msg("failed: %s", cause ? cause : "?");		\
} while (0)

static int64_t
slice_id(struct state *st, const char *name)
{
	struct state_slice s;
	int64_t id;

	assert_ok(state_slice_get(st, name, &s, &cause));
	id = s.id;
	state_slice_free(&s);
	return id;
}

/* A fresh catalog with a pair and two slices: s1 1000 B, s2 2000 B. */
static int
setup(void **arg)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL, *p1, *p2;

	f->dir = test_tmpdir();
	f->db = test_catalog_name(f->dir);
	if (asprintf(&p1, "%s/s1", f->dir) < 0 ||
	    asprintf(&p2, "%s/s2", f->dir) < 0)
		abort();
	if ((f->st = state_open(f->db, 1, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	if (state_server_add(f->st, "mx1", "10.0.0.1", &cause) != 0 ||
	    state_server_add(f->st, "mx2", "10.0.0.2", &cause) != 0 ||
	    state_pair_add(f->st, "p1", "mx1", "mx2", &cause) != 0 ||
	    state_slice_add(f->st, "s1", "p1", "mx1", p1, 1000, &cause) != 0 ||
	    state_slice_add(f->st, "s2", "p1", "mx2", p2, 2000, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	free(p1);
	free(p2);
	f->s1 = slice_id(f->st, "s1");
	f->s2 = slice_id(f->st, "s2");
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

/* Put an account of bytes on a slice (new, or its size changed). */
static int64_t
account_bytes(struct fixture *f, const char *user, int64_t slice,
    uint64_t bytes)
{
	struct state_account a;
	char *cause = NULL;
	int64_t id;

	if (state_account_find(f->st, user, &a, &cause) == 1) {
		assert_ok(state_account_insert(f->st, user, slice, user, bytes,
		    bytes / 10, 0, "counted", &cause));
		assert_int_equal(state_account_find(f->st, user, &a, &cause),
		    0);
	} else
		assert_ok(state_account_update_usage(f->st, a.id, bytes,
		    bytes / 10, 0, "counted", &cause));
	id = a.id;
	state_account_free(&a);
	free(cause);
	return id;
}

/* The growth of a slice from its series as the reports compute it. */
static void
series_growth(const struct state_report_series *s, struct stats_growth *g)
{
	int64_t t[512];
	double v[512];
	size_t i;

	assert_true(s->n <= 512);
	for (i = 0; i < s->n; i++) {
		t[i] = s->p[i].ts;
		v[i] = (double)s->p[i].bytes;
	}
	stats_growth(t, v, s->n, g);
}

/* An empty catalog: no series, no moves, and no trend made up. */
static void
test_empty(void **arg)
{
	struct fixture *f = *arg;
	struct state_report_series *v = (void *)1;
	struct state_report_move *m = (void *)1;
	struct stats_growth g;
	size_t n = 99;

	assert_ok(state_report_snapshots(f->st, INT64_MIN, INT64_MAX, &v, &n,
	    &cause));
	assert_null(v);
	assert_int_equal(n, 0);
	assert_null(state_report_series_find(v, n, f->s1));
	n = 99;
	assert_ok(state_report_moves(f->st, INT64_MIN, INT64_MAX, &m, &n,
	    &cause));
	assert_null(m);
	assert_int_equal(n, 0);
	stats_growth(NULL, NULL, 0, &g);
	assert_int_equal(g.ok, 0);
	state_report_series_free(v, n);
	state_report_moves_free(m, n);
}

/* One snapshot: a series of one point and "not enough history". */
static void
test_one_snapshot(void **arg)
{
	struct fixture *f = *arg;
	const struct state_report_series *s;
	struct state_report_series *v;
	struct stats_growth g;
	size_t n;

	account_bytes(f, "alice@example.com", f->s1, 300);
	assert_ok(state_snapshot_take(f->st, f->s1, T0, &cause));
	assert_ok(state_report_snapshots(f->st, INT64_MIN, INT64_MAX, &v, &n,
	    &cause));
	assert_int_equal(n, 1);
	assert_non_null(s = state_report_series_find(v, n, f->s1));
	assert_null(state_report_series_find(v, n, f->s2));
	assert_int_equal(s->n, 1);
	assert_int_equal(s->p[0].ts, T0);
	assert_int_equal(s->p[0].bytes, 300);
	assert_int_equal(s->p[0].files, 30);
	assert_int_equal(s->p[0].accounts, 1);
	assert_int_equal(s->p[0].capacity, 1000);
	series_growth(s, &g);
	assert_int_equal(g.ok, 0);
	/* No trend: the fill is never forecast, unless already reached. */
	assert_true(stats_days_until(300, g.ok ? g.per_day : 0, 750) == -1);
	assert_true(stats_days_until(800, g.ok ? g.per_day : 0, 750) == 0);
	state_report_series_free(v, n);
}

/*
 * Ten daily snapshots growing 10 B a day with one spike: 10 B a day,
 * and from 190 B used of 1000 B, 75% in 56 days and 90% in 71.
 */
static void
test_known_growth(void **arg)
{
	struct fixture *f = *arg;
	const struct state_report_series *s;
	struct state_report_series *v;
	struct stats_growth g;
	size_t n, k;

	for (k = 0; k < 10; k++) {
		account_bytes(f, "alice@example.com", f->s1, 100 + 10 * k +
		    (k == 6 ? 400 : 0));
		account_bytes(f, "bob@example.com", f->s2, 500);
		assert_ok(state_snapshot_take(f->st, f->s1, T0 +
		    (int64_t)k * DAY, &cause));
		assert_ok(state_snapshot_take(f->st, f->s2, T0 +
		    (int64_t)k * DAY, &cause));
	}
	assert_ok(state_report_snapshots(f->st, INT64_MIN, INT64_MAX, &v, &n,
	    &cause));
	assert_int_equal(n, 2);
	assert_true(v[0].slice_id < v[1].slice_id);
	assert_non_null(s = state_report_series_find(v, n, f->s1));
	assert_int_equal(s->n, 10);
	for (k = 1; k < s->n; k++)
		assert_true(s->p[k].ts > s->p[k - 1].ts);
	series_growth(s, &g);
	assert_int_equal(g.ok, 1);
	assert_true(fabs(g.per_day - 10) < 1e-9);
	assert_true(fabs(stats_growth_at(&g, T0 + 9 * DAY) - 190) < 1e-9);
	assert_true(fabs(stats_days_until(190, g.per_day, 0.75 * 1000) - 56) <
	    1e-9);
	assert_true(fabs(stats_days_until(190, g.per_day, 0.90 * 1000) - 71) <
	    1e-9);
	/* s2 is flat: it never fills. */
	series_growth(state_report_series_find(v, n, f->s2), &g);
	assert_int_equal(g.ok, 1);
	assert_true(g.per_day == 0);
	assert_true(stats_days_until(500, g.per_day, 1500) == -1);
	state_report_series_free(v, n);

	/* The range keeps days 3 to 5 only, both ends included. */
	assert_ok(state_report_snapshots(f->st, T0 + 3 * DAY, T0 + 5 * DAY,
	    &v, &n, &cause));
	assert_int_equal(n, 2);
	s = state_report_series_find(v, n, f->s1);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->p[0].ts, T0 + 3 * DAY);
	assert_int_equal(s->p[2].ts, T0 + 5 * DAY);
	assert_int_equal(s->p[0].bytes, 130);
	state_report_series_free(v, n);

	/* A range with less than a day in it: no trend. */
	assert_ok(state_report_snapshots(f->st, T0 + 3 * DAY, T0 + 4 * DAY -
	    1, &v, &n, &cause));
	series_growth(state_report_series_find(v, n, f->s1), &g);
	assert_int_equal(g.ok, 0);
	state_report_series_free(v, n);
}

/*
 * Snapshots recorded out of time order (an import of old ones after new
 * ones), interleaved between slices, two at the same second: each series
 * comes back in time order, ties by the order they were taken, and the
 * series in slice id order.
 */
static void
test_snapshots_out_of_order(void **arg)
{
	struct fixture *f = *arg;
	static const int days[] = { 5, 1, 3, 0, 4, 2 };
	const struct state_report_series *s;
	struct state_report_series *v;
	size_t n, k;

	for (k = 0; k < 6; k++) {
		account_bytes(f, "alice@example.com", f->s2, 100 +
		    (uint64_t)days[k]);
		assert_ok(state_snapshot_take(f->st, f->s2, T0 + days[k] * DAY,
		    &cause));
		account_bytes(f, "bob@example.com", f->s1, 200 +
		    (uint64_t)days[k]);
		assert_ok(state_snapshot_take(f->st, f->s1, T0 + days[k] * DAY,
		    &cause));
	}
	/* Two at one second: the later taken comes later. */
	account_bytes(f, "bob@example.com", f->s1, 999);
	assert_ok(state_snapshot_take(f->st, f->s1, T0 + 2 * DAY, &cause));
	assert_ok(state_report_snapshots(f->st, INT64_MIN, INT64_MAX, &v, &n,
	    &cause));
	assert_int_equal(n, 2);
	assert_true(v[0].slice_id < v[1].slice_id);
	s = state_report_series_find(v, n, f->s2);
	assert_int_equal(s->n, 6);
	for (k = 0; k < 6; k++) {
		assert_int_equal(s->p[k].ts, T0 + (int64_t)k * DAY);
		assert_int_equal(s->p[k].bytes, 100 + k);
	}
	s = state_report_series_find(v, n, f->s1);
	assert_int_equal(s->n, 7);
	assert_int_equal(s->p[2].ts, T0 + 2 * DAY);
	assert_int_equal(s->p[2].bytes, 202);
	assert_int_equal(s->p[3].ts, T0 + 2 * DAY);
	assert_int_equal(s->p[3].bytes, 999);
	assert_true(s->p[2].id < s->p[3].id);
	assert_int_equal(s->p[6].bytes, 205);
	state_report_series_free(v, n);
	/* The range keeps days 1 to 3. */
	assert_ok(state_report_snapshots(f->st, T0 + DAY, T0 + 3 * DAY, &v, &n,
	    &cause));
	s = state_report_series_find(v, n, f->s2);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->p[0].bytes, 101);
	assert_int_equal(s->p[2].bytes, 103);
	state_report_series_free(v, n);
}

/* Record one load interval of a slice ending at ts. */
static void
load_at(struct fixture *f, int64_t slice, int64_t ts, uint64_t ops,
    uint64_t bytes, int64_t ms)
{
	struct state_io_reading raw = { "diskstats:vdb", 0, 0, ts * 1000 };

	assert_ok(state_load_record(f->st, slice, &raw, ops, bytes, ms,
	    &cause));
}

/*
 * Loads summed per slice and UTC day: several intervals a day add up
 * (ops, bytes and time), days recorded out of order are put in order
 * and merged, a day without intervals has no entry, the range counts
 * the intervals' end times.
 */
static void
test_load_days(void **arg)
{
	struct fixture *f = *arg;
	const struct state_report_load_series *s;
	struct state_report_load_series *v = (void *)1;
	size_t n = 99;

	assert_ok(state_report_load_days(f->st, INT64_MIN, INT64_MAX, &v, &n,
	    &cause));
	assert_null(v);
	assert_int_equal(n, 0);
	/* s1: day 0 in three intervals of 10 minutes, day 2, then more of
	 * day 0 recorded late; s2: one interval on day 1. */
	load_at(f, f->s1, T0 + 600, 6000, 60000, 600000);
	load_at(f, f->s1, T0 + 1200, 3000, 30000, 600000);
	load_at(f, f->s2, T0 + DAY + 60, 120, 1200, 60000);
	load_at(f, f->s1, T0 + 2 * DAY + 3600, 36000, 0, 3600000);
	load_at(f, f->s1, T0 + DAY - 1, 3000, 30000, 600000);
	assert_ok(state_report_load_days(f->st, INT64_MIN, INT64_MAX, &v, &n,
	    &cause));
	assert_int_equal(n, 2);
	assert_true(v[0].slice_id < v[1].slice_id);
	assert_null(state_report_load_series_find(v, n, 9999));
	s = state_report_load_series_find(v, n, f->s1);
	assert_non_null(s);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->d[0].day, T0);
	assert_int_equal(s->d[0].ops, 12000);
	assert_int_equal(s->d[0].bytes, 120000);
	assert_int_equal(s->d[0].ms, 1800000);
	assert_int_equal(s->d[1].day, T0 + 2 * DAY);
	assert_int_equal(s->d[1].ops, 36000);
	assert_int_equal(s->d[1].ms, 3600000);
	s = state_report_load_series_find(v, n, f->s2);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->d[0].day, T0 + DAY);
	assert_int_equal(s->d[0].ops, 120);
	state_report_load_series_free(v, n);
	/* Up to the end of day 0: the late one counts, the rest not. */
	assert_ok(state_report_load_days(f->st, T0 + 1000, T0 + DAY - 1, &v,
	    &n, &cause));
	assert_int_equal(n, 1);
	assert_int_equal(v[0].slice_id, f->s1);
	assert_int_equal(v[0].n, 1);
	assert_int_equal(v[0].d[0].ops, 6000);
	assert_int_equal(v[0].d[0].ms, 1200000);
	state_report_load_series_free(v, n);
}

/* Run a move through to done with a lock time, or fail it. */
static int64_t
move_run(struct fixture *f, const char *user, int64_t lock_ms,
    const char *error)
{
	struct state_move_request req;
	char *cause = NULL;
	int64_t id;

	memset(&req, 0, sizeof req);
	req.user = user;
	req.target = "s2";
	req.target_path = user;
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	assert_ok(state_move_set_state(f->st, id, MOVE_QUEUED, MOVE_COPYING,
	    &cause));
	assert_ok(state_move_set_state(f->st, id, MOVE_COPYING, MOVE_SYNCING,
	    &cause));
	assert_ok(state_move_progress(f->st, id, 10, 1, 10, 1, 3, 5, &cause));
	if (error != NULL) {
		assert_ok(state_move_fail(f->st, id, MOVE_FAILED, error, &cause));
		return id;
	}
	assert_ok(state_move_set_state(f->st, id, MOVE_SYNCING, MOVE_READY, &cause));
	assert_ok(state_move_lock(f->st, id, 1, now_unix() + 3600, &cause));
	if (lock_ms == 999) {
		/* A cutover abandoned once, then retried. */
		assert_ok(state_move_unlock(f->st, id, "lock timeout", &cause));
		assert_ok(state_move_set_state(f->st, id, MOVE_SYNCING, MOVE_READY,
		    &cause));
		assert_ok(state_move_lock(f->st, id, 2, now_unix() + 3600,
		    &cause));
		lock_ms = 55;
	}
	assert_ok(state_move_commit(f->st, id, lock_ms, NULL, &cause));
	free(cause);
	return id;
}

/* Set a move's created time with SQL, as if it were older. */
static void
move_created(struct fixture *f, int64_t id, int64_t when)
{
	test_exec(f->db, "UPDATE moves SET created = %lld WHERE id = %lld",
	    (long long)when, (long long)id);
}

/*
 * Twenty done moves locked 10, 20, ... 200 ms: median 105, p95 190 (the
 * 19th of 20 by nearest rank), max 200; a failed move keeps its reason;
 * a retried one counts its attempt; the range selects by created time.
 */
static void
test_moves(void **arg)
{
	struct fixture *f = *arg;
	struct state_report_move *m;
	double locks[32];
	char user[64];
	size_t n, i, nl = 0;
	int64_t id;

	for (i = 0; i < 23; i++) {
		snprintf(user, sizeof user, "u%02zu@example.com", i);
		account_bytes(f, user, f->s1, 10);
		id = move_run(f, user, i < 20 ? (int64_t)(i + 1) * 10 :
		    i == 20 ? 999 : 0, i == 21 ? "no space left on s2" : NULL);
		move_created(f, id, T0 + (int64_t)i * DAY);
	}
	assert_ok(state_report_moves(f->st, INT64_MIN, INT64_MAX, &m, &n,
	    &cause));
	assert_int_equal(n, 23);
	for (i = 0; i < n; i++) {
		assert_int_equal(m[i].created, T0 + (int64_t)i * DAY);
		assert_int_equal(m[i].bytes, 10);
		assert_int_equal(m[i].passes, 3);
		assert_string_equal(m[i].source, "s1");
		assert_string_equal(m[i].target, "s2");
		if (i < 20) {
			assert_int_equal(m[i].state, MOVE_DONE);
			assert_int_equal(m[i].lock_ms, (int64_t)(i + 1) * 10);
			assert_null(m[i].error);
			assert_true(m[i].started > 0 && m[i].finished >=
			    m[i].started);
			locks[nl++] = (double)m[i].lock_ms;
		}
	}
	assert_int_equal(m[20].state, MOVE_DONE);
	assert_int_equal(m[20].attempts, 1);
	assert_int_equal(m[20].lock_ms, 55);
	assert_int_equal(m[21].state, MOVE_FAILED);
	assert_string_equal(m[21].error, "no space left on s2");
	assert_int_equal(m[21].lock_ms, -1);
	assert_string_equal(m[21].user, "u21@example.com");
	assert_int_equal(m[22].state, MOVE_DONE);
	assert_int_equal(m[22].lock_ms, 0);
	state_report_moves_free(m, n);

	assert_true(stats_median(locks, nl) == 105);
	assert_true(stats_percentile(locks, nl, 95) == 190);
	assert_true(stats_percentile(locks, nl, 100) == 200);

	/* Days 5 to 7 by created time, both ends included. */
	assert_ok(state_report_moves(f->st, T0 + 5 * DAY, T0 + 7 * DAY, &m,
	    &n, &cause));
	assert_int_equal(n, 3);
	assert_int_equal(m[0].created, T0 + 5 * DAY);
	assert_int_equal(m[2].created, T0 + 7 * DAY);
	state_report_moves_free(m, n);
	assert_ok(state_report_moves(f->st, T0 + 100 * DAY, INT64_MAX, &m,
	    &n, &cause));
	assert_int_equal(n, 0);
	assert_null(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_snapshot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_known_growth, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots_out_of_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_days, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
