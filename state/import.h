/*
 * Bulk import of account placements, all or nothing (state/import.c):
 * begin, one row per input line, finish. Conventions (return values,
 * *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_IMPORT_H
#define MAILSHIFT_STATE_IMPORT_H

#include <stdint.h>

#include "state/state.h"

/* An import under way: opaque. */
struct state_import;

/* What an import did. */
struct state_import_stats {
	int64_t	 rows;			/* rows staged */
	int64_t	 added;			/* new accounts */
	int64_t	 updated;		/* placement or sizes changed */
	int64_t	 unchanged;
};

/*
 * Start an import. With replace, accounts already placed elsewhere are
 * moved to the placement the rows give; without it that is an error.
 * The import holds a write transaction of the catalog until finish or
 * abort: nothing else may begin one on st meanwhile. Returns the import,
 * or NULL with *cause set.
 */
struct state_import *state_import_begin(struct state *, int replace,
    char **cause);
/*
 * Stage the row of input line line; slice is a name, path already
 * checked. Refused, naming the line, for an unknown slice or a size above
 * INT64_MAX; the import stays open either way.
 */
int state_import_row(struct state_import *, int64_t line, const char *user,
    const char *slice, const char *path, uint64_t bytes, uint64_t files,
    char **cause);
/*
 * Check the whole set and commit it. Refused, naming the first line at
 * fault, for a user or a slice path given twice, a directory that belongs
 * to another account, an account with an open move that the row would
 * place elsewhere, or (without replace) an account already placed
 * elsewhere. An account whose placement changes
 * gets a new generation; the import is logged. The import is freed either
 * way; on failure nothing is kept. out (may be NULL) gets the counts.
 */
int state_import_finish(struct state_import *,
    struct state_import_stats *out, char **cause);
/* Abandon an import: nothing is kept, the import is freed. NULL is fine. */
void state_import_abort(struct state_import *);

#endif
