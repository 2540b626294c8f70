/* One move of an account, from queue to retirement: see move.h. */
#define _GNU_SOURCE
#include "migrator/move.h"
#include "common/command.h"
#include "migrator/settle.h"
#include "migrator/zarchive.h"
#include "common/config.h"
#include "common/layout.h"
#include "state/state.h"
#include "migrator/slice.h"
#include "migrator/sync.h"
#include "migrator/throttle.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define RETIRED_DIR	".mailshift-retired"

/*
 * Test hook: MAILSHIFT_CRASH_AT=point[:n] kills the process with SIGKILL
 * when the move reaches that point (the n-th time for counted points), so
 * tests can check that every step is resumable.
 */
static void
crash_point(const char *point, uint64_t n)
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

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
open_below(int root, const char *path, char **cause)
{
	char part[256];
	const char *p = path, *slash;
	int fd, next;
	size_t n;

	if ((fd = dup(root)) < 0)
		return fail(cause, "%s", strerror(errno));
	for (;;) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof part) {
			close(fd);
			return fail(cause, "bad path '%s'", path);
		}
		memcpy(part, p, n);
		part[n] = '\0';
		next = openat(fd, part, DIR_FLAGS);
		close(fd);
		if (next < 0)
			return fail(cause, "%s: %s%s", path, strerror(errno),
			    errno == ELOOP || errno == ENOTDIR ? " (a symlink "
			    "or not a directory on the way)" : "");
		fd = next;
		if (slash == NULL)
			return fd;
		p = slash + 1;
	}
}

/* Open a slice root through its marker (never an unmounted slice). */
static int
open_root(const char *path, const char *slice, char **cause)
{
	return slice_open(path, slice, cause);
}

/*
 * Open the target mailbox directory below root, creating missing
 * components with the mode and owner of like (the source's parent).
 * Sets *created when the mailbox directory itself was made here.
 */
static int
open_target(int root, const char *path, const struct stat *like,
    int *created, char **cause)
{
	char part[256];
	const char *p = path, *slash;
	int fd, next;
	size_t n;

	*created = 0;
	if ((fd = dup(root)) < 0)
		return fail(cause, "%s", strerror(errno));
	for (;;) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		memcpy(part, p, n);
		part[n] = '\0';
		int made = mkdirat(fd, part, 0700) == 0;

		if (!made && errno != EEXIST) {
			int e = errno;

			close(fd);
			return fail(cause, "cannot create %s on the target: "
			    "%s", path, strerror(e));
		}
		next = openat(fd, part, DIR_FLAGS);
		close(fd);
		if (next < 0)
			return fail(cause, "target %s: %s (a symlink or not a "
			    "directory on the way?)", path, strerror(errno));
		fd = next;
		/* A parent made here takes the source parent's owner and
		 * mode, through the descriptor, never by name. */
		if (made && slash == NULL)
			*created = 1;
		else if (made && ((geteuid() == 0 && fchown(fd, like->st_uid,
		    like->st_gid) != 0) || fchmod(fd, like->st_mode & 07777)
		    != 0)) {
			close(fd);
			return fail(cause, "cannot set the owner or mode of %s "
			    "on the target: %s", part, strerror(errno));
		}
		if (slash == NULL)
			return fd;
		p = slash + 1;
	}
}

