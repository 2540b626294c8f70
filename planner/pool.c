/*
 * The pool of movable accounts. Every movable account sits in it per
 * slice and tier (idle, recently active, giant), sorted by size, with two
 * union-find link arrays so that "largest live account in [lo, hi]" and
 * "smallest in [lo, hi]" are a binary search plus a near-constant hop
 * over removed entries.
 */
#include "planner/planner_int.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* Order pool entries: by bytes, then by account index. */
static int
entry_cmp(const void *va, const void *vb)
{
	const uint64_t *a = va, *b = vb;

	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* The tier of a movable account. */
static int
tier_of(const struct plan *p, const struct planner_account *a)
{
	const struct planner_options *o = p->o;
	double cap = (double)p->sl[a->slice].capacity;

	if (cap > 0 && (double)a->bytes > o->band * cap / 2)
		return TIER_GIANT;
	/* Alone it moves its slice's load by over half the load band. */
	if (p->byload && a->load > o->load_band *
	    p->sl[a->slice].ops_capacity / 2)
		return TIER_GIANT;
	/* With load, idle is lighter per byte than its slice's average: a
	 * move for bytes then takes less than its share of load along. */
	if (p->byload) {
		double su = (double)p->u[a->slice], sl = p->sl[a->slice].load;

		return su > 0 && a->load * su > sl * (double)a->bytes ?
		    TIER_ACTIVE : TIER_IDLE;
	}
	if (o->now != 0 && a->last_activity != 0 &&
	    a->last_activity > o->now - o->active_within)
		return TIER_ACTIVE;
	return TIER_IDLE;
}

void
plan_pool_build(struct plan *p)
{
	struct pool *pl = &p->pool;
	const struct planner_account *a;
	uint64_t *tmp;
	size_t i, k, nseg = p->ns * NTIER, *fillp;

	pl->seg = xcalloc(nseg + 1, sizeof *pl->seg);
	for (i = 0; i < p->na; i++) {
		a = &p->ac[i];
		if (!a->pinned && !a->moving)
			pl->seg[a->slice * NTIER + tier_of(p, a) + 1]++;
	}
	for (k = 0; k < nseg; k++)
		pl->seg[k + 1] += pl->seg[k];
	pl->n = pl->seg[nseg];
	tmp = xcalloc(pl->n ? pl->n : 1, 2 * sizeof *tmp);
	fillp = xcalloc(nseg ? nseg : 1, sizeof *fillp);
	memcpy(fillp, pl->seg, nseg * sizeof *fillp);
	for (i = 0; i < p->na; i++) {
		a = &p->ac[i];
		if (a->pinned || a->moving)
			continue;
		k = fillp[a->slice * NTIER + tier_of(p, a)]++;
		tmp[2 * k] = a->bytes;
		tmp[2 * k + 1] = i;
	}
	free(fillp);
	for (k = 0; k < nseg; k++) {
		if (pl->seg[k + 1] - pl->seg[k] > 1)
			qsort(tmp + 2 * pl->seg[k], pl->seg[k + 1] -
			    pl->seg[k], 2 * sizeof *tmp, entry_cmp);
	}
	pl->acct = xcalloc(pl->n ? pl->n : 1, sizeof *pl->acct);
	pl->bytes = xcalloc(pl->n ? pl->n : 1, sizeof *pl->bytes);
	pl->left = xcalloc(pl->n ? pl->n : 1, sizeof *pl->left);
	pl->right = xcalloc(pl->n ? pl->n : 1, sizeof *pl->right);
	for (k = 0; k < pl->n; k++) {
		pl->bytes[k] = tmp[2 * k];
		pl->acct[k] = (size_t)tmp[2 * k + 1];
		pl->left[k] = k + 1;
		pl->right[k] = k;
	}
	free(tmp);
}

void
plan_pool_free(struct pool *pl)
{
	free(pl->acct);
	free(pl->bytes);
	free(pl->left);
	free(pl->right);
	free(pl->seg);
}

/* 1 + the nearest live entry at or before entry i1 - 1, or 0. */
static size_t
pool_left(struct pool *pl, size_t i1)
{
	size_t r = i1, next;

	while (r != 0 && pl->left[r - 1] != r)
		r = pl->left[r - 1];
	while (i1 != r) {
		next = pl->left[i1 - 1];
		pl->left[i1 - 1] = r;
		i1 = next;
	}
	return r;
}

/* The nearest live entry at or after i, or pl->n. */
static size_t
pool_right(struct pool *pl, size_t i)
{
	size_t r = i, next;

	while (r < pl->n && pl->right[r] != r)
		r = pl->right[r];
	while (i != r) {
		next = pl->right[i];
		pl->right[i] = r;
		i = next;
	}
	return r;
}

void
plan_pool_remove(struct pool *pl, size_t k)
{
	pl->left[k] = k;
	pl->right[k] = k + 1;
}

/* First entry in [lo, hi) with bytes above x (upper bound). */
static size_t
upper(const uint64_t *b, size_t lo, size_t hi, uint64_t x)
{
	size_t mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First entry in [lo, hi) with bytes at least x (lower bound). */
static size_t
lower(const uint64_t *b, size_t lo, size_t hi, uint64_t x)
{
	size_t mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The largest live entry of segment k with bytes in [lo, hi], or n. */
static size_t
seg_largest(struct pool *pl, size_t k, uint64_t lo, uint64_t hi)
{
	size_t a = pl->seg[k], b = pl->seg[k + 1], e, j;

	if (lo > hi || a == b)
		return pl->n;
	e = upper(pl->bytes, a, b, hi);
	if (e == a || (j = pool_left(pl, e)) == 0 || j - 1 < a)
		return pl->n;
	j--;
	return pl->bytes[j] >= lo ? j : pl->n;
}

/* The smallest live entry of segment k with bytes in [lo, hi], or n. */
static size_t
seg_smallest(struct pool *pl, size_t k, uint64_t lo, uint64_t hi)
{
	size_t a = pl->seg[k], b = pl->seg[k + 1], e, j;

	if (lo > hi || a == b)
		return pl->n;
	e = lower(pl->bytes, a, b, lo);
	if (e == b || (j = pool_right(pl, e)) >= b)
		return pl->n;
	return pl->bytes[j] <= hi ? j : pl->n;
}

/* Distance of x from goal. */
static uint64_t
dist(uint64_t x, uint64_t goal)
{
	return x > goal ? x - goal : goal - x;
}

size_t
plan_pool_pick(struct plan *p, size_t s, uint64_t goal, uint64_t xmin,
    uint64_t xmax, int busy_first)
{
	static const int order[2][NTIER] = {
		{ TIER_IDLE, TIER_ACTIVE, TIER_GIANT },
		{ TIER_ACTIVE, TIER_IDLE, TIER_GIANT }
	};
	struct pool *pl = &p->pool;
	size_t lo, hi, j, k, n = pl->n;
	uint64_t g;

	if (xmin > xmax)
		return n;
	g = goal < xmin ? xmin : goal > xmax ? xmax : goal;
	for (j = 0; j < NTIER; j++) {
		k = (size_t)order[busy_first != 0][j];
		lo = seg_largest(pl, s * NTIER + k, xmin, g);
		hi = g < xmax ? seg_smallest(pl, s * NTIER + k, g + 1, xmax) :
		    n;
		if (lo == n && hi == n)
			continue;
		if (lo == n)
			return hi;
		if (hi == n || pl->bytes[lo] >= g - g / 2)
			return lo;
		return dist(pl->bytes[lo], g) <= dist(pl->bytes[hi], g) ? lo :
		    hi;
	}
	return n;
}
