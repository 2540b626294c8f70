/* Accounts in the catalog: one mailbox each, where it lives and its usage. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/account.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define ACCOUNT_SELECT \
	"SELECT a.id, a.\"user\", s.name, a.slice_id, a.path, a.state, " \
	"a.size_source, a.bytes, a.files, a.last_activity, a.generation, " \
	"a.pinned, a.created, a.updated, a.online, a.added_files, " \
	"a.added_bytes, a.added_at, a.logins, a.logins_prev, a.logins_since " \
	"FROM accounts a " \
	"JOIN slices s ON s.id = a.slice_id "

/* Fill an account from a row of ACCOUNT_SELECT; strings are copied. */
static void
account_from_row(struct db_stmt *stmt, struct state_account *a)
{
	a->id = db_column_int64(stmt, 0);
	a->user = st_text(stmt, 1);
	a->slice = st_text(stmt, 2);
	a->slice_id = db_column_int64(stmt, 3);
	a->path = st_text(stmt, 4);
	a->state = st_text(stmt, 5);
	a->size_source = st_text(stmt, 6);
	a->bytes = (uint64_t)db_column_int64(stmt, 7);
	a->files = (uint64_t)db_column_int64(stmt, 8);
	a->last_activity = db_column_int64(stmt, 9);
	a->generation = db_column_int64(stmt, 10);
	a->pinned = db_column_int(stmt, 11);
	a->created = db_column_int64(stmt, 12);
	a->updated = db_column_int64(stmt, 13);
	a->online = db_column_int(stmt, 14);
	a->added_files = (uint64_t)db_column_int64(stmt, 15);
	a->added_bytes = (uint64_t)db_column_int64(stmt, 16);
	a->added_at = db_column_int64(stmt, 17);
	a->logins = (uint64_t)db_column_int64(stmt, 18);
	a->logins_prev = (uint64_t)db_column_int64(stmt, 19);
	a->logins_since = db_column_int64(stmt, 20);
}

void
state_account_free(struct state_account *a)
{
	free(a->user);
	free(a->slice);
	free(a->path);
	free(a->state);
	free(a->size_source);
	memset(a, 0, sizeof *a);
}

int
state_account_find(struct state *st, const char *user,
    struct state_account *a, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	memset(a, 0, sizeof *a);
	if ((stmt = st_prepare(st, ACCOUNT_SELECT "WHERE a.\"user\" = ?", cause))
	    == NULL)
		return -1;
	st_bind_text(stmt, 1, user);
	rc = db_step(stmt);
	if (rc == DB_ROW)
		account_from_row(stmt, a);
	db_finalize(stmt);
	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE)
		return 1;
	return st_fail(st, cause, "reading account");
}

int
state_account_get(struct state *st, const char *user,
    struct state_account *a, char **cause)
{
	int rc = state_account_find(st, user, a, cause);

	if (rc == 1)
		return fail(cause, "account '%s' not found; see 'mailshift "
		    "account list'", user);
	return rc;
}

