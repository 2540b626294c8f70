/* Reading Maildir++ mailboxes on disk: see maildir.h. */
#define _GNU_SOURCE
#include "migrator/maildir.h"
#include "migrator/tree.h"
#include "common/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when name below dirfd is a real directory. */
static int
is_dir_at(int dirfd, const char *name)
{
	struct stat sb;

	return fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode);
}

int
maildir_is(int dirfd)
{
	return is_dir_at(dirfd, "cur") && is_dir_at(dirfd, "new");
}

int
maildirsize_parse(const char *buf, size_t len, int64_t *bytes,
    int64_t *count, const char **why)
{
	const char *p = buf, *end = buf + len, *eol;
	int64_t b = 0, c = 0, vb, vc;
	char *q, line[128];
	size_t n;
	int first = 1;

	if (len == 0 || buf[len - 1] != '\n') {
		*why = "maildirsize is empty or its last line is incomplete";
		return -1;
	}
	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)(eol - p);
		if (n >= sizeof line) {
			*why = "maildirsize has an overlong line";
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (first) {
			/* Quota definition: "" or e.g. "1000000S,1000C". */
			first = 0;
			for (q = line; *q != '\0'; q++) {
				if (!isdigit((unsigned char)*q) && *q != 'S' &&
				    *q != 'C' && *q != ',') {
					*why = "maildirsize quota line is "
					    "malformed";
					return -1;
				}
			}
			continue;
		}
		errno = 0;
		vb = strtoll(line, &q, 10);
		if (q == line || *q != ' ' || errno != 0)
			goto bad;
		while (*q == ' ')
			q++;
		p = q;
		vc = strtoll(q, &q, 10);
		if (q == p || *q != '\0' || errno != 0)
			goto bad;
		if ((vb > 0 && b > INT64_MAX - vb) ||
		    (vb < 0 && b < INT64_MIN - vb) ||
		    (vc > 0 && c > INT64_MAX - vc) ||
		    (vc < 0 && c < INT64_MIN - vc)) {
			*why = "maildirsize sums overflow";
			return -1;
		}
		b += vb;
		c += vc;
	}
	if (first) {
		*why = "maildirsize has no quota line";
		return -1;
	}
	if (b < 0 || c < 0) {
		*why = "maildirsize sums are negative";
		return -1;
	}
	if ((uint64_t)b > MS_SIZE_MAX) {
		*why = "maildirsize claims more than 8 PiB";
		return -1;
	}
	*bytes = b;
	*count = c;
	return 0;
bad:
	*why = "maildirsize has a line that is not 'bytes count'";
	return -1;
}

int64_t
maildir_name_time(const char *name, int64_t now)
{
	int64_t t = 0;
	int n = 0;

	for (; *name >= '0' && *name <= '9'; name++) {
		if (++n > 12)
			return -1;	/* no Unix time of this era */
		t = t * 10 + (*name - '0');
	}
	if (n == 0 || *name != '.' || t < MAILDIR_TIME_MIN ||
	    t > now + 86400)
		return -1;
	return t;
}

/* What a walk of a Maildir's cur/ and new/ directories does. */
struct scan {
	int			 count;		/* list and stat every message */
	int64_t			 since;		/* count arrivals, 0: none */
	int64_t			 now;		/* for maildir_name_time */
	struct maildir_usage	*u;
	struct timespec		 newest;	/* newest cur/ or new/ mtime */
};

/*
 * Did the entry name of directory fd (stat'ed into *sb when *have) arrive
 * at sc->since or later? Stats it (setting *have) only when its name has
 * no time. 1 yes, 0 no, -1 gone meanwhile or not a file, -2 on error
 * (errno set).
 */
static int
arrived(const struct scan *sc, int fd, const char *name, struct stat *sb,
    int *have)
{
	int64_t t = maildir_name_time(name, sc->now);

	if (t < 0) {
		if (!*have && fstatat(fd, name, sb, AT_SYMLINK_NOFOLLOW) != 0)
			return errno == ENOENT ? -1 : -2;
		*have = 1;
		if (!S_ISREG(sb->st_mode))
			return -1;
		t = sb->st_mtim.tv_sec;
	}
	return t >= sc->since;
}

/*
 * Add the messages of one cur/ or new/ directory: list it to count them,
 * or (for arrivals) when it was modified since sc->since; otherwise only
 * stat it for its mtime.
 */
