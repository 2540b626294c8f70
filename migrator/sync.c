/* Making one Maildir++ tree equal to another: see sync.h and sync_int.h. */
#define _GNU_SOURCE
#include "migrator/sync_int.h"
#include "migrator/throttle.h"
#include "migrator/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRUST_MARGIN	2.0	/* s: coarser than any mtime granularity */

/* A directory's entries sorted by name, the names in one buffer. */
struct ent {
	uint32_t	 name;		/* offset in names */
	struct meta	 m;		/* its lstat */
};

struct list {
	struct ent	*e;		/* sorted by name */
	size_t		 n;		/* entries */
	char		*names;		/* every name, '\0'-terminated */
};

#define NAME(l, i)	((l)->names + (l)->e[i].name)

struct sync *
sync_new(int src, int dst, const struct sync_config *cfg)
{
	struct sync *s = xcalloc(1, sizeof *s);

	s->src = src;
	s->dst = dst;
	if (cfg != NULL)
		s->cfg = *cfg;
	s->margin = s->cfg.trust > 0 ? s->cfg.trust : TRUST_MARGIN;
	if (s->cfg.clock_dir != NULL)
		s->clock_dir = xstrdup(s->cfg.clock_dir);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->tmu, NULL);
	return s;
}

void
sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	sync_cache_free(s);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->tmu);
	free(s->clock_dir);
	free(s);
}

int
sync_stopped(const struct sync *s)
{
	return s->stopped;
}

int
sync_check_stop(struct sync *s, char **cause)
{
	if (s->cfg.stop == NULL || !*s->cfg.stop)
		return 0;
	s->stopped = 1;
	return fail(cause, "stopped on request");
}

uint64_t
sync_changes(const struct sync_stats *st)
{
	return st->files_copied + st->renamed + st->deleted + st->meta_fixed;
}

/* qsort_r order of a listing's entries: by name. */
static int
cmp_ent(const void *a, const void *b, void *names)
{
	return strcmp((const char *)names + ((const struct ent *)a)->name,
	    (const char *)names + ((const struct ent *)b)->name);
}

static void
list_free(struct list *l)
{
	free(l->e);
	free(l->names);
	memset(l, 0, sizeof *l);
}

/* List a directory with lstat of every entry, sorted by name. A stop
 * is seen every 64 entries: a big cur/ on a slow slice takes long. */
static int
list_dir(struct sync *s, int fd, struct list *l, const char *rel,
    char **cause)
{
	struct dirent *de;
	struct stat st;
	size_t cap = 0, len = 0, room = 0, k;
	DIR *d;

	memset(l, 0, sizeof *l);
	if ((d = tree_dir_open(fd, rel, cause)) == NULL)
		return -1;
	while ((de = tree_dir_next(d)) != NULL) {
		if (l->n % 64 == 63 && sync_check_stop(s, cause) != 0)
			goto bad;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			tree_sys_fail(cause, "cannot stat", rel, de->d_name);
			goto bad;
		}
		k = strlen(de->d_name) + 1;
		if (len + k > UINT32_MAX) {
			fail(cause, "cannot list %s: too many entries", rel);
			goto bad;
		}
		if (len + k > room) {
			room = room ? room * 2 : 4096;
			l->names = xrealloc(l->names, room);
		}
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			l->e = xrealloc(l->e, cap * sizeof *l->e);
		}
		memcpy(l->names + len, de->d_name, k);
		l->e[l->n].name = (uint32_t)len;
		meta_of(&l->e[l->n].m, &st);
		len += k;
		l->n++;
	}
	if (errno != 0) {
		tree_sys_fail(cause, "cannot list", rel, "");
		goto bad;
	}
	closedir(d);
	if (l->n > 1)
		qsort_r(l->e, l->n, sizeof *l->e, cmp_ent, l->names);
	return 0;
bad:
	closedir(d);
	list_free(l);
	return -1;
}

