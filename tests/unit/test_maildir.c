/* Unit tests of Maildir reading and discovery (migrator/). */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrator/discover.h"
#include "common/layout.h"
#include "migrator/maildir.h"
#include "migrator/slice.h"
#include "state/state.h"
#include "state/account.h"
#include "state/pair.h"
#include "state/server.h"
#include "state/slice.h"

/* Run a shell command in dir; fail the test if it fails. */
static void
sh(const char *dir, const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(&full, "cd '%s' && %s", dir, cmd) < 0)
		abort();
	if (system(full) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
	free(full);
}

/* Make a Maildir at dir/rel with n messages of size bytes in cur/. */
static void
mkmaildir(const char *dir, const char *rel, int n, int size)
{
	int i;

	sh(dir, "mkdir -p '%s/cur' '%s/new' '%s/tmp'", rel, rel, rel);
	for (i = 0; i < n; i++)
		sh(dir, "head -c %d /dev/zero > '%s/cur/%d.M1P1.host:2,S'",
		    size, rel, i);
}

static int
open_dir(const char *dir, const char *rel)
{
	char *p;
	int fd;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	fd = open(p, O_RDONLY | O_DIRECTORY);
	free(p);
	assert_true(fd >= 0);
	return fd;
}

/* maildirsize: quota line, summed "bytes count" lines, and refusals. */
static void
test_maildirsize_parse(void **arg)
{
	const char *why = NULL;
	int64_t b, c;

	(void)arg;
	assert_int_equal(maildirsize_parse("1000S,10C\n100 2\n50 1\n-30 -1\n",
	    28, &b, &c, &why), 0);
	assert_int_equal(b, 120);
	assert_int_equal(c, 2);
	assert_int_equal(maildirsize_parse("\n0 0\n", 5, &b, &c, &why), 0);
	assert_int_equal(maildirsize_parse("1000S\n100 2", 11, &b, &c, &why),
	    -1);
	assert_non_null(strstr(why, "incomplete"));
	assert_int_equal(maildirsize_parse("1000S\nnot numbers\n", 18, &b, &c,
	    &why), -1);
	assert_non_null(strstr(why, "bytes count"));
	assert_int_equal(maildirsize_parse("1000S\n10 1\n-20 -2\n", 18, &b,
	    &c, &why), -1);
	assert_non_null(strstr(why, "negative"));
	assert_int_equal(maildirsize_parse("quota!\n1 1\n", 11, &b, &c, &why),
	    -1);
	assert_non_null(strstr(why, "quota line"));
	assert_int_equal(maildirsize_parse("", 0, &b, &c, &why), -1);
	assert_int_equal(maildirsize_parse("1S\n12 3 4\n", 10, &b, &c, &why),
	    -1);
}

/* Sums above the largest size, or that overflow, are never trusted. */
static void
test_maildirsize_limits(void **arg)
{
	const char *lim = "\n9007199254740992 1\n";
	const char *over = "\n9007199254740992 1\n1 1\n";
	const char *cnt = "\n1 9223372036854775807\n1 1\n";
	const char *why = NULL;
	int64_t b, c;

	(void)arg;
	assert_int_equal(maildirsize_parse(lim, strlen(lim), &b, &c, &why), 0);
	assert_int_equal(b, 9007199254740992LL);
	assert_int_equal(maildirsize_parse(over, strlen(over), &b, &c, &why),
	    -1);
	assert_non_null(strstr(why, "more than 8 PiB"));
	assert_int_equal(maildirsize_parse(cnt, strlen(cnt), &b, &c, &why),
	    -1);
	assert_non_null(strstr(why, "overflow"));
}

