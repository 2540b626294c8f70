/*
 * The fleet as the planner reads it (state/fleet.c): every account
 * without strings, and what open moves will take into and out of each
 * slice. Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_FLEET_H
#define MAILSHIFT_STATE_FLEET_H

#include <stdint.h>

#include "state/state.h"
#include "state/account.h"

/* What the planner reads of an account. */
struct state_fleet_account {
	int64_t	 id;
	int64_t	 slice_id;
	uint64_t bytes;
	uint64_t files;
	int64_t	 last_activity;		/* Unix seconds, 0 = unknown */
	int	 pinned;
	uint64_t added_files;		/* delivered in the last ACTIVITY_DAYS */
	uint64_t added_bytes;
	int64_t	 added_at;		/* when discover counted them, 0 never */
	uint64_t logins;		/* this week's, since logins_since */
	uint64_t logins_prev;		/* the week before's */
	int64_t	 logins_since;		/* 0: no login counted */
};

/* Call cb for every account, in id order. */
int state_fleet_accounts(struct state *,
    void (*cb)(const struct state_fleet_account *, void *), void *arg,
    char **cause);

/*
 * An account's activity per day at now: the messages delivered per day
 * (added_files / ACTIVITY_DAYS) and the logins per day (this week's and
 * the week before's over the days they span, at least one). Returns
 * their sum, the weight a slice's load is apportioned to its accounts by.
 * (Delivered: arrived in cur/ or new/ by the time the message's name
 * begins with, else its mtime, as maildir_usage counts them; added_at is
 * not read: the last count stands until the next discover or move.)
 */
double state_fleet_activity(const struct state_fleet_account *, int64_t now,
    double *messages_per_day, double *logins_per_day);
/*
 * The same for an account as the catalog has it (state_account_get),
 * with its bytes per day (added_bytes / ACTIVITY_DAYS): what
 * `account show` prints.
 */
double state_fleet_account_activity(const struct state_account *a,
    int64_t now, double *messages_per_day, double *bytes_per_day,
    double *logins_per_day);

/* *in and *out: the bytes of the accounts that open moves take into and
 * out of slice_id. */
int state_fleet_pending(struct state *, int64_t slice_id, uint64_t *in,
    uint64_t *out, char **cause);
/* Call cb for the account and target slice of every open move. */
int state_fleet_moving(struct state *,
    void (*cb)(int64_t account_id, int64_t target_slice, void *), void *arg,
    char **cause);

#endif
