/* Picking moves, running them on workers, the cutover gate: see
 * scheduler.h. */
#define _GNU_SOURCE
#include "migrator/scheduler.h"
#include "common/log.h"
#include "common/util.h"
#include "migrator/health.h"
#include "migrator/presence.h"
#include "migrator/throttle.h"
#include "state/state.h"
#include "state/move.h"
#include "state/queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void
sched_init(struct sched *s, struct state *st, const char *db,
    const struct config *cfg, struct health *health,
    struct presence *presence, int notify)
{
	memset(s, 0, sizeof *s);
	s->st = st;
	s->db = db;
	s->cfg = cfg;
	s->health = health;
	s->presence = presence;
	s->notify = notify;
	s->window[0] = cfg->bytes_per_second;
	s->window[1] = cfg->files_per_second;
}

/* Tell the loop that a thread ended (a full pipe wakes it already; the
 * tick reaps too). */
static void
notify(struct sched *s)
{
	char c = 'x';

	if (s->notify >= 0 && write(s->notify, &c, 1) < 0) {
		/* see above */
	}
}

/* A worker reports how long a file's metadata work took on a slice. */
static void
worker_latency(void *arg, int64_t slice, int side, double seconds)
{
	struct worker *w = arg;

	(void)side;
	if (w->s->health != NULL)
		health_sample(w->s->health, slice, seconds);
}

/* Sleep until t (monotonic) or until the worker is asked to stop. */
static void
worker_nap(struct worker *w, double t)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	while (monotonic_now() < t && !w->stop)
		nanosleep(&ts, NULL);
}

/*
 * A worker drives one move in steps on its own catalog connection: the
 * rates in force reach the handle (worker_limits), a stop reaches it at
 * once (worker_stop), the lock grace is waited out here, and a ready move
 * asks the gate again after its pass. A ready move the gate holds back
 * ends the worker, which frees its slot; the loop judges its gate from
 * then on and starts a worker again for the cutover, or for a delta pass
 * after ready_pass (sched_ready_judge).
 */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct move_opts mo = { .config = &w->cfg,
	    .latency = worker_latency, .latency_arg = w };
	struct state *st;
	struct move *mv = NULL;
	enum move_step e = MOVE_STEP_FAILED;

	if ((st = state_open(w->s->db, 0, &w->cause)) == NULL ||
	    (mv = move_open(st, w->id, &mo, &w->cause)) == NULL) {
		w->rc = -1;
		goto out;
	}
	pthread_mutex_lock(&w->mu);
	w->mv = mv;
	if (w->stop)
		move_stop(mv);
	move_set_limits(mv, w->limits[0], w->limits[1]);
	pthread_mutex_unlock(&w->mu);
	for (;;) {
		e = move_step(mv, SCHED_STEP_BUDGET, &w->cause);
		if (e == MOVE_STEP_MORE) {
			worker_nap(w, move_wake_at(mv));
			continue;
		}
		if (e != MOVE_STEP_READY)
			break;
		if (!sched_gate(&w->cfg, w->s->presence, st, move_info(mv),
		    now_unix(), w->why, sizeof w->why)) {
			snprintf(w->waiting, sizeof w->waiting, "%s", w->why);
			break;
		}
		move_allow_cutover(mv);
	}
	w->rc = e == MOVE_STEP_FAILED ? -1 : 0;
	w->res = *move_result(mv);
	pthread_mutex_lock(&w->mu);
	w->mv = NULL;
	pthread_mutex_unlock(&w->mu);
out:
	move_close(mv);
	if (st != NULL)
		state_close(st);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	notify(w->s);
	return NULL;
}

/* Ask a worker's move to stop at its next safe point (any thread). */
static void
worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	if (w->mv != NULL)
		move_stop(w->mv);
	pthread_mutex_unlock(&w->mu);
}

/* A worker's own copy of the configuration: the numbers and the hooks
 * (a reload frees the daemon's strings while moves run). */
