/* Discovery of accounts on slices: see discover.h. */
#define _GNU_SOURCE
#include "migrator/discover.h"
#include "common/layout.h"
#include "migrator/carry.h"
#include "migrator/iostat_record.h"
#include "migrator/slice.h"
#include "migrator/tree.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "state/slice.h"
#include "state/snapshot.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One account directory found on disk. */
struct found {
	char			*user;
	char			*path;		/* relative to the slice root */
	int			 slice;		/* index into walk.slices */
	struct maildir_usage	 usage;
	int64_t			 uid;		/* owner of the mailbox */
	int64_t			 gid;
};

struct walk {
	const struct layout		*layout;
	int				 trust;
	const struct discover_report	*report;
	struct state_slice		*slices;
	int				 nslices;
	struct discover_slice_stats	*stats;
	struct found			*found;
	size_t				 nfound;
	size_t				 cap;
	uint64_t			 problems;
	dev_t				 dev;		/* slice root's device */
	int				 cur;		/* slice being walked */
	int64_t				 now;		/* when the run began */
	int64_t				 since;		/* arrivals counted from */
};

static void
problem(struct walk *w, int slice, const char *kind, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
problem(struct walk *w, int slice, const char *kind, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	w->problems++;
	if (strcmp(kind, "conflict") == 0)
		w->stats[slice].conflicts++;
	else if (strcmp(kind, "leftover") == 0)
		w->stats[slice].leftover++;
	else if (strcmp(kind, "refused") == 0)
		w->stats[slice].refused++;
	else
		w->stats[slice].missing++;
	if (w->report->problem != NULL)
		w->report->problem(w->report->arg, kind,
		    w->slices[slice].name, path, msg);
	free(msg);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory (deterministic walks and output). */
static int
list_dir(int fd, char ***names, size_t *n, char **cause)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int dfd;

	*names = NULL;
	*n = 0;
	if ((dfd = dup(fd)) < 0)
		return fail(cause, "%s", strerror(errno));
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return fail(cause, "%s", strerror(errno));
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*names = xrealloc(*names, cap * sizeof **names);
		}
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(*names, *n, sizeof **names, cmp_str);
	return 0;
}

static void
free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Measure one account directory (fd is open on it) and remember it. */
static int
take_account(struct walk *w, int fd, const char *path,
    const struct layout_match *m, char **cause)
{
	struct discover_slice_stats *ss = &w->stats[w->cur];
	struct maildir_usage u;
	char user[MS_USER_MAX + 1], *why = NULL;
	struct found *f;
	struct stat sb;

	if (!maildir_is(fd))
		return 0;		/* a directory, but not a mailbox */
	if (fstat(fd, &sb) != 0)
		return fail(cause, "slice '%s': %s/%s: %s",
		    w->slices[w->cur].name, w->slices[w->cur].path, path,
		    strerror(errno));
	if (layout_match_user(m, user, sizeof user) != 0) {
		problem(w, w->cur, "refused", path, "directory does not fit "
		    "the layout '%s' consistently; skipped",
		    layout_text(w->layout));
		return 0;
	}
	if (maildir_usage(fd, w->trust, w->since, &u, &why) != 0) {
		fail(cause, "slice '%s': %s/%s: %s", w->slices[w->cur].name,
		    w->slices[w->cur].path, path, why);
		free(why);
		return -1;
	}
	if (w->nfound == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		w->found = xrealloc(w->found, w->cap * sizeof *w->found);
	}
	f = &w->found[w->nfound++];
	f->user = xstrdup(user);
	f->path = xstrdup(path);
	f->slice = w->cur;
	f->usage = u;
	f->uid = (int64_t)sb.st_uid;
	f->gid = (int64_t)sb.st_gid;
	ss->accounts++;
	ss->files += u.files;
	ss->bytes += u.bytes;
	ss->added_files += u.added_files;
	ss->added_bytes += u.added_bytes;
	if (u.from_maildirsize)
		ss->from_maildirsize++;
	else
		ss->counted++;
	if (w->report->progress != NULL && ss->accounts % 1000 == 0)
		w->report->progress(w->report->arg, w->slices[w->cur].name,
		    ss->accounts, ss->files);
	return 0;
}

