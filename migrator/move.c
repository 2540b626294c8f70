/* One move of an account, the handle and its steps: see move.h. */
#define _GNU_SOURCE
#include "migrator/move.h"
#include "migrator/move_int.h"
#include "common/config.h"
#include "common/layout.h"
#include "common/util.h"
#include "migrator/maildir.h"
#include "migrator/slice.h"
#include "migrator/sync.h"
#include "migrator/tree.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "state/slice.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/*
 * Test hook: MAILSHIFT_CRASH_AT=point[:n] kills the process with SIGKILL
 * when the move reaches that point (the n-th time for counted points), so
 * tests can check that every step is resumable.
 */
void
move_crash_point(const char *point, uint64_t n)
{
	const char *env = getenv("MAILSHIFT_CRASH_AT"), *colon;
	size_t len;

	if (env == NULL || *env == '\0')
		return;
	colon = strchr(env, ':');
	len = colon ? (size_t)(colon - env) : strlen(env);
	if (strlen(point) != len || strncmp(env, point, len) != 0)
		return;
	if (colon != NULL && strtoull(colon + 1, NULL, 10) != n)
		return;
	fprintf(stderr, "mailshift: test hook: crashing at %s\n", env);
	kill(getpid(), SIGKILL);
}

int64_t
move_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The mailbox of user at path on slice (id slice_id, named name) is one
 * account's alone: no other account's directory lies inside it or holds
 * it. what names the side ("source", "target"). 0, or -1 with a cause
 * naming both accounts.
 */
static int
alone(struct state *st, int64_t slice_id, const char *name, const char *path,
    const char *user, const char *what, char **cause)
{
	char *other = NULL, *opath = NULL;
	int rc;

	if ((rc = state_account_nesting(st, slice_id, path, user, &other,
	    &opath, cause)) <= 0)
		return rc;
	fail(cause, "the %s mailbox of '%s' on slice '%s' ('%s') %s the "
	    "mailbox of account '%s' ('%s'); %s", what, user, name, path,
	    strlen(opath) > strlen(path) ? "contains" : strcmp(opath, path)
	    == 0 ? "is also" : "lies inside", other, opath,
	    strcmp(what, "target") == 0 ? "choose another slice, or give "
	    "that account its own directory first" : "a move would carry or "
	    "remove both: give each account its own directory ('mailshift "
	    "account import --replace') first");
	free(other);
	free(opath);
	return -1;
}

/* Is path below root the placeholder an earlier move left? */
static int
placeholder_at(int root, const char *path)
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
	if (fd >= 0) {
		rc = retire_placeholder_is(fd, base, 0);
		close(fd);
	}
	free(dir);
	return rc;
}

/* The source is a Maildir (cur/ and new/), fd open on it. */
static int
source_is_maildir(int fd, const char *root, const char *path,
    const char *user, const char *slice, char **cause)
{
	if (maildir_is(fd))
		return 0;
	return fail(cause, "the source mailbox of '%s' (%s/%s) is not a "
	    "Maildir (no cur/ and new/); run 'mailshift discover %s' or fix "
	    "its placement with 'mailshift account import --replace'", user,
	    root, path, slice);
}

