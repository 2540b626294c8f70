/*
 * The catalog the tests of the reports' model start from (test_report_model.c,
 * test_report_load.c): a real temporary catalog, on SQLite or on the
 * PostgreSQL server of MAILSHIFT_TEST_PG. Include after testutil.h,
 * catalogfix.h and the state/ headers.
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
#ifndef MAILSHIFT_REPORTFIX_H
#define MAILSHIFT_REPORTFIX_H

#include <math.h>

#include "cli/report.h"
#include "state/account.h"
#include "state/load.h"
#include "state/snapshot.h"

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
static inline int
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

static inline int
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
static inline void
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
static inline void
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
static inline void
load_hour(struct fixture *f, const char *slice, int64_t ts, double ops)
{
	struct state_io_reading raw = { "diskstats:vdb", 0, 0, ts * 1000 };

	assert_ok(state_load_record(f->st, test_slice_id(f->st, slice), &raw,
	    (uint64_t)llround(ops * 3600), 4096 * 3600, 3600000, &cause));
}

/* The load of the fleet above: one hour a day, ending at midnight of
 * days 0 to 9 (the last in the load window of NOW, the others not). */
static inline void
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
static inline void
build(struct fixture *f, struct report *r, enum report_by by, int64_t since,
    int64_t until)
{
	report_init(r, NOW);
	r->by = by;
	r->since = since;
	r->until = until;
	assert_ok(report_capacity_build(f->st, r, 1, &cause));
}

static inline const struct report_row *
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

#endif
