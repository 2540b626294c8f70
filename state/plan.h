/*
 * Plans (state/plan.c): a proposed set of moves, stored so that it can be
 * previewed and later applied as queued moves. Conventions (return
 * values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_PLAN_H
#define MAILSHIFT_STATE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

/* One move of a plan. */
struct state_plan_move {
	int64_t	 seq;			/* 1, 2, ... in plan order */
	int64_t	 account_id;
	char	*user;			/* filled by state_plan_moves */
	int64_t	 from_slice;
	char	*from;			/* slice names, the same */
	int64_t	 to_slice;
	char	*to;
	uint64_t bytes;
	uint64_t files;
	int64_t	 after_seq;		/* waits for this move, 0 = none */
};

/* A stored plan. */
struct state_plan {
	int64_t	 id;
	int64_t	 created;		/* Unix seconds */
	char	*strategy;		/* balance, drain, fill */
	char	*params;		/* JSON */
	char	*summary;		/* JSON */
	char	*state;			/* proposed, applied */
	int64_t	 moves;			/* how many */
	uint64_t bytes;			/* their sum */
};

/*
 * Store a plan and its n moves, in a transaction of its own, and log it;
 * *id is the new plan's. Only the ids, sizes and seq numbers of the moves
 * are read, not their strings.
 */
int state_plan_store(struct state *, const char *strategy,
    const char *params, const char *summary,
    const struct state_plan_move *, size_t n, int64_t *id, char **cause);
/*
 * Fill p with plan id (free it with state_plan_free). An unknown id is an
 * error naming it; p is zeroed on failure.
 */
int state_plan_get(struct state *, int64_t id, struct state_plan *p,
    char **cause);
/*
 * The moves of plan id in order, strings filled, in a new array *out of
 * *n (NULL and 0 when it has none); free it with state_plan_moves_free.
 */
int state_plan_moves(struct state *, int64_t id, struct state_plan_move **out,
    size_t *n, char **cause);
void state_plan_moves_free(struct state_plan_move *, size_t n);
/*
 * Call cb for every plan, newest first, until cb returns nonzero. The plan
 * is freed after the call.
 */
int state_plan_list(struct state *,
    int (*cb)(const struct state_plan *, void *), void *arg, char **cause);
/* Free the strings of p and zero it. */
void state_plan_free(struct state_plan *p);
/*
 * Queue every move of a proposed plan in one transaction of its own, in
 * plan order, each waiting for the move its after_seq names, and mark the
 * plan applied. target_paths[i] is the account path on the target for
 * move i. drain (may be NULL) names a slice to set draining. Refused,
 * with nothing queued, for a plan that is not proposed, or when the fleet
 * changed so that the plan no longer fits: an account no longer active on
 * its slice, or already moving; a target that no longer receives or lacks
 * room.
 */
int state_plan_apply(struct state *, int64_t id, char *const *target_paths,
    const char *drain, char **cause);

#endif
