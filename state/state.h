/*
 * The catalog: servers, pairs, slices, accounts, moves, plans, usage
 * snapshots and the event log, in one SQLite file in WAL mode.
 *
 * This is the only module that speaks SQL, and every statement binds its
 * parameters. Functions return 0 on success or -1 with a heap string in
 * *cause that names what was wrong and what to do; the caller frees it.
 *
 * On-disk format
 *
 *   PRAGMA application_id   0x4d534846 ("MSHF"): marks a mailshift catalog
 *   PRAGMA user_version     schema version, upgraded forward on open
 *
 *   version  adds
 *   1        servers, pairs, slices, accounts, view route
 *   2        moves, plans, snapshots, events
 *   3        moves: owner, lock start, copy time, retirement
 *   4        plan_moves; moves.after_move (a move that waits for another)
 *   5        daemon (its pid, start, heartbeat and totals, for status)
 *   6        accounts.locked_until (a lock expires by itself), route view
 *            honours it; moves.owner_start (the owner's boot and start)
 *   7        accounts.online (presence); moves.last_change (activity
 *            the passes saw)
 */
#ifndef MAILSHIFT_STATE_H
#define MAILSHIFT_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_APPLICATION_ID 0x4d534846
#define STATE_SCHEMA_VERSION 8

struct state;

/*
 * Open the catalog at path. With create, a missing or empty file becomes a
 * new catalog (its directory must exist). A file that is not a mailshift
 * catalog, or one from a newer mailshift, is refused and left untouched; an
 * older one is upgraded in one transaction.
 */
struct state *state_open(const char *path, int create, char **cause);
void state_close(struct state *);
/* The schema version found in the file before it was upgraded. */
int state_version_found(const struct state *);
/* Test hook: migrate a new file only up to version (must be <= current). */
struct state *state_open_version(const char *path, int version, char **cause);
/* The catalog file's path. */
const char *state_path(const struct state *);

int state_begin(struct state *, char **cause);
int state_commit(struct state *, char **cause);
void state_rollback(struct state *);

