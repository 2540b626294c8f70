/* The copy engine of the tree sync: see sync_int.h. */
#define _GNU_SOURCE
#include "migrator/sync_int.h"
#include "migrator/throttle.h"
#include "migrator/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_MIN 16		/* fewer copies than this run in line */
#define BATCH_MAX 1024		/* more wait for the ones queued to be done */

/* A file copy waiting for the end of its directory's processing. */
struct job {
	int		 sdir;		/* the source directory */
	int		 ddir;		/* the target directory */
	const char	*rel;		/* the directory's, while it is synced */
	char		*name;		/* of the file, in both */
	struct track	 tr;		/* md NULL: not a tracked message */
	uint64_t	 size;		/* copied, when clean */
	int		 clean;		/* the target equals the source */
};

/* Give fd (or dirfd/name for links) the mode, owner and times of st. */
static int
set_meta_fd(struct sync *s, int fd, const struct stat *st)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };

	if (s->cfg.preserve_owner && fchown(fd, st->st_uid, st->st_gid) != 0)
		return -1;
	if (fchmod(fd, st->st_mode & 07777) != 0)
		return -1;
	return futimens(fd, times);
}

/* A unique temporary name in a target directory. */
static void
tmp_name(char *buf, size_t len)
{
	static unsigned long counter;

	snprintf(buf, len, TMP_PREFIX "%ld.%lu", (long)getpid(),
	    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
}

/* The cutover: no throttle from now on. */
void
sync_unthrottle(struct sync *s)
{
	s->unthrottled = 1;
}

/* Take bytes and files from the throttle, following cfg.limits. */
static void
take(struct sync *s, uint64_t bytes, uint64_t files)
{
	struct throttle *t = s->cfg.throttle;

	if (t == NULL || s->unthrottled)
		return;
	pthread_mutex_lock(&s->tmu);
	if (s->cfg.limits != NULL) {
		t->bytes_rate = (double)s->cfg.limits[0];
		t->files_rate = (double)s->cfg.limits[1];
	}
	throttle_take(t, bytes, files);
	pthread_mutex_unlock(&s->tmu);
}

/* Copy size bytes of sfd into dfd; returns bytes copied or -1. */
static int64_t
copy_data(struct sync *s, int sfd, int dfd, off_t size, const char *rel,
    const char *name, char **cause)
{
	uint64_t chunk = s->cfg.throttle ? throttle_chunk(s->cfg.throttle) :
	    (1 << 20);
	int64_t total = 0;
	ssize_t n, w, off;
	char *buf = NULL;

	for (;;) {
		if (!__atomic_load_n(&s->no_cfr, __ATOMIC_RELAXED)) {
			/* The size is known: no extra call to find the end.
			 * A file that grew is copied again by the next pass. */
			if (total >= size)
				break;
			n = copy_file_range(sfd, NULL, dfd, NULL, chunk, 0);
			if (n < 0 && total == 0 && (errno == EXDEV ||
			    errno == ENOSYS || errno == EOPNOTSUPP ||
			    errno == EINVAL)) {
				__atomic_store_n(&s->no_cfr, 1,
				    __ATOMIC_RELAXED);
				continue;
			}
		} else {
			if (buf == NULL)
				buf = xmalloc(chunk);
			n = read(sfd, buf, chunk);
			for (off = 0; n > 0 && off < n; off += w) {
				w = write(dfd, buf + off, (size_t)(n - off));
				if (w < 0) {
					if (errno == EINTR) {
						w = 0;
						continue;
					}
					n = -1;
					break;
				}
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOSPC || errno == EDQUOT)
				s->enospc = 1;
			free(buf);
			return tree_sys_fail(cause, "cannot copy", rel, name);
		}
		if (n == 0)
			break;
		total += n;
		take(s, (uint64_t)n, 0);
		if (total == n) {
			/* A count of its own: with several workers the
			 * copied count may not hit every number here. */
			pthread_mutex_lock(&s->mu);
			sync_hook(s, "mid-file", ++s->midfile_total);
			pthread_mutex_unlock(&s->mu);
		}
	}
	free(buf);
	return total;
}

/*
 * Copy regular file name from sdir to ddir through a temporary name. Sets
 * *clean when the copy is the source as it is (size and times kept, the
 * file unchanged while it was read), with its size in *size.
 */
static int
copy_file(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, int *clean, uint64_t *size, char **cause)
{
	char tmp[64];
	struct stat st;
	int sfd, dfd, changed;
	int64_t n;

	double t0, t1, t2 = 0, t3;

	*clean = 0;
	if (sync_check_stop(s, cause) != 0)
		return -1;
	t0 = monotonic_now();
	/* O_NONBLOCK: a name swapped for a FIFO must not hang the copy. */
	sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOATIME);
	if (sfd < 0 && errno == EPERM)
		sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK);
	if (sfd < 0) {
		if (errno == ENOENT || errno == ELOOP || errno == ENXIO)
			return 0;	/* gone or replaced: next pass */
		return tree_sys_fail(cause, "cannot read", rel, name);
	}
	if (fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(sfd);
		return 0;		/* replaced meanwhile: next pass */
	}
	t1 = monotonic_now();
	tmp_name(tmp, sizeof tmp);
	if ((dfd = openat(ddir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		close(sfd);
		return tree_sys_fail(cause, "cannot create a copy of", rel,
		    name);
	}
	t2 = monotonic_now() - t1;
	if ((n = copy_data(s, sfd, dfd, st.st_size, rel, name, cause)) < 0)
		goto bad;
	/*
	 * The times of the source as opened: a later change shows next pass.
	 * A file that changed while it was copied (same size, same mtime
	 * tick) must not look complete: give it a time no source has.
	 */
	{
		struct stat after;

		changed = fstat(sfd, &after) != 0 ||
		    after.st_size != st.st_size || n != st.st_size ||
		    !same_time(&after.st_mtim, &st.st_mtim) ||
		    !same_time(&after.st_ctim, &st.st_ctim);
		if (changed) {
			st.st_mtim.tv_sec = 0;
			st.st_mtim.tv_nsec = 1;
		}
	}
	if (set_meta_fd(s, dfd, &st) != 0) {
		tree_sys_fail(cause, "cannot set mode, owner or times of", rel,
		    name);
		goto bad;
	}
	if (close(dfd) != 0) {
		dfd = -1;
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		tree_sys_fail(cause, "cannot write", rel, name);
		goto bad;
	}
	dfd = -1;
	t3 = monotonic_now();
	if (renameat(ddir, tmp, ddir, name) != 0) {
		tree_sys_fail(cause, "cannot rename into place", rel, name);
		goto bad;
	}
	close(sfd);
	*clean = !changed;
	*size = (uint64_t)n;
	if (s->cfg.latency != NULL) {
		s->cfg.latency(s->cfg.arg, 0, t1 - t0);
		s->cfg.latency(s->cfg.arg, 1, t2 + monotonic_now() - t3);
	}
	take(s, 0, 1);
	pthread_mutex_lock(&s->mu);
	s->stats->files_copied++;
	s->stats->bytes_copied += (uint64_t)n;
	s->copied_total++;
	sync_hook(s, "file", s->copied_total);
	sync_progress(s, 0);
	pthread_mutex_unlock(&s->mu);
	return 0;
bad:
	if (dfd >= 0)
		close(dfd);
	unlinkat(ddir, tmp, 0);
	close(sfd);
	return -1;
}

/*
 * Copy a file now, or queue it for the directory's workers; a full queue
 * is run first, so that a large directory does not queue all its files.
 * A clean copy of a message tracked by tr (or NULL) is recorded as in
 * sync.
 */
int
copy_or_queue(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct track *tr, char **cause)
{
	struct batch *b = s->batch;
	uint64_t size;
	int clean;

	if (b == NULL || s->cfg.workers < 2) {
		if (copy_file(s, sdir, ddir, rel, name, &clean, &size,
		    cause) != 0)
			return -1;
		if (tr != NULL && clean)
			sync_mdir_add(tr->md, tr->hash, tr->ino, size);
		return 0;
	}
	if (b->n == BATCH_MAX && copy_batch_run(s, b, cause) != 0)
		return -1;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->j = xrealloc(b->j, b->cap * sizeof *b->j);
	}
	b->j[b->n].sdir = sdir;
	b->j[b->n].ddir = ddir;
	b->j[b->n].rel = rel;
	b->j[b->n].name = xstrdup(name);
	b->j[b->n].tr.md = NULL;
	if (tr != NULL)
		b->j[b->n].tr = *tr;
	b->j[b->n].clean = 0;
	b->n++;
	return 0;
}

