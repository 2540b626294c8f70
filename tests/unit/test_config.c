/* Unit tests for common/config.c: defaults, loading, errors, printing. */
#define _GNU_SOURCE
#include "testutil.h"
#include "common/config.h"

/* A temporary directory and a file name in it. */
struct tmp {
	char	*dir;
	char	*file;
};

static void
tmp_file(struct tmp *t, const char *name, const char *text)
{
	t->dir = test_tmpdir();
	if (asprintf(&t->file, "%s/%s", t->dir, name) < 0)
		abort();
	if (text != NULL)
		test_write(t->file, text);
}

static void
tmp_done(struct tmp *t)
{
	free(t->file);
	test_rm_rf(t->dir);
}

static const char good_text[] =
    "# a comment\n"
    "[catalog]\n"
    "path=/srv/mailshift/catalog.db\n"
    "\n"
    "[layout]\n"
    "template = %1n/%n   ; an inline comment\n"
    "[discover]\n"
    "maildirsize = IGNORE\n";

/* Load good_text into c, which must succeed. */
static void
load_good(struct tmp *t, struct config *c)
{
	char *cause = NULL;

	tmp_file(t, "good.conf", good_text);
	if (config_load(t->file, 1, c, &cause) != 0)
		fail_msg("config_load: %s", cause ? cause : "(no cause)");
	assert_null(cause);
}

/* The built-in defaults. */
static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_null(c.file);
	assert_string_equal(c.catalog, CONFIG_DEFAULT_CATALOG);
	assert_string_equal(c.layout, "%d/%n");
	assert_string_equal(c.layout, CONFIG_DEFAULT_LAYOUT);
	assert_int_equal(c.trust_maildirsize, 1);
	config_free(&c);
	assert_null(c.catalog);
	assert_null(c.layout);
}

/* A good file sets every value and records its name. */
static void
test_load_good(void **state)
{
	struct config c;
	struct tmp t;

	(void)state;
	config_defaults(&c);
	load_good(&t, &c);
	assert_non_null(c.file);
	assert_string_equal(c.file, t.file);
	assert_string_equal(c.catalog, "/srv/mailshift/catalog.db");
	assert_string_equal(c.layout, "%1n/%n");
	assert_int_equal(c.trust_maildirsize, 0);
	config_free(&c);
	tmp_done(&t);
}

/* A file read over the defaults changes only what it sets. */
static void
test_load_partial(void **state)
{
	struct config c;
	struct tmp t;
	char *cause = NULL;

	(void)state;
	config_defaults(&c);
	tmp_file(&t, "partial.conf", "[discover]\nmaildirsize = trust\n");
	assert_int_equal(config_load(t.file, 0, &c, &cause), 0);
	assert_null(cause);
	assert_string_equal(c.file, t.file);
	assert_string_equal(c.catalog, CONFIG_DEFAULT_CATALOG);
	assert_string_equal(c.layout, CONFIG_DEFAULT_LAYOUT);
	assert_int_equal(c.trust_maildirsize, 1);
	config_free(&c);
	tmp_done(&t);
}

/* Hooks: templates are checked; an empty value means no command, and
 * the printed config reads back. */
