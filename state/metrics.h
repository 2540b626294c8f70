/*
 * What the daemon's status and metrics read about all moves
 * (state/metrics.c). Conventions (return values, *cause): see
 * state/state.h.
 */
#ifndef MAILSHIFT_STATE_METRICS_H
#define MAILSHIFT_STATE_METRICS_H

#include <stdint.h>

#include "state/state.h"
#include "state/move.h"

/* Count moves by state: counts[MOVE_NSTATES], indexed by enum
 * move_state. */
int state_metrics_move_counts(struct state *, int64_t *counts,
    char **cause);
/*
 * Cutover lock times of done moves in n + 1 buckets: counts[i] for lock_ms
 * <= bounds[i] (and above the previous bound), counts[n] above the last;
 * *sum_ms their sum. bounds ascend.
 */
int state_metrics_lock_histogram(struct state *, const int64_t *bounds,
    int n, int64_t *counts, int64_t *sum_ms, char **cause);

#endif
