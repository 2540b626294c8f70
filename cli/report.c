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
#include "state/report.h"
#include "state/slice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const by_names[] = { "slice", "pair", "server" };

void
report_init(struct report *r, int64_t now)
{
	memset(r, 0, sizeof *r);
	r->now = now;
	r->since = INT64_MIN;
	r->until = INT64_MAX;
	r->target = 0.75;
	r->hard = 0.90;
	r->days = 90;
	r->by = REPORT_BY_SLICE;
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
	free(r->fleet_t);
	free(r->fleet_used);
	state_report_moves_free(r->moves, r->nmoves);
	r->slices = r->groups = NULL;
	r->nslices = r->ngroups = 0;
	memset(&r->fleet, 0, sizeof r->fleet);
	r->needed = 0;
	r->series = NULL;
	r->nseries = 0;
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
			r->ngroups++;
		}
		group_add(&r->groups[k], &r->slices[i]);
	}
	for (k = 0; k < r->ngroups; k++)
		row_days(r, &r->groups[k]);
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

int
report_capacity_build(struct state *st, struct report *r, int fleet_chart,
    char **cause)
{
	size_t i;

	if (state_slice_list(st, slice_cb, r, cause) != 0 ||
	    state_report_snapshots(st, r->since, r->until, &r->series,
	    &r->nseries, cause) != 0)
		return -1;
	for (i = 0; i < r->nslices; i++)
		slice_model(r, &r->slices[i], state_report_series_find(
		    r->series, r->nseries, r->slices[i].id));
	make_groups(r);
	r->fleet.name = xstrdup("fleet");
	for (i = 0; i < r->nslices; i++)
		group_add(&r->fleet, &r->slices[i]);
	row_days(r, &r->fleet);
	r->needed = stats_capacity_needed(r->fleet.projected, r->target,
	    (double)r->fleet.capacity);
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

/* Rows in the order they fill: hard limit first, then target, name. */
static int
forecast_cmp(const void *a, const void *b)
{
	const struct report_row *x = *(const struct report_row *const *)a;
	const struct report_row *y = *(const struct report_row *const *)b;

	if (sooner(x->to_hard) != sooner(y->to_hard))
		return sooner(x->to_hard) < sooner(y->to_hard) ? -1 : 1;
	if (sooner(x->to_target) != sooner(y->to_target))
		return sooner(x->to_target) < sooner(y->to_target) ? -1 : 1;
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

/* Text shared by the writers. */

/* Bytes with a sign for growth: "+1.5 GiB", "-200 B", "0 B". */
const char *
report_signed_size(double v, char *buf, size_t len)
{
	char s[32];
	uint64_t a = (uint64_t)llround(fabs(v));

	if (a == 0)
		snprintf(buf, len, "0 B");
	else
		snprintf(buf, len, "%c%s", v < 0 ? '-' : '+',
		    size_format(a, s, sizeof s));
	return buf;
}

const char *
report_trend(const struct report_row *row)
{
	if (!row->growth.ok)
		return "not enough history";
	if (row->growth.per_day > 0)
		return "growing";
	if (row->growth.per_day < 0)
		return "shrinking";
	return "flat";
}

/* When a row reaches a fill: "now", "55d", "never", "-" (unknown). */
const char *
report_days_text(const struct report_row *row, double days, char *buf,
    size_t len)
{
	if (days == 0)
		return "now";
	if (days < 0)
		return row->growth.ok && row->capacity > 0 && !(row->retired &&
		    row->slices == 1) ? "never" : "-";
	if (days > REPORT_FAR_DAYS)
		return ">100y";
	if (days < 10)
		snprintf(buf, len, "%.1fd", floor(days * 10 + 1e-6) / 10);
	else
		snprintf(buf, len, "%.0fd", floor(days + 1e-6));
	return buf;
}

/* The UTC time days from now, or NULL for never or too far. */
const char *
report_days_time(const struct report *r, double days, char *buf, size_t len)
{
	if (days < 0 || days > REPORT_FAR_DAYS)
		return NULL;
	return time_format(r->now + (int64_t)llround(days * STATS_DAY), buf,
	    len);
}

/* The date part of report_days_time, or "-". */
const char *
report_days_date(const struct report *r, double days, char *buf, size_t len)
{
	if (report_days_time(r, days, buf, len) == NULL)
		return "-";
	if (strlen(buf) > 10)
		buf[10] = '\0';
	return buf;
}

/* A description of the range for notes: "since ... until ...". */
const char *
report_range_text(const struct report *r, char *buf, size_t len)
{
	char a[32], b[32];

	if (r->since == INT64_MIN && r->until == INT64_MAX)
		snprintf(buf, len, "over all history");
	else if (r->until == INT64_MAX)
		snprintf(buf, len, "since %s", time_format(r->since, a,
		    sizeof a));
	else if (r->since == INT64_MIN)
		snprintf(buf, len, "until %s", time_format(r->until, b,
		    sizeof b));
	else
		snprintf(buf, len, "between %s and %s", time_format(r->since,
		    a, sizeof a), time_format(r->until, b, sizeof b));
	return buf;
}

const char *
report_duration_text(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh %02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd %02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return buf;
}

const char *
report_rate_text(double rate, char *buf, size_t len)
{
	char s[32];

	if (rate < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/s", size_format((uint64_t)llround(rate),
		    s, sizeof s));
	return buf;
}
