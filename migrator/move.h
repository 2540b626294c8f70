/*
 * One move of an account from its slice to another, the whole lifecycle of
 * DESIGN.md section 3: bulk copy, delta passes, cutover under a catalog
 * lock, verification, the switch in one catalog transaction, and
 * retirement of the source.
 *
 * A move is driven in steps, the way sqlite3_backup_step drives a long
 * copy: move_open() claims the move and makes a handle, each move_step()
 * does a bounded piece of work (at most one pass, or one phase of the
 * cutover or of the retirement) and says what comes next, move_close()
 * releases it. The handle never sleeps and never asks anybody: whether a
 * ready move may cut over (holds, time windows, presence), when the next
 * step runs, at which rates, and when to stop are the caller's (the
 * daemon's scheduler, or move_run() for a move in the foreground).
 *
 * Every step is recorded in the catalog, so a move interrupted at any
 * point (kill -9 included) is resumed by opening it again: copying and
 * syncing continue from what the target holds, a cutover that did not
 * commit is unlocked and retried, one that committed is finished. The
 * source mailbox is only read until the catalog says the target owns the
 * account; then it is renamed aside (and optionally archived).
 */
#ifndef MAILSHIFT_MIGRATOR_MOVE_H
#define MAILSHIFT_MIGRATOR_MOVE_H

#include <stdint.h>

#include "state/state.h"
#include "state/move.h"

struct layout;
struct config;

/* Where a running move is, for progress displays. */
struct move_progress {
	const char	*phase;		/* "copying", "syncing", "cutover" */
	int		 pass;
	uint64_t	 bytes_done;	/* copied in this pass */
	uint64_t	 files_done;
	uint64_t	 bytes_total;	/* of the whole mailbox */
	uint64_t	 files_total;
	double		 seconds;	/* since the pass began */
};

/* How a move is run; copied by move_open. */
struct move_opts {
	const struct config *config;	/* [move], [hooks], [retention] */
	uint64_t	 bytes_per_second;	/* 0 = from the config */
	uint64_t	 files_per_second;
	int		 verify_content;	/* or from the config */
	int		 workers;	/* copy threads, 0 = one per CPU (<= 4) */
	/* Called now and then during a pass (on the stepping thread). */
	void		(*progress)(void *, const struct move_progress *);
	void		*arg;
	/* Per-file latency, for the daemon's health watch: slice id, 0 for
	 * reading the source, 1 for writing the target, seconds. Called
	 * from copy threads. */
	void		(*latency)(void *, int64_t slice, int side, double);
	void		*latency_arg;
};

/* What a handle did, for the caller to print or log. */
struct move_result {
	int64_t		 id;
	enum move_state	 state;		/* the move's state in the catalog */
	uint64_t	 bytes;		/* of the mailbox */
	uint64_t	 files;
	uint64_t	 files_copied;	/* by this handle, all passes */
	uint64_t	 bytes_copied;
	int		 passes;	/* by this handle */
	double		 copy_seconds;	/* copy and delta passes */
	int64_t		 lock_ms;	/* -1 when no cutover committed */
	int64_t		 quiet_ms;	/* of it, the quiet wait */
	double		 throttle_wait;	/* seconds slept by the throttle */
	char		 retired[4096];	/* where the source went */
	int		 stopped;	/* ended early on request */
	int		 settle_pending; /* done; the settle check is not due */
	int64_t		 settle_due;	/* then: when it is (Unix seconds) */
	int		 settled;	/* the settle check ran */
	uint64_t	 carried;	/* late messages it carried */
	int		 archived;	/* the retired source was archived */
	int		 abandoned;	/* a cutover gave its lock back: the
					   move is open again (see attempts) */
	uint64_t	 files_arrived;	/* messages the delta passes found */
	uint64_t	 bytes_arrived;	/* new after the bulk copy, this handle */
	uint64_t	 added_files;	/* after the switch: what arrived in */
	uint64_t	 added_bytes;	/* the new home in ACTIVITY_DAYS */
};

