/*
 * Unit tests of the presence sources (migrator/presence.c): the command
 * backend runs a real shell command on its thread; the catalog and
 * mailbox backends answer from a real temporary catalog and a move.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "migrator/presence.h"
#include "migrator/throttle.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "state/pair.h"
#include "state/server.h"
#include "state/slice.h"

#define assert_ok(call) do {						\
	char *cause = NULL;						\
	if ((call) != 0)						\
		fail_msg("failed: %s", cause ? cause : "?");		\
} while (0)

/* A presence set with the command source only, running command. */
static struct presence *
with_command(struct config *cfg, const char *command, uint64_t timeout)
{
	struct presence *p;
	char *cause = NULL;

	config_defaults(cfg);
	cfg->presence_sources = PRESENCE_COMMAND;
	cfg->presence_command = xstrdup(command);
	cfg->presence_timeout = timeout;
	cfg->presence_interval = 60;
	p = presence_new(cfg, &cause);
	if (p == NULL)
		fail_msg("presence_new: %s", cause);
	return p;
}

/* Wait (at most 10 s) until the command has answered. */
static void
settle(struct presence *p)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1000 && presence_busy(p); i++)
		nanosleep(&ts, NULL);
	assert_int_equal(presence_busy(p), 0);
}

/* Does user count as online for the command source? why gets the
 * reason. */
static int
online(struct presence *p, const char *user, char *why)
{
	struct presence_query q = { .user = user, .now = now_unix() };

	*why = '\0';
	return presence_online(p, PRESENCE_COMMAND, &q, why, 256);
}

/* Users the command lists are online, others are not; nobody is offline
 * before the first answer. */
static void
test_command_lists(void **arg)
{
	struct config cfg;
	struct presence *p = with_command(&cfg, "printf 'alice\\nbob\\n'", 10);
	int64_t now = now_unix();
	struct state_move m = { .last_change = 0 };
	struct presence_query q = { .user = "alice", .move = &m, .now = now,
	    .idle = 900 };
	char why[256];

	(void)arg;
	assert_int_equal(online(p, "carol", why), 1);
	assert_non_null(strstr(why, "the presence command gave no answer "
	    "yet"));
	presence_poll(p, PRESENCE_COMMAND, now);
	settle(p);
	assert_int_equal(online(p, "alice", why), 1);
	assert_string_equal(why, "the user is online (presence command)");
	assert_int_equal(online(p, "bob", why), 1);
	assert_int_equal(online(p, "carol", why), 0);
	assert_int_equal(online(p, "ali", why), 0);
	/* Not asked: no objection. */
	assert_int_equal(presence_online(p, PRESENCE_MAILBOX, &q, why,
	    sizeof why), 0);

	/* Not run again before command_interval; then it is. */
	presence_poll(p, PRESENCE_COMMAND, now + 59);
	assert_int_equal(presence_busy(p), 0);
	presence_poll(p, PRESENCE_COMMAND, now + 60);
	settle(p);
	assert_int_equal(online(p, "bob", why), 1);
	/* Not polled when the source is not configured. */
	presence_poll(p, PRESENCE_CATALOG, now + 1000);
	assert_int_equal(presence_busy(p), 0);
	presence_free(p);
	config_free(&cfg);
}

/* doveadm who -1: a "username" heading, the user as the first word. */
static void
test_command_doveadm(void **arg)
{
	struct config cfg;
	struct presence *p = with_command(&cfg, "printf 'username  proto  "
	    "pid  ip\\n  alice@x.org imap 4711 ::1\\n\\n'", 10);
	char why[256];

	(void)arg;
	presence_poll(p, PRESENCE_COMMAND, now_unix());
	settle(p);
	assert_int_equal(online(p, "alice@x.org", why), 1);
	assert_int_equal(online(p, "username", why), 0);
	assert_int_equal(online(p, "imap", why), 0);
	presence_free(p);
	config_free(&cfg);
}

/* A failing command (status, or killed at its timeout) means nobody
 * counts as offline, with the reason; a reload runs the new one at
 * once, and a good answer lets users go again. */
static void
test_command_fails(void **arg)
{
	struct config cfg;
	struct presence *p = with_command(&cfg, "echo nope >&2; exit 3", 10);
	int64_t now = now_unix();
	char why[256];

	(void)arg;
	presence_poll(p, PRESENCE_COMMAND, now);
	settle(p);
	assert_int_equal(online(p, "carol", why), 1);
	assert_non_null(strstr(why, "gave no answer yet: 'echo nope >&2; "
	    "exit 3' exited 3"));

	free(cfg.presence_command);
	cfg.presence_command = xstrdup("printf 'alice\\n'");
	presence_reload(p, &cfg);
	presence_poll(p, PRESENCE_COMMAND, now + 1);
	settle(p);
	assert_int_equal(online(p, "carol", why), 0);
	assert_int_equal(online(p, "alice", why), 1);

	/* Killed at its timeout: a failure again, even after a good run. */
	free(cfg.presence_command);
	cfg.presence_command = xstrdup("sleep 30");
	cfg.presence_timeout = 1;
	presence_reload(p, &cfg);
	presence_poll(p, PRESENCE_COMMAND, now + 2);
	assert_int_equal(presence_busy(p), 1);
	settle(p);
	assert_int_equal(online(p, "carol", why), 1);
	assert_non_null(strstr(why, "'sleep 30'"));
	presence_free(p);
	config_free(&cfg);
}

