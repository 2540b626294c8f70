/*
 * Unit tests of the daemon's queue in the catalog (state/queue.c) on a
 * real temporary catalog: which moves the runnable query hands out and in
 * which order, when a move waiting for another is due, when a done move's
 * settle check falls due, pausing and retries.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <limits.h>

#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/plan.h"
#include "state/queue.h"
#include "state/server.h"
#include "state/slice.h"

#include "catalogfix.h"



#define SETTLE	600			/* seconds, as the daemon's config */

struct fixture {
	char		*dir;
	char		*db;
	struct state	*st;
	int64_t		 slice[3];	/* ids of s1, s2; [0] unused */
};


/* Two slices s1 and s2, and accounts a1..a4 on s1. */
static int
setup(void **arg)
{
	struct fixture *f = calloc(1, sizeof *f);
	char user[32];
	int i;

	f->dir = test_tmpdir();
	if ((f->st = test_catalog_fleet(f->dir, &f->db, 2, f->slice)) == NULL)
		return -1;
	for (i = 1; i <= 4; i++) {
		snprintf(user, sizeof user, "a%d@x.org", i);
		assert_ok(state_account_insert(f->st, user, f->slice[1], user,
		    1000, 10, 0, "counted", &cause));
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

/* Queue a move of user to s2 with a priority; returns its id. */
static int64_t
queue(struct fixture *f, const char *user, int64_t priority)
{
	struct state_move_request req;
	int64_t id;

	memset(&req, 0, sizeof req);
	req.user = user;
	req.target = "s2";
	req.target_path = user;
	req.priority = priority;
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	return id;
}

/* Drive a queued move through the lifecycle to done. */
static void
finish(struct fixture *f, int64_t id)
{
	int64_t now = now_unix();

	assert_ok(state_move_set_state(f->st, id, MOVE_QUEUED, MOVE_COPYING,
	    &cause));
	assert_ok(state_move_set_state(f->st, id, MOVE_COPYING, MOVE_SYNCING,
	    &cause));
	assert_ok(state_move_set_state(f->st, id, MOVE_SYNCING, MOVE_READY,
	    &cause));
	assert_ok(state_move_lock(f->st, id, now * 1000, now + 60, &cause));
	assert_ok(state_move_commit(f->st, id, 5, NULL, &cause));
}

/* What the runnable query hands out. */
struct got {
	int64_t			 id[8];
	struct state_runnable	 r[8];
	int			 n;
	int			 stop_after;	/* 0 = never */
};

static int
got_cb(const struct state_runnable *r, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < 8);
	g->r[g->n] = *r;
	g->id[g->n++] = r->id;
	return g->stop_after != 0 && g->n == g->stop_after;
}

/* Run the query and compare the ids it gives, in order, with want
 * (n of them). */
static void
expect_runnable(struct fixture *f, int64_t now, int archive,
    const int64_t *want, int n, struct got *g)
{
	int i;

	memset(g, 0, sizeof *g);
	assert_ok(state_queue_runnable(f->st, now, SETTLE, archive, got_cb, g,
	    &cause));
	for (i = 0; i < g->n && i < n; i++) {
		if (g->id[i] != want[i])
			fail_msg("runnable #%d is move %lld, want %lld", i,
			    (long long)g->id[i], (long long)want[i]);
	}
	if (g->n != n)
		fail_msg("%d runnable moves, want %d", g->n, n);
}

/* Best first: higher priority, then the older move; a callback that
 * returns nonzero stops the query. */
static void
test_order(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), m1, m2, m3;
	struct got g;

	m1 = queue(f, "a1@x.org", 0);
	m2 = queue(f, "a2@x.org", 5);
	m3 = queue(f, "a3@x.org", 0);
	expect_runnable(f, now, 0, (int64_t[]){ m2, m1, m3 }, 3, &g);
	assert_int_equal(g.r[0].state, MOVE_QUEUED);
	assert_int_equal(g.r[0].source_slice, f->slice[1]);
	assert_int_equal(g.r[0].target_slice, f->slice[2]);

	memset(&g, 0, sizeof g);
	g.stop_after = 1;
	assert_ok(state_queue_runnable(f->st, now, SETTLE, 0, got_cb, &g,
	    &cause));
	assert_int_equal(g.n, 1);
	assert_int_equal(g.id[0], m2);
}

