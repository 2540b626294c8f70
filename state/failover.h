/*
 * Failover in the catalog (state/failover.c): which server of its pair
 * serves a slice. A failover marks the slice (slices.failover: the step
 * under way) so that moves touching it pause, and ends with one
 * transaction that sets the serving server and bumps the generation of
 * every account on the slice, so that proxies and caches reading the
 * access view notice at once. Conventions (return values, *cause): see
 * state/state.h.
 */
#ifndef MAILSHIFT_STATE_FAILOVER_H
#define MAILSHIFT_STATE_FAILOVER_H

#include <stdint.h>

#include "state/state.h"

/* A slice and the two servers of a failover. */
struct state_failover {
	int64_t	 slice_id;
	char	*slice;
	char	*path;
	char	*pair;
	int64_t	 from_id;		/* serving now */
	char	*from;
	char	*from_address;
	int64_t	 to_id;			/* taking over */
	char	*to;
	char	*to_address;
	char	*step;			/* under way, "" when none */
	char	*owner;			/* who runs it, or NULL */
	int64_t	 since;			/* Unix seconds, 0 */
	int64_t	 failed_over;		/* the last switch, 0 never */
};

/*
 * Fill f for a failover of slice to server to (NULL: the other server of
 * its pair). Refused: an unknown slice or server, a server not in the
 * slice's pair, a retired slice. to may be the serving server (f->to_id
 * == f->from_id): the caller decides what that means.
 */
int state_failover_get(struct state *, const char *slice, const char *to,
    struct state_failover *f, char **cause);
void state_failover_free(struct state_failover *);

/*
 * The owner string of process pid on this host ("host pid start"), and
 * whether an owner string names a process that still runs (an owner on
 * another host counts as running).
 */
char *state_failover_owner(long pid);
int state_failover_owner_alive(const char *owner);

/*
 * Mark f's slice: failover to f->to_id under way, by owner, at now, step
 * "quiesce". Refused when another owner that still runs has it marked;
 * the mark of one that is gone is taken over (and said in an event).
 */
int state_failover_begin(struct state *, const struct state_failover *f,
    const char *owner, int64_t now, char **cause);
/* Record the step under way (and an event with message) for owner. */
int state_failover_step(struct state *, int64_t slice_id, const char *owner,
    const char *step, const char *message, char **cause);
/*
 * The switch, in one transaction: the slice is served by to_id, its mark
 * cleared, failed_over = now, every account on it one generation on (in
 * *bumped), and one "slice.failover" event with message. Refused (and
 * nothing written) when the slice is no longer served by from_id, or
 * when owner is not NULL and the mark is not owner's.
 */
int state_failover_switch(struct state *, int64_t slice_id, int64_t from_id,
    int64_t to_id, const char *owner, int64_t now, const char *message,
    int64_t *bumped, char **cause);
/* Clear owner's mark (a failed failover) with an event; 0 when done or
 * when there was no mark of owner's. */
int state_failover_abort(struct state *, int64_t slice_id, const char *owner,
    const char *reason, char **cause);

/* The ids of the slices with a failover under way, into *ids (free it). */
int state_failover_marked(struct state *, int64_t **ids, size_t *n,
    char **cause);
/* How many open moves touching slice_id a running process is running, and
 * the id of one of them (0 none). */
int state_failover_busy_moves(struct state *, int64_t slice_id, int *n,
    int64_t *one, char **cause);

#endif
