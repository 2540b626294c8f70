/* The copier daemon: see daemon.h. */
#define _GNU_SOURCE
#include "migrator/daemon.h"
#include "common/command.h"
#include "common/config.h"
#include "common/json.h"
#include "migrator/move.h"
#include "state/state.h"
#include "migrator/throttle.h"
#include "common/util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define MAX_SLICES 256		/* slices whose health is watched */
#define SAMPLES 512		/* latency samples kept per slice */
#define SLOW_FACTOR 5.0		/* recent median over baseline: slow */
#define OK_FACTOR 2.0		/* back under this: recovered */
#define FLOOR 0.005		/* latencies under 5 ms are never "slow" */
#define SLOW_BYTES (1 << 20)	/* rates of moves touching a slow slice */
#define SLOW_FILES 20

static void logmsg(const char *, ...) __attribute__((format(printf, 1, 2)));

enum health_state { HEALTH_OK, HEALTH_SLOW, HEALTH_PAUSED };

/*
 * The latency a slice showed the copier, and what was made of it: the
 * samples of the current second, then one median per second for ten
 * minutes, so that the judgement does not depend on the copy rate.
 */
#define SECONDS 600
#define HEARTBEAT 5		/* seconds between status writes */
#define RESCHEDULE 5		/* seconds between scheduling rounds */

struct health {
	int64_t		 slice;
	double		 v[SAMPLES];	/* this second's samples */
	int		 n;
	double		 st[SECONDS];	/* when, monotonic seconds */
	double		 sv[SECONDS];	/* that second's median */
	int		 sn;
	int		 shead;
	enum health_state state;
	double		 since;		/* monotonic time of the last change */
	double		 baseline;	/* median before it got slow */
	double		 recent;	/* median of the last window */
};

struct daemon;

/* One move running on its own thread with its own catalog connection. */
struct worker {
	struct daemon		*d;
	char			 why[512];	/* the gate's last answer */
	char			 waiting[512];	/* why a ready move waits */
	pthread_t		 th;
	int64_t			 id;
	int64_t			 source;
	int64_t			 target;
	volatile int		 stop;
	pthread_mutex_t		 mu;		/* mv below */
	struct move		*mv;		/* while the thread steps it */
	int			 done;		/* set by the thread */
	int			 rc;
	char			*cause;
	struct move_result	 res;
	struct config		 cfg;		/* the numbers in force */
	volatile uint64_t	 limits[2];	/* window and health rates */
};

/* When a ready move was last looked at, and whether it was held. */
struct ready_seen {
	int64_t	 id;
	int64_t	 when;
	int	 held;		/* -1 not seen yet */
};

struct daemon {
	struct event_base	*base;
	struct event		*tick;
	struct event		*notify;
	struct event		*sig[3];
	struct evhttp		*http;
	struct state		*st;
	char			*db;
	char			*config_file;
	int			 required;
	struct config		 cfg;
	struct worker		*w[MAX_WORKERS];
	int			 nw;
	int			 pipe[2];
	int			 lockfd;
	int			 stopping;
	int64_t			 data_version;
	int64_t			 started;
	int64_t			 last_schedule;
	int64_t			 last_heartbeat;
	int64_t			 last_purge;
	int64_t			 next_wake;	/* a retry falls due, 0 = none */
	uint64_t		 bytes;		/* copied since start */
	uint64_t		 files;
	struct ready_seen	*ready;
	size_t			 nready;
	volatile uint64_t	 limits[2];	/* window rates, bytes/files */
	const char		*window;	/* name of the window in force */
	pthread_mutex_t		 mu;		/* presence below */
	char		       **online;	/* users the command lists */
	size_t			 nonline;
	int			 command_ok;	/* the last run worked */
	int			 command_running;
	int64_t			 command_last;
	char			 command_error[256];
	char		       **waits;		/* "id reason" last logged */
	size_t			 nwaits;
	struct ready_seen	*cool;		/* id: not before `when` */
	size_t			 ncool;
	dev_t			 db_dev;	/* the catalog file we opened */
	ino_t			 db_ino;
	pthread_mutex_t		 hmu;		/* health below */
	struct health		 health[MAX_SLICES];
	int			 nhealth;
};

static void worker_stop(struct worker *);

/* The health record of a slice (created on first use), hmu held. */
static struct health *
health_of(struct daemon *d, int64_t slice)
{
	int i;

	for (i = 0; i < d->nhealth; i++) {
		if (d->health[i].slice == slice)
			return &d->health[i];
	}
	if (d->nhealth == MAX_SLICES)
		return NULL;
	memset(&d->health[d->nhealth], 0, sizeof d->health[0]);
	d->health[d->nhealth].slice = slice;
	return &d->health[d->nhealth++];
}

