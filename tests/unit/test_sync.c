/* Unit tests of the bulk copy, delta passes and verification (sync.c). */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migrator/sync.h"
#include "migrator/throttle.h"

#define BASE	1600000000	/* file mtimes: old enough to be trusted */

struct tfile {
	const char	*name;
	size_t		 size;
	mode_t		 mode;
};

/* The directories of the test mailbox, parents first. */
static const char *const dirs[] = {
	"cur", "new", "tmp",
	".Sent", ".Sent/cur", ".Sent/new", ".Sent/tmp",
	".Archive.2019", ".Archive.2019/cur", ".Archive.2019/new",
	".Archive.2019/tmp",
};
#define NDIRS	(sizeof dirs / sizeof dirs[0])

/* Its files: messages, folder markers and the mail server's own files. */
static const struct tfile files[] = {
	{ "cur/123.M1P1.host,S=10:2,S", 10, 0600 },
	{ "cur/124.M1P2.host,S=25:2,RS", 25, 0600 },
	{ "cur/125.M1P3.host,S=300:2,", 300, 0640 },
	{ "new/456.M2P1.host", 42, 0600 },
	{ "dovecot-uidlist", 64, 0600 },
	{ "dovecot-uidvalidity", 9, 0600 },
	{ "subscriptions", 12, 0600 },
	{ "maildirsize", 20, 0600 },
	{ ".Sent/maildirfolder", 0, 0600 },
	{ ".Sent/cur/200.M5P1.host,S=77:2,S", 77, 0600 },
	{ ".Sent/dovecot-uidlist", 30, 0600 },
	{ ".Archive.2019/maildirfolder", 0, 0600 },
	{ ".Archive.2019/cur/300.M6P1.host:2,S", 5000, 0600 },
	{ ".Archive.2019/new/301.M6P2.host", 200000, 0600 },
};
#define NFILES	(sizeof files / sizeof files[0])

struct fx {
	char	*dir;			/* the test's temporary directory */
	char	 src[PATH_MAX];		/* dir/src: the mailbox */
	char	 dst[PATH_MAX];		/* dir/dst: the target, empty */
	char	 mnt[PATH_MAX];		/* a tmpfs mount point, if mounted */
	int	 mounted;
	int	 sfd;
	int	 dfd;
};

/* Run a shell command; fail the test if it fails. */
static void
sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
}

static uint64_t
total_bytes(void)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < NFILES; i++)
		sum += files[i].size;
	return sum;
}

