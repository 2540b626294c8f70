/*
 * The reports as CSV (RFC 4180): a header row, then bytes, seconds and
 * UTC times, a level column telling the kinds of rows apart. See
 * report_write.h.
 */
#define _GNU_SOURCE
#include "cli/report.h"
#include "cli/report_write.h"
#include "common/stats.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
csv_str(FILE *f, const char *s, int last)
{
	const char *p;

	if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else if (s != NULL)
		fputs(s, f);
	fputc(last ? '\n' : ',', f);
}

static void
csv_int(FILE *f, int64_t v)
{
	fprintf(f, "%lld,", (long long)v);
}

/* A number with up to 10 significant digits, or empty for NAN/unknown. */
static void
csv_num(FILE *f, double v, int known)
{
	if (known && isfinite(v))
		fprintf(f, "%.10g", v);
	fputc(',', f);
}

static void
csv_time(FILE *f, int64_t t, int last)
{
	char buf[32];

	csv_str(f, t > 0 && t != INT64_MAX ? time_format(t, buf,
	    sizeof buf) : NULL, last);
}

static void
csv_days(FILE *f, const struct report *r, double days, int last)
{
	char buf[32];

	csv_num(f, days, days >= 0);
	csv_str(f, report_days_time(r, days, buf, sizeof buf), last);
}

static const char *
evac_status(const struct report_row *row)
{
	return evacuation_status_name(row->evac.status);
}

/* The load and evacuation columns, after the older ones. */
static void
load_csv(FILE *f, const struct report *r, const struct report_row *row,
    int forecast)
{
	int known = row->load_slices > 0, slice = row->slices == 1 &&
	    row->pair != NULL;
	char buf[32];

	csv_num(f, row->ops, known);
	csv_num(f, (double)llround(row->load_bytes), known);
	csv_int(f, (int64_t)row->ops_capacity);
	csv_int(f, row->load_slices);
	csv_num(f, report_load_fill(row), known);
	csv_str(f, report_load_trend(row), 0);
	csv_num(f, row->load_growth.per_day, known && row->load_growth.ok);
	csv_days(f, r, row->load_to_target, 0);
	csv_days(f, r, row->load_to_hard, 0);
	csv_num(f, (double)row->evac.seconds, row->evac.seconds >= 0 &&
	    !(row->retired && slice));
	csv_str(f, evac_status(row), 0);
	csv_num(f, (double)row->evac.restore, !(row->retired && slice));
	csv_int(f, row->flagged);
	csv_num(f, (double)row->evac.split, slice && !row->retired);
	csv_str(f, row->evac.unthrottled[0] ? row->evac.unthrottled : NULL,
	    !forecast);
	if (!forecast)
		return;
	csv_num(f, row->load_projected, known);
	csv_num(f, (double)row->add_slices, row->add_slices >= 0);
	csv_num(f, (double)row->add_for_bytes, row->add_for_bytes >= 0);
	csv_int(f, row->add_for_load);
	csv_str(f, report_days_time(r, row->add_by, buf, sizeof buf), 1);
}

static void
row_csv(FILE *f, const struct report *r, const struct report_row *row,
    const char *level, int forecast)
{
	csv_str(f, level, 0);
	csv_str(f, row->name, 0);
	csv_str(f, row->pair, 0);
	csv_str(f, row->server, 0);
	csv_str(f, row->state, 0);
	csv_int(f, row->slices);
	csv_int(f, row->accounts);
	csv_int(f, (int64_t)row->files);
	csv_int(f, (int64_t)row->used);
	csv_int(f, (int64_t)row->capacity);
	csv_num(f, row->capacity ? (double)row->used / (double)row->capacity :
	    0, row->capacity > 0);
	csv_int(f, (int64_t)row->growth.points);
	csv_time(f, row->growth.first, 0);
	csv_time(f, row->growth.last, 0);
	csv_str(f, report_trend(row), 0);
	if (row->growth.ok)
		csv_int(f, llround(row->growth.per_day));
	else
		fputc(',', f);
	csv_days(f, r, row->to_target, 0);
	csv_days(f, r, row->to_hard, 0);
	if (forecast) {
		csv_int(f, llround(row->projected));
		csv_int(f, llround(row->projected / r->target));
		csv_int(f, llround(stats_capacity_needed(row->projected,
		    r->target, (double)row->capacity)));
	}
	load_csv(f, r, row, forecast);
}

