/* Automatic failover of slices the health watch finds dead: autofail.h. */
#define _GNU_SOURCE
#include "migrator/autofail.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "migrator/failover.h"
#include "migrator/health.h"
#include "migrator/watch.h"
#include "state/state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SLICES 4096		/* health_list's view at a tick */

/* One slice's automatic failovers. */
struct aslice {
	int64_t	 id;
	double	 attempt;	/* monotonic time of the last, 0 never */
	int	 running;
};

/* One failover on its thread; the loop reads it once done. */
struct job {
	struct autofail	*a;
	int64_t		 slice;
	char		*name;
	struct config	 cfg;		/* [failover] only, owned */
	int		 done;		/* under a->mu */
	int		 ok;
	char		*message;	/* what happened */
	struct job	*next;
};

struct autofail {
	char		*db;
	struct config	 cfg;		/* [failover] only, owned */
	struct aslice	*s;
	size_t		 n;
	pthread_mutex_t	 mu;		/* jobs, counts */
	struct job	*jobs;
	int		 running;
	uint64_t	 done;
	uint64_t	 failed;
};

static void
fcfg_free(struct config *c)
{
	free(c->failover_fence);
	free(c->failover_promote);
	free(c->failover_after_hook);
	memset(c, 0, sizeof *c);
}

/* Copy of the [failover] settings alone (failover_run reads no more). */
static void
fcfg_copy(struct config *dst, const struct config *src)
{
	memset(dst, 0, sizeof *dst);
	dst->failover_fence = src->failover_fence ?
	    xstrdup(src->failover_fence) : NULL;
	dst->failover_promote = src->failover_promote ?
	    xstrdup(src->failover_promote) : NULL;
	dst->failover_after_hook = src->failover_after_hook ?
	    xstrdup(src->failover_after_hook) : NULL;
	dst->failover_auto = src->failover_auto;
	dst->failover_after = src->failover_after;
	dst->failover_hold_down = src->failover_hold_down;
	dst->failover_quiesce = src->failover_quiesce;
	dst->failover_timeout = src->failover_timeout;
}

struct autofail *
autofail_new(const char *db, const struct config *cfg)
{
	struct autofail *a = xcalloc(1, sizeof *a);

	a->db = xstrdup(db);
	pthread_mutex_init(&a->mu, NULL);
	fcfg_copy(&a->cfg, cfg);
	return a;
}

void
autofail_reload(struct autofail *a, const struct config *cfg)
{
	fcfg_free(&a->cfg);
	fcfg_copy(&a->cfg, cfg);
}

static struct aslice *
aslice_of(struct autofail *a, int64_t id)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (a->s[i].id == id)
			return &a->s[i];
	}
	a->s = xrealloc(a->s, (a->n + 1) * sizeof *a->s);
	memset(&a->s[a->n], 0, sizeof *a->s);
	a->s[a->n].id = id;
	return &a->s[a->n++];
}

static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct failover_result r;
	struct failover_req q;
	struct state *st;
	char *cause = NULL;

	memset(&q, 0, sizeof q);
	q.slice = j->name;
	q.automatic = 1;
	q.cfg = &j->cfg;
	q.pid = (long)getpid();
	if ((st = state_open(j->a->db, 0, &cause)) == NULL) {
		j->message = xasprintf("cannot open the catalog: %s", cause);
		free(cause);
	} else if (failover_run(st, &q, &r, &cause) != 0) {
		j->message = cause;
		failover_result_free(&r);
	} else {
		j->ok = 1;
		j->message = xasprintf("served by %s (was %s) in %.0f ms, %lld "
		    "accounts one generation on%s%s", r.to, r.from,
		    r.total_ms, (long long)r.bumped, r.warning ? "; " : "",
		    r.warning ? r.warning : "");
		failover_result_free(&r);
	}
	if (st != NULL)
		state_close(st);
	pthread_mutex_lock(&j->a->mu);
	j->done = 1;
	pthread_mutex_unlock(&j->a->mu);
	return NULL;
}

