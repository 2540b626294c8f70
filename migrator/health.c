/* The per-slice latency watch: see health.h. */
#define _GNU_SOURCE
#include "migrator/health.h"
#include "common/log.h"
#include "common/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SLICES 256		/* slices whose health is watched */
#define SAMPLES 512		/* latency samples kept per slice and second */
#define SECONDS 600		/* per-second medians kept: ten minutes */
#define SLOW_FACTOR 5.0		/* recent median over baseline: slow */
#define OK_FACTOR 2.0		/* back under this: recovered */
#define FLOOR 0.005		/* latencies under 5 ms are never "slow" */

/*
 * The latency a slice showed the copier, and what was made of it: the
 * samples of the current second, then one median per second for ten
 * minutes.
 */
struct slice_health {
	int64_t		  slice;
	double		  v[SAMPLES];	/* this second's samples */
	int		  n;
	double		  st[SECONDS];	/* when, monotonic seconds */
	double		  sv[SECONDS];	/* that second's median */
	int		  sn;		/* medians kept */
	int		  shead;	/* next one goes here */
	enum health_state state;
	double		  since;	/* monotonic time of the last change */
	double		  baseline;	/* median before it got slow */
	double		  recent;	/* median of the last window */
};

struct health {
	pthread_mutex_t		 mu;	/* everything below */
	struct slice_health	 s[MAX_SLICES];
	int			 n;
};

struct health *
health_new(void)
{
	struct health *h = xcalloc(1, sizeof *h);

	pthread_mutex_init(&h->mu, NULL);
	return h;
}

void
health_free(struct health *h)
{
	if (h == NULL)
		return;
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* The record of a slice, created on first use when create; mu held. */
static struct slice_health *
find(struct health *h, int64_t slice, int create)
{
	int i;

	for (i = 0; i < h->n; i++) {
		if (h->s[i].slice == slice)
			return &h->s[i];
	}
	if (!create || h->n == MAX_SLICES)
		return NULL;
	memset(&h->s[h->n], 0, sizeof h->s[0]);
	h->s[h->n].slice = slice;
	h->s[h->n].recent = h->s[h->n].baseline = -1;
	return &h->s[h->n++];
}

void
health_sample(struct health *h, int64_t slice, double seconds)
{
	struct slice_health *s;

	pthread_mutex_lock(&h->mu);
	if ((s = find(h, slice, 1)) != NULL && s->n < SAMPLES)
		s->v[s->n++] = seconds;
	pthread_mutex_unlock(&h->mu);
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

/* Median of the per-second medians from time t on (after) or before it;
 * -1 if there are fewer than need of them. */
static double
median_since(const struct slice_health *s, double t, int after, int need)
{
	double v[SECONDS];
	int i, n = 0;

	for (i = 0; i < s->sn; i++) {
		if ((s->st[i] >= t) == after)
			v[n++] = s->sv[i];
	}
	return n < need ? -1 : median(v, n);
}

const char *
health_name(enum health_state st)
{
	return st == HEALTH_OK ? "ok" : st == HEALTH_SLOW ? "slow" : "paused";
}

/* Judge one slice at now; returns 1 when its state changed. */
static int
judge(struct slice_health *s, double now, double win)
{
	if (s->n > 0) {
		s->st[s->shead] = now;
		s->sv[s->shead] = median(s->v, s->n);
		s->shead = (s->shead + 1) % SECONDS;
		if (s->sn < SECONDS)
			s->sn++;
		s->n = 0;
	}
	s->recent = median_since(s, now - win, 1, 2);
	switch (s->state) {
	case HEALTH_OK:
		s->baseline = median_since(s, now - win, 0, 3);
		if (s->baseline > 0 && s->recent > FLOOR &&
		    s->recent > SLOW_FACTOR * s->baseline) {
			s->state = HEALTH_SLOW;
			return 1;
		}
		break;
	case HEALTH_SLOW:
		/* No samples for a window: nothing runs there to judge, or
		 * to protect. */
		if (now - s->since >= win && (s->recent < 0 ||
		    s->recent < OK_FACTOR * s->baseline ||
		    s->recent < FLOOR)) {
			s->state = HEALTH_OK;
			return 1;
		}
		if (s->recent > FLOOR && s->recent > SLOW_FACTOR *
		    s->baseline && now - s->since >= win) {
			s->state = HEALTH_PAUSED;
			return 1;
		}
		break;
	case HEALTH_PAUSED:
		/* Try again, to see whether it got better. */
		if (now - s->since >= win) {
			s->state = HEALTH_SLOW;
			s->sn = s->shead = 0;
			return 1;
		}
		break;
	}
	return 0;
}

int
health_check(struct health *h, double now, double win)
{
	struct slice_health *s;
	int i, changed = 0;

	pthread_mutex_lock(&h->mu);
	for (i = 0; i < h->n; i++) {
		s = &h->s[i];
		if (!judge(s, now, win))
			continue;
		changed++;
		s->since = now;
		if (s->recent < 0)
			log_info("slice %lld: %s (no latency measured in the "
			    "last %.0f s)", (long long)s->slice, s->state ==
			    HEALTH_OK ? "recovered" : "moves try again", win);
		else if (s->state == HEALTH_OK)
			log_info("slice %lld: recovered (latency %.2f ms, "
			    "baseline %.2f ms)", (long long)s->slice,
			    s->recent * 1000, s->baseline * 1000);
		else
			log_warnx("slice %lld: %s (latency %.2f ms, baseline "
			    "%.2f ms)", (long long)s->slice, s->state ==
			    HEALTH_SLOW ? "degraded, its moves slow down" :
			    "degraded, its moves pause", s->recent * 1000,
			    s->baseline * 1000);
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
	st = (s = find(h, slice, 0)) != NULL ? s->state : HEALTH_OK;
	pthread_mutex_unlock(&h->mu);
	return st;
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
	for (i = n = 0; i < h->n && n < max; i++, n++) {
		v[n].slice = h->s[i].slice;
		v[n].state = h->s[i].state;
		v[n].recent = h->s[i].recent;
		v[n].baseline = h->s[i].baseline;
	}
	pthread_mutex_unlock(&h->mu);
	return n;
}
