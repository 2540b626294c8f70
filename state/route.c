/* What access servers are told about a user: the route view. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/route.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int
state_route_get(struct state *st, const char *user, struct state_route *r,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	memset(r, 0, sizeof *r);
	if ((stmt = st_prepare(st, "SELECT \"user\", server, host, home, slice, "
	    "locked, generation FROM route WHERE \"user\" = ?", cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, user);
	rc = db_step(stmt);
	if (rc == DB_ROW) {
		r->user = st_text(stmt, 0);
		r->server = st_text(stmt, 1);
		r->host = st_text(stmt, 2);
		r->home = st_text(stmt, 3);
		r->slice = st_text(stmt, 4);
		r->locked = db_column_int(stmt, 5);
		r->generation = db_column_int64(stmt, 6);
	}
	db_finalize(stmt);
	if (rc == DB_DONE)
		return fail(cause, "account '%s' not found; see 'mailshift "
		    "account list'", user);
	if (rc != DB_ROW)
		return st_fail(st, cause, "reading route");
	return 0;
}

void
state_route_free(struct state_route *r)
{
	free(r->user);
	free(r->server);
	free(r->host);
	free(r->home);
	free(r->slice);
	memset(r, 0, sizeof *r);
}
