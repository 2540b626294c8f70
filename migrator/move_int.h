/*
 * The inside of a move handle, shared by move.c (the handle and the
 * passes), cutover.c (lock to switch) and retire.c (rename aside, settle
 * check, archive, purge). Nothing outside these three includes it.
 */
#ifndef MAILSHIFT_MIGRATOR_MOVE_INT_H
#define MAILSHIFT_MIGRATOR_MOVE_INT_H

#include "migrator/move.h"
#include "migrator/sync.h"
#include "migrator/throttle.h"
#include "state/state.h"
#include "state/move.h"

#include <stdint.h>

#define RETIRED_DIR	".mailshift-retired"

struct sync;

/* Where a handle is between its steps. */
enum move_phase {
	PHASE_START,		/* nothing opened yet */
	PHASE_RUN,		/* following the catalog's state */
	PHASE_LOCKED,		/* this handle holds the cutover lock */
	PHASE_END,		/* a step returned done or failed */
};

struct move {
	struct state		*st;
	struct move_opts	 o;
	const struct config	*cfg;
	struct state_move	 m;		/* as the catalog has it */
	struct move_result	 res;
	struct throttle		 thr;
	struct move_progress	 prog;
	struct sync		*sync;		/* made by the first pass */
	enum move_phase		 phase;
	enum move_step		 end;		/* what PHASE_END returns */
	double			 pass_start;	/* monotonic */
	double			 wake;		/* see move_wake_at */
	int64_t			 lock_t0;	/* ms since the epoch */
	int			 sroot, droot, src, dst;
	int			 created;	/* target made by this handle */
	int			 allow;		/* move_allow_cutover */
	int			 listed;	/* a pass of this handle ran */
	struct sync_stats	 carry;		/* a split pass's changes so far */
	char			*marks;		/* settle marks of this cutover */
	volatile int		 stop;		/* move_stop */
	volatile uint64_t	 limits[2];	/* move_set_limits */
};

/* Test hook: MAILSHIFT_CRASH_AT=point[:n] kills the process there. */
void move_crash_point(const char *point, uint64_t n);
/* Milliseconds since the epoch. */
int64_t move_now_ms(void);
/* Reload the move from the catalog: 0, or -1 with a cause. */
int move_reload(struct move *, char **cause);
/* End the move as failed with why: always -1, with the cause set. */
int move_give_up(struct move *, const char *why, char **cause);

/* cutover.c: take the lock (ready -> cutover) and start the grace.
 * 0, or -1 with a cause (the move stays ready). */
int cutover_lock(struct move *, char **cause);
/* cutover.c: after the grace, everything up to and after the switch.
 * 0 with the move done, or -1 with a cause and the account unlocked. */
int cutover_finish(struct move *, char **cause);
/* cutover.c: give the lock back (a stop, a close under the lock).
 * why is recorded. 0, or -1 with a cause. */
int cutover_abandon(struct move *, const char *why, char **cause);

/* retire.c: one step of the retirement of a done move. Returns
 * MOVE_STEP_MORE after a piece of it, MOVE_STEP_DONE when nothing is left
 * for now (res.settle_pending says the check is not due yet), or
 * MOVE_STEP_FAILED with a cause. */
enum move_step retire_step(struct move *, char **cause);
/* retire.c: right after the switch, the names the target holds (for the
 * settle check), written beside where the source will be retired. */
void retire_snapshot(struct move *);
/* retire.c: the directory holding the source mailbox; *base is its last
 * component, in *dir (free it). An fd, or -1 with a cause. */
int retire_source_parent(struct move *, char **dir, char **base,
    char **cause);

/* retire.c: is name in dir the placeholder a move (id, or any move for
 * 0) left at the old path of its source? 1 or 0. */
int retire_placeholder_is(int dir, const char *name, int64_t id);
/* retire.c: remove the placeholder at path below root (of move id, or
 * of any move for 0): 1 when one was removed. */
int retire_placeholder_clear(int root, const char *path, int64_t id);

#endif
