/*
 * The fleet as the planner reads it (state/fleet.c): every account
 * without strings, and what open moves will take into and out of each
 * slice. Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_FLEET_H
#define MAILSHIFT_STATE_FLEET_H

#include <stdint.h>

#include "state/state.h"

/*
 * Call cb for every account, in id order, with its slice id, size,
 * last activity and pinned flag.
 */
int state_fleet_accounts(struct state *,
    void (*cb)(int64_t id, int64_t slice_id, uint64_t bytes, uint64_t files,
    int64_t last_activity, int pinned, void *), void *arg, char **cause);
/* *in and *out: the bytes of the accounts that open moves take into and
 * out of slice_id. */
int state_fleet_pending(struct state *, int64_t slice_id, uint64_t *in,
    uint64_t *out, char **cause);
/* Call cb for the account of every open move. */
int state_fleet_moving(struct state *,
    void (*cb)(int64_t account_id, void *), void *arg, char **cause);

#endif
