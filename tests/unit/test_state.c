/* Unit tests of the catalog (state/). */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>

#include "state/state.h"
#include "state/account.h"
#include "state/fleet.h"
#include "state/import.h"
#include "state/metrics.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/route.h"
#include "state/server.h"
#include "state/slice.h"
#include "state/snapshot.h"

struct fixture {
	char		*dir;
	char		*db;
	struct state	*st;
};

static int
setup(void **arg)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;

	f->dir = test_tmpdir();
	f->db = test_catalog_name(f->dir);
	f->st = state_open(f->db, 1, &cause);
	if (f->st == NULL) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
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

/* Expect a call to fail with a cause containing text. */
#define assert_fails(call, text) do {					\
	char *cause = NULL;						\
	assert_int_equal((call), -1);					\
	assert_non_null(cause);						\
	if (strstr(cause, (text)) == NULL)				\
		fail_msg("cause '%s' lacks '%s'", cause, (text));	\
	free(cause);							\
} while (0)

#define assert_ok(call) do {						\
	char *cause = NULL;						\
	if ((call) != 0)						\
		fail_msg("failed: %s", cause ? cause : "?");		\
} while (0)

/* Servers, a pair, two slices: the usual small fleet. */
static void
topology(struct state *st, const char *dir)
{
	char *p1, *p2;

	if (asprintf(&p1, "%s/s1", dir) < 0 || asprintf(&p2, "%s/s2", dir) < 0)
		abort();
	assert_ok(state_server_add(st, "mx1", "10.0.0.1", &cause));
	assert_ok(state_server_add(st, "mx2", "10.0.0.2", &cause));
	assert_ok(state_pair_add(st, "p1", "mx1", "mx2", &cause));
	assert_ok(state_slice_add(st, "s1", "p1", "mx1", p1, 1000, &cause));
	assert_ok(state_slice_add(st, "s2", "p1", "mx2", p2, 2000, &cause));
	free(p1);
	free(p2);
}

static int64_t
slice_id(struct state *st, const char *name)
{
	struct state_slice s;
	int64_t id;

	assert_ok(state_slice_get(st, name, &s, &cause));
	id = s.id;
	state_slice_free(&s);
	return id;
}

/* A new catalog carries the application id and the current version. */
static void
test_create(void **arg)
{
	/* On PostgreSQL: skipped, the SQLite file header (tests/integration/cli.sh checks the mark on both). */
	if (test_on_pgsql())
		skip();
	struct fixture *f = *arg;
	sqlite3 *db;
	sqlite3_stmt *stmt;

	assert_int_equal(state_version_found(f->st), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA application_id", -1,
	    &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), STATE_APPLICATION_ID);
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal(sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	sqlite3_close(db);

	/* Opening again finds the current version and changes nothing. */
	state_close(f->st);
	f->st = state_open(f->db, 0, NULL);
	assert_non_null(f->st);
	assert_int_equal(state_version_found(f->st), STATE_SCHEMA_VERSION);
}

/* A file that is not SQLite is refused and left byte for byte alone. */
static void
test_refuse_not_sqlite(void **arg)
{
	struct fixture *f = *arg;
	char *path, *before, *after;
	size_t n1, n2;

	if (asprintf(&path, "%s/notes.txt", f->dir) < 0)
		abort();
	test_write(path, "these are not the droids you are looking for\n");
	before = slurp(path, &n1);
	assert_fails(state_open(path, 0, &cause) == NULL ? -1 : 0,
	    "not a mailshift catalog");
	assert_fails(state_open(path, 1, &cause) == NULL ? -1 : 0,
	    "not a mailshift catalog");
	after = slurp(path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);
	free(path);
}