/* Append to the event log (best effort inside the caller's transaction). */
int state_event(struct state *, const char *kind, const char *user,
    const char *slice, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Servers. */
struct state_server {
	int64_t	 id;
	char	*name;
	char	*address;
	char	*pair;			/* pair it belongs to, or NULL */
	int64_t	 created;
};
int state_server_add(struct state *, const char *name, const char *address,
    char **cause);
int state_server_list(struct state *,
    int (*)(const struct state_server *, void *), void *, char **cause);

/* Pairs of servers that replicate each other. */
struct state_pair {
	int64_t	 id;
	char	*name;
	char	*server_a;
	char	*server_b;
	int64_t	 slices;		/* slices served by this pair */
	int64_t	 created;
};
int state_pair_add(struct state *, const char *name, const char *a,
    const char *b, char **cause);
int state_pair_list(struct state *, int (*)(const struct state_pair *, void *),
    void *, char **cause);

/* Slice states, in the order the CHECK constraint lists them. */
extern const char *const state_slice_states[];
int state_slice_state_valid(const char *);

/* Slices: filesystems served by one server of a pair. */
struct state_slice {
	int64_t	 id;
	char	*name;
	char	*pair;
	char	*server;
	char	*address;		/* of the serving server */
	char	*path;			/* root on this host */
	char	*state;
	uint64_t capacity;		/* bytes */
	uint64_t used;			/* sum of its accounts' bytes */
	uint64_t files;			/* sum of its accounts' files */
	int64_t	 accounts;
	int64_t	 created;
	int64_t	 scanned;		/* last discover, 0 = never */
};
/* Add a slice; path must already be checked and absolute. */
int state_slice_add(struct state *, const char *name, const char *pair,
    const char *server, const char *path, uint64_t capacity, char **cause);
int state_slice_get(struct state *, const char *name, struct state_slice *,
    char **cause);
/* Take back a slice just added (no accounts, no moves): a failed add. */
int state_slice_forget(struct state *, const char *name, char **cause);
int state_slice_list(struct state *,
    int (*)(const struct state_slice *, void *), void *, char **cause);
int state_slice_set_state(struct state *, const char *name, const char *st,
    char **cause);
int state_slice_set_capacity(struct state *, const char *name, uint64_t,
    char **cause);
int state_slice_scanned(struct state *, int64_t slice_id, int64_t when,
    char **cause);
void state_slice_free(struct state_slice *);

/* Accounts: one mailbox each. */
struct state_account {
	int64_t	 id;
	char	*user;
	char	*slice;
	int64_t	 slice_id;
	char	*path;			/* relative to the slice root */
	char	*state;			/* active, locked, missing */
	char	*size_source;		/* maildirsize, counted, import */
	uint64_t bytes;
	uint64_t files;
	int64_t	 last_activity;
	int64_t	 generation;
	int	 pinned;
	int	 online;		/* pushed by an access server */
	int64_t	 created;
	int64_t	 updated;
};
/* Returns 0 and fills a, 1 when there is no such account, -1 on error. */
int state_account_find(struct state *, const char *user,
    struct state_account *, char **cause);
/* Like find, but a missing account is an error naming the user. */
int state_account_get(struct state *, const char *user,
    struct state_account *, char **cause);
/* List accounts, all or those of one slice (slice_id 0 = all). */
int state_account_list(struct state *, int64_t slice_id,
    int (*)(const struct state_account *, void *), void *, char **cause);
void state_account_free(struct state_account *);
/* Insert a new account found by discover. */
int state_account_insert(struct state *, const char *user, int64_t slice_id,
    const char *path, uint64_t bytes, uint64_t files, int64_t last_activity,
    const char *size_source, char **cause);
/* Refresh sizes and activity of an account (and make it active again). */
int state_account_update_usage(struct state *, int64_t id, uint64_t bytes,
    uint64_t files, int64_t last_activity, const char *size_source,
    char **cause);
/* Record what an access server says: online, or offline from now on. */
int state_account_set_presence(struct state *, const char *user, int online,
    char **cause);
/* Pin an account (plans never move it) or unpin it. */
int state_account_set_pinned(struct state *, const char *user, int pinned,
    char **cause);
/* The owner of the mailbox on disk: the uid and gid access servers use
 * (the access view gives them to Dovecot's userdb). */
int state_account_set_owner(struct state *, const char *user, int64_t uid,
    int64_t gid, char **cause);
/* Mark an account missing (not found where the catalog says it is). */
int state_account_set_missing(struct state *, int64_t id, char **cause);
/* Target slice of the account's unfinished move, or 0 when none. */
int state_account_moving_to(struct state *, int64_t account_id,
    int64_t *slice_id, char **cause);

/* What an access server is told about a user. */
struct state_route {
	char	*user;
	char	*server;
	char	*host;
	char	*home;			/* slice path + account path */
	char	*slice;
	int	 locked;
	int64_t	 generation;
};
int state_route_get(struct state *, const char *user, struct state_route *,
    char **cause);
void state_route_free(struct state_route *);

/* Usage snapshot of one slice, from its accounts as the catalog has them. */
int state_snapshot_take(struct state *, int64_t slice_id, int64_t when,
    char **cause);

/*
 * Bulk import of placements, all or nothing: begin, one row per input line,
 * finish. finish checks the whole set (duplicates, accounts already placed
 * elsewhere unless replace) and commits; any failure rolls back everything.
 */
struct state_import;
struct state_import_stats {
	int64_t	 rows;
	int64_t	 added;
	int64_t	 updated;
	int64_t	 unchanged;
};
struct state_import *state_import_begin(struct state *, int replace,
    char **cause);
/* Stage one row; slice is a name, path already checked. */
int state_import_row(struct state_import *, int64_t line, const char *user,
    const char *slice, const char *path, uint64_t bytes, uint64_t files,
    char **cause);
int state_import_finish(struct state_import *, struct state_import_stats *,
    char **cause);
/* Abandon an import: nothing is kept. */
void state_import_abort(struct state_import *);

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
/* The catalog's name of a state ("queued" ...). */
const char *state_move_state_name(enum move_state);
/* The state named s: 0 and *out set, or -1 for a name that is none. */
int state_move_state_parse(const char *s, enum move_state *out);
/* Is a move in this state still open (queued to cutover)? */
int state_move_state_open(enum move_state);

/*
 * Moves of one account from its slice to another, in the states above. At most one open move per
 * account (the catalog enforces it). Transitions are guarded: a change
 * from a state the move is no longer in fails.
 */
struct state_move {
	int64_t	 id;
	int64_t	 account_id;
	char	*user;
	int64_t	 source_slice;
	char	*source;		/* source slice name */
	char	*source_root;		/* source slice path */
	char	*source_path;		/* account path below source_root */
	int64_t	 target_slice;
	char	*target;
	char	*target_root;
	char	*target_path;
	enum move_state state;
	int	 hold;
	int	 paused;
	int64_t	 priority;
	int64_t	 complete_after;
	uint64_t bytes_total;
	uint64_t files_total;
	uint64_t bytes_done;
	uint64_t files_done;
	int64_t	 passes;
	int64_t	 attempts;
	int64_t	 lock_ms;		/* -1 until a cutover committed */
	int64_t	 lock_started;		/* ms since the epoch, 0 = not locked */
	int64_t	 copy_ms;
	int64_t	 owner_pid;
	char	*error;			/* last error, or NULL */
	char	*retired_path;
	int64_t	 retired_at;
	int64_t	 purged_at;
	int64_t	 created;
	int64_t	 updated;
	int64_t	 started;
	int64_t	 finished;
	int64_t	 after_move;		/* waits for this move, 0 = none */
	int64_t	 last_change;		/* when a pass last saw the user's
					   mailbox change, 0 = never */
	int64_t	 plan_id;		/* 0 = not from a plan */
	char	*settle_marks;		/* source directory mtimes taken under
					   the lock, "rel\tsec.nsec" lines;
					   after the settle check, those of
					   the retired tree then */
	int64_t	 settled_at;		/* retired source looked at again */
};

struct state_move_request {
	const char	*user;
	const char	*target;	/* slice name */
	const char	*target_path;	/* account path on the target */
	int		 hold;
	int64_t		 complete_after;
	int64_t		 priority;
};

/*
 * Queue a move. Refused when the account is unknown, not active or already
 * moving, when the target is the account's slice, not active, or lacks
 * room in the catalog (capacity minus what it holds and what is on its
 * way in), or when target_path on the target belongs to another account.
 */
int state_move_create(struct state *, const struct state_move_request *,
    int64_t *id, char **cause);
int state_move_get(struct state *, int64_t id, struct state_move *,
    char **cause);
/* The open move of a user: 0 and filled, 1 when there is none, -1. */
int state_move_find_open(struct state *, const char *user,
    struct state_move *, char **cause);
/* The newest move of a user in any state: 0, 1 when none, -1. */
int state_move_find_last(struct state *, const char *user,
    struct state_move *, char **cause);
/* List moves, newest first, in one state or (state < 0) all. */
int state_move_list(struct state *, int state,
    int (*)(const struct state_move *, void *), void *, char **cause);
void state_move_free(struct state_move *);
/*
 * Take ownership of a move for process pid. Refused while another live
 * process on this host owns it.
 */
int state_move_claim(struct state *, int64_t id, int64_t pid, char **cause);
void state_move_release(struct state *, int64_t id);
/* Change state from one open state to another (guarded). */
int state_move_set_state(struct state *, int64_t id, enum move_state from,
    enum move_state to, char **cause);
/* Record that a pass saw the mailbox change (the user is active). */
int state_move_changed(struct state *, int64_t id, int64_t when,
    char **cause);
/* Record progress after a pass. */
int state_move_progress(struct state *, int64_t id, uint64_t bytes_done,
    uint64_t files_done, uint64_t bytes_total, uint64_t files_total,
    int64_t passes, int64_t copy_ms, char **cause);
/*
 * ready -> cutover and lock the account, in one transaction, until
 * until (Unix seconds): past it the route no longer says locked and the
 * switch is refused, so a run that hangs or dies cannot keep the account
 * locked.
 */
int state_move_lock(struct state *, int64_t id, int64_t now_ms,
    int64_t until, char **cause);
/* cutover -> syncing and unlock the account, recording why. */
int state_move_unlock(struct state *, int64_t id, const char *why,
    char **cause);
/*
 * The switch, in one transaction: point the account at the target, bump
 * its generation, unlock it, and mark the move done with its lock time
 * and the source's directory marks for the settle check (may be NULL).
 * Refused when the lock has expired.
 */
int state_move_commit(struct state *, int64_t id, int64_t lock_ms,
    const char *settle_marks, char **cause);
/* Any open state -> MOVE_FAILED or MOVE_CANCELLED (any other is refused),
 * unlocking the account. */
int state_move_fail(struct state *, int64_t id, enum move_state to,
    const char *why, char **cause);
/* Record where the source went after cutover. */
int state_move_retired(struct state *, int64_t id, const char *path,
    int64_t when, char **cause);
/* The retired source was looked at once more after the settle delay;
 * marks are its directory times then (for purge), summary goes to the
 * move's events. */
int state_move_settled(struct state *, int64_t id, int64_t when,
    const char *marks, const char *summary, char **cause);
int state_move_purged(struct state *, int64_t id, int64_t when,
    char **cause);
/* Hold a move before its cutover, or release it (also clearing any
 * complete-after time). */
int state_move_set_hold(struct state *, int64_t id, int hold, char **cause);
/* Append to the event log for a move. */
int state_move_event(struct state *, const struct state_move *,
    const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Events of a move, oldest first. */
int state_move_events(struct state *, int64_t id,
    int (*)(int64_t ts, const char *kind, const char *msg, void *), void *,
    char **cause);

/*
 * The fleet as the planner needs it, without strings: every account with
 * its slice id, size, activity and pinned flag, in id order.
 */
int state_fleet_accounts(struct state *,
    void (*)(int64_t id, int64_t slice_id, uint64_t bytes, uint64_t files,
    int64_t last_activity, int pinned, void *), void *, char **cause);
/* Bytes of open moves into and out of a slice, and open moves' accounts. */
int state_fleet_pending(struct state *, int64_t slice_id, uint64_t *in,
    uint64_t *out, char **cause);
int state_fleet_moving(struct state *,
    void (*)(int64_t account_id, void *), void *, char **cause);

/* Plans: a proposed set of moves, stored so that it can be applied. */
struct state_plan_move {
	int64_t	 seq;			/* 1, 2, ... in plan order */
	int64_t	 account_id;
	char	*user;
	int64_t	 from_slice;
	char	*from;
	int64_t	 to_slice;
	char	*to;
	uint64_t bytes;
	uint64_t files;
	int64_t	 after_seq;		/* 0 = none */
};
struct state_plan {
	int64_t	 id;
	int64_t	 created;
	char	*strategy;
	char	*params;		/* JSON */
	char	*summary;		/* JSON */
	char	*state;			/* proposed, applied */
	int64_t	 moves;
	uint64_t bytes;
};
/* Store a plan and its moves; *id is the new plan's id. */
int state_plan_store(struct state *, const char *strategy,
    const char *params, const char *summary,
    const struct state_plan_move *, size_t n, int64_t *id, char **cause);
int state_plan_get(struct state *, int64_t id, struct state_plan *,
    char **cause);
/* The moves of a plan in order (strings filled). */
int state_plan_moves(struct state *, int64_t id, struct state_plan_move **,
    size_t *n, char **cause);
void state_plan_moves_free(struct state_plan_move *, size_t n);
int state_plan_list(struct state *,
    int (*)(const struct state_plan *, void *), void *, char **cause);
void state_plan_free(struct state_plan *);
/*
 * Queue every move of a proposed plan in one transaction, in plan order,
 * each waiting for the move its after_seq names. target_paths[i] is the
 * account path on the target for move i. Refused, with nothing queued,
 * when the fleet changed so that the plan no longer fits: an account no
 * longer on its slice, not active, or already moving; a target that no
 * longer receives or lacks room. drain names a slice to set draining.
 */
int state_plan_apply(struct state *, int64_t id, char *const *target_paths,
    const char *drain, char **cause);

/* PRAGMA data_version: changes when another connection commits. */
int64_t state_data_version(struct state *);

/* Moves the daemon may start now, best first (priority, then age). */
struct state_runnable {
	int64_t	 id;
	int64_t	 source_slice;
	int64_t	 target_slice;
	int	 paused;		/* 1 paused, 2 cancel requested */
	int	 hold;
	int64_t	 complete_after;	/* not before (Unix seconds), 0 */
	enum move_state state;
};
/* Open moves due to run, and done moves whose source is not retired yet,
 * whose settle check falls due (retired settle seconds ago), or, with
 * archive, whose retired source is still a tree. */
int state_queue_runnable(struct state *, int64_t now, int64_t settle,
    int archive, int (*)(const struct state_runnable *, void *), void *,
    char **cause);
/* The earliest retry time of an open move after now, 0 when none. */
int64_t state_queue_next_try(struct state *, int64_t now);
/* Pause (1), ask to cancel (2) or resume (0) a move. */
int state_queue_set_paused(struct state *, int64_t id, int paused,
    char **cause);
/* A failed move queued again, to start at next_try. */
int state_queue_retry(struct state *, int64_t id, int64_t next_try,
    char **cause);

/* What the daemon says about itself. */
struct state_daemon {
	int64_t	 pid;
	int64_t	 started;
	int64_t	 heartbeat;
	int64_t	 stopped;		/* 0 while running */
	int64_t	 running;		/* moves in flight */
	uint64_t bytes;			/* copied since start */
	uint64_t files;
	char	*listen;
};
int state_daemon_update(struct state *, const struct state_daemon *,
    char **cause);
/* 0 and filled, 1 when no daemon ever ran, -1 on error. */
int state_daemon_get(struct state *, struct state_daemon *, char **cause);
/*
 * Cutover lock times of done moves in buckets: counts[i] for lock_ms <=
 * bounds[i] (and above the previous bound), counts[n] above the last.
 */
int state_metrics_lock_histogram(struct state *, const int64_t *bounds, int n,
    int64_t *counts, int64_t *sum_ms, char **cause);
/* Count moves by state: counts[MOVE_NSTATES], indexed by enum move_state. */
int state_metrics_move_counts(struct state *, int64_t *counts, char **cause);

#endif
