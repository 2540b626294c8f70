/* The slice marker file: see slice.h. */
#define _GNU_SOURCE
#include "migrator/slice.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARK_PREFIX "mailshift slice "

/* Read the slice name a marker in directory fd gives; NULL when none. */
static char *
marker_name(int fd, int *err)
{
	char buf[512];
	ssize_t n;
	int m;

	if ((m = openat(fd, SLICE_MARKER, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		*err = errno;
		return NULL;
	}
	n = read(m, buf, sizeof buf - 1);
	close(m);
	if (n <= 0) {
		*err = EINVAL;
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, MARK_PREFIX, strlen(MARK_PREFIX)) != 0) {
		*err = EINVAL;
		return NULL;
	}
	return xstrdup(buf + strlen(MARK_PREFIX));
}

int
slice_mark(const char *root, const char *name, int *created, char **cause)
{
	char *have, *text;
	int fd, m, err = 0, rc = -1;
	ssize_t len;

	*created = 0;
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail(cause, "slice path %s: %s", root, strerror(errno));
	if ((have = marker_name(fd, &err)) != NULL) {
		if (strcmp(have, name) == 0)
			rc = 0;
		else
			fail(cause, "path %s is already slice '%s' (see its %s "
			    "file)", root, have, SLICE_MARKER);
		free(have);
		close(fd);
		return rc;
	}
	if (err != ENOENT) {
		close(fd);
		return fail(cause, "%s/%s is unreadable or not a mailshift "
		    "marker; remove it if this directory is no slice", root,
		    SLICE_MARKER);
	}
	text = xasprintf(MARK_PREFIX "%s\n", name);
	len = (ssize_t)strlen(text);
	if ((m = openat(fd, SLICE_MARKER, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) < 0 || write(m, text, (size_t)len)
	    != len || fsync(m) != 0) {
		fail(cause, "cannot write %s/%s: %s; mailshift marks a slice's "
		    "root to recognise it", root, SLICE_MARKER,
		    strerror(errno));
		if (m >= 0) {
			close(m);
			unlinkat(fd, SLICE_MARKER, 0);
		}
	} else {
		close(m);
		*created = 1;
		rc = 0;
	}
	free(text);
	close(fd);
	return rc;
}

void
slice_unmark(const char *root)
{
	char *path = xasprintf("%s/%s", root, SLICE_MARKER);

	unlink(path);
	free(path);
}

int
slice_open(const char *root, const char *name, char **cause)
{
	char *have;
	int fd, err = 0;

	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return fail(cause, "slice '%s': cannot open %s: %s; is it "
		    "mounted?", name, root, strerror(errno));
	if ((have = marker_name(fd, &err)) == NULL) {
		close(fd);
		return fail(cause, "slice '%s': %s has no %s marker, so it is "
		    "not the slice (is the slice mounted?); nothing was done: "
		    "mount the slice there, or if it is mounted and the marker "
		    "was lost, write it again with: echo '" MARK_PREFIX "%s' > "
		    "%s/%s", name, root, SLICE_MARKER, name, root,
		    SLICE_MARKER);
	}
	if (strcmp(have, name) != 0) {
		fail(cause, "slice '%s': %s is marked as slice '%s'; check "
		    "the mount and the catalog", name, root, have);
		free(have);
		close(fd);
		return -1;
	}
	free(have);
	return fd;
}
