/* Unit tests of nesting account directories in the catalog (state/). */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"

#include "state/state.h"
#include "state/account.h"
#include "state/import.h"
#include "state/move.h"
#include "catalogfix.h"

struct fixture {
	char		*dir;
	char		*db;
	struct state	*st;
	int64_t		 ids[3];
};

static int
setup(void **arg)
{
	struct fixture *f = calloc(1, sizeof *f);

	f->dir = test_tmpdir();
	if ((f->st = test_catalog_fleet(f->dir, &f->db, 2, f->ids)) == NULL)
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

/* Import rows "user slice path" (lines from 2), all or nothing. */
static int
import(struct state *st, int replace, const char *const *rows, int n,
    char **cause)
{
	struct state_import *im;
	char user[64], slice[16], path[128];
	int i;

	if ((im = state_import_begin(st, replace, cause)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(rows[i], "%63s %15s %127s", user, slice, path) != 3)
			abort();
		if (state_import_row(im, i + 2, user, slice, path, 0, 0,
		    cause) != 0) {
			state_import_abort(im);
			return -1;
		}
	}
	return state_import_finish(im, NULL, cause);
}

/* The account nesting with path on slice i, as "user path", or "". */
static char *
nesting(struct fixture *f, int i, const char *path, const char *except)
{
	char *user, *other, *out;

	assert_true(state_account_nesting(f->st, f->ids[i], path, except,
	    &user, &other, NULL) >= 0);
	if (user == NULL)
		return strdup("");
	if (asprintf(&out, "%s %s", user, other) < 0)
		abort();
	free(user);
	free(other);
	return out;
}

#define assert_nesting(f, i, path, except, want) do {			\
	char *got = nesting((f), (i), (path), (except));		\
	assert_string_equal(got, (want));				\
	free(got);							\
} while (0)

static void
test_nesting_query(void **arg)
{
	struct fixture *f = *arg;
	static const char *const rows[] = {
		"a@x.org s1 x.org/a", "b@x.org s1 x_org", "c@x.org s1 p%",
		"d@x.org s2 x.org",
	};

	assert_ok(import(f->st, 0, rows, 4, &cause));
	assert_nesting(f, 1, "x.org/a", NULL, "a@x.org x.org/a");
	assert_nesting(f, 1, "x.org/a", "a@x.org", "");
	assert_nesting(f, 1, "x.org/a/.Real", NULL, "a@x.org x.org/a");
	assert_nesting(f, 1, "x.org", NULL, "a@x.org x.org/a");
	assert_nesting(f, 1, "x.org/ab", NULL, "");
	assert_nesting(f, 1, "x.or", NULL, "");
	/* No pattern matching: '_' and '%' are themselves. */
	assert_nesting(f, 1, "xyorg/b", NULL, "");
	assert_nesting(f, 1, "x_org/b", NULL, "b@x.org x_org");
	assert_nesting(f, 1, "pq/c", NULL, "");
	assert_nesting(f, 1, "p%/c", NULL, "c@x.org p%");
	/* Another slice is another tree. */
	assert_nesting(f, 2, "x.org/a", NULL, "d@x.org x.org");
	assert_nesting(f, 2, "y.org", NULL, "");
}

static void
test_import_refuses_nesting(void **arg)
{
	struct fixture *f = *arg;
	struct state_account a;
	static const char *const first[] = { "a@x.org s1 x.org/a" };
	static const char *const parent[] = { "d@x.org s1 x.org" };
	static const char *const child[] = { "e@x.org s1 x.org/a/.Real" };
	static const char *const both[] = { "z@x.org s2 z", "d@x.org s2 x.org",
	    "e@x.org s2 x.org/e" };
	static const char *const away[] = { "a@x.org s2 x.org/a",
	    "d@x.org s1 x.org" };

	assert_ok(import(f->st, 0, first, 1, &cause));
	assert_fails(import(f->st, 0, parent, 1, &cause), "line 2: 'x.org' "
	    "for account 'd@x.org' on slice 's1' contains the mailbox of "
	    "account 'a@x.org' ('x.org/a')");
	assert_fails(import(f->st, 1, parent, 1, &cause), "contains");
	assert_fails(import(f->st, 0, child, 1, &cause), "line 2: "
	    "'x.org/a/.Real' for account 'e@x.org' on slice 's1' lies inside "
	    "the mailbox of account 'a@x.org' ('x.org/a')");
	assert_fails(import(f->st, 0, both, 3, &cause), "line 4: 'x.org/e' "
	    "for account 'e@x.org' on slice 's2' lies inside 'x.org' for "
	    "account 'd@x.org' (line 3)");
	assert_int_equal(state_account_find(f->st, "d@x.org", &a, NULL), 1);
	assert_int_equal(state_account_find(f->st, "z@x.org", &a, NULL), 1);
	/* a placed elsewhere by the same file frees its old directory. */
	assert_ok(import(f->st, 1, away, 2, &cause));
	assert_ok(state_account_get(f->st, "d@x.org", &a, &cause));
	assert_string_equal(a.path, "x.org");
	state_account_free(&a);
}

static void
test_find_last_at(void **arg)
{
	struct fixture *f = *arg;
	struct state_move_request r = { .user = "a@x.org", .target = "s2",
	    .target_path = "x.org/a" };
	static const char *const rows[] = { "a@x.org s1 x.org/a" };
	struct state_move m;
	int64_t id;

	assert_ok(import(f->st, 0, rows, 1, &cause));
	assert_int_equal(state_move_find_last_at(f->st, "a@x.org", f->ids[2],
	    "x.org/a", &m, NULL), 1);
	assert_ok(state_move_create(f->st, &r, &id, &cause));
	assert_ok(state_move_fail(f->st, id, MOVE_CANCELLED, "test", &cause));
	assert_int_equal(state_move_find_last_at(f->st, "a@x.org", f->ids[2],
	    "x.org/a", &m, NULL), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.state, MOVE_CANCELLED);
	state_move_free(&m);
	/* The source side counts too. */
	assert_int_equal(state_move_find_last_at(f->st, "a@x.org", f->ids[1],
	    "x.org/a", &m, NULL), 0);
	state_move_free(&m);
	assert_int_equal(state_move_find_last_at(f->st, "b@x.org", f->ids[2],
	    "x.org/a", &m, NULL), 1);
}

static void
test_move_target_nesting(void **arg)
{
	struct fixture *f = *arg;
	struct state_move_request r = { .user = "a@x.org", .target = "s2",
	    .target_path = "x.org/a" };
	static const char *const rows[] = { "a@x.org s1 x.org/a",
	    "d@x.org s2 x.org" };
	int64_t id;

	assert_ok(import(f->st, 0, rows, 2, &cause));
	assert_fails(state_move_create(f->st, &r, &id, &cause), "the target "
	    "'x.org/a' of 'a@x.org' on slice 's2' lies inside the mailbox of "
	    "account 'd@x.org' ('x.org')");
	r.target_path = "y.org/a";
	assert_ok(state_move_create(f->st, &r, &id, &cause));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nesting_query, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_refuses_nesting,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_last_at, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_move_target_nesting,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
