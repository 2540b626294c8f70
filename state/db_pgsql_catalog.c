/*
 * The PostgreSQL driver, the catalog's side: its mark (the one-row table
 * mailshift_catalog), the notifications the daemon listens for, the
 * one-daemon session lock, bulk loads by COPY, and a conninfo as messages
 * show it.
 */
#define _GNU_SOURCE
#include "state/db_pgsql_int.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The mark is the one row of the table mailshift_catalog in the
 * catalog's schema (the first of search_path). */
int
pg_mark_get(struct db *base, int64_t *appid, int64_t *version, int *empty)
{
	struct pg_db *db = (struct pg_db *)base;
	PGresult *r;
	int objects, has_mark;

	*appid = *version = 0;
	pg_park(db);
	if ((r = pg_query(db, "SELECT count(*), count(*) FILTER (WHERE "
	    "c.relname = 'mailshift_catalog' AND c.relkind = 'r') FROM "
	    "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
	    "n.nspname = current_schema()", PGRES_TUPLES_OK)) == NULL)
		return -1;
	objects = atoi(PQgetvalue(r, 0, 0));
	has_mark = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	*empty = objects == 0;
	if (!has_mark)
		return 0;
	if ((r = pg_query(db, "SELECT application_id, schema_version FROM "
	    "mailshift_catalog WHERE id = 1", PGRES_TUPLES_OK)) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		*appid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		*version = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	return 0;
}

int
pg_mark_set(struct db *base, int64_t appid, int64_t version)
{
	char sql[512];

	snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS "
	    "mailshift_catalog (id INTEGER PRIMARY KEY CHECK (id = 1), "
	    "application_id BIGINT NOT NULL, schema_version INTEGER NOT "
	    "NULL); INSERT INTO mailshift_catalog VALUES (1, %lld, %lld) ON "
	    "CONFLICT (id) DO UPDATE SET application_id = "
	    "excluded.application_id, schema_version = "
	    "excluded.schema_version", (long long)appid, (long long)version);
	return pg_exec(base, sql);
}

int
pg_setup(struct db *db)
{
	(void)db;
	return 0;
}

/* Count the commits other sessions announced (the catalog's triggers
 * notify the channel mailshift with the schema as payload). */
int64_t
pg_data_version(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;
	PGnotify *n;
	int self;

	pg_park(db);
	if (pg_ensure(db) != 0)
		return -1;
	if (!db->listening) {
		db->listening = 1;
		if (pg_run(db, "LISTEN mailshift") != 0)
			return -1;
	}
	if (!PQconsumeInput(db->conn)) {
		pg_conn_err(db);
		return -1;
	}
	self = PQbackendPID(db->conn);
	while ((n = PQnotifies(db->conn)) != NULL) {
		if (n->be_pid != self && db->schema != NULL &&
		    strcmp(n->extra, db->schema) == 0)
			db->notified++;
		PQfreemem(n);
	}
	return db->notified;
}

int
pg_session_lock(struct db *base, int *got)
{
	struct pg_db *db = (struct pg_db *)base;

	pg_park(db);
	if (pg_ensure(db) != 0 || pg_take_lock(db, got) != 0)
		return -1;
	if (*got)
		db->daemon_lock = 1;
	return 0;
}

int
pg_session_lock_lost(struct db *base)
{
	return ((struct pg_db *)base)->lock_lost;
}

int
pg_notify_fd(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;

	return PQstatus(db->conn) == CONNECTION_OK ? PQsocket(db->conn) : -1;
}

int64_t
pg_session_epoch(struct db *base)
{
	return ((struct pg_db *)base)->epoch;
}

int
pg_copy_begin(struct db *base, const char *sql)
{
	struct pg_db *db = (struct pg_db *)base;
	PGresult *r;

	pg_park(db);
	if (pg_ensure(db) != 0)
		return -1;
	if ((r = pg_query(db, sql, PGRES_COPY_IN)) == NULL)
		return -1;
	PQclear(r);
	return 0;
}

int
pg_copy_line(struct db *base, const char *line, size_t len)
{
	struct pg_db *db = (struct pg_db *)base;

	if (PQputCopyData(db->conn, line, (int)len) != 1) {
		pg_conn_err(db);
		return -1;
	}
	return 0;
}

int
pg_copy_end(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;
	PGresult *r;
	int rc = 0;

	if (PQputCopyEnd(db->conn, NULL) != 1) {
		pg_conn_err(db);
		return -1;
	}
	while ((r = PQgetResult(db->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_err(db, PQresultErrorMessage(r));
			rc = -1;
		}
		PQclear(r);
	}
	return rc;
}

/* target without its password, for messages: the keys a reader needs to
 * know which server and database are meant. */
char *
db_pgsql_display(const char *target)
{
	static const char *const keys[] = { "user", "host", "hostaddr",
	    "port", "dbname", "options", "target_session_attrs" };
	PQconninfoOption *opts, *o;
	char *out = NULL, *errmsg = NULL, *t;
	size_t i;

	if ((opts = PQconninfoParse(target, &errmsg)) == NULL) {
		PQfreemem(errmsg);
		return xstrdup("(a PostgreSQL catalog whose conninfo does not "
		    "parse)");
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		for (o = opts; o->keyword != NULL; o++) {
			if (strcmp(o->keyword, keys[i]) != 0 ||
			    o->val == NULL || o->val[0] == '\0')
				continue;
			t = xasprintf("%s%s%s=%s", out ? out : "", out ? " " :
			    "", o->keyword, o->val);
			free(out);
			out = t;
		}
	}
	PQconninfoFree(opts);
	return out != NULL ? out : xstrdup("(PostgreSQL defaults)");
}
