/*
 * After the switch (DESIGN.md section 3, step 5): the source is renamed
 * aside into its slice's .mailshift-retired/, looked at once more after
 * [move] settle for mail that reached it late (the settle check, see
 * settle.h), optionally archived as .tar.zst, and purged once its
 * retention period is over. Nothing here runs before the catalog says the
 * target owns the account.
 */
#define _GNU_SOURCE
#include "migrator/move_int.h"
#include "common/config.h"
#include "common/util.h"
#include "migrator/settle.h"
#include "migrator/sync.h"
#include "migrator/tree.h"
#include "migrator/zarchive.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The name a retired source gets in its slice's retired directory. */
static void
retired_name(const struct state_move *m, char *buf, size_t len)
{
	snprintf(buf, len, "%lld-%s", (long long)m->id, m->user);
}

/* Archive the retired tree rd/name, verify it, then remove the tree. */
static int
retire_archive(struct move *mv, int rd, const char *name, char **cause)
{
	char out[MS_PATH_MAX];

	snprintf(out, sizeof out, "%s/%s/%s.tar.zst", mv->m.source_root,
	    RETIRED_DIR, name);
	if (zarchive_tree(rd, name, out, NULL, NULL, cause) != 0 ||
	    zarchive_verify(out, rd, name, cause) != 0 ||
	    state_move_retired(mv->st, mv->m.id, out, now_unix(), cause) != 0 ||
	    tree_remove(rd, name, cause) != 0)
		return -1;
	snprintf(mv->res.retired, sizeof mv->res.retired, "%s", out);
	return 0;
}

/*
 * Open the directory holding the source mailbox; *base is its last
 * component, in *dir (free it).
 */
int
retire_source_parent(struct move *mv, char **dir, char **base, char **cause)
{
	*dir = xstrdup(mv->m.source_path);
	if ((*base = strrchr(*dir, '/')) == NULL) {
		*base = *dir;
		return dup(mv->sroot);
	}
	*(*base)++ = '\0';
	return tree_open_below(mv->sroot, *dir, cause);
}

/*
 * The placeholder: after the source is renamed aside, a small read-only
 * file takes its place, so that a delivery which resolved the old path
 * before the switch cannot recreate the mailbox there. Dovecot then
 * fails the save with "Not a directory" and answers 451 4.2.0: the MTA
 * retries, and the retry finds the new home. (Without it, Dovecot makes
 * a new empty mailbox at the old path and answers 250 for mail nobody
 * sees.) It stays until the retired source is purged.
 */
#define PLACEHOLDER_MAGIC	"mailshift-moved move="

static void
placeholder_make(struct move *mv, int parent, const char *base)
{
	char *text;
	int fd;

	if ((fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0444)) < 0) {
		if (errno != EEXIST || !retire_placeholder_is(parent, base, 0))
			state_move_event(mv->st, &mv->m, "move.placeholder",
			    "cannot leave a placeholder at %s/%s: %s; a late "
			    "delivery may recreate the mailbox there (the "
			    "settle check carries what it finds)",
			    mv->m.source_root, mv->m.source_path,
			    strerror(errno));
		return;
	}
	text = xasprintf(PLACEHOLDER_MAGIC "%lld user=%s to=%s:%s at=%lld\n"
	    "This mailbox moved to slice %s. This file keeps a late delivery "
	    "from recreating it here: the delivery fails with a temporary "
	    "error and is retried to the new home. It goes when the retired "
	    "source is purged.\n", (long long)mv->m.id, mv->m.user,
	    mv->m.target, mv->m.target_path, (long long)now_unix(),
	    mv->m.target);
	if (write(fd, text, strlen(text)) < 0) {
		/* the file alone does the work */
	}
	fsync(fd);
	close(fd);
	free(text);
}

int
retire_placeholder_is(int dir, const char *name, int64_t id)
{
	char buf[128], want[64];
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > 4096 ||
	    (n = read(fd, buf, sizeof buf - 1)) <= 0) {
		close(fd);
		return 0;
	}
	close(fd);
	buf[n] = '\0';
	if (id == 0)
		return strncmp(buf, PLACEHOLDER_MAGIC,
		    strlen(PLACEHOLDER_MAGIC)) == 0;
	snprintf(want, sizeof want, PLACEHOLDER_MAGIC "%lld ", (long long)id);
	return strncmp(buf, want, strlen(want)) == 0;
}

