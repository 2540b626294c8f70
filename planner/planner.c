/*
 * The rebalance planner: see planner.h.
 *
 * Every movable account sits in a pool: per slice and tier (idle, recently
 * active, giant), sorted by size, with two union-find link arrays so that
 * "largest live account in [lo, hi]" and "smallest in [lo, hi]" are a
 * binary search plus a near-constant hop over removed entries. Balancing
 * slices are kept in one array sorted by fill (ord): the fullest source is
 * at its end, the emptiest target at its start, and a move re-sorts only
 * the two slices it touched. A plan costs O(accounts log accounts) to sort
 * plus O(log) per move, and O(slices) per source found stuck.
 *
 * Balance is a greedy. Take the fullest source that can give and the
 * emptiest target (of another pair with other_pair) that can take; move
 * the account whose size best fits what the two need, within the range of
 * sizes that keeps the source at or over the band's bottom, the target at
 * or under its top and the hard limit, stays in max_bytes and lowers the
 * imbalance by min_gain; repeat until every slice is in the band. While
 * the bytes above the band (E) are at least the bytes missing below it
 * (D), sources above the top give at most their excess, so every byte
 * moved lowers E; otherwise sources above the mean give to targets below
 * the bottom at most what those miss, so every byte lowers D. Either way
 * the plan stays close to the lower bound max(E, D).
 *
 * A source that has no move to any target is marked stuck, and stays so
 * until it receives or until a slice it might send to gives (the only
 * ways its options grow: targets only fill up, max_bytes only shrinks), so
 * the plan ends exactly when no single admissible move is left.
 *
 * Why the band is then reached on fleets that allow it (the property test
 * checks this): suppose every balancing slice receives, there are no pair
 * or count limits, the top is mean + band with the hard limit at least a
 * band above it, each movable account is at most a quarter of the band of
 * the smallest slice, min_gain is at most band * the smallest account / 2,
 * and each slice can shed down to the band's bottom with movable accounts.
 * While a slice is above the top, the emptiest slice is at or below the
 * mean (the mean is a weighted average), so the fill gap is over band and
 * every account of the source fits the size range: a move exists. While a
 * receiving slice is below the bottom, some slice is above the mean, and
 * the same holds. So the greedy only stops in the band.
 *
 * Fill runs the same choice with one target, the filled slice, up to the
 * mean. Drain places the drained slice's accounts, giants first while room
 * is widest, then idle, then active ones, each largest first, on the
 * emptiest receiver where they stay under the band's top, else the
 * emptiest under its hard limit.
 */
#include "planner/planner.h"
#include "common/util.h"

#include <math.h>
#include <stdio.h>		/* snprintf for causes; no I/O */
#include <stdlib.h>
#include <string.h>

/* Tiers of movable accounts, in the order they are preferred. */
#define TIER_IDLE	0	/* not active recently, moderate size */
#define TIER_ACTIVE	1	/* active recently, moderate size */
#define TIER_GIANT	2	/* alone moves its slice over half the band */
#define NTIER		3

/* Balance modes: which side of the band a move must serve. */
#define MODE_EXCESS	0	/* sources above the top give their excess */
#define MODE_DEFICIT	1	/* targets below the bottom take what they miss */

/* The largest fleet the byte sums may reach without overflow. */
#define BYTES_MAX	(UINT64_C(1) << 62)

/* Slack on fill comparisons that only prune scans. */
#define FILL_EPS	1e-9

/* Movable accounts by slice, tier and size, with removal links. */
struct pool {
	size_t		*acct;		/* account index */
	uint64_t	*bytes;		/* its bytes, for the searches */
	size_t		*left;		/* 1 + nearest live at or before; 0 none */
	size_t		*right;		/* nearest live at or after; n none */
	size_t		*seg;		/* start of slice s tier k at s*NTIER+k */
	size_t		 n;
};

/* Moves out of one slice, for the after links. */
struct outs {
	size_t		*move;		/* move index */
	uint64_t	*cum;		/* bytes out of the slice up to it */
	size_t		 n;
	size_t		 cap;
};