/* Write size bytes that depend on seed and rel, with mode. */
static void
put(const char *root, const char *rel, size_t size, mode_t mode,
    unsigned seed)
{
	char p[PATH_MAX], *buf;
	size_t i;
	int fd;

	buf = malloc(size + 1);
	assert_non_null(buf);
	for (i = 0; i < size; i++)
		buf[i] = (char)('a' + (i * 7 + seed + strlen(rel)) % 26);
	fd = open(join(p, root, rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		fail_msg("cannot create %s: %s", p, strerror(errno));
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	free(buf);
}

/* Set the mtime (and atime) of root/rel, never following a symlink. */
static void
set_time(const char *root, const char *rel, time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
	char p[PATH_MAX];

	if (utimensat(AT_FDCWD, join(p, root, rel), ts,
	    AT_SYMLINK_NOFOLLOW) != 0)
		fail_msg("cannot set the time of %s: %s", p, strerror(errno));
}

/* Give to/rel the mtime of from/rel (hides a change from verify). */
static void
copy_time(const char *from, const char *to, const char *rel)
{
	struct stat st;
	char p[PATH_MAX];

	assert_int_equal(lstat(join(p, from, rel), &st), 0);
	set_time(to, rel, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static int
exists(const char *root, const char *rel)
{
	struct stat st;
	char p[PATH_MAX];

	return lstat(join(p, root, rel), &st) == 0;
}

static void
mk_dir(const char *root, const char *rel, mode_t mode)
{
	char p[PATH_MAX];

	if (mkdir(join(p, root, rel), mode) != 0 && errno != EEXIST)
		fail_msg("cannot create %s: %s", p, strerror(errno));
	assert_int_equal(chmod(p, mode), 0);
}

static void
mk_link(const char *target, const char *root, const char *rel)
{
	char p[PATH_MAX];

	if (symlink(target, join(p, root, rel)) != 0)
		fail_msg("cannot link %s: %s", p, strerror(errno));
}

static void
rm(const char *root, const char *rel)
{
	char p[PATH_MAX];

	if (unlink(join(p, root, rel)) != 0)
		fail_msg("cannot remove %s: %s", p, strerror(errno));
}

static void
mv(const char *root, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (rename(join(a, root, from), join(b, root, to)) != 0)
		fail_msg("cannot rename %s: %s", a, strerror(errno));
}

/* Set every directory's time, the root's last (after all changes). */
static void
age_dirs(const char *root)
{
	size_t i;

	for (i = 0; i < NDIRS; i++)
		set_time(root, dirs[i], BASE - 1000 + (time_t)i,
		    987654321 - (long)i);
	set_time(root, "", BASE - 2000, 5);
}

/* The test mailbox at root: nanosecond mtimes, 0600/0640 files, 0700 and
 * 0750 directories, every directory mtime in the past. */
static void
build_box(const char *root)
{
	size_t i;

	mk_dir(root, "", 0700);
	for (i = 0; i < NDIRS; i++)
		mk_dir(root, dirs[i], strcmp(dirs[i], ".Sent") == 0 ? 0750 :
		    0700);
	for (i = 0; i < NFILES; i++) {
		put(root, files[i].name, files[i].size, files[i].mode,
		    (unsigned)i);
		set_time(root, files[i].name, BASE + (time_t)i,
		    100000000 + (long)i * 1111);
	}
	age_dirs(root);
}

static int
open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static int
setup(void **arg)
{
	struct fx *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	fx->dir = test_tmpdir();
	join(fx->src, fx->dir, "src");
	join(fx->dst, fx->dir, "dst");
	build_box(fx->src);
	if (mkdir(fx->dst, 0755) != 0)
		return -1;
	fx->sfd = open_dir(fx->src);
	fx->dfd = open_dir(fx->dst);
	*arg = fx;
	return 0;
}

static int
teardown(void **arg)
{
	struct fx *fx = *arg;

	close(fx->sfd);
	close(fx->dfd);
	if (fx->mounted && umount(fx->mnt) != 0)
		fprintf(stderr, "cannot unmount %s: %s\n", fx->mnt,
		    strerror(errno));
	test_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* One pass that must succeed. */
static struct sync_stats
pass(struct sync *s, int skip)
{
	struct sync_stats st;
	char *cause = NULL;
	int enospc = -1;

	if (sync_pass(s, skip, &st, &enospc, &cause) != 0)
		fail_msg("sync_pass: %s", cause);
	assert_null(cause);
	assert_int_equal(enospc, 0);
	return st;
}

/* One pass that must fail; returns its cause (free it). */
static char *
pass_fails(struct sync *s, int skip)
{
	struct sync_stats st;
	char *cause = NULL;

	assert_int_equal(sync_pass(s, skip, &st, NULL, &cause), -1);
	assert_non_null(cause);
	return cause;
}

/* A single pass with a fresh handle. */
static struct sync_stats
pass_once(struct fx *fx, int skip)
{
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;

	assert_non_null(s);
	st = pass(s, skip);
	sync_free(s);
	return st;
}

static void
verify_ok(struct fx *fx, int content)
{
	char *cause = NULL;

	if (sync_verify(fx->sfd, fx->dfd, content, 1, NULL, NULL,
	    &cause) != 0)
		fail_msg("sync_verify: %s", cause);
}

/* sync_verify must fail naming name and what. */
static void
verify_fails(struct fx *fx, int content, const char *name, const char *what)
{
	char *cause = NULL;

	if (sync_verify(fx->sfd, fx->dfd, content, 1, NULL, NULL,
	    &cause) != -1)
		fail_msg("sync_verify found no difference (expected one "
		    "naming \"%s\")", name);
	assert_non_null(cause);
	if (strstr(cause, name) == NULL || strstr(cause, what) == NULL)
		fail_msg("verify cause \"%s\" lacks \"%s\" or \"%s\"", cause,
		    name, what);
	free(cause);
}

/*
 * Compare a/rel with b/rel and everything below, without sync.c and
 * without following links: types, modes, sizes, nanosecond mtimes,
 * contents, link targets, names.
 */
static void
same_tree(const char *a, const char *b, const char *rel)
{
	char pa[PATH_MAX], pb[PATH_MAX], la[PATH_MAX], lb[PATH_MAX];
	char sub[PATH_MAX], *ca, *cb;
	struct dirent **na, **nb;
	struct stat sa, sb;
	size_t lena, lenb;
	ssize_t x, y;
	int n, m, i;

	if (lstat(join(pa, a, rel), &sa) != 0)
		fail_msg("%s missing", pa);
	if (lstat(join(pb, b, rel), &sb) != 0)
		fail_msg("%s missing", pb);
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
		fail_msg("'%s': types differ", rel);
	if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) !=
	    (sb.st_mode & 07777))
		fail_msg("'%s': modes %o and %o", rel, sa.st_mode & 07777,
		    sb.st_mode & 07777);
	if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec ||
	    sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
		fail_msg("'%s': mtimes %lld.%09ld and %lld.%09ld", rel,
		    (long long)sa.st_mtim.tv_sec, sa.st_mtim.tv_nsec,
		    (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	if (S_ISREG(sa.st_mode)) {
		if (sa.st_size != sb.st_size)
			fail_msg("'%s': sizes differ", rel);
		ca = slurp(pa, &lena);
		cb = slurp(pb, &lenb);
		if (lena != lenb || memcmp(ca, cb, lena) != 0)
			fail_msg("'%s': contents differ", rel);
		free(ca);
		free(cb);
	} else if (S_ISLNK(sa.st_mode)) {
		x = readlink(pa, la, sizeof la);
		y = readlink(pb, lb, sizeof lb);
		if (x < 0 || x != y || memcmp(la, lb, (size_t)x) != 0)
			fail_msg("'%s': link targets differ", rel);
	} else if (S_ISDIR(sa.st_mode)) {
		n = scandir(pa, &na, no_dots, alphasort);
		m = scandir(pb, &nb, no_dots, alphasort);
		assert_true(n >= 0 && m >= 0);
		if (n != m)
			fail_msg("'%s': %d and %d entries", rel, n, m);
		for (i = 0; i < n; i++) {
			if (strcmp(na[i]->d_name, nb[i]->d_name) != 0)
				fail_msg("'%s': %s and %s", rel,
				    na[i]->d_name, nb[i]->d_name);
			snprintf(sub, sizeof sub, "%s%s%s", rel,
			    *rel ? "/" : "", na[i]->d_name);
			same_tree(a, b, sub);
		}
		for (i = 0; i < n; i++) {
			free(na[i]);
			free(nb[i]);
		}
		free(na);
		free(nb);
	}
}

/* Regular files below path, links not followed; *named counts the ones
 * whose name is name. */
static int
count_files(const char *path, const char *name, int *named)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int n = 0;
	DIR *d;

	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		join(sub, path, de->d_name);
		assert_int_equal(lstat(sub, &st), 0);
		if (name != NULL && strcmp(de->d_name, name) == 0)
			(*named)++;
		if (S_ISREG(st.st_mode))
			n++;
		else if (S_ISDIR(st.st_mode))
			n += count_files(sub, name, named);
	}
	closedir(d);
	return n;
}

/* Entries below path named like mailshift's temporary files. */
static int
count_tmp(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int n = 0;
	DIR *d;

	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, ".mailshift-tmp.", 15) == 0)
			n++;
		join(sub, path, de->d_name);
		assert_int_equal(lstat(sub, &st), 0);
		if (S_ISDIR(st.st_mode))
			n += count_tmp(sub);
	}
	closedir(d);
	return n;
}

static void
count_hook(void *arg, const char *point, uint64_t n)
{
	uint64_t *seen = arg;

	if (strcmp(point, "file") == 0 && n <= 1000)
		seen[n]++;
}

/* With worker threads, a directory of many files copies exactly once
 * each, the counts add up and the hook sees every number once. */
static void
test_bulk_copy_workers(void **arg)
{
	struct fx *fx = *arg;
	static uint64_t seen[1001];
	struct sync_config cfg = { .workers = 3, .hook = count_hook,
	    .arg = seen };
	struct sync_stats st;
	struct sync *s;
	char p[PATH_MAX], name[64], body[600];
	uint64_t total = 0, vf, vb;
	char *cause = NULL;
	int i, enospc = 0;

	memset(seen, 0, sizeof seen);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "cur/%d.M%dP9.host,S=%d:2,S",
		    1000 + i, i, 100 + i);
		memset(body, 'a' + i % 26, sizeof body);
		body[100 + i % 400] = '\0';
		test_write(join(p, fx->src, name), body);
		total += strlen(body);
	}
	s = sync_new(fx->sfd, fx->dfd, &cfg);
	assert_int_equal(sync_pass(s, 0, &st, &enospc, &cause), 0);
	assert_true(st.files_copied >= 300);
	assert_int_equal(st.files_copied, st.files_seen);
	assert_int_equal(st.bytes_copied, st.bytes_seen);
	for (i = 1; i <= (int)st.files_copied; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(seen[st.files_copied + 1], 0);
	assert_int_equal(sync_verify(fx->sfd, fx->dfd, 1, 1, &vf, &vb, &cause),
	    0);
	assert_int_equal(vf, st.files_copied);
	assert_true(vb >= total);
	/* Nothing left to do, and nothing temporary left behind. */
	assert_int_equal(sync_pass(s, 0, &st, &enospc, &cause), 0);
	assert_int_equal(sync_changes(&st), 0);
	sync_free(s);
}

