/*
 * Presence: is a user online, or was the user active too recently for a
 * cutover? (README "Cutover gating".) Each source is a backend behind
 * struct presence_backend, the way OpenSMTPD puts its queues behind
 * struct queue_backend:
 *
 *   name     [presence] sources  says the user is online when
 *   catalog  PRESENCE_CATALOG    an access server pushed "online"
 *                                (mailshift presence USER online), or
 *                                the account was active within idle
 *   command  PRESENCE_COMMAND    the user is listed by the command
 *                                (first word of a line; "username"
 *                                headings skipped), run every
 *                                command_interval with command_timeout
 *                                on a thread of its own; while it has
 *                                not answered or fails, every user
 *                                counts as online
 *   mailbox  PRESENCE_MAILBOX    a delta pass saw the mailbox change
 *                                within idle
 *
 * A presence set holds one instance of every backend; the caller says
 * which ones to ask (a PRESENCE_* mask, from the configuration) and they
 * are asked in the order of the table above.
 */
#ifndef MAILSHIFT_PRESENCE_H
#define MAILSHIFT_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct state;
struct state_move;

/* One question: is this user online, or active within idle? */
struct presence_query {
	struct state		*st;	/* the asking thread's catalog */
	const char		*user;
	const struct state_move	*move;	/* the move waiting for cutover */
	int64_t			 now;	/* Unix seconds */
	int64_t			 idle;	/* [presence] idle, seconds */
};

/* A presence source. Functions left NULL have nothing to do. */
struct presence_backend {
	const char	*name;		/* as in [presence] sources */
	unsigned	 source;	/* its PRESENCE_* bit */
	/* Set up *data from the configuration: 0, or -1 with a cause. */
	int		(*init)(void **data, const struct config *,
			    char **cause);
	/* Take a reloaded configuration (the event-loop thread). */
	void		(*reload)(void *data, const struct config *);
	/* Start what is due at now (the event-loop thread; never blocks). */
	void		(*poll)(void *data, int64_t now);
	/*
	 * 1 when the user counts as online (or active within idle, or
	 * the source cannot tell), with the reason in why; 0 when the
	 * user is offline and idle as far as this source knows. Called
	 * from any thread, concurrently.
	 */
	int		(*online)(void *data, const struct presence_query *,
			    char *why, size_t len);
	/* Is work started by poll still running? */
	int		(*busy)(void *data);
	/* Wait for what poll started (joining its thread), free data. */
	void		(*stop)(void *data);
};

extern const struct presence_backend presence_catalog;
extern const struct presence_backend presence_command;
extern const struct presence_backend presence_mailbox;

struct presence;

/* Every backend, set up from cfg: the set, or NULL with a cause. */
struct presence *presence_new(const struct config *, char **cause);
/* Hand a reloaded configuration to every backend; the command source
 * runs again at the next poll. */
void presence_reload(struct presence *, const struct config *);
/* Start what is due for the backends in sources (PRESENCE_* mask). */
void presence_poll(struct presence *, unsigned sources, int64_t now);
/*
 * Ask the backends in sources, in order, until one says the user is
 * online: 1 with its reason in why, or 0 when none does.
 */
int presence_online(struct presence *, unsigned sources,
    const struct presence_query *, char *why, size_t len);
/* Does any backend still have work running (a command thread)? */
int presence_busy(struct presence *);
/*
 * Stop every backend and free the set. Joins the command thread, so it
 * waits up to command_timeout when a command runs; call it once
 * presence_busy says 0 to return at once.
 */
void presence_free(struct presence *);

#endif
