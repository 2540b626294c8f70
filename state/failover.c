/* Failover of slices in the catalog: see state/failover.h. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/failover.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
state_failover_free(struct state_failover *f)
{
	free(f->slice);
	free(f->path);
	free(f->pair);
	free(f->from);
	free(f->from_address);
	free(f->to);
	free(f->to_address);
	free(f->step);
	free(f->owner);
	memset(f, 0, sizeof *f);
}

int
state_failover_get(struct state *st, const char *slice, const char *to,
    struct state_failover *f, char **cause)
{
	struct db_stmt *stmt;
	int64_t a = 0, b = 0, id;
	char *state = NULL;
	int rc;

	memset(f, 0, sizeof *f);
	if ((stmt = st_prepare(st, "SELECT s.id, s.name, s.path, p.name, "
	    "sv.id, sv.name, sv.address, s.failover, s.failover_owner, "
	    "s.failover_since, s.failed_over, p.server_a, p.server_b, "
	    "s.state FROM slices s JOIN pairs p ON p.id = s.pair_id "
	    "JOIN servers sv ON sv.id = s.server_id WHERE s.name = ?",
	    cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, slice);
	if ((rc = db_step(stmt)) == DB_ROW) {
		f->slice_id = db_column_int64(stmt, 0);
		f->slice = st_text(stmt, 1);
		f->path = st_text(stmt, 2);
		f->pair = st_text(stmt, 3);
		f->from_id = db_column_int64(stmt, 4);
		f->from = st_text(stmt, 5);
		f->from_address = st_text(stmt, 6);
		f->step = st_text(stmt, 7);
		f->owner = st_text(stmt, 8);
		f->since = db_column_int64(stmt, 9);
		f->failed_over = db_column_int64(stmt, 10);
		a = db_column_int64(stmt, 11);
		b = db_column_int64(stmt, 12);
		state = st_text(stmt, 13);
	}
	db_finalize(stmt);
	if (rc == DB_DONE)
		return fail(cause, "slice '%s' not found; see 'mailshift slice "
		    "list'", slice);
	if (rc != DB_ROW)
		return st_fail(st, cause, "reading the slice");
	if (strcmp(state, "retired") == 0) {
		free(state);
		fail(cause, "slice '%s' is retired: no server serves it",
		    slice);
		goto bad;
	}
	free(state);
	if (to == NULL) {
		id = f->from_id == a ? b : a;
	} else {
		if (st_lookup_id(st, "SELECT id FROM servers WHERE name = ?",
		    to, &id, cause) != 0)
			goto bad;
		if (id == 0) {
			fail(cause, "server '%s' not found; see 'mailshift "
			    "server list'", to);
			goto bad;
		}
		if (id != a && id != b) {
			fail(cause, "server '%s' is not in pair '%s' of slice "
			    "'%s'; a slice fails over to the other server of "
			    "its pair", to, f->pair, slice);
			goto bad;
		}
	}
	if ((stmt = st_prepare(st, "SELECT name, address FROM servers WHERE "
	    "id = ?", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, id);
	if ((rc = db_step(stmt)) == DB_ROW) {
		f->to_id = id;
		f->to = st_text(stmt, 0);
		f->to_address = st_text(stmt, 1);
	}
	db_finalize(stmt);
	if (rc != DB_ROW) {
		st_fail(st, cause, "reading the server");
		goto bad;
	}
	return 0;
bad:
	state_failover_free(f);
	return -1;
}

char *
state_failover_owner(long pid)
{
	char host[256], *id = proc_identity(pid), *s;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	s = xasprintf("%s %ld %s", host, pid, id ? id : "-");
	free(id);
	return s;
}

int
state_failover_owner_alive(const char *owner)
{
	char host[256], oh[256], ostart[128], *now;
	long pid;
	int alive;

	if (owner == NULL || sscanf(owner, "%255s %ld %127s", oh, &pid,
	    ostart) != 3)
		return 0;
	if (gethostname(host, sizeof host) != 0)
		return 1;
	host[sizeof host - 1] = '\0';
	if (strcmp(oh, host) != 0)
		return 1;
	if ((now = proc_identity(pid)) == NULL)
		return 0;
	alive = strcmp(now, ostart) == 0;
	free(now);
	return alive;
}

int
state_failover_begin(struct state *st, const struct state_failover *f,
    const char *owner, int64_t now, char **cause)
{
	struct db_stmt *stmt;
	char *step = NULL, *theirs = NULL;
	int rc;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "SELECT failover, failover_owner FROM "
	    "slices WHERE id = ?", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, f->slice_id);
	if ((rc = db_step(stmt)) == DB_ROW) {
		step = st_text(stmt, 0);
		theirs = st_text(stmt, 1);
	}
	db_finalize(stmt);
	if (rc != DB_ROW) {
		if (rc == DB_DONE)
			fail(cause, "slice '%s' is gone", f->slice);
		else
			st_fail(st, cause, "reading the slice");
		goto bad;
	}
	if (step != NULL && *step != '\0') {
		if (theirs != NULL && strcmp(theirs, owner) != 0 &&
		    state_failover_owner_alive(theirs)) {
			fail(cause, "slice '%s': a failover is under way (step "
			    "%s, by %s); wait for it to end", f->slice, step,
			    theirs);
			goto bad;
		}
		state_event(st, "slice.failover.takeover", NULL, f->slice,
		    "slice %s: the failover left at step %s by %s, which no "
		    "longer runs, is taken over", f->slice, step,
		    theirs ? theirs : "nobody");
	}
	if ((stmt = st_prepare(st, "UPDATE slices SET failover = 'quiesce', "
	    "failover_owner = ?, failover_since = ?, failover_to = ? WHERE "
	    "id = ?", cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, owner);
	db_bind_int64(stmt, 2, now);
	db_bind_int64(stmt, 3, f->to_id);
	db_bind_int64(stmt, 4, f->slice_id);
	if (st_exec_stmt(st, stmt, cause, "marking the failover") != 0)
		goto bad;
	state_event(st, "slice.failover.begin", NULL, f->slice, "slice %s: "
	    "failover from %s to %s begins; moves touching it pause",
	    f->slice, f->from, f->to);
	free(step);
	free(theirs);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	free(step);
	free(theirs);
	return -1;
}

/* The slice's name, for events; "#id" when it cannot be read. */
static char *
slice_name(struct state *st, int64_t id)
{
	struct db_stmt *stmt;
	char *name = NULL;

	if ((stmt = st_prepare(st, "SELECT name FROM slices WHERE id = ?",
	    NULL)) != NULL) {
		db_bind_int64(stmt, 1, id);
		if (db_step(stmt) == DB_ROW)
			name = st_text(stmt, 0);
		db_finalize(stmt);
	}
	return name ? name : xasprintf("#%lld", (long long)id);
}

