/*
 * One move: which account to move from a source to a target, within the
 * band, the hard limit, max_bytes and min_gain, and the recording of it
 * in the result (with its after link) and in the working state.
 */
#include "planner/planner_int.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>

/* Imbalance drop of moving x bytes from s to t, in bytes. */
static long double
gain(const struct plan *p, size_t s, size_t t, uint64_t x)
{
	long double lx = (long double)x;

	return lx * (2.0L * (long double)p->u[s] - lx) /
	    (long double)p->sl[s].capacity -
	    lx * (2.0L * (long double)p->u[t] + lx) /
	    (long double)p->sl[t].capacity;
}

size_t
plan_choose(struct plan *p, size_t s, size_t t, uint64_t goal)
{
	long double df, k, disc, x1, x2, mg = (long double)p->o->min_gain;
	uint64_t xmin, xmax, v;
	size_t e;

	xmax = p->u[s] > p->bot_b[s] ? p->u[s] - p->bot_b[s] : 0;
	if ((v = room(p->u[t], p->top_b[t])) < xmax)
		xmax = v;
	if ((v = room(p->u[t], p->hard_b[t])) < xmax)
		xmax = v;
	if ((v = budget(p)) < xmax)
		xmax = v;
	if (xmax == 0)
		return p->pool.n;
	df = (long double)p->u[s] / (long double)p->sl[s].capacity -
	    (long double)p->u[t] / (long double)p->sl[t].capacity;
	k = 1.0L / (long double)p->sl[s].capacity +
	    1.0L / (long double)p->sl[t].capacity;
	disc = df * df - k * mg;
	if (df <= 0 || disc < 0)
		return p->pool.n;
	x2 = (df + sqrtl(disc)) / k;
	x1 = mg > 0 ? mg / (k * x2) : 0;
	if (x2 < (long double)xmax)
		xmax = (uint64_t)floorl(x2);
	xmin = x1 > 1 ? (uint64_t)ceill(x1) : 1;
	/* With load, a move toward a slice with less load fill may as well
	 * take busier accounts along: it relieves load too. */
	e = plan_pool_pick(p, s, goal, xmin, xmax, p->byload &&
	    p->lfill[t] < p->lfill[s]);
	if (e == p->pool.n)
		return e;
	/* The roots are rounded; the final word is the gain itself. */
	v = p->pool.bytes[e];
	if (gain(p, s, t, v) <= 0 || gain(p, s, t, v) < mg)
		return p->pool.n;
	/* A move for bytes keeps the load band. */
	if (!plan_load_fits(p, s, t, p->ac[p->pool.acct[e]].load,
	    p->pool.bytes[e]))
		return p->pool.n;
	return e;
}

/* Grow the per-slice list of moves out of s by one. */
static void
outs_add(struct outs *o, size_t move, uint64_t bytes)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->move = xrealloc(o->move, o->cap * sizeof *o->move);
		o->cum = xrealloc(o->cum, o->cap * sizeof *o->cum);
	}
	o->move[o->n] = move;
	o->cum[o->n] = (o->n ? o->cum[o->n - 1] : 0) + bytes;
	o->n++;
}

/* The move out of t that must be done before x more bytes fit, or -1. */
static ssize_t
after_of(const struct plan *p, size_t t, uint64_t x)
{
	const struct outs *o = &p->out[t];
	uint64_t worst = p->u0[t] + p->cin[t] + x, need;
	size_t lo = 0, hi = o->n, mid;

	if (worst <= p->hard_b[t])
		return -1;
	need = worst - p->hard_b[t];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (o->cum[mid] < need)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == o->n)
		fatalx("planner: move into slice %zu has no room", t);
	return (ssize_t)o->move[lo];
}

void
plan_apply(struct plan *p, size_t e, size_t s, size_t t)
{
	struct planner_result *r = p->r;
	struct planner_move *m;
	size_t a = p->pool.acct[e];
	uint64_t x = p->pool.bytes[e];

	if (r->nmoves == p->movecap) {
		p->movecap = p->movecap ? p->movecap * 2 : 64;
		r->moves = xrealloc(r->moves, p->movecap * sizeof *r->moves);
	}
	m = &r->moves[r->nmoves];
	m->account = a;
	m->from = s;
	m->to = t;
	m->bytes = x;
	m->files = p->ac[a].files;
	m->load = p->ac[a].load > 0 ? p->ac[a].load : 0;
	m->after = after_of(p, t, x);
	r->bytes += x;
	r->files += m->files;

	p->E -= excess(p, s) + excess(p, t);
	p->D -= deficit(p, s) + deficit(p, t);
	p->u[s] -= x;
	p->u[t] += x;
	p->E += excess(p, s) + excess(p, t);
	p->D += deficit(p, s) + deficit(p, t);
	p->cin[t] += x;
	outs_add(&p->out[s], r->nmoves, x);
	r->nmoves++;

	plan_pool_remove(&p->pool, e);
	p->nmov[s]--;
	p->movb[s] -= x;
	p->fill[s] = fill_of(p, s, p->u[s]);
	p->fill[t] = fill_of(p, t, p->u[t]);
	plan_reorder(p, s);
	plan_reorder(p, t);
	plan_load_apply(p, a, s, t);
}
