/*
 * The daemon's queue in the catalog: which moves may run now, when the
 * next one falls due, pausing and cancel requests, and retries.
 */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/queue.h"
#include "common/util.h"

#include <string.h>

int
state_queue_runnable(struct state *st, int64_t now, int64_t settle,
    int archive, int (*cb)(const struct state_runnable *, void *), void *arg,
    char **cause)
{
	struct db_stmt *stmt;
	struct state_runnable r;
	int rc, stop = 0;

	/* A move that waits for another starts once that one is done. A
	 * done move whose source is not retired, whose settle check is due,
	 * or (archive) whose retired source is not archived yet, is
	 * finished too. */
	if ((stmt = st_prepare(st, "SELECT m.id, m.source_slice, "
	    "m.target_slice, m.paused, m.hold, m.state, m.complete_after FROM "
	    "moves m WHERE "
	    "(m.state IN " OPEN_STATES " AND m.next_try <= ?1 AND "
	    "(m.after_move IS NULL OR (SELECT state FROM moves w WHERE "
	    "w.id = m.after_move) IN ('done','cancelled'))) OR "
	    "(m.state = 'done' AND m.settled_at IS NULL AND m.purged_at IS "
	    "NULL AND (m.retired_at IS NULL OR m.retired_at <= ?1 - ?2)) OR "
	    "(?3 <> 0 AND m.state = 'done' AND m.settled_at IS NOT NULL AND "
	    "m.purged_at IS NULL AND m.retired_path IS NOT NULL AND "
	    "m.retired_path NOT LIKE '%.tar.zst') "
	    "ORDER BY m.priority DESC, m.id", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, now);
	db_bind_int64(stmt, 2, settle);
	db_bind_int(stmt, 3, archive);
	while (!stop && (rc = db_step(stmt)) == DB_ROW) {
		memset(&r, 0, sizeof r);
		r.id = db_column_int64(stmt, 0);
		r.source_slice = db_column_int64(stmt, 1);
		r.target_slice = db_column_int64(stmt, 2);
		r.paused = db_column_int(stmt, 3);
		r.hold = db_column_int(stmt, 4);
		r.complete_after = db_column_int64(stmt, 6);
		if (state_move_state_parse((const char *)
		    db_column_text(stmt, 5), &r.state) != 0)
			r.state = MOVE_FAILED;
		stop = cb(&r, arg);
	}
	db_finalize(stmt);
	if (!stop && rc != DB_DONE)
		return st_fail(st, cause, "reading moves");
	return 0;
}

int64_t
state_queue_next_try(struct state *st, int64_t now)
{
	struct db_stmt *stmt;
	int64_t v = 0;

	if ((stmt = st_prepare(st, "SELECT coalesce(min(next_try), 0) FROM "
	    "moves WHERE state IN " OPEN_STATES " AND next_try > ?", NULL)) ==
	    NULL)
		return 0;
	db_bind_int64(stmt, 1, now);
	if (db_step(stmt) == DB_ROW)
		v = db_column_int64(stmt, 0);
	db_finalize(stmt);
	return v;
}

int
state_queue_set_paused(struct state *st, int64_t id, int paused,
    char **cause)
{
	struct db_stmt *stmt;
	static const char *const kind[] = { "move.resume", "move.pause",
	    "move.cancel-requested" };

	if (paused < 0 || paused > 2)
		return fail(cause, "bad pause value");
	if (state_begin(st, cause) != 0)
		return -1;
	/* Resuming a failed move retries it now. */
	if (paused == 0 && (stmt = st_prepare(st, "UPDATE moves SET state = "
	    "'queued', next_try = 0, error = error WHERE id = ? AND state = "
	    "'failed' AND NOT EXISTS (SELECT 1 FROM moves o WHERE "
	    "o.account_id = moves.account_id AND o.state IN " OPEN_STATES ")",
	    cause)) != NULL) {
		db_bind_int64(stmt, 1, id);
		if (st_exec_stmt(st, stmt, cause, "resuming move") != 0)
			goto bad;
	}
	if ((stmt = st_prepare(st, "UPDATE moves SET paused = ?, next_try = "
	    "CASE WHEN ? = 0 THEN 0 ELSE next_try END, updated = ? WHERE "
	    "id = ? AND state IN " OPEN_STATES, cause)) == NULL)
		goto bad;
	db_bind_int(stmt, 1, paused);
	db_bind_int(stmt, 2, paused);
	db_bind_int64(stmt, 3, now_unix());
	db_bind_int64(stmt, 4, id);
	if (st_exec_stmt(st, stmt, cause, "pausing move") != 0)
		goto bad;
	if (db_changes(st->db) != 1) {
		fail(cause, "move %lld is not open (see 'mailshift moves show "
		    "%lld')", (long long)id, (long long)id);
		goto bad;
	}
	if ((stmt = st_prepare(st, "INSERT INTO events (ts, kind, move_id, "
	    "message) VALUES (?, ?, ?, ?)", cause)) != NULL) {
		db_bind_int64(stmt, 1, now_unix());
		st_bind_text(stmt, 2, kind[paused]);
		db_bind_int64(stmt, 3, id);
		st_bind_text(stmt, 4, paused == 0 ? "resumed by the admin" :
		    paused == 1 ? "paused by the admin" : "cancel requested by "
		    "the admin");
		st_exec_stmt(st, stmt, NULL, "logging");
	}
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_queue_retry(struct state *st, int64_t id, int64_t next_try,
    char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE moves SET state = 'queued', "
	    "attempts = attempts + 1, next_try = ?, updated = ? WHERE id = ? "
	    "AND state = 'failed' AND NOT EXISTS (SELECT 1 FROM moves o "
	    "WHERE o.account_id = moves.account_id AND o.state IN "
	    OPEN_STATES ")", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, next_try);
	db_bind_int64(stmt, 2, now_unix());
	db_bind_int64(stmt, 3, id);
	return st_exec_stmt(st, stmt, cause, "queueing a retry");
}

int
state_queue_defer(struct state *st, int64_t id, int64_t next_try,
    char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE moves SET next_try = ?, updated = "
	    "? WHERE id = ? AND state IN " OPEN_STATES " AND state <> "
	    "'cutover'", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, next_try);
	db_bind_int64(stmt, 2, now_unix());
	db_bind_int64(stmt, 3, id);
	return st_exec_stmt(st, stmt, cause, "putting off a move");
}
