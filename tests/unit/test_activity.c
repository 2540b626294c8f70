/*
 * Unit tests of activity per account: the messages a Maildir shows
 * arriving in the last days (migrator/maildir.c, discover), the logins
 * presence counts with its weekly turn, the same count from Dovecot's
 * last_login writes (the catalog's v12 triggers), and the rates per day
 * (state_account_activity, state_fleet_activity).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/layout.h"
#include "migrator/discover.h"
#include "migrator/maildir.h"
#include "migrator/slice.h"
#include "state/account.h"
#include "state/fleet.h"
#include "state/state.h"
#include "catalogfix.h"

#define DAY	86400

/* Run a shell command in dir; fail the test if it fails. */
static void
sh(const char *dir, const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(&full, "cd '%s' && %s", dir, cmd) < 0)
		abort();
	if (system(full) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
	free(full);
}

/* A message of size bytes at dir/rel with mtime at (Unix seconds). */
static void
msg(const char *dir, const char *rel, int size, int64_t at)
{
	sh(dir, "head -c %d /dev/zero > '%s' && touch -d @%lld '%s'", size,
	    rel, (long long)at, rel);
}

static int
open_dir(const char *dir, const char *rel)
{
	char *p;
	int fd;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	fd = open(p, O_RDONLY | O_DIRECTORY);
	free(p);
	assert_true(fd >= 0);
	return fd;
}

/* The time a name gives: its leading Unix time when plausible. */
static void
test_name_time(void **arg)
{
	int64_t now = 1796000000;

	(void)arg;
	assert_int_equal(maildir_name_time("1793491200.M1P2.host,S=5:2,S",
	    now), 1793491200);
	assert_int_equal(maildir_name_time("1793491200.M1P2.host", now),
	    1793491200);
	/* A day ahead is still clock skew; more is not a time. */
	assert_int_equal(maildir_name_time("1796086400.x", now), 1796086400);
	assert_int_equal(maildir_name_time("1796086401.x", now), -1);
	/* Before any Maildir, no dot, no digits, too many digits. */
	assert_int_equal(maildir_name_time("788918399.x", now), -1);
	assert_int_equal(maildir_name_time("788918400.x", now), 788918400);
	assert_int_equal(maildir_name_time("12.M1P1.host:2,S", now), -1);
	assert_int_equal(maildir_name_time("1793491200", now), -1);
	assert_int_equal(maildir_name_time("1793491200:2,S", now), -1);
	assert_int_equal(maildir_name_time("msg.1793491200", now), -1);
	assert_int_equal(maildir_name_time("", now), -1);
	assert_int_equal(maildir_name_time("0001793491200.x", now), -1);
}

/*
 * A mailbox with messages of known ages: named ones by their names, the
 * unnamed by their mtimes; a folder untouched for ten days is not even
 * listed (a message in it whose name claims yesterday does not count).
 * Returns the time the ages are from.
 */
static int64_t
aged_box(const char *dir)
{
	int64_t now = time(NULL);

	sh(dir, "mkdir -p box/cur box/new box/tmp box/.Sent/cur box/.Sent/new "
	    "box/.Old/cur box/.Old/new && touch box/.Sent/maildirfolder "
	    "box/.Old/maildirfolder");
	/* Arrived 1 and 3 days ago, by name; the mtime (the date an IMAP
	 * APPEND gave) does not matter. */
	sh(dir, "head -c 100 /dev/zero > box/new/%lld.M1P1.host && "
	    "head -c 200 /dev/zero > 'box/cur/%lld.M1P2.host:2,S' && "
	    "touch -d 2019-01-01 'box/cur/%lld.M1P2.host:2,S'",
	    (long long)(now - DAY), (long long)(now - 3 * DAY),
	    (long long)(now - 3 * DAY));
	/* 8 days ago by name, though its mtime is today. */
	sh(dir, "head -c 400 /dev/zero > 'box/cur/%lld.M1P3.host:2,RS'",
	    (long long)(now - 8 * DAY));
	/* No time in the name: the mtime decides. */
	msg(dir, "box/cur/legacy-a:2,S", 800, now - 2 * DAY);
	msg(dir, "box/cur/legacy-b:2,S", 1600, now - 10 * DAY);
	/* A symlink and a directory in new/ are not messages. */
	sh(dir, "ln -s /etc/passwd box/new/%lld.M1P4.host && mkdir "
	    "box/new/%lld.M1P5.host", (long long)now, (long long)now);
	sh(dir, "head -c 3200 /dev/zero > box/.Sent/cur/%lld.M2P1.host:2,S",
	    (long long)(now - 6 * DAY));
	sh(dir, "head -c 6400 /dev/zero > box/.Old/cur/%lld.M3P1.host:2,S && "
	    "touch -d @%lld box/.Old/cur box/.Old/new",
	    (long long)(now - DAY), (long long)(now - 10 * DAY));
	return now;
}