/* The working state of one run. */
struct plan {
	const struct planner_slice	*sl;
	size_t				 ns;
	const struct planner_account	*ac;
	size_t				 na;
	const struct planner_options	*o;
	struct planner_result		*r;
	size_t				 movecap;

	uint64_t	*u0;		/* effective used at the start */
	uint64_t	*u;		/* effective used now */
	uint64_t	*cin;		/* bytes planned into each slice */
	uint64_t	*mean_b;	/* mean * capacity */
	uint64_t	*top_b;		/* top of the band, bytes */
	uint64_t	*bot_b;		/* bottom of the band, bytes */
	uint64_t	*hard_b;	/* hard limit, bytes */
	double		*fill;		/* u / capacity */
	unsigned char	*bal;		/* balancing in this plan */
	unsigned char	*recv;		/* may receive in this plan */
	size_t		*nmov;		/* live movable accounts per slice */
	uint64_t	*movb;		/* live movable bytes per slice */
	size_t		*ord;		/* balancing slices by fill, ascending */
	size_t		*pos;		/* index of a slice in ord */
	size_t		 nord;
	unsigned char	*stuck[2];	/* no move from it in that mode */
	size_t		*stucklist[2];
	size_t		 nstuck[2];
	struct outs	*out;
	struct pool	 pool;

	double		 mean;
	double		 top;
	double		 bottom;
	uint64_t	 E;		/* bytes above the top */
	uint64_t	 D;		/* bytes below the bottom, receivers */
	size_t		 drained;	/* drained slice, or ns */
};

/* A slice's name for a cause: its name, or "#id" in buf. */
static const char *
slice_name(const struct planner_slice *s, char *buf, size_t len)
{
	if (s->name != NULL && *s->name != '\0')
		return s->name;
	snprintf(buf, len, "#%lld", (long long)s->id);
	return buf;
}

void
planner_options_default(struct planner_options *o)
{
	memset(o, 0, sizeof *o);
	o->strategy = PLANNER_BALANCE;
	o->band = 0.02;
	o->target_fill = 0.75;
	o->hard_limit = 0.90;
	o->min_gain = UINT64_C(1) << 20;
	o->active_within = 7 * 24 * 3600;
}

void
planner_result_free(struct planner_result *r)
{
	if (r == NULL)
		return;
	free(r->moves);
	free(r->fill_before);
	free(r->fill_after);
	memset(r, 0, sizeof *r);
}

/* Check the options on their own; 0 or -1 with a cause. */
static int
check_options(const struct planner_options *o, size_t ns, char **cause)
{
	if (o->strategy != PLANNER_BALANCE && o->strategy != PLANNER_DRAIN &&
	    o->strategy != PLANNER_FILL)
		return fail(cause, "unknown planner strategy %d; use balance, "
		    "drain or fill", (int)o->strategy);
	if (!(o->band > 0 && o->band < 0.5))
		return fail(cause, "band %g is out of range; give a half width "
		    "above 0 and below 0.5, e.g. 0.02 for +-2 points", o->band);
	if (!(o->hard_limit > 0 && o->hard_limit <= 1))
		return fail(cause, "hard limit %g is out of range; give a fill "
		    "above 0 and at most 1, e.g. 0.90", o->hard_limit);
	if (!(o->target_fill > 0 && o->target_fill <= o->hard_limit))
		return fail(cause, "target fill %g is above the hard limit %g "
		    "or not positive; give a target fill at most the hard "
		    "limit", o->target_fill, o->hard_limit);
	if (o->active_within < 0)
		return fail(cause, "active_within %lld is negative; give "
		    "seconds, e.g. 604800 for 7 days",
		    (long long)o->active_within);
	if (o->strategy != PLANNER_BALANCE && o->slice >= ns)
		return fail(cause, "slice index %zu is out of range (the fleet "
		    "has %zu slices); name an existing slice", o->slice, ns);
	return 0;
}