/* Counting covers INBOX and folders, cur and new, and nothing else. */
static void
test_usage_counted(void **arg)
{
	struct maildir_usage u;
	char *dir = test_tmpdir(), *cause = NULL;
	int fd;

	(void)arg;
	mkmaildir(dir, "box", 3, 100);
	mkmaildir(dir, "box/.Sent", 2, 1000);
	sh(dir, "touch box/.Sent/maildirfolder && head -c 7 /dev/zero > "
	    "box/new/99.M1P1.host && head -c 5000 /dev/zero > box/tmp/junk "
	    "&& head -c 300 /dev/zero > box/dovecot-uidlist && head -c 9 "
	    "/dev/zero > box/.Sent/dovecot.index");
	/* Not a folder: a dot directory without cur/new, and a symlink. */
	sh(dir, "mkdir -p box/.notafolder && head -c 50 /dev/zero > "
	    "box/.notafolder/x && ln -s ../.. box/.Evil");
	/* A symlink inside cur/ is not a message. */
	sh(dir, "ln -s /etc/passwd 'box/cur/link:2,S'");
	fd = open_dir(dir, "box");
	assert_true(maildir_is(fd));
	assert_int_equal(maildir_usage(fd, 1, 0, &u, &cause), 0);
	assert_int_equal(u.files, 6);
	assert_int_equal(u.bytes, 3 * 100 + 2 * 1000 + 7);
	assert_int_equal(u.folders, 1);
	assert_int_equal(u.from_maildirsize, 0);
	assert_string_equal(u.why_counted, "no maildirsize");
	assert_true(u.last_activity > 0);
	close(fd);
	test_rm_rf(dir);
}

/* A good maildirsize is used; stale, oversized or bad ones are not. */
static void
test_usage_maildirsize(void **arg)
{
	struct maildir_usage u;
	char *dir = test_tmpdir(), *cause = NULL;
	int fd;

	(void)arg;
	mkmaildir(dir, "box", 2, 100);
	/* The file says 5000 bytes: proof that it was read, not counted. */
	sh(dir, "printf '1000000S,100C\\n5000 7\\n' > box/maildirsize");
	fd = open_dir(dir, "box");
	assert_int_equal(maildir_usage(fd, 1, 0, &u, &cause), 0);
	assert_int_equal(u.from_maildirsize, 1);
	assert_int_equal(u.bytes, 5000);
	assert_int_equal(u.files, 7);

	/* Not trusted when told not to. */
	assert_int_equal(maildir_usage(fd, 0, 0, &u, &cause), 0);
	assert_int_equal(u.from_maildirsize, 0);
	assert_int_equal(u.bytes, 200);

	/* Older than a cur/ directory: stale, counted instead. */
	sh(dir, "touch -d '2020-01-01' box/maildirsize");
	assert_int_equal(maildir_usage(fd, 1, 0, &u, &cause), 0);
	assert_int_equal(u.from_maildirsize, 0);
	assert_int_equal(u.bytes, 200);
	assert_non_null(strstr(u.why_counted, "older"));

	/* Larger than 5120 bytes. */
	sh(dir, "(echo 1S; for i in $(seq 2000); do echo '1 1'; done) > "
	    "box/maildirsize");
	assert_int_equal(maildir_usage(fd, 1, 0, &u, &cause), 0);
	assert_int_equal(u.from_maildirsize, 0);
	assert_non_null(strstr(u.why_counted, "5120"));

	/* A symlink named maildirsize is never read. */
	sh(dir, "rm box/maildirsize && ln -s /etc/passwd box/maildirsize");
	assert_int_equal(maildir_usage(fd, 1, 0, &u, &cause), 0);
	assert_int_equal(u.from_maildirsize, 0);
	assert_int_equal(u.bytes, 200);
	close(fd);

	/* cur/ as a symlink: not a Maildir at all. */
	sh(dir, "mkdir -p fake/new && ln -s /tmp fake/cur");
	fd = open_dir(dir, "fake");
	assert_false(maildir_is(fd));
	assert_int_equal(maildir_usage(fd, 1, 0, &u, &cause), -1);
	assert_non_null(cause);
	free(cause);
	close(fd);
	test_rm_rf(dir);
}

struct fleet {
	char		*dir;
	struct state	*st;
	struct layout	*layout;
	int		 problems[3];	/* conflict, refused, missing */
	char		 last[512];
};

static void
on_problem(void *arg, const char *kind, const char *slice, const char *path,
    const char *msg)
{
	struct fleet *fl = arg;

	if (strcmp(kind, "conflict") == 0)
		fl->problems[0]++;
	else if (strcmp(kind, "refused") == 0)
		fl->problems[1]++;
	else
		fl->problems[2]++;
	snprintf(fl->last, sizeof fl->last, "%s %s %s %s", kind, slice, path,
	    msg);
}

