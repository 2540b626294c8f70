/*
 * Usage snapshots: the bytes, files and accounts of a slice at a time,
 * for capacity reports (state/snapshot.c; they are read back with
 * state/report.h). Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_SNAPSHOT_H
#define MAILSHIFT_STATE_SNAPSHOT_H

#include <stdint.h>

#include "state/state.h"

/*
 * Record a snapshot of slice_id at when (Unix seconds): the sums of its
 * accounts as the catalog has them now, and its capacity. An unknown
 * slice records nothing and is no error.
 */
int state_snapshot_take(struct state *, int64_t slice_id, int64_t when,
    char **cause);

#endif
