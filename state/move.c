/* Moves in the catalog: queueing, guarded transitions, lock and switch. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/move.h"
#include "state/account.h"
#include "state/slice.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In enum move_state order; the moves table's CHECK lists the same. */
static const char *const move_states[MOVE_NSTATES] = {
	"queued", "copying", "syncing", "ready", "cutover", "done", "failed",
	"cancelled",
};

const char *
state_move_state_name(enum move_state s)
{
	return (unsigned)s < MOVE_NSTATES ? move_states[s] : "unknown";
}

int
state_move_state_parse(const char *s, enum move_state *out)
{
	int i;

	for (i = 0; s != NULL && i < MOVE_NSTATES; i++) {
		if (strcmp(s, move_states[i]) == 0) {
			*out = (enum move_state)i;
			return 0;
		}
	}
	return -1;
}

int
state_move_state_open(enum move_state s)
{
	return s <= MOVE_CUTOVER;
}

#define MOVE_SELECT \
	"SELECT m.id, m.account_id, a.\"user\", m.source_slice, ss.name, " \
	"ss.path, m.source_path, m.target_slice, ts.name, ts.path, " \
	"m.target_path, m.state, m.hold, m.paused, m.priority, " \
	"m.complete_after, m.bytes_total, m.files_total, m.bytes_done, " \
	"m.files_done, m.passes, m.attempts, coalesce(m.lock_ms, -1), " \
	"coalesce(m.lock_started, 0), m.copy_ms, coalesce(m.owner_pid, 0), " \
	"m.error, m.retired_path, coalesce(m.retired_at, 0), " \
	"coalesce(m.purged_at, 0), m.created, m.updated, " \
	"coalesce(m.started, 0), coalesce(m.finished, 0), " \
	"coalesce(m.after_move, 0), coalesce(m.plan_id, 0), m.last_change, " \
	"m.settle_marks, coalesce(m.settled_at, 0), m.bytes_per_second, " \
	"m.files_per_second " \
	"FROM moves m " \
	"JOIN accounts a ON a.id = m.account_id " \
	"JOIN slices ss ON ss.id = m.source_slice " \
	"JOIN slices ts ON ts.id = m.target_slice "

static void
move_from_row(struct db_stmt *s, struct state_move *m)
{
	m->id = db_column_int64(s, 0);
	m->account_id = db_column_int64(s, 1);
	m->user = st_text(s, 2);
	m->source_slice = db_column_int64(s, 3);
	m->source = st_text(s, 4);
	m->source_root = st_text(s, 5);
	m->source_path = st_text(s, 6);
	m->target_slice = db_column_int64(s, 7);
	m->target = st_text(s, 8);
	m->target_root = st_text(s, 9);
	m->target_path = st_text(s, 10);
	if (state_move_state_parse((const char *)db_column_text(s, 11),
	    &m->state) != 0)
		m->state = MOVE_FAILED;	/* the CHECK constraint forbids it */
	m->hold = db_column_int(s, 12);
	m->paused = db_column_int(s, 13);
	m->priority = db_column_int64(s, 14);
	m->complete_after = db_column_int64(s, 15);
	m->bytes_total = (uint64_t)db_column_int64(s, 16);
	m->files_total = (uint64_t)db_column_int64(s, 17);
	m->bytes_done = (uint64_t)db_column_int64(s, 18);
	m->files_done = (uint64_t)db_column_int64(s, 19);
	m->passes = db_column_int64(s, 20);
	m->attempts = db_column_int64(s, 21);
	m->lock_ms = db_column_int64(s, 22);
	m->lock_started = db_column_int64(s, 23);
	m->copy_ms = db_column_int64(s, 24);
	m->owner_pid = db_column_int64(s, 25);
	m->error = st_text(s, 26);
	m->retired_path = st_text(s, 27);
	m->retired_at = db_column_int64(s, 28);
	m->purged_at = db_column_int64(s, 29);
	m->created = db_column_int64(s, 30);
	m->updated = db_column_int64(s, 31);
	m->started = db_column_int64(s, 32);
	m->finished = db_column_int64(s, 33);
	m->after_move = db_column_int64(s, 34);
	m->plan_id = db_column_int64(s, 35);
	m->last_change = db_column_int64(s, 36);
	m->settle_marks = st_text(s, 37);
	m->settled_at = db_column_int64(s, 38);
	m->bytes_per_second = (uint64_t)db_column_int64(s, 39);
	m->files_per_second = (uint64_t)db_column_int64(s, 40);
}

