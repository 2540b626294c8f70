/* Unit tests of the .tar.zst archives of retired mailboxes (zarchive.c). */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migrator/zarchive.h"

#define BASE	1600000000

struct tfile {
	const char	*name;
	size_t		 size;
	mode_t		 mode;
};

/* The test mailbox "box": directories parents first, then files. */
static const char *const dirs[] = {
	"box", "box/cur", "box/new", "box/tmp",
	"box/.Sent", "box/.Sent/cur", "box/.Sent/new", "box/.Sent/tmp",
};
#define NDIRS	(sizeof dirs / sizeof dirs[0])

static const struct tfile files[] = {
	{ "box/cur/123.M1P1.host,S=10:2,S", 10, 0600 },
	{ "box/cur/125.M1P3.host,S=300:2,", 300, 0640 },
	{ "box/new/456.M2P1.host", 42, 0600 },
	{ "box/dovecot-uidlist", 64, 0600 },
	{ "box/subscriptions", 12, 0644 },
	{ "box/.Sent/maildirfolder", 0, 0600 },
	{ "box/.Sent/dovecot-uidlist", 30, 0600 },
	{ "box/.Sent/cur/200.M5P1.host,S=150000:2,S", 150000, 0600 },
};
#define NFILES	(sizeof files / sizeof files[0])

/* Symlinks: name and target. */
static const char *const links[][2] = {
	{ "box/.Evil", "/etc" },
	{ "box/.Alias", ".Sent" },
};
#define NLINKS	(sizeof links / sizeof links[0])

