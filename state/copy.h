/* Copying a whole catalog into another, of either engine. */
#ifndef MAILSHIFT_STATE_COPY_H
#define MAILSHIFT_STATE_COPY_H

#include "state/state.h"

/* What was copied of one table, and its checksum on both sides. */
struct state_copy_table {
	const char	*name;
	int64_t		 rows;
	uint64_t	 sum;		/* FNV-1a over every value, in key order */
};

/*
 * Copy every table of src into dst, in a transaction on each (src's holds
 * the writer lock, so the copy is one consistent state). dst must hold no
 * rows (a new catalog, or one just made). Each table's rows and checksum
 * are read back from dst before the commit and must equal src's; report
 * is called once a table is verified. The daemon's own status and lock
 * are not copied (they describe a running daemon, not the catalog).
 */
int state_copy(struct state *src, struct state *dst,
    void (*report)(void *, const struct state_copy_table *), void *arg,
    char **cause);

#endif
