/*
 * What every cmocka unit test includes, plus temp-directory helpers.
 * cmocka defines a fail() macro that hides util.h's fail(): a test that
 * needs util.h includes it before this header.
 */
#ifndef MAILSHIFT_TESTUTIL_H
#define MAILSHIFT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (or /tmp); free the result with rm_rf. */
static inline char *
test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&p, "%s/mailshift-test.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(p) == NULL)
		abort();
	return p;
}

/*
 * The catalog a test opens: dir/catalog.db, or, when tests/run gives a
 * PostgreSQL server (MAILSHIFT_TEST_PG, a conninfo), a new schema of its
 * own on that server and the conninfo that selects it. Free the result.
 */
static inline char *
test_catalog_name(const char *dir)
{
	const char *pg = getenv("MAILSHIFT_TEST_PG");
	static unsigned serial;
	char *p, *sql;
	PGconn *conn;
	PGresult *r;

	if (pg == NULL || *pg == '\0') {
		if (asprintf(&p, "%s/catalog.db", dir) < 0)
			abort();
		return p;
	}
	if (asprintf(&sql, "CREATE SCHEMA u%d_%u", (int)getpid(),
	    ++serial) < 0)
		abort();
	conn = PQconnectdb(pg);
	r = PQexec(conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "test catalog: %s", PQerrorMessage(conn));
		abort();
	}
	PQclear(r);
	PQfinish(conn);
	free(sql);
	if (asprintf(&p, "%s options='-c search_path=u%d_%u'", pg,
	    (int)getpid(), serial) < 0)
		abort();
	return p;
}

/* Run SQL (no parameters: numbers are formatted in) on the test's
 * catalog, whichever engine holds it, as another session would. */
static inline void
test_exec(const char *catalog, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int ok;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (strchr(catalog, '=') != NULL) {
		PGconn *conn = PQconnectdb(catalog);
		PGresult *r = PQexec(conn, sql);

		ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQresultStatus(r) == PGRES_TUPLES_OK;
		if (!ok)
			fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
		PQclear(r);
		PQfinish(conn);
	} else {
		sqlite3 *db;

		ok = sqlite3_open(catalog, &db) == SQLITE_OK;
		sqlite3_busy_timeout(db, 5000);
		ok = ok && sqlite3_exec(db, sql, NULL, NULL, NULL) ==
		    SQLITE_OK;
		if (!ok)
			fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_close(db);
	}
	free(sql);
	assert_true(ok);
}

/* Is the test running on PostgreSQL (see test_catalog_name)? */
static inline int
test_on_pgsql(void)
{
	const char *pg = getenv("MAILSHIFT_TEST_PG");

	return pg != NULL && *pg != '\0';
}

/* Remove a directory tree made by a test and free its name. */
static inline void
test_rm_rf(char *dir)
{
	char *cmd;

	if (dir == NULL)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
		abort();
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	free(dir);
}

/* Write a whole file (creating parents is the caller's job). */
static inline void
test_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

#endif