/*
 * Directories larger than a batch of copies (and a non-Maildir one): the
 * workers' queue is run as it fills, every file arrives once, the tree
 * verifies, and tree_remove empties directories it removes entries from
 * while reading them.
 */
static void
test_large_dirs(void **arg)
{
	struct fx *fx = *arg;
	struct sync_config cfg = { .workers = 3 };
	struct sync_stats st;
	struct sync *s;
	char name[64], *cause = NULL;
	uint64_t nf = 0, nb = 0;
	int i, top;

	mk_dir(fx->src, "big", 0700);
	for (i = 0; i < 1100; i++) {
		snprintf(name, sizeof name, "cur/%d.M%dP7.host:2,S", 5000 + i,
		    i);
		put(fx->src, name, 20 + (size_t)i % 50, 0600, (unsigned)i);
		snprintf(name, sizeof name, "big/f%d", i);
		if (i < 300)
			put(fx->src, name, 10, 0600, (unsigned)i);
	}
	s = sync_new(fx->sfd, fx->dfd, &cfg);
	st = pass(s, 0);
	assert_int_equal(st.files_copied, NFILES + 1400);
	assert_int_equal(st.files_seen, NFILES + 1400);
	st = pass(s, 1);
	assert_int_equal(sync_changes(&st), 0);
	assert_int_equal(sync_verify_changed(s, 1, &nf, &nb, &cause), 0);
	assert_int_equal(nf, NFILES + 1400);
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");

	top = open_dir(fx->dir);
	assert_int_equal(tree_remove(top, "dst", &cause), 0);
	assert_null(cause);
	assert_false(exists(fx->dir, "dst"));
	close(top);
}

/* A bulk pass into an empty target makes it equal, byte and time exact. */
static void
test_bulk_copy(void **arg)
{
	struct fx *fx = *arg;
	struct sync_stats st;
	struct stat a, b;
	uint64_t vf = 0, vb = 0;
	char *cause = NULL;
	size_t i;

	st = pass_once(fx, 0);
	assert_int_equal(st.files_copied, NFILES);
	assert_int_equal(st.bytes_copied, total_bytes());
	assert_int_equal(st.files_seen, NFILES);
	assert_int_equal(st.bytes_seen, total_bytes());
	assert_int_equal(st.renamed, 0);
	assert_int_equal(st.deleted, 0);
	assert_int_equal(sync_verify(fx->sfd, fx->dfd, 0, 1, &vf, &vb,
	    &cause), 0);
	assert_int_equal(sync_verify(fx->sfd, fx->dfd, 1, 1, &vf, &vb,
	    &cause), 0);
	assert_null(cause);
	assert_int_equal(vf, NFILES);
	assert_int_equal(vb, total_bytes());

	/* Independently of sync_verify: stat() every file and directory. */
	for (i = 0; i < NFILES; i++) {
		a = lst(fx->src, files[i].name);
		b = lst(fx->dst, files[i].name);
		assert_int_equal(b.st_mode & 07777, files[i].mode);
		assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
		assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
		assert_int_equal(b.st_mtim.tv_nsec, 100000000 + i * 1111);
		assert_int_equal(a.st_size, b.st_size);
	}
	for (i = 0; i < NDIRS; i++) {
		a = lst(fx->src, dirs[i]);
		b = lst(fx->dst, dirs[i]);
		assert_true(S_ISDIR(b.st_mode));
		assert_int_equal(b.st_mode & 07777,
		    strcmp(dirs[i], ".Sent") == 0 ? 0750 : 0700);
		assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
		assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	}
	a = lst(fx->src, "");
	b = lst(fx->dst, "");
	assert_int_equal(b.st_mode & 07777, 0700);
	assert_int_equal(b.st_mtim.tv_sec, BASE - 2000);
	assert_int_equal(b.st_mtim.tv_nsec, 5);
	same_tree(fx->src, fx->dst, "");
}

/* A short trust margin, so that tests can wait it out. */
#define TRUST	0.05

static void
nap(double seconds)
{
	struct timespec ts = { (time_t)seconds,
	    (long)((seconds - (double)(time_t)seconds) * 1e9) };

	nanosleep(&ts, NULL);
}

/* A handle with the short trust margin. */
static struct sync *
trusting(struct fx *fx)
{
	struct sync_config cfg = { .trust = TRUST };

	return sync_new(fx->sfd, fx->dfd, &cfg);
}

/* The test mailbox's cur/ and new/ directories: six. */
#define NMAILDIRS	6

