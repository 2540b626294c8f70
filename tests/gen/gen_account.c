/*
 * The accounts of maildir-gen: each one's name and path, its directories
 * and folders, Dovecot's files beside the messages, its maildirsize and
 * the times of its directories; the directories above the accounts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/layout.h"
#include "common/util.h"
#include "tests/gen/gen.h"

#define QUOTA_LINE	"1073741824S,100000C\n"
#define KEYWORDS	"0 $Forwarded\n1 $Junk\n"
#define MDS_LIMIT	5120		/* largest maildirsize to be trusted */

static const char *variant_names[] = {
	"good", "none", "stale", "oversized", "garbage"
};

static const char *folder_names[] = {
	".Sent", ".Drafts", ".Trash", ".Junk", ".Archive", ".Archive.2019",
	".Archive.2020"
};
/* A subfolder's parent in folder_names (Archive holds the years). */
static const int folder_parent[] = { -1, -1, -1, -1, -1, 4, 4 };
#define NFOLDER_NAMES ((int)(sizeof folder_names / sizeof folder_names[0]))

/* Hash a string (FNV-1a). */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Look up path in the directory table; returns the slot. */
static struct dent *
dirtab_slot(struct dirtab *dt, const char *path)
{
	size_t i = (size_t)hash_str(path) & (dt->size - 1);

	while (dt->v[i].path != NULL && strcmp(dt->v[i].path, path) != 0)
		i = (i + 1) & (dt->size - 1);
	return &dt->v[i];
}

/* Find or add path; *isnew says whether it was added. */
struct dent *
dirtab_get(struct dirtab *dt, const char *path, int *isnew)
{
	struct dent *old, *e;
	size_t oldsize, i;

	if ((dt->used + 1) * 2 > dt->size) {
		old = dt->v;
		oldsize = dt->size;
		dt->size = oldsize ? oldsize * 2 : 64;
		dt->v = xcalloc(dt->size, sizeof *dt->v);
		for (i = 0; i < oldsize; i++) {
			if (old[i].path != NULL)
				*dirtab_slot(dt, old[i].path) = old[i];
		}
		free(old);
	}
	e = dirtab_slot(dt, path);
	*isnew = e->path == NULL;
	if (*isnew) {
		e->path = xstrdup(path);
		dt->used++;
	}
	return e;
}

/*
 * Create the account directory rel below the slice root (mkdir -p) and
 * return it open. Directories above it are noted in dt with the mtime they
 * had if they existed before, so that they can be set at the end.
 */
static int
make_account_dir(int rootfd, const char *root, const char *rel,
    struct dirtab *dt)
{
	char buf[MS_PATH_MAX], *p, *slash;
	struct dent *e;
	struct stat sb;
	int fd = rootfd, nfd, created, isnew;

	if (strlen(rel) >= sizeof buf)
		diex("%s: account path too long", rel);
	strcpy(buf, rel);
	for (p = buf; ; p = slash + 1) {
		if ((slash = strchr(p, '/')) != NULL)
			*slash = '\0';
		created = mkdirat(fd, p, 0700) == 0;
		if (!created && errno != EEXIST)
			die("mkdir %s/%s", root, buf);
		nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0)
			die("%s/%s", root, buf);
		if (fd != rootfd && close(fd) != 0)
			die("close %s", root);
		fd = nfd;
		if (slash == NULL)
			break;
		/* Note its old mtime before anything is made inside it. */
		e = dirtab_get(dt, buf, &isnew);
		if (isnew && !created) {
			if (fstat(fd, &sb) != 0)
				die("%s/%s", root, buf);
			e->t = sb.st_mtim;
		}
		*slash = '/';
	}
	return fd;
}

/* Raise the mtime to set on the directories above account rel to t. */
static void
note_parents(struct dirtab *dt, const char *rel, const struct timespec *t)
{
	char buf[MS_PATH_MAX];
	struct dent *e;
	char *slash;
	int isnew;

	e = dirtab_get(dt, "", &isnew);
	ts_max(&e->t, t);
	strcpy(buf, rel);
	for (slash = buf; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		e = dirtab_get(dt, buf, &isnew);
		ts_max(&e->t, t);
		*slash = '/';
	}
}

