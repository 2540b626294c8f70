/* Pairs in the catalog: two servers that replicate each other. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/pair.h"
#include "common/util.h"

#include <string.h>

/* The id of the pair called name, or an error naming it. */
int
state_pair_id(struct state *st, const char *name, int64_t *id, char **cause)
{
	if (st_lookup_id(st, "SELECT id FROM pairs WHERE name = ?", name, id,
	    cause) != 0)
		return -1;
	if (*id == 0)
		return fail(cause, "pair '%s' not found; see 'mailshift pair "
		    "list'", name);
	return 0;
}

int
state_pair_add(struct state *st, const char *name, const char *a,
    const char *b, char **cause)
{
	struct db_stmt *stmt;
	int64_t id, ida, idb, other;

	if (strcmp(a, b) == 0)
		return fail(cause, "pair '%s': both servers are '%s'; a pair "
		    "needs two different servers", name, a);
	if (st_lookup_id(st, "SELECT id FROM pairs WHERE name = ?", name, &id,
	    cause) != 0)
		return -1;
	if (id != 0)
		return fail(cause, "pair '%s' already exists; see 'mailshift "
		    "pair list'", name);
	if (state_server_id(st, a, &ida, cause) != 0 ||
	    state_server_id(st, b, &idb, cause) != 0)
		return -1;
	if (st_lookup_id(st, "SELECT p.id FROM pairs p JOIN servers s ON "
	    "s.id IN (p.server_a, p.server_b) WHERE s.name = ?", a, &other,
	    cause) != 0)
		return -1;
	if (other == 0 && st_lookup_id(st, "SELECT p.id FROM pairs p JOIN "
	    "servers s ON s.id IN (p.server_a, p.server_b) WHERE s.name = ?",
	    b, &other, cause) != 0)
		return -1;
	if (other != 0)
		return fail(cause, "server '%s' or '%s' already belongs to a "
		    "pair; a server is in one pair only (see 'mailshift "
		    "server list')", a, b);
	if (state_begin(st, cause) != 0)
		return -1;
	if ((stmt = st_prepare(st, "INSERT INTO pairs (name, server_a, "
	    "server_b, created) VALUES (?, ?, ?, ?)", cause)) == NULL)
		goto bad;
	st_bind_text(stmt, 1, name);
	db_bind_int64(stmt, 2, ida);
	db_bind_int64(stmt, 3, idb);
	db_bind_int64(stmt, 4, now_unix());
	if (st_exec_stmt(st, stmt, cause, "adding pair") != 0)
		goto bad;
	state_event(st, "pair.add", NULL, NULL, "pair %s of %s and %s added",
	    name, a, b);
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

int
state_pair_list(struct state *st,
    int (*cb)(const struct state_pair *, void *), void *arg, char **cause)
{
	struct db_stmt *stmt;
	struct state_pair p;
	int rc;

	if ((stmt = st_prepare(st, "SELECT p.id, p.name, a.name, b.name, "
	    "(SELECT count(*) FROM slices s WHERE s.pair_id = p.id), "
	    "p.created FROM pairs p JOIN servers a ON a.id = p.server_a "
	    "JOIN servers b ON b.id = p.server_b ORDER BY p.name", cause))
	    == NULL)
		return -1;
	while ((rc = db_step(stmt)) == DB_ROW) {
		p.id = db_column_int64(stmt, 0);
		p.name = (char *)db_column_text(stmt, 1);
		p.server_a = (char *)db_column_text(stmt, 2);
		p.server_b = (char *)db_column_text(stmt, 3);
		p.slices = db_column_int64(stmt, 4);
		p.created = db_column_int64(stmt, 5);
		if (cb(&p, arg) != 0)
			break;
	}
	db_finalize(stmt);
	if (rc != DB_ROW && rc != DB_DONE)
		return st_fail(st, cause, "listing pairs");
	return 0;
}