static void
test_hooks(void **state)
{
	struct config c;
	struct tmp t, t2;
	char *cause = NULL, *printed = NULL;
	size_t len;
	FILE *f;

	(void)state;
	config_defaults(&c);
	tmp_file(&t, "hooks.conf", "[hooks]\nafter_lock = doveadm kick %u\n"
	    "after_switch =\ntimeout = 3s\n[move]\nsettle = 1m\n"
	    "[daemon]\nlog = syslog\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), 0);
	assert_string_equal(c.hook_after_lock, "doveadm kick %u");
	assert_null(c.hook_after_switch);
	assert_int_equal(c.hook_timeout, 3);
	assert_int_equal(c.settle, 60);
	assert_int_equal(c.log_syslog, 1);
	f = open_memstream(&printed, &len);
	config_print(f, &c);
	fclose(f);
	tmp_file(&t2, "printed.conf", printed);
	config_free(&c);
	config_defaults(&c);
	assert_int_equal(config_load(t2.file, 1, &c, &cause), 0);
	assert_string_equal(c.hook_after_lock, "doveadm kick %u");
	assert_null(c.hook_after_switch);
	config_free(&c);
	free(printed);
	tmp_done(&t2);
	tmp_done(&t);
	/* %n is not a hook placeholder. */
	config_defaults(&c);
	tmp_file(&t, "bad.conf", "[hooks]\nafter_lock = kick %n\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(strstr(cause, "bad.conf:2: after_lock"));
	free(cause);
	config_free(&c);
	tmp_done(&t);
}

/* A missing file is fine when optional and keeps the defaults. */
static void
test_missing_optional(void **state)
{
	struct config c;
	struct tmp t;
	char *cause = NULL;

	(void)state;
	config_defaults(&c);
	tmp_file(&t, "absent.conf", NULL);
	assert_int_equal(config_load(t.file, 0, &c, &cause), 0);
	assert_null(cause);
	assert_null(c.file);
	assert_string_equal(c.catalog, CONFIG_DEFAULT_CATALOG);
	assert_string_equal(c.layout, CONFIG_DEFAULT_LAYOUT);
	assert_int_equal(c.trust_maildirsize, 1);
	config_free(&c);
	tmp_done(&t);
}

/* A missing file is an error when required, naming the file. */
static void
test_missing_required(void **state)
{
	struct config c;
	struct tmp t;
	char *cause = NULL;

	(void)state;
	config_defaults(&c);
	tmp_file(&t, "absent.conf", NULL);
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, t.file));
	assert_null(c.file);
	assert_string_equal(c.catalog, CONFIG_DEFAULT_CATALOG);
	free(cause);
	config_free(&c);
	tmp_done(&t);
}

/*
 * A directory is not a configuration file: reading it fails (EISDIR), and
 * that must be reported, not taken for an empty file.
 */
static void
test_directory(void **state)
{
	struct config c;
	char *dir, *cause = NULL;
	int rc, named, loaded;

	(void)state;
	config_defaults(&c);
	dir = test_tmpdir();
	rc = config_load(dir, 1, &c, &cause);
	named = cause != NULL && strstr(cause, dir) != NULL;
	loaded = c.file != NULL;
	/* Clean up first so that a failure leaks nothing. */
	free(cause);
	config_free(&c);
	test_rm_rf(dir);
	assert_int_equal(rc, -1);
	assert_true(named);
	assert_false(loaded);
}

static const char bad_text[] =
    "[catalog]\n"				/* 1 */
    "path = relative/catalog.db\n"		/* 2 */
    "colour = blue\n"				/* 3 */
    "[bogus]\n"					/* 4 */
    "key = value\n"				/* 5 */
    "[layout]\n"				/* 6 */
    "template = %x/%n\n"			/* 7 */
    "this line has no equals sign\n"		/* 8 */
    "[discover]\n"				/* 9 */
    "maildirsize = sometimes\n";		/* 10 */

/* Every problem is reported as file:line and the config is unchanged. */
static void
test_errors(void **state)
{
	static const struct {
		int		 line;
		const char	*what;
	} want[] = {
		{ 2, "catalog path 'relative/catalog.db' must be absolute" },
		{ 3, "unknown key 'colour' in [catalog]" },
		{ 5, "unknown section [bogus]" },
		{ 7, "unknown variable '%x'" },
		{ 8, "syntax error" },
		{ 10, "maildirsize = 'sometimes'" },
	};
	struct config c;
	struct tmp good, bad;
	char *cause = NULL, *line, *p;
	size_t i;
	int nlines;

	(void)state;
	config_defaults(&c);
	load_good(&good, &c);
	tmp_file(&bad, "bad.conf", bad_text);
	assert_int_equal(config_load(bad.file, 1, &c, &cause), -1);
	assert_non_null(cause);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (asprintf(&line, "%s:%d: ", bad.file, want[i].line) < 0)
			abort();
		/* The message must be on the line that names file:line. */
		if ((p = strstr(cause, line)) != NULL)
			p = strndup(p, strcspn(p, "\n"));
		if (p == NULL || strstr(p, want[i].what) == NULL)
			fail_msg("cause lacks \"%s%s\":\n%s", line,
			    want[i].what, cause);
		free(p);
		free(line);
	}
	/* One line per problem, nothing more. */
	nlines = 1;
	for (p = cause; *p != '\0'; p++)
		nlines += *p == '\n';
	assert_int_equal(nlines, sizeof want / sizeof want[0]);
	free(cause);

	/* The values from the good file are all still there. */
	assert_string_equal(c.file, good.file);
	assert_string_equal(c.catalog, "/srv/mailshift/catalog.db");
	assert_string_equal(c.layout, "%1n/%n");
	assert_int_equal(c.trust_maildirsize, 0);
	config_free(&c);
	tmp_done(&good);
	tmp_done(&bad);
}

