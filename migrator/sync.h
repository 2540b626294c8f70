/*
 * Making one Maildir++ tree equal to another: the bulk copy, the delta
 * passes and the exact verification of a move.
 *
 * A pass walks the source with openat/fstatat and O_NOFOLLOW and makes the
 * target equal: new files are copied (copy_file_range, or read/write where
 * the kernel cannot) to a temporary name in their target directory and
 * renamed into place with mode, owner (as root) and nanosecond mtime;
 * removed entries are removed; changed files are copied again; a message
 * that was renamed on the source (a flag change "u:2,FS" -> "u:2,S", or
 * new/ -> cur/) is renamed on the target instead of copied. Symlinks are
 * copied as symlinks, never followed. A source name that is not a plain
 * path component (control characters) fails the pass.
 *
 * cur/ and new/ hold messages, which are never changed in place: a flag
 * change is a rename, an expunge an unlink, a delivery a new name. So with
 * skip, a pass does not list a cur/ or new/ again whose mtime is what the
 * previous pass of this handle recorded (adding, removing or renaming an
 * entry changes it) and whose target it left complete and unchanged; and
 * in one it lists, a name on the inode the previous pass left in sync is
 * not compared again (no stat on either side). What the target of such a
 * directory holds is kept from pass to pass as hashes of names, so only a
 * directory where something is gone is listed on the target. The other
 * files (dovecot-uidlist, maildirsize, indexes) change in place and are
 * compared by lstat of both sides on every pass; so is everything in a
 * pass without skip.
 *
 * Memory does not follow the mailbox's size: between passes, what the
 * target of a cur/ or new/ holds is kept as 24 bytes a message; a pass
 * reads cur/ and new/ as a stream and holds names only of what differs;
 * other directories (small in a Maildir) are listed at 40 bytes an entry
 * plus its name; verification and the tree_ helpers (tree.h) hold no
 * listing.
 *
 * An mtime is trusted only when a listing began once the file system's
 * clock had left the mtime's tick, so that a later change moves the
 * mtime: at least the trust margin (2 s) after this handle first saw that
 * mtime, by its own monotonic clock, or when the source file system's own
 * clock (see clock_dir) was that far past the mtime at the start of the
 * pass. The migrator's wall clock is never compared with a slice's (an
 * NFS server's clock may be off from the migrator's).
 */
#ifndef MAILSHIFT_SYNC_H
#define MAILSHIFT_SYNC_H

#include <stdint.h>

/* tree_measure, tree_remove and tree_fsync, which users of this header
 * have long found here. */
#include "migrator/tree.h"

struct throttle;

/* What one pass found and did. */
struct sync_stats {
	uint64_t files_seen;		/* regular files in the source */
	uint64_t bytes_seen;
	uint64_t files_copied;		/* data written */
	uint64_t bytes_copied;
	uint64_t renamed;		/* messages renamed on the target */
	uint64_t deleted;		/* entries removed from the target */
	uint64_t meta_fixed;		/* mode/owner/mtime corrected */
	uint64_t dirs_scanned;
	uint64_t dirs_skipped;		/* unchanged cur/ or new/ */
	uint64_t files_arrived;		/* of files_copied, messages new to */
	uint64_t bytes_arrived;		/* a cur/ or new/ (not a rename, not
					   a changed file copied again; one
					   that went from new/ to cur/ while
					   the pass read the two is new in
					   cur/ at the next pass) */
};

struct sync_config {
	struct throttle	*throttle;	/* or NULL */
	int		 preserve_owner; /* chown as the source (root only) */
	int		 workers;	/* threads copying a directory's files */
	/* Set (by another thread) to stop the pass at the next file. */
	const volatile int *stop;
	/* Bytes/s and files/s set by another thread (time windows): the
	 * throttle follows them. NULL keeps the throttle's own rates. */
	const volatile uint64_t *limits;
	/* Latency of each file's metadata work: side 0 opening it on the
	 * source, side 1 creating and renaming it on the target. */
	void		(*latency)(void *, int side, double seconds);
	/* Called now and then with the running totals of the pass. */
	void		(*progress)(void *, const struct sync_stats *);
	/* The trust margin in seconds (0: 2 s). Tests shorten it. */
	double		 trust;
	/* A directory on the source's file system (its slice root) where
	 * each pass makes and removes an empty directory, named
	 * .mailshift-clock.*, to read that file system's clock (copied by
	 * sync_new). NULL, or not writable: mtimes are trusted by
	 * observation alone. */
	const char	*clock_dir;
	/* Test hook at named points ("file", "mid-file") with a count. */
	void		(*hook)(void *, const char *point, uint64_t n);
	void		*arg;
};

struct sync;

/* A sync from the directory open at src to the one open at dst. */
struct sync *sync_new(int src, int dst, const struct sync_config *);
void sync_free(struct sync *);
/*
 * One pass. Returns 0, or -1 with a cause naming the file. Sets *enospc
 * when the target ran out of room.
 */
int sync_pass(struct sync *, int skip, struct sync_stats *, int *enospc,
    char **cause);
/*
 * The same pass, ending early once it has copied budget files (0: no
 * limit): it stops on entering the next directory, never inside a cur/
 * or new/, and returns 1. The next pass of this handle, with skip, then
 * carries on: what this one finished is not listed again. Returns 0 when
 * the pass was whole, 1 when the budget ended it, -1 as sync_pass.
 */
int sync_pass_some(struct sync *, int skip, uint64_t budget,
    struct sync_stats *, int *enospc, char **cause);
/* Did the budget end the last pass? */
int sync_partial(const struct sync *);
/* From now on, no throttle (the cutover, while the user is locked). */
void sync_unthrottle(struct sync *);
/* Did the last pass end because cfg.stop was set? */
int sync_stopped(const struct sync *);
/* Changes a pass made (copies, renames, deletions, fixes). */
uint64_t sync_changes(const struct sync_stats *);

/*
 * Compare two trees exactly: the same names, types, sizes, modes,
 * nanosecond mtimes, symlink targets, owners when check_owner, and
 * contents when content. Returns 0, or -1 with the first difference.
 */
int sync_verify(int src, int dst, int content, int check_owner,
    uint64_t *files, uint64_t *bytes, char **cause);

/*
 * The same comparison where a pass of s could have left differences. A
 * cur/ or new/ that its last pass listed with a trusted mtime, left
 * complete, and that still has that mtime on both sides is not read
 * (entries there are only added, removed or renamed, which changes the
 * mtime). One whose listing is not trusted yet is read again on the
 * source: a name on the inode the pass left in sync needs no stat
 * (messages do not change in place), every other entry is compared in
 * full, and the target must hold as many entries. Everything else is
 * compared in full. This is what runs under the cutover lock; sync_verify
 * runs in full right after the switch.
 */
int sync_verify_changed(struct sync *, int check_owner, uint64_t *files,
    uint64_t *bytes, char **cause);

#endif