static void
config_numbers(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->file = dst->catalog = dst->layout = dst->listen = NULL;
	dst->presence_command = dst->proc_root = NULL;
	dst->hook_on_health = dst->failover_fence = NULL;
	dst->failover_promote = dst->failover_after_hook = NULL;
	dst->hook_after_lock = src->hook_after_lock ?
	    xstrdup(src->hook_after_lock) : NULL;
	dst->hook_after_switch = src->hook_after_switch ?
	    xstrdup(src->hook_after_switch) : NULL;
}

static void
worker_free(struct worker *w)
{
	free(w->cfg.hook_after_lock);
	free(w->cfg.hook_after_switch);
	free(w->cause);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* Rates for a worker: the window's, or slow ones near a slow slice,
 * and never above the move's own (0 is no limit). */
static void
worker_limits(struct sched *s, struct worker *w)
{
	uint64_t out[2];
	int i;

	if (s->health != NULL)
		health_limits(s->health, w->source, w->target, s->window, out);
	else {
		out[0] = s->window[0];
		out[1] = s->window[1];
	}
	for (i = 0; i < 2; i++) {
		if (w->own[i] != 0 && (out[i] == 0 || out[i] > w->own[i]))
			out[i] = w->own[i];
	}
	pthread_mutex_lock(&w->mu);
	w->limits[0] = out[0];
	w->limits[1] = out[1];
	if (w->mv != NULL)
		move_set_limits(w->mv, out[0], out[1]);
	pthread_mutex_unlock(&w->mu);
}

static int
running(const struct sched *s, int64_t id)
{
	int i;

	for (i = 0; i < s->nw; i++) {
		if (s->w[i]->id == id)
			return 1;
	}
	return 0;
}

void
sched_cool_down(struct sched *s, int64_t id, int64_t until)
{
	size_t i;

	for (i = 0; i < s->ncool; i++) {
		if (s->cool[i].id == id) {
			s->cool[i].when = until;
			return;
		}
	}
	s->cool = xrealloc(s->cool, (s->ncool + 1) * sizeof *s->cool);
	s->cool[s->ncool].id = id;
	s->cool[s->ncool].when = until;
	s->ncool++;
}

static int
cooling(const struct sched *s, int64_t id, int64_t now)
{
	size_t i;

	for (i = 0; i < s->ncool; i++) {
		if (s->cool[i].id == id)
			return s->cool[i].when > now;
	}
	return 0;
}

/* One pick in progress. */
struct pick_ctx {
	struct sched		*s;
	int64_t			 now;
	int			 room;	/* moves that may still start */
	struct sched_pick	*p;
};

/* Moves in flight (running or picked this round) touching a slice. */
static int
load(const struct pick_ctx *c, int64_t slice, int as_source)
{
	int i, n = 0;

	for (i = 0; i < c->s->nw; i++)
		n += (as_source ? c->s->w[i]->source : c->s->w[i]->target) ==
		    slice;
	for (i = 0; i < c->p->n; i++)
		n += (as_source ? c->p->src[i] : c->p->dst[i]) == slice;
	return n;
}

/* Note why ready move id waits, for sched_run to log. */
static void
pick_wait(struct sched_pick *p, int64_t id, const char *why)
{
	p->wait = xrealloc(p->wait, (size_t)(p->nwait + 1) * sizeof *p->wait);
	p->why = xrealloc(p->why, (size_t)(p->nwait + 1) * sizeof *p->why);
	p->wait[p->nwait] = id;
	p->why[p->nwait] = xstrdup(why);
	p->nwait++;
}

static int
pick_cb(const struct state_runnable *r, void *arg)
{
	struct pick_ctx *c = arg;
	struct sched *s = c->s;
	struct sched_pick *p = c->p;
	int kind = SCHED_READY_RUN;
	char why[512];

	if (running(s, r->id) || cooling(s, r->id, c->now))
		return 0;
	if (r->state == MOVE_DONE) {
		/* Retirement and settle checks are not paused or cancelled. */
	} else if (r->paused == 2) {
		p->cancel = xrealloc(p->cancel, (size_t)(p->ncancel + 1) *
		    sizeof *p->cancel);
		p->cancel[p->ncancel++] = r->id;
		return 0;
	} else if (r->paused)
		return 0;
	if (r->state == MOVE_READY) {
		/* The gate is judged here, from the catalog, without a
		 * worker: a worker starts for the cutover once it is open,
		 * and for a delta pass every ready_pass while it is shut. */
		kind = sched_ready_judge(s, r, c->now, why, sizeof why);
		if (*why != '\0')
			pick_wait(p, r->id, why);
		if (kind == SCHED_READY_WAIT)
			return 0;
	}
	if (c->room <= 0)
		return 1;
	if (sched_slice_paused(s, r->source_slice) ||
	    sched_slice_paused(s, r->target_slice))
		return 0;
	if (load(c, r->source_slice, 1) >= (int)s->cfg->per_source ||
	    load(c, r->target_slice, 0) >= (int)s->cfg->per_target)
		return 0;
	p->start = xrealloc(p->start, (size_t)(p->n + 1) * sizeof *p->start);
	p->src = xrealloc(p->src, (size_t)(p->n + 1) * sizeof *p->src);
	p->dst = xrealloc(p->dst, (size_t)(p->n + 1) * sizeof *p->dst);
	p->kind = xrealloc(p->kind, (size_t)(p->n + 1) * sizeof *p->kind);
	if (r->state == MOVE_READY)	/* only once it really starts */
		sched_ready_seen(s, r->id)->when = c->now;
	p->start[p->n] = r->id;
	p->src[p->n] = r->source_slice;
	p->dst[p->n] = r->target_slice;
	p->kind[p->n] = kind;
	p->n++;
	c->room--;
	return 0;
}

int
sched_pick(struct sched *s, int64_t now, struct sched_pick *p,
    char **cause)
{
	struct pick_ctx c = { .s = s, .now = now, .p = p };

	memset(p, 0, sizeof *p);
	c.room = (int)s->cfg->max_moves - s->nw;
	if (c.room > SCHED_MAX_WORKERS - s->nw)
		c.room = SCHED_MAX_WORKERS - s->nw;
	if (state_queue_runnable(s->st, now, (int64_t)s->cfg->settle,
	    s->cfg->archive_zstd, pick_cb, &c, cause) != 0) {
		sched_pick_free(p);
		return -1;
	}
	return 0;
}

void
sched_pick_free(struct sched_pick *p)
{
	int i;

	free(p->start);
	free(p->src);
	free(p->dst);
	free(p->kind);
	free(p->cancel);
	for (i = 0; i < p->nwait; i++)
		free(p->why[i]);
	free(p->wait);
	free(p->why);
	memset(p, 0, sizeof *p);
}

static void
start_worker(struct sched *s, int64_t id, int64_t src, int64_t dst,
    int kind)
{
	struct worker *w = xcalloc(1, sizeof *w);
	struct state_move m;
	int rc, known;

	pthread_mutex_init(&w->mu, NULL);
	w->s = s;
	w->id = id;
	w->source = src;
	w->target = dst;
	w->kind = kind;
	config_numbers(&w->cfg, s->cfg);
	if ((known = state_move_get(s->st, id, &m, NULL) == 0)) {
		w->own[0] = m.bytes_per_second;
		w->own[1] = m.files_per_second;
	}
	worker_limits(s, w);
	if ((rc = pthread_create(&w->th, NULL, worker_main, w)) != 0) {
		errno = rc;
		log_warn("move %lld: cannot start a worker thread",
		    (long long)id);
		worker_free(w);
		if (known)
			state_move_free(&m);
		return;
	}
	s->w[s->nw++] = w;
	if (kind == SCHED_READY_PASS)
		/* The move waits: its periodic pass is no news. */
		log_debug("move %lld: delta pass while the cutover waits "
		    "(slice %lld -> %lld), %d in flight", (long long)id,
		    (long long)src, (long long)dst, s->nw);
	else if (known)
		log_info("move %lld: started (slice %lld -> %lld), %d in "
		    "flight: %s from %s to %s, %s%s", (long long)id,
		    (long long)src, (long long)dst, s->nw, m.user, m.source,
		    m.target, state_move_state_name(m.state),
		    kind == SCHED_READY_CUTOVER ? ", cutover allowed" : "");
	else
		log_info("move %lld: started (slice %lld -> %lld), %d in "
		    "flight", (long long)id, (long long)src, (long long)dst,
		    s->nw);
	if (known)
		state_move_free(&m);
	/* A wait after this cutover (abandoned, say) is news again. */
	if (kind == SCHED_READY_CUTOVER)
		sched_forget_waiting(s, id);
}

void
sched_run(struct sched *s, int64_t now)
{
	struct sched_pick p;
	char *cause = NULL;
	int i;

	s->last_run = now;
	if (s->stopping)
		return;
	if (sched_pick(s, now, &p, &cause) != 0) {
		log_warnx("cannot read the queue: %s", cause);
		free(cause);
		return;
	}
	for (i = 0; i < p.ncancel; i++) {
		if (state_move_fail(s->st, p.cancel[i], MOVE_CANCELLED,
		    "cancelled by the admin", &cause) == 0)
			log_info("move %lld: cancelled",
			    (long long)p.cancel[i]);
		else {
			log_warnx("move %lld: cannot cancel: %s",
			    (long long)p.cancel[i], cause);
			free(cause);
			cause = NULL;
		}
	}
	for (i = 0; i < p.nwait; i++)
		sched_log_waiting(s, p.wait[i], p.why[i]);
	s->nwaiting = p.nwait;
	for (i = 0; i < p.n; i++)
		start_worker(s, p.start[i], p.src[i], p.dst[i], p.kind[i]);
	/* Wake up again when the next retry falls due. */
	s->next_wake = state_queue_next_try(s->st, now);
	sched_pick_free(&p);
}

int64_t
sched_backoff(const struct config *cfg, int64_t attempts)
{
	int64_t delay = (int64_t)cfg->retry_base;
	int64_t i;

	for (i = 0; i < attempts && delay < 86400; i++)
		delay *= 4;
	return delay;
}

/* After a failure: try again later with back-off, or leave it failed. */
static void
retry_or_fail(struct sched *s, struct worker *w)
{
	struct state_move m;
	char *cause = NULL;
	int64_t delay, at;

	if (state_move_get(s->st, w->id, &m, NULL) != 0)
		return;
	if (m.state == MOVE_FAILED) {
		if ((uint64_t)m.attempts < s->cfg->max_retries) {
			delay = sched_backoff(s->cfg, m.attempts);
			at = now_unix() + delay;
			if (state_queue_retry(s->st, w->id, at, &cause) == 0) {
				if (s->next_wake == 0 || at < s->next_wake)
					s->next_wake = at;
				log_info("move %lld: retry %lld of %llu in "
				    "%lld s", (long long)w->id,
				    (long long)m.attempts + 1,
				    (unsigned long long)s->cfg->max_retries,
				    (long long)delay);
			} else {
				log_warnx("move %lld: cannot queue a retry: "
				    "%s", (long long)w->id, cause);
				free(cause);
			}
		} else
			log_warnx("move %lld: failed for good after %lld "
			    "attempts; 'mailshift moves resume %lld' tries "
			    "again", (long long)w->id, (long long)m.attempts,
			    (long long)w->id);
	}
	state_move_free(&m);
}

/*
 * After an abandoned cutover (lock_timeout, a failing after_lock hook, a
 * final pass or check that failed): the account is unlocked and the move
 * open again, with the attempt counted. Cut over again after the same
 * back-off as a failed move; after max_retries it fails with its last
 * reason, the copy kept, until 'moves resume'.
 */
static void
defer_or_fail(struct sched *s, struct worker *w)
{
	struct state_move m;
	char *cause = NULL, *why, when[32];
	int64_t delay, at;

	if (state_move_get(s->st, w->id, &m, NULL) != 0)
		return;
	if (!state_move_state_open(m.state) || m.state == MOVE_CUTOVER) {
		state_move_free(&m);
		return;
	}
	if ((uint64_t)m.attempts <= s->cfg->max_retries) {
		delay = sched_backoff(s->cfg, m.attempts > 0 ?
		    m.attempts - 1 : 0);
		at = now_unix() + delay;
		sched_cool_down(s, w->id, at);
		if (state_queue_defer(s->st, w->id, at, &cause) == 0) {
			if (s->next_wake == 0 || at < s->next_wake)
				s->next_wake = at;
			log_info("move %lld: cutover abandoned (%lld of %llu "
			    "retries), tried again in %lld s",
			    (long long)w->id, (long long)m.attempts,
			    (unsigned long long)s->cfg->max_retries,
			    (long long)delay);
			state_move_event(s->st, &m, "move.retry", "cutover "
			    "abandoned (%lld of %llu retries): no cutover "
			    "before %s ('mailshift moves resume %lld': now)",
			    (long long)m.attempts,
			    (unsigned long long)s->cfg->max_retries,
			    time_format(at, when, sizeof when),
			    (long long)w->id);
		} else {
			log_warnx("move %lld: cannot put off the next "
			    "cutover: %s", (long long)w->id, cause);
			free(cause);
		}
		state_move_free(&m);
		return;
	}
	why = xasprintf("%s; cutover abandoned %lld times, the copy is kept: "
	    "'mailshift moves resume %lld' tries again", m.error ? m.error :
	    "cutover abandoned", (long long)m.attempts, (long long)w->id);
	if (state_move_fail(s->st, w->id, MOVE_FAILED, why, &cause) == 0)
		log_warnx("move %lld: failed for good after %lld abandoned "
		    "cutovers; 'mailshift moves resume %lld' tries again",
		    (long long)w->id, (long long)m.attempts, (long long)w->id);
	else {
		log_warnx("move %lld: cannot fail it: %s", (long long)w->id,
		    cause);
		free(cause);
	}
	free(why);
	state_move_free(&m);
}

/* Log what became of a move whose worker ended. */
static void
worker_ended(struct sched *s, struct worker *w)
{
	const struct move_result *r = &w->res;
	const char *see = r->carried ? " (see 'mailshift moves show')" : "";

	s->bytes += r->bytes_copied;
	s->files += r->files_copied;
	if (w->rc == 0 && r->archived && !r->settled && r->passes == 0)
		log_info("move %lld: done, retired source archived to %s",
		    (long long)w->id, r->retired);
	else if (w->rc == 0 && r->settled && r->passes == 0)
		log_info("move %lld: done, settle check of the retired "
		    "source: %llu late message(s) carried to the target%s",
		    (long long)w->id, (unsigned long long)r->carried, see);
	else if (w->rc == 0 && *w->waiting) {
		/* Its pass is the last one: the next after ready_pass. A
		 * cutover worker that found the gate shut after all does not
		 * start again at once. */
		struct sched_seen *seen = sched_ready_seen(s, w->id);

		seen->when = now_unix();
		if (w->kind == SCHED_READY_CUTOVER)
			seen->refused = seen->when;
		sched_log_waiting(s, w->id, w->waiting);
		log_debug("move %lld: delta pass done, %llu files copied; "
		    "the cutover waits", (long long)w->id,
		    (unsigned long long)r->files_copied);
	}
	else if (w->rc == 0 && r->lock_ms >= 0)
		log_info("move %lld: %s after %d passes, %llu files copied, "
		    "lock %lld ms", (long long)w->id,
		    state_move_state_name(r->state), r->passes,
		    (unsigned long long)r->files_copied,
		    (long long)r->lock_ms);
	else if (w->rc == 0)
		log_info("move %lld: %s after %d passes, %llu files copied",
		    (long long)w->id, state_move_state_name(r->state),
		    r->passes,
		    (unsigned long long)r->files_copied);
	else if (r->stopped)
		log_info("move %lld: stopped at a safe point",
		    (long long)w->id);
	else {
		log_warnx("move %lld: %s", (long long)w->id, w->cause ?
		    w->cause : "failed");
		/* Whatever happened, not again at once. */
		sched_cool_down(s, w->id, now_unix() +
		    (int64_t)s->cfg->retry_base);
		if (r->abandoned)
			defer_or_fail(s, w);
		else
			retry_or_fail(s, w);
	}
	if (w->rc == 0 && r->settled && r->passes > 0)
		log_info("move %lld: settle check of the retired source: %llu "
		    "late message(s) carried to the target%s",
		    (long long)w->id, (unsigned long long)r->carried, see);
}

static void *
purge_main(void *arg)
{
	struct purge_job *j = arg;
	struct state *st;

	if ((st = state_open(j->s->db, 0, &j->cause)) == NULL)
		j->rc = -1;
	else {
		j->rc = move_purge(st, j->keep, &j->purged, &j->cause);
		state_close(st);
	}
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	notify(j->s);
	return NULL;
}

int
sched_purge(struct sched *s)
{
	struct purge_job *j;
	int rc;

	if (s->purge != NULL || s->stopping)
		return -1;
	j = xcalloc(1, sizeof *j);
	j->s = s;
	j->keep = (int64_t)s->cfg->retention_keep;
	if ((rc = pthread_create(&j->th, NULL, purge_main, j)) != 0) {
		errno = rc;
		log_warn("purge: cannot start a thread");
		free(j);
		return -1;
	}
	s->purge = j;
	return 0;
}

static void
purge_reap(struct sched *s)
{
	struct purge_job *j = s->purge;

	if (j == NULL || !__atomic_load_n(&j->done, __ATOMIC_ACQUIRE))
		return;
	pthread_join(j->th, NULL);
	if (j->rc != 0)
		log_warnx("purge: %s", j->cause ? j->cause : "failed");
	else if (j->purged > 0)
		log_info("purged %llu retired sources past retention",
		    (unsigned long long)j->purged);
	else
		log_debug("purge: no retired source past retention");
	free(j->cause);
	free(j);
	s->purge = NULL;
}

void
sched_reap(struct sched *s)
{
	struct worker *w;
	int i, j;

	purge_reap(s);
	for (i = 0; i < s->nw; ) {
		w = s->w[i];
		if (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
			i++;
			continue;
		}
		pthread_join(w->th, NULL);
		worker_ended(s, w);
		worker_free(w);
		for (j = i; j < s->nw - 1; j++)
			s->w[j] = s->w[j + 1];
		s->nw--;
	}
}

void
sched_check_paused(struct sched *s)
{
	struct state_move m;
	int i;

	for (i = 0; i < s->nw; i++) {
		if (s->w[i]->stop)
			continue;
		if (state_move_get(s->st, s->w[i]->id, &m, NULL) != 0)
			continue;
		if (m.paused) {
			worker_stop(s->w[i]);
			log_info("move %lld: %s requested, stopping it",
			    (long long)m.id, m.paused == 1 ? "pause" :
			    "cancel");
		}
		state_move_free(&m);
	}
}

void
sched_apply_health(struct sched *s)
{
	struct worker *w;
	int i;

	for (i = 0; i < s->nw; i++) {
		w = s->w[i];
		worker_limits(s, w);
		if (sched_slice_paused(s, w->source) || sched_slice_paused(s, w->target))
			worker_stop(w);
	}
}

void
sched_stop(struct sched *s)
{
	int i;

	s->stopping = 1;
	for (i = 0; i < s->nw; i++)
		worker_stop(s->w[i]);
}

int
sched_busy(const struct sched *s)
{
	return s->nw + (s->purge != NULL);
}

int
sched_free(struct sched *s)
{
	int i, left = 0;
	size_t k;

	free(s->failing);
	s->failing = NULL;
	s->nfailing = 0;

	for (i = 0; i < s->nw; i++) {
		if (!__atomic_load_n(&s->w[i]->done, __ATOMIC_ACQUIRE)) {
			log_warnx("move %lld: did not stop in time; exiting "
			    "without waiting for it (it resumes at the next "
			    "start)", (long long)s->w[i]->id);
			left++;
		}
	}
	if (s->purge != NULL &&
	    !__atomic_load_n(&s->purge->done, __ATOMIC_ACQUIRE)) {
		log_warnx("purge: still running; exiting without waiting "
		    "for it");
		left++;
	}
	if (left > 0)
		return -1;
	for (i = 0; i < s->nw; i++) {
		pthread_join(s->w[i]->th, NULL);
		worker_free(s->w[i]);
	}
	s->nw = 0;
	if (s->purge != NULL) {
		pthread_join(s->purge->th, NULL);
		free(s->purge->cause);
		free(s->purge);
		s->purge = NULL;
	}
	free(s->ready);
	free(s->cool);
	for (k = 0; k < s->nwaits; k++)
		free(s->waits[k]);
	free(s->waits);
	s->ready = s->cool = NULL;
	s->waits = NULL;
	s->nready = s->ncool = s->nwaits = 0;
	return 0;
}
