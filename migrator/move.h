/*
 * One move of an account from its slice to another, the whole lifecycle of
 * DESIGN.md section 3 driven from one process: bulk copy, delta passes,
 * cutover under a catalog lock, verification, the switch in one catalog
 * transaction, and retirement of the source.
 *
 * Every step is recorded in the catalog, so a move interrupted at any
 * point (kill -9 included) is resumed by running it again: copying and
 * syncing continue from what the target holds, a cutover that did not
 * commit is unlocked and retried, one that committed is finished. The
 * source mailbox is only read until the catalog says the target owns the
 * account; then it is renamed aside (and optionally archived).
 */
#ifndef MAILSHIFT_MOVE_H
#define MAILSHIFT_MOVE_H

#include <stdint.h>

struct state;
struct state_move;
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

struct move_opts {
	const struct config *config;
	uint64_t	 bytes_per_second;	/* 0 = from the config */
	uint64_t	 files_per_second;
	int		 verify_content;	/* or from the config */
	void		(*progress)(void *, const struct move_progress *);
	void		*arg;
	/* Set by another thread: stop at the next safe point (between
	 * files, or before locking); the move stays resumable. */
	const volatile int *stop;
	int		 workers;	/* copy threads, 0 = one per CPU */
	/* Rates set by the daemon's time windows (bytes/s, files/s). */
	const volatile uint64_t *limits;
	/*
	 * May a ready move cut over now? 1 yes; 0 not yet, with *why (a
	 * static string or heap string the gate owns until the next call).
	 * NULL cuts over at once (the foreground move).
	 */
	int		(*gate)(void *, struct state *, const struct state_move *,
			    const char **why);
	void		*gate_arg;
	/* Per-file latency, for the daemon's health watch: slice id, 0 for
	 * reading the source, 1 for writing the target, seconds. */
	void		(*latency)(void *, int64_t slice, int side, double);
	void		*latency_arg;
	/* After the switch, wait out [move] settle and run the settle check
	 * now (the foreground move); 0 leaves it pending for a later run. */
	int		 settle_wait;
};

struct move_result {
	int64_t		 id;
	char		 state[16];	/* the move's state at the end */
	uint64_t	 bytes;		/* of the mailbox */
	uint64_t	 files;
	uint64_t	 files_copied;	/* by this run, all passes */
	uint64_t	 bytes_copied;
	int		 passes;	/* in this run */
	double		 copy_seconds;	/* copy and delta passes */
	int64_t		 lock_ms;	/* -1 when no cutover committed */
	double		 throttle_wait;	/* seconds slept by the throttle */
	char		 retired[4096];	/* where the source went */
	int		 stopped;	/* ended early on request */
	char		 waiting[256];	/* why a ready move did not cut over */
	int		 settle_pending; /* done; the settle check is not due */
	int		 settled;	/* the settle check ran in this run */
	uint64_t	 carried;	/* late messages it carried */
	int		 archived;	/* the retired source was archived */
};

/*
 * Queue a move of user to slice target. Refused before anything is copied
 * when the account or slice is wrong (see state_move_create), when the
 * target filesystem lacks room, when the source is not a Maildir, or when
 * the target directory exists and is not a copy left by an earlier move
 * of this account.
 */
int move_queue(struct state *, const struct layout *, const char *user,
    const char *target, int hold, int64_t complete_after, int64_t *id,
    char **cause);

/*
 * Run (or resume) move id to its end: done, or held in ready. Returns 0,
 * or -1 with a cause; the catalog says what became of the move.
 */
int move_run(struct state *, int64_t id, const struct move_opts *,
    struct move_result *, char **cause);

/*
 * Delete retired sources whose retention period is over (all of them
 * when older_than is 0). Returns the number purged, or -1.
 */
int move_purge(struct state *, int64_t older_than, uint64_t *purged,
    char **cause);

/* Open a path below an open root, refusing symlinks on the way. */
int open_below(int root, const char *path, char **cause);

#endif