/* A worker reports how long a file's metadata work took on a slice. */
static void
on_latency(void *arg, int64_t slice, int side, double seconds)
{
	struct worker *w = arg;
	struct daemon *d = w->d;
	struct health *h;

	(void)side;
	pthread_mutex_lock(&d->hmu);
	if ((h = health_of(d, slice)) != NULL && h->n < SAMPLES)
		h->v[h->n++] = seconds;
	pthread_mutex_unlock(&d->hmu);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

/* Median of the per-second medians after (or before) time t; -1 if too
 * few of them. */
static double
median_since(const struct health *h, double t, int after, int need)
{
	double v[SECONDS];
	int i, n = 0;

	for (i = 0; i < h->sn; i++) {
		if ((h->st[i] >= t) == after)
			v[n++] = h->sv[i];
	}
	return n < need ? -1 : median(v, n);
}

static const char *
health_name(enum health_state s)
{
	return s == HEALTH_OK ? "ok" : s == HEALTH_SLOW ? "slow" : "paused";
}

/* Is this slice paused for its health? hmu not held. */
static int
slice_paused(struct daemon *d, int64_t slice)
{
	int i, paused = 0;

	pthread_mutex_lock(&d->hmu);
	for (i = 0; i < d->nhealth; i++) {
		if (d->health[i].slice == slice)
			paused = d->health[i].state == HEALTH_PAUSED;
	}
	pthread_mutex_unlock(&d->hmu);
	return paused;
}

/*
 * Judge every slice's latency against its own baseline: five times the
 * baseline for a window slows its moves down, for another window pauses
 * them; after a window of pause the moves try again (to measure), and
 * under twice the baseline the slice is healthy again.
 */
static void
health_check(struct daemon *d)
{
	double now = monotonic_now(), win = (double)d->cfg.health_window;
	struct health *h;
	int i, j, changed;

	pthread_mutex_lock(&d->hmu);
	for (i = 0; i < d->nhealth; i++) {
		h = &d->health[i];
		if (h->n > 0) {
			h->st[h->shead] = now;
			h->sv[h->shead] = median(h->v, h->n);
			h->shead = (h->shead + 1) % SECONDS;
			if (h->sn < SECONDS)
				h->sn++;
			h->n = 0;
		}
		h->recent = median_since(h, now - win, 1, 2);
		changed = 0;
		switch (h->state) {
		case HEALTH_OK:
			h->baseline = median_since(h, now - win, 0, 3);
			if (h->baseline > 0 && h->recent > FLOOR &&
			    h->recent > SLOW_FACTOR * h->baseline) {
				h->state = HEALTH_SLOW;
				changed = 1;
			}
			break;
		case HEALTH_SLOW:
			/* No samples for a window: nothing runs there to
			 * judge, or to protect. */
			if (now - h->since >= win && (h->recent < 0 ||
			    h->recent < OK_FACTOR * h->baseline ||
			    h->recent < FLOOR)) {
				h->state = HEALTH_OK;
				changed = 1;
			} else if (h->recent > FLOOR && h->recent >
			    SLOW_FACTOR * h->baseline && now - h->since >= win) {
				h->state = HEALTH_PAUSED;
				changed = 1;
			}
			break;
		case HEALTH_PAUSED:
			/* Try again, to see whether it got better. */
			if (now - h->since >= win) {
				h->state = HEALTH_SLOW;
				h->sn = h->shead = 0;
				changed = 1;
			}
			break;
		}
		if (!changed)
			continue;
		h->since = now;
		if (h->recent < 0)
			logmsg("slice %lld: %s (no latency measured in the last "
			    "%.0f s)", (long long)h->slice, h->state ==
			    HEALTH_OK ? "recovered" : "moves try again",
			    win);
		else
			logmsg("slice %lld: %s (latency %.2f ms, baseline "
			    "%.2f ms)", (long long)h->slice, h->state ==
			    HEALTH_OK ? "recovered" : h->state == HEALTH_SLOW ?
			    "degraded, its moves slow down" : "degraded, its "
			    "moves pause", h->recent * 1000, h->baseline *
			    1000);
		if (h->state == HEALTH_PAUSED) {
			for (j = 0; j < d->nw; j++) {
				if (d->w[j]->source == h->slice ||
				    d->w[j]->target == h->slice)
					worker_stop(d->w[j]);
			}
		}
	}
	pthread_mutex_unlock(&d->hmu);
}

/* Rates for a worker: the window's, or slow ones near a slow slice. */
static void
worker_limits(struct daemon *d, struct worker *w)
{
	uint64_t b = d->limits[0], f = d->limits[1];
	int i, slow = 0;

	pthread_mutex_lock(&d->hmu);
	for (i = 0; i < d->nhealth; i++) {
		if ((d->health[i].slice == w->source ||
		    d->health[i].slice == w->target) &&
		    d->health[i].state != HEALTH_OK)
			slow = 1;
	}
	pthread_mutex_unlock(&d->hmu);
	if (slow) {
		b = b == 0 || b > SLOW_BYTES ? SLOW_BYTES : b;
		f = f == 0 || f > SLOW_FILES ? SLOW_FILES : f;
	}
	w->limits[0] = b;
	w->limits[1] = f;
	pthread_mutex_lock(&w->mu);
	if (w->mv != NULL)
		move_set_limits(w->mv, b, f);
	pthread_mutex_unlock(&w->mu);
}

/* Ask a worker's move to stop at its next safe point. */
static void
worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	if (w->mv != NULL)
		move_stop(w->mv);
	pthread_mutex_unlock(&w->mu);
}

static int
user_listed(struct daemon *d, const char *user)
{
	size_t i;

	for (i = 0; i < d->nonline; i++) {
		if (strcmp(d->online[i], user) == 0)
			return 1;
	}
	return 0;
}

/*
 * May a ready move cut over now? Only inside a window that allows
 * cutovers (or outside every window), and when every presence source
 * says the user is offline and has been idle long enough.
 */
static int
gate(void *arg, struct state *st, const struct state_move *m,
    const char **why)
{
	struct worker *w = arg;
	struct daemon *d = w->d;
	const struct config_window *win;
	struct state_account a;
	int64_t now = now_unix(), idle = (int64_t)w->cfg.presence_idle;
	int ok = 1;

	win = config_window_at(&w->cfg, now);
	if (win != NULL && !win->cutover) {
		snprintf(w->why, sizeof w->why, "window '%s' allows no "
		    "cutovers", win->name);
		ok = 0;
	}
	if (ok && (w->cfg.presence_sources & PRESENCE_CATALOG) &&
	    state_account_get(st, m->user, &a, NULL) == 0) {
		if (a.online) {
			snprintf(w->why, sizeof w->why, "the user is online "
			    "(catalog)");
			ok = 0;
		} else if (now - a.last_activity < idle) {
			snprintf(w->why, sizeof w->why, "the user was active "
			    "%llds ago (catalog; idle is %llds)",
			    (long long)(now - a.last_activity),
			    (long long)idle);
			ok = 0;
		}
		state_account_free(&a);
	}
	if (ok && (w->cfg.presence_sources & PRESENCE_COMMAND)) {
		pthread_mutex_lock(&d->mu);
		if (!d->command_ok) {
			snprintf(w->why, sizeof w->why, "the presence command "
			    "gave no answer yet%s%s", *d->command_error ?
			    ": " : "", d->command_error);
			ok = 0;
		} else if (user_listed(d, m->user)) {
			snprintf(w->why, sizeof w->why, "the user is online "
			    "(presence command)");
			ok = 0;
		}
		pthread_mutex_unlock(&d->mu);
	}
	if (ok && (w->cfg.presence_sources & PRESENCE_MAILBOX) &&
	    m->last_change != 0 && now - m->last_change < idle) {
		snprintf(w->why, sizeof w->why, "the mailbox changed %llds ago "
		    "(idle is %llds)", (long long)(now - m->last_change),
		    (long long)idle);
		ok = 0;
	}
	*why = w->why;
	return ok;
}

