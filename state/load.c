/* Load of slices: raw counter readings and the intervals they give. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/load.h"
#include "state/fleet.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int
state_load_last(struct state *st, int64_t slice_id,
    struct state_io_reading *r, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	memset(r, 0, sizeof *r);
	if ((stmt = st_prepare(st, "SELECT io_source, io_ops, io_bytes, "
	    "io_at FROM slices WHERE id = ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	rc = db_step(stmt);
	if (rc == DB_ROW) {
		r->source = st_text(stmt, 0);
		r->ops = (uint64_t)db_column_int64(stmt, 1);
		r->bytes = (uint64_t)db_column_int64(stmt, 2);
		r->at_ms = db_column_int64(stmt, 3);
	}
	db_finalize(stmt);
	if (rc != DB_ROW && rc != DB_DONE)
		return st_fail(st, cause, "reading the slice's load counters");
	if (r->source == NULL)
		r->source = xstrdup("");
	return 0;
}

/* Counters are cumulative and unsigned; the catalog keeps them signed. */
static int64_t
clamp64(uint64_t v)
{
	return v > INT64_MAX ? (int64_t)(v & INT64_MAX) : (int64_t)v;
}

int
state_load_record(struct state *st, int64_t slice_id,
    const struct state_io_reading *raw, uint64_t ops, uint64_t bytes,
    int64_t ms, char **cause)
{
	struct db_stmt *stmt;
	const char *src = raw->source != NULL ? raw->source : "";

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE slices SET io_source = ?, "
	    "io_ops = ?, io_bytes = ?, io_at = ? WHERE id = ?", cause)) ==
	    NULL)
		goto bad;
	st_bind_text(stmt, 1, src);
	db_bind_int64(stmt, 2, clamp64(raw->ops));
	db_bind_int64(stmt, 3, clamp64(raw->bytes));
	db_bind_int64(stmt, 4, raw->at_ms);
	db_bind_int64(stmt, 5, slice_id);
	if (st_exec_stmt(st, stmt, cause, "storing load counters") != 0)
		goto bad;
	if (ms > 0) {
		if ((stmt = st_prepare(st, "INSERT INTO loads (ts, slice_id, "
		    "source, ops, bytes, ms) VALUES (?, ?, ?, ?, ?, ?)",
		    cause)) == NULL)
			goto bad;
		db_bind_int64(stmt, 1, raw->at_ms / 1000);
		db_bind_int64(stmt, 2, slice_id);
		st_bind_text(stmt, 3, src);
		db_bind_int64(stmt, 4, clamp64(ops));
		db_bind_int64(stmt, 5, clamp64(bytes));
		db_bind_int64(stmt, 6, ms);
		if (st_exec_stmt(st, stmt, cause, "recording load") != 0)
			goto bad;
	}
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_load_slices(struct state *st,
    void (*cb)(int64_t, const char *, const char *, const char *, void *),
    void *arg, char **cause)
{
	struct db_stmt *stmt;
	char *name, *path, *source;
	int rc;

	if ((stmt = st_prepare(st, "SELECT id, name, path, io_source FROM "
	    "slices WHERE state <> 'retired' AND health <> 'unresponsive' "
	    "ORDER BY id", cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		name = st_text(stmt, 1);
		path = st_text(stmt, 2);
		source = st_text(stmt, 3);
		cb(db_column_int64(stmt, 0), name, path, source ? source : "",
		    arg);
		free(name);
		free(path);
		free(source);
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading the slices");
	return 0;
}

int
state_load_advance(struct state *st, struct state_load_step *step,
    char **cause)
{
	const struct state_io_reading *raw = &step->raw;
	const char *src = raw->source != NULL ? raw->source : "";
	struct db_stmt *stmt;

	step->stale = 0;
	if ((stmt = st_prepare(st, "UPDATE slices SET io_source = ?, "
	    "io_ops = ?, io_bytes = ?, io_at = ? WHERE id = ? AND io_at = ?",
	    cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, src);
	db_bind_int64(stmt, 2, clamp64(raw->ops));
	db_bind_int64(stmt, 3, clamp64(raw->bytes));
	db_bind_int64(stmt, 4, raw->at_ms);
	db_bind_int64(stmt, 5, step->slice_id);
	db_bind_int64(stmt, 6, step->prev_at_ms);
	if (st_exec_stmt(st, stmt, cause, "storing load counters") != 0)
		return -1;
	if (db_changes(st->db) != 1) {
		/* Another writer got there first, or the slice is gone. */
		step->stale = 1;
		return 0;
	}
	if (step->ms <= 0)
		return 0;
	if ((stmt = st_prepare(st, "INSERT INTO loads (ts, slice_id, source, "
	    "ops, bytes, ms) VALUES (?, ?, ?, ?, ?, ?)", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, raw->at_ms / 1000);
	db_bind_int64(stmt, 2, step->slice_id);
	st_bind_text(stmt, 3, src);
	db_bind_int64(stmt, 4, clamp64(step->ops));
	db_bind_int64(stmt, 5, clamp64(step->bytes));
	db_bind_int64(stmt, 6, step->ms);
	return st_exec_stmt(st, stmt, cause, "recording load");
}

int
state_load_activity(struct state *st, int64_t slice_id, int64_t now,
    double *weight, int64_t *accounts, char **cause)
{
	struct state_fleet_account a;
	struct db_stmt *stmt;
	int64_t n = 0;
	double w = 0;
	int rc;

	*weight = 0;
	if (accounts != NULL)
		*accounts = 0;
	if ((stmt = st_prepare(st, "SELECT id, added_files, added_bytes, "
	    "added_at, logins, logins_prev, logins_since FROM accounts WHERE "
	    "slice_id = ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	memset(&a, 0, sizeof a);
	a.slice_id = slice_id;
	while ((rc = db_step(stmt)) == DB_ROW) {
		a.id = db_column_int64(stmt, 0);
		a.added_files = (uint64_t)db_column_int64(stmt, 1);
		a.added_bytes = (uint64_t)db_column_int64(stmt, 2);
		a.added_at = db_column_int64(stmt, 3);
		a.logins = (uint64_t)db_column_int64(stmt, 4);
		a.logins_prev = (uint64_t)db_column_int64(stmt, 5);
		a.logins_since = db_column_int64(stmt, 6);
		w += state_fleet_activity(&a, now, NULL, NULL);
		n++;
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading the activity of accounts");
	*weight = w;
	if (accounts != NULL)
		*accounts = n;
	return 0;
}

int
state_load_sum(struct state *st, int64_t slice_id, int64_t since,
    int64_t until, struct state_load_sum *s, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	memset(s, 0, sizeof *s);
	s->slice_id = slice_id;
	if ((stmt = st_prepare(st, "SELECT CAST(coalesce(sum(ops), 0) AS "
	    "BIGINT), CAST(coalesce(sum(bytes), 0) AS BIGINT), "
	    "CAST(coalesce(sum(ms), 0) AS BIGINT), count(*) FROM loads WHERE "
	    "slice_id = ? AND ts >= ? AND ts <= ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	db_bind_int64(stmt, 2, since);
	db_bind_int64(stmt, 3, until);
	if ((rc = db_step(stmt)) == DB_ROW) {
		s->ops = (uint64_t)db_column_int64(stmt, 0);
		s->bytes = (uint64_t)db_column_int64(stmt, 1);
		s->ms = db_column_int64(stmt, 2);
		s->samples = db_column_int64(stmt, 3);
	}
	db_finalize(stmt);
	if (rc != DB_ROW)
		return st_fail(st, cause, "summing loads");
	return 0;
}

void
state_load_series_free(struct state_load_series *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].source);
		free(s[i].p);
	}
	free(s);
}

int
state_load_series(struct state *st, int64_t since, int64_t until,
    struct state_load_series **out, size_t *n, char **cause)
{
	struct state_load_series *v = NULL, *cur = NULL;
	struct state_load_point *pt;
	struct db_stmt *stmt;
	size_t nv = 0, cap = 0;
	int64_t id;
	int rc;

	*out = NULL;
	*n = 0;
	if ((stmt = st_prepare(st, "SELECT slice_id, ts, ops, bytes, ms, "
	    "source FROM loads WHERE ts >= ? AND ts <= ? ORDER BY slice_id, "
	    "ts, id", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, since);
	db_bind_int64(stmt, 2, until);
	while ((rc = db_step(stmt)) == DB_ROW) {
		id = db_column_int64(stmt, 0);
		if (cur == NULL || cur->slice_id != id) {
			v = xrealloc(v, (nv + 1) * sizeof *v);
			cur = &v[nv++];
			memset(cur, 0, sizeof *cur);
			cur->slice_id = id;
			cap = 0;
		}
		if (cur->n == cap) {
			cap = cap ? cap * 2 : 64;
			cur->p = xrealloc(cur->p, cap * sizeof *cur->p);
		}
		pt = &cur->p[cur->n++];
		pt->ts = db_column_int64(stmt, 1);
		pt->ops = (uint64_t)db_column_int64(stmt, 2);
		pt->bytes = (uint64_t)db_column_int64(stmt, 3);
		pt->ms = db_column_int64(stmt, 4);
		free(cur->source);
		cur->source = st_text(stmt, 5);
	}
	db_finalize(stmt);
	if (rc != DB_DONE) {
		state_load_series_free(v, nv);
		return st_fail(st, cause, "reading loads");
	}
	*out = v;
	*n = nv;
	return 0;
}

const struct state_load_series *
state_load_series_find(const struct state_load_series *s, size_t n,
    int64_t slice_id)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s[mid].slice_id == slice_id)
			return &s[mid];
		if (s[mid].slice_id < slice_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

double
state_load_ops_rate(const struct state_load_sum *s)
{
	return s->ms > 0 ? (double)s->ops * 1000.0 / (double)s->ms : 0;
}

double
state_load_bytes_rate(const struct state_load_sum *s)
{
	return s->ms > 0 ? (double)s->bytes * 1000.0 / (double)s->ms : 0;
}

int
state_load_sums(struct state *st, int64_t since, int64_t until,
    void (*cb)(const struct state_load_sum *, void *), void *arg,
    char **cause)
{
	struct state_load_sum s;
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, "SELECT slice_id, "
	    "CAST(sum(ops) AS BIGINT), CAST(sum(bytes) AS BIGINT), "
	    "CAST(sum(ms) AS BIGINT), count(*) FROM loads WHERE ts >= ? AND "
	    "ts <= ? GROUP BY slice_id ORDER BY slice_id", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, since);
	db_bind_int64(stmt, 2, until);
	while ((rc = db_step(stmt)) == DB_ROW) {
		s.slice_id = db_column_int64(stmt, 0);
		s.ops = (uint64_t)db_column_int64(stmt, 1);
		s.bytes = (uint64_t)db_column_int64(stmt, 2);
		s.ms = db_column_int64(stmt, 3);
		s.samples = db_column_int64(stmt, 4);
		cb(&s, arg);
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "summing loads");
	return 0;
}
