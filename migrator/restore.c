/* Bringing an archived mailbox back: see restore.h. */
#define _GNU_SOURCE
#include "migrator/restore.h"
#include "migrator/zarchive.h"
#include "common/util.h"
#include "state/account.h"
#include "state/slice.h"

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

/* Where --to lies: the slice whose root holds it, and the path below. */
struct place {
	const char	*real;		/* realpath of --to */
	int64_t		 slice_id;
	char		*slice;
	char		*rel;		/* "" for the slice root itself */
};

static int
place_cb(const struct state_slice *s, void *arg)
{
	struct place *p = arg;
	char *root;
	size_t n;

	if ((root = realpath(s->path, NULL)) == NULL)
		return 0;	/* not mounted here: nothing can lie in it */
	n = strlen(root);
	if (strncmp(p->real, root, n) == 0 && (p->real[n] == '\0' ||
	    p->real[n] == '/' || n == 1)) {
		p->slice_id = s->id;
		p->slice = xstrdup(s->name);
		p->rel = xstrdup(p->real + n + (p->real[n] == '/'));
		free(root);
		return 1;
	}
	free(root);
	return 0;
}

int
restore_check_to(struct state *st, const char *to, const char *user,
    char **cause)
{
	struct place p = { NULL, 0, NULL, NULL };
	char *real, *rel, *other = NULL, *opath = NULL;
	int rc;

	if ((real = realpath(to, NULL)) == NULL)
		return 0;	/* restore_account says what is wrong */
	p.real = real;
	rc = state_slice_list(st, place_cb, &p, cause);
	if (rc != 0 || p.slice == NULL) {
		free(real);
		return rc;
	}
	rel = *p.rel ? xasprintf("%s/%s", p.rel, user) : xstrdup(user);
	if ((rc = state_account_nesting(st, p.slice_id, rel, NULL, &other,
	    &opath, cause)) == 1) {
		rc = fail(cause, "--to %s: %s/%s would %s the mailbox of "
		    "account '%s' (slice '%s', '%s'); restore into a directory "
		    "outside every mailbox", to, to, user, strlen(opath) >
		    strlen(rel) ? "contain" : strcmp(opath, rel) == 0 ? "be" :
		    "lie inside", other, p.slice, opath);
		free(other);
		free(opath);
	}
	free(rel);
	free(real);
	free(p.slice);
	free(p.rel);
	return rc;
}
