/*
 * Unit tests of the daemon's scheduler (migrator/scheduler.c) against a
 * real temporary catalog: which queued moves a pick starts within the
 * caps, what it leaves waiting, and when the cutover gate says yes. No
 * event loop and no move runs: moves "in flight" are workers the test
 * puts into the scheduler by hand.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <time.h>

#include "common/config.h"
#include "migrator/health.h"
#include "migrator/presence.h"
#include "migrator/scheduler.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/queue.h"
#include "state/server.h"
#include "state/slice.h"

#include "catalogfix.h"


struct fixture {
	char		*dir;
	char		*db;
	struct state	*st;
	struct config	 cfg;
	struct presence	*presence;
	struct health	*health;
	struct sched	 s;
	int64_t		 slice[4];	/* ids of s1..s3, [0] unused */
	int64_t		 move[7];	/* ids of the six moves, [0] unused */
};


/* Queue a move of user to slice target; returns its id. */
static int64_t
queue(struct fixture *f, const char *user, const char *target)
{
	struct state_move_request req;
	int64_t id;

	memset(&req, 0, sizeof req);
	req.user = user;
	req.target = target;
	req.target_path = user;
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	return id;
}

/*
 * Three slices s1..s3 and six accounts, two on each, every one queued to
 * move to one of the other two slices:
 *   move 1 s1->s2, 2 s1->s3, 3 s2->s1, 4 s2->s3, 5 s3->s1, 6 s3->s2
 */
static int
setup(void **arg)
{
	static const char *const users[6] = { "a1@x.org", "a2@x.org",
	    "b1@x.org", "b2@x.org", "c1@x.org", "c2@x.org" };
	static const char *const to[6] = { "s2", "s3", "s1", "s3", "s1",
	    "s2" };
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;
	int i;

	f->dir = test_tmpdir();
	if ((f->st = test_catalog_fleet(f->dir, &f->db, 3, f->slice)) == NULL)
		return -1;
	for (i = 0; i < 6; i++) {
		assert_ok(state_account_insert(f->st, users[i],
		    f->slice[i / 2 + 1], users[i], 1000, 10, 0, "counted",
		    &cause));
		f->move[i + 1] = queue(f, users[i], to[i]);
	}
	config_defaults(&f->cfg);
	f->presence = presence_new(&f->cfg, &cause);
	assert_non_null(f->presence);
	f->health = health_new(NULL);
	sched_init(&f->s, f->st, f->db, &f->cfg, f->health, f->presence, -1);
	*arg = f;
	return 0;
}

/* Drop the hand-made workers: none of them is a real thread. */
static void
forget_workers(struct fixture *f)
{
	int i;

	for (i = 0; i < f->s.nw; i++)
		free(f->s.w[i]);
	f->s.nw = 0;
}

static int
teardown(void **arg)
{
	struct fixture *f = *arg;

	forget_workers(f);
	assert_int_equal(sched_free(&f->s), 0);
	presence_free(f->presence);
	health_free(f->health);
	config_free(&f->cfg);
	state_close(f->st);
	free(f->db);
	test_rm_rf(f->dir);
	free(f);
	return 0;
}

/* A move in flight, as far as the pick can tell. */
static struct worker *
in_flight(struct fixture *f, int64_t id, int64_t src, int64_t dst)
{
	struct worker *w = calloc(1, sizeof *w);

	assert_non_null(w);
	w->s = &f->s;
	w->id = id;
	w->source = src;
	w->target = dst;
	f->s.w[f->s.nw++] = w;
	return w;
}

/* What the last expect_pick started each move for ('r' run, 'p' a delta
 * pass at ready, 'c' a cutover), in order; why the first waiting ready
 * move waits, or "". */
static char picked_for[16];
static char wait_why[512];

/* Pick at now and compare the started moves (by number 1..6) with want,
 * a string such as "13" (in order). */
