/*
 * Discovery: walk slice roots with the layout template, find Maildir++
 * accounts, measure them and reconcile what was found with the catalog.
 *
 * Incremental: an account already in the catalog at the place it was
 * found is updated, not added again. An account found on two slices, or on
 * a slice other than the one the catalog names, is a conflict: reported,
 * and the catalog's placement is left as it is. A catalog account that is
 * not found on its scanned slice is marked missing. The copy a failed or
 * cancelled move left is a leftover, said so, and never a conflict; an
 * account whose directory would nest with another account's is not
 * recorded (a conflict). Symlinks are never
 * followed and a directory on another filesystem than its slice root is
 * refused.
 */
#ifndef MAILSHIFT_DISCOVER_H
#define MAILSHIFT_DISCOVER_H

#include <stdint.h>

#include "migrator/maildir.h"

struct state;
struct layout;

/* Totals for one slice after a run. */
struct discover_slice_stats {
	const char	*slice;
	uint64_t	 accounts;	/* found on disk */
	uint64_t	 added;		/* new to the catalog */
	uint64_t	 updated;	/* already there, refreshed */
	uint64_t	 in_move;	/* partial copies of moves, ignored */
	uint64_t	 missing;	/* in the catalog, not on disk */
	uint64_t	 conflicts;
	uint64_t	 leftover;	/* copies failed or cancelled moves
					 * left */
	uint64_t	 refused;	/* symlinks, other filesystems */
	uint64_t	 from_maildirsize;
	uint64_t	 counted;
	uint64_t	 files;
	uint64_t	 bytes;
	uint64_t	 added_files;	/* arrived in the last ACTIVITY_DAYS */
	uint64_t	 added_bytes;
};

/* What the caller hears about a run; any callback may be NULL. */
struct discover_report {
	void	*arg;
	/* Each account measured (verbose listings). */
	void	(*account)(void *, const char *slice, const char *user,
		    const char *path, const struct maildir_usage *,
		    const char *outcome);
	/* A problem: kind is "conflict", "leftover", "refused" or
	 * "missing". */
	void	(*problem)(void *, const char *kind, const char *slice,
		    const char *path, const char *message);
	/* After the walk of a slice, every few thousand accounts. */
	void	(*progress)(void *, const char *slice, uint64_t accounts,
		    uint64_t files);
	void	(*slice_done)(void *, const struct discover_slice_stats *);
	/* Something that is not the accounts' business: a slice whose
	 * load could not be measured (slice NULL: for none). */
	void	(*warning)(void *, const char *slice, const char *message);
};

/*
 * Discover the named slices (all slices that are not retired when n is 0),
 * recording each account's size and the messages that arrived in it in
 * the last ACTIVITY_DAYS (state/account.h; see maildir_usage).
 * Sets *problems to the number of conflicts, refused and missing accounts.
 * Returns 0, or -1 with a cause when a slice cannot be walked or the
 * catalog fails; then nothing is changed.
 *
 * With proc_root ([capacity] proc), the usage snapshots are followed by a
 * load round (iostat_record.h) over the same slices and those that share
 * a device with them (its delta is split among all of them); a slice that
 * cannot be read, or a round the catalog refused, is a warning, not a
 * problem. NULL: no load is recorded.
 */
int discover_run(struct state *, const struct layout *, int trust,
    char **slices, int n, const char *proc_root,
    const struct discover_report *, uint64_t *problems, char **cause);

#endif
