/* Internals shared by the files of the state module. */
#ifndef MAILSHIFT_STATE_INT_H
#define MAILSHIFT_STATE_INT_H

#include "state/db.h"

#include "state/state.h"

/* The open states of a move as an SQL list: the moves the
 * moves_one_open index allows one of per account. */
#define OPEN_STATES "('queued','copying','syncing','ready','cutover')"

struct state {
	struct db	*db;
	enum db_engine	 engine;
	char		*path;		/* as given: file or conninfo */
	char		*name;		/* as messages show it */
	int		 version_found;	/* schema version before upgrade */
	int		 in_tx;		/* inside state_begin/commit */
};

/* Each engine's schema history (state/schema.c). */
extern const char *const st_sqlite_migrations[STATE_SCHEMA_VERSION];
extern const char *const st_pgsql_migrations[STATE_SCHEMA_VERSION];

/* Prepare sql or set *cause; returns NULL on failure. */
struct db_stmt *st_prepare(struct state *, const char *sql, char **cause);
/* Fail with the database's message about what was being done. */
int st_fail(struct state *, char **cause, const char *what);
/* Copy a text column (NULL stays NULL). */
char *st_text(struct db_stmt *, int col);
/* Bind text, NULL allowed. */
void st_bind_text(struct db_stmt *, int idx, const char *);
/* Run a statement that returns no rows; finalizes it. */
int st_exec_stmt(struct state *, struct db_stmt *, char **cause,
    const char *what);
/*
 * Run a best-effort statement (an event): it may fail without failing the
 * caller's transaction. SQLite's transaction survives a failed statement;
 * PostgreSQL's does not, so there the statement runs in a savepoint.
 * Returns 0 when it ran.
 */
int st_best_effort(struct state *, struct db_stmt *);
/* Run an INSERT ... RETURNING id; finalizes it. 0 and *id set, or -1
 * (also when no row was inserted). */
int st_insert_id(struct state *, struct db_stmt *, int64_t *id,
    char **cause, const char *what);
/* The id of the row sql selects for one bound name: 0 and *id set (0 when
 * there is no such row), or -1. */
int st_lookup_id(struct state *, const char *sql, const char *name,
    int64_t *id, char **cause);

/* The id of a named server or pair: 0, or -1 with a cause naming it. */
int state_server_id(struct state *, const char *name, int64_t *id,
    char **cause);
int state_pair_id(struct state *, const char *name, int64_t *id,
    char **cause);

/* Which row st_health_set writes. */
enum st_health_of { ST_HEALTH_SLICE, ST_HEALTH_SERVER };
/*
 * state_slice_set_health and state_server_set_health for the slice or
 * server of id (state/slice.c); label names it in the cause when the row
 * is gone.
 */
int st_health_set(struct state *, enum st_health_of, int64_t id,
    const char *label, const char *health, const char *reason, int64_t when,
    int *changed, char **cause);

#endif