static void
expect_pick(struct fixture *f, int64_t now, const char *want)
{
	struct sched_pick p;
	char got[16] = "";
	int i, k;

	assert_ok(sched_pick(&f->s, now, &p, &cause));
	memset(picked_for, 0, sizeof picked_for);
	for (i = 0; i < p.n; i++) {
		for (k = 1; k <= 6; k++) {
			if (f->move[k] == p.start[i])
				got[strlen(got)] = (char)('0' + k);
		}
		picked_for[i] = p.kind[i] == SCHED_READY_PASS ? 'p' :
		    p.kind[i] == SCHED_READY_CUTOVER ? 'c' : 'r';
	}
	snprintf(wait_why, sizeof wait_why, "%s", p.nwait > 0 ? p.why[0] :
	    "");
	sched_pick_free(&p);
	if (strcmp(got, want) != 0)
		fail_msg("picked moves \"%s\", want \"%s\"", got, want);
}

static void
set_caps(struct fixture *f, uint64_t max, uint64_t src, uint64_t dst)
{
	f->cfg.max_moves = max;
	f->cfg.per_source = src;
	f->cfg.per_target = dst;
}

/* Caps 4/1/1: only moves whose source and target are both free start;
 * moves in flight hold their slices until they end. */
static void
test_caps(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix();
	int64_t *s = f->slice;

	set_caps(f, 4, 1, 1);
	/* 1 takes s1 out and s2 in; 3 takes s2 out and s1 in; the rest
	 * need a slice already taken. */
	expect_pick(f, now, "13");
	in_flight(f, f->move[1], s[1], s[2]);
	in_flight(f, f->move[3], s[2], s[1]);
	expect_pick(f, now, "");
	/* Move 1 ends (cancelled here): s1 out and s2 in are free again. */
	assert_ok(state_move_fail(f->st, f->move[1], MOVE_CANCELLED, "test",
	    &cause));
	free(f->s.w[0]);
	f->s.w[0] = f->s.w[1];
	f->s.nw = 1;
	expect_pick(f, now, "26");

	/* Wider slice caps: max_moves is the limit, running moves count. */
	forget_workers(f);
	set_caps(f, 4, 9, 9);
	expect_pick(f, now, "2345");
	set_caps(f, 2, 9, 9);
	in_flight(f, f->move[6], s[3], s[2]);
	expect_pick(f, now, "2");
	set_caps(f, 1, 9, 9);
	expect_pick(f, now, "");
	/* per_target 2: two moves into s1 at once, still one out of each. */
	forget_workers(f);
	set_caps(f, 4, 1, 2);
	expect_pick(f, now, "235");
}

/* Set a column of a move with SQL (what plans and time do). */
static void
move_sql(struct fixture *f, const char *sql, int64_t v, int64_t id)
{
	sqlite3_stmt *stmt;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, v);
	sqlite3_bind_int64(stmt, 2, id);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* A move waiting for another (after_move, from a plan) starts only once
 * that one is done or cancelled. */
static void
test_after_move(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix();

	set_caps(f, 4, 1, 1);
	move_sql(f, "UPDATE moves SET after_move = ? WHERE id = ?",
	    f->move[2], f->move[1]);
	/* Without 1, s2 stays free as a target for 6. */
	expect_pick(f, now, "236");
	assert_ok(state_move_fail(f->st, f->move[2], MOVE_CANCELLED, "test",
	    &cause));
	expect_pick(f, now, "13");
}

/* A move that just failed to run cools down; a retry waits for its
 * next_try. */
static void
test_cool_down(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix();

	set_caps(f, 4, 1, 1);
	sched_cool_down(&f->s, f->move[1], now + 30);
	expect_pick(f, now, "236");
	expect_pick(f, now + 29, "236");
	expect_pick(f, now + 30, "13");
	/* A later cool-down replaces the earlier one. */
	sched_cool_down(&f->s, f->move[1], now + 100);
	expect_pick(f, now + 30, "236");

	sched_cool_down(&f->s, f->move[1], 0);
	move_sql(f, "UPDATE moves SET next_try = ? WHERE id = ?", now + 60,
	    f->move[1]);
	expect_pick(f, now, "236");
	expect_pick(f, now + 60, "13");
}

