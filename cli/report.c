/*
 * The reports' model: see report.h. Reads the catalog through
 * state/report.h and state/state.h; the writers only read the model.
 */
#define _GNU_SOURCE
#include "cli/report.h"
#include "common/stats.h"
#include "common/util.h"
#include "state/state.h"
#include "state/move.h"
#include "state/load.h"
#include "state/report.h"
#include "state/slice.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const by_names[] = { "slice", "pair", "server" };

void
report_init(struct report *r, int64_t now)
{
	struct config c;

	memset(r, 0, sizeof *r);
	r->now = now;
	r->since = INT64_MIN;
	r->until = INT64_MAX;
	r->target = 0.75;
	r->hard = 0.90;
	r->days = 90;
	r->by = REPORT_BY_SLICE;
	config_defaults(&c);
	report_configure(r, &c);
	config_free(&c);
}

void
report_configure(struct report *r, const struct config *c)
{
	r->load_target = (double)c->load_target / 100;
	r->load_hard = (double)c->load_hard_limit / 100;
	r->ops_default = c->ops_capacity;
	r->load_window = c->load_window > 0 && c->load_window < INT32_MAX ?
	    (int64_t)c->load_window : STATS_DAY;
	evacuation_schedule_init(&r->evac, c);
}

const char *
report_by_name(enum report_by by)
{
	return by_names[by];
}

int
report_by_parse(const char *s, enum report_by *by)
{
	size_t i;

	for (i = 0; i < sizeof by_names / sizeof by_names[0]; i++) {
		if (strcmp(by_names[i], s) == 0) {
			*by = (enum report_by)i;
			return 0;
		}
	}
	return -1;
}

/* The capacity model. */

static void
row_free(struct report_row *row)
{
	free(row->name);
	free(row->pair);
	free(row->server);
	free(row->state);
}

void
report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->nslices; i++)
		row_free(&r->slices[i]);
	if (r->groups != r->slices) {
		for (i = 0; i < r->ngroups; i++)
			row_free(&r->groups[i]);
		free(r->groups);
	}
	free(r->slices);
	row_free(&r->fleet);
	state_report_series_free(r->series, r->nseries);
	state_report_load_series_free(r->loads, r->nloads);
	free(r->fleet_t);
	free(r->fleet_used);
	state_report_moves_free(r->moves, r->nmoves);
	r->slices = r->groups = NULL;
	r->nslices = r->ngroups = 0;
	memset(&r->fleet, 0, sizeof r->fleet);
	r->needed = 0;
	r->series = NULL;
	r->nseries = 0;
	r->loads = NULL;
	r->nloads = 0;
	r->add_size = r->add_ops = 0;
	r->fleet_t = NULL;
	r->fleet_used = NULL;
	r->nfleet = 0;
	r->moves = NULL;
	r->nmoves = 0;
	memset(&r->total, 0, sizeof r->total);
}

static int
slice_cb(const struct state_slice *s, void *arg)
{
	struct report *r = arg;
	struct report_row *row;

	r->slices = xrealloc(r->slices, (r->nslices + 1) * sizeof *r->slices);
	row = &r->slices[r->nslices++];
	memset(row, 0, sizeof *row);
	row->id = s->id;
	row->name = xstrdup(s->name);
	row->pair = xstrdup(s->pair);
	row->server = xstrdup(s->server);
	row->state = xstrdup(s->state);
	row->retired = strcmp(s->state, "retired") == 0;
	row->slices = 1;
	row->accounts = s->accounts;
	row->files = s->files;
	row->used = s->used;
	row->capacity = s->capacity;
	row->ops_capacity = s->ops_capacity ? s->ops_capacity :
	    r->ops_default;
	return 0;
}

