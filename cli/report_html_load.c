/*
 * The load and evacuation parts of the HTML capacity pages: a load chart
 * per slice (its daily load over the range, the trend from now, the load
 * target and hard limit), the fleet's evacuation and restore times, and
 * the cards of the load. See report_html.h.
 */
#define _GNU_SOURCE
#include "cli/report.h"
#include "cli/report_html.h"
#include "common/stats.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ops/s for an axis: "250", "1.5k". */
static const char *
ops_axis(double v, char *buf, size_t len)
{
	if (v >= 1000)
		snprintf(buf, len, "%gk", round(v / 100) / 10);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/*
 * The chart of a slice's load: its daily rates (solid), the trend from
 * the load now (dashed) for the forecast's days, lines at the load
 * target, the hard limit and the ops capacity.
 */
static void
load_svg(FILE *f, const struct report *r, const struct report_row *s,
    double w, double h)
{
	const struct state_report_load_series *ls = s->loads;
	const struct stats_growth *g = &s->load_growth;
	struct chart c = { f, w, h, 48, 40, 10, 24, 0, 0, 0, 0 };
	double cap = (double)s->ops_capacity, ymax = s->ops, x, fend = 0;
	double fdays = 0, step, *t = NULL, *v = NULL;
	char a[32], lbl[48];
	size_t i, k, m, n = 0;

	if (ls != NULL && ls->n > 0) {
		t = xcalloc(ls->n, sizeof *t);
		v = xcalloc(ls->n, sizeof *v);
	}
	for (i = 0; ls != NULL && i < ls->n; i++) {
		if (ls->d[i].ms <= 0)
			continue;
		t[n] = (double)(ls->d[i].day + STATS_DAY / 2);
		v[n] = (double)ls->d[i].ops * 1000 / (double)ls->d[i].ms;
		if (v[n] > ymax)
			ymax = v[n];
		n++;
	}
	c.x0 = n > 0 ? t[0] - STATS_DAY / 2 : (double)r->now - STATS_DAY;
	c.x1 = (double)r->now;
	if (s->load_slices > 0 && g->ok) {
		fdays = r->days;
		if (g->per_day < 0 && s->ops / -g->per_day < fdays)
			fdays = s->ops / -g->per_day;
		fend = s->ops + g->per_day * fdays;
		if (fend > ymax)
			ymax = fend;
		c.x1 += fdays * STATS_DAY;
	}
	if (c.x1 - c.x0 < STATS_DAY)
		c.x0 = c.x1 - STATS_DAY;
	if (cap > ymax)
		ymax = cap;
	c.y1 = ymax > 0 ? ymax * 1.06 : 1;

	fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	    "class=\"load\">", w, h);
	step = (cap > 0 ? cap : c.y1) / 4;
	for (k = 0; k <= 8 && step * (double)k <= c.y1; k++)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"" C_GRID "\"/><text x=\"%.1f\" "
		    "y=\"%.1f\" text-anchor=\"end\">%s</text>", c.l,
		    chart_y(&c, step * (double)k), w - c.r, chart_y(&c, step *
		    (double)k), c.l - 4, chart_y(&c, step * (double)k) + 4,
		    ops_axis(step * (double)k, a, sizeof a));
	for (k = 0; k < 4; k++) {
		x = c.x0 + (c.x1 - c.x0) * (double)k / 3;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">"
		    "%s</text>", chart_x(&c, x), h - 8, k == 0 ? "start" :
		    k == 3 ? "end" : "middle", html_date((int64_t)x, a,
		    sizeof a));
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"" C_AXIS "\"/>", c.l, chart_y(&c, 0), w - c.r,
	    chart_y(&c, 0));
	if (cap > 0) {
		snprintf(lbl, sizeof lbl, "%g%%", r->load_target * 100);
		chart_hline(&c, r->load_target * cap, C_WARN, "5 3", lbl);
		snprintf(lbl, sizeof lbl, "%g%%", r->load_hard * 100);
		chart_hline(&c, r->load_hard * cap, C_BAD, "5 3", lbl);
		chart_hline(&c, cap, C_AXIS, NULL, "100%");
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"" C_AXIS "\" stroke-dasharray=\"2 3\"/>",
	    chart_x(&c, (double)r->now), c.t, chart_x(&c, (double)r->now),
	    chart_y(&c, 0));
	if (n > 0) {
		m = n > HTML_LINE_POINTS ? HTML_LINE_POINTS : n;
		fputs("<polyline fill=\"none\" stroke=\"" C_LOAD "\" "
		    "stroke-width=\"2\" stroke-linejoin=\"round\" "
		    "points=\"", f);
		for (k = 0; k < m; k++) {
			i = html_thin(k, m, n);
			chart_point(f, k > 0, chart_x(&c, t[i]),
			    chart_y(&c, v[i]));
		}
		fputs("\"/>", f);
	}
	if (s->load_slices > 0)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\""
		    C_LOAD "\"/>", chart_x(&c, (double)r->now),
		    chart_y(&c, s->ops));
	if (s->load_slices > 0 && g->ok && fdays > 0)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"" C_LOAD "\" stroke-width=\"2\" "
		    "stroke-dasharray=\"6 4\"/>", chart_x(&c, (double)r->now),
		    chart_y(&c, s->ops), chart_x(&c, (double)r->now + fdays *
		    STATS_DAY), chart_y(&c, fend));
	if (n == 0 && s->load_slices == 0)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
		    "no load measured</text>", (c.l + w - c.r) / 2,
		    (c.t + h - c.b) / 2);
	fputs("</svg>\n", f);
	free(t);
	free(v);
}

