/*
 * Unit tests of the tree sync (sync.c, copy.c): bulk copy, delta passes,
 * metadata, links and names, refusals, the tree helpers, hooks and the
 * throttle. The passes over cur/ and new/ are tested in
 * test_sync_maildir.c, verification in test_verify.c.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"
#include "syncfix.h"

#include "migrator/throttle.h"

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

/* New, expunged, flag-changed and new/ -> cur/ messages: renames are
 * renames on the target (same inode), only the new message is copied. */
static void
test_delta(void **arg)
{
	struct fx *fx = *arg;
	struct sync *s = sync_new(fx->sfd, fx->dfd, NULL);
	struct sync_stats st;
	ino_t flagged, moved;

	/* A first pass: every message is new to the target. */
	st = pass(s, 1);
	assert_int_equal(st.files_arrived, 7);
	assert_int_equal(st.bytes_arrived, 10 + 25 + 300 + 42 + 77 + 5000 +
	    200000);
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
	/* Only the delivery arrived: renames are not arrivals. */
	assert_int_equal(st.files_arrived, 1);
	assert_int_equal(st.bytes_arrived, 33);
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
	/* Not a message: copied again, but nothing arrived. */
	assert_int_equal(st.files_arrived, 0);
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
		cmocka_unit_test_setup_teardown(test_tree_helpers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttled, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
