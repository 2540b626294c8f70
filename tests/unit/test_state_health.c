/*
 * Unit tests of the health the daemon's watch records in the catalog
 * (state/slice.c, state/server.c) on a real temporary catalog, either
 * engine: what a change writes and what a repeat does not, since when,
 * the events, refused input, the account a probe reads, and a version 9
 * catalog upgraded to carry health.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include "state/state.h"
#include "state/account.h"
#include "state/pair.h"
#include "state/server.h"
#include "state/slice.h"

#include "catalogfix.h"

struct fixture {
	char		*dir;
	char		*db;
	struct state	*st;
	int64_t		 slice[3];	/* ids of s1, s2; [0] unused */
};

/* Slices s1 and s2 of pair p1 (servers mx1, mx2), no accounts. */
static int
setup(void **arg)
{
	struct fixture *f = calloc(1, sizeof *f);

	f->dir = test_tmpdir();
	if ((f->st = test_catalog_fleet(f->dir, &f->db, 2, f->slice)) == NULL)
		return -1;
	*arg = f;
	return 0;
}

static int
teardown(void **arg)
{
	struct fixture *f = *arg;

	state_close(f->st);
	free(f->db);
	test_rm_rf(f->dir);
	free(f);
	return 0;
}

/* The one number a query gives on the test's catalog, either engine, as
 * another session would read it. */
static long long
count(const char *catalog, const char *fmt, ...)
{
	long long n = -1;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (strchr(catalog, '=') != NULL) {
		PGconn *conn = PQconnectdb(catalog);
		PGresult *r = PQexec(conn, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			n = atoll(PQgetvalue(r, 0, 0));
		else
			fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
		PQclear(r);
		PQfinish(conn);
	} else {
		sqlite3_stmt *stmt;
		sqlite3 *db;

		if (sqlite3_open(catalog, &db) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
			if (sqlite3_step(stmt) == SQLITE_ROW)
				n = sqlite3_column_int64(stmt, 0);
			sqlite3_finalize(stmt);
		} else
			fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_close(db);
	}
	free(sql);
	assert_true(n >= 0);
	return n;
}

/* Whether a statement runs on the test's catalog, either engine. */
static int
sql_ok(const char *catalog, const char *sql)
{
	int ok;

	if (strchr(catalog, '=') != NULL) {
		PGconn *conn = PQconnectdb(catalog);
		PGresult *r = PQexec(conn, sql);

		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		PQfinish(conn);
	} else {
		sqlite3 *db;

		ok = sqlite3_open(catalog, &db) == SQLITE_OK &&
		    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
		sqlite3_close(db);
	}
	return ok;
}

/* Slice name's health, reason and since, and its admin state. */
static void
assert_slice_health(struct state *st, const char *name, const char *health,
    const char *reason, int64_t since, const char *state)
{
	struct state_slice s;

	assert_ok(state_slice_get(st, name, &s, &cause));
	assert_string_equal(s.health, health);
	assert_string_equal(s.health_reason, reason);
	assert_int_equal(s.health_since, since);
	assert_string_equal(s.state, state);
	state_slice_free(&s);
}

/*
 * A change writes health, reason and since with one event; saying the
 * same again writes nothing; a new reason alone is written but keeps
 * since; the admin's state is never touched.
 */
static void
test_slice_set_health(void **arg)
{
	struct fixture *f = *arg;
	int64_t s1 = f->slice[1];
	int changed = -1;

	/* A new slice is ok, never changed. */
	assert_slice_health(f->st, "s1", "ok", "", 0, "active");
	assert_ok(state_slice_set_health(f->st, s1, "ok", "", 50, &changed,
	    &cause));
	assert_int_equal(changed, 0);
	assert_slice_health(f->st, "s1", "ok", "", 0, "active");
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'slice.health'"), 0);

	assert_ok(state_slice_set_health(f->st, s1, "degraded", "probe took "
	    "2.5 s", 100, &changed, &cause));
	assert_int_equal(changed, 1);
	assert_slice_health(f->st, "s1", "degraded", "probe took 2.5 s", 100,
	    "active");
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'slice.health' AND slice = 's1' AND message = 'slice s1: "
	    "health ok -> degraded (probe took 2.5 s)'"), 1);

	/* The same again, later: nothing written. */
	changed = -1;
	assert_ok(state_slice_set_health(f->st, s1, "degraded", "probe took "
	    "2.5 s", 200, &changed, &cause));
	assert_int_equal(changed, 0);
	assert_slice_health(f->st, "s1", "degraded", "probe took 2.5 s", 100,
	    "active");
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'slice.health'"), 1);

	/* Only the reason: written, since stays. */
	assert_ok(state_slice_set_health(f->st, s1, "degraded", "probe took "
	    "4.0 s", 300, &changed, &cause));
	assert_int_equal(changed, 1);
	assert_slice_health(f->st, "s1", "degraded", "probe took 4.0 s", 100,
	    "active");
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'slice.health'"), 2);

	assert_ok(state_slice_set_health(f->st, s1, "unresponsive", "probe "
	    "timed out after 10 s", 400, &changed, &cause));
	assert_int_equal(changed, 1);
	assert_slice_health(f->st, "s1", "unresponsive", "probe timed out "
	    "after 10 s", 400, "active");

	/* Back to ok without a reason; the event has none either. */
	assert_ok(state_slice_set_health(f->st, s1, "ok", NULL, 500,
	    &changed, &cause));
	assert_int_equal(changed, 1);
	assert_slice_health(f->st, "s1", "ok", "", 500, "active");
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'slice.health' AND message = 'slice s1: health "
	    "unresponsive -> ok'"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'slice.health'"), 4);

	/* The admin's degraded and the watch's are apart; s2 untouched. */
	assert_ok(state_slice_set_state(f->st, "s1", "degraded", &cause));
	assert_slice_health(f->st, "s1", "ok", "", 500, "degraded");
	assert_ok(state_slice_set_health(f->st, s1, "degraded", "slow", 600,
	    &changed, &cause));
	assert_slice_health(f->st, "s1", "degraded", "slow", 600, "degraded");
	assert_slice_health(f->st, "s2", "ok", "", 0, "active");
}