static int
setup_fleet(void **arg)
{
	struct fleet *fl = calloc(1, sizeof *fl);
	char *db, *p1, *p2;

	fl->dir = test_tmpdir();
	sh(fl->dir, "mkdir s1 s2");
	if (asprintf(&db, "%s/catalog.db", fl->dir) < 0 ||
	    asprintf(&p1, "%s/s1", fl->dir) < 0 ||
	    asprintf(&p2, "%s/s2", fl->dir) < 0)
		abort();
	fl->st = state_open(db, 1, NULL);
	fl->layout = layout_parse("%d/%n", NULL);
	if (fl->st == NULL || fl->layout == NULL ||
	    state_server_add(fl->st, "a", "h1", NULL) != 0 ||
	    state_server_add(fl->st, "b", "h2", NULL) != 0 ||
	    state_pair_add(fl->st, "p", "a", "b", NULL) != 0 ||
	    state_slice_add(fl->st, "s1", "p", "a", p1, 1 << 30, NULL) != 0 ||
	    state_slice_add(fl->st, "s2", "p", "b", p2, 1 << 30, NULL) != 0)
		return -1;
	{
		int made;

		if (slice_mark(p1, "s1", &made, NULL) != 0 ||
		    slice_mark(p2, "s2", &made, NULL) != 0)
			return -1;
	}
	free(db);
	free(p1);
	free(p2);
	*arg = fl;
	return 0;
}

static int
teardown_fleet(void **arg)
{
	struct fleet *fl = *arg;

	state_close(fl->st);
	layout_free(fl->layout);
	test_rm_rf(fl->dir);
	free(fl);
	return 0;
}

static uint64_t
run(struct fleet *fl)
{
	struct discover_report r = { .arg = fl, .problem = on_problem };
	uint64_t problems = 0;
	char *cause = NULL;

	memset(fl->problems, 0, sizeof fl->problems);
	if (discover_run(fl->st, fl->layout, 1, NULL, 0, NULL, &r, &problems,
	    &cause) != 0)
		fail_msg("discover: %s", cause);
	return problems;
}

static int
count_accounts(struct state *st)
{
	struct state_slice s;
	int n = 0;

	assert_int_equal(state_slice_get(st, "s1", &s, NULL), 0);
	n += (int)s.accounts;
	state_slice_free(&s);
	assert_int_equal(state_slice_get(st, "s2", &s, NULL), 0);
	n += (int)s.accounts;
	state_slice_free(&s);
	return n;
}

/* A second run updates what the first recorded, it adds nothing twice. */
static void
test_discover_incremental(void **arg)
{
	struct fleet *fl = *arg;
	struct state_account a;

	mkmaildir(fl->dir, "s1/example.com/alice", 2, 100);
	mkmaildir(fl->dir, "s2/example.org/bob", 1, 10);
	sh(fl->dir, "mkdir -p s1/lost+found s1/example.com/notmail/x");
	assert_int_equal(run(fl), 0);
	assert_int_equal(count_accounts(fl->st), 2);
	assert_int_equal(state_account_get(fl->st, "alice@example.com", &a,
	    NULL), 0);
	assert_int_equal(a.bytes, 200);
	assert_string_equal(a.slice, "s1");
	state_account_free(&a);

	mkmaildir(fl->dir, "s1/example.com/alice", 3, 100);
	assert_int_equal(run(fl), 0);
	assert_int_equal(count_accounts(fl->st), 2);
	assert_int_equal(state_account_get(fl->st, "alice@example.com", &a,
	    NULL), 0);
	assert_int_equal(a.bytes, 300);
	assert_int_equal(a.files, 3);
	state_account_free(&a);
}