/* Freeing the set while the command runs waits for its thread: nothing
 * is freed under it (valgrind and ASan would say). */
static void
test_command_stop_joins(void **arg)
{
	struct config cfg;
	struct presence *p = with_command(&cfg, "sleep 0.3; echo alice", 10);
	double t0 = monotonic_now();

	(void)arg;
	presence_poll(p, PRESENCE_COMMAND, now_unix());
	assert_int_equal(presence_busy(p), 1);
	presence_free(p);
	assert_true(monotonic_now() - t0 >= 0.25);
	config_free(&cfg);
}

/* The catalog and mailbox backends, asked directly. */
static void
test_catalog_mailbox(void **arg)
{
	struct state_account a;
	struct state_slice sl;
	struct state_move m;
	struct state *st;
	char *dir = test_tmpdir(), *db, *cause = NULL, why[256];
	char at[32], until[32], want[256];
	struct presence_query q = { .user = "alice@x.org", .move = &m,
	    .idle = 900 };
	int64_t t;

	(void)arg;
	if (asprintf(&db, "%s/catalog.db", dir) < 0)
		abort();
	st = state_open(db, 1, &cause);
	assert_non_null(st);
	q.st = st;
	assert_ok(state_server_add(st, "mx1", "10.0.0.1", &cause));
	assert_ok(state_server_add(st, "mx2", "10.0.0.2", &cause));
	assert_ok(state_pair_add(st, "p1", "mx1", "mx2", &cause));
	assert_ok(state_slice_add(st, "s1", "p1", "mx1", dir, 1 << 20,
	    &cause));
	assert_ok(state_slice_get(st, "s1", &sl, &cause));
	assert_ok(state_account_insert(st, "alice@x.org", sl.id, "alice",
	    100, 1, 0, "counted", &cause));
	state_slice_free(&sl);
	memset(&m, 0, sizeof m);

	/* Never active, offline: nothing to say. */
	q.now = now_unix();
	assert_int_equal(presence_catalog.online(NULL, &q, why, sizeof why),
	    0);
	assert_ok(state_account_set_presence(st, "alice@x.org", 1, &cause));
	assert_int_equal(presence_catalog.online(NULL, &q, why, sizeof why),
	    1);
	assert_string_equal(why, "the user is online (catalog)");
	assert_ok(state_account_set_presence(st, "alice@x.org", 0, &cause));
	assert_ok(state_account_get(st, "alice@x.org", &a, &cause));
	t = a.last_activity;
	state_account_free(&a);
	q.now = t + 60;
	assert_int_equal(presence_catalog.online(NULL, &q, why, sizeof why),
	    1);
	time_format(t, at, sizeof at);
	time_format(t + 900, until, sizeof until);
	snprintf(want, sizeof want, "the user was active at %s (catalog; "
	    "idle is 900s: not before %s)", at, until);
	assert_string_equal(why, want);
	q.now = t + 900;
	assert_int_equal(presence_catalog.online(NULL, &q, why, sizeof why),
	    0);
	/* An account the catalog does not know: no objection. */
	q.user = "nobody@x.org";
	assert_int_equal(presence_catalog.online(NULL, &q, why, sizeof why),
	    0);

	m.last_change = 0;
	assert_int_equal(presence_mailbox.online(NULL, &q, why, sizeof why),
	    0);
	m.last_change = q.now - 899;
	assert_int_equal(presence_mailbox.online(NULL, &q, why, sizeof why),
	    1);
	time_format(q.now - 899, at, sizeof at);
	time_format(q.now + 1, until, sizeof until);
	snprintf(want, sizeof want, "the mailbox changed at %s (idle is "
	    "900s: not before %s)", at, until);
	assert_string_equal(why, want);
	m.last_change = q.now - 900;
	assert_int_equal(presence_mailbox.online(NULL, &q, why, sizeof why),
	    0);
	assert_string_equal(presence_catalog.name, "catalog");
	assert_string_equal(presence_mailbox.name, "mailbox");
	assert_string_equal(presence_command.name, "command");
	state_close(st);
	free(db);
	test_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_lists),
		cmocka_unit_test(test_command_doveadm),
		cmocka_unit_test(test_command_fails),
		cmocka_unit_test(test_command_stop_joins),
		cmocka_unit_test(test_catalog_mailbox),
	};

	return cmocka_run_group_tests_name("presence", tests, NULL, NULL);
}
