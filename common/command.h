/*
 * Run an operator's shell command with a deadline: presence commands
 * ("doveadm who -1") and cutover hooks ("doveadm kick -- %u").
 *
 * The command runs as /bin/sh -c in a process group of its own, so that a
 * timeout kills everything it started, not only the shell. In the command
 * text %u stands for the user and %% for a per cent sign; the user is
 * handed to the shell as "$1", never pasted into the command text, so no
 * user name can inject shell syntax.
 */
#ifndef MAILSHIFT_COMMAND_H
#define MAILSHIFT_COMMAND_H

#include <stddef.h>

struct command_result {
	int	 status;	/* exit status, or -1 (killed, not run) */
	int	 timed_out;
	char	*out;		/* stdout, NUL-terminated, at most max_out */
	char	*err;		/* stderr, likewise */
	double	 seconds;	/* how long it ran */
};

/*
 * Run command with user as %u (NULL: no %u allowed), extra environment
 * entries env ("NAME=value", NULL-terminated, may be NULL), for at most
 * timeout seconds. Output beyond max_out bytes per stream is read and
 * dropped. Returns 0 when the command ran (whatever its status), -1 with a
 * cause when it could not be started or the text is malformed.
 */
int command_run(const char *command, const char *user,
    const char *const *env, double timeout, size_t max_out,
    struct command_result *res, char **cause);

/* Arguments command_run_args hands on, at most. */
#define COMMAND_MAX_ARGS 8

/*
 * command_run with positional arguments: args (NULL-terminated, at most
 * COMMAND_MAX_ARGS) reach the command as "$1", "$2", ...; %u stands for
 * the first.
 */
int command_run_args(const char *command, const char *const *args,
    const char *const *env, double timeout, size_t max_out,
    struct command_result *res, char **cause);

/* "exited 3", "killed after 10 s", ... plus the first line of stderr. */
char *command_describe(const struct command_result *);

void command_result_free(struct command_result *);

/* Check a command template: %u and %% only. */
int command_check(const char *command, char **cause);

#endif
