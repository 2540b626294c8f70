/* Unit tests of the delta passes over cur/ and new/: which listings are
 * trusted and skipped, and what every pass still finds
 * (sync_maildir.c). */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"
#include "syncfix.h"

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

/*
 * A budget splits a pass into parts, each ending on entering a directory
 * once the budget is spent; the parts are one logical pass: a cur/ or
 * new/ that an earlier part finished is not listed again, even while its
 * listing is not trusted yet, and the part that ends the pass counts
 * everything seen.
 */
static void
test_budget_split(void **arg)
{
	struct fx *fx = *arg;
	/* Nothing is trusted within the test: an hour's margin. */
	struct sync_config cfg = { .trust = 3600 };
	struct sync *s = sync_new(fx->sfd, fx->dfd, &cfg);
	struct sync_stats st;
	uint64_t copied = 0, scanned = 0, skipped = 0;
	char *cause = NULL;
	int rc, parts = 0, enospc;

	do {
		rc = sync_pass_some(s, parts > 0, 1, &st, &enospc, &cause);
		if (rc < 0)
			fail_msg("sync_pass_some: %s", cause);
		assert_int_equal(sync_partial(s), rc == 1);
		copied += st.files_copied;
		scanned += st.dirs_scanned;
		skipped += st.dirs_skipped;
		assert_true(++parts < 50);
	} while (rc == 1);
	assert_true(parts >= 3);
	assert_int_equal(copied, NFILES);
	/* Each cur/ and new/ listed once, skipped by the later parts. */
	assert_true(skipped >= NMAILDIRS);
	assert_int_equal(st.files_seen, NFILES);
	assert_int_equal(st.bytes_seen, total_bytes());
	(void)scanned;
	verify_ok(fx, 1);
	same_tree(fx->src, fx->dst, "");
	/* The next pass is a new logical pass and nothing is trusted yet:
	 * every cur/ and new/ is listed again. */
	st = pass(s, 1);
	assert_int_equal(st.dirs_skipped, 0);
	assert_int_equal(sync_changes(&st), 0);
	sync_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_budget_split, setup,
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
	};

	return cmocka_run_group_tests_name("sync_maildir", tests, NULL, NULL);
}
