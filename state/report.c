/* Usage snapshots and move history for the capacity reports. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/report.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int
state_report_snapshots(struct state *st, int64_t since, int64_t until,
    struct state_report_series **out, size_t *n, char **cause)
{
	struct state_report_series *v = NULL, *cur = NULL;
	struct state_report_point *p;
	struct db_stmt *stmt;
	size_t nv = 0, capv = 0, capp = 0;
	int64_t slice;
	int rc;

	*out = NULL;
	*n = 0;
	/*
	 * Snapshots are stored in the order they were taken: one scan and a
	 * sort beats walking the (slice_id, ts) index with a table lookup
	 * per row (0.2 s against 0.7 s for 730,000 snapshots) on SQLite,
	 * whose planner needs telling; PostgreSQL's chooses by itself.
	 */
#define SNAPSHOTS(hint) "SELECT slice_id, ts, bytes, files, accounts, " \
	"capacity FROM snapshots" hint " WHERE ts >= ? AND ts <= ? ORDER BY " \
	"slice_id, ts, id"
	if ((stmt = st_prepare(st, st->engine == DB_SQLITE ?
	    SNAPSHOTS(" NOT INDEXED") : SNAPSHOTS(""), cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, since);
	db_bind_int64(stmt, 2, until);
	while ((rc = db_step(stmt)) == DB_ROW) {
		slice = db_column_int64(stmt, 0);
		if (cur == NULL || cur->slice_id != slice) {
			if (nv == capv) {
				capv = capv ? capv * 2 : 16;
				v = xrealloc(v, capv * sizeof *v);
			}
			cur = &v[nv++];
			memset(cur, 0, sizeof *cur);
			cur->slice_id = slice;
			capp = 0;
		}
		if (cur->n == capp) {
			capp = capp ? capp * 2 : 64;
			cur->p = xrealloc(cur->p, capp * sizeof *cur->p);
		}
		p = &cur->p[cur->n++];
		p->ts = db_column_int64(stmt, 1);
		p->bytes = (uint64_t)db_column_int64(stmt, 2);
		p->files = (uint64_t)db_column_int64(stmt, 3);
		p->accounts = db_column_int64(stmt, 4);
		p->capacity = (uint64_t)db_column_int64(stmt, 5);
	}
	db_finalize(stmt);
	if (rc != DB_DONE) {
		state_report_series_free(v, nv);
		return st_fail(st, cause, "reading usage snapshots");
	}
	*out = v;
	*n = nv;
	return 0;
}

void
state_report_series_free(struct state_report_series *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].p);
	free(v);
}

const struct state_report_series *
state_report_series_find(const struct state_report_series *v, size_t n,
    int64_t slice_id)
{
	size_t lo = 0, hi = n, mid;

	/* The array is in slice id order. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].slice_id == slice_id)
			return &v[mid];
		if (v[mid].slice_id < slice_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
state_report_moves(struct state *st, int64_t since, int64_t until,
    struct state_report_move **out, size_t *n, char **cause)
{
	struct state_report_move *v = NULL, *m;
	struct db_stmt *stmt;
	size_t nv = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((stmt = st_prepare(st, "SELECT m.id, a.\"user\", ss.name, ts.name, "
	    "m.state, m.bytes_total, m.files_total, m.passes, m.attempts, "
	    "coalesce(m.lock_ms, -1), m.copy_ms, m.error, m.created, "
	    "coalesce(m.started, 0), coalesce(m.finished, 0) FROM moves m "
	    "JOIN accounts a ON a.id = m.account_id "
	    "JOIN slices ss ON ss.id = m.source_slice "
	    "JOIN slices ts ON ts.id = m.target_slice "
	    "WHERE m.created >= ? AND m.created <= ? "
	    "ORDER BY m.created, m.id", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, since);
	db_bind_int64(stmt, 2, until);
	while ((rc = db_step(stmt)) == DB_ROW) {
		if (nv == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof *v);
		}
		m = &v[nv++];
		m->id = db_column_int64(stmt, 0);
		m->user = st_text(stmt, 1);
		m->source = st_text(stmt, 2);
		m->target = st_text(stmt, 3);
		if (state_move_state_parse((const char *)
		    db_column_text(stmt, 4), &m->state) != 0)
			m->state = MOVE_FAILED;
		m->bytes = (uint64_t)db_column_int64(stmt, 5);
		m->files = (uint64_t)db_column_int64(stmt, 6);
		m->passes = db_column_int64(stmt, 7);
		m->attempts = db_column_int64(stmt, 8);
		m->lock_ms = db_column_int64(stmt, 9);
		m->copy_ms = db_column_int64(stmt, 10);
		m->error = st_text(stmt, 11);
		m->created = db_column_int64(stmt, 12);
		m->started = db_column_int64(stmt, 13);
		m->finished = db_column_int64(stmt, 14);
	}
	db_finalize(stmt);
	if (rc != DB_DONE) {
		state_report_moves_free(v, nv);
		return st_fail(st, cause, "reading moves");
	}
	*out = v;
	*n = nv;
	return 0;
}

void
state_report_moves_free(struct state_report_move *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].user);
		free(v[i].source);
		free(v[i].target);
		free(v[i].error);
	}
	free(v);
}