/* Days to the target fill and the hard limit from what is used now. */
static void
row_days(const struct report *r, struct report_row *row)
{
	double used = (double)row->used, cap = (double)row->capacity;
	double per_day = row->growth.ok ? row->growth.per_day : 0;

	row->to_target = row->to_hard = -1;
	if (row->capacity == 0 || (row->retired && row->slices == 1))
		return;
	row->to_target = stats_days_until(used, per_day, r->target * cap);
	row->to_hard = stats_days_until(used, per_day, r->hard * cap);
}

/* A slice's growth over its snapshots in the range, and its forecast. */
static void
slice_model(const struct report *r, struct report_row *row,
    const struct state_report_series *s)
{
	int64_t *t;
	double *v, p;
	size_t i;

	row->series = s;
	if (s != NULL && s->n > 0) {
		t = xcalloc(s->n, sizeof *t);
		v = xcalloc(s->n, sizeof *v);
		for (i = 0; i < s->n; i++) {
			t[i] = s->p[i].ts;
			v[i] = (double)s->p[i].bytes;
		}
		stats_growth(t, v, s->n, &row->growth);
		free(t);
		free(v);
	}
	row_days(r, row);
	p = (double)row->used + (row->growth.ok ? row->growth.per_day *
	    r->days : 0);
	row->projected = p > 0 ? p : 0;
	if (row->retired) {
		memset(&row->evac, 0, sizeof row->evac);
		row->evac.status = EVACUATION_EMPTY;
		row->evac.split = 1;
	} else
		evacuation_estimate(&r->evac, r->now, row->used, row->files,
		    row->accounts, &row->evac);
	row->flagged = row->evac.flagged;
}

/* Days to the load target and hard limit from the load now. */
static void
row_load_days(const struct report *r, struct report_row *row)
{
	double cap = (double)row->load_capacity;
	double per_day = row->load_growth.ok ? row->load_growth.per_day : 0;

	row->load_to_target = row->load_to_hard = -1;
	if (row->load_slices == 0 || row->load_capacity == 0 ||
	    (row->retired && row->slices == 1))
		return;
	row->load_to_target = stats_days_until(row->ops, per_day,
	    r->load_target * cap);
	row->load_to_hard = stats_days_until(row->ops, per_day,
	    r->load_hard * cap);
}

/*
 * A slice's load growth: the Theil-Sen slope of its daily rates (sum of
 * ops over sum of time of each UTC day, placed at noon), and where its
 * load goes from now.
 */
static void
slice_load_model(const struct report *r, struct report_row *row,
    const struct state_report_load_series *s)
{
	int64_t *t;
	double *v, p;
	size_t i, n = 0;

	row->loads = s;
	if (s != NULL && s->n > 0) {
		t = xcalloc(s->n, sizeof *t);
		v = xcalloc(s->n, sizeof *v);
		for (i = 0; i < s->n; i++) {
			if (s->d[i].ms <= 0)
				continue;
			t[n] = s->d[i].day + STATS_DAY / 2;
			v[n++] = (double)s->d[i].ops * 1000 /
			    (double)s->d[i].ms;
		}
		stats_growth(t, v, n, &row->load_growth);
		free(t);
		free(v);
	}
	row_load_days(r, row);
	p = row->ops + (row->load_growth.ok ? row->load_growth.per_day *
	    r->days : 0);
	row->load_projected = row->load_slices > 0 && p > 0 ? p : 0;
}

/* The load now of the slices, by id. */
struct load_now {
	struct report_row	**by_id;	/* slice rows in id order */
	size_t			  n;
};

