/* The reports as JSON: see report_write.h. */
#define _GNU_SOURCE
#include "cli/report.h"
#include "cli/report_write.h"
#include "common/json.h"
#include "common/stats.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
json_time(struct json *j, const char *key, int64_t t)
{
	char buf[32];

	if (t == INT64_MIN || t == INT64_MAX || t <= 0)
		json_null(j, key);
	else
		json_string(j, key, time_format(t, buf, sizeof buf));
}

static void
json_days(struct json *j, const char *days_key, const char *date_key,
    const struct report *r, double days)
{
	char buf[32];

	if (days < 0)
		json_null(j, days_key);
	else
		json_double(j, days_key, days);
	json_string(j, date_key, report_days_time(r, days, buf, sizeof buf));
}

static void
json_num(struct json *j, const char *key, double v, int known)
{
	if (known && isfinite(v))
		json_double(j, key, v);
	else
		json_null(j, key);
}

static const char *
evac_status(const struct report_row *row)
{
	return evacuation_status_name(row->evac.status);
}

/* The load, evacuation and restore members of a row. */
static void
load_json(struct json *j, const struct report *r,
    const struct report_row *row, int slice, int forecast)
{
	int known = row->load_slices > 0, gone = slice && row->retired;

	json_num(j, "ops_per_second", row->ops, known);
	if (known)
		json_int(j, "load_bytes_per_second", llround(row->load_bytes));
	else
		json_null(j, "load_bytes_per_second");
	json_uint(j, "ops_capacity", row->ops_capacity);
	if (!slice)
		json_int(j, "load_slices", row->load_slices);
	json_num(j, "load", report_load_fill(row), known);
	json_string(j, "load_trend", report_load_trend(row));
	json_num(j, "load_growth_ops_per_day", row->load_growth.per_day,
	    known && row->load_growth.ok);
	json_days(j, "days_to_load_target", "load_target_date", r,
	    row->load_to_target);
	json_days(j, "days_to_load_hard_limit", "load_hard_limit_date", r,
	    row->load_to_hard);
	if (row->evac.seconds >= 0 && !gone)
		json_int(j, "evacuation_seconds", row->evac.seconds);
	else
		json_null(j, "evacuation_seconds");
	json_string(j, "evacuation", evac_status(row));
	json_string(j, "unthrottled", row->evac.unthrottled[0] ?
	    row->evac.unthrottled : NULL);
	if (gone)
		json_null(j, "restore_seconds");
	else
		json_int(j, "restore_seconds", row->evac.restore);
	if (slice) {
		json_bool(j, "flagged", row->evac.flagged);
		if (gone)
			json_null(j, "split_into");
		else
			json_int(j, "split_into", row->evac.split);
	} else
		json_int(j, "flagged_slices", row->flagged);
	if (!forecast)
		return;
	json_num(j, "projected_ops_per_second", row->load_projected, known);
	json_object_open(j, "add_slices");
	if (row->add_slices >= 0)
		json_int(j, "count", row->add_slices);
	else
		json_null(j, "count");
	if (row->add_for_bytes >= 0)
		json_int(j, "for_bytes", row->add_for_bytes);
	else
		json_null(j, "for_bytes");
	json_int(j, "for_load", row->add_for_load);
	json_days(j, "days", "by", r, row->add_by);
	json_object_close(j);
}

static void
row_json(struct json *j, const struct report *r,
    const struct report_row *row, int slice, int forecast)
{
	json_string(j, "name", row->name);
	if (slice) {
		json_string(j, "pair", row->pair);
		json_string(j, "server", row->server);
		json_string(j, "state", row->state);
	} else
		json_int(j, "slices", row->slices);
	json_int(j, "accounts", row->accounts);
	json_uint(j, "files", row->files);
	json_uint(j, "used", row->used);
	json_uint(j, "capacity", row->capacity);
	if (row->capacity > 0)
		json_double(j, "fill", (double)row->used /
		    (double)row->capacity);
	else
		json_null(j, "fill");
	json_uint(j, "snapshots", row->growth.points);
	json_time(j, "first_snapshot", row->growth.first);
	json_time(j, "last_snapshot", row->growth.last);
	json_string(j, "trend", report_trend(row));
	if (row->growth.ok)
		json_int(j, "growth_bytes_per_day",
		    (int64_t)llround(row->growth.per_day));
	else
		json_null(j, "growth_bytes_per_day");
	json_days(j, "days_to_target", "target_date", r, row->to_target);
	json_days(j, "days_to_hard_limit", "hard_limit_date", r,
	    row->to_hard);
	if (forecast) {
		json_uint(j, "projected_used",
		    (uint64_t)llround(row->projected));
		json_uint(j, "needed_capacity", (uint64_t)llround(
		    row->projected / r->target));
		json_uint(j, "additional_capacity", (uint64_t)llround(
		    stats_capacity_needed(row->projected, r->target,
		    (double)row->capacity)));
	}
	load_json(j, r, row, slice, forecast);
}

