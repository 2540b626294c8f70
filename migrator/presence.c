/* Presence sources behind one backend struct: see presence.h. */
#define _GNU_SOURCE
#include "migrator/presence.h"
#include "common/command.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "state/account.h"
#include "state/move.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUTPUT (1 << 20)	/* of the presence command */

/* catalog: what access servers push, and the account's last activity. */
static int
catalog_online(void *data, const struct presence_query *q, char *why,
    size_t len)
{
	struct state_account a;
	char at[32], until[32];
	int online = 0;

	(void)data;
	/* An account the catalog cannot give has nothing to say here. */
	if (state_account_get(q->st, q->user, &a, NULL) != 0)
		return 0;
	if (a.online) {
		snprintf(why, len, "the user is online (catalog)");
		online = 1;
	} else if (q->now - a.last_activity < q->idle) {
		/* Times, not "n seconds ago": the reason stays the same
		 * while the user stays away (it is logged when it changes). */
		snprintf(why, len, "the user was active at %s (catalog; idle "
		    "is %llds: not before %s)", time_format(a.last_activity,
		    at, sizeof at), (long long)q->idle,
		    time_format(a.last_activity + q->idle, until,
		    sizeof until));
		online = 1;
	}
	state_account_free(&a);
	return online;
}

const struct presence_backend presence_catalog = {
	.name = "catalog",
	.source = PRESENCE_CATALOG,
	.online = catalog_online,
};

/* mailbox: when a delta pass last saw the mailbox change. */
static int
mailbox_online(void *data, const struct presence_query *q, char *why,
    size_t len)
{
	int64_t changed = q->move->last_change;
	char at[32], until[32];

	(void)data;
	if (changed == 0 || q->now - changed >= q->idle)
		return 0;
	snprintf(why, len, "the mailbox changed at %s (idle is %llds: not "
	    "before %s)", time_format(changed, at, sizeof at),
	    (long long)q->idle, time_format(changed + q->idle, until,
	    sizeof until));
	return 1;
}

const struct presence_backend presence_mailbox = {
	.name = "mailbox",
	.source = PRESENCE_MAILBOX,
	.online = mailbox_online,
};

/*
 * command: a command listing online users, run on a thread of its own.
 * The loop thread owns the settings and the thread handle; the thread
 * works on its own copy of the command and publishes under mu.
 */
struct command_src {
	char		*command;	/* NULL: not configured */
	int64_t		 interval;	/* seconds between runs */
	int64_t		 timeout;	/* seconds, then it is killed */
	int64_t		 last;		/* Unix time of the last start */
	pthread_t	 th;
	int		 joinable;	/* th started and not joined yet */
	pthread_mutex_t	 mu;		/* the fields below */
	int		 running;	/* th has not published yet */
	char	       **online;	/* users the last good run listed */
	size_t		 nonline;
	int		 ok;		/* the last run worked */
	char		 error[256];	/* why it did not, or "" */
};

/* What one run of the command works on. */
struct command_job {
	struct command_src	*c;
	char			*command;
	int64_t			 timeout;
};

static int
command_init(void **data, const struct config *cfg, char **cause)
{
	struct command_src *c = xcalloc(1, sizeof *c);

	(void)cause;
	pthread_mutex_init(&c->mu, NULL);
	c->command = cfg->presence_command ?
	    xstrdup(cfg->presence_command) : NULL;
	c->interval = (int64_t)cfg->presence_interval;
	c->timeout = (int64_t)cfg->presence_timeout;
	*data = c;
	return 0;
}

static void
command_reload(void *data, const struct config *cfg)
{
	struct command_src *c = data;

	free(c->command);
	c->command = cfg->presence_command ?
	    xstrdup(cfg->presence_command) : NULL;
	c->interval = (int64_t)cfg->presence_interval;
	c->timeout = (int64_t)cfg->presence_timeout;
	c->last = 0;		/* run the new command at once */
}

static void
free_users(char **users, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(users[i]);
	free(users);
}

/* Run the command once; its output lists online users, the first word
 * of each line (doveadm who -1 prints "user proto pid ip" under a
 * "username" heading). */
