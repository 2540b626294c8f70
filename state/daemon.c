/* What the daemon says about itself in the catalog: its one status row,
 * and the lock that lets one daemon run on a catalog. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/daemon.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
state_daemon_update(struct state *st, const struct state_daemon *d,
    char **cause)
{
	struct db_stmt *stmt;

	if ((stmt = st_prepare(st, "INSERT INTO daemon (id, pid, started, "
	    "heartbeat, stopped, running, bytes, files, listen) VALUES "
	    "(1, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
	    "pid = excluded.pid, started = excluded.started, heartbeat = "
	    "excluded.heartbeat, stopped = excluded.stopped, running = "
	    "excluded.running, bytes = excluded.bytes, files = "
	    "excluded.files, listen = excluded.listen", cause)) == NULL)
		return -1;
	db_bind_int64(stmt, 1, d->pid);
	db_bind_int64(stmt, 2, d->started);
	db_bind_int64(stmt, 3, d->heartbeat);
	if (d->stopped)
		db_bind_int64(stmt, 4, d->stopped);
	else
		db_bind_null(stmt, 4);
	db_bind_int64(stmt, 5, d->running);
	db_bind_int64(stmt, 6, (int64_t)d->bytes);
	db_bind_int64(stmt, 7, (int64_t)d->files);
	st_bind_text(stmt, 8, d->listen);
	return st_exec_stmt(st, stmt, cause, "recording daemon status");
}

int
state_daemon_get(struct state *st, struct state_daemon *d, char **cause)
{
	struct db_stmt *stmt;
	int rc;

	memset(d, 0, sizeof *d);
	if ((stmt = st_prepare(st, "SELECT pid, started, heartbeat, "
	    "coalesce(stopped, 0), running, bytes, files, listen FROM daemon "
	    "WHERE id = 1", cause)) == NULL)
		return -1;
	rc = db_step(stmt);
	if (rc == DB_ROW) {
		d->pid = db_column_int64(stmt, 0);
		d->started = db_column_int64(stmt, 1);
		d->heartbeat = db_column_int64(stmt, 2);
		d->stopped = db_column_int64(stmt, 3);
		d->running = db_column_int64(stmt, 4);
		d->bytes = (uint64_t)db_column_int64(stmt, 5);
		d->files = (uint64_t)db_column_int64(stmt, 6);
		d->listen = st_text(stmt, 7);
	}
	db_finalize(stmt);
	if (rc == DB_DONE)
		return 1;
	if (rc != DB_ROW)
		return st_fail(st, cause, "reading daemon status");
	return 0;
}

/* This host's name, for the lock row. */
static void
host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0)
		snprintf(buf, len, "?");
	buf[len - 1] = '\0';
}

int
state_daemon_lock(struct state *st, char **cause)
{
	struct db_stmt *stmt;
	char host[256], since[32], *mine, *stored = NULL, *theirs = NULL;
	char *their_host = NULL;
	int64_t pid = getpid(), their_pid = 0, taken = 0, beat = 0;
	int rc = -1, live, got = 0;

	host_name(host, sizeof host);
	mine = proc_identity((long)pid);
	/* On a server the lock is the session's advisory lock; the row
	 * only says who holds it. */
	if (st->db->drv->session_lock(st->db, &got) != 0) {
		st_fail(st, cause, "taking the daemon lock");
		goto out;
	}
	if (state_begin(st, cause) != 0)
		goto out;
	if ((stmt = st_prepare(st, "SELECT l.host, l.pid, l.identity, "
	    "l.taken, coalesce(d.heartbeat, 0) FROM daemon_lock l LEFT JOIN "
	    "daemon d ON d.id = 1 AND d.stopped IS NULL WHERE l.id = 1",
	    cause)) == NULL)
		goto bad;
	if ((rc = db_step(stmt)) == DB_ROW) {
		their_host = st_text(stmt, 0);
		their_pid = db_column_int64(stmt, 1);
		stored = st_text(stmt, 2);
		taken = db_column_int64(stmt, 3);
		beat = db_column_int64(stmt, 4);
	}
	db_finalize(stmt);
	if (rc != DB_ROW && rc != DB_DONE) {
		st_fail(st, cause, "reading the daemon lock");
		goto bad;
	}
	if (!got)
		live = 1;
	else if (st->engine == DB_PGSQL)
		/* The advisory lock was free: whoever the row names is gone
		 * (or lost its session). */
		live = 0;
	else if (their_host == NULL)
		live = 0;
	else if (strcmp(their_host, host) != 0)
		/* Another host: only its heartbeat tells. */
		live = now_unix() - (beat > taken ? beat : taken) <
		    STATE_DAEMON_STALE;
	else if (their_pid == pid && mine != NULL && stored != NULL &&
	    strcmp(mine, stored) == 0) {
		/* Ours already. */
		free(their_host);
		free(stored);
		free(mine);
		return state_commit(st, cause);
	} else
		/* The owner is alive only if that very process still runs. */
		live = (theirs = proc_identity((long)their_pid)) != NULL ?
		    stored == NULL || strcmp(stored, theirs) == 0 :
		    mine == NULL && (kill((pid_t)their_pid, 0) == 0 ||
		    errno == EPERM);
	if (live) {
		fail(cause, "another daemon (pid %lld) runs on catalog %s "
		    "(on host %s since %s; the same database under any "
		    "name); stop it first", (long long)their_pid,
		    st->name, their_host ? their_host : "?",
		    time_format(taken, since, sizeof since));
		rc = 1;
		state_rollback(st);
		goto out;
	}
	if ((stmt = st_prepare(st, "INSERT INTO daemon_lock (id, host, pid, "
	    "identity, taken) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO "
	    "UPDATE SET host = excluded.host, pid = excluded.pid, identity = "
	    "excluded.identity, taken = excluded.taken", cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, host);
	db_bind_int64(stmt, 2, pid);
	st_bind_text(stmt, 3, mine);
	db_bind_int64(stmt, 4, now_unix());
	if (st_exec_stmt(st, stmt, cause, "taking the daemon lock") != 0)
		goto bad;
	if (their_host != NULL)
		state_event(st, "daemon.lock", NULL, NULL, "took over the "
		    "daemon lock of pid %lld on %s, which no longer runs",
		    (long long)their_pid, their_host);
	rc = state_commit(st, cause);
	goto out;
bad:
	state_rollback(st);
	rc = -1;
out:
	free(their_host);
	free(stored);
	free(theirs);
	free(mine);
	return rc;
}

void
state_daemon_unlock(struct state *st)
{
	struct db_stmt *stmt;
	char host[256];

	host_name(host, sizeof host);
	if ((stmt = st_prepare(st, "DELETE FROM daemon_lock WHERE id = 1 AND "
	    "host = ? AND pid = ?", NULL)) == NULL)
		return;
	st_bind_text(stmt, 1, host);
	db_bind_int64(stmt, 2, getpid());
	st_exec_stmt(st, stmt, NULL, "giving up the daemon lock");
}

int
state_daemon_lock_lost(struct state *st)
{
	return st->db->drv->session_lock_lost(st->db);
}

int
state_notify_fd(struct state *st)
{
	return st->db->drv->notify_fd(st->db);
}

int64_t
state_session_epoch(struct state *st)
{
	return st->db->drv->session_epoch(st->db);
}
