/*
 * A CSV reader (RFC 4180): comma-separated fields, optional double quotes,
 * "" for a quote inside quotes, LF or CRLF line ends. Quoted fields may not
 * span lines (no mail path or user name has a newline).
 */
#ifndef MAILSHIFT_CSV_H
#define MAILSHIFT_CSV_H

#include <stdio.h>

#define CSV_MAX_FIELDS 16

struct csv {
	FILE	*f;
	long	 line;			/* line number of the last record */
	char	*buf;			/* the line as read */
	size_t	 bufsize;
	char	*out;			/* unquoted field storage */
	size_t	 outsize;
	char	*field[CSV_MAX_FIELDS];
	int	 nfields;
};

void csv_init(struct csv *, FILE *);
/*
 * Read the next record into c->field[0 .. c->nfields-1]. Returns 1 for a
 * record, 0 at end of file, -1 on a malformed line with a cause naming it.
 * Blank lines are skipped.
 */
int csv_next(struct csv *, char **cause);
void csv_free(struct csv *);

#endif
