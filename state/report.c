/* Usage snapshots and move history for the capacity reports. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/report.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/*
 * Slice ids to the index of their series while rows come in table order:
 * open addressing, kept at most half full.
 */
struct series_map {
	int64_t	*id;
	size_t	*at;
	size_t	 cap;			/* a power of two */
	size_t	 n;
};

static size_t
map_slot(const struct series_map *m, int64_t id)
{
	uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);
	size_t i = (size_t)(h >> 20) & (m->cap - 1);

	while (m->at[i] != SIZE_MAX && m->id[i] != id)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* The index of id's series, or next after adding it as that. */
static size_t
map_get(struct series_map *m, int64_t id, size_t next)
{
	struct series_map g;
	size_t i, k;

	if (2 * (m->n + 1) > m->cap) {
		g.cap = m->cap ? 2 * m->cap : 64;
		g.n = m->n;
		g.id = xcalloc(g.cap, sizeof *g.id);
		g.at = xcalloc(g.cap, sizeof *g.at);
		for (i = 0; i < g.cap; i++)
			g.at[i] = SIZE_MAX;
		for (i = 0; i < m->cap; i++) {
			if (m->at[i] == SIZE_MAX)
				continue;
			k = map_slot(&g, m->id[i]);
			g.id[k] = m->id[i];
			g.at[k] = m->at[i];
		}
		free(m->id);
		free(m->at);
		*m = g;
	}
	k = map_slot(m, id);
	if (m->at[k] == SIZE_MAX) {
		m->id[k] = id;
		m->at[k] = next;
		m->n++;
	}
	return m->at[k];
}

static void
map_free(struct series_map *m)
{
	free(m->id);
	free(m->at);
}

