/* Plans in the catalog: stored, listed, and applied as queued moves. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/plan.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int
state_plan_store(struct state *st, const char *strategy, const char *params,
    const char *summary, const struct state_plan_move *m, size_t n,
    int64_t *id, char **cause)
{
	sqlite3_stmt *stmt;
	size_t i;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "INSERT INTO plans (created, strategy, "
	    "params, summary) VALUES (?, ?, ?, ?)", cause)) == NULL)
		goto bad;
	sqlite3_bind_int64(stmt, 1, now_unix());
	st_bind_text(stmt, 2, strategy);
	st_bind_text(stmt, 3, params);
	st_bind_text(stmt, 4, summary);
	if (st_exec_stmt(st, stmt, cause, "storing plan") != 0)
		goto bad;
	*id = sqlite3_last_insert_rowid(st->db);
	if ((stmt = st_prepare(st, "INSERT INTO plan_moves (plan_id, seq, "
	    "account_id, from_slice, to_slice, bytes, files, after_seq) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", cause)) == NULL)
		goto bad;
	for (i = 0; i < n; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, *id);
		sqlite3_bind_int64(stmt, 2, m[i].seq);
		sqlite3_bind_int64(stmt, 3, m[i].account_id);
		sqlite3_bind_int64(stmt, 4, m[i].from_slice);
		sqlite3_bind_int64(stmt, 5, m[i].to_slice);
		sqlite3_bind_int64(stmt, 6, (int64_t)m[i].bytes);
		sqlite3_bind_int64(stmt, 7, (int64_t)m[i].files);
		if (m[i].after_seq > 0)
			sqlite3_bind_int64(stmt, 8, m[i].after_seq);
		else
			sqlite3_bind_null(stmt, 8);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			st_fail(st, cause, "storing plan moves");
			sqlite3_finalize(stmt);
			goto bad;
		}
	}
	sqlite3_finalize(stmt);
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
	"(SELECT coalesce(sum(bytes), 0) FROM plan_moves m WHERE " \
	"m.plan_id = p.id) FROM plans p "

static void
plan_from_row(sqlite3_stmt *s, struct state_plan *p)
{
	p->id = sqlite3_column_int64(s, 0);
	p->created = sqlite3_column_int64(s, 1);
	p->strategy = st_text(s, 2);
	p->params = st_text(s, 3);
	p->summary = st_text(s, 4);
	p->state = st_text(s, 5);
	p->moves = sqlite3_column_int64(s, 6);
	p->bytes = (uint64_t)sqlite3_column_int64(s, 7);
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
	sqlite3_stmt *stmt;
	int rc;

	memset(p, 0, sizeof *p);
	if ((stmt = st_prepare(st, PLAN_SELECT "WHERE p.id = ?", cause)) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		plan_from_row(stmt, p);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_DONE)
		return fail(cause, "plan %lld not found; see 'mailshift plan "
		    "list'", (long long)id);
	if (rc != SQLITE_ROW)
		return st_fail(st, cause, "reading plan");
	return 0;
}

int
state_plan_list(struct state *st, int (*cb)(const struct state_plan *,
    void *), void *arg, char **cause)
{
	sqlite3_stmt *stmt;
	struct state_plan p;
	int rc, stop = 0;

	if ((stmt = st_prepare(st, PLAN_SELECT "ORDER BY p.id DESC", cause))
	    == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		plan_from_row(stmt, &p);
		stop = cb(&p, arg);
		state_plan_free(&p);
	}
	sqlite3_finalize(stmt);
	if (!stop && rc != SQLITE_DONE)
		return st_fail(st, cause, "listing plans");
	return 0;
}

int
state_plan_moves(struct state *st, int64_t id, struct state_plan_move **out,
    size_t *n, char **cause)
{
	sqlite3_stmt *stmt;
	struct state_plan_move *m;
	int rc;

	*out = NULL;
	*n = 0;
	if ((stmt = st_prepare(st, "SELECT pm.seq, pm.account_id, a.user, "
	    "pm.from_slice, f.name, pm.to_slice, t.name, pm.bytes, pm.files, "
	    "coalesce(pm.after_seq, 0) FROM plan_moves pm JOIN accounts a ON "
	    "a.id = pm.account_id JOIN slices f ON f.id = pm.from_slice JOIN "
	    "slices t ON t.id = pm.to_slice WHERE pm.plan_id = ? ORDER BY "
	    "pm.seq", cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		m = &(*out)[(*n)++];
		m->seq = sqlite3_column_int64(stmt, 0);
		m->account_id = sqlite3_column_int64(stmt, 1);
		m->user = st_text(stmt, 2);
		m->from_slice = sqlite3_column_int64(stmt, 3);
		m->from = st_text(stmt, 4);
		m->to_slice = sqlite3_column_int64(stmt, 5);
		m->to = st_text(stmt, 6);
		m->bytes = (uint64_t)sqlite3_column_int64(stmt, 7);
		m->files = (uint64_t)sqlite3_column_int64(stmt, 8);
		m->after_seq = sqlite3_column_int64(stmt, 9);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
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
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, sql, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, a);
	sqlite3_bind_int64(stmt, 2, b);
	rc = sqlite3_step(stmt);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
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
	sqlite3_stmt *stmt = NULL;
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
		    "state = 'active'", m[i].to_slice, 0, &active, cause) != 0)
			goto bad;
		if (active != 1) {
			fail(cause, "the fleet changed since plan %lld was "
			    "made: slice '%s' no longer receives accounts; "
			    "make a new plan", (long long)id, m[i].to);
			goto bad;
		}
		/* Room: capacity less what it holds and what is coming. */
		if (ask(st, "SELECT s.capacity - (SELECT coalesce(sum(bytes),"
		    " 0) FROM accounts WHERE slice_id = s.id) - (SELECT "
		    "coalesce(sum(a.bytes), 0) FROM moves mv JOIN accounts a ON "
		    "a.id = mv.account_id WHERE mv.target_slice = s.id AND "
		    "mv.state IN " OPEN_STATES ") + (SELECT "
		    "coalesce(sum(a.bytes), 0) FROM moves mv JOIN accounts a ON "
		    "a.id = mv.account_id WHERE mv.source_slice = s.id AND "
		    "mv.state IN " OPEN_STATES ") FROM slices s WHERE s.id = ?",
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
		    "files, ?, ? FROM accounts WHERE id = ?", cause)) == NULL)
			goto bad;
		sqlite3_bind_int64(stmt, 1, m[i].to_slice);
		st_bind_text(stmt, 2, paths[i]);
		sqlite3_bind_int64(stmt, 3, id);
		if (m[i].after_seq > 0 && m[i].after_seq <= (int64_t)i)
			sqlite3_bind_int64(stmt, 4, ids[m[i].after_seq - 1]);
		else
			sqlite3_bind_null(stmt, 4);
		sqlite3_bind_int64(stmt, 5, now);
		sqlite3_bind_int64(stmt, 6, now);
		sqlite3_bind_int64(stmt, 7, m[i].account_id);
		if (st_exec_stmt(st, stmt, cause, "queueing plan move") != 0)
			goto bad;
		ids[i] = sqlite3_last_insert_rowid(st->db);
	}
	if ((stmt = st_prepare(st, "UPDATE plans SET state = 'applied' WHERE "
	    "id = ?", cause)) == NULL)
		goto bad;
	sqlite3_bind_int64(stmt, 1, id);
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
