/*
 * The daemon's queue (state/queue.c): which moves may run now, when the
 * next one falls due, pause and cancel requests, and retries of failed
 * moves. Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_QUEUE_H
#define MAILSHIFT_STATE_QUEUE_H

#include <stdint.h>

#include "state/state.h"
#include "state/move.h"

/* A move the daemon may start now. */
struct state_runnable {
	int64_t	 id;
	int64_t	 source_slice;
	int64_t	 target_slice;
	int	 paused;		/* 1 paused, 2 cancel requested */
	int	 hold;			/* no cutover until released */
	int64_t	 complete_after;	/* not before (Unix seconds), 0 */
	enum move_state state;
};

/*
 * Call cb for every move due at now, best first (priority, then age),
 * until cb returns nonzero: open moves whose retry time has come and that
 * wait for no move, or for one that is done or cancelled; and done moves
 * whose source is not retired yet, whose settle check falls due (retired
 * settle seconds ago), or, with archive, whose retired source is still a
 * tree.
 */
int state_queue_runnable(struct state *, int64_t now, int64_t settle,
    int archive, int (*cb)(const struct state_runnable *, void *), void *arg,
    char **cause);
/* The earliest retry time of an open move after now, 0 when there is none
 * (or on error). */
int64_t state_queue_next_try(struct state *, int64_t now);
/*
 * Pause (1), ask to cancel (2) or resume (0) a move, in a transaction of
 * its own, and log it. Resuming a failed move also queues it again, due
 * now, unless its account has another open move. Refused for another
 * value, or when the move is not open.
 */
int state_queue_set_paused(struct state *, int64_t id, int paused,
    char **cause);
/*
 * Queue a failed move again, to start at next_try, counting an attempt. A
 * move that is not failed, or whose account has another open move, is
 * left as it is, and that is no error.
 */
int state_queue_retry(struct state *, int64_t id, int64_t next_try,
    char **cause);
/*
 * Put off an open move (one whose cutover was abandoned) until next_try;
 * 'moves resume' makes it due at once. A move in cutover or not open is
 * left as it is, and that is no error.
 */
int state_queue_defer(struct state *, int64_t id, int64_t next_try,
    char **cause);

#endif
