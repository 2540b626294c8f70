/*
 * The load dimension (see planner.h): a second fill, ops/s over ops
 * capacity, with its own mean, band and limits, and the moves that serve
 * it.
 *
 * A load move takes the slice with the highest load fill that must give
 * and the one with the lowest that may take, and moves the account with
 * the most load per byte that fits: the target stays under the load
 * band's top and the load hard limit, and under the byte band's top
 * (only when no target can take any account so, half a byte band over
 * it); the source stays over the load band's bottom; and the sum of both
 * imbalances, each over its fleet capacity, drops by more than min_gain
 * does over the byte capacity. A source over the load top gives whatever
 * that does to bytes, down to a band under the byte bottom: the byte
 * moves that follow refill it. As for bytes, while the load above the
 * top (EL) is at least the load missing below the bottom (DL), sources
 * above the top give; otherwise sources above the mean give to targets
 * under the bottom.
 *
 * Byte moves ask plan_load_fits: the target stays under the load hard
 * limit, and within half a load band over the load top (the next load
 * moves take that back), unless it lacks bytes and the account is idle
 * (under half the fleet's load per byte): the first half of a swap whose
 * second half, a busy account out, needs the room its bytes leave.
 *
 * Cost: accounts are sorted once by slice and load per byte; a move
 * looks at most LOAD_SCAN accounts of its source for each of at most
 * LOAD_TARGETS targets, so a plan stays O(accounts log accounts) plus
 * O(slices) per move.
 */
#include "planner/planner_int.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Targets a source tries for a load move before it counts as stuck. */
#define LOAD_TARGETS	32

#define NONE	((size_t)-1)

/* Is slice i in the load dimension: balancing, with an ops capacity? */
static int
lin(const struct plan *p, size_t i)
{
	return p->bal[i] && p->sl[i].ops_capacity > 0;
}

static double
lfill_of(const struct plan *p, size_t i, double load)
{
	return p->sl[i].ops_capacity > 0 ? load / p->sl[i].ops_capacity : 0;
}

static int
lord_before(const struct plan *p, size_t a, size_t b)
{
	if (p->lfill[a] != p->lfill[b])
		return p->lfill[a] < p->lfill[b];
	return a < b;
}

static double
lexcess(const struct plan *p, size_t i)
{
	double v;

	if (!lin(p, i))
		return 0;
	v = p->L[i] - p->ltop_o[i];
	return v > 0 ? v : 0;
}

static double
ldeficit(const struct plan *p, size_t i)
{
	double v;

	if (!lin(p, i) || !p->recv[i])
		return 0;
	v = p->lbot_o[i] - p->L[i];
	return v > 0 ? v : 0;
}

static void
lsums(const struct plan *p, double *el, double *dl)
{
	size_t i;

	*el = *dl = 0;
	for (i = 0; i < p->ns; i++) {
		*el += lexcess(p, i);
		*dl += ldeficit(p, i);
	}
}

/* Entries of the density sort. */
struct dkey {
	size_t	 slice;
	double	 d;		/* load per byte; HUGE_VAL for 0 bytes */
	size_t	 idx;
};