/* Make a directory name below fd (mode 0700) and open it. */
static int
make_dir(int fd, const char *parent, const char *name, char **pathp)
{
	char *path;
	int nfd;

	path = xasprintf("%s/%s", parent, name);
	if (mkdirat(fd, name, 0700) != 0 && errno != EEXIST)
		die("mkdir %s", path);
	if ((nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		die("%s", path);
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return nfd;
}

/* Choose the account's folders (besides INBOX) in folder_names order. */
static int
choose_folders(struct rng *r, int *chosen)
{
	int order[NFOLDER_NAMES], want, have = 0, i, j, k, tmp, par;

	for (i = 0; i < NFOLDER_NAMES; i++) {
		order[i] = i;
		chosen[i] = 0;
	}
	for (i = NFOLDER_NAMES - 1; i > 0; i--) {
		j = (int)rng_below(r, (uint64_t)i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	want = 2 + (int)rng_below(r, 4);
	for (k = 0; k < NFOLDER_NAMES && have < want; k++) {
		i = order[k];
		if (chosen[i])
			continue;
		par = folder_parent[i];
		if (par >= 0 && !chosen[par]) {
			/* A year of Archive comes with Archive. */
			if (have + 2 > want)
				continue;
			chosen[par] = 1;
			have++;
		}
		chosen[i] = 1;
		have++;
	}
	return have;
}

/* Quote a CSV field if it needs it (RFC 4180) and write it to f. */
static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Write the maildirsize variant a->v of an account. */
static void
write_maildirsize(struct gen *g, struct acct *a)
{
	struct timespec ts;
	uint64_t half_b = 0, i;

	if (a->v == MDS_NONE)
		return;
	/* Trusted ones are written now, after everything they count. */
	ts = g->now;
	if (ts_cmp(&ts, &a->newest) <= 0) {
		ts = a->newest;
		ts.tv_sec++;
	}
	out_open(a->fd, a->path, "maildirsize");
	out_put(QUOTA_LINE, strlen(QUOTA_LINE));
	switch (a->v) {
	case MDS_GOOD:
		out_printf("%llu %llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
		break;
	case MDS_STALE:
		for (i = 0; i < a->n / 2; i++)
			half_b += g->msgs[i].size;
		out_printf("%llu %llu\n", (unsigned long long)half_b,
		    (unsigned long long)(a->n / 2));
		/* A day older than the newest cur/ or new/. */
		ts = a->newest;
		ts.tv_sec -= DAY;
		break;
	case MDS_OVERSIZED:
		/* Right totals, then far too many deltas: the sum is off. */
		out_printf("%llu %llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
		for (i = 0; out.len <= MDS_LIMIT + 64; i++)
			out_printf("%llu 1\n",
			    (unsigned long long)(1000 + (i * 7919) % 90000));
		break;
	case MDS_GARBAGE:
		out_printf("%llu %llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
		out_printf("not numbers here\n");
		break;
	case MDS_NONE:
		break;
	}
	out_close(&ts);
}

/* Name the account, find its path, and start its random stream. */
static void
acct_name(struct gen *g, struct acct *a)
{
	struct options *o = g->o;
	struct dent *e;
	char domain[64], *cause = NULL;
	const char *dom;
	uint64_t k;
	double x;
	int isnew;

	k = a->idx % o->domains;
	if (k < 3)
		dom = k == 0 ? "example.com" : k == 1 ? "example.net" :
		    "example.org";
	else {
		snprintf(domain, sizeof domain, "d%llu.example",
		    (unsigned long long)k);
		dom = domain;
	}
	if ((size_t)snprintf(a->local, sizeof a->local, "%s%04llu",
	    o->prefix, (unsigned long long)a->idx) >= sizeof a->local ||
	    (size_t)snprintf(a->user, sizeof a->user, "%s@%s", a->local,
	    dom) >= sizeof a->user)
		diex("user name for %s%04llu is too long", o->prefix,
		    (unsigned long long)a->idx);
	if (user_check(a->user, &cause) != 0)
		diex("%s", cause);
	if (layout_expand(g->layout, a->user, a->rel, sizeof a->rel,
	    &cause) != 0)
		diex("%s", cause);
	e = dirtab_get(&g->dirs, a->rel, &isnew);
	if (!isnew)
		diex("layout '%s' gives the path '%s' to two users (%s)",
		    o->layout, a->rel, a->user);
	e->account = 1;
	a->path = xasprintf("%s/%s", o->root, a->rel);

	/* The account's own stream: a function of the seed and the user. */
	a->r.s = hash_str(a->user);
	a->r.s = rng_next(&a->r) ^ o->seed;
	a->r.s = rng_next(&a->r);

	a->n = o->messages;
	if (o->spread > 0) {
		x = (double)o->messages * (1 + o->spread *
		    (2 * rng_unit(&a->r) - 1));
		a->n = (uint64_t)(x + 0.5);
	}
	a->created.tv_sec = REF_TIME - SPAN - DAY -
	    (int64_t)rng_below(&a->r, 180 * DAY);
	a->created.tv_nsec = 1 + (long)rng_below(&a->r, 999999999);
	a->v = o->mix ? (enum variant)(a->idx % 5) : MDS_GOOD;
}

/* Make the account's directories: INBOX and its folders. */
static void
acct_dirs(struct gen *g, struct acct *a)
{
	struct folder *fo;
	int chosen[NFOLDER_NAMES], i;

	a->fd = make_account_dir(g->rootfd, g->o->root, a->rel, &g->dirs);
	choose_folders(&a->r, chosen);
	for (i = -1; i < NFOLDER_NAMES; i++) {
		if (i >= 0 && !chosen[i])
			continue;
		fo = &a->f[a->nf];
		fo->name = i < 0 ? "" : folder_names[i];
		fo->uidvalidity = (uint32_t)a->created.tv_sec +
		    (uint32_t)a->nf;
		if (i < 0) {
			fo->fd = a->fd;
			fo->path = xstrdup(a->path);
		} else
			fo->fd = make_dir(a->fd, a->path, fo->name, &fo->path);
		fo->subfd[0] = make_dir(fo->fd, fo->path, "new",
		    &fo->subpath[0]);
		fo->subfd[1] = make_dir(fo->fd, fo->path, "cur",
		    &fo->subpath[1]);
		fo->subfd[2] = make_dir(fo->fd, fo->path, "tmp",
		    &fo->subpath[2]);
		if (i >= 0)
			write_file(fo->fd, fo->path, "maildirfolder", "", 0,
			    &a->created);
		a->nf++;
	}
}

/* Write Dovecot's files: a uidlist per folder, then the root's own. */
static void
acct_dovecot(struct gen *g, struct acct *a)
{
	struct folder *fo;
	struct timespec fnewest;
	struct msg *m;
	char name[256], hex[16], buf[64];
	uint64_t j, uid;
	int i;

	a->newest = a->created;
	for (i = 0; i < a->nf; i++) {
		fo = &a->f[i];
		fnewest = a->created;
		ts_max(&fnewest, &fo->newest[0]);
		ts_max(&fnewest, &fo->newest[1]);
		ts_max(&a->newest, &fnewest);
		out_open(fo->fd, fo->path, "dovecot-uidlist");
		out_printf("3 V%u N%u G%016llx%016llx\n", fo->uidvalidity,
		    fo->count + 1, (unsigned long long)rng_next(&a->r),
		    (unsigned long long)rng_next(&a->r));
		uid = 0;
		for (j = 0; j < a->n; j++) {
			m = &g->msgs[j];
			if (m->folder != i)
				continue;
			msg_basename(m, name, sizeof name);
			out_printf("%llu :%s\n", (unsigned long long)++uid,
			    name);
		}
		out_close(&fnewest);
	}

	snprintf(hex, sizeof hex, "%08x", a->f[a->nf - 1].uidvalidity);
	snprintf(buf, sizeof buf, "%s\n", hex);
	write_file(a->fd, a->path, "dovecot-uidvalidity", buf, strlen(buf),
	    &a->created);
	snprintf(buf, sizeof buf, "dovecot-uidvalidity.%s", hex);
	write_file(a->fd, a->path, buf, "", 0, &a->created);
	write_file(a->fd, a->path, "dovecot-keywords", KEYWORDS,
	    strlen(KEYWORDS), &a->created);

	out_open(a->fd, a->path, "subscriptions");
	out_put("V\t2\n\n", 5);
	for (i = 1; i < a->nf; i++)
		out_printf("%s\n", a->f[i].name + 1);
	out_close(&a->created);

	out_open(a->fd, a->path, "dovecot.index.log");
	for (j = 200 + rng_below(&a->r, 400); j > 0; j--) {
		buf[0] = (char)(rng_next(&a->r) & 0xff);
		out_put(buf, 1);
	}
	out_close(&a->newest);
}

/* Set the account's directory times, innermost first, and close them. */
static void
acct_close(struct gen *g, struct acct *a)
{
	struct folder *fo;
	struct timespec fnewest, ts;
	int i, k;

	for (i = 0; i < a->nf; i++) {
		fo = &a->f[i];
		fnewest = a->created;
		for (k = 0; k < 2; k++) {
			ts = a->created;
			ts_max(&ts, &fo->newest[k]);
			set_dir_time(fo->subfd[k], fo->subpath[k], &ts);
			ts_max(&fnewest, &ts);
		}
		set_dir_time(fo->subfd[2], fo->subpath[2], &fnewest);
		if (i > 0)
			set_dir_time(fo->fd, fo->path, &fnewest);
		for (k = 0; k < 3; k++) {
			if (close(fo->subfd[k]) != 0)
				die("close %s", fo->subpath[k]);
			free(fo->subpath[k]);
		}
		if (i > 0 && close(fo->fd) != 0)
			die("close %s", fo->path);
		free(fo->path);
	}
	set_dir_time(a->fd, a->path, &a->newest);
	if (close(a->fd) != 0)
		die("close %s", a->path);
	note_parents(&g->dirs, a->rel, &a->newest);
}

/* Add the account's line to the manifest and the CSV. */
static void
acct_report(struct gen *g, struct acct *a)
{
	if (g->manifest != NULL)
		fprintf(g->manifest, "%s\t%s\t%llu\t%llu\t%s\n", a->user,
		    a->rel, (unsigned long long)a->files,
		    (unsigned long long)a->bytes, variant_names[a->v]);
	if (g->csv != NULL) {
		csv_field(g->csv, a->user);
		fputc(',', g->csv);
		csv_field(g->csv, g->o->slice);
		fputc(',', g->csv);
		csv_field(g->csv, a->rel);
		fprintf(g->csv, ",%llu,%llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
	}
}

/* Make the account of user number idx. */
void
gen_account(struct gen *g, uint64_t idx)
{
	static struct acct a;

	memset(&a, 0, sizeof a);
	a.idx = idx;
	acct_name(g, &a);
	acct_dirs(g, &a);
	acct_messages(g, &a);
	acct_dovecot(g, &a);
	/* The quota file, judged against the newest cur/ and new/. */
	write_maildirsize(g, &a);
	acct_close(g, &a);
	acct_report(g, &a);
	g->files += a.files;
	g->bytes += a.bytes;
	free(a.path);
}

/* Set the times of the directories above the accounts. */
void
set_parent_times(struct gen *g)
{
	struct timespec tv[2];
	struct dent *e;
	size_t i;

	for (i = 0; i < g->dirs.size; i++) {
		e = &g->dirs.v[i];
		if (e->path == NULL || e->account)
			continue;
		tv[0] = tv[1] = e->t;
		if (*e->path == '\0') {
			if (futimens(g->rootfd, tv) != 0)
				die("set times of %s", g->o->root);
		} else if (utimensat(g->rootfd, e->path, tv, 0) != 0)
			die("set times of %s/%s", g->o->root, e->path);
	}
}