static int
row_id_cmp(const void *a, const void *b)
{
	const struct report_row *x = *(struct report_row *const *)a;
	const struct report_row *y = *(struct report_row *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void
load_now_cb(const struct state_load_sum *sum, void *arg)
{
	struct load_now *ln = arg;
	size_t lo = 0, hi = ln->n, mid;
	struct report_row *row;

	if (sum->ms <= 0)
		return;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		row = ln->by_id[mid];
		if (row->id == sum->slice_id) {
			row->load_slices = 1;
			row->load_capacity = row->ops_capacity;
			row->ops = state_load_ops_rate(sum);
			row->load_bytes = state_load_bytes_rate(sum);
			return;
		}
		if (row->id < sum->slice_id)
			lo = mid + 1;
		else
			hi = mid;
	}
}

/* Every slice's load over the load window that ends now. */
static int
slices_load_now(struct state *st, struct report *r, char **cause)
{
	struct load_now ln;
	size_t i;
	int rc;

	ln.n = r->nslices;
	ln.by_id = xcalloc(r->nslices + 1, sizeof *ln.by_id);
	for (i = 0; i < r->nslices; i++)
		ln.by_id[i] = &r->slices[i];
	qsort(ln.by_id, ln.n, sizeof *ln.by_id, row_id_cmp);
	rc = state_load_sums(st, r->now - r->load_window + 1, r->now,
	    load_now_cb, &ln, cause);
	free(ln.by_id);
	return rc;
}

/* A group's evacuation is its slowest slice's; not known when one of
 * its slices' is not. */
static void
group_evac(struct report_row *g, const struct report_row *s)
{
	struct evacuation *ge = &g->evac;
	const struct evacuation *se = &s->evac;

	if (s->retired)
		return;
	if (se->restore > ge->restore)
		ge->restore = se->restore;
	g->flagged += s->flagged;
	ge->flagged = g->flagged > 0;
	ge->split = 0;
	if (ge->seconds < 0 || se->status == EVACUATION_EMPTY)
		return;
	if (se->seconds < 0) {
		ge->status = se->status;
		ge->seconds = -1;
		memcpy(ge->unthrottled, se->unthrottled,
		    sizeof ge->unthrottled);
	} else if (ge->status == EVACUATION_EMPTY ||
	    se->seconds > ge->seconds) {
		ge->status = EVACUATION_OK;
		ge->seconds = se->seconds;
		ge->streams = se->streams;
	}
}

/* Add a slice to a group: sums (held at INT64_MAX, never wrapping), and
 * the sum of the slices' growth. */
static void
group_add(struct report_row *g, const struct report_row *s)
{
	g->slices++;
	g->accounts += s->accounts;
	g->files = size_add(g->files, s->files);
	g->used = size_add(g->used, s->used);
	if (!s->retired)
		g->capacity = size_add(g->capacity, s->capacity);
	g->projected += s->projected;
	g->growth.points += s->growth.points;
	if (s->growth.points > 0) {
		if (g->growth.first == 0 || s->growth.first < g->growth.first)
			g->growth.first = s->growth.first;
		if (s->growth.last > g->growth.last)
			g->growth.last = s->growth.last;
	}
	if (s->growth.ok) {
		g->growth.ok = 1;
		g->growth.per_day += s->growth.per_day;
	}
	if (!s->retired)
		g->ops_capacity = size_add(g->ops_capacity, s->ops_capacity);
	if (s->load_slices > 0 && !s->retired) {
		g->load_slices += s->load_slices;
		g->load_capacity = size_add(g->load_capacity,
		    s->load_capacity);
		g->ops += s->ops;
		g->load_bytes += s->load_bytes;
		g->load_projected += s->load_projected;
		g->load_growth.points += s->load_growth.points;
		if (s->load_growth.ok) {
			g->load_growth.ok = 1;
			g->load_growth.per_day += s->load_growth.per_day;
		}
	}
	group_evac(g, s);
}

static int
row_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct report_row *)a)->name,
	    ((const struct report_row *)b)->name);
}

