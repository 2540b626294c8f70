/* Plans in the catalog: stored, listed, and applied as queued moves. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/plan.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define PLAN_BATCH 100

/* INSERT INTO plan_moves of rows rows. */
static char *
plan_moves_sql(size_t rows)
{
	static const char one[] = "(?, ?, ?, ?, ?, ?, ?, ?)";
	static const char head[] = "INSERT INTO plan_moves (plan_id, seq, "
	    "account_id, from_slice, to_slice, bytes, files, after_seq) "
	    "VALUES ";
	char *sql = xmalloc(sizeof head + rows * (sizeof one + 2)), *p;
	size_t i;

	p = stpcpy(sql, head);
	for (i = 0; i < rows; i++)
		p = stpcpy(stpcpy(p, i ? ", " : ""), one);
	return sql;
}

int
state_plan_store(struct state *st, const char *strategy, const char *params,
    const char *summary, const struct state_plan_move *m, size_t n,
    int64_t *id, char **cause)
{
	struct db_stmt *stmt;
	size_t i, j, k, rows;
	char *sql;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "INSERT INTO plans (created, strategy, "
	    "params, summary) VALUES (?, ?, ?, ?) RETURNING id", cause)) ==
	    NULL)
		goto bad;
	db_bind_int64(stmt, 1, now_unix());
	st_bind_text(stmt, 2, strategy);
	st_bind_text(stmt, 3, params);
	st_bind_text(stmt, 4, summary);
	if (st_insert_id(st, stmt, id, cause, "storing plan") != 0)
		goto bad;
	/* A hundred rows a statement: a round trip per row would cost a
	 * server-held catalog a second per few thousand moves. */
	stmt = NULL;
	for (i = 0, rows = 0; i < n; i += k) {
		k = n - i < PLAN_BATCH ? n - i : PLAN_BATCH;
		if (k != rows) {
			db_finalize(stmt);
			sql = plan_moves_sql(k);
			stmt = st_prepare(st, sql, cause);
			free(sql);
			if (stmt == NULL)
				goto bad;
			rows = k;
		}
		db_reset(stmt);
		for (j = 0; j < k; j++) {
			const struct state_plan_move *pm = &m[i + j];
			int b = (int)j * 8;

			db_bind_int64(stmt, b + 1, *id);
			db_bind_int64(stmt, b + 2, pm->seq);
			db_bind_int64(stmt, b + 3, pm->account_id);
			db_bind_int64(stmt, b + 4, pm->from_slice);
			db_bind_int64(stmt, b + 5, pm->to_slice);
			db_bind_int64(stmt, b + 6, (int64_t)pm->bytes);
			db_bind_int64(stmt, b + 7, (int64_t)pm->files);
			if (pm->after_seq > 0)
				db_bind_int64(stmt, b + 8, pm->after_seq);
			else
				db_bind_null(stmt, b + 8);
		}
		if (db_step(stmt) != DB_DONE) {
			st_fail(st, cause, "storing plan moves");
			db_finalize(stmt);
			goto bad;
		}
	}
	db_finalize(stmt);
	state_event(st, "plan.stored", NULL, NULL, "plan %lld (%s): %zu "
	    "moves", (long long)*id, strategy, n);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

#define PLAN_SELECT \
	"SELECT p.id, p.created, p.strategy, p.params, p.summary, p.state, " \
	"(SELECT count(*) FROM plan_moves m WHERE m.plan_id = p.id), " \
	"(SELECT CAST(coalesce(sum(bytes), 0) AS BIGINT) FROM plan_moves m " \
	"WHERE m.plan_id = p.id) FROM plans p "

static void
plan_from_row(struct db_stmt *s, struct state_plan *p)
{
	p->id = db_column_int64(s, 0);
	p->created = db_column_int64(s, 1);
	p->strategy = st_text(s, 2);
	p->params = st_text(s, 3);
	p->summary = st_text(s, 4);
	p->state = st_text(s, 5);
	p->moves = db_column_int64(s, 6);
	p->bytes = (uint64_t)db_column_int64(s, 7);
}

void
state_plan_free(struct state_plan *p)
{
	free(p->strategy);
	free(p->params);
	free(p->summary);
	free(p->state);
	memset(p, 0, sizeof *p);
}

