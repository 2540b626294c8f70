/*
 * The working state of one planner run: the fleet checked, the roles of
 * its slices, and the balancing slices kept in one array sorted by fill
 * (ord): the fullest source is at its end, the emptiest target at its
 * start, and a move re-sorts only the two slices it touched.
 */
#include "planner/planner_int.h"
#include "common/util.h"

#include <stdio.h>		/* snprintf for causes; no I/O */
#include <stdlib.h>
#include <string.h>

const char *
plan_slice_name(const struct planner_slice *s, char *buf, size_t len)
{
	if (s->name != NULL && *s->name != '\0')
		return s->name;
	snprintf(buf, len, "#%lld", (long long)s->id);
	return buf;
}

void
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

void
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
	plan_pool_free(&p->pool);
	plan_load_free(p);
}

int
plan_check_fleet(struct plan *p, char **cause)
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
			    plan_slice_name(s, b1, sizeof b1),
			    (unsigned long long)BYTES_MAX);
		if (s->pending_out > s->used + s->pending_in)
			return fail(cause, "slice %s: pending moves out (%llu "
			    "bytes) exceed its used plus pending in (%llu); "
			    "rescan the slice",
			    plan_slice_name(s, b1, sizeof b1),
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
			    plan_slice_name(&p->sl[a->slice], b1, sizeof b1));
		p->movb[a->slice] += a->bytes;
		p->nmov[a->slice]++;
	}
	return 0;
}

int
plan_set_roles(struct plan *p, char **cause)
{
	const struct planner_options *o = p->o;
	const struct planner_slice *s;
	size_t i, d = o->slice;
	char b1[32];

	p->drained = o->strategy == PLANNER_DRAIN ? d : p->ns;
	for (i = 0; i < p->ns; i++) {
		s = &p->sl[i];
		p->bal[i] = s->balances && s->capacity > 0 && i != p->drained;
		/* The health watch finds it slow or hung: never a target. */
		p->recv[i] = p->bal[i] && s->receives && !s->unhealthy;
	}
	if (o->strategy == PLANNER_FILL && p->bal[d] && p->sl[d].receives &&
	    p->sl[d].unhealthy)
		return fail(cause, "cannot fill %s: its health is not ok (the "
		    "daemon's health watch finds it degraded or unresponsive); "
		    "fill a healthy slice", plan_slice_name(&p->sl[d], b1,
		    sizeof b1));
	if (o->strategy == PLANNER_FILL && !p->recv[d])
		return fail(cause, "cannot fill %s: it does not receive "
		    "(draining, readonly, degraded, retired or without "
		    "capacity); fill a slice that is active",
		    plan_slice_name(&p->sl[d], b1, sizeof b1));
	if (plan_band(p) != 0) {
		/* No receiver either: plan_drain_check names the problem. */
		if (o->strategy == PLANNER_DRAIN &&
		    plan_drain_check(p, d, cause))
			return -1;
		return fail(cause, "empty fleet: no balancing slice has "
		    "capacity; set slice capacities or activate a slice");
	}
	return 0;
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

void
plan_order(struct plan *p)
{
	size_t i, *tmp;

	for (i = 0; i < p->ns; i++) {
		if (p->bal[i])
			p->ord[p->nord++] = i;
	}
	tmp = xcalloc(p->ns, sizeof *tmp);
	ord_sort(p, p->ord, tmp, p->nord);
	free(tmp);
	for (i = 0; i < p->nord; i++)
		p->pos[p->ord[i]] = i;
}

void
plan_reorder(struct plan *p, size_t i)
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