/* Unknown health and unknown slices are refused and change nothing. */
static void
test_slice_health_refused(void **arg)
{
	static const char *const bad[] = { "", "sick", "OK", "ok ",
	    "active", "retired" };
	struct fixture *f = *arg;
	int changed = -1;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(state_health_valid(bad[i]));
		assert_fails(state_slice_set_health(f->st, f->slice[1], bad[i],
		    "x", 100, &changed, &cause), "unknown health");
		assert_int_equal(changed, 0);
	}
	assert_false(state_health_valid(NULL));
	assert_fails(state_slice_set_health(f->st, f->slice[1], NULL, "x", 100,
	    &changed, &cause), "use ok, degraded or unresponsive");
	for (i = 0; state_health_states[i] != NULL; i++)
		assert_true(state_health_valid(state_health_states[i]));
	assert_int_equal(i, 3);
	assert_fails(state_slice_set_health(f->st, 9999, "degraded", "x", 100,
	    &changed, &cause), "slice 9999 not found; see 'mailshift slice "
	    "list'");
	assert_int_equal(changed, 0);
	assert_slice_health(f->st, "s1", "ok", "", 0, "active");
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'slice.health'"), 0);
	/* The catalog refuses a bad value written past the API too. */
	assert_false(sql_ok(f->db, "UPDATE slices SET health = 'sick'"));
	assert_false(sql_ok(f->db, "UPDATE servers SET health = 'degrade'"));
	assert_true(sql_ok(f->db, "UPDATE servers SET health = 'degraded'"));
	assert_int_equal(count(f->db, "SELECT count(*) FROM slices WHERE "
	    "health = 'ok'"), 2);
}

/* The probe reads the lowest-id account that is not missing. */
static void
test_probe_account(void **arg)
{
	struct fixture *f = *arg;
	struct state_account a;
	char *path = (char *)"unset";

	assert_int_equal(state_slice_probe_account(f->st, f->slice[1], &path,
	    NULL), 1);
	assert_null(path);
	assert_int_equal(state_slice_probe_account(f->st, 9999, &path, NULL),
	    1);
	assert_null(path);

	/* Inserted in this order: ids rise, paths do not. */
	assert_ok(state_account_insert(f->st, "m@x.org", f->slice[1],
	    "x.org/m", 10, 1, 0, "counted", &cause));
	assert_ok(state_account_insert(f->st, "z@x.org", f->slice[1],
	    "x.org/z", 10, 1, 0, "counted", &cause));
	assert_ok(state_account_insert(f->st, "b@x.org", f->slice[1],
	    "x.org/b", 10, 1, 0, "counted", &cause));
	assert_ok(state_account_insert(f->st, "c@x.org", f->slice[2],
	    "x.org/c", 10, 1, 0, "counted", &cause));
	assert_int_equal(state_slice_probe_account(f->st, f->slice[1], &path,
	    NULL), 0);
	assert_string_equal(path, "x.org/m");
	free(path);

	/* A missing account is skipped. */
	assert_ok(state_account_get(f->st, "m@x.org", &a, &cause));
	assert_ok(state_account_set_missing(f->st, a.id, &cause));
	state_account_free(&a);
	assert_int_equal(state_slice_probe_account(f->st, f->slice[1], &path,
	    NULL), 0);
	assert_string_equal(path, "x.org/z");
	free(path);
	assert_int_equal(state_slice_probe_account(f->st, f->slice[2], &path,
	    NULL), 0);
	assert_string_equal(path, "x.org/c");
	free(path);

	/* Every account missing: none to probe. */
	assert_ok(state_account_get(f->st, "c@x.org", &a, &cause));
	assert_ok(state_account_set_missing(f->st, a.id, &cause));
	state_account_free(&a);
	assert_int_equal(state_slice_probe_account(f->st, f->slice[2], &path,
	    NULL), 1);
	assert_null(path);
}

