/*
 * Small statistics for capacity reports: medians, percentiles, a robust
 * linear fit (Theil–Sen) and "how long until" arithmetic. Pure functions:
 * no I/O, no globals. Depends on nothing but libc (and util.h's xmalloc).
 */
#ifndef MAILSHIFT_STATS_H
#define MAILSHIFT_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_DAY 86400		/* seconds */
/* Theil–Sen uses at most this many points, evenly spaced by index. */
#define STATS_FIT_POINTS 200

/*
 * Median of v[0 .. n-1]: the middle value, or the mean of the two middle
 * values when n is even. Reorders v. NAN when n is 0.
 */
double stats_median(double *v, size_t n);

/*
 * Percentile p (0 to 100) of v[0 .. n-1] by the nearest-rank method: the
 * smallest value such that at least p% of the values are at or below it
 * (rank ceil(p/100 * n), at least 1). Always one of the values, never an
 * interpolation. Reorders v. NAN when n is 0.
 */
double stats_percentile(double *v, size_t n, double p);

/*
 * Theil–Sen fit of y = slope * x + intercept: the slope is the median of
 * the slopes (y[j] - y[i]) / (x[j] - x[i]) of every pair of points with
 * x[i] != x[j]; the intercept is the median of y[i] - slope * x[i]. Points
 * must be in x order; above STATS_FIT_POINTS points, that many points
 * evenly spaced by index (first and last included) are used. Robust: up to
 * about 29% of the points can be wild without moving the fit. Returns 0,
 * or -1 when there are fewer than two distinct x.
 */
int stats_theil_sen(const double *x, const double *y, size_t n,
    double *slope, double *intercept);

/* Growth of a series over time, or why there is none. */
struct stats_growth {
	int	 ok;			/* 0: not enough history */
	double	 per_day;		/* value per day (Theil–Sen slope) */
	double	 intercept;		/* fitted value at first (ok = 0:
					   the last value) */
	int64_t	 first;			/* time of the first point */
	int64_t	 last;			/* time of the last point */
	size_t	 points;		/* points in the series */
};

/*
 * Fit the growth per day of a series of (unix time, value) in time order.
 * Not enough history (ok = 0, per_day 0) with fewer than two points or
 * when they span less than one day: no trend is made up from that.
 */
void stats_growth(const int64_t *t, const double *v, size_t n,
    struct stats_growth *);

/* The fitted value of a growth at time t (the last value for ok = 0). */
double stats_growth_at(const struct stats_growth *, int64_t t);

/*
 * Days until value reaches limit when it grows by per_day: 0 when it is
 * already at or above limit, -1 when it never will (per_day <= 0).
 */
double stats_days_until(double value, double per_day, double limit);

/*
 * Capacity to add so that used stays at or below the fill fraction
 * target (0 < target <= 1) of the capacity: used / target - capacity, or
 * 0 when capacity is already enough.
 */
double stats_capacity_needed(double used, double target, double capacity);

#endif
