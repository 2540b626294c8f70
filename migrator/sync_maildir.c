/* cur/ and new/ of a Maildir folder, synced together: see sync_int.h. */
#define _GNU_SOURCE
#include "migrator/sync_int.h"
#include "migrator/throttle.h"
#include "migrator/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* cur/ or new/ of a folder during a pass. */
struct mdir {
	int		 sfd;		/* the source directory, or -1 */
	int		 dfd;		/* the target directory, or -1 */
	struct stat	 sst;		/* the source directory */
	struct dcache	*c;		/* what the passes keep of it */
	char		 path[MS_PATH_MAX]; /* relative to the mailbox root */
	int		 listed;	/* not skipped */
	int		 trust;		/* this listing can be trusted */
	struct known	*t;		/* what the target holds */
	size_t		 nt;		/* entries of t[] */
	int		 tsync;		/* t[] was in sync after the last pass */
	unsigned char	*mark;		/* per t[]: what this pass found */
	struct known	*add;		/* also in sync after this pass */
	size_t		 nadd;		/* entries of add[] */
	size_t		 capadd;	/* allocated */
	uint64_t	 present;	/* source entries */
	uint64_t	 files;		/* regular files of the source */
	uint64_t	 bytes;		/* and their bytes */
};

#define MARK_KEEP	1		/* on both sides, still in sync */
#define MARK_SEEN	2		/* on both sides, compared */
#define MARK_GONE	3		/* only on the target */

/* What the passes know of directory path (created if asked). */
struct dcache *
sync_cache_get(struct sync *s, const char *path, int create)
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

/* Free what the passes know of every directory. */
void
sync_cache_free(struct sync *s)
{
	struct dcache *c, *next;
	int i;

	for (i = 0; i < DCACHE_BUCKETS; i++) {
		for (c = s->cache[i]; c != NULL; c = next) {
			next = c->next;
			free(c->known);
			free(c->path);
			free(c);
		}
		s->cache[i] = NULL;
	}
}

/* qsort order of known entries: by hash. */
static int
cmp_known(const void *a, const void *b)
{
	uint64_t x = ((const struct known *)a)->hash;
	uint64_t y = ((const struct known *)b)->hash;

	return x < y ? -1 : x > y;
}

/* The first of n known entries (sorted) whose hash is not below h. */
size_t
sync_known_lower(const struct known *k, size_t n, uint64_t h)
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
	size_t i = sync_known_lower(m->t, m->nt, h);
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
void
sync_mdir_add(struct mdir *m, uint64_t h, uint64_t ino, uint64_t size)
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


/* The unique part of a Maildir message name: everything before ':'. */
static size_t
unique_len(const char *name)
{
	const char *c = strchr(name, ':');

	return c ? (size_t)(c - name) : strlen(name);
}

/* A message on one side only, in cur/ (0) or new/ (1) of a folder. */
struct cand {
	char		*name;		/* its name */
	struct meta	 m;		/* its lstat on its side */
	uint64_t	 ino;		/* of the source file, from the listing */
	int		 dir;		/* 0: cur/, 1: new/ */
	int		 used;		/* renamed from */
};