/* Paused moves do not start; a cancel request is handed back, not
 * started; a move on a slice paused for its health does not start. */
static void
test_paused(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix();
	struct sched_pick p;
	double t;

	set_caps(f, 4, 1, 1);
	assert_ok(state_queue_set_paused(f->st, f->move[1], 1, &cause));
	assert_ok(state_queue_set_paused(f->st, f->move[3], 2, &cause));
	assert_ok(sched_pick(&f->s, now, &p, &cause));
	assert_int_equal(p.ncancel, 1);
	assert_int_equal(p.cancel[0], f->move[3]);
	sched_pick_free(&p);
	/* Neither 1 nor 3 holds a slice: 2 and 5 go. */
	expect_pick(f, now, "25");
	assert_ok(state_queue_set_paused(f->st, f->move[1], 0, &cause));
	assert_ok(state_queue_set_paused(f->st, f->move[3], 0, &cause));
	expect_pick(f, now, "13");

	/* Slice s2's probe fails: unresponsive, nothing into or out of
	 * it. */
	t = 1000;
	health_watch(f->health, f->slice[2]);
	health_probe_failed(f->health, f->slice[2], t, "open: EIO");
	health_check(f->health, t);
	assert_int_equal(health_state_of(f->health, f->slice[2]),
	    HEALTH_UNRESPONSIVE);
	assert_true(health_paused(f->health, f->slice[2]));
	expect_pick(f, now, "25");
}

/* Move id queued -> copying -> syncing -> ready. */
static void
make_ready(struct fixture *f, int64_t id)
{
	assert_ok(state_move_set_state(f->st, id, MOVE_QUEUED, MOVE_COPYING,
	    &cause));
	assert_ok(state_move_set_state(f->st, id, MOVE_COPYING, MOVE_SYNCING,
	    &cause));
	assert_ok(state_move_set_state(f->st, id, MOVE_SYNCING, MOVE_READY,
	    &cause));
}

#define assert_waits(text) do {						\
	if (strstr(wait_why, (text)) == NULL)				\
		fail_msg("waits for '%s', want '%s'", wait_why, (text));\
} while (0)

/* Catalog churn that concerns no waiting move: another user's presence
 * flips, as access servers push it. */
static void
churn(struct fixture *f)
{
	assert_ok(state_account_set_presence(f->st, "b1@x.org", 1, &cause));
	assert_ok(state_account_set_presence(f->st, "b1@x.org", 0, &cause));
}

/* A ready move whose gate is open starts at once, for its cutover. One
 * whose gate is shut takes no slot and starts for a delta pass only every
 * ready_pass, whatever changes in the catalog; once the gate opens (the
 * hold released) it starts at once. */
static void
test_ready(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), id = f->move[1];

	make_ready(f, id);
	f->cfg.ready_pass = 300;
	set_caps(f, 1, 9, 9);
	expect_pick(f, now, "1");
	assert_string_equal(picked_for, "c");
	assert_string_equal(wait_why, "");
	/* Its worker did not run here: open still, picked again. */
	expect_pick(f, now + 1, "1");

	/* Held: the slot goes to move 2; no pass before ready_pass since
	 * the last start (now + 1). */
	assert_ok(state_move_set_hold(f->st, id, 1, &cause));
	expect_pick(f, now + 2, "2");
	assert_waits("the move is held");
	churn(f);
	expect_pick(f, now + 3, "2");
	churn(f);
	expect_pick(f, now + 1 + 299, "2");
	expect_pick(f, now + 1 + 300, "1");	/* its delta pass */
	assert_string_equal(picked_for, "p");
	churn(f);
	expect_pick(f, now + 1 + 301, "2");
	/* Released: the cutover at once, not after ready_pass. */
	assert_ok(state_move_set_hold(f->st, id, 0, &cause));
	expect_pick(f, now + 1 + 302, "1");
	assert_string_equal(picked_for, "c");
}