/* What move_step says comes next. */
enum move_step {
	MOVE_STEP_MORE,		/* step again, not before move_wake_at() */
	MOVE_STEP_READY,	/* at ready: step again for another small
				   delta pass, or move_allow_cutover() first */
	MOVE_STEP_DONE,		/* nothing left to do now (done; or its
				   settle check falls due at settle_due) */
	MOVE_STEP_FAILED,	/* see *cause; the catalog says what became
				   of the move (failed, or open to retry) */
};

/*
 * Queue a move of user to slice target. Refused before anything is copied
 * when the account or slice is wrong (see state_move_create), when the
 * target filesystem lacks room, when the source is not a Maildir, or when
 * the target directory exists and is not a copy left by an earlier move
 * of this account. The rates of opts (NULL: none) go with the move: the
 * daemon runs it no faster.
 */
int move_queue(struct state *, const struct layout *, const char *user,
    const char *target, int hold, int64_t complete_after,
    const struct move_opts *rates, int64_t *id, char **cause);

/*
 * Claim move id for this process and make a handle for it. Returns NULL
 * with a cause when the move is unknown or owned by another live process.
 * Nothing is opened on disk yet: the first step does that.
 */
struct move *move_open(struct state *, int64_t id, const struct move_opts *,
    char **cause);

/*
 * Do a bounded piece of work: at ready, a small delta pass (the first
 * step at ready after move_open a full one) or, once allowed, the lock;
 * otherwise one pass, which with budget > 0 ends after the folder in which
 * it copied its budget-th file (the next step carries on); or one phase
 * of the cutover (the lock, then after the grace the rest up to the
 * switch) or of the retirement (rename aside, settle check, archive).
 * Never sleeps: a step that can only be useful later says so through
 * move_wake_at(). After MOVE_STEP_DONE or MOVE_STEP_FAILED further steps
 * return the same.
 */
enum move_step move_step(struct move *, uint64_t budget, char **cause);

/* The next step of this ready move cuts over. */
void move_allow_cutover(struct move *);

/*
 * Stop at the next safe point: a pass ends between files, and a step
 * under the lock unlocks the account. Safe from any thread and from a
 * signal handler's flag check; the move stays resumable.
 */
void move_stop(struct move *);

/* Rates from now on (bytes/s, files/s; 0 = unlimited). Safe from any
 * thread; a pass follows them from its next file. */
void move_set_limits(struct move *, uint64_t bytes_per_second,
    uint64_t files_per_second);

/* CLOCK_MONOTONIC seconds before which the next step has nothing to do
 * (the lock grace), or 0. */
double move_wake_at(const struct move *);

/* The move as the catalog had it after the last step. */
const struct state_move *move_info(const struct move *);

/* What the handle did so far. */
const struct move_result *move_result(const struct move *);

/* Release the move (unlocking it if a step left it locked) and free the
 * handle. */
void move_close(struct move *);

/* How move_run drives a move in the foreground. */
struct move_drive {
	const volatile int *stop;	/* set (by a signal): stop safely */
	int		 settle_wait;	/* wait out [move] settle and run the
					   settle check; else leave it due */
};

/*
 * Run (or resume) move id in the foreground, step by step, to its end:
 * done (with the settle check run or pending), or held in ready (hold; a
 * complete-after time is waited for, with a small delta pass a minute).
 * Returns 0, or -1 with a cause; res says what became of the move.
 */
int move_run(struct state *, int64_t id, const struct move_opts *,
    const struct move_drive *, struct move_result *res, char **cause);

/*
 * Delete retired sources whose retention period is over (all of them
 * when older_than is 0). Returns 0 with the number purged, or -1.
 */
int move_purge(struct state *, int64_t older_than, uint64_t *purged,
    char **cause);

#endif
