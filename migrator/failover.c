/* Failover of a slice in timed steps: see failover.h. */
#define _GNU_SOURCE
#include "migrator/failover.h"
#include "common/command.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "state/failover.h"
#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 50		/* quiesce: how often moves are looked at */

/* Seconds of CLOCK_MONOTONIC. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
ms_since(double t0)
{
	return (mono() - t0) * 1000;
}

/* Start step name; returns it. */
static struct failover_step *
step_open(struct failover_result *r, const char *name)
{
	struct failover_step *s = &r->steps[r->nsteps++];

	memset(s, 0, sizeof *s);
	s->name = name;
	return s;
}

/* Run hook which (command) for f; 0 when it exited 0, else -1 with
 * *why. */
static int
run_hook(struct state *st, const struct failover_req *q,
    const struct state_failover *f, const char *which, const char *command,
    char **why)
{
	const char *args[5] = { f->slice, f->from, f->to, f->path, NULL };
	struct command_result res;
	char *env[10], *cause = NULL, *what;
	int i, rc = -1;

	env[0] = xasprintf("MAILSHIFT_HOOK=%s", which);
	env[1] = xasprintf("MAILSHIFT_SLICE=%s", f->slice);
	env[2] = xasprintf("MAILSHIFT_OLD_SERVER=%s", f->from);
	env[3] = xasprintf("MAILSHIFT_NEW_SERVER=%s", f->to);
	env[4] = xasprintf("MAILSHIFT_OLD_ADDRESS=%s", f->from_address);
	env[5] = xasprintf("MAILSHIFT_NEW_ADDRESS=%s", f->to_address);
	env[6] = xasprintf("MAILSHIFT_SLICE_PATH=%s", f->path);
	env[7] = xasprintf("MAILSHIFT_CATALOG=%s", state_path(st));
	env[8] = xasprintf("MAILSHIFT_FAILOVER=%s", q->automatic ?
	    "automatic" : "manual");
	env[9] = NULL;
	if (command_run_args(command, args, (const char *const *)env,
	    (double)q->cfg->failover_timeout, 4096, &res, &cause) != 0) {
		*why = xasprintf("%s hook '%s': %s", which, command, cause);
		free(cause);
		goto out;
	}
	what = command_describe(&res);
	if (res.status == 0)
		rc = 0;
	else
		*why = xasprintf("%s hook '%s' %s", which, command, what);
	free(what);
	command_result_free(&res);
out:
	for (i = 0; i < 9; i++)
		free(env[i]);
	return rc;
}

/* Wait until no running move touches the slice; 0, or -1 with *why. */
static int
quiesce(struct state *st, const struct failover_req *q,
    const struct state_failover *f, char **why)
{
	double until = mono() + (double)q->cfg->failover_quiesce;
	struct timespec ts = { 0, POLL_MS * 1000000L };
	int64_t one;
	int n;

	for (;;) {
		if (state_failover_busy_moves(st, f->slice_id, &n, &one,
		    why) != 0)
			return -1;
		if (n == 0)
			return 0;
		if (mono() >= until)
			break;
		nanosleep(&ts, NULL);
	}
	*why = xasprintf("move %lld (and %d in all) still runs on slice %s "
	    "after [failover] quiesce (%llus): the daemon pauses its moves at "
	    "their next safe point; a move run by 'mailshift move --wait' or "
	    "'moves run' does not: stop it, or raise quiesce", (long long)one,
	    n, f->slice, (unsigned long long)q->cfg->failover_quiesce);
	return -1;
}

/* Fail the failover at step s: clear the mark, say why. */
static int
stop(struct state *st, const struct state_failover *f, const char *owner,
    struct failover_step *s, double t0, char *why, char **cause)
{
	s->ms = ms_since(t0);
	s->ran = 1;
	s->detail = xstrdup(why);
	state_failover_abort(st, f->slice_id, owner, why, NULL);
	*cause = xasprintf("failover of slice %s stopped at %s, nothing "
	    "switched (%s still serves it): %s", f->slice, s->name, f->from,
	    why);
	free(why);
	return -1;
}

