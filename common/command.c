#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/command.h"
#include "common/util.h"

extern char **environ;

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Walk a template in shell quoting terms: the state before each character
 * is 0 outside quotes, '\'' inside single quotes, '"' inside double quotes.
 * %u becomes "$1" outside quotes and $1 inside double quotes; inside
 * single quotes it cannot expand at all and is refused.
 */
static char *
expand(const char *command, char **cause)
{
	size_t n = 0, cap = strlen(command) * 4 + 1;
	char *s = xmalloc(cap), q = 0;
	const char *p;

	for (p = command; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			if (q == '\'') {
				free(s);
				fail(cause, "%%u inside single quotes in '%s' "
				    "would reach the command as the text \"$1\"; "
				    "leave it unquoted (the user arrives as one "
				    "word)", command);
				return NULL;
			}
			memcpy(s + n, q ? "$1" : "\"$1\"", q ? 2 : 4);
			n += q ? 2 : 4;
			p++;
			continue;
		}
		if (p[0] == '%' && p[1] == '%') {
			s[n++] = '%';
			p++;
			continue;
		}
		if (p[0] == '%') {
			free(s);
			fail(cause, "'%%%c' in '%s': only %%u (the user) and "
			    "%%%% may follow a per cent sign", p[1] ? p[1] : ' ',
			    command);
			return NULL;
		}
		if (*p == '\\' && q != '\'' && p[1] != '\0')
			s[n++] = *p++;
		else if (*p == '\'' && q != '"')
			q = q ? 0 : '\'';
		else if (*p == '"' && q != '\'')
			q = q ? 0 : '"';
		s[n++] = *p;
	}
	s[n] = '\0';
	return s;
}

int
command_check(const char *command, char **cause)
{
	char *s;

	if (command == NULL || *command == '\0')
		return fail(cause, "the command is empty");
	if ((s = expand(command, cause)) == NULL)
		return -1;
	free(s);
	return 0;
}

struct sink {
	char	*buf;
	size_t	 len;
	size_t	 max;
};

/* Read what is there; 0 at end of file. */
static int
drain(int fd, struct sink *k)
{
	char tmp[4096];
	ssize_t r;
	size_t take;

	r = read(fd, tmp, sizeof tmp);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (r == 0)
		return 0;
	take = (size_t)r;
	if (k->len + take > k->max)
		take = k->max - k->len;
	if (take > 0) {
		k->buf = xrealloc(k->buf, k->len + take + 1);
		memcpy(k->buf + k->len, tmp, take);
		k->len += take;
		k->buf[k->len] = '\0';
	}
	return 1;
}

int
command_run(const char *command, const char *user, const char *const *env,
    double timeout, size_t max_out, struct command_result *res, char **cause)
{
	const char *args[2] = { user ? user : "", NULL };

	if (command != NULL && strstr(command, "%u") != NULL && user == NULL) {
		memset(res, 0, sizeof *res);
		res->status = -1;
		return fail(cause, "'%s' uses %%u but there is no user here",
		    command);
	}
	return command_run_args(command, args, env, timeout, max_out, res,
	    cause);
}

int
command_run_args(const char *command, const char *const *args,
    const char *const *env, double timeout, size_t max_out,
    struct command_result *res, char **cause)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, status = 0, open_n;
	struct sink so = { .max = max_out }, se = { .max = max_out };
	struct pollfd pfd[2];
	double start = mono(), left, linger = 0;
	int exited = 0;
	const char *argv[5 + COMMAND_MAX_ARGS];
	struct sigaction dfl;
	char *text, **envp;
	int devnull;
	pid_t pid, w;
	size_t i, nenv;

	memset(res, 0, sizeof *res);
	res->status = -1;
	if (command_check(command, cause) != 0)
		return -1;
	for (i = 0; args != NULL && args[i] != NULL; i++)
		;
	if (i > COMMAND_MAX_ARGS)
		return fail(cause, "too many arguments for '%s' (%zu, at most "
		    "%d)", command, i, COMMAND_MAX_ARGS);
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		fail(cause, "pipe: %s", strerror(errno));
		goto close_all;
	}
	/* Everything the child needs is built before fork: between fork
	 * and exec a threaded process may only make async-signal-safe
	 * calls. */
	if ((text = expand(command, cause)) == NULL)
		goto close_all;
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		fail(cause, "/dev/null: %s", strerror(errno));
		free(text);
		goto close_all;
	}
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = text;
	argv[3] = "mailshift-command";
	for (i = 0; args != NULL && args[i] != NULL; i++)
		argv[4 + i] = args[i];
	argv[4 + i] = NULL;
	for (nenv = 0; environ[nenv] != NULL; nenv++)
		;
	for (i = 0; env != NULL && env[i] != NULL; i++)
		nenv++;
	envp = xcalloc(nenv + 1, sizeof *envp);
	nenv = 0;
	for (i = 0; env != NULL && env[i] != NULL; i++)
		envp[nenv++] = (char *)env[i];
	for (i = 0; environ[i] != NULL; i++)
		envp[nenv++] = environ[i];
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	if ((pid = fork()) == 0) {
		/* No terminal (a hook reading it would stop), and SIGPIPE as
		 * a shell expects it (the daemon ignores it). */
		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		sigaction(SIGPIPE, &dfl, NULL);
		execve("/bin/sh", (char *const *)argv, envp);
		_exit(127);
	}
	close(devnull);
	free(text);
	free(envp);
	if (pid < 0) {
		fail(cause, "fork: %s", strerror(errno));
		goto close_all;
	}
	setpgid(pid, pid);	/* also here: no race with the child */
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	pfd[0].events = pfd[1].events = POLLIN;
	open_n = 2;
	/*
	 * Read until both streams close or the shell has exited: a command
	 * may leave a process behind that keeps them open (ssh with
	 * ControlPersist); then what is there is read for a moment more.
	 */
	while (open_n > 0) {
		left = timeout - (mono() - start);
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			linger = mono() + 0.2;
		}
		if (exited && mono() > linger)
			break;
		if (!exited && left <= 0) {
			res->timed_out = 1;
			break;
		}
		if (poll(pfd, 2, 20) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (!drain(pfd[i].fd, i == 0 ? &so : &se)) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_n--;
			}
		}
	}
	/* Output closed: wait for the exit, still within the deadline. */
	while (!exited) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (res->timed_out || mono() - start > timeout) {
			res->timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(2000);
	}
	if (res->timed_out)
		kill(-pid, SIGKILL);	/* whatever it left behind */
	for (i = 0; i < 2; i++) {
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	}
	out[0] = err[0] = -1;
	res->seconds = mono() - start;
	res->status = !res->timed_out && WIFEXITED(status) ?
	    WEXITSTATUS(status) : -1;
	res->out = so.buf ? so.buf : xstrdup("");
	res->err = se.buf ? se.buf : xstrdup("");
	return 0;

close_all:
	for (i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -1;
}

char *
command_describe(const struct command_result *r)
{
	char first[200] = "";
	const char *e = r->err ? r->err : "";
	size_t n;

	while (*e == '\n' || *e == ' ')
		e++;
	n = strcspn(e, "\n");
	if (n >= sizeof first)
		n = sizeof first - 1;
	memcpy(first, e, n);
	first[n] = '\0';
	if (r->timed_out)
		return xasprintf("killed after %.1f s%s%s", r->seconds,
		    *first ? ": " : "", first);
	if (r->status < 0)
		return xasprintf("killed by a signal%s%s", *first ? ": " : "",
		    first);
	return xasprintf("exited %d%s%s", r->status, *first ? ": " : "",
	    first);
}

void
command_result_free(struct command_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