void
report_csv_capacity(FILE *f, const struct report *r, int forecast)
{
	const struct report_row **v = NULL;
	size_t i;

	fputs("level,name,pair,server,state,slices,accounts,files,"
	    "used_bytes,capacity_bytes,fill,snapshots,first_snapshot,"
	    "last_snapshot,trend,growth_bytes_per_day,days_to_target,"
	    "target_date,days_to_hard_limit,hard_limit_date", f);
	fputs(forecast ? ",projected_used_bytes,needed_capacity_bytes,"
	    "additional_capacity_bytes" : "", f);
	/* Newer columns go at the end: older readers keep working. */
	fputs(",ops_per_second,load_bytes_per_second,ops_capacity,"
	    "load_slices,load,load_trend,load_growth_ops_per_day,"
	    "days_to_load_target,load_target_date,days_to_load_hard_limit,"
	    "load_hard_limit_date,evacuation_seconds,evacuation_status,"
	    "restore_seconds,flagged,split_into,unthrottled", f);
	fputs(forecast ? ",projected_ops_per_second,add_slices,"
	    "add_slices_for_bytes,add_slices_for_load,add_by_date\n" : "\n",
	    f);
	if (forecast)
		v = report_forecast_order(r);
	for (i = 0; i < r->ngroups; i++)
		row_csv(f, r, v ? v[i] : &r->groups[i], report_by_name(r->by),
		    forecast);
	free(v);
	row_csv(f, r, &r->fleet, "fleet", forecast);
}

void
report_csv_moves(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	int64_t s;
	size_t i;

	fputs("level,id,user,from,to,state,created,started,finished,bytes,"
	    "files,duration_seconds,rate_bytes_per_second,passes,lock_ms,"
	    "retries,error,moves,done,failed,cancelled,open,lock_median_ms,"
	    "lock_p95_ms,lock_max_ms\n", f);
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		s = report_move_seconds(m);
		csv_str(f, "move", 0);
		csv_int(f, m->id);
		csv_str(f, m->user, 0);
		csv_str(f, m->source, 0);
		csv_str(f, m->target, 0);
		csv_str(f, state_move_state_name(m->state), 0);
		csv_time(f, m->created, 0);
		csv_time(f, m->started, 0);
		csv_time(f, m->finished, 0);
		csv_int(f, (int64_t)m->bytes);
		csv_int(f, (int64_t)m->files);
		csv_num(f, (double)s, s >= 0);
		csv_num(f, report_move_rate(m), report_move_rate(m) >= 0);
		csv_int(f, m->passes);
		csv_num(f, (double)m->lock_ms, m->lock_ms >= 0);
		csv_int(f, m->attempts);
		csv_str(f, m->error, 0);
		fputs(",,,,,,,\n", f);
	}
	/* The total: bytes, files and duration of the done moves. */
	fputs("total,,,,,,,,,", f);
	csv_int(f, (int64_t)t->bytes);
	csv_int(f, (int64_t)t->files);
	csv_int(f, t->seconds);
	csv_num(f, t->rate, t->rate >= 0);
	csv_int(f, t->passes);
	fputc(',', f);
	csv_int(f, t->retries);
	fputc(',', f);
	fprintf(f, "%zu,%zu,%zu,%zu,%zu,", t->moves, t->done, t->failed,
	    t->cancelled, t->open);
	csv_num(f, t->lock_median, t->locks > 0);
	csv_num(f, t->lock_p95, t->locks > 0);
	if (t->locks > 0)
		fprintf(f, "%.10g", t->lock_max);
	fputc('\n', f);
}
