/* Unit tests of the verification of a copy: sync_verify and
 * sync_verify_changed (verify.c). */
#define _GNU_SOURCE
#include "testutil.h"
#include "testfs.h"
#include "syncfix.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_changed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_changed_trusts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_differences,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
