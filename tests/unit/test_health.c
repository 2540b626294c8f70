/*
 * Unit tests of the health watch's judgement (migrator/health.c): probe
 * times and copier samples fed on a clock the test drives, one probe
 * per slice and health_check per "second", with the default parameters
 * (windows of 10 s, degraded at 4 of 6, ok after 6 clean ones).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include "migrator/health.h"

#include <math.h>

#define NS 8			/* slices at most */
#define BASE 0.025		/* a healthy probe: 25 ms */

/* A fleet: slices 1..n, each with a slowdown factor from a time on. */
struct fleet {
	struct health	*h;
	int		 n;
	double		 factor[NS + 1];
	double		 from[NS + 1];
	int		 hang[NS + 1];	/* probe stuck in flight */
	double		 hang_from[NS + 1];
	int		 spikes;	/* heavy-tailed noise */
	unsigned	 seed;
	int		 bad[NS + 1];	/* seconds not ok */
	double		 first_bad[NS + 1];
};

/* A number in [0, 1) from the fleet's own generator. */
static double
rnd(struct fleet *f)
{
	f->seed = f->seed * 1103515245u + 12345u;
	return (double)((f->seed >> 8) & 0xffff) / 65536.0;
}

/* A healthy probe time: 25 ms +- 20 %, and with spikes now and then
 * one of 4 to 12 times that (a disk flushing, another tenant). */
static double
noise(struct fleet *f)
{
	double v = BASE * (0.8 + 0.4 * rnd(f));

	if (f->spikes && rnd(f) < 0.03)
		v *= 4 + 8 * rnd(f);
	return v;
}

static void
fleet_init(struct fleet *f, int n)
{
	int i;

	memset(f, 0, sizeof *f);
	f->h = health_new(NULL);
	f->n = n;
	f->seed = 42;
	for (i = 1; i <= n; i++) {
		f->factor[i] = 1;
		f->first_bad[i] = -1;
		health_watch(f->h, i);
	}
}

/* Run the fleet from second t0 to t1 (exclusive). */
static void
run(struct fleet *f, double t0, double t1)
{
	double t, v;
	int i;

	for (t = t0; t < t1; t++) {
		for (i = 1; i <= f->n; i++) {
			if (f->hang[i] && t >= f->hang_from[i]) {
				health_inflight(f->h, i, f->hang_from[i]);
				continue;
			}
			v = noise(f) * (t >= f->from[i] ? f->factor[i] : 1);
			health_probe(f->h, i, t, v);
		}
		health_check(f->h, t);
		for (i = 1; i <= f->n; i++) {
			if (health_state_of(f->h, i) == HEALTH_OK)
				continue;
			if (f->first_bad[i] < 0)
				f->first_bad[i] = t;
			f->bad[i]++;
		}
	}
}

static void
fleet_free(struct fleet *f)
{
	health_free(f->h);
}

/* Reason of slice as the watch has it. */
static void
reason_of(struct fleet *f, int64_t slice, char *out, size_t len)
{
	struct health_slice v[NS];
	int i, n = health_list(f->h, v, NS);

	*out = '\0';
	for (i = 0; i < n; i++) {
		if (v[i].slice == slice)
			snprintf(out, len, "%s", v[i].reason);
	}
}

/* One slice of four turns 5x slower: degraded within a minute, with its
 * peers named in the reason; the others never leave ok; back to normal,
 * ok again after six clean windows. */
static void
test_five_times_slower(void **arg)
{
	struct fleet f;
	char why[256];
	int i;

	(void)arg;
	fleet_init(&f, 4);
	f.factor[3] = 5;
	f.from[3] = 600;
	run(&f, 1, 700);
	assert_int_equal(health_state_of(f.h, 3), HEALTH_DEGRADED);
	assert_true(f.first_bad[3] >= 600 && f.first_bad[3] < 660);
	for (i = 1; i <= 4; i++) {
		if (i != 3)
			assert_int_equal(f.bad[i], 0);
	}
	reason_of(&f, 3, why, sizeof why);
	assert_non_null(strstr(why, "other slices'"));
	assert_non_null(strstr(why, "of the last 6 windows"));
	f.factor[3] = 1;
	run(&f, 700, 780);
	assert_int_equal(health_state_of(f.h, 3), HEALTH_OK);
	reason_of(&f, 3, why, sizeof why);
	assert_non_null(strstr(why, "clean windows in a row"));
	fleet_free(&f);
}

