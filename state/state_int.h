/* Internals shared by the files of the state module. */
#ifndef MAILSHIFT_STATE_INT_H
#define MAILSHIFT_STATE_INT_H

#include <sqlite3.h>

#include "state/state.h"

/* The open states of a move as an SQL list: the moves the
 * moves_one_open index allows one of per account. */
#define OPEN_STATES "('queued','copying','syncing','ready','cutover')"

struct state {
	sqlite3	*db;
	char	*path;
	int	 version_found;		/* user_version before upgrade */
	int	 in_tx;			/* inside state_begin/commit */
};

/* Prepare sql or set *cause; returns NULL on failure. */
sqlite3_stmt *st_prepare(struct state *, const char *sql, char **cause);
/* Fail with the database's message about what was being done. */
int st_fail(struct state *, char **cause, const char *what);
/* Copy a text column (NULL stays NULL). */
char *st_text(sqlite3_stmt *, int col);
/* Bind text, NULL allowed. */
void st_bind_text(sqlite3_stmt *, int idx, const char *);
/* Run a statement that returns no rows; finalizes it. */
int st_exec_stmt(struct state *, sqlite3_stmt *, char **cause,
    const char *what);

#endif