int
move_queue(struct state *st, const struct layout *layout, const char *user,
    const char *target, int hold, int64_t complete_after,
    const struct move_opts *rates, int64_t *id, char **cause)
{
	struct state_move_request r = { .user = user, .target = target,
	    .hold = hold, .complete_after = complete_after,
	    .bytes_per_second = rates ? rates->bytes_per_second : 0,
	    .files_per_second = rates ? rates->files_per_second : 0 };
	struct state_account a;
	struct state_slice src, dst;
	struct state_move last;
	struct statvfs vfs;
	char path[MS_PATH_MAX];
	int sroot = -1, droot = -1, box = -1, rc = -1, adopt = 0;

	memset(&src, 0, sizeof src);
	memset(&dst, 0, sizeof dst);
	if (state_account_get(st, user, &a, cause) != 0)
		return -1;
	if (state_slice_get(st, a.slice, &src, cause) != 0 ||
	    state_slice_get(st, target, &dst, cause) != 0)
		goto out;
	/* Before its root is touched: an unresponsive slice's may hang. */
	if (strcmp(a.slice, target) != 0 &&
	    state_slice_receives(&dst, cause) != 0)
		goto out;
	if (layout_expand(layout, user, path, sizeof path, cause) != 0)
		goto out;
	r.target_path = path;
	if ((sroot = slice_open(src.path, src.name, cause)) < 0 ||
	    (droot = slice_open(dst.path, dst.name, cause)) < 0)
		goto out;
	if ((box = tree_open_below(sroot, a.path, cause)) < 0) {
		char *why = *cause;

		*cause = xasprintf("source mailbox of '%s' on slice '%s': %s; "
		    "run 'mailshift discover %s'", user, src.name, why,
		    src.name);
		free(why);
		goto out;
	}
	if (source_is_maildir(box, src.path, a.path, user, src.name,
	    cause) != 0 || alone(st, src.id, src.name, a.path, user, "source",
	    cause) != 0)
		goto out;
	if (fstatvfs(droot, &vfs) == 0 && (uint64_t)vfs.f_bavail *
	    vfs.f_frsize < a.bytes + a.bytes / 50) {
		fail(cause, "slice '%s' has %llu bytes free on disk, not "
		    "enough for account '%s' (%llu bytes); choose another "
		    "slice or free space", dst.name,
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize, user,
		    (unsigned long long)a.bytes);
		goto out;
	}
	if (alone(st, dst.id, dst.name, path, user, "target", cause) != 0)
		goto out;
	if (tree_exists_below(droot, path) &&
	    !placeholder_at(droot, path)) {
		/* Only a copy an earlier move of this account left is ours:
		 * the last move that had this directory as its target or
		 * its source ended as failed or cancelled, with it as the
		 * target. (Moves since, elsewhere, do not matter: the copy
		 * is brought up to date like any other.) */
		if (state_move_find_last_at(st, user, dst.id, path, &last,
		    cause) < 0)
			goto out;
		adopt = last.id != 0 && last.target_slice == dst.id &&
		    strcmp(last.target_path, path) == 0 &&
		    (last.state == MOVE_FAILED ||
		    last.state == MOVE_CANCELLED);
		state_move_free(&last);
		if (!adopt && strcmp(a.slice, target) != 0) {
			fail(cause, "%s/%s already exists on slice '%s' and is "
			    "not a copy of an earlier move of '%s'; remove it "
			    "or choose another slice", dst.path, path, dst.name,
			    user);
			goto out;
		}
	}
	rc = state_move_create(st, &r, id, cause);
out:
	if (box >= 0)
		close(box);
	if (sroot >= 0)
		close(sroot);
	if (droot >= 0)
		close(droot);
	state_account_free(&a);
	state_slice_free(&src);
	state_slice_free(&dst);
	return rc;
}


static void
on_progress(void *arg, const struct sync_stats *s)
{
	struct move *mv = arg;

	if (mv->o.progress == NULL)
		return;
	mv->prog.bytes_done = s->bytes_copied;
	mv->prog.files_done = s->files_copied;
	mv->prog.seconds = monotonic_now() - mv->pass_start;
	mv->o.progress(mv->o.arg, &mv->prog);
}

static void
on_latency(void *arg, int side, double seconds)
{
	struct move *mv = arg;

	if (mv->o.latency != NULL)
		mv->o.latency(mv->o.latency_arg, side == 0 ?
		    mv->m.source_slice : mv->m.target_slice, side, seconds);
}

static void
on_hook(void *arg, const char *point, uint64_t n)
{
	(void)arg;
	move_crash_point(point, n);
}

