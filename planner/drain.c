/*
 * The drain strategy. It places the drained slice's accounts, giants
 * first while room is widest, then idle, then active ones, each largest
 * first, on the emptiest receiver where they stay under the band's top,
 * else the emptiest under its hard limit; and refuses up front a drain
 * that cannot fit.
 */
#include "planner/planner_int.h"
#include "common/util.h"

int
plan_drain_check(struct plan *p, size_t d, char **cause)
{
	const struct pool *pl = &p->pool;
	uint64_t free_sum = 0, free_max = 0, v, big = 0;
	size_t i, k, n = 0;
	char b1[32];
	const char *name = plan_slice_name(&p->sl[d], b1, sizeof b1);

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
		    "receive%s: none is active with health ok; add a slice "
		    "or let one receive", name,
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

/* The receiver for x bytes (and l ops/s) in a drain of d: emptiest that
 * stays in both bands, else emptiest under both hard limits; ns when
 * none. */
static size_t
drain_target(const struct plan *p, size_t d, uint64_t x, double l)
{
	size_t j, t, any = p->ns;

	for (j = 0; j < p->nord; j++) {
		t = p->ord[j];
		if (!may_take(p, d, t))
			continue;
		if (room(p->u[t], p->hard_b[t]) < x ||
		    (p->byload && p->L[t] + l > p->lhard_o[t] + p->leps))
			continue;
		if (room(p->u[t], p->top_b[t]) >= x &&
		    (!p->byload || p->L[t] + l <= p->ltop_o[t] + p->leps))
			return t;
		if (any == p->ns)
			any = t;
	}
	return any;
}

void
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
			if ((t = drain_target(p, d, pl->bytes[e],
			    p->ac[pl->acct[e]].load)) == p->ns)
				continue;
			plan_apply(p, e, d, t);
		}
	}
}
