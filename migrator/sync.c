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
#define TRUST_MARGIN	2.0	/* s: coarser than any mtime granularity */

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

/* A message both sides hold alike, as a pass left it. */
struct known {
	uint64_t	 hash;		/* of its name */
	uint64_t	 ino;		/* of the source file, from the listing */
	uint64_t	 size;
};

/*
 * What the passes know of a cur/ or new/ directory. The source's mtime is
 * trusted once a listing began TRUST_MARGIN after that mtime was first
 * seen: by then the file system's clock has left the mtime's tick, so any
 * later change moves the mtime. Only the migrator's own monotonic clock is
 * read, never compared with the slice's (an NFS server's clock may be off).
 */
struct dcache {
	char		*path;
	struct timespec	 mtime;		/* of the source, as last seen */
	double		 since;		/* when that mtime was first seen */
	int		 trusted;	/* the last listing can be trusted */
	struct timespec	 dmtime;	/* of the target, as the last pass left it */
	int		 complete;	/* known[] is all the target holds */
	struct known	*known;		/* sorted by hash */
	size_t		 n;
	uint64_t	 files;
	uint64_t	 bytes;
	struct dcache	*next;
};

/* cur/ or new/ of a folder during a pass. */
struct mdir {
	int		 sfd;
	int		 dfd;
	struct stat	 sst;		/* the source directory */
	struct dcache	*c;
	char		 path[MS_PATH_MAX];
	int		 listed;	/* not skipped */
	int		 trust;		/* this listing can be trusted */
	struct known	*t;		/* what the target holds */
	size_t		 nt;
	int		 tsync;		/* t[] was in sync after the last pass */
	unsigned char	*mark;		/* per t[]: what this pass found */
	struct known	*add;		/* also in sync after this pass */
	size_t		 nadd;
	size_t		 capadd;
	uint64_t	 present;	/* source entries */
	uint64_t	 files;
	uint64_t	 bytes;
};

#define MARK_KEEP	1		/* on both sides, still in sync */
#define MARK_SEEN	2		/* on both sides, compared */
#define MARK_GONE	3		/* only on the target */

#define DCACHE_BUCKETS 1024
#define BATCH_MIN 16		/* fewer copies than this run in line */

/* Where a clean copy of a message is recorded as in sync. */
struct track {
	struct mdir	*md;
	uint64_t	 hash;
	uint64_t	 ino;
};

