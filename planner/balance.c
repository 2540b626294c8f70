/*
 * The balance and fill strategies: one greedy over pairs of slices.
 *
 * Balance takes the fullest source that can give and the emptiest target
 * (of another pair with other_pair) that can take; moves the account
 * whose size best fits what the two need, within the range of sizes that
 * keeps the source at or over the band's bottom, the target at or under
 * its top and the hard limit, stays in max_bytes and lowers the imbalance
 * by min_gain; and repeats until every slice is in the band. While the
 * bytes above the band (E) are at least the bytes missing below it (D),
 * sources above the top give at most their excess, so every byte moved
 * lowers E; otherwise sources above the mean give to targets below the
 * bottom at most what those miss, so every byte lowers D. Either way the
 * plan stays close to the lower bound max(E, D).
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
 * mean.
 */
#include "planner/planner_int.h"

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
			if ((e = plan_choose(p, s, t, goal)) != p->pool.n) {
				if (doit)
					plan_apply(p, e, s, t);
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

void
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

void
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
			e = plan_choose(p, s, f, give < take ? give : take);
			if (e != p->pool.n) {
				plan_apply(p, e, s, f);
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