/* A ready move the daemon has not looked at since it started gets one
 * delta pass at once; then none before ready_pass, catalog churn or not;
 * presence and a window shut the gate as a hold does. */
static void
test_ready_waits(void **arg)
{
	struct fixture *f = *arg;
	int64_t now = now_unix(), id = f->move[1];
	struct config_window *w = &f->cfg.windows[0];

	make_ready(f, id);
	f->cfg.ready_pass = 20;
	set_caps(f, 4, 9, 9);
	assert_ok(state_account_set_presence(f->st, "a1@x.org", 1, &cause));
	expect_pick(f, now, "1234");
	assert_string_equal(picked_for, "prrr");
	assert_waits("the user is online (catalog)");
	set_caps(f, 1, 9, 9);
	expect_pick(f, now + 1, "2");
	churn(f);
	expect_pick(f, now + 2, "2");
	expect_pick(f, now + 19, "2");
	expect_pick(f, now + 20, "1");
	assert_string_equal(picked_for, "p");
	/* Offline, but active within idle: still shut, no pass for it. */
	assert_ok(state_account_set_presence(f->st, "a1@x.org", 0, &cause));
	expect_pick(f, now + 21, "2");
	assert_waits("the user was active at ");
	/* No idle time asked for: open, picked at once. */
	f->cfg.presence_idle = 0;
	expect_pick(f, now + 22, "1");
	assert_string_equal(picked_for, "c");
	/* A window without cutovers shuts it again; its pass is due at
	 * now + 42. */
	memset(w, 0, sizeof *w);
	snprintf(w->name, sizeof w->name, "allday");
	w->to = 1440;
	f->cfg.nwindows = 1;
	expect_pick(f, now + 23, "2");
	assert_waits("window 'allday' allows no cutovers");
	expect_pick(f, now + 41, "2");
	expect_pick(f, now + 42, "1");
	assert_string_equal(picked_for, "p");
}

static void *
nothing(void *arg)
{
	return arg;
}

/* A worker that has ended with rc, as the thread would leave it. */
static void
ended(struct fixture *f, int64_t id, int rc, const char *cause)
{
	struct worker *w = in_flight(f, id, f->slice[1], f->slice[2]);

	w->rc = rc;
	w->cause = cause ? strdup(cause) : NULL;
	w->done = 1;
	assert_int_equal(pthread_create(&w->th, NULL, nothing, NULL), 0);
}

/* A cutover worker whose own gate said no after its pass (the loop saw
 * it open): not started again for SCHED_READY_LOOK seconds; a worker
 * that ended its delta pass puts the next one off by ready_pass. */
static void
test_ready_refused(void **arg)
{
	struct fixture *f = *arg;
	int64_t now, id = f->move[1];
	struct worker *w;

	make_ready(f, id);
	f->cfg.ready_pass = 60;
	set_caps(f, 1, 9, 9);
	ended(f, id, 0, NULL);
	w = f->s.w[f->s.nw - 1];
	w->kind = SCHED_READY_CUTOVER;
	snprintf(w->waiting, sizeof w->waiting, "the mailbox changed");
	sched_reap(&f->s);
	now = now_unix();
	expect_pick(f, now + 1, "2");
	expect_pick(f, now + SCHED_READY_LOOK, "1");
	assert_string_equal(picked_for, "c");

	assert_ok(state_move_set_hold(f->st, id, 1, &cause));
	ended(f, id, 0, NULL);
	w = f->s.w[f->s.nw - 1];
	w->kind = SCHED_READY_PASS;
	snprintf(w->waiting, sizeof w->waiting, "held");
	sched_reap(&f->s);
	now = now_unix();
	expect_pick(f, now + 59, "2");
	expect_pick(f, now + 60, "1");
	assert_string_equal(picked_for, "p");
}

