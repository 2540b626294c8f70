/*
 * Unit tests of the move's step API (migrator/move.c, cutover.c,
 * retire.c) against a real temporary catalog and real Maildir trees:
 * what each step does, what it returns, what the catalog and the disk
 * say after it, and that a stop or a close under the lock unlocks.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/layout.h"
#include "migrator/move.h"
#include "migrator/slice.h"
#include "migrator/throttle.h"
#include "state/account.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/route.h"
#include "state/server.h"
#include "state/slice.h"
#include "state/state.h"

#include "catalogfix.h"


#define USER	"alice@example.com"

struct fixture {
	char		*dir;
	char		*db;
	char		 s1[1024];	/* slice roots */
	char		 s2[1024];
	char		 box[2048];	/* alice's mailbox on s1 */
	struct state	*st;
	struct config	 cfg;
	struct layout	*layout;
};

static void
mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	mkdir(buf, 0755);
}

/* A message file named name in box/folder/sub. */
static void
message(const char *box, const char *folder, const char *sub,
    const char *name)
{
	char path[PATH_MAX], text[256];

	snprintf(path, sizeof path, "%s/%s%s%s/%s", box, folder,
	    *folder ? "/" : "", sub, name);
	snprintf(text, sizeof text, "From: a@b\nSubject: %s\n\nbody of %s\n",
	    name, name);
	test_write(path, text);
}

/* A Maildir++ folder ("" for the INBOX) with n messages in cur/. */
static void
folder(const char *box, const char *name, int n)
{
	char path[PATH_MAX], msg[64];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s%s%s", box, name,
		    *name ? "/" : "", (const char *[]){ "cur", "new",
		    "tmp" }[i]);
		mkdirs(path);
	}
	if (*name) {
		snprintf(path, sizeof path, "%s/%s/maildirfolder", box, name);
		test_write(path, "");
	}
	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof msg, "%d.M%dP1.host:2,S", 1000 + i, i);
		message(box, name, "cur", msg);
	}
}

/* Regular files below path, recursively. */
static int
count_files(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		if (lstat(sub, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			n += count_files(sub);
		else if (S_ISREG(sb.st_mode))
			n++;
	}
	closedir(d);
	return n;
}

static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* The old path after the switch: no mailbox, only the placeholder that
 * keeps late deliveries from recreating it. */
static int
placeholder_only(const char *path)
{
	char buf[32] = "";
	struct stat sb;
	FILE *fp;

	if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof buf, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	return strncmp(buf, "mailshift-moved move=", 21) == 0;
}

static int
setup(void **arg)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL, uidlist[PATH_MAX];
	int64_t ids[3];
	int created;

	f->dir = test_tmpdir();
	snprintf(f->s1, sizeof f->s1, "%s/s1", f->dir);
	snprintf(f->s2, sizeof f->s2, "%s/s2", f->dir);
	snprintf(f->box, sizeof f->box, "%s/example.com/alice", f->s1);
	mkdirs(f->s1);
	mkdirs(f->s2);
	assert_ok(slice_mark(f->s1, "s1", &created, &cause));
	assert_ok(slice_mark(f->s2, "s2", &created, &cause));
	folder(f->box, "", 40);
	message(f->box, "", "new", "2000.M1P1.host");
	folder(f->box, ".Sent", 30);
	folder(f->box, ".Archive.2019", 30);
	snprintf(uidlist, sizeof uidlist, "%s/dovecot-uidlist", f->box);
	test_write(uidlist, "3 V1700000000 N101\n");
	if ((f->st = test_catalog_fleet(f->dir, &f->db, 2, ids)) == NULL)
		return -1;
	assert_ok(state_account_insert(f->st, USER, ids[1],
	    "example.com/alice", 20000, 102, 0, "counted", &cause));
	config_defaults(&f->cfg);
	f->cfg.lock_grace = 1;
	f->cfg.settle = 0;
	f->layout = layout_parse("%d/%n", &cause);
	assert_non_null(f->layout);
	*arg = f;
	return 0;
}

static int
teardown(void **arg)
{
	struct fixture *f = *arg;

	layout_free(f->layout);
	config_free(&f->cfg);
	state_close(f->st);
	free(f->db);
	test_rm_rf(f->dir);
	free(f);
	return 0;
}

static int64_t
queue(struct fixture *f, int hold)
{
	int64_t id;

	assert_ok(move_queue(f->st, f->layout, USER, "s2", hold, 0, NULL, &id,
	    &cause));
	return id;
}

