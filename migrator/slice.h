/*
 * The marker file that says "this directory is slice NAME". A slice's root
 * holds .mailshift-slice; mailshift opens a slice only through it, so an
 * unmounted slice (an empty mount point, or the filesystem underneath) is
 * never mistaken for the slice: nothing is copied into it, nothing found
 * missing, nothing retired from it.
 */
#ifndef MAILSHIFT_SLICE_H
#define MAILSHIFT_SLICE_H

#define SLICE_MARKER ".mailshift-slice"

/*
 * Write the marker of slice name in root, unless it is there already for
 * that name. Sets *created when this call wrote it. Refuses a root that
 * is marked for another slice.
 */
int slice_mark(const char *root, const char *name, int *created,
    char **cause);
/* Remove a marker slice_mark created (after a failed slice add). */
void slice_unmark(const char *root);
/*
 * Open the root of slice name (O_DIRECTORY, never following a symlink at
 * the end) after checking its marker. Returns the fd, or -1 with a cause
 * that says to check the mount.
 */
int slice_open(const char *root, const char *name, char **cause);

#endif