/* A file copy waiting for the end of its directory's processing. */
struct job {
	int		 sdir;
	int		 ddir;
	char		*rel;
	char		*name;
	struct track	 tr;		/* md NULL: not a tracked message */
	uint64_t	 size;		/* copied, when clean */
	int		 clean;		/* the target equals the source */
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
	double			 margin;	/* TRUST_MARGIN, or cfg.trust */
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
	s->margin = s->cfg.trust > 0 ? s->cfg.trust : TRUST_MARGIN;
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
			free(c->known);
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

/* 64-bit FNV-1a of a name. */
static uint64_t
name_hash(const char *p)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static struct dcache *
cache_get(struct sync *s, const char *path, int create)
{
	struct dcache *c;
	size_t h = name_hash(path) % DCACHE_BUCKETS;

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

/* Forget what the passes knew of a directory's target. */
static void
cache_forget(struct dcache *c)
{
	free(c->known);
	c->known = NULL;
	c->n = 0;
	c->complete = 0;
}

static int
cmp_known(const void *a, const void *b)
{
	uint64_t x = ((const struct known *)a)->hash;
	uint64_t y = ((const struct known *)b)->hash;

	return x < y ? -1 : x > y;
}

/* The first of n known entries (sorted) whose hash is not below h. */
static size_t
known_lower(const struct known *k, size_t n, uint64_t h)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (k[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The entry of the target's t[] that name hash h may be, among those this
 * pass has not accounted for yet: the one with the source inode ino if
 * any. Hashes can collide: a caller checks the name on disk unless the
 * entry is known to be in sync and the inode is the same.
 */
static long
mdir_find(const struct mdir *m, uint64_t h, uint64_t ino)
{
	size_t i = known_lower(m->t, m->nt, h);
	long any = -1;

	for (; i < m->nt && m->t[i].hash == h; i++) {
		if (m->mark[i] != 0)
			continue;
		if (m->t[i].ino == ino)
			return (long)i;
		if (any < 0)
			any = (long)i;
	}
	return any;
}

/* Record a message as in sync on both sides after this pass. */
static void
mdir_add(struct mdir *m, uint64_t h, uint64_t ino, uint64_t size)
{
	if (m->nadd == m->capadd) {
		m->capadd = m->capadd ? m->capadd * 2 : 64;
		m->add = xrealloc(m->add, m->capadd * sizeof *m->add);
	}
	m->add[m->nadd].hash = h;
	m->add[m->nadd].ino = ino;
	m->add[m->nadd].size = size;
	m->nadd++;
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

/* Refuse a source name a mailbox should never hold. */
static int
check_name(const char *rel, const char *name, char **cause)
{
	char *p;

	if (!name_is_component(name)) {
		p = shown(rel, name);
		fail(cause, "refusing to copy '%s': the name has control "
		    "characters; rename or remove it on the source", p);
		free(p);
		return -1;
	}
	if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
		p = shown(rel, name);
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
		if (check_name(rel, l->e[i].name, cause) != 0)
			return -1;
	}
	return 0;
}

/* Read the directory open at fd through a descriptor of its own. */
static DIR *
dir_open(int fd, const char *rel, char **cause)
{
	DIR *d;
	int dfd;

	if ((dfd = openat(fd, ".", DIR_FLAGS)) < 0) {
		sys_fail(cause, "cannot open", rel, "");
		return NULL;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		sys_fail(cause, "cannot list", rel, "");
		close(dfd);
	}
	return d;
}

/* The next entry but . and ..; NULL at the end, or with errno set. */
static struct dirent *
dir_next(DIR *d)
{
	struct dirent *de;

	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			break;
	}
	return de;
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

/*
 * Copy a file now, or queue it for the directory's workers. A clean copy
 * of a message tracked by tr (or NULL) is recorded as in sync.
 */
static int
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
			mdir_add(tr->md, tr->hash, tr->ino, size);
		return 0;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->j = xrealloc(b->j, b->cap * sizeof *b->j);
	}
	b->j[b->n].sdir = sdir;
	b->j[b->n].ddir = ddir;
	b->j[b->n].rel = xstrdup(rel);
	b->j[b->n].name = xstrdup(name);
	b->j[b->n].tr.md = NULL;
	if (tr != NULL)
		b->j[b->n].tr = *tr;
	b->j[b->n].clean = 0;
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
		if (rc == 0 && b->j[k].tr.md != NULL && b->j[k].clean)
			mdir_add(b->j[k].tr.md, b->j[k].tr.hash,
			    b->j[k].tr.ino, b->j[k].size);
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
		return copy_or_queue(s, sdir, ddir, rel, e->name, NULL,
		    cause);
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
			return copy_or_queue(s, sdir, ddir, rel, se->name, NULL,
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

/* A message on one side only, in cur/ (0) or new/ (1) of a folder. */
struct cand {
	struct ent	 e;
	uint64_t	 ino;		/* of the source file, from the listing */
	int		 dir;
};

struct cands {
	struct cand	*c;
	size_t		 n;
	size_t		 cap;
};

static void
cands_add(struct cands *l, const char *name, const struct stat *st,
    uint64_t ino, int dir)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->c = xrealloc(l->c, l->cap * sizeof *l->c);
	}
	l->c[l->n].e.name = xstrdup(name);
	l->c[l->n].e.st = *st;
	l->c[l->n].e.used = 0;
	l->c[l->n].ino = ino;
	l->c[l->n].dir = dir;
	l->n++;
}

static void
cands_free(struct cands *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->c[i].e.name);
	free(l->c);
	memset(l, 0, sizeof *l);
}

static int
cmp_cand(const void *a, const void *b)
{
	const char *x = ((const struct cand *)a)->e.name;
	const char *y = ((const struct cand *)b)->e.name;
	size_t lx = unique_len(x), ly = unique_len(y);
	int c = strncmp(x, y, lx < ly ? lx : ly);

	if (c != 0)
		return c;
	return lx < ly ? -1 : lx > ly;
}

/* The hashes of the names a target directory holds, sorted. */
static int
list_hashes(int fd, const char *rel, struct known **out, size_t *n,
    char **cause)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	if ((d = dir_open(fd, rel, cause)) == NULL)
		return -1;
	while ((de = dir_next(d)) != NULL) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[*n].hash = name_hash(de->d_name);
		(*out)[*n].ino = 0;
		(*out)[*n].size = 0;
		(*n)++;
	}
	if (errno != 0) {
		sys_fail(cause, "cannot list", rel, "");
		closedir(d);
		free(*out);
		*out = NULL;
		return -1;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof **out, cmp_known);
	return 0;
}