int
state_plan_get(struct state *st, int64_t id, struct state_plan *p,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	memset(p, 0, sizeof *p);
	if ((stmt = st_prepare(st, PLAN_SELECT "WHERE p.id = ?", cause)) ==
	    NULL)
		return -1;
	db_bind_int64(stmt, 1, id);
	if ((rc = db_step(stmt)) == DB_ROW)
		plan_from_row(stmt, p);
	db_finalize(stmt);
	if (rc == DB_DONE)
		return fail(cause, "plan %lld not found; see 'mailshift plan "
		    "list'", (long long)id);
	if (rc != DB_ROW)
		return st_fail(st, cause, "reading plan");
	return 0;
}

int
state_plan_list(struct state *st, int (*cb)(const struct state_plan *,
    void *), void *arg, char **cause)
{
	struct db_stmt *stmt;
	struct state_plan p;
	int rc, stop = 0;

	if ((stmt = st_prepare(st, PLAN_SELECT "ORDER BY p.id DESC", cause))
	    == NULL)
		return -1;
	while (!stop && (rc = db_step(stmt)) == DB_ROW) {
		plan_from_row(stmt, &p);
		stop = cb(&p, arg);
		state_plan_free(&p);
	}
	db_finalize(stmt);
	if (!stop && rc != DB_DONE)
		return st_fail(st, cause, "listing plans");
	return 0;
}

int
state_plan_moves(struct state *st, int64_t id, struct state_plan_move **out,
    size_t *n, char **cause)
{
	struct db_stmt *stmt;
	struct state_plan_move *m;
	int rc;

	*out = NULL;
	*n = 0;
	if ((stmt = st_prepare(st, "SELECT pm.seq, pm.account_id, a.\"user\", "
	    "pm.from_slice, f.name, pm.to_slice, t.name, pm.bytes, pm.files, "
	    "coalesce(pm.after_seq, 0) FROM plan_moves pm JOIN accounts a ON "
	    "a.id = pm.account_id JOIN slices f ON f.id = pm.from_slice JOIN "
	    "slices t ON t.id = pm.to_slice WHERE pm.plan_id = ? ORDER BY "
	    "pm.seq", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, id);
	while ((rc = db_step(stmt)) == DB_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		m = &(*out)[(*n)++];
		m->seq = db_column_int64(stmt, 0);
		m->account_id = db_column_int64(stmt, 1);
		m->user = st_text(stmt, 2);
		m->from_slice = db_column_int64(stmt, 3);
		m->from = st_text(stmt, 4);
		m->to_slice = db_column_int64(stmt, 5);
		m->to = st_text(stmt, 6);
		m->bytes = (uint64_t)db_column_int64(stmt, 7);
		m->files = (uint64_t)db_column_int64(stmt, 8);
		m->after_seq = db_column_int64(stmt, 9);
	}
	db_finalize(stmt);
	if (rc != DB_DONE) {
		state_plan_moves_free(*out, *n);
		*out = NULL;
		*n = 0;
		return st_fail(st, cause, "reading plan moves");
	}
	return 0;
}

void
state_plan_moves_free(struct state_plan_move *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].user);
		free(m[i].from);
		free(m[i].to);
	}
	free(m);
}

/*
 * One integer answer to a query with up to two bound integers into *v.
 * Returns 0, or -1 with a cause (an overflowing sum() among them).
 */
static int
ask(struct state *st, const char *sql, int64_t a, int64_t b, int64_t *v,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, sql, cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, a);
	db_bind_int64(stmt, 2, b);
	rc = db_step(stmt);
	*v = rc == DB_ROW ? db_column_int64(stmt, 0) : 0;
	db_finalize(stmt);
	if (rc != DB_ROW)
		return st_fail(st, cause, "checking the plan against the "
		    "catalog");
	return 0;
}

