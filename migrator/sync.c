/* Making one Maildir++ tree equal to another: see sync.h. */
#define _GNU_SOURCE
#include "migrator/sync.h"
#include "migrator/throttle.h"
#include "migrator/tree.h"
#include "common/util.h"

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

#define DIR_FLAGS	TREE_DIR_FLAGS
#define TMP_PREFIX	".mailshift-tmp."
#define TRUST_MARGIN	2.0	/* s: coarser than any mtime granularity */

/* What a pass compares of an entry: its lstat, packed. */
struct meta {
	int64_t		 size;
	int64_t		 sec;		/* mtime */
	int32_t		 nsec;
	uint32_t	 mode;
	uint32_t	 uid;
	uint32_t	 gid;
};

/* A directory's entries sorted by name, the names in one buffer. */
struct ent {
	uint32_t	 name;		/* offset in names */
	struct meta	 m;
};

struct list {
	struct ent	*e;
	size_t		 n;
	char		*names;
};

#define NAME(l, i)	((l)->names + (l)->e[i].name)

/* A message both sides hold alike, as a pass left it. */
struct known {
	uint64_t	 hash;		/* of its name */
	uint64_t	 ino;		/* of the source file, from the listing */
	uint64_t	 size;
};

/*
 * What the passes know of a cur/ or new/ directory. A listing of the
 * source can be trusted (no entry can arrive later without moving the
 * mtime) once the file system's clock has left the mtime's tick: when
 * the listing began TRUST_MARGIN after this handle first saw that mtime,
 * by its own monotonic clock, or when the file system's own clock, read
 * at the start of the pass (see slice_clock), was TRUST_MARGIN past the
 * mtime. The migrator's wall clock is never compared with a slice's: an
 * NFS server's clock may be off.
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
#define BATCH_MAX 1024		/* more wait for the ones queued to be done */

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
	const char	*rel;		/* the directory's, while it is synced */
	char		*name;
	struct track	 tr;		/* md NULL: not a tracked message */
	uint64_t	 size;		/* copied, when clean */
	int		 clean;		/* the target equals the source */
};

/* The copies of one directory, run by the workers at its end (or when
 * BATCH_MAX are queued). */
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
	char			*clock_dir;	/* a copy of cfg.clock_dir */
	struct timespec		 slice_now;	/* the source's clock ... */
	int			 has_now;	/* ... if it could be read */
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
	if (s->cfg.clock_dir != NULL)
		s->clock_dir = xstrdup(s->cfg.clock_dir);
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
	free(s->clock_dir);
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

static void
meta_of(struct meta *m, const struct stat *st)
{
	m->size = st->st_size;
	m->sec = st->st_mtim.tv_sec;
	m->nsec = (int32_t)st->st_mtim.tv_nsec;
	m->mode = st->st_mode;
	m->uid = st->st_uid;
	m->gid = st->st_gid;
}

static int
same_mtime(const struct meta *a, const struct meta *b)
{
	return a->sec == b->sec && a->nsec == b->nsec;
}

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

static DIR *dir_open(int, const char *, char **);
static struct dirent *dir_next(DIR *);