/* Does path exist below root (without following symlinks)? */
static int
exists_below(int root, const char *path)
{
	char *dir = xstrdup(path), *base = strrchr(dir, '/');
	struct stat sb;
	int fd, rc;

	if (base == NULL) {
		rc = fstatat(root, path, &sb, AT_SYMLINK_NOFOLLOW) == 0;
		free(dir);
		return rc;
	}
	*base++ = '\0';
	if ((fd = open_below(root, dir, NULL)) < 0) {
		free(dir);
		return 0;
	}
	rc = fstatat(fd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	free(dir);
	return rc;
}

int
move_queue(struct state *st, const struct layout *layout, const char *user,
    const char *target, int hold, int64_t complete_after, int64_t *id,
    char **cause)
{
	struct state_move_request r = { .user = user, .target = target,
	    .hold = hold, .complete_after = complete_after };
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
	if (layout_expand(layout, user, path, sizeof path, cause) != 0)
		goto out;
	r.target_path = path;
	if ((sroot = open_root(src.path, src.name, cause)) < 0 ||
	    (droot = open_root(dst.path, dst.name, cause)) < 0)
		goto out;
	if ((box = open_below(sroot, a.path, cause)) < 0) {
		char *why = *cause;

		*cause = xasprintf("source mailbox of '%s' on slice '%s': %s; "
		    "run 'mailshift discover %s'", user, src.name, why,
		    src.name);
		free(why);
		goto out;
	}
	if (fstatvfs(droot, &vfs) == 0 && (uint64_t)vfs.f_bavail *
	    vfs.f_frsize < a.bytes + a.bytes / 50) {
		fail(cause, "slice '%s' has %llu bytes free on disk, not "
		    "enough for account '%s' (%llu bytes); choose another "
		    "slice or free space", dst.name,
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize, user,
		    (unsigned long long)a.bytes);
		goto out;
	}
	if (exists_below(droot, path)) {
		/* Only a copy an earlier move of this account left is ours. */
		if (state_move_find_last(st, user, &last, cause) < 0)
			goto out;
		adopt = last.id != 0 && last.target_slice == dst.id &&
		    strcmp(last.target_path, path) == 0 &&
		    (strcmp(last.state, "failed") == 0 ||
		    strcmp(last.state, "cancelled") == 0);
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

/* What a run carries between its steps. */
struct run {
	struct state		*st;
	const struct move_opts	*o;
	const struct config	*cfg;
	struct state_move	 m;
	struct move_result	*res;
	struct throttle		 thr;
	struct move_progress	 prog;
	double			 pass_start;
	int			 sroot, droot, sparent, src, dst;
	int			 created;	/* target made by this run */
	char			*marks;		/* settle marks of this cutover */
};

static void
on_progress(void *arg, const struct sync_stats *s)
{
	struct run *r = arg;

	if (r->o->progress == NULL)
		return;
	r->prog.bytes_done = s->bytes_copied;
	r->prog.files_done = s->files_copied;
	r->prog.seconds = monotonic_now() - r->pass_start;
	r->o->progress(r->o->arg, &r->prog);
}

static void
on_latency(void *arg, int side, double seconds)
{
	struct run *r = arg;

	if (r->o->latency != NULL)
		r->o->latency(r->o->latency_arg, side == 0 ? r->m.source_slice :
		    r->m.target_slice, side, seconds);
}

static void
on_hook(void *arg, const char *point, uint64_t n)
{
	(void)arg;
	crash_point(point, n);
}

/* Reload the move from the catalog. */
static int
reload(struct run *r, char **cause)
{
	int64_t id = r->m.id;

	state_move_free(&r->m);
	return state_move_get(r->st, id, &r->m, cause);
}

/* Remove the target mailbox this run created (after ENOSPC). */
static void
remove_target(struct run *r)
{
	char *dir = xstrdup(r->m.target_path), *base = strrchr(dir, '/');
	int fd;

	if (base == NULL) {
		tree_remove(r->droot, dir, NULL);
	} else {
		*base++ = '\0';
		if ((fd = open_below(r->droot, dir, NULL)) >= 0) {
			tree_remove(fd, base, NULL);
			close(fd);
		}
	}
	free(dir);
}

/* End the move as failed with why; returns -1 with the cause set. */
static int
give_up(struct run *r, const char *why, char **cause)
{
	char *ignore = NULL;

	state_move_fail(r->st, r->m.id, "failed", why, &ignore);
	free(ignore);
	return fail(cause, "move %lld of '%s' failed: %s", (long long)r->m.id,
	    r->m.user, why);
}

/* One sync pass with progress; counts into the result. */
static int
pass(struct run *r, struct sync *s, int skip, struct sync_stats *stats,
    char **cause)
{
	int enospc = 0, rc;
	char *why = NULL;

	r->prog.pass = (int)r->m.passes + 1;
	r->pass_start = monotonic_now();
	rc = sync_pass(s, skip, stats, &enospc, &why);
	r->res->copy_seconds += monotonic_now() - r->pass_start;
	if (rc != 0 && sync_stopped(s)) {
		free(why);
		r->res->stopped = 1;
		return fail(cause, "move %lld of '%s' stopped at a safe point; "
		    "it resumes from what the target holds",
		    (long long)r->m.id, r->m.user);
	}
	r->res->files_copied += stats->files_copied;
	r->res->bytes_copied += stats->bytes_copied;
	r->res->passes++;
	if (rc != 0) {
		if (enospc) {
			char *msg;

			if (r->created)
				remove_target(r);
			msg = xasprintf("slice '%s' is full: %s; %s, the source "
			    "is untouched", r->m.target, why, r->created ?
			    "the partial copy was removed" : "the copy an "
			    "earlier attempt made is kept");
			free(why);
			rc = give_up(r, msg, cause);
			free(msg);
			return rc;
		}
		rc = give_up(r, why, cause);
		free(why);
		return rc;
	}
	r->m.passes++;
	r->res->bytes = stats->bytes_seen;
	r->res->files = stats->files_seen;
	/* Changes after the bulk copy are the user at work. */
	if (strcmp(r->m.state, "copying") != 0 && sync_changes(stats) > 0) {
		r->m.last_change = now_unix();
		state_move_changed(r->st, r->m.id, r->m.last_change, NULL);
	}
	if (state_move_progress(r->st, r->m.id, stats->bytes_seen,
	    stats->files_seen, stats->bytes_seen, stats->files_seen,
	    r->m.passes, r->m.copy_ms + (int64_t)(r->res->copy_seconds *
	    1000), cause) != 0)
		return -1;
	crash_point("after-pass", (uint64_t)r->m.passes);
	return 0;
}

static int
is_small(const struct run *r, const struct sync_stats *s)
{
	return sync_changes(s) <= r->cfg->small_pass_files &&
	    s->bytes_copied <= r->cfg->small_pass_bytes;
}

/* Make the target durable: syncfs, or fsync of every file and directory. */
static int
make_durable(struct run *r, char **cause)
{
	if (r->cfg->durability_fsync) {
		if (tree_fsync(r->dst, cause) != 0)
			return -1;
	} else if (syncfs(r->dst) != 0)
		return fail(cause, "syncfs on slice '%s': %s", r->m.target,
		    strerror(errno));
	return 0;
}

/*
 * Right after the switch: the full listing comparison of both trees, as an
 * audit. The access layer already follows the catalog to the target, so a
 * delivery or an index update there can show as a difference; a real one
 * would be a bug. Either way it is recorded, and the source is retired,
 * never deleted, so it stays for the retention period.
 */
static void
audit(struct run *r)
{
	uint64_t files, bytes;
	char *why = NULL;

	if (sync_verify(r->src, r->dst, 0, geteuid() == 0, &files, &bytes,
	    &why) == 0)
		state_move_event(r->st, &r->m, "move.audit", "full listing "
		    "after the switch: %llu files, %llu bytes identical",
		    (unsigned long long)files, (unsigned long long)bytes);
	else {
		state_move_event(r->st, &r->m, "move.audit", "full listing "
		    "after the switch differs: %s (new mail on the target "
		    "since the switch shows here too); the retired source is "
		    "kept for the retention period", why);
		free(why);
	}
}

static void snapshot(struct run *);

/*
 * Run the [hooks] command `which` (e.g. after_lock) for the move's user.
 * Every run is an event; returns 0 when it exited 0, else -1 with why.
 */
static int
run_hook(struct run *r, const char *which, const char *command, char **why)
{
	struct command_result res;
	char *env[7], *cause = NULL, *what;
	int i, rc = -1;

	if (command == NULL)
		return 0;
	env[0] = xasprintf("MAILSHIFT_HOOK=%s", which);
	env[1] = xasprintf("MAILSHIFT_USER=%s", r->m.user);
	env[2] = xasprintf("MAILSHIFT_MOVE=%lld", (long long)r->m.id);
	env[3] = xasprintf("MAILSHIFT_SOURCE=%s/%s", r->m.source_root,
	    r->m.source_path);
	env[4] = xasprintf("MAILSHIFT_TARGET=%s/%s", r->m.target_root,
	    r->m.target_path);
	env[5] = xasprintf("MAILSHIFT_CATALOG=%s", state_path(r->st));
	env[6] = NULL;
	if (command_run(command, r->m.user, (const char *const *)env,
	    (double)r->cfg->hook_timeout, 4096, &res, &cause) != 0) {
		*why = xasprintf("%s hook '%s': %s", which, command, cause);
		free(cause);
		goto out;
	}
	what = command_describe(&res);
	if (res.status == 0) {
		state_move_event(r->st, &r->m, "move.hook", "%s hook '%s' "
		    "exited 0 in %.0f ms", which, command, res.seconds * 1000);
		rc = 0;
	} else {
		*why = xasprintf("%s hook '%s' %s", which, command, what);
		state_move_event(r->st, &r->m, "move.hook-failed", "%s",
		    *why);
	}
	free(what);
	command_result_free(&res);
out:
	for (i = 0; i < 6; i++)
		free(env[i]);
	return rc;
}

/*
 * The cutover: lock, hook, grace, final pass, durability, verification,
 * then the switch. Any failure before the switch unlocks the account on
 * the source.
 */
static int
cutover(struct run *r, struct sync *s, char **cause)
{
	struct sync_stats stats;
	int64_t t0 = now_ms(), elapsed;
	char *why = NULL, *msg;
	int enospc = 0;
	uint64_t files, bytes;
	struct timespec grace;

	/* Write back what the passes copied before locking, so that the
	 * locked flush only has the final pass to write. */
	if (syncfs(r->dst) != 0)
		return fail(cause, "syncfs on slice '%s': %s", r->m.target,
		    strerror(errno));
	t0 = now_ms();
	if (state_move_lock(r->st, r->m.id, t0, t0 / 1000 + 1 +
	    (int64_t)r->cfg->lock_timeout, cause) != 0)
		return -1;
	/* No throttle while the user is locked out. */
	r->thr.bytes_rate = r->thr.files_rate = 0;
	sync_unthrottle(s);
	crash_point("after-lock", 0);
	r->prog.phase = "cutover";
	if (r->cfg->lock_grace > 0) {
		grace.tv_sec = (time_t)r->cfg->lock_grace;
		grace.tv_nsec = 0;
		nanosleep(&grace, NULL);
	}
	/* Ends the user's open sessions (doveadm kick). It runs after the
	 * grace: deliveries in flight have finished, and an access server's
	 * auth cache (at most the grace) can no longer let anyone in. If it
	 * fails, a session could still write to the source: the cutover
	 * waits for a later try. */
	if (run_hook(r, "after_lock", r->cfg->hook_after_lock, &why) != 0) {
		msg = xasprintf("%s; the cutover is retried later", why);
		goto abandon;
	}
	/* Where the source stood before the final pass: what the settle
	 * check compares the retired source with. */
	free(r->marks);
	if ((r->marks = settle_marks(r->src, &why)) == NULL) {
		msg = xasprintf("reading the source: %s", why);
		goto abandon;
	}
	r->prog.pass = (int)r->m.passes + 1;
	r->pass_start = monotonic_now();
	if (sync_pass(s, 1, &stats, &enospc, &why) != 0) {
		msg = xasprintf("final pass: %s", why);
		goto abandon;
	}
	r->m.passes++;
	r->res->passes++;
	r->res->files_copied += stats.files_copied;
	r->res->bytes_copied += stats.bytes_copied;
	crash_point("after-final-pass", 0);
	if (make_durable(r, &why) != 0) {
		msg = xasprintf("durability: %s", why);
		goto abandon;
	}
	crash_point("after-sync", 0);
	/* Under the lock: what could have changed, or everything with
	 * contents when asked; the full listing follows the switch. */
	if ((r->o->verify_content || r->cfg->verify_content ?
	    sync_verify(r->src, r->dst, 1, geteuid() == 0, &files, &bytes,
	    &why) : sync_verify_changed(s, geteuid() == 0, &files, &bytes,
	    &why)) != 0) {
		msg = xasprintf("%s", why);
		goto abandon;
	}
	crash_point("after-verify", 0);
	elapsed = now_ms() - t0;
	if (elapsed > (int64_t)r->cfg->lock_timeout * 1000) {
		why = NULL;
		msg = xasprintf("the lock lasted %lld ms, over lock_timeout "
		    "(%llu s)", (long long)elapsed,
		    (unsigned long long)r->cfg->lock_timeout);
		goto abandon;
	}
	if (state_move_progress(r->st, r->m.id, bytes, files, bytes, files,
	    r->m.passes, r->m.copy_ms + (int64_t)(r->res->copy_seconds *
	    1000), cause) != 0)
		goto abandon_cause;
	elapsed = now_ms() - t0;
	if (state_move_commit(r->st, r->m.id, elapsed, r->marks, cause) != 0)
		goto abandon_cause;
	r->res->lock_ms = elapsed;
	r->res->files = files;
	r->res->bytes = bytes;
	crash_point("after-commit", 0);
	snapshot(r);
	/* The switch is done whatever this hook says. */
	if (run_hook(r, "after_switch", r->cfg->hook_after_switch, &why) != 0)
		free(why);
	audit(r);
	return 0;

abandon_cause:
	msg = xstrdup(*cause);
	free(*cause);
	*cause = NULL;
abandon:
	free(why);
	why = NULL;
	if (state_move_unlock(r->st, r->m.id, msg, &why) != 0) {
		fail(cause, "cutover of '%s' abandoned: %s; the account could "
		    "not be unlocked (%s): its lock expires by itself within "
		    "lock_timeout (%llu s); run the move again to clean up",
		    r->m.user, msg, why, (unsigned long long)
		    r->cfg->lock_timeout);
		free(why);
		free(msg);
		return -1;
	}
	fail(cause, "cutover of '%s' abandoned: %s; the account is unlocked "
	    "on the source and the copy is kept: run the move again to "
	    "retry", r->m.user, msg);
	free(msg);
	return -1;
}

/* The name a retired source gets in its slice's retired directory. */
static void
retired_name(const struct state_move *m, char *buf, size_t len)
{
	snprintf(buf, len, "%lld-%s", (long long)m->id, m->user);
}

/* Archive the retired tree rd/name, verify it, then remove the tree. */
static int
retire_archive(struct run *r, int rd, const char *name, char **cause)
{
	char out[MS_PATH_MAX];

	snprintf(out, sizeof out, "%s/%s/%s.tar.zst", r->m.source_root,
	    RETIRED_DIR, name);
	if (zarchive_tree(rd, name, out, NULL, NULL, cause) != 0 ||
	    zarchive_verify(out, rd, name, cause) != 0 ||
	    state_move_retired(r->st, r->m.id, out, now_unix(), cause) != 0 ||
	    tree_remove(rd, name, cause) != 0)
		return -1;
	snprintf(r->res->retired, sizeof r->res->retired, "%s", out);
	return 0;
}

/*
 * Open the directory holding the source mailbox; *base is its last
 * component, in *dir (free it).
 */
static int
open_source_parent(struct run *r, char **dir, char **base, char **cause)
{
	*dir = xstrdup(r->m.source_path);
	if ((*base = strrchr(*dir, '/')) == NULL) {
		*base = *dir;
		return dup(r->sroot);
	}
	*(*base)++ = '\0';
	return open_below(r->sroot, *dir, cause);
}

/* Open (creating it) the source slice's retired directory, never
 * following it as a path. */
static int
open_retired(struct run *r, char **cause)
{
	int rd;

	if (mkdirat(r->sroot, RETIRED_DIR, 0700) != 0 && errno != EEXIST)
		return fail(cause, "cannot create %s/%s: %s", r->m.source_root,
		    RETIRED_DIR, strerror(errno));
	if ((rd = openat(r->sroot, RETIRED_DIR, DIR_FLAGS)) < 0)
		return fail(cause, "cannot open %s/%s: %s", r->m.source_root,
		    RETIRED_DIR, strerror(errno));
	return rd;
}

/*
 * After the switch: rename the source aside in its own slice. Recorded,
 * so a rerun after a crash knows it happened.
 */
static int
retire(struct run *r, char **cause)
{
	char name[600], *dir = NULL, *base, *path;
	int parent, rd, rc = -1;

	if (r->m.retired_path != NULL) {
		snprintf(r->res->retired, sizeof r->res->retired, "%s",
		    r->m.retired_path);
		return 0;
	}
	retired_name(&r->m, name, sizeof name);
	if ((parent = open_source_parent(r, &dir, &base, cause)) < 0)
		goto out;
	if ((rd = open_retired(r, cause)) < 0) {
		close(parent);
		goto out;
	}
	/* ENOENT: the source is gone (nothing to retire). ENOTEMPTY or
	 * EEXIST with the retired tree there: a run renamed it and died
	 * before recording it, and a late delivery recreated the old path,
	 * which the settle check carries and retires. */
	if (renameat(parent, base, rd, name) != 0 && errno != ENOENT &&
	    !((errno == ENOTEMPTY || errno == EEXIST) && faccessat(rd, name,
	    F_OK, AT_SYMLINK_NOFOLLOW) == 0)) {
		fail(cause, "cannot retire %s/%s: %s", r->m.source_root,
		    r->m.source_path, strerror(errno));
		close(rd);
		close(parent);
		goto out;
	}
	close(rd);
	close(parent);
	crash_point("retire-renamed", 0);
	path = xasprintf("%s/%s/%s", r->m.source_root, RETIRED_DIR, name);
	rc = state_move_retired(r->st, r->m.id, path, now_unix(), cause);
	snprintf(r->res->retired, sizeof r->res->retired, "%s", path);
	free(path);
	if (rc == 0) {
		crash_point("after-retire", 0);
		rc = reload(r, cause);
	}
out:
	free(dir);
	return rc;
}

struct settle_log {
	struct run	*r;
	const char	*where;
};

static void
settle_report(void *arg, const char *from, const char *to)
{
	struct settle_log *l = arg;

	state_move_event(l->r->st, &l->r->m, "move.late-mail", "%s %s arrived "
	    "after the final pass; carried to the target as %s", l->where,
	    from, to);
}

/* Is the account still where this move put it, with no move open? Else
 * its old path may be in use again and the settle check stands aside. */
static int
still_at_target(struct run *r, char **why)
{
	struct state_account a;
	struct state_move m;
	int at;

	if (state_account_find(r->st, r->m.user, &a, NULL) != 0) {
		*why = xstrdup("the account is not in the catalog any more");
		return 0;
	}
	at = a.slice_id == r->m.target_slice && strcmp(a.path,
	    r->m.target_path) == 0;
	state_account_free(&a);
	if (!at) {
		*why = xstrdup("the account has moved again since");
		return 0;
	}
	if (state_move_find_open(r->st, r->m.user, &m, NULL) == 0) {
		*why = xasprintf("move %lld of the account is under way",
		    (long long)m.id);
		state_move_free(&m);
		return 0;
	}
	return 1;
}

/* Right after the switch: the names the target holds, which are the
 * names the final pass left (see settle.h). */
static void
snapshot(struct run *r)
{
	char name[600], file[700], *why = NULL;
	int rd;

	retired_name(&r->m, name, sizeof name);
	snprintf(file, sizeof file, "%s.names", name);
	if ((rd = open_retired(r, &why)) < 0 ||
	    settle_snapshot(r->dst, rd, file, &why) != 0) {
		state_move_event(r->st, &r->m, "move.snapshot", "%s; the "
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
settle(struct run *r, char **cause)
{
	struct settle_result a = { 0 }, b = { 0 };
	struct settle_log l = { .r = r };
	char name[600], snap[700], late[700], *summary, *marks = NULL;
	char *dir = NULL, *base, *away = NULL;
	int tree = -1, again = -1, dst = -1, rd = -1, rc = -1, parent = -1;

	retired_name(&r->m, name, sizeof name);
	snprintf(snap, sizeof snap, "%s.names", name);
	if ((rd = openat(r->sroot, RETIRED_DIR, DIR_FLAGS)) < 0 &&
	    errno != ENOENT)
		return fail(cause, "cannot open %s/%s: %s", r->m.source_root,
		    RETIRED_DIR, strerror(errno));
	if (rd >= 0 && (tree = openat(rd, name, DIR_FLAGS)) < 0 &&
	    errno != ENOENT && errno != ENOTDIR) {
		fail(cause, "cannot open the retired source %s/%s/%s: %s",
		    r->m.source_root, RETIRED_DIR, name, strerror(errno));
		goto out;
	}
	if (!still_at_target(r, &away)) {
		if (tree >= 0)
			marks = settle_marks(tree, NULL);
		summary = xasprintf("settle check skipped: %s; the retired "
		    "source is kept as it is", away);
		goto record;
	}
	if ((dst = open_below(r->droot, r->m.target_path, cause)) < 0)
		goto out;
	if (tree >= 0) {
		l.where = "retired source:";
		if (settle_tree(tree, r->m.settle_marks, rd, snap, dst,
		    geteuid() == 0, settle_report, &l, &a, cause) != 0)
			goto out;
	}
	if ((again = open_below(r->sroot, r->m.source_path, NULL)) >= 0) {
		/* Recreated after the switch: retire it first (nothing can
		 * land in it unseen then), and all of it is late. */
		close(again);
		again = -1;
		snprintf(late, sizeof late, "%s.late-%lld", name,
		    (long long)now_unix());
		if ((parent = open_source_parent(r, &dir, &base, cause)) < 0 ||
		    (rd < 0 && (rd = open_retired(r, cause)) < 0))
			goto out;
		if (renameat(parent, base, rd, late) != 0) {
			fail(cause, "cannot retire the recreated %s/%s: %s",
			    r->m.source_root, r->m.source_path,
			    strerror(errno));
			goto out;
		}
		state_move_event(r->st, &r->m, "move.late-mailbox", "%s/%s was "
		    "recreated after the switch (a late delivery); retired to "
		    "%s/%s/%s", r->m.source_root, r->m.source_path,
		    r->m.source_root, RETIRED_DIR, late);
		if ((again = openat(rd, late, DIR_FLAGS)) < 0) {
			fail(cause, "cannot open %s/%s/%s: %s",
			    r->m.source_root, RETIRED_DIR, late,
			    strerror(errno));
			goto out;
		}
		l.where = "recreated source:";
		if (settle_tree(again, NULL, -1, NULL, dst, geteuid() == 0,
		    settle_report, &l, &b, cause) != 0)
			goto out;
	}
	if (tree >= 0)
		marks = settle_marks(tree, NULL);
	summary = xasprintf("settle check (by %s): %llu late message(s) "
	    "carried to the target, %llu late change(s) to messages the "
	    "target already has left on the retired source%s", a.rule ?
	    a.rule : "nothing to look at", (unsigned long long)(a.carried +
	    b.carried), (unsigned long long)(a.on_target + b.on_target),
	    again >= 0 ? "; the old path had been recreated" : "");
record:
	rc = state_move_settled(r->st, r->m.id, now_unix(), marks, summary,
	    cause);
	free(summary);
	if (rc == 0) {
		r->res->settled = 1;
		r->res->carried = a.carried + b.carried;
		rc = reload(r, cause);
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
archive(struct run *r, char **cause)
{
	char name[600];
	int rd, rc;

	if (!r->cfg->archive_zstd || r->m.retired_path == NULL ||
	    strstr(r->m.retired_path, ".tar.zst") != NULL ||
	    r->m.purged_at != 0)
		return 0;
	retired_name(&r->m, name, sizeof name);
	if ((rd = open_below(r->sroot, RETIRED_DIR, cause)) < 0)
		return -1;
	rc = retire_archive(r, rd, name, cause);
	close(rd);
	if (rc == 0)
		r->res->archived = 1;
	return rc;
}

/*
 * Finish a move whose switch committed: retire the source, give late
 * deliveries the settle delay, look once more, then archive. A move not
 * yet due for its settle check stays done with the check pending (the
 * daemon comes back for it; a foreground move waits).
 */
static int
finish_done(struct run *r, char **cause)
{
	struct timespec one = { 1, 0 };
	int64_t due;

	if (retire(r, cause) != 0)
		return -1;
	if (r->m.settled_at == 0 && r->m.retired_path != NULL) {
		due = r->m.retired_at + (int64_t)r->cfg->settle;
		while (now_unix() < due) {
			if (!r->o->settle_wait ||
			    (r->o->stop != NULL && *r->o->stop)) {
				r->res->settle_pending = 1;
				return 0;
			}
			r->prog.phase = "settling";
			nanosleep(&one, NULL);
		}
		if (settle(r, cause) != 0)
			return -1;
		crash_point("after-settle", 0);
	}
	return archive(r, cause);
}

static int
run_steps(struct run *r, char **cause)
{
	struct sync_config sc = { .progress = on_progress, .hook = on_hook,
	    .arg = r };
	struct sync_stats stats;
	struct sync *s = NULL;
	struct stat like;
	char *dir, *base, slow[MS_PATH_MAX];
	int rc = -1, n, fd;

	if ((r->sroot = open_root(r->m.source_root, r->m.source, cause)) < 0 ||
	    (r->droot = open_root(r->m.target_root, r->m.target, cause)) < 0)
		return -1;
	if (strcmp(r->m.state, "done") == 0)
		return finish_done(r, cause);
	if (strcmp(r->m.state, "failed") == 0 ||
	    strcmp(r->m.state, "cancelled") == 0)
		return fail(cause, "move %lld is %s%s%s; queue a new one",
		    (long long)r->m.id, r->m.state, r->m.error ? ": " : "",
		    r->m.error ? r->m.error : "");
	if (strcmp(r->m.state, "cutover") == 0) {
		/* A run died during cutover without committing: undo. */
		if (state_move_unlock(r->st, r->m.id, "the cutover was "
		    "interrupted before the switch; retrying", cause) != 0 ||
		    reload(r, cause) != 0)
			return -1;
	}
	if ((r->src = open_below(r->sroot, r->m.source_path, cause)) < 0) {
		char *why = xasprintf("source mailbox %s/%s: %s",
		    r->m.source_root, r->m.source_path, *cause);

		free(*cause);
		*cause = NULL;
		rc = give_up(r, why, cause);
		free(why);
		return rc;
	}
	fd = open_source_parent(r, &dir, &base, NULL);
	free(dir);
	if (fd < 0 || fstat(fd, &like) != 0) {
		if (fd >= 0)
			close(fd);
		return fail(cause, "cannot read the directory above the source "
		    "mailbox %s/%s: %s", r->m.source_root, r->m.source_path,
		    strerror(errno));
	}
	close(fd);
	if ((r->dst = open_target(r->droot, r->m.target_path, &like,
	    &r->created, cause)) < 0)
		return -1;
	if (strcmp(r->m.state, "queued") == 0) {
		if (state_move_set_state(r->st, r->m.id, "queued", "copying",
		    cause) != 0 || reload(r, cause) != 0)
			return -1;
		state_move_event(r->st, &r->m, "move.copying", "bulk copy "
		    "started");
	}
	r->prog.bytes_total = r->m.bytes_total;
	r->prog.files_total = r->m.files_total;
	{
		uint64_t f = 0, b = 0;

		if (tree_measure(r->src, &f, &b, NULL) == 0) {
			r->prog.files_total = f;
			r->prog.bytes_total = b;
		}
	}
	sc.throttle = &r->thr;
	sc.preserve_owner = geteuid() == 0;
	/* Where passes read the source slice's clock (see sync.h). */
	sc.clock_dir = r->m.source_root;
	/* Copying is system time: one worker per processor, up to four. */
	sc.workers = r->o->workers > 0 ? r->o->workers :
	    (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (sc.workers > 4)
		sc.workers = 4;
	sc.stop = r->o->stop;
	sc.limits = r->o->limits;
	sc.latency = on_latency;
	/* Test hook: a delay on every file created on the target slice. */
	if (getenv("MAILSHIFT_TEST_HOOKS") != NULL) {
		snprintf(slow, sizeof slow, "%s/.mailshift-test-slow",
		    r->m.target_root);
		sc.slow_file = slow;
	}
	s = sync_new(r->src, r->dst, &sc);

	if (strcmp(r->m.state, "copying") == 0 ||
	    strcmp(r->m.state, "syncing") == 0) {
		for (n = 0; ; n++) {
			r->prog.phase = strcmp(r->m.state, "copying") == 0 ?
			    "copying" : "syncing";
			if (pass(r, s, n > 0, &stats, cause) != 0)
				goto out;
			if (strcmp(r->m.state, "copying") == 0) {
				if (state_move_set_state(r->st, r->m.id,
				    "copying", "syncing", cause) != 0 ||
				    reload(r, cause) != 0)
					goto out;
				continue;	/* at least one delta pass */
			}
			if (is_small(r, &stats) ||
			    (uint64_t)r->m.passes >= r->cfg->max_passes)
				break;
		}
		if (state_move_set_state(r->st, r->m.id, "syncing", "ready",
		    cause) != 0 || reload(r, cause) != 0)
			goto out;
		state_move_event(r->st, &r->m, "move.ready", "ready for "
		    "cutover after %lld passes", (long long)r->m.passes);
	}
	/* ready: cut over unless held; a held move gets one small delta
	 * pass per run so that its final pass stays short. */
	if (r->m.hold) {
		if (r->res->passes == 0 && pass(r, s, 1, &stats, cause) != 0)
			goto out;
		rc = 0;
		goto out;
	}
	while (r->m.complete_after > now_unix()) {
		struct timespec ts = { 1, 0 };
		int64_t wait = r->m.complete_after - now_unix();

		/* A small delta pass a minute keeps the final pass short. */
		if (wait % 60 == 0 && pass(r, s, 1, &stats, cause) != 0)
			goto out;
		nanosleep(&ts, NULL);
	}
	if (r->o->stop != NULL && *r->o->stop) {
		r->res->stopped = 1;
		rc = fail(cause, "move %lld stopped before its cutover",
		    (long long)r->m.id);
		goto out;
	}
	/* Resumed at ready: one unlocked pass first, so that the final pass
	 * under the lock only looks at what changed since (and presence
	 * sees the mailbox as it is now). */
	if (r->res->passes == 0 && pass(r, s, 0, &stats, cause) != 0)
		goto out;
	if (r->o->gate != NULL) {
		const char *why = NULL;

		if (!r->o->gate(r->o->gate_arg, r->st, &r->m, &why)) {
			snprintf(r->res->waiting, sizeof r->res->waiting,
			    "%s", why ? why : "not yet");
			rc = 0;
			goto out;
		}
	}
	if (cutover(r, s, cause) != 0 || reload(r, cause) != 0)
		goto out;
	rc = finish_done(r, cause);
out:
	sync_free(s);
	return rc;
}

int
move_run(struct state *st, int64_t id, const struct move_opts *o,
    struct move_result *res, char **cause)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof r);
	memset(res, 0, sizeof *res);
	res->id = id;
	res->lock_ms = -1;
	r.st = st;
	r.o = o;
	r.cfg = o->config;
	r.res = res;
	r.sroot = r.droot = r.src = r.dst = r.sparent = -1;
	throttle_init(&r.thr, o->bytes_per_second ? o->bytes_per_second :
	    r.cfg->bytes_per_second, o->files_per_second ?
	    o->files_per_second : r.cfg->files_per_second);
	if (state_move_claim(st, id, (int64_t)getpid(), cause) != 0)
		return -1;
	if (state_move_get(st, id, &r.m, cause) != 0) {
		state_move_release(st, id);
		return -1;
	}
	rc = run_steps(&r, cause);
	free(r.marks);
	res->throttle_wait = r.thr.waited;
	state_move_release(st, id);
	state_move_free(&r.m);
	if (state_move_get(st, id, &r.m, NULL) == 0) {
		snprintf(res->state, sizeof res->state, "%s", r.m.state);
		if (r.m.lock_ms >= 0)
			res->lock_ms = r.m.lock_ms;
		if (res->files == 0 && res->bytes == 0) {
			res->files = r.m.files_done;
			res->bytes = r.m.bytes_done;
		}
		state_move_free(&r.m);
	}
	if (r.src >= 0)
		close(r.src);
	if (r.dst >= 0)
		close(r.dst);
	if (r.sroot >= 0)
		close(r.sroot);
	if (r.droot >= 0)
		close(r.droot);
	return rc;
}

struct purge {
	int64_t	 cutoff;
	int64_t	*ids;
	char   **marks;		/* the retired tree at its settle check */
	char   **paths;
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

	if ((tree = openat(dir, name, DIR_FLAGS)) < 0)
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

int
move_purge(struct state *st, int64_t older_than, uint64_t *purged,
    char **cause)
{
	struct purge p = { .cutoff = now_unix() - older_than };
	char *dir, *base;
	size_t i;
	int fd, rc = 0;

	*purged = 0;
	if (state_move_list(st, "done", purge_cb, &p, cause) != 0)
		return -1;
	for (i = 0; i < p.n; i++) {
		/* Only ever inside a slice's retired directory. */
		dir = xstrdup(p.paths[i]);
		base = strrchr(dir, '/');
		if (rc == 0 && base != NULL && strstr(dir, "/" RETIRED_DIR) !=
		    NULL) {
			*base++ = '\0';
			if ((fd = open(dir, DIR_FLAGS)) >= 0) {
				if (late_since_settle(st, fd, base, p.ids[i],
				    p.marks[i])) {
					close(fd);
					free(dir);
					free(p.paths[i]);
					free(p.marks[i]);
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
			if (rc == 0)
				(*purged)++;
		}
		free(dir);
		free(p.paths[i]);
		free(p.marks[i]);
	}
	free(p.ids);
	free(p.marks);
	free(p.paths);
	return rc;
}