/*
 * A directory (or symlink) whose name no mailbox path may hold (control
 * characters such as a newline or a tab): refused, named with escapes.
 * Other files are not accounts anyway.
 */
static void
refuse_name(struct walk *w, int fd, const char *rel, const char *name)
{
	struct stat sb;
	char *shown;

	if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    (!S_ISDIR(sb.st_mode) && !S_ISLNK(sb.st_mode)))
		return;
	shown = tree_shown(rel, name);
	problem(w, w->cur, "refused", shown, "name has control characters "
	    "(shown escaped), which no mailbox path may hold; rename it to "
	    "make it an account; skipped");
	free(shown);
}

/* Walk level i of the layout below directory fd (at relative path rel). */
static int
walk_level(struct walk *w, int fd, int level, const char *rel,
    const struct layout_match *m, char **cause)
{
	struct layout_match sub;
	struct stat sb;
	char **names, path[MS_PATH_MAX];
	size_t n, k;
	int child, rc = 0, last = level == layout_depth(w->layout) - 1;

	if (list_dir(fd, &names, &n, cause) != 0)
		return -1;
	for (k = 0; k < n && rc == 0; k++) {
		/* Hidden entries (retired sources, copies in progress) are
		 * never accounts: no user name starts with a dot. */
		if (names[k][0] == '.')
			continue;
		if (!name_is_component(names[k])) {
			refuse_name(w, fd, rel, names[k]);
			continue;
		}
		sub = *m;
		if (!layout_match_component(w->layout, level, names[k], &sub))
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s%s%s", rel,
		    *rel ? "/" : "", names[k]) >= sizeof path)
			continue;
		if (fstatat(fd, names[k], &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;		/* gone meanwhile */
		if (S_ISLNK(sb.st_mode)) {
			problem(w, w->cur, "refused", path, "is a symlink; "
			    "mailboxes must be real directories inside the "
			    "slice; skipped");
			continue;
		}
		if (!S_ISDIR(sb.st_mode))
			continue;
		if (sb.st_dev != w->dev) {
			problem(w, w->cur, "refused", path, "lies on another "
			    "filesystem than its slice (a mount point?); "
			    "skipped");
			continue;
		}
		if ((child = openat(fd, names[k], TREE_DIR_FLAGS)) < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				continue;	/* replaced meanwhile */
			rc = fail(cause, "slice '%s': %s/%s: %s; check its "
			    "permissions", w->slices[w->cur].name,
			    w->slices[w->cur].path, path, strerror(errno));
			break;
		}
		if (last)
			rc = take_account(w, child, path, &sub, cause);
		else
			rc = walk_level(w, child, level + 1, path, &sub,
			    cause);
		close(child);
	}
	free_names(names, n);
	return rc;
}

/* Walk one slice root. */
static int
walk_slice(struct walk *w, int i, char **cause)
{
	struct layout_match m;
	struct stat sb;
	int fd, rc;

	w->cur = i;
	if ((fd = slice_open(w->slices[i].path, w->slices[i].name, cause)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return fail(cause, "slice '%s': %s: %s", w->slices[i].name,
		    w->slices[i].path, strerror(errno));
	}
	w->dev = sb.st_dev;
	layout_match_init(&m);
	rc = walk_level(w, fd, 0, "", &m, cause);
	close(fd);
	return rc;
}

static int
cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c != 0 ? c : x->slice - y->slice;
}

/* Index of the first found entry for user, or -1. */
static ssize_t
find_user(const struct walk *w, const char *user)
{
	size_t lo = 0, hi = w->nfound, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(w->found[mid].user, user);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < w->nfound && strcmp(w->found[lo].user, user) == 0)
		return (ssize_t)lo;
	return -1;
}

static void
report_account(struct walk *w, const struct found *f, const char *outcome)
{
	if (w->report->account != NULL)
		w->report->account(w->report->arg, w->slices[f->slice].name,
		    f->user, f->path, &f->usage, outcome);
}

/*
 * Account a found at f, away from where the catalog places it, with no
 * open move there: a copy a failed or cancelled move left (which a later
 * move to that slice takes up), or a stray copy.
 */