int
state_failover_step(struct state *st, int64_t slice_id, const char *owner,
    const char *step, const char *message, char **cause)
{
	struct db_stmt *stmt;
	char *name;

	if ((stmt = st_prepare(st, "UPDATE slices SET failover = ? WHERE id = "
	    "? AND failover <> '' AND failover_owner = ?", cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, step);
	db_bind_int64(stmt, 2, slice_id);
	st_bind_text(stmt, 3, owner);
	if (st_exec_stmt(st, stmt, cause, "recording the failover step") != 0)
		return -1;
	if (db_changes(st->db) != 1)
		return fail(cause, "the failover's mark on the slice is gone "
		    "or another's; stopping");
	name = slice_name(st, slice_id);
	state_event(st, "slice.failover.step", NULL, name, "slice %s: %s",
	    name, message);
	free(name);
	return 0;
}

int
state_failover_switch(struct state *st, int64_t slice_id, int64_t from_id,
    int64_t to_id, const char *owner, int64_t now, const char *message,
    int64_t *bumped, char **cause)
{
	struct db_stmt *stmt;
	char *name = NULL;

	*bumped = 0;
	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, owner != NULL ? "UPDATE slices SET "
	    "server_id = ?, failover = '', failover_owner = NULL, "
	    "failover_since = 0, failover_to = NULL, failed_over = ? WHERE "
	    "id = ? AND server_id = ? AND failover_owner = ?" :
	    "UPDATE slices SET server_id = ?, failed_over = ? WHERE id = ? "
	    "AND server_id = ?", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, to_id);
	db_bind_int64(stmt, 2, now);
	db_bind_int64(stmt, 3, slice_id);
	db_bind_int64(stmt, 4, from_id);
	if (owner != NULL)
		st_bind_text(stmt, 5, owner);
	if (st_exec_stmt(st, stmt, cause, "switching the serving server") != 0)
		goto bad;
	if (db_changes(st->db) != 1) {
		fail(cause, "the slice is no longer served by the server the "
		    "failover started from, or its mark is another's; nothing "
		    "switched");
		goto bad;
	}
	if ((stmt = st_prepare(st, "UPDATE accounts SET generation = "
	    "generation + 1 WHERE slice_id = ?", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, slice_id);
	if (st_exec_stmt(st, stmt, cause, "bumping generations") != 0)
		goto bad;
	*bumped = db_changes(st->db);
	name = slice_name(st, slice_id);
	state_event(st, "slice.failover", NULL, name, "slice %s: %s; %lld "
	    "accounts one generation on", name, message, (long long)*bumped);
	free(name);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	*bumped = 0;
	return -1;
}

int
state_failover_abort(struct state *st, int64_t slice_id, const char *owner,
    const char *reason, char **cause)
{
	struct db_stmt *stmt;
	char *name;

	if ((stmt = st_prepare(st, "UPDATE slices SET failover = '', "
	    "failover_owner = NULL, failover_since = 0, failover_to = NULL "
	    "WHERE id = ? AND failover_owner = ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	st_bind_text(stmt, 2, owner);
	if (st_exec_stmt(st, stmt, cause, "clearing the failover") != 0)
		return -1;
	name = slice_name(st, slice_id);
	state_event(st, "slice.failover.failed", NULL, name, "slice %s: "
	    "failover stopped, nothing switched: %s", name, reason);
	free(name);
	return 0;
}

int
state_failover_marked(struct state *st, int64_t **ids, size_t *n,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((stmt = st_prepare(st, "SELECT id FROM slices WHERE failover <> "
	    "'' ORDER BY id", cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
		(*ids)[(*n)++] = db_column_int64(stmt, 0);
	}
	db_finalize(stmt);
	if (rc != DB_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return st_fail(st, cause, "reading failovers");
	}
	return 0;
}

int
state_failover_busy_moves(struct state *st, int64_t slice_id, int *n,
    int64_t *one, char **cause)
{
	struct db_stmt *stmt;
	char *stored, *now;
	int64_t pid;
	int rc;

	*n = 0;
	*one = 0;
	if ((stmt = st_prepare(st, "SELECT id, owner_pid, owner_start FROM "
	    "moves WHERE (source_slice = ?1 OR target_slice = ?1) AND "
	    "owner_pid IS NOT NULL AND state IN " OPEN_STATES, cause)) ==
	    NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	while ((rc = db_step(stmt)) == DB_ROW) {
		pid = db_column_int64(stmt, 1);
		stored = st_text(stmt, 2);
		now = proc_identity((long)pid);
		if (now != NULL && (stored == NULL ||
		    strcmp(now, stored) == 0)) {
			(*n)++;
			if (*one == 0)
				*one = db_column_int64(stmt, 0);
		}
		free(now);
		free(stored);
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading moves");
	return 0;
}