/* The same account on two slices is a conflict, recorded nowhere. */
static void
test_discover_conflict(void **arg)
{
	struct fleet *fl = *arg;
	struct state_account a;

	mkmaildir(fl->dir, "s1/example.com/carol", 1, 10);
	mkmaildir(fl->dir, "s2/example.com/carol", 1, 10);
	assert_int_equal(run(fl), 2);
	assert_int_equal(fl->problems[0], 2);
	assert_int_equal(state_account_find(fl->st, "carol@example.com", &a,
	    NULL), 1);

	/* Once placed, a stray copy elsewhere is a conflict too. */
	sh(fl->dir, "rm -rf s2/example.com/carol");
	assert_int_equal(run(fl), 0);
	mkmaildir(fl->dir, "s2/example.com/carol", 5, 10);
	if (run(fl) != 1)
		fail_msg("problems %d %d %d, last: %s", fl->problems[0],
		    fl->problems[1], fl->problems[2], fl->last);
	assert_non_null(strstr(fl->last, "places it on slice 's1'"));
	assert_int_equal(state_account_get(fl->st, "carol@example.com", &a,
	    NULL), 0);
	assert_string_equal(a.slice, "s1");
	assert_int_equal(a.files, 1);
	state_account_free(&a);
}

/* Gone from disk: marked missing; back again: active. */
static void
test_discover_missing(void **arg)
{
	struct fleet *fl = *arg;
	struct state_account a;

	mkmaildir(fl->dir, "s1/example.com/dave", 1, 10);
	assert_int_equal(run(fl), 0);
	sh(fl->dir, "mv s1/example.com/dave s1/example.com/.dave-away");
	assert_int_equal(run(fl), 1);
	assert_int_equal(fl->problems[2], 1);
	assert_int_equal(state_account_get(fl->st, "dave@example.com", &a,
	    NULL), 0);
	assert_string_equal(a.state, "missing");
	state_account_free(&a);
	sh(fl->dir, "mv s1/example.com/.dave-away s1/example.com/dave");
	assert_int_equal(run(fl), 0);
	assert_int_equal(state_account_get(fl->st, "dave@example.com", &a,
	    NULL), 0);
	assert_string_equal(a.state, "active");
	state_account_free(&a);
}

/* Symlinked mailboxes and domains are refused, never followed. */
static void
test_discover_symlinks(void **arg)
{
	struct fleet *fl = *arg;
	struct state_account a;

	mkmaildir(fl->dir, "outside/example.com/eve", 1, 10);
	mkmaildir(fl->dir, "s1/example.com/frank", 1, 10);
	sh(fl->dir, "ln -s ../../outside/example.com/eve s1/example.com/eve");
	sh(fl->dir, "ln -s ../outside/example.com s1/example.net");
	assert_int_equal(run(fl), 2);
	assert_int_equal(fl->problems[1], 2);
	assert_int_equal(state_account_find(fl->st, "eve@example.com", &a,
	    NULL), 1);
	assert_int_equal(state_account_find(fl->st, "eve@example.net", &a,
	    NULL), 1);
	assert_int_equal(state_account_get(fl->st, "frank@example.com", &a,
	    NULL), 0);
	state_account_free(&a);
}

/* A layout with a first-letter level maps directories back to users. */
static void
test_discover_hashed_layout(void **arg)
{
	struct fleet *fl = *arg;
	struct state_account a;

	layout_free(fl->layout);
	fl->layout = layout_parse("%1n/%n", NULL);
	mkmaildir(fl->dir, "s1/g/gina", 1, 10);
	mkmaildir(fl->dir, "s1/h/gina2", 1, 10);	/* wrong letter */
	assert_int_equal(run(fl), 1);
	assert_int_equal(state_account_get(fl->st, "gina", &a, NULL), 0);
	assert_string_equal(a.path, "g/gina");
	state_account_free(&a);
	assert_int_equal(state_account_find(fl->st, "gina2", &a, NULL), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildirsize_parse),
		cmocka_unit_test(test_maildirsize_limits),
		cmocka_unit_test(test_usage_counted),
		cmocka_unit_test(test_usage_maildirsize),
		cmocka_unit_test_setup_teardown(test_discover_incremental,
		    setup_fleet, teardown_fleet),
		cmocka_unit_test_setup_teardown(test_discover_conflict,
		    setup_fleet, teardown_fleet),
		cmocka_unit_test_setup_teardown(test_discover_missing,
		    setup_fleet, teardown_fleet),
		cmocka_unit_test_setup_teardown(test_discover_symlinks,
		    setup_fleet, teardown_fleet),
		cmocka_unit_test_setup_teardown(test_discover_hashed_layout,
		    setup_fleet, teardown_fleet),
	};

	return cmocka_run_group_tests_name("maildir", tests, NULL, NULL);
}
