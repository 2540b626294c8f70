/*
 * The test mailbox of the tree sync's unit tests (test_sync.c,
 * test_sync_maildir.c, test_verify.c) and what they share: a fixture with
 * a source mailbox and an empty target, file helpers, passes that must
 * succeed or fail, verify that must pass or name a difference, and an
 * independent comparison of two trees. Include after testutil.h and
 * testfs.h.
 */
#ifndef MAILSHIFT_SYNCFIX_H
#define MAILSHIFT_SYNCFIX_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migrator/sync.h"

#define BASE	1600000000	/* file mtimes: old enough to be trusted */

/* A file of the test mailbox. */
struct tfile {
	const char	*name;		/* relative to the mailbox root */
	size_t		 size;		/* bytes */
	mode_t		 mode;		/* permission bits */
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

/* The fixture of every test: setup makes it, teardown removes it. */
struct fx {
	char	*dir;			/* the test's temporary directory */
	char	 src[PATH_MAX];		/* dir/src: the mailbox */
	char	 dst[PATH_MAX];		/* dir/dst: the target, empty */
	char	 mnt[PATH_MAX];		/* a tmpfs mount point, if mounted */
	int	 mounted;		/* mnt is mounted: teardown unmounts */
	int	 sfd;			/* src, open */
	int	 dfd;			/* dst, open */
};

static inline uint64_t
total_bytes(void)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < NFILES; i++)
		sum += files[i].size;
	return sum;
}

/* Write size bytes that depend on seed and rel, with mode. */
static inline void
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
static inline void
set_time(const char *root, const char *rel, time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
	char p[PATH_MAX];

	if (utimensat(AT_FDCWD, join(p, root, rel), ts,
	    AT_SYMLINK_NOFOLLOW) != 0)
		fail_msg("cannot set the time of %s: %s", p, strerror(errno));
}

/* Give to/rel the mtime of from/rel (hides a change from verify). */
static inline void
copy_time(const char *from, const char *to, const char *rel)
{
	struct stat st;
	char p[PATH_MAX];

	assert_int_equal(lstat(join(p, from, rel), &st), 0);
	set_time(to, rel, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static inline int
exists(const char *root, const char *rel)
{
	struct stat st;
	char p[PATH_MAX];

	return lstat(join(p, root, rel), &st) == 0;
}

static inline void
mk_dir(const char *root, const char *rel, mode_t mode)
{
	char p[PATH_MAX];

	if (mkdir(join(p, root, rel), mode) != 0 && errno != EEXIST)
		fail_msg("cannot create %s: %s", p, strerror(errno));
	assert_int_equal(chmod(p, mode), 0);
}

static inline void
mk_link(const char *target, const char *root, const char *rel)
{
	char p[PATH_MAX];

	if (symlink(target, join(p, root, rel)) != 0)
		fail_msg("cannot link %s: %s", p, strerror(errno));
}

static inline void
rm(const char *root, const char *rel)
{
	char p[PATH_MAX];

	if (unlink(join(p, root, rel)) != 0)
		fail_msg("cannot remove %s: %s", p, strerror(errno));
}

static inline void
mv(const char *root, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (rename(join(a, root, from), join(b, root, to)) != 0)
		fail_msg("cannot rename %s: %s", a, strerror(errno));
}

/* Set every directory's time, the root's last (after all changes). */
static inline void
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
static inline void
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

static inline int
open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static inline int
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

static inline int
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
static inline struct sync_stats
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
static inline char *
pass_fails(struct sync *s, int skip)
{
	struct sync_stats st;
	char *cause = NULL;

	assert_int_equal(sync_pass(s, skip, &st, NULL, &cause), -1);
	assert_non_null(cause);
	return cause;
}

/* A single pass with a fresh handle. */
static inline struct sync_stats
pass_once(struct fx *fx, int skip)
{
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;

	assert_non_null(s);
	st = pass(s, skip);
	sync_free(s);
	return st;
}

static inline void
verify_ok(struct fx *fx, int content)
{
	char *cause = NULL;

	if (sync_verify(fx->sfd, fx->dfd, content, 1, NULL, NULL,
	    &cause) != 0)
		fail_msg("sync_verify: %s", cause);
}

/* sync_verify must fail naming name and what. */
static inline void
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
static inline void
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

/* A short trust margin, so that tests can wait it out. */
#define TRUST	0.05

static inline void
nap(double seconds)
{
	struct timespec ts = { (time_t)seconds,
	    (long)((seconds - (double)(time_t)seconds) * 1e9) };

	nanosleep(&ts, NULL);
}

/* A handle with the short trust margin. */
static inline struct sync *
trusting(struct fx *fx)
{
	struct sync_config cfg = { .trust = TRUST };

	return sync_new(fx->sfd, fx->dfd, &cfg);
}

/* The test mailbox's cur/ and new/ directories: six. */
#define NMAILDIRS	6

#endif
