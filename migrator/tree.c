/* Symlink-safe opens, walks, removal, fsync and name checks: see tree.h. */
#define _GNU_SOURCE
#include "migrator/tree.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
tree_name_ok(const char *name)
{
	/* The rule layout templates apply to names too (common/). */
	return strlen(name) <= NAME_MAX && name_is_component(name);
}

/*
 * Take the next component of the path at *p into part and advance *p past
 * it; *last is set for the final one. Returns -1 for a component that is
 * empty, "." or "..", or longer than NAME_MAX.
 */
static int
next_part(const char **p, char part[NAME_MAX + 1], int *last)
{
	const char *slash = strchr(*p, '/');
	size_t n = slash ? (size_t)(slash - *p) : strlen(*p);

	if (n == 0 || n > NAME_MAX)
		return -1;
	memcpy(part, *p, n);
	part[n] = '\0';
	if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0)
		return -1;
	*last = slash == NULL;
	if (slash != NULL)
		*p = slash + 1;
	return 0;
}

/* A descriptor of root of our own to walk from. */
static int
walk_start(int root, char **cause)
{
	int fd, e;

	if ((fd = dup(root)) < 0) {
		e = errno;
		fail(cause, "%s", strerror(e));
		errno = e;
	}
	return fd;
}

int
tree_walk_below(int root, const char *path, struct tree_stop *stop,
    char **cause)
{
	char part[NAME_MAX + 1];
	const char *p = path;
	struct stat sb;
	int fd, next, last, e;

	if (stop != NULL)
		memset(stop, 0, sizeof *stop);
	if ((fd = walk_start(root, cause)) < 0)
		return -1;
	for (;;) {
		if (next_part(&p, part, &last) != 0) {
			close(fd);
			fail(cause, "bad path '%s'", path);
			errno = EINVAL;
			return -1;
		}
		if ((next = openat(fd, part, TREE_DIR_FLAGS)) < 0) {
			e = errno;
			if (stop != NULL) {
				stop->error = e;
				memcpy(stop->part, part, sizeof stop->part);
				stop->symlink = (e == ELOOP || e == ENOTDIR) &&
				    fstatat(fd, part, &sb,
				    AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(sb.st_mode);
			}
			close(fd);
			fail(cause, "%s: %s%s", path, strerror(e),
			    e == ELOOP || e == ENOTDIR ? " (a symlink or not a "
			    "directory on the way)" : "");
			errno = e;
			return -1;
		}
		close(fd);
		fd = next;
		if (last)
			return fd;
	}
}

int
tree_open_below(int root, const char *path, char **cause)
{
	return tree_walk_below(root, path, NULL, cause);
}

int
tree_make_below(int root, const char *path, const struct stat *like,
    int *created, char **cause)
{
	char part[NAME_MAX + 1];
	const char *p = path;
	int fd, next, last = 0, made, e;

	*created = 0;
	/* Every component is checked before anything is made. */
	while (!last) {
		if (next_part(&p, part, &last) != 0) {
			fail(cause, "bad path '%s'", path);
			errno = EINVAL;
			return -1;
		}
	}
	p = path;
	if ((fd = walk_start(root, cause)) < 0)
		return -1;
	for (;;) {
		next_part(&p, part, &last);
		made = mkdirat(fd, part, 0700) == 0;
		if (!made && errno != EEXIST) {
			e = errno;
			close(fd);
			fail(cause, "cannot create %s on the target: %s", path,
			    strerror(e));
			errno = e;
			return -1;
		}
		next = openat(fd, part, TREE_DIR_FLAGS);
		e = errno;
		close(fd);
		if (next < 0) {
			fail(cause, "target %s: %s (a symlink or not a "
			    "directory on the way?)", path, strerror(e));
			errno = e;
			return -1;
		}
		fd = next;
		/* A parent made here takes the owner and mode of like,
		 * through the descriptor, never by name. */
		if (made && last)
			*created = 1;
		else if (made && ((geteuid() == 0 && fchown(fd, like->st_uid,
		    like->st_gid) != 0) || fchmod(fd, like->st_mode & 07777)
		    != 0)) {
			e = errno;
			close(fd);
			fail(cause, "cannot set the owner or mode of %s on the "
			    "target: %s", part, strerror(e));
			errno = e;
			return -1;
		}
		if (last)
			return fd;
	}
}

int
tree_exists_below(int root, const char *path)
{
	char *dir = xstrdup(path), *base = strrchr(dir, '/');
	struct stat sb;
	int fd = root, rc = 0;

	if (base != NULL) {
		*base++ = '\0';
		if ((fd = tree_open_below(root, dir, NULL)) < 0) {
			free(dir);
			return 0;
		}
	} else
		base = dir;
	if (*base != '\0' && strlen(base) <= NAME_MAX &&
	    strcmp(base, ".") != 0 && strcmp(base, "..") != 0)
		rc = fstatat(fd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	if (fd != root)
		close(fd);
	free(dir);
	return rc;
}

char *
tree_shown(const char *rel, const char *name)
{
	size_t n = strlen(rel) + strlen(name) + 2, i = 0;
	char *out = xmalloc(n * 4 + 1);
	const unsigned char *p;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		p = (const unsigned char *)(pass == 0 ? rel : name);
		if (pass == 1 && *rel != '\0')
			out[i++] = '/';
		for (; *p != '\0'; p++) {
			if (*p < 0x20 || *p == 0x7f)
				i += (size_t)sprintf(out + i, "\\x%02x", *p);
			else
				out[i++] = (char)*p;
		}
	}
	out[i] = '\0';
	return out;
}

int
tree_sys_fail(char **cause, const char *what, const char *rel,
    const char *name)
{
	int e = errno;
	char *p = tree_shown(rel, name);

	fail(cause, "%s %s: %s", what, *p ? p : ".", strerror(e));
	free(p);
	errno = e;
	return -1;
}

DIR *
tree_dir_open(int fd, const char *rel, char **cause)
{
	DIR *d;
	int dfd;

	if ((dfd = openat(fd, ".", TREE_DIR_FLAGS)) < 0) {
		tree_sys_fail(cause, "cannot open", rel, "");
		return NULL;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		tree_sys_fail(cause, "cannot list", rel, "");
		close(dfd);
	}
	return d;
}

struct dirent *
tree_dir_next(DIR *d)
{
	struct dirent *de;

	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			break;
	}
	return de;
}

