/*
 * Recording the load of slices: a round reads the counters of every
 * slice (iostat.h) at one instant and stores, per slice, the new reading
 * and the interval since the last one (state/load.h).
 *
 * Slices on one device (the same block device, or one NFS mount's
 * superblock) share its counters: the device's delta is split among them
 * in proportion to their activity, the sum of state_fleet_activity over
 * their accounts (messages delivered and logins per day), and equally
 * when none of them has any. Shares are rounded so that they add up to
 * the device's delta.
 *
 * The first reading of a slice, a reading from another source, counters
 * lower than the last (a remount, a reboot, a device made anew), a
 * reading from before the last boot or NFS mount (uptime, mountstats
 * age) and a clock that went back only store the new reading: no
 * interval. A slice without counters (none:tmpfs) gets its source stored,
 * never a loads row. Retired slices and unresponsive ones (their stat()
 * may hang) are not read.
 *
 * The round is three steps, so that the daemon reads off its loop:
 * prepare (catalog), read (proc files and lstat, no catalog, on any
 * thread) and store (catalog, one transaction).
 */
#ifndef MAILSHIFT_IOSTAT_RECORD_H
#define MAILSHIFT_IOSTAT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "migrator/iostat.h"

struct state;

/* One slice of a round. */
struct iostat_slice {
	int64_t			 id;
	char			*name;
	char			*path;
	struct iostat_reading	 r;
	char			*error;		/* not read: why */
};

/* What a round stored. */
struct iostat_outcome {
	size_t	 intervals;	/* loads rows written */
	size_t	 started;	/* readings stored without an interval */
	size_t	 none;		/* slices without counters */
	size_t	 failed;	/* slices not read (their error says why) */
	size_t	 stale;		/* another writer stored a newer reading */
};

struct iostat_round {
	struct iostat_slice	*s;
	size_t			 n;
	int64_t			 at_ms;		/* when the counters were read */
	int64_t			 boot_ms;	/* 0 = unknown */
	char			*error;		/* the proc root was unreadable */
};

/*
 * The slices to read: every slice neither retired nor unresponsive; with
 * names (n > 0), only those named and the slices whose last reading came
 * from the same counters as a named one's (so that a device's delta is
 * still split among all of its slices, and a slice elsewhere, maybe on a
 * dead NFS server, is not touched).
 */
int iostat_round_prepare(struct iostat_round *, struct state *,
    char **names, int n, char **cause);
/* Read every slice's counters below proc_root; a slice that cannot be
 * read gets an error of its own (all of them, when the proc root
 * itself cannot). */
void iostat_round_read(struct iostat_round *, const char *proc_root);
/*
 * Store what was read at now (Unix seconds: the accounts' activity):
 * intervals apportioned as above, in one transaction. Returns 0 with
 * *o filled (o may be NULL), or -1 with a cause; then nothing is stored.
 */
int iostat_round_store(struct iostat_round *, struct state *, int64_t now,
    struct iostat_outcome *o, char **cause);
void iostat_round_free(struct iostat_round *);

/*
 * A whole round at once (discover): prepare (names as there), read,
 * store. warn, when not NULL, hears about every slice that was not read
 * (slice NULL: the proc root itself). Returns 0, or -1 with a cause when
 * the catalog fails.
 */
int iostat_record(struct state *, const char *proc_root, char **names,
    int n, struct iostat_outcome *o,
    void (*warn)(void *, const char *slice, const char *message),
    void *arg, char **cause);

#endif
