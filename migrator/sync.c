/* Making one Maildir++ tree equal to another: see sync.h. */
#define _GNU_SOURCE
#include "sync.h"
#include "throttle.h"
#include "util.h"

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

#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define TMP_PREFIX	".mailshift-tmp."
#define TRUST_MARGIN_NS	2000000000LL	/* mtimes this fresh are rescanned */

/* One directory entry with its lstat. */
struct ent {
	char		*name;
	struct stat	 st;
	int		 used;		/* consumed by a rename */
};

struct list {
	struct ent	*e;
	size_t		 n;
};

/* What the previous pass saw of a cur/ or new/ directory. */
struct dcache {
	char		*path;
	struct timespec	 mtime;
	int		 trusted;
	uint64_t	 files;
	uint64_t	 bytes;
	struct dcache	*next;
};

#define DCACHE_BUCKETS 1024
#define BATCH_MIN 16		/* fewer copies than this run in line */

/* A file copy waiting for the end of its directory's processing. */
struct job {
	int	 sdir;
	int	 ddir;
	char	*rel;
	char	*name;
};

/* The copies of one directory, run by the workers at its end. */
struct batch {
	struct job	*j;
	size_t		 n;
	size_t		 cap;
	size_t		 next;		/* next job to take */
	int		 failed;
	char		*cause;		/* the first failure */
};

struct sync {
	int			 src;
	int			 dst;
	struct sync_config	 cfg;
	struct dcache		*cache[DCACHE_BUCKETS];
	struct sync_stats	*stats;		/* of the running pass */
	int			 skip;
	int			 enospc;
	int			 no_cfr;	/* copy_file_range unusable */
	uint64_t		 copied_total;	/* files, for the hook */
	uint64_t		 midfile_total;	/* files begun, for the hook */
	double			 last_progress;
	int			 stopped;	/* cfg.stop was seen */
	int			 unthrottled;	/* cutover: no throttle */
	double			 slow_checked;	/* test hook, see sync.h */
	int			 slow_ms;
	pthread_mutex_t		 mu;		/* stats, hooks, progress */
	pthread_mutex_t		 tmu;		/* the throttle */
	struct batch		*batch;		/* of the directory at hand */
};

struct sync *
sync_new(int src, int dst, const struct sync_config *cfg)
{
	struct sync *s = xcalloc(1, sizeof *s);

	s->src = src;
	s->dst = dst;
	if (cfg != NULL)
		s->cfg = *cfg;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->tmu, NULL);
	return s;
}

void
sync_free(struct sync *s)
{
	struct dcache *c, *next;
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < DCACHE_BUCKETS; i++) {
		for (c = s->cache[i]; c != NULL; c = next) {
			next = c->next;
			free(c->path);
			free(c);
		}
	}
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->tmu);
	free(s);
}

int
sync_stopped(const struct sync *s)
{
	return s->stopped;
}

/* Has the owner asked the pass to stop? Then fail with a cause. */
static int
check_stop(struct sync *s, char **cause)
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

static unsigned
hash(const char *p)
{
	unsigned h = 2166136261u;

	for (; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % DCACHE_BUCKETS;
}

static struct dcache *
cache_get(struct sync *s, const char *path, int create)
{
	struct dcache *c;
	unsigned h = hash(path);

	for (c = s->cache[h]; c != NULL; c = c->next) {
		if (strcmp(c->path, path) == 0)
			return c;
	}
	if (!create)
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->path = xstrdup(path);
	c->next = s->cache[h];
	s->cache[h] = c;
	return c;
}

/* Printable form of a relative path for messages (escapes controls). */
static char *
shown(const char *rel, const char *name)
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

static int
sys_fail(char **cause, const char *what, const char *rel, const char *name)
{
	int e = errno;
	char *p = shown(rel, name);

	fail(cause, "%s %s: %s", what, *p ? p : ".", strerror(e));
	free(p);
	errno = e;
	return -1;
}

static int
cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name,
	    ((const struct ent *)b)->name);
}

static void
list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

/* List a directory with lstat of every entry, sorted by name. */
static int
list_dir(int fd, struct list *l, const char *rel, char **cause)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int dfd;

	l->e = NULL;
	l->n = 0;
	if ((dfd = openat(fd, ".", DIR_FLAGS)) < 0)
		return sys_fail(cause, "cannot open", rel, "");
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return sys_fail(cause, "cannot list", rel, "");
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			l->e = xrealloc(l->e, cap * sizeof *l->e);
		}
		if (fstatat(dfd, de->d_name, &l->e[l->n].st,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			sys_fail(cause, "cannot stat", rel, de->d_name);
			closedir(d);
			list_free(l);
			return -1;
		}
		l->e[l->n].name = xstrdup(de->d_name);
		l->e[l->n].used = 0;
		l->n++;
	}
	if (errno != 0) {
		sys_fail(cause, "cannot list", rel, "");
		closedir(d);
		list_free(l);
		return -1;
	}
	closedir(d);
	if (l->n > 1)
		qsort(l->e, l->n, sizeof *l->e, cmp_ent);
	return 0;
}

