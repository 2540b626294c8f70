/* The health watch's judgement: see health.h. */
#define _GNU_SOURCE
#include "migrator/health.h"
#include "common/config.h"
#include "common/util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBES 256		/* probe samples kept per slice and window */
#define COPIES 512		/* copier samples likewise */
#define COPIES_MIN 5		/* a window's copier median needs these */
#define BASE_MAX 720		/* clean windows kept for the baseline */
#define BASE_MIN 6		/* a baseline needs this many */
#define EXACT_PEERS 64		/* above: the MAD includes the slice */
/* The tail judged: p99 of a window of 100 probes or more, else p90 (the
 * p99 of ten probes is their maximum: one hiccup). */
#define TAIL(n) ((n) >= 100 ? 0.99 : 0.9)

const double health_bounds[HEALTH_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };

/* A ring of values of clean windows, with when they were. */
struct ring {
	double	 t[BASE_MAX];
	double	 v[BASE_MAX];
	int	 n, head;
};

struct slice_health {
	int64_t		  slice;
	int		  watched;	/* probed */
	double		  pv[PROBES];	/* this window's probe times */
	int		  pn;
	double		  cv[COPIES];	/* this window's copier times */
	int		  cn;
	double		  inflight;	/* probe started then, 0 none */
	double		  hung_since;	/* a probe past timeout, 0 not */
	int		  fail;		/* a probe failed since the check */
	char		  fail_why[160];
	int		  back;		/* a probe came back since */
	struct ring	  b50, b99, bc;	/* baselines */
	uint64_t	  hist;		/* deviant bits, newest lowest */
	int		  nhist;
	int		  clean_run;
	char		  deviant_why[160]; /* the last deviant window */
	struct health_slice pub;	/* what health_list shows */
};

struct health {
	pthread_mutex_t		  mu;	/* everything below */
	struct health_params	  p;
	struct slice_health	**s;
	int			  n;
	double			  wstart;	/* of the current window */
	double			  now;		/* of the last check */
};

static const struct health_params defaults = { .window = 10,
    .degraded_after = 4, .history = 6, .recover_after = 6, .factor = 2.5,
    .floor = 0.020, .peers = 3, .baseline = 3600, .timeout = 5,
    .pause_after = 60 };

void
health_params_from(struct health_params *p, const struct config *c)
{
	p->window = (double)c->health_window;
	p->degraded_after = (int)c->health_degraded_after;
	p->history = (int)c->health_history;
	p->recover_after = (int)c->health_recover_after;
	p->factor = c->health_factor;
	p->floor = (double)c->health_floor_ms / 1000;
	p->peers = (int)c->health_peers;
	p->baseline = (double)c->health_baseline;
	p->timeout = (double)c->health_timeout_ms / 1000;
	p->pause_after = (double)c->health_pause_after;
}

struct health *
health_new(const struct health_params *p)
{
	struct health *h = xcalloc(1, sizeof *h);

	pthread_mutex_init(&h->mu, NULL);
	h->p = p ? *p : defaults;
	return h;
}

void
health_set_params(struct health *h, const struct health_params *p)
{
	pthread_mutex_lock(&h->mu);
	h->p = *p;
	pthread_mutex_unlock(&h->mu);
}

