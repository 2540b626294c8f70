/* Unit tests of the report statistics (common/stats.c). */
#define _GNU_SOURCE
#include "testutil.h"

#include <math.h>

#include "common/stats.h"

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Medians of odd and even counts, runs of equal values, nothing. */
static void
test_median(void **arg)
{
	double odd[] = { 9, 1, 5, 7, 3 };
	double even[] = { 4, 1, 3, 2 };
	double same[] = { 2, 2, 2, 2, 2, 2 };
	double one[] = { 42 };
	double dup[] = { 1, 9, 9, 9, 1, 1, 5 };

	(void)arg;
	assert_true(stats_median(odd, 5) == 5);
	assert_true(stats_median(even, 4) == 2.5);
	assert_true(stats_median(same, 6) == 2);
	assert_true(stats_median(one, 1) == 42);
	assert_true(stats_median(dup, 7) == 5);
	assert_true(isnan(stats_median(NULL, 0)));
}

/* The selection agrees with sorting on many random arrays. */
static void
test_median_random(void **arg)
{
	double v[301], w[301], orig[301];
	unsigned seed = 12345;
	size_t n, i, round;

	(void)arg;
	for (round = 0; round < 500; round++) {
		n = 1 + round % 301;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Few distinct values in some rounds: many ties. */
			v[i] = (double)((seed >> 8) % (round % 3 ? 1000 : 7));
			w[i] = orig[i] = v[i];
		}
		qsort(w, n, sizeof *w, cmp_double);
		assert_true(stats_median(v, n) == (n % 2 ? w[n / 2] :
		    (w[n / 2 - 1] + w[n / 2]) / 2));
		memcpy(v, orig, n * sizeof *v);
		assert_true(stats_percentile(v, n, 95) ==
		    w[(size_t)ceil(0.95 * (double)n - 1e-9) - 1]);
	}
}

/* Above 600 values the selection first narrows the range from a sample:
 * it still agrees with sorting, on random values, many ties, sorted and
 * reversed input, runs of the least value at a stride, and the sizes
 * Theil-Sen gives (19,900 slopes). */
static void
test_median_large(void **arg)
{
	static const size_t sizes[] = { 601, 602, 1000, 4097, 19900, 20000 };
	double *v, *w, *orig;
	unsigned seed = 777;
	size_t n, i, s, kind, k;

	(void)arg;
	v = calloc(20000, sizeof *v);
	w = calloc(20000, sizeof *w);
	orig = calloc(20000, sizeof *orig);
	for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		n = sizes[s];
		for (kind = 0; kind < 6; kind++) {
			for (i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				v[i] = kind == 0 ? (double)(seed >> 4) :
				    kind == 1 ? (double)((seed >> 8) % 5) :
				    kind == 2 ? (double)i : kind == 3 ?
				    (double)(n - i) : kind == 4 ? 3.0 :
				    i % 27 == 0 ? -1.0 : (double)(seed >> 4);
				w[i] = orig[i] = v[i];
			}
			qsort(w, n, sizeof *w, cmp_double);
			assert_true(stats_median(v, n) == (n % 2 ? w[n / 2] :
			    (w[n / 2 - 1] + w[n / 2]) / 2));
			for (k = 0; k <= 100; k += 25) {
				memcpy(v, orig, n * sizeof *v);
				assert_true(stats_percentile(v, n, (double)k) ==
				    w[k == 0 ? 0 : (size_t)ceil((double)k /
				    100 * (double)n - 1e-9) - 1]);
			}
		}
	}
	free(v);
	free(w);
	free(orig);
}

/* Nearest rank: always one of the values, never interpolated. */
static void
test_percentile(void **arg)
{
	double v[20], w[] = { 15, 20, 35, 40, 50 };
	size_t i;

	(void)arg;
	for (i = 0; i < 20; i++)
		v[i] = (double)(20 - i);		/* 20 .. 1 */
	assert_true(stats_percentile(v, 20, 95) == 19);
	assert_true(stats_percentile(v, 20, 50) == 10);
	assert_true(stats_percentile(v, 20, 100) == 20);
	assert_true(stats_percentile(v, 20, 0) == 1);
	assert_true(stats_percentile(v, 20, 5) == 1);
	assert_true(stats_percentile(v, 20, 5.1) == 2);
	/* The textbook example of the nearest-rank method. */
	assert_true(stats_percentile(w, 5, 30) == 20);
	assert_true(stats_percentile(w, 5, 40) == 20);
	assert_true(stats_percentile(w, 5, 50) == 35);
	assert_true(stats_percentile(w, 5, 100) == 50);
	assert_true(stats_percentile(w, 1, 95) == w[0]);
	assert_true(isnan(stats_percentile(NULL, 0, 50)));
}