/* List a directory with lstat of every entry, sorted by name. */
static int
list_dir(int fd, struct list *l, const char *rel, char **cause)
{
	struct dirent *de;
	struct stat st;
	size_t cap = 0, len = 0, room = 0, k;
	DIR *d;

	memset(l, 0, sizeof *l);
	if ((d = dir_open(fd, rel, cause)) == NULL)
		return -1;
	while ((de = dir_next(d)) != NULL) {
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			sys_fail(cause, "cannot stat", rel, de->d_name);
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
		sys_fail(cause, "cannot list", rel, "");
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
		if (check_name(rel, NAME(l, i), cause) != 0)
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

static int batch_run(struct sync *, struct batch *, char **);

/*
 * Copy a file now, or queue it for the directory's workers; a full queue
 * is run first, so that a large directory does not queue all its files.
 * A clean copy of a message tracked by tr (or NULL) is recorded as in
 * sync.
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
	if (b->n == BATCH_MAX && batch_run(s, b, cause) != 0)
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

	for (k = 0; k < b->n; k++)
		free(b->j[k].name);
	free(b->j);
	free(b->cause);
	memset(b, 0, sizeof *b);
}

/* Copy symlink name as a symlink (its target is never followed). */
static int
copy_link(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *m, char **cause)
{
	char target[MS_PATH_MAX], tmp[64];
	struct timespec times[2] = { { 0, UTIME_OMIT }, { m->sec, m->nsec } };
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
	if ((s->cfg.preserve_owner && fchownat(ddir, tmp, m->uid, m->gid,
	    AT_SYMLINK_NOFOLLOW) != 0) ||
	    utimensat(ddir, tmp, times, AT_SYMLINK_NOFOLLOW) != 0 ||
	    renameat(ddir, tmp, ddir, name) != 0) {
		sys_fail(cause, "cannot place link", rel, name);
		unlinkat(ddir, tmp, 0);
		return -1;
	}
	s->stats->files_copied++;
	return 0;
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

/*
 * Give entry name of ddir the mode, owner and mtime of sm where dm, what
 * it has, differs (its atime is left as it is).
 */
static int
fix_meta(struct sync *s, int ddir, const char *rel, const char *name,
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
			return sys_fail(cause, "cannot fix", rel, name);
	} else {
		if ((fd = openat(ddir, name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			return sys_fail(cause, "cannot open target", rel, name);
		rc = (s->cfg.preserve_owner && fchown(fd, sm->uid, sm->gid) !=
		    0) || fchmod(fd, sm->mode & 07777) != 0 ||
		    futimens(fd, times) != 0;
		close(fd);
		if (rc)
			return sys_fail(cause, "cannot fix", rel, name);
	}
	s->stats->meta_fixed++;
	return 0;
}

/* Create what the source has and the target lacks. */
static int
create_entry(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *m, char **cause)
{
	char *p;

	if (S_ISREG(m->mode))
		return copy_or_queue(s, sdir, ddir, rel, name, NULL, cause);
	if (S_ISDIR(m->mode))
		return sync_subdir(s, sdir, ddir, rel, name, 1, cause);
	if (S_ISLNK(m->mode))
		return copy_link(s, sdir, ddir, rel, name, m, cause);
	p = shown(rel, name);
	fail(cause, "refusing to copy '%s': not a file, directory or "
	    "symlink", p);
	free(p);
	return -1;
}

/* Bring an entry present on both sides in line. */
static int
update_entry(struct sync *s, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *sm, const struct meta *dm,
    char **cause)
{
	char a[MS_PATH_MAX], b[MS_PATH_MAX];
	ssize_t na, nb;

	if ((sm->mode & S_IFMT) != (dm->mode & S_IFMT)) {
		if (tree_remove(ddir, name, cause) != 0)
			return -1;
		s->stats->deleted++;
		return create_entry(s, sdir, ddir, rel, name, sm, cause);
	}
	if (S_ISDIR(sm->mode))
		return sync_subdir(s, sdir, ddir, rel, name, 0, cause);
	if (S_ISREG(sm->mode)) {
		if (sm->size != dm->size || !same_mtime(sm, dm))
			return copy_or_queue(s, sdir, ddir, rel, name, NULL,
			    cause);
		return fix_meta(s, ddir, rel, name, sm, dm, cause);
	}
	if (S_ISLNK(sm->mode)) {
		na = readlinkat(sdir, name, a, sizeof a - 1);
		nb = readlinkat(ddir, name, b, sizeof b - 1);
		if (na < 0 || nb < 0 || na != nb || memcmp(a, b, (size_t)na))
			return copy_link(s, sdir, ddir, rel, name, sm, cause);
		return fix_meta(s, ddir, rel, name, sm, dm, cause);
	}
	return create_entry(s, sdir, ddir, rel, name, sm, cause);
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
	char		*name;
	struct meta	 m;
	uint64_t	 ino;		/* of the source file, from the listing */
	int		 dir;
	int		 used;		/* renamed from */
};

struct cands {
	struct cand	*c;
	size_t		 n;
	size_t		 cap;
};

static void
cands_add(struct cands *l, const char *name, const struct meta *m,
    uint64_t ino, int dir)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->c = xrealloc(l->c, l->cap * sizeof *l->c);
	}
	l->c[l->n].name = xstrdup(name);
	l->c[l->n].m = *m;
	l->c[l->n].used = 0;
	l->c[l->n].ino = ino;
	l->c[l->n].dir = dir;
	l->n++;
}

static void
cands_free(struct cands *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->c[i].name);
	free(l->c);
	memset(l, 0, sizeof *l);
}

static int
cmp_cand(const void *a, const void *b)
{
	const char *x = ((const struct cand *)a)->name;
	const char *y = ((const struct cand *)b)->name;
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
	m->trust = now - c->since >= s->margin || (s->has_now &&
	    (double)(s->slice_now.tv_sec - m->sst.st_mtim.tv_sec) +
	    (double)(s->slice_now.tv_nsec - m->sst.st_mtim.tv_nsec) / 1e9 >=
	    s->margin);
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
    const struct track *tr, const struct meta *sm, const struct meta *dm,
    char **cause)
{
	if (!S_ISREG(sm->mode) || !S_ISREG(dm->mode))
		return update_entry(s, m->sfd, m->dfd, m->path, name, sm, dm,
		    cause);
	if (sm->size != dm->size || !same_mtime(sm, dm))
		return copy_or_queue(s, m->sfd, m->dfd, m->path, name, tr,
		    cause);
	if (fix_meta(s, m->dfd, m->path, name, sm, dm, cause) != 0)
		return -1;
	mdir_add(m, tr->hash, tr->ino, (uint64_t)sm->size);
	return 0;
}

/* Copy what the target lacks. */
static int
mdir_create(struct sync *s, struct mdir *m, const char *name,
    const struct track *tr, const struct meta *sm, char **cause)
{
	if (S_ISREG(sm->mode))
		return copy_or_queue(s, m->sfd, m->dfd, m->path, name, tr,
		    cause);
	return create_entry(s, m->sfd, m->dfd, m->path, name, sm, cause);
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
	struct stat st;
	struct meta sm, dm;
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
		meta_of(&sm, &st);
		m->present++;
		if (S_ISREG(st.st_mode)) {
			m->files++;
			m->bytes += (uint64_t)st.st_size;
		}
		if (i >= 0) {
			if (fstatat(m->dfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0) {
				meta_of(&dm, &st);
				m->mark[i] = MARK_SEEN;
				if (mdir_update(s, m, de->d_name, &tr, &sm, &dm,
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
			if (mdir_create(s, m, de->d_name, &tr, &sm, cause) != 0)
				goto out;
		} else
			cands_add(fresh, de->d_name, &sm, tr.ino, k);
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
	struct meta dm;
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
		meta_of(&dm, &st);
		cands_add(gone, de->d_name, &dm, 0, k);
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
	if (m->nadd > 1)
		qsort(m->add, m->nadd, sizeof *m->add, cmp_known);
	if (n == 0 && m->nadd > 0) {
		/* All of it new (a first pass): no merge, no second copy. */
		free(m->t);
		m->t = xrealloc(m->add, m->nadd * sizeof *m->t);
		m->add = NULL;
		n = m->nadd;
	} else if (m->nadd > 0) {
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
		tr.hash = name_hash(f->name);
		tr.ino = f->ino;
		g = NULL;
		if (S_ISREG(f->m.mode) && gone.n > 0) {
			key.name = f->name;
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
				if (!gone.c[lo].used &&
				    S_ISREG(gone.c[lo].m.mode) &&
				    gone.c[lo].m.size == f->m.size) {
					g = &gone.c[lo];
					break;
				}
			}
		}
		if (g == NULL) {
			if (mdir_create(s, tr.md, f->name, &tr, &f->m,
			    cause) != 0)
				goto out;
			continue;
		}
		if (renameat(md[g->dir].dfd, g->name, tr.md->dfd,
		    f->name) != 0) {
			sys_fail(cause, "cannot rename", tr.md->path, f->name);
			goto out;
		}
		g->used = 1;
		s->stats->renamed++;
		if (fix_meta(s, tr.md->dfd, tr.md->path, f->name, &f->m, &g->m,
		    cause) != 0)
			goto out;
		mdir_add(tr.md, tr.hash, tr.ino, (uint64_t)f->m.size);
	}
	for (i = 0; i < gone.n; i++) {
		if (gone.c[i].used)
			continue;
		if (tree_remove(md[gone.c[i].dir].dfd, gone.c[i].name,
		    cause) != 0)
			goto out;
		s->stats->deleted++;
	}

	/* The queued copies, then directory times, after every change. */
	s->batch = outer;
	if (batch_run(s, &batch, cause) != 0)
		goto out;
	for (k = 0; k < 2; k++) {
		struct meta sm, dm;

		if (md[k].sfd < 0)
			continue;
		if (fstat(md[k].dfd, &dst) != 0) {
			sys_fail(cause, "cannot stat target", rel, names[k]);
			goto out;
		}
		meta_of(&sm, &md[k].sst);
		meta_of(&dm, &dst);
		if (fix_meta(s, dfolder, rel, names[k], &sm, &dm, cause) != 0)
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
			if (create_entry(s, sfd, dfd, rel, name, &sl.e[i].m,
			    cause) != 0)
				goto out;
			i++;
		} else if (cmp > 0) {
			if (tree_remove(dfd, name, cause) != 0)
				goto out;
			s->stats->deleted++;
			j++;
		} else {
			seen(s, &sl.e[i].m);
			if (update_entry(s, sfd, dfd, rel, name, &sl.e[i].m,
			    &dl.e[j].m, cause) != 0)
				goto out;
			i++;
			j++;
		}
	}
	s->batch = outer;
	if (batch_run(s, &batch, cause) != 0)
		goto out;
	/* The directory's own mode, owner and times, after its contents. */
	if (fstat(sfd, &ss) != 0 || fstat(dfd, &ds) != 0) {
		sys_fail(cause, "cannot stat", rel, "");
		goto out;
	}
	if ((ss.st_mode & 07777) != (ds.st_mode & 07777) ||
	    !same_time(&ss.st_mtim, &ds.st_mtim) || (s->cfg.preserve_owner &&
	    (ss.st_uid != ds.st_uid || ss.st_gid != ds.st_gid))) {
		struct timespec times[2] = { ss.st_atim, ss.st_mtim };

		if ((s->cfg.preserve_owner && fchown(dfd, ss.st_uid,
		    ss.st_gid) != 0) || fchmod(dfd, ss.st_mode & 07777) != 0 ||
		    futimens(dfd, times) != 0) {
			sys_fail(cause, "cannot set mode, owner or times of",
			    rel, "");
			goto out;
		}
		s->stats->meta_fixed++;
	}
	rc = 0;
out:
	s->batch = outer;
	batch_drop(&batch);
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
	int rc;

	memset(st, 0, sizeof *st);
	s->has_now = slice_clock(s, &s->slice_now);
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

static int
same_as(const struct timespec *t, const struct meta *m)
{
	return t->tv_sec == m->sec && t->tv_nsec == m->nsec;
}

/*
 * What may verification take from the passes of v->skip for directory
 * path (cur/ or new/, sm and dm on each side)? 1: nothing to read, as
 * neither side changed since a trusted listing (counted here); 2: the
 * target as the last pass left it, in *cp; 0: nothing.
 */
static int
verify_known(struct verify *v, const char *path, const char *name,
    const struct meta *sm, const struct meta *dm, struct dcache **cp)
{
	struct dcache *c;

	if (v->skip == NULL || (strcmp(name, "cur") != 0 &&
	    strcmp(name, "new") != 0))
		return 0;
	if ((c = cache_get(v->skip, path, 0)) == NULL || !c->complete ||
	    !same_as(&c->dmtime, dm))
		return 0;
	if (c->trusted && same_as(&c->mtime, sm)) {
		v->files += c->files;
		v->bytes += c->bytes;
		return 1;
	}
	*cp = c;
	return 2;
}

/* Describe the first difference between sm and dm, entry name of rel. */
static int
verify_ent(const struct verify *v, const char *rel, const char *name,
    const struct meta *sm, const struct meta *dm, char **cause)
{
	const char *what = NULL;
	char *p;

	if ((sm->mode & S_IFMT) != (dm->mode & S_IFMT))
		what = "type";
	else if (S_ISREG(sm->mode) && sm->size != dm->size)
		what = "size";
	else if (!S_ISLNK(sm->mode) && (sm->mode & 07777) != (dm->mode & 07777))
		what = "mode";
	else if (!same_mtime(sm, dm))
		what = "mtime";
	else if (v->owner && (sm->uid != dm->uid || sm->gid != dm->gid))
		what = "owner";
	if (what == NULL)
		return 0;
	p = shown(rel, name);
	fail(cause, "verify: %s differs in %s", *p ? p : ".", what);
	free(p);
	return -1;
}

static int verify_dir(struct verify *, int, int, const char *,
    struct dcache *, char **);

/* Compare name, an entry of sfd and of dfd, and what is below it. */
static int
verify_pair(struct verify *v, int sfd, int dfd, const char *rel,
    const char *name, const struct meta *sm, const struct meta *dm,
    char **cause)
{
	char path[MS_PATH_MAX], a[MS_PATH_MAX], b[MS_PATH_MAX];
	struct dcache *c = NULL;
	ssize_t na, nb;
	int s2, d2, rc, how;
	char *p;

	if (verify_ent(v, rel, name, sm, dm, cause) != 0)
		return -1;
	if (S_ISREG(sm->mode)) {
		v->files++;
		v->bytes += (uint64_t)sm->size;
		if (v->content && same_content(sfd, dfd, name, rel, cause) != 0)
			return -1;
	} else if (S_ISLNK(sm->mode)) {
		na = readlinkat(sfd, name, a, sizeof a);
		nb = readlinkat(dfd, name, b, sizeof b);
		if (na < 0 || na != nb || memcmp(a, b, (size_t)na)) {
			p = shown(rel, name);
			fail(cause, "verify: link %s points elsewhere", p);
			free(p);
			return -1;
		}
	} else if (S_ISDIR(sm->mode)) {
		if ((size_t)snprintf(path, sizeof path, "%s%s%s", rel,
		    *rel ? "/" : "", name) >= sizeof path)
			return fail(cause, "path too long below %s", rel);
		if ((how = verify_known(v, path, name, sm, dm, &c)) == 1)
			return 0;
		s2 = openat(sfd, name, DIR_FLAGS);
		d2 = openat(dfd, name, DIR_FLAGS);
		if (s2 < 0 || d2 < 0) {
			sys_fail(cause, "cannot open", rel, name);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
			return -1;
		}
		rc = verify_dir(v, s2, d2, path, how == 2 ? c : NULL, cause);
		close(s2);
		close(d2);
		return rc;
	}
	return 0;
}

/* Name an entry of the target that the source lacks. */
static int
verify_extra(int sfd, int dfd, const char *rel, char **cause)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *p;

	if ((d = dir_open(dfd, rel, cause)) == NULL)
		return -1;
	while ((de = dir_next(d)) != NULL) {
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT)
			continue;
		p = shown(rel, de->d_name);
		fail(cause, "verify: %s is on the target but not on the source",
		    p);
		free(p);
		closedir(d);
		return -1;
	}
	closedir(d);
	p = shown("", rel);
	fail(cause, "verify: %s changed while it was compared", *p ? p : ".");
	free(p);
	return -1;
}

/*
 * Compare the directories open at sfd and dfd as they are read, holding
 * no listing: every entry of the source must be on the target alike, and
 * the target must hold as many entries. With c (a cur/ or new/ whose
 * target is as the last pass left it), a name on the inode the pass left
 * in sync needs no stat: messages do not change in place.
 */
static int
verify_dir(struct verify *v, int sfd, int dfd, const char *rel,
    struct dcache *c, char **cause)
{
	struct dirent *de;
	struct stat st;
	struct meta sm, dm;
	uint64_t h, ns = 0, nt = 0;
	size_t i;
	char *p;
	DIR *d;
	int rc = -1;

	if ((d = dir_open(sfd, rel, cause)) == NULL)
		return -1;
	while ((de = dir_next(d)) != NULL) {
		if (c != NULL && (de->d_type == DT_REG ||
		    de->d_type == DT_UNKNOWN)) {
			h = name_hash(de->d_name);
			for (i = known_lower(c->known, c->n, h); i < c->n &&
			    c->known[i].hash == h; i++) {
				if (c->known[i].ino == de->d_ino)
					break;
			}
			if (i < c->n && c->known[i].hash == h) {
				ns++;
				v->files++;
				v->bytes += c->known[i].size;
				continue;
			}
		}
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;	/* gone: the count tells */
			sys_fail(cause, "verify: cannot stat", rel, de->d_name);
			goto out;
		}
		ns++;
		meta_of(&sm, &st);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
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
		meta_of(&dm, &st);
		if (verify_pair(v, sfd, dfd, rel, de->d_name, &sm, &dm,
		    cause) != 0)
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
	rc = ns == nt ? 0 : verify_extra(sfd, dfd, rel, cause);
out:
	closedir(d);
	return rc;
}

/* Compare the roots, then the trees below them. */
static int
verify_tree(struct verify *v, int src, int dst, uint64_t *files,
    uint64_t *bytes, char **cause)
{
	struct stat ss, ds;
	struct meta sm, dm;

	if (fstat(src, &ss) != 0 || fstat(dst, &ds) != 0)
		return fail(cause, "verify: cannot stat the mailbox roots: %s",
		    strerror(errno));
	meta_of(&sm, &ss);
	meta_of(&dm, &ds);
	if (verify_ent(v, "", "", &sm, &dm, cause) != 0 ||
	    verify_dir(v, src, dst, "", NULL, cause) != 0)
		return -1;
	if (files != NULL)
		*files = v->files;
	if (bytes != NULL)
		*bytes = v->bytes;
	return 0;
}

int
sync_verify(int src, int dst, int content, int check_owner, uint64_t *files,
    uint64_t *bytes, char **cause)
{
	struct verify v = { .content = content, .owner = check_owner };

	return verify_tree(&v, src, dst, files, bytes, cause);
}

int
sync_verify_changed(struct sync *s, int check_owner, uint64_t *files,
    uint64_t *bytes, char **cause)
{
	struct verify v = { .owner = check_owner, .skip = s };

	return verify_tree(&v, s->src, s->dst, files, bytes, cause);
}