int
failover_run(struct state *st, const struct failover_req *q,
    struct failover_result *r, char **cause)
{
	const struct config *cfg = q->cfg;
	struct state_failover f;
	struct failover_step *s;
	double start = mono(), t0;
	char *owner = NULL, *why = NULL, *msg;
	int64_t now = now_unix();
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (state_failover_get(st, q->slice, q->to, &f, cause) != 0)
		return -1;
	r->slice = xstrdup(f.slice);
	r->from = xstrdup(f.from);
	r->to = xstrdup(f.to);
	if (f.to_id == f.from_id) {
		if (q->follow) {
			r->total_ms = ms_since(start);
			state_failover_free(&f);
			return 0;
		}
		fail(cause, "slice %s is served by %s already; name the "
		    "other server of pair %s, or leave --to out", f.slice,
		    f.to, f.pair);
		goto out;
	}
	if (q->automatic && f.failed_over != 0 &&
	    now - f.failed_over < (int64_t)cfg->failover_hold_down) {
		fail(cause, "slice %s failed over %llds ago, within [failover] "
		    "hold_down (%llus): not again", f.slice,
		    (long long)(now - f.failed_over),
		    (unsigned long long)cfg->failover_hold_down);
		goto out;
	}
	msg = xasprintf("served by %s (was %s)%s", f.to, f.from, q->follow ?
	    ", as the cluster manager decided" : q->automatic ?
	    ", failed over by the daemon" : "");
	if (q->follow) {
		s = step_open(r, "switch");
		t0 = mono();
		rc = state_failover_switch(st, f.slice_id, f.from_id, f.to_id,
		    NULL, now, msg, &r->bumped, cause);
		s->ms = ms_since(t0);
		s->ran = 1;
		free(msg);
		r->changed = rc == 0;
		goto out;
	}
	if (cfg->failover_fence == NULL && !q->old_is_down) {
		free(msg);
		fail(cause, "no [failover] fence hook: the old server %s may "
		    "still write to slice %s; set a fence hook, or say "
		    "--old-is-down when it is known to be down", f.from,
		    f.slice);
		goto out;
	}

	owner = state_failover_owner(q->pid);
	s = step_open(r, "mark");
	t0 = mono();
	if (state_failover_begin(st, &f, owner, now, cause) != 0) {
		free(msg);
		goto out;
	}
	s->ms = ms_since(t0);
	s->ran = 1;

	s = step_open(r, "quiesce");
	t0 = mono();
	if (quiesce(st, q, &f, &why) != 0) {
		free(msg);
		rc = stop(st, &f, owner, s, t0, why, cause);
		goto out;
	}
	s->ms = ms_since(t0);
	s->ran = 1;

	s = step_open(r, "fence");
	t0 = mono();
	if (q->old_is_down) {
		s->detail = xasprintf("skipped: %s is down, says the admin",
		    f.from);
	} else {
		state_failover_step(st, f.slice_id, owner, "fence", "fencing "
		    "the old server", NULL);
		if (run_hook(st, q, &f, "fence", cfg->failover_fence,
		    &why) != 0) {
			free(msg);
			rc = stop(st, &f, owner, s, t0, why, cause);
			goto out;
		}
		s->ran = 1;
	}
	s->ms = ms_since(t0);

	s = step_open(r, "promote");
	t0 = mono();
	if (cfg->failover_promote != NULL) {
		state_failover_step(st, f.slice_id, owner, "promote",
		    "promoting the new server", NULL);
		if (run_hook(st, q, &f, "promote", cfg->failover_promote,
		    &why) != 0) {
			free(msg);
			rc = stop(st, &f, owner, s, t0, why, cause);
			goto out;
		}
		s->ran = 1;
	} else
		s->detail = xstrdup("skipped: no [failover] promote hook");
	s->ms = ms_since(t0);

	s = step_open(r, "switch");
	t0 = mono();
	if (state_failover_switch(st, f.slice_id, f.from_id, f.to_id, owner,
	    now_unix(), msg, &r->bumped, &why) != 0) {
		free(msg);
		rc = stop(st, &f, owner, s, t0, why, cause);
		goto out;
	}
	free(msg);
	s->ms = ms_since(t0);
	s->ran = 1;
	r->changed = 1;

	s = step_open(r, "after");
	t0 = mono();
	if (cfg->failover_after_hook != NULL) {
		if (run_hook(st, q, &f, "after_failover",
		    cfg->failover_after_hook, &why) != 0) {
			r->warning = xasprintf("slice %s is served by %s, but "
			    "%s", f.slice, f.to, why);
			state_event(st, "slice.failover.hook-failed", NULL,
			    f.slice, "%s", r->warning);
			s->detail = why;
		}
		s->ran = 1;
	} else
		s->detail = xstrdup("skipped: no [failover] after_failover "
		    "hook");
	s->ms = ms_since(t0);
	rc = 0;
out:
	r->total_ms = ms_since(start);
	if (rc == 0 && r->changed)
		state_event(st, "slice.failover.done", NULL, f.slice, "slice %s:"
		    " failover %s -> %s in %.0f ms", f.slice, f.from, f.to,
		    r->total_ms);
	free(owner);
	state_failover_free(&f);
	return rc;
}

void
failover_result_free(struct failover_result *r)
{
	int i;

	for (i = 0; i < r->nsteps; i++)
		free(r->steps[i].detail);
	free(r->slice);
	free(r->from);
	free(r->to);
	free(r->warning);
	memset(r, 0, sizeof *r);
}
