/*
 * Moves of one account from its slice to another (state/move.c): queueing,
 * guarded transitions, the cutover lock and the switch, and what happens
 * to the source afterwards. Conventions (return values, *cause): see
 * state/state.h.
 *
 * At most one open move per account (the catalog enforces it).
 * Transitions are guarded: a change from a state the move is no longer in
 * fails, so two processes cannot both drive one move.
 */
#ifndef MAILSHIFT_STATE_MOVE_H
#define MAILSHIFT_STATE_MOVE_H

#include <stdint.h>

#include "state/state.h"

/*
 * The lifecycle of a move (DESIGN.md section 3):
 *   queued -> copying -> syncing -> ready -> cutover -> done
 * and failed / cancelled from any open state. Code uses the enum; the
 * names are only the catalog's (and what users read and type).
 */
enum move_state {
	MOVE_QUEUED,
	MOVE_COPYING,
	MOVE_SYNCING,
	MOVE_READY,
	MOVE_CUTOVER,
	MOVE_DONE,
	MOVE_FAILED,
	MOVE_CANCELLED,
};
#define MOVE_NSTATES	8
/* The catalog's name of a state ("queued" ...), "unknown" for a value that
 * is none. */
const char *state_move_state_name(enum move_state);
/* The state named s: 0 and *out set, or -1 (*out untouched) for a name
 * that is none, NULL included. */
int state_move_state_parse(const char *s, enum move_state *out);
/* 1 when a move in this state is still open (queued to cutover), else 0. */
int state_move_state_open(enum move_state);

/* A move as the catalog has it, with the names and paths of its slices. */
struct state_move {
	int64_t	 id;
	int64_t	 account_id;
	char	*user;
	int64_t	 source_slice;
	char	*source;		/* source slice name */
	char	*source_root;		/* source slice path */
	char	*source_path;		/* account path below source_root */
	int64_t	 target_slice;
	char	*target;		/* target slice name */
	char	*target_root;		/* target slice path */
	char	*target_path;		/* account path below target_root */
	enum move_state state;
	int	 hold;			/* no cutover until released */
	int	 paused;		/* 1 paused, 2 cancel requested */
	int64_t	 priority;		/* higher runs first */
	int64_t	 complete_after;	/* no cutover before (Unix seconds),
					   0 = any time */
	uint64_t bytes_total;		/* of the mailbox, as last measured */
	uint64_t files_total;
	uint64_t bytes_done;		/* progress as of the last pass */
	uint64_t files_done;
	int64_t	 passes;		/* copy and delta passes so far */
	int64_t	 attempts;		/* cutovers abandoned, retries queued */
	int64_t	 lock_ms;		/* -1 until a cutover committed */
	int64_t	 lock_started;		/* ms since the epoch, 0 = not locked */
	int64_t	 copy_ms;		/* time spent in passes */
	int64_t	 owner_pid;		/* process running it, 0 = none */
	char	*error;			/* last error, or NULL */
	char	*retired_path;		/* where the source went, or NULL */
	int64_t	 retired_at;		/* Unix seconds, 0 = not yet */
	int64_t	 purged_at;		/* retired source deleted, 0 = not */
	int64_t	 created;		/* Unix seconds */
	int64_t	 updated;
	int64_t	 started;		/* first transition, 0 = not yet */
	int64_t	 finished;		/* done, failed or cancelled, 0 = not */
	int64_t	 after_move;		/* waits for this move, 0 = none */
	int64_t	 last_change;		/* when a pass last saw the user's
					   mailbox change, 0 = never */
	int64_t	 plan_id;		/* 0 = not from a plan */
	char	*settle_marks;		/* source directory mtimes taken under
					   the lock, "rel\tsec.nsec" lines;
					   after the settle check, those of
					   the retired tree then */
	int64_t	 settled_at;		/* retired source looked at again */
	uint64_t bytes_per_second;	/* the move's own rates (the daemon */
	uint64_t files_per_second;	/* caps its own by them), 0 = none */
};

/* The largest rates a move may carry (state_move_create refuses more). */
#define STATE_MOVE_MAX_BYTES_PER_SECOND	(1ULL << 50)	/* 1P */
#define STATE_MOVE_MAX_FILES_PER_SECOND	1000000000ULL

/* What state_move_create queues. */
struct state_move_request {
	const char	*user;
	const char	*target;	/* slice name */
	const char	*target_path;	/* account path on the target */
	int		 hold;		/* no cutover until released */
	int64_t		 complete_after; /* no cutover before, 0 = any time */
	int64_t		 priority;	/* higher runs first */
	uint64_t	 bytes_per_second; /* its own rates, 0 = none */
	uint64_t	 files_per_second;
};

/*
 * Queue a move, in a transaction of its own, and log it; *id is the new
 * move's. Refused when the account is unknown, not active or already
 * moving, when the target is unknown, the account's slice, not active, or
 * lacks room in the catalog (capacity minus what it holds and what is on
 * its way in), when target_path on the target belongs to another
 * account, or when a rate is above its STATE_MOVE_MAX_*.
 */
int state_move_create(struct state *, const struct state_move_request *,
    int64_t *id, char **cause);