/*
 * Open cur/ or new/ (name) of a folder on both sides and decide whether
 * this pass lists it: not when skipping, its source mtime is the trusted
 * one of the last listing and the target is as the last pass left it.
 * What the target holds comes from the last pass when that pass left it
 * complete and unchanged (only this handle writes there), else from a
 * listing of its names.
 */
static int
mdir_open(struct sync *s, struct mdir *m, int sfolder, int dfolder,
    const char *rel, const char *name, char **cause)
{
	struct dcache *c;
	struct stat dst;
	double now;

	snprintf(m->path, sizeof m->path, "%s%s%s", rel, *rel ? "/" : "",
	    name);
	if ((m->sfd = openat(sfolder, name, DIR_FLAGS)) < 0) {
		if (errno == ENOENT)
			return 0;	/* folder going away */
		return sys_fail(cause, "cannot open", rel, name);
	}
	if (fstat(m->sfd, &m->sst) != 0)
		return sys_fail(cause, "cannot stat", rel, name);
	if (fstatat(dfolder, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(dst.st_mode)) {
		if (tree_remove(dfolder, name, cause) != 0)
			return -1;
		s->stats->deleted++;
	}
	if (mkdirat(dfolder, name, 0700) != 0 && errno != EEXIST) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		return sys_fail(cause, "cannot create directory", rel, name);
	}
	if ((m->dfd = openat(dfolder, name, DIR_FLAGS)) < 0)
		return sys_fail(cause, "cannot open target", rel, name);
	if (fstat(m->dfd, &dst) != 0)
		return sys_fail(cause, "cannot stat target", rel, name);

	c = m->c = cache_get(s, m->path, 1);
	now = monotonic_now();
	if (!same_time(&c->mtime, &m->sst.st_mtim)) {
		c->mtime = m->sst.st_mtim;
		c->since = now;
		c->trusted = 0;
	}
	if (!same_time(&c->dmtime, &dst.st_mtim))
		cache_forget(c);
	if (s->skip && c->trusted && c->complete) {
		s->stats->dirs_skipped++;
		s->stats->files_seen += c->files;
		s->stats->bytes_seen += c->bytes;
		return 0;
	}
	m->listed = 1;
	s->stats->dirs_scanned++;
	m->trust = now - c->since >= s->margin;
	if (s->skip && c->complete) {
		/* Taken over: the cache is rebuilt when the pass is through,
		 * and stays empty if it fails before. */
		m->t = c->known;
		m->nt = c->n;
		m->tsync = 1;
		c->known = NULL;
		c->n = 0;
	} else if (list_hashes(m->dfd, m->path, &m->t, &m->nt, cause) != 0)
		return -1;
	cache_forget(c);
	m->mark = xcalloc(m->nt + 1, 1);
	return 0;
}

/* A message on both sides: still alike, fixed, or copied again. */
static int
mdir_update(struct sync *s, struct mdir *m, const char *name,
    const struct track *tr, const struct stat *st, const struct stat *dt,
    char **cause)
{
	struct ent se = { (char *)name, *st, 0 }, de = { (char *)name, *dt, 0 };

	if (!S_ISREG(st->st_mode) || !S_ISREG(dt->st_mode))
		return update_entry(s, m->sfd, m->dfd, m->path, &se, &de,
		    cause);
	if (st->st_size != dt->st_size ||
	    !same_time(&st->st_mtim, &dt->st_mtim))
		return copy_or_queue(s, m->sfd, m->dfd, m->path, name, tr,
		    cause);
	if (fix_meta(s, m->dfd, m->path, &se, &de, cause) != 0)
		return -1;
	mdir_add(m, tr->hash, tr->ino, (uint64_t)st->st_size);
	return 0;
}

