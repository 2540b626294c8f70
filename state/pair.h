/*
 * Pairs: two servers that replicate each other, a failure domain
 * (state/pair.c). Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_PAIR_H
#define MAILSHIFT_STATE_PAIR_H

#include <stdint.h>

#include "state/state.h"

/* A pair as state_pair_list shows it. */
struct state_pair {
	int64_t	 id;
	char	*name;
	char	*server_a;		/* server names */
	char	*server_b;
	int64_t	 slices;		/* slices served by this pair */
	int64_t	 created;		/* Unix seconds */
};

/*
 * Add a pair of servers a and b, in a transaction of its own, and log it.
 * Refused when a and b are the same, when a pair of that name exists, when
 * a server is unknown, or when either already belongs to a pair.
 */
int state_pair_add(struct state *, const char *name, const char *a,
    const char *b, char **cause);
/*
 * Call cb for every pair in name order, until cb returns nonzero. The
 * strings are valid only during the call.
 */
int state_pair_list(struct state *,
    int (*cb)(const struct state_pair *, void *), void *arg, char **cause);

#endif