/* The same arrivals whether the mailbox is counted, measured from a
 * trusted maildirsize (then only recent folders are listed) or not. */
static void
test_usage_arrivals(void **arg)
{
	struct maildir_usage u;
	char *dir = test_tmpdir(), *cause = NULL;
	uint64_t files, bytes;
	int64_t now, since;
	int fd;

	(void)arg;
	now = aged_box(dir);
	since = now - 7 * DAY;
	fd = open_dir(dir, "box");

	/* Counted: 1 d, 3 d, legacy-a (2 d by mtime), .Sent (6 d). */
	assert_int_equal(maildir_usage(fd, 0, since, &u, &cause), 0);
	assert_int_equal(u.files, 7);
	assert_int_equal(u.added_files, 4);
	assert_int_equal(u.added_bytes, 100 + 200 + 800 + 3200);

	/* No maildirsize: the first look counts the arrivals and the count
	 * after it does not count them again. */
	assert_int_equal(maildir_usage(fd, 1, since, &u, &cause), 0);
	assert_int_equal(u.from_maildirsize, 0);
	assert_int_equal(u.files, 7);
	assert_int_equal(u.added_files, 4);
	assert_int_equal(u.added_bytes, 4300);

	/* A trusted maildirsize: sizes from it, arrivals all the same. */
	sh(dir, "printf '0S\\n999 9\\n' > box/maildirsize");
	assert_int_equal(maildir_usage(fd, 1, since, &u, &cause), 0);
	assert_int_equal(u.from_maildirsize, 1);
	assert_int_equal(u.files, 9);
	assert_int_equal(u.added_files, 4);
	assert_int_equal(u.added_bytes, 4300);

	assert_int_equal(maildir_activity(fd, since, &files, &bytes, &cause),
	    0);
	assert_int_equal(files, 4);
	assert_int_equal(bytes, 4300);

	/* A wider window takes in the 8- and 10-day-old ones; .Old's are
	 * now in a folder modified inside it. */
	assert_int_equal(maildir_usage(fd, 0, now - 11 * DAY, &u, &cause), 0);
	assert_int_equal(u.added_files, 7);
	assert_int_equal(u.added_bytes, 4300 + 400 + 1600 + 6400);

	/* Not asked: nothing counted, nothing listed for it. */
	assert_int_equal(maildir_usage(fd, 1, 0, &u, &cause), 0);
	assert_int_equal(u.added_files, 0);
	assert_int_equal(u.added_bytes, 0);
	assert_int_equal(maildir_activity(fd, 0, &files, &bytes, &cause), 0);
	assert_int_equal(files, 0);
	close(fd);

	/* Not a Maildir. */
	fd = open_dir(dir, "box/tmp");
	assert_int_equal(maildir_activity(fd, since, &files, &bytes, &cause),
	    -1);
	assert_non_null(cause);
	free(cause);
	close(fd);
	test_rm_rf(dir);
}

struct fx {
	char		*dir;
	char		*db;
	struct state	*st;
	int64_t		 slice[3];
};

static int
setup(void **arg)
{
	struct fx *fx = calloc(1, sizeof *fx);

	fx->dir = test_tmpdir();
	if ((fx->st = test_catalog_fleet(fx->dir, &fx->db, 2, fx->slice)) ==
	    NULL)
		return -1;
	*arg = fx;
	return 0;
}

