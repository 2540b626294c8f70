/*
 * Unit tests of the health probes (migrator/probe.c) on real
 * directories: what one probe does and leaves behind, what it refuses
 * to follow, and the per-slice threads of a probe set.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"
#include "testfs.h"

#include "migrator/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

/* One probe leaves .mailshift-health/ empty behind it, and reads the
 * account's directory. */
static void
test_once(void **arg)
{
	char *dir = test_tmpdir(), p[4096];
	struct probe_report r;
	struct stat sb;

	(void)arg;
	snprintf(p, sizeof p, "%s/example.com", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/example.com/alice", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	probe_once(dir, "example.com/alice", 1, &r);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.full, 0);
	assert_true(r.seconds > 0 && r.seconds < 5);
	snprintf(p, sizeof p, "%s/.mailshift-health", dir);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(entries_in(p), 0);
	/* Again: the directory is there already. */
	probe_once(dir, "example.com/alice", 2, &r);
	assert_int_equal(r.failed, 0);
	assert_int_equal(entries_in(p), 0);
	/* No account: the root is read instead. */
	probe_once(dir, NULL, 3, &r);
	assert_int_equal(r.failed, 0);
	/* An account gone meanwhile is no failure of the slice. */
	probe_once(dir, "example.com/bob", 4, &r);
	assert_int_equal(r.failed, 0);
	test_rm_rf(dir);
}

/* A symlink for .mailshift-health, or on the way to the account, is
 * not followed: the probe fails and writes nothing through it. */
static void
test_symlinks(void **arg)
{
	char *dir = test_tmpdir(), *out = test_tmpdir(), p[4096];
	struct probe_report r;

	(void)arg;
	snprintf(p, sizeof p, "%s/.mailshift-health", dir);
	assert_int_equal(symlink(out, p), 0);
	probe_once(dir, NULL, 1, &r);
	assert_int_equal(r.failed, 1);
	assert_non_null(strstr(r.error, ".mailshift-health"));
	assert_int_equal(entries_in(out), 0);
	assert_int_equal(unlink(p), 0);

	snprintf(p, sizeof p, "%s/example.com", dir);
	assert_int_equal(symlink(out, p), 0);
	probe_once(dir, "example.com/alice", 2, &r);
	/* Refused, as an account that is not there would be. */
	assert_int_equal(r.failed, 0);
	assert_int_equal(entries_in(out), 0);
	test_rm_rf(dir);
	test_rm_rf(out);
}

/* A root that is gone, or not a directory: failed, saying so. */
static void
test_bad_root(void **arg)
{
	char *dir = test_tmpdir(), p[4096];
	struct probe_report r;
	int fd;

	(void)arg;
	snprintf(p, sizeof p, "%s/nothing", dir);
	probe_once(p, NULL, 1, &r);
	assert_int_equal(r.failed, 1);
	assert_non_null(strstr(r.error, "open the slice root"));
	snprintf(p, sizeof p, "%s/file", dir);
	assert_true((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	probe_once(p, NULL, 2, &r);
	assert_int_equal(r.failed, 1);
	test_rm_rf(dir);
}

struct seen {
	int	 done[3];
	int	 failed[3];
	int	 busy_calls;
};

static void
on_done(void *arg, const struct probe_report *r)
{
	struct seen *s = arg;

	assert_true(r->slice >= 1 && r->slice <= 2);
	s->done[r->slice]++;
	s->failed[r->slice] += r->failed;
}

static void
on_busy(void *arg, int64_t slice, double started)
{
	struct seen *s = arg;

	(void)slice;
	(void)started;
	s->busy_calls++;
}

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A set probes each slice once per interval on its own thread; a slice
 * no longer named stops being probed. */
static void
test_set(void **arg)
{
	char *a = test_tmpdir(), *b = test_tmpdir(), p[4096];
	struct probe_target t[2] = { { 1, a, NULL }, { 2, b, NULL } };
	struct probe_set *set = probe_new(0.1);
	struct seen s;

	(void)arg;
	memset(&s, 0, sizeof s);
	probe_sync(set, t, 2);
	nap(550);
	probe_collect(set, on_done, on_busy, &s);
	assert_true(s.done[1] >= 3 && s.done[1] <= 7);
	assert_true(s.done[2] >= 3 && s.done[2] <= 7);
	assert_int_equal(s.failed[1] + s.failed[2], 0);
	assert_int_equal(s.busy_calls, 2);
	/* Only slice 2 from now on. */
	probe_sync(set, &t[1], 1);
	nap(100);
	memset(&s, 0, sizeof s);
	probe_collect(set, on_done, on_busy, &s);
	nap(400);
	memset(&s, 0, sizeof s);
	probe_collect(set, on_done, on_busy, &s);
	assert_int_equal(s.done[1], 0);
	assert_true(s.done[2] >= 2);
	assert_int_equal(s.busy_calls, 1);
	probe_free(set);
	/* Give the threads time to see the stop before the dirs go. */
	nap(200);
	snprintf(p, sizeof p, "%s/.mailshift-health", b);
	assert_int_equal(entries_in(p), 0);
	test_rm_rf(a);
	test_rm_rf(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_bad_root),
		cmocka_unit_test(test_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
