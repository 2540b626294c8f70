/*
 * Accounts: one mailbox each, the slice and path it lives at, its usage
 * and its flags (state/account.c). Conventions (return values, *cause):
 * see state/state.h.
 */
#ifndef MAILSHIFT_STATE_ACCOUNT_H
#define MAILSHIFT_STATE_ACCOUNT_H

#include <stdint.h>

#include "state/state.h"

/* Activity is counted over this many days: the messages discover finds
 * delivered in them, the logins of this week and the week before. */
#define ACTIVITY_DAYS 7

/* An account as the catalog has it. */
struct state_account {
	int64_t	 id;
	char	*user;			/* user@domain */
	char	*slice;			/* slice name */
	int64_t	 slice_id;
	char	*path;			/* relative to the slice root */
	char	*state;			/* active, locked, missing */
	char	*size_source;		/* maildirsize, counted, import */
	uint64_t bytes;
	uint64_t files;
	int64_t	 last_activity;		/* Unix seconds, 0 = unknown */
	int64_t	 generation;		/* bumped when it changes place */
	int	 pinned;		/* plans never move it */
	int	 online;		/* pushed by an access server */
	int64_t	 created;		/* Unix seconds */
	int64_t	 updated;
	uint64_t added_files;		/* messages that arrived in the */
	uint64_t added_bytes;		/* ACTIVITY_DAYS before added_at */
	int64_t	 added_at;		/* when counted, 0 = never */
	uint64_t logins;		/* counted since logins_since */
	uint64_t logins_prev;		/* the week before */
	int64_t	 logins_since;		/* 0 = no login counted */
};

/* What discover measured of a mailbox. */
struct state_account_usage {
	uint64_t	 bytes;
	uint64_t	 files;
	int64_t		 last_activity;	/* newest cur/ or new/ mtime */
	const char	*size_source;	/* maildirsize, counted */
	uint64_t	 added_files;	/* arrived in the ACTIVITY_DAYS before */
	uint64_t	 added_bytes;
	int64_t		 added_at;	/* when counted; 0 leaves added_* */
};

/*
 * Fill a with the account of user (free it with state_account_free).
 * Returns 0, 1 when there is no such account, -1 on error. a is zeroed
 * unless 0 is returned.
 */
int state_account_find(struct state *, const char *user,
    struct state_account *a, char **cause);
/* Like find, but a missing account is an error naming the user. */
int state_account_get(struct state *, const char *user,
    struct state_account *a, char **cause);
/*
 * Call cb for every account in user order, all of them (slice_id 0) or
 * those of one slice, until cb returns nonzero. The account is freed
 * after the call.
 */
int state_account_list(struct state *, int64_t slice_id,
    int (*cb)(const struct state_account *, void *), void *arg,
    char **cause);
/* Free the strings of a and zero it. */
void state_account_free(struct state_account *a);
/*
 * Insert a new account found by discover. Fails (with the database's
 * message) when the user exists or path on the slice is another
 * account's.
 */
int state_account_add(struct state *, const char *user, int64_t slice_id,
    const char *path, const struct state_account_usage *, char **cause);
/* state_account_add without activity. */
int state_account_insert(struct state *, const char *user, int64_t slice_id,
    const char *path, uint64_t bytes, uint64_t files, int64_t last_activity,
    const char *size_source, char **cause);
/*
 * Refresh the sizes of account id and where they came from, and its
 * activity when u->added_at is set; its last activity only moves forward;
 * a missing account becomes active again. No error for an unknown id.
 */
int state_account_set_usage(struct state *, int64_t id,
    const struct state_account_usage *u, char **cause);
/* state_account_set_usage without activity. */
int state_account_update_usage(struct state *, int64_t id, uint64_t bytes,
    uint64_t files, int64_t last_activity, const char *size_source,
    char **cause);
/*
 * The messages and bytes that arrived in account id in the ACTIVITY_DAYS
 * before at, as counted at at (a move's listing of the new home). No
 * error for an unknown id.
 */
int state_account_set_activity(struct state *, int64_t id, uint64_t files,
    uint64_t bytes, int64_t at, char **cause);
/*
 * Record what an access server says about user: online, or offline from
 * now on (either way its last activity becomes now). Coming online from
 * offline is a login: counted in logins, and when logins_since is
 * ACTIVITY_DAYS or more ago the week turns first (logins_prev becomes
 * logins if that week began less than twice ACTIVITY_DAYS ago, else 0;
 * logins starts again from now). The v12 trigger counts Dovecot's
 * last_login writes the same way. An unknown user is an error naming it.
 */
int state_account_set_presence(struct state *, const char *user, int online,
    char **cause);
/* The same at the Unix time now (tests give their own). */
int state_account_set_presence_at(struct state *, const char *user,
    int online, int64_t now, char **cause);
/*
 * Pin an account (plans never move it) or unpin it, in a transaction of
 * its own, and log it. An unknown user is an error naming it.
 */
int state_account_set_pinned(struct state *, const char *user, int pinned,
    char **cause);
/*
 * The owner of the mailbox on disk: the uid and gid access servers use
 * (the access view gives them to Dovecot's userdb). Written only when they
 * change; no error for an unknown user.
 */
int state_account_set_owner(struct state *, const char *user, int64_t uid,
    int64_t gid, char **cause);
/*
 * Mark account id missing (not found where the catalog says it is). Only
 * an active account changes: a locked one stays locked.
 */
int state_account_set_missing(struct state *, int64_t id, char **cause);
/*
 * Another account whose directory nests with path on slice slice_id: at
 * path itself, inside it, or containing it (accounts of user except, which
 * may be NULL, do not count). Returns 1 with its user and path in *user
 * and *other (heap, for the caller to free), 0 when there is none (both
 * NULL), -1 on error.
 */
int state_account_nesting(struct state *, int64_t slice_id, const char *path,
    const char *except, char **user, char **other, char **cause);
/* *slice_id: the target slice of the account's open move, 0 when none. */
int state_account_moving_to(struct state *, int64_t account_id,
    int64_t *slice_id, char **cause);

#endif
