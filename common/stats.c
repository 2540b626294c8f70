/* Statistics for capacity reports: see stats.h. */
#include "common/stats.h"
#include "common/util.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static void
swap(double *v, size_t a, size_t b)
{
	double t = v[a];

	v[a] = v[b];
	v[b] = t;
}

/*
 * Put the k-th smallest value of v[left .. right] at v[k] (left <= k <=
 * right), every value before it at most it and every value after it at
 * least it: Floyd and Rivest's SELECT (CACM 18(3), 1975). Above 600
 * values it first selects from a sample a narrow range that holds the
 * k-th with high probability, so that the partition around it leaves
 * little to do; runs of equal values (common in slopes) split evenly.
 * About 1.5 n comparisons against quickselect's 3 n or more.
 */
static void
select_fr(double *v, ptrdiff_t left, ptrdiff_t right, ptrdiff_t k)
{
	ptrdiff_t i, j, nl, nr;
	double t, n, z, s, sd;

	while (right > left) {
		if (right - left > 600) {
			n = (double)(right - left + 1);
			i = k - left + 1;
			z = log(n);
			s = 0.5 * exp(2 * z / 3);
			sd = 0.5 * sqrt(z * s * (n - s) / n) *
			    ((double)i - n / 2 < 0 ? -1 : 1);
			nl = (ptrdiff_t)((double)k - (double)i * s / n + sd);
			nr = (ptrdiff_t)((double)k + (n - (double)i) * s / n +
			    sd);
			select_fr(v, nl > left ? nl : left, nr < right ? nr :
			    right, k);
		}
		t = v[k];
		i = left;
		j = right;
		swap(v, (size_t)left, (size_t)k);
		if (v[right] > t)
			swap(v, (size_t)right, (size_t)left);
		while (i < j) {
			swap(v, (size_t)i, (size_t)j);
			i++;
			j--;
			while (v[i] < t)
				i++;
			while (v[j] > t)
				j--;
		}
		if (v[left] == t)
			swap(v, (size_t)left, (size_t)j);
		else {
			j++;
			swap(v, (size_t)j, (size_t)right);
		}
		if (j <= k)
			left = j + 1;
		if (k <= j)
			right = j - 1;
	}
}

/* The k-th smallest value of v[0 .. n-1] (k < n); afterwards every v[i]
 * with i < k is at most the result. */
static double
select_k(double *v, size_t n, size_t k)
{
	select_fr(v, 0, (ptrdiff_t)n - 1, (ptrdiff_t)k);
	return v[k];
}

double
stats_median(double *v, size_t n)
{
	double hi, lo;
	size_t i;

	if (n == 0)
		return NAN;
	hi = select_k(v, n, n / 2);
	if (n % 2 == 1)
		return hi;
	lo = v[0];
	for (i = 1; i < n / 2; i++) {
		if (v[i] > lo)
			lo = v[i];
	}
	return (lo + hi) / 2;
}

double
stats_percentile(double *v, size_t n, double p)
{
	double r;
	size_t rank;

	if (n == 0)
		return NAN;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	/* The small epsilon keeps 95% of 20 at rank 19, not 20. */
	r = ceil(p / 100.0 * (double)n - 1e-9);
	rank = r < 1 ? 1 : (size_t)r;
	if (rank > n)
		rank = n;
	return select_k(v, n, rank - 1);
}

int
stats_theil_sen(const double *x, const double *y, size_t n, double *slope,
    double *intercept)
{
	size_t m = n, *idx, i, j, ns = 0;
	double *s, *r;

	if (n < 2)
		return -1;
	if (m > STATS_FIT_POINTS)
		m = STATS_FIT_POINTS;
	idx = xcalloc(m, sizeof *idx);
	for (i = 0; i < m; i++)
		idx[i] = m == n ? i : (size_t)llround((double)i *
		    (double)(n - 1) / (double)(m - 1));
	s = xmalloc(m * (m - 1) / 2 * sizeof *s);	/* s[0 .. ns) is read */
	for (i = 0; i < m; i++) {
		for (j = i + 1; j < m; j++) {
			double dx = x[idx[j]] - x[idx[i]];

			if (dx != 0)
				s[ns++] = (y[idx[j]] - y[idx[i]]) / dx;
		}
	}
	free(idx);
	if (ns == 0) {
		free(s);
		return -1;
	}
	*slope = stats_median(s, ns);
	free(s);
	r = xmalloc(n * sizeof *r);
	for (i = 0; i < n; i++)
		r[i] = y[i] - *slope * x[i];
	*intercept = stats_median(r, n);
	free(r);
	return 0;
}

void
stats_growth(const int64_t *t, const double *v, size_t n,
    struct stats_growth *g)
{
	double *x;
	size_t i;

	memset(g, 0, sizeof *g);
	g->points = n;
	if (n == 0)
		return;
	g->first = t[0];
	g->last = t[n - 1];
	g->intercept = v[n - 1];
	if (n < 2 || g->last - g->first < STATS_DAY)
		return;
	x = xcalloc(n, sizeof *x);
	for (i = 0; i < n; i++)
		x[i] = (double)(t[i] - g->first) / STATS_DAY;
	if (stats_theil_sen(x, v, n, &g->per_day, &g->intercept) == 0)
		g->ok = 1;
	else {
		g->per_day = 0;
		g->intercept = v[n - 1];
	}
	free(x);
}

double
stats_growth_at(const struct stats_growth *g, int64_t t)
{
	if (!g->ok)
		return g->intercept;
	return g->intercept + g->per_day * (double)(t - g->first) / STATS_DAY;
}

double
stats_days_until(double value, double per_day, double limit)
{
	if (value >= limit)
		return 0;
	if (!(per_day > 0))
		return -1;
	return (limit - value) / per_day;
}

double
stats_capacity_needed(double used, double target, double capacity)
{
	double need;

	if (!(target > 0))
		return 0;
	need = used / target - capacity;
	return need > 0 ? need : 0;
}