void
state_move_free(struct state_move *m)
{
	free(m->user);
	free(m->settle_marks);
	free(m->source);
	free(m->source_root);
	free(m->source_path);
	free(m->target);
	free(m->target_root);
	free(m->target_path);
	free(m->error);
	free(m->retired_path);
	memset(m, 0, sizeof *m);
}

/* Step a prepared query for one move and finalize it; 0 found (m
 * filled), 1 none, -1 error. */
static int
move_one(struct state *st, struct db_stmt *stmt, struct state_move *m,
    char **cause)
{
	int rc = db_step(stmt);

	if (rc == DB_ROW)
		move_from_row(stmt, m);
	db_finalize(stmt);
	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE)
		return 1;
	return st_fail(st, cause, "reading moves");
}

/* Run a query for one move; 0 found, 1 none, -1 error. */
static int
move_query(struct state *st, const char *where, const char *text,
    int64_t num, struct state_move *m, char **cause)
{
	struct db_stmt *stmt;
	char *sql = xasprintf(MOVE_SELECT "%s", where);

	memset(m, 0, sizeof *m);
	stmt = st_prepare(st, sql, cause);
	free(sql);
	if (stmt == NULL)
		return -1;
	if (text != NULL)
		st_bind_text(stmt, 1, text);
	else
		db_bind_int64(stmt, 1, num);
	return move_one(st, stmt, m, cause);
}

int
state_move_get(struct state *st, int64_t id, struct state_move *m,
    char **cause)
{
	int rc = move_query(st, "WHERE m.id = ?", NULL, id, m, cause);

	if (rc == 1)
		return fail(cause, "move %lld not found; see 'mailshift moves "
		    "list'", (long long)id);
	return rc;
}

int
state_move_find_open(struct state *st, const char *user,
    struct state_move *m, char **cause)
{
	return move_query(st, "WHERE a.\"user\" = ? AND m.state IN " OPEN_STATES,
	    user, 0, m, cause);
}

int
state_move_find_last(struct state *st, const char *user,
    struct state_move *m, char **cause)
{
	return move_query(st, "WHERE a.\"user\" = ? ORDER BY m.id DESC LIMIT 1",
	    user, 0, m, cause);
}

