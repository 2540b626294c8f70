/*
 * What the daemon's status and metrics read about all moves: how many are
 * in each state, and how long cutovers held their accounts locked.
 */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/metrics.h"
#include "common/util.h"

int
state_metrics_move_counts(struct state *st, int64_t *counts, char **cause)
{
	struct db_stmt *stmt;
	enum move_state ms;
	int i, rc;

	for (i = 0; i < MOVE_NSTATES; i++)
		counts[i] = 0;
	if ((stmt = st_prepare(st, "SELECT state, count(*) FROM moves GROUP "
	    "BY state", cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		if (state_move_state_parse((const char *)
		    db_column_text(stmt, 0), &ms) == 0)
			counts[ms] = db_column_int64(stmt, 1);
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "counting moves");
	return 0;
}

int
state_metrics_lock_histogram(struct state *st, const int64_t *bounds,
    int n, int64_t *counts, int64_t *sum_ms, char **cause)
{
	struct db_stmt *stmt;
	int64_t v;
	int i, rc;

	for (i = 0; i <= n; i++)
		counts[i] = 0;
	*sum_ms = 0;
	if ((stmt = st_prepare(st, "SELECT lock_ms FROM moves WHERE state = "
	    "'done' AND lock_ms IS NOT NULL", cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		v = db_column_int64(stmt, 0);
		*sum_ms += v;
		for (i = 0; i < n && v > bounds[i]; i++)
			;
		counts[i]++;
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading lock times");
	return 0;
}