/* Without a change nothing is copied; skip passes over old cur/ and new/. */
static void
test_no_change_and_skip(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = trusting(fx);
	struct sync_stats st;

	pass(s, 0);
	nap(2 * TRUST);
	st = pass(s, 0);
	assert_int_equal(sync_changes(&st), 0);
	assert_int_equal(st.files_copied, 0);
	assert_int_equal(st.dirs_skipped, 0);
	assert_int_equal(st.files_seen, NFILES);

	/* cur/ and new/ of INBOX, .Sent and .Archive.2019: six skipped. */
	st = pass(s, 1);
	assert_int_equal(sync_changes(&st), 0);
	assert_int_equal(st.dirs_skipped, NMAILDIRS);
	/* What was skipped still counts, from the previous listing. */
	assert_int_equal(st.files_seen, NFILES);
	assert_int_equal(st.bytes_seen, total_bytes());
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/*
 * A listing is trusted only when it began the trust margin after the
 * handle first saw the directory's mtime, whatever that mtime says (the
 * slice's clock may be behind): until then the next pass lists it again
 * and finds a file that arrived without changing the mtime.
 */
static void
test_fresh_dir_not_trusted(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = trusting(fx);
	struct sync_stats st;
	struct stat sent, cur;

	/* Every directory's mtime is years old, yet seen for the first
	 * time: nothing is trusted after one listing. */
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, 0);
	assert_int_equal(st.files_copied, NFILES);

	/* A message slips into each of two directories within the mtime's
	 * tick (the mtime put back). */
	sent = lst(fx->src, ".Sent/new");
	cur = lst(fx->src, "cur");
	put(fx->src, ".Sent/new/500.M7P1.host", 11, 0600, 1);
	set_time(fx->src, ".Sent/new", sent.st_mtim.tv_sec,
	    sent.st_mtim.tv_nsec);
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, 0);
	assert_int_equal(st.files_copied, 1);
	assert_true(exists(fx->dst, ".Sent/new/500.M7P1.host"));

	/* Past the margin, a listing is trusted: the next pass skips. */
	nap(2 * TRUST);
	st = pass(s, 1);
	assert_int_equal(sync_changes(&st), 0);
	put(fx->src, "cur/501.M7P2.host:2,S", 12, 0600, 2);
	set_time(fx->src, "cur", cur.st_mtim.tv_sec, cur.st_mtim.tv_nsec);
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, NMAILDIRS);
	/* The trusted cur/ was not listed: proof that skipping skips. */
	assert_false(exists(fx->dst, "cur/501.M7P2.host:2,S"));

	/* A full pass (skip=0) lists everything again. */
	st = pass(s, 0);
	assert_int_equal(st.dirs_skipped, 0);
	assert_int_equal(st.files_copied, 1);
	assert_true(exists(fx->dst, "cur/501.M7P2.host:2,S"));
	sync_free(s);
	verify_ok(fx, 1);
}

/*
 * With a directory on the source's file system to read its clock in, an
 * mtime well behind that clock is trusted at the first listing; one that
 * is not (here: ahead of it) is listed again. Without a writable one,
 * only observation counts.
 */
static void
test_slice_clock(void **arg)
{
	struct fx *fx = *arg;
	struct sync_config cfg = { .clock_dir = fx->dir };
	struct sync *s = sync_new(fx->sfd, fx->dfd, &cfg);
	struct sync_stats st;
	struct stat sent;
	char p[PATH_MAX];

	set_time(fx->src, ".Sent/new", time(NULL) + 600, 0);
	sent = lst(fx->src, ".Sent/new");
	st = pass(s, 1);
	assert_int_equal(st.files_copied, NFILES);
	put(fx->src, ".Sent/new/510.M8P1.host", 11, 0600, 1);
	set_time(fx->src, ".Sent/new", sent.st_mtim.tv_sec,
	    sent.st_mtim.tv_nsec);
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, NMAILDIRS - 1);
	assert_int_equal(st.files_copied, 1);
	sync_free(s);
	/* The clock's directory is gone again. */
	assert_int_equal(entries_in(fx->dir), 2);

	cfg.clock_dir = join(p, fx->dir, "missing");
	s = sync_new(fx->sfd, fx->dfd, &cfg);
	pass(s, 1);
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, 0);
	sync_free(s);
	verify_ok(fx, 1);
}

/*
 * In a cur/ or new/ listed again, a name on the inode that the last pass
 * left in sync is not compared again: messages do not change in place.
 * A flag change there is a rename on the target, from what the last pass
 * knew of the target (no listing of it is needed to find the old name).
 */
static void
test_known_names(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;
	char p[PATH_MAX];
	ino_t flagged;

	pass(s, 0);
	flagged = lst(fx->dst, "cur/123.M1P1.host,S=10:2,S").st_ino;
	/* On the target only: a mode the source does not have. */
	assert_int_equal(chmod(join(p, fx->dst, "cur/125.M1P3.host,S=300:2,"),
	    0604), 0);
	copy_time(fx->src, fx->dst, "cur");
	mv(fx->src, "cur/123.M1P1.host,S=10:2,S",
	    "cur/123.M1P1.host,S=10:2,FS");

	/* cur/ changed and is listed (the rename shows it); new/ may be
	 * skipped when the fixture is already older than the margin (a slow
	 * run, under a sanitizer). */
	st = pass(s, 1);
	assert_true(st.dirs_skipped <= 1);
	assert_int_equal(st.renamed, 1);
	assert_int_equal(st.files_copied, 0);
	assert_int_equal(st.meta_fixed, 1);	/* the target cur/'s mtime */
	assert_int_equal(st.files_seen, NFILES);
	assert_int_equal(st.bytes_seen, total_bytes());
	assert_int_equal(lst(fx->dst, "cur/123.M1P1.host,S=10:2,FS").st_ino,
	    flagged);
	assert_false(exists(fx->dst, "cur/123.M1P1.host,S=10:2,S"));
	/* The known message was not compared: its mode stayed. */
	assert_int_equal(lst(fx->dst, "cur/125.M1P3.host,S=300:2,").st_mode &
	    07777, 0604);
	verify_fails(fx, 0, "cur/125.M1P3.host,S=300:2,", "mode");

	/* A pass without skip compares everything. */
	st = pass(s, 0);
	assert_int_equal(st.meta_fixed, 1);
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/*
 * What changes in place is still found by every pass: the mail server's
 * own files beside cur/ and new/, and a message replaced by another file
 * under the same name (a new inode). A message rewritten in place breaks
 * the Maildir rules: passes with skip leave it, sync_verify finds it.
 */
static void
test_changed_in_place_known(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = trusting(fx);
	struct sync_stats st;
	struct stat cur;
	char a[PATH_MAX], b[PATH_MAX];
	int fd;

	pass(s, 0);
	nap(2 * TRUST);
	pass(s, 1);
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, NMAILDIRS);

	/* Same sizes, other content, mtime now. */
	put(fx->src, "dovecot-uidlist", 64, 0600, 98);
	put(fx->src, ".Sent/dovecot-uidlist", 30, 0600, 97);
	st = pass(s, 1);
	assert_int_equal(st.files_copied, 2);
	assert_int_equal(st.dirs_skipped, NMAILDIRS);
	verify_ok(fx, 1);

	/* Replaced through tmp/ under the same name: another inode. */
	put(fx->src, "tmp/x", 400, 0600, 5);
	assert_int_equal(rename(join(a, fx->src, "tmp/x"),
	    join(b, fx->src, "cur/124.M1P2.host,S=25:2,RS")), 0);
	st = pass(s, 1);
	assert_int_equal(st.files_copied, 1);
	assert_int_equal(st.bytes_copied, 400);
	verify_ok(fx, 1);

	/* Rewritten in place, the directory untouched. */
	nap(2 * TRUST);
	pass(s, 1);
	cur = lst(fx->src, "cur");
	fd = open(join(a, fx->src, "cur/125.M1P3.host,S=300:2,"), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "#", 1, 10), 1);
	close(fd);
	set_time(fx->src, "cur", cur.st_mtim.tv_sec, cur.st_mtim.tv_nsec);
	st = pass(s, 1);
	assert_int_equal(sync_changes(&st), 0);
	verify_fails(fx, 0, "cur/125.M1P3.host,S=300:2,", "mtime");
	st = pass(s, 0);
	assert_int_equal(st.files_copied, 1);
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/* A target changed behind the passes' back (its mtime moved) is listed
 * again: what is missing comes back, what is extra goes. */