static int
point_cmp(const void *a, const void *b)
{
	const struct state_report_point *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
series_cmp(const void *a, const void *b)
{
	const struct state_report_series *x = a, *y = b;

	return x->slice_id < y->slice_id ? -1 : x->slice_id > y->slice_id;
}

int
state_report_snapshots(struct state *st, int64_t since, int64_t until,
    struct state_report_series **out, size_t *n, char **cause)
{
	struct state_report_series *v = NULL, *cur;
	struct state_report_point *p;
	struct series_map map = { NULL, NULL, 0, 0 };
	struct db_stmt *stmt;
	size_t nv = 0, capv = 0, k, i, *capp = NULL;
	int rc, sorted;

	*out = NULL;
	*n = 0;
	/*
	 * Read in table order and put in order here: a scan beats walking
	 * the (slice_id, ts) index with a table lookup per row on SQLite
	 * (whose planner needs telling), and the sort by slice and time
	 * costs SQLite more than the scan (0.35 s of 0.45 s for 730,000
	 * snapshots); snapshots mostly come in time order already.
	 */
#define SNAPSHOTS(hint) "SELECT slice_id, ts, bytes, files, accounts, " \
	"capacity, id FROM snapshots" hint " WHERE ts >= ? AND ts <= ?"
	if ((stmt = st_prepare(st, st->engine == DB_SQLITE ?
	    SNAPSHOTS(" NOT INDEXED") : SNAPSHOTS(""), cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, since);
	db_bind_int64(stmt, 2, until);
	while ((rc = db_step(stmt)) == DB_ROW) {
		k = map_get(&map, db_column_int64(stmt, 0), nv);
		if (k == nv) {
			if (nv == capv) {
				capv = capv ? capv * 2 : 16;
				v = xrealloc(v, capv * sizeof *v);
				capp = xrealloc(capp, capv * sizeof *capp);
			}
			memset(&v[nv], 0, sizeof *v);
			v[nv].slice_id = db_column_int64(stmt, 0);
			capp[nv++] = 0;
		}
		cur = &v[k];
		if (cur->n == capp[k]) {
			capp[k] = capp[k] ? capp[k] * 2 : 64;
			cur->p = xrealloc(cur->p, capp[k] * sizeof *cur->p);
		}
		p = &cur->p[cur->n++];
		p->ts = db_column_int64(stmt, 1);
		p->bytes = (uint64_t)db_column_int64(stmt, 2);
		p->files = (uint64_t)db_column_int64(stmt, 3);
		p->accounts = db_column_int64(stmt, 4);
		p->capacity = (uint64_t)db_column_int64(stmt, 5);
		p->id = db_column_int64(stmt, 6);
	}
	db_finalize(stmt);
	map_free(&map);
	free(capp);
	if (rc != DB_DONE) {
		state_report_series_free(v, nv);
		return st_fail(st, cause, "reading usage snapshots");
	}
	for (k = 0; k < nv; k++) {
		for (sorted = 1, i = 1; sorted && i < v[k].n; i++)
			sorted = point_cmp(&v[k].p[i - 1], &v[k].p[i]) <= 0;
		if (!sorted)
			qsort(v[k].p, v[k].n, sizeof *v[k].p, point_cmp);
	}
	if (nv > 0)
		qsort(v, nv, sizeof *v, series_cmp);
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

static int
load_day_cmp(const void *a, const void *b)
{
	const struct state_report_load_day *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

static int
load_series_cmp(const void *a, const void *b)
{
	const struct state_report_load_series *x = a, *y = b;

	return x->slice_id < y->slice_id ? -1 : x->slice_id > y->slice_id;
}

/* Put a series' days in order and merge the ones that came apart. */
static void
load_days_order(struct state_report_load_series *s)
{
	size_t i, k;

	for (i = 1; i < s->n; i++) {
		if (s->d[i - 1].day >= s->d[i].day)
			break;
	}
	if (i == s->n)
		return;
	qsort(s->d, s->n, sizeof *s->d, load_day_cmp);
	for (k = 0, i = 1; i < s->n; i++) {
		if (s->d[i].day == s->d[k].day) {
			s->d[k].ops += s->d[i].ops;
			s->d[k].bytes += s->d[i].bytes;
			s->d[k].ms += s->d[i].ms;
		} else
			s->d[++k] = s->d[i];
	}
	s->n = k + 1;
}

int
state_report_load_days(struct state *st, int64_t since, int64_t until,
    struct state_report_load_series **out, size_t *n, char **cause)
{
	struct state_report_load_series *v = NULL, *cur;
	struct state_report_load_day *d;
	struct series_map map = { NULL, NULL, 0, 0 };
	struct db_stmt *stmt;
	size_t nv = 0, capv = 0, k, *capd = NULL;
	int64_t ts, day;
	int rc;

	*out = NULL;
	*n = 0;
	/* As for the snapshots: a scan in table order (intervals are
	 * recorded in time order), summed per day here. */
#define LOAD_ROWS(hint) "SELECT slice_id, ts, ops, bytes, ms FROM loads" \
	hint " WHERE ts >= ? AND ts <= ?"
	if ((stmt = st_prepare(st, st->engine == DB_SQLITE ?
	    LOAD_ROWS(" NOT INDEXED") : LOAD_ROWS(""), cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, since);
	db_bind_int64(stmt, 2, until);
	while ((rc = db_step(stmt)) == DB_ROW) {
		k = map_get(&map, db_column_int64(stmt, 0), nv);
		if (k == nv) {
			if (nv == capv) {
				capv = capv ? capv * 2 : 16;
				v = xrealloc(v, capv * sizeof *v);
				capd = xrealloc(capd, capv * sizeof *capd);
			}
			memset(&v[nv], 0, sizeof *v);
			v[nv].slice_id = db_column_int64(stmt, 0);
			capd[nv++] = 0;
		}
		cur = &v[k];
		ts = db_column_int64(stmt, 1);
		day = (ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400)) * 86400;
		if (cur->n == 0 || cur->d[cur->n - 1].day != day) {
			if (cur->n == capd[k]) {
				capd[k] = capd[k] ? capd[k] * 2 : 64;
				cur->d = xrealloc(cur->d, capd[k] *
				    sizeof *cur->d);
			}
			d = &cur->d[cur->n++];
			memset(d, 0, sizeof *d);
			d->day = day;
		} else
			d = &cur->d[cur->n - 1];
		d->ops += (uint64_t)db_column_int64(stmt, 2);
		d->bytes += (uint64_t)db_column_int64(stmt, 3);
		d->ms += db_column_int64(stmt, 4);
	}
	db_finalize(stmt);
	map_free(&map);
	free(capd);
	if (rc != DB_DONE) {
		state_report_load_series_free(v, nv);
		return st_fail(st, cause, "reading loads");
	}
	for (k = 0; k < nv; k++)
		load_days_order(&v[k]);
	if (nv > 0)
		qsort(v, nv, sizeof *v, load_series_cmp);
	*out = v;
	*n = nv;
	return 0;
}

void
state_report_load_series_free(struct state_report_load_series *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].d);
	free(v);
}

const struct state_report_load_series *
state_report_load_series_find(const struct state_report_load_series *v,
    size_t n, int64_t slice_id)
{
	size_t lo = 0, hi = n, mid;

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