static int
stray(struct state *st, struct walk *w, const struct found *f,
    const struct state_account *a, char **cause)
{
	struct state_slice *s = &w->slices[f->slice];
	struct state_move m;
	uint64_t lack = 0;
	char *why = NULL;
	int rc;


	if ((rc = state_move_find_last_at(st, f->user, s->id, f->path, &m,
	    cause)) < 0)
		return -1;
	if (rc == 0 && m.target_slice == s->id && strcmp(m.target_path,
	    f->path) == 0 && (m.state == MOVE_FAILED ||
	    m.state == MOVE_CANCELLED)) {
		problem(w, f->slice, "leftover", f->path, "the copy of account "
		    "%s that move %lld (%s) left; the account lives on slice "
		    "'%s'. Resume with 'mailshift move %s --to %s' (the copy "
		    "is taken up and brought up to date), or remove it with "
		    "rm -rf '%s/%s'", f->user, (long long)m.id,
		    state_move_state_name(m.state), a->slice, f->user, s->name,
		    s->path, f->path);
	} else {
		state_move_free(&m);
		/* Never advise removing a copy that holds mail the home lacks. */
		if (carry_from(st, f->user, s->name, f->path, NULL, NULL, &lack,
		    &why) != 0) {
			free(why);
			why = NULL;
			lack = UINT64_MAX;	/* cannot tell */
		}
		if (lack == UINT64_MAX) {
			problem(w, f->slice, "conflict", f->path, "account %s "
			    "is also here, but the catalog places it on slice "
			    "'%s' at '%s'; catalog left as it is: compare it "
			    "with the home before you remove anything "
			    "('mailshift account carry %s %s %s' copies what "
			    "the home lacks)", f->user, a->slice, a->path,
			    f->user, s->name, f->path);
			return 0;
		}
		if (lack > 0) {
			problem(w, f->slice, "conflict", f->path, "account %s is also "
			    "here, but the catalog places it on slice '%s' at '%s'; "
			    "this copy holds %llu message(s) that home lacks: carry "
			    "them with 'mailshift account carry %s %s %s' before you "
			    "remove it", f->user, a->slice, a->path,
			    (unsigned long long)lack, f->user, s->name, f->path);
			return 0;
		}
		problem(w, f->slice, "conflict", f->path, "account %s is also "
		    "here, but the catalog places it on slice '%s' at '%s'; "
		    "catalog left as it is: it holds no message that home "
		    "lacks: remove the stray copy, or fix the placement with "
		    "'mailshift account import --replace'", f->user, a->slice,
		    a->path);
		return 0;
	}
	state_move_free(&m);
	return 0;
}

/* Record one account found once in this run. */
static int
reconcile_one(struct state *st, struct walk *w, const struct found *f,
    char **cause)
{
	struct discover_slice_stats *ss = &w->stats[f->slice];
	struct state_slice *s = &w->slices[f->slice];
	struct state_account_usage u = {
		.bytes = f->usage.bytes, .files = f->usage.files,
		.last_activity = f->usage.last_activity,
		.size_source = f->usage.from_maildirsize ? "maildirsize" :
		    "counted",
		.added_files = f->usage.added_files,
		.added_bytes = f->usage.added_bytes, .added_at = w->now,
	};
	struct state_account a;
	int64_t moving_to;
	char *why = NULL;
	int rc;

	if ((rc = state_account_find(st, f->user, &a, cause)) < 0)
		return -1;
	if (rc == 1) {
		char *other, *opath;

		if ((rc = state_account_nesting(st, s->id, f->path, f->user,
		    &other, &opath, cause)) < 0)
			return -1;
		if (rc == 1) {
			problem(w, f->slice, "conflict", f->path, "account %s "
			    "not recorded: its mailbox %s the mailbox of "
			    "account %s ('%s'), and one account's directory "
			    "cannot hold another's; fix the placement of %s "
			    "('mailshift account import --replace') or move "
			    "this directory out", f->user,
			    strlen(opath) > strlen(f->path) ? "contains" :
			    strcmp(opath, f->path) == 0 ? "is" : "lies inside",
			    other, opath, other);
			free(other);
			free(opath);
			return 0;
		}
		if (state_account_add(st, f->user, s->id, f->path, &u,
		    &why) != 0) {
			problem(w, f->slice, "conflict", f->path, "account "
			    "%s cannot be added: %s", f->user, why);
			free(why);
			return 0;
		}
		ss->added++;
		report_account(w, f, "new");
		return state_account_set_owner(st, f->user, f->uid, f->gid,
		    cause);
	}
	rc = 0;
	if (a.slice_id == s->id && strcmp(a.path, f->path) == 0) {
		rc = state_account_set_usage(st, a.id, &u, cause);
		if (rc == 0)
			rc = state_account_set_owner(st, f->user, f->uid,
			    f->gid, cause);
		ss->updated++;
		report_account(w, f, "updated");
	} else if (state_account_moving_to(st, a.id, &moving_to, cause) != 0)
		rc = -1;
	else if (moving_to == s->id) {
		ss->in_move++;
		report_account(w, f, "in-move");
	} else
		rc = stray(st, w, f, &a, cause);
	state_account_free(&a);
	return rc;
}

