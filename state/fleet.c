/*
 * The fleet as the planner reads it: every account without strings,
 * and what open moves will take into and out of each slice.
 */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/fleet.h"
#include "common/util.h"

#include <string.h>

int
state_fleet_accounts(struct state *st,
    void (*cb)(const struct state_fleet_account *, void *), void *arg,
    char **cause)
{
	struct state_fleet_account a;
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, "SELECT id, slice_id, bytes, files, "
	    "last_activity, pinned, added_files, added_bytes, added_at, "
	    "logins, logins_prev, logins_since FROM accounts ORDER BY id",
	    cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		a.id = db_column_int64(stmt, 0);
		a.slice_id = db_column_int64(stmt, 1);
		a.bytes = (uint64_t)db_column_int64(stmt, 2);
		a.files = (uint64_t)db_column_int64(stmt, 3);
		a.last_activity = db_column_int64(stmt, 4);
		a.pinned = db_column_int(stmt, 5);
		a.added_files = (uint64_t)db_column_int64(stmt, 6);
		a.added_bytes = (uint64_t)db_column_int64(stmt, 7);
		a.added_at = db_column_int64(stmt, 8);
		a.logins = (uint64_t)db_column_int64(stmt, 9);
		a.logins_prev = (uint64_t)db_column_int64(stmt, 10);
		a.logins_since = db_column_int64(stmt, 11);
		cb(&a, arg);
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading accounts");
	return 0;
}

double
state_fleet_activity(const struct state_fleet_account *a, int64_t now,
    double *messages_per_day, double *logins_per_day)
{
	double msgs, logins = 0, days;

	msgs = (double)a->added_files / ACTIVITY_DAYS;
	if (a->logins_since > 0 && a->logins + a->logins_prev > 0) {
		days = now > a->logins_since ?
		    (double)(now - a->logins_since) / 86400.0 : 0;
		if (a->logins_prev > 0)
			days += ACTIVITY_DAYS;
		if (days < 1)
			days = 1;
		logins = (double)(a->logins + a->logins_prev) / days;
	}
	if (messages_per_day != NULL)
		*messages_per_day = msgs;
	if (logins_per_day != NULL)
		*logins_per_day = logins;
	return msgs + logins;
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
state_fleet_moving(struct state *st, void (*cb)(int64_t, int64_t, void *),
    void *arg, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, "SELECT account_id, target_slice FROM "
	    "moves WHERE state IN " OPEN_STATES, cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW)
		cb(db_column_int64(stmt, 0), db_column_int64(stmt, 1), arg);
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading moves");
	return 0;
}

double
state_fleet_account_activity(const struct state_account *a, int64_t now,
    double *messages_per_day, double *bytes_per_day,
    double *logins_per_day)
{
	struct state_fleet_account f;

	memset(&f, 0, sizeof f);
	f.id = a->id;
	f.slice_id = a->slice_id;
	f.bytes = a->bytes;
	f.files = a->files;
	f.last_activity = a->last_activity;
	f.pinned = a->pinned;
	f.added_files = a->added_files;
	f.added_bytes = a->added_bytes;
	f.added_at = a->added_at;
	f.logins = a->logins;
	f.logins_prev = a->logins_prev;
	f.logins_since = a->logins_since;
	if (bytes_per_day != NULL)
		*bytes_per_day = (double)a->added_bytes / ACTIVITY_DAYS;
	return state_fleet_activity(&f, now, messages_per_day,
	    logins_per_day);
}
