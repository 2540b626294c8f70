/* Unit tests of the symlink-safe tree helpers (tree.c). */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrator/tree.h"

struct fx {
	char	*dir;			/* the test's temporary directory */
	char	 root[PATH_MAX];	/* dir/root: stands for a slice root */
	char	 out[PATH_MAX];		/* dir/out: outside of it */
	int	 rfd;			/* open at root */
};

static void
mk_dir(const char *root, const char *rel, mode_t mode)
{
	char p[PATH_MAX];

	if (mkdir(join(p, root, rel), mode) != 0)
		fail_msg("cannot create %s: %s", p, strerror(errno));
	assert_int_equal(chmod(p, mode), 0);
}

static void
mk_file(const char *root, const char *rel, const char *text)
{
	char p[PATH_MAX];

	test_write(join(p, root, rel), text);
}

static void
mk_link(const char *target, const char *root, const char *rel)
{
	char p[PATH_MAX];

	if (symlink(target, join(p, root, rel)) != 0)
		fail_msg("cannot link %s: %s", p, strerror(errno));
}

static int
exists(const char *root, const char *rel)
{
	struct stat st;
	char p[PATH_MAX];

	return lstat(join(p, root, rel), &st) == 0;
}

static int
setup(void **arg)
{
	struct fx *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	fx->dir = test_tmpdir();
	join(fx->root, fx->dir, "root");
	join(fx->out, fx->dir, "out");
	if (mkdir(fx->root, 0755) != 0 || mkdir(fx->out, 0755) != 0 ||
	    (fx->rfd = open(fx->root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		test_rm_rf(fx->dir);
		free(fx);
		return -1;
	}
	test_write(join((char[PATH_MAX]){ 0 }, fx->out, "keep"), "keep\n");
	*arg = fx;
	return 0;
}

static int
teardown(void **arg)
{
	struct fx *fx = *arg;

	close(fx->rfd);
	test_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* tree_open_below must refuse path, with a cause containing want. */
static void
open_refused(struct fx *fx, const char *path, const char *want)
{
	char *cause = NULL;
	int fd;

	if ((fd = tree_open_below(fx->rfd, path, &cause)) >= 0) {
		close(fd);
		fail_msg("tree_open_below opened '%s'", path);
	}
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, want);
	free(cause);
}

/* Normal directories are walked; the fd is the last one's. */
static void
test_open_below_follows_dirs(void **arg)
{
	struct fx *fx = *arg;
	struct stat a, b;
	char *cause = NULL;
	int fd;

	mk_dir(fx->root, "example.com", 0755);
	mk_dir(fx->root, "example.com/alice", 0700);
	mk_dir(fx->root, "example.com/alice/cur", 0700);
	fd = tree_open_below(fx->rfd, "example.com/alice/cur", &cause);
	assert_true(fd >= 0);
	assert_null(cause);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(lstat(join((char[PATH_MAX]){ 0 }, fx->root,
	    "example.com/alice/cur"), &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	/* One component, and cause may be NULL. */
	fd = tree_open_below(fx->rfd, "example.com", NULL);
	assert_true(fd >= 0);
	close(fd);
}

/* A symlink anywhere on the way is refused, never followed. */
static void
test_open_below_refuses_symlinks(void **arg)
{
	struct fx *fx = *arg;
	struct tree_stop stop;
	char *cause = NULL;

	mk_dir(fx->root, "example.com", 0755);
	mk_dir(fx->out, "x", 0700);
	mk_link(fx->out, fx->root, "example.com/linked");
	mk_link(fx->out, fx->root, "evil.org");
	open_refused(fx, "example.com/linked", "a symlink or not a directory "
	    "on the way");
	open_refused(fx, "example.com/linked/x", "example.com/linked/x: ");
	open_refused(fx, "evil.org/x", "a symlink or not a directory");
	/* Where it stopped, for callers that word the error themselves. */
	assert_int_equal(tree_walk_below(fx->rfd, "example.com/linked/x",
	    &stop, &cause), -1);
	assert_true(stop.error == ELOOP || stop.error == ENOTDIR);
	assert_true(stop.symlink);
	assert_string_equal(stop.part, "linked");
	free(cause);
	/* A file on the way is not a directory, and not a symlink. */
	mk_file(fx->root, "example.com/afile", "x");
	assert_int_equal(tree_walk_below(fx->rfd, "example.com/afile/y",
	    &stop, NULL), -1);
	assert_int_equal(stop.error, ENOTDIR);
	assert_false(stop.symlink);
	assert_string_equal(stop.part, "afile");
	/* Not there: ENOENT, and errno tells the same. */
	assert_int_equal(tree_walk_below(fx->rfd, "example.com/none/y",
	    &stop, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stop.error, ENOENT);
	assert_string_equal(stop.part, "none");
}

/* "", ".", "..", empty components and over-long ones are bad paths. */
static void
test_open_below_refuses_bad_components(void **arg)
{
	struct fx *fx = *arg;
	struct tree_stop stop;
	char *path, *cause = NULL;
	size_t len = NAME_MAX + 1;

	mk_dir(fx->root, "a", 0755);
	mk_dir(fx->root, "a/b", 0755);
	open_refused(fx, "", "bad path ''");
	open_refused(fx, "..", "bad path '..'");
	open_refused(fx, "a/../a", "bad path 'a/../a'");
	open_refused(fx, "a/..", "bad path");
	open_refused(fx, ".", "bad path");
	open_refused(fx, "a/./b", "bad path");
	open_refused(fx, "a//b", "bad path 'a//b'");
	open_refused(fx, "/a", "bad path");
	open_refused(fx, "a/", "bad path");
	/* Longer than NAME_MAX: refused before any openat. */
	path = malloc(len + 3);
	assert_non_null(path);
	memcpy(path, "a/", 2);
	memset(path + 2, 'x', len);
	path[len + 2] = '\0';
	open_refused(fx, path, "bad path");
	assert_int_equal(tree_walk_below(fx->rfd, path, &stop, &cause), -1);
	assert_int_equal(stop.error, 0);
	assert_int_equal(errno, EINVAL);
	free(cause);
	/* NAME_MAX itself is a fine component (that is not there). */
	path[NAME_MAX + 2] = '\0';
	assert_int_equal(tree_walk_below(fx->rfd, path, &stop, NULL), -1);
	assert_int_equal(stop.error, ENOENT);
	free(path);
}

/* Missing directories are made: the parents with like's owner and mode,
 * the last one 0700 and *created set. */
static void
test_make_below(void **arg)
{
	struct fx *fx = *arg;
	struct stat like, st;
	char *cause = NULL;
	int fd, created = -1, root = geteuid() == 0;

	memset(&like, 0, sizeof like);
	like.st_mode = S_IFDIR | 0751;
	like.st_uid = root ? 4321 : geteuid();
	like.st_gid = root ? 8765 : getegid();
	fd = tree_make_below(fx->rfd, "example.com/sub/alice", &like,
	    &created, &cause);
	if (fd < 0)
		fail_msg("tree_make_below: %s", cause);
	assert_int_equal(created, 1);
	st = lst(fx->root, "example.com");
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(st.st_uid, like.st_uid);
	assert_int_equal(st.st_gid, like.st_gid);
	st = lst(fx->root, "example.com/sub");
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(st.st_uid, like.st_uid);
	/* The mailbox itself is the caller's to give a mode. */
	st = lst(fx->root, "example.com/sub/alice");
	assert_int_equal(st.st_mode & 07777, 0700);
	close(fd);

	/* Everything there already: nothing made, nothing changed. */
	assert_int_equal(chmod(join((char[PATH_MAX]){ 0 }, fx->root,
	    "example.com"), 0755), 0);
	fd = tree_make_below(fx->rfd, "example.com/sub/alice", &like,
	    &created, &cause);
	assert_true(fd >= 0);
	assert_int_equal(created, 0);
	assert_int_equal(lst(fx->root, "example.com").st_mode & 07777, 0755);
	close(fd);
	/* Only the last one missing. */
	fd = tree_make_below(fx->rfd, "example.com/bob", &like, &created,
	    &cause);
	assert_true(fd >= 0);
	assert_int_equal(created, 1);
	close(fd);
	assert_null(cause);
}

/* tree_make_below neither follows nor replaces a symlink on the way. */
static void
test_make_below_refuses(void **arg)
{
	struct fx *fx = *arg;
	struct stat like;
	char *cause = NULL;
	int created = -1;

	memset(&like, 0, sizeof like);
	like.st_mode = S_IFDIR | 0755;
	mk_link(fx->out, fx->root, "linked");
	assert_int_equal(tree_make_below(fx->rfd, "linked/alice", &like,
	    &created, &cause), -1);
	assert_non_null(strstr(cause, "target linked/alice: "));
	assert_non_null(strstr(cause, "(a symlink or not a directory on the "
	    "way?)"));
	free(cause);
	cause = NULL;
	assert_false(exists(fx->out, "alice"));
	assert_int_equal(created, 0);
	assert_int_equal(tree_make_below(fx->rfd, "a/../b", &like, &created,
	    &cause), -1);
	assert_string_equal(cause, "bad path 'a/../b'");
	free(cause);
	cause = NULL;
	/* Nothing was made for the refused path, not even "a". */
	assert_false(exists(fx->root, "a"));
	/* A file on the way. */
	mk_file(fx->root, "afile", "x");
	assert_int_equal(tree_make_below(fx->rfd, "afile/x", &like, &created,
	    &cause), -1);
	assert_string_equal(cause, "target afile/x: Not a directory (a symlink "
	    "or not a directory on the way?)");
	free(cause);
	cause = NULL;
	/* A directory that cannot be made (permissions bind only non-root). */
	if (geteuid() != 0) {
		mk_dir(fx->root, "ro", 0500);
		assert_int_equal(tree_make_below(fx->rfd, "ro/x", &like,
		    &created, &cause), -1);
		assert_non_null(strstr(cause, "cannot create ro/x on the "
		    "target: "));
		free(cause);
	}
}

static void
test_exists_below(void **arg)
{
	struct fx *fx = *arg;

	mk_dir(fx->root, "a", 0755);
	mk_file(fx->root, "a/f", "x");
	mk_link(fx->out, fx->root, "lnk");
	mk_link("/nonexistent", fx->root, "a/dangling");
	assert_true(tree_exists_below(fx->rfd, "a"));
	assert_true(tree_exists_below(fx->rfd, "a/f"));
	/* The link itself exists; nothing is looked up through it. */
	assert_true(tree_exists_below(fx->rfd, "lnk"));
	assert_true(tree_exists_below(fx->rfd, "a/dangling"));
	assert_false(tree_exists_below(fx->rfd, "lnk/keep"));
	assert_false(tree_exists_below(fx->rfd, "a/g"));
	assert_false(tree_exists_below(fx->rfd, "b/f"));
	assert_false(tree_exists_below(fx->rfd, ".."));
	assert_false(tree_exists_below(fx->rfd, "a/.."));
	assert_false(tree_exists_below(fx->rfd, "a/"));
	assert_false(tree_exists_below(fx->rfd, ""));
}

static void
test_name_ok(void **arg)
{
	char name[NAME_MAX + 2];

	(void)arg;
	assert_false(tree_name_ok(""));
	assert_false(tree_name_ok("."));
	assert_false(tree_name_ok(".."));
	assert_false(tree_name_ok("a/b"));
	assert_false(tree_name_ok("/"));
	assert_false(tree_name_ok("a\nb"));
	assert_false(tree_name_ok("a\tb"));
	assert_false(tree_name_ok("\x01"));
	assert_false(tree_name_ok("a\x7f"));
	assert_true(tree_name_ok("cur"));
	assert_true(tree_name_ok(".Sent"));
	assert_true(tree_name_ok("..."));
	assert_true(tree_name_ok("a..b"));
	assert_true(tree_name_ok("1600000000.M1P1.host,S=10:2,S"));
	assert_true(tree_name_ok("\xc3\xa9t\xc3\xa9"));	/* UTF-8 */
	memset(name, 'x', NAME_MAX);
	name[NAME_MAX] = '\0';
	assert_true(tree_name_ok(name));
	name[NAME_MAX] = 'x';
	name[NAME_MAX + 1] = '\0';
	assert_false(tree_name_ok(name));
}

/* tree_remove removes a tree with read-only parts and symlinks in it,
 * never what those symlinks point to. */
static void
test_remove_keeps_link_targets(void **arg)
{
	struct fx *fx = *arg;
	char *cause = NULL;

	mk_dir(fx->out, "d", 0755);
	mk_file(fx->out, "d/inner", "inner\n");
	mk_dir(fx->root, "box", 0700);
	mk_dir(fx->root, "box/cur", 0700);
	mk_file(fx->root, "box/cur/1:2,S", "message\n");
	mk_link(fx->out, fx->root, "box/abs");
	mk_link("../../out/d", fx->root, "box/cur/rel");
	mk_link(join((char[PATH_MAX]){ 0 }, fx->out, "keep"), fx->root,
	    "box/file-link");
	mk_dir(fx->root, "box/ro", 0700);
	mk_file(fx->root, "box/ro/f", "x");
	assert_int_equal(chmod(join((char[PATH_MAX]){ 0 }, fx->root,
	    "box/ro"), 0500), 0);
	assert_int_equal(tree_remove(fx->rfd, "box", &cause), 0);
	assert_null(cause);
	assert_false(exists(fx->root, "box"));
	assert_true(exists(fx->out, "keep"));
	assert_true(exists(fx->out, "d/inner"));
	/* A symlink given by name is removed, its directory kept. */
	mk_link(fx->out, fx->root, "lnk");
	assert_int_equal(tree_remove(fx->rfd, "lnk", &cause), 0);
	assert_false(exists(fx->root, "lnk"));
	assert_true(exists(fx->out, "keep"));
	/* A plain file, and nothing at all. */
	mk_file(fx->root, "f", "x");
	assert_int_equal(tree_remove(fx->rfd, "f", &cause), 0);
	assert_false(exists(fx->root, "f"));
	assert_int_equal(tree_remove(fx->rfd, "nothing", &cause), 0);
	assert_null(cause);
	assert_int_equal(entries_in(fx->root), 0);
}

/* tree_measure adds regular files and their bytes, not through links. */
static void
test_measure(void **arg)
{
	struct fx *fx = *arg;
	uint64_t files = 0, bytes = 0;
	char *cause = NULL;
	int fd;

	mk_dir(fx->root, "cur", 0700);
	mk_dir(fx->root, "new", 0700);
	mk_dir(fx->root, ".Sent", 0700);
	mk_dir(fx->root, ".Sent/cur", 0700);
	mk_file(fx->root, "cur/1:2,S", "12345");
	mk_file(fx->root, "new/2", "1234567890");
	mk_file(fx->root, ".Sent/cur/3:2,S", "");
	mk_file(fx->root, "dovecot-uidlist", "3 V1 N4\n");
	mk_link(fx->out, fx->root, "outside");
	mk_link(join((char[PATH_MAX]){ 0 }, fx->out, "keep"), fx->root,
	    "cur/file-link");
	assert_int_equal(tree_measure(fx->rfd, &files, &bytes, &cause), 0);
	assert_null(cause);
	assert_int_equal(files, 4);
	assert_int_equal(bytes, 5 + 10 + 0 + 8);
	/* It adds to what is there. */
	fd = tree_open_below(fx->rfd, ".Sent", NULL);
	assert_true(fd >= 0);
	assert_int_equal(tree_measure(fd, &files, &bytes, &cause), 0);
	close(fd);
	assert_int_equal(files, 5);
	assert_int_equal(bytes, 23);
}

/* tree_fsync gets through a tree with links; a listing skips . and .. */
static void
test_fsync_and_listing(void **arg)
{
	struct fx *fx = *arg;
	struct dirent *de;
	char *cause = NULL;
	DIR *d;
	int n = 0;

	mk_dir(fx->root, "cur", 0700);
	mk_file(fx->root, "cur/1:2,S", "12345");
	mk_link(fx->out, fx->root, "outside");
	mk_link("/nonexistent", fx->root, "dangling");
	assert_int_equal(tree_fsync(fx->rfd, &cause), 0);
	assert_null(cause);
	assert_non_null(d = tree_dir_open(fx->rfd, "", &cause));
	while ((de = tree_dir_next(d)) != NULL) {
		assert_string_not_equal(de->d_name, ".");
		assert_string_not_equal(de->d_name, "..");
		n++;
	}
	assert_int_equal(errno, 0);
	closedir(d);
	assert_int_equal(n, 3);
	/* The fd it was given keeps its own offset: list it again. */
	assert_non_null(d = tree_dir_open(fx->rfd, "", &cause));
	for (n = 0; tree_dir_next(d) != NULL; n++)
		;
	closedir(d);
	assert_int_equal(n, 3);
}

/* Names in messages: control characters escaped, "." for nothing. */
static void
test_shown_and_sys_fail(void **arg)
{
	char *p, *cause = NULL;

	(void)arg;
	p = tree_shown("cur", "a\nb\x7f");
	assert_string_equal(p, "cur/a\\x0ab\\x7f");
	free(p);
	p = tree_shown("", "name");
	assert_string_equal(p, "name");
	free(p);
	p = tree_shown(".Sent", "");
	assert_string_equal(p, ".Sent/");
	free(p);
	errno = ENOENT;
	assert_int_equal(tree_sys_fail(&cause, "cannot open", "", ""), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(cause, "cannot open .: No such file or directory");
	free(cause);
	errno = EACCES;
	assert_int_equal(tree_sys_fail(NULL, "cannot open", "a", "b"), -1);
	assert_int_equal(errno, EACCES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_below_follows_dirs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_below_refuses_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_below_refuses_bad_components, setup, teardown),
		cmocka_unit_test_setup_teardown(test_make_below, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_make_below_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exists_below, setup,
		    teardown),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test_setup_teardown(test_remove_keeps_link_targets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_measure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_and_listing, setup,
		    teardown),
		cmocka_unit_test(test_shown_and_sys_fail),
	};

	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