static void
make_groups(struct report *r)
{
	const char *key;
	size_t i, k;

	if (r->by == REPORT_BY_SLICE) {
		r->groups = r->slices;
		r->ngroups = r->nslices;
		return;
	}
	for (i = 0; i < r->nslices; i++) {
		key = r->by == REPORT_BY_PAIR ? r->slices[i].pair :
		    r->slices[i].server;
		for (k = 0; k < r->ngroups; k++) {
			if (strcmp(r->groups[k].name, key) == 0)
				break;
		}
		if (k == r->ngroups) {
			r->groups = xrealloc(r->groups, (r->ngroups + 1) *
			    sizeof *r->groups);
			memset(&r->groups[k], 0, sizeof *r->groups);
			r->groups[k].name = xstrdup(key);
			r->groups[k].evac.status = EVACUATION_EMPTY;
			r->ngroups++;
		}
		group_add(&r->groups[k], &r->slices[i]);
	}
	for (k = 0; k < r->ngroups; k++) {
		row_days(r, &r->groups[k]);
		row_load_days(r, &r->groups[k]);
	}
	qsort(r->groups, r->ngroups, sizeof *r->groups, row_cmp_name);
}

/*
 * The fleet's usage over time for the chart: at up to 600 evenly spaced
 * times, the sum of each slice's latest snapshot at or before that time
 * (or up to 6 hours after it: one discover run over many slices takes a
 * while, and its snapshots belong together).
 */