static struct move *
open_move(struct fixture *f, int64_t id)
{
	struct move_opts o = { .config = &f->cfg, .workers = 1 };
	char *cause = NULL;
	struct move *mv = move_open(f->st, id, &o, &cause);

	if (mv == NULL)
		fail_msg("move_open: %s", cause);
	return mv;
}

static enum move_step
step(struct move *mv, uint64_t budget)
{
	char *cause = NULL;
	enum move_step e = move_step(mv, budget, &cause);

	if (e == MOVE_STEP_FAILED)
		print_message("step failed: %s\n", cause ? cause : "?");
	free(cause);
	return e;
}

static enum move_state
catalog_state(struct fixture *f, int64_t id)
{
	struct state_move m;
	enum move_state s;

	assert_ok(state_move_get(f->st, id, &m, &cause));
	s = m.state;
	state_move_free(&m);
	return s;
}

static int
locked(struct fixture *f)
{
	struct state_route r;
	int l;

	assert_ok(state_route_get(f->st, USER, &r, &cause));
	l = r.locked;
	state_route_free(&r);
	return l;
}

/* Wait out the lock grace the way a driver does. */
static void
wait_wake(struct move *mv)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	while (monotonic_now() < move_wake_at(mv))
		nanosleep(&ts, NULL);
}

/*
 * Step by step from queued to done: one step per pass, READY without a
 * cutover until allowed (with a delta pass each time), the lock with a
 * wake time, nothing before it, the switch after it, then retirement.
 */
static void
test_steps_to_done(void **arg)
{
	struct fixture *f = *arg;
	char path[PATH_MAX], target[2048];
	int64_t id = queue(f, 0);
	struct move *mv = open_move(f, id);
	int total = count_files(f->box);

	snprintf(target, sizeof target, "%s/example.com/alice", f->s2);
	assert_int_equal(catalog_state(f, id), MOVE_QUEUED);
	/* The bulk copy. */
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);
	assert_int_equal(catalog_state(f, id), MOVE_SYNCING);
	assert_int_equal(count_files(target), total);
	/* A delta pass that changes nothing: ready. */
	assert_int_equal(step(mv, 0), MOVE_STEP_READY);
	assert_int_equal(catalog_state(f, id), MOVE_READY);
	assert_int_equal(move_info(mv)->state, MOVE_READY);
	/* Not allowed: each step is another delta pass, never the lock. */
	message(f->box, "", "new", "3000.M9P1.host");
	assert_int_equal(step(mv, 0), MOVE_STEP_READY);
	snprintf(path, sizeof path, "%s/new/3000.M9P1.host", target);
	assert_true(exists(path));
	assert_int_equal(catalog_state(f, id), MOVE_READY);
	assert_false(locked(f));
	assert_true(move_wake_at(mv) == 0);
	/* Allowed: the lock, and a wake time a grace away. */
	move_allow_cutover(mv);
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);
	assert_int_equal(catalog_state(f, id), MOVE_CUTOVER);
	assert_true(locked(f));
	assert_true(move_wake_at(mv) > monotonic_now() + 0.5);
	/* Before the wake time a step does nothing. */
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);
	assert_int_equal(catalog_state(f, id), MOVE_CUTOVER);
	/* A delivery during the grace reaches the target by the final
	 * pass. */
	message(f->box, "", "new", "4000.M9P1.host");
	wait_wake(mv);
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);
	assert_int_equal(catalog_state(f, id), MOVE_DONE);
	assert_false(locked(f));
	assert_true(move_result(mv)->lock_ms >= 1000);
	snprintf(path, sizeof path, "%s/new/4000.M9P1.host", target);
	assert_true(exists(path));
	assert_int_equal(count_files(target), total + 2);
	/* Retirement: renamed aside, settle check (settle = 0), done. */
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);
	assert_true(placeholder_only(f->box));
	snprintf(path, sizeof path, "%s/.mailshift-retired/%lld-%s", f->s1,
	    (long long)id, USER);
	assert_true(exists(path));
	assert_int_equal(count_files(path), total + 2);
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);	/* settle check */
	assert_true(move_result(mv)->settled);
	assert_int_equal(step(mv, 0), MOVE_STEP_DONE);
	assert_int_equal(step(mv, 0), MOVE_STEP_DONE);
	assert_int_equal(move_result(mv)->state, MOVE_DONE);
	move_close(mv);
}

/* A budget splits the bulk copy into steps; the move stays copying until
 * the pass is whole, and nothing is copied twice. */
