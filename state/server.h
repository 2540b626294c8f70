/*
 * Servers: the storage hosts that serve slices (state/server.c).
 * Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_SERVER_H
#define MAILSHIFT_STATE_SERVER_H

#include <stdint.h>

#include "state/state.h"

/* A server as state_server_list shows it. */
struct state_server {
	int64_t	 id;
	char	*name;
	char	*address;		/* host name or address */
	char	*pair;			/* pair it belongs to, or NULL */
	int64_t	 created;		/* Unix seconds */
	char	*health;		/* see state_health_states */
	char	*health_reason;		/* the watch's why; "" when none */
	int64_t	 health_since;		/* last change of health, 0 = never */
};

/*
 * Add a server, in a transaction of its own, and log it. Refused when a
 * server of that name exists.
 */
int state_server_add(struct state *, const char *name, const char *address,
    char **cause);
/*
 * Call cb for every server in name order, until cb returns nonzero. The
 * strings are valid only during the call.
 */
int state_server_list(struct state *,
    int (*cb)(const struct state_server *, void *), void *arg, char **cause);
/*
 * Record the health watch's judgement of server, as
 * state_slice_set_health does for a slice (in a transaction of its own,
 * nothing written and *changed 0 when unchanged, one "server.health"
 * event when not). Refused for an unknown health or server.
 */
int state_server_set_health(struct state *, const char *server,
    const char *health, const char *reason, int64_t when, int *changed,
    char **cause);

#endif