/* Check slices and accounts, compute effective used; 0 or -1. */
static int
check_fleet(struct plan *p, char **cause)
{
	const struct planner_slice *s;
	const struct planner_account *a;
	uint64_t capsum = 0, usesum = 0, e;
	size_t i;
	char b1[32];

	for (i = 0; i < p->ns; i++) {
		s = &p->sl[i];
		if (s->capacity > BYTES_MAX || s->used > BYTES_MAX ||
		    s->pending_in > BYTES_MAX || s->pending_out > BYTES_MAX)
			return fail(cause, "slice %s: sizes above %llu bytes; "
			    "check its capacity and usage",
			    slice_name(s, b1, sizeof b1),
			    (unsigned long long)BYTES_MAX);
		if (s->pending_out > s->used + s->pending_in)
			return fail(cause, "slice %s: pending moves out (%llu "
			    "bytes) exceed its used plus pending in (%llu); "
			    "rescan the slice", slice_name(s, b1, sizeof b1),
			    (unsigned long long)s->pending_out,
			    (unsigned long long)(s->used + s->pending_in));
		e = s->used - s->pending_out + s->pending_in;
		capsum += s->capacity;
		usesum += e;
		if (capsum > BYTES_MAX || usesum > BYTES_MAX)
			return fail(cause, "fleet too large: sizes add up to "
			    "more than %llu bytes", (unsigned long long)
			    BYTES_MAX);
		p->u0[i] = p->u[i] = e;
	}
	for (i = 0; i < p->na; i++) {
		a = &p->ac[i];
		if (a->slice >= p->ns)
			return fail(cause, "account %lld: slice index %zu is "
			    "out of range (the fleet has %zu slices); pass "
			    "every slice its accounts live on",
			    (long long)a->id, a->slice, p->ns);
		if (a->pinned || a->moving)
			continue;
		if (a->bytes > p->u[a->slice] - p->movb[a->slice])
			return fail(cause, "slice %s: its movable accounts "
			    "hold more bytes than its used less pending moves "
			    "out; rescan the slice",
			    slice_name(&p->sl[a->slice], b1, sizeof b1));
		p->movb[a->slice] += a->bytes;
		p->nmov[a->slice]++;
	}
	return 0;
}

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
	if (o->now != 0 && a->last_activity != 0 &&
	    a->last_activity > o->now - o->active_within)
		return TIER_ACTIVE;
	return TIER_IDLE;
}

/* Build the pool of movable accounts by slice, tier and size. */
static void
pool_build(struct plan *p)
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

/* Free the pool. */
static void
pool_free(struct pool *pl)
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

/* Remove entry k from the pool. */
static void
pool_remove(struct pool *pl, size_t k)
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

/*
 * Of the live entries of slice s with bytes in [xmin, xmax], the one to
 * move toward goal bytes, from the first tier that has one (idle, then
 * recently active, then giants): the largest at most goal, unless it
 * covers less than half of goal and the smallest above goal is nearer.
 * Returns the entry, or pl->n.
 */