static int
teardown(void **arg)
{
	struct fx *fx = *arg;

	state_close(fx->st);
	free(fx->db);
	test_rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void
get(struct fx *fx, const char *user, struct state_account *a)
{
	state_account_free(a);
	assert_ok(state_account_get(fx->st, user, a, &cause));
}

/* discover records the arrivals with the time it counted them, and a
 * later run replaces them (they are a window, not a sum). */
static void
test_discover_records(void **arg)
{
	struct fx *fx = *arg;
	struct state_account a = { 0 };
	struct layout *layout = layout_parse("%d/%n", NULL);
	uint64_t problems;
	int64_t before = time(NULL);
	char *s1, *names[] = { "s1" };
	int made;

	if (asprintf(&s1, "%s/s1", fx->dir) < 0)
		abort();
	sh(fx->dir, "mkdir -p s1/x.org && cd s1/x.org && mkdir -p a/cur "
	    "a/new a/tmp");
	assert_ok(slice_mark(s1, "s1", &made, &cause));
	sh(fx->dir, "head -c 300 /dev/zero > s1/x.org/a/new/%lld.M1P1.h && "
	    "head -c 500 /dev/zero > 's1/x.org/a/cur/%lld.M1P2.h:2,S' && "
	    "head -c 900 /dev/zero > 's1/x.org/a/cur/%lld.M1P3.h:2,S'",
	    (long long)(before - DAY), (long long)(before - 2 * DAY),
	    (long long)(before - 30 * DAY));
	assert_ok(discover_run(fx->st, layout, 1, names, 1, NULL, NULL, &problems,
	    &cause));
	get(fx, "a@x.org", &a);
	assert_int_equal(a.files, 3);
	assert_int_equal(a.added_files, 2);
	assert_int_equal(a.added_bytes, 800);
	assert_true(a.added_at >= before && a.added_at <= time(NULL));

	/* One of them goes (expunged), one more arrives. */
	sh(fx->dir, "rm s1/x.org/a/new/*.M1P1.h && head -c 50 /dev/zero > "
	    "s1/x.org/a/new/%lld.M1P4.h", (long long)before);
	assert_ok(discover_run(fx->st, layout, 0, names, 1, NULL, NULL, &problems,
	    &cause));
	get(fx, "a@x.org", &a);
	assert_int_equal(a.added_files, 2);
	assert_int_equal(a.added_bytes, 550);
	state_account_free(&a);
	layout_free(layout);
	free(s1);
}

/* Presence counts a login when the account comes online from offline,
 * and turns the week at 7 days; the week before is kept only when it
 * began less than 14 days ago. */
static void
test_presence_logins(void **arg)
{
	struct fx *fx = *arg;
	struct state_account a = { 0 };
	const char *u = "p@x.org";
	int64_t t0 = 1790000000, w = 7 * DAY, t;
	double msgs, bytes, logins;

	assert_ok(state_account_insert(fx->st, u, fx->slice[1], "x.org/p", 10,
	    1, 0, "counted", &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 1, t0, &cause));
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 0);
	assert_int_equal(a.logins_since, t0);
	assert_int_equal(a.last_activity, t0);
	/* Online again while online, and offline: no login. */
	assert_ok(state_account_set_presence_at(fx->st, u, 1, t0 + 10,
	    &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 0, t0 + 20,
	    &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 0, t0 + 25,
	    &cause));
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.last_activity, t0 + 25);
	/* Offline -> online twice more, the last a second before the week
	 * is over. */
	assert_ok(state_account_set_presence_at(fx->st, u, 1, t0 + 30,
	    &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 0, t0 + 40,
	    &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 1, t0 + w - 1,
	    &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 0, t0 + w - 1,
	    &cause));
	get(fx, u, &a);
	assert_int_equal(a.logins, 3);
	assert_int_equal(a.logins_prev, 0);
	assert_int_equal(a.logins_since, t0);

	/* At exactly 7 days the week turns: 3 become the week before. */
	assert_ok(state_account_set_presence_at(fx->st, u, 1, t0 + w, &cause));
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 3);
	assert_int_equal(a.logins_since, t0 + w);
	/* One day later: 4 logins over the 8 days this week and the week
	 * before span. */
	state_fleet_account_activity(&a, t0 + w + DAY, &msgs, &bytes, &logins);
	assert_true(fabs(logins - 4.0 / 8) < 1e-9);

	/* A second before 14 days: this week becomes the week before. */
	t = t0 + w;
	assert_ok(state_account_set_presence_at(fx->st, u, 0, t + 5, &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 1, t + 2 * w - 1,
	    &cause));
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 1);
	assert_int_equal(a.logins_since, t + 2 * w - 1);
	/* At 14 days or more, there was no week before: nothing kept. */
	t = a.logins_since;
	assert_ok(state_account_set_presence_at(fx->st, u, 0, t + 1, &cause));
	assert_ok(state_account_set_presence_at(fx->st, u, 1, t + 2 * w,
	    &cause));
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 0);
	assert_int_equal(a.logins_since, t + 2 * w);

	/* An unknown user is an error naming it. */
	assert_fails(state_account_set_presence_at(fx->st, "nobody@x.org", 1,
	    t0, &cause), "account 'nobody@x.org' not found");
	state_account_free(&a);
}