int
state_account_list(struct state *st, int64_t slice_id,
    int (*cb)(const struct state_account *, void *), void *arg, char **cause)
{
	struct db_stmt *stmt;
	struct state_account a;
	int rc, stop = 0;

	if ((stmt = st_prepare(st, ACCOUNT_SELECT "WHERE ? = 0 OR "
	    "a.slice_id = ? ORDER BY a.\"user\"", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	db_bind_int64(stmt, 2, slice_id);
	while (!stop && (rc = db_step(stmt)) == DB_ROW) {
		account_from_row(stmt, &a);
		stop = cb(&a, arg);
		state_account_free(&a);
	}
	db_finalize(stmt);
	if (!stop && rc != DB_DONE)
		return st_fail(st, cause, "listing accounts");
	return 0;
}

int
state_account_add(struct state *st, const char *user, int64_t slice_id,
    const char *path, const struct state_account_usage *u, char **cause)
{
	struct db_stmt *stmt;
	int64_t now = now_unix();

	if ((stmt = st_prepare(st, "INSERT INTO accounts (\"user\", slice_id, "
	    "path, bytes, files, last_activity, size_source, created, "
	    "updated, added_files, added_bytes, added_at) VALUES (?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?)", cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, user);
	db_bind_int64(stmt, 2, slice_id);
	st_bind_text(stmt, 3, path);
	db_bind_int64(stmt, 4, (int64_t)u->bytes);
	db_bind_int64(stmt, 5, (int64_t)u->files);
	db_bind_int64(stmt, 6, u->last_activity);
	st_bind_text(stmt, 7, u->size_source);
	db_bind_int64(stmt, 8, now);
	db_bind_int64(stmt, 9, now);
	db_bind_int64(stmt, 10, u->added_at != 0 ? (int64_t)u->added_files : 0);
	db_bind_int64(stmt, 11, u->added_at != 0 ? (int64_t)u->added_bytes : 0);
	db_bind_int64(stmt, 12, u->added_at);
	return st_exec_stmt(st, stmt, cause, "adding account");
}

int
state_account_insert(struct state *st, const char *user, int64_t slice_id,
    const char *path, uint64_t bytes, uint64_t files, int64_t last_activity,
    const char *size_source, char **cause)
{
	struct state_account_usage u = { .bytes = bytes, .files = files,
	    .last_activity = last_activity, .size_source = size_source };

	return state_account_add(st, user, slice_id, path, &u, cause);
}

int
state_account_set_usage(struct state *st, int64_t id,
    const struct state_account_usage *u, char **cause)
{
	struct db_stmt *stmt;

	/* One statement per account: discover runs it for every one. */
	if ((stmt = st_prepare(st, "UPDATE accounts SET bytes = ?1, files = "
	    "?2, last_activity = max(last_activity, ?3), size_source = ?4, "
	    "updated = ?5, state = CASE state WHEN 'missing' THEN 'active' "
	    "ELSE state END, added_files = CASE WHEN ?7 = 0 THEN added_files "
	    "ELSE ?8 END, added_bytes = CASE WHEN ?7 = 0 THEN added_bytes "
	    "ELSE ?9 END, added_at = CASE WHEN ?7 = 0 THEN added_at ELSE ?7 "
	    "END WHERE id = ?6", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, (int64_t)u->bytes);
	db_bind_int64(stmt, 2, (int64_t)u->files);
	db_bind_int64(stmt, 3, u->last_activity);
	st_bind_text(stmt, 4, u->size_source);
	db_bind_int64(stmt, 5, now_unix());
	db_bind_int64(stmt, 6, id);
	db_bind_int64(stmt, 7, u->added_at);
	db_bind_int64(stmt, 8, (int64_t)u->added_files);
	db_bind_int64(stmt, 9, (int64_t)u->added_bytes);
	return st_exec_stmt(st, stmt, cause, "updating account");
}

int
state_account_update_usage(struct state *st, int64_t id, uint64_t bytes,
    uint64_t files, int64_t last_activity, const char *size_source,
    char **cause)
{
	struct state_account_usage u = { .bytes = bytes, .files = files,
	    .last_activity = last_activity, .size_source = size_source };

	return state_account_set_usage(st, id, &u, cause);
}

int
state_account_set_activity(struct state *st, int64_t id, uint64_t files,
    uint64_t bytes, int64_t at, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE accounts SET added_files = ?, "
	    "added_bytes = ?, added_at = ? WHERE id = ?", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, (int64_t)files);
	db_bind_int64(stmt, 2, (int64_t)bytes);
	db_bind_int64(stmt, 3, at);
	db_bind_int64(stmt, 4, id);
	return st_exec_stmt(st, stmt, cause, "recording account activity");
}

int
state_account_set_owner(struct state *st, const char *user, int64_t uid,
    int64_t gid, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE accounts SET uid = ?, gid = ? "
	    "WHERE \"user\" = ? AND (uid IS DISTINCT FROM ? OR gid IS "
	    "DISTINCT FROM ?)", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, uid);
	db_bind_int64(stmt, 2, gid);
	st_bind_text(stmt, 3, user);
	db_bind_int64(stmt, 4, uid);
	db_bind_int64(stmt, 5, gid);
	return st_exec_stmt(st, stmt, cause, "recording the mailbox owner");
}

int
state_account_set_missing(struct state *st, int64_t id, char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "UPDATE accounts SET state = 'missing', "
	    "updated = ? WHERE id = ? AND state = 'active'", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, now_unix());
	db_bind_int64(stmt, 2, id);
	return st_exec_stmt(st, stmt, cause, "marking account missing");
}

int
state_account_nesting(struct state *st, int64_t slice_id, const char *path,
    const char *except, char **user, char **other, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	*user = *other = NULL;
	/*
	 * Three lookups in the (slice, path) index: path itself; the paths
	 * inside it, which compared as bytes are exactly those in
	 * ["p/", "p0") ('0' follows '/'); and each directory above it (n is
	 * the position of a '/' in p). No LIKE: '%' and '_' in a path are
	 * plain characters.
	 */
	if ((stmt = st_prepare(st, "WITH RECURSIVE up(n) AS (SELECT "
	    "instr(?2, '/') UNION ALL SELECT n + instr(substr(?2, n + 1), "
	    "'/') FROM up WHERE instr(substr(?2, n + 1), '/') > 0) "
	    "SELECT \"user\", path FROM (SELECT \"user\", path FROM "
	    "accounts WHERE slice_id = ?1 AND path = ?2 UNION ALL SELECT "
	    "\"user\", path FROM accounts WHERE slice_id = ?1 AND path >= "
	    "?2 || '/' AND path < ?2 || '0' UNION ALL SELECT a.\"user\", "
	    "a.path FROM up JOIN accounts a ON a.slice_id = ?1 AND a.path = "
	    "substr(?2, 1, up.n - 1) WHERE up.n > 0) AS nest WHERE ?3 IS NULL "
	    "OR \"user\" <> ?3 ORDER BY length(path), path LIMIT 1", cause))
	    == NULL)
		return -1;
	db_bind_int64(stmt, 1, slice_id);
	st_bind_text(stmt, 2, path);
	st_bind_text(stmt, 3, except);
	rc = db_step(stmt);
	if (rc == DB_ROW) {
		*user = st_text(stmt, 0);
		*other = st_text(stmt, 1);
	}
	db_finalize(stmt);
	if (rc == DB_ROW)
		return 1;
	if (rc == DB_DONE)
		return 0;
	return st_fail(st, cause, "reading accounts");
}

int
state_account_moving_to(struct state *st, int64_t account_id,
    int64_t *slice_id, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, "SELECT target_slice FROM moves WHERE "
	    "account_id = ? AND state NOT IN ('done','failed','cancelled')",
	    cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, account_id);
	rc = db_step(stmt);
	*slice_id = rc == DB_ROW ? db_column_int64(stmt, 0) : 0;
	db_finalize(stmt);
	if (rc != DB_ROW && rc != DB_DONE)
		return st_fail(st, cause, "reading moves");
	return 0;
}

int
state_account_set_pinned(struct state *st, const char *user, int pinned,
    char **cause)
{
	struct db_stmt *stmt;

	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "UPDATE accounts SET pinned = ?, "
	    "updated = ? WHERE \"user\" = ?", cause)) == NULL)
		goto bad;
	db_bind_int(stmt, 1, pinned != 0);
	db_bind_int64(stmt, 2, now_unix());
	st_bind_text(stmt, 3, user);
	if (st_exec_stmt(st, stmt, cause, "pinning account") != 0)
		goto bad;
	if (db_changes(st->db) != 1) {
		fail(cause, "account '%s' not found; see 'mailshift account "
		    "list'", user);
		goto bad;
	}
	state_event(st, pinned ? "account.pin" : "account.unpin", user, NULL,
	    "%s %s", user, pinned ? "pinned: plans leave it where it is" :
	    "unpinned");
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_account_set_presence_at(struct state *st, const char *user,
    int online, int64_t now, char **cause)
{
	struct db_stmt *stmt;

	/*
	 * ?1 online, ?2 now, ?4 a week. Only offline -> online counts, and
	 * the week turns first when it is over. The right-hand sides all
	 * read the row as it was (both engines). Dovecot's last_login
	 * trigger (schema v12) has the same arithmetic.
	 */
	if ((stmt = st_prepare(st, "UPDATE accounts SET "
	    "logins = CASE WHEN ?1 = 0 OR online <> 0 THEN logins "
	    "WHEN ?2 - logins_since >= ?4 THEN 1 ELSE logins + 1 END, "
	    "logins_prev = CASE WHEN ?1 = 0 OR online <> 0 OR "
	    "?2 - logins_since < ?4 THEN logins_prev "
	    "WHEN ?2 - logins_since < 2 * ?4 THEN logins ELSE 0 END, "
	    "logins_since = CASE WHEN ?1 = 0 OR online <> 0 OR "
	    "?2 - logins_since < ?4 THEN logins_since ELSE ?2 END, "
	    "online = ?1, last_activity = ?2 WHERE \"user\" = ?3", cause)) ==
	    NULL)
		return -1;
	db_bind_int(stmt, 1, online != 0);
	db_bind_int64(stmt, 2, now);
	st_bind_text(stmt, 3, user);
	db_bind_int64(stmt, 4, (int64_t)ACTIVITY_DAYS * 86400);
	if (st_exec_stmt(st, stmt, cause, "recording presence") != 0)
		return -1;
	if (db_changes(st->db) != 1)
		return fail(cause, "account '%s' not found; see 'mailshift "
		    "account list'", user);
	return 0;
}

int
state_account_set_presence(struct state *st, const char *user, int online,
    char **cause)
{
	return state_account_set_presence_at(st, user, online, now_unix(),
	    cause);
}
