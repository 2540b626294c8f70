/* The quiet wait of a cutover (migrator/quiet.c). */
#define _GNU_SOURCE
#include "common/util.h"
#include "migrator/quiet.h"
#include "migrator/throttle.h"
#include "testutil.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	char	*dir;
	int	 fd;
};

static void
mk(const char *root, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", root, rel);
	if (mkdir(p, 0700) != 0)
		abort();
}

static int
setup(void **arg)
{
	struct fixture *f = calloc(1, sizeof *f);
	char p[PATH_MAX];

	f->dir = test_tmpdir();
	mk(f->dir, "cur");
	mk(f->dir, "new");
	mk(f->dir, "tmp");
	mk(f->dir, ".Sent");
	mk(f->dir, ".Sent/cur");
	mk(f->dir, ".Sent/new");
	mk(f->dir, ".Sent/tmp");
	snprintf(p, sizeof p, "%s/new/1.M1.host", f->dir);
	test_write(p, "old mail\n");
	snprintf(p, sizeof p, "%s/dovecot-uidlist", f->dir);
	test_write(p, "3 V1 N2\n1 :1.M1.host\n");
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	*arg = f;
	return f->fd < 0;
}

static int
teardown(void **arg)
{
	struct fixture *f = *arg;

	close(f->fd);
	test_rm_rf(f->dir);
	free(f);
	return 0;
}

static void
nap(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* A still mailbox is quiet after the quiet period, no later. */
static void
test_still(void **arg)
{
	struct fixture *f = *arg;
	struct quiet_result r;
	char *cause = NULL;

	assert_int_equal(quiet_wait(f->fd, 0.2, time(NULL) - 30,
	    monotonic_now() + 5, NULL, &r, &cause), 0);
	assert_null(cause);
	assert_true(r.waited >= 0.2);
	assert_true(r.waited < 1.5);
	assert_int_equal(r.changes, 0);
	assert_true(r.looks >= 2);
}

/* A writer delivering into .Sent (tmp/, rename into new/) every 50 ms
 * for 0.5 s. */
static void *
writer(void *arg)
{
	struct fixture *f = arg;
	char tmp[PATH_MAX], dst[PATH_MAX];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(tmp, sizeof tmp, "%s/.Sent/tmp/9%d.M1.host", f->dir,
		    i);
		snprintf(dst, sizeof dst, "%s/.Sent/new/9%d.M1.host", f->dir,
		    i);
		test_write(tmp, "late\n");
		if (rename(tmp, dst) != 0)
			abort();
		nap(0.05);
	}
	return NULL;
}

/* Changes in a folder keep the wait going until they stop. */
static void
test_waits_for_writer(void **arg)
{
	struct fixture *f = *arg;
	struct quiet_result r;
	char *cause = NULL;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, writer, f), 0);
	nap(0.02);
	assert_int_equal(quiet_wait(f->fd, 0.2, time(NULL) - 30,
	    monotonic_now() + 10, NULL, &r, &cause), 0);
	pthread_join(th, NULL);
	assert_true(r.waited >= 0.6);
	assert_true(r.changes >= 3);
}

/* Appends to a file beside cur/ (an index log written in place) every
 * 40 ms for 0.4 s. */
static void *
appender(void *arg)
{
	const char *path = arg;
	int i, fd = open(path, O_WRONLY | O_APPEND);

	if (fd < 0)
		abort();
	for (i = 0; i < 10; i++) {
		if (write(fd, "y", 1) != 1)
			abort();
		nap(0.04);
	}
	close(fd);
	return NULL;
}

/* A file beside cur/ written in place is a change too. */
static void
test_file_beside_cur(void **arg)
{
	struct fixture *f = *arg;
	struct quiet_result r;
	char *cause = NULL, p[PATH_MAX];
	pthread_t th;

	snprintf(p, sizeof p, "%s/dovecot.index.log", f->dir);
	test_write(p, "x");
	assert_int_equal(pthread_create(&th, NULL, appender, p), 0);
	nap(0.02);
	assert_int_equal(quiet_wait(f->fd, 0.2, time(NULL) - 30,
	    monotonic_now() + 10, NULL, &r, &cause), 0);
	pthread_join(th, NULL);
	assert_true(r.waited >= 0.5);
	assert_true(r.changes >= 3);
}

/* A fresh file in tmp/ (a delivery in flight) never counts as quiet: at
 * the deadline the wait gives up and names it; an old one is a leftover
 * and does not matter. */
static void
test_fresh_tmp_file(void **arg)
{
	struct fixture *f = *arg;
	struct quiet_result r;
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char *cause = NULL, p[PATH_MAX];

	snprintf(p, sizeof p, "%s/tmp/5.M5.host", f->dir);
	test_write(p, "half a message");
	assert_int_equal(quiet_wait(f->fd, 0.1, time(NULL) - 30,
	    monotonic_now() + 0.5, NULL, &r, &cause), -1);
	assert_non_null(strstr(cause, "tmp/5.M5.host is still being written"));
	assert_true(r.waited >= 0.5);
	free(cause);
	cause = NULL;
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_int_equal(quiet_wait(f->fd, 0.1, time(NULL) - 30,
	    monotonic_now() + 5, NULL, &r, &cause), 0);
}

/* A stop ends the wait at once. */
static void
test_stop(void **arg)
{
	struct fixture *f = *arg;
	struct quiet_result r;
	volatile int stop = 1;
	char *cause = NULL;

	assert_int_equal(quiet_wait(f->fd, 5, time(NULL) - 30,
	    monotonic_now() + 10, &stop, &r, &cause), -1);
	assert_non_null(strstr(cause, "stopped"));
	assert_true(r.waited < 1);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_still, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_writer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_beside_cur, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fresh_tmp_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	};

	return cmocka_run_group_tests_name("quiet", tests, NULL, NULL);
}
