/* Output files renamed into place when complete: see outfile.h. */
#define _GNU_SOURCE
#include "cli/outfile.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
outfile_open(struct outfile *o, const char *path, char **cause)
{
	struct stat sb;
	mode_t mask;
	int fd, rc;

	memset(o, 0, sizeof *o);
	o->path = path;
	if (path == NULL) {
		o->f = stdout;
		return 0;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		if (S_ISDIR(sb.st_mode))
			return fail(cause, "cannot write %s: it is a "
			    "directory; give a file name", path);
		if ((o->f = fopen(path, "w")) == NULL)
			return fail(cause, "cannot write %s: %s", path,
			    strerror(errno));
		return 0;
	}
	if ((o->real = realpath(path, NULL)) == NULL)
		o->real = xstrdup(path);
	o->tmp = xasprintf("%s.XXXXXX", o->real);
	if ((fd = mkstemp(o->tmp)) == -1) {
		rc = fail(cause, "cannot create %s: %s; check that its "
		    "directory exists and is writable", path, strerror(errno));
		goto bad;
	}
	mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	if ((o->f = fdopen(fd, "w")) == NULL) {
		rc = fail(cause, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto bad;
	}
	return 0;
bad:
	free(o->tmp);
	free(o->real);
	o->tmp = o->real = NULL;
	return rc;
}

int
outfile_close(struct outfile *o, char **cause)
{
	int bad;

	if (o->path == NULL)
		return 0;
	bad = ferror(o->f) || fflush(o->f) != 0 ||
	    (o->tmp != NULL && fsync(fileno(o->f)) != 0);
	if (fclose(o->f) != 0)
		bad = 1;
	o->f = NULL;
	if (bad)
		fail(cause, "cannot write %s: %s", o->path, strerror(errno));
	else if (o->tmp != NULL && rename(o->tmp, o->real) != 0) {
		fail(cause, "cannot rename %s to %s: %s", o->tmp, o->real,
		    strerror(errno));
		bad = 1;
	}
	if (bad && o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->real);
	o->tmp = o->real = NULL;
	return bad ? -1 : 0;
}
