/*
 * Unit tests of the one-daemon lock in the catalog (state_daemon_lock):
 * held by a live process, taken over from a dead one or from a reused
 * pid, the same through every name of the catalog; and a catalog file
 * with a second hard link is refused.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/daemon.h"
#include "catalogfix.h"

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
	if (asprintf(&f->db, "%s/catalog.db", f->dir) < 0)
		abort();
	if ((f->st = state_open(f->db, 1, &cause)) == NULL) {
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

/* Write the lock row as another process would have. */
static void
put_lock(const char *db, const char *host, long pid, const char *identity)
{
	sqlite3 *h;
	sqlite3_stmt *stmt;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	assert_int_equal(sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO "
	    "daemon_lock (id, host, pid, identity, taken) VALUES (1, ?, ?, ?, "
	    "strftime('%s', 'now'))", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_text(stmt, 1, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, pid);
	if (identity != NULL)
		sqlite3_bind_text(stmt, 3, identity, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	sqlite3_close(h);
}

static void
my_host(char *buf, size_t len)
{
	assert_int_equal(gethostname(buf, len), 0);
	buf[len - 1] = '\0';
}

/* Taken once; taken again by its owner; a second connection of another
 * live process is refused, through a symlink too. */
static void
test_lock_held(void **arg)
{
	struct fixture *f = *arg;
	char *cause = NULL, *link, host[256], *me;
	struct state *other;

	assert_int_equal(state_daemon_lock(f->st, &cause), 0);
	assert_int_equal(state_daemon_lock(f->st, &cause), 0);
	/* The parent process is alive: its lock holds. */
	my_host(host, sizeof host);
	me = proc_identity((long)getppid());
	assert_non_null(me);
	put_lock(f->db, host, (long)getppid(), me);
	free(me);
	if (asprintf(&link, "%s/other-name.db", f->dir) < 0)
		abort();
	assert_int_equal(symlink("catalog.db", link), 0);
	other = state_open(link, 0, &cause);
	assert_non_null(other);
	assert_int_equal(state_daemon_lock(other, &cause), 1);
	assert_non_null(strstr(cause, "another daemon (pid"));
	assert_non_null(strstr(cause, "stop it first"));
	free(cause);
	cause = NULL;
	assert_int_equal(state_daemon_lock(f->st, &cause), 1);
	free(cause);
	state_close(other);
	free(link);
}

/* A dead owner, or a live pid that is now another process (another
 * start time), does not block; unlock frees it for the next one. */
static void
test_lock_takeover(void **arg)
{
	struct fixture *f = *arg;
	char *cause = NULL, host[256];
	pid_t child;
	int status;

	my_host(host, sizeof host);
	if ((child = fork()) == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	put_lock(f->db, host, (long)child, "boot:1");
	assert_ok(state_daemon_lock(f->st, &cause));
	/* Our own pid with another start time: a reused pid. */
	put_lock(f->db, host, (long)getpid(), "boot:1");
	assert_ok(state_daemon_lock(f->st, &cause));
	/* The parent's pid with a wrong identity: reused too. */
	put_lock(f->db, host, (long)getppid(), "boot:1");
	assert_ok(state_daemon_lock(f->st, &cause));
	state_daemon_unlock(f->st);
	/* Another host with a fresh lock holds; gone quiet, it does not. */
	put_lock(f->db, "elsewhere.example", 4242, "x:1");
	assert_int_equal(state_daemon_lock(f->st, &cause), 1);
	assert_non_null(strstr(cause, "elsewhere.example"));
	free(cause);
	cause = NULL;
	{
		sqlite3 *h;

		assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
		assert_int_equal(sqlite3_exec(h, "UPDATE daemon_lock SET "
		    "taken = taken - 120", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	}
	assert_ok(state_daemon_lock(f->st, &cause));
}

/* A catalog with a second hard link is refused: two names would give
 * SQLite two logs for one file. */
static void
test_hard_link_refused(void **arg)
{
	struct fixture *f = *arg;
	char *other, *cause = NULL;
	struct state *st;

	if (asprintf(&other, "%s/hard.db", f->dir) < 0)
		abort();
	assert_int_equal(link(f->db, other), 0);
	assert_null(state_open(other, 0, &cause));
	assert_non_null(strstr(cause, "hard links"));
	free(cause);
	cause = NULL;
	assert_null(state_open(f->db, 0, &cause));
	free(cause);
	cause = NULL;
	assert_int_equal(unlink(other), 0);
	st = state_open(f->db, 0, &cause);
	assert_non_null(st);
	state_close(st);
	free(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_held, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_takeover, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_refused, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