static void
test_target_changed_behind(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = trusting(fx);
	struct sync_stats st;

	pass(s, 0);
	nap(2 * TRUST);
	pass(s, 1);
	rm(fx->dst, "cur/124.M1P2.host,S=25:2,RS");
	put(fx->dst, ".Sent/cur/999.M9P9.host:2,S", 3, 0600, 0);
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, NMAILDIRS - 2);
	assert_int_equal(st.files_copied, 1);
	assert_int_equal(st.deleted, 1);
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/* sync_verify_changed passes an equal copy; it reads again what a pass
 * listed without trust, and finds a message that slipped in there, or an
 * entry the target has on top (mtime put back). */
static void
test_verify_changed(void **arg)
{
	struct fx *fx = *arg;
	struct sync_config cfg = { .trust = 3600 };	/* never trusted */
	struct sync *s = sync_new(fx->sfd, fx->dfd, &cfg);
	uint64_t nf = 0, nb = 0;
	struct stat cur;
	char *cause = NULL;

	pass(s, 0);
	pass(s, 1);
	assert_int_equal(sync_verify_changed(s, 1, &nf, &nb, &cause), 0);
	assert_int_equal(nf, NFILES);
	assert_int_equal(nb, total_bytes());

	cur = lst(fx->src, "cur");
	put(fx->src, "cur/502.M7P3.host:2,S", 12, 0600, 3);
	set_time(fx->src, "cur", cur.st_mtim.tv_sec, cur.st_mtim.tv_nsec);
	assert_int_equal(sync_verify_changed(s, 1, NULL, NULL, &cause), -1);
	if (strstr(cause, "cur/502.M7P3.host:2,S") == NULL ||
	    strstr(cause, "missing") == NULL)
		fail_msg("cause: %s", cause);
	free(cause);
	cause = NULL;
	pass(s, 1);
	assert_int_equal(sync_verify_changed(s, 1, NULL, NULL, &cause), 0);

	put(fx->dst, ".Sent/cur/998.M9P8.host:2,S", 3, 0600, 0);
	copy_time(fx->src, fx->dst, ".Sent/cur");
	assert_int_equal(sync_verify_changed(s, 1, NULL, NULL, &cause), -1);
	if (strstr(cause, ".Sent/cur/998.M9P8.host:2,S") == NULL ||
	    strstr(cause, "on the target but not on the source") == NULL)
		fail_msg("cause: %s", cause);
	free(cause);
	sync_free(s);
}

/* With a trusted listing and both mtimes unchanged, sync_verify_changed
 * does not read a cur/ or new/; sync_verify does. */
static void
test_verify_changed_trusts(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = trusting(fx);
	uint64_t nf = 0;
	struct stat cur;
	char *cause = NULL;

	pass(s, 0);
	nap(2 * TRUST);
	pass(s, 1);
	cur = lst(fx->src, "cur");
	put(fx->src, "cur/503.M7P4.host:2,S", 12, 0600, 4);
	set_time(fx->src, "cur", cur.st_mtim.tv_sec, cur.st_mtim.tv_nsec);
	assert_int_equal(sync_verify_changed(s, 1, &nf, NULL, &cause), 0);
	assert_int_equal(nf, NFILES);
	verify_fails(fx, 0, "cur/503.M7P4.host:2,S", "missing");
	sync_free(s);
}

/* New, expunged, flag-changed and new/ -> cur/ messages: renames are
 * renames on the target (same inode), only the new message is copied. */
static void
test_delta(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;
	ino_t flagged, moved;

	pass(s, 1);
	flagged = lst(fx->dst, "cur/123.M1P1.host,S=10:2,S").st_ino;
	moved = lst(fx->dst, "new/456.M2P1.host").st_ino;

	put(fx->src, "new/457.M3P1.host", 33, 0600, 3);
	rm(fx->src, "cur/124.M1P2.host,S=25:2,RS");
	mv(fx->src, "cur/123.M1P1.host,S=10:2,S",
	    "cur/123.M1P1.host,S=10:2,FS");
	mv(fx->src, "new/456.M2P1.host", "cur/456.M2P1.host:2,S");

	st = pass(s, 1);
	assert_int_equal(st.renamed, 2);
	assert_int_equal(st.files_copied, 1);
	assert_int_equal(st.bytes_copied, 33);
	assert_int_equal(st.deleted, 1);
	assert_int_equal(st.files_seen, NFILES);
	assert_int_equal(lst(fx->dst, "cur/123.M1P1.host,S=10:2,FS").st_ino,
	    flagged);
	assert_int_equal(lst(fx->dst, "cur/456.M2P1.host:2,S").st_ino, moved);
	assert_false(exists(fx->dst, "cur/123.M1P1.host,S=10:2,S"));
	assert_false(exists(fx->dst, "new/456.M2P1.host"));
	assert_false(exists(fx->dst, "cur/124.M1P2.host,S=25:2,RS"));
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");

	/* And then there is nothing left to do. */
	st = pass(s, 0);
	assert_int_equal(sync_changes(&st), 0);
	sync_free(s);
}

/* A file rewritten in place (same size, new mtime) is copied again; a
 * file whose mode alone changed is fixed, not copied. */
