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

static int
history_note(FILE *f, const struct report *r)
{
	char range[96];
	size_t live, n = without_history(r, &live);

	if (n == 0)
		return 0;
	fprintf(f, "\nnot enough history for a trend on %zu of %zu slices "
	    "(snapshots %s): growth needs 2 snapshots at least a day apart; "
	    "each 'mailshift discover' records one\n", n, live,
	    report_range_text(r, range, sizeof range));
	return 1;
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

/* Load fill as "12.0%", with a bar on a terminal; "-" unmeasured. */
static const char *
load_cell(const struct report_row *row, int bar, char *buf, size_t len)
{
	char f[16];
	double x = report_load_fill(row);
	int n;

	if (!bar || isnan(x))
		return report_load_fill_text(row, buf, len);
	report_load_fill_text(row, f, sizeof f);
	n = (int)lround(10 * (x > 1 ? 1 : x));
	snprintf(buf, len, "%6s [%.*s%.*s]", f, n, "##########", 10 - n,
	    "----------");
	return buf;
}

#define USAGE_COLS 19

static void
usage_row(struct table *t, const struct report *r,
    const struct report_row *row, const char *name, int slice, int bar)
{
	char n1[24], n2[24], n3[24], used[32], cap[32], fill[40], growth[32];
	char d1[16], d2[16], d3[16], d4[16], ops[24], load[40], ev[32];
	char rs[32], split[24];
	const char *g = row->growth.ok ? report_signed_size(row->growth.per_day,
	    growth, sizeof growth) : "not enough history";
	const char *tt = report_days_text(row, row->to_target, d1, sizeof d1);
	const char *th = report_days_text(row, row->to_hard, d2, sizeof d2);
	const char *lt = report_load_days_text(row, row->load_to_target, d3,
	    sizeof d3);
	const char *lh = report_load_days_text(row, row->load_to_hard, d4,
	    sizeof d4);
	const char *ops_s, *load_s, *ev_s;

	(void)r;
	count_cell(row->accounts, n1, sizeof n1);
	count_cell((int64_t)row->files, n2, sizeof n2);
	size_format(row->used, used, sizeof used);
	size_format(row->capacity, cap, sizeof cap);
	fill_cell(row, bar, fill, sizeof fill);
	ops_s = report_ops_text(row, row->ops, ops, sizeof ops);
	load_s = load_cell(row, bar, load, sizeof load);
	ev_s = report_evac_text(row, ev, sizeof ev);
	if (row->retired && row->slices == 1)
		snprintf(rs, sizeof rs, "-");
	else
		report_duration_text(row->evac.restore, rs, sizeof rs);
	if (slice && row->pair != NULL)
		snprintf(split, sizeof split, "%s", row->evac.flagged ?
		    count_cell(row->evac.split, n3, sizeof n3) : "-");
	else if (slice && row->flagged == 0)	/* the total of slices */
		snprintf(split, sizeof split, "-");
	else if (slice)
		snprintf(split, sizeof split, "%lld flagged",
		    (long long)row->flagged);
	else
		count_cell(row->flagged, split, sizeof split);
	if (slice)
		table_add(t, (const char *[]){ name, row->pair ? row->pair :
		    "", row->server ? row->server : "", row->state ?
		    row->state : "", n1, n2, used, cap, fill, ops_s, load_s,
		    g, tt, th, lt, lh, ev_s, rs, split });
	else
		table_add(t, (const char *[]){ name, count_cell(row->slices,
		    n3, sizeof n3), n1, n2, used, cap, fill, ops_s, load_s, g,
		    tt, th, lt, lh, ev_s, rs, split });
}

/* Slices with no load measured now, for the note under the tables. */
static void
load_note(FILE *f, const struct report *r)
{
	char w[32];
	size_t i, live = 0, n = 0;

	for (i = 0; i < r->nslices; i++) {
		if (r->slices[i].retired)
			continue;
		live++;
		n += r->slices[i].load_slices == 0;
	}
	if (n == 0)
		return;
	fprintf(f, "no load measured on %zu of %zu slices in the last %s "
	    "([capacity] load_window): their load shows '-'; the daemon's "
	    "sampler records it\n", n, live, report_duration_text(
	    r->load_window, w, sizeof w));
}

/* What the evacuation times assume, the ones not known, and the slices
 * over max_restore. */
static void
evac_note(FILE *f, const struct report *r)
{
	const struct report_row *s, *unknown = NULL;
	char a[32], b[32], why[256];
	size_t i, nflag = 0, nunknown = 0, listed = 0;

	for (i = 0; i < r->nslices; i++) {
		s = &r->slices[i];
		nflag += s->evac.flagged != 0;
		if (!s->retired && s->evac.seconds < 0) {
			nunknown++;
			if (unknown == NULL)
				unknown = s;
		}
	}
	fprintf(f, "evacuation: %llu move%s at once out of a slice at the "
	    "[throttle] and window rates; restore at %s ([capacity] "
	    "restore_rate)\n", (unsigned long long)r->evac.streams,
	    r->evac.streams == 1 ? "" : "s", report_rate_text((double)
	    r->evac.restore_rate, a, sizeof a));
	if (unknown != NULL)
		fprintf(f, "evacuation time not known for %zu slice%s: %s\n",
		    nunknown, nunknown == 1 ? "" : "s", report_evac_why(unknown,
		    why, sizeof why));
	if (nflag == 0)
		return;
	fprintf(f, "%zu slice%s take%s longer than %s ([capacity] "
	    "max_restore) to evacuate or restore; split %s into the SPLIT "
	    "count of slices:", nflag, nflag == 1 ? "" : "s", nflag == 1 ?
	    "s" : "", report_duration_text((int64_t)r->evac.max_restore, b,
	    sizeof b), nflag == 1 ? "it" : "each");
	for (i = 0; i < r->nslices && listed < 10; i++) {
		if (r->slices[i].evac.flagged) {
			fprintf(f, "%s %s", listed ? "," : "",
			    r->slices[i].name);
			listed++;
		}
	}
	fprintf(f, "%s\n", nflag > listed ? ", ..." : "");
}

void
report_table_usage(FILE *f, const struct report *r, int bars)
{
	int slice = r->by == REPORT_BY_SLICE;
	char th_t[24], th_h[24], lt_t[24], lt_h[24];
	struct table *t;
	size_t i;

	if (r->nslices == 0) {
		fprintf(f, "%s\n", no_slices);
		return;
	}
	snprintf(th_t, sizeof th_t, "TO %g%%", r->target * 100);
	snprintf(th_h, sizeof th_h, "TO %g%%", r->hard * 100);
	snprintf(lt_t, sizeof lt_t, "LOAD TO %g%%", r->load_target * 100);
	snprintf(lt_h, sizeof lt_h, "LOAD TO %g%%", r->load_hard * 100);
	if (slice)
		t = table_new(USAGE_COLS, (const char *[]){ "SLICE", "PAIR",
		    "SERVER", "STATE", "ACCOUNTS", "FILES", "USED", "CAPACITY",
		    "FILL", "OPS/S", "LOAD", "GROWTH/DAY", th_t, th_h, lt_t,
		    lt_h, "EVACUATE", "RESTORE", "SPLIT" },
		    "llllrrrrrrrrrrrrrrr");
	else
		t = table_new(USAGE_COLS - 2, (const char *[]){
		    group_header(r), "SLICES", "ACCOUNTS", "FILES", "USED",
		    "CAPACITY", "FILL", "OPS/S", "LOAD", "GROWTH/DAY", th_t,
		    th_h, lt_t, lt_h, "EVACUATE", "RESTORE", "FLAGGED" },
		    "lrrrrrrrrrrrrrrrr");
	for (i = 0; i < r->ngroups; i++)
		usage_row(t, r, &r->groups[i], r->groups[i].name, slice,
		    bars);
	usage_row(t, r, &r->fleet, "TOTAL", slice, bars);
	table_print(t, f);
	if (!history_note(f, r))
		fputc('\n', f);
	load_note(f, r);
	evac_note(f, r);
}

/* A load crossing as a date, "never" or "-". */
static const char *
load_date(const struct report *r, const struct report_row *row, double days,
    char *buf, size_t len)
{
	if (days < 0)
		return report_load_days_text(row, days, buf, len);
	return report_days_date(r, days, buf, len);
}

static void
forecast_row(struct table *t, const struct report *r,
    const struct report_row *row, const char *name)
{
	char growth[32], d1[16], d2[16], t1[32], t2[32], fill[16], pf[16];
	char load[16], lg[24], l1[32], l2[32], lp[16];
	const char *load_s, *lp_s;
	const char *g = row->growth.ok ? report_signed_size(row->growth.per_day,
	    growth, sizeof growth) : "not enough history";
	struct report_row proj = *row;

	fill_format(row->used, row->capacity, fill, sizeof fill);
	fill_format((uint64_t)llround(row->projected), row->capacity, pf,
	    sizeof pf);
	load_s = report_load_fill_text(row, load, sizeof load);
	proj.ops = row->load_projected;
	lp_s = report_load_fill_text(&proj, lp, sizeof lp);
	if (row->load_slices > 0 && row->load_growth.ok)
		report_signed_ops(row->load_growth.per_day, lg, sizeof lg);
	else
		snprintf(lg, sizeof lg, "%s", row->load_slices > 0 ?
		    "not enough history" : "-");
	table_add(t, (const char *[]){ name, fill, g,
	    report_days_text(row, row->to_target, d1, sizeof d1),
	    report_days_date(r, row->to_target, t1, sizeof t1),
	    report_days_text(row, row->to_hard, d2, sizeof d2),
	    report_days_date(r, row->to_hard, t2, sizeof t2), pf, load_s, lg,
	    load_date(r, row, row->load_to_target, l1, sizeof l1),
	    load_date(r, row, row->load_to_hard, l2, sizeof l2), lp_s });
}

/* The slices to add to stay below both targets. */
static void
add_note(FILE *f, const struct report *r)
{
	const struct report_row *fl = &r->fleet;
	char a[32], b[32];

	if (fl->load_slices > 0) {
		struct report_row proj = *fl;

		proj.ops = fl->load_projected;
		fprintf(f, "in %d days the fleet's load would be %s ops/s of "
		    "%llu ops/s on the %lld slices measured (%s)", r->days,
		    report_ops_text(fl, fl->load_projected, a, sizeof a),
		    (unsigned long long)fl->load_capacity,
		    (long long)fl->load_slices, report_load_fill_text(&proj,
		    b, sizeof b));
		if (!fl->load_growth.ok)
			fprintf(f, " (no load trend yet: not enough history)");
		fputs("\n", f);
	} else
		fprintf(f, "no load measured yet: the slices to add count "
		    "bytes only\n");
	fprintf(f, "to stay below %g%% fill and %g%% load for %d days: ",
	    r->target * 100, r->load_target * 100, r->days);
	if (fl->add_slices < 0) {
		fprintf(f, "no slice size to count in (no active slice): give "
		    "--slice-size\n");
		return;
	}
	if (fl->add_slices == 0) {
		fprintf(f, "no slice to add\n");
		return;
	}
	fprintf(f, "add %lld slice%s of %s and %llu ops/s by %s (%lld for "
	    "the bytes, %lld for the load)\n", (long long)fl->add_slices,
	    fl->add_slices == 1 ? "" : "s", size_format(r->add_size, a,
	    sizeof a), (unsigned long long)r->add_ops, fl->add_by == 0 ?
	    "now" : report_days_date(r, fl->add_by, b, sizeof b),
	    (long long)fl->add_for_bytes, (long long)fl->add_for_load);
}

void
report_table_forecast(FILE *f, const struct report *r)
{
	const struct report_row **v;
	char h[7][24], a[32], b[32], c[32], pf[16];
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
	snprintf(h[4], sizeof h[4], "LOAD %g%% ON", r->load_target * 100);
	snprintf(h[5], sizeof h[5], "LOAD %g%% ON", r->load_hard * 100);
	snprintf(h[6], sizeof h[6], "LOAD IN %dD", r->days);
	snprintf(pf, sizeof pf, "FILL IN %dD", r->days);
	t = table_new(13, (const char *[]){ group_header(r), "FILL",
	    "GROWTH/DAY", h[0], h[1], h[2], h[3], pf, "LOAD", "LOAD/DAY",
	    h[4], h[5], h[6] }, "lrrrlrlrrrlrr");
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
	add_note(f, r);
	history_note(f, r);
	load_note(f, r);
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