static void
test_budget(void **arg)
{
	struct fixture *f = *arg;
	char target[2048];
	int64_t id = queue(f, 0);
	struct move *mv = open_move(f, id);
	int total = count_files(f->box), steps = 0, last = 0, now;

	snprintf(target, sizeof target, "%s/example.com/alice", f->s2);
	while (catalog_state(f, id) == MOVE_COPYING ||
	    catalog_state(f, id) == MOVE_QUEUED) {
		assert_int_equal(step(mv, 10), MOVE_STEP_MORE);
		now = count_files(target);
		assert_true(now >= last);
		last = now;
		assert_true(++steps < 50);
	}
	/* Three folders of 30-41 messages: the budget ends a step at the
	 * next directory, never inside a cur/ or new/. */
	assert_true(steps >= 3);
	assert_int_equal(catalog_state(f, id), MOVE_SYNCING);
	assert_int_equal(count_files(target), total);
	assert_int_equal(move_result(mv)->files_copied, (uint64_t)total);
	assert_int_equal(move_result(mv)->passes, 1);
	move_close(mv);
}

/* A stop during the lock grace unlocks at once; the move resumes. */
static void
test_stop_under_lock(void **arg)
{
	struct fixture *f = *arg;
	struct move_drive d = { .settle_wait = 1 };
	struct move_opts o = { .config = &f->cfg, .workers = 1 };
	struct move_result res;
	int64_t id = queue(f, 0);
	struct move *mv = open_move(f, id);
	char *cause = NULL;

	while (step(mv, 0) != MOVE_STEP_READY)
		;
	move_allow_cutover(mv);
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);
	assert_true(locked(f));
	move_stop(mv);
	assert_int_equal(step(mv, 0), MOVE_STEP_FAILED);
	assert_true(move_result(mv)->stopped);
	assert_false(locked(f));
	assert_int_equal(catalog_state(f, id), MOVE_SYNCING);
	move_close(mv);
	/* The foreground driver takes it from there to the end. */
	assert_int_equal(move_run(f->st, id, &o, &d, &res, &cause), 0);
	assert_int_equal(res.state, MOVE_DONE);
	assert_true(res.settled);
	assert_true(placeholder_only(f->box));
}

/* Closing a handle that holds the lock gives the lock back. */
static void
test_close_under_lock(void **arg)
{
	struct fixture *f = *arg;
	int64_t id = queue(f, 0);
	struct move *mv = open_move(f, id);
	struct state_move m;

	while (step(mv, 0) != MOVE_STEP_READY)
		;
	move_allow_cutover(mv);
	assert_int_equal(step(mv, 0), MOVE_STEP_MORE);
	assert_true(locked(f));
	move_close(mv);
	assert_false(locked(f));
	assert_int_equal(catalog_state(f, id), MOVE_SYNCING);
	/* Released: another process may claim it. */
	assert_ok(state_move_get(f->st, id, &m, &cause));
	assert_int_equal(m.owner_pid, 0);
	state_move_free(&m);
	assert_true(exists(f->box));
}

/* The foreground driver leaves a held move at ready, untouched source,
 * no lock; released, it cuts over. */
static void
test_run_held(void **arg)
{
	struct fixture *f = *arg;
	struct move_drive d = { .settle_wait = 1 };
	struct move_opts o = { .config = &f->cfg, .workers = 1 };
	struct move_result res;
	int64_t id = queue(f, 1);
	char *cause = NULL;

	assert_int_equal(move_run(f->st, id, &o, &d, &res, &cause), 0);
	assert_int_equal(res.state, MOVE_READY);
	assert_int_equal(res.lock_ms, -1);
	assert_false(locked(f));
	assert_true(exists(f->box));
	assert_ok(state_move_set_hold(f->st, id, 0, &cause));
	assert_int_equal(move_run(f->st, id, &o, &d, &res, &cause), 0);
	assert_int_equal(res.state, MOVE_DONE);
	assert_true(res.lock_ms >= 1000);
}

/* Opening a move whose cutover a dead process left undoes it first. */
static void
test_resume_cutover(void **arg)
{
	struct fixture *f = *arg;
	int64_t id = queue(f, 0);
	struct move *mv = open_move(f, id);

	while (step(mv, 0) != MOVE_STEP_READY)
		;
	assert_ok(state_move_lock(f->st, id, 1, now_unix() + 60, &cause));
	assert_true(locked(f));
	/* As if the process died: the handle goes without unlocking. */
	assert_int_equal(catalog_state(f, id), MOVE_CUTOVER);
	state_move_release(f->st, id);
	move_close(mv);		/* its phase is not locked: no unlock */
	assert_true(locked(f));
	mv = open_move(f, id);
	assert_int_equal(step(mv, 0), MOVE_STEP_READY);
	assert_false(locked(f));
	move_close(mv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steps_to_done, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_under_lock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_under_lock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_run_held, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resume_cutover, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("move", tests, NULL, NULL);
}