static void *
command_main(void *arg)
{
	struct command_job *j = arg;
	struct command_src *c = j->c;
	struct command_result res;
	char **users = NULL, err[256] = "", *tok, *save, *line, *why, *cause;
	size_t n = 0;
	int ok = 0;

	cause = NULL;
	if (command_run(j->command, NULL, NULL, (double)j->timeout,
	    MAX_OUTPUT, &res, &cause) != 0) {
		snprintf(err, sizeof err, "'%s': %s", j->command, cause);
		free(cause);
		goto done;
	}
	if (res.status != 0) {
		why = command_describe(&res);
		snprintf(err, sizeof err, "'%s' %s", j->command, why);
		free(why);
		command_result_free(&res);
		goto done;
	}
	for (line = strtok_r(res.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		tok = line + strspn(line, " \t\r");
		tok[strcspn(tok, " \t\r")] = '\0';
		if (*tok == '\0' || strcmp(tok, "username") == 0)
			continue;
		users = xrealloc(users, (n + 1) * sizeof *users);
		users[n++] = xstrdup(tok);
	}
	command_result_free(&res);
	ok = 1;
done:
	pthread_mutex_lock(&c->mu);
	if (ok) {
		free_users(c->online, c->nonline);
		c->online = users;
		c->nonline = n;
		users = NULL;
		n = 0;
		log_debug("presence command: %zu user(s) online",
		    c->nonline);
	} else if (c->ok)
		log_warnx("presence command: %s; cutovers wait", err);
	c->ok = ok;
	snprintf(c->error, sizeof c->error, "%s", err);
	c->running = 0;
	pthread_mutex_unlock(&c->mu);
	free_users(users, n);
	free(j->command);
	free(j);
	return NULL;
}

/* Join the last run once it has published (the loop thread). */
static void
command_reap(struct command_src *c, int wait)
{
	int running;

	if (!c->joinable)
		return;
	pthread_mutex_lock(&c->mu);
	running = c->running;
	pthread_mutex_unlock(&c->mu);
	if (running && !wait)
		return;
	pthread_join(c->th, NULL);
	c->joinable = 0;
}

/* Start the command when it is due. */
static void
command_poll(void *data, int64_t now)
{
	struct command_src *c = data;
	struct command_job *j;
	int rc;

	command_reap(c, 0);
	if (c->command == NULL || c->joinable ||
	    now - c->last < c->interval)
		return;
	c->last = now;
	j = xcalloc(1, sizeof *j);
	j->c = c;
	j->command = xstrdup(c->command);
	j->timeout = c->timeout;
	pthread_mutex_lock(&c->mu);
	c->running = 1;
	pthread_mutex_unlock(&c->mu);
	if ((rc = pthread_create(&c->th, NULL, command_main, j)) != 0) {
		pthread_mutex_lock(&c->mu);
		c->running = 0;
		pthread_mutex_unlock(&c->mu);
		errno = rc;
		log_warn("presence command: cannot start a thread");
		free(j->command);
		free(j);
		return;
	}
	c->joinable = 1;
}

static int
command_online(void *data, const struct presence_query *q, char *why,
    size_t len)
{
	struct command_src *c = data;
	size_t i;
	int online = 0;

	pthread_mutex_lock(&c->mu);
	if (!c->ok) {
		snprintf(why, len, "the presence command gave no answer "
		    "yet%s%s", *c->error ? ": " : "", c->error);
		online = 1;
	} else {
		for (i = 0; i < c->nonline && !online; i++)
			online = strcmp(c->online[i], q->user) == 0;
		if (online)
			snprintf(why, len, "the user is online (presence "
			    "command)");
	}
	pthread_mutex_unlock(&c->mu);
	return online;
}

static int
command_busy(void *data)
{
	struct command_src *c = data;
	int running;

	pthread_mutex_lock(&c->mu);
	running = c->running;
	pthread_mutex_unlock(&c->mu);
	return running;
}

static void
command_stop(void *data)
{
	struct command_src *c = data;

	command_reap(c, 1);
	free_users(c->online, c->nonline);
	free(c->command);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

const struct presence_backend presence_command = {
	.name = "command",
	.source = PRESENCE_COMMAND,
	.init = command_init,
	.reload = command_reload,
	.poll = command_poll,
	.online = command_online,
	.busy = command_busy,
	.stop = command_stop,
};

/* The backends, in the order they are asked. */
static const struct presence_backend *const backends[] = {
	&presence_catalog, &presence_command, &presence_mailbox,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

struct presence {
	void	*data[NBACKENDS];	/* each backend's own state */
};

struct presence *
presence_new(const struct config *cfg, char **cause)
{
	struct presence *p = xcalloc(1, sizeof *p);
	size_t i;

	for (i = 0; i < NBACKENDS; i++) {
		if (backends[i]->init != NULL &&
		    backends[i]->init(&p->data[i], cfg, cause) != 0) {
			while (i-- > 0) {
				if (backends[i]->stop != NULL)
					backends[i]->stop(p->data[i]);
			}
			free(p);
			return NULL;
		}
	}
	return p;
}

void
presence_reload(struct presence *p, const struct config *cfg)
{
	size_t i;

	for (i = 0; i < NBACKENDS; i++) {
		if (backends[i]->reload != NULL)
			backends[i]->reload(p->data[i], cfg);
	}
}

void
presence_poll(struct presence *p, unsigned sources, int64_t now)
{
	size_t i;

	for (i = 0; i < NBACKENDS; i++) {
		if ((sources & backends[i]->source) && backends[i]->poll)
			backends[i]->poll(p->data[i], now);
	}
}

int
presence_online(struct presence *p, unsigned sources,
    const struct presence_query *q, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < NBACKENDS; i++) {
		if ((sources & backends[i]->source) &&
		    backends[i]->online(p->data[i], q, why, len))
			return 1;
	}
	return 0;
}

int
presence_busy(struct presence *p)
{
	size_t i;

	for (i = 0; i < NBACKENDS; i++) {
		if (backends[i]->busy != NULL && backends[i]->busy(p->data[i]))
			return 1;
	}
	return 0;
}

void
presence_free(struct presence *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < NBACKENDS; i++) {
		if (backends[i]->stop != NULL)
			backends[i]->stop(p->data[i]);
	}
	free(p);
}
