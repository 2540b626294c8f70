/* The catalog: opening, schema migrations, transactions, event log. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_stmt *
st_prepare(struct state *st, const char *sql, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = db_prepare(st->db, sql)) == NULL) {
		fail(cause, "catalog %s: %s", st->name, db_errmsg(st->db));
		return NULL;
	}
	return stmt;
}

int
st_fail(struct state *st, char **cause, const char *what)
{
	return fail(cause, "catalog %s: %s: %s", st->name, what,
	    db_errmsg(st->db));
}

char *
st_text(struct db_stmt *stmt, int col)
{
	const char *s = db_column_text(stmt, col);

	return s == NULL ? NULL : xstrdup(s);
}

void
st_bind_text(struct db_stmt *stmt, int idx, const char *s)
{
	db_bind_text(stmt, idx, s);
}

int
st_exec_stmt(struct state *st, struct db_stmt *stmt, char **cause,
    const char *what)
{
	int rc = db_step(stmt);

	if (rc != DB_DONE && rc != DB_ROW) {
		st_fail(st, cause, what);
		db_finalize(stmt);
		return -1;
	}
	db_finalize(stmt);
	return 0;
}

int
st_best_effort(struct state *st, struct db_stmt *stmt)
{
	int saved = st->engine == DB_PGSQL && st->in_tx, rc;

	if (saved && db_exec(st->db, "SAVEPOINT best_effort") != 0)
		return -1;
	rc = db_step(stmt) == DB_DONE ? 0 : -1;
	if (saved)
		db_exec(st->db, rc == 0 ? "RELEASE SAVEPOINT best_effort" :
		    "ROLLBACK TO SAVEPOINT best_effort");
	return rc;
}

int
st_insert_id(struct state *st, struct db_stmt *stmt, int64_t *id,
    char **cause, const char *what)
{
	int rc = db_step(stmt);

	if (rc == DB_ROW) {
		*id = db_column_int64(stmt, 0);
		/* Read to the end: the statement is complete. */
		while ((rc = db_step(stmt)) == DB_ROW)
			;
	} else if (rc == DB_DONE) {
		db_finalize(stmt);
		return fail(cause, "catalog %s: %s: no row was inserted",
		    st->name, what);
	}
	if (rc != DB_DONE) {
		st_fail(st, cause, what);
		db_finalize(stmt);
		return -1;
	}
	db_finalize(stmt);
	return 0;
}

/* The id of the row named by sql (one bound name), 0 when none. */
int
st_lookup_id(struct state *st, const char *sql, const char *name, int64_t *id,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, sql, cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, name);
	rc = db_step(stmt);
	*id = rc == DB_ROW ? db_column_int64(stmt, 0) : 0;
	db_finalize(stmt);
	if (rc != DB_ROW && rc != DB_DONE)
		return st_fail(st, cause, "looking up a name");
	return 0;
}

/* Run SQL without parameters (migrations, setup). */
static int
exec_sql(struct state *st, const char *sql, char **cause, const char *what)
{
	if (db_exec(st->db, sql) != 0)
		return fail(cause, "catalog %s: %s: %s", st->name, what,
		    db_errmsg(st->db));
	return 0;
}

/*
 * Apply migrations from the catalog's version up to target, in one
 * transaction. The mark is read again under the writer lock: another
 * process may have upgraded (or created) the catalog meanwhile.
 */