void
health_free(struct health *h)
{
	int i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		free(h->s[i]);
	free(h->s);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* The record of a slice, created on first use when create; mu held. */
static struct slice_health *
find(struct health *h, int64_t slice, int create)
{
	struct slice_health *s;
	int i;

	for (i = 0; i < h->n; i++) {
		if (h->s[i]->slice == slice)
			return h->s[i];
	}
	if (!create)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->slice = s->pub.slice = slice;
	s->pub.p50 = s->pub.p99 = s->pub.base50 = s->pub.base99 = -1;
	s->pub.peers50 = s->pub.copier = -1;
	s->pub.since = h->now;
	h->s = xrealloc(h->s, (size_t)(h->n + 1) * sizeof *h->s);
	h->s[h->n++] = s;
	return s;
}

void
health_watch(struct health *h, int64_t slice)
{
	pthread_mutex_lock(&h->mu);
	find(h, slice, 1)->watched = 1;
	pthread_mutex_unlock(&h->mu);
}

void
health_forget(struct health *h, int64_t slice)
{
	int i;

	pthread_mutex_lock(&h->mu);
	for (i = 0; i < h->n; i++) {
		if (h->s[i]->slice != slice)
			continue;
		free(h->s[i]);
		h->s[i] = h->s[--h->n];
		break;
	}
	pthread_mutex_unlock(&h->mu);
}

void
health_seed(struct health *h, int64_t slice, enum health_state st,
    const char *reason)
{
	struct slice_health *s;

	pthread_mutex_lock(&h->mu);
	s = find(h, slice, 1);
	s->pub.state = st;
	snprintf(s->pub.reason, sizeof s->pub.reason, "%s", reason);
	pthread_mutex_unlock(&h->mu);
}

void
health_probe(struct health *h, int64_t slice, double now, double seconds)
{
	struct slice_health *s;
	int k;

	pthread_mutex_lock(&h->mu);
	if ((s = find(h, slice, 0)) != NULL) {
		if (s->pn < PROBES)
			s->pv[s->pn++] = seconds;
		s->inflight = 0;
		/* One back after the timeout leaves a slice unresponsive:
		 * a slice whose every probe takes longer must not flap. */
		if (seconds <= h->p.timeout) {
			s->back = 1;
			s->pub.last_ok = now;
		}
		s->pub.probes++;
		s->pub.sum += seconds;
		for (k = 0; k < HEALTH_BUCKETS && seconds > health_bounds[k];
		    k++)
			;
		s->pub.bucket[k]++;
	}
	pthread_mutex_unlock(&h->mu);
}

void
health_probe_failed(struct health *h, int64_t slice, double now,
    const char *why)
{
	struct slice_health *s;

	(void)now;
	pthread_mutex_lock(&h->mu);
	if ((s = find(h, slice, 0)) != NULL) {
		s->inflight = 0;
		s->fail = 1;
		snprintf(s->fail_why, sizeof s->fail_why, "%s", why);
		s->pub.probes++;
		s->pub.failed++;
	}
	pthread_mutex_unlock(&h->mu);
}

void
health_inflight(struct health *h, int64_t slice, double started)
{
	struct slice_health *s;

	pthread_mutex_lock(&h->mu);
	if ((s = find(h, slice, 0)) != NULL)
		s->inflight = started;
	pthread_mutex_unlock(&h->mu);
}

void
health_sample(struct health *h, int64_t slice, double seconds)
{
	struct slice_health *s;

	pthread_mutex_lock(&h->mu);
	if ((s = find(h, slice, 1)) != NULL && s->cn < COPIES)
		s->cv[s->cn++] = seconds;
	pthread_mutex_unlock(&h->mu);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of v[0..n) (sorted here), nearest rank. */
static double
quantile(double *v, int n, double q)
{
	int k;

	qsort(v, (size_t)n, sizeof *v, cmp_double);
	k = (int)ceil(q * n) - 1;
	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static void
ring_add(struct ring *r, double t, double v)
{
	r->t[r->head] = t;
	r->v[r->head] = v;
	r->head = (r->head + 1) % BASE_MAX;
	if (r->n < BASE_MAX)
		r->n++;
}

/* Median of the ring's values from since on; -1 with fewer than
 * BASE_MIN of them. */
static double
ring_median(const struct ring *r, double since)
{
	double v[BASE_MAX];
	int i, n = 0;

	for (i = 0; i < r->n; i++) {
		if (r->t[i] >= since)
			v[n++] = r->v[i];
	}
	return n < BASE_MIN ? -1 : quantile(v, n, 0.5);
}

const char *
health_name(enum health_state st)
{
	return st == HEALTH_OK ? "ok" : st == HEALTH_DEGRADED ? "degraded" :
	    "unresponsive";
}

/* Change s's state at now, for why. */
static void
set_state(struct slice_health *s, enum health_state st, double now,
    const char *why)
{
	s->pub.state = st;
	s->pub.since = now;
	snprintf(s->pub.reason, sizeof s->pub.reason, "%s", why);
}

/*
 * The peers' threshold: max(factor x median of the others' values,
 * median + 3 x MAD), or -1 with fewer than need others. all[] holds the
 * na known values, self the slice's own among them (left out), or -1
 * (among many slices it is one of hundreds: the same limit serves all).
 */
static double
peer_limit(const double *all, int na, double self, int need, double factor,
    double *median_out)
{
	double *o, *dev, med, mad, lim;
	int j, m = 0, skipped = self < 0;

	*median_out = -1;
	if (na - (self >= 0) < need)
		return -1;
	o = xcalloc((size_t)na, sizeof *o);
	dev = xcalloc((size_t)na, sizeof *dev);
	for (j = 0; j < na; j++) {
		if (!skipped && all[j] == self) {
			skipped = 1;
			continue;
		}
		o[m++] = all[j];
	}
	med = quantile(o, m, 0.5);
	for (j = 0; j < m; j++)
		dev[j] = fabs(o[j] - med);
	mad = quantile(dev, m, 0.5);
	lim = factor * med;
	if (med + 3 * mad > lim)
		lim = med + 3 * mad;
	*median_out = med;
	free(o);
	free(dev);
	return lim;
}

/* Is value x of a window deviant against the peers' limit (-1 none) and
 * the slice's baseline (-1 none)? Writes what it found into why. */
static int
deviant(double x, double floor, double factor, double peer, double pmed,
    double base, const char *what, char *why, size_t len)
{
	if (x < 0 || x <= floor)
		return 0;
	if (peer >= 0) {
		if (x <= peer || (base >= 0 && x <= factor * base))
			return 0;
		if (base >= 0)
			snprintf(why, len, "probe %s %.0f ms, %.1fx its "
			    "baseline %.1f ms and %.1fx the other slices' "
			    "%.1f ms", what, x * 1000, x / base, base * 1000,
			    pmed > 0 ? x / pmed : 0.0, pmed * 1000);
		else
			snprintf(why, len, "probe %s %.0f ms, %.1fx the other "
			    "slices' %.1f ms", what, x * 1000, pmed > 0 ?
			    x / pmed : 0.0, pmed * 1000);
		return 1;
	}
	if (base < 0 || x <= factor * base)
		return 0;
	snprintf(why, len, "probe %s %.0f ms, %.1fx its baseline %.1f ms "
	    "(too few other slices to compare with)", what, x * 1000,
	    x / base, base * 1000);
	return 1;
}

static int
popcount_low(uint64_t bits, int n)
{
	int c = 0, i;

	for (i = 0; i < n && i < 64; i++)
		c += (int)((bits >> i) & 1);
	return c;
}

/* Close the window that ends at now: judge every slice; mu held.
 * Returns the number of slices whose state changed. */
static int
close_window(struct health *h, double now)
{
	const struct health_params *p = &h->p;
	double *v50 = xcalloc((size_t)h->n + 1, sizeof *v50);
	double *v99 = xcalloc((size_t)h->n + 1, sizeof *v99);
	double *a50 = xcalloc((size_t)h->n + 1, sizeof *a50);
	double *a99 = xcalloc((size_t)h->n + 1, sizeof *a99);
	double since = now - p->baseline, lim, med, m99;
	double all_lim50 = -1, all_med50 = -1, all_lim99 = -1, all_med99 = -1;
	struct slice_health *s;
	char why[256], dwhy[160];
	int i, na = 0, dev, changed = 0, bad, wn;

	for (i = 0; i < h->n; i++) {
		s = h->s[i];
		/* A probe long in flight counts with the time it has taken
		 * so far: a slice too slow to finish one per window must
		 * not look idle. */
		if (s->inflight > 0 && now - s->inflight >= p->window / 2 &&
		    s->pn < PROBES)
			s->pv[s->pn++] = now - s->inflight;
		v50[i] = v99[i] = -1;
		s->pub.p99 = -1;
		if (s->pn > 0) {
			s->pub.p99 = quantile(s->pv, s->pn, 0.99);
			v99[i] = quantile(s->pv, s->pn, TAIL(s->pn));
			v50[i] = quantile(s->pv, s->pn, 0.5);
			a50[na] = v50[i];
			a99[na++] = v99[i];
		}
		s->pub.p50 = v50[i];
		s->pub.copier = s->cn >= COPIES_MIN ? quantile(s->cv, s->cn,
		    0.5) : -1;
	}
	qsort(a50, (size_t)na, sizeof *a50, cmp_double);
	qsort(a99, (size_t)na, sizeof *a99, cmp_double);
	if (na > EXACT_PEERS) {
		all_lim50 = peer_limit(a50, na, -1, p->peers, p->factor,
		    &all_med50);
		all_lim99 = peer_limit(a99, na, -1, p->peers, p->factor,
		    &all_med99);
	}
	for (i = 0; i < h->n; i++) {
		s = h->s[i];
		wn = s->pn;
		s->pn = s->cn = 0;
		if (v50[i] < 0 && s->pub.copier < 0)
			continue;	/* nothing measured: not judged */
		s->pub.base50 = ring_median(&s->b50, since);
		s->pub.base99 = ring_median(&s->b99, since);
		dwhy[0] = '\0';
		if (na > EXACT_PEERS) {
			lim = all_lim50;
			med = all_med50;
		} else
			lim = peer_limit(a50, na, v50[i], p->peers, p->factor,
			    &med);
		s->pub.peers50 = med;
		dev = deviant(v50[i], p->floor, p->factor, lim, med,
		    s->pub.base50, "p50", dwhy, sizeof dwhy);
		if (!dev) {
			if (na > EXACT_PEERS) {
				lim = all_lim99;
				m99 = all_med99;
			} else
				lim = peer_limit(a99, na, v99[i], p->peers,
				    p->factor, &m99);
			dev = deviant(v99[i], 5 * p->floor, p->factor, lim, m99,
			    s->pub.base99, TAIL(wn) == 0.99 ? "p99" : "p90",
			    dwhy, sizeof dwhy);
		}
		if (!dev && s->pub.copier > p->floor) {
			double cb = ring_median(&s->bc, since);

			if (cb >= 0 && s->pub.copier > p->factor * cb) {
				dev = 1;
				snprintf(dwhy, sizeof dwhy, "copier %.0f ms per "
				    "file, %.1fx its baseline %.1f ms",
				    s->pub.copier * 1000, s->pub.copier / cb,
				    cb * 1000);
			}
		}
		s->hist = s->hist << 1 | (uint64_t)dev;
		if (s->nhist < 64)
			s->nhist++;
		s->pub.judged++;
		if (dev) {
			s->clean_run = 0;
			memcpy(s->deviant_why, dwhy, sizeof dwhy);
		} else {
			s->clean_run++;
			if (v50[i] >= 0) {
				ring_add(&s->b50, now, v50[i]);
				ring_add(&s->b99, now, v99[i]);
			}
			if (s->pub.copier >= 0)
				ring_add(&s->bc, now, s->pub.copier);
		}
		bad = popcount_low(s->hist, p->history);
		if (s->pub.state == HEALTH_OK && bad >= p->degraded_after) {
			snprintf(why, sizeof why, "%s (%d of the last %d "
			    "windows)", s->deviant_why, bad, p->history);
			set_state(s, HEALTH_DEGRADED, now, why);
			changed++;
		} else if (s->pub.state == HEALTH_DEGRADED &&
		    s->clean_run >= p->recover_after) {
			if (v50[i] >= 0)
				snprintf(why, sizeof why, "%d clean windows "
				    "in a row (probe p50 %.1f ms)",
				    s->clean_run, v50[i] * 1000);
			else
				snprintf(why, sizeof why, "%d clean windows "
				    "in a row", s->clean_run);
			set_state(s, HEALTH_OK, now, why);
			changed++;
		}
	}
	free(v50);
	free(v99);
	free(a50);
	free(a99);
	return changed;
}

int
health_check(struct health *h, double now)
{
	struct slice_health *s;
	char why[256];
	int i, changed = 0;

	pthread_mutex_lock(&h->mu);
	h->now = now;
	if (h->wstart == 0)
		h->wstart = now;
	for (i = 0; i < h->n; i++) {
		s = h->s[i];
		if (s->pub.since == 0)
			s->pub.since = now;	/* first seen: since now */
		if (!s->watched)
			continue;
		if (s->fail && s->pub.state != HEALTH_UNRESPONSIVE) {
			snprintf(why, sizeof why, "probe failed: %s",
			    s->fail_why);
			set_state(s, HEALTH_UNRESPONSIVE, now, why);
			changed++;
		} else if (s->inflight > 0 && now - s->inflight >
		    h->p.timeout && s->pub.state != HEALTH_UNRESPONSIVE) {
			snprintf(why, sizeof why, "probe hung for %.1f s "
			    "(timeout %.1f s)", now - s->inflight,
			    h->p.timeout);
			set_state(s, HEALTH_UNRESPONSIVE, now, why);
			changed++;
		} else if (s->back && !s->fail && s->pub.state ==
		    HEALTH_UNRESPONSIVE) {
			snprintf(why, sizeof why, "responding again after "
			    "%.1f s unresponsive", now - s->pub.since);
			set_state(s, HEALTH_DEGRADED, now, why);
			s->clean_run = 0;
			s->hist = 0;
			changed++;
		}
		s->fail = s->back = 0;
	}
	if (now >= h->wstart + h->p.window) {
		changed += close_window(h, now);
		h->wstart = now - h->wstart > 2 * h->p.window ? now :
		    h->wstart + h->p.window;
	}
	pthread_mutex_unlock(&h->mu);
	return changed;
}

enum health_state
health_state_of(struct health *h, int64_t slice)
{
	struct slice_health *s;
	enum health_state st;

	pthread_mutex_lock(&h->mu);
	st = (s = find(h, slice, 0)) != NULL ? s->pub.state : HEALTH_OK;
	pthread_mutex_unlock(&h->mu);
	return st;
}

int
health_paused(struct health *h, int64_t slice)
{
	struct slice_health *s;
	int paused = 0;

	pthread_mutex_lock(&h->mu);
	if ((s = find(h, slice, 0)) != NULL)
		paused = s->pub.state == HEALTH_UNRESPONSIVE ||
		    (s->pub.state == HEALTH_DEGRADED && h->now -
		    s->pub.since >= h->p.pause_after);
	pthread_mutex_unlock(&h->mu);
	return paused;
}

void
health_limits(struct health *h, int64_t source, int64_t target,
    const uint64_t in[2], uint64_t out[2])
{
	uint64_t b = in[0], f = in[1];

	if (health_state_of(h, source) != HEALTH_OK ||
	    health_state_of(h, target) != HEALTH_OK) {
		b = b == 0 || b > HEALTH_SLOW_BYTES ? HEALTH_SLOW_BYTES : b;
		f = f == 0 || f > HEALTH_SLOW_FILES ? HEALTH_SLOW_FILES : f;
	}
	out[0] = b;
	out[1] = f;
}

int
health_list(struct health *h, struct health_slice *v, int max)
{
	int i, n;

	pthread_mutex_lock(&h->mu);
	for (i = n = 0; i < h->n && n < max; i++, n++)
		v[n] = h->s[i]->pub;
	pthread_mutex_unlock(&h->mu);
	return n;
}