/* Another application's SQLite database is refused and not converted. */
static void
test_refuse_foreign_sqlite(void **arg)
{
	struct fixture *f = *arg;
	char *path, *before, *after;
	sqlite3 *db;
	size_t n1, n2;

	if (asprintf(&path, "%s/other.db", f->dir) < 0)
		abort();
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t "
	    "VALUES (42)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	before = slurp(path, &n1);
	assert_fails(state_open(path, 1, &cause) == NULL ? -1 : 0,
	    "not a mailshift catalog");
	after = slurp(path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);
	free(path);
}

/* A catalog from a newer mailshift is refused. */
static void
test_refuse_newer(void **arg)
{
	/* On PostgreSQL: skipped, written through sqlite3 (tests/integration/pgsql.sh has it). */
	if (test_on_pgsql())
		skip();
	struct fixture *f = *arg;
	sqlite3 *db;

	state_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_fails(state_open(f->db, 0, &cause) == NULL ? -1 : 0,
	    "newer than this mailshift");
}

/* A missing catalog, or one in a missing directory, gets a clear error. */
static void
test_missing(void **arg)
{
	struct fixture *f = *arg;
	char *path;

	if (asprintf(&path, "%s/nope/catalog.db", f->dir) < 0)
		abort();
	assert_fails(state_open(path, 1, &cause) == NULL ? -1 : 0,
	    "does not exist");
	assert_fails(state_open(path, 0, &cause) == NULL ? -1 : 0,
	    "mailshift init");
	free(path);
}