int
state_move_find_last_at(struct state *st, const char *user, int64_t slice_id,
    const char *path, struct state_move *m, char **cause)
{
	struct db_stmt *stmt;

	memset(m, 0, sizeof *m);
	if ((stmt = st_prepare(st, MOVE_SELECT "WHERE a.\"user\" = ?1 AND "
	    "((m.target_slice = ?2 AND m.target_path = ?3) OR "
	    "(m.source_slice = ?2 AND m.source_path = ?3)) "
	    "ORDER BY m.id DESC LIMIT 1", cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, user);
	db_bind_int64(stmt, 2, slice_id);
	st_bind_text(stmt, 3, path);
	return move_one(st, stmt, m, cause);
}

int
state_move_list(struct state *st, int state,
    int (*cb)(const struct state_move *, void *), void *arg, char **cause)
{
	struct db_stmt *stmt;
	struct state_move m;
	int rc, stop = 0;

	if ((stmt = st_prepare(st, MOVE_SELECT "WHERE ?1 IS NULL OR "
	    "m.state = ?1 ORDER BY m.id DESC", cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, state < 0 ? NULL :
	    state_move_state_name((enum move_state)state));
	while (!stop && (rc = db_step(stmt)) == DB_ROW) {
		move_from_row(stmt, &m);
		stop = cb(&m, arg);
		state_move_free(&m);
	}
	db_finalize(stmt);
	if (!stop && rc != DB_DONE)
		return st_fail(st, cause, "listing moves");
	return 0;
}

/* One integer from a query with one bound integer. */
static int
query_int1(struct state *st, const char *sql, int64_t a, int64_t *out,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, sql, cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, a);
	rc = db_step(stmt);
	*out = rc == DB_ROW ? db_column_int64(stmt, 0) : 0;
	db_finalize(stmt);
	if (rc != DB_ROW && rc != DB_DONE)
		return st_fail(st, cause, "reading the catalog");
	return 0;
}

int
state_move_create(struct state *st, const struct state_move_request *r,
    int64_t *id, char **cause)
{
	struct state_account a;
	struct state_slice t;
	struct state_move open;
	struct db_stmt *stmt;
	int64_t incoming, now = now_unix();
	char *other, *opath;
	int rc;

	if (r->bytes_per_second > STATE_MOVE_MAX_BYTES_PER_SECOND ||
	    r->files_per_second > STATE_MOVE_MAX_FILES_PER_SECOND)
		return fail(cause, "a move's rates are at most %llu bytes/s "
		    "and %llu files/s; give less, or none for no limit",
		    STATE_MOVE_MAX_BYTES_PER_SECOND,
		    STATE_MOVE_MAX_FILES_PER_SECOND);
	if (state_account_get(st, r->user, &a, cause) != 0)
		return -1;
	memset(&t, 0, sizeof t);
	if ((rc = state_move_find_open(st, r->user, &open, cause)) < 0)
		goto bad;
	if (rc == 0) {
		fail(cause, "account '%s' is already moving to slice '%s' "
		    "(move %lld, %s); see 'mailshift moves show %lld'",
		    r->user, open.target, (long long)open.id,
		    state_move_state_name(open.state),
		    (long long)open.id);
		state_move_free(&open);
		goto bad;
	}
	if (strcmp(a.state, "active") != 0) {
		fail(cause, "account '%s' is %s, not active; run 'mailshift "
		    "discover' or fix the account first", r->user, a.state);
		goto bad;
	}
	if (state_slice_get(st, r->target, &t, cause) != 0)
		goto bad;
	if (t.id == a.slice_id) {
		fail(cause, "account '%s' is already on slice '%s'; nothing to "
		    "move", r->user, r->target);
		goto bad;
	}
	if (state_slice_receives(&t, cause) != 0)
		goto bad;
	if (query_int1(st, "SELECT CAST(coalesce(sum(a.bytes), 0) AS BIGINT) "
	    "FROM moves m "
	    "JOIN accounts a ON a.id = m.account_id WHERE m.target_slice = ? "
	    "AND m.state IN " OPEN_STATES, t.id, &incoming, cause) != 0)
		goto bad;
	if (size_add(size_add(t.used, (uint64_t)incoming), a.bytes) >
	    t.capacity) {
		fail(cause, "slice '%s' has no room for account '%s' (%llu "
		    "bytes): it holds %llu and expects %lld more of %llu; "
		    "choose another slice or raise its capacity", t.name,
		    r->user, (unsigned long long)a.bytes,
		    (unsigned long long)t.used, (long long)incoming,
		    (unsigned long long)t.capacity);
		goto bad;
	}
	if (state_begin(st, cause) != 0)
		goto bad;
	/* In the transaction: an import cannot slip in between. */
	if ((rc = state_account_nesting(st, t.id, r->target_path, r->user,
	    &other, &opath, cause)) < 0)
		goto bad_tx;
	if (rc == 1) {
		fail(cause, "the target '%s' of '%s' on slice '%s' %s the "
		    "mailbox of account '%s' ('%s'); choose another slice, or "
		    "give that account its own directory first", r->target_path,
		    r->user, t.name, strlen(opath) > strlen(r->target_path) ?
		    "contains" : strcmp(opath, r->target_path) == 0 ?
		    "is already" : "lies inside", other, opath);
		free(other);
		free(opath);
		goto bad_tx;
	}
	if ((stmt = st_prepare(st, "INSERT INTO moves (account_id, "
	    "source_slice, source_path, target_slice, target_path, hold, "
	    "complete_after, priority, bytes_total, files_total, created, "
	    "updated, bytes_per_second, files_per_second) VALUES (?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", cause)) == NULL)
		goto bad_tx;
	db_bind_int64(stmt, 1, a.id);
	db_bind_int64(stmt, 2, a.slice_id);
	st_bind_text(stmt, 3, a.path);
	db_bind_int64(stmt, 4, t.id);
	st_bind_text(stmt, 5, r->target_path);
	db_bind_int(stmt, 6, r->hold);
	db_bind_int64(stmt, 7, r->complete_after);
	db_bind_int64(stmt, 8, r->priority);
	db_bind_int64(stmt, 9, (int64_t)a.bytes);
	db_bind_int64(stmt, 10, (int64_t)a.files);
	db_bind_int64(stmt, 11, now);
	db_bind_int64(stmt, 12, now);
	db_bind_int64(stmt, 13, (int64_t)r->bytes_per_second);
	db_bind_int64(stmt, 14, (int64_t)r->files_per_second);
	if (st_insert_id(st, stmt, id, cause, "queueing move") != 0)
		goto bad_tx;
	if ((stmt = st_prepare(st, "INSERT INTO events (ts, kind, move_id, "
	    "\"user\", slice, message) VALUES (?, 'move.queued', ?, ?, ?, ?)",
	    cause)) == NULL)
		goto bad_tx;
	db_bind_int64(stmt, 1, now);
	db_bind_int64(stmt, 2, *id);
	st_bind_text(stmt, 3, r->user);
	st_bind_text(stmt, 4, t.name);
	{
		char *msg = xasprintf("move %lld queued: %s from %s to %s",
		    (long long)*id, r->user, a.slice, t.name);

		st_bind_text(stmt, 5, msg);
		free(msg);
	}
	if (st_exec_stmt(st, stmt, cause, "logging move") != 0)
		goto bad_tx;
	state_account_free(&a);
	state_slice_free(&t);
	return state_commit(st, cause);
bad_tx:
	state_rollback(st);
bad:
	state_account_free(&a);
	state_slice_free(&t);
	return -1;
}

int
state_move_claim(struct state *st, int64_t id, int64_t pid, char **cause)
{
	struct state_move m;
	struct db_stmt *stmt;
	char *mine = proc_identity((long)pid), *theirs = NULL, *stored = NULL;
	int busy;

	if (state_begin(st, cause) != 0)
		goto out;
	if (state_move_get(st, id, &m, cause) != 0)
		goto bad;
	if ((stmt = st_prepare(st, "SELECT owner_start FROM moves WHERE id = ?",
	    cause)) == NULL) {
		state_move_free(&m);
		goto bad;
	}
	db_bind_int64(stmt, 1, id);
	if (db_step(stmt) == DB_ROW)
		stored = st_text(stmt, 0);
	db_finalize(stmt);
	/* The owner is busy only if that very process still runs. */
	busy = m.owner_pid != 0 && m.owner_pid != pid &&
	    (theirs = proc_identity((long)m.owner_pid)) != NULL &&
	    (stored == NULL || strcmp(stored, theirs) == 0);
	if (busy) {
		fail(cause, "move %lld of '%s' is being run by process %lld; "
		    "wait for it or stop it first", (long long)id, m.user,
		    (long long)m.owner_pid);
		state_move_free(&m);
		goto bad;
	}
	state_move_free(&m);
	if ((stmt = st_prepare(st, "UPDATE moves SET owner_pid = ?, "
	    "owner_start = ? WHERE id = ?", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, pid);
	st_bind_text(stmt, 2, mine);
	db_bind_int64(stmt, 3, id);
	if (st_exec_stmt(st, stmt, cause, "claiming move") != 0)
		goto bad;
	free(mine);
	free(theirs);
	free(stored);
	return state_commit(st, cause);
bad:
	state_rollback(st);
out:
	free(mine);
	free(theirs);
	free(stored);
	return -1;
}

void
state_move_release(struct state *st, int64_t id)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE moves SET owner_pid = NULL, "
	    "owner_start = NULL WHERE id = ?", NULL)) == NULL)
		return;
	db_bind_int64(stmt, 1, id);
	st_exec_stmt(st, stmt, NULL, "releasing move");
}

/* Run an UPDATE that must change exactly one row. */
static int
exec_one(struct state *st, struct db_stmt *stmt, char **cause,
    const char *what, const char *unchanged)
{
	if (db_step(stmt) != DB_DONE) {
		st_fail(st, cause, what);
		db_finalize(stmt);
		return -1;
	}
	db_finalize(stmt);
	if (db_changes(st->db) != 1)
		return fail(cause, "%s", unchanged);
	return 0;
}

int
state_move_set_state(struct state *st, int64_t id, enum move_state from,
    enum move_state to, char **cause)
{
	struct db_stmt *stmt;
	int64_t now = now_unix();

	if ((stmt = st_prepare(st, "UPDATE moves SET state = ?, updated = ?, "
	    "started = coalesce(started, ?) WHERE id = ? AND state = ?",
	    cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, state_move_state_name(to));
	db_bind_int64(stmt, 2, now);
	db_bind_int64(stmt, 3, now);
	db_bind_int64(stmt, 4, id);
	st_bind_text(stmt, 5, state_move_state_name(from));
	return exec_one(st, stmt, cause, "changing move state",
	    "the move changed state meanwhile (paused or cancelled?)");
}

int
state_move_progress(struct state *st, int64_t id, uint64_t bytes_done,
    uint64_t files_done, uint64_t bytes_total, uint64_t files_total,
    int64_t passes, int64_t copy_ms, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE moves SET bytes_done = ?, "
	    "files_done = ?, bytes_total = ?, files_total = ?, passes = ?, "
	    "copy_ms = ?, updated = ? WHERE id = ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, (int64_t)bytes_done);
	db_bind_int64(stmt, 2, (int64_t)files_done);
	db_bind_int64(stmt, 3, (int64_t)bytes_total);
	db_bind_int64(stmt, 4, (int64_t)files_total);
	db_bind_int64(stmt, 5, passes);
	db_bind_int64(stmt, 6, copy_ms);
	db_bind_int64(stmt, 7, now_unix());
	db_bind_int64(stmt, 8, id);
	return st_exec_stmt(st, stmt, cause, "recording progress");
}

/* Add an event row for move m inside the current transaction. */
static int
move_event_v(struct state *st, const struct state_move *m, const char *kind,
    const char *fmt, va_list ap)
{
	struct db_stmt *stmt;
	char *msg;
	int rc;

	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	if ((stmt = st_prepare(st, "INSERT INTO events (ts, kind, move_id, "
	    "\"user\", slice, message) VALUES (?, ?, ?, ?, ?, ?)", NULL)) ==
	    NULL) {
		free(msg);
		return -1;
	}
	db_bind_int64(stmt, 1, now_unix());
	st_bind_text(stmt, 2, kind);
	db_bind_int64(stmt, 3, m->id);
	st_bind_text(stmt, 4, m->user);
	st_bind_text(stmt, 5, m->target);
	st_bind_text(stmt, 6, msg);
	rc = st_best_effort(st, stmt);
	db_finalize(stmt);
	free(msg);
	return rc;
}

int
state_move_event(struct state *st, const struct state_move *m,
    const char *kind, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = move_event_v(st, m, kind, fmt, ap);
	va_end(ap);
	return rc;
}

static int
tx_event(struct state *st, int64_t id, const char *kind, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* Event for move id (looked up) inside the current transaction. */
static int
tx_event(struct state *st, int64_t id, const char *kind, const char *fmt,
    ...)
{
	struct state_move m;
	va_list ap;
	int rc;

	if (state_move_get(st, id, &m, NULL) != 0)
		return -1;
	va_start(ap, fmt);
	rc = move_event_v(st, &m, kind, fmt, ap);
	va_end(ap);
	state_move_free(&m);
	return rc;
}

int
state_move_lock(struct state *st, int64_t id, int64_t now_ms, int64_t until,
    char **cause)
{
	struct db_stmt *stmt;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE moves SET state = 'cutover', "
	    "lock_started = ?, updated = ? WHERE id = ? AND state = 'ready'",
	    cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, now_ms);
	db_bind_int64(stmt, 2, now_ms / 1000);
	db_bind_int64(stmt, 3, id);
	if (exec_one(st, stmt, cause, "locking", "the move is not ready for "
	    "cutover") != 0)
		goto bad;
	if ((stmt = st_prepare(st, "UPDATE accounts SET state = 'locked', "
	    "locked_until = unixepoch() + ?, updated = ? WHERE state = "
	    "'active' AND id = "
	    "(SELECT account_id FROM moves WHERE id = ?) AND slice_id = "
	    "(SELECT source_slice FROM moves WHERE id = ?) AND EXISTS (SELECT "
	    "1 FROM slices t JOIN moves m ON m.target_slice = t.id WHERE "
	    "m.id = ? AND t.state = 'active')", cause)) == NULL)
		goto bad;
	/* The lock's end is set, and judged, by the catalog's clock (on a
	 * server: the server's), so access servers' clocks never matter. */
	db_bind_int64(stmt, 1, until - now_ms / 1000);
	db_bind_int64(stmt, 2, now_ms / 1000);
	db_bind_int64(stmt, 3, id);
	db_bind_int64(stmt, 4, id);
	db_bind_int64(stmt, 5, id);
	if (exec_one(st, stmt, cause, "locking account", "the account is "
	    "not active on the move's source slice, or the target slice is "
	    "no longer active") != 0)
		goto bad;
	tx_event(st, id, "move.lock", "account locked for cutover");
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_unlock(struct state *st, int64_t id, const char *why,
    char **cause)
{
	struct db_stmt *stmt;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE accounts SET state = 'active', "
	    "locked_until = NULL, updated = ? WHERE state = 'locked' AND id = "
	    "(SELECT account_id FROM moves WHERE id = ?)", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, now_unix());
	db_bind_int64(stmt, 2, id);
	if (st_exec_stmt(st, stmt, cause, "unlocking account") != 0)
		goto bad;
	if ((stmt = st_prepare(st, "UPDATE moves SET state = 'syncing', "
	    "lock_started = NULL, error = ?, attempts = attempts + 1, "
	    "updated = ? WHERE id = ? AND state = 'cutover'", cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, why);
	db_bind_int64(stmt, 2, now_unix());
	db_bind_int64(stmt, 3, id);
	if (exec_one(st, stmt, cause, "unlocking", "the move is not in "
	    "cutover") != 0)
		goto bad;
	tx_event(st, id, "move.unlock", "cutover abandoned, account unlocked "
	    "on the source: %s", why);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_commit(struct state *st, int64_t id, int64_t lock_ms,
    const char *settle_marks, char **cause)
{
	struct db_stmt *stmt;
	int64_t now = now_unix();

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE accounts SET slice_id = "
	    "m.target_slice, path = m.target_path, generation = generation "
	    "+ 1, state = 'active', locked_until = NULL, updated = ? FROM "
	    "(SELECT account_id, source_slice, target_slice, target_path FROM "
	    "moves WHERE id = ? AND state = 'cutover') AS m WHERE accounts.id "
	    "= m.account_id AND accounts.slice_id = m.source_slice AND "
	    "accounts.state = 'locked' AND accounts.locked_until > "
	    "unixepoch()", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, now);
	db_bind_int64(stmt, 2, id);
	if (exec_one(st, stmt, cause, "switching account", "the account is "
	    "not locked on the move's source any more (the lock expired, or "
	    "the move was interrupted)") != 0)
		goto bad;
	/* A pause or cancel asked for during the cutover came too late:
	 * the move is done. */
	if ((stmt = st_prepare(st, "UPDATE moves SET state = 'done', "
	    "lock_ms = ?, lock_started = NULL, error = NULL, finished = ?, "
	    "updated = ?, settle_marks = ?, paused = 0 WHERE id = ? AND "
	    "state = 'cutover'",
	    cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, lock_ms);
	db_bind_int64(stmt, 2, now);
	db_bind_int64(stmt, 3, now);
	st_bind_text(stmt, 4, settle_marks);
	db_bind_int64(stmt, 5, id);
	if (exec_one(st, stmt, cause, "finishing move", "the move is not in "
	    "cutover") != 0)
		goto bad;
	tx_event(st, id, "move.done", "cutover committed: the account now "
	    "lives on the target (lock %lld ms)", (long long)lock_ms);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_fail(struct state *st, int64_t id, enum move_state to,
    const char *why, char **cause)
{
	struct db_stmt *stmt;
	int64_t now = now_unix();

	if (to != MOVE_FAILED && to != MOVE_CANCELLED)
		return fail(cause, "bad final state '%s'",
		    state_move_state_name(to));
	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE accounts SET state = 'active', "
	    "locked_until = NULL, updated = ? WHERE state = 'locked' AND id = "
	    "(SELECT account_id FROM moves WHERE id = ? AND state = "
	    "'cutover')", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, now);
	db_bind_int64(stmt, 2, id);
	if (st_exec_stmt(st, stmt, cause, "unlocking account") != 0)
		goto bad;
	if ((stmt = st_prepare(st, "UPDATE moves SET state = ?, error = "
	    "coalesce(?, error), lock_started = NULL, finished = ?, "
	    "updated = ? WHERE id = ? AND state IN " OPEN_STATES, cause)) ==
	    NULL)
		goto bad;
	st_bind_text(stmt, 1, state_move_state_name(to));
	st_bind_text(stmt, 2, why);
	db_bind_int64(stmt, 3, now);
	db_bind_int64(stmt, 4, now);
	db_bind_int64(stmt, 5, id);
	if (exec_one(st, stmt, cause, "ending move", "the move is no longer "
	    "open") != 0)
		goto bad;
	tx_event(st, id, to == MOVE_FAILED ? "move.failed" :
	    "move.cancelled", "move %s%s%s", state_move_state_name(to),
	    why ? ": " : "",
	    why ? why : "");
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_retired(struct state *st, int64_t id, const char *path,
    int64_t when, char **cause)
{
	struct db_stmt *stmt;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE moves SET retired_path = ?, "
	    "retired_at = ?, updated = ? WHERE id = ? AND state = 'done'",
	    cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, path);
	db_bind_int64(stmt, 2, when);
	db_bind_int64(stmt, 3, now_unix());
	db_bind_int64(stmt, 4, id);
	if (exec_one(st, stmt, cause, "recording retirement", "the move is "
	    "not done") != 0)
		goto bad;
	tx_event(st, id, "move.retired", "source retired to %s", path);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_settled(struct state *st, int64_t id, int64_t when,
    const char *marks, const char *summary, char **cause)
{
	struct db_stmt *stmt;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE moves SET settled_at = ?, "
	    "settle_marks = ?, updated = ? WHERE id = ? AND state = 'done'",
	    cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, when);
	st_bind_text(stmt, 2, marks);
	db_bind_int64(stmt, 3, now_unix());
	db_bind_int64(stmt, 4, id);
	if (exec_one(st, stmt, cause, "recording the settle check", "the move "
	    "is not done") != 0)
		goto bad;
	tx_event(st, id, "move.settled", "%s", summary);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_purged(struct state *st, int64_t id, int64_t when, char **cause)
{
	struct db_stmt *stmt;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE moves SET purged_at = ?, "
	    "updated = ? WHERE id = ? AND retired_path IS NOT NULL", cause))
	    == NULL)
		goto bad;
	db_bind_int64(stmt, 1, when);
	db_bind_int64(stmt, 2, now_unix());
	db_bind_int64(stmt, 3, id);
	if (exec_one(st, stmt, cause, "recording purge", "the move has no "
	    "retired source") != 0)
		goto bad;
	tx_event(st, id, "move.purged", "retired source deleted after the "
	    "retention period");
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_events(struct state *st, int64_t id,
    int (*cb)(int64_t, const char *, const char *, void *), void *arg,
    char **cause)
{
	struct db_stmt *stmt;
	int rc, stop = 0;

	if ((stmt = st_prepare(st, "SELECT ts, kind, message FROM events "
	    "WHERE move_id = ? ORDER BY id", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, id);
	while (!stop && (rc = db_step(stmt)) == DB_ROW)
		stop = cb(db_column_int64(stmt, 0),
		    (const char *)db_column_text(stmt, 1),
		    (const char *)db_column_text(stmt, 2), arg);
	db_finalize(stmt);
	if (!stop && rc != DB_DONE)
		return st_fail(st, cause, "reading events");
	return 0;
}

int
state_move_set_hold(struct state *st, int64_t id, int hold, char **cause)
{
	struct db_stmt *stmt;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE moves SET hold = ?, "
	    "complete_after = CASE WHEN ? <> 0 THEN complete_after ELSE 0 "
	    "END, "
	    "updated = ? WHERE id = ? AND state IN " OPEN_STATES, cause)) ==
	    NULL)
		goto bad;
	db_bind_int(stmt, 1, hold);
	db_bind_int(stmt, 2, hold);
	db_bind_int64(stmt, 3, now_unix());
	db_bind_int64(stmt, 4, id);
	if (exec_one(st, stmt, cause, "changing hold", "the move is not open")
	    != 0)
		goto bad;
	tx_event(st, id, hold ? "move.hold" : "move.release", "%s",
	    hold ? "held before cutover by the admin" : "released for "
	    "cutover by the admin");
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_move_changed(struct state *st, int64_t id, int64_t when, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE moves SET last_change = max("
	    "last_change, ?) WHERE id = ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, when);
	db_bind_int64(stmt, 2, id);
	return st_exec_stmt(st, stmt, cause, "recording activity");
}