static int
dkey_cmp(const void *va, const void *vb)
{
	const struct dkey *a = va, *b = vb;

	if (a->slice != b->slice)
		return a->slice < b->slice ? -1 : 1;
	if (a->d != b->d)
		return a->d > b->d ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static double
density(const struct planner_account *a)
{
	if (a->load <= 0)
		return 0;
	return a->bytes > 0 ? a->load / (double)a->bytes : HUGE_VAL;
}

/* Sort the balancing slices with ops capacity into lord. */
static void
lord_build(struct plan *p)
{
	struct dkey *k;
	size_t i, n = 0;

	k = xcalloc(p->ns ? p->ns : 1, sizeof *k);
	for (i = 0; i < p->ns; i++) {
		if (!lin(p, i))
			continue;
		/* Ascending load fill: dkey_cmp sorts d descending. */
		k[n].slice = 0;
		k[n].d = -p->lfill[i];
		k[n].idx = i;
		n++;
	}
	qsort(k, n, sizeof *k, dkey_cmp);
	for (i = 0; i < n; i++) {
		p->lord[i] = k[i].idx;
		p->lpos[k[i].idx] = i;
	}
	p->nlord = n;
	free(k);
}

static void
lreorder(struct plan *p, size_t i)
{
	size_t at;

	if (!lin(p, i))
		return;
	at = p->lpos[i];
	while (at > 0 && lord_before(p, i, p->lord[at - 1])) {
		p->lord[at] = p->lord[at - 1];
		p->lpos[p->lord[at]] = at;
		at--;
	}
	while (at + 1 < p->nlord && lord_before(p, p->lord[at + 1], i)) {
		p->lord[at] = p->lord[at + 1];
		p->lpos[p->lord[at]] = at;
		at++;
	}
	p->lord[at] = i;
	p->lpos[i] = at;
}

void
plan_load_init(struct plan *p)
{
	const struct planner_options *o = p->o;
	const struct planner_slice *s;
	const struct planner_account *a;
	double loadsum = 0, c, v;
	struct dkey *k;
	size_t i, n;

	if (!p->byload)
		return;
	p->L0 = xcalloc(p->ns, sizeof *p->L0);
	p->L = xcalloc(p->ns, sizeof *p->L);
	p->lfill = xcalloc(p->ns, sizeof *p->lfill);
	p->lmean_o = xcalloc(p->ns, sizeof *p->lmean_o);
	p->ltop_o = xcalloc(p->ns, sizeof *p->ltop_o);
	p->lbot_o = xcalloc(p->ns, sizeof *p->lbot_o);
	p->lhard_o = xcalloc(p->ns, sizeof *p->lhard_o);
	p->movl = xcalloc(p->ns, sizeof *p->movl);
	p->lord = xcalloc(p->ns, sizeof *p->lord);
	p->lpos = xcalloc(p->ns, sizeof *p->lpos);
	p->dseg = xcalloc(p->ns + 1, sizeof *p->dseg);
	p->dhead = xcalloc(p->ns, sizeof *p->dhead);
	p->lstuck = xcalloc(2 * p->ns, 1);
	p->dens = xcalloc(p->na ? p->na : 1, sizeof *p->dens);
	p->entry = xcalloc(p->na ? p->na : 1, sizeof *p->entry);
	p->moved = xcalloc(p->na ? p->na : 1, 1);

	for (i = 0; i < p->ns; i++) {
		s = &p->sl[i];
		v = s->load - s->load_out + s->load_in;
		p->L0[i] = p->L[i] = v > 0 && isfinite(v) ? v : 0;
		if (lin(p, i)) {
			p->opsum += s->ops_capacity;
			loadsum += p->L[i];
			p->capsum += (double)s->capacity;
			p->usesum += (double)p->u[i];
		}
	}
	p->loadsum = loadsum;
	for (i = 0; i < p->na; i++)
		p->entry[i] = p->pool.n;
	for (i = 0; i < p->pool.n; i++)
		p->entry[p->pool.acct[i]] = i;
	k = xcalloc(p->na ? p->na : 1, sizeof *k);
	for (i = n = 0; i < p->na; i++) {
		a = &p->ac[i];
		if (a->pinned || a->moving)
			continue;
		if (a->load > 0 && isfinite(a->load))
			p->movl[a->slice] += a->load;
		k[n].slice = a->slice;
		k[n].d = density(a);
		k[n].idx = i;
		n++;
	}
	qsort(k, n, sizeof *k, dkey_cmp);
	for (i = 0; i < n; i++) {
		p->dens[i] = k[i].idx;
		p->dseg[k[i].slice + 1]++;
	}
	free(k);
	for (i = 0; i < p->ns; i++) {
		p->dseg[i + 1] += p->dseg[i];
		p->dhead[i] = p->dseg[i];
	}
	if (p->drained < p->ns)
		loadsum += p->movl[p->drained];
	p->lmean = p->opsum > 0 ? loadsum / p->opsum : 0;
	p->ltop = p->lmean + o->load_band;
	if (p->lmean <= o->load_target && o->load_target < p->ltop)
		p->ltop = o->load_target;
	p->lbottom = p->lmean - o->load_band > 0 ? p->lmean - o->load_band :
	    0;
	p->leps = 1e-9 * (loadsum > 1 ? loadsum : 1);
	for (i = 0; i < p->ns; i++) {
		c = p->sl[i].ops_capacity;
		p->lfill[i] = lfill_of(p, i, p->L[i]);
		if (c > 0) {
			p->lmean_o[i] = c * p->lmean;
			p->ltop_o[i] = c * p->ltop;
			p->lbot_o[i] = c * p->lbottom;
			p->lhard_o[i] = c * o->load_hard;
		} else {
			/* Outside the load dimension: no load limit. */
			p->lmean_o[i] = p->L[i];
			p->ltop_o[i] = p->lhard_o[i] = HUGE_VAL;
			p->lbot_o[i] = 0;
		}
	}
	lord_build(p);
}

void
plan_load_free(struct plan *p)
{
	free(p->L0);
	free(p->L);
	free(p->lfill);
	free(p->lmean_o);
	free(p->ltop_o);
	free(p->lbot_o);
	free(p->lhard_o);
	free(p->movl);
	free(p->lord);
	free(p->lpos);
	free(p->dens);
	free(p->dseg);
	free(p->dhead);
	free(p->entry);
	free(p->moved);
	free(p->lstuck);
}

int
plan_load_fits(const struct plan *p, size_t s, size_t t, double l,
    uint64_t bytes)
{
	double top, slack;

	if (!p->byload || !(l > 0))
		return 1;
	if (p->hard_only)
		return p->L[t] + l <= p->lhard_o[t] + p->leps;
	/* Half a band over the edge, which the next load moves take back:
	 * a slice just at the load top can still be refilled with bytes. */
	slack = p->o->load_band / 2 * p->sl[t].ops_capacity;
	top = p->ltop_o[t] + slack < p->lhard_o[t] ? p->ltop_o[t] + slack :
	    p->lhard_o[t];
	/* The source may fall under the load band: load moves refill it
	 * with busy small accounts once it has the room for them. */
	(void)s;
	if (p->L[t] + l <= top + p->leps)
		return 1;
	/* Bytes into a slice short of bytes but over the load band, in an
	 * idle mailbox (under half the fleet's load per byte): the first half
	 * of a swap, whose other half, a busy one out, needs the room the
	 * bytes leave behind elsewhere. Never over the load hard limit. */
	return p->u[t] < p->bot_b[t] && p->L[t] + l <= p->lhard_o[t] &&
	    l * p->usesum <= 0.5 * p->loadsum * (double)bytes;
}

void
plan_load_apply(struct plan *p, size_t a, size_t s, size_t t)
{
	double l = p->ac[a].load > 0 && isfinite(p->ac[a].load) ?
	    p->ac[a].load : 0;

	p->r->load += l;
	if (!p->byload)
		return;
	p->moved[a] = 1;
	p->L[s] = p->L[s] > l ? p->L[s] - l : 0;
	p->L[t] += l;
	p->movl[s] = p->movl[s] > l ? p->movl[s] - l : 0;
	p->lfill[s] = lfill_of(p, s, p->L[s]);
	p->lfill[t] = lfill_of(p, t, p->L[t]);
	lreorder(p, s);
	lreorder(p, t);
}

/* Drop of sum u^2 / c (the imbalance) moving x from s to t. */
static double
gain_of(double us, double cs, double ut, double ct, double x)
{
	return x * (2 * us - x) / cs - x * (2 * ut + x) / ct;
}

/* The account to move load from s to t, or NONE. */
static size_t
load_choose(struct plan *p, size_t s, size_t t, int slack)
{
	const struct planner_slice *ss = &p->sl[s], *ts = &p->sl[t];
	double roomL, l, g, mg = (double)p->o->min_gain / p->capsum;
	uint64_t xmax, v, b, floor_b;
	size_t k, a, scanned = 0;
	int over;

	/* Over the load top, load goes whatever it does to bytes, down to
	 * a band under the byte bottom: the byte moves refill the source. */
	over = p->L[s] > p->ltop_o[s] + p->leps;
	floor_b = p->bot_b[s] > (uint64_t)(p->o->band * (double)ss->capacity) ?
	    p->bot_b[s] - (uint64_t)(p->o->band * (double)ss->capacity) : 0;
	roomL = (p->ltop_o[t] < p->lhard_o[t] ? p->ltop_o[t] :
	    p->lhard_o[t]) - p->L[t];
	if (roomL <= p->leps)
		return NONE;
	/* Half a byte band over the top, as plan_load_fits allows for load:
	 * the byte moves that follow take it back with idle accounts. */
	xmax = room(p->u[t], p->top_b[t] + (slack ? (uint64_t)(p->o->band /
	    2 * (double)ts->capacity) : 0));
	if ((v = room(p->u[t], p->hard_b[t])) < xmax)
		xmax = v;
	if ((v = budget(p)) < xmax)
		xmax = v;
	for (k = p->dhead[s]; k < p->dseg[s + 1] && scanned < LOAD_SCAN;
	    k++) {
		a = p->dens[k];
		if (p->moved[a]) {
			if (k == p->dhead[s])
				p->dhead[s]++;
			continue;
		}
		scanned++;
		l = p->ac[a].load;
		if (!(l > 0))
			break;
		if (l > roomL + p->leps ||
		    p->L[s] - l < p->lbot_o[s] - p->leps)
			continue;
		if ((b = p->ac[a].bytes) > xmax)
			continue;
		g = gain_of(p->L[s], ss->ops_capacity, p->L[t],
		    ts->ops_capacity, l) / p->opsum;
		if (!over || p->u[s] < floor_b + b)
			g += gain_of((double)p->u[s], (double)ss->capacity,
			    (double)p->u[t], (double)ts->capacity,
			    (double)b) / p->capsum;
		if (g <= (over && p->u[s] >= floor_b + b ? 0 : mg))
			continue;
		return a;
	}
	return NONE;
}

/* load_from's search of the targets, with or without byte slack. */
static int
load_to(struct plan *p, size_t s, int mode, size_t only, int doit,
    int slack)
{
	size_t j, t, a, tried = 0;
	double take;

	for (j = 0; j < p->nlord && tried < LOAD_TARGETS; j++) {
		t = only < p->ns ? only : p->lord[j];
		if (!lord_before(p, t, s))
			break;
		if (mode == MODE_DEFICIT && p->lfill[t] > p->lbottom + FILL_EPS)
			break;
		take = (mode == MODE_EXCESS ? p->ltop_o[t] : p->lbot_o[t]) -
		    p->L[t];
		if (may_take(p, s, t) && take > p->leps) {
			tried++;
			if ((a = load_choose(p, s, t, slack)) != NONE) {
				if (doit)
					plan_apply(p, p->entry[a], s, t);
				return 1;
			}
		}
		if (only < p->ns)
			break;
	}
	return 0;
}

/*
 * Find a load move from s in mode, to any target (only == ns) or to
 * only; make it when doit. Returns 1 when there is one. Targets that keep
 * under the byte top come first; only when none has a move may one go
 * half a byte band over it.
 */
static int
load_from(struct plan *p, size_t s, int mode, size_t only, int doit)
{
	int slack;

	if (p->nmov[s] == 0 || !(p->movl[s] > 0))
		return 0;
	if (p->L[s] - (mode == MODE_EXCESS ? p->ltop_o[s] : p->lmean_o[s]) <=
	    p->leps)
		return 0;
	for (slack = 0; slack < 2; slack++) {
		if (load_to(p, s, mode, only, doit, slack))
			return 1;
	}
	return 0;
}
/* One load move in mode from the slice with the highest load fill that
 * has one; stuck sources are skipped until a move may have freed them. */
static int
load_step(struct plan *p, int mode)
{
	unsigned char *stuck = p->lstuck + (size_t)mode * p->ns;
	size_t i, q, s, t;

	for (i = p->nlord; i-- > 0;) {
		s = p->lord[i];
		if (p->lfill[s] < p->lmean - FILL_EPS)
			break;
		if (stuck[s])
			continue;
		if (load_from(p, s, mode, p->ns, 1)) {
			t = p->r->moves[p->r->nmoves - 1].to;
			/* t holds more load; s has room for others'. */
			for (q = 0; q < p->ns; q++) {
				if (stuck[q] && (q == t ||
				    load_from(p, q, mode, s, 0)))
					stuck[q] = 0;
			}
			return 1;
		}
		stuck[s] = 1;
	}
	return 0;
}

size_t
plan_load_balance(struct plan *p)
{
	size_t n0 = p->r->nmoves;
	double el, dl;
	int mode;

	if (!p->byload)
		return 0;
	memset(p->lstuck, 0, 2 * p->ns);
	while (!limits_hit(p)) {
		lsums(p, &el, &dl);
		if (el <= p->leps && dl <= p->leps)
			break;
		mode = el >= dl ? MODE_EXCESS : MODE_DEFICIT;
		if (load_step(p, mode))
			continue;
		if ((mode == MODE_EXCESS ? dl : el) <= p->leps ||
		    !load_step(p, !mode))
			break;
	}
	return p->r->nmoves - n0;
}

/* Fewest bytes of the accounts in dens[lo, hi) (most load per byte
 * first) that carry need ops/s; all of them when they carry less. */
static double
knapsack(const struct plan *p, const size_t *v, size_t lo, size_t hi,
    double need)
{
	double bytes = 0, l;
	size_t k;

	for (k = lo; k < hi && need > p->leps; k++) {
		l = p->ac[v[k]].load;
		if (!(l > 0))
			break;
		if (l <= need) {
			bytes += (double)p->ac[v[k]].bytes;
			need -= l;
		} else {
			bytes += (double)p->ac[v[k]].bytes * need / l;
			need = 0;
		}
	}
	return bytes;
}

static int
dens_cmp(const void *va, const void *vb)
{
	const struct dkey *a = va, *b = vb;

	if (a->d != b->d)
		return a->d > b->d ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

void
plan_load_bound(struct plan *p)
{
	struct planner_result *r = p->r;
	double el, dl, ex = 0, de = 0, ks, out = 0, in = 0, lo;
	struct dkey *k;
	size_t i, n, *v;

	if (!p->byload)
		return;
	lsums(p, &el, &dl);
	switch (p->o->strategy) {
	case PLANNER_BALANCE:
		r->load_lower_bound = el > dl ? el : dl;
		for (i = 0; i < p->ns; i++) {
			ks = lexcess(p, i) > 0 ? knapsack(p, p->dens,
			    p->dseg[i], p->dseg[i + 1], lexcess(p, i)) : 0;
			ex += ks;
			out += ks > (double)excess(p, i) ? ks :
			    (double)excess(p, i);
			if (p->bal[i] && p->recv[i]) {
				lo = (double)p->bot_b[i] -
				    ((double)p->u[i] - ks);
				in += lo > 0 ? lo : 0;
			}
		}
		r->both_lower_bytes = (uint64_t)floor(out > in ? out : in);
		if (dl > p->leps && p->na > 0) {
			/* Any slice may give toward a deficit: one sort. */
			k = xcalloc(p->na, sizeof *k);
			v = xcalloc(p->na, sizeof *v);
			for (i = n = 0; i < p->dseg[p->ns]; i++) {
				k[n].d = density(&p->ac[p->dens[i]]);
				k[n++].idx = p->dens[i];
			}
			qsort(k, n, sizeof *k, dens_cmp);
			for (i = 0; i < n; i++)
				v[i] = k[i].idx;
			de = knapsack(p, v, 0, n, dl);
			free(k);
			free(v);
		}
		r->load_lower_bytes = (uint64_t)floor(ex > de ? ex : de);
		if (r->both_lower_bytes < r->load_lower_bytes)
			r->both_lower_bytes = r->load_lower_bytes;
		if (r->both_lower_bytes < r->lower_bound)
			r->both_lower_bytes = r->lower_bound;
		break;
	case PLANNER_DRAIN:
		r->load_lower_bound = p->movl[p->o->slice];
		break;
	case PLANNER_FILL:
		break;
	}
}

/* Min, max and population stddev of v over the slices in set. */
static void
lstats(const struct plan *p, const double *v, const unsigned char *set,
    double *min, double *max, double *sd)
{
	double sum = 0, sq = 0;
	size_t i, n = 0;

	*min = *max = *sd = 0;
	for (i = 0; i < p->ns; i++) {
		if (!set[i])
			continue;
		if (n == 0 || v[i] < *min)
			*min = v[i];
		if (n == 0 || v[i] > *max)
			*max = v[i];
		sum += v[i];
		n++;
	}
	if (n == 0)
		return;
	for (i = 0; i < p->ns; i++) {
		if (set[i])
			sq += (v[i] - sum / n) * (v[i] - sum / n);
	}
	*sd = sqrt(sq / n);
}

void
plan_load_metrics(struct plan *p)
{
	struct planner_result *r = p->r;
	unsigned char *before, *after;
	double el, dl;
	size_t i;

	if (!p->byload)
		return;
	before = xcalloc(p->ns, 1);
	after = xcalloc(p->ns, 1);
	r->load_before = xcalloc(p->ns, sizeof *r->load_before);
	r->load_after = xcalloc(p->ns, sizeof *r->load_after);
	for (i = 0; i < p->ns; i++) {
		r->load_before[i] = lfill_of(p, i, p->L0[i]);
		r->load_after[i] = lfill_of(p, i, p->L[i]);
		before[i] = p->sl[i].balances && p->sl[i].capacity > 0 &&
		    p->sl[i].ops_capacity > 0;
		after[i] = lin(p, i);
	}
	lstats(p, r->load_before, before, &r->load_min_before,
	    &r->load_max_before, &r->load_stddev_before);
	lstats(p, r->load_after, after, &r->load_min_after,
	    &r->load_max_after, &r->load_stddev_after);
	free(before);
	free(after);
	r->load_mean = p->lmean;
	r->load_band_low = p->lbottom;
	r->load_band_high = p->ltop;
	lsums(p, &el, &dl);
	switch (p->o->strategy) {
	case PLANNER_BALANCE:
		r->load_unmet = el > dl ? el : dl;
		r->load_band_reached = el <= p->leps && dl <= p->leps;
		break;
	case PLANNER_DRAIN:
		r->load_unmet = p->movl[p->o->slice];
		r->load_band_reached = el <= p->leps;
		break;
	case PLANNER_FILL:
		r->load_band_reached = el <= p->leps;
		break;
	}
}

void
planner_apportion(const struct planner_slice *sl, size_t ns,
    struct planner_account *ac, size_t na, const double *weight)
{
	double *sum = xcalloc(ns ? ns : 1, sizeof *sum), w;
	size_t *count = xcalloc(ns ? ns : 1, sizeof *count), i, s;

	for (i = 0; i < na; i++) {
		if ((s = ac[i].slice) >= ns)
			continue;
		w = weight != NULL ? weight[i] : 0;
		if (w > 0 && isfinite(w))
			sum[s] += w;
		count[s]++;
	}
	for (i = 0; i < na; i++) {
		ac[i].load = 0;
		if ((s = ac[i].slice) >= ns || !(sl[s].load > 0))
			continue;
		w = weight != NULL ? weight[i] : 0;
		if (sum[s] > 0)
			ac[i].load = w > 0 && isfinite(w) ?
			    sl[s].load * w / sum[s] : 0;
		else
			ac[i].load = sl[s].load / (double)count[s];
	}
	free(sum);
	free(count);
}