int
state_plan_apply(struct state *st, int64_t id, char *const *paths,
    const char *drain, char **cause)
{
	struct state_plan p;
	struct state_plan_move *m = NULL;
	struct db_stmt *stmt = NULL;
	int64_t *ids = NULL, now = now_unix(), room, active, moving;
	size_t n = 0, i;

	if (state_plan_get(st, id, &p, cause) != 0)
		return -1;
	if (strcmp(p.state, "proposed") != 0) {
		fail(cause, "plan %lld is %s already; make a new plan",
		    (long long)id, p.state);
		state_plan_free(&p);
		return -1;
	}
	state_plan_free(&p);
	if (state_plan_moves(st, id, &m, &n, cause) != 0)
		return -1;
	ids = xcalloc(n ? n : 1, sizeof *ids);
	if (state_begin(st, cause) != 0)
		goto bad_notx;
	for (i = 0; i < n; i++) {
		if (ask(st, "SELECT count(*) FROM accounts WHERE id = ? AND "
		    "slice_id = ? AND state = 'active'", m[i].account_id,
		    m[i].from_slice, &active, cause) != 0 || ask(st, "SELECT "
		    "count(*) FROM moves WHERE account_id = ? AND state IN "
		    OPEN_STATES, m[i].account_id, 0, &moving, cause) != 0)
			goto bad;
		if (active != 1 || moving != 0) {
			fail(cause, "the fleet changed since plan %lld was "
			    "made: account '%s' is no longer active on slice "
			    "'%s' or is moving; make a new plan", (long long)id,
			    m[i].user, m[i].from);
			goto bad;
		}
		if (ask(st, "SELECT count(*) FROM slices WHERE id = ? AND "
		    "state = 'active' AND health = 'ok'", m[i].to_slice, 0,
		    &active, cause) != 0)
			goto bad;
		if (active != 1) {
			fail(cause, "the fleet changed since plan %lld was "
			    "made: slice '%s' no longer receives accounts "
			    "(not active, or its health not ok); make a new "
			    "plan", (long long)id, m[i].to);
			goto bad;
		}
		/* Room: capacity less what it holds and what is coming. */
		if (ask(st, "SELECT CAST(s.capacity - (SELECT "
		    "coalesce(sum(bytes), 0) FROM accounts WHERE slice_id = "
		    "s.id) - (SELECT coalesce(sum(a.bytes), 0) FROM moves mv "
		    "JOIN accounts a ON a.id = mv.account_id WHERE "
		    "mv.target_slice = s.id AND mv.state IN " OPEN_STATES ") + "
		    "(SELECT coalesce(sum(a.bytes), 0) FROM moves mv JOIN "
		    "accounts a ON a.id = mv.account_id WHERE mv.source_slice = "
		    "s.id AND mv.state IN " OPEN_STATES ") AS BIGINT) FROM "
		    "slices s WHERE s.id = ?",
		    m[i].to_slice, 0, &room, cause) != 0)
			goto bad;
		if (room < (int64_t)m[i].bytes) {
			fail(cause, "the fleet changed since plan %lld was "
			    "made: slice '%s' has no room left for '%s'; make "
			    "a new plan", (long long)id, m[i].to, m[i].user);
			goto bad;
		}
		if ((stmt = st_prepare(st, "INSERT INTO moves (account_id, "
		    "source_slice, source_path, target_slice, target_path, "
		    "plan_id, after_move, bytes_total, files_total, created, "
		    "updated) SELECT id, slice_id, path, ?, ?, ?, ?, bytes, "
		    "files, ?, ? FROM accounts WHERE id = ? RETURNING id",
		    cause)) == NULL)
			goto bad;
		db_bind_int64(stmt, 1, m[i].to_slice);
		st_bind_text(stmt, 2, paths[i]);
		db_bind_int64(stmt, 3, id);
		if (m[i].after_seq > 0 && m[i].after_seq <= (int64_t)i)
			db_bind_int64(stmt, 4, ids[m[i].after_seq - 1]);
		else
			db_bind_null(stmt, 4);
		db_bind_int64(stmt, 5, now);
		db_bind_int64(stmt, 6, now);
		db_bind_int64(stmt, 7, m[i].account_id);
		if (st_insert_id(st, stmt, &ids[i], cause,
		    "queueing plan move") != 0)
			goto bad;
	}
	if ((stmt = st_prepare(st, "UPDATE plans SET state = 'applied' WHERE "
	    "id = ?", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, id);
	if (st_exec_stmt(st, stmt, cause, "applying plan") != 0)
		goto bad;
	if (drain != NULL) {
		if ((stmt = st_prepare(st, "UPDATE slices SET state = "
		    "'draining' WHERE name = ? AND state = 'active'", cause)) ==
		    NULL)
			goto bad;
		st_bind_text(stmt, 1, drain);
		if (st_exec_stmt(st, stmt, cause, "draining slice") != 0)
			goto bad;
	}
	state_event(st, "plan.applied", NULL, drain, "plan %lld applied: %zu "
	    "moves queued", (long long)id, n);
	state_plan_moves_free(m, n);
	free(ids);
	return state_commit(st, cause);
bad:
	state_rollback(st);
bad_notx:
	state_plan_moves_free(m, n);
	free(ids);
	return -1;
}
