/* Slices in the catalog: filesystems served by one server of a pair. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/slice.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const state_slice_states[] = {
	"active", "draining", "readonly", "degraded", "retired", NULL
};

const char *const state_health_states[] = {
	"ok", "degraded", "unresponsive", NULL
};

int
state_health_valid(const char *s)
{
	int i;

	for (i = 0; s != NULL && state_health_states[i] != NULL; i++) {
		if (strcmp(s, state_health_states[i]) == 0)
			return 1;
	}
	return 0;
}

int
state_slice_state_valid(const char *s)
{
	int i;

	for (i = 0; state_slice_states[i] != NULL; i++) {
		if (strcmp(s, state_slice_states[i]) == 0)
			return 1;
	}
	return 0;
}

int
state_slice_add(struct state *st, const char *name, const char *pair,
    const char *server, const char *path, uint64_t capacity, char **cause)
{
	struct db_stmt *stmt;
	int64_t id, pid, sid, member;
	char *other = NULL;
	int rc;

	if (capacity == 0 || capacity > INT64_MAX)
		return fail(cause, "slice '%s': capacity must be more than 0 "
		    "and at most 8 EiB", name);
	if (st_lookup_id(st, "SELECT id FROM slices WHERE name = ?", name, &id,
	    cause) != 0)
		return -1;
	if (id != 0)
		return fail(cause, "slice '%s' already exists; see 'mailshift "
		    "slice list'", name);
	if (state_pair_id(st, pair, &pid, cause) != 0 ||
	    state_server_id(st, server, &sid, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "SELECT count(*) FROM pairs WHERE id = ? "
	    "AND ? IN (server_a, server_b)", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, pid);
	db_bind_int64(stmt, 2, sid);
	member = db_step(stmt) == DB_ROW ?
	    db_column_int64(stmt, 0) : 0;
	db_finalize(stmt);
	if (!member)
		return fail(cause, "server '%s' is not in pair '%s'; a slice is "
		    "served by one server of its pair", server, pair);
	if ((stmt = st_prepare(st, "SELECT name FROM slices WHERE path = ?",
	    cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, path);
	if ((rc = db_step(stmt)) == DB_ROW)
		other = st_text(stmt, 0);
	db_finalize(stmt);
	if (other != NULL) {
		fail(cause, "path %s is already slice '%s'", path, other);
		free(other);
		return -1;
	}
	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "INSERT INTO slices (name, pair_id, "
	    "server_id, path, capacity, created) VALUES (?, ?, ?, ?, ?, ?)",
	    cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, name);
	db_bind_int64(stmt, 2, pid);
	db_bind_int64(stmt, 3, sid);
	st_bind_text(stmt, 4, path);
	db_bind_int64(stmt, 5, (int64_t)capacity);
	db_bind_int64(stmt, 6, now_unix());
	if (st_exec_stmt(st, stmt, cause, "adding slice") != 0)
		goto bad;
	state_event(st, "slice.add", NULL, name, "slice %s added at %s on %s "
	    "(pair %s), capacity %llu bytes", name, path, server, pair,
	    (unsigned long long)capacity);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

#define SLICE_SELECT \
	"SELECT s.id, s.name, p.name, sv.name, sv.address, s.path, s.state, " \
	"s.capacity, CAST(coalesce(sum(a.bytes), 0) AS BIGINT), " \
	"CAST(coalesce(sum(a.files), 0) AS BIGINT), " \
	"count(a.id), s.created, s.scanned, s.health, s.health_reason, " \
	"s.health_since, s.ops_capacity, s.io_source FROM slices s " \
	"JOIN pairs p ON p.id = s.pair_id " \
	"JOIN servers sv ON sv.id = s.server_id " \
	"LEFT JOIN accounts a ON a.slice_id = s.id "

/* Fill a slice from a row of SLICE_SELECT; strings are copied. */
static void
slice_from_row(struct db_stmt *stmt, struct state_slice *s)
{
	s->id = db_column_int64(stmt, 0);
	s->name = st_text(stmt, 1);
	s->pair = st_text(stmt, 2);
	s->server = st_text(stmt, 3);
	s->address = st_text(stmt, 4);
	s->path = st_text(stmt, 5);
	s->state = st_text(stmt, 6);
	s->capacity = (uint64_t)db_column_int64(stmt, 7);
	s->used = (uint64_t)db_column_int64(stmt, 8);
	s->files = (uint64_t)db_column_int64(stmt, 9);
	s->accounts = db_column_int64(stmt, 10);
	s->created = db_column_int64(stmt, 11);
	s->scanned = db_column_int64(stmt, 12);
	s->health = st_text(stmt, 13);
	s->health_reason = st_text(stmt, 14);
	s->health_since = db_column_int64(stmt, 15);
	s->ops_capacity = (uint64_t)db_column_int64(stmt, 16);
	s->io_source = st_text(stmt, 17);
}