/* One log line: time, then the message (stderr; systemd keeps it). */
/* Where log lines go: stderr (for systemd's journal or a file), or
 * syslog, facility mail. */
static int log_syslog;

static void
log_to(int syslog_on)
{
	if (syslog_on && !log_syslog)
		openlog("mailshift", LOG_PID | LOG_NDELAY, LOG_MAIL);
	else if (!syslog_on && log_syslog)
		closelog();
	log_syslog = syslog_on;
}

static void
logmsg(const char *fmt, ...)
{
	char when[32];
	va_list ap;

	if (log_syslog) {
		va_start(ap, fmt);
		vsyslog(LOG_INFO, fmt, ap);
		va_end(ap);
		return;
	}
	time_format(now_unix(), when, sizeof when);
	fprintf(stderr, "%s mailshift[%ld]: ", when, (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Files a step copies before the worker looks at its rates and its
 * stop flag again (the step ends after the folder it is in). */
#define STEP_BUDGET	2000

/* Sleep until t (monotonic) or until the worker is asked to stop. */
static void
worker_nap(struct worker *w, double t)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	while (monotonic_now() < t && !w->stop)
		nanosleep(&ts, NULL);
}

/*
 * A worker drives one move in steps on its own catalog connection: it
 * applies the rates in force before each step, waits out the lock grace,
 * and asks the gate when the move is ready. A ready move the gate holds
 * back ends the worker (the slot is freed); the scheduler comes back.
 */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct move_opts mo = { .config = &w->cfg, .latency = on_latency,
	    .latency_arg = w };
	const struct state_move *m;
	struct state *st;
	struct move *mv = NULL;
	enum move_step e = MOVE_STEP_FAILED;
	const char *why;
	char c = 'x';

	if ((st = state_open(w->d->db, 0, &w->cause)) == NULL ||
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
		e = move_step(mv, STEP_BUDGET, &w->cause);
		if (e == MOVE_STEP_MORE) {
			worker_nap(w, move_wake_at(mv));
			continue;
		}
		if (e != MOVE_STEP_READY)
			break;
		m = move_info(mv);
		/* Held, or not before its complete-after time: a delta pass
		 * every ready_pass keeps the final pass short. */
		if (m->hold || m->complete_after > now_unix())
			break;
		why = NULL;
		if (!gate(w, st, m, &why)) {
			snprintf(w->waiting, sizeof w->waiting, "%s",
			    why ? why : "not yet");
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
	if (write(w->d->pipe[1], &c, 1) < 0) {
		/* A full pipe already wakes the loop; the tick reaps too. */
	}
	return NULL;
}

/* A worker's own copy of the configuration: the numbers and the hooks
 * (a reload frees the daemon's strings while moves run). */
static void
config_numbers(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->file = dst->catalog = dst->layout = dst->listen = NULL;
	dst->presence_command = NULL;
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

struct pick {
	struct daemon	*d;
	int64_t		 now;
	int64_t		*start;
	int64_t		*src;
	int64_t		*dst;
	int		 n;
	int		 room;
	int64_t		*cancel;
	int		 ncancel;
};

static int
running(struct daemon *d, int64_t id)
{
	int i;

	for (i = 0; i < d->nw; i++) {
		if (d->w[i]->id == id)
			return 1;
	}
	return 0;
}

/* Moves in flight (running or picked this round) touching a slice. */
static int
load(struct pick *p, int64_t slice, int as_source)
{
	int i, n = 0;

	for (i = 0; i < p->d->nw; i++)
		n += (as_source ? p->d->w[i]->source : p->d->w[i]->target) ==
		    slice;
	for (i = 0; i < p->n; i++)
		n += (as_source ? p->src[i] : p->dst[i]) == slice;
	return n;
}

static int64_t *
ready_when(struct daemon *d, int64_t id)
{
	size_t i;

	for (i = 0; i < d->nready; i++) {
		if (d->ready[i].id == id)
			return &d->ready[i].when;
	}
	d->ready = xrealloc(d->ready, (d->nready + 1) * sizeof *d->ready);
	d->ready[d->nready].id = id;
	d->ready[d->nready].when = 0;
	d->ready[d->nready].held = -1;
	return &d->ready[d->nready++].when;
}

/* Whether a ready move was held when last seen (-1 never seen). */
static int
held_before(struct daemon *d, int64_t id)
{
	size_t i;

	for (i = 0; i < d->nready; i++) {
		if (d->ready[i].id == id)
			return d->ready[i].held;
	}
	return -1;
}

static void
set_held(struct daemon *d, int64_t id, int held)
{
	size_t i;

	for (i = 0; i < d->nready; i++) {
		if (d->ready[i].id == id)
			d->ready[i].held = held;
	}
}

/* Do not start move id again before `until` (it just failed to run). */
static void
cool_down(struct daemon *d, int64_t id, int64_t until)
{
	size_t i;

	for (i = 0; i < d->ncool; i++) {
		if (d->cool[i].id == id) {
			d->cool[i].when = until;
			return;
		}
	}
	d->cool = xrealloc(d->cool, (d->ncool + 1) * sizeof *d->cool);
	d->cool[d->ncool].id = id;
	d->cool[d->ncool].when = until;
	d->ncool++;
}

static int
cooling(struct daemon *d, int64_t id, int64_t now)
{
	size_t i;

	for (i = 0; i < d->ncool; i++) {
		if (d->cool[i].id == id)
			return d->cool[i].when > now;
	}
	return 0;
}

static int
pick_cb(const struct state_runnable *r, void *arg)
{
	struct pick *p = arg;
	struct daemon *d = p->d;
	int64_t *when;

	if (running(d, r->id) || cooling(d, r->id, p->now))
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
	when = NULL;
	if (r->state == MOVE_READY) {
		/* Held: a delta pass every ready_pass, whatever else changes
		 * in the catalog (a release is seen at once: the hold flag
		 * changed). Waiting for presence or a window: a fresh look
		 * every few seconds, and at once when the catalog changed. */
		int held = r->hold || r->complete_after > p->now;

		when = ready_when(d, r->id);
		if (held_before(d, r->id) != held)
			*when = 0;
		set_held(d, r->id, held);
		if (p->now - *when < (held ? (int64_t)d->cfg.ready_pass : 5))
			return 0;
	}
	if (p->room <= 0)
		return 1;
	if (slice_paused(d, r->source_slice) ||
	    slice_paused(d, r->target_slice))
		return 0;
	if (load(p, r->source_slice, 1) >= (int)d->cfg.per_source ||
	    load(p, r->target_slice, 0) >= (int)d->cfg.per_target)
		return 0;
	p->start = xrealloc(p->start, (size_t)(p->n + 1) * sizeof *p->start);
	p->src = xrealloc(p->src, (size_t)(p->n + 1) * sizeof *p->src);
	p->dst = xrealloc(p->dst, (size_t)(p->n + 1) * sizeof *p->dst);
	if (when != NULL)
		*when = p->now;		/* only once it really starts */
	p->start[p->n] = r->id;
	p->src[p->n] = r->source_slice;
	p->dst[p->n] = r->target_slice;
	p->n++;
	p->room--;
	return 0;
}

static void
start_worker(struct daemon *d, int64_t id, int64_t src, int64_t dst)
{
	struct worker *w = xcalloc(1, sizeof *w);

	pthread_mutex_init(&w->mu, NULL);
	w->d = d;
	w->id = id;
	w->source = src;
	w->target = dst;
	config_numbers(&w->cfg, &d->cfg);
	worker_limits(d, w);
	if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
		logmsg("move %lld: cannot start a worker thread: %s",
		    (long long)id, strerror(errno));
		worker_free(w);
		return;
	}
	d->w[d->nw++] = w;
	{
		struct state_move m;

		if (state_move_get(d->st, id, &m, NULL) == 0) {
			logmsg("move %lld: started (slice %lld -> %lld), %d in "
			    "flight: %s from %s to %s, %s", (long long)id,
			    (long long)src, (long long)dst, d->nw, m.user,
			    m.source, m.target, state_move_state_name(m.state));
			state_move_free(&m);
		} else
			logmsg("move %lld: started (slice %lld -> %lld), %d in "
			    "flight", (long long)id, (long long)src,
			    (long long)dst, d->nw);
	}
}

/* Start what may start; cancel what was asked to be cancelled. */
static void
schedule(struct daemon *d)
{
	struct pick p = { .d = d, .now = now_unix() };
	char *cause = NULL;
	int i;

	d->last_schedule = p.now;
	if (d->stopping)
		return;
	p.room = (int)d->cfg.max_moves - d->nw;
	if (p.room > MAX_WORKERS - d->nw)
		p.room = MAX_WORKERS - d->nw;
	if (state_move_runnable(d->st, p.now, (int64_t)d->cfg.settle,
	    d->cfg.archive_zstd, pick_cb, &p, &cause) != 0) {
		logmsg("cannot read the queue: %s", cause);
		free(cause);
		return;
	}
	for (i = 0; i < p.ncancel; i++) {
		if (state_move_fail(d->st, p.cancel[i], MOVE_CANCELLED,
		    "cancelled by the admin", &cause) == 0)
			logmsg("move %lld: cancelled", (long long)p.cancel[i]);
		else {
			logmsg("move %lld: cannot cancel: %s",
			    (long long)p.cancel[i], cause);
			free(cause);
			cause = NULL;
		}
	}
	for (i = 0; i < p.n; i++)
		start_worker(d, p.start[i], p.src[i], p.dst[i]);
	/* Wake up again when the next retry falls due. */
	d->next_wake = state_move_next_try(d->st, p.now);
	free(p.start);
	free(p.src);
	free(p.dst);
	free(p.cancel);
}

/* After a failure: try again later with back-off, or leave it failed. */
static void
retry_or_fail(struct daemon *d, struct worker *w)
{
	struct state_move m;
	char *cause = NULL;
	int64_t delay;
	int i;

	if (state_move_get(d->st, w->id, &m, NULL) != 0)
		return;
	if (m.state == MOVE_FAILED) {
		if ((uint64_t)m.attempts < d->cfg.max_retries) {
			delay = (int64_t)d->cfg.retry_base;
			for (i = 0; i < m.attempts && delay < 86400; i++)
				delay *= 4;
			if (state_move_retry(d->st, w->id, now_unix() + delay,
			    &cause) == 0 && (d->next_wake == 0 ||
			    now_unix() + delay < d->next_wake))
				d->next_wake = now_unix() + delay;
			if (cause == NULL)
				logmsg("move %lld: retry %lld of %llu in %lld "
				    "s", (long long)w->id,
				    (long long)m.attempts + 1,
				    (unsigned long long)d->cfg.max_retries,
				    (long long)delay);
			else {
				logmsg("move %lld: cannot queue a retry: %s",
				    (long long)w->id, cause);
				free(cause);
			}
		} else
			logmsg("move %lld: failed for good after %lld "
			    "attempts; 'mailshift moves resume %lld' tries "
			    "again", (long long)w->id, (long long)m.attempts,
			    (long long)w->id);
	}
	state_move_free(&m);
}

/* Log why a ready move waits, when the reason is new. */
static void
log_waiting(struct daemon *d, int64_t id, const char *why)
{
	char *line = xasprintf("%lld %s", (long long)id, why);
	size_t i, n = strlen(line) - strlen(why);

	for (i = 0; i < d->nwaits; i++) {
		if (strncmp(d->waits[i], line, n) == 0) {
			if (strcmp(d->waits[i], line) == 0) {
				free(line);
				return;
			}
			free(d->waits[i]);
			d->waits[i] = line;
			goto log;
		}
	}
	d->waits = xrealloc(d->waits, (d->nwaits + 1) * sizeof *d->waits);
	d->waits[d->nwaits++] = line;
log:
	logmsg("move %lld: ready, cutover waits: %s", (long long)id, why);
	if (state_event(d->st, "move.waiting", NULL, NULL, "move %lld: "
	    "cutover waits: %s", (long long)id, why) != 0) {
		/* best effort */
	}
}

/* Collect finished workers. */
static void
reap(struct daemon *d)
{
	struct worker *w;
	int i, j;

	for (i = 0; i < d->nw; ) {
		w = d->w[i];
		if (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
			i++;
			continue;
		}
		pthread_join(w->th, NULL);
		d->bytes += w->res.bytes_copied;
		d->files += w->res.files_copied;
		if (w->rc == 0 && w->res.archived && !w->res.settled &&
		    w->res.passes == 0)
			logmsg("move %lld: done, retired source archived to %s",
			    (long long)w->id, w->res.retired);
		else if (w->rc == 0 && w->res.settled && w->res.passes == 0)
			logmsg("move %lld: done, settle check of the retired "
			    "source: %llu late message(s) carried to the "
			    "target%s", (long long)w->id,
			    (unsigned long long)w->res.carried,
			    w->res.carried ? " (see 'mailshift moves show')" :
			    "");
		else if (w->rc == 0 && *w->waiting)
			log_waiting(d, w->id, w->waiting);
		else if (w->rc == 0 && w->res.lock_ms >= 0)
			logmsg("move %lld: %s after %d passes, %llu files "
			    "copied, lock %lld ms", (long long)w->id,
			    state_move_state_name(w->res.state), w->res.passes,
			    (unsigned long long)w->res.files_copied,
			    (long long)w->res.lock_ms);
		else if (w->rc == 0)
			logmsg("move %lld: %s after %d passes, %llu files "
			    "copied", (long long)w->id,
			    state_move_state_name(w->res.state), w->res.passes,
			    (unsigned long long)w->res.files_copied);
		else if (w->res.stopped)
			logmsg("move %lld: stopped at a safe point",
			    (long long)w->id);
		else {
			logmsg("move %lld: %s", (long long)w->id, w->cause ?
			    w->cause : "failed");
			/* Whatever happened, not again at once. */
			cool_down(d, w->id, now_unix() +
			    (int64_t)d->cfg.retry_base);
			retry_or_fail(d, w);
		}
		if (w->rc == 0 && w->res.settled && w->res.passes > 0)
			logmsg("move %lld: settle check of the retired source: "
			    "%llu late message(s) carried to the target%s",
			    (long long)w->id,
			    (unsigned long long)w->res.carried,
			    w->res.carried ? " (see 'mailshift moves show')" :
			    "");
		worker_free(w);
		for (j = i; j < d->nw - 1; j++)
			d->w[j] = d->w[j + 1];
		d->nw--;
	}
}

/* Ask running moves that were paused or cancelled to stop. */
static void
check_paused(struct daemon *d)
{
	struct state_move m;
	int i;

	for (i = 0; i < d->nw; i++) {
		if (d->w[i]->stop)
			continue;
		if (state_move_get(d->st, d->w[i]->id, &m, NULL) != 0)
			continue;
		if (m.paused) {
			worker_stop(d->w[i]);
			logmsg("move %lld: %s requested, stopping it",
			    (long long)m.id, m.paused == 1 ? "pause" :
			    "cancel");
		}
		state_move_free(&m);
	}
}

static void
heartbeat(struct daemon *d, int64_t stopped)
{
	struct state_daemon s = { .pid = getpid(), .started = d->started,
	    .heartbeat = now_unix(), .stopped = stopped, .running = d->nw,
	    .bytes = d->bytes, .files = d->files, .listen = d->cfg.listen };
	char *cause = NULL;

	d->last_heartbeat = s.heartbeat;
	if (state_daemon_update(d->st, &s, &cause) != 0) {
		logmsg("cannot record status: %s", cause);
		free(cause);
	}
}

/* Apply the window in force: its rates, for moves in flight too. */
static void
apply_window(struct daemon *d)
{
	const struct config_window *w = config_window_at(&d->cfg,
	    now_unix());
	const char *name = w ? w->name : NULL;

	d->limits[0] = w ? w->bytes_per_second : d->cfg.bytes_per_second;
	d->limits[1] = w ? w->files_per_second : d->cfg.files_per_second;
	if ((name == NULL) != (d->window == NULL) || (name != NULL &&
	    strcmp(name, d->window) != 0)) {
		logmsg("window: %s (%llu bytes/s, %llu files/s, cutovers %s)",
		    name ? name : "none", (unsigned long long)d->limits[0],
		    (unsigned long long)d->limits[1], w == NULL ||
		    w->cutover ? "allowed" : "not allowed");
		d->window = name;
	}
}

struct command_run {
	struct daemon	*d;
	char		*command;
	int64_t		 timeout;
};

/* Run the presence command; its output lists online users, the first
 * word of each line (doveadm who -1 prints "user proto pid ip" under a
 * "username" heading). */
static void *
command_main(void *arg)
{
	struct command_run *c = arg;
	struct daemon *d = c->d;
	struct command_result res;
	char **users = NULL, err[256] = "", *tok, *save, *line, *why, *cause;
	size_t n = 0, i;
	int ok = 0;

	cause = NULL;
	if (command_run(c->command, NULL, NULL, (double)c->timeout,
	    1 << 20, &res, &cause) != 0) {
		snprintf(err, sizeof err, "'%s': %s", c->command, cause);
		free(cause);
		goto done;
	}
	if (res.status != 0) {
		why = command_describe(&res);
		snprintf(err, sizeof err, "'%s' %s", c->command, why);
		free(why);
		command_result_free(&res);
		goto done;
	}
	for (line = strtok_r(res.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		tok = line + strspn(line, " \t\r");
		tok[strcspn(tok, " \t\r")] = '\0';
		if (*tok == '\0' || strcmp(tok, "username") == 0)
			continue;
		users = xrealloc(users, (n + 1) * sizeof *users);
		users[n++] = xstrdup(tok);
	}
	command_result_free(&res);
	ok = 1;
done:
	pthread_mutex_lock(&d->mu);
	if (ok) {
		for (i = 0; i < d->nonline; i++)
			free(d->online[i]);
		free(d->online);
		d->online = users;
		d->nonline = n;
		users = NULL;
		n = 0;
	}
	if (!ok && d->command_ok)
		logmsg("presence command: %s; cutovers wait", err);
	d->command_ok = ok;
	snprintf(d->command_error, sizeof d->command_error, "%s", err);
	d->command_running = 0;
	pthread_mutex_unlock(&d->mu);
	for (i = 0; i < n; i++)
		free(users[i]);
	free(users);
	free(c->command);
	free(c);
	return NULL;
}

/* Start the presence command when it is due (in a thread of its own). */
static void
presence_poll(struct daemon *d)
{
	struct command_run *c;
	pthread_t th;
	int64_t now = now_unix();

	if (!(d->cfg.presence_sources & PRESENCE_COMMAND) ||
	    d->cfg.presence_command == NULL ||
	    now - d->command_last < (int64_t)d->cfg.presence_interval)
		return;
	pthread_mutex_lock(&d->mu);
	if (d->command_running) {
		pthread_mutex_unlock(&d->mu);
		return;
	}
	d->command_running = 1;
	pthread_mutex_unlock(&d->mu);
	d->command_last = now;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->command = xstrdup(d->cfg.presence_command);
	c->timeout = (int64_t)d->cfg.presence_timeout;
	if (pthread_create(&th, NULL, command_main, c) != 0) {
		free(c->command);
		free(c);
		d->command_running = 0;
		return;
	}
	pthread_detach(th);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int64_t v, now = now_unix();
	uint64_t n;
	char *cause = NULL;

	(void)fd;
	(void)what;
	reap(d);
	if (d->stopping) {
		if (d->nw == 0)
			event_base_loopexit(d->base, NULL);
		return;
	}
	{
		struct stat sb;

		if (stat(d->db, &sb) != 0 || sb.st_dev != d->db_dev ||
		    sb.st_ino != d->db_ino) {
			logmsg("the catalog %s was removed or replaced; "
			    "stopping (start the daemon again on the new "
			    "one)", d->db);
			d->stopping = 1;
			for (int k = 0; k < d->nw; k++)
				worker_stop(d->w[k]);
			if (d->nw == 0)
				event_base_loopexit(d->base, NULL);
			return;
		}
	}
	apply_window(d);
	presence_poll(d);
	health_check(d);
	for (int k = 0; k < d->nw; k++)
		worker_limits(d, d->w[k]);
	v = state_data_version(d->st);
	if (v != d->data_version) {
		/* Something changed (a release, presence, a new move): look
		 * at waiting moves again now. */
		for (size_t k = 0; k < d->nready; k++) {
			if (!d->ready[k].held)
				d->ready[k].when = 0;
		}
		d->data_version = v;
		check_paused(d);
		schedule(d);
	} else if (now - d->last_schedule >= RESCHEDULE ||
	    (d->next_wake != 0 && now >= d->next_wake))
		schedule(d);
	if (now - d->last_heartbeat >= HEARTBEAT)
		heartbeat(d, 0);
	if (now - d->last_purge >= 3600) {
		d->last_purge = now;
		if (move_purge(d->st, (int64_t)d->cfg.retention_keep, &n,
		    &cause) != 0) {
			logmsg("purge: %s", cause);
			free(cause);
		} else if (n > 0)
			logmsg("purged %llu retired sources past retention",
			    (unsigned long long)n);
	}
}

static void
on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof buf) > 0)
		;
	reap(d);
	if (d->stopping) {
		if (d->nw == 0)
			event_base_loopexit(d->base, NULL);
		return;
	}
	schedule(d);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct config n;
	char *cause = NULL;
	int i;

	(void)what;
	if (sig == SIGHUP) {
		config_defaults(&n);
		if (d->config_file != NULL && config_load(d->config_file,
		    d->required, &n, &cause) != 0) {
			logmsg("SIGHUP: the new configuration has errors, "
			    "keeping the old one:\n%s", cause);
			free(cause);
			config_free(&n);
			return;
		}
		config_free(&d->cfg);
		d->cfg = n;
		log_to(d->cfg.log_syslog);
		d->window = NULL;
		d->command_last = 0;
		apply_window(d);
		logmsg("SIGHUP: configuration reloaded from %s; moves in "
		    "flight keep theirs until they end", d->config_file ?
		    d->config_file : "the built-in defaults");
		schedule(d);
		return;
	}
	if (d->stopping)
		return;
	logmsg("%s: stopping %d moves at a safe point", sig == SIGTERM ?
	    "SIGTERM" : "SIGINT", d->nw);
	d->stopping = 1;
	for (i = 0; i < d->nw; i++)
		worker_stop(d->w[i]);
	if (d->nw == 0)
		event_base_loopexit(d->base, NULL);
}

/* GET /status: the daemon, moves by state, moves in flight. */
static void
http_status(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *b = evbuffer_new();
	int64_t counts[MOVE_NSTATES];
	struct json j;
	char *text = NULL, when[32];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i;

	json_init(&j, f);
	json_object_open(&j, NULL);
	json_string(&j, "state", d->stopping ? "stopping" : "running");
	json_int(&j, "pid", getpid());
	json_string(&j, "since", time_format(d->started, when, sizeof when));
	json_uint(&j, "bytes_copied", d->bytes);
	json_uint(&j, "files_copied", d->files);
	json_object_open(&j, "moves");
	if (state_move_counts(d->st, counts, NULL) == 0) {
		for (i = 0; i < MOVE_NSTATES; i++)
			json_int(&j, state_move_state_name((enum move_state)i), counts[i]);
	}
	json_object_close(&j);
	json_array_open(&j, "running");
	for (i = 0; i < d->nw; i++)
		json_int(&j, NULL, d->w[i]->id);
	json_array_close(&j);
	json_array_open(&j, "degraded");
	pthread_mutex_lock(&d->hmu);
	for (i = 0; i < d->nhealth; i++) {
		if (d->health[i].state == HEALTH_OK)
			continue;
		json_object_open(&j, NULL);
		json_int(&j, "slice", d->health[i].slice);
		json_string(&j, "state", health_name(d->health[i].state));
		json_double(&j, "latency", d->health[i].recent);
		json_double(&j, "baseline", d->health[i].baseline);
		json_object_close(&j);
	}
	pthread_mutex_unlock(&d->hmu);
	json_array_close(&j);
	json_object_close(&j);
	json_end(&j);
	fclose(f);
	evbuffer_add(b, text, len);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* GET /metrics in the Prometheus text format. */
static void
http_metrics(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *b = evbuffer_new();
	int64_t counts[MOVE_NSTATES];
	int i;

	evbuffer_add_printf(b, "# HELP mailshift_moves Moves by state.\n"
	    "# TYPE mailshift_moves gauge\n");
	if (state_move_counts(d->st, counts, NULL) == 0) {
		for (i = 0; i < MOVE_NSTATES; i++)
			evbuffer_add_printf(b, "mailshift_moves{state=\"%s\"} "
			    "%lld\n", state_move_state_name((enum move_state)i), (long long)counts[i]);
	}
	evbuffer_add_printf(b, "# HELP mailshift_moves_running Moves in "
	    "flight in this daemon.\n# TYPE mailshift_moves_running gauge\n"
	    "mailshift_moves_running %d\n", d->nw);
	evbuffer_add_printf(b, "# HELP mailshift_copied_bytes_total Bytes "
	    "copied since the daemon started.\n# TYPE "
	    "mailshift_copied_bytes_total counter\n"
	    "mailshift_copied_bytes_total %llu\n",
	    (unsigned long long)d->bytes);
	evbuffer_add_printf(b, "# HELP mailshift_copied_files_total Files "
	    "copied since the daemon started.\n# TYPE "
	    "mailshift_copied_files_total counter\n"
	    "mailshift_copied_files_total %llu\n",
	    (unsigned long long)d->files);
	evbuffer_add_printf(b, "# HELP mailshift_slice_latency_seconds Median "
	    "latency of the copier's file work on a slice, last window.\n"
	    "# TYPE mailshift_slice_latency_seconds gauge\n");
	pthread_mutex_lock(&d->hmu);
	for (i = 0; i < d->nhealth; i++) {
		if (d->health[i].recent >= 0)
			evbuffer_add_printf(b, "mailshift_slice_latency_seconds"
			    "{slice=\"%lld\"} %.6f\n",
			    (long long)d->health[i].slice,
			    d->health[i].recent);
	}
	evbuffer_add_printf(b, "# HELP mailshift_slice_degraded 1 while a "
	    "slice is slow or paused for its latency.\n# TYPE "
	    "mailshift_slice_degraded gauge\n");
	for (i = 0; i < d->nhealth; i++)
		evbuffer_add_printf(b, "mailshift_slice_degraded{slice=\"%lld\","
		    "state=\"%s\"} %d\n", (long long)d->health[i].slice,
		    health_name(d->health[i].state),
		    d->health[i].state != HEALTH_OK);
	pthread_mutex_unlock(&d->hmu);
	{
		static const int64_t bounds[] = { 10, 50, 100, 250, 500, 1000,
		    5000, 30000 };
		int64_t counts[9], sum, cum = 0;
		int k;

		if (state_lock_histogram(d->st, bounds, 8, counts, &sum,
		    NULL) == 0) {
			evbuffer_add_printf(b, "# HELP "
			    "mailshift_cutover_lock_seconds How long "
			    "accounts were locked at cutover.\n# TYPE "
			    "mailshift_cutover_lock_seconds histogram\n");
			for (k = 0; k < 8; k++) {
				cum += counts[k];
				evbuffer_add_printf(b,
				    "mailshift_cutover_lock_seconds_bucket"
				    "{le=\"%g\"} %lld\n", (double)bounds[k] /
				    1000, (long long)cum);
			}
			cum += counts[8];
			evbuffer_add_printf(b,
			    "mailshift_cutover_lock_seconds_bucket{le=\"+Inf\"}"
			    " %lld\nmailshift_cutover_lock_seconds_sum %.3f\n"
			    "mailshift_cutover_lock_seconds_count %lld\n",
			    (long long)cum, (double)sum / 1000,
			    (long long)cum);
		}
	}
	evbuffer_add_printf(b, "# HELP mailshift_start_time_seconds When the "
	    "daemon started.\n# TYPE mailshift_start_time_seconds gauge\n"
	    "mailshift_start_time_seconds %lld\n", (long long)d->started);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static void
http_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "not found: try /status or "
	    "/metrics");
}

/* Serve status and metrics on cfg.listen ("addr:port", or "off"). */
static int
http_start(struct daemon *d, char **cause)
{
	char *addr, *colon;
	unsigned port;

	if (d->cfg.listen == NULL || strcmp(d->cfg.listen, "off") == 0)
		return 0;
	addr = xstrdup(d->cfg.listen);
	colon = strrchr(addr, ':');
	*colon = '\0';
	port = (unsigned)strtoul(colon + 1, NULL, 10);
	if ((d->http = evhttp_new(d->base)) == NULL) {
		free(addr);
		return fail(cause, "cannot start the HTTP server");
	}
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET);
	evhttp_set_max_body_size(d->http, 0);
	evhttp_set_max_headers_size(d->http, 8192);
	evhttp_set_timeout(d->http, 5);
	evhttp_set_cb(d->http, "/status", http_status, d);
	evhttp_set_cb(d->http, "/metrics", http_metrics, d);
	evhttp_set_gencb(d->http, http_other, d);
	if (evhttp_bind_socket(d->http, addr, (ev_uint16_t)port) != 0) {
		fail(cause, "cannot listen on %s: %s; set [daemon] listen to "
		    "a free port or off", d->cfg.listen, strerror(errno));
		free(addr);
		return -1;
	}
	free(addr);
	return 0;
}