int
move_reload(struct move *mv, char **cause)
{
	int64_t id = mv->m.id;

	state_move_free(&mv->m);
	return state_move_get(mv->st, id, &mv->m, cause);
}

/* Remove the target mailbox this handle created (after ENOSPC). */
static void
remove_target(struct move *mv)
{
	char *dir = xstrdup(mv->m.target_path), *base = strrchr(dir, '/');
	int fd;

	if (base == NULL) {
		tree_remove(mv->droot, dir, NULL);
	} else {
		*base++ = '\0';
		if ((fd = tree_open_below(mv->droot, dir, NULL)) >= 0) {
			tree_remove(fd, base, NULL);
			close(fd);
		}
	}
	free(dir);
}

int
move_give_up(struct move *mv, const char *why, char **cause)
{
	char *ignore = NULL;

	state_move_fail(mv->st, mv->m.id, MOVE_FAILED, why, &ignore);
	free(ignore);
	return fail(cause, "move %lld of '%s' failed: %s", (long long)mv->m.id,
	    mv->m.user, why);
}

/* Add the changes of one part of a pass to another's (what was seen is
 * counted by the part that ends the pass). */
static void
carry(struct sync_stats *to, const struct sync_stats *from)
{
	to->files_copied += from->files_copied;
	to->bytes_copied += from->bytes_copied;
	to->renamed += from->renamed;
	to->deleted += from->deleted;
	to->meta_fixed += from->meta_fixed;
	to->dirs_scanned += from->dirs_scanned;
	to->dirs_skipped += from->dirs_skipped;
	to->files_arrived += from->files_arrived;
	to->bytes_arrived += from->bytes_arrived;
}

/*
 * One sync pass with progress, ending early after budget files (0: no
 * limit); counts into the result. Returns 0 for a whole pass, 1 when the
 * budget ended it (the next pass carries on), -1 with a cause.
 */
static int
pass(struct move *mv, uint64_t budget, struct sync_stats *stats,
    char **cause)
{
	int enospc = 0, rc, partial;
	char *why = NULL;

	mv->prog.pass = (int)mv->m.passes + 1;
	mv->pass_start = monotonic_now();
	rc = sync_pass_some(mv->sync, mv->listed, budget, stats, &enospc,
	    &why);
	mv->listed = 1;
	mv->res.copy_seconds += monotonic_now() - mv->pass_start;
	if (rc != 0 && sync_stopped(mv->sync)) {
		free(why);
		mv->res.stopped = 1;
		return fail(cause, "move %lld of '%s' stopped at a safe point; "
		    "it resumes from what the target holds",
		    (long long)mv->m.id, mv->m.user);
	}
	mv->res.files_copied += stats->files_copied;
	mv->res.bytes_copied += stats->bytes_copied;
	partial = rc == 1;
	if (partial) {
		rc = 0;
		carry(&mv->carry, stats);
	} else {
		/* A pass the budget split is judged whole. */
		carry(stats, &mv->carry);
		memset(&mv->carry, 0, sizeof mv->carry);
		mv->res.passes++;
	}
	if (rc != 0) {
		if (enospc) {
			char *msg;

			if (mv->created)
				remove_target(mv);
			msg = xasprintf("slice '%s' is full: %s; %s, the source "
			    "is untouched", mv->m.target, why, mv->created ?
			    "the partial copy was removed" : "the copy an "
			    "earlier attempt made is kept");
			free(why);
			rc = move_give_up(mv, msg, cause);
			free(msg);
			return rc;
		}
		rc = move_give_up(mv, why, cause);
		free(why);
		return rc;
	}
	/* The pass goes on in the next step; the catalog hears of it when
	 * it is whole (the files copied so far are on the target, which is
	 * where a resumed move starts from). */
	if (partial)
		return 1;
	mv->m.passes++;
	mv->res.bytes = stats->bytes_seen;
	mv->res.files = stats->files_seen;
	/* Changes after the bulk copy are the user at work; the messages
	 * new to the target then arrived during the move. */
	if (mv->m.state != MOVE_COPYING) {
		mv->res.files_arrived += stats->files_arrived;
		mv->res.bytes_arrived += stats->bytes_arrived;
	}
	if (mv->m.state != MOVE_COPYING && sync_changes(stats) > 0) {
		mv->m.last_change = now_unix();
		state_move_changed(mv->st, mv->m.id, mv->m.last_change, NULL);
	}
	if (state_move_progress(mv->st, mv->m.id, stats->bytes_seen,
	    stats->files_seen, stats->bytes_seen, stats->files_seen,
	    mv->m.passes, mv->m.copy_ms + (int64_t)(mv->res.copy_seconds *
	    1000), cause) != 0)
		return -1;
	move_crash_point("after-pass", (uint64_t)mv->m.passes);
	return 0;
}