void
state_slice_free(struct state_slice *s)
{
	free(s->name);
	free(s->pair);
	free(s->server);
	free(s->address);
	free(s->path);
	free(s->state);
	free(s->health);
	free(s->health_reason);
	free(s->io_source);
	memset(s, 0, sizeof *s);
}

int
state_slice_get(struct state *st, const char *name, struct state_slice *s,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	memset(s, 0, sizeof *s);
	if ((stmt = st_prepare(st, SLICE_SELECT "WHERE s.name = ? "
	    "GROUP BY s.id, p.id, sv.id", cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, name);
	rc = db_step(stmt);
	if (rc == DB_ROW)
		slice_from_row(stmt, s);
	db_finalize(stmt);
	if (rc == DB_DONE)
		return fail(cause, "slice '%s' not found; see 'mailshift slice "
		    "list'", name);
	if (rc != DB_ROW)
		return st_fail(st, cause, "reading slice");
	return 0;
}

int
state_slice_list(struct state *st,
    int (*cb)(const struct state_slice *, void *), void *arg, char **cause)
{
	struct db_stmt *stmt;
	struct state_slice s;
	int rc, stop = 0;

	if ((stmt = st_prepare(st, SLICE_SELECT "GROUP BY s.id, p.id, sv.id "
	    "ORDER BY s.name", cause)) == NULL)
		return -1;
	while (!stop && (rc = db_step(stmt)) == DB_ROW) {
		slice_from_row(stmt, &s);
		stop = cb(&s, arg);
		state_slice_free(&s);
	}
	db_finalize(stmt);
	if (!stop && rc != DB_DONE)
		return st_fail(st, cause, "listing slices");
	return 0;
}

int
state_slice_set_state(struct state *st, const char *name, const char *to,
    char **cause)
{
	struct state_slice s;
	struct db_stmt *stmt;

	if (!state_slice_state_valid(to))
		return fail(cause, "unknown slice state '%s'; use active, "
		    "draining, readonly, degraded or retired", to);
	if (state_slice_get(st, name, &s, cause) != 0)
		return -1;
	if (strcmp(to, "retired") == 0 && s.accounts > 0) {
		fail(cause, "slice '%s' still holds %lld accounts; drain it "
		    "first ('mailshift plan drain %s')", name,
		    (long long)s.accounts, name);
		state_slice_free(&s);
		return -1;
	}
	if (state_begin(st, cause) != 0)
		goto bad;
	if ((stmt = st_prepare(st, "UPDATE slices SET state = ? WHERE id = ?",
	    cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, to);
	db_bind_int64(stmt, 2, s.id);
	if (st_exec_stmt(st, stmt, cause, "changing slice state") != 0)
		goto bad;
	state_event(st, "slice.state", NULL, name, "slice %s: %s -> %s", name,
	    s.state, to);
	state_slice_free(&s);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	state_slice_free(&s);
	return -1;
}

/* Which number of a slice state_slice_set_number changes. */
enum slice_number { SLICE_CAPACITY, SLICE_OPS_CAPACITY };

/* Set the capacity or the ops capacity of slice name to v, in a
 * transaction of its own, with its event. */
static int
slice_set_number(struct state *st, const char *name, enum slice_number which,
    uint64_t v, char **cause)
{
	struct state_slice s;
	struct db_stmt *stmt;

	if (state_slice_get(st, name, &s, cause) != 0)
		return -1;
	if (state_begin(st, cause) != 0)
		goto bad;
	if ((stmt = st_prepare(st, which == SLICE_CAPACITY ? "UPDATE slices "
	    "SET capacity = ? WHERE id = ?" : "UPDATE slices SET "
	    "ops_capacity = ? WHERE id = ?", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, (int64_t)v);
	db_bind_int64(stmt, 2, s.id);
	if (st_exec_stmt(st, stmt, cause, which == SLICE_CAPACITY ?
	    "changing slice capacity" : "changing slice ops capacity") != 0)
		goto bad;
	if (which == SLICE_CAPACITY)
		state_event(st, "slice.capacity", NULL, name, "slice %s: "
		    "capacity %llu -> %llu bytes", name,
		    (unsigned long long)s.capacity, (unsigned long long)v);
	else
		state_event(st, "slice.ops_capacity", NULL, name, "slice %s: "
		    "ops capacity %llu -> %llu ops/s (0: [capacity] "
		    "ops_capacity)", name, (unsigned long long)s.ops_capacity,
		    (unsigned long long)v);
	state_slice_free(&s);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	state_slice_free(&s);
	return -1;
}

int
state_slice_set_ops_capacity(struct state *st, const char *name,
    uint64_t ops, char **cause)
{
	if (ops > INT64_MAX)
		return fail(cause, "ops capacity %llu is out of range",
		    (unsigned long long)ops);
	return slice_set_number(st, name, SLICE_OPS_CAPACITY, ops, cause);
}

int
state_slice_set_capacity(struct state *st, const char *name, uint64_t cap,
    char **cause)
{
	if (cap == 0 || cap > INT64_MAX)
		return fail(cause, "capacity must be more than 0");
	return slice_set_number(st, name, SLICE_CAPACITY, cap, cause);
}

int
state_slice_scanned(struct state *st, int64_t id, int64_t when, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE slices SET scanned = ? WHERE "
	    "id = ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, when);
	db_bind_int64(stmt, 2, id);
	return st_exec_stmt(st, stmt, cause, "recording scan time");
}

int
state_slice_forget(struct state *st, const char *name, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "DELETE FROM slices WHERE name = ? AND "
	    "NOT EXISTS (SELECT 1 FROM accounts a WHERE a.slice_id = "
	    "slices.id) AND NOT EXISTS (SELECT 1 FROM moves m WHERE "
	    "slices.id IN (m.source_slice, m.target_slice))", cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, name);
	return st_exec_stmt(st, stmt, cause, "removing slice");
}

/* What st_health_set reads and writes, for a slice and for a server. */
static const struct {
	const char	*what;		/* as messages and commands say it */
	const char	*select;	/* name, health, reason, since by id */
	const char	*update;	/* health, reason, since for id */
	const char	*kind;		/* of the event */
} health_sql[] = {
	[ST_HEALTH_SLICE] = { "slice", "SELECT name, health, health_reason, "
	    "health_since FROM slices WHERE id = ?", "UPDATE slices SET "
	    "health = ?, health_reason = ?, health_since = ? WHERE id = ?",
	    "slice.health" },
	[ST_HEALTH_SERVER] = { "server", "SELECT name, health, "
	    "health_reason, health_since FROM servers WHERE id = ?",
	    "UPDATE servers SET health = ?, health_reason = ?, health_since = "
	    "? WHERE id = ?", "server.health" },
};

int
st_health_set(struct state *st, enum st_health_of of, int64_t id,
    const char *label, const char *health, const char *reason, int64_t when,
    int *changed, char **cause)
{
	const char *what = health_sql[of].what;
	struct db_stmt *stmt;
	char *name = NULL, *old = NULL, *old_reason = NULL;
	int64_t since = 0;
	int rc;

	*changed = 0;
	if (reason == NULL)
		reason = "";
	if (!state_health_valid(health))
		return fail(cause, "unknown health '%s'; use ok, degraded or "
		    "unresponsive", health != NULL ? health : "");
	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, health_sql[of].select, cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, id);
	if ((rc = db_step(stmt)) == DB_ROW) {
		name = st_text(stmt, 0);
		old = st_text(stmt, 1);
		old_reason = st_text(stmt, 2);
		since = db_column_int64(stmt, 3);
	}
	db_finalize(stmt);
	if (rc == DB_DONE) {
		fail(cause, "%s not found; see 'mailshift %s list'", label,
		    what);
		goto bad;
	}
	if (rc != DB_ROW) {
		st_fail(st, cause, of == ST_HEALTH_SLICE ? "reading slice" :
		    "reading server");
		goto bad;
	}
	if (strcmp(old, health) == 0 && strcmp(old_reason, reason) == 0) {
		/* The watch says again what the catalog has: no write. */
		state_rollback(st);
		rc = 0;
		goto out;
	}
	if (strcmp(old, health) != 0)
		since = when;
	if ((stmt = st_prepare(st, health_sql[of].update, cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, health);
	st_bind_text(stmt, 2, reason);
	db_bind_int64(stmt, 3, since);
	db_bind_int64(stmt, 4, id);
	if (st_exec_stmt(st, stmt, cause, of == ST_HEALTH_SLICE ?
	    "recording slice health" : "recording server health") != 0)
		goto bad;
	state_event(st, health_sql[of].kind, NULL, of == ST_HEALTH_SLICE ?
	    name : NULL, "%s %s: health %s -> %s%s%s%s", what, name, old,
	    health, *reason != '\0' ? " (" : "", reason, *reason != '\0' ?
	    ")" : "");
	if ((rc = state_commit(st, cause)) == 0)
		*changed = 1;
	goto out;
bad:
	state_rollback(st);
	rc = -1;
out:
	free(name);
	free(old);
	free(old_reason);
	return rc;
}

int
state_slice_set_health(struct state *st, int64_t id, const char *health,
    const char *reason, int64_t when, int *changed, char **cause)
{
	char label[48];

	snprintf(label, sizeof label, "slice %lld", (long long)id);
	return st_health_set(st, ST_HEALTH_SLICE, id, label, health, reason,
	    when, changed, cause);
}

int
state_slice_probe_account(struct state *st, int64_t id, char **path,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	*path = NULL;
	if ((stmt = st_prepare(st, "SELECT path FROM accounts WHERE "
	    "slice_id = ? AND state <> 'missing' ORDER BY id LIMIT 1",
	    cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, id);
	if ((rc = db_step(stmt)) == DB_ROW)
		*path = st_text(stmt, 0);
	db_finalize(stmt);
	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE)
		return 1;
	return st_fail(st, cause, "reading accounts");
}

int
state_slice_receives(const struct state_slice *s, char **cause)
{
	if (strcmp(s->state, "active") != 0)
		return fail(cause, "slice '%s' is %s and receives no accounts; "
		    "choose an active slice (see 'mailshift slice list')",
		    s->name, s->state);
	if (strcmp(s->health, "ok") != 0)
		return fail(cause, "slice '%s' is %s (%s) and receives no "
		    "accounts until the health watch finds it ok; choose "
		    "another slice (see 'mailshift slice list')", s->name,
		    s->health, s->health_reason);
	return 0;
}