static const char *
load_class(const struct report *r, const struct report_row *row)
{
	double x = report_load_fill(row);

	if (isnan(x))
		return "note";
	return x >= r->load_hard ? "bad" : x >= r->load_target ? "warn" : "ok";
}

void
html_load_chart(FILE *f, const struct report *r, const struct report_row *s)
{
	char a[24], b[24], g[24], d1[16], d2[16];

	fputs("<div class=\"chart\"><h3>", f);
	html_text(f, s->name);
	fprintf(f, " load <span class=\"%s\">%s</span></h3><p>",
	    load_class(r, s), report_load_fill_text(s, a, sizeof a));
	if (s->load_slices == 0)
		fputs("no load measured in the load window", f);
	else {
		fprintf(f, "%s of %llu ops/s", report_ops_text(s, s->ops, b,
		    sizeof b), (unsigned long long)s->ops_capacity);
		if (s->load_growth.ok)
			fprintf(f, ", %s a day, %g%% %s, %g%% %s",
			    report_signed_ops(s->load_growth.per_day, g,
			    sizeof g), r->load_target * 100,
			    report_load_days_text(s, s->load_to_target, d1,
			    sizeof d1), r->load_hard * 100,
			    report_load_days_text(s, s->load_to_hard, d2,
			    sizeof d2));
		else
			fputs(", not enough history for a trend", f);
	}
	fputs("</p>\n", f);
	load_svg(f, r, s, 420, 190);
	fputs("</div>\n", f);
}

/* The longer of a slice's evacuation (unknown: its restore) and
 * restore, for the order of the table. */
static int64_t
longest(const struct report_row *s)
{
	return s->evac.seconds > s->evac.restore ? s->evac.seconds :
	    s->evac.restore;
}

static int
evac_cmp(const void *a, const void *b)
{
	const struct report_row *x = *(const struct report_row *const *)a;
	const struct report_row *y = *(const struct report_row *const *)b;

	if (x->evac.flagged != y->evac.flagged)
		return x->evac.flagged ? -1 : 1;
	if (longest(x) != longest(y))
		return longest(x) > longest(y) ? -1 : 1;
	return strcmp(x->name, y->name);
}

