/*
 * What the daemon says about itself (state/daemon.c): one row, written
 * by the running daemon and read by 'mailshift daemon status'.
 * Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_DAEMON_H
#define MAILSHIFT_STATE_DAEMON_H

#include <stdint.h>

#include "state/state.h"

/* The daemon's row. */
struct state_daemon {
	int64_t	 pid;
	int64_t	 started;		/* Unix seconds */
	int64_t	 heartbeat;		/* last update */
	int64_t	 stopped;		/* 0 while running */
	int64_t	 running;		/* moves in flight */
	uint64_t bytes;			/* copied since start */
	uint64_t files;
	char	*listen;		/* HTTP address, or NULL */
};

/* Write the daemon's row (replacing the one there is). */
int state_daemon_update(struct state *, const struct state_daemon *,
    char **cause);
/*
 * Fill d with the daemon's row (the caller frees d->listen): 0, 1 when no
 * daemon ever ran (d zeroed), -1 on error.
 */
int state_daemon_get(struct state *, struct state_daemon *d, char **cause);

/*
 * The one-daemon lock, held on the database itself (whatever name it was
 * opened by): take it for this process, in a transaction of its own.
 * Returns 0 when taken (or already ours), 1 when another daemon holds it
 * (*cause names it: pid, host, since when), -1 on error. A lock whose
 * owner no longer runs (no such pid on this host, or the pid now belongs
 * to another process: another boot or start time) is taken over; so is
 * one held on another host whose daemon has not written its status for
 * STATE_DAEMON_STALE seconds. On PostgreSQL the lock is a session-level
 * advisory lock of the catalog's schema, so it ends with the daemon's
 * session whatever happens to the process or its host; the row then only
 * names the holder.
 */
#define STATE_DAEMON_STALE 60
int state_daemon_lock(struct state *, char **cause);
/* Give up the lock if this process holds it; errors are ignored. */
void state_daemon_unlock(struct state *);
/* On PostgreSQL the lock is the session's: after a reconnect it is taken
 * again, and this says it could not be (another daemon has it now). */
int state_daemon_lock_lost(struct state *);
/* A descriptor that is readable when another session changed the
 * catalog (PostgreSQL's LISTEN/NOTIFY), or -1 (SQLite: poll
 * state_data_version). It may change after a reconnect. */
int state_notify_fd(struct state *);
/* A number that changes whenever the connection was made again. */
int64_t state_session_epoch(struct state *);

#endif
