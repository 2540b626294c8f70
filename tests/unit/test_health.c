/*
 * Unit tests of the health watch (migrator/health.c): latency samples
 * fed on a clock the test drives, one health_check per "second", and the
 * states and rates that come of them.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include "migrator/health.h"

#define WINDOW 30.0
#define SLICE 7

/* Feed one second of samples at time t (none when seconds < 0) and
 * judge; returns what health_check returned. */
static int
second(struct health *h, int64_t slice, double t, double seconds)
{
	int i;

	for (i = 0; seconds >= 0 && i < 10; i++)
		health_sample(h, slice, seconds);
	return health_check(h, t, WINDOW);
}

/* Run seconds from *t with samples of latency until slice is in state
 * want, at most limit seconds; returns the time it got there. */
static double
until_state(struct health *h, double *t, double latency,
    enum health_state want, double limit)
{
	double end = *t + limit;

	for (; *t < end; (*t)++) {
		second(h, SLICE, *t, latency);
		if (health_state_of(h, SLICE) == want)
			return (*t)++;
	}
	fail_msg("slice not %s after %.0f s", health_name(want), limit);
	return -1;
}

static void
limits(struct health *h, int64_t a, int64_t b, uint64_t bytes,
    uint64_t files, uint64_t *got)
{
	const uint64_t in[2] = { bytes, files };

	health_limits(h, a, b, in, got);
}

/* ok -> slow -> paused -> slow (trying again) -> recovered, each after a
 * window, and the rates of moves touching the slice on the way. */
static void
test_transitions(void **arg)
{
	struct health *h = health_new();
	struct health_slice v[4];
	uint64_t got[2];
	double t = 0, slow, paused, retry, ok;

	(void)arg;
	assert_int_equal(health_state_of(h, SLICE), HEALTH_OK);
	/* A baseline of 2 ms. */
	for (; t < 60; t++) {
		assert_int_equal(second(h, SLICE, t, 0.002), 0);
		assert_int_equal(health_state_of(h, SLICE), HEALTH_OK);
	}
	limits(h, SLICE, 9, 0, 0, got);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 0);

	/* 50 ms: slow once most of the last window is that slow. */
	slow = until_state(h, &t, 0.050, HEALTH_SLOW, 60);
	assert_true(slow >= 60 + WINDOW / 2 - 1 && slow <= 60 + WINDOW / 2 + 1);
	assert_int_equal(health_list(h, v, 4), 1);
	assert_int_equal(v[0].slice, SLICE);
	assert_int_equal(v[0].state, HEALTH_SLOW);
	assert_true(v[0].baseline > 0.0019 && v[0].baseline < 0.0021);
	assert_true(v[0].recent > 0.0499 && v[0].recent < 0.0501);
	/* Unlimited, or faster than the slow rates: the slow rates. */
	limits(h, SLICE, 9, 0, 0, got);
	assert_int_equal(got[0], HEALTH_SLOW_BYTES);
	assert_int_equal(got[1], HEALTH_SLOW_FILES);
	limits(h, 9, SLICE, 100 << 20, 1000, got);
	assert_int_equal(got[0], HEALTH_SLOW_BYTES);
	assert_int_equal(got[1], HEALTH_SLOW_FILES);
	/* A window slower than that keeps its own rates. */
	limits(h, SLICE, 9, 1000, 5, got);
	assert_int_equal(got[0], 1000);
	assert_int_equal(got[1], 5);
	/* Moves elsewhere keep the window's rates. */
	limits(h, 8, 9, 100 << 20, 1000, got);
	assert_int_equal(got[0], 100 << 20);
	assert_int_equal(got[1], 1000);

	/* Still that slow a window later: paused. */
	paused = until_state(h, &t, 0.050, HEALTH_PAUSED, 60);
	assert_true(paused - slow >= WINDOW && paused - slow <= WINDOW + 1);
	limits(h, SLICE, 9, 0, 0, got);
	assert_int_equal(got[0], HEALTH_SLOW_BYTES);

	/* Paused moves send no samples; after a window they try again. */
	retry = until_state(h, &t, -1, HEALTH_SLOW, 60);
	assert_true(retry - paused >= WINDOW && retry - paused <= WINDOW + 1);

	/* Back to 2 ms: recovered a window later, against the old
	 * baseline. */
	ok = until_state(h, &t, 0.002, HEALTH_OK, 60);
	assert_true(ok - retry >= WINDOW && ok - retry <= WINDOW + 1);
	limits(h, SLICE, 9, 0, 0, got);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 0);
	health_free(h);
}

/* Slower, but never slow enough: under 5 ms, or under five times the
 * baseline, the slice stays ok. */
static void
test_not_slow(void **arg)
{
	struct health *h = health_new();
	double t;

	(void)arg;
	for (t = 0; t < 60; t++)
		second(h, SLICE, t, 0.0001);
	for (; t < 200; t++) {
		second(h, SLICE, t, 0.004);	/* 40 times, but 4 ms */
		assert_int_equal(health_state_of(h, SLICE), HEALTH_OK);
	}
	for (t = 0; t < 60; t++)
		second(h, 8, t, 0.010);
	for (; t < 200; t++) {
		second(h, 8, t, 0.045);		/* 4.5 times */
		assert_int_equal(health_state_of(h, 8), HEALTH_OK);
	}
	health_free(h);
}

/* A slow slice where nothing runs any more (no samples for a window)
 * counts as recovered: there is nothing to judge, or to protect. A
 * slice between two and five times its baseline stays slow. */
static void
test_quiet_recovers(void **arg)
{
	struct health *h = health_new();
	double t = 0, slow;
	int i;

	(void)arg;
	for (; t < 60; t++)
		second(h, SLICE, t, 0.002);
	slow = until_state(h, &t, 0.050, HEALTH_SLOW, 60);
	/* 6 ms, three times the baseline: neither better nor worse. */
	for (i = 0; i < 3 * WINDOW; i++, t++) {
		second(h, SLICE, t, 0.006);
		assert_int_equal(health_state_of(h, SLICE), HEALTH_SLOW);
	}
	assert_true(t - slow > 2 * WINDOW);
	until_state(h, &t, -1, HEALTH_OK, WINDOW + 1);
	health_free(h);
}

/* Every slice is judged on its own. */
static void
test_slices_apart(void **arg)
{
	struct health *h = health_new();
	struct health_slice v[4];
	double t;

	(void)arg;
	for (t = 0; t < 90; t++) {
		health_sample(h, 1, 0.002);
		health_sample(h, 2, t < 60 ? 0.002 : 0.100);
		health_check(h, t, WINDOW);
	}
	assert_int_equal(health_state_of(h, 1), HEALTH_OK);
	assert_int_equal(health_state_of(h, 2), HEALTH_SLOW);
	assert_int_equal(health_state_of(h, 3), HEALTH_OK);
	assert_int_equal(health_list(h, v, 4), 2);
	assert_int_equal(health_list(h, v, 1), 1);
	assert_string_equal(health_name(HEALTH_PAUSED), "paused");
	health_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_not_slow),
		cmocka_unit_test(test_quiet_recovers),
		cmocka_unit_test(test_slices_apart),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
