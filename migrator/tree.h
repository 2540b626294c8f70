/*
 * Symlink-safe work on a mailbox tree: every open, walk, removal, fsync
 * and name check of something below a slice root goes through here.
 *
 * Paths are walked one component at a time with openat and O_NOFOLLOW
 * from a descriptor the caller already holds (a slice root), so that no
 * symlink is followed anywhere on the way, and nothing is opened by a
 * name that was not checked as one plain component. Directories made
 * take their owner and mode through the descriptor, never by name.
 *
 * Failures return -1 (or NULL) and set *cause to a heap message that the
 * caller reports and frees; cause may be NULL when the reason is not
 * wanted. errno is kept from the failed call where a function says so.
 */
#ifndef MAILSHIFT_TREE_H
#define MAILSHIFT_TREE_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

/* How every directory of a mailbox is opened: never through a symlink. */
#define TREE_DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Where tree_walk_below stopped. */
struct tree_stop {
	int	 error;			/* errno of the open that failed; 0:
					 * a bad path, or no descriptor */
	int	 symlink;		/* part is a symlink */
	char	 part[NAME_MAX + 1];	/* the component it stopped at */
};

/*
 * Open a directory path below an open root, one component at a time,
 * refusing symlinks, "", ".", "..", and components longer than NAME_MAX.
 * Returns an fd or -1 with *cause: "bad path 'P'" for a refused
 * component (errno EINVAL), else "P: error" from the open that failed,
 * with " (a symlink or not a directory on the way)" for ELOOP and ENOTDIR
 * (errno that of the open).
 */
int tree_open_below(int root, const char *path, char **cause);

/*
 * The same walk as tree_open_below, also telling on failure where it
 * stopped in *stop (which may be NULL), for callers that word the error
 * themselves.
 */
int tree_walk_below(int root, const char *path, struct tree_stop *stop,
    char **cause);

/*
 * tree_open_below's walk, creating missing components with mode 0700
 * (nothing is made for a path with a refused component). Each parent
 * directory made here then takes the owner (as root) and the mode of
 * *like, through its descriptor; the last component, when made here, is
 * left 0700 for the caller to give it its own mode, and *created is set.
 * Returns an fd or -1 with *cause ("bad path 'P'", "cannot create P on
 * the target: error", "target P: error (a symlink or not a directory on
 * the way?)", "cannot set the owner or mode of C on the target: error").
 */
int tree_make_below(int root, const char *path, const struct stat *like,
    int *created, char **cause);

/* Does path exist below root, following no symlink? Returns 1 or 0. */
int tree_exists_below(int root, const char *path);

/*
 * Is name one plain path component (not "", ".", "..", no '/', no control
 * characters, at most NAME_MAX bytes)? Returns 1 or 0.
 */
int tree_name_ok(const char *name);

/*
 * Remove name below dirfd and everything in it, following no symlink (a
 * symlink is removed, never what it points to). A name that is not there
 * is not an error. Returns 0, or -1 with *cause.
 */
int tree_remove(int dirfd, const char *name, char **cause);

/*
 * fsync every file and directory of the tree open at dir, then dir itself
 * (the slow durable way); symlinks and entries that vanish are skipped.
 * Returns 0, or -1 with *cause.
 */
int tree_fsync(int dir, char **cause);

/*
 * Add the regular files and their bytes of the tree open at dir to *files
 * and *bytes (not following symlinks). Returns 0, or -1 with *cause.
 */
int tree_measure(int dir, uint64_t *files, uint64_t *bytes, char **cause);

/*
 * Read the directory open at fd through a descriptor of its own, so fd
 * keeps its offset; rel names it in a cause. Returns a DIR to closedir,
 * or NULL with *cause.
 */
DIR *tree_dir_open(int fd, const char *rel, char **cause);

/*
 * The next entry of d but "." and "..". Returns NULL at the end (errno 0)
 * or on an error (errno set).
 */
struct dirent *tree_dir_next(DIR *d);

/*
 * rel/name (name alone when rel is "") printable for messages: control
 * characters escaped as \xNN. Returns a heap string.
 */
char *tree_shown(const char *rel, const char *name);

/*
 * Set *cause to "what rel/name: strerror(errno)" ("." for an empty
 * path), keeping errno. Returns -1.
 */
int tree_sys_fail(char **cause, const char *what, const char *rel,
    const char *name);

#endif