/* Refuse source names a mailbox should never hold. */
static int
check_names(const struct list *l, const char *rel, char **cause)
{
	size_t i;
	char *p;

	for (i = 0; i < l->n; i++) {
		if (!name_is_component(l->e[i].name)) {
			p = shown(rel, l->e[i].name);
			fail(cause, "refusing to copy '%s': the name has "
			    "control characters; rename or remove it on the "
			    "source", p);
			free(p);
			return -1;
		}
		if (strncmp(l->e[i].name, TMP_PREFIX, strlen(TMP_PREFIX)) ==
		    0) {
			p = shown(rel, l->e[i].name);
			fail(cause, "refusing to copy '%s': names starting "
			    "with %s are mailshift's temporary files", p,
			    TMP_PREFIX);
			free(p);
			return -1;
		}
	}
	return 0;
}

static void
progress(struct sync *s, int force)
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

static void
hook(struct sync *s, const char *point, uint64_t n)
{
	if (s->cfg.hook != NULL)
		s->cfg.hook(s->cfg.arg, point, n);
}

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

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

void
sync_unthrottle(struct sync *s)
{
	s->unthrottled = 1;
}

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
			return sys_fail(cause, "cannot copy", rel, name);
		}
		if (n == 0)
			break;
		total += n;
		take(s, (uint64_t)n, 0);
		if (total == n) {
			/* A count of its own: with several workers the
			 * copied count may not hit every number here. */
			pthread_mutex_lock(&s->mu);
			hook(s, "mid-file", ++s->midfile_total);
			pthread_mutex_unlock(&s->mu);
		}
	}
	free(buf);
	return total;
}

/* The test hook's delay, read from its file at most four times a second. */
static void
test_slow(struct sync *s)
{
	double now;
	char buf[32];
	int fd, ms = 0;
	ssize_t n;

	if (s->cfg.slow_file == NULL)
		return;
	now = monotonic_now();
	pthread_mutex_lock(&s->mu);
	if (now - s->slow_checked > 0.25) {
		s->slow_checked = now;
		if ((fd = open(s->cfg.slow_file, O_RDONLY | O_CLOEXEC)) >= 0) {
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
			buf[n > 0 ? n : 0] = '\0';
			ms = atoi(buf);
		}
		s->slow_ms = ms;
	}
	ms = s->slow_ms;
	pthread_mutex_unlock(&s->mu);
	if (ms > 0)
		usleep((useconds_t)ms * 1000);
}

/* Copy regular file name from sdir to ddir through a temporary name. */
static int
copy_file(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, char **cause)
{
	char tmp[64];
	struct stat st;
	int sfd, dfd;
	int64_t n;

	double t0, t1, t2 = 0, t3;

	if (check_stop(s, cause) != 0)
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
		return sys_fail(cause, "cannot read", rel, name);
	}
	if (fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(sfd);
		return 0;		/* replaced meanwhile: next pass */
	}
	t1 = monotonic_now();
	tmp_name(tmp, sizeof tmp);
	test_slow(s);
	if ((dfd = openat(ddir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		close(sfd);
		return sys_fail(cause, "cannot create a copy of", rel, name);
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

		if (fstat(sfd, &after) != 0 || after.st_size != st.st_size ||
		    !same_time(&after.st_mtim, &st.st_mtim) ||
		    !same_time(&after.st_ctim, &st.st_ctim)) {
			st.st_mtim.tv_sec = 0;
			st.st_mtim.tv_nsec = 1;
		}
	}
	if (set_meta_fd(s, dfd, &st) != 0) {
		sys_fail(cause, "cannot set mode, owner or times of", rel,
		    name);
		goto bad;
	}
	if (close(dfd) != 0) {
		dfd = -1;
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		sys_fail(cause, "cannot write", rel, name);
		goto bad;
	}
	dfd = -1;
	t3 = monotonic_now();
	if (renameat(ddir, tmp, ddir, name) != 0) {
		sys_fail(cause, "cannot rename into place", rel, name);
		goto bad;
	}
	close(sfd);
	if (s->cfg.latency != NULL) {
		s->cfg.latency(s->cfg.arg, 0, t1 - t0);
		s->cfg.latency(s->cfg.arg, 1, t2 + monotonic_now() - t3);
	}
	take(s, 0, 1);
	pthread_mutex_lock(&s->mu);
	s->stats->files_copied++;
	s->stats->bytes_copied += (uint64_t)n;
	s->copied_total++;
	hook(s, "file", s->copied_total);
	progress(s, 0);
	pthread_mutex_unlock(&s->mu);
	return 0;
bad:
	if (dfd >= 0)
		close(dfd);
	unlinkat(ddir, tmp, 0);
	close(sfd);
	return -1;
}

/* Copy a file now, or queue it for the directory's workers. */
static int
copy_or_queue(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, char **cause)
{
	struct batch *b = s->batch;

	if (b == NULL || s->cfg.workers < 2)
		return copy_file(s, sdir, ddir, rel, name, cause);
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->j = xrealloc(b->j, b->cap * sizeof *b->j);
	}
	b->j[b->n].sdir = sdir;
	b->j[b->n].ddir = ddir;
	b->j[b->n].rel = xstrdup(rel);
	b->j[b->n].name = xstrdup(name);
	b->n++;
	return 0;
}

