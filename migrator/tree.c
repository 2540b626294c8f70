/* Symlink-safe opens below a slice root. */
#define _GNU_SOURCE
#include "migrator/tree.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
tree_open_below(int root, const char *path, char **cause)
{
	char part[256];
	const char *p = path, *slash;
	int fd, next;
	size_t n;

	if ((fd = dup(root)) < 0)
		return fail(cause, "%s", strerror(errno));
	for (;;) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof part) {
			close(fd);
			return fail(cause, "bad path '%s'", path);
		}
		memcpy(part, p, n);
		part[n] = '\0';
		next = openat(fd, part, TREE_DIR_FLAGS);
		close(fd);
		if (next < 0)
			return fail(cause, "%s: %s%s", path, strerror(errno),
			    errno == ELOOP || errno == ENOTDIR ? " (a symlink "
			    "or not a directory on the way)" : "");
		fd = next;
		if (slash == NULL)
			return fd;
		p = slash + 1;
	}
}

/*
 * Open the target mailbox directory below root, creating missing
 * components with the mode and owner of like (the source's parent).
 * Sets *created when the mailbox directory itself was made here.
 */
int
tree_make_below(int root, const char *path, const struct stat *like,
    int *created, char **cause)
{
	char part[256];
	const char *p = path, *slash;
	int fd, next;
	size_t n;

	*created = 0;
	if ((fd = dup(root)) < 0)
		return fail(cause, "%s", strerror(errno));
	for (;;) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		memcpy(part, p, n);
		part[n] = '\0';
		int made = mkdirat(fd, part, 0700) == 0;

		if (!made && errno != EEXIST) {
			int e = errno;

			close(fd);
			return fail(cause, "cannot create %s on the target: "
			    "%s", path, strerror(e));
		}
		next = openat(fd, part, TREE_DIR_FLAGS);
		close(fd);
		if (next < 0)
			return fail(cause, "target %s: %s (a symlink or not a "
			    "directory on the way?)", path, strerror(errno));
		fd = next;
		/* A parent made here takes the source parent's owner and
		 * mode, through the descriptor, never by name. */
		if (made && slash == NULL)
			*created = 1;
		else if (made && ((geteuid() == 0 && fchown(fd, like->st_uid,
		    like->st_gid) != 0) || fchmod(fd, like->st_mode & 07777)
		    != 0)) {
			close(fd);
			return fail(cause, "cannot set the owner or mode of %s "
			    "on the target: %s", part, strerror(errno));
		}
		if (slash == NULL)
			return fd;
		p = slash + 1;
	}
}

/* Does path exist below root (without following symlinks)? */
int
tree_exists_below(int root, const char *path)
{
	char *dir = xstrdup(path), *base = strrchr(dir, '/');
	struct stat sb;
	int fd, rc;

	if (base == NULL) {
		rc = fstatat(root, path, &sb, AT_SYMLINK_NOFOLLOW) == 0;
		free(dir);
		return rc;
	}
	*base++ = '\0';
	if ((fd = tree_open_below(root, dir, NULL)) < 0) {
		free(dir);
		return 0;
	}
	rc = fstatat(fd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	free(dir);
	return rc;
}

