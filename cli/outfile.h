/*
 * An output file that a reader never sees half written: stdout, or a
 * regular file written as a temporary file next to it and renamed over it
 * when complete.
 */
#ifndef MAILSHIFT_OUTFILE_H
#define MAILSHIFT_OUTFILE_H

#include <stdio.h>

struct outfile {
	FILE		*f;		/* write here */
	const char	*path;		/* as given; NULL = stdout */
	char		*real;		/* path with symlinks resolved */
	char		*tmp;		/* temporary name; NULL: in place */
};

/*
 * Open path for writing, or stdout when path is NULL. A regular file (or a
 * new one) is written as a temporary file in its directory and renamed
 * over it by outfile_close(); a symlink to one is followed and stays a
 * symlink. Anything else that exists (a FIFO, /dev/stdout, a terminal) is
 * written in place; a directory is refused. Returns 0, or -1 with a heap
 * *cause naming the file and what to do (nothing is left behind).
 */
int outfile_open(struct outfile *o, const char *path, char **cause);

/*
 * Finish the output: flush, fsync and rename a temporary file into place.
 * Nothing is checked or closed for stdout. Returns 0, or -1 with a heap
 * *cause when the file could not be written whole; the temporary file is
 * then removed and what was at path is left as it was.
 */
int outfile_close(struct outfile *o, char **cause);

#endif