/* Copy what the target lacks. */
static int
mdir_create(struct sync *s, struct mdir *m, const char *name,
    const struct track *tr, const struct stat *st, char **cause)
{
	struct ent e = { (char *)name, *st, 0 };

	if (S_ISREG(st->st_mode))
		return copy_or_queue(s, m->sfd, m->dfd, m->path, name, tr,
		    cause);
	return create_entry(s, m->sfd, m->dfd, m->path, &e, cause);
}

/*
 * Read the source's names. A name and inode that the last pass left in
 * sync on both sides is left alone without a stat: message files are
 * never changed in place (a flag change is a rename, an expunge an
 * unlink), so the same name on the same inode is the same message. Unless
 * skipping, nothing counts as in sync and everything is compared. The
 * rest is compared with the target by lstat of both sides, and what the
 * target lacks goes to fresh, or is copied at once when the target has
 * nothing to rename from (direct).
 */
static int
mdir_scan(struct sync *s, struct mdir *m, int k, struct cands *fresh,
    int direct, char **cause)
{
	struct dirent *de;
	struct stat st, dt;
	struct track tr;
	long i;
	DIR *d;
	int rc = -1;

	if ((d = dir_open(m->sfd, m->path, cause)) == NULL)
		return -1;
	tr.md = m;
	while ((de = dir_next(d)) != NULL) {
		if (check_name(m->path, de->d_name, cause) != 0)
			goto out;
		tr.hash = name_hash(de->d_name);
		tr.ino = de->d_ino;
		i = mdir_find(m, tr.hash, tr.ino);
		if (i >= 0 && m->tsync && m->t[i].ino == tr.ino &&
		    (de->d_type == DT_REG || de->d_type == DT_UNKNOWN)) {
			m->mark[i] = MARK_KEEP;
			m->present++;
			m->files++;
			m->bytes += m->t[i].size;
			continue;
		}
		if (fstatat(m->sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			sys_fail(cause, "cannot stat", m->path, de->d_name);
			goto out;
		}
		m->present++;
		if (S_ISREG(st.st_mode)) {
			m->files++;
			m->bytes += (uint64_t)st.st_size;
		}
		if (i >= 0) {
			if (fstatat(m->dfd, de->d_name, &dt,
			    AT_SYMLINK_NOFOLLOW) == 0) {
				m->mark[i] = MARK_SEEN;
				if (mdir_update(s, m, de->d_name, &tr, &st, &dt,
				    cause) != 0)
					goto out;
				continue;
			}
			if (errno != ENOENT) {
				sys_fail(cause, "cannot stat target", m->path,
				    de->d_name);
				goto out;
			}
		}
		if (direct) {
			if (mdir_create(s, m, de->d_name, &tr, &st, cause) != 0)
				goto out;
		} else
			cands_add(fresh, de->d_name, &st, tr.ino, k);
	}
	if (errno != 0) {
		sys_fail(cause, "cannot list", m->path, "");
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

/*
 * Find the names of what the target holds and the source did not list:
 * read the target's names when some of t[] is unaccounted for, and take
 * those that the source lacks (checked by name: hashes can collide).
 */
static int
mdir_gone(struct mdir *m, int k, struct cands *gone, char **cause)
{
	struct dirent *de;
	struct stat st;
	size_t i, left = 0;
	long f;
	DIR *d;
	int rc = -1;

	for (i = 0; i < m->nt; i++) {
		if (m->mark[i] == 0)
			left++;
	}
	if (left == 0)
		return 0;
	if ((d = dir_open(m->dfd, m->path, cause)) == NULL)
		return -1;
	while (left > 0 && (de = dir_next(d)) != NULL) {
		if ((f = mdir_find(m, name_hash(de->d_name), 0)) < 0)
			continue;
		if (fstatat(m->sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    0)
			continue;	/* on the source after all */
		if (errno != ENOENT) {
			sys_fail(cause, "cannot stat", m->path, de->d_name);
			goto out;
		}
		if (fstatat(m->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (errno == ENOENT)
				continue;
			sys_fail(cause, "cannot stat target", m->path,
			    de->d_name);
			goto out;
		}
		m->mark[f] = MARK_GONE;
		left--;
		cands_add(gone, de->d_name, &st, 0, k);
	}
	if (left > 0 && de == NULL && errno != 0) {
		sys_fail(cause, "cannot list", m->path, "");
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

/*
 * After the pass made the directory equal: what the target holds in sync
 * is what stayed so plus what this pass made so, sorted by merging (the
 * kept part is sorted already). Complete when that is every entry.
 */
static void
mdir_finish(struct sync *s, struct mdir *m)
{
	struct dcache *c = m->c;
	size_t i, n = 0, left = 0, w;
	long a, b;

	for (i = 0; i < m->nt; i++) {
		if (m->mark[i] == MARK_KEEP)
			m->t[n++] = m->t[i];
		else if (m->mark[i] == 0)
			left++;
	}
	if (m->nadd > 0) {
		if (m->nadd > 1)
			qsort(m->add, m->nadd, sizeof *m->add, cmp_known);
		m->t = xrealloc(m->t, (n + m->nadd) * sizeof *m->t);
		for (a = (long)n - 1, b = (long)m->nadd - 1, w = n + m->nadd;
		    b >= 0; ) {
			if (a >= 0 && m->t[a].hash > m->add[b].hash)
				m->t[--w] = m->t[a--];
			else
				m->t[--w] = m->add[b--];
		}
		n += m->nadd;
	}
	cache_forget(c);
	c->known = m->t;
	c->n = n;
	m->t = NULL;
	m->nt = 0;
	c->complete = left == 0 && n == m->present;
	c->dmtime = m->sst.st_mtim;
	c->trusted = m->trust;
	c->files = m->files;
	c->bytes = m->bytes;
	s->stats->files_seen += m->files;
	s->stats->bytes_seen += m->bytes;
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
	struct mdir md[2];
	struct cands fresh = { 0 }, gone = { 0 };
	struct cand *f, *g, key;
	struct batch batch = { 0 }, *outer = s->batch;
	struct stat dst;
	struct track tr;
	size_t i, lo, hi, mid;
	int k, rc = -1, direct;

	memset(md, 0, sizeof md);
	for (k = 0; k < 2; k++)
		md[k].sfd = md[k].dfd = -1;
	s->batch = &batch;
	for (k = 0; k < 2; k++) {
		if (mdir_open(s, &md[k], sfolder, dfolder, rel, names[k],
		    cause) != 0)
			goto out;
	}

	/* The source's names; the target's that it lacks. */
	direct = md[0].nt == 0 && md[1].nt == 0;
	for (k = 0; k < 2; k++) {
		if (md[k].listed && mdir_scan(s, &md[k], k, &fresh, direct,
		    cause) != 0)
			goto out;
	}
	for (k = 0; k < 2; k++) {
		if (md[k].listed && mdir_gone(&md[k], k, &gone, cause) != 0)
			goto out;
	}
	if (gone.n > 1)
		qsort(gone.c, gone.n, sizeof *gone.c, cmp_cand);

	/* What only the source has: rename a message the target has under
	 * another name (same unique part, same size), or copy. */
	for (i = 0; i < fresh.n; i++) {
		f = &fresh.c[i];
		tr.md = &md[f->dir];
		tr.hash = name_hash(f->e.name);
		tr.ino = f->ino;
		g = NULL;
		if (S_ISREG(f->e.st.st_mode) && gone.n > 0) {
			key.e.name = f->e.name;
			lo = 0;
			hi = gone.n;
			while (lo < hi) {
				mid = (lo + hi) / 2;
				if (cmp_cand(&gone.c[mid], &key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < gone.n && cmp_cand(&gone.c[lo], &key) == 0;
			    lo++) {
				if (!gone.c[lo].e.used &&
				    S_ISREG(gone.c[lo].e.st.st_mode) &&
				    gone.c[lo].e.st.st_size == f->e.st.st_size) {
					g = &gone.c[lo];
					break;
				}
			}
		}
		if (g == NULL) {
			if (mdir_create(s, tr.md, f->e.name, &tr, &f->e.st,
			    cause) != 0)
				goto out;
			continue;
		}
		if (renameat(md[g->dir].dfd, g->e.name, tr.md->dfd,
		    f->e.name) != 0) {
			sys_fail(cause, "cannot rename", tr.md->path,
			    f->e.name);
			goto out;
		}
		g->e.used = 1;
		s->stats->renamed++;
		{
			struct ent moved = g->e;

			moved.name = f->e.name;
			if (fix_meta(s, tr.md->dfd, tr.md->path, &f->e, &moved,
			    cause) != 0)
				goto out;
		}
		mdir_add(tr.md, tr.hash, tr.ino, (uint64_t)f->e.st.st_size);
	}
	for (i = 0; i < gone.n; i++) {
		if (gone.c[i].e.used)
			continue;
		if (tree_remove(md[gone.c[i].dir].dfd, gone.c[i].e.name,
		    cause) != 0)
			goto out;
		s->stats->deleted++;
	}

	/* The queued copies, then directory times, after every change. */
	s->batch = outer;
	if (batch_run(s, &batch, cause) != 0)
		goto out;
	for (k = 0; k < 2; k++) {
		struct ent se2, de2;

		if (md[k].sfd < 0)
			continue;
		if (fstat(md[k].dfd, &dst) != 0) {
			sys_fail(cause, "cannot stat target", rel, names[k]);
			goto out;
		}
		se2.name = (char *)names[k];
		se2.st = md[k].sst;
		de2.name = (char *)names[k];
		de2.st = dst;
		if (fix_meta(s, dfolder, rel, &se2, &de2, cause) != 0)
			goto out;
		if (md[k].listed)
			mdir_finish(s, &md[k]);
	}
	rc = 0;
out:
	s->batch = outer;
	batch_drop(&batch);
	for (k = 0; k < 2; k++) {
		if (md[k].sfd >= 0)
			close(md[k].sfd);
		if (md[k].dfd >= 0)
			close(md[k].dfd);
		free(md[k].t);
		free(md[k].mark);
		free(md[k].add);
	}
	cands_free(&fresh);
	cands_free(&gone);
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
	struct sync	*skip;		/* trust what its passes know */
};

/*
 * What may verification take from the passes of v->skip for directory
 * path (cur/ or new/, stats ss and ds)? 1: nothing to read, as neither
 * side changed since a trusted listing (counted here); 2: the target as
 * the last pass left it, in *cp; 0: nothing.
 */
static int
verify_known(struct verify *v, const char *path, const char *name,
    const struct stat *ss, const struct stat *ds, struct dcache **cp)
{
	struct dcache *c;

	if (v->skip == NULL || (strcmp(name, "cur") != 0 &&
	    strcmp(name, "new") != 0))
		return 0;
	if ((c = cache_get(v->skip, path, 0)) == NULL || !c->complete ||
	    !same_time(&c->dmtime, &ds->st_mtim))
		return 0;
	if (c->trusted && same_time(&c->mtime, &ss->st_mtim)) {
		v->files += c->files;
		v->bytes += c->bytes;
		return 1;
	}
	*cp = c;
	return 2;
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

static int verify_dir(struct verify *, int, int, const char *, char **);
static int verify_names(struct verify *, int, int, const char *,
    struct dcache *, char **);

/* Compare se and de, one name on both sides, and what is below it. */
static int
verify_pair(struct verify *v, int sfd, int dfd, const char *rel,
    const struct ent *se, const struct ent *de, char **cause)
{
	char path[MS_PATH_MAX], a[MS_PATH_MAX], b[MS_PATH_MAX];
	struct dcache *c = NULL;
	ssize_t na, nb;
	int s2, d2, rc, how;
	char *p;

	if (verify_ent(v, rel, se, de, cause) != 0)
		return -1;
	if (S_ISREG(se->st.st_mode)) {
		v->files++;
		v->bytes += (uint64_t)se->st.st_size;
		if (v->content && same_content(sfd, dfd, se->name, rel,
		    cause) != 0)
			return -1;
	} else if (S_ISLNK(se->st.st_mode)) {
		na = readlinkat(sfd, se->name, a, sizeof a);
		nb = readlinkat(dfd, de->name, b, sizeof b);
		if (na < 0 || na != nb || memcmp(a, b, (size_t)na)) {
			p = shown(rel, se->name);
			fail(cause, "verify: link %s points elsewhere", p);
			free(p);
			return -1;
		}
	} else if (S_ISDIR(se->st.st_mode)) {
		if ((size_t)snprintf(path, sizeof path, "%s%s%s", rel,
		    *rel ? "/" : "", se->name) >= sizeof path)
			return fail(cause, "path too long below %s", rel);
		if ((how = verify_known(v, path, se->name, &se->st, &de->st,
		    &c)) == 1)
			return 0;
		s2 = openat(sfd, se->name, DIR_FLAGS);
		d2 = openat(dfd, de->name, DIR_FLAGS);
		if (s2 < 0 || d2 < 0) {
			sys_fail(cause, "cannot open", rel, se->name);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
			return -1;
		}
		rc = how == 2 ? verify_names(v, s2, d2, path, c, cause) :
		    verify_dir(v, s2, d2, path, cause);
		close(s2);
		close(d2);
		return rc;
	}
	return 0;
}

static int
verify_dir(struct verify *v, int sfd, int dfd, const char *rel, char **cause)
{
	struct list sl, dl;
	size_t i;
	int rc = -1;
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
		if (verify_pair(v, sfd, dfd, rel, &sl.e[i], &dl.e[i],
		    cause) != 0)
			goto out;
	}
	rc = 0;
out:
	list_free(&sl);
	list_free(&dl);
	return rc;
}

/*
 * A cur/ or new/ whose target is as the last pass left it (c), read again
 * on the source because its listing is not trusted yet. A name on the
 * inode the pass left in sync needs nothing more (messages do not change
 * in place); any other is compared by lstat of both sides. When the target
 * then holds as many entries, both hold the same names. Otherwise the full
 * comparison names the difference.
 */
static int
verify_names(struct verify *v, int sfd, int dfd, const char *rel,
    struct dcache *c, char **cause)
{
	struct dirent *de;
	struct ent se, te;
	uint64_t h, ns = 0, nt = 0, files = v->files, bytes = v->bytes;
	size_t i;
	char *p;
	DIR *d;
	int rc = -1;

	if ((d = dir_open(sfd, rel, cause)) == NULL)
		return -1;
	while ((de = dir_next(d)) != NULL) {
		ns++;
		h = name_hash(de->d_name);
		for (i = known_lower(c->known, c->n, h); i < c->n &&
		    c->known[i].hash == h; i++) {
			if (c->known[i].ino == de->d_ino)
				break;
		}
		if (i < c->n && c->known[i].hash == h &&
		    (de->d_type == DT_REG || de->d_type == DT_UNKNOWN)) {
			v->files++;
			v->bytes += c->known[i].size;
			continue;
		}
		se.name = te.name = de->d_name;
		if (fstatat(sfd, de->d_name, &se.st, AT_SYMLINK_NOFOLLOW) != 0) {
			sys_fail(cause, "verify: cannot stat", rel, de->d_name);
			goto out;
		}
		if (fstatat(dfd, de->d_name, &te.st, AT_SYMLINK_NOFOLLOW) != 0) {
			p = shown(rel, de->d_name);
			if (errno == ENOENT)
				fail(cause, "verify: %s is missing on the "
				    "target", p);
			else
				fail(cause, "verify: cannot stat %s on the "
				    "target: %s", p, strerror(errno));
			free(p);
			goto out;
		}
		if (verify_pair(v, sfd, dfd, rel, &se, &te, cause) != 0)
			goto out;
	}
	if (errno != 0) {
		sys_fail(cause, "cannot list", rel, "");
		goto out;
	}
	closedir(d);
	if ((d = dir_open(dfd, rel, cause)) == NULL)
		return -1;
	while (dir_next(d) != NULL)
		nt++;
	if (errno != 0) {
		sys_fail(cause, "cannot list target", rel, "");
		goto out;
	}
	if (ns == nt) {
		rc = 0;
		goto out;
	}
	/* The full comparison counts again and says what differs. */
	v->files = files;
	v->bytes = bytes;
	if ((rc = verify_dir(v, sfd, dfd, rel, cause)) == 0) {
		p = shown("", rel);
		rc = fail(cause, "verify: %s changed while it was compared", p);
		free(p);
	}
out:
	closedir(d);
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