void
html_evac_table(FILE *f, const struct report *r)
{
	const struct report_row **v;
	char a[32], b[32], why[256];
	const char *note = NULL;
	size_t i, n = 0, flagged = 0;

	v = xcalloc(r->nslices + 1, sizeof *v);
	for (i = 0; i < r->nslices; i++) {
		if (r->slices[i].retired)
			continue;
		v[n++] = &r->slices[i];
		flagged += r->slices[i].evac.flagged != 0;
		if (note == NULL)
			note = report_evac_why(&r->slices[i], why, sizeof why);
	}
	qsort(v, n, sizeof *v, evac_cmp);
	fprintf(f, "<p class=\"note\">The time to move every account off a "
	    "slice at the daemon's schedule: %llu move%s at once out of a "
	    "slice ([daemon] per_source, max_moves), each at the rates of the "
	    "window in force or of [throttle], cutovers only where a window "
	    "allows them; and to restore it from its replica or backup at "
	    "%s ([capacity] restore_rate). ",
	    (unsigned long long)r->evac.streams, r->evac.streams == 1 ? "" :
	    "s", report_rate_text((double)r->evac.restore_rate, a, sizeof a));
	fprintf(f, "<b class=\"%s\">%zu of %zu slices</b> take longer than "
	    "%s ([capacity] max_restore): split each into the slices shown.",
	    flagged ? "bad" : "ok", flagged, n, report_duration_text(
	    (int64_t)r->evac.max_restore, b, sizeof b));
	if (note != NULL) {
		fputs(" Evacuation times shown as unthrottled are not known: ",
		    f);
		html_text(f, note);
		fputc('.', f);
	}
	fputs("</p>\n<div class=\"scroll\"><table class=\"evac\">\n<tr>", f);
	html_th(f, "l", "slice");
	html_th(f, "l", "state");
	html_th(f, NULL, "accounts");
	html_th(f, NULL, "files");
	html_th(f, NULL, "used");
	html_th(f, NULL, "evacuation");
	html_th(f, NULL, "restore");
	html_th(f, "l", "over max_restore");
	fputs("</tr>\n", f);
	for (i = 0; i < n; i++) {
		const struct report_row *s = v[i];

		fprintf(f, "<tr%s>", s->evac.flagged ? " class=\"flagged\"" :
		    "");
		html_td(f, "l", s->name);
		html_td(f, "l", s->state);
		snprintf(a, sizeof a, "%lld", (long long)s->accounts);
		html_td(f, NULL, a);
		snprintf(a, sizeof a, "%llu", (unsigned long long)s->files);
		html_td(f, NULL, a);
		html_td(f, NULL, size_format(s->used, a, sizeof a));
		html_td(f, s->evac.seconds > (int64_t)r->evac.max_restore ?
		    "bad" : s->evac.seconds < 0 ? "note" : NULL,
		    report_evac_text(s, a, sizeof a));
		html_td(f, s->evac.restore > (int64_t)r->evac.max_restore ?
		    "bad" : NULL, report_duration_text(s->evac.restore, b,
		    sizeof b));
		if (s->evac.flagged) {
			snprintf(a, sizeof a, "split into %lld",
			    (long long)s->evac.split);
			html_td(f, "l bad", a);
		} else
			html_td(f, "l ok", "no");
		fputs("</tr>\n", f);
	}
	fputs("</table></div>\n", f);
	free(v);
}

void
html_load_cards(FILE *f, const struct report *r, int forecast)
{
	const struct report_row *fl = &r->fleet, *slow = NULL;
	char a[32], b[32], d[32], c[96];
	size_t i;

	if (fl->load_slices > 0)
		snprintf(c, sizeof c, "%s of %llu ops/s, %lld slices measured",
		    report_ops_text(fl, fl->ops, b, sizeof b),
		    (unsigned long long)fl->load_capacity,
		    (long long)fl->load_slices);
	else
		snprintf(c, sizeof c, "no slice measured");
	html_card(f, "fleet load", report_load_fill_text(fl, a, sizeof a), c);
	snprintf(c, sizeof c, "load target %g%%", r->load_target * 100);
	html_card(f, "fleet load reaches target", report_load_days_text(fl,
	    fl->load_to_target, a, sizeof a), c);
	for (i = 0; i < r->nslices; i++) {
		if (!r->slices[i].retired && (slow == NULL ||
		    longest(&r->slices[i]) > longest(slow)))
			slow = &r->slices[i];
	}
	if (slow != NULL) {
		snprintf(c, sizeof c, "%s: evacuation %s", slow->name,
		    report_evac_text(slow, b, sizeof b));
		html_card(f, "longest restore or evacuation",
		    report_duration_text(longest(slow), a, sizeof a), c);
	}
	snprintf(a, sizeof a, "%lld", (long long)fl->flagged);
	snprintf(c, sizeof c, "of %lld slices, over %s",
	    (long long)(fl->slices), report_duration_text((int64_t)
	    r->evac.max_restore, b, sizeof b));
	html_card(f, "to split", a, c);
	if (!forecast)
		return;
	if (fl->add_slices < 0)
		snprintf(a, sizeof a, "-");
	else
		snprintf(a, sizeof a, "%lld", (long long)fl->add_slices);
	if (fl->add_slices > 0)
		snprintf(c, sizeof c, "of %s and %llu ops/s, by %s",
		    size_format(r->add_size, b, sizeof b),
		    (unsigned long long)r->add_ops, fl->add_by == 0 ? "now" :
		    report_days_date(r, fl->add_by, d, sizeof d));
	else if (fl->add_slices == 0)
		snprintf(c, sizeof c, "below %g%% fill and %g%% load for %d "
		    "days", r->target * 100, r->load_target * 100, r->days);
	else
		snprintf(c, sizeof c, "no slice size: give --slice-size");
	html_card(f, "slices to add", a, c);
}
