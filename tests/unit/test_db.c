/*
 * Unit tests of the SQLite driver's kept statements (state/db_sqlite.c):
 * a statement prepared again is the one kept, reset and unbound; a text
 * in use twice gets a second statement; the least recently used go when
 * there are more texts than slots; a schema change is seen; a statement
 * may outlive its connection's close.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include "state/db.h"

struct fx {
	char		*dir;
	struct db	*db;
};

static int
setup(void **arg)
{
	struct fx *fx = calloc(1, sizeof *fx);
	char *path, *cause = NULL;

	fx->dir = test_tmpdir();
	if (asprintf(&path, "%s/t.db", fx->dir) < 0)
		abort();
	if ((fx->db = db_open(path, 1, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	free(path);
	assert_int_equal(db_exec(fx->db, "CREATE TABLE t (a INTEGER, b TEXT);"
	    "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')"), 0);
	*arg = fx;
	return 0;
}

static int
teardown(void **arg)
{
	struct fx *fx = *arg;

	db_close(fx->db);
	test_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* The first value of the one row sql gives for parameter v. */
static int64_t
one(struct db *db, const char *sql, int64_t v)
{
	struct db_stmt *s = db_prepare(db, sql);
	int64_t r;

	assert_non_null(s);
	db_bind_int64(s, 1, v);
	assert_int_equal(db_step(s), DB_ROW);
	r = db_column_int64(s, 0);
	db_finalize(s);
	return r;
}

/* Prepared again: no value bound before is left, and an iteration left
 * half-way starts over. */
static void
test_kept_reset(void **arg)
{
	struct fx *fx = *arg;
	const char *ins = "INSERT INTO t VALUES (?, ?)";
	const char *sel = "SELECT a, b FROM t ORDER BY a";
	struct db_stmt *s;

	s = db_prepare(fx->db, ins);
	db_bind_int64(s, 1, 4);
	db_bind_text(s, 2, "four");
	assert_int_equal(db_step(s), DB_DONE);
	db_finalize(s);
	s = db_prepare(fx->db, ins);
	db_bind_int64(s, 1, 5);
	assert_int_equal(db_step(s), DB_DONE);
	db_finalize(s);
	s = db_prepare(fx->db, "SELECT b FROM t WHERE a = ?");
	db_bind_int64(s, 1, 5);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_type(s, 0), DB_NULL);
	db_finalize(s);

	s = db_prepare(fx->db, sel);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int64(s, 0), 2);
	db_finalize(s);
	s = db_prepare(fx->db, sel);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int64(s, 0), 1);
	assert_string_equal(db_column_text(s, 1), "one");
	db_finalize(s);
}

/* The same text twice at once: two statements that do not share rows or
 * bindings. */
static void
test_same_text_nested(void **arg)
{
	struct fx *fx = *arg;
	const char *sql = "SELECT a FROM t WHERE a >= ? ORDER BY a";
	struct db_stmt *x, *y;

	x = db_prepare(fx->db, sql);
	db_bind_int64(x, 1, 1);
	assert_int_equal(db_step(x), DB_ROW);
	assert_int_equal(db_column_int64(x, 0), 1);
	y = db_prepare(fx->db, sql);
	assert_ptr_not_equal(x, y);
	db_bind_int64(y, 1, 3);
	assert_int_equal(db_step(y), DB_ROW);
	assert_int_equal(db_column_int64(y, 0), 3);
	assert_int_equal(db_step(y), DB_DONE);
	assert_int_equal(db_step(x), DB_ROW);
	assert_int_equal(db_column_int64(x, 0), 2);
	db_finalize(y);
	db_finalize(x);
	/* Both gone back: the text prepares and runs as before. */
	assert_int_equal(one(fx->db, sql, 2), 2);
}

/* More texts than the driver keeps: each still gives its own answer,
 * the first ones after the last. */
static void
test_many_texts(void **arg)
{
	struct fx *fx = *arg;
	char sql[64];
	int round, i;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < 200; i++) {
			snprintf(sql, sizeof sql, "SELECT ? + %d", i);
			assert_int_equal(one(fx->db, sql, 1000), 1000 + i);
		}
	}
}

/* A kept statement sees a change of the schema. */
static void
test_schema_change(void **arg)
{
	struct fx *fx = *arg;
	const char *sql = "SELECT * FROM t WHERE a = ?";
	struct db_stmt *s;

	assert_int_equal(one(fx->db, sql, 2), 2);
	assert_int_equal(db_exec(fx->db, "ALTER TABLE t ADD COLUMN c "
	    "INTEGER DEFAULT 7"), 0);
	s = db_prepare(fx->db, sql);
	db_bind_int64(s, 1, 2);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_count(s), 3);
	assert_int_equal(db_column_int64(s, 2), 7);
	db_finalize(s);
}

/* A statement finalized after its connection was closed (the connection
 * goes with the last one, as with sqlite3_close_v2). */
static void
test_finalize_after_close(void **arg)
{
	struct fx *fx = *arg;
	struct db_stmt *a, *b;

	assert_int_equal(one(fx->db, "SELECT a FROM t WHERE a = ?", 3), 3);
	a = db_prepare(fx->db, "SELECT a FROM t WHERE a = ?");
	b = db_prepare(fx->db, "SELECT count(*) FROM t WHERE a > ?");
	db_bind_int64(b, 1, 0);
	assert_int_equal(db_step(b), DB_ROW);
	assert_int_equal(db_column_int64(b, 0), 3);
	db_close(fx->db);
	fx->db = NULL;
	db_finalize(a);
	db_finalize(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept_reset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_same_text_nested, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_texts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema_change, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_finalize_after_close,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
