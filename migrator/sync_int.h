/*
 * Inside the tree sync: what its files share and nothing else includes.
 *
 *   sync.c          the handle, the mtime-trust clock, listings and name
 *                   checks, the generic tree sync and sync_pass
 *   copy.c          the copy engine: files and links through a temporary
 *                   name, the throttle, the worker pool and its batches
 *   sync_maildir.c  cur/ and new/ together, with rename detection, and
 *                   what the passes keep of each of them (struct dcache)
 *   verify.c        sync_verify, sync_verify_changed
 *
 * Every int function here returns 0, or -1 with a cause naming the
 * entry (rel/name as tree_shown writes it). They run on the thread of the
 * pass; the copy workers (copy.c) run only the copy of one file, which
 * takes s->mu for the statistics, hooks and progress it shares.
 */
#ifndef MAILSHIFT_SYNC_INT_H
#define MAILSHIFT_SYNC_INT_H

#include "migrator/sync.h"
#include "common/util.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define TMP_PREFIX	".mailshift-tmp."
#define DCACHE_BUCKETS	1024

/* What a pass compares of an entry: its lstat, packed. */
struct meta {
	int64_t		 size;		/* st_size */
	int64_t		 sec;		/* mtime */
	int32_t		 nsec;		/* mtime, nanoseconds */
	uint32_t	 mode;		/* st_mode: type and permissions */
	uint32_t	 uid;		/* owner */
	uint32_t	 gid;		/* group */
};

/* A message both sides hold alike, as a pass left it. */
struct known {
	uint64_t	 hash;		/* of its name */
	uint64_t	 ino;		/* of the source file, from the listing */
	uint64_t	 size;		/* bytes */
};

/*
 * What the passes know of a cur/ or new/ directory. A listing of the
 * source can be trusted (no entry can arrive later without moving the
 * mtime) once the file system's clock has left the mtime's tick: when
 * the listing began the trust margin after this handle first saw that
 * mtime, by its own monotonic clock, or when the file system's own clock,
 * read at the start of the pass (see slice_clock), was the trust margin
 * past the mtime. The migrator's wall clock is never compared with a
 * slice's: an NFS server's clock may be off.
 */
struct dcache {
	char		*path;		/* relative to the mailbox root */
	struct timespec	 mtime;		/* of the source, as last seen */
	double		 since;		/* when that mtime was first seen */
	int		 trusted;	/* the last listing can be trusted */
	struct timespec	 dmtime;	/* of the target, as the last pass left it */
	int		 complete;	/* known[] is all the target holds */
	struct known	*known;		/* sorted by hash */
	size_t		 n;		/* entries in known[] */
	uint64_t	 files;		/* regular files of the source, */
	uint64_t	 bytes;		/* and their bytes, at that listing */
	uint64_t	 done_in;	/* the logical pass that finished it */
	struct dcache	*next;		/* in its hash bucket */
};

struct mdir;
struct job;

/* Where a clean copy of a message is recorded as in sync. */
struct track {
	struct mdir	*md;		/* its cur/ or new/ in this pass */
	uint64_t	 hash;		/* of its name */
	uint64_t	 ino;		/* of the source file */
};

/* The copies of one directory, run by the workers at its end (or when
 * BATCH_MAX are queued). */
struct batch {
	struct job	*j;		/* the copies queued */
	size_t		 n;		/* entries of j[] used */
	size_t		 cap;		/* allocated */
	size_t		 next;		/* next job to take */
	int		 failed;	/* a copy failed: stop taking */
	char		*cause;		/* the first failure */
};