/* Take the lock file next to the catalog: one daemon per catalog. */
static int
lock_catalog(struct daemon *d, char **cause)
{
	char *path = xasprintf("%s.daemon", d->db), pid[32], buf[32];
	ssize_t n;

	if ((d->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		fail(cause, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(d->lockfd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(d->lockfd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fail(cause, "another daemon (pid %s) runs on catalog %s; stop "
		    "it first", *buf ? buf : "?", d->db);
		free(path);
		return -1;
	}
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(d->lockfd, 0) != 0 ||
	    pwrite(d->lockfd, pid, strlen(pid), 0) < 0) {
		fail(cause, "cannot write %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

int
daemon_run(const char *db, const char *config_file, int required,
    const struct config *cfg, char **cause)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	struct daemon *d = xcalloc(1, sizeof *d);
	struct timeval one = { 1, 0 };
	int i, rc = -1;

	d->db = xstrdup(db);
	d->config_file = config_file ? xstrdup(config_file) : NULL;
	d->required = required;
	d->pipe[0] = d->pipe[1] = d->lockfd = -1;
	config_defaults(&d->cfg);
	config_free(&d->cfg);
	d->cfg = *cfg;
	d->cfg.file = cfg->file ? xstrdup(cfg->file) : NULL;
	d->cfg.catalog = xstrdup(cfg->catalog);
	d->cfg.layout = xstrdup(cfg->layout);
	d->cfg.listen = xstrdup(cfg->listen);
	d->cfg.presence_command = cfg->presence_command ?
	    xstrdup(cfg->presence_command) : NULL;
	d->cfg.hook_after_lock = cfg->hook_after_lock ?
	    xstrdup(cfg->hook_after_lock) : NULL;
	d->cfg.hook_after_switch = cfg->hook_after_switch ?
	    xstrdup(cfg->hook_after_switch) : NULL;
	log_to(d->cfg.log_syslog);
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->hmu, NULL);
	apply_window(d);
	signal(SIGPIPE, SIG_IGN);
	if ((d->st = state_open(db, 0, cause)) == NULL ||
	    lock_catalog(d, cause) != 0)
		goto out;
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		fail(cause, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((d->base = event_base_new()) == NULL) {
		fail(cause, "cannot start the event loop");
		goto out;
	}
	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->notify = event_new(d->base, d->pipe[0], EV_READ | EV_PERSIST,
	    on_notify, d);
	event_add(d->tick, &one);
	event_add(d->notify, NULL);
	for (i = 0; i < 3; i++) {
		d->sig[i] = evsignal_new(d->base, sigs[i], on_signal, d);
		event_add(d->sig[i], NULL);
	}
	if (http_start(d, cause) != 0)
		goto out;
	{
		struct stat sb;

		if (stat(db, &sb) != 0) {
			fail(cause, "catalog %s: %s", db, strerror(errno));
			goto out;
		}
		d->db_dev = sb.st_dev;
		d->db_ino = sb.st_ino;
	}
	d->started = now_unix();
	d->data_version = state_data_version(d->st);
	d->last_purge = d->started;
	heartbeat(d, 0);
	logmsg("daemon started on catalog %s (moves: %llu at once, %llu per "
	    "source, %llu per target; status on %s)", db,
	    (unsigned long long)d->cfg.max_moves,
	    (unsigned long long)d->cfg.per_source,
	    (unsigned long long)d->cfg.per_target, d->cfg.listen);
	schedule(d);
	event_base_dispatch(d->base);
	heartbeat(d, now_unix());
	logmsg("daemon stopped; every move is resumable");
	rc = 0;
out:
	for (i = 0; i < d->nw; i++) {
		worker_stop(d->w[i]);
		pthread_join(d->w[i]->th, NULL);
		free(d->w[i]->cause);
		free(d->w[i]);
	}
	if (d->http != NULL)
		evhttp_free(d->http);
	for (i = 0; i < 3; i++) {
		if (d->sig[i] != NULL)
			event_free(d->sig[i]);
	}
	if (d->tick != NULL)
		event_free(d->tick);
	if (d->notify != NULL)
		event_free(d->notify);
	if (d->base != NULL)
		event_base_free(d->base);
	if (d->pipe[0] >= 0) {
		close(d->pipe[0]);
		close(d->pipe[1]);
	}
	if (d->lockfd >= 0)
		close(d->lockfd);
	state_close(d->st);
	config_free(&d->cfg);
	free(d->ready);
	free(d->cool);
	for (size_t k = 0; k < d->nwaits; k++)
		free(d->waits[k]);
	free(d->waits);
	/* A presence command still running keeps d alive: wait for it. */
	for (i = 0; i < 100; i++) {
		int busy;

		pthread_mutex_lock(&d->mu);
		busy = d->command_running;
		pthread_mutex_unlock(&d->mu);
		if (!busy)
			break;
		usleep(100000);
	}
	for (size_t k = 0; k < d->nonline; k++)
		free(d->online[k]);
	free(d->online);
	free(d->db);
	free(d->config_file);
	free(d);
	return rc;
}
