/* Evacuation and restore times at the daemon's schedule: see
 * evacuation.h. */
#define _GNU_SOURCE
#include "migrator/evacuation.h"
#include "migrator/scheduler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Do two segments have the same rates, cutover rule and name? */
static int
seg_same(const struct evacuation_segment *a,
    const struct evacuation_segment *b)
{
	return a->bytes_per_second == b->bytes_per_second &&
	    a->files_per_second == b->files_per_second &&
	    a->cutover == b->cutover && strcmp(a->name, b->name) == 0;
}

void
evacuation_schedule_init(struct evacuation_schedule *s,
    const struct config *c)
{
	int cut[2 * CONFIG_MAX_WINDOWS + 2], ncut = 0, i;
	const struct config_window *w;
	struct evacuation_segment g;

	memset(s, 0, sizeof *s);
	s->streams = c->per_source < c->max_moves ? c->per_source :
	    c->max_moves;
	if (s->streams > SCHED_MAX_WORKERS)
		s->streams = SCHED_MAX_WORKERS;
	if (s->streams == 0)
		s->streams = 1;
	s->restore_rate = c->restore_rate ? c->restore_rate : 1;
	s->max_restore = c->max_restore ? c->max_restore : 1;

	/* The rates change only where a window begins or ends: cut the day
	 * there and ask, as the daemon does, which window is in force. */
	cut[ncut++] = 0;
	for (i = 0; i < c->nwindows; i++) {
		if (c->windows[i].from < 0 || c->windows[i].to < 0)
			continue;
		cut[ncut++] = c->windows[i].from * 60;
		cut[ncut++] = c->windows[i].to * 60;
	}
	qsort(cut, (size_t)ncut, sizeof *cut, int_cmp);
	for (i = 0; i < ncut; i++) {
		if (i + 1 < ncut && cut[i + 1] == cut[i])
			continue;
		memset(&g, 0, sizeof g);
		g.from = cut[i];
		g.to = i + 1 < ncut ? cut[i + 1] : DAY;
		if (g.to > DAY)
			g.to = DAY;
		if (g.from >= g.to)
			continue;
		if ((w = config_window_at(c, g.from)) != NULL) {
			g.bytes_per_second = w->bytes_per_second;
			g.files_per_second = w->files_per_second;
			g.cutover = w->cutover;
			snprintf(g.name, sizeof g.name, "window '%s'", w->name);
		} else {
			g.bytes_per_second = c->bytes_per_second;
			g.files_per_second = c->files_per_second;
			g.cutover = 1;
			snprintf(g.name, sizeof g.name, "[throttle]");
		}
		if (s->nseg > 0 && seg_same(&s->seg[s->nseg - 1], &g))
			s->seg[s->nseg - 1].to = g.to;
		else
			s->seg[s->nseg++] = g;
	}
}

/* The segment in force at second tod of the day. */
static const struct evacuation_segment *
seg_at(const struct evacuation_schedule *s, int tod)
{
	int i;

	for (i = 0; i < s->nseg - 1; i++) {
		if (tod < s->seg[i].to)
			return &s->seg[i];
	}
	return &s->seg[s->nseg - 1];
}

/*
 * The share of the slice moved per second in segment g by streams moves
 * (bytes and files together, the tighter limit setting the pace); 0 when
 * nothing limits it.
 */
static double
pace(const struct evacuation_segment *g, uint64_t streams, uint64_t bytes,
    uint64_t files)
{
	double r = 0, x;

	if (bytes > 0 && g->bytes_per_second > 0)
		r = (double)streams * (double)g->bytes_per_second /
		    (double)bytes;
	if (files > 0 && g->files_per_second > 0) {
		x = (double)streams * (double)g->files_per_second /
		    (double)files;
		if (r == 0 || x < r)
			r = x;
	}
	return r;
}

/* Seconds from now until every byte is copied, or -1 (e->status set)
 * when a time without limits comes first. */
