/* The quiet wait of a cutover: see quiet.h. */
#define _GNU_SOURCE
#include "migrator/quiet.h"
#include "migrator/throttle.h"
#include "migrator/tree.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One look: a hash of what was seen, and the first fresh tmp/ file. */
struct look {
	uint64_t	 h;
	char		 fresh[600];
	char		 err[600];
};

static void
mix(struct look *l, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++) {
		l->h ^= c[i];
		l->h *= 0x100000001b3ULL;
	}
}

static void
mix_stat(struct look *l, const char *name, const struct stat *sb)
{
	mix(l, name, strlen(name) + 1);
	mix(l, &sb->st_mtim, sizeof sb->st_mtim);
	mix(l, &sb->st_size, sizeof sb->st_size);
	mix(l, &sb->st_ino, sizeof sb->st_ino);
}

/*
 * The entries of a directory: with files set, every regular file's name,
 * size and mtime (and, in tmp/, a fresh one is noted); otherwise only the
 * directory's own mtime.
 */
static void
look_dir(struct look *l, int dfd, const char *rel, int files, int tmp,
    time_t fresh_after)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd;

	/* A new open file description: a dup would share (and use up)
	 * the caller's directory offset. */
	if ((fd = openat(dfd, ".", TREE_DIR_FLAGS)) < 0)
		return;
	if (fstat(fd, &sb) == 0)
		mix_stat(l, rel, &sb);
	if (!files || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		mix_stat(l, de->d_name, &sb);
		if (tmp && sb.st_mtim.tv_sec >= fresh_after && !*l->fresh)
			snprintf(l->fresh, sizeof l->fresh, "%s/%s", rel,
			    de->d_name);
	}
	closedir(d);
}

/* One folder ("" is the INBOX): its files, cur/ and new/ times, tmp/. */
static void
look_folder(struct look *l, int folder, const char *name,
    time_t fresh_after)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	char rel[600];
	int i, fd;

	look_dir(l, folder, *name ? name : ".", 1, 0, fresh_after);
	for (i = 0; i < 3; i++) {
		snprintf(rel, sizeof rel, "%s%s%s", name, *name ? "/" : "",
		    sub[i]);
		if ((fd = openat(folder, sub[i], TREE_DIR_FLAGS)) < 0) {
			mix(l, rel, strlen(rel) + 1);	/* absent */
			continue;
		}
		look_dir(l, fd, rel, i == 2, i == 2, fresh_after);
		close(fd);
	}
}

static int
look(int mailbox, time_t fresh_after, struct look *l)
{
	struct dirent *de;
	DIR *d;
	int fd, sub;

	memset(l, 0, sizeof *l);
	l->h = 0xcbf29ce484222325ULL;
	look_folder(l, mailbox, "", fresh_after);
	if ((fd = openat(mailbox, ".", TREE_DIR_FLAGS)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		snprintf(l->err, sizeof l->err, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		/* Maildir++ folders are ".Name" directories. */
		if (de->d_name[0] != '.' || !tree_name_ok(de->d_name) ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if ((sub = openat(fd, de->d_name, TREE_DIR_FLAGS)) < 0)
			continue;
		look_folder(l, sub, de->d_name, fresh_after);
		close(sub);
	}
	closedir(d);
	return 0;
}

int
quiet_wait(int mailbox, double quiet, time_t fresh_after, double deadline,
    const volatile int *stop, struct quiet_result *r, char **cause)
{
	struct look prev, cur;
	struct timespec ts;
	double t0 = monotonic_now(), still, step, now;

	memset(r, 0, sizeof *r);
	step = quiet / 5;
	if (step > 0.1)
		step = 0.1;
	if (step < 0.01)
		step = 0.01;
	if (look(mailbox, fresh_after, &prev) != 0)
		return fail(cause, "cannot read the source mailbox: %s",
		    prev.err);
	r->looks = 1;
	still = *prev.fresh ? -1 : t0;
	for (;;) {
		now = monotonic_now();
		if (still >= 0 && now - still >= quiet) {
			r->waited = now - t0;
			return 0;
		}
		if (stop != NULL && *stop) {
			r->waited = now - t0;
			return fail(cause, "stopped while waiting for the "
			    "mailbox to be quiet");
		}
		if (now >= deadline) {
			r->waited = now - t0;
			if (*prev.fresh)
				return fail(cause, "the source mailbox did not "
				    "go quiet in %.1f s: %s is still being "
				    "written (a delivery or a session in "
				    "flight)", r->waited, prev.fresh);
			return fail(cause, "the source mailbox did not go "
			    "quiet in %.1f s: it changed %d times while the "
			    "account was locked (a session still writing)",
			    r->waited, r->changes);
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(step * 1e9);
		nanosleep(&ts, NULL);
		if (look(mailbox, fresh_after, &cur) != 0)
			return fail(cause, "cannot read the source mailbox: "
			    "%s", cur.err);
		r->looks++;
		if (cur.h != prev.h || *cur.fresh) {
			if (cur.h != prev.h)
				r->changes++;
			still = *cur.fresh ? -1 : monotonic_now();
		} else if (still < 0)
			still = monotonic_now();
		prev = cur;
	}
}