struct fx {
	char	*dir;			/* the test's temporary directory */
	char	 src[PATH_MAX];		/* dir/src, parent of "box" */
	char	 arch[PATH_MAX];	/* dir/box.tar.zst */
	int	 pfd;			/* dir/src */
	int	 cwd;			/* the working directory at setup */
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
		buf[i] = (char)('a' + (i * 7 + seed) % 26);
	fd = open(join(p, root, rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		fail_msg("cannot create %s: %s", p, strerror(errno));
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	free(buf);
}

static void
put_text(const char *root, const char *rel, const char *text)
{
	char p[PATH_MAX];

	test_write(join(p, root, rel), text);
}

static void
set_time(const char *root, const char *rel, time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
	char p[PATH_MAX];

	if (utimensat(AT_FDCWD, join(p, root, rel), ts,
	    AT_SYMLINK_NOFOLLOW) != 0)
		fail_msg("cannot set the time of %s: %s", p, strerror(errno));
}

/* Put back an mtime saved with lst() (hides a change of the entry). */
static void
restore_time(const char *root, const char *rel, const struct stat *st)
{
	set_time(root, rel, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
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

/* The mailbox below root: nanosecond mtimes, modes, symlinks. */
static void
build_box(const char *root)
{
	size_t i;

	for (i = 0; i < NDIRS; i++)
		mk_dir(root, dirs[i], strcmp(dirs[i], "box/.Sent") == 0 ?
		    0750 : 0700);
	for (i = 0; i < NFILES; i++) {
		put(root, files[i].name, files[i].size, files[i].mode,
		    (unsigned)i);
		set_time(root, files[i].name, BASE + (time_t)i,
		    100000000 + (long)i * 1111);
	}
	for (i = 0; i < NLINKS; i++) {
		char p[PATH_MAX];

		if (symlink(links[i][1], join(p, root, links[i][0])) != 0)
			fail_msg("cannot link %s", p);
		set_time(root, links[i][0], BASE + 50, 424242 + (long)i);
	}
	for (i = NDIRS; i > 0; i--)
		set_time(root, dirs[i - 1], BASE - 1000 + (time_t)i,
		    987654321 - (long)i);
}

static int
setup(void **arg)
{
	struct fx *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	fx->dir = test_tmpdir();
	join(fx->src, fx->dir, "src");
	join(fx->arch, fx->dir, "box.tar.zst");
	if (mkdir(fx->src, 0755) != 0)
		return -1;
	build_box(fx->src);
	fx->pfd = open(fx->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fx->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->pfd < 0 || fx->cwd < 0)
		return -1;
	*arg = fx;
	return 0;
}

static int
teardown(void **arg)
{
	struct fx *fx = *arg;

	if (fchdir(fx->cwd) != 0)
		fprintf(stderr, "cannot return to the working directory\n");
	close(fx->cwd);
	close(fx->pfd);
	test_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* Archive the test mailbox, which must work. */
static void
archive(struct fx *fx)
{
	uint64_t nf = 0, nb = 0;
	char *cause = NULL;

	if (zarchive_tree(fx->pfd, "box", fx->arch, &nf, &nb, &cause) != 0)
		fail_msg("zarchive_tree: %s", cause);
	assert_int_equal(nf, NFILES);
	assert_int_equal(nb, total_bytes());
}

static void
verify_ok(struct fx *fx)
{
	char *cause = NULL;

	if (zarchive_verify(fx->arch, fx->pfd, "box", &cause) != 0)
		fail_msg("zarchive_verify: %s", cause);
}

/* zarchive_verify must fail with a cause holding a and b. */
static void
verify_fails(struct fx *fx, const char *a, const char *b)
{
	char *cause = NULL;

	if (zarchive_verify(fx->arch, fx->pfd, "box", &cause) != -1)
		fail_msg("zarchive_verify found no difference (expected one "
		    "naming \"%s\")", a);
	assert_non_null(cause);
	if (strstr(cause, a) == NULL || strstr(cause, b) == NULL)
		fail_msg("verify cause \"%s\" lacks \"%s\" or \"%s\"", cause, a,
		    b);
	free(cause);
}

/*
 * Compare a/ra with b/rb and everything below without following links:
 * types, modes, sizes, nanosecond mtimes, contents, link targets, names.
 */
static void
same_tree(const char *a, const char *ra, const char *b, const char *rb)
{
	char pa[PATH_MAX], pb[PATH_MAX], la[PATH_MAX], lb[PATH_MAX];
	char suba[PATH_MAX], subb[PATH_MAX], *ca, *cb;
	struct dirent **na, **nb;
	struct stat sa, sb;
	size_t lena, lenb;
	ssize_t x, y;
	int n, m, i;

	if (lstat(join(pa, a, ra), &sa) != 0)
		fail_msg("%s missing", pa);
	if (lstat(join(pb, b, rb), &sb) != 0)
		fail_msg("%s missing", pb);
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
		fail_msg("'%s': types differ", ra);
	if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) !=
	    (sb.st_mode & 07777))
		fail_msg("'%s': modes %o and %o", ra, sa.st_mode & 07777,
		    sb.st_mode & 07777);
	if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec ||
	    sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
		fail_msg("'%s': mtimes %lld.%09ld and %lld.%09ld", ra,
		    (long long)sa.st_mtim.tv_sec, sa.st_mtim.tv_nsec,
		    (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	if (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
		fail_msg("'%s': owners differ", ra);
	if (S_ISREG(sa.st_mode)) {
		if (sa.st_size != sb.st_size)
			fail_msg("'%s': sizes differ", ra);
		ca = slurp(pa, &lena);
		cb = slurp(pb, &lenb);
		if (lena != lenb || memcmp(ca, cb, lena) != 0)
			fail_msg("'%s': contents differ", ra);
		free(ca);
		free(cb);
	} else if (S_ISLNK(sa.st_mode)) {
		x = readlink(pa, la, sizeof la);
		y = readlink(pb, lb, sizeof lb);
		if (x < 0 || x != y || memcmp(la, lb, (size_t)x) != 0)
			fail_msg("'%s': link targets differ", ra);
	} else if (S_ISDIR(sa.st_mode)) {
		n = scandir(pa, &na, no_dots, alphasort);
		m = scandir(pb, &nb, no_dots, alphasort);
		assert_true(n >= 0 && m >= 0);
		if (n != m)
			fail_msg("'%s': %d and %d entries", ra, n, m);
		for (i = 0; i < n; i++) {
			if (strcmp(na[i]->d_name, nb[i]->d_name) != 0)
				fail_msg("'%s': %s and %s", ra,
				    na[i]->d_name, nb[i]->d_name);
			join(suba, ra, na[i]->d_name);
			join(subb, rb, nb[i]->d_name);
			same_tree(a, suba, b, subb);
		}
		for (i = 0; i < n; i++) {
			free(na[i]);
			free(nb[i]);
		}
		free(na);
		free(nb);
	}
}

/* The archive holds the tree with its files, bytes and nanosecond times;
 * zarchive_verify agrees with it. */
static void
test_archive_and_verify(void **arg)
{
	struct fx *fx = *arg;
	struct archive *a;
	struct archive_entry *e;
	unsigned char magic[4];
	const char *name;
	size_t n = 0, regs = 0, syms = 0;
	FILE *f;

	archive(fx);
	assert_false(exists(fx->dir, "box.tar.zst.tmp"));
	/* zstd frame magic: 28 b5 2f fd. */
	assert_non_null(f = fopen(fx->arch, "r"));
	assert_int_equal(fread(magic, 1, 4, f), 4);
	fclose(f);
	assert_memory_equal(magic, "\x28\xb5\x2f\xfd", 4);
	verify_ok(fx);

	/* Read it back independently: every entry below "box", times kept. */
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	assert_int_equal(archive_read_open_filename(a, fx->arch, 65536),
	    ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		name = archive_entry_pathname(e);
		assert_true(strncmp(name, "box", 3) == 0 &&
		    (name[3] == '\0' || name[3] == '/'));
		if (archive_entry_filetype(e) == AE_IFREG)
			regs++;
		if (archive_entry_filetype(e) == AE_IFLNK)
			syms++;
		if (strcmp(name, files[1].name) == 0) {
			assert_int_equal(archive_entry_mtime(e), BASE + 1);
			assert_int_equal(archive_entry_mtime_nsec(e),
			    100000000 + 1111);
			assert_int_equal(archive_entry_perm(e), 0640);
		}
		if (strcmp(name, "box/.Evil") == 0)
			assert_string_equal(archive_entry_symlink(e), "/etc");
		n++;
	}
	archive_read_free(a);
	assert_int_equal(n, NDIRS + NFILES + NLINKS);
	assert_int_equal(regs, NFILES);
	assert_int_equal(syms, NLINKS);
}

/* After one byte changes (size and mtime kept), a file is added or one is
 * removed, zarchive_verify fails and says why. */
static void
test_verify_finds_changes(void **arg)
{
	struct fx *fx = *arg;
	const char *msg = "box/cur/125.M1P3.host,S=300:2,";
	struct stat fst, cst, sst;
	char p[PATH_MAX];
	int fd;

	archive(fx);
	verify_ok(fx);

	/* One byte, in place. */
	fst = lst(fx->src, msg);
	assert_true((fd = open(join(p, fx->src, msg), O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, "#", 1, 200), 1);
	close(fd);
	restore_time(fx->src, msg, &fst);
	verify_fails(fx, msg, "content");
	/* Put back: agrees again. */
	put(fx->src, msg, 300, 0640, 1);
	restore_time(fx->src, msg, &fst);
	verify_ok(fx);

	/* A file added (the directory's mtime put back): entry count. */
	cst = lst(fx->src, "box/cur");
	put(fx->src, "box/cur/999.M9P9.host:2,S", 5, 0600, 0);
	restore_time(fx->src, "box/cur", &cst);
	verify_fails(fx, "entries", "holds");
	assert_int_equal(unlink(join(p, fx->src,
	    "box/cur/999.M9P9.host:2,S")), 0);
	restore_time(fx->src, "box/cur", &cst);
	verify_ok(fx);

	/* A file removed. */
	sst = lst(fx->src, "box/.Sent");
	assert_int_equal(unlink(join(p, fx->src,
	    "box/.Sent/dovecot-uidlist")), 0);
	restore_time(fx->src, "box/.Sent", &sst);
	verify_fails(fx, "box/.Sent/dovecot-uidlist", "not on disk");
	put(fx->src, "box/.Sent/dovecot-uidlist", 30, 0600, 6);
	set_time(fx->src, "box/.Sent/dovecot-uidlist", BASE + 6,
	    100000000 + 6 * 1111);
	restore_time(fx->src, "box/.Sent", &sst);
	verify_ok(fx);

	/* A mode, and an mtime by one nanosecond. */
	assert_int_equal(chmod(join(p, fx->src, "box/subscriptions"), 0600),
	    0);
	verify_fails(fx, "box/subscriptions", "differs");
	assert_int_equal(chmod(p, 0644), 0);
	verify_ok(fx);
	set_time(fx->src, "box/new/456.M2P1.host", BASE + 2, 100000000 +
	    2 * 1111 + 1);
	verify_fails(fx, "box/new/456.M2P1.host", "differs");
}

/* A symlink that points elsewhere (same mtime) is a difference too: the
 * header promises contents compared, and a link's content is its target. */
static void
test_verify_symlink_target(void **arg)
{
	struct fx *fx = *arg;
	struct stat lstt, bst;
	char p[PATH_MAX];

	archive(fx);
	lstt = lst(fx->src, "box/.Evil");
	bst = lst(fx->src, "box");
	assert_int_equal(unlink(join(p, fx->src, "box/.Evil")), 0);
	assert_int_equal(symlink("/tmp", p), 0);
	restore_time(fx->src, "box/.Evil", &lstt);
	restore_time(fx->src, "box", &bst);
	verify_fails(fx, "box/.Evil", "differs");
}

/* Extracted under another name into an empty directory, the tree is the
 * original: names, sizes, modes, nanosecond mtimes, contents, links. */
static void
test_extract_equal(void **arg)
{
	struct fx *fx = *arg;
	char dest[PATH_MAX], p[PATH_MAX], *cause = NULL;
	struct stat bst;

	/* As root, owners come back too (same_tree compares them). */
	if (geteuid() == 0) {
		bst = lst(fx->src, "box");
		assert_int_equal(lchown(join(p, fx->src, files[0].name), 4321,
		    4322), 0);
		assert_int_equal(lchown(join(p, fx->src, "box/.Sent"), 4321,
		    4322), 0);
		assert_int_equal(lchown(join(p, fx->src, "box/.Evil"), 4321,
		    4322), 0);
		restore_time(fx->src, "box", &bst);
	}
	archive(fx);
	verify_ok(fx);
	mk_dir(fx->dir, "restore", 0755);
	join(dest, fx->dir, "restore");
	if (zarchive_extract(fx->arch, dest, "box2", &cause) != 0)
		fail_msg("zarchive_extract: %s", cause);
	assert_int_equal(entries_in(dest), 1);
	same_tree(fx->src, "box", dest, "box2");
	assert_false(exists(dest, "box"));
}

/* Relative archive and destination paths work from another working
 * directory, which is the same afterwards. */
static void
test_extract_relative(void **arg)
{
	struct fx *fx = *arg;
	char work[PATH_MAX], here[PATH_MAX], dest[PATH_MAX], *cause = NULL;

	archive(fx);
	mk_dir(fx->dir, "work", 0755);
	mk_dir(fx->dir, "restore", 0755);
	join(work, fx->dir, "work");
	join(dest, fx->dir, "restore");
	assert_int_equal(chdir(work), 0);

	/* Relative archive, absolute destination. */
	if (zarchive_extract("../box.tar.zst", dest, "one", &cause) != 0)
		fail_msg("zarchive_extract: %s", cause);
	assert_non_null(getcwd(here, sizeof here));
	assert_string_equal(here, work);
	same_tree(fx->src, "box", dest, "one");

	/* Both relative. */
	if (zarchive_extract("../box.tar.zst", "../restore", "two",
	    &cause) != 0)
		fail_msg("zarchive_extract: %s", cause);
	assert_non_null(getcwd(here, sizeof here));
	assert_string_equal(here, work);
	same_tree(fx->src, "box", dest, "two");
	assert_int_equal(entries_in(work), 0);
	assert_int_equal(entries_in(dest), 2);
}

/* One entry of a hand-made archive. */
struct ev {
	const char	*name;
	char		 type;		/* d, f, l (symlink), h (hardlink) */
	const char	*arg;		/* data, link target, link to */
};

/* Write a hand-made archive with libarchive's writer (pax, zstd). */
static void
write_archive(const char *out, const struct ev *ev, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	const char *data;
	size_t i;

	assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, out), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		data = NULL;
		archive_entry_clear(e);
		archive_entry_set_pathname(e, ev[i].name);
		archive_entry_set_mtime(e, BASE, 0);
		switch (ev[i].type) {
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0700);
			break;
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0600);
			data = ev[i].arg;
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, ev[i].arg);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0600);
			archive_entry_set_hardlink(e, ev[i].arg);
			data = "PWNED";
			break;
		}
		if (data != NULL)
			archive_entry_set_size(e, (la_int64_t)strlen(data));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		/* A hardlink may carry no data in the format: ignore. */
		if (data != NULL)
			(void)archive_write_data(a, data, strlen(data));
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_entry_free(e);
	archive_write_free(a);
}

static int
have_tar_zstd(void)
{
	return system("tar --version >/dev/null 2>&1 && "
	    "zstd --version >/dev/null 2>&1") == 0;
}

/*
 * An archive holding box/, box/ok and one more entry named evil whose
 * file is made at dir/made (and removed afterwards): with the system tar
 * (-P keeps the name as given), else with libarchive.
 */
static void
evil_archive(struct fx *fx, const char *out, const char *evil,
    const char *made)
{
	char mk[PATH_MAX], p[PATH_MAX];
	struct ev ev[3] = {
		{ "box", 'd', NULL }, { "box/ok", 'f', "ok\n" },
		{ evil, 'f', "PWNED\n" },
	};

	if (!have_tar_zstd()) {
		write_archive(out, ev, 3);
		return;
	}
	join(mk, fx->dir, "mk");
	mk_dir(fx->dir, "mk", 0755);
	mk_dir(mk, "box", 0755);
	put_text(mk, "box/ok", "ok\n");
	put_text(fx->dir, made, "PWNED\n");
	sh("cd '%s' && tar -P --zstd -cf '%s' box '%s' 2>/dev/null", mk, out,
	    evil);
	/* The entry name is really there, as given. */
	sh("tar -P --zstd -tf '%s' | grep -qxF -- '%s'", out, evil);
	assert_int_equal(unlink(join(p, fx->dir, made)), 0);
	sh("rm -rf '%s'", mk);
}

/* Extract archive out into a fresh dir/dest as "restored"; returns the
 * result of zarchive_extract. */
static int
extract_evil(struct fx *fx, const char *out)
{
	char dest[PATH_MAX], here[PATH_MAX], before[PATH_MAX];
	char *cause = NULL;
	int rc;

	sh("rm -rf '%s/dest'", fx->dir);
	mk_dir(fx->dir, "dest", 0755);
	join(dest, fx->dir, "dest");
	assert_non_null(getcwd(before, sizeof before));
	rc = zarchive_extract(out, dest, "restored", &cause);
	assert_non_null(getcwd(here, sizeof here));
	assert_string_equal(here, before);
	if (rc != 0) {
		assert_non_null(cause);
		free(cause);
	}
	return rc;
}

/* Nothing outside dir/dest was written: only the expected names in dir,
 * the victim file and the outside directory untouched. */
static void
nothing_escaped(struct fx *fx, int names)
{
	char p[PATH_MAX], *buf;
	size_t len;

	assert_int_equal(entries_in(fx->dir), names);
	buf = slurp(join(p, fx->dir, "victim"), &len);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "intact\n", 7);
	free(buf);
	assert_int_equal(lst(fx->dir, "victim").st_nlink, 1);
	assert_int_equal(entries_in(join(p, fx->dir, "outside")), 0);
}

/*
 * Archives made by someone else with "..", absolute paths, symlinks or
 * hard links that lead out of the destination write nothing outside it.
 */
static void
test_extract_unsafe(void **arg)
{
	struct fx *fx = *arg;
	char out[PATH_MAX], abs[PATH_MAX], victim[PATH_MAX], dir[PATH_MAX];
	char p[PATH_MAX];
	int names;

	put_text(fx->dir, "victim", "intact\n");
	mk_dir(fx->dir, "outside", 0755);
	join(victim, fx->dir, "victim");
	join(dir, fx->dir, "outside");
	join(out, fx->dir, "evil.tar.zst");
	/* src, victim, outside, evil.tar.zst, dest */
	names = 5;

	/*
	 * "../escape": the top component is replaced by the new name, so
	 * the entry lands inside as restored/escape; the call succeeds.
	 */
	evil_archive(fx, out, "../escape", "escape");
	assert_int_equal(extract_evil(fx, out), 0);
	nothing_escaped(fx, names);
	assert_false(exists(fx->dir, "escape"));
	assert_true(exists(fx->dir, "dest/restored/escape"));

	/* "box/../../escape": refused (the call fails), nothing written. */
	evil_archive(fx, out, "box/../../escape", "escape");
	assert_int_equal(extract_evil(fx, out), -1);
	nothing_escaped(fx, names);
	assert_false(exists(fx->dir, "escape"));

	/*
	 * An absolute path: it becomes restored/<path> inside the
	 * destination (the first component is replaced); the call succeeds.
	 */
	join(abs, fx->dir, "escape");
	evil_archive(fx, out, abs, "escape");
	assert_int_equal(extract_evil(fx, out), 0);
	nothing_escaped(fx, names);
	assert_false(exists(fx->dir, "escape"));
	assert_true(exists(join(p, fx->dir, "dest/restored"), abs + 1));

	/* A symlink out, then a file through it: refused. */
	{
		struct ev ev[] = {
			{ "box", 'd', NULL }, { "box/out", 'l', dir },
			{ "box/out/pwn", 'f', "PWNED\n" },
		};

		write_archive(out, ev, 3);
		assert_int_equal(extract_evil(fx, out), -1);
		nothing_escaped(fx, names);
	}
	/* A relative symlink up, then a file through it: refused. */
	{
		struct ev ev[] = {
			{ "box", 'd', NULL }, { "box/up", 'l', "../.." },
			{ "box/up/escape", 'f', "PWNED\n" },
		};

		write_archive(out, ev, 3);
		assert_int_equal(extract_evil(fx, out), -1);
		nothing_escaped(fx, names);
		assert_false(exists(fx->dir, "escape"));
	}
	/* A hard link to an absolute path outside, with data: refused. */
	{
		struct ev ev[] = {
			{ "box", 'd', NULL }, { "box/h", 'h', victim },
		};

		write_archive(out, ev, 2);
		assert_int_equal(extract_evil(fx, out), -1);
		nothing_escaped(fx, names);
	}
	/* A hard link to ../victim (relative to the destination): refused. */
	{
		struct ev ev[] = {
			{ "box", 'd', NULL }, { "box/h", 'h', "../victim" },
		};

		write_archive(out, ev, 2);
		assert_int_equal(extract_evil(fx, out), -1);
		nothing_escaped(fx, names);
	}
}

/* Errors: a missing tree, archive or destination fail with a cause and
 * leave no file behind; a verify against another name fails. */
static void
test_errors(void **arg)
{
	struct fx *fx = *arg;
	char out[PATH_MAX], here[PATH_MAX], before[PATH_MAX];
	char *cause = NULL;

	join(out, fx->dir, "none.tar.zst");
	assert_int_equal(zarchive_tree(fx->pfd, "nobox", out, NULL, NULL,
	    &cause), -1);
	assert_non_null(strstr(cause, "nobox"));
	free(cause);
	cause = NULL;
	assert_false(exists(fx->dir, "none.tar.zst"));
	assert_false(exists(fx->dir, "none.tar.zst.tmp"));

	assert_int_equal(zarchive_verify(out, fx->pfd, "box", &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;

	archive(fx);
	mk_dir(fx->src, "other", 0700);
	assert_int_equal(zarchive_verify(fx->arch, fx->pfd, "other", &cause),
	    -1);
	assert_non_null(strstr(cause, "unexpected entry"));
	free(cause);
	cause = NULL;

	assert_non_null(getcwd(before, sizeof before));
	assert_int_equal(zarchive_extract(fx->arch, "/nonexistent/mailshift",
	    "x", &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_non_null(getcwd(here, sizeof here));
	assert_string_equal(here, before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_archive_and_verify,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_finds_changes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_symlink_target,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract_equal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_extract_relative, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_extract_unsafe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests_name("zarchive", tests, NULL, NULL);
}