/* A failed move is queued again after retry_base, four times longer each
 * time, up to max_retries; then it stays failed. */
static void
test_retry(void **arg)
{
	struct fixture *f = *arg;
	struct state_move m;
	int64_t now = now_unix(), id = f->move[1], t;

	assert_int_equal(sched_backoff(&f->cfg, 0), 30);
	assert_int_equal(sched_backoff(&f->cfg, 1), 120);
	assert_int_equal(sched_backoff(&f->cfg, 2), 480);
	assert_int_equal(sched_backoff(&f->cfg, 40), 122880);

	f->cfg.max_retries = 2;
	set_caps(f, 4, 1, 1);
	assert_ok(state_move_fail(f->st, id, MOVE_FAILED, "disk on fire",
	    &cause));
	ended(f, id, -1, "disk on fire");
	sched_reap(&f->s);
	assert_int_equal(f->s.nw, 0);
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.state, MOVE_QUEUED);
	assert_int_equal(m.attempts, 1);
	state_move_free(&m);
	assert_true(f->s.next_wake >= now + 30 && f->s.next_wake <= now + 32);
	expect_pick(f, now + 1, "236");
	expect_pick(f, now + 32, "13");

	assert_ok(state_move_fail(f->st, id, MOVE_FAILED, "again", &cause));
	ended(f, id, -1, "again");
	sched_reap(&f->s);
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.state, MOVE_QUEUED);
	assert_int_equal(m.attempts, 2);
	state_move_free(&m);
	/* Four times longer: due in 120 s (this is the only retry). */
	t = state_queue_next_try(f->st, now);
	assert_true(t >= now + 120 && t <= now + 122);

	assert_ok(state_move_fail(f->st, id, MOVE_FAILED, "for good", &cause));
	ended(f, id, -1, "for good");
	sched_reap(&f->s);
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.state, MOVE_FAILED);
	assert_int_equal(m.attempts, 2);
	state_move_free(&m);
}

/* A cutover of move id that gives its lock back, as cutover_abandon
 * leaves the catalog; then its worker ends. */
static void
abandoned(struct fixture *f, int64_t id, int first)
{
	int64_t now = now_unix();

	if (first) {
		assert_ok(state_move_set_state(f->st, id, MOVE_QUEUED,
		    MOVE_COPYING, &cause));
		assert_ok(state_move_set_state(f->st, id, MOVE_COPYING,
		    MOVE_SYNCING, &cause));
	}
	assert_ok(state_move_set_state(f->st, id, MOVE_SYNCING, MOVE_READY,
	    &cause));
	assert_ok(state_move_lock(f->st, id, now * 1000, now + 60, &cause));
	assert_ok(state_move_unlock(f->st, id, "the lock lasted 2500 ms, over "
	    "lock_timeout (2 s)", &cause));
	ended(f, id, -1, "cutover abandoned");
	f->s.w[f->s.nw - 1]->res.abandoned = 1;
	sched_reap(&f->s);
	assert_int_equal(f->s.nw, 0);
}

/* An abandoned cutover counts as an attempt: the move stays open but is
 * not cut over again before retry_base, four times longer each time;
 * after max_retries it fails with its reason, and resume makes it due. */
