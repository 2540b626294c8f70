/* The fleet as the planner sees it: see plan_fleet.h. */
#define _GNU_SOURCE
#include "cli/plan_fleet.h"
#include "common/config.h"
#include "common/util.h"
#include "state/fleet.h"
#include "state/load.h"
#include "state/slice.h"

#include <stdlib.h>
#include <string.h>

struct ctx {
	struct fleet		*f;
	const struct config	*cfg;
	int64_t			 now;
	int64_t			*ids;		/* slice id, index: by id */
};

static int
slice_cb(const struct state_slice *sl, void *arg)
{
	struct ctx *x = arg;
	struct fleet *f = x->f;
	struct planner_slice *p;
	size_t i;

	f->s = xrealloc(f->s, (f->ns + 1) * sizeof *f->s);
	f->names = xrealloc(f->names, (f->ns + 1) * sizeof *f->names);
	f->pairs = xrealloc(f->pairs, (f->ns + 1) * sizeof *f->pairs);
	f->states = xrealloc(f->states, (f->ns + 1) * sizeof *f->states);
	f->measured = xrealloc(f->measured, (f->ns + 1) *
	    sizeof *f->measured);
	f->names[f->ns] = xstrdup(sl->name);
	f->pairs[f->ns] = xstrdup(sl->pair);
	f->states[f->ns] = xstrdup(sl->state);
	f->measured[f->ns] = 0;
	p = &f->s[f->ns];
	memset(p, 0, sizeof *p);
	p->id = sl->id;
	p->name = f->names[f->ns];
	p->pair_id = (int64_t)f->ns;
	for (i = 0; i < f->ns; i++) {
		if (strcmp(f->pairs[i], sl->pair) == 0) {
			p->pair_id = f->s[i].pair_id;
			break;
		}
	}
	p->capacity = sl->capacity;
	p->used = sl->used;
	p->receives = strcmp(sl->state, "active") == 0;
	p->balances = strcmp(sl->state, "retired") != 0;
	p->unhealthy = strcmp(sl->health, "ok") != 0;
	p->ops_capacity = (double)(sl->ops_capacity ? sl->ops_capacity :
	    x->cfg->ops_capacity);
	f->ns++;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Slices come in name order; x->ids holds (id, index) pairs by id. */
static void
ids_build(struct ctx *x)
{
	size_t i;

	x->ids = xcalloc(x->f->ns ? x->f->ns : 1, 2 * sizeof *x->ids);
	for (i = 0; i < x->f->ns; i++) {
		x->ids[2 * i] = x->f->s[i].id;
		x->ids[2 * i + 1] = (int64_t)i;
	}
	qsort(x->ids, x->f->ns, 2 * sizeof *x->ids, cmp_id);
}

/* The index of the slice with id, or f->ns. */
static size_t
slice_by_id(const struct ctx *x, int64_t id)
{
	const int64_t *p = bsearch(&id, x->ids, x->f->ns, 2 * sizeof *x->ids,
	    cmp_id);

	return p != NULL ? (size_t)p[1] : x->f->ns;
}

static void
load_cb(const struct state_load_sum *sum, void *arg)
{
	struct ctx *x = arg;
	struct fleet *f = x->f;
	size_t i = slice_by_id(x, sum->slice_id);

	if (i == f->ns || sum->ms <= 0)
		return;
	f->s[i].load = state_load_ops_rate(sum);
	f->measured[i] = 1;
	f->nmeasured++;
}

static void
moving_cb(int64_t id, int64_t to, void *arg)
{
	struct fleet *f = arg;

	f->moving = xrealloc(f->moving, (f->nmoving + 1) * sizeof *f->moving);
	f->moving_to = xrealloc(f->moving_to, (f->nmoving + 1) *
	    sizeof *f->moving_to);
	f->moving[f->nmoving] = id;
	f->moving_to[f->nmoving++] = to;
}

/* Index of account id in f->moving, or -1. */
static ssize_t
moving_index(const struct fleet *f, int64_t id)
{
	size_t lo = 0, hi = f->nmoving, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->moving[mid] == id)
			return (ssize_t)mid;
		if (f->moving[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void
account_cb(const struct state_fleet_account *fa, void *arg)
{
	struct ctx *x = arg;
	struct fleet *f = x->f;
	struct planner_account *a;
	size_t i = slice_by_id(x, fa->slice_id);

	if (i == f->ns)
		return;
	if (f->na == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 1024;
		f->a = xrealloc(f->a, f->cap * sizeof *f->a);
		f->weight = xrealloc(f->weight, f->cap * sizeof *f->weight);
	}
	f->weight[f->na] = state_fleet_activity(fa, x->now, NULL, NULL);
	a = &f->a[f->na++];
	memset(a, 0, sizeof *a);
	a->id = fa->id;
	a->slice = i;
	a->bytes = fa->bytes;
	a->files = fa->files;
	a->last_activity = fa->last_activity;
	a->pinned = fa->pinned;
	a->moving = moving_index(f, fa->id) >= 0;
}

void
fleet_free(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->ns; i++) {
		free(f->names[i]);
		free(f->pairs[i]);
		free(f->states[i]);
	}
	free(f->names);
	free(f->pairs);
	free(f->states);
	free(f->measured);
	free(f->s);
	free(f->a);
	free(f->weight);
	free(f->moving);
	free(f->moving_to);
	memset(f, 0, sizeof *f);
}

/* Sort the moving ids, their targets along. */
static void
moving_sort(struct fleet *f)
{
	int64_t *pairs;
	size_t i;

	if (f->nmoving < 2)
		return;
	pairs = xcalloc(f->nmoving, 2 * sizeof *pairs);
	for (i = 0; i < f->nmoving; i++) {
		pairs[2 * i] = f->moving[i];
		pairs[2 * i + 1] = f->moving_to[i];
	}
	qsort(pairs, f->nmoving, 2 * sizeof *pairs, cmp_id);
	for (i = 0; i < f->nmoving; i++) {
		f->moving[i] = pairs[2 * i];
		f->moving_to[i] = pairs[2 * i + 1];
	}
	free(pairs);
}

int
fleet_load(struct state *st, const struct config *cfg, int64_t now,
    struct fleet *f, char **cause)
{
	struct ctx x = { f, cfg, now, NULL };
	ssize_t k;
	size_t i, t;

	memset(f, 0, sizeof *f);
	if (state_slice_list(st, slice_cb, &x, cause) != 0 ||
	    state_fleet_moving(st, moving_cb, f, cause) != 0)
		return -1;
	moving_sort(f);
	ids_build(&x);
	for (i = 0; i < f->ns; i++) {
		if (state_fleet_pending(st, f->s[i].id, &f->s[i].pending_in,
		    &f->s[i].pending_out, cause) != 0)
			goto bad;
	}
	if (state_load_sums(st, now - (int64_t)cfg->load_window, now,
	    load_cb, &x, cause) != 0 ||
	    state_fleet_accounts(st, account_cb, &x, cause) != 0)
		goto bad;
	planner_apportion(f->s, f->ns, f->a, f->na, f->weight);
	/* An open move carries its account's load to its target. */
	for (i = 0; i < f->na; i++) {
		if (!f->a[i].moving ||
		    (k = moving_index(f, f->a[i].id)) < 0 ||
		    (t = slice_by_id(&x, f->moving_to[k])) == f->ns)
			continue;
		f->s[f->a[i].slice].load_out += f->a[i].load;
		f->s[t].load_in += f->a[i].load;
	}
	free(x.ids);
	return 0;
bad:
	free(x.ids);
	return -1;
}

size_t
fleet_slice_index(const struct fleet *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->ns; i++) {
		if (strcmp(f->names[i], name) == 0)
			return i;
	}
	return (size_t)-1;
}
