/*
 * The daemon's scheduler (private to migrator/): which moves run, on
 * which worker threads, and whether a ready move may cut over.
 *
 * The loop thread calls sched_run about once a second while a ready move
 * waits (every few seconds otherwise, and whenever a worker ends or the
 * catalog changes); it picks runnable moves (state_queue_runnable: by
 * priority, then age, a move waiting for another only once that one is
 * done) within the caps of the configuration (max_moves in flight,
 * per_source and per_target per slice), leaving out moves that are
 * paused, cooling down after a failure, or on a slice paused for its
 * health. Each picked move is driven step by step (move_step) on a worker
 * thread with a catalog connection of its own, which waits out the lock
 * grace and asks sched_gate again after its pass at ready; a failed move
 * is queued again after retry_base, four times longer each time, up to
 * max_retries; a move whose cutover was abandoned stays open but is put
 * off the same way, and fails after max_retries. The retention purge
 * runs on a thread too, one at a time.
 *
 * A move waiting at ready costs nothing while it waits: no worker runs
 * for it and it takes no slot. At every pick the loop judges its gate
 * from the catalog (sched_gate, and a slice paused for its health) and
 * starts a worker only when the gate is open (the cutover, after one
 * unlocked pass: a hold released or a user gone idle is seen within a
 * second), or when ready_pass has gone by since its last delta pass (or
 * it had none since the daemon started) - whatever else changes in the
 * catalog. Why a move waits is logged, and written as a move.waiting
 * event, once, and again only when the reason changes; its periodic pass
 * is logged at debug level. A cutover worker whose own gate after its
 * pass says no is not started again for SCHED_READY_LOOK seconds.
 *
 * sched_pick and sched_gate need neither libevent nor threads: the unit
 * tests call them on a struct sched set up with sched_init.
 */
#ifndef MAILSHIFT_SCHEDULER_H
#define MAILSHIFT_SCHEDULER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "migrator/move.h"

#define SCHED_MAX_WORKERS 16	/* threads running moves, whatever the caps */
#define SCHED_READY_LOOK 5	/* seconds before a ready move whose cutover
				   worker found the gate shut is started
				   again, its gate open to the loop */
/* Files a move's step copies before its worker looks again (the step
 * ends with the folder it is in; see move_step). */
#define SCHED_STEP_BUDGET 2000

struct health;
struct presence;
struct sched;
struct state;
struct state_move;
struct state_runnable;

/* One move running on its own thread with its own catalog connection. */
struct worker {
	struct sched		*s;
	pthread_t		 th;
	int64_t			 id;		/* the move */
	int64_t			 source;	/* its slices */
	int64_t			 target;
	volatile int		 stop;		/* set by the loop: stop now */
	pthread_mutex_t		 mu;		/* mv, limits */
	struct move		*mv;		/* while the thread steps it */
	int			 done;		/* set by the thread, atomic */
	int			 rc;		/* 0, or -1: the move failed */
	char			*cause;		/* and its cause */
	struct move_result	 res;
	struct config		 cfg;		/* the numbers in force */
	volatile uint64_t	 limits[2];	/* window and health rates */
	uint64_t		 own[2];	/* the move's own, 0 = none */
	int			 kind;		/* SCHED_READY_* it started for */
	char			 why[512];	/* the gate's last answer */
	char			 waiting[512];	/* why a ready move waits */
};

/* The retention purge on a thread of its own. */
struct purge_job {
	struct sched		*s;
	pthread_t		 th;
	int64_t			 keep;		/* [retention] keep, seconds */
	int			 done;		/* set by the thread, atomic */
	int			 rc;		/* move_purge's */
	uint64_t		 purged;
	char			*cause;
};

/* Why a worker starts: a move that is not ready, and a ready one's. */
enum {
	SCHED_READY_RUN,	/* not at ready: run it */
	SCHED_READY_WAIT,	/* ready, the gate shut: nothing now */
	SCHED_READY_PASS,	/* ready, the gate shut: its delta pass */
	SCHED_READY_CUTOVER,	/* ready, the gate open: cut over */
};

/* A move id and a time: when a ready move's last delta pass started or
 * ended (0: none since the daemon started), or a failed move's
 * cool-down. */
struct sched_seen {
	int64_t	 id;
	int64_t	 when;
	int64_t	 refused;	/* ready: when its cutover worker found the
				   gate shut, 0 never */
};