static void
test_changed_in_place(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;
	char p[PATH_MAX];
	ino_t subs, msg;

	pass(s, 0);
	subs = lst(fx->dst, "subscriptions").st_ino;
	msg = lst(fx->dst, "cur/125.M1P3.host,S=300:2,").st_ino;

	/* Same 64 bytes, other content, mtime now: like dovecot-uidlist. */
	put(fx->src, "dovecot-uidlist", 64, 0600, 99);
	assert_int_equal(chmod(join(p, fx->src, "subscriptions"), 0640), 0);
	assert_int_equal(chmod(join(p, fx->src, "cur/125.M1P3.host,S=300:2,"),
	    0600), 0);

	st = pass(s, 0);
	assert_int_equal(st.files_copied, 1);
	assert_int_equal(st.bytes_copied, 64);
	/* Two files, and the target root's mtime, which the copy of
	 * dovecot-uidlist (renamed into place) changed. */
	assert_int_equal(st.meta_fixed, 3);
	assert_int_equal(st.renamed, 0);
	assert_int_equal(st.deleted, 0);
	assert_int_equal(lst(fx->dst, "subscriptions").st_ino, subs);
	assert_int_equal(lst(fx->dst, "subscriptions").st_mode & 07777, 0640);
	assert_int_equal(lst(fx->dst, "cur/125.M1P3.host,S=300:2,").st_ino,
	    msg);
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/* Entries only on the target, a whole directory tree included, go. */
static void
test_target_only_removed(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;

	pass(s, 0);
	put(fx->dst, "stray", 5, 0600, 0);
	mk_dir(fx->dst, ".Old", 0700);
	mk_dir(fx->dst, ".Old/cur", 0700);
	mk_dir(fx->dst, ".Old/deep", 0700);
	mk_dir(fx->dst, ".Old/deep/er", 0700);
	put(fx->dst, ".Old/cur/1.x:2,S", 5, 0600, 0);
	put(fx->dst, ".Old/deep/er/y", 5, 0600, 0);
	mk_link("/etc", fx->dst, ".Old/deep/etc");
	put(fx->dst, "cur/999.M9P9.host:2,S", 5, 0600, 0);
	put(fx->dst, ".Sent/new/998.M9P9.host", 5, 0600, 0);

	st = pass(s, 0);
	assert_int_equal(st.deleted, 4);
	assert_int_equal(st.files_copied, 0);
	assert_false(exists(fx->dst, "stray"));
	assert_false(exists(fx->dst, ".Old"));
	assert_false(exists(fx->dst, "cur/999.M9P9.host:2,S"));
	assert_false(exists(fx->dst, ".Sent/new/998.M9P9.host"));
	assert_true(exists("/etc", "passwd"));
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/* Symlinks are copied as symlinks with their target and never followed:
 * nothing of /etc arrives, a linked directory is not descended. */
static void
test_symlinks(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;
	char buf[PATH_MAX], p[PATH_MAX];
	ssize_t n;
	int named = 0;

	mk_link("/etc", fx->src, ".Evil");
	mk_link(".Sent", fx->src, ".Alias");
	mk_link("/etc/passwd", fx->src, "cur/777.M1P1.host:2,S");
	st = pass(s, 0);
	assert_int_equal(st.files_seen, NFILES);
	assert_int_equal(st.bytes_seen, total_bytes());
	assert_true(S_ISLNK(lst(fx->dst, ".Evil").st_mode));
	n = readlink(join(p, fx->dst, ".Evil"), buf, sizeof buf);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "/etc", 4);
	assert_true(S_ISLNK(lst(fx->dst, ".Alias").st_mode));
	n = readlink(join(p, fx->dst, ".Alias"), buf, sizeof buf);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, ".Sent", 5);
	assert_true(S_ISLNK(lst(fx->dst, "cur/777.M1P1.host:2,S").st_mode));
	assert_int_equal(count_files(fx->dst, "passwd", &named), NFILES);
	assert_int_equal(named, 0);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");

	/* A folder replaced by a link to /etc becomes that link. */
	sh("rm -rf '%s/.Archive.2019'", fx->src);
	mk_link("/etc", fx->src, ".Archive.2019");
	st = pass(s, 0);
	assert_int_equal(st.deleted, 1);
	assert_true(S_ISLNK(lst(fx->dst, ".Archive.2019").st_mode));
	assert_int_equal(count_files(fx->dst, "passwd", &named), NFILES - 3);
	assert_int_equal(named, 0);
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/* A newline in a name fails the pass; a backslash or U+2215 does not. */
static void
test_names(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	char *cause;

	put(fx->src, "bad\nname", 3, 0600, 0);
	cause = pass_fails(s, 0);
	if (strstr(cause, "control characters") == NULL ||
	    strstr(cause, "bad\\x0aname") == NULL)
		fail_msg("cause: %s", cause);
	free(cause);
	/* The bad name is found before anything of that directory is made. */
	assert_int_equal(entries_in(fx->dst), 0);
	rm(fx->src, "bad\nname");

	put(fx->src, "cur/12\n34.M1P1.host:2,S", 3, 0600, 0);
	cause = pass_fails(s, 0);
	if (strstr(cause, "control characters") == NULL ||
	    strstr(cause, "cur/12\\x0a34") == NULL)
		fail_msg("cause: %s", cause);
	free(cause);
	rm(fx->src, "cur/12\n34.M1P1.host:2,S");

	put(fx->src, "back\\slash", 3, 0600, 0);
	put(fx->src, "division\xe2\x88\x95slash", 4, 0600, 0);
	put(fx->src, "cur/130.M1P1.ho\\st\xe2\x88\x95x:2,S", 5, 0600, 0);
	pass(s, 0);
	assert_true(exists(fx->dst, "back\\slash"));
	assert_true(exists(fx->dst, "division\xe2\x88\x95slash"));
	assert_true(exists(fx->dst, "cur/130.M1P1.ho\\st\xe2\x88\x95x:2,S"));
	sync_free(s);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/* Owners are kept with preserve_owner (as root), and verify checks them
 * only when asked. */
static void
test_owner(void **arg)
{
	struct fx *fx = *arg;
	struct sync_config cfg = { .preserve_owner = 1 };
	struct sync *s;
	struct sync_stats st;
	char p[PATH_MAX], *cause = NULL;

	if (geteuid() != 0)
		skip();
	assert_int_equal(chown(join(p, fx->src, "cur/123.M1P1.host,S=10:2,S"),
	    4321, 4322), 0);
	assert_int_equal(chown(join(p, fx->src, ".Sent"), 4321, 4322), 0);
	mk_link("/etc", fx->src, ".Evil");
	assert_int_equal(lchown(join(p, fx->src, ".Evil"), 4321, 4322), 0);

	/* Without preserve_owner the copies belong to the copier. */
	pass_once(fx, 0);
	assert_int_equal(lst(fx->dst, ".Sent").st_uid, 0);
	assert_int_equal(sync_verify(fx->sfd, fx->dfd, 1, 0, NULL, NULL,
	    &cause), 0);
	verify_fails(fx, 0, "owner", "differs");

	s = sync_new(fx->sfd, fx->dfd, &cfg);
	st = pass(s, 0);
	assert_int_equal(st.files_copied, 0);
	/* The file; the directory and the link are fixed too, but see
	 * test_dir_meta_counted for what is counted. */
	assert_true(st.meta_fixed >= 1);
	sync_free(s);
	assert_int_equal(lst(fx->dst, "cur/123.M1P1.host,S=10:2,S").st_uid,
	    4321);
	assert_int_equal(lst(fx->dst, "cur/123.M1P1.host,S=10:2,S").st_gid,
	    4322);
	assert_int_equal(lst(fx->dst, ".Sent").st_uid, 4321);
	assert_int_equal(lst(fx->dst, ".Evil").st_uid, 4321);
	verify_ok(fx, 1);
}

/*
 * A directory whose mode alone changed on the source is fixed on the
 * target and counted in meta_fixed, as a file's would be (sync.h: "mode/
 * owner/mtime corrected"; sync_changes counts fixes).
 */
static void
test_dir_meta_counted(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;
	char p[PATH_MAX];

	pass(s, 0);
	assert_int_equal(chmod(join(p, fx->src, ".Sent"), 0700), 0);
	assert_int_equal(chmod(join(p, fx->src, ".Archive.2019/tmp"), 0750),
	    0);
	st = pass(s, 0);
	sync_free(s);
	/* Fixed on the target... */
	assert_int_equal(lst(fx->dst, ".Sent").st_mode & 07777, 0700);
	assert_int_equal(lst(fx->dst, ".Archive.2019/tmp").st_mode & 07777,
	    0750);
	verify_ok(fx, 0);
	/* ...and counted. */
	if (st.meta_fixed != 2 || sync_changes(&st) != 2)
		fail_msg("two directory modes fixed, but meta_fixed = %llu, "
		    "sync_changes = %llu", (unsigned long long)st.meta_fixed,
		    (unsigned long long)sync_changes(&st));
}

/* A FIFO or other special file in a mailbox fails the pass, named. */
static void
test_special_file_refused(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	char p[PATH_MAX], *cause;

	assert_int_equal(mkfifo(join(p, fx->src, ".Sent/pipe"), 0600), 0);
	cause = pass_fails(s, 0);
	if (strstr(cause, ".Sent/pipe") == NULL)
		fail_msg("cause: %s", cause);
	free(cause);
	/* Nothing was made of it on the target. */
	assert_false(exists(fx->dst, ".Sent/pipe"));
	sync_free(s);
}

/* A source name that looks like mailshift's temporary files is refused. */
static void
test_tmp_prefix_refused(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	char *cause;

	put(fx->src, "cur/.mailshift-tmp.5.5", 3, 0600, 0);
	cause = pass_fails(s, 0);
	if (strstr(cause, "cur/.mailshift-tmp.5.5") == NULL ||
	    strstr(cause, "temporary") == NULL)
		fail_msg("cause: %s", cause);
	free(cause);
	rm(fx->src, "cur/.mailshift-tmp.5.5");

	put(fx->src, ".mailshift-tmp.x", 3, 0600, 0);
	cause = pass_fails(s, 0);
	assert_non_null(strstr(cause, ".mailshift-tmp.x"));
	free(cause);
	sync_free(s);
}

/* Temporary files left on the target by a crash go on the next pass. */
static void
test_leftover_tmp_removed(void **arg)
{
	struct fx *fx = *arg;
	struct sync_stats st;

	pass_once(fx, 0);
	put(fx->dst, "cur/.mailshift-tmp.1.1", 7, 0600, 0);
	put(fx->dst, ".Sent/new/.mailshift-tmp.1.2", 7, 0600, 0);
	put(fx->dst, ".mailshift-tmp.1.3", 7, 0600, 0);

	/* The restarted copier: a new handle, delta mode. */
	st = pass_once(fx, 1);
	assert_int_equal(st.deleted, 3);
	assert_int_equal(st.files_copied, 0);
	assert_false(exists(fx->dst, "cur/.mailshift-tmp.1.1"));
	assert_false(exists(fx->dst, ".Sent/new/.mailshift-tmp.1.2"));
	assert_false(exists(fx->dst, ".mailshift-tmp.1.3"));
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

/* sync_verify finds and names each kind of difference; only content=1
 * finds a same-size, same-mtime change of content. */
static void
test_verify_differences(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	char p[PATH_MAX];
	struct stat st;
	int fd;

	mk_link("/etc", fx->src, ".Evil");
	pass(s, 0);
	verify_ok(fx, 1);

	/* Missing on the target (the directory's mtime put back). */
	rm(fx->dst, "cur/124.M1P2.host,S=25:2,RS");
	copy_time(fx->src, fx->dst, "cur");
	verify_fails(fx, 0, "cur/124.M1P2.host,S=25:2,RS", "missing");
	pass(s, 0);
	verify_ok(fx, 1);

	/* Only on the target. */
	put(fx->dst, ".Sent/cur/999.M1P1.host:2,S", 3, 0600, 0);
	copy_time(fx->src, fx->dst, ".Sent/cur");
	verify_fails(fx, 0, ".Sent/cur/999.M1P1.host:2,S",
	    "on the target but not on the source");
	pass(s, 0);
	verify_ok(fx, 1);

	/* Size. */
	fd = open(join(p, fx->dst, "dovecot-uidlist"), O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	copy_time(fx->src, fx->dst, "dovecot-uidlist");
	verify_fails(fx, 0, "dovecot-uidlist", "size");
	pass(s, 0);
	verify_ok(fx, 1);

	/* Mtime, by one nanosecond. */
	st = lst(fx->src, "subscriptions");
	set_time(fx->dst, "subscriptions", st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec + 1);
	verify_fails(fx, 0, "subscriptions", "mtime");
	pass(s, 0);
	verify_ok(fx, 1);

	/* Mode. */
	assert_int_equal(chmod(join(p, fx->dst, "maildirsize"), 0644), 0);
	verify_fails(fx, 0, "maildirsize", "mode");
	pass(s, 0);
	verify_ok(fx, 1);

	/* A symlink pointing elsewhere, with the same mtime. */
	rm(fx->dst, ".Evil");
	mk_link("/tmp", fx->dst, ".Evil");
	copy_time(fx->src, fx->dst, ".Evil");
	copy_time(fx->src, fx->dst, "");
	verify_fails(fx, 0, ".Evil", "points elsewhere");
	pass(s, 0);
	verify_ok(fx, 1);

	/* A type. */
	rm(fx->dst, ".Sent/maildirfolder");
	mk_dir(fx->dst, ".Sent/maildirfolder", 0600);
	copy_time(fx->src, fx->dst, ".Sent/maildirfolder");
	copy_time(fx->src, fx->dst, ".Sent");
	verify_fails(fx, 0, ".Sent/maildirfolder", "type");
	pass(s, 0);
	verify_ok(fx, 1);

	/* One byte of content, size and mtime kept: only content=1 sees it. */
	fd = open(join(p, fx->dst, "cur/125.M1P3.host,S=300:2,"), O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "#", 1, 150), 1);
	close(fd);
	copy_time(fx->src, fx->dst, "cur/125.M1P3.host,S=300:2,");
	verify_ok(fx, 0);
	verify_fails(fx, 1, "cur/125.M1P3.host,S=300:2,", "content");
	sync_free(s);
}

/* tree_measure counts, tree_fsync syncs, tree_remove removes without
 * following a link to a directory outside. */
static void
test_tree_helpers(void **arg)
{
	struct fx *fx = *arg;
	uint64_t nf = 0, nb = 0;
	char *cause = NULL, out[PATH_MAX];
	int top;

	mk_link("/etc", fx->src, ".Evil");
	assert_int_equal(tree_measure(fx->sfd, &nf, &nb, &cause), 0);
	assert_int_equal(nf, NFILES);
	assert_int_equal(nb, total_bytes());
	pass_once(fx, 0);
	assert_int_equal(tree_fsync(fx->sfd, &cause), 0);
	assert_int_equal(tree_fsync(fx->dfd, &cause), 0);
	assert_null(cause);

	top = open_dir(fx->dir);
	mk_dir(fx->dir, "outside", 0700);
	put(fx->dir, "outside/keep", 4, 0600, 0);
	mk_dir(fx->dir, "victim", 0700);
	mk_dir(fx->dir, "victim/a", 0700);
	mk_dir(fx->dir, "victim/a/b", 0500);
	put(fx->dir, "victim/a/f", 4, 0400, 0);
	mk_link(join(out, fx->dir, "outside"), fx->dir, "victim/abs");
	mk_link("../outside", fx->dir, "victim/a/rel");
	mk_link(out, fx->dir, "lnk");
	assert_int_equal(tree_remove(top, "victim", &cause), 0);
	assert_false(exists(fx->dir, "victim"));
	assert_int_equal(tree_remove(top, "lnk", &cause), 0);
	assert_false(exists(fx->dir, "lnk"));
	assert_true(exists(fx->dir, "outside/keep"));
	/* Nothing to remove is not an error. */
	assert_int_equal(tree_remove(top, "nothing", &cause), 0);
	assert_null(cause);
	/* And the whole target. */
	assert_int_equal(tree_remove(top, "dst", &cause), 0);
	assert_false(exists(fx->dir, "dst"));
	close(top);
}

/* A target that fills up fails the pass with *enospc set (root only). */
static void
test_enospc(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s;
	struct sync_stats st;
	char name[64], *cause = NULL;
	int i, mfd, enospc = 0;

	if (geteuid() != 0)
		skip();
	join(fx->mnt, fx->dir, "small");
	mk_dir(fx->dir, "small", 0755);
	if (mount("tmpfs", fx->mnt, "tmpfs", 0, "size=256k") != 0)
		skip();
	fx->mounted = 1;
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof name, "cur/%d.M%dP1.host:2,S", 900 + i,
		    i);
		put(fx->src, name, 65536, 0600, (unsigned)i);
	}
	mfd = open_dir(fx->mnt);
	s = sync_new(fx->sfd, mfd, NULL);
	assert_int_equal(sync_pass(s, 0, &st, &enospc, &cause), -1);
	assert_int_equal(enospc, 1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "space"));
	free(cause);
	sync_free(s);
	close(mfd);
	/* The failed copy left no temporary file behind. */
	assert_int_equal(count_tmp(fx->mnt), 0);
	assert_int_equal(umount(fx->mnt), 0);
	fx->mounted = 0;
}

