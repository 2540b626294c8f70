/*
 * What an access server is told about a user: the route view
 * (state/route.c). Conventions (return values, *cause): see
 * state/state.h.
 */
#ifndef MAILSHIFT_STATE_ROUTE_H
#define MAILSHIFT_STATE_ROUTE_H

#include <stdint.h>

#include "state/state.h"

/* One row of the route view. */
struct state_route {
	char	*user;
	char	*server;		/* the serving server's name */
	char	*host;			/* and its address */
	char	*home;			/* slice path + account path */
	char	*slice;
	int	 locked;		/* a cutover holds the account now (an
					   expired lock does not count) */
	int64_t	 generation;		/* bumped when it changes place */
};

/*
 * Fill r with the route of user (free it with state_route_free). An
 * unknown user is an error naming it; r is zeroed on failure.
 */
int state_route_get(struct state *, const char *user, struct state_route *r,
    char **cause);
/* Free the strings of r and zero it. */
void state_route_free(struct state_route *r);

#endif