struct missing_ctx {
	struct walk	*w;
	struct state	*st;
	int		 slice;
	int64_t		*ids;
	size_t		 nids;
	char	       **users;
};

/* Collect catalog accounts of a scanned slice that were not seen. */
static int
missing_cb(const struct state_account *a, void *arg)
{
	struct missing_ctx *mc = arg;
	struct walk *w = mc->w;
	ssize_t k;

	k = find_user(w, a->user);
	for (; k >= 0 && (size_t)k < w->nfound &&
	    strcmp(w->found[k].user, a->user) == 0; k++) {
		if (w->found[k].slice == mc->slice)
			return 0;
	}
	mc->ids = xrealloc(mc->ids, (mc->nids + 1) * sizeof *mc->ids);
	mc->users = xrealloc(mc->users, (mc->nids + 1) * sizeof *mc->users);
	mc->ids[mc->nids] = a->id;
	mc->users[mc->nids] = xasprintf("%s\t%s", a->user, a->path);
	mc->nids++;
	return 0;
}

/* Mark accounts missing that the catalog has on slice i but disk has not. */
static int
reconcile_missing(struct state *st, struct walk *w, int i, char **cause)
{
	struct missing_ctx mc = { .w = w, .st = st, .slice = i };
	char *tab;
	size_t k;
	int rc;

	rc = state_account_list(st, w->slices[i].id, missing_cb, &mc, cause);
	for (k = 0; k < mc.nids; k++) {
		if (rc == 0)
			rc = state_account_set_missing(st, mc.ids[k], cause);
		tab = strchr(mc.users[k], '\t');
		*tab = '\0';
		if (rc == 0)
			problem(w, i, "missing", tab + 1, "account %s is in "
			    "the catalog on this slice but its mailbox is not "
			    "there; marked missing", mc.users[k]);
		free(mc.users[k]);
	}
	free(mc.ids);
	free(mc.users);
	return rc;
}

static int
reconcile(struct state *st, struct walk *w, char **cause)
{
	struct state_account a;
	size_t i, j, x;
	int k, placed;
	int64_t now = now_unix();

	if (w->nfound > 1)
		qsort(w->found, w->nfound, sizeof *w->found, cmp_found);
	if (state_begin(st, cause) != 0)
		return -1;
	for (i = 0; i < w->nfound; i = j) {
		for (j = i + 1; j < w->nfound &&
		    strcmp(w->found[j].user, w->found[i].user) == 0; j++)
			;
		if (j - i == 1) {
			if (reconcile_one(st, w, &w->found[i], cause) != 0)
				goto bad;
			continue;
		}
		/* Found more than once: the catalog decides which copy is
		 * the account, and every other copy is a conflict. */
		if ((placed = state_account_find(st, w->found[i].user, &a,
		    cause)) < 0)
			goto bad;
		if (placed == 0) {
			state_account_free(&a);
			for (x = i; x < j; x++) {
				if (reconcile_one(st, w, &w->found[x], cause)
				    != 0)
					goto bad;
			}
			continue;
		}
		for (x = i; x < j; x++)
			problem(w, w->found[x].slice, "conflict",
			    w->found[x].path, "account %s was found on %zu "
			    "slices at once and the catalog has no place for "
			    "it; not recorded: keep one copy and run discover "
			    "again", w->found[x].user, j - i);
	}
	for (k = 0; k < w->nslices; k++) {
		if (reconcile_missing(st, w, k, cause) != 0 ||
		    state_slice_scanned(st, w->slices[k].id, now, cause) != 0 ||
		    state_snapshot_take(st, w->slices[k].id, now, cause) != 0)
			goto bad;
		state_event(st, "discover", NULL, w->slices[k].name,
		    "discover %s: %llu accounts, %llu new, %llu updated, "
		    "%llu files, %llu bytes, %llu conflicts, %llu missing, "
		    "%llu refused", w->slices[k].name,
		    (unsigned long long)w->stats[k].accounts,
		    (unsigned long long)w->stats[k].added,
		    (unsigned long long)w->stats[k].updated,
		    (unsigned long long)w->stats[k].files,
		    (unsigned long long)w->stats[k].bytes,
		    (unsigned long long)w->stats[k].conflicts,
		    (unsigned long long)w->stats[k].missing,
		    (unsigned long long)w->stats[k].refused);
	}
	return state_commit(st, cause);
bad:
	state_rollback(st);
	return -1;
}