struct worker {
	struct sync	*s;
	struct batch	*b;
};

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
		    b->j[i].name, &cause) != 0) {
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
static int
batch_run(struct sync *s, struct batch *b, char **cause)
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
		free(b->j[k].rel);
		free(b->j[k].name);
	}
	free(b->j);
	memset(b, 0, sizeof *b);
	return rc;
}

/* Forget the queued copies of a directory after an error. */
static void
batch_drop(struct batch *b)
{
	size_t k;

	for (k = 0; k < b->n; k++) {
		free(b->j[k].rel);
		free(b->j[k].name);
	}
	free(b->j);
	free(b->cause);
	memset(b, 0, sizeof *b);
}

/* Copy symlink name as a symlink (its target is never followed). */
static int
copy_link(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct stat *st, char **cause)
{
	char target[MS_PATH_MAX], tmp[64];
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	ssize_t n;

	if ((n = readlinkat(sdir, name, target, sizeof target - 1)) < 0) {
		if (errno == ENOENT)
			return 0;
		return sys_fail(cause, "cannot read link", rel, name);
	}
	target[n] = '\0';
	tmp_name(tmp, sizeof tmp);
	if (symlinkat(target, ddir, tmp) != 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		return sys_fail(cause, "cannot create link", rel, name);
	}
	if ((s->cfg.preserve_owner && fchownat(ddir, tmp, st->st_uid,
	    st->st_gid, AT_SYMLINK_NOFOLLOW) != 0) ||
	    utimensat(ddir, tmp, times, AT_SYMLINK_NOFOLLOW) != 0 ||
	    renameat(ddir, tmp, ddir, name) != 0) {
		sys_fail(cause, "cannot place link", rel, name);
		unlinkat(ddir, tmp, 0);
		return -1;
	}
	s->stats->files_copied++;
	return 0;
}

int
tree_remove(int dirfd, const char *name, char **cause)
{
	struct list l;
	struct stat st;
	size_t i;
	int fd, rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : sys_fail(cause, "cannot stat",
		    "", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
			return sys_fail(cause, "cannot remove", "", name);
		return 0;
	}
	if ((fd = openat(dirfd, name, DIR_FLAGS)) < 0)
		return sys_fail(cause, "cannot open", "", name);
	if (list_dir(fd, &l, name, cause) != 0) {
		close(fd);
		return -1;
	}
	for (i = 0; i < l.n && rc == 0; i++)
		rc = tree_remove(fd, l.e[i].name, cause);
	list_free(&l);
	close(fd);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0 &&
	    errno != ENOENT)
		return sys_fail(cause, "cannot remove", "", name);
	return rc;
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
	if ((sfd = openat(sdir, name, DIR_FLAGS)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0;	/* vanished or replaced: next pass */
		return sys_fail(cause, "cannot open", rel, name);
	}
	if (create && mkdirat(ddir, name, 0700) != 0 && errno != EEXIST) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		close(sfd);
		return sys_fail(cause, "cannot create directory", rel, name);
	}
	if ((dfd = openat(ddir, name, DIR_FLAGS)) < 0) {
		close(sfd);
		return sys_fail(cause, "cannot open target", rel, name);
	}
	rc = sync_dir(s, sfd, dfd, path, cause);
	close(sfd);
	close(dfd);
	return rc;
}

