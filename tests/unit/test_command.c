/* Unit tests for common/command.c: hooks and presence commands. */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "common/command.h"
#include "testutil.h"

static void
test_output_and_status(void **state)
{
	struct command_result r;
	char *cause = NULL, *d;

	(void)state;
	assert_int_equal(command_run("echo out; echo err >&2; exit 3", NULL,
	    NULL, 5, 1024, &r, &cause), 0);
	assert_int_equal(r.status, 3);
	assert_false(r.timed_out);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	d = command_describe(&r);
	assert_string_equal(d, "exited 3: err");
	free(d);
	command_result_free(&r);
}

/* %u reaches the command as one word, never as shell syntax. */
static void
test_user_is_not_shell_syntax(void **state)
{
	const char *evil = "a b;touch /tmp/mailshift-pwned-$$`id`";
	struct command_result r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(command_run("printf '[%%s]' %u", evil, NULL, 5, 1024,
	    &r, &cause), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "[a b;touch /tmp/mailshift-pwned-$$`id`]");
	command_result_free(&r);
	/* %% is a per cent sign; the user is also $1. */
	assert_int_equal(command_run("printf '100%%%%:%%s' \"$1\"", "bob", NULL,
	    5, 1024, &r, &cause), 0);
	assert_string_equal(r.out, "100%:bob");
	command_result_free(&r);
}

/* Inside double quotes %u is $1; inside single quotes it is refused. */
static void
test_user_in_quotes(void **state)
{
	struct command_result r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(command_run("printf '[%%s]' \"<%u>\"", "a  b*", NULL,
	    5, 1024, &r, &cause), 0);
	assert_string_equal(r.out, "[<a  b*>]");
	command_result_free(&r);
	assert_int_equal(command_run("doveadm kick '%u'", "bob", NULL, 5,
	    1024, &r, &cause), -1);
	assert_non_null(strstr(cause, "inside single quotes"));
	free(cause);
	cause = NULL;
	/* An escaped quote does not open a quoted string. */
	assert_int_equal(command_run("printf '%%s' \\'%u", "bob", NULL, 5,
	    1024, &r, &cause), 0);
	assert_string_equal(r.out, "'bob");
	command_result_free(&r);
}

/* A command that leaves a process holding its output open is judged
 * when the shell exits, not killed at the deadline; stdin is empty. */
static void
test_background_and_stdin(void **state)
{
	struct command_result r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(command_run("sleep 5 & echo started; exit 0", NULL,
	    NULL, 2, 1024, &r, &cause), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "started\n");
	assert_true(r.seconds < 1.5);
	command_result_free(&r);
	assert_int_equal(command_run("cat; echo eof", NULL, NULL, 2, 1024, &r,
	    &cause), 0);
	assert_false(r.timed_out);
	assert_string_equal(r.out, "eof\n");
	command_result_free(&r);
}

static void
test_environment(void **state)
{
	const char *env[] = { "MAILSHIFT_HOOK=after_lock", NULL };
	struct command_result r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(command_run("echo $MAILSHIFT_HOOK", NULL, env, 5,
	    1024, &r, &cause), 0);
	assert_string_equal(r.out, "after_lock\n");
	command_result_free(&r);
}

/* A command past its deadline is killed with everything it started,
 * even one that keeps its output open and prints nothing. */
static void
test_timeout_kills_the_group(void **state)
{
	struct command_result r;
	char *cause = NULL, *dir = test_tmpdir(), *cmd, *flag, *d;
	struct stat sb;

	(void)state;
	flag = xasprintf("%s/late", dir);
	cmd = xasprintf("(sleep 1; touch %s) & sleep 30", flag);
	assert_int_equal(command_run(cmd, NULL, NULL, 0.3, 1024, &r, &cause),
	    0);
	assert_true(r.timed_out);
	assert_int_equal(r.status, -1);
	assert_true(r.seconds < 2.0);
	d = command_describe(&r);
	assert_non_null(strstr(d, "killed after"));
	free(d);
	command_result_free(&r);
	sleep(2);
	/* The background child died with the group: no file. */
	assert_int_not_equal(stat(flag, &sb), 0);
	free(cmd);
	free(flag);
	test_rm_rf(dir);
}

static void
test_output_is_bounded(void **state)
{
	struct command_result r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(command_run("yes | head -c 100000", NULL, NULL, 5,
	    100, &r, &cause), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(strlen(r.out), 100);
	command_result_free(&r);
}

/* Positional arguments arrive as $1.. one word each; too many refused. */
static void
test_positional_args(void **state)
{
	const char *args[] = { "s1", "mx 1;id", "$(id)", "/srv/a b", NULL };
	const char *many[COMMAND_MAX_ARGS + 2];
	struct command_result r;
	char *cause = NULL;
	size_t i;

	(void)state;
	assert_int_equal(command_run_args("printf '[%%s]' \"$@\"; echo $#",
	    args, NULL, 5, 1024, &r, &cause), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "[s1][mx 1;id][$(id)][/srv/a b]4\n");
	command_result_free(&r);
	for (i = 0; i < COMMAND_MAX_ARGS + 1; i++)
		many[i] = "x";
	many[i] = NULL;
	assert_int_equal(command_run_args("true", many, NULL, 5, 1024, &r,
	    &cause), -1);
	assert_non_null(strstr(cause, "too many arguments"));
	free(cause);
}

static void
test_bad_templates(void **state)
{
	struct command_result r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(command_run("doveadm kick %n", "u", NULL, 5, 10, &r,
	    &cause), -1);
	assert_non_null(strstr(cause, "only %u"));
	free(cause);
	cause = NULL;
	assert_int_equal(command_run("kick %u", NULL, NULL, 5, 10, &r,
	    &cause), -1);
	assert_non_null(strstr(cause, "no user"));
	free(cause);
	cause = NULL;
	assert_int_equal(command_check("", &cause), -1);
	free(cause);
	assert_int_equal(command_check("echo 50%% %u", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_user_is_not_shell_syntax),
		cmocka_unit_test(test_user_in_quotes),
		cmocka_unit_test(test_background_and_stdin),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_output_is_bounded),
		cmocka_unit_test(test_positional_args),
		cmocka_unit_test(test_bad_templates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