/* [health]: the defaults, every key, an old name, and what is refused. */
static void
test_health(void **state)
{
	static const char *bad[] = {
		"[health]\nfactor = 1\n", "give a number from 1.2 to 100",
		"[health]\nfactor = x\n", "give a number from 1.2 to 100",
		"[health]\ninterval = 0\n", "give at least 1ms",
		"[health]\ntimeout = 0s\n", "every probe would count as hung",
		"[health]\ndegraded_after = 7\n", "more than history (6)",
		"[health]\nhistory = 65\ndegraded_after = 4\n",
		"at most 64 windows",
		"[health]\nwindow = 0\n", "no window would ever be judged",
		"[health]\nslow = 3\n", "unknown key 'slow' in [health]",
		"[hooks]\non_health = echo %x\n", "only %u (the user)",
		"[hooks]\non_health = echo %u\n", "no user here",
	};
	struct config c;
	struct tmp t;
	char *cause = NULL;
	size_t i;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.health_interval_ms, 1000);
	assert_int_equal(c.health_timeout_ms, 5000);
	assert_int_equal(c.health_window, 10);
	assert_int_equal(c.health_degraded_after, 4);
	assert_int_equal(c.health_history, 6);
	assert_int_equal(c.health_recover_after, 6);
	assert_true(c.health_factor == 2.5);
	assert_int_equal(c.health_floor_ms, 20);
	assert_int_equal(c.health_peers, 3);
	assert_int_equal(c.health_baseline, 3600);
	assert_int_equal(c.health_pause_after, 60);
	assert_null(c.hook_on_health);
	tmp_file(&t, "h.conf", "[health]\ninterval = 250ms\ntimeout = 2s\n"
	    "window = 5s\ndegraded_after = 3\nhistory = 5\n"
	    "recover_after = 4\nfactor = 3.5\nfloor = 8ms\npeers = 5\n"
	    "baseline = 2h\npause_after = 2m\n"
	    "[hooks]\non_health = logger -t mailshift \"$MAILSHIFT_SLICE\"\n");
	if (config_load(t.file, 1, &c, &cause) != 0)
		fail_msg("config_load: %s", cause);
	assert_int_equal(c.health_interval_ms, 250);
	assert_int_equal(c.health_timeout_ms, 2000);
	assert_int_equal(c.health_window, 5);
	assert_int_equal(c.health_degraded_after, 3);
	assert_int_equal(c.health_history, 5);
	assert_int_equal(c.health_recover_after, 4);
	assert_true(c.health_factor == 3.5);
	assert_int_equal(c.health_floor_ms, 8);
	assert_int_equal(c.health_peers, 5);
	assert_int_equal(c.health_baseline, 7200);
	assert_int_equal(c.health_pause_after, 120);
	assert_string_equal(c.hook_on_health,
	    "logger -t mailshift \"$MAILSHIFT_SLICE\"");
	tmp_done(&t);
	/* [daemon] health_window, the older name of pause_after. */
	tmp_file(&t, "old.conf", "[daemon]\nhealth_window = 45s\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), 0);
	assert_int_equal(c.health_pause_after, 45);
	tmp_done(&t);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i += 2) {
		tmp_file(&t, "bad.conf", bad[i]);
		assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
		if (strstr(cause, bad[i + 1]) == NULL)
			fail_msg("'%s': cause lacks \"%s\": %s", bad[i],
			    bad[i + 1], cause);
		free(cause);
		cause = NULL;
		tmp_done(&t);
	}
	/* Nothing of the refused files was taken. */
	assert_int_equal(c.health_interval_ms, 1000);
	config_free(&c);
}