/* The id of the open move of user. */
static int64_t
open_move(struct fixture *f, const char *user)
{
	struct state_move m;
	int64_t id;

	assert_int_equal(state_move_find_open(f->st, user, &m, NULL), 0);
	id = m.id;
	state_move_free(&m);
	return id;
}

/* A plan that moves a1 and then a2 to s2, applied: *first and *second
 * are the queued moves, the second waiting for the first. */
static void
plan_two(struct fixture *f, int64_t *first, int64_t *second)
{
	static const char *const users[2] = { "a1@x.org", "a2@x.org" };
	struct state_plan_move pm[2];
	struct state_account a;
	char *paths[2] = { "a1@x.org", "a2@x.org" };
	struct state_move m;
	int64_t plan;
	int i;

	memset(pm, 0, sizeof pm);
	for (i = 0; i < 2; i++) {
		assert_ok(state_account_get(f->st, users[i], &a, &cause));
		pm[i].seq = i + 1;
		pm[i].account_id = a.id;
		pm[i].from_slice = f->slice[1];
		pm[i].to_slice = f->slice[2];
		pm[i].bytes = a.bytes;
		pm[i].files = a.files;
		state_account_free(&a);
	}
	pm[1].after_seq = 1;
	assert_ok(state_plan_store(f->st, "balance", "{}", "{}", pm, 2, &plan,
	    &cause));
	assert_ok(state_plan_apply(f->st, plan, paths, NULL, &cause));
	*first = open_move(f, users[0]);
	*second = open_move(f, users[1]);
	assert_ok(state_move_get(f->st, *second, &m, &cause));
	assert_int_equal(m.after_move, *first);
	state_move_free(&m);
}

/*
 * A move that waits for another (after_move, from a plan) is left out
 * while that one is open or failed, and handed out once it is done.
 */
static void
test_after_done(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), first, second;
	struct got g;

	plan_two(f, &first, &second);
	/* The first is queued, then running: the second waits. */
	expect_runnable(f, now, 0, (int64_t[]){ first }, 1, &g);
	assert_ok(state_move_set_state(f->st, first, MOVE_QUEUED,
	    MOVE_COPYING, &cause));
	expect_runnable(f, now, 0, (int64_t[]){ first }, 1, &g);
	/* Failed is not done: the second still waits. */
	assert_ok(state_move_fail(f->st, first, MOVE_FAILED, "test", &cause));
	expect_runnable(f, now, 0, NULL, 0, &g);
	/* Queued again and done: both come, the done one to retire its
	 * source. */
	assert_ok(state_queue_retry(f->st, first, 0, &cause));
	finish(f, first);
	expect_runnable(f, now, 0, (int64_t[]){ first, second }, 2, &g);
	assert_int_equal(g.r[0].state, MOVE_DONE);
	assert_int_equal(g.r[1].state, MOVE_QUEUED);
}

/* Cancelled also lets a waiting move go. */
static void
test_after_cancelled(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), first, second;
	struct got g;

	plan_two(f, &first, &second);
	expect_runnable(f, now, 0, (int64_t[]){ first }, 1, &g);
	assert_ok(state_move_fail(f->st, first, MOVE_CANCELLED, "test",
	    &cause));
	expect_runnable(f, now, 0, (int64_t[]){ second }, 1, &g);
}

/*
 * A done move comes back until its source is retired; then not until the
 * settle check falls due (retired SETTLE seconds ago), and not after it
 * ran, unless archiving wants the retired tree, until it is archived or
 * purged.
 */
