/* Servers in the catalog: the storage hosts that serve slices. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/server.h"
#include "state/slice.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* The id of the server called name, or an error naming it. */
int
state_server_id(struct state *st, const char *name, int64_t *id, char **cause)
{
	if (st_lookup_id(st, "SELECT id FROM servers WHERE name = ?", name, id,
	    cause) != 0)
		return -1;
	if (*id == 0)
		return fail(cause, "server '%s' not found; see 'mailshift "
		    "server list'", name);
	return 0;
}

int
state_server_add(struct state *st, const char *name, const char *address,
    char **cause)
{
	struct db_stmt *stmt;
	int64_t id;

	if (st_lookup_id(st, "SELECT id FROM servers WHERE name = ?", name, &id,
	    cause) != 0)
		return -1;
	if (id != 0)
		return fail(cause, "server '%s' already exists; see "
		    "'mailshift server list'", name);
	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "INSERT INTO servers (name, address, "
	    "created) VALUES (?, ?, ?)", cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, name);
	st_bind_text(stmt, 2, address);
	db_bind_int64(stmt, 3, now_unix());
	if (st_exec_stmt(st, stmt, cause, "adding server") != 0)
		goto bad;
	state_event(st, "server.add", NULL, NULL, "server %s added at %s",
	    name, address);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_server_list(struct state *st,
    int (*cb)(const struct state_server *, void *), void *arg, char **cause)
{
	struct db_stmt *stmt;
	struct state_server s;
	int rc;

	if ((stmt = st_prepare(st, "SELECT s.id, s.name, s.address, p.name, "
	    "s.created, s.health, s.health_reason, s.health_since FROM "
	    "servers s LEFT JOIN pairs p ON s.id IN (p.server_a, p.server_b) "
	    "ORDER BY s.name", cause)) == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		s.id = db_column_int64(stmt, 0);
		s.name = (char *)db_column_text(stmt, 1);
		s.address = (char *)db_column_text(stmt, 2);
		s.pair = (char *)db_column_text(stmt, 3);
		s.created = db_column_int64(stmt, 4);
		s.health = (char *)db_column_text(stmt, 5);
		s.health_reason = (char *)db_column_text(stmt, 6);
		s.health_since = db_column_int64(stmt, 7);
		if (cb(&s, arg) != 0)
			break;
	}
	db_finalize(stmt);
	if (rc != DB_ROW && rc != DB_DONE)
		return st_fail(st, cause, "listing servers");
	return 0;
}

int
state_server_set_health(struct state *st, const char *name,
    const char *health, const char *reason, int64_t when, int *changed,
    char **cause)
{
	char label[96];
	int64_t id;

	*changed = 0;
	if (!state_health_valid(health))
		return fail(cause, "unknown health '%s'; use ok, degraded or "
		    "unresponsive", health != NULL ? health : "");
	if (state_server_id(st, name, &id, cause) != 0)
		return -1;
	snprintf(label, sizeof label, "server '%.64s'", name);
	return st_health_set(st, ST_HEALTH_SERVER, id, label, health, reason,
	    when, changed, cause);
}