struct collect {
	struct state_slice	*slices;
	int			 n;
};

static int
collect_cb(const struct state_slice *s, void *arg)
{
	struct collect *c = arg;

	if (strcmp(s->state, "retired") == 0)
		return 0;
	c->slices = xrealloc(c->slices, (size_t)(c->n + 1) *
	    sizeof *c->slices);
	memset(&c->slices[c->n], 0, sizeof c->slices[c->n]);
	c->slices[c->n].id = s->id;
	c->slices[c->n].name = xstrdup(s->name);
	c->slices[c->n].path = xstrdup(s->path);
	c->n++;
	return 0;
}

/* A slice whose load was not measured: the caller's warning. */
static void
load_warn(void *arg, const char *slice, const char *message)
{
	const struct discover_report *r = arg;

	if (r->warning != NULL)
		r->warning(r->arg, slice, message);
}

int
discover_run(struct state *st, const struct layout *layout, int trust,
    char **names, int n, const char *proc_root,
    const struct discover_report *report, uint64_t *problems, char **cause)
{
	static const struct discover_report quiet;
	struct walk w = { .layout = layout, .trust = trust };
	struct collect c = { NULL, 0 };
	char *lcause = NULL;
	int i, j, rc = -1;

	w.now = now_unix();
	w.since = w.now - (int64_t)ACTIVITY_DAYS * 86400;
	w.report = report != NULL ? report : &quiet;
	if (n == 0) {
		if (state_slice_list(st, collect_cb, &c, cause) != 0)
			goto out;
	} else {
		c.slices = xcalloc((size_t)n, sizeof *c.slices);
		for (i = 0; i < n; i++) {
			for (j = 0; j < i; j++) {
				if (strcmp(names[i], names[j]) == 0)
					break;
			}
			if (j < i)
				continue;	/* named twice */
			if (state_slice_get(st, names[i], &c.slices[c.n],
			    cause) != 0)
				goto out;
			c.n++;
		}
	}
	if (c.n == 0) {
		fail(cause, "no slices to discover; add one with 'mailshift "
		    "slice add'");
		goto out;
	}
	w.slices = c.slices;
	w.nslices = c.n;
	w.stats = xcalloc((size_t)c.n, sizeof *w.stats);
	for (i = 0; i < c.n; i++) {
		w.stats[i].slice = c.slices[i].name;
		if (walk_slice(&w, i, cause) != 0)
			goto out;
	}
	if (reconcile(st, &w, cause) != 0)
		goto out;
	/* Right after the usage snapshots: the load, in a transaction of
	 * its own (the accounts are recorded whatever it finds). */
	if (proc_root != NULL && iostat_record(st, proc_root, names, n, NULL,
	    load_warn, (void *)w.report, &lcause) != 0) {
		load_warn((void *)w.report, NULL, lcause);
		free(lcause);
	}
	for (i = 0; i < c.n; i++) {
		if (w.report->slice_done != NULL)
			w.report->slice_done(w.report->arg, &w.stats[i]);
	}
	*problems = w.problems;
	rc = 0;
out:
	for (size_t k = 0; k < w.nfound; k++) {
		free(w.found[k].user);
		free(w.found[k].path);
	}
	free(w.found);
	free(w.stats);
	for (i = 0; i < c.n; i++)
		state_slice_free(&c.slices[i]);
	free(c.slices);
	return rc;
}