static double
copy_seconds(const struct evacuation_schedule *s, int tod0, uint64_t bytes,
    uint64_t files, struct evacuation *e)
{
	const struct evacuation_segment *g;
	double left = 1, t = 0, day = 0, rate, n;
	int tod = tod0, i, steps;

	for (i = 0; i < s->nseg; i++) {
		rate = pace(&s->seg[i], e->streams, bytes, files);
		if (rate == 0) {
			day = 0;
			break;
		}
		day += rate * (double)(s->seg[i].to - s->seg[i].from);
	}
	/* At most two days of segments are walked: whole days in between
	 * are skipped (only when every segment has a limit). */
	for (steps = 0; steps < 4 * s->nseg + 8; steps++) {
		g = seg_at(s, tod);
		rate = pace(g, e->streams, bytes, files);
		if (rate == 0) {
			e->status = EVACUATION_UNTHROTTLED;
			snprintf(e->unthrottled, sizeof e->unthrottled, "%s",
			    g->name);
			return -1;
		}
		if (rate * (double)(g->to - tod) >= left)
			return t + left / rate;
		left -= rate * (double)(g->to - tod);
		t += (double)(g->to - tod);
		tod = g->to % DAY;
		if (t >= DAY && day > 0 && (n = floor(left / day) - 1) >= 1) {
			if (n > 1e9)	/* ~3 million years: far enough */
				n = 1e9;
			left -= n * day;
			t += n * DAY;
		}
	}
	/* Not reached: the skip leaves less than two days. */
	return t + left / (day > 0 ? day / DAY : 1);
}

/* Seconds from now at which a cutover is allowed, at or after t seconds
 * from now; -1 when none ever is. */
static double
cutover_at(const struct evacuation_schedule *s, int tod0, double t)
{
	const struct evacuation_segment *g;
	int tod, i;

	tod = (int)(((int64_t)floor(t) + tod0) % DAY);
	for (i = 0; i <= s->nseg; i++) {
		g = seg_at(s, tod);
		if (g->cutover)
			return t;
		t += (double)(g->to - tod) - (t - floor(t));
		tod = g->to % DAY;
	}
	return -1;
}

int64_t
evacuation_split(int64_t evacuation, int64_t restore, uint64_t max_restore)
{
	int64_t m = evacuation > restore ? evacuation : restore;

	if (max_restore == 0 || m <= (int64_t)max_restore)
		return 1;
	return (m + (int64_t)max_restore - 1) / (int64_t)max_restore;
}

void
evacuation_estimate(const struct evacuation_schedule *s, int64_t now,
    uint64_t bytes, uint64_t files, int64_t accounts, struct evacuation *e)
{
	int tod0 = (int)((now % DAY + DAY) % DAY);
	double t;

	memset(e, 0, sizeof *e);
	e->status = EVACUATION_OK;
	e->streams = s->streams;
	if (accounts >= 0 && (uint64_t)accounts < e->streams)
		e->streams = accounts > 0 ? (uint64_t)accounts : 1;
	e->restore = (int64_t)((bytes + s->restore_rate - 1) /
	    s->restore_rate);
	if (bytes == 0 && files == 0) {
		e->status = EVACUATION_EMPTY;
		e->seconds = 0;
	} else if ((t = copy_seconds(s, tod0, bytes, files, e)) < 0)
		e->seconds = -1;
	else if ((t = cutover_at(s, tod0, t)) < 0) {
		e->status = EVACUATION_NO_CUTOVER;
		e->seconds = -1;
	} else
		e->seconds = (int64_t)ceil(t - 1e-6);
	e->split = evacuation_split(e->seconds, e->restore, s->max_restore);
	e->flagged = e->split > 1;
}

const char *
evacuation_status_name(enum evacuation_status st)
{
	switch (st) {
	case EVACUATION_EMPTY:
		return "empty";
	case EVACUATION_UNTHROTTLED:
		return "unthrottled";
	case EVACUATION_NO_CUTOVER:
		return "no cutover";
	case EVACUATION_OK:
		break;
	}
	return "ok";
}
