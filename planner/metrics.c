/*
 * The measures of a plan: the mean and band every strategy aims at, the
 * lower bound on the bytes any plan reaching the goal moves, and the
 * fills and spreads before and after (see planner.h for the terms).
 */
#include "planner/planner_int.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>

int
plan_band(struct plan *p)
{
	const struct planner_options *o = p->o;
	long double capsum = 0, usesum = 0, c;
	size_t i;

	for (i = 0; i < p->ns; i++) {
		if (!p->bal[i])
			continue;
		capsum += p->sl[i].capacity;
		usesum += p->u[i];
	}
	if (p->drained < p->ns)
		usesum += p->movb[p->drained];
	if (capsum == 0)
		return -1;
	p->mean = (double)(usesum / capsum);
	p->top = p->mean + o->band;
	if (p->mean <= o->target_fill && o->target_fill < p->top)
		p->top = o->target_fill;
	p->bottom = p->mean - o->band > 0 ? p->mean - o->band : 0;
	for (i = 0; i < p->ns; i++) {
		c = p->sl[i].capacity;
		p->mean_b[i] = (uint64_t)floorl(c * p->mean);
		p->top_b[i] = (uint64_t)floorl(c * p->top);
		p->bot_b[i] = (uint64_t)ceill(c * p->bottom);
		p->hard_b[i] = (uint64_t)floorl(c * o->hard_limit);
		p->fill[i] = fill_of(p, i, p->u[i]);
	}
	return 0;
}

void
plan_bound(struct plan *p)
{
	size_t i;

	p->E = p->D = 0;
	for (i = 0; i < p->ns; i++) {
		p->E += excess(p, i);
		p->D += deficit(p, i);
	}
	switch (p->o->strategy) {
	case PLANNER_BALANCE:
		p->r->lower_bound = p->E > p->D ? p->E : p->D;
		break;
	case PLANNER_DRAIN:
		p->r->lower_bound = p->movb[p->o->slice];
		break;
	case PLANNER_FILL:
		p->r->lower_bound = room(p->u[p->o->slice],
		    p->bot_b[p->o->slice]);
		break;
	}
}

/* Min, max and population stddev of the fills of the slices in set. */
static void
stats(const struct plan *p, const double *fill, const unsigned char *set,
    double *min, double *max, double *sd)
{
	double sum = 0, sq = 0, v;
	size_t i, n = 0;

	*min = *max = *sd = 0;
	for (i = 0; i < p->ns; i++) {
		if (!set[i])
			continue;
		v = fill[i];
		if (n == 0 || v < *min)
			*min = v;
		if (n == 0 || v > *max)
			*max = v;
		sum += v;
		n++;
	}
	if (n == 0)
		return;
	for (i = 0; i < p->ns; i++) {
		if (set[i])
			sq += (fill[i] - sum / n) * (fill[i] - sum / n);
	}
	*sd = sqrt(sq / n);
}

void
plan_metrics(struct plan *p, size_t target)
{
	struct planner_result *r = p->r;
	unsigned char *before;
	size_t i;

	before = xcalloc(p->ns, 1);
	r->fill_before = xcalloc(p->ns, sizeof *r->fill_before);
	r->fill_after = xcalloc(p->ns, sizeof *r->fill_after);
	for (i = 0; i < p->ns; i++) {
		r->fill_before[i] = fill_of(p, i, p->u0[i]);
		r->fill_after[i] = fill_of(p, i, p->u[i]);
		before[i] = p->sl[i].balances && p->sl[i].capacity > 0;
	}
	stats(p, r->fill_before, before, &r->min_before, &r->max_before,
	    &r->stddev_before);
	stats(p, r->fill_after, p->bal, &r->min_after, &r->max_after,
	    &r->stddev_after);
	free(before);
	r->mean_fill = p->mean;
	r->band_low = p->bottom;
	r->band_high = p->top;
	r->band_reached = p->E == 0 && p->D == 0;
	switch (p->o->strategy) {
	case PLANNER_BALANCE:
		r->unmet = p->E > p->D ? p->E : p->D;
		break;
	case PLANNER_DRAIN:
		r->unmet = p->movb[target];
		break;
	case PLANNER_FILL:
		r->unmet = room(p->u[target], p->bot_b[target]);
		break;
	}
}
