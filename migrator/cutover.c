/*
 * The cutover of a move, the only time its user is locked out (DESIGN.md
 * section 3, step 4): lock the account in the catalog, let the lock grace
 * pass (the caller waits; see move_wake_at), run the after_lock hook,
 * make a final delta pass, make the target durable, verify, and switch
 * the account in one catalog transaction. Any failure before the switch
 * unlocks the account on the source; nothing is lost and the move is
 * retried later.
 */
#define _GNU_SOURCE
#include "migrator/move_int.h"
#include "common/command.h"
#include "common/config.h"
#include "common/util.h"
#include "migrator/maildir.h"
#include "migrator/quiet.h"
#include "migrator/settle.h"
#include "migrator/sync.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Run the [hooks] command `which` for the move's user: 0 when it exited
 * 0 (or there is none), else -1 with *why. Every run is an event. */
static int
cutover_hook(struct move *mv, const char *which, const char *command,
    char **why)
{
	struct command_result res;
	char *env[7], *cause = NULL, *what;
	int i, rc = -1;

	if (command == NULL)
		return 0;
	env[0] = xasprintf("MAILSHIFT_HOOK=%s", which);
	env[1] = xasprintf("MAILSHIFT_USER=%s", mv->m.user);
	env[2] = xasprintf("MAILSHIFT_MOVE=%lld", (long long)mv->m.id);
	env[3] = xasprintf("MAILSHIFT_SOURCE=%s/%s", mv->m.source_root,
	    mv->m.source_path);
	env[4] = xasprintf("MAILSHIFT_TARGET=%s/%s", mv->m.target_root,
	    mv->m.target_path);
	env[5] = xasprintf("MAILSHIFT_CATALOG=%s", state_path(mv->st));
	env[6] = NULL;
	if (command_run(command, mv->m.user, (const char *const *)env,
	    (double)mv->cfg->hook_timeout, 4096, &res, &cause) != 0) {
		*why = xasprintf("%s hook '%s': %s", which, command, cause);
		free(cause);
		goto out;
	}
	what = command_describe(&res);
	if (res.status == 0) {
		state_move_event(mv->st, &mv->m, "move.hook", "%s hook '%s' "
		    "exited 0 in %.0f ms", which, command, res.seconds * 1000);
		rc = 0;
	} else {
		*why = xasprintf("%s hook '%s' %s", which, command, what);
		state_move_event(mv->st, &mv->m, "move.hook-failed", "%s",
		    *why);
	}
	free(what);
	command_result_free(&res);
out:
	for (i = 0; i < 6; i++)
		free(env[i]);
	return rc;
}

