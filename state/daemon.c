/* What the daemon says about itself in the catalog: its one status row. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/daemon.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
state_daemon_update(struct state *st, const struct state_daemon *d,
    char **cause)
{
	sqlite3_stmt *stmt;

	if ((stmt = st_prepare(st, "INSERT INTO daemon (id, pid, started, "
	    "heartbeat, stopped, running, bytes, files, listen) VALUES "
	    "(1, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
	    "pid = excluded.pid, started = excluded.started, heartbeat = "
	    "excluded.heartbeat, stopped = excluded.stopped, running = "
	    "excluded.running, bytes = excluded.bytes, files = "
	    "excluded.files, listen = excluded.listen", cause)) == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, d->pid);
	sqlite3_bind_int64(stmt, 2, d->started);
	sqlite3_bind_int64(stmt, 3, d->heartbeat);
	if (d->stopped)
		sqlite3_bind_int64(stmt, 4, d->stopped);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_int64(stmt, 5, d->running);
	sqlite3_bind_int64(stmt, 6, (int64_t)d->bytes);
	sqlite3_bind_int64(stmt, 7, (int64_t)d->files);
	st_bind_text(stmt, 8, d->listen);
	return st_exec_stmt(st, stmt, cause, "recording daemon status");
}

int
state_daemon_get(struct state *st, struct state_daemon *d, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(d, 0, sizeof *d);
	if ((stmt = st_prepare(st, "SELECT pid, started, heartbeat, "
	    "coalesce(stopped, 0), running, bytes, files, listen FROM daemon "
	    "WHERE id = 1", cause)) == NULL)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		d->pid = sqlite3_column_int64(stmt, 0);
		d->started = sqlite3_column_int64(stmt, 1);
		d->heartbeat = sqlite3_column_int64(stmt, 2);
		d->stopped = sqlite3_column_int64(stmt, 3);
		d->running = sqlite3_column_int64(stmt, 4);
		d->bytes = (uint64_t)sqlite3_column_int64(stmt, 5);
		d->files = (uint64_t)sqlite3_column_int64(stmt, 6);
		d->listen = st_text(stmt, 7);
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return st_fail(st, cause, "reading daemon status");
	return 0;
}