/* Start a failover of slice on a thread. */
static void
start(struct autofail *a, struct aslice *s, const char *name,
    const char *why, double now)
{
	pthread_attr_t attr;
	pthread_t th;
	struct job *j = xcalloc(1, sizeof *j);

	j->a = a;
	j->slice = s->id;
	j->name = xstrdup(name);
	fcfg_copy(&j->cfg, &a->cfg);
	s->attempt = now;
	s->running = 1;
	log_warnx("slice %s: %s; failing it over to the other server of its "
	    "pair ([failover] auto)", name, why);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&a->mu);
	j->next = a->jobs;
	a->jobs = j;
	a->running++;
	pthread_mutex_unlock(&a->mu);
	if (pthread_create(&th, &attr, job_main, j) != 0) {
		pthread_mutex_lock(&a->mu);
		j->done = 1;
		j->message = xstrdup("cannot start a thread");
		pthread_mutex_unlock(&a->mu);
	}
	pthread_attr_destroy(&attr);
}

static void
job_free(struct job *j)
{
	free(j->name);
	free(j->message);
	fcfg_free(&j->cfg);
	free(j);
}

/* Report the jobs that ended, and free them. */
static void
reap(struct autofail *a, struct health *h, struct watch *w,
    struct state *st)
{
	struct job **pp, *j;

	pthread_mutex_lock(&a->mu);
	for (pp = &a->jobs; (j = *pp) != NULL;) {
		if (!j->done) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		a->running--;
		if (j->ok)
			a->done++;
		else
			a->failed++;
		pthread_mutex_unlock(&a->mu);
		aslice_of(a, j->slice)->running = 0;
		if (j->ok) {
			log_warnx("slice %s: failed over: %s", j->name,
			    j->message);
			/* The new server's view is judged afresh. */
			health_forget(h, j->slice);
			health_watch(h, j->slice);
		} else
			log_warnx("slice %s: automatic failover stopped: %s; "
			    "not again before [failover] hold_down", j->name,
			    j->message);
		watch_tell(w, st, j->slice, j->ok ? "failover" :
		    "failover-failed", j->message);
		job_free(j);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
}

void
autofail_tick(struct autofail *a, struct health *h, struct watch *w,
    struct state *st, double now)
{
	struct health_slice *v;
	struct aslice *s;
	const char *name;
	double quiet, after = (double)a->cfg.failover_after;
	char why[160];
	int i, n;

	reap(a, h, w, st);
	if (a->cfg.failover_auto == 0 || h == NULL)
		return;
	v = xcalloc(MAX_SLICES, sizeof *v);
	n = health_list(h, v, MAX_SLICES);
	for (i = 0; i < n; i++) {
		if (v[i].state == HEALTH_OK || (v[i].state ==
		    HEALTH_DEGRADED && a->cfg.failover_auto != 2))
			continue;
		/* Unresponsive: since the last probe back in time (or the
		 * change, without one); degraded: since the change. */
		quiet = v[i].state == HEALTH_UNRESPONSIVE && v[i].last_ok > 0 ?
		    now - v[i].last_ok : now - v[i].since;
		if (quiet < after)
			continue;
		s = aslice_of(a, v[i].slice);
		if (s->running || (s->attempt > 0 && now - s->attempt <
		    (double)a->cfg.failover_hold_down))
			continue;
		if ((name = watch_slice_name(w, v[i].slice)) == NULL)
			continue;
		snprintf(why, sizeof why, "%s, no probe back for %.1fs",
		    health_name(v[i].state), quiet);
		start(a, s, name, why, now);
	}
	free(v);
}

void
autofail_counts(struct autofail *a, uint64_t *done, uint64_t *failed)
{
	pthread_mutex_lock(&a->mu);
	*done = a->done;
	*failed = a->failed;
	pthread_mutex_unlock(&a->mu);
}

void
autofail_free(struct autofail *a)
{
	int running;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	running = a->running;
	pthread_mutex_unlock(&a->mu);
	fcfg_free(&a->cfg);
	free(a->s);
	a->s = NULL;
	a->n = 0;
	/* A failover still running keeps the struct: the process ends. */
	if (running == 0) {
		while (a->jobs != NULL) {
			struct job *j = a->jobs;

			a->jobs = j->next;
			job_free(j);
		}
		pthread_mutex_destroy(&a->mu);
		free(a->db);
		free(a);
	}
}