static size_t
pick(struct plan *p, size_t s, uint64_t goal, uint64_t xmin, uint64_t xmax)
{
	struct pool *pl = &p->pool;
	size_t lo, hi, k, n = pl->n;
	uint64_t g;

	if (xmin > xmax)
		return n;
	g = goal < xmin ? xmin : goal > xmax ? xmax : goal;
	for (k = 0; k < NTIER; k++) {
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

/* Room of slice t under a limit in bytes, 0 when at or over it. */
static uint64_t
room(uint64_t used, uint64_t limit)
{
	return used < limit ? limit - used : 0;
}

/* Bytes the plan may still move under max_bytes. */
static uint64_t
budget(const struct plan *p)
{
	if (p->o->max_bytes == 0)
		return UINT64_MAX;
	return p->r->bytes < p->o->max_bytes ? p->o->max_bytes - p->r->bytes :
	    0;
}

/*
 * The entry to move from s to t aiming at goal bytes: the source stays at
 * or over the bottom of the band, the target at or under its top and the
 * hard limit, max_bytes holds and the imbalance drops by min_gain. Returns
 * the entry or pl->n.
 */
static size_t
choose(struct plan *p, size_t s, size_t t, uint64_t goal)
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
	e = pick(p, s, goal, xmin, xmax);
	if (e == p->pool.n)
		return e;
	/* The roots are rounded; the final word is the gain itself. */
	v = p->pool.bytes[e];
	if (gain(p, s, t, v) <= 0 || gain(p, s, t, v) < mg)
		return p->pool.n;
	return e;
}

/* Fill of slice i from its effective used. */
static double
fill_of(const struct plan *p, size_t i, uint64_t used)
{
	if (p->sl[i].capacity == 0)
		return 0;
	return (double)used / (double)p->sl[i].capacity;
}

/* True when slice a sorts before slice b in ord. */
static int
ord_before(const struct plan *p, size_t a, size_t b)
{
	if (p->fill[a] != p->fill[b])
		return p->fill[a] < p->fill[b];
	return a < b;
}

/* Compare slices a and b in ord order. */
static int
ord_cmp_ctx(const struct plan *p, size_t a, size_t b)
{
	return ord_before(p, a, b) ? -1 : ord_before(p, b, a);
}

/* Sort ord (a merge sort: qsort has no context argument in C11). */
static void
ord_sort(struct plan *p, size_t *v, size_t *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	ord_sort(p, v, tmp, h);
	ord_sort(p, v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = ord_cmp_ctx(p, v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

/* Move slice i to its place in ord after its fill changed. */
static void
ord_fix(struct plan *p, size_t i)
{
	size_t at;

	if (!p->bal[i] && !p->recv[i])
		return;
	at = p->pos[i];
	while (at > 0 && ord_before(p, i, p->ord[at - 1])) {
		p->ord[at] = p->ord[at - 1];
		p->pos[p->ord[at]] = at;
		at--;
	}
	while (at + 1 < p->nord && ord_before(p, p->ord[at + 1], i)) {
		p->ord[at] = p->ord[at + 1];
		p->pos[p->ord[at]] = at;
		at++;
	}
	p->ord[at] = i;
	p->pos[i] = at;
}

/* Bytes of slice i above the top of the band. */
static uint64_t
excess(const struct plan *p, size_t i)
{
	return p->bal[i] ? room(p->top_b[i], p->u[i]) : 0;
}

/* Bytes a receiving slice i misses to the bottom of the band. */
static uint64_t
deficit(const struct plan *p, size_t i)
{
	return p->bal[i] && p->recv[i] ? room(p->u[i], p->bot_b[i]) : 0;
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

/* Record the move of pool entry e from s to t and update the state. */
static void
apply(struct plan *p, size_t e, size_t s, size_t t)
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

	pool_remove(&p->pool, e);
	p->nmov[s]--;
	p->movb[s] -= x;
	p->fill[s] = fill_of(p, s, p->u[s]);
	p->fill[t] = fill_of(p, t, p->u[t]);
	ord_fix(p, s);
	ord_fix(p, t);
}

/* True once max_moves or max_bytes allow nothing more. */
static int
limits_hit(const struct plan *p)
{
	if (p->o->max_moves != 0 && p->r->nmoves >= p->o->max_moves)
		return 1;
	return budget(p) == 0;
}

/* True when t may take accounts from s at all. */
static int
may_take(const struct plan *p, size_t s, size_t t)
{
	if (s == t || !p->recv[t])
		return 0;
	return !p->o->other_pair || p->sl[s].pair_id != p->sl[t].pair_id;
}

/* What source s should give in a balance mode (0: not a source). */
static uint64_t
give_of(const struct plan *p, size_t s, int mode)
{
	if (mode == MODE_EXCESS)
		return room(p->top_b[s], p->u[s]);
	return room(p->mean_b[s], p->u[s]);
}

/* What target t should take in a balance mode (0: not a target). */
static uint64_t
take_of(const struct plan *p, size_t t, int mode)
{
	if (mode == MODE_EXCESS)
		return room(p->u[t], p->top_b[t]);
	return room(p->u[t], p->bot_b[t]);
}

/*
 * Find a balance move from s in mode, to any target (only == ns) or to
 * only; make it when doit. Returns 1 when there is one.
 */
static int
balance_from(struct plan *p, size_t s, int mode, size_t only, int doit)
{
	uint64_t give, take, goal;
	size_t j, t, e;

	if (p->nmov[s] == 0 || (give = give_of(p, s, mode)) == 0)
		return 0;
	for (j = 0; j < p->nord; j++) {
		t = only < p->ns ? only : p->ord[j];
		if (!ord_before(p, t, s))
			break;
		if (mode == MODE_DEFICIT && p->fill[t] > p->bottom + FILL_EPS)
			break;
		if (may_take(p, s, t) && (take = take_of(p, t, mode)) != 0) {
			goal = give < take ? give : take;
			if ((e = choose(p, s, t, goal)) != p->pool.n) {
				if (doit)
					apply(p, e, s, t);
				return 1;
			}
		}
		if (only < p->ns)
			break;
	}
	return 0;
}

/* Mark s stuck in mode. */
static void
stick(struct plan *p, size_t s, int mode)
{
	p->stuck[mode][s] = 1;
	p->stucklist[mode][p->nstuck[mode]++] = s;
}

/*
 * After a move s -> t, free the stuck sources that may move again: t
 * itself (it holds more), and those that now fit into s (it has room).
 */
static void
unstick(struct plan *p, size_t s, size_t t)
{
	size_t i, q;
	int mode;

	for (mode = 0; mode < 2; mode++) {
		for (i = 0; i < p->nstuck[mode];) {
			q = p->stucklist[mode][i];
			if (q == t || balance_from(p, q, mode, s, 0)) {
				p->stuck[mode][q] = 0;
				p->stucklist[mode][i] =
				    p->stucklist[mode][--p->nstuck[mode]];
			} else
				i++;
		}
	}
}

/* One balance move in mode from the fullest source that has one. */
static int
balance_step(struct plan *p, int mode)
{
	size_t i, s, t;

	for (i = p->nord; i-- > 0;) {
		s = p->ord[i];
		if (p->fill[s] < p->mean - FILL_EPS)
			break;
		if (p->stuck[mode][s] || p->nmov[s] == 0 || !p->bal[s])
			continue;
		if (give_of(p, s, mode) == 0)
			continue;
		if (balance_from(p, s, mode, p->ns, 1)) {
			t = p->r->moves[p->r->nmoves - 1].to;
			unstick(p, s, t);
			return 1;
		}
		stick(p, s, mode);
	}
	return 0;
}

/* Plan a balance. */
static void
plan_balance(struct plan *p)
{
	int mode;

	while (!limits_hit(p) && (p->E != 0 || p->D != 0)) {
		mode = p->E >= p->D ? MODE_EXCESS : MODE_DEFICIT;
		if (balance_step(p, mode))
			continue;
		if ((mode == MODE_EXCESS ? p->D : p->E) == 0 ||
		    !balance_step(p, !mode))
			break;
	}
}

/* Plan a fill of slice f from the fullest slices. */
static void
plan_fill(struct plan *p, size_t f)
{
	uint64_t give, take;
	size_t i, s, e;
	int moved;

	while (!limits_hit(p) && (take = room(p->u[f], p->mean_b[f])) != 0) {
		moved = 0;
		for (i = p->nord; i-- > 0;) {
			s = p->ord[i];
			if (!ord_before(p, f, s))
				break;
			if (p->stuck[0][s] || !p->bal[s] || !may_take(p, s, f))
				continue;
			if (p->nmov[s] == 0 ||
			    (give = room(p->mean_b[s], p->u[s])) == 0)
				continue;
			e = choose(p, s, f, give < take ? give : take);
			if (e != p->pool.n) {
				apply(p, e, s, f);
				moved = 1;
				break;
			}
			/* f only fills up: s stays stuck. */
			stick(p, s, 0);
		}
		if (!moved)
			break;
	}
}

/* The receiver for x bytes in a drain of d: emptiest that stays in the
 * band, else emptiest under the hard limit; ns when none. */
static size_t
drain_target(const struct plan *p, size_t d, uint64_t x)
{
	size_t j, t, any = p->ns;

	for (j = 0; j < p->nord; j++) {
		t = p->ord[j];
		if (!may_take(p, d, t))
			continue;
		if (room(p->u[t], p->hard_b[t]) < x)
			continue;
		if (room(p->u[t], p->top_b[t]) >= x)
			return t;
		if (any == p->ns)
			any = t;
	}
	return any;
}

/*
 * Plan a drain of d: giants first while room is widest, then idle, then
 * recently active accounts, each largest first, each onto the emptiest
 * receiver it fits.
 */
static void
plan_drain(struct plan *p, size_t d)
{
	static const int order[NTIER] = { TIER_GIANT, TIER_IDLE, TIER_ACTIVE };
	struct pool *pl = &p->pool;
	size_t k, e, a, t;

	for (k = 0; k < NTIER; k++) {
		a = d * NTIER + (size_t)order[k];
		for (e = pl->seg[a + 1]; e-- > pl->seg[a];) {
			if (limits_hit(p))
				return;
			if (pl->bytes[e] > budget(p))
				continue;
			if ((t = drain_target(p, d, pl->bytes[e])) == p->ns)
				continue;
			apply(p, e, d, t);
		}
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

/* Set the mean, band and per-slice byte limits; 0 or -1 (no balancing
 * capacity). */
static int
set_band(struct plan *p)
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

/* Refuse a drain that has nowhere to go; 0 or -1 with a cause. */
static int
check_drain(struct plan *p, size_t d, char **cause)
{
	const struct pool *pl = &p->pool;
	uint64_t free_sum = 0, free_max = 0, v, big = 0;
	size_t i, k, n = 0;
	char b1[32];
	const char *name = slice_name(&p->sl[d], b1, sizeof b1);

	for (i = 0; i < p->ns; i++) {
		if (!may_take(p, d, i))
			continue;
		n++;
		v = room(p->u[i], p->hard_b[i]);
		free_sum += v;
		if (v > free_max)
			free_max = v;
	}
	if (n == 0 && p->ns == 1)
		return fail(cause, "cannot drain %s: it is the only slice; add "
		    "a slice to move its accounts to", name);
	if (n == 0)
		return fail(cause, "cannot drain %s: no other slice can "
		    "receive%s; add a slice or let one receive", name,
		    p->o->other_pair ? " (outside its pair)" : "");
	if (p->movb[d] > free_sum)
		return fail(cause, "cannot drain %s: its %llu movable bytes do "
		    "not fit under the hard limit of the receiving slices "
		    "(%llu bytes free); add capacity or raise the hard limit",
		    name, (unsigned long long)p->movb[d],
		    (unsigned long long)free_sum);
	for (k = 0; k < NTIER; k++) {
		i = d * NTIER + k;
		if (pl->seg[i + 1] > pl->seg[i] &&
		    pl->bytes[pl->seg[i + 1] - 1] > big)
			big = pl->bytes[pl->seg[i + 1] - 1];
	}
	if (big > free_max)
		return fail(cause, "cannot drain %s: an account of %llu bytes "
		    "fits on no receiving slice under the hard limit (at most "
		    "%llu bytes free on one); add capacity or pin it", name,
		    (unsigned long long)big, (unsigned long long)free_max);
	return 0;
}

/* Fill in the metrics of the result. */
static void
finish(struct plan *p, size_t target)
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

/* Allocate the working state. */
static void
plan_init(struct plan *p)
{
	size_t n = p->ns;

	p->u0 = xcalloc(n, sizeof *p->u0);
	p->u = xcalloc(n, sizeof *p->u);
	p->cin = xcalloc(n, sizeof *p->cin);
	p->mean_b = xcalloc(n, sizeof *p->mean_b);
	p->top_b = xcalloc(n, sizeof *p->top_b);
	p->bot_b = xcalloc(n, sizeof *p->bot_b);
	p->hard_b = xcalloc(n, sizeof *p->hard_b);
	p->fill = xcalloc(n, sizeof *p->fill);
	p->bal = xcalloc(n, 1);
	p->recv = xcalloc(n, 1);
	p->nmov = xcalloc(n, sizeof *p->nmov);
	p->movb = xcalloc(n, sizeof *p->movb);
	p->ord = xcalloc(n, sizeof *p->ord);
	p->pos = xcalloc(n, sizeof *p->pos);
	p->stuck[0] = xcalloc(n, 1);
	p->stuck[1] = xcalloc(n, 1);
	p->stucklist[0] = xcalloc(n, sizeof *p->stucklist[0]);
	p->stucklist[1] = xcalloc(n, sizeof *p->stucklist[1]);
	p->out = xcalloc(n, sizeof *p->out);
}

/* Free the working state (not the result). */
static void
plan_free(struct plan *p)
{
	size_t i;

	if (p->out != NULL) {
		for (i = 0; i < p->ns; i++) {
			free(p->out[i].move);
			free(p->out[i].cum);
		}
	}
	free(p->out);
	free(p->u0);
	free(p->u);
	free(p->cin);
	free(p->mean_b);
	free(p->top_b);
	free(p->bot_b);
	free(p->hard_b);
	free(p->fill);
	free(p->bal);
	free(p->recv);
	free(p->nmov);
	free(p->movb);
	free(p->ord);
	free(p->pos);
	free(p->stuck[0]);
	free(p->stuck[1]);
	free(p->stucklist[0]);
	free(p->stucklist[1]);
	pool_free(&p->pool);
}

/* Decide which slices balance and receive, and whether the goal makes
 * sense; 0 or -1 with a cause. */
static int
set_roles(struct plan *p, char **cause)
{
	const struct planner_options *o = p->o;
	const struct planner_slice *s;
	size_t i, d = o->slice;
	char b1[32];

	p->drained = o->strategy == PLANNER_DRAIN ? d : p->ns;
	for (i = 0; i < p->ns; i++) {
		s = &p->sl[i];
		p->bal[i] = s->balances && s->capacity > 0 && i != p->drained;
		p->recv[i] = p->bal[i] && s->receives;
	}
	if (o->strategy == PLANNER_FILL && !p->recv[d])
		return fail(cause, "cannot fill %s: it does not receive "
		    "(draining, readonly, degraded, retired or without "
		    "capacity); fill a slice that is active",
		    slice_name(&p->sl[d], b1, sizeof b1));
	if (set_band(p) != 0) {
		/* No receiver either: check_drain names the problem. */
		if (o->strategy == PLANNER_DRAIN && check_drain(p, d, cause))
			return -1;
		return fail(cause, "empty fleet: no balancing slice has "
		    "capacity; set slice capacities or activate a slice");
	}
	return 0;
}

/* Set the lower bound and the running excess and deficit. */
static void
set_bounds(struct plan *p)
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

int
planner_run(const struct planner_slice *sl, size_t ns,
    const struct planner_account *ac, size_t na,
    const struct planner_options *o, struct planner_result *result,
    char **cause)
{
	struct planner_result r;
	struct plan p;
	size_t i, *tmp;

	if (ns == 0)
		return fail(cause, "empty fleet: no slices; add slices before "
		    "planning");
	if (check_options(o, ns, cause) != 0)
		return -1;
	memset(&p, 0, sizeof p);
	memset(&r, 0, sizeof r);
	p.sl = sl;
	p.ns = ns;
	p.ac = ac;
	p.na = na;
	p.o = o;
	p.r = &r;
	plan_init(&p);
	if (check_fleet(&p, cause) != 0)
		goto bad;
	pool_build(&p);
	if (set_roles(&p, cause) != 0)
		goto bad;
	if (o->strategy == PLANNER_DRAIN && check_drain(&p, o->slice,
	    cause) != 0)
		goto bad;
	for (i = 0; i < ns; i++) {
		if (p.bal[i])
			p.ord[p.nord++] = i;
	}
	tmp = xcalloc(ns, sizeof *tmp);
	ord_sort(&p, p.ord, tmp, p.nord);
	free(tmp);
	for (i = 0; i < p.nord; i++)
		p.pos[p.ord[i]] = i;
	set_bounds(&p);

	switch (o->strategy) {
	case PLANNER_BALANCE:
		plan_balance(&p);
		break;
	case PLANNER_DRAIN:
		plan_drain(&p, o->slice);
		break;
	case PLANNER_FILL:
		plan_fill(&p, o->slice);
		break;
	}
	finish(&p, o->slice);
	plan_free(&p);
	*result = r;
	return 0;
bad:
	plan_free(&p);
	planner_result_free(&r);
	return -1;
}
