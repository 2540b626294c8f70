/* Bringing an archived mailbox back: see restore.h. */
#define _GNU_SOURCE
#include "migrator/restore.h"
#include "migrator/zarchive.h"
#include "common/util.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Into a directory of the admin's choice, as to/user. */
static int
restore_to(const char *archive, const char *user, const char *to,
    char **final, char **cause)
{
	struct stat sb;

	if (stat(to, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return fail(cause, "--to %s is not a directory", to);
	*final = xasprintf("%s/%s", to, user);
	if (lstat(*final, &sb) == 0)
		return fail(cause, "%s already exists; restore elsewhere",
		    *final);
	return zarchive_extract(archive, to, user, cause);
}

/* Back into the account's home, only where nothing is. */
static int
restore_home(const char *archive, const char *user, const char *home,
    char **final, char **cause)
{
	struct stat sb;
	char *dir, *base, *tmp;
	int rc = -1;

	if (lstat(home, &sb) == 0)
		return fail(cause, "%s (the home of %s) exists; restore into "
		    "another directory with --to DIR", home, user);
	dir = xstrdup(home);
	base = strrchr(dir, '/');
	assert(base != NULL);
	*base = '\0';
	*final = xstrdup(home);
	tmp = xasprintf(".mailshift-restore.%ld", (long)getpid());
	if (zarchive_extract(archive, dir, tmp, cause) != 0)
		goto out;
	free(tmp);
	tmp = xasprintf("%s/.mailshift-restore.%ld", dir, (long)getpid());
	if (rename(tmp, *final) != 0) {
		fail(cause, "cannot move the restored mailbox into %s: %s",
		    *final, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	free(tmp);
	return rc;
}

int
restore_account(const char *archive, const char *user, const char *home,
    const char *to, char **final, char **cause)
{
	int rc;

	*final = NULL;
	if (to != NULL)
		rc = restore_to(archive, user, to, final, cause);
	else
		rc = restore_home(archive, user, home, final, cause);
	if (rc != 0) {
		free(*final);
		*final = NULL;
	}
	return rc;
}
