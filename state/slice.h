/*
 * Slices: filesystems served by one server of a pair, each with a
 * capacity and a state (state/slice.c). Conventions (return values,
 * *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_SLICE_H
#define MAILSHIFT_STATE_SLICE_H

#include <stdint.h>

#include "state/state.h"

/* Slice states, in the order the CHECK constraint lists them; NULL ends
 * the list. */
extern const char *const state_slice_states[];
/* 1 when s names a slice state, 0 when not. */
int state_slice_state_valid(const char *s);

/* A slice and what the catalog says it holds. */
struct state_slice {
	int64_t	 id;
	char	*name;
	char	*pair;
	char	*server;		/* the serving server */
	char	*address;		/* of the serving server */
	char	*path;			/* root on this host */
	char	*state;			/* one of state_slice_states */
	uint64_t capacity;		/* bytes */
	uint64_t used;			/* sum of its accounts' bytes */
	uint64_t files;			/* sum of its accounts' files */
	int64_t	 accounts;		/* accounts on it */
	int64_t	 created;		/* Unix seconds */
	int64_t	 scanned;		/* last discover, 0 = never */
	char	*health;		/* one of state_health_states */
	char	*health_reason;		/* why, "" when ok from the start */
	int64_t	 health_since;		/* Unix seconds, 0 = never changed */
};

/* What the daemon's health watch says of a slice or a server. */
extern const char *const state_health_states[];	/* NULL-terminated */
int state_health_valid(const char *);

/*
 * Add a slice served by server of pair, in a transaction of its own, and
 * log it; path must already be checked and absolute. Refused when
 * capacity is 0 or above INT64_MAX, when a slice of that name exists,
 * when the pair or server is unknown or the server not in the pair, or
 * when path is another slice's.
 */
int state_slice_add(struct state *, const char *name, const char *pair,
    const char *server, const char *path, uint64_t capacity, char **cause);
/*
 * Fill s with the slice called name (free it with state_slice_free). An
 * unknown name is an error naming it. s is zeroed on failure.
 */
int state_slice_get(struct state *, const char *name, struct state_slice *s,
    char **cause);
/*
 * Take back a slice just added (a failed add). Only a slice without
 * accounts and moves is deleted; any other, or an unknown name, is left
 * as it is and the call still returns 0.
 */
int state_slice_forget(struct state *, const char *name, char **cause);
/*
 * Call cb for every slice in name order, until cb returns nonzero. The
 * slice is freed after the call.
 */
int state_slice_list(struct state *,
    int (*cb)(const struct state_slice *, void *), void *arg, char **cause);
/*
 * Change the state of a slice to st, in a transaction of its own, and log
 * it. Refused for an unknown state or slice, and for retired while the
 * slice still holds accounts.
 */
int state_slice_set_state(struct state *, const char *name, const char *st,
    char **cause);
/*
 * Change the capacity of a slice (bytes, 1 to INT64_MAX), in a
 * transaction of its own, and log it. Refused for an unknown slice.
 */
int state_slice_set_capacity(struct state *, const char *name, uint64_t,
    char **cause);
/* Record when discover last scanned a slice (no error for an unknown id). */
int state_slice_scanned(struct state *, int64_t slice_id, int64_t when,
    char **cause);
/*
 * Record the health watch's judgement of a slice: health (ok, degraded,
 * unresponsive) for reason at when (Unix seconds), with one
 * "slice.health" event, in a transaction of its own. *changed is 0, and
 * nothing is written, when health and reason are what the catalog has;
 * health_since moves only when health does. The slice's state (the
 * admin's) is never touched.
 */
int state_slice_set_health(struct state *, int64_t slice_id,
    const char *health, const char *reason, int64_t when, int *changed,
    char **cause);
/*
 * The path (below the slice root) of an account to probe on a slice: the
 * one with the lowest id that is not missing. 0 and *path (free it), 1
 * and NULL when the slice has none, -1 on errors.
 */
int state_slice_probe_account(struct state *, int64_t slice_id, char **path,
    char **cause);
/* Free the strings of s and zero it. */
void state_slice_free(struct state_slice *s);

#endif