/* A NULL cause pointer still reports failure. */
static void
test_errors_null_cause(void **state)
{
	struct config c;
	struct tmp t;

	(void)state;
	config_defaults(&c);
	tmp_file(&t, "bad.conf", bad_text);
	assert_int_equal(config_load(t.file, 1, &c, NULL), -1);
	assert_string_equal(c.catalog, CONFIG_DEFAULT_CATALOG);
	config_free(&c);
	tmp_done(&t);
}

/* Print c to a string; the caller frees it. */
static char *
print_config(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print(f, c);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* Printing gives every section with normalized values. */
static void
test_print(void **state)
{
	struct config c;
	struct tmp t;
	char *out, *head;

	(void)state;
	config_defaults(&c);
	out = print_config(&c);
	assert_non_null(strstr(out, "built-in defaults"));
	assert_non_null(strstr(out, "[catalog]\npath = " CONFIG_DEFAULT_CATALOG
	    "\n"));
	assert_non_null(strstr(out, "[layout]\ntemplate = %d/%n\n"));
	assert_non_null(strstr(out, "[discover]\nmaildirsize = trust\n"));
	free(out);

	load_good(&t, &c);
	out = print_config(&c);
	if (asprintf(&head, "# %s\n", t.file) < 0)
		abort();
	assert_true(strncmp(out, head, strlen(head)) == 0);
	free(head);
	assert_non_null(strstr(out,
	    "[catalog]\npath = /srv/mailshift/catalog.db\n"));
	assert_non_null(strstr(out, "[layout]\ntemplate = %1n/%n\n"));
	assert_non_null(strstr(out, "[discover]\nmaildirsize = ignore\n"));
	assert_null(strstr(out, "comment"));
	free(out);
	config_free(&c);
	tmp_done(&t);
}

/* [daemon] log_level: info by default, debug when asked, anything else
 * refused with file:line; the printed config reads back. */
static void
test_log_level(void **state)
{
	struct config c;
	struct tmp t, t2;
	char *cause = NULL, *printed;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.log_debug, 0);
	printed = print_config(&c);
	assert_non_null(strstr(printed, "\nlog_level = info\n"));
	free(printed);
	tmp_file(&t, "debug.conf", "[daemon]\nlog = syslog\n"
	    "log_level = DEBUG\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), 0);
	assert_int_equal(c.log_debug, 1);
	assert_int_equal(c.log_syslog, 1);
	printed = print_config(&c);
	assert_non_null(strstr(printed, "[daemon]\nlog = syslog\n"
	    "log_level = debug\n"));
	tmp_file(&t2, "printed.conf", printed);
	free(printed);
	config_free(&c);
	config_defaults(&c);
	assert_int_equal(config_load(t2.file, 1, &c, &cause), 0);
	assert_int_equal(c.log_debug, 1);
	config_free(&c);
	tmp_done(&t2);
	tmp_done(&t);

	config_defaults(&c);
	tmp_file(&t, "bad.conf", "[daemon]\n\nlog_level = loud\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(strstr(cause, "bad.conf:3: log_level = 'loud': use "
	    "'info' or 'debug'"));
	assert_int_equal(c.log_debug, 0);
	free(cause);
	config_free(&c);
	tmp_done(&t);
}

/* Values that would make the daemon do nothing forever are refused with
 * file:line, and the config is left as it was. */
static void
test_zero_refused(void **state)
{
	static const char text[] =
	    "[move]\n"				/* 1 */
	    "lock_timeout = 0s\n"		/* 2 */
	    "[daemon]\n"			/* 3 */
	    "max_moves = 0\n"			/* 4 */
	    "per_source = 0\n"			/* 5 */
	    "per_target = 00\n"		/* 6 */
	    "max_retries = 0\n";		/* 7: 0 is fine */
	static const char *const want[] = {
	    ":2: lock_timeout = '0s': every cutover would be abandoned; give "
	    "at least 1s",
	    ":4: max_moves = '0': the daemon would never start a move; give "
	    "at least 1",
	    ":5: per_source = '0': no move out of any slice",
	    ":6: per_target = '00': no move into any slice",
	};
	struct config c;
	struct tmp t;
	char *cause = NULL;
	size_t i;

	(void)state;
	config_defaults(&c);
	tmp_file(&t, "zero.conf", text);
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(cause);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (strstr(cause, want[i]) == NULL)
			fail_msg("cause lacks \"%s\":\n%s", want[i], cause);
	}
	assert_null(strstr(cause, ":7:"));
	free(cause);
	assert_int_equal(c.lock_timeout, 30);
	assert_int_equal(c.max_moves, 4);
	config_free(&c);
	tmp_done(&t);
}

