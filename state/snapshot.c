/* Usage snapshots of slices, taken from the catalog's accounts. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/snapshot.h"
#include "common/util.h"

int
state_snapshot_take(struct state *st, int64_t slice_id, int64_t when,
    char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "INSERT INTO snapshots (ts, slice_id, "
	    "bytes, files, accounts, capacity) SELECT ?, s.id, "
	    "CAST(coalesce(sum(a.bytes), 0) AS BIGINT), "
	    "CAST(coalesce(sum(a.files), 0) AS BIGINT), "
	    "count(a.id), s.capacity FROM slices s LEFT JOIN accounts a "
	    "ON a.slice_id = s.id WHERE s.id = ? GROUP BY s.id", cause))
	    == NULL)
		return -1;
	db_bind_int64(stmt, 1, when);
	db_bind_int64(stmt, 2, slice_id);
	return st_exec_stmt(st, stmt, cause, "recording usage snapshot");
}