/* What Dovecot's dict-sql sends at a login (Dovecot 2.3.19, last_login
 * plugin), as another session: the triggers count it like presence. */
static void
dict_login(struct fx *fx, const char *user, int64_t value)
{
	test_exec(fx->db, "INSERT INTO dovecot_logins (last_login,username) "
	    "VALUES (%lld,'%s') ON CONFLICT (username) DO UPDATE SET "
	    "last_login=%lld", (long long)value, user, (long long)value);
}

static void
test_dovecot_logins(void **arg)
{
	struct fx *fx = *arg;
	struct state_account a = { 0 };
	const char *u = "d@x.org";
	int64_t t0 = time(NULL), w = 7 * DAY;

	assert_ok(state_account_insert(fx->st, u, fx->slice[1], "x.org/d", 10,
	    1, 1000, "counted", &cause));
	/* The first write inserts the row, the next ones update it; each
	 * is a login, counted by the catalog's clock whatever the value
	 * (seconds, or last_login_precision = ms). */
	dict_login(fx, u, t0);
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 0);
	assert_true(a.logins_since >= t0 && a.logins_since <= t0 + 5);
	assert_true(a.last_activity >= t0);
	dict_login(fx, u, t0 * 1000);
	dict_login(fx, u, t0 * 1000);
	get(fx, u, &a);
	assert_int_equal(a.logins, 3);
	assert_true(a.logins_since >= t0 && a.logins_since <= t0 + 5);

	/* The week began 7 days ago: it turns, 3 become the week before. */
	test_exec(fx->db, "UPDATE accounts SET logins_since = %lld WHERE "
	    "\"user\" = '%s'", (long long)(time(NULL) - w), u);
	dict_login(fx, u, t0);
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 3);
	assert_true(a.logins_since >= t0);
	/* Began 13 days and some hours ago: kept as the week before. */
	test_exec(fx->db, "UPDATE accounts SET logins = 5, logins_since = "
	    "%lld WHERE \"user\" = '%s'", (long long)(time(NULL) - 2 * w +
	    3600), u);
	dict_login(fx, u, t0);
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 5);
	/* Began 14 days ago: no week before. */
	test_exec(fx->db, "UPDATE accounts SET logins = 5, logins_since = "
	    "%lld WHERE \"user\" = '%s'", (long long)(time(NULL) - 2 * w), u);
	dict_login(fx, u, t0);
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	assert_int_equal(a.logins_prev, 0);

	/* A user the catalog does not know: recorded, nothing else. */
	dict_login(fx, "stranger@x.org", t0);
	get(fx, u, &a);
	assert_int_equal(a.logins, 1);
	state_account_free(&a);
}

/* The rates per day: messages and bytes over ACTIVITY_DAYS, logins over
 * the days this week and the week before span (at least one). */
static void
test_rates(void **arg)
{
	struct state_account a;
	struct state_fleet_account f;
	double msgs, bytes, logins, sum;
	int64_t now = 1790000000;

	(void)arg;
	memset(&a, 0, sizeof a);
	sum = state_fleet_account_activity(&a, now, &msgs, &bytes, &logins);
	assert_true(sum == 0 && msgs == 0 && bytes == 0 && logins == 0);

	a.added_files = 70;
	a.added_bytes = 7000;
	a.added_at = now - 3600;
	a.logins = 6;
	a.logins_since = now - 3 * DAY;
	sum = state_fleet_account_activity(&a, now, &msgs, &bytes, &logins);
	assert_true(fabs(msgs - 10) < 1e-9);
	assert_true(fabs(bytes - 1000) < 1e-9);
	assert_true(fabs(logins - 2) < 1e-9);
	assert_true(fabs(sum - 12) < 1e-9);

	/* A login an hour ago counts as one a day, not 24. */
	a.logins = 1;
	a.logins_since = now - 3600;
	state_fleet_account_activity(&a, now, NULL, NULL, &logins);
	assert_true(fabs(logins - 1) < 1e-9);

	/* The planner's reckoning is the same one. */
	memset(&f, 0, sizeof f);
	f.added_files = a.added_files;
	f.logins = a.logins;
	f.logins_since = a.logins_since;
	assert_true(fabs(state_fleet_activity(&f, now, NULL, NULL) -
	    state_fleet_account_activity(&a, now, NULL, NULL, NULL)) < 1e-9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_time),
		cmocka_unit_test(test_usage_arrivals),
		cmocka_unit_test_setup_teardown(test_discover_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_presence_logins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dovecot_logins, setup,
		    teardown),
		cmocka_unit_test(test_rates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
