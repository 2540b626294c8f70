/*
 * File-system helpers shared by the tests that build and compare trees.
 * Include after testutil.h (cmocka's fail_msg is used).
 */
#ifndef MAILSHIFT_TESTFS_H
#define MAILSHIFT_TESTFS_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

/* root/rel into buf (PATH_MAX bytes); rel "" is root itself. */
static inline char *
join(char *buf, const char *root, const char *rel)
{
	if ((size_t)snprintf(buf, PATH_MAX, "%s%s%s", root, *rel ? "/" : "",
	    rel) >= PATH_MAX)
		abort();
	return buf;
}

/* lstat of root/rel, failing the test when it cannot be done. */
static inline struct stat
lst(const char *root, const char *rel)
{
	struct stat st;
	char p[PATH_MAX];

	if (lstat(join(p, root, rel), &st) != 0)
		fail_msg("cannot stat %s: %s", p, strerror(errno));
	return st;
}

/* Read a whole file into a heap buffer. */
static inline char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n;

	if (f == NULL)
		fail_msg("cannot read %s", path);
	*len = 0;
	do {
		cap += 65536;
		buf = realloc(buf, cap);
		assert_non_null(buf);
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (*len == cap);
	fclose(f);
	return buf;
}

/* scandir filter: everything but . and .. */
static inline int
no_dots(const struct dirent *de)
{
	return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

/* Number of entries in a directory (not . and ..). */
static inline int
entries_in(const char *path)
{
	struct dirent **l;
	int n = scandir(path, &l, no_dots, alphasort), i;

	assert_true(n >= 0);
	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
	return n;
}

#endif