/* What each worker thread of a batch is given. */
struct worker {
	struct sync	*s;		/* the handle of the pass */
	struct batch	*b;		/* the copies to take from */
};

/* A worker: take the batch's next copy until none is left or one failed. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct batch *b = w->b;
	char *cause;
	size_t i;

	for (;;) {
		if (__atomic_load_n(&b->failed, __ATOMIC_RELAXED))
			break;
		i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
		if (i >= b->n)
			break;
		cause = NULL;
		if (copy_file(w->s, b->j[i].sdir, b->j[i].ddir, b->j[i].rel,
		    b->j[i].name, &b->j[i].clean, &b->j[i].size, &cause) != 0) {
			pthread_mutex_lock(&w->s->mu);
			if (!b->failed) {
				b->failed = 1;
				b->cause = cause;
				cause = NULL;
			}
			pthread_mutex_unlock(&w->s->mu);
			free(cause);
		}
	}
	return NULL;
}

/* Run the queued copies of a directory on the workers and wait. */
int
copy_batch_run(struct sync *s, struct batch *b, char **cause)
{
	struct worker w = { s, b };
	pthread_t th[8];
	int n = 0, i, rc = 0;
	size_t k;

	if (b->n > 0 && b->n < BATCH_MIN)
		worker_main(&w);
	else if (b->n > 0) {
		for (i = 1; i < s->cfg.workers && i < 8; i++) {
			if (pthread_create(&th[n], NULL, worker_main, &w) == 0)
				n++;
		}
		worker_main(&w);
		for (i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	}
	if (b->failed) {
		if (cause != NULL)
			*cause = b->cause;
		else
			free(b->cause);
		rc = -1;
	}
	for (k = 0; k < b->n; k++) {
		if (rc == 0 && b->j[k].tr.md != NULL && b->j[k].clean)
			sync_mdir_add(b->j[k].tr.md, b->j[k].tr.hash,
			    b->j[k].tr.ino, b->j[k].size);
		free(b->j[k].name);
	}
	free(b->j);
	memset(b, 0, sizeof *b);
	return rc;
}

/* Forget the queued copies of a directory after an error. */
void
copy_batch_drop(struct batch *b)
{
	size_t k;

	for (k = 0; k < b->n; k++)
		free(b->j[k].name);
	free(b->j);
	free(b->cause);
	memset(b, 0, sizeof *b);
}

/* Copy symlink name as a symlink (its target is never followed). */
int
copy_link(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *m, char **cause)
{
	char target[MS_PATH_MAX], tmp[64];
	struct timespec times[2] = { { 0, UTIME_OMIT }, { m->sec, m->nsec } };
	ssize_t n;

	if ((n = readlinkat(sdir, name, target, sizeof target - 1)) < 0) {
		if (errno == ENOENT)
			return 0;
		return tree_sys_fail(cause, "cannot read link", rel, name);
	}
	target[n] = '\0';
	tmp_name(tmp, sizeof tmp);
	if (symlinkat(target, ddir, tmp) != 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		return tree_sys_fail(cause, "cannot create link", rel, name);
	}
	if ((s->cfg.preserve_owner && fchownat(ddir, tmp, m->uid, m->gid,
	    AT_SYMLINK_NOFOLLOW) != 0) ||
	    utimensat(ddir, tmp, times, AT_SYMLINK_NOFOLLOW) != 0 ||
	    renameat(ddir, tmp, ddir, name) != 0) {
		tree_sys_fail(cause, "cannot place link", rel, name);
		unlinkat(ddir, tmp, 0);
		return -1;
	}
	s->stats->files_copied++;
	return 0;
}

