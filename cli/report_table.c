/* The reports as aligned text tables with notes: see report_write.h. */
#define _GNU_SOURCE
#include "cli/output.h"
#include "cli/report.h"
#include "cli/report_write.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fill as "60.0%", with a bar "[######----]" on a terminal. */
static const char *
fill_cell(const struct report_row *row, int bar, char *buf, size_t len)
{
	char f[16];
	double x;
	int n;

	fill_format(row->used, row->capacity, f, sizeof f);
	if (!bar || row->capacity == 0) {
		snprintf(buf, len, "%s", f);
		return buf;
	}
	x = (double)row->used / (double)row->capacity;
	n = (int)lround(10 * (x > 1 ? 1 : x));
	snprintf(buf, len, "%6s [%.*s%.*s]", f, n, "##########", 10 - n,
	    "----------");
	return buf;
}

static const char *
count_cell(int64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

/* Slices without a trend, for the note under the tables. */
static size_t
without_history(const struct report *r, size_t *live)
{
	size_t i, n = 0;

	*live = 0;
	for (i = 0; i < r->nslices; i++) {
		if (r->slices[i].retired)
			continue;
		(*live)++;
		if (!r->slices[i].growth.ok)
			n++;
	}
	return n;
}

static void
history_note(FILE *f, const struct report *r)
{
	char range[96];
	size_t live, n = without_history(r, &live);

	if (n == 0)
		return;
	fprintf(f, "\nnot enough history for a trend on %zu of %zu slices "
	    "(snapshots %s): growth needs 2 snapshots at least a day apart; "
	    "each 'mailshift discover' records one\n", n, live,
	    report_range_text(r, range, sizeof range));
}

static const char *const no_slices = "no slices in the catalog yet: add "
    "them with 'mailshift slice add' and record their usage with "
    "'mailshift discover'";

static const char *
group_header(const struct report *r)
{
	return r->by == REPORT_BY_PAIR ? "PAIR" : r->by == REPORT_BY_SERVER ?
	    "SERVER" : "SLICE";
}

static void
usage_row(struct table *t, const struct report *r,
    const struct report_row *row, const char *name, int slice, int bar)
{
	char n1[24], n2[24], n3[24], used[32], cap[32], fill[40], growth[32];
	char d1[16], d2[16];
	const char *g = row->growth.ok ? report_signed_size(row->growth.per_day,
	    growth, sizeof growth) : "not enough history";
	const char *tt = report_days_text(row, row->to_target, d1, sizeof d1);
	const char *th = report_days_text(row, row->to_hard, d2, sizeof d2);

	(void)r;
	count_cell(row->accounts, n1, sizeof n1);
	count_cell((int64_t)row->files, n2, sizeof n2);
	size_format(row->used, used, sizeof used);
	size_format(row->capacity, cap, sizeof cap);
	fill_cell(row, bar, fill, sizeof fill);
	if (slice)
		table_add(t, (const char *[]){ name, row->pair ? row->pair :
		    "", row->server ? row->server : "", row->state ?
		    row->state : "", n1, n2, used, cap, fill, g, tt, th });
	else
		table_add(t, (const char *[]){ name, count_cell(row->slices,
		    n3, sizeof n3), n1, n2, used, cap, fill, g, tt, th });
}

void
report_table_usage(FILE *f, const struct report *r, int bars)
{
	int slice = r->by == REPORT_BY_SLICE;
	char th_t[24], th_h[24];
	struct table *t;
	size_t i;

	if (r->nslices == 0) {
		fprintf(f, "%s\n", no_slices);
		return;
	}
	snprintf(th_t, sizeof th_t, "TO %g%%", r->target * 100);
	snprintf(th_h, sizeof th_h, "TO %g%%", r->hard * 100);
	if (slice)
		t = table_new(12, (const char *[]){ "SLICE", "PAIR", "SERVER",
		    "STATE", "ACCOUNTS", "FILES", "USED", "CAPACITY", "FILL",
		    "GROWTH/DAY", th_t, th_h }, "llllrrrrrrrr");
	else
		t = table_new(10, (const char *[]){ group_header(r), "SLICES",
		    "ACCOUNTS", "FILES", "USED", "CAPACITY", "FILL",
		    "GROWTH/DAY", th_t, th_h }, "lrrrrrrrrr");
	for (i = 0; i < r->ngroups; i++)
		usage_row(t, r, &r->groups[i], r->groups[i].name, slice,
		    bars);
	usage_row(t, r, &r->fleet, "TOTAL", slice, bars);
	table_print(t, f);
	history_note(f, r);
}

static void
forecast_row(struct table *t, const struct report *r,
    const struct report_row *row, const char *name)
{
	char growth[32], d1[16], d2[16], t1[32], t2[32], fill[16], pf[16];
	const char *g = row->growth.ok ? report_signed_size(row->growth.per_day,
	    growth, sizeof growth) : "not enough history";

	fill_format(row->used, row->capacity, fill, sizeof fill);
	fill_format((uint64_t)llround(row->projected), row->capacity, pf,
	    sizeof pf);
	table_add(t, (const char *[]){ name, fill, g,
	    report_days_text(row, row->to_target, d1, sizeof d1),
	    report_days_date(r, row->to_target, t1, sizeof t1),
	    report_days_text(row, row->to_hard, d2, sizeof d2),
	    report_days_date(r, row->to_hard, t2, sizeof t2), pf });
}

void
report_table_forecast(FILE *f, const struct report *r)
{
	const struct report_row **v;
	char h[4][24], a[32], b[32], c[32], pf[16];
	struct table *t;
	size_t i;

	if (r->nslices == 0) {
		fprintf(f, "%s\n", no_slices);
		return;
	}
	snprintf(h[0], sizeof h[0], "TO %g%%", r->target * 100);
	snprintf(h[1], sizeof h[1], "%g%% ON", r->target * 100);
	snprintf(h[2], sizeof h[2], "TO %g%%", r->hard * 100);
	snprintf(h[3], sizeof h[3], "%g%% ON", r->hard * 100);
	snprintf(pf, sizeof pf, "FILL IN %dD", r->days);
	t = table_new(8, (const char *[]){ group_header(r), "FILL",
	    "GROWTH/DAY", h[0], h[1], h[2], h[3], pf }, "lrrrlrlr");
	v = report_forecast_order(r);
	for (i = 0; i < r->ngroups; i++)
		forecast_row(t, r, v[i], v[i]->name);
	forecast_row(t, r, &r->fleet, "TOTAL");
	free(v);
	table_print(t, f);
	fill_format((uint64_t)llround(r->fleet.projected), r->fleet.capacity,
	    pf, sizeof pf);
	fprintf(f, "\nin %d days the fleet would use %s of %s (%s)", r->days,
	    size_format((uint64_t)llround(r->fleet.projected), a, sizeof a),
	    size_format(r->fleet.capacity, b, sizeof b), pf);
	if (!r->fleet.growth.ok)
		fprintf(f, " (no trend yet: not enough history)");
	fprintf(f, "; staying below %g%% needs %s of capacity: ",
	    r->target * 100, size_format((uint64_t)llround(
	    r->fleet.projected / r->target), c, sizeof c));
	if (r->needed > 0)
		fprintf(f, "add %s\n", size_format((uint64_t)llround(
		    r->needed), a, sizeof a));
	else
		fprintf(f, "the %s there is enough\n", b);
	history_note(f, r);
}

void
report_table_moves(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	char id[24], created[32], bytes[32], files[24], dur[32], rate[32];
	char passes[24], lock[24], retries[24], range[96], a[32];
	struct table *tb;
	size_t i;

	if (r->nmoves == 0) {
		if (r->since == INT64_MIN && r->until == INT64_MAX)
			fprintf(f, "no moves in the catalog yet\n");
		else
			fprintf(f, "no moves created %s\n", report_range_text(
			    r, range, sizeof range));
		return;
	}
	tb = table_new(14, (const char *[]){ "ID", "USER", "FROM", "TO",
	    "STATE", "CREATED", "BYTES", "FILES", "DURATION", "RATE",
	    "PASSES", "LOCK", "RETRIES", "ERROR" }, "rllllllrrrrrrl");
	for (i = 0; i < r->nmoves; i++) {
		int64_t s;

		m = &r->moves[i];
		s = report_move_seconds(m);
		if (m->lock_ms >= 0)
			snprintf(lock, sizeof lock, "%lld ms",
			    (long long)m->lock_ms);
		else
			snprintf(lock, sizeof lock, "-");
		table_add(tb, (const char *[]){ count_cell(m->id, id,
		    sizeof id), m->user, m->source, m->target,
		    state_move_state_name(m->state),
		    time_format(m->created, created, sizeof created),
		    size_format(m->bytes, bytes, sizeof bytes),
		    count_cell((int64_t)m->files, files, sizeof files),
		    report_duration_text(s, dur, sizeof dur),
		    report_rate_text(report_move_rate(m), rate, sizeof rate),
		    count_cell(m->passes, passes,
		    sizeof passes), lock, count_cell(m->attempts, retries,
		    sizeof retries), m->error });
	}
	table_print(tb, f);
	if (r->since == INT64_MIN && r->until == INT64_MAX)
		fprintf(f, "\n%zu move%s:", t->moves, t->moves == 1 ? "" : "s");
	else
		fprintf(f, "\n%zu move%s created %s:", t->moves, t->moves == 1 ?
		    "" : "s", report_range_text(r, range, sizeof range));
	fprintf(f, " %zu done, %zu failed, %zu cancelled, %zu open\n",
	    t->done, t->failed, t->cancelled, t->open);
	fprintf(f, "moved %s in %llu files in %s (average %s), %lld passes, "
	    "%lld retries\n", size_format(t->bytes, bytes, sizeof bytes),
	    (unsigned long long)t->files, report_duration_text(t->seconds, dur,
	    sizeof dur), report_rate_text(t->rate, rate, sizeof rate),
	    (long long)t->passes, (long long)t->retries);
	if (t->locks > 0)
		fprintf(f, "cutover lock over %zu done move%s: median %g ms, "
		    "p95 %g ms, max %g ms\n", t->locks, t->locks == 1 ? "" :
		    "s", t->lock_median,
		    t->lock_p95, t->lock_max);
	else
		fprintf(f, "cutover lock: no done move yet\n");
	if (t->failed == 0)
		return;
	fprintf(f, "failures:\n");
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		if (m->state == MOVE_FAILED)
			fprintf(f, "  move %lld %s (%s -> %s) at %s: %s\n",
			    (long long)m->id, m->user, m->source, m->target,
			    time_format(m->finished, a, sizeof a),
			    m->error ? m->error : "no reason recorded");
	}
}