int
retire_placeholder_clear(int root, const char *path, int64_t id)
{
	char *dir = xstrdup(path), *base = strrchr(dir, '/');
	int fd, rc = 0;

	if (base == NULL) {
		base = dir;
		fd = dup(root);
	} else {
		*base++ = '\0';
		fd = tree_open_below(root, dir, NULL);
	}
	if (fd >= 0 && retire_placeholder_is(fd, base, id))
		rc = unlinkat(fd, base, 0) == 0;
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* Open (creating it) the source slice's retired directory, never
 * following it as a path. */
static int
open_retired(struct move *mv, char **cause)
{
	int rd;

	if (mkdirat(mv->sroot, RETIRED_DIR, 0700) != 0 && errno != EEXIST)
		return fail(cause, "cannot create %s/%s: %s", mv->m.source_root,
		    RETIRED_DIR, strerror(errno));
	if ((rd = openat(mv->sroot, RETIRED_DIR, TREE_DIR_FLAGS)) < 0)
		return fail(cause, "cannot open %s/%s: %s", mv->m.source_root,
		    RETIRED_DIR, strerror(errno));
	return rd;
}

/*
 * After the switch: rename the source aside in its own slice. Recorded,
 * so a rerun after a crash knows it happened.
 */
static int
retire(struct move *mv, char **cause)
{
	char name[600], *dir = NULL, *base, *path;
	int parent, rd, rc = -1;

	if (mv->m.retired_path != NULL) {
		snprintf(mv->res.retired, sizeof mv->res.retired, "%s",
		    mv->m.retired_path);
		return 0;
	}
	retired_name(&mv->m, name, sizeof name);
	if ((parent = retire_source_parent(mv, &dir, &base, cause)) < 0)
		goto out;
	if ((rd = open_retired(mv, cause)) < 0) {
		close(parent);
		goto out;
	}
	/* ENOENT: the source is gone (nothing to retire). ENOTEMPTY or
	 * EEXIST with the retired tree there: a run renamed it and died
	 * before recording it, and a late delivery recreated the old path,
	 * which the settle check carries and retires. */
	if (!retire_placeholder_is(parent, base, mv->m.id) &&
	    renameat(parent, base, rd, name) != 0 && errno != ENOENT &&
	    !((errno == ENOTEMPTY || errno == EEXIST) && faccessat(rd, name,
	    F_OK, AT_SYMLINK_NOFOLLOW) == 0)) {
		fail(cause, "cannot retire %s/%s: %s", mv->m.source_root,
		    mv->m.source_path, strerror(errno));
		close(rd);
		close(parent);
		goto out;
	}
	close(rd);
	placeholder_make(mv, parent, base);
	close(parent);
	move_crash_point("retire-renamed", 0);
	path = xasprintf("%s/%s/%s", mv->m.source_root, RETIRED_DIR, name);
	rc = state_move_retired(mv->st, mv->m.id, path, now_unix(), cause);
	snprintf(mv->res.retired, sizeof mv->res.retired, "%s", path);
	free(path);
	if (rc == 0) {
		move_crash_point("after-retire", 0);
		rc = move_reload(mv, cause);
	}
out:
	free(dir);
	return rc;
}

struct settle_log {
	struct move	*r;
	const char	*where;
};

static void
settle_report(void *arg, const char *from, const char *to)
{
	struct settle_log *l = arg;

	if (to == NULL)
		state_move_event(l->r->st, &l->r->m, "move.late-unsaved", "%s "
		    "%s arrived after the final pass but is not in its "
		    "folder's dovecot-uidlist: a save Dovecot failed and "
		    "answered with a temporary error, so its sender retries "
		    "it; not carried (it stays in the retired source; "
		    "[move] late_mail = all carries such files)", l->where,
		    from);
	else
		state_move_event(l->r->st, &l->r->m, "move.late-mail", "%s %s "
		    "arrived after the final pass; carried to the target as "
		    "%s", l->where, from, to);
}

/* Is the account still where this move put it, with no move open? Else
 * its old path may be in use again and the settle check stands aside. */
static int
still_at_target(struct move *mv, char **why)
{
	struct state_account a;
	struct state_move m;
	int at;

	if (state_account_find(mv->st, mv->m.user, &a, NULL) != 0) {
		*why = xstrdup("the account is not in the catalog any more");
		return 0;
	}
	at = a.slice_id == mv->m.target_slice && strcmp(a.path,
	    mv->m.target_path) == 0;
	state_account_free(&a);
	if (!at) {
		*why = xstrdup("the account has moved again since");
		return 0;
	}
	if (state_move_find_open(mv->st, mv->m.user, &m, NULL) == 0) {
		*why = xasprintf("move %lld of the account is under way",
		    (long long)m.id);
		state_move_free(&m);
		return 0;
	}
	return 1;
}

/* Right after the switch: the names the target holds, which are the
 * names the final pass left (see settle.h). */
void
retire_snapshot(struct move *mv)
{
	char name[600], file[700], *why = NULL;
	int rd;

	retired_name(&mv->m, name, sizeof name);
	snprintf(file, sizeof file, "%s.names", name);
	if ((rd = open_retired(mv, &why)) < 0 ||
	    settle_snapshot(mv->dst, rd, file, &why) != 0) {
		state_move_event(mv->st, &mv->m, "move.snapshot", "%s; the "
		    "settle check will go by directory times", why);
		free(why);
	}
	if (rd >= 0)
		close(rd);
}

/*
 * The settle check (see settle.h): late mail in the retired source, or in
 * a mailbox a late delivery recreated at the old path, is carried to the
 * target; a recreated mailbox is first retired beside the first one. The
 * retired tree's directory times are then recorded: purge keeps a tree
 * that changes after this.
 */
static int
settle(struct move *mv, char **cause)
{
	struct settle_result a = { 0 }, b = { 0 };
	struct settle_log l = { .r = mv };
	char name[600], snap[700], late[700], *summary, *marks = NULL;
	char *dir = NULL, *base, *away = NULL;
	int tree = -1, again = -1, dst = -1, rd = -1, rc = -1, parent = -1;

	retired_name(&mv->m, name, sizeof name);
	snprintf(snap, sizeof snap, "%s.names", name);
	if ((rd = openat(mv->sroot, RETIRED_DIR, TREE_DIR_FLAGS)) < 0 &&
	    errno != ENOENT)
		return fail(cause, "cannot open %s/%s: %s", mv->m.source_root,
		    RETIRED_DIR, strerror(errno));
	if (rd >= 0 && (tree = openat(rd, name, TREE_DIR_FLAGS)) < 0 &&
	    errno != ENOENT && errno != ENOTDIR) {
		fail(cause, "cannot open the retired source %s/%s/%s: %s",
		    mv->m.source_root, RETIRED_DIR, name, strerror(errno));
		goto out;
	}
	if (!still_at_target(mv, &away)) {
		if (tree >= 0)
			marks = settle_marks(tree, NULL);
		summary = xasprintf("settle check skipped: %s; the retired "
		    "source is kept as it is", away);
		goto record;
	}
	if ((dst = tree_open_below(mv->droot, mv->m.target_path, cause)) < 0)
		goto out;
	if (tree >= 0) {
		l.where = "retired source:";
		if (settle_tree(tree, mv->m.settle_marks, rd, snap, dst,
		    geteuid() == 0, mv->cfg->late_dovecot, settle_report, &l, &a, cause) != 0)
			goto out;
	}
	if ((again = tree_open_below(mv->sroot, mv->m.source_path, NULL)) >= 0) {
		/* Recreated after the switch: retire it first (nothing can
		 * land in it unseen then), and all of it is late. */
		close(again);
		again = -1;
		snprintf(late, sizeof late, "%s.late-%lld", name,
		    (long long)now_unix());
		if ((parent = retire_source_parent(mv, &dir, &base, cause)) < 0 ||
		    (rd < 0 && (rd = open_retired(mv, cause)) < 0))
			goto out;
		if (renameat(parent, base, rd, late) != 0) {
			fail(cause, "cannot retire the recreated %s/%s: %s",
			    mv->m.source_root, mv->m.source_path,
			    strerror(errno));
			goto out;
		}
		placeholder_make(mv, parent, base);
		state_move_event(mv->st, &mv->m, "move.late-mailbox", "%s/%s was "
		    "recreated after the switch (a late delivery); retired to "
		    "%s/%s/%s", mv->m.source_root, mv->m.source_path,
		    mv->m.source_root, RETIRED_DIR, late);
		if ((again = openat(rd, late, TREE_DIR_FLAGS)) < 0) {
			fail(cause, "cannot open %s/%s/%s: %s",
			    mv->m.source_root, RETIRED_DIR, late,
			    strerror(errno));
			goto out;
		}
		l.where = "recreated source:";
		if (settle_tree(again, NULL, -1, NULL, dst, geteuid() == 0,
		    mv->cfg->late_dovecot, settle_report, &l, &b, cause) != 0)
			goto out;
	}
	if (tree >= 0)
		marks = settle_marks(tree, NULL);
	summary = xasprintf("settle check (by %s): %llu late message(s) "
	    "carried to the target, %llu late change(s) to messages the "
	    "target already has left on the retired source, %llu failed "
	    "save(s) left there%s", a.rule ?
	    a.rule : "nothing to look at", (unsigned long long)(a.carried +
	    b.carried), (unsigned long long)(a.on_target + b.on_target),
	    (unsigned long long)(a.unsaved + b.unsaved),
	    again >= 0 ? "; the old path had been recreated" : "");
record:
	rc = state_move_settled(mv->st, mv->m.id, now_unix(), marks, summary,
	    cause);
	free(summary);
	if (rc == 0) {
		mv->res.settled = 1;
		mv->res.carried = a.carried + b.carried;
		rc = move_reload(mv, cause);
	}
out:
	free(marks);
	free(away);
	free(dir);
	if (parent >= 0)
		close(parent);
	if (tree >= 0)
		close(tree);
	if (again >= 0)
		close(again);
	if (dst >= 0)
		close(dst);
	if (rd >= 0)
		close(rd);
	return rc;
}

/* With archive = zstd: archive the retired tree, verify the archive, and
 * remove the tree. */
static int
archive(struct move *mv, char **cause)
{
	char name[600];
	int rd, rc;

	if (!mv->cfg->archive_zstd || mv->m.retired_path == NULL ||
	    strstr(mv->m.retired_path, ".tar.zst") != NULL ||
	    mv->m.purged_at != 0)
		return 0;
	retired_name(&mv->m, name, sizeof name);
	if ((rd = tree_open_below(mv->sroot, RETIRED_DIR, cause)) < 0)
		return -1;
	rc = retire_archive(mv, rd, name, cause);
	close(rd);
	if (rc == 0)
		mv->res.archived = 1;
	return rc;
}


/*
 * A step after the switch failed (what: "retiring the source", ...): the
 * move is done all the same. Say so, where the untouched source is, and
 * who tries again; the event keeps it for 'moves show'.
 */
static enum move_step
retire_failed(struct move *mv, const char *what, char **cause)
{
	char *why = *cause, *where;

	*cause = NULL;
	where = mv->m.retired_path != NULL ? xstrdup(mv->m.retired_path) :
	    xasprintf("%s/%s", mv->m.source_root, mv->m.source_path);
	state_move_event(mv->st, &mv->m, "move.retire-failed", "%s failed: "
	    "%s; the source is untouched at %s", what, why ? why : "?",
	    where);
	fail(cause, "move %lld is done: '%s' is served from slice '%s' "
	    "(%s/%s); %s failed: %s; the source is untouched at %s, and this "
	    "is tried again by 'mailshift moves run', the daemon, or "
	    "'mailshift move %s --to %s --wait'", (long long)mv->m.id,
	    mv->m.user, mv->m.target, mv->m.target_root, mv->m.target_path,
	    what, why ? why : "?", where, mv->m.user, mv->m.target);
	free(why);
	free(where);
	return MOVE_STEP_FAILED;
}

/*
 * One step of finishing a move whose switch committed: retire the source;
 * once the settle delay has passed, look once more; then archive. A move
 * not yet due for its settle check is done with the check pending.
 */
enum move_step
retire_step(struct move *mv, char **cause)
{
	int64_t due;

	if (mv->m.retired_path == NULL)
		return retire(mv, cause) == 0 ? MOVE_STEP_MORE :
		    retire_failed(mv, "retiring the source", cause);
	snprintf(mv->res.retired, sizeof mv->res.retired, "%s",
	    mv->m.retired_path);
	if (mv->m.settled_at == 0) {
		due = mv->m.retired_at + (int64_t)mv->cfg->settle;
		if (now_unix() < due) {
			mv->res.settle_pending = 1;
			mv->res.settle_due = due;
			return MOVE_STEP_DONE;
		}
		mv->res.settle_pending = 0;
		if (settle(mv, cause) != 0)
			return retire_failed(mv, "the settle check of the "
			    "retired source", cause);
		move_crash_point("after-settle", 0);
		return MOVE_STEP_MORE;
	}
	return archive(mv, cause) == 0 ? MOVE_STEP_DONE :
	    retire_failed(mv, "archiving the retired source", cause);
}

struct purge {
	int64_t	 cutoff;
	int64_t	*ids;
	char   **marks;		/* the retired tree at its settle check */
	char   **paths;
	char   **roots;		/* the source slices */
	char   **olds;		/* the old paths in them */
	size_t	 n;
};

static int
purge_cb(const struct state_move *m, void *arg)
{
	struct purge *p = arg;

	/* Not before the settle check has looked at it. */
	if (m->retired_path == NULL || m->purged_at != 0 ||
	    m->settled_at == 0 || m->retired_at > p->cutoff)
		return 0;
	p->ids = xrealloc(p->ids, (p->n + 1) * sizeof *p->ids);
	p->marks = xrealloc(p->marks, (p->n + 1) * sizeof *p->marks);
	p->paths = xrealloc(p->paths, (p->n + 1) * sizeof *p->paths);
	p->ids[p->n] = m->id;
	p->marks[p->n] = m->settle_marks ? xstrdup(m->settle_marks) : NULL;
	p->paths[p->n] = xstrdup(m->retired_path);
	p->roots = xrealloc(p->roots, (p->n + 1) * sizeof *p->roots);
	p->olds = xrealloc(p->olds, (p->n + 1) * sizeof *p->olds);
	p->roots[p->n] = xstrdup(m->source_root);
	p->olds[p->n] = xstrdup(m->source_path);
	p->n++;
	return 0;
}

/* A retired tree (not an archive) that changed after its settle check
 * is kept, with an event: mail may have reached it late. */
static int
late_since_settle(struct state *st, int dir, const char *name, int64_t id,
    const char *marks)
{
	int tree, late;

	if ((tree = openat(dir, name, TREE_DIR_FLAGS)) < 0)
		return 0;	/* an archive, or gone */
	late = settle_changed(tree, marks);
	close(tree);
	if (late)
		state_event(st, "move.purge-held", NULL, NULL, "move %lld: the "
		    "retired source %s changed after its settle check (a late "
		    "delivery?); not purged: look at it, carry what is "
		    "missing, then remove it by hand", (long long)id, name);
	return late;
}

/* The settle snapshot beside a purged tree or archive goes too. */
static void
remove_snapshot(int dir, const char *base)
{
	char name[700];
	size_t n = strlen(base);

	if (n > 8 && strcmp(base + n - 8, ".tar.zst") == 0)
		n -= 8;
	snprintf(name, sizeof name, "%.*s.names", (int)n, base);
	unlinkat(dir, name, 0);
}

/* With its retired source, the placeholder at the old path goes. */
static void
placeholder_purge(const char *root, const char *path, int64_t id)
{
	int fd;

	if ((fd = open(root, TREE_DIR_FLAGS)) < 0)
		return;
	retire_placeholder_clear(fd, path, id);
	close(fd);
}

int
move_purge(struct state *st, int64_t older_than, uint64_t *purged,
    char **cause)
{
	struct purge p = { .cutoff = now_unix() - older_than };
	char *dir, *base;
	size_t i;
	int fd, rc = 0;

	*purged = 0;
	if (state_move_list(st, MOVE_DONE, purge_cb, &p, cause) != 0)
		return -1;
	for (i = 0; i < p.n; i++) {
		/* Only ever inside a slice's retired directory. */
		dir = xstrdup(p.paths[i]);
		base = strrchr(dir, '/');
		if (rc == 0 && base != NULL && strstr(dir, "/" RETIRED_DIR) !=
		    NULL) {
			*base++ = '\0';
			if ((fd = open(dir, TREE_DIR_FLAGS)) >= 0) {
				if (late_since_settle(st, fd, base, p.ids[i],
				    p.marks[i])) {
					close(fd);
					free(dir);
					free(p.paths[i]);
					free(p.marks[i]);
					free(p.roots[i]);
					free(p.olds[i]);
					continue;
				}
				rc = tree_remove(fd, base, cause);
				if (rc == 0)
					remove_snapshot(fd, base);
				close(fd);
			} else
				rc = fail(cause, "cannot open %s: %s (is the "
				    "slice mounted?)", dir, strerror(errno));
			if (rc == 0)
				rc = state_move_purged(st, p.ids[i],
				    now_unix(), cause);
			if (rc == 0) {
				(*purged)++;
				placeholder_purge(p.roots[i], p.olds[i],
				    p.ids[i]);
			}
		}
		free(dir);
		free(p.paths[i]);
		free(p.marks[i]);
		free(p.roots[i]);
		free(p.olds[i]);
	}
	free(p.ids);
	free(p.marks);
	free(p.paths);
	free(p.roots);
	free(p.olds);
	return rc;
}