static int
migrate(struct state *st, int target, char **cause)
{
	const char *const *steps = st->engine == DB_PGSQL ?
	    st_pgsql_migrations : st_sqlite_migrations;
	int64_t appid, version;
	int empty, v;

	if (state_begin(st, cause) != 0)
		return -1;
	if (st->db->drv->mark_get(st->db, &appid, &version, &empty) != 0) {
		st_fail(st, cause, "reading the schema version");
		goto bad;
	}
	if (version > target || (version == 0 && !empty)) {
		fail(cause, "catalog %s changed while it was being opened; "
		    "try again", st->name);
		goto bad;
	}
	for (v = (int)version; v < target; v++) {
		if (exec_sql(st, steps[v], cause, "upgrading schema") != 0)
			goto bad;
	}
	if (st->db->drv->mark_set(st->db, STATE_APPLICATION_ID, target) != 0) {
		st_fail(st, cause, "upgrading schema");
		goto bad;
	}
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

/*
 * Look at what the catalog is before writing anything to it: refuse a
 * database that is not ours or is from a newer mailshift, and tell a
 * fresh one apart.
 */
static int
check_mark(struct state *st, int create, int target, char **cause)
{
	const char *kind = st->engine == DB_PGSQL ? "a PostgreSQL schema" :
	    "an SQLite database";
	int64_t appid, version;
	int empty;

	if (st->db->drv->mark_get(st->db, &appid, &version, &empty) != 0)
		return fail(cause, "%s is not a mailshift catalog (%s); check "
		    "--db or the catalog in the config", st->name,
		    db_errmsg(st->db));
	if (appid == 0 && version == 0 && empty) {
		if (!create)
			return fail(cause, "%s is empty, not a catalog; "
			    "create one with 'mailshift init'", st->name);
		st->version_found = 0;
		return 0;
	}
	if (appid != STATE_APPLICATION_ID)
		return fail(cause, "%s is %s but not a mailshift catalog "
		    "(application_id %#llx); refusing to touch it, check "
		    "--db", st->name, kind, (unsigned long long)appid);
	if (version > STATE_SCHEMA_VERSION)
		return fail(cause, "catalog %s has schema version %lld, newer "
		    "than this mailshift understands (%d); use a newer "
		    "mailshift", st->name, (long long)version,
		    STATE_SCHEMA_VERSION);
	if (version < 1 || version > target)
		return fail(cause, "catalog %s has schema version %lld, which "
		    "this build cannot open at version %d", st->name,
		    (long long)version, target);
	st->version_found = (int)version;
	return 0;
}

/* Open at a given schema version (the current one outside tests). */
static struct state *
open_at(const char *target, int create, int version, char **cause)
{
	struct state *st;

	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(target);
	st->engine = db_engine_of(target);
	st->name = st->engine == DB_PGSQL ? db_pgsql_display(target) :
	    xstrdup(target);
	if ((st->db = db_open(target, create, cause)) == NULL)
		goto bad;
	if (check_mark(st, create, version, cause) != 0)
		goto bad;
	if (st->db->drv->setup(st->db) != 0) {
		st_fail(st, cause, "setting up");
		goto bad;
	}
	if (st->version_found < version && migrate(st, version, cause) != 0)
		goto bad;
	return st;
bad:
	state_close(st);
	return NULL;
}

struct state *
state_open(const char *path, int create, char **cause)
{
	return open_at(path, create, STATE_SCHEMA_VERSION, cause);
}

struct state *
state_open_version(const char *path, int version, char **cause)
{
	if (version < 1 || version > STATE_SCHEMA_VERSION) {
		fail(cause, "no schema version %d", version);
		return NULL;
	}
	return open_at(path, 1, version, cause);
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	db_close(st->db);
	free(st->path);
	free(st->name);
	free(st);
}

int
state_version_found(const struct state *st)
{
	return st->version_found;
}

int
state_begin(struct state *st, char **cause)
{
	if (st->db->drv->begin(st->db) != 0)
		return st_fail(st, cause, "starting a transaction");
	st->in_tx = 1;
	return 0;
}

int
state_commit(struct state *st, char **cause)
{
	if (st->db->drv->commit(st->db) != 0) {
		st_fail(st, cause, "committing");
		state_rollback(st);
		return -1;
	}
	st->in_tx = 0;
	return 0;
}

void
state_rollback(struct state *st)
{
	st->db->drv->rollback(st->db);
	st->in_tx = 0;
}

int64_t
state_data_version(struct state *st)
{
	return st->db->drv->data_version(st->db);
}

int
state_event(struct state *st, const char *kind, const char *user,
    const char *slice, const char *fmt, ...)
{
	struct db_stmt *stmt;
	va_list ap;
	char *msg;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	stmt = st_prepare(st, "INSERT INTO events (ts, kind, \"user\", slice, "
	    "message) VALUES (?, ?, ?, ?, ?)", NULL);
	if (stmt == NULL) {
		free(msg);
		return -1;
	}
	db_bind_int64(stmt, 1, now_unix());
	st_bind_text(stmt, 2, kind);
	st_bind_text(stmt, 3, user);
	st_bind_text(stmt, 4, slice);
	st_bind_text(stmt, 5, msg);
	rc = st_best_effort(st, stmt);
	db_finalize(stmt);
	free(msg);
	return rc;
}

const char *
state_path(const struct state *st)
{
	return st->path;
}

const char *
state_name(const struct state *st)
{
	return st->name;
}

const char *
state_engine(const struct state *st)
{
	return st->db->drv->name;
}