/* A hung probe: unresponsive once past the timeout (5 s), and nothing
 * else is; when it comes back, degraded until clean windows follow. */
static void
test_hang(void **arg)
{
	struct fleet f;
	char why[256];

	(void)arg;
	fleet_init(&f, 4);
	run(&f, 1, 300);
	f.hang[2] = 1;
	f.hang_from[2] = 300;
	run(&f, 300, 305);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_OK);
	run(&f, 305, 307);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_UNRESPONSIVE);
	assert_true(f.first_bad[2] == 306);
	assert_true(health_paused(f.h, 2));
	reason_of(&f, 2, why, sizeof why);
	assert_non_null(strstr(why, "probe hung for"));
	run(&f, 307, 400);
	assert_int_equal(f.bad[1] + f.bad[3] + f.bad[4], 0);
	/* The hung probe comes back after 100 s: not yet responding. */
	health_probe(f.h, 2, 400, 100);
	health_check(f.h, 400);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_UNRESPONSIVE);
	f.hang[2] = 0;
	run(&f, 400, 402);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_DEGRADED);
	reason_of(&f, 2, why, sizeof why);
	assert_non_null(strstr(why, "responding again"));
	assert_false(health_paused(f.h, 2));
	run(&f, 402, 480);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_OK);
	fleet_free(&f);
}

/* A probe that fails (EIO, a read-only remount) is unresponsive too. */
static void
test_failed(void **arg)
{
	struct fleet f;
	char why[256];

	(void)arg;
	fleet_init(&f, 2);
	run(&f, 1, 30);
	health_probe_failed(f.h, 1, 30, "create probe file: Input/output "
	    "error");
	health_check(f.h, 30);
	assert_int_equal(health_state_of(f.h, 1), HEALTH_UNRESPONSIVE);
	reason_of(&f, 1, why, sizeof why);
	assert_string_equal(why, "probe failed: create probe file: "
	    "Input/output error");
	assert_int_equal(health_state_of(f.h, 2), HEALTH_OK);
	fleet_free(&f);
}

/* Two hours of heavy-tailed noise on eight slices, then the whole fleet
 * three times slower at once (everybody's disk busy): no false alarm. */
static void
test_no_false_alarm(void **arg)
{
	struct fleet f;
	int i;

	(void)arg;
	fleet_init(&f, 8);
	f.spikes = 1;
	run(&f, 1, 7200);
	for (i = 1; i <= 8; i++) {
		f.factor[i] = 3;
		f.from[i] = 7200;
	}
	run(&f, 7200, 7800);
	for (i = 1; i <= 8; i++)
		assert_int_equal(f.bad[i], 0);
	fleet_free(&f);
}

/* Slower, but under the floor (20 ms): never degraded. */
static void
test_floor(void **arg)
{
	struct health *h = health_new(NULL);
	double t;
	int i;

	(void)arg;
	for (i = 1; i <= 4; i++)
		health_watch(h, i);
	for (t = 1; t < 600; t++) {
		for (i = 1; i <= 4; i++)
			health_probe(h, i, t, i == 4 && t > 300 ? 0.010 :
			    0.001);
		health_check(h, t);
		assert_int_equal(health_state_of(h, 4), HEALTH_OK);
	}
	health_free(h);
}

/* A slice alone is judged by its own baseline; one slow from the start
 * (no baseline of its own) by its peers. */
static void
test_alone_and_from_start(void **arg)
{
	struct fleet f;

	(void)arg;
	fleet_init(&f, 1);
	f.factor[1] = 5;
	f.from[1] = 300;
	run(&f, 1, 400);
	assert_true(f.first_bad[1] >= 300 && f.first_bad[1] < 360);
	fleet_free(&f);

	fleet_init(&f, 4);
	f.factor[4] = 5;
	run(&f, 1, 100);
	assert_int_equal(health_state_of(f.h, 4), HEALTH_DEGRADED);
	assert_int_equal(f.bad[1] + f.bad[2] + f.bad[3], 0);
	fleet_free(&f);
}

/* Moves near a slice that is not ok run slowly; degraded for a minute,
 * they pause. */