/* Make an existing regular file, link or directory's metadata agree. */
static int
fix_meta(struct sync *s, int ddir, const char *rel, const struct ent *se,
    const struct ent *de, char **cause)
{
	struct timespec times[2] = { se->st.st_atim, se->st.st_mtim };
	int fd, rc;

	if ((se->st.st_mode & 07777) == (de->st.st_mode & 07777) &&
	    same_time(&se->st.st_mtim, &de->st.st_mtim) &&
	    (!s->cfg.preserve_owner || (se->st.st_uid == de->st.st_uid &&
	    se->st.st_gid == de->st.st_gid)))
		return 0;
	if (S_ISLNK(se->st.st_mode)) {
		if ((s->cfg.preserve_owner && fchownat(ddir, de->name,
		    se->st.st_uid, se->st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) ||
		    utimensat(ddir, de->name, times, AT_SYMLINK_NOFOLLOW) != 0)
			return sys_fail(cause, "cannot fix", rel, de->name);
	} else {
		if ((fd = openat(ddir, de->name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			return sys_fail(cause, "cannot open target", rel,
			    de->name);
		rc = set_meta_fd(s, fd, &se->st);
		close(fd);
		if (rc != 0)
			return sys_fail(cause, "cannot fix", rel, de->name);
	}
	s->stats->meta_fixed++;
	return 0;
}

/* Create what the source has and the target lacks. */
static int
create_entry(struct sync *s, int sdir, int ddir, const char *rel,
    const struct ent *e, char **cause)
{
	char *p;

	if (S_ISREG(e->st.st_mode))
		return copy_or_queue(s, sdir, ddir, rel, e->name, cause);
	if (S_ISDIR(e->st.st_mode))
		return sync_subdir(s, sdir, ddir, rel, e->name, 1, cause);
	if (S_ISLNK(e->st.st_mode))
		return copy_link(s, sdir, ddir, rel, e->name, &e->st, cause);
	p = shown(rel, e->name);
	fail(cause, "refusing to copy '%s': not a file, directory or "
	    "symlink", p);
	free(p);
	return -1;
}

/* Bring an entry present on both sides in line. */
static int
update_entry(struct sync *s, int sdir, int ddir, const char *rel,
    const struct ent *se, const struct ent *de, char **cause)
{
	char a[MS_PATH_MAX], b[MS_PATH_MAX];
	ssize_t na, nb;

	if ((se->st.st_mode & S_IFMT) != (de->st.st_mode & S_IFMT)) {
		if (tree_remove(ddir, de->name, cause) != 0)
			return -1;
		s->stats->deleted++;
		return create_entry(s, sdir, ddir, rel, se, cause);
	}
	if (S_ISDIR(se->st.st_mode))
		return sync_subdir(s, sdir, ddir, rel, se->name, 0, cause);
	if (S_ISREG(se->st.st_mode)) {
		if (se->st.st_size != de->st.st_size ||
		    !same_time(&se->st.st_mtim, &de->st.st_mtim))
			return copy_or_queue(s, sdir, ddir, rel, se->name,
			    cause);
		return fix_meta(s, ddir, rel, se, de, cause);
	}
	if (S_ISLNK(se->st.st_mode)) {
		na = readlinkat(sdir, se->name, a, sizeof a - 1);
		nb = readlinkat(ddir, de->name, b, sizeof b - 1);
		if (na < 0 || nb < 0 || na != nb || memcmp(a, b, (size_t)na))
			return copy_link(s, sdir, ddir, rel, se->name,
			    &se->st, cause);
		return fix_meta(s, ddir, rel, se, de, cause);
	}
	return create_entry(s, sdir, ddir, rel, se, cause);
}

/* The unique part of a Maildir message name: everything before ':'. */
static size_t
unique_len(const char *name)
{
	const char *c = strchr(name, ':');

	return c ? (size_t)(c - name) : strlen(name);
}

/* A message missing on one side, in cur/ (0) or new/ (1). */
struct cand {
	struct ent	*e;
	int		 dir;
};

static int
cmp_cand(const void *a, const void *b)
{
	const struct ent *x = ((const struct cand *)a)->e;
	const struct ent *y = ((const struct cand *)b)->e;
	size_t lx = unique_len(x->name), ly = unique_len(y->name);
	int c = strncmp(x->name, y->name, lx < ly ? lx : ly);

	if (c != 0)
		return c;
	return lx < ly ? -1 : lx > ly;
}

/*
 * Sync cur/ and new/ of a Maildir folder together, so that a message that
 * moved between them or changed flags is renamed, not copied.
 */
static int
sync_maildir(struct sync *s, int sfolder, int dfolder, const char *rel,
    char **cause)
{
	static const char *const names[2] = { "cur", "new" };
	struct list sl[2] = { { 0 } }, dl[2] = { { 0 } };
	struct cand *gone = NULL, key;
	size_t ngone = 0, i, j, lo, hi, mid;
	struct stat sst[2], dst;
	struct timespec listed[2];
	struct dcache *c[2];
	char path[2][MS_PATH_MAX];
	int sfd[2] = { -1, -1 }, dfd[2] = { -1, -1 }, changed[2] = { 0, 0 };
	int k, rc = -1, cmp;
	struct ent *se, *de;
	struct batch batch = { 0 }, *outer = s->batch;

	s->batch = &batch;
	for (k = 0; k < 2; k++) {
		snprintf(path[k], sizeof path[k], "%s%s%s", rel, *rel ? "/" :
		    "", names[k]);
		if ((sfd[k] = openat(sfolder, names[k], DIR_FLAGS)) < 0) {
			if (errno == ENOENT)
				continue;	/* folder going away */
			sys_fail(cause, "cannot open", rel, names[k]);
			goto out;
		}
		if (fstat(sfd[k], &sst[k]) != 0) {
			sys_fail(cause, "cannot stat", rel, names[k]);
			goto out;
		}
		if (fstatat(dfolder, names[k], &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(dst.st_mode)) {
			if (tree_remove(dfolder, names[k], cause) != 0)
				goto out;
			s->stats->deleted++;
		}
		if (mkdirat(dfolder, names[k], 0700) != 0 && errno != EEXIST) {
			if (errno == ENOSPC || errno == EDQUOT)
				s->enospc = 1;
			sys_fail(cause, "cannot create directory", rel,
			    names[k]);
			goto out;
		}
		if ((dfd[k] = openat(dfolder, names[k], DIR_FLAGS)) < 0) {
			sys_fail(cause, "cannot open target", rel, names[k]);
			goto out;
		}
		c[k] = cache_get(s, path[k], 1);
		if (s->skip && c[k]->trusted &&
		    same_time(&c[k]->mtime, &sst[k].st_mtim)) {
			s->stats->dirs_skipped++;
			s->stats->files_seen += c[k]->files;
			s->stats->bytes_seen += c[k]->bytes;
			continue;
		}
		changed[k] = 1;
		s->stats->dirs_scanned++;
		clock_gettime(CLOCK_REALTIME, &listed[k]);
		if (list_dir(sfd[k], &sl[k], path[k], cause) != 0 ||
		    check_names(&sl[k], path[k], cause) != 0 ||
		    list_dir(dfd[k], &dl[k], path[k], cause) != 0)
			goto out;
	}

	/* Entries only in the target: candidates for renames, else removal. */
	for (k = 0; k < 2; k++) {
		if (!changed[k])
			continue;
		for (i = 0, j = 0; j < dl[k].n; ) {
			cmp = i < sl[k].n ? strcmp(sl[k].e[i].name,
			    dl[k].e[j].name) : -1;
			if (i < sl[k].n && cmp < 0) {
				i++;
				continue;
			}
			if (i < sl[k].n && cmp == 0) {
				i++;
				j++;
				continue;
			}
			gone = xrealloc(gone, (ngone + 1) * sizeof *gone);
			gone[ngone].e = &dl[k].e[j];
			gone[ngone].dir = k;
			ngone++;
			j++;
		}
	}
	if (ngone > 1)
		qsort(gone, ngone, sizeof *gone, cmp_cand);

	/* Entries only in the source: rename a matching target message, or
	 * copy; entries on both sides: update. */
	for (k = 0; k < 2; k++) {
		if (!changed[k])
			continue;
		for (i = 0, j = 0; i < sl[k].n; i++) {
			se = &sl[k].e[i];
			while (j < dl[k].n &&
			    strcmp(dl[k].e[j].name, se->name) < 0)
				j++;
			if (j < dl[k].n && strcmp(dl[k].e[j].name,
			    se->name) == 0) {
				if (update_entry(s, sfd[k], dfd[k], path[k],
				    se, &dl[k].e[j], cause) != 0)
					goto out;
				continue;
			}
			de = NULL;
			if (S_ISREG(se->st.st_mode) && ngone > 0) {
				key.e = se;
				lo = 0;
				hi = ngone;
				while (lo < hi) {
					mid = (lo + hi) / 2;
					if (cmp_cand(&gone[mid], &key) < 0)
						lo = mid + 1;
					else
						hi = mid;
				}
				for (; lo < ngone &&
				    cmp_cand(&gone[lo], &key) == 0; lo++) {
					if (!gone[lo].e->used &&
					    S_ISREG(gone[lo].e->st.st_mode) &&
					    gone[lo].e->st.st_size ==
					    se->st.st_size) {
						de = gone[lo].e;
						break;
					}
				}
			}
			if (de == NULL) {
				if (create_entry(s, sfd[k], dfd[k], path[k],
				    se, cause) != 0)
					goto out;
				continue;
			}
			if (renameat(dfd[gone[lo].dir], de->name, dfd[k],
			    se->name) != 0) {
				sys_fail(cause, "cannot rename", path[k],
				    se->name);
				goto out;
			}
			de->used = 1;
			s->stats->renamed++;
			{
				struct ent moved = *de;

				moved.name = se->name;
				if (fix_meta(s, dfd[k], path[k], se, &moved,
				    cause) != 0)
					goto out;
			}
		}
	}
	for (i = 0; i < ngone; i++) {
		if (gone[i].e->used)
			continue;
		if (tree_remove(dfd[gone[i].dir], gone[i].e->name, cause) != 0)
			goto out;
		s->stats->deleted++;
	}

	/* The queued copies, then directory times, after every change. */
	s->batch = outer;
	if (batch_run(s, &batch, cause) != 0)
		goto out;
	for (k = 0; k < 2; k++) {
		struct ent se2, de2;
		uint64_t files = 0, bytes = 0;

		if (sfd[k] < 0)
			continue;
		if (fstat(dfd[k], &dst) != 0) {
			sys_fail(cause, "cannot stat target", rel, names[k]);
			goto out;
		}
		se2.name = (char *)names[k];
		se2.st = sst[k];
		de2.name = (char *)names[k];
		de2.st = dst;
		if (fix_meta(s, dfolder, rel, &se2, &de2, cause) != 0)
			goto out;
		if (!changed[k])
			continue;
		for (i = 0; i < sl[k].n; i++) {
			if (S_ISREG(sl[k].e[i].st.st_mode)) {
				files++;
				bytes += (uint64_t)sl[k].e[i].st.st_size;
			}
		}
		s->stats->files_seen += files;
		s->stats->bytes_seen += bytes;
		c[k]->mtime = sst[k].st_mtim;
		c[k]->files = files;
		c[k]->bytes = bytes;
		/* Entries may still arrive within the mtime's granularity. */
		c[k]->trusted = (int64_t)(listed[k].tv_sec -
		    sst[k].st_mtim.tv_sec) * 1000000000LL + (listed[k].tv_nsec -
		    sst[k].st_mtim.tv_nsec) > TRUST_MARGIN_NS;
	}
	rc = 0;
out:
	s->batch = outer;
	batch_drop(&batch);
	for (k = 0; k < 2; k++) {
		list_free(&sl[k]);
		list_free(&dl[k]);
		if (sfd[k] >= 0)
			close(sfd[k]);
		if (dfd[k] >= 0)
			close(dfd[k]);
	}
	free(gone);
	return rc;
}

/* Is this listing a Maildir folder (real cur/ and new/ directories)? */
static int
is_maildir(const struct list *l)
{
	size_t i;
	int found = 0;

	for (i = 0; i < l->n; i++) {
		if (S_ISDIR(l->e[i].st.st_mode) &&
		    (strcmp(l->e[i].name, "cur") == 0 ||
		    strcmp(l->e[i].name, "new") == 0))
			found++;
	}
	return found == 2;
}

/* Make the directory open at dfd equal to the one at sfd. */
static int
sync_dir(struct sync *s, int sfd, int dfd, const char *rel, char **cause)
{
	struct list sl, dl;
	struct ent self_s, self_d;
	struct batch batch = { 0 }, *outer = s->batch;
	size_t i = 0, j = 0;
	int rc = -1, cmp, maildir;

	if (check_stop(s, cause) != 0 || list_dir(sfd, &sl, rel, cause) != 0)
		return -1;
	if (check_names(&sl, rel, cause) != 0 ||
	    list_dir(dfd, &dl, rel, cause) != 0) {
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
			cmp = strcmp(sl.e[i].name, dl.e[j].name);
		if (maildir && ((cmp <= 0 && (strcmp(sl.e[i].name, "cur") ==
		    0 || strcmp(sl.e[i].name, "new") == 0)))) {
			/* Handled by sync_maildir. */
			if (cmp == 0)
				j++;
			i++;
			continue;
		}
		if (cmp < 0) {
			if (S_ISREG(sl.e[i].st.st_mode)) {
				s->stats->files_seen++;
				s->stats->bytes_seen +=
				    (uint64_t)sl.e[i].st.st_size;
			}
			if (create_entry(s, sfd, dfd, rel, &sl.e[i], cause)
			    != 0)
				goto out;
			i++;
		} else if (cmp > 0) {
			if (tree_remove(dfd, dl.e[j].name, cause) != 0)
				goto out;
			s->stats->deleted++;
			j++;
		} else {
			if (S_ISREG(sl.e[i].st.st_mode)) {
				s->stats->files_seen++;
				s->stats->bytes_seen +=
				    (uint64_t)sl.e[i].st.st_size;
			}
			if (update_entry(s, sfd, dfd, rel, &sl.e[i], &dl.e[j],
			    cause) != 0)
				goto out;
			i++;
			j++;
		}
	}
	s->batch = outer;
	if (batch_run(s, &batch, cause) != 0)
		goto out;
	/* The directory's own mode, owner and times, after its contents. */
	self_s.name = self_d.name = ".";
	if (fstat(sfd, &self_s.st) != 0 || fstat(dfd, &self_d.st) != 0) {
		sys_fail(cause, "cannot stat", rel, "");
		goto out;
	}
	{
		struct timespec times[2] = { self_s.st.st_atim,
		    self_s.st.st_mtim };

		if ((self_s.st.st_mode & 07777) != (self_d.st.st_mode & 07777) ||
		    !same_time(&self_s.st.st_mtim, &self_d.st.st_mtim) ||
		    (s->cfg.preserve_owner && (self_s.st.st_uid !=
		    self_d.st.st_uid || self_s.st.st_gid != self_d.st.st_gid))) {
			if ((s->cfg.preserve_owner && fchown(dfd,
			    self_s.st.st_uid, self_s.st.st_gid) != 0) ||
			    fchmod(dfd, self_s.st.st_mode & 07777) != 0 ||
			    futimens(dfd, times) != 0) {
				sys_fail(cause, "cannot set mode, owner or "
				    "times of", rel, "");
				goto out;
			}
			s->stats->meta_fixed++;
		}
	}
	rc = 0;
out:
	s->batch = outer;
	batch_drop(&batch);
	list_free(&sl);
	list_free(&dl);
	return rc;
}

int
sync_pass(struct sync *s, int skip, struct sync_stats *st, int *enospc,
    char **cause)
{
	int rc;

	memset(st, 0, sizeof *st);
	s->stats = st;
	s->skip = skip;
	s->enospc = 0;
	s->stopped = 0;
	rc = sync_dir(s, s->src, s->dst, "", cause);
	progress(s, 1);
	if (enospc != NULL)
		*enospc = s->enospc;
	s->stats = NULL;
	return rc;
}

/* Compare two regular files' contents. */
static int
same_content(int sdir, int ddir, const char *name, const char *rel,
    char **cause)
{
	char a[65536], b[65536];
	ssize_t na, nb;
	int fa, fb, rc = 0;

	fa = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fb = openat(ddir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fa < 0 || fb < 0) {
		sys_fail(cause, "cannot read for verification", rel, name);
		rc = -1;
		goto out;
	}
	for (;;) {
		na = read(fa, a, sizeof a);
		if (na < 0) {
			rc = sys_fail(cause, "cannot read", rel, name);
			break;
		}
		for (nb = 0; nb < na; ) {
			ssize_t r = read(fb, b + nb, (size_t)(na - nb));

			if (r <= 0)
				break;
			nb += r;
		}
		if (na != nb || memcmp(a, b, (size_t)na) != 0) {
			char *p = shown(rel, name);

			rc = fail(cause, "verify: %s differs in content", p);
			free(p);
			break;
		}
		if (na == 0)
			break;
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

struct verify {
	int		 content;
	int		 owner;
	uint64_t	 files;
	uint64_t	 bytes;
	struct sync	*skip;		/* trust its unchanged cur/, new/ */
};

/*
 * May verification trust directory path as the passes left it? Only a
 * cur/ or new/ whose source mtime is the trusted one the last pass saw
 * and whose target has the same mtime (so neither side changed since).
 */
static int
verify_skips(struct verify *v, const char *path, const char *name,
    const struct stat *ss, const struct stat *ds)
{
	struct dcache *c;

	if (v->skip == NULL || (strcmp(name, "cur") != 0 &&
	    strcmp(name, "new") != 0))
		return 0;
	if ((c = cache_get(v->skip, path, 0)) == NULL || !c->trusted ||
	    !same_time(&c->mtime, &ss->st_mtim) ||
	    !same_time(&ss->st_mtim, &ds->st_mtim))
		return 0;
	v->files += c->files;
	v->bytes += c->bytes;
	return 1;
}

/* Describe the first difference between entries se and de. */
static int
verify_ent(const struct verify *v, const char *rel, const struct ent *se,
    const struct ent *de, char **cause)
{
	const char *what = NULL;
	char *p;

	if ((se->st.st_mode & S_IFMT) != (de->st.st_mode & S_IFMT))
		what = "type";
	else if (S_ISREG(se->st.st_mode) && se->st.st_size != de->st.st_size)
		what = "size";
	else if (!S_ISLNK(se->st.st_mode) &&
	    (se->st.st_mode & 07777) != (de->st.st_mode & 07777))
		what = "mode";
	else if (!same_time(&se->st.st_mtim, &de->st.st_mtim))
		what = "mtime";
	else if (v->owner && (se->st.st_uid != de->st.st_uid ||
	    se->st.st_gid != de->st.st_gid))
		what = "owner";
	if (what == NULL)
		return 0;
	p = shown(rel, se->name);
	fail(cause, "verify: %s differs in %s", *p ? p : ".", what);
	free(p);
	return -1;
}

static int
verify_dir(struct verify *v, int sfd, int dfd, const char *rel, char **cause)
{
	struct list sl, dl;
	char path[MS_PATH_MAX], a[MS_PATH_MAX], b[MS_PATH_MAX];
	size_t i;
	ssize_t na, nb;
	int rc = -1, s2, d2;
	char *p;

	if (list_dir(sfd, &sl, rel, cause) != 0)
		return -1;
	if (list_dir(dfd, &dl, rel, cause) != 0) {
		list_free(&sl);
		return -1;
	}
	for (i = 0; i < sl.n || i < dl.n; i++) {
		if (i == sl.n || i == dl.n || strcmp(sl.e[i].name,
		    dl.e[i].name) != 0) {
			if (i < sl.n && (i == dl.n || strcmp(sl.e[i].name,
			    dl.e[i].name) < 0)) {
				p = shown(rel, sl.e[i].name);
				fail(cause, "verify: %s is missing on the "
				    "target", p);
			} else {
				p = shown(rel, dl.e[i].name);
				fail(cause, "verify: %s is on the target but "
				    "not on the source", p);
			}
			free(p);
			goto out;
		}
		if (verify_ent(v, rel, &sl.e[i], &dl.e[i], cause) != 0)
			goto out;
		snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "",
		    sl.e[i].name);
		if (S_ISREG(sl.e[i].st.st_mode)) {
			v->files++;
			v->bytes += (uint64_t)sl.e[i].st.st_size;
			if (v->content && same_content(sfd, dfd,
			    sl.e[i].name, rel, cause) != 0)
				goto out;
		} else if (S_ISLNK(sl.e[i].st.st_mode)) {
			na = readlinkat(sfd, sl.e[i].name, a, sizeof a);
			nb = readlinkat(dfd, dl.e[i].name, b, sizeof b);
			if (na < 0 || na != nb || memcmp(a, b, (size_t)na)) {
				p = shown(rel, sl.e[i].name);
				fail(cause, "verify: link %s points elsewhere",
				    p);
				free(p);
				goto out;
			}
		} else if (S_ISDIR(sl.e[i].st.st_mode)) {
			if (verify_skips(v, path, sl.e[i].name, &sl.e[i].st,
			    &dl.e[i].st))
				continue;
			s2 = openat(sfd, sl.e[i].name, DIR_FLAGS);
			d2 = openat(dfd, dl.e[i].name, DIR_FLAGS);
			if (s2 < 0 || d2 < 0) {
				sys_fail(cause, "cannot open", rel,
				    sl.e[i].name);
				if (s2 >= 0)
					close(s2);
				if (d2 >= 0)
					close(d2);
				goto out;
			}
			rc = verify_dir(v, s2, d2, path, cause);
			close(s2);
			close(d2);
			if (rc != 0)
				goto out;
			rc = -1;
		}
	}
	rc = 0;
out:
	list_free(&sl);
	list_free(&dl);
	return rc;
}

/*
 * Compare two trees directory by directory, so that memory follows the
 * largest directory, not the mailbox.
 */
int
sync_verify(int src, int dst, int content, int check_owner, uint64_t *files,
    uint64_t *bytes, char **cause)
{
	struct verify v = { .content = content, .owner = check_owner };
	struct ent se = { .name = "" }, de = { .name = "" };

	if (fstat(src, &se.st) != 0 || fstat(dst, &de.st) != 0)
		return fail(cause, "verify: cannot stat the mailbox roots: %s",
		    strerror(errno));
	if (verify_ent(&v, "", &se, &de, cause) != 0 ||
	    verify_dir(&v, src, dst, "", cause) != 0)
		return -1;
	if (files != NULL)
		*files = v.files;
	if (bytes != NULL)
		*bytes = v.bytes;
	return 0;
}

int
sync_verify_changed(struct sync *s, int check_owner, uint64_t *files,
    uint64_t *bytes, char **cause)
{
	struct verify v = { .owner = check_owner, .skip = s };
	struct ent se = { .name = "" }, de = { .name = "" };

	if (fstat(s->src, &se.st) != 0 || fstat(s->dst, &de.st) != 0)
		return fail(cause, "verify: cannot stat the mailbox roots: %s",
		    strerror(errno));
	if (verify_ent(&v, "", &se, &de, cause) != 0 ||
	    verify_dir(&v, s->src, s->dst, "", cause) != 0)
		return -1;
	if (files != NULL)
		*files = v.files;
	if (bytes != NULL)
		*bytes = v.bytes;
	return 0;
}

int
tree_measure(int dir, uint64_t *files, uint64_t *bytes, char **cause)
{
	struct list l;
	size_t i;
	int fd, rc = 0;

	if (list_dir(dir, &l, "", cause) != 0)
		return -1;
	for (i = 0; i < l.n && rc == 0; i++) {
		if (S_ISREG(l.e[i].st.st_mode)) {
			(*files)++;
			*bytes += (uint64_t)l.e[i].st.st_size;
		} else if (S_ISDIR(l.e[i].st.st_mode)) {
			if ((fd = openat(dir, l.e[i].name, DIR_FLAGS)) < 0)
				continue;
			rc = tree_measure(fd, files, bytes, cause);
			close(fd);
		}
	}
	list_free(&l);
	return rc;
}

int
tree_fsync(int dir, char **cause)
{
	struct list l;
	size_t i;
	int fd, rc = 0;

	if (list_dir(dir, &l, "", cause) != 0)
		return -1;
	for (i = 0; i < l.n && rc == 0; i++) {
		if (S_ISLNK(l.e[i].st.st_mode))
			continue;
		fd = openat(dir, l.e[i].name, (S_ISDIR(l.e[i].st.st_mode) ?
		    DIR_FLAGS : O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
		if (fd < 0)
			continue;
		if (S_ISDIR(l.e[i].st.st_mode))
			rc = tree_fsync(fd, cause);
		else if (fsync(fd) != 0)
			rc = sys_fail(cause, "cannot fsync", "", l.e[i].name);
		close(fd);
	}
	list_free(&l);
	if (rc == 0 && fsync(dir) != 0)
		rc = sys_fail(cause, "cannot fsync a directory", "", "");
	return rc;
}