static void
test_abandon_backoff(void **arg)
{
	struct fixture *f = *arg;
	struct state_move m;
	int64_t now = now_unix(), id = f->move[1], t;

	f->cfg.max_retries = 2;
	set_caps(f, 4, 1, 1);
	abandoned(f, id, 1);
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.state, MOVE_SYNCING);
	assert_int_equal(m.attempts, 1);
	state_move_free(&m);
	t = state_queue_next_try(f->st, now);
	assert_true(t >= now + 30 && t <= now + 32);
	assert_true(f->s.next_wake >= now + 30 && f->s.next_wake <= now + 32);
	expect_pick(f, now + 1, "236");
	expect_pick(f, now + 32, "13");

	abandoned(f, id, 0);
	t = state_queue_next_try(f->st, now);
	assert_true(t >= now + 120 && t <= now + 122);
	expect_pick(f, now + 60, "236");

	abandoned(f, id, 0);
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.state, MOVE_FAILED);
	assert_int_equal(m.attempts, 3);
	assert_non_null(strstr(m.error, "over lock_timeout (2 s); cutover "
	    "abandoned 3 times, the copy is kept: 'mailshift moves resume"));
	state_move_free(&m);
	assert_ok(state_queue_set_paused(f->st, id, 0, &cause));
	f->s.ncool = 0;
	expect_pick(f, now + 1, "13");
}

/* Workers near a slow slice get slow rates; on a paused one they are
 * asked to stop. */
static void
test_worker_health(void **arg)
{
	struct fixture *f = *arg;
	struct worker *a, *b;
	double t;

	f->s.window[0] = 50 << 20;
	f->s.window[1] = 0;
	a = in_flight(f, f->move[1], f->slice[1], f->slice[2]);
	b = in_flight(f, f->move[5], f->slice[3], f->slice[1]);
	sched_apply_health(&f->s);
	assert_int_equal(a->limits[0], 50 << 20);
	assert_int_equal(a->limits[1], 0);
	/* The copier's file work on s2 gets 100 times slower: degraded
	 * after 4 of 6 windows of 10 s. */
	for (t = 1; health_state_of(f->health, f->slice[2]) !=
	    HEALTH_DEGRADED; t++) {
		assert_true(t < 200);
		for (int k = 0; k < 5; k++)
			health_sample(f->health, f->slice[2], t < 100 ?
			    0.001 : 0.1);
		health_check(f->health, t);
	}
	assert_true(t > 130 && t < 150);
	sched_apply_health(&f->s);
	assert_int_equal(a->limits[0], HEALTH_SLOW_BYTES);
	assert_int_equal(a->limits[1], HEALTH_SLOW_FILES);
	assert_int_equal(a->stop, 0);
	assert_int_equal(b->limits[0], 50 << 20);
	assert_false(health_paused(f->health, f->slice[2]));
	/* Degraded for pause_after (60 s): its moves pause. */
	for (; !health_paused(f->health, f->slice[2]); t++) {
		assert_true(t < 300);
		for (int k = 0; k < 5; k++)
			health_sample(f->health, f->slice[2], 0.1);
		health_check(f->health, t);
	}
	sched_apply_health(&f->s);
	assert_int_equal(a->stop, 1);
	assert_int_equal(b->stop, 0);
}

/* Gate one move at now: 1 may cut over; why gets the reason. */
static int
gate(struct fixture *f, const struct state_move *m, int64_t now, char *why)
{
	*why = '\0';
	return sched_gate(&f->cfg, f->presence, f->st, m, now, why, 256);
}

#define assert_refused(f, m, now, text) do {				\
	char why_[256];							\
	assert_int_equal(gate((f), (m), (now), why_), 0);		\
	if (strstr(why_, (text)) == NULL)				\
		fail_msg("reason '%s' lacks '%s'", why_, (text));	\
} while (0)

/* The cutover gate: window, hold, catalog presence and idle, mailbox
 * changes, each in turn; yes when none objects. */