static void
test_limits_and_pause(void **arg)
{
	struct fleet f;
	uint64_t in[2] = { 50 << 20, 0 }, out[2];

	(void)arg;
	fleet_init(&f, 4);
	health_limits(f.h, 1, 2, in, out);
	assert_int_equal(out[0], 50 << 20);
	assert_int_equal(out[1], 0);
	f.factor[2] = 10;
	f.from[2] = 200;
	run(&f, 1, 300);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_DEGRADED);
	health_limits(f.h, 1, 2, in, out);
	assert_int_equal(out[0], HEALTH_SLOW_BYTES);
	assert_int_equal(out[1], HEALTH_SLOW_FILES);
	assert_false(health_paused(f.h, 1));
	run(&f, 300, f.first_bad[2] + 60);
	assert_true(health_paused(f.h, 2));
	fleet_free(&f);
}

/* The copier's samples alone: a slice without probes, judged against
 * its own baseline. */
static void
test_copier(void **arg)
{
	struct health *h = health_new(NULL);
	double t;
	int k;

	(void)arg;
	for (t = 1; t < 200 && health_state_of(h, 9) == HEALTH_OK; t++) {
		for (k = 0; k < 5; k++)
			health_sample(h, 9, t < 100 ? 0.002 : 0.2);
		health_check(h, t);
	}
	assert_int_equal(health_state_of(h, 9), HEALTH_DEGRADED);
	assert_true(t > 130 && t < 150);
	health_free(h);
}

/* The state the catalog had at start is kept until the probes say
 * otherwise. */
static void
test_seed(void **arg)
{
	struct fleet f;
	char why[256];

	(void)arg;
	fleet_init(&f, 4);
	health_seed(f.h, 1, HEALTH_DEGRADED, "probe p50 120 ms");
	health_seed(f.h, 2, HEALTH_UNRESPONSIVE, "probe hung for 6.0 s");
	assert_int_equal(health_state_of(f.h, 1), HEALTH_DEGRADED);
	run(&f, 1, 3);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_DEGRADED);
	reason_of(&f, 1, why, sizeof why);
	assert_string_equal(why, "probe p50 120 ms");
	run(&f, 3, 90);
	assert_int_equal(health_state_of(f.h, 1), HEALTH_OK);
	assert_int_equal(health_state_of(f.h, 2), HEALTH_OK);
	fleet_free(&f);
}

/* A fleet of 100 slices (the peers' limit is then one for all): one
 * 5x slower is degraded, none of the others. */
static void
test_many_peers(void **arg)
{
	struct health *h = health_new(NULL);
	unsigned seed = 7;
	double t, v;
	int i, bad = 0;

	(void)arg;
	for (i = 1; i <= 100; i++)
		health_watch(h, i);
	for (t = 1; t < 400; t++) {
		for (i = 1; i <= 100; i++) {
			seed = seed * 1103515245u + 12345u;
			v = BASE * (0.8 + 0.4 * ((seed >> 8) & 0xffff) /
			    65536.0);
			health_probe(h, i, t, i == 42 && t >= 200 ? 5 * v : v);
		}
		health_check(h, t);
		for (i = 1; i <= 100; i++)
			bad += i != 42 && health_state_of(h, i) != HEALTH_OK;
	}
	assert_int_equal(health_state_of(h, 42), HEALTH_DEGRADED);
	assert_int_equal(bad, 0);
	health_free(h);
}

/* Forgotten slices are not listed; the histogram counts every probe. */
static void
test_list(void **arg)
{
	struct fleet f;
	struct health_slice v[NS];
	uint64_t sum;
	int n, k;

	(void)arg;
	fleet_init(&f, 3);
	run(&f, 1, 21);
	health_forget(f.h, 2);
	n = health_list(f.h, v, NS);
	assert_int_equal(n, 2);
	assert_true(v[0].slice != 2 && v[1].slice != 2);
	for (k = 0, sum = 0; k <= HEALTH_BUCKETS; k++)
		sum += v[0].bucket[k];
	assert_int_equal(sum, 20);
	assert_int_equal(v[0].probes, 20);
	assert_true(v[0].p50 > 0.015 && v[0].p50 < 0.035);
	assert_true(fabs(v[0].sum / 20 - BASE) < 0.005);
	fleet_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_five_times_slower),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_no_false_alarm),
		cmocka_unit_test(test_floor),
		cmocka_unit_test(test_alone_and_from_start),
		cmocka_unit_test(test_limits_and_pause),
		cmocka_unit_test(test_copier),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_many_peers),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