static int
is_small(const struct move *mv, const struct sync_stats *s)
{
	return sync_changes(s) <= mv->cfg->small_pass_files &&
	    s->bytes_copied <= mv->cfg->small_pass_bytes;
}

/* The sync handle the passes share: throttle, clock, copy threads. */
static void
make_sync(struct move *mv)
{
	struct sync_config sc = { .progress = on_progress, .hook = on_hook,
	    .latency = on_latency, .arg = mv };

	sc.throttle = &mv->thr;
	sc.limits = mv->limits;
	sc.stop = &mv->stop;
	sc.preserve_owner = geteuid() == 0;
	/* Where passes read the source slice's clock (see sync.h). */
	sc.clock_dir = mv->m.source_root;
	/* Copying is system time: one worker per processor, up to four. */
	sc.workers = mv->o.workers > 0 ? mv->o.workers :
	    (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (sc.workers > 4)
		sc.workers = 4;
	mv->sync = sync_new(mv->src, mv->dst, &sc);
}

/*
 * The first step's opening: both slice roots (through their markers,
 * never an unmounted slice), then for an open move the source mailbox,
 * the target (made with the owner and mode of the source's parent) and
 * the sync handle. A cutover a dead process left is undone first.
 */
static int
open_trees(struct move *mv, char **cause)
{
	struct stat like;
	char *dir, *base, *why;
	uint64_t f = 0, b = 0;
	int fd, rc;

	if ((mv->sroot = slice_open(mv->m.source_root, mv->m.source,
	    cause)) < 0 || (mv->droot = slice_open(mv->m.target_root,
	    mv->m.target, cause)) < 0)
		return -1;
	if (mv->m.state == MOVE_DONE)
		return 0;
	if (!state_move_state_open(mv->m.state))
		return fail(cause, "move %lld is %s%s%s; queue a new one",
		    (long long)mv->m.id, state_move_state_name(mv->m.state),
		    mv->m.error ? ": " : "", mv->m.error ? mv->m.error : "");
	if (mv->m.state == MOVE_CUTOVER) {
		/* A run died during cutover without committing: undo. */
		if (state_move_unlock(mv->st, mv->m.id, "the cutover was "
		    "interrupted before the switch; retrying", cause) != 0 ||
		    move_reload(mv, cause) != 0)
			return -1;
	}
	if ((mv->src = tree_open_below(mv->sroot, mv->m.source_path,
	    cause)) < 0) {
		why = xasprintf("source mailbox %s/%s: %s", mv->m.source_root,
		    mv->m.source_path, *cause);
		free(*cause);
		*cause = NULL;
		rc = move_give_up(mv, why, cause);
		free(why);
		return rc;
	}
	/* The catalog may have changed since the move was queued. */
	why = NULL;
	if (source_is_maildir(mv->src, mv->m.source_root, mv->m.source_path,
	    mv->m.user, mv->m.source, &why) != 0 || alone(mv->st,
	    mv->m.source_slice, mv->m.source, mv->m.source_path, mv->m.user,
	    "source", &why) != 0 || alone(mv->st, mv->m.target_slice,
	    mv->m.target, mv->m.target_path, mv->m.user, "target", &why) != 0) {
		rc = move_give_up(mv, why, cause);
		free(why);
		return rc;
	}
	fd = retire_source_parent(mv, &dir, &base, NULL);
	free(dir);
	if (fd < 0 || fstat(fd, &like) != 0) {
		if (fd >= 0)
			close(fd);
		return fail(cause, "cannot read the directory above the source "
		    "mailbox %s/%s: %s", mv->m.source_root, mv->m.source_path,
		    strerror(errno));
	}
	close(fd);
	/* Back to where an earlier move left a placeholder: the mailbox
	 * takes its place again. */
	if (retire_placeholder_clear(mv->droot, mv->m.target_path, 0))
		state_move_event(mv->st, &mv->m, "move.placeholder", "removed "
		    "the placeholder an earlier move left at %s/%s",
		    mv->m.target_root, mv->m.target_path);
	if ((mv->dst = tree_make_below(mv->droot, mv->m.target_path, &like,
	    &mv->created, cause)) < 0)
		return -1;
	if (mv->m.state == MOVE_QUEUED) {
		if (state_move_set_state(mv->st, mv->m.id, MOVE_QUEUED,
		    MOVE_COPYING, cause) != 0 || move_reload(mv, cause) != 0)
			return -1;
		state_move_event(mv->st, &mv->m, "move.copying", "bulk copy "
		    "started");
	}
	mv->prog.bytes_total = mv->m.bytes_total;
	mv->prog.files_total = mv->m.files_total;
	if (tree_measure(mv->src, &f, &b, NULL) == 0) {
		mv->prog.files_total = f;
		mv->prog.bytes_total = b;
	}
	make_sync(mv);
	return 0;
}

struct move *
move_open(struct state *st, int64_t id, const struct move_opts *o,
    char **cause)
{
	struct move *mv;

	if (state_move_claim(st, id, (int64_t)getpid(), cause) != 0)
		return NULL;
	mv = xcalloc(1, sizeof *mv);
	mv->st = st;
	mv->o = *o;
	mv->cfg = o->config;
	mv->res.id = id;
	mv->res.lock_ms = -1;
	mv->sroot = mv->droot = mv->src = mv->dst = -1;
	mv->limits[0] = o->bytes_per_second ? o->bytes_per_second :
	    mv->cfg->bytes_per_second;
	mv->limits[1] = o->files_per_second ? o->files_per_second :
	    mv->cfg->files_per_second;
	throttle_init(&mv->thr, mv->limits[0], mv->limits[1]);
	if (state_move_get(st, id, &mv->m, cause) != 0) {
		state_move_release(st, id);
		free(mv);
		return NULL;
	}
	mv->res.state = mv->m.state;
	return mv;
}

/* The result as the catalog has the move now. */
static void
sum_up(struct move *mv)
{
	mv->res.state = mv->m.state;
	if (mv->m.lock_ms >= 0)
		mv->res.lock_ms = mv->m.lock_ms;
	if (mv->res.files == 0 && mv->res.bytes == 0) {
		mv->res.files = mv->m.files_done;
		mv->res.bytes = mv->m.bytes_done;
	}
}

/* End the handle's work: every later step returns the same. */
static enum move_step
end(struct move *mv, enum move_step e)
{
	mv->phase = PHASE_END;
	mv->end = e;
	sum_up(mv);
	return e;
}

static enum move_step
failed(struct move *mv)
{
	/* The catalog may have moved on (failed, unlocked): say so. */
	move_reload(mv, NULL);
	return end(mv, MOVE_STEP_FAILED);
}

/* copying and syncing: one pass (or budget files of it), then on to the
 * next state. */
static enum move_step
step_pass(struct move *mv, uint64_t budget, char **cause)
{
	struct sync_stats stats;
	enum move_state next;
	int rc;

	mv->prog.phase = mv->m.state == MOVE_COPYING ? "copying" : "syncing";
	if ((rc = pass(mv, budget, &stats, cause)) < 0)
		return failed(mv);
	if (rc == 1)
		return MOVE_STEP_MORE;
	if (mv->m.state == MOVE_COPYING)
		next = MOVE_SYNCING;	/* at least one delta pass */
	else if (is_small(mv, &stats) ||
	    (uint64_t)mv->m.passes >= mv->cfg->max_passes)
		next = MOVE_READY;
	else
		return MOVE_STEP_MORE;
	if (state_move_set_state(mv->st, mv->m.id, mv->m.state, next,
	    cause) != 0 || move_reload(mv, cause) != 0)
		return failed(mv);
	if (next == MOVE_READY)
		state_move_event(mv->st, &mv->m, "move.ready", "ready for "
		    "cutover after %lld passes", (long long)mv->m.passes);
	return next == MOVE_READY ? MOVE_STEP_READY : MOVE_STEP_MORE;
}

/* ready: a delta pass, or once allowed, the lock. */
static enum move_step
step_ready(struct move *mv, char **cause)
{
	struct sync_stats stats;

	/* Opened at ready: one unlocked pass comparing everything first,
	 * so that the final pass under the lock only looks at what changed
	 * since (and presence sees the mailbox as it is now). */
	if (!mv->listed || !mv->allow) {
		mv->prog.phase = "syncing";
		if (pass(mv, 0, &stats, cause) != 0)
			return failed(mv);
		return MOVE_STEP_READY;
	}
	if (cutover_lock(mv, cause) != 0)
		return failed(mv);
	mv->phase = PHASE_LOCKED;
	mv->wake = monotonic_now() + (double)mv->cfg->lock_grace;
	return MOVE_STEP_MORE;
}

enum move_step
move_step(struct move *mv, uint64_t budget, char **cause)
{
	if (mv->phase == PHASE_END)
		return mv->end == MOVE_STEP_FAILED ? (fail(cause, "move %lld "
		    "ended", (long long)mv->m.id), MOVE_STEP_FAILED) : mv->end;
	if (mv->phase == PHASE_START) {
		if (open_trees(mv, cause) != 0)
			return failed(mv);
		mv->phase = PHASE_RUN;
	}
	if (mv->phase == PHASE_LOCKED) {
		if (mv->stop) {
			mv->res.stopped = 1;
			cutover_abandon(mv, "stopped during the cutover; "
			    "retried later", NULL);
			fail(cause, "move %lld of '%s' stopped during its "
			    "cutover; the account is unlocked on the source and "
			    "the move resumes from what the target holds",
			    (long long)mv->m.id, mv->m.user);
			return failed(mv);
		}
		if (monotonic_now() < mv->wake)
			return MOVE_STEP_MORE;
		mv->wake = 0;
		mv->phase = PHASE_RUN;
		if (cutover_finish(mv, cause) != 0)
			return failed(mv);
		return MOVE_STEP_MORE;
	}
	if (mv->stop && mv->m.state != MOVE_DONE) {
		mv->res.stopped = 1;
		fail(cause, "move %lld of '%s' stopped at a safe point; it "
		    "resumes from what the target holds", (long long)mv->m.id,
		    mv->m.user);
		return end(mv, MOVE_STEP_FAILED);
	}
	switch (mv->m.state) {
	case MOVE_COPYING:
	case MOVE_SYNCING:
		return step_pass(mv, budget, cause);
	case MOVE_READY:
		return step_ready(mv, cause);
	case MOVE_DONE: {
		enum move_step e = retire_step(mv, cause);

		/* Not due yet: a step after move_wake_at() runs the check. */
		if (e == MOVE_STEP_DONE && mv->res.settle_pending) {
			mv->wake = monotonic_now() + (double)
			    (mv->res.settle_due - now_unix());
			mv->res.state = mv->m.state;
			return e;
		}
		return e == MOVE_STEP_MORE ? e : end(mv, e);
	}
	default:
		fail(cause, "move %lld is %s; queue a new one",
		    (long long)mv->m.id, state_move_state_name(mv->m.state));
		return end(mv, MOVE_STEP_FAILED);
	}
}

void
move_allow_cutover(struct move *mv)
{
	mv->allow = 1;
}

void
move_stop(struct move *mv)
{
	__atomic_store_n(&mv->stop, 1, __ATOMIC_RELEASE);
}

void
move_set_limits(struct move *mv, uint64_t bytes, uint64_t files)
{
	__atomic_store_n(&mv->limits[0], bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&mv->limits[1], files, __ATOMIC_RELAXED);
}

double
move_wake_at(const struct move *mv)
{
	return mv->wake;
}

const struct state_move *
move_info(const struct move *mv)
{
	return &mv->m;
}

const struct move_result *
move_result(const struct move *mv)
{
	return &mv->res;
}

void
move_close(struct move *mv)
{
	if (mv == NULL)
		return;
	if (mv->phase == PHASE_LOCKED)
		cutover_abandon(mv, "the process running the cutover let go "
		    "before the switch; retried later", NULL);
	sync_free(mv->sync);
	free(mv->marks);
	mv->res.throttle_wait = mv->thr.waited;
	state_move_release(mv->st, mv->m.id);
	state_move_free(&mv->m);
	if (mv->src >= 0)
		close(mv->src);
	if (mv->dst >= 0)
		close(mv->dst);
	if (mv->sroot >= 0)
		close(mv->sroot);
	if (mv->droot >= 0)
		close(mv->droot);
	free(mv);
}

/* Sleep until t (monotonic) or a stop, in short naps. */
static void
nap_until(double t, const volatile int *stop)
{
	struct timespec ts;
	double left;

	while ((left = t - monotonic_now()) > 0 && !(stop && *stop)) {
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

int
move_run(struct state *st, int64_t id, const struct move_opts *o,
    const struct move_drive *d, struct move_result *res, char **cause)
{
	const volatile int *stop = d != NULL ? d->stop : NULL;
	struct move *mv;
	enum move_step e;
	int rc;

	memset(res, 0, sizeof *res);
	res->id = id;
	res->lock_ms = -1;
	if ((mv = move_open(st, id, o, cause)) == NULL)
		return -1;
	for (;;) {
		if (stop != NULL && *stop)
			move_stop(mv);
		e = move_step(mv, 0, cause);
		if (e == MOVE_STEP_MORE) {
			nap_until(move_wake_at(mv), stop);
			continue;
		}
		if (e == MOVE_STEP_READY) {
			const struct state_move *m = move_info(mv);
			double until = monotonic_now() + 60;

			/* Held: it waits at ready for 'moves complete'. */
			if (m->hold)
				break;
			/* A complete-after time: a small delta pass a minute
			 * keeps the final pass short until then. */
			if (m->complete_after > now_unix() && !(stop && *stop)) {
				while (m->complete_after > now_unix() &&
				    monotonic_now() < until && !(stop && *stop))
					nap_until(monotonic_now() + 1, stop);
				continue;
			}
			if (stop != NULL && *stop)
				move_stop(mv);
			else
				move_allow_cutover(mv);
			continue;
		}
		if (e == MOVE_STEP_DONE && move_result(mv)->settle_pending &&
		    d != NULL && d->settle_wait && !(stop && *stop)) {
			mv->prog.phase = "settling";
			nap_until(move_wake_at(mv), stop);
			if (stop == NULL || !*stop)
				continue;
		}
		break;
	}
	rc = e == MOVE_STEP_FAILED ? -1 : 0;
	move_reload(mv, NULL);
	sum_up(mv);
	*res = mv->res;
	res->throttle_wait = mv->thr.waited;
	move_close(mv);
	return rc;
}