static void
test_gate(void **arg)
{
	struct fixture *f = *arg;
	struct state_move m;
	struct config_window *w = &f->cfg.windows[0];
	struct state_account a;
	int64_t now = now_unix(), t;
	char why[256];

	assert_ok(state_move_get(f->st, f->move[1], &m, &cause));
	assert_int_equal(gate(f, &m, now, why), 1);

	/* A window all day without cutovers; then with them. */
	memset(w, 0, sizeof *w);
	snprintf(w->name, sizeof w->name, "allday");
	w->from = 0;
	w->to = 1440;
	f->cfg.nwindows = 1;
	assert_refused(f, &m, now, "window 'allday' allows no cutovers");
	w->cutover = 1;
	assert_int_equal(gate(f, &m, now, why), 1);

	/* Held, or not before its complete-after time. */
	m.hold = 1;
	assert_refused(f, &m, now, "held");
	m.hold = 0;
	m.complete_after = now + 60;
	assert_refused(f, &m, now, "held until");
	assert_int_equal(gate(f, &m, now + 60, why), 1);
	m.complete_after = 0;

	/* The catalog: online; offline but active within idle (counted
	 * from when it went offline, t). */
	assert_ok(state_account_set_presence(f->st, "a1@x.org", 1, &cause));
	assert_refused(f, &m, now, "the user is online (catalog)");
	assert_ok(state_account_set_presence(f->st, "a1@x.org", 0, &cause));
	assert_ok(state_account_get(f->st, "a1@x.org", &a, &cause));
	t = a.last_activity;
	state_account_free(&a);
	assert_true(t >= now);
	assert_refused(f, &m, t + 10, "the user was active at ");
	assert_refused(f, &m, t + 10, "(catalog; idle is 900s: not before ");
	assert_refused(f, &m, t + 899, "the user was active");
	assert_int_equal(gate(f, &m, t + 900, why), 1);
	/* Not asked when not configured; idle 0 asks for no quiet time. */
	f->cfg.presence_sources = PRESENCE_MAILBOX;
	assert_int_equal(gate(f, &m, t + 10, why), 1);
	f->cfg.presence_sources = PRESENCE_CATALOG | PRESENCE_MAILBOX;
	f->cfg.presence_idle = 0;
	assert_int_equal(gate(f, &m, t + 10, why), 1);
	f->cfg.presence_idle = 900;

	/* The mailbox changed recently. */
	m.last_change = t + 2000 - 30;
	assert_refused(f, &m, t + 2000, "the mailbox changed at ");
	m.last_change = t + 2000 - 900;
	assert_int_equal(gate(f, &m, t + 2000, why), 1);

	/* The command source before it ever answered: nobody is offline. */
	f->cfg.presence_sources |= PRESENCE_COMMAND;
	assert_refused(f, &m, t + 2000, "the presence command gave no answer "
	    "yet");
	f->cfg.presence_sources = PRESENCE_CATALOG | PRESENCE_MAILBOX;
	assert_int_equal(gate(f, &m, t + 2000, why), 1);
	state_move_free(&m);
}

/* A thread that runs until told to end, like a move that does not stop. */
static void *
stuck(void *arg)
{
	struct worker *w = arg;
	struct timespec ts = { 0, 1000 * 1000 };

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE))
		nanosleep(&ts, NULL);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* sched_free never frees a worker whose thread still runs: it refuses,
 * and frees everything once the thread has ended. */
static void
test_free_waits(void **arg)
{
	struct fixture *f = *arg;
	struct worker *w = in_flight(f, f->move[1], f->slice[1],
	    f->slice[2]);

	assert_int_equal(pthread_create(&w->th, NULL, stuck, w), 0);
	sched_cool_down(&f->s, f->move[2], now_unix() + 30);
	assert_int_equal(sched_busy(&f->s), 1);
	assert_int_equal(sched_free(&f->s), -1);
	assert_int_equal(f->s.nw, 1);
	assert_ptr_equal(f->s.w[0], w);
	assert_int_equal(f->s.ncool, 1);
	sched_stop(&f->s);
	assert_int_equal(w->stop, 1);
	while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
		sched_yield();
	assert_int_equal(sched_free(&f->s), 0);
	assert_int_equal(f->s.nw, 0);
	assert_int_equal(f->s.ncool, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_move, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cool_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_waits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ready_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandon_backoff, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_worker_health, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_waits, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
}