/* The lock grace is waited under the lock: it must be shorter than
 * lock_timeout, reported on the line that made it too long. */
static void
test_grace_under_timeout(void **state)
{
	struct config c;
	struct tmp t;
	char *cause = NULL;

	(void)state;
	config_defaults(&c);
	tmp_file(&t, "grace.conf", "[move]\nlock_grace = 99999999d\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, "grace.conf:2: lock_grace (8639999913600s) must be "
	    "shorter than lock_timeout (30s)") == NULL)
		fail_msg("unexpected cause: %s", cause);
	free(cause);
	cause = NULL;
	assert_int_equal(c.lock_grace, 5);
	tmp_done(&t);

	/* Equal is too long too; the later line is the one named. */
	tmp_file(&t, "grace.conf", "[move]\nlock_grace = 20s\n\n"
	    "lock_timeout = 20s\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(strstr(cause, "grace.conf:4: lock_grace (20s) must "
	    "be shorter than lock_timeout (20s)"));
	free(cause);
	cause = NULL;
	tmp_done(&t);

	/* A timeout below the default grace. */
	tmp_file(&t, "grace.conf", "[move]\nlock_timeout = 3s\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(strstr(cause, "grace.conf:2: lock_grace (5s) must be "
	    "shorter than lock_timeout (3s)"));
	free(cause);
	cause = NULL;
	tmp_done(&t);

	tmp_file(&t, "grace.conf", "[move]\nlock_timeout = 3s\n"
	    "lock_grace = 2s\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), 0);
	assert_null(cause);
	assert_int_equal(c.lock_grace, 2);
	assert_int_equal(c.lock_timeout, 3);
	config_free(&c);
	tmp_done(&t);
}

/* [move] quiet in milliseconds or seconds; shorter than lock_timeout;
 * late_mail dovecot (the default) or all. */
static void
test_quiet_and_late_mail(void **state)
{
	struct config c;
	struct tmp t;
	char *cause = NULL;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.quiet_ms, 500);
	assert_int_equal(c.late_dovecot, 1);
	config_free(&c);

	tmp_file(&t, "q.conf", "[move]\nquiet = 250ms\nlate_mail = all\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), 0);
	assert_int_equal(c.quiet_ms, 250);
	assert_int_equal(c.late_dovecot, 0);
	config_free(&c);
	tmp_done(&t);

	tmp_file(&t, "q.conf", "[move]\nquiet = 2s\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), 0);
	assert_int_equal(c.quiet_ms, 2000);
	config_free(&c);
	tmp_done(&t);

	tmp_file(&t, "q.conf", "[move]\nquiet = 5x\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(strstr(cause, "q.conf:2: quiet"));
	free(cause);
	cause = NULL;
	tmp_done(&t);

	tmp_file(&t, "q.conf", "[move]\nquiet = 30s\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(strstr(cause, "quiet (30000ms) must be shorter than "
	    "lock_timeout (30s)"));
	free(cause);
	cause = NULL;
	tmp_done(&t);

	tmp_file(&t, "q.conf", "[move]\nlate_mail = some\n");
	assert_int_equal(config_load(t.file, 1, &c, &cause), -1);
	assert_non_null(strstr(cause, "use 'all' or 'dovecot'"));
	free(cause);
	tmp_done(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_load_partial),
		cmocka_unit_test(test_missing_optional),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_null_cause),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_zero_refused),
		cmocka_unit_test(test_grace_under_timeout),
		cmocka_unit_test(test_quiet_and_late_mail),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
