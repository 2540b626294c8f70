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

/* Health, as the daemon's watch judges slices and servers, in the order
 * the CHECK constraint lists them: ok, degraded (slow), unresponsive
 * (probes hang or fail); NULL ends the list. Apart from the admin's
 * state: a slice can be active and degraded. */
extern const char *const state_health_states[];
/* 1 when s names a health, 0 when not (or NULL). */
int state_health_valid(const char *s);

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
	char	*health_reason;		/* the watch's why; "" when none */
	int64_t	 health_since;		/* last change of health, 0 = never */
	uint64_t ops_capacity;		/* ops/s; 0 = [capacity] ops_capacity */
	char	*io_source;		/* where its load is read; "" = never */
};

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
/*
 * Change the ops capacity of a slice (operations per second it serves at
 * 100% load; 0 = the [capacity] ops_capacity default), in a transaction
 * of its own, and log it. Refused for an unknown slice.
 */
int state_slice_set_ops_capacity(struct state *, const char *name,
    uint64_t ops, char **cause);
/* Record when discover last scanned a slice (no error for an unknown id). */
int state_slice_scanned(struct state *, int64_t slice_id, int64_t when,
    char **cause);
/*
 * Record the health watch's judgement of slice_id: health (one of
 * state_health_states) for reason ("" or NULL for none) at when (Unix
 * seconds), in a transaction of its own. When health and reason are
 * what the catalog has, nothing is written and *changed is 0. Otherwise
 * both are written, health_since becomes when only if health itself
 * changed, one "slice.health" event names the slice, old and new health
 * and the reason, and *changed is 1. The slice's state (the admin's) is
 * never touched. Refused for an unknown health or slice.
 */
int state_slice_set_health(struct state *, int64_t slice_id,
    const char *health, const char *reason, int64_t when, int *changed,
    char **cause);
/*
 * The account the health watch probes on slice_id: the path (below the
 * slice root, as accounts store it) of its lowest-id account that is not
 * missing, in *path (free it). 0 when found; 1 and *path NULL when the
 * slice has none (or is unknown); -1 on error.
 */
int state_slice_probe_account(struct state *, int64_t slice_id, char **path,
    char **cause);
/* Does s take accounts: active, and its health ok? 0, or -1 with a cause
 * naming what keeps it from it. */
int state_slice_receives(const struct state_slice *s, char **cause);
/* Free the strings of s and zero it. */
void state_slice_free(struct state_slice *s);

#endif