/* Make the target durable: syncfs, or fsync of every file and directory. */
static int
make_durable(struct move *mv, char **cause)
{
	if (mv->cfg->durability_fsync) {
		if (tree_fsync(mv->dst, cause) != 0)
			return -1;
	} else if (syncfs(mv->dst) != 0)
		return fail(cause, "syncfs on slice '%s': %s", mv->m.target,
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
audit(struct move *mv)
{
	uint64_t files, bytes;
	char *why = NULL;

	if (sync_verify(mv->src, mv->dst, 0, geteuid() == 0, &files, &bytes,
	    &why) == 0)
		state_move_event(mv->st, &mv->m, "move.audit", "full listing "
		    "after the switch: %llu files, %llu bytes identical",
		    (unsigned long long)files, (unsigned long long)bytes);
	else {
		state_move_event(mv->st, &mv->m, "move.audit", "full listing "
		    "after the switch differs: %s (new mail on the target "
		    "since the switch shows here too); the retired source is "
		    "kept for the retention period", why);
		free(why);
	}
}

/*
 * After the switch: the account's activity as its new home shows it, so
 * that it does not wait for the next discover of that slice (an account
 * imported, never discovered, has none until then): the messages that
 * arrived in the last ACTIVITY_DAYS, counted as discover counts them.
 * The messages the delta passes saw arrive during the move go to its
 * events. Best effort: the move is done either way.
 */
static void
activity(struct move *mv)
{
	int64_t now = now_unix();
	char *why = NULL;

	if (maildir_activity(mv->dst, now - (int64_t)ACTIVITY_DAYS * 86400,
	    &mv->res.added_files, &mv->res.added_bytes, &why) != 0 ||
	    state_account_set_activity(mv->st, mv->m.account_id,
	    mv->res.added_files, mv->res.added_bytes, now, &why) != 0) {
		state_move_event(mv->st, &mv->m, "move.activity", "the "
		    "account's activity was not counted on the target (%s); "
		    "the next discover of slice '%s' counts it", why,
		    mv->m.target);
		free(why);
		return;
	}
	state_move_event(mv->st, &mv->m, "move.activity", "%llu messages "
	    "(%llu bytes) arrived during the move after the bulk copy; the "
	    "new home holds %llu (%llu bytes) that arrived in the last %d "
	    "days: the account's activity now",
	    (unsigned long long)mv->res.files_arrived,
	    (unsigned long long)mv->res.bytes_arrived,
	    (unsigned long long)mv->res.added_files,
	    (unsigned long long)mv->res.added_bytes, ACTIVITY_DAYS);
}

int
cutover_lock(struct move *mv, char **cause)
{
	/* Write back what the passes copied before locking, so that the
	 * locked flush only has the final pass to write. */
	if (syncfs(mv->dst) != 0)
		return fail(cause, "syncfs on slice '%s': %s", mv->m.target,
		    strerror(errno));
	mv->lock_t0 = move_now_ms();
	if (state_move_lock(mv->st, mv->m.id, mv->lock_t0, mv->lock_t0 / 1000 +
	    1 + (int64_t)mv->cfg->lock_timeout, cause) != 0)
		return -1;
	mv->m.state = MOVE_CUTOVER;
	/* No throttle while the user is locked out. */
	mv->thr.bytes_rate = mv->thr.files_rate = 0;
	sync_unthrottle(mv->sync);
	move_crash_point("after-lock", 0);
	mv->prog.phase = "cutover";
	return 0;
}

int
cutover_abandon(struct move *mv, const char *msg, char **cause)
{
	char *why = NULL;

	mv->phase = PHASE_RUN;
	mv->res.abandoned = 1;
	if (state_move_unlock(mv->st, mv->m.id, msg, &why) != 0) {
		fail(cause, "cutover of '%s' abandoned: %s; the account could "
		    "not be unlocked (%s): its lock expires by itself within "
		    "lock_timeout (%llu s); run the move again to clean up",
		    mv->m.user, msg, why, (unsigned long long)
		    mv->cfg->lock_timeout);
		free(why);
		return -1;
	}
	move_reload(mv, NULL);
	fail(cause, "cutover of '%s' abandoned: %s; the account is unlocked "
	    "on the source and the copy is kept: run the move again to "
	    "retry", mv->m.user, msg);
	return -1;
}

/* Test hook: the switch commits, and its answer is then lost, as when a
 * catalog server goes away between committing and answering. */
static int
answer_lost(void)
{
	const char *env = getenv("MAILSHIFT_FAULT");

	return env != NULL && strcmp(env, "switch-answer-lost") == 0;
}

/*
 * The switch's commit failed. When its answer was lost (a catalog server
 * gone mid-commit) it may have been made all the same: the catalog, read
 * again once it answers, says which; nothing is guessed. It is asked for
 * up to five seconds. True when the move is done there (*cause is then
 * cleared). When the catalog never answers, the cutover is abandoned:
 * its unlock changes nothing of a move that did commit (it only unlocks
 * a move still in cutover), and the move resumes from the catalog.
 */
static int
switch_committed(struct move *mv, char **cause)
{
	struct state_move m;
	int done, tries;

	for (tries = 0; state_move_get(mv->st, mv->m.id, &m, NULL) != 0;
	    tries++) {
		if (tries == 4)
			return 0;
		sleep(1);
	}
	done = m.state == MOVE_DONE;
	state_move_free(&m);
	if (done) {
		state_event(mv->st, "move.commit-resolved", mv->m.user, NULL,
		    "move %lld: the switch's commit was answered by an error "
		    "(%s), but the catalog shows it committed",
		    (long long)mv->m.id, *cause);
		free(*cause);
		*cause = NULL;
	}
	return done;
}

int
cutover_finish(struct move *mv, char **cause)
{
	struct sync_stats stats;
	struct quiet_result q;
	int64_t elapsed;
	char *why = NULL, *msg;
	int enospc = 0, rc;
	uint64_t files, bytes;

	/* Ends the user's open sessions (doveadm kick). It runs after the
	 * grace: deliveries in flight have finished, and an access server's
	 * auth cache (at most the grace) can no longer let anyone in. If it
	 * fails, a session could still write to the source: the cutover
	 * waits for a later try. */
	if (cutover_hook(mv, "after_lock", mv->cfg->hook_after_lock, &why) !=
	    0) {
		msg = xasprintf("%s; the cutover is retried later", why);
		goto abandon;
	}
	if ((elapsed = move_now_ms() - mv->lock_t0) >
	    (int64_t)mv->cfg->lock_timeout * 1000) {
		why = NULL;
		msg = xasprintf("the lock lasted %lld ms, over lock_timeout "
		    "(%llu s)", (long long)elapsed,
		    (unsigned long long)mv->cfg->lock_timeout);
		goto abandon;
	}
	/* Deliveries that passed their recipient check before the lock and
	 * the sessions the hook ended may still be writing: the final pass
	 * starts once the source has been still for [move] quiet, so each
	 * such write is either finished on the source and carried, or
	 * refused; never both. A file in tmp/ modified since lock_timeout
	 * before the lock is a delivery in flight. */
	if (quiet_wait(mv->src, (double)mv->cfg->quiet_ms / 1000,
	    (time_t)(mv->lock_t0 / 1000 - (int64_t)mv->cfg->lock_timeout),
	    monotonic_now() + (double)mv->cfg->lock_timeout -
	    (double)(move_now_ms() - mv->lock_t0) / 1000, &mv->stop, &q,
	    &why) != 0) {
		if (mv->stop)
			mv->res.stopped = 1;
		msg = xasprintf("%s; the cutover is retried later", why);
		goto abandon;
	}
	mv->res.quiet_ms = (int64_t)(q.waited * 1000);
	state_move_event(mv->st, &mv->m, "move.quiet", "the source was quiet "
	    "after %.0f ms under the lock (%d looks, %d changes seen)",
	    q.waited * 1000, q.looks, q.changes);
	/* Where the source stood before the final pass: what the settle
	 * check compares the retired source with. */
	free(mv->marks);
	if ((mv->marks = settle_marks(mv->src, &why)) == NULL) {
		msg = xasprintf("reading the source: %s", why);
		goto abandon;
	}
	mv->prog.pass = (int)mv->m.passes + 1;
	mv->pass_start = monotonic_now();
	if (sync_pass(mv->sync, 1, &stats, &enospc, &why) != 0) {
		msg = xasprintf("final pass: %s", why);
		goto abandon;
	}
	mv->m.passes++;
	mv->res.passes++;
	mv->res.files_copied += stats.files_copied;
	mv->res.bytes_copied += stats.bytes_copied;
	mv->res.files_arrived += stats.files_arrived;
	mv->res.bytes_arrived += stats.bytes_arrived;
	move_crash_point("after-final-pass", 0);
	if (make_durable(mv, &why) != 0) {
		msg = xasprintf("durability: %s", why);
		goto abandon;
	}
	move_crash_point("after-sync", 0);
	/* Under the lock: what could have changed, or everything with
	 * contents when asked; the full listing follows the switch. */
	if ((mv->o.verify_content || mv->cfg->verify_content ?
	    sync_verify(mv->src, mv->dst, 1, geteuid() == 0, &files, &bytes,
	    &why) : sync_verify_changed(mv->sync, geteuid() == 0, &files,
	    &bytes, &why)) != 0) {
		msg = xasprintf("%s", why);
		goto abandon;
	}
	move_crash_point("after-verify", 0);
	elapsed = move_now_ms() - mv->lock_t0;
	if (elapsed > (int64_t)mv->cfg->lock_timeout * 1000) {
		why = NULL;
		msg = xasprintf("the lock lasted %lld ms, over lock_timeout "
		    "(%llu s)", (long long)elapsed,
		    (unsigned long long)mv->cfg->lock_timeout);
		goto abandon;
	}
	if (state_move_progress(mv->st, mv->m.id, bytes, files, bytes, files,
	    mv->m.passes, mv->m.copy_ms + (int64_t)(mv->res.copy_seconds *
	    1000), cause) != 0)
		goto abandon_cause;
	elapsed = move_now_ms() - mv->lock_t0;
	rc = state_move_commit(mv->st, mv->m.id, elapsed, mv->marks, cause);
	if (rc == 0 && answer_lost()) {
		rc = -1;
		*cause = xstrdup("the connection to the catalog was lost "
		    "while committing (MAILSHIFT_FAULT=switch-answer-lost)");
	}
	if (rc != 0 && !switch_committed(mv, cause))
		goto abandon_cause;
	mv->res.lock_ms = elapsed;
	mv->res.files = files;
	mv->res.bytes = bytes;
	move_crash_point("after-commit", 0);
	retire_snapshot(mv);
	/* The switch is done whatever this hook says. */
	if (cutover_hook(mv, "after_switch", mv->cfg->hook_after_switch,
	    &why) != 0)
		free(why);
	audit(mv);
	activity(mv);
	return move_reload(mv, cause);

abandon_cause:
	msg = xstrdup(*cause);
	free(*cause);
	*cause = NULL;
abandon:
	free(why);
	rc = cutover_abandon(mv, msg, cause);
	free(msg);
	return rc;
}
