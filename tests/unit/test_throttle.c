/*
 * Unit tests of the token buckets (throttle.c). The time slept is read
 * from the bucket's own account (waited); the clock is only checked to
 * have advanced at least that far, never against an upper bound.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include "migrator/throttle.h"

/* Unlimited buckets never sleep, however much is taken. */
static void
test_unlimited(void **arg)
{
	struct throttle t;
	int i;

	(void)arg;
	throttle_init(&t, 0, 0);
	throttle_take(&t, 1000000000, 1000000);
	for (i = 0; i < 1000; i++)
		throttle_take(&t, 1 << 20, 1000);
	assert_true(t.waited == 0);
}

/* Chunks: 1 MiB when unlimited or fast, rate/20 between, 4096 at least. */
static void
test_chunk(void **arg)
{
	struct throttle t;

	(void)arg;
	throttle_init(&t, 0, 0);
	assert_int_equal(throttle_chunk(&t), 1 << 20);
	throttle_init(&t, 0, 100);	/* files only: bytes unlimited */
	assert_int_equal(throttle_chunk(&t), 1 << 20);
	throttle_init(&t, 1, 0);
	assert_int_equal(throttle_chunk(&t), 4096);
	throttle_init(&t, 1000, 0);
	assert_int_equal(throttle_chunk(&t), 4096);
	throttle_init(&t, 20 * 4096, 0);
	assert_int_equal(throttle_chunk(&t), 4096);
	throttle_init(&t, 20 * 4096 + 20, 0);
	assert_int_equal(throttle_chunk(&t), 4097);
	throttle_init(&t, 1000000, 0);
	assert_int_equal(throttle_chunk(&t), 50000);
	throttle_init(&t, 20 << 20, 0);
	assert_int_equal(throttle_chunk(&t), 1 << 20);
	throttle_init(&t, (20 << 20) - 20, 0);
	assert_int_equal(throttle_chunk(&t), (1 << 20) - 1);
	throttle_init(&t, 10000000000ULL, 0);
	assert_int_equal(throttle_chunk(&t), 1 << 20);
}

/* What fits in the burst (a fifth of a second) is taken at once. */
static void
test_burst(void **arg)
{
	struct throttle t;

	(void)arg;
	throttle_init(&t, 1000000, 100);
	throttle_take(&t, 150000, 15);
	throttle_take(&t, 50000, 5);
	assert_true(t.waited == 0);
}

/* Taking 3x the byte rate at once sleeps off the debt beyond the burst:
 * 3 MB at 1 MB/s with a 0.2 MB burst is 2.8 s. */
static void
test_bytes_rate(void **arg)
{
	struct throttle t;
	double t0, slept;

	(void)arg;
	throttle_init(&t, 1000000, 0);
	t0 = monotonic_now();
	throttle_take(&t, 3000000, 0);
	slept = monotonic_now() - t0;
	/* Generous: the debt is 2.8 s, less what accrued meanwhile. */
	assert_true(t.waited >= 2.0);
	assert_true(t.waited <= 2.8 + 1e-6);
	assert_true(slept >= t.waited - 0.01);
	/* The debt is paid: a small take right after barely waits. */
	throttle_take(&t, 1000, 0);
	assert_true(t.waited < 2.8 + 0.1);
}

/* Files per second work the same way: 10 files at 10/s with a burst of
 * 2 sleep about 0.8 s in all, in small steps. */
static void
test_files_rate(void **arg)
{
	struct throttle t;
	double t0;
	int i;

	(void)arg;
	throttle_init(&t, 0, 10);
	t0 = monotonic_now();
	for (i = 0; i < 10; i++)
		throttle_take(&t, 1 << 20, 1);
	assert_true(t.waited >= 0.6);
	assert_true(t.waited <= 0.8 + 1e-6);
	assert_true(monotonic_now() - t0 >= t.waited - 0.01);
}

/* With both limits the longer wait applies, not the sum. */
static void
test_both_limits(void **arg)
{
	struct throttle t;

	(void)arg;
	/* 0.1 s of debt on each bucket. */
	throttle_init(&t, 1000000, 10);
	throttle_take(&t, 300000, 3);
	assert_true(t.waited >= 0.05);
	assert_true(t.waited <= 0.1 + 1e-6);
}

/* The monotonic clock does not go backwards. */
static void
test_monotonic(void **arg)
{
	double a, b;

	(void)arg;
	a = monotonic_now();
	b = monotonic_now();
	assert_true(a > 0);
	assert_true(b >= a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_chunk),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_bytes_rate),
		cmocka_unit_test(test_files_rate),
		cmocka_unit_test(test_both_limits),
		cmocka_unit_test(test_monotonic),
	};

	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