/* A growing array of candidates. */
struct cands {
	struct cand	*c;		/* the candidates */
	size_t		 n;		/* used */
	size_t		 cap;		/* allocated */
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
	if ((d = tree_dir_open(fd, rel, cause)) == NULL)
		return -1;
	while ((de = tree_dir_next(d)) != NULL) {
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
		tree_sys_fail(cause, "cannot list", rel, "");
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
	if ((m->sfd = openat(sfolder, name, TREE_DIR_FLAGS)) < 0) {
		if (errno == ENOENT)
			return 0;	/* folder going away */
		return tree_sys_fail(cause, "cannot open", rel, name);
	}
	if (fstat(m->sfd, &m->sst) != 0)
		return tree_sys_fail(cause, "cannot stat", rel, name);
	if (fstatat(dfolder, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(dst.st_mode)) {
		if (tree_remove(dfolder, name, cause) != 0)
			return -1;
		s->stats->deleted++;
	}
	if (mkdirat(dfolder, name, 0700) != 0 && errno != EEXIST) {
		if (errno == ENOSPC || errno == EDQUOT)
			s->enospc = 1;
		return tree_sys_fail(cause, "cannot create directory", rel,
		    name);
	}
	if ((m->dfd = openat(dfolder, name, TREE_DIR_FLAGS)) < 0)
		return tree_sys_fail(cause, "cannot open target", rel, name);
	if (fstat(m->dfd, &dst) != 0)
		return tree_sys_fail(cause, "cannot stat target", rel, name);

	c = m->c = sync_cache_get(s, m->path, 1);
	now = monotonic_now();
	if (!same_time(&c->mtime, &m->sst.st_mtim)) {
		c->mtime = m->sst.st_mtim;
		c->since = now;
		c->trusted = 0;
	}
	if (!same_time(&c->dmtime, &dst.st_mtim))
		cache_forget(c);
	/* Skipped when its listing is trusted and the target as left, or
	 * when this same logical pass (split by a budget) finished it: a
	 * whole pass would not come back to it either. */
	if (s->skip && c->complete && (c->trusted || (s->continuing &&
	    c->done_in == s->logical))) {
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
		return sync_update_entry(s, m->sfd, m->dfd, m->path, name, sm,
		    dm, cause);
	if (sm->size != dm->size || !same_mtime(sm, dm))
		return copy_or_queue(s, m->sfd, m->dfd, m->path, name, tr,
		    cause);
	if (sync_fix_meta(s, m->dfd, m->path, name, sm, dm, cause) != 0)
		return -1;
	sync_mdir_add(m, tr->hash, tr->ino, (uint64_t)sm->size);
	return 0;
}

/* Copy what the target lacks: a message that arrived since the last pass
 * (or, in a first pass, every message). */
static int
mdir_create(struct sync *s, struct mdir *m, const char *name,
    const struct track *tr, const struct meta *sm, char **cause)
{
	if (S_ISREG(sm->mode)) {
		s->stats->files_arrived++;
		s->stats->bytes_arrived += (uint64_t)sm->size;
		return copy_or_queue(s, m->sfd, m->dfd, m->path, name, tr,
		    cause);
	}
	return sync_create_entry(s, m->sfd, m->dfd, m->path, name, sm, cause);
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

	if ((d = tree_dir_open(m->sfd, m->path, cause)) == NULL)
		return -1;
	tr.md = m;
	while ((de = tree_dir_next(d)) != NULL) {
		if (sync_check_name(m->path, de->d_name, cause) != 0)
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
			tree_sys_fail(cause, "cannot stat", m->path,
			    de->d_name);
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
				tree_sys_fail(cause, "cannot stat target",
				    m->path, de->d_name);
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
		tree_sys_fail(cause, "cannot list", m->path, "");
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
	if ((d = tree_dir_open(m->dfd, m->path, cause)) == NULL)
		return -1;
	while (left > 0 && (de = tree_dir_next(d)) != NULL) {
		if ((f = mdir_find(m, name_hash(de->d_name), 0)) < 0)
			continue;
		if (fstatat(m->sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    0)
			continue;	/* on the source after all */
		if (errno != ENOENT) {
			tree_sys_fail(cause, "cannot stat", m->path,
			    de->d_name);
			goto out;
		}
		if (fstatat(m->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			if (errno == ENOENT)
				continue;
			tree_sys_fail(cause, "cannot stat target", m->path,
			    de->d_name);
			goto out;
		}
		m->mark[f] = MARK_GONE;
		left--;
		meta_of(&dm, &st);
		cands_add(gone, de->d_name, &dm, 0, k);
	}
	if (left > 0 && de == NULL && errno != 0) {
		tree_sys_fail(cause, "cannot list", m->path, "");
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
	c->done_in = s->logical;
	s->stats->files_seen += m->files;
	s->stats->bytes_seen += m->bytes;
}

/*
 * Sync cur/ and new/ of a Maildir folder together, so that a message that
 * moved between them or changed flags is renamed, not copied.
 */
int
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
			tree_sys_fail(cause, "cannot rename", tr.md->path,
			    f->name);
			goto out;
		}
		g->used = 1;
		s->stats->renamed++;
		if (sync_fix_meta(s, tr.md->dfd, tr.md->path, f->name, &f->m,
		    &g->m, cause) != 0)
			goto out;
		sync_mdir_add(tr.md, tr.hash, tr.ino, (uint64_t)f->m.size);
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
	if (copy_batch_run(s, &batch, cause) != 0)
		goto out;
	for (k = 0; k < 2; k++) {
		struct meta sm, dm;

		if (md[k].sfd < 0)
			continue;
		if (fstat(md[k].dfd, &dst) != 0) {
			tree_sys_fail(cause, "cannot stat target", rel,
			    names[k]);
			goto out;
		}
		meta_of(&sm, &md[k].sst);
		meta_of(&dm, &dst);
		if (sync_fix_meta(s, dfolder, rel, names[k], &sm, &dm,
		    cause) != 0)
			goto out;
		if (md[k].listed)
			mdir_finish(s, &md[k]);
	}
	rc = 0;
out:
	s->batch = outer;
	copy_batch_drop(&batch);
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
