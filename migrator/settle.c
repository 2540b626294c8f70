/* The settle check of a retired source: see settle.h. */
#define _GNU_SOURCE
#include "migrator/settle.h"
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

static const char *const subdirs[] = { "new", "cur" };

struct names {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

static void
names_free(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static void
names_add(struct names *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_sort(struct names *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

/*
 * Sets of names kept as 128-bit hashes (two FNV-1a 64 with different
 * bases), 16 bytes a name whatever its length: a mailbox of 200,000
 * messages costs 3 MB, and a chance collision (about 1 in 10^29 for such
 * a mailbox) is not a concern.
 */
struct key {
	uint64_t	a, b;
};

struct keys {
	struct key	*v;
	size_t		 n;
	size_t		 cap;
};

static struct key
key_of(const char *p1, const char *p2, size_t n2)
{
	struct key k = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)p1; *p != '\0'; p++) {
		k.a = (k.a ^ *p) * 0x100000001b3ULL;
		k.b = (k.b ^ *p) * 0x1000000001b3ULL;
	}
	k.a = (k.a ^ '\t') * 0x100000001b3ULL;
	k.b = (k.b ^ '\t') * 0x1000000001b3ULL;
	for (i = 0, p = (const unsigned char *)p2; i < n2; i++) {
		k.a = (k.a ^ p[i]) * 0x100000001b3ULL;
		k.b = (k.b ^ p[i]) * 0x1000000001b3ULL;
	}
	return k;
}

static int
cmp_key(const void *x, const void *y)
{
	const struct key *a = x, *b = y;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static void
keys_add(struct keys *s, struct key k)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = k;
}

static void
keys_sort(struct keys *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, cmp_key);
}

static int
keys_has(const struct keys *s, struct key k)
{
	return s->n > 0 && bsearch(&k, s->v, s->n, sizeof *s->v, cmp_key) !=
	    NULL;
}

static void
keys_free(struct keys *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Read directory fd entry by entry (not . and ..), without holding the
 * listing: cb(name, arg) for each; cb returns 0 to go on. */
static int
each_entry(int fd, int (*cb)(const char *, void *), void *arg, char **cause)
{
	struct dirent *e;
	DIR *d;
	int dup_fd, rc = 0;

	if ((dup_fd = dup(fd)) < 0 || (d = fdopendir(dup_fd)) == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		return fail(cause, "%s", strerror(errno));
	}
	rewinddir(d);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = cb(e->d_name, arg);
	}
	closedir(d);
	return rc;
}

/* Entry names of directory fd (without . and ..). */
static int
list_names(int fd, struct names *l, char **cause)
{
	struct dirent *e;
	DIR *d;
	int dup_fd;

	if ((dup_fd = dup(fd)) < 0 || (d = fdopendir(dup_fd)) == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		return fail(cause, "%s", strerror(errno));
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names_add(l, xstrdup(e->d_name));
	}
	closedir(d);
	names_sort(l);
	return 0;
}

/* Open folder/sub below mailbox, one component at a time, never through
 * a symlink; folder "" is the mailbox itself. */
static int
open_dir(int mailbox, const char *folder, const char *sub)
{
	int f, d;

	if ((f = *folder ? openat(mailbox, folder, TREE_DIR_FLAGS) :
	    dup(mailbox)) < 0)
		return -1;
	d = openat(f, sub, TREE_DIR_FLAGS);
	close(f);
	return d;
}

/* The folders of a Maildir++ mailbox: "" (the INBOX) and ".Name". */
static int
folders(int mailbox, struct names *out, char **cause)
{
	struct names all = { 0 };
	size_t i;
	int fd;

	if (list_names(mailbox, &all, cause) != 0)
		return -1;
	names_add(out, xstrdup(""));
	for (i = 0; i < all.n; i++) {
		if (all.v[i][0] != '.' || strchr(all.v[i], '\t') != NULL ||
		    strchr(all.v[i], '\n') != NULL)
			continue;
		if ((fd = open_dir(mailbox, all.v[i], "cur")) >= 0) {
			close(fd);
			names_add(out, xstrdup(all.v[i]));
		}
	}
	names_free(&all);
	return 0;
}

static void
rel_of(char *buf, size_t len, const char *folder, const char *sub)
{
	snprintf(buf, len, "%s%s%s", folder, *folder ? "/" : "", sub);
}

char *
settle_marks(int mailbox, char **cause)
{
	struct names f = { 0 };
	struct stat sb;
	char rel[600], *out = xstrdup(""), *next;
	size_t i, k;
	int d;

	if (folders(mailbox, &f, cause) != 0) {
		free(out);
		return NULL;
	}
	for (i = 0; i < f.n; i++) {
		for (k = 0; k < 2; k++) {
			if ((d = open_dir(mailbox, f.v[i], subdirs[k])) < 0)
				continue;
			if (fstat(d, &sb) == 0) {
				rel_of(rel, sizeof rel, f.v[i], subdirs[k]);
				next = xasprintf("%s%s\t%lld.%09ld\n", out, rel,
				    (long long)sb.st_mtim.tv_sec,
				    sb.st_mtim.tv_nsec);
				free(out);
				out = next;
			}
			close(d);
		}
	}
	names_free(&f);
	return out;
}

int
settle_changed(int tree, const char *marks)
{
	char *now = settle_marks(tree, NULL);
	int changed = now == NULL || marks == NULL || strcmp(now, marks) != 0;

	free(now);
	return changed;
}

struct snap_out {
	FILE		*out;
	const char	*rel;
};

static int
snap_line(const char *name, void *arg)
{
	struct snap_out *o = arg;

	if (strchr(name, '\n') == NULL)
		fprintf(o->out, "%s\t%s\n", o->rel, name);
	return 0;
}

int
settle_snapshot(int mailbox, int dir, const char *file, char **cause)
{
	struct names f = { 0 };
	struct snap_out o;
	char rel[600], tmp[700];
	size_t i, k;
	FILE *out;
	int d, fd, rc = -1;

	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if ((fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0)
		return fail(cause, "cannot create %s: %s", tmp,
		    strerror(errno));
	if ((out = fdopen(fd, "w")) == NULL) {
		close(fd);
		return fail(cause, "%s: %s", tmp, strerror(errno));
	}
	o.out = out;
	o.rel = rel;
	if (folders(mailbox, &f, cause) != 0)
		goto out;
	for (i = 0; i < f.n; i++) {
		for (k = 0; k < 2; k++) {
			if ((d = open_dir(mailbox, f.v[i], subdirs[k])) < 0)
				continue;
			rel_of(rel, sizeof rel, f.v[i], subdirs[k]);
			rc = each_entry(d, snap_line, &o, cause);
			close(d);
			if (rc != 0)
				goto out;
			rc = -1;
		}
	}
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		fail(cause, "writing %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (renameat(dir, tmp, dir, file) != 0) {
		fail(cause, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	names_free(&f);
	fclose(out);
	if (rc != 0)
		unlinkat(dir, tmp, 0);
	return rc;
}

/* Load a snapshot as a set of "rel\tname" keys. 0, 1 when there is
 * none, -1 on error. */
static int
snapshot_load(int dir, const char *file, struct keys *snap, char **cause)
{
	char *line = NULL, *tab;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int fd;

	if (dir < 0 || file == NULL)
		return 1;
	if ((fd = openat(dir, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 1 : fail(cause, "%s: %s", file,
		    strerror(errno));
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return fail(cause, "%s: %s", file, strerror(errno));
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		keys_add(snap, key_of(line, tab + 1, strlen(tab + 1)));
	}
	free(line);
	fclose(f);
	keys_sort(snap);
	return 0;
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec &&
	    a->tv_nsec < b->tv_nsec);
}

/* The mark of directory rel, 0 when it has none. */
static int
mark_of(const char *marks, const char *rel, struct timespec *ts)
{
	const char *p = marks;
	size_t n = strlen(rel);
	long long sec;
	long nsec;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, rel, n) == 0 && p[n] == '\t' &&
		    sscanf(p + n + 1, "%lld.%ld", &sec, &nsec) == 2) {
			ts->tv_sec = (time_t)sec;
			ts->tv_nsec = nsec;
			return 1;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}


/* The unique part of a message file name (before ":2,flags"): its
 * length. */
static size_t
unique_len(const char *name)
{
	return strcspn(name, ":");
}

struct target_names {
	struct keys	*uniques;	/* unique parts */
	struct keys	*exact;		/* "sub\tname" */
	const char	*sub;
};

static int
add_unique(const char *name, void *arg)
{
	struct target_names *t = arg;

	keys_add(t->uniques, key_of("", name, unique_len(name)));
	keys_add(t->exact, key_of(t->sub, name, strlen(name)));
	return 0;
}

/* The messages in the target folder's cur/ and new/: their unique names,
 * and their whole names in each. */
static int
target_uniques(int dfolder, struct keys *u, struct keys *exact,
    char **cause)
{
	struct target_names t = { .uniques = u, .exact = exact };
	size_t k;
	int fd, rc;

	for (k = 0; k < 2; k++) {
		if ((fd = openat(dfolder, subdirs[k], TREE_DIR_FLAGS)) < 0) {
			if (errno == ENOENT)
				continue;
			return fail(cause, "%s: %s", subdirs[k],
			    strerror(errno));
		}
		t.sub = subdirs[k];
		rc = each_entry(fd, add_unique, &t, cause);
		close(fd);
		if (rc != 0)
			return -1;
	}
	keys_sort(u);
	keys_sort(exact);
	return 0;
}

static int
open_sub(int folder, const char *name, char **cause)
{
	int fd;

	if (mkdirat(folder, name, 0700) != 0 && errno != EEXIST)
		return fail(cause, "cannot create %s: %s", name,
		    strerror(errno));
	if ((fd = openat(folder, name, TREE_DIR_FLAGS)) < 0)
		return fail(cause, "cannot open %s: %s", name, strerror(errno));
	return fd;
}

/* Copy message name of directory sdir into dfolder/new/unique by way of
 * dfolder/tmp, keeping mode, mtime and (as root) owner. */
static int
carry(int sdir, const char *name, int dfolder, const char *unique,
    int preserve_owner, char **cause)
{
	static unsigned counter;
	struct timespec times[2];
	struct stat st;
	char tmp[128], buf[65536];
	int in = -1, out = -1, tmpd = -1, newd = -1, rc = -1;
	ssize_t r, w, off;

	/* O_NONBLOCK: a FIFO put in the message's place cannot hang us. */
	if ((in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0 || fstat(in, &st) != 0) {
		fail(cause, "cannot read %s: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(cause, "%s is not a regular file any more", name);
		goto out;
	}
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	if ((tmpd = open_sub(dfolder, "tmp", cause)) < 0 ||
	    (newd = open_sub(dfolder, "new", cause)) < 0)
		goto out;
	snprintf(tmp, sizeof tmp, ".mailshift-settle.%ld.%u", (long)getpid(),
	    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	if ((out = openat(tmpd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		fail(cause, "cannot create tmp/%s: %s", tmp, strerror(errno));
		goto out;
	}
	while ((r = read(in, buf, sizeof buf)) > 0) {
		for (off = 0; off < r; off += w) {
			if ((w = write(out, buf + off, (size_t)(r - off))) < 0) {
				fail(cause, "writing tmp/%s: %s", tmp,
				    strerror(errno));
				goto unlink;
			}
		}
	}
	if (r < 0) {
		fail(cause, "reading %s: %s", name, strerror(errno));
		goto unlink;
	}
	if ((preserve_owner && fchown(out, st.st_uid, st.st_gid) != 0) ||
	    fchmod(out, st.st_mode & 07777) != 0 ||
	    futimens(out, times) != 0 || fsync(out) != 0) {
		fail(cause, "finishing tmp/%s: %s", tmp, strerror(errno));
		goto unlink;
	}
	if (renameat(tmpd, tmp, newd, unique) != 0) {
		fail(cause, "cannot rename tmp/%s to new/%s: %s", tmp, unique,
		    strerror(errno));
		goto unlink;
	}
	if (fsync(newd) != 0) {
		fail(cause, "fsync new/: %s", strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
unlink:
	unlinkat(tmpd, tmp, 0);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (tmpd >= 0)
		close(tmpd);
	if (newd >= 0)
		close(newd);
	return rc;
}

/* How a file is judged late: by the snapshot of names the target had at
 * the switch, by the directory marks (no snapshot: a crash came between
 * the switch and the snapshot), or everything (a recreated mailbox). */
enum late_rule { LATE_SNAPSHOT, LATE_MARKS, LATE_ALL };

struct settle_ctx {
	int		 tree;
	int		 dst;
	int		 preserve_owner;
	enum late_rule	 rule;
	const char	*marks;
	struct keys	 snap;
	void		(*report)(void *, const char *, const char *);
	void		*arg;
	struct settle_result *res;
	int		 dovecot;	/* trust a folder's dovecot-uidlist */
	int		 dry;		/* count what would be carried */
	int		 uidlist;	/* the folder's: -1 unread, 0 none, 1 */
	struct keys	 listed;	/* the unique names it lists */
	/* The directory being read. */
	const char	*folder;
	const char	*rel;
	int		 sdir;
	struct timespec	 mark;
	int		 marked;
	int		 dfolder;	/* the target folder, once needed */
	struct keys	 uniques;	/* its messages */
	struct keys	 exact;		/* and their names in cur/, new/ */
	const char	*sub;		/* "cur" or "new", being read */
	char		**cause;
};

/*
 * The unique names Dovecot's dovecot-uidlist of folder lists ("UID
 * [ext...] :name" lines after a header). Dovecot adds a message there
 * before it answers a delivery or an APPEND; a file in new/ it does not
 * list is a save that failed, answered with a temporary error and
 * retried by its sender. 1 with the names, 0 when the folder has none.
 */
static int
uidlist_load(int tree, const char *folder, struct keys *out)
{
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int dir, fd;

	if ((dir = *folder ? openat(tree, folder, TREE_DIR_FLAGS) :
	    dup(tree)) < 0)
		return 0;
	fd = openat(dir, "dovecot-uidlist", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dir);
	if (fd < 0 || (f = fdopen(fd, "r")) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((p = strstr(line, " :")) == NULL)
			continue;
		p += 2;
		keys_add(out, key_of("", p, unique_len(p)));
	}
	free(line);
	fclose(f);
	keys_sort(out);
	return 1;
}

/* One entry of the cur/ or new/ being read: late? then carry it. */
static int
settle_entry(const char *name, void *arg)
{
	struct settle_ctx *c = arg;
	char from[900], to[900], *unique;
	struct stat fs;
	struct key k;
	int late;

	/* Dot files are not messages (.nfs leftovers of expunged mail still
	 * open somewhere). */
	if (name[0] == '.' || fstatat(c->sdir, name, &fs, AT_SYMLINK_NOFOLLOW)
	    != 0 || !S_ISREG(fs.st_mode))
		return 0;
	switch (c->rule) {
	case LATE_SNAPSHOT:
		late = !keys_has(&c->snap, key_of(c->rel, name, strlen(name)));
		break;
	case LATE_MARKS:
		late = !c->marked || !ts_before(&fs.st_ctim, &c->mark);
		break;
	default:
		late = 1;
	}
	if (!late)
		return 0;
	if (c->dfolder < 0) {
		/* The same folder on the target; the INBOX when the folder
		 * is not there. */
		c->dfolder = *c->folder ? openat(c->dst, c->folder,
		    TREE_DIR_FLAGS) : -1;
		if (c->dfolder < 0 && (c->dfolder = dup(c->dst)) < 0)
			return fail(c->cause, "%s", strerror(errno));
		if (target_uniques(c->dfolder, &c->uniques, &c->exact,
		    c->cause) != 0)
			return -1;
	}
	/* The same name in the same place on the target: what the final
	 * pass carried, not a change (a time can only say "maybe": see
	 * settle_dir). */
	if (keys_has(&c->exact, key_of(c->sub, name, strlen(name))))
		return 0;
	k = key_of("", name, unique_len(name));
	if (keys_has(&c->uniques, k)) {
		c->res->on_target++;
		return 0;
	}
	if (c->dovecot && c->uidlist < 0)
		c->uidlist = uidlist_load(c->tree, c->folder, &c->listed);
	if (c->dovecot && c->uidlist == 1 && !keys_has(&c->listed, k)) {
		/* A save the mail server did not complete: left where it
		 * is, never resurrected. */
		c->res->unsaved++;
		snprintf(from, sizeof from, "%s/%s", c->rel, name);
		if (c->report != NULL)
			c->report(c->arg, from, NULL);
		return 0;
	}
	if (c->dry) {
		c->res->carried++;
		keys_add(&c->uniques, k);
		keys_sort(&c->uniques);
		return 0;
	}
	unique = xstrndup(name, unique_len(name));
	if (carry(c->sdir, name, c->dfolder, unique, c->preserve_owner,
	    c->cause) != 0) {
		free(unique);
		return -1;
	}
	c->res->carried++;
	keys_add(&c->uniques, k);
	keys_sort(&c->uniques);
	snprintf(from, sizeof from, "%s/%s", c->rel, name);
	if (*c->folder && faccessat(c->dst, c->folder, F_OK,
	    AT_SYMLINK_NOFOLLOW) == 0)
		snprintf(to, sizeof to, "%s/new/%s", c->folder, unique);
	else
		snprintf(to, sizeof to, "new/%s", unique);
	free(unique);
	if (c->report != NULL)
		c->report(c->arg, from, to);
	return 0;
}

/* One cur/ or new/ directory of the tree, read as a stream. */
static int
settle_dir(struct settle_ctx *c, const char *folder, const char *sub,
    char **cause)
{
	struct stat sb;
	char rel[600];
	int rc;

	rel_of(rel, sizeof rel, folder, sub);
	if ((c->sdir = open_dir(c->tree, folder, sub)) < 0)
		return errno == ENOENT ? 0 : fail(cause, "%s: %s", rel,
		    strerror(errno));
	if (fstat(c->sdir, &sb) != 0) {
		rc = fail(cause, "%s: %s", rel, strerror(errno));
		goto out;
	}
	c->marked = 0;
	if (c->rule == LATE_MARKS) {
		c->marked = mark_of(c->marks, rel, &c->mark);
		/* Untouched since the mark (an equal time is looked at: a
		 * coarse clock can give a later change the same one). */
		if (c->marked && ts_before(&sb.st_mtim, &c->mark)) {
			rc = 0;
			goto out;
		}
	}
	c->folder = folder;
	c->sub = sub;
	c->rel = rel;
	c->cause = cause;
	rc = each_entry(c->sdir, settle_entry, c, cause);
out:
	close(c->sdir);
	c->sdir = -1;
	return rc;
}

/* settle_tree and settle_missing: one look at every folder of c->tree. */
static int
settle_run(struct settle_ctx *c0, int snapdir, const char *snapfile,
    const char *marks, struct settle_result *res, char **cause)
{
	struct settle_ctx c = *c0;
	struct names f = { 0 };
	size_t i, k;
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = snapshot_load(snapdir, snapfile, &c.snap, cause)) < 0)
		return -1;
	c.rule = rc == 0 ? LATE_SNAPSHOT : marks != NULL ? LATE_MARKS :
	    LATE_ALL;
	res->rule = c.rule == LATE_SNAPSHOT ? "snapshot" : c.rule ==
	    LATE_MARKS ? "marks" : "all";
	rc = 0;
	if (folders(c.tree, &f, cause) != 0) {
		keys_free(&c.snap);
		return -1;
	}
	for (i = 0; i < f.n && rc == 0; i++) {
		c.uidlist = -1;
		for (k = 0; k < 2 && rc == 0; k++)
			rc = settle_dir(&c, f.v[i], subdirs[k], cause);
		/* The target folder's messages, per folder. */
		if (c.dfolder >= 0)
			close(c.dfolder);
		c.dfolder = -1;
		keys_free(&c.uniques);
		keys_free(&c.exact);
		keys_free(&c.listed);
	}
	names_free(&f);
	keys_free(&c.snap);
	return rc;
}

int
settle_tree(int tree, const char *marks, int snapdir, const char *snapfile,
    int dst, int preserve_owner, int dovecot, void (*report)(void *,
    const char *, const char *), void *arg, struct settle_result *res,
    char **cause)
{
	struct settle_ctx c = { .tree = tree, .dst = dst, .preserve_owner =
	    preserve_owner, .marks = marks, .report = report, .arg = arg,
	    .res = res, .sdir = -1, .dfolder = -1, .dovecot = dovecot };

	return settle_run(&c, snapdir, snapfile, marks, res, cause);
}

int
settle_missing(int tree, int dst, uint64_t *n, char **cause)
{
	struct settle_ctx c = { .tree = tree, .dst = dst, .sdir = -1,
	    .dfolder = -1, .dry = 1 };
	struct settle_result res;
	int rc;

	c.res = &res;
	rc = settle_run(&c, -1, NULL, NULL, &res, cause);
	*n = res.carried;
	return rc;
}