static void
fleet_series(struct report *r)
{
	int64_t first = INT64_MAX, last = INT64_MIN, step, tk;
	size_t i, k, nb, *pos;
	double sum;

	for (i = 0; i < r->nseries; i++) {
		if (r->series[i].p[0].ts < first)
			first = r->series[i].p[0].ts;
		if (r->series[i].p[r->series[i].n - 1].ts > last)
			last = r->series[i].p[r->series[i].n - 1].ts;
	}
	if (r->nseries == 0)
		return;
	nb = (size_t)((last - first) / (STATS_DAY / 4)) + 1;
	if (nb > 600)
		nb = 600;
	step = nb > 1 ? (last - first) / (int64_t)(nb - 1) : 0;
	r->fleet_t = xcalloc(nb, sizeof *r->fleet_t);
	r->fleet_used = xcalloc(nb, sizeof *r->fleet_used);
	pos = xcalloc(r->nseries, sizeof *pos);
	for (k = 0; k < nb; k++) {
		tk = k == nb - 1 ? last : first + (int64_t)k * step;
		sum = 0;
		for (i = 0; i < r->nseries; i++) {
			const struct state_report_series *s = &r->series[i];

			while (pos[i] + 1 < s->n && s->p[pos[i] + 1].ts <=
			    tk + STATS_DAY / 4)
				pos[i]++;
			if (s->p[pos[i]].ts <= tk + STATS_DAY / 4)
				sum += (double)s->p[pos[i]].bytes;
		}
		r->fleet_t[k] = tk;
		r->fleet_used[k] = sum;
	}
	r->nfleet = nb;
	free(pos);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The size of a slice to add: the median capacity of the active slices
 * (of the slices not retired when none is active), 0 when there is none;
 * the lower middle one of an even count, so that it is a real size. */
static uint64_t
median_capacity(const struct report *r)
{
	uint64_t *v, m = 0;
	size_t i, n = 0;
	int pass;

	v = xcalloc(r->nslices + 1, sizeof *v);
	for (pass = 0; pass < 2 && n == 0; pass++) {
		for (i = 0; i < r->nslices; i++) {
			if (pass == 0 ? strcmp(r->slices[i].state, "active") ==
			    0 : !r->slices[i].retired)
				v[n++] = r->slices[i].capacity;
		}
	}
	if (n > 0) {
		qsort(v, n, sizeof *v, u64_cmp);
		m = v[(n - 1) / 2];
	}
	free(v);
	return m;
}

/*
 * Slices of r->add_size bytes and r->add_ops ops/s that keep a row below
 * the target fill and the load target for r->days, and the days until
 * the first of them is crossed.
 */
static void
row_add(const struct report *r, struct report_row *row)
{
	double need, first = -1;

	row->add_for_bytes = row->add_for_load = row->add_slices = 0;
	row->add_by = -1;
	if (row->retired && row->slices == 1)
		return;
	need = stats_capacity_needed(row->projected, r->target,
	    (double)row->capacity);
	if (need > 0)
		row->add_for_bytes = r->add_size > 0 ? (int64_t)ceil(need /
		    (double)r->add_size - 1e-9) : -1;
	if (row->load_slices > 0) {
		need = stats_capacity_needed(row->load_projected,
		    r->load_target, (double)row->load_capacity);
		if (need > 0)
			row->add_for_load = (int64_t)ceil(need /
			    (double)r->add_ops - 1e-9);
	}
	row->add_slices = row->add_for_bytes < 0 ? -1 :
	    row->add_for_bytes > row->add_for_load ? row->add_for_bytes :
	    row->add_for_load;
	if (row->add_slices == 0)
		return;
	if (row->add_for_bytes != 0 && row->to_target >= 0)
		first = row->to_target;
	if (row->add_for_load > 0 && row->load_to_target >= 0 &&
	    (first < 0 || row->load_to_target < first))
		first = row->load_to_target;
	row->add_by = first;
}

/* A share of the slices to model on a thread of its own. */
struct model_part {
	struct report	*r;
	size_t		 from, to;
	pthread_t	 th;
};

static void *
model_part_run(void *arg)
{
	struct model_part *m = arg;
	struct report *r = m->r;
	size_t i;

	for (i = m->from; i < m->to; i++) {
		slice_model(r, &r->slices[i], state_report_series_find(
		    r->series, r->nseries, r->slices[i].id));
		slice_load_model(r, &r->slices[i],
		    state_report_load_series_find(r->loads, r->nloads,
		    r->slices[i].id));
	}
	return NULL;
}

/*
 * Every slice's growth, load growth and evacuation: two robust fits per
 * slice, the bulk of a report's time on a large fleet, shared out over
 * up to MODEL_THREADS threads (each slice's row is its own; the rest is
 * only read).
 */
#define MODEL_THREADS 8
#define MODEL_MIN_SLICES 64	/* fewer are not worth a thread */

static void
model_slices(struct report *r)
{
	struct model_part part[MODEL_THREADS];
	int started[MODEL_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = 1, i;

	if (cpus > 1 && r->nslices >= 2 * MODEL_MIN_SLICES) {
		n = (size_t)cpus < MODEL_THREADS ? (size_t)cpus :
		    MODEL_THREADS;
		if (n > r->nslices / MODEL_MIN_SLICES)
			n = r->nslices / MODEL_MIN_SLICES;
	}
	for (i = 0; i < n; i++) {
		part[i].r = r;
		part[i].from = r->nslices * i / n;
		part[i].to = r->nslices * (i + 1) / n;
	}
	for (i = 1; i < n; i++)
		started[i] = pthread_create(&part[i].th, NULL, model_part_run,
		    &part[i]) == 0;
	model_part_run(&part[0]);
	for (i = 1; i < n; i++) {
		if (started[i])
			pthread_join(part[i].th, NULL);
		else	/* no thread: here */
			model_part_run(&part[i]);
	}
}

int
report_capacity_build(struct state *st, struct report *r, int fleet_chart,
    char **cause)
{
	size_t i;

	if (state_slice_list(st, slice_cb, r, cause) != 0 ||
	    state_report_snapshots(st, r->since, r->until, &r->series,
	    &r->nseries, cause) != 0 ||
	    state_report_load_days(st, r->since, r->until, &r->loads,
	    &r->nloads, cause) != 0 || slices_load_now(st, r, cause) != 0)
		return -1;
	model_slices(r);
	make_groups(r);
	r->fleet.name = xstrdup("fleet");
	r->fleet.evac.status = EVACUATION_EMPTY;
	for (i = 0; i < r->nslices; i++)
		group_add(&r->fleet, &r->slices[i]);
	row_days(r, &r->fleet);
	row_load_days(r, &r->fleet);
	r->needed = stats_capacity_needed(r->fleet.projected, r->target,
	    (double)r->fleet.capacity);
	r->add_size = r->slice_size ? r->slice_size : median_capacity(r);
	r->add_ops = r->slice_ops ? r->slice_ops : r->ops_default;
	if (r->add_ops == 0)
		r->add_ops = 1;
	for (i = 0; i < r->nslices; i++)
		row_add(r, &r->slices[i]);
	if (r->groups != r->slices) {
		for (i = 0; i < r->ngroups; i++)
			row_add(r, &r->groups[i]);
	}
	row_add(r, &r->fleet);
	if (fleet_chart)
		fleet_series(r);
	return 0;
}

/* The moves model. */

int64_t
report_move_seconds(const struct state_report_move *m)
{
	if (m->started <= 0 || m->finished <= 0 || m->finished < m->started)
		return -1;
	return m->finished - m->started;
}

double
report_move_rate(const struct state_report_move *m)
{
	int64_t s = report_move_seconds(m);

	if (m->state != MOVE_DONE || s <= 0)
		return -1;
	return (double)m->bytes / (double)s;
}

/* Totals of the moves: what was moved, how fast, lock times, failures. */
static void
moves_total(struct report *r)
{
	struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	double *locks;
	int64_t secs;
	size_t i;

	memset(t, 0, sizeof *t);
	t->rate = -1;
	t->lock_median = t->lock_p95 = t->lock_max = NAN;
	locks = xcalloc(r->nmoves + 1, sizeof *locks);
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		t->moves++;
		t->passes += m->passes;
		t->retries += m->attempts;
		if (m->state == MOVE_DONE) {
			t->done++;
			t->bytes = size_add(t->bytes, m->bytes);
			t->files = size_add(t->files, m->files);
			if ((secs = report_move_seconds(m)) > 0)
				t->seconds += secs;
			if (m->lock_ms >= 0)
				locks[t->locks++] = (double)m->lock_ms;
		} else if (m->state == MOVE_FAILED)
			t->failed++;
		else if (m->state == MOVE_CANCELLED)
			t->cancelled++;
		else
			t->open++;
	}
	if (t->seconds > 0)
		t->rate = (double)t->bytes / (double)t->seconds;
	if (t->locks > 0) {
		t->lock_max = locks[0];
		for (i = 1; i < t->locks; i++) {
			if (locks[i] > t->lock_max)
				t->lock_max = locks[i];
		}
		t->lock_median = stats_median(locks, t->locks);
		t->lock_p95 = stats_percentile(locks, t->locks, 95);
	}
	free(locks);
}

int
report_moves_build(struct state *st, struct report *r, char **cause)
{
	if (state_report_moves(st, r->since, r->until, &r->moves, &r->nmoves,
	    cause) != 0)
		return -1;
	moves_total(r);
	return 0;
}

/* The order of a forecast. */

static double
sooner(double days)
{
	return days < 0 ? INFINITY : days;
}

static double
sooner2(double a, double b)
{
	return sooner(a) < sooner(b) ? sooner(a) : sooner(b);
}

/* Rows in the order they fill, in bytes or in load: hard limit first,
 * then target, name. */
static int
forecast_cmp(const void *a, const void *b)
{
	const struct report_row *x = *(const struct report_row *const *)a;
	const struct report_row *y = *(const struct report_row *const *)b;
	double xh = sooner2(x->to_hard, x->load_to_hard);
	double yh = sooner2(y->to_hard, y->load_to_hard);
	double xt = sooner2(x->to_target, x->load_to_target);
	double yt = sooner2(y->to_target, y->load_to_target);

	if (xh != yh)
		return xh < yh ? -1 : 1;
	if (xt != yt)
		return xt < yt ? -1 : 1;
	return strcmp(x->name, y->name);
}

const struct report_row **
report_forecast_order(const struct report *r)
{
	const struct report_row **v;
	size_t i;

	v = xcalloc(r->ngroups + 1, sizeof *v);
	for (i = 0; i < r->ngroups; i++)
		v[i] = &r->groups[i];
	qsort(v, r->ngroups, sizeof *v, forecast_cmp);
	return v;
}