/* A sync from one tree to another (see sync_new). */
struct sync {
	int			 src;		/* the source root */
	int			 dst;		/* the target root */
	struct sync_config	 cfg;		/* as given to sync_new */
	struct dcache		*cache[DCACHE_BUCKETS]; /* by path hash */
	struct sync_stats	*stats;		/* of the running pass */
	int			 skip;		/* this pass may skip */
	int			 enospc;	/* the target ran out of room */
	int			 no_cfr;	/* copy_file_range unusable */
	uint64_t		 copied_total;	/* files, for the hook */
	uint64_t		 midfile_total;	/* files begun, for the hook */
	double			 last_progress;	/* monotonic, last call */
	double			 margin;	/* TRUST_MARGIN, or cfg.trust */
	char			*clock_dir;	/* a copy of cfg.clock_dir */
	struct timespec		 slice_now;	/* the source's clock ... */
	int			 has_now;	/* ... if it could be read */
	int			 stopped;	/* cfg.stop was seen */
	uint64_t		 budget;	/* files this pass may copy, 0 all */
	int			 partial;	/* the budget ended the pass */
	int			 continuing;	/* this pass carries one on */
	uint64_t		 logical;	/* passes, counting a split one once */
	int			 unthrottled;	/* cutover: no throttle */
	pthread_mutex_t		 mu;		/* stats, hooks, progress */
	pthread_mutex_t		 tmu;		/* the throttle */
	struct batch		*batch;		/* of the directory at hand */
};

/* 64-bit FNV-1a of a name. */
static inline uint64_t
name_hash(const char *p)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static inline void
meta_of(struct meta *m, const struct stat *st)
{
	m->size = st->st_size;
	m->sec = st->st_mtim.tv_sec;
	m->nsec = (int32_t)st->st_mtim.tv_nsec;
	m->mode = st->st_mode;
	m->uid = st->st_uid;
	m->gid = st->st_gid;
}

static inline int
same_mtime(const struct meta *a, const struct meta *b)
{
	return a->sec == b->sec && a->nsec == b->nsec;
}

static inline int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* sync.c */
/* Has the owner asked the pass to stop? Then fail with a cause. */
int sync_check_stop(struct sync *, char **cause);
/* Report the running totals (at most ten times a second unless force). */
void sync_progress(struct sync *, int force);
/* Call the test hook at a named point, if there is one. */
void sync_hook(struct sync *, const char *point, uint64_t n);
/* Refuse a source name a mailbox should never hold. */
int sync_check_name(const char *rel, const char *name, char **cause);
/* Create what the source has and the target lacks. */
int sync_create_entry(struct sync *, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *m, char **cause);
/* Bring an entry present on both sides (sm, dm) in line. */
int sync_update_entry(struct sync *, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *sm, const struct meta *dm,
    char **cause);
/* Give entry name of ddir the mode, owner and mtime of sm where dm, what
 * it has, differs (its atime is left as it is). */
int sync_fix_meta(struct sync *, int ddir, const char *rel,
    const char *name, const struct meta *sm, const struct meta *dm,
    char **cause);

/* copy.c */
/* Copy a regular file now, or queue it on s->batch for the workers; a
 * clean copy of a message tracked by tr (or NULL) is recorded as in sync. */
int copy_or_queue(struct sync *, int sdir, int ddir, const char *rel,
    const char *name, const struct track *tr, char **cause);
/* Copy symlink name as a symlink (its target is never followed). */
int copy_link(struct sync *, int sdir, int ddir, const char *rel,
    const char *name, const struct meta *m, char **cause);
/* Run the queued copies of a directory on the workers and wait; b is
 * empty afterwards. */
int copy_batch_run(struct sync *, struct batch *b, char **cause);
/* Forget the queued copies of a directory after an error. */
void copy_batch_drop(struct batch *b);

/* sync_maildir.c */
/* Sync cur/ and new/ of the Maildir folder open at sfolder and dfolder
 * together, so that a message that moved between them or changed flags
 * is renamed, not copied. */
int sync_maildir(struct sync *, int sfolder, int dfolder, const char *rel,
    char **cause);
/* Record a message of md as in sync on both sides after this pass. */
void sync_mdir_add(struct mdir *md, uint64_t hash, uint64_t ino,
    uint64_t size);
/* What the passes know of directory path; NULL when nothing and not
 * create. */
struct dcache *sync_cache_get(struct sync *, const char *path, int create);
/* Free everything the passes know. */
void sync_cache_free(struct sync *);
/* The first of n known entries (sorted) whose hash is not below h. */
size_t sync_known_lower(const struct known *k, size_t n, uint64_t h);

#endif