/*
 * Fill m with move id (free it with state_move_free). An unknown id is an
 * error naming it. m is zeroed on failure.
 */
int state_move_get(struct state *, int64_t id, struct state_move *m,
    char **cause);
/* The open move of a user: 0 and m filled, 1 when there is none, -1. */
int state_move_find_open(struct state *, const char *user,
    struct state_move *m, char **cause);
/* The newest move of a user in any state: 0 and m filled, 1 when none,
 * -1. */
int state_move_find_last(struct state *, const char *user,
    struct state_move *m, char **cause);
/*
 * The newest move of user that had path on slice slice_id as its target
 * or its source: what the directory there last was to mailshift. 0 and m
 * filled, 1 when there is none, -1.
 */
int state_move_find_last_at(struct state *, const char *user,
    int64_t slice_id, const char *path, struct state_move *m, char **cause);
/*
 * Call cb for every move, newest first, in one state (an enum move_state)
 * or, with state < 0, all, until cb returns nonzero. The move is freed
 * after the call.
 */
int state_move_list(struct state *, int state,
    int (*cb)(const struct state_move *, void *), void *arg, char **cause);
/* Free the strings of m and zero it. */
void state_move_free(struct state_move *m);
/*
 * Take ownership of a move for process pid, in a transaction of its own.
 * Refused while another process that still runs on this host owns it (the
 * same pid with the same boot and start time); a dead owner's move is
 * taken over.
 */
int state_move_claim(struct state *, int64_t id, int64_t pid, char **cause);
/* Give up ownership of a move; errors are ignored. */
void state_move_release(struct state *, int64_t id);
/*
 * Change state from one open state to another (guarded: refused when the
 * move is not in from any more, e.g. paused or cancelled meanwhile).
 * Records when the move started, the first time.
 */
int state_move_set_state(struct state *, int64_t id, enum move_state from,
    enum move_state to, char **cause);
/* Record that a pass saw the mailbox change at when (the user is active);
 * last_change only moves forward. */
int state_move_changed(struct state *, int64_t id, int64_t when,
    char **cause);
/* Record progress after a pass. */
int state_move_progress(struct state *, int64_t id, uint64_t bytes_done,
    uint64_t files_done, uint64_t bytes_total, uint64_t files_total,
    int64_t passes, int64_t copy_ms, char **cause);
/*
 * ready -> cutover and lock the account, in a transaction of its own,
 * until until (Unix seconds): past it the route no longer says locked and
 * the switch is refused, so a run that hangs or dies cannot keep the
 * account locked. Refused when the move is not ready, the account not
 * active on the move's source, or the target slice no longer active.
 */
int state_move_lock(struct state *, int64_t id, int64_t now_ms,
    int64_t until, char **cause);
/*
 * cutover -> syncing and unlock the account, in a transaction of its own,
 * recording why (as the move's error) and counting an attempt. Refused
 * when the move is not in cutover.
 */
int state_move_unlock(struct state *, int64_t id, const char *why,
    char **cause);
/*
 * The switch, in a transaction of its own: point the account at the
 * target, bump its generation, unlock it, and mark the move done with its
 * lock time and the source's directory marks for the settle check (may be
 * NULL); a pause or cancel asked for meanwhile is dropped. Refused when
 * the move is not in cutover or the lock has expired.
 */
int state_move_commit(struct state *, int64_t id, int64_t lock_ms,
    const char *settle_marks, char **cause);
/*
 * Any open state -> to, MOVE_FAILED or MOVE_CANCELLED (any other is
 * refused), in a transaction of its own, unlocking the account if the
 * move was in cutover. why (may be NULL: the last error stays) becomes
 * the move's error. Refused when the move is not open.
 */
int state_move_fail(struct state *, int64_t id, enum move_state to,
    const char *why, char **cause);
/* Record where the source went after cutover, in a transaction of its
 * own. Refused when the move is not done. */
int state_move_retired(struct state *, int64_t id, const char *path,
    int64_t when, char **cause);
/*
 * The retired source was looked at once more after the settle delay, in a
 * transaction of its own: marks are its directory times then (for purge),
 * summary goes to the move's events. Refused when the move is not done.
 */
int state_move_settled(struct state *, int64_t id, int64_t when,
    const char *marks, const char *summary, char **cause);
/* The retired source was deleted at when, in a transaction of its own.
 * Refused when the move has no retired source. */
int state_move_purged(struct state *, int64_t id, int64_t when,
    char **cause);
/*
 * Hold a move before its cutover, or release it (also clearing any
 * complete-after time), in a transaction of its own. Refused when the
 * move is not open.
 */
int state_move_set_hold(struct state *, int64_t id, int hold, char **cause);
/*
 * Append to the event log for move m (inside the caller's transaction, if
 * any). Best effort: 0, or -1 when the row could not be written.
 */
int state_move_event(struct state *, const struct state_move *m,
    const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/*
 * Call cb for every event of move id, oldest first, until cb returns
 * nonzero. The strings are valid only during the call.
 */
int state_move_events(struct state *, int64_t id,
    int (*cb)(int64_t ts, const char *kind, const char *msg, void *),
    void *arg, char **cause);

#endif