static void
test_settle_due(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), id;
	struct state_move m;
	struct got g;

	id = queue(f, "a1@x.org", 0);
	finish(f, id);
	expect_runnable(f, now, 0, (int64_t[]){ id }, 1, &g);
	assert_int_equal(g.r[0].state, MOVE_DONE);

	assert_ok(state_move_retired(f->st, id, "/s1/.retired/a1", now,
	    &cause));
	expect_runnable(f, now, 0, NULL, 0, &g);
	expect_runnable(f, now + SETTLE - 1, 0, NULL, 0, &g);
	expect_runnable(f, now + SETTLE, 0, (int64_t[]){ id }, 1, &g);
	expect_runnable(f, now + SETTLE + 3600, 0, (int64_t[]){ id }, 1, &g);

	assert_ok(state_move_settled(f->st, id, now + SETTLE, "", "settled",
	    &cause));
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.settled_at, now + SETTLE);
	state_move_free(&m);
	expect_runnable(f, now + SETTLE, 0, NULL, 0, &g);
	/* Archiving wants the retired tree, not an archive already made. */
	expect_runnable(f, now + SETTLE, 1, (int64_t[]){ id }, 1, &g);
	assert_ok(state_move_retired(f->st, id, "/s1/.retired/a1.tar.zst",
	    now + SETTLE, &cause));
	expect_runnable(f, now + SETTLE, 1, NULL, 0, &g);
	assert_ok(state_move_retired(f->st, id, "/s1/.retired/a1",
	    now + SETTLE, &cause));
	assert_ok(state_move_purged(f->st, id, now + SETTLE, &cause));
	expect_runnable(f, now + SETTLE, 1, NULL, 0, &g);
}

/*
 * A retry is due at its next_try and not before; next_try tells the
 * daemon when to look again. A move that is not failed is not retried.
 */
static void
test_retry(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), id;
	struct state_move m;
	struct got g;

	id = queue(f, "a1@x.org", 0);
	assert_int_equal(state_queue_next_try(f->st, now), 0);
	/* Not failed: left as it is. */
	assert_ok(state_queue_retry(f->st, id, now + 30, &cause));
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.attempts, 0);
	state_move_free(&m);
	expect_runnable(f, now, 0, (int64_t[]){ id }, 1, &g);

	assert_ok(state_move_fail(f->st, id, MOVE_FAILED, "test", &cause));
	expect_runnable(f, now, 0, NULL, 0, &g);
	assert_ok(state_queue_retry(f->st, id, now + 30, &cause));
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.state, MOVE_QUEUED);
	assert_int_equal(m.attempts, 1);
	state_move_free(&m);
	assert_int_equal(state_queue_next_try(f->st, now), now + 30);
	assert_int_equal(state_queue_next_try(f->st, now + 30), 0);
	expect_runnable(f, now + 29, 0, NULL, 0, &g);
	expect_runnable(f, now + 30, 0, (int64_t[]){ id }, 1, &g);
}

/*
 * Paused and cancel-requested moves are still handed out, flagged, for
 * the daemon to act on; resuming clears the flag and makes a failed move
 * due at once. Bad values and moves that are not open are refused.
 */
static void
test_paused(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), m1, m2;
	struct state_move m;
	struct got g;

	m1 = queue(f, "a1@x.org", 0);
	m2 = queue(f, "a2@x.org", 0);
	assert_ok(state_queue_set_paused(f->st, m1, 1, &cause));
	assert_ok(state_queue_set_paused(f->st, m2, 2, &cause));
	expect_runnable(f, now, 0, (int64_t[]){ m1, m2 }, 2, &g);
	assert_int_equal(g.r[0].paused, 1);
	assert_int_equal(g.r[1].paused, 2);
	assert_ok(state_queue_set_paused(f->st, m1, 0, &cause));
	expect_runnable(f, now, 0, (int64_t[]){ m1, m2 }, 2, &g);
	assert_int_equal(g.r[0].paused, 0);

	assert_fails(state_queue_set_paused(f->st, m1, 3, &cause),
	    "bad pause value");
	assert_fails(state_queue_set_paused(f->st, 999, 1, &cause),
	    "move 999 is not open");

	/* Resuming a failed move retries it now. */
	assert_ok(state_move_fail(f->st, m2, MOVE_FAILED, "test", &cause));
	assert_ok(state_queue_set_paused(f->st, m2, 0, &cause));
	assert_ok(state_move_get(f->st, m2, &m, &cause));
	assert_int_equal(m.state, MOVE_QUEUED);
	assert_int_equal(m.paused, 0);
	state_move_free(&m);
	expect_runnable(f, now, 0, (int64_t[]){ m1, m2 }, 2, &g);
	/* A done move is not open: it cannot be paused. */
	finish(f, m1);
	assert_fails(state_queue_set_paused(f->st, m1, 1, &cause),
	    "is not open");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_done, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_after_cancelled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_settle_due, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
