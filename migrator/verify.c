/* Exact comparison of two trees after a move's passes: see sync.h. */
#define _GNU_SOURCE
#include "migrator/sync_int.h"
#include "migrator/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		tree_sys_fail(cause, "cannot read for verification", rel, name);
		rc = -1;
		goto out;
	}
	for (;;) {
		na = read(fa, a, sizeof a);
		if (na < 0) {
			rc = tree_sys_fail(cause, "cannot read", rel, name);
			break;
		}
		for (nb = 0; nb < na; ) {
			ssize_t r = read(fb, b + nb, (size_t)(na - nb));

			if (r <= 0)
				break;
			nb += r;
		}
		if (na != nb || memcmp(a, b, (size_t)na) != 0) {
			char *p = tree_shown(rel, name);

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

/* One comparison of two trees. */
struct verify {
	int		 content;	/* compare contents too */
	int		 owner;		/* compare owners too */
	uint64_t	 files;		/* regular files compared so far */
	uint64_t	 bytes;		/* and their bytes */
	struct sync	*skip;		/* trust what its passes know */
};

/* Is t the mtime of m? */
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
	if ((c = sync_cache_get(v->skip, path, 0)) == NULL || !c->complete ||
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
	p = tree_shown(rel, name);
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
			p = tree_shown(rel, name);
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
		s2 = openat(sfd, name, TREE_DIR_FLAGS);
		d2 = openat(dfd, name, TREE_DIR_FLAGS);
		if (s2 < 0 || d2 < 0) {
			tree_sys_fail(cause, "cannot open", rel, name);
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

	if ((d = tree_dir_open(dfd, rel, cause)) == NULL)
		return -1;
	while ((de = tree_dir_next(d)) != NULL) {
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT)
			continue;
		p = tree_shown(rel, de->d_name);
		fail(cause, "verify: %s is on the target but not on the source",
		    p);
		free(p);
		closedir(d);
		return -1;
	}
	closedir(d);
	p = tree_shown("", rel);
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

	if ((d = tree_dir_open(sfd, rel, cause)) == NULL)
		return -1;
	while ((de = tree_dir_next(d)) != NULL) {
		if (c != NULL && (de->d_type == DT_REG ||
		    de->d_type == DT_UNKNOWN)) {
			h = name_hash(de->d_name);
			for (i = sync_known_lower(c->known, c->n, h);
			    i < c->n && c->known[i].hash == h; i++) {
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
			tree_sys_fail(cause, "verify: cannot stat", rel,
			    de->d_name);
			goto out;
		}
		ns++;
		meta_of(&sm, &st);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			p = tree_shown(rel, de->d_name);
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
		tree_sys_fail(cause, "cannot list", rel, "");
		goto out;
	}
	closedir(d);
	if ((d = tree_dir_open(dfd, rel, cause)) == NULL)
		return -1;
	while (tree_dir_next(d) != NULL)
		nt++;
	if (errno != 0) {
		tree_sys_fail(cause, "cannot list target", rel, "");
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