struct sched {
	struct state		*st;		/* the loop thread's catalog */
	const char		*db;		/* for the threads' own */
	const struct config	*cfg;		/* the configuration in force */
	struct health		*health;	/* slice latency, or NULL */
	struct presence		*presence;	/* for the cutover gate */
	int			 notify;	/* written when a thread ends,
						   -1 for none */
	uint64_t		 window[2];	/* the window's bytes/s, files/s */
	int			 stopping;	/* no new moves; stop them all */
	struct worker		*w[SCHED_MAX_WORKERS];
	int			 nw;
	struct purge_job	*purge;		/* running, or NULL */
	struct sched_seen	*ready;		/* ready moves looked at */
	size_t			 nready;
	struct sched_seen	*cool;		/* id: not before `when` */
	size_t			 ncool;
	char		       **waits;		/* "id reason" last logged */
	size_t			 nwaits;
	int			 nwaiting;	/* ready moves waiting at the
						   last pick */
	int64_t			 last_run;	/* Unix time of sched_run */
	int64_t			 next_wake;	/* a retry falls due, 0 none */
	uint64_t		 bytes;		/* copied by ended moves */
	uint64_t		 files;
	int64_t			*failing;	/* slices with a failover under
						   way: their moves pause */
	size_t			 nfailing;
};

/* What one pick decided: moves to start, moves to cancel, and why ready
 * moves wait. */
struct sched_pick {
	int64_t	*start;		/* move ids, best first */
	int64_t	*src;		/* their source slices */
	int64_t	*dst;		/* and target slices */
	int	*kind;		/* SCHED_READY_RUN, _PASS or _CUTOVER */
	int	 n;
	int64_t	*cancel;	/* cancel requested by the admin */
	int	 ncancel;
	int64_t	*wait;		/* ready moves whose cutover waits */
	char   **why;		/* and why */
	int	 nwait;
};

/* Set up s; nothing is started. health may be NULL; notify may be -1. */
void sched_init(struct sched *, struct state *, const char *db,
    const struct config *, struct health *, struct presence *, int notify);
/*
 * Free what s keeps, joining threads that have ended; never waits.
 * Refused (-1, nothing freed, each straggler logged) while a worker or
 * the purge still runs: the caller must then leave everything those
 * threads may touch alone (s, its db, health, presence and notify fd).
 * 0 once freed.
 */
int sched_free(struct sched *);

/*
 * Decide, without starting anything, which runnable moves may start at
 * now, and which to cancel; judge the gate of every ready move it comes
 * to (see above). Moves in s->w count as in flight. Records when a ready
 * move is picked. Returns 0 and fills *p (free it with sched_pick_free),
 * or -1 with a cause when the catalog cannot be read.
 */
int sched_pick(struct sched *, int64_t now, struct sched_pick *,
    char **cause);
void sched_pick_free(struct sched_pick *);

/*
 * May the ready move m cut over at now? Refused (0, reason in why) while
 * it is held or before its complete-after time, in a window with
 * cutover = no, or when a presence source in cfg's sources says the user
 * is online or active within cfg's idle. 1 when it may.
 */
int sched_gate(const struct config *, struct presence *, struct state *,
    const struct state_move *, int64_t now, char *why, size_t len);

/* Do not start move id again before until (Unix seconds). */
void sched_cool_down(struct sched *, int64_t id, int64_t until);
/* The delay before retry attempts + 1: retry_base * 4^attempts, capped
 * after it exceeds a day. */
int64_t sched_backoff(const struct config *, int64_t attempts);

/* Pick, cancel and start workers, log why ready moves wait; sets
 * next_wake and nwaiting. Nothing once stopping. */
void sched_run(struct sched *, int64_t now);
/* Join ended workers and the purge; log what became of them, queue
 * retries of failed moves. */
void sched_reap(struct sched *);
/* Stop running moves that the admin paused or cancelled. */
void sched_check_paused(struct sched *);
/* After a health check: rates for every worker from the window and the
 * health of its slices; stop those on a paused slice. */
void sched_apply_health(struct sched *);
/* Start no more moves, ask every running one to stop at a safe point. */
void sched_stop(struct sched *);
/* Workers and purge threads still running. */
int sched_busy(const struct sched *);
/* Start the retention purge on a thread: 0, or -1 when one still
 * runs, s is stopping, or no thread could be started (logged). */
int sched_purge(struct sched *);

/* Between scheduler.c and sched_gate.c (the loop thread). */
/* Is slice paused, for its health or for a failover under way? */
int sched_slice_paused(const struct sched *, int64_t slice);
/* Read which slices have a failover under way (each tick: moves touching
 * them stop at their next safe point and start no more). */
void sched_refresh_failover(struct sched *);
/* The record of ready move id, made (no pass yet) when there is none. */
struct sched_seen *sched_ready_seen(struct sched *, int64_t id);
/*
 * Ready move r at now: SCHED_READY_CUTOVER when its gate is open (and no
 * cutover worker of it found it shut within SCHED_READY_LOOK),
 * SCHED_READY_PASS when it is shut and a delta pass is due, else
 * SCHED_READY_WAIT. why gets the reason the gate is shut, or "".
 */
int sched_ready_judge(struct sched *, const struct state_runnable *,
    int64_t now, char *why, size_t len);
/* Log why ready move id waits and write a move.waiting event, when the
 * reason is not the one last logged for it. */
void sched_log_waiting(struct sched *, int64_t id, const char *why);
/* Forget the reason last logged for move id. */
void sched_forget_waiting(struct sched *, int64_t id);

#endif