int
tree_remove(int dirfd, const char *name, char **cause)
{
	struct dirent *de = NULL;
	struct stat st;
	DIR *d;
	int fd, rc = 0, more = 1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : tree_sys_fail(cause,
		    "cannot stat", "", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
			return tree_sys_fail(cause, "cannot remove", "", name);
		return 0;
	}
	if ((fd = openat(dirfd, name, TREE_DIR_FLAGS)) < 0)
		return tree_sys_fail(cause, "cannot open", "", name);
	/* Entries are removed as they are read, which may hide others
	 * from that reading: read again until a reading finds nothing. */
	while (rc == 0 && more) {
		if ((d = tree_dir_open(fd, name, cause)) == NULL) {
			rc = -1;
			break;
		}
		more = 0;
		while (rc == 0 && (de = tree_dir_next(d)) != NULL) {
			rc = tree_remove(fd, de->d_name, cause);
			more = 1;
		}
		if (rc == 0 && errno != 0)
			rc = tree_sys_fail(cause, "cannot list", "", name);
		closedir(d);
	}
	close(fd);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0 &&
	    errno != ENOENT)
		return tree_sys_fail(cause, "cannot remove", "", name);
	return rc;
}

int
tree_measure(int dir, uint64_t *files, uint64_t *bytes, char **cause)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if ((d = tree_dir_open(dir, "", cause)) == NULL)
		return -1;
	while (rc == 0 && (de = tree_dir_next(d)) != NULL) {
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				rc = tree_sys_fail(cause, "cannot stat", "",
				    de->d_name);
		} else if (S_ISREG(st.st_mode)) {
			(*files)++;
			*bytes += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode) &&
		    (fd = openat(dir, de->d_name, TREE_DIR_FLAGS)) >= 0) {
			rc = tree_measure(fd, files, bytes, cause);
			close(fd);
		}
	}
	if (rc == 0 && errno != 0)
		rc = tree_sys_fail(cause, "cannot list", "", "");
	closedir(d);
	return rc;
}

int
tree_fsync(int dir, char **cause)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if ((d = tree_dir_open(dir, "", cause)) == NULL)
		return -1;
	while (rc == 0 && (de = tree_dir_next(d)) != NULL) {
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    S_ISLNK(st.st_mode))
			continue;
		fd = openat(dir, de->d_name, S_ISDIR(st.st_mode) ?
		    TREE_DIR_FLAGS : O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = tree_fsync(fd, cause);
		else if (fsync(fd) != 0)
			rc = tree_sys_fail(cause, "cannot fsync", "",
			    de->d_name);
		close(fd);
	}
	if (rc == 0 && errno != 0)
		rc = tree_sys_fail(cause, "cannot list", "", "");
	closedir(d);
	if (rc == 0 && fsync(dir) != 0)
		rc = tree_sys_fail(cause, "cannot fsync a directory", "", "");
	return rc;
}