/* Refuse a source name a mailbox should never hold. */
int
sync_check_name(const char *rel, const char *name, char **cause)
{
	char *p;

	if (!tree_name_ok(name)) {
		p = tree_shown(rel, name);
		fail(cause, "refusing to copy '%s': the name has control "
		    "characters; rename or remove it on the source", p);
		free(p);
		return -1;
	}
	if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
		p = tree_shown(rel, name);
		fail(cause, "refusing to copy '%s': names starting with %s "
		    "are mailshift's temporary files", p, TMP_PREFIX);
		free(p);
		return -1;
	}
	return 0;
}

static int
check_names(const struct list *l, const char *rel, char **cause)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (sync_check_name(rel, NAME(l, i), cause) != 0)
			return -1;
	}
	return 0;
}

void
sync_progress(struct sync *s, int force)
{
	struct timespec ts;
	double now;

	if (s->cfg.progress == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (!force && now - s->last_progress < 0.1)
		return;
	s->last_progress = now;
	s->cfg.progress(s->cfg.arg, s->stats);
}

void
sync_hook(struct sync *s, const char *point, uint64_t n)
{
	if (s->cfg.hook != NULL)
		s->cfg.hook(s->cfg.arg, point, n);
}

static int sync_dir(struct sync *, int, int, const char *, char **);

/* Make directory name in ddir equal to the one in sdir, recursively. */
static int
sync_subdir(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, int create, char **cause)
{
	char path[MS_PATH_MAX];
	int sfd, dfd, rc;

	if ((size_t)snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" :
	    "", name) >= sizeof path)
		return fail(cause, "path too long below %s", rel);
	if ((sfd = openat(sdir, name, TREE_DIR_FLAGS)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0;	/* vanished or replaced: next pass */
		return tree_sys_fail(cause, "cannot open", rel, name);
	}
	if (create && mkdirat(ddir, name, 0700) != 0 && errno != EEXIST) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		close(sfd);
		return tree_sys_fail(cause, "cannot create directory", rel,
		    name);
	}
	if ((dfd = openat(ddir, name, TREE_DIR_FLAGS)) < 0) {
		close(sfd);
		return tree_sys_fail(cause, "cannot open target", rel, name);
	}
	rc = sync_dir(s, sfd, dfd, path, cause);
	close(sfd);
	close(dfd);
	return rc;
}

/*
 * Give entry name of ddir the mode, owner and mtime of sm where dm, what
 * it has, differs (its atime is left as it is).
 */