struct rec {
	uint64_t	 seen[64];
	size_t		 nfile;
	size_t		 nmid;
	size_t		 nprogress;
	struct sync_stats last;
};

static void
on_hook(void *arg, const char *point, uint64_t n)
{
	struct rec *r = arg;

	if (strcmp(point, "file") == 0) {
		if (r->nfile < 64)
			r->seen[r->nfile] = n;
		r->nfile++;
	} else if (strcmp(point, "mid-file") == 0)
		r->nmid++;
}

static void
on_progress(void *arg, const struct sync_stats *st)
{
	struct rec *r = arg;

	r->nprogress++;
	r->last = *st;
}

/* The test hook sees every copied file with a count that keeps rising
 * across passes; progress ends with the pass's totals. */
static void
test_hook(void **arg)
{
	struct fx *fx = *arg;
	struct rec r;
	struct sync_config cfg = { .hook = on_hook, .progress = on_progress,
	    .arg = &r };
	struct sync *s = sync_new(fx->sfd, fx->dfd, &cfg);
	struct sync_stats st;
	size_t i;

	memset(&r, 0, sizeof r);
	st = pass(s, 0);
	assert_int_equal(r.nfile, NFILES);
	for (i = 0; i < NFILES; i++)
		assert_int_equal(r.seen[i], i + 1);
	/* Files with data show a mid-file point; the two empty ones do not. */
	assert_int_equal(r.nmid, NFILES - 2);
	assert_true(r.nprogress >= 1);
	assert_int_equal(r.last.files_copied, st.files_copied);

	put(fx->src, "new/600.M1P1.host", 8, 0600, 0);
	st = pass(s, 0);
	assert_int_equal(st.files_copied, 1);
	assert_int_equal(r.nfile, NFILES + 1);
	assert_int_equal(r.seen[NFILES], NFILES + 1);
	sync_free(s);
}

/* A throttled pass sleeps off what exceeds the burst, and copies the
 * same tree (small chunks). Only a generous lower bound on the sleep. */
static void
test_throttled(void **arg)
{
	struct fx *fx = *arg;
	struct throttle t;
	struct sync_config cfg = { .throttle = &t };
	struct sync *s;

	/* 200 kB/s: 40 kB burst, about 205 kB to copy, 10 kB chunks. */
	throttle_init(&t, 200000, 0);
	assert_int_equal(throttle_chunk(&t), 10000);
	s = sync_new(fx->sfd, fx->dfd, &cfg);
	pass(s, 0);
	sync_free(s);
	assert_true(t.waited > 0.4);
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bulk_copy_workers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bulk_copy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_large_dirs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_change_and_skip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_dir_not_trusted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_slice_clock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_known_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed_in_place_known,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_changed_behind,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_changed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_changed_trusts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_delta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_in_place, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_target_only_removed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_meta_counted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_special_file_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_prefix_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_tmp_removed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_differences,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_helpers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttled, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