/* An exact line is found exactly, wild points do not move it. */
static void
test_theil_sen(void **arg)
{
	double x[10], y[10], slope = 0, icept = 0, ols;
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	size_t i;

	(void)arg;
	for (i = 0; i < 10; i++) {
		x[i] = (double)i;
		y[i] = 3 * x[i] + 2;
	}
	assert_int_equal(stats_theil_sen(x, y, 10, &slope, &icept), 0);
	assert_true(fabs(slope - 3) < 1e-12);
	assert_true(fabs(icept - 2) < 1e-12);

	/* Two wild points (a migration in, a cleanup out). */
	y[4] += 1000;
	y[7] -= 500;
	assert_int_equal(stats_theil_sen(x, y, 10, &slope, &icept), 0);
	assert_true(fabs(slope - 3) < 1e-12);
	assert_true(fabs(icept - 2) < 1e-12);
	/* Least squares would have been pulled away. */
	for (i = 0; i < 10; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	ols = (10 * sxy - sx * sy) / (10 * sxx - sx * sx);
	assert_true(fabs(ols - 3) > 1);

	/* Equal x values are skipped, not divided by. */
	x[1] = x[0];
	assert_int_equal(stats_theil_sen(x, y, 10, &slope, &icept), 0);
	assert_true(fabs(slope - 3) < 1e-9);

	/* Fewer than two distinct x. */
	assert_int_equal(stats_theil_sen(x, y, 1, &slope, &icept), -1);
	x[1] = x[0] = 5;
	assert_int_equal(stats_theil_sen(x, y, 2, &slope, &icept), -1);
	assert_int_equal(stats_theil_sen(x, y, 0, &slope, &icept), -1);
}

/* Above STATS_FIT_POINTS points the fit uses an even sample. */
static void
test_theil_sen_many(void **arg)
{
	size_t n = 5000, i;
	double *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
	double slope = 0, icept = 0;

	(void)arg;
	for (i = 0; i < n; i++) {
		x[i] = (double)i / 4;
		y[i] = -7.5 * x[i] + 1e12 + (i % 97 == 0 ? 1e9 : 0);
	}
	assert_int_equal(stats_theil_sen(x, y, n, &slope, &icept), 0);
	assert_true(fabs(slope + 7.5) < 1e-3);
	assert_true(fabs(icept - 1e12) < 1);
	free(x);
	free(y);
}

/* Growth per day, or "not enough history" for too little. */
static void
test_growth(void **arg)
{
	int64_t t[30], t0 = 1700000000;
	double v[30];
	struct stats_growth g;
	size_t i;

	(void)arg;
	stats_growth(NULL, NULL, 0, &g);
	assert_int_equal(g.ok, 0);
	assert_int_equal(g.points, 0);

	t[0] = t0;
	v[0] = 500;
	stats_growth(t, v, 1, &g);
	assert_int_equal(g.ok, 0);
	assert_true(g.per_day == 0);
	assert_true(stats_growth_at(&g, t0 + 86400) == 500);

	/* Two points less than a day apart: no trend. */
	t[1] = t0 + 86399;
	v[1] = 900;
	stats_growth(t, v, 2, &g);
	assert_int_equal(g.ok, 0);
	assert_int_equal(g.points, 2);

	/* A day apart: a trend. */
	t[1] = t0 + 86400;
	stats_growth(t, v, 2, &g);
	assert_int_equal(g.ok, 1);
	assert_true(fabs(g.per_day - 400) < 1e-9);
	assert_true(g.first == t0 && g.last == t0 + 86400);

	/* Thirty daily snapshots, 1 GiB a day, with one jump of 50 GiB
	 * that came back the next day (a move in and out). */
	for (i = 0; i < 30; i++) {
		t[i] = t0 + (int64_t)i * 86400 + (int64_t)(i % 3) * 60;
		v[i] = 1e11 + (double)i * 1073741824.0;
	}
	v[12] += 50 * 1073741824.0;
	stats_growth(t, v, 30, &g);
	assert_int_equal(g.ok, 1);
	assert_true(fabs(g.per_day - 1073741824.0) / 1073741824.0 < 0.01);
	assert_true(fabs(stats_growth_at(&g, t[29]) - v[29]) / v[29] < 0.01);
}

static void
test_days_until(void **arg)
{
	(void)arg;
	assert_true(stats_days_until(200, 10, 750) == 55);
	assert_true(stats_days_until(750, 10, 750) == 0);
	assert_true(stats_days_until(800, 10, 750) == 0);
	assert_true(stats_days_until(800, -3, 750) == 0);
	assert_true(stats_days_until(200, 0, 750) == -1);
	assert_true(stats_days_until(200, -1, 750) == -1);
	assert_true(stats_days_until(200, NAN, 750) == -1);
	assert_true(fabs(stats_days_until(0, 3, 1) - 1.0 / 3) < 1e-12);
}

static void
test_capacity_needed(void **arg)
{
	(void)arg;
	/* 900 used, stay below 75%: 1200 needed, 1000 there: add 200. */
	assert_true(stats_capacity_needed(900, 0.75, 1000) == 200);
	assert_true(stats_capacity_needed(600, 0.75, 1000) == 0);
	assert_true(stats_capacity_needed(750, 0.75, 1000) == 0);
	assert_true(stats_capacity_needed(0, 0.75, 0) == 0);
	assert_true(stats_capacity_needed(100, 0, 0) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_median_random),
		cmocka_unit_test(test_median_large),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_theil_sen),
		cmocka_unit_test(test_theil_sen_many),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_days_until),
		cmocka_unit_test(test_capacity_needed),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