/* A version 1 catalog with data is upgraded and keeps the data. */
static void
test_upgrade(void **arg)
{
	struct fixture *f = *arg;
	char *path;
	struct state *st;
	sqlite3 *db;
	sqlite3_stmt *stmt;

	if (asprintf(&path, "%s/old.db", f->dir) < 0)
		abort();
	st = state_open_version(path, 1, NULL);
	assert_non_null(st);
	assert_ok(state_server_add(st, "mx1", "10.0.0.1", &cause));
	state_close(st);

	/* Version 1 has no moves table. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_prepare_v2(db, "SELECT * FROM moves",
	    -1, &stmt, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = state_open(path, 0, NULL);
	assert_non_null(st);
	assert_int_equal(state_version_found(st), 1);
	assert_fails(state_server_add(st, "mx1", "x", &cause),
	    "already exists");
	state_close(st);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM moves",
	    -1, &stmt, NULL), SQLITE_OK);
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), STATE_SCHEMA_VERSION);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(path);
}

static int
count_server(const struct state_server *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static int
count_slice(const struct state_slice *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

/* Servers and pairs: duplicates, unknown names, bad pairs. */
static void
test_topology_errors(void **arg)
{
	struct fixture *f = *arg;
	int n = 0;

	topology(f->st, f->dir);
	assert_fails(state_server_add(f->st, "mx1", "x", &cause),
	    "server 'mx1' already exists");
	assert_ok(state_server_add(f->st, "mx3", "10.0.0.3", &cause));
	assert_fails(state_pair_add(f->st, "p2", "mx3", "mx3", &cause),
	    "two different servers");
	assert_fails(state_pair_add(f->st, "p2", "mx3", "nope", &cause),
	    "server 'nope' not found");
	assert_fails(state_pair_add(f->st, "p1", "mx3", "mx1", &cause),
	    "pair 'p1' already exists");
	assert_fails(state_pair_add(f->st, "p2", "mx3", "mx1", &cause),
	    "already belongs to a pair");
	assert_fails(state_slice_add(f->st, "s1", "p1", "mx1", "/x", 1,
	    &cause), "slice 's1' already exists");
	assert_fails(state_slice_add(f->st, "s3", "p9", "mx1", "/x", 1,
	    &cause), "pair 'p9' not found");
	assert_fails(state_slice_add(f->st, "s3", "p1", "mx3", "/x", 1,
	    &cause), "not in pair");
	assert_fails(state_slice_add(f->st, "s3", "p1", "mx1", "/x", 0,
	    &cause), "capacity");
	assert_fails(state_slice_get(f->st, "s9", &(struct state_slice){ 0 },
	    &cause), "slice 's9' not found");
	assert_ok(state_server_list(f->st, count_server, &n, &cause));
	assert_int_equal(n, 3);
	n = 0;
	assert_ok(state_slice_list(f->st, count_slice, &n, &cause));
	assert_int_equal(n, 2);
}

/* Slice state changes; a slice with accounts cannot be retired. */
static void
test_slice_state(void **arg)
{
	struct fixture *f = *arg;
	struct state_slice s;

	topology(f->st, f->dir);
	assert_ok(state_slice_set_state(f->st, "s1", "draining", &cause));
	assert_ok(state_slice_get(f->st, "s1", &s, &cause));
	assert_string_equal(s.state, "draining");
	state_slice_free(&s);
	assert_fails(state_slice_set_state(f->st, "s1", "broken", &cause),
	    "unknown slice state");
	assert_ok(state_account_insert(f->st, "a@x.org", slice_id(f->st,
	    "s1"), "x.org/a", 10, 1, 0, "counted", &cause));
	assert_fails(state_slice_set_state(f->st, "s1", "retired", &cause),
	    "still holds 1 accounts");
	assert_ok(state_slice_set_state(f->st, "s2", "retired", &cause));
	assert_ok(state_slice_set_capacity(f->st, "s2", 5000, &cause));
	assert_ok(state_slice_get(f->st, "s2", &s, &cause));
	assert_int_equal(s.capacity, 5000);
	state_slice_free(&s);
}

/* Accounts: insert, find, usage sums per slice, missing, route. */
static void
test_accounts_and_route(void **arg)
{
	struct fixture *f = *arg;
	struct state_account a;
	struct state_route r;
	struct state_slice s;
	int64_t s1;
	char *home;

	topology(f->st, f->dir);
	s1 = slice_id(f->st, "s1");
	assert_ok(state_account_insert(f->st, "alice@example.com", s1,
	    "example.com/alice", 300, 3, 1700000000, "counted", &cause));
	assert_ok(state_account_insert(f->st, "bob@example.com", s1,
	    "example.com/bob", 200, 2, 0, "maildirsize", &cause));
	assert_fails(state_account_insert(f->st, "alice@example.com", s1,
	    "x", 1, 1, 0, "counted", &cause), test_on_pgsql() ?
	    "unique constraint" : "UNIQUE");
	assert_int_equal(state_account_find(f->st, "nobody", &a, NULL), 1);
	assert_fails(state_account_get(f->st, "nobody", &a, &cause),
	    "account 'nobody' not found");

	assert_ok(state_slice_get(f->st, "s1", &s, &cause));
	assert_int_equal(s.used, 500);
	assert_int_equal(s.files, 5);
	assert_int_equal(s.accounts, 2);
	state_slice_free(&s);

	assert_ok(state_account_get(f->st, "alice@example.com", &a, &cause));
	assert_string_equal(a.slice, "s1");
	assert_int_equal(a.generation, 1);
	assert_ok(state_account_update_usage(f->st, a.id, 400, 4, 1600000000,
	    "counted", &cause));
	assert_ok(state_account_set_missing(f->st, a.id, &cause));
	state_account_free(&a);
	assert_ok(state_account_get(f->st, "alice@example.com", &a, &cause));
	assert_int_equal(a.bytes, 400);
	/* Activity never goes backwards. */
	assert_int_equal(a.last_activity, 1700000000);
	assert_string_equal(a.state, "missing");
	assert_ok(state_account_update_usage(f->st, a.id, 400, 4, 0,
	    "counted", &cause));
	state_account_free(&a);
	assert_ok(state_account_get(f->st, "alice@example.com", &a, &cause));
	assert_string_equal(a.state, "active");
	state_account_free(&a);

	assert_ok(state_route_get(f->st, "alice@example.com", &r, &cause));
	if (asprintf(&home, "%s/s1/example.com/alice", f->dir) < 0)
		abort();
	assert_string_equal(r.home, home);
	assert_string_equal(r.host, "10.0.0.1");
	assert_string_equal(r.server, "mx1");
	assert_int_equal(r.locked, 0);
	state_route_free(&r);
	free(home);
	assert_fails(state_route_get(f->st, "zed", &r, &cause),
	    "account 'zed' not found");
	assert_ok(state_snapshot_take(f->st, s1, 1700000000, &cause));
}

/* Import is all or nothing and names the bad line. */
static void
test_import(void **arg)
{
	struct fixture *f = *arg;
	struct state_import_stats stats;
	struct state_import *im;
	struct state_account a;

	topology(f->st, f->dir);

	/* An unknown slice on line 3 fails the row; abort keeps nothing. */
	im = state_import_begin(f->st, 0, NULL);
	assert_non_null(im);
	assert_ok(state_import_row(im, 2, "a@x.org", "s1", "x.org/a", 1, 1,
	    &cause));
	assert_fails(state_import_row(im, 3, "b@x.org", "s9", "x.org/b", 1,
	    1, &cause), "line 3: slice 's9' not found");
	state_import_abort(im);
	assert_int_equal(state_account_find(f->st, "a@x.org", &a, NULL), 1);

	/* A user twice: the later line is named, nothing imported. */
	im = state_import_begin(f->st, 0, NULL);
	assert_ok(state_import_row(im, 2, "a@x.org", "s1", "x.org/a", 1, 1,
	    &cause));
	assert_ok(state_import_row(im, 3, "c@x.org", "s1", "x.org/c", 1, 1,
	    &cause));
	assert_ok(state_import_row(im, 4, "a@x.org", "s2", "x.org/a", 1, 1,
	    &cause));
	assert_fails(state_import_finish(im, &stats, &cause),
	    "line 4: account 'a@x.org' appears again (first on line 2)");
	assert_int_equal(state_account_find(f->st, "a@x.org", &a, NULL), 1);

	/* Two users in one directory. */
	im = state_import_begin(f->st, 0, NULL);
	assert_ok(state_import_row(im, 2, "a@x.org", "s1", "x.org/a", 1, 1,
	    &cause));
	assert_ok(state_import_row(im, 3, "b@x.org", "s1", "x.org/a", 1, 1,
	    &cause));
	assert_fails(state_import_finish(im, &stats, &cause),
	    "line 3: path 'x.org/a' on slice 's1' is given twice");

	/* A good import. */
	im = state_import_begin(f->st, 0, NULL);
	assert_ok(state_import_row(im, 2, "a@x.org", "s1", "x.org/a", 10, 1,
	    &cause));
	assert_ok(state_import_row(im, 3, "b@x.org", "s2", "x.org/b", 20, 2,
	    &cause));
	assert_ok(state_import_finish(im, &stats, &cause));
	assert_int_equal(stats.rows, 2);
	assert_int_equal(stats.added, 2);

	/* Same again: unchanged; new sizes: updated. */
	im = state_import_begin(f->st, 0, NULL);
	assert_ok(state_import_row(im, 2, "a@x.org", "s1", "x.org/a", 10, 1,
	    &cause));
	assert_ok(state_import_row(im, 3, "b@x.org", "s2", "x.org/b", 25, 2,
	    &cause));
	assert_ok(state_import_finish(im, &stats, &cause));
	assert_int_equal(stats.unchanged, 1);
	assert_int_equal(stats.updated, 1);
	assert_int_equal(stats.added, 0);

	/* Placing an account elsewhere needs replace, and bumps generation. */
	im = state_import_begin(f->st, 0, NULL);
	assert_ok(state_import_row(im, 2, "a@x.org", "s2", "x.org/a", 10, 1,
	    &cause));
	assert_fails(state_import_finish(im, &stats, &cause),
	    "line 2: account 'a@x.org' is already placed on slice 's1'");
	assert_ok(state_account_get(f->st, "a@x.org", &a, &cause));
	assert_string_equal(a.slice, "s1");
	state_account_free(&a);
	im = state_import_begin(f->st, 1, NULL);
	assert_ok(state_import_row(im, 2, "a@x.org", "s2", "x.org/a", 10, 1,
	    &cause));
	assert_ok(state_import_finish(im, &stats, &cause));
	assert_ok(state_account_get(f->st, "a@x.org", &a, &cause));
	assert_string_equal(a.slice, "s2");
	assert_int_equal(a.generation, 2);
	state_account_free(&a);

	/* A directory that already belongs to another account. */
	im = state_import_begin(f->st, 1, NULL);
	assert_ok(state_import_row(im, 7, "z@x.org", "s2", "x.org/b", 1, 1,
	    &cause));
	assert_fails(state_import_finish(im, &stats, &cause),
	    "line 7: that directory already belongs to account 'b@x.org'");
	assert_int_equal(state_account_find(f->st, "z@x.org", &a, NULL), 1);
}

/* Events are written for changes. */
static void
test_events(void **arg)
{
	/* On PostgreSQL: skipped, read through sqlite3. */
	if (test_on_pgsql())
		skip();
	struct fixture *f = *arg;
	sqlite3 *db;
	sqlite3_stmt *stmt;

	topology(f->st, f->dir);
	assert_int_equal(state_event(f->st, "test", "u@x", "s1", "hello %d",
	    42), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), "
	    "sum(message = 'hello 42') FROM events", -1, &stmt, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	/* 2 servers + 1 pair + 2 slices + the test event. */
	assert_int_equal(sqlite3_column_int(stmt, 0), 6);
	assert_int_equal(sqlite3_column_int(stmt, 1), 1);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/*
 * Every move state round-trips through its catalog name, in enum order;
 * a name that is none is refused and leaves the output alone.
 */
static void
test_move_state_names(void **arg)
{
	static const char *const names[MOVE_NSTATES] = { "queued", "copying",
	    "syncing", "ready", "cutover", "done", "failed", "cancelled" };
	static const char *const bad[] = { "", "bogus", "QUEUED", "queued ",
	    " done", "unknown", "open" };
	enum move_state ms, out;
	size_t i;

	(void)arg;
	for (i = 0; i < MOVE_NSTATES; i++) {
		ms = (enum move_state)i;
		assert_string_equal(state_move_state_name(ms), names[i]);
		out = MOVE_NSTATES;
		assert_int_equal(state_move_state_parse(names[i], &out), 0);
		assert_int_equal(out, ms);
		assert_int_equal(state_move_state_open(ms) != 0,
		    ms <= MOVE_CUTOVER);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		out = MOVE_READY;
		if (state_move_state_parse(bad[i], &out) != -1)
			fail_msg("'%s' parsed as a move state", bad[i]);
		assert_int_equal(out, MOVE_READY);
	}
	out = MOVE_READY;
	assert_int_equal(state_move_state_parse(NULL, &out), -1);
	assert_int_equal(out, MOVE_READY);
	assert_string_equal(state_move_state_name(MOVE_NSTATES), "unknown");
	assert_string_equal(state_move_state_name((enum move_state)-1),
	    "unknown");
}

/* The catalog's CHECK on moves.state takes exactly the enum's names. */
static void
test_move_state_check(void **arg)
{
	/* On PostgreSQL: skipped, written through sqlite3. */
	if (test_on_pgsql())
		skip();
	struct fixture *f = *arg;
	struct state_move_request req = { .user = "a@x.org", .target = "s2",
	    .target_path = "x.org/a" };
	sqlite3_stmt *stmt;
	sqlite3 *db;
	int64_t id;
	int i;

	topology(f->st, f->dir);
	assert_ok(state_account_insert(f->st, "a@x.org", slice_id(f->st,
	    "s1"), "x.org/a", 10, 1, 0, "counted", &cause));
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE moves SET state = ? "
	    "WHERE id = ?", -1, &stmt, NULL), SQLITE_OK);
	for (i = 0; i <= MOVE_NSTATES; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, i < MOVE_NSTATES ?
		    state_move_state_name((enum move_state)i) : "paused", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, id);
		assert_int_equal(sqlite3_step(stmt), i < MOVE_NSTATES ?
		    SQLITE_DONE : SQLITE_CONSTRAINT);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* Queue a move of user to slice to and drive it to done with a lock of
 * lock_ms. */
static int64_t
move_done(struct state *st, const char *user, const char *to,
    int64_t lock_ms)
{
	struct state_move_request req = { .user = user, .target = to,
	    .target_path = user };
	int64_t id, now = time(NULL);

	assert_ok(state_move_create(st, &req, &id, &cause));
	assert_ok(state_move_set_state(st, id, MOVE_QUEUED, MOVE_COPYING,
	    &cause));
	assert_ok(state_move_set_state(st, id, MOVE_COPYING, MOVE_READY,
	    &cause));
	assert_ok(state_move_lock(st, id, now * 1000, now + 60, &cause));
	assert_ok(state_move_commit(st, id, lock_ms, NULL, &cause));
	return id;
}

/* Status counts moves by state; the lock histogram buckets done moves'
 * cutover locks. */
static void
test_metrics(void **arg)
{
	struct fixture *f = *arg;
	static const int64_t bounds[] = { 10, 100, 1000 };
	int64_t counts[MOVE_NSTATES], hist[4], sum, id, s1;
	struct state_move_request req = { .target = "s2" };
	char user[32];
	int i;

	topology(f->st, f->dir);
	s1 = slice_id(f->st, "s1");
	for (i = 1; i <= 7; i++) {
		snprintf(user, sizeof user, "u%d@x.org", i);
		assert_ok(state_account_insert(f->st, user, s1, user, 10, 1, 0,
		    "counted", &cause));
	}
	assert_ok(state_metrics_move_counts(f->st, counts, &cause));
	for (i = 0; i < MOVE_NSTATES; i++)
		assert_int_equal(counts[i], 0);
	assert_ok(state_metrics_lock_histogram(f->st, bounds, 3, hist, &sum,
	    &cause));
	assert_int_equal(hist[0] + hist[1] + hist[2] + hist[3], 0);
	assert_int_equal(sum, 0);

	/* Locks of 10 (on the first bound), 11, 5000 and 2000 ms. */
	move_done(f->st, "u1@x.org", "s2", 10);
	move_done(f->st, "u2@x.org", "s2", 11);
	move_done(f->st, "u3@x.org", "s2", 5000);
	move_done(f->st, "u4@x.org", "s2", 2000);
	req.user = req.target_path = "u5@x.org";
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	req.user = req.target_path = "u6@x.org";
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	assert_ok(state_move_fail(f->st, id, MOVE_CANCELLED, "test", &cause));
	req.user = req.target_path = "u7@x.org";
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	assert_ok(state_move_set_state(f->st, id, MOVE_QUEUED, MOVE_COPYING,
	    &cause));

	assert_ok(state_metrics_move_counts(f->st, counts, &cause));
	assert_int_equal(counts[MOVE_QUEUED], 1);
	assert_int_equal(counts[MOVE_COPYING], 1);
	assert_int_equal(counts[MOVE_DONE], 4);
	assert_int_equal(counts[MOVE_CANCELLED], 1);
	assert_int_equal(counts[MOVE_FAILED], 0);
	assert_ok(state_metrics_lock_histogram(f->st, bounds, 3, hist, &sum,
	    &cause));
	assert_int_equal(hist[0], 1);		/* <= 10 */
	assert_int_equal(hist[1], 1);		/* <= 100 */
	assert_int_equal(hist[2], 0);		/* <= 1000 */
	assert_int_equal(hist[3], 2);		/* above */
	assert_int_equal(sum, 10 + 11 + 5000 + 2000);
}

/* What the planner reads: accounts in id order without strings, the
 * bytes open moves take into and out of a slice, and their accounts. */
struct fleet_seen {
	int64_t	 id[4];
	int64_t	 slice[4];
	uint64_t bytes[4];
	int	 pinned[4];
	int	 n;
	int64_t	 moving[4];
	int	 nmoving;
};

static void
fleet_account_cb(const struct state_fleet_account *a, void *arg)
{
	struct fleet_seen *fs = arg;

	assert_true(fs->n < 4);
	assert_int_equal(a->files, a->bytes / 10);
	assert_int_equal(a->last_activity, 1700000000);
	fs->id[fs->n] = a->id;
	fs->slice[fs->n] = a->slice_id;
	fs->bytes[fs->n] = a->bytes;
	fs->pinned[fs->n++] = a->pinned;
}

static void
fleet_moving_cb(int64_t account_id, int64_t target_slice, void *arg)
{
	struct fleet_seen *fs = arg;

	assert_true(target_slice > 0);
	assert_true(fs->nmoving < 4);
	fs->moving[fs->nmoving++] = account_id;
}

static void
test_fleet(void **arg)
{
	struct fixture *f = *arg;
	struct fleet_seen fs;
	struct state_account a;
	struct state_move_request req = { .target = "s2" };
	uint64_t in, out;
	int64_t s1, s2, id;

	topology(f->st, f->dir);
	s1 = slice_id(f->st, "s1");
	s2 = slice_id(f->st, "s2");
	assert_ok(state_account_insert(f->st, "c@x.org", s2, "x.org/c", 300,
	    30, 1700000000, "counted", &cause));
	assert_ok(state_account_insert(f->st, "a@x.org", s1, "x.org/a", 100,
	    10, 1700000000, "counted", &cause));
	assert_ok(state_account_insert(f->st, "b@x.org", s1, "x.org/b", 200,
	    20, 1700000000, "counted", &cause));
	assert_ok(state_account_set_pinned(f->st, "b@x.org", 1, &cause));

	memset(&fs, 0, sizeof fs);
	assert_ok(state_fleet_accounts(f->st, fleet_account_cb, &fs, &cause));
	assert_int_equal(fs.n, 3);
	assert_true(fs.id[0] < fs.id[1] && fs.id[1] < fs.id[2]);
	assert_int_equal(fs.slice[0], s2);
	assert_int_equal(fs.bytes[0], 300);
	assert_int_equal(fs.bytes[2], 200);
	assert_int_equal(fs.pinned[1], 0);
	assert_int_equal(fs.pinned[2], 1);

	assert_ok(state_fleet_pending(f->st, s1, &in, &out, &cause));
	assert_int_equal(in + out, 0);
	assert_ok(state_fleet_moving(f->st, fleet_moving_cb, &fs, &cause));
	assert_int_equal(fs.nmoving, 0);

	/* a and b go to s2; a's move is cancelled, so only b's counts. */
	req.user = "a@x.org";
	req.target_path = "x.org/a";
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	assert_ok(state_move_fail(f->st, id, MOVE_CANCELLED, "test", &cause));
	req.user = "b@x.org";
	req.target_path = "x.org/b";
	assert_ok(state_move_create(f->st, &req, &id, &cause));
	assert_ok(state_fleet_pending(f->st, s1, &in, &out, &cause));
	assert_int_equal(in, 0);
	assert_int_equal(out, 200);
	assert_ok(state_fleet_pending(f->st, s2, &in, &out, &cause));
	assert_int_equal(in, 200);
	assert_int_equal(out, 0);
	assert_ok(state_fleet_moving(f->st, fleet_moving_cb, &fs, &cause));
	assert_int_equal(fs.nmoving, 1);
	assert_ok(state_account_get(f->st, "b@x.org", &a, &cause));
	assert_int_equal(fs.moving[0], a.id);
	state_account_free(&a);
}

/* data_version changes when another connection commits, which is how the
 * daemon notices requests from the command line. */
static void
test_data_version(void **arg)
{
	struct fixture *f = *arg;
	struct state *other;
	int64_t v;
	int i;

	v = state_data_version(f->st);
	assert_true(v >= 0);
	assert_int_equal(state_data_version(f->st), v);
	other = state_open(f->db, 0, NULL);
	assert_non_null(other);
	assert_ok(state_server_add(other, "mx9", "10.0.0.9", &cause));
	state_close(other);
	/* A server's notification arrives a moment after the commit. */
	for (i = 0; i < 200 && state_data_version(f->st) == v; i++)
		usleep(10000);
	assert_true(state_data_version(f->st) != v);
}

/* A catalog made at each older version upgrades to the current one, on
 * either engine: every migration of each engine runs from every start. */
static void
test_upgrade_every_version(void **arg)
{
	struct fixture *f = *arg;
	struct state *st;
	char *name;
	int v;

	for (v = 1; v < STATE_SCHEMA_VERSION; v++) {
		if (test_on_pgsql())
			name = test_catalog_name(f->dir);
		else if (asprintf(&name, "%s/v%d.db", f->dir, v) < 0)
			abort();
		st = state_open_version(name, v, NULL);
		assert_non_null(st);
		assert_ok(state_server_add(st, "mx0", "10.0.0.99", &cause));
		state_close(st);
		st = state_open(name, 0, NULL);
		assert_non_null(st);
		assert_int_equal(state_version_found(st), v);
		topology(st, f->dir);
		state_close(st);
		st = state_open(name, 0, NULL);
		assert_non_null(st);
		assert_int_equal(state_version_found(st), STATE_SCHEMA_VERSION);
		state_close(st);
		free(name);
	}
}

/* A second writer, on a connection of its own: its transaction begins
 * only once the first one's has ended. */
struct writer {
	const char	*db;
	int64_t		 waited_ms;
	int		 saw;
	int		 ok;
};

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
saw_mx7(const struct state_server *sv, void *arg)
{
	struct writer *w = arg;

	w->saw += strcmp(sv->name, "mx7") == 0;
	return 0;
}

static void *
second_writer(void *arg)
{
	struct writer *w = arg;
	struct state *st;
	int64_t t0;

	if ((st = state_open(w->db, 0, NULL)) == NULL)
		return NULL;
	t0 = ms_now();
	if (state_begin(st, NULL) == 0) {
		w->waited_ms = ms_now() - t0;
		state_server_list(st, saw_mx7, w, NULL);
		w->ok = state_commit(st, NULL) == 0;
	}
	state_close(st);
	return NULL;
}

/* Writers never interleave, on either engine: the cutover's switch is one
 * transaction no other writer can run inside of. */
static void
test_writers_serialised(void **arg)
{
	struct fixture *f = *arg;
	struct writer w = { .db = f->db };
	pthread_t t;

	assert_ok(state_server_add(f->st, "mx7", "10.0.0.7", &cause));
	assert_ok(state_begin(f->st, &cause));
	assert_int_equal(state_event(f->st, "test", NULL, NULL, "held"), 0);
	assert_int_equal(pthread_create(&t, NULL, second_writer, &w), 0);
	usleep(400000);
	assert_ok(state_commit(f->st, &cause));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(w.ok);
	assert_true(w.waited_ms >= 300);
	assert_int_equal(w.saw, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_not_sqlite, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_foreign_sqlite,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_newer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_topology_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slice_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_accounts_and_route, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test(test_move_state_names),
		cmocka_unit_test_setup_teardown(test_move_state_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fleet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_every_version,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_writers_serialised, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_data_version, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