static void
json_head(struct json *j, const struct report *r, const char *kind)
{
	char buf[32];

	json_object_open(j, NULL);
	json_string(j, "report", kind);
	json_string(j, "generated", time_format(r->now, buf, sizeof buf));
	json_time(j, "since", r->since);
	json_time(j, "until", r->until);
}

void
report_json_capacity(FILE *f, const struct report *r, int forecast)
{
	const struct report_row **v = NULL;
	struct json j;
	size_t i;

	json_init(&j, f);
	json_head(&j, r, forecast ? "forecast" : "usage");
	json_string(&j, "by", report_by_name(r->by));
	json_double(&j, "target_fill", r->target);
	json_double(&j, "hard_limit", r->hard);
	json_double(&j, "load_target", r->load_target);
	json_double(&j, "load_hard_limit", r->load_hard);
	json_int(&j, "load_window_seconds", r->load_window);
	json_uint(&j, "restore_rate", r->evac.restore_rate);
	json_uint(&j, "max_restore_seconds", r->evac.max_restore);
	json_uint(&j, "evacuation_streams", r->evac.streams);
	if (forecast) {
		json_int(&j, "days", r->days);
		if (r->add_size > 0)
			json_uint(&j, "slice_size", r->add_size);
		else
			json_null(&j, "slice_size");
		json_uint(&j, "slice_ops", r->add_ops);
		v = report_forecast_order(r);
	}
	json_array_open(&j, "rows");
	for (i = 0; i < r->ngroups; i++) {
		json_object_open(&j, NULL);
		row_json(&j, r, v ? v[i] : &r->groups[i],
		    r->by == REPORT_BY_SLICE, forecast);
		json_object_close(&j);
	}
	json_array_close(&j);
	free(v);
	json_object_open(&j, "total");
	row_json(&j, r, &r->fleet, 0, forecast);
	json_object_close(&j);
	json_object_close(&j);
	json_end(&j);
}

static void
json_ms(struct json *j, const char *key, double v)
{
	if (isnan(v))
		json_null(j, key);
	else
		json_double(j, key, v);
}

void
report_json_moves(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	struct json j;
	int64_t s;
	size_t i;

	json_init(&j, f);
	json_head(&j, r, "moves");
	json_array_open(&j, "moves");
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		s = report_move_seconds(m);
		json_object_open(&j, NULL);
		json_int(&j, "id", m->id);
		json_string(&j, "user", m->user);
		json_string(&j, "from", m->source);
		json_string(&j, "to", m->target);
		json_string(&j, "state", state_move_state_name(m->state));
		json_time(&j, "created", m->created);
		json_time(&j, "started", m->started);
		json_time(&j, "finished", m->finished);
		json_uint(&j, "bytes", m->bytes);
		json_uint(&j, "files", m->files);
		if (s >= 0)
			json_int(&j, "duration_seconds", s);
		else
			json_null(&j, "duration_seconds");
		if (report_move_rate(m) >= 0)
			json_int(&j, "rate_bytes_per_second",
			    llround(report_move_rate(m)));
		else
			json_null(&j, "rate_bytes_per_second");
		json_int(&j, "passes", m->passes);
		if (m->lock_ms >= 0)
			json_int(&j, "lock_ms", m->lock_ms);
		else
			json_null(&j, "lock_ms");
		json_int(&j, "retries", m->attempts);
		json_string(&j, "error", m->error);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_open(&j, "total");
	json_uint(&j, "moves", t->moves);
	json_uint(&j, "done", t->done);
	json_uint(&j, "failed", t->failed);
	json_uint(&j, "cancelled", t->cancelled);
	json_uint(&j, "open", t->open);
	json_uint(&j, "bytes", t->bytes);
	json_uint(&j, "files", t->files);
	json_int(&j, "duration_seconds", t->seconds);
	if (t->rate >= 0)
		json_int(&j, "rate_bytes_per_second", llround(t->rate));
	else
		json_null(&j, "rate_bytes_per_second");
	json_int(&j, "passes", t->passes);
	json_int(&j, "retries", t->retries);
	json_object_open(&j, "lock_ms");
	json_uint(&j, "count", t->locks);
	json_ms(&j, "median", t->lock_median);
	json_ms(&j, "p95", t->lock_p95);
	json_ms(&j, "max", t->lock_max);
	json_object_close(&j);
	json_array_open(&j, "failures");
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		if (m->state != MOVE_FAILED)
			continue;
		json_object_open(&j, NULL);
		json_int(&j, "id", m->id);
		json_string(&j, "user", m->user);
		json_time(&j, "finished", m->finished);
		json_string(&j, "error", m->error);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_close(&j);
	json_object_close(&j);
	json_end(&j);
}