static int
scan_dir(int parent, const char *name, struct scan *sc, char **cause)
{
	struct maildir_usage *u = sc->u;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd, recent, have, a;

	if ((fd = openat(parent, name, TREE_DIR_FLAGS)) < 0) {
		if (errno == ENOENT)
			return 0;	/* a folder without new/ is still ok */
		return fail(cause, "%s: %s", name, strerror(errno));
	}
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return fail(cause, "%s: %s", name, strerror(errno));
	}
	if (sb.st_mtim.tv_sec > sc->newest.tv_sec ||
	    (sb.st_mtim.tv_sec == sc->newest.tv_sec &&
	    sb.st_mtim.tv_nsec > sc->newest.tv_nsec))
		sc->newest = sb.st_mtim;
	recent = sc->since > 0 && sb.st_mtim.tv_sec >= sc->since;
	if (!sc->count && !recent) {
		close(fd);
		return 0;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return fail(cause, "%s: %s", name, strerror(errno));
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		have = 0;
		if (sc->count) {
			if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW)
			    != 0) {
				if (errno == ENOENT)
					continue;	/* expunged meanwhile */
				goto bad;
			}
			if (!S_ISREG(sb.st_mode))
				continue;
			have = 1;
			u->files++;
			u->bytes += (uint64_t)sb.st_size;
		}
		if (!recent)
			continue;
		if ((a = arrived(sc, fd, de->d_name, &sb, &have)) == -2)
			goto bad;
		if (a != 1)
			continue;
		if (!have && fstatat(fd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			goto bad;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		u->added_files++;
		u->added_bytes += (uint64_t)sb.st_size;
	}
	if (errno != 0) {
		fail(cause, "%s: %s", name, strerror(errno));
		closedir(d);
		return -1;
	}
	closedir(d);
	return 0;
bad:
	fail(cause, "%s/%s: %s", name, de->d_name, strerror(errno));
	closedir(d);
	return -1;
}

/* Scan cur/ and new/ of the INBOX or of one folder, open at fd. */
static int
scan_folder(int fd, struct scan *sc, char **cause)
{
	if (scan_dir(fd, "cur", sc, cause) != 0)
		return -1;
	return scan_dir(fd, "new", sc, cause);
}

/* Walk INBOX and folders; names of folders come from the root listing. */
static int
scan_all(int root, struct scan *sc, char **cause)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0, sub;

	if (scan_folder(root, sc, cause) != 0)
		return -1;
	if ((fd = openat(root, ".", TREE_DIR_FLAGS)) < 0)
		return fail(cause, "%s", strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return fail(cause, "%s", strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		/* Maildir++ folders are ".Name" directories in the root. */
		if (de->d_name[0] != '.' || !tree_name_ok(de->d_name))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if ((sub = openat(root, de->d_name, TREE_DIR_FLAGS)) < 0)
			continue;	/* a symlink or gone: not a folder */
		if (maildir_is(sub)) {
			sc->u->folders++;
			rc = scan_folder(sub, sc, cause);
			if (rc != 0 && cause != NULL) {
				char *why = *cause;

				fail(cause, "%s/%s", de->d_name, why);
				free(why);
			}
		}
		close(sub);
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

/* Try maildirsize; returns 0 and fills u when it can be trusted. */
static int
read_maildirsize(int root, const struct timespec *newest,
    struct maildir_usage *u)
{
	char buf[MAILDIRSIZE_MAX + 1];
	struct stat sb;
	int64_t b, c;
	ssize_t n;
	int fd;

	if ((fd = openat(root, "maildirsize", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		u->why_counted = errno == ENOENT ? "no maildirsize" :
		    "maildirsize cannot be opened";
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		u->why_counted = "maildirsize is not a regular file";
		return -1;
	}
	if (sb.st_size > MAILDIRSIZE_MAX) {
		close(fd);
		u->why_counted = "maildirsize is larger than 5120 bytes";
		return -1;
	}
	if (sb.st_mtim.tv_sec < newest->tv_sec ||
	    (sb.st_mtim.tv_sec == newest->tv_sec &&
	    sb.st_mtim.tv_nsec < newest->tv_nsec)) {
		close(fd);
		u->why_counted = "maildirsize is older than the mailbox";
		return -1;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0 || n > MAILDIRSIZE_MAX) {
		u->why_counted = "maildirsize cannot be read";
		return -1;
	}
	if (maildirsize_parse(buf, (size_t)n, &b, &c, &u->why_counted) != 0)
		return -1;
	u->bytes = (uint64_t)b;
	u->files = (uint64_t)c;
	u->from_maildirsize = 1;
	u->why_counted = NULL;
	return 0;
}

int
maildir_usage(int root, int trust, int64_t since, struct maildir_usage *u,
    char **cause)
{
	struct scan sc = { .since = since, .now = now_unix(), .u = u };

	memset(u, 0, sizeof *u);
	if (!maildir_is(root))
		return fail(cause, "not a Maildir (no cur/ and new/)");
	if (trust) {
		/* Stat the directories first: their mtimes judge the file.
		 * The arrivals are counted on the way. */
		if (scan_all(root, &sc, cause) != 0)
			return -1;
		u->last_activity = sc.newest.tv_sec;
		if (read_maildirsize(root, &sc.newest, u) == 0)
			return 0;
		u->folders = 0;
		sc.since = 0;		/* counted already */
	} else
		u->why_counted = "maildirsize = ignore";
	sc.count = 1;
	sc.newest.tv_sec = sc.newest.tv_nsec = 0;
	if (scan_all(root, &sc, cause) != 0)
		return -1;
	u->last_activity = sc.newest.tv_sec;
	return 0;
}

int
maildir_activity(int root, int64_t since, uint64_t *files, uint64_t *bytes,
    char **cause)
{
	struct maildir_usage u;
	struct scan sc = { .since = since, .now = now_unix(), .u = &u };

	memset(&u, 0, sizeof u);
	*files = *bytes = 0;
	if (since <= 0)
		return 0;
	if (!maildir_is(root))
		return fail(cause, "not a Maildir (no cur/ and new/)");
	if (scan_all(root, &sc, cause) != 0)
		return -1;
	*files = u.added_files;
	*bytes = u.added_bytes;
	return 0;
}
