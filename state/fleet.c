/*
 * The fleet as the planner reads it: every account without strings,
 * and what open moves will take into and out of each slice.
 */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/fleet.h"
#include "common/util.h"

int
state_fleet_accounts(struct state *st, void (*cb)(int64_t, int64_t, uint64_t,
    uint64_t, int64_t, int, void *), void *arg, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, "SELECT id, slice_id, bytes, files, "
	    "last_activity, pinned FROM accounts ORDER BY id", cause)) ==
	    NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW)
		cb(db_column_int64(stmt, 0), db_column_int64(stmt, 1),
		    (uint64_t)db_column_int64(stmt, 2),
		    (uint64_t)db_column_int64(stmt, 3),
		    db_column_int64(stmt, 4), db_column_int(stmt, 5),
		    arg);
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading accounts");
	return 0;
}

int
state_fleet_pending(struct state *st, int64_t slice_id, uint64_t *in,
    uint64_t *out, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, "SELECT "
	    "CAST(coalesce(sum(CASE WHEN m.target_slice = ?1 THEN a.bytes "
	    "END), 0) AS BIGINT), CAST(coalesce(sum(CASE WHEN "
	    "m.source_slice = ?1 THEN a.bytes END), 0) AS BIGINT) "
	    "FROM moves m JOIN accounts a ON a.id = m.account_id WHERE "
	    "m.state IN " OPEN_STATES, cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	rc = db_step(stmt);
	*in = rc == DB_ROW ? (uint64_t)db_column_int64(stmt, 0) : 0;
	*out = rc == DB_ROW ? (uint64_t)db_column_int64(stmt, 1) : 0;
	db_finalize(stmt);
	if (rc != DB_ROW)
		return st_fail(st, cause, "reading moves");
	return 0;
}

int
state_fleet_moving(struct state *st, void (*cb)(int64_t, void *),
    void *arg, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, "SELECT account_id FROM moves WHERE "
	    "state IN " OPEN_STATES, cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW)
		cb(db_column_int64(stmt, 0), arg);
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading moves");
	return 0;
}