struct server_seen {
	char	 health[16];
	char	 reason[64];
	int64_t	 since;
};

static int
server_cb(const struct state_server *s, void *arg)
{
	struct server_seen *seen = arg;

	if (strcmp(s->name, "mx1") != 0)
		return 0;
	snprintf(seen->health, sizeof seen->health, "%s", s->health);
	snprintf(seen->reason, sizeof seen->reason, "%s", s->health_reason);
	seen->since = s->health_since;
	return 0;
}

/* Server health: the same rules as a slice's, its own event. */
static void
test_server_health(void **arg)
{
	struct fixture *f = *arg;
	struct server_seen seen;
	int changed = -1;

	assert_ok(state_server_list(f->st, server_cb, &seen, &cause));
	assert_string_equal(seen.health, "ok");
	assert_string_equal(seen.reason, "");
	assert_int_equal(seen.since, 0);

	assert_ok(state_server_set_health(f->st, "mx1", "unresponsive",
	    "every slice unresponsive", 100, &changed, &cause));
	assert_int_equal(changed, 1);
	assert_ok(state_server_set_health(f->st, "mx1", "unresponsive",
	    "every slice unresponsive", 200, &changed, &cause));
	assert_int_equal(changed, 0);
	assert_ok(state_server_set_health(f->st, "mx1", "unresponsive",
	    "s1 unresponsive", 300, &changed, &cause));
	assert_int_equal(changed, 1);
	assert_ok(state_server_list(f->st, server_cb, &seen, &cause));
	assert_string_equal(seen.health, "unresponsive");
	assert_string_equal(seen.reason, "s1 unresponsive");
	assert_int_equal(seen.since, 100);
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'server.health'"), 2);
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'server.health' AND message = 'server mx1: health ok -> "
	    "unresponsive (every slice unresponsive)'"), 1);
	/* Its slices keep their own health. */
	assert_slice_health(f->st, "s1", "ok", "", 0, "active");

	assert_fails(state_server_set_health(f->st, "nope", "ok", "", 400,
	    &changed, &cause), "server 'nope' not found; see 'mailshift "
	    "server list'");
	assert_int_equal(changed, 0);
	assert_fails(state_server_set_health(f->st, "mx1", "down", "", 400,
	    &changed, &cause), "unknown health 'down'");
	assert_int_equal(count(f->db, "SELECT count(*) FROM events WHERE "
	    "kind = 'server.health'"), 2);
	assert_int_equal(count(f->db, "SELECT count(*) FROM servers WHERE "
	    "health = 'ok'"), 1);
}

/* A version 9 catalog upgrades: every slice and server ok, never
 * changed, and health can be recorded. */
static void
test_upgrade_from_9(void **arg)
{
	struct fixture *f = *arg;
	struct state *st;
	char *name, path[4096];
	int changed;

	if (test_on_pgsql())
		name = test_catalog_name(f->dir);
	else if (asprintf(&name, "%s/v9.db", f->dir) < 0)
		abort();
	st = state_open_version(name, 9, NULL);
	assert_non_null(st);
	snprintf(path, sizeof path, "%s/old", f->dir);
	assert_ok(state_server_add(st, "mx1", "10.0.0.1", &cause));
	assert_ok(state_server_add(st, "mx2", "10.0.0.2", &cause));
	assert_ok(state_pair_add(st, "p1", "mx1", "mx2", &cause));
	assert_ok(state_slice_add(st, "old", "p1", "mx1", path, 1000,
	    &cause));
	state_close(st);
	assert_int_equal(count(name, "SELECT count(*) FROM slices"), 1);

	st = state_open(name, 0, NULL);
	assert_non_null(st);
	assert_int_equal(state_version_found(st), 9);
	assert_slice_health(st, "old", "ok", "", 0, "active");
	assert_int_equal(count(name, "SELECT count(*) FROM servers WHERE "
	    "health = 'ok' AND health_reason = '' AND health_since = 0"), 2);
	assert_ok(state_slice_set_health(st, test_slice_id(st, "old"),
	    "degraded", "slow", 100, &changed, &cause));
	assert_int_equal(changed, 1);
	assert_slice_health(st, "old", "degraded", "slow", 100, "active");
	state_close(st);
	free(name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slice_set_health, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slice_health_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_account, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server_health, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_9, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("state_health", tests, NULL, NULL);
}