int
sync_fix_meta(struct sync *s, int ddir, const char *rel, const char *name,
    const struct meta *sm, const struct meta *dm, char **cause)
{
	struct timespec times[2] = { { 0, UTIME_OMIT }, { sm->sec, sm->nsec } };
	int fd, rc;

	if ((sm->mode & 07777) == (dm->mode & 07777) && same_mtime(sm, dm) &&
	    (!s->cfg.preserve_owner || (sm->uid == dm->uid &&
	    sm->gid == dm->gid)))
		return 0;
	if (S_ISLNK(sm->mode)) {
		if ((s->cfg.preserve_owner && fchownat(ddir, name, sm->uid,
		    sm->gid, AT_SYMLINK_NOFOLLOW) != 0) ||
		    utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) != 0)
			return tree_sys_fail(cause, "cannot fix", rel, name);
	} else {
		if ((fd = openat(ddir, name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			return tree_sys_fail(cause, "cannot open target", rel,
			    name);
		rc = (s->cfg.preserve_owner && fchown(fd, sm->uid, sm->gid) !=
		    0) || fchmod(fd, sm->mode & 07777) != 0 ||
		    futimens(fd, times) != 0;
		close(fd);
		if (rc)
			return tree_sys_fail(cause, "cannot fix", rel, name);
	}
	s->stats->meta_fixed++;
	return 0;
}

/* Create what the source has and the target lacks. */
int
sync_create_entry(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *m, char **cause)
{
	char *p;

	if (S_ISREG(m->mode))
		return copy_or_queue(s, sdir, ddir, rel, name, NULL, cause);
	if (S_ISDIR(m->mode))
		return sync_subdir(s, sdir, ddir, rel, name, 1, cause);
	if (S_ISLNK(m->mode))
		return copy_link(s, sdir, ddir, rel, name, m, cause);
	p = tree_shown(rel, name);
	fail(cause, "refusing to copy '%s': not a file, directory or "
	    "symlink", p);
	free(p);
	return -1;
}

/* Bring an entry present on both sides in line. */
int
sync_update_entry(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *sm, const struct meta *dm,
    char **cause)
{
	char a[MS_PATH_MAX], b[MS_PATH_MAX];
	ssize_t na, nb;

	if ((sm->mode & S_IFMT) != (dm->mode & S_IFMT)) {
		if (tree_remove(ddir, name, cause) != 0)
			return -1;
		s->stats->deleted++;
		return sync_create_entry(s, sdir, ddir, rel, name, sm, cause);
	}
	if (S_ISDIR(sm->mode))
		return sync_subdir(s, sdir, ddir, rel, name, 0, cause);
	if (S_ISREG(sm->mode)) {
		if (sm->size != dm->size || !same_mtime(sm, dm))
			return copy_or_queue(s, sdir, ddir, rel, name, NULL,
			    cause);
		return sync_fix_meta(s, ddir, rel, name, sm, dm, cause);
	}
	if (S_ISLNK(sm->mode)) {
		na = readlinkat(sdir, name, a, sizeof a - 1);
		nb = readlinkat(ddir, name, b, sizeof b - 1);
		if (na < 0 || nb < 0 || na != nb || memcmp(a, b, (size_t)na))
			return copy_link(s, sdir, ddir, rel, name, sm, cause);
		return sync_fix_meta(s, ddir, rel, name, sm, dm, cause);
	}
	return sync_create_entry(s, sdir, ddir, rel, name, sm, cause);
}

/* Is this listing a Maildir folder (real cur/ and new/ directories)? */
static int
is_maildir(const struct list *l)
{
	size_t i;
	int found = 0;

	for (i = 0; i < l->n; i++) {
		if (S_ISDIR(l->e[i].m.mode) && (strcmp(NAME(l, i), "cur") ==
		    0 || strcmp(NAME(l, i), "new") == 0))
			found++;
	}
	return found == 2;
}

/* Count a source entry into the pass's totals. */
static void
seen(struct sync *s, const struct meta *m)
{
	if (S_ISREG(m->mode)) {
		s->stats->files_seen++;
		s->stats->bytes_seen += (uint64_t)m->size;
	}
}

/* Make the directory open at dfd equal to the one at sfd. */
static int
sync_dir(struct sync *s, int sfd, int dfd, const char *rel, char **cause)
{
	struct list sl, dl;
	struct stat ss, ds;
	struct batch batch = { 0 }, *outer = s->batch;
	size_t i = 0, j = 0;
	const char *name;
	int rc = -1, cmp, maildir;

	if (sync_check_stop(s, cause) != 0)
		return -1;
	/* Out of budget: end the pass here, where no cur/ or new/ is half
	 * done, so that the next pass carries on from what the handle
	 * keeps (see sync_pass_some). */
	if (s->budget != 0 && s->stats->files_copied >= s->budget) {
		s->partial = 1;
		return fail(cause, "the pass used its budget");
	}
	if (list_dir(s, sfd, &sl, rel, cause) != 0)
		return -1;
	if (check_names(&sl, rel, cause) != 0 ||
	    list_dir(s, dfd, &dl, rel, cause) != 0) {
		list_free(&sl);
		return -1;
	}
	s->stats->dirs_scanned++;
	maildir = is_maildir(&sl);
	if (maildir && sync_maildir(s, sfd, dfd, rel, cause) != 0)
		goto out;
	s->batch = &batch;
	while (i < sl.n || j < dl.n) {
		if (i == sl.n)
			cmp = 1;
		else if (j == dl.n)
			cmp = -1;
		else
			cmp = strcmp(NAME(&sl, i), NAME(&dl, j));
		name = cmp <= 0 ? NAME(&sl, i) : NAME(&dl, j);
		if (maildir && cmp <= 0 && (strcmp(name, "cur") == 0 ||
		    strcmp(name, "new") == 0)) {
			/* Handled by sync_maildir. */
			if (cmp == 0)
				j++;
			i++;
			continue;
		}
		if (cmp < 0) {
			seen(s, &sl.e[i].m);
			if (sync_create_entry(s, sfd, dfd, rel, name,
			    &sl.e[i].m, cause) != 0)
				goto out;
			i++;
		} else if (cmp > 0) {
			if (tree_remove(dfd, name, cause) != 0)
				goto out;
			s->stats->deleted++;
			j++;
		} else {
			seen(s, &sl.e[i].m);
			if (sync_update_entry(s, sfd, dfd, rel, name,
			    &sl.e[i].m, &dl.e[j].m, cause) != 0)
				goto out;
			i++;
			j++;
		}
	}
	s->batch = outer;
	if (copy_batch_run(s, &batch, cause) != 0)
		goto out;
	/* The directory's own mode, owner and times, after its contents. */
	if (fstat(sfd, &ss) != 0 || fstat(dfd, &ds) != 0) {
		tree_sys_fail(cause, "cannot stat", rel, "");
		goto out;
	}
	if ((ss.st_mode & 07777) != (ds.st_mode & 07777) ||
	    !same_time(&ss.st_mtim, &ds.st_mtim) || (s->cfg.preserve_owner &&
	    (ss.st_uid != ds.st_uid || ss.st_gid != ds.st_gid))) {
		struct timespec times[2] = { ss.st_atim, ss.st_mtim };

		if ((s->cfg.preserve_owner && fchown(dfd, ss.st_uid,
		    ss.st_gid) != 0) || fchmod(dfd, ss.st_mode & 07777) != 0 ||
		    futimens(dfd, times) != 0) {
			tree_sys_fail(cause,
			    "cannot set mode, owner or times of", rel, "");
			goto out;
		}
		s->stats->meta_fixed++;
	}
	rc = 0;
out:
	s->batch = outer;
	copy_batch_drop(&batch);
	list_free(&sl);
	list_free(&dl);
	return rc;
}

/*
 * Read the clock of the source's file system: the mtime of a directory
 * made (and removed at once) in cfg.clock_dir. Returns 0 when there is no
 * clock_dir or it cannot be written (a read-only slice).
 */
static int
slice_clock(struct sync *s, struct timespec *now)
{
	static unsigned long counter;
	char path[MS_PATH_MAX];
	struct stat st;
	int ok;

	if (s->clock_dir == NULL || (size_t)snprintf(path, sizeof path,
	    "%s/.mailshift-clock.%ld.%lu", s->clock_dir, (long)getpid(),
	    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED)) >= sizeof path)
		return 0;
	if (mkdir(path, 0700) != 0)
		return 0;
	ok = stat(path, &st) == 0;
	rmdir(path);
	if (ok)
		*now = st.st_mtim;
	return ok;
}

int
sync_pass(struct sync *s, int skip, struct sync_stats *st, int *enospc,
    char **cause)
{
	return sync_pass_some(s, skip, 0, st, enospc, cause);
}

int
sync_partial(const struct sync *s)
{
	return s->partial;
}

int
sync_pass_some(struct sync *s, int skip, uint64_t budget,
    struct sync_stats *st, int *enospc, char **cause)
{
	int rc;

	memset(st, 0, sizeof *st);
	s->has_now = slice_clock(s, &s->slice_now);
	s->stats = st;
	s->skip = skip;
	s->enospc = 0;
	/* After a pass the budget ended, this one carries it on: the same
	 * logical pass, which does not come back to what it finished. */
	s->continuing = s->partial;
	if (!s->continuing)
		s->logical++;
	s->stopped = s->partial = 0;
	s->budget = budget;
	rc = sync_dir(s, s->src, s->dst, "", cause);
	if (rc != 0 && s->partial) {
		free(*cause);
		*cause = NULL;
		rc = 1;
	}
	sync_progress(s, 1);
	if (enospc != NULL)
		*enospc = s->enospc;
	s->stats = NULL;
	return rc;
}
