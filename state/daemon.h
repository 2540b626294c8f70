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

#endif
