/* The HTML page of the moves report: see report_write.h. */
#define _GNU_SOURCE
#include "cli/report.h"
#include "cli/report_html.h"
#include "cli/report_write.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A vertical dashed line at x with a label in the top margin at y. */
static void
marker(const struct chart *c, double x, double y, const char *color,
    const char *label, double ms)
{
	double px = chart_x(c, x);
	int left = px > c->l + 120;

	fprintf(c->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
	    "y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"5 3\"/>"
	    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
	    "style=\"fill:%s\">%s %g ms</text>", px, y - 4, px, chart_y(c, 0),
	    color, left ? px - 4 : px + 4, y, left ? "end" : "start", color,
	    label, ms);
}

/* A histogram of the cutover lock times of done moves. */
static void
lock_chart(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	struct chart c = { f, 960, 190, 50, 20, 40, 30, 0, 0, 0, 0 };
	size_t bins[20], top = 1, i, k;
	double bw, x;

	memset(bins, 0, sizeof bins);
	c.x1 = t->lock_max > 0 ? t->lock_max * 1.05 : 1;
	for (i = 0; i < r->nmoves; i++) {
		if (r->moves[i].state != MOVE_DONE ||
		    r->moves[i].lock_ms < 0)
			continue;
		k = (size_t)((double)r->moves[i].lock_ms / c.x1 * 20);
		bins[k > 19 ? 19 : k]++;
	}
	for (k = 0; k < 20; k++)
		if (bins[k] > top)
			top = bins[k];
	c.y1 = (double)top * 1.1;
	bw = (c.w - c.l - c.r) / 20;
	fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\">", c.w, c.h);
	for (k = 0; k < 20; k++) {
		if (bins[k] == 0)
			continue;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"" C_USED "\"/><text x=\"%.1f\" "
		    "y=\"%.1f\" text-anchor=\"middle\">%zu</text>",
		    c.l + bw * (double)k + 1, chart_y(&c, (double)bins[k]),
		    bw - 2, chart_y(&c, 0) - chart_y(&c, (double)bins[k]),
		    c.l + bw * ((double)k + 0.5), chart_y(&c,
		    (double)bins[k]) - 3, bins[k]);
	}
	for (k = 0; k <= 4; k++) {
		x = c.x1 * (double)k / 4;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
		    "%.0f ms</text>", chart_x(&c, x), c.h - 10, x);
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"" C_AXIS "\"/>", c.l, chart_y(&c, 0), c.w - c.r,
	    chart_y(&c, 0));
	marker(&c, t->lock_median, 12, C_WARN, "median", t->lock_median);
	marker(&c, t->lock_p95, 26, C_BAD, "p95", t->lock_p95);
	fputs("</svg>\n", f);
}

void
report_html_moves(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	char a[32], b[48], c[32];
	size_t i;

	html_page_start(f, r, "mailshift moves");
	if (r->nmoves == 0) {
		fprintf(f, "<p>No moves created %s.</p>\n",
		    report_range_text(r, b, sizeof b));
		html_page_end(f);
		return;
	}
	fputs("<div class=\"cards\">\n", f);
	snprintf(a, sizeof a, "%zu", t->moves);
	snprintf(b, sizeof b, "%zu done, %zu failed, %zu cancelled, %zu open",
	    t->done, t->failed, t->cancelled, t->open);
	html_card(f, "moves", a, b);
	snprintf(b, sizeof b, "%llu files", (unsigned long long)t->files);
	html_card(f, "moved", size_format(t->bytes, a, sizeof a), b);
	snprintf(b, sizeof b, "over %s", report_duration_text(t->seconds, c,
	    sizeof c));
	html_card(f, "average rate", report_rate_text(t->rate, a, sizeof a), b);
	if (t->locks > 0) {
		snprintf(a, sizeof a, "%g ms", t->lock_median);
		snprintf(b, sizeof b, "p95 %g ms, max %g ms", t->lock_p95,
		    t->lock_max);
	} else {
		snprintf(a, sizeof a, "-");
		snprintf(b, sizeof b, "no done move");
	}
	html_card(f, "cutover lock (median)", a, b);
	snprintf(a, sizeof a, "%lld", (long long)t->retries);
	snprintf(b, sizeof b, "%lld passes", (long long)t->passes);
	html_card(f, "retries", a, b);
	fputs("</div>\n", f);
	if (t->locks > 0) {
		fputs("<h2>Cutover lock times of done moves</h2>\n"
		    "<div class=\"chart\">\n", f);
		lock_chart(f, r);
		fputs("</div>\n", f);
	}
	if (t->failed > 0) {
		fputs("<h2>Failures</h2>\n<div class=\"scroll\"><table>\n"
		    "<tr>", f);
		html_th(f, NULL, "move");
		html_th(f, "l", "user");
		html_th(f, "l", "finished");
		html_th(f, "l", "reason");
		fputs("</tr>\n", f);
		for (i = 0; i < r->nmoves; i++) {
			m = &r->moves[i];
			if (m->state != MOVE_FAILED)
				continue;
			snprintf(a, sizeof a, "%lld", (long long)m->id);
			fputs("<tr>", f);
			html_td(f, NULL, a);
			html_td(f, "l", m->user);
			html_td(f, "l", time_format(m->finished, c, sizeof c));
			html_td(f, "l bad wrap", m->error ? m->error :
			    "no reason recorded");
			fputs("</tr>\n", f);
		}
		fputs("</table></div>\n", f);
	}
	fputs("<h2>Moves</h2>\n<div class=\"scroll\"><table>\n<tr>", f);
	html_th(f, NULL, "id");
	html_th(f, "l", "user");
	html_th(f, "l", "from");
	html_th(f, "l", "to");
	html_th(f, "l", "state");
	html_th(f, "l", "created");
	html_th(f, NULL, "bytes");
	html_th(f, NULL, "files");
	html_th(f, NULL, "duration");
	html_th(f, NULL, "rate");
	html_th(f, NULL, "passes");
	html_th(f, NULL, "lock");
	html_th(f, NULL, "retries");
	html_th(f, "l", "error");
	fputs("</tr>\n", f);
	for (i = 0; i < r->nmoves; i++) {
		int64_t s;

		m = &r->moves[i];
		s = report_move_seconds(m);
		fputs("<tr>", f);
		snprintf(a, sizeof a, "%lld", (long long)m->id);
		html_td(f, NULL, a);
		html_td(f, "l", m->user);
		html_td(f, "l", m->source);
		html_td(f, "l", m->target);
		html_td(f, m->state == MOVE_FAILED ? "l bad" : "l",
		    state_move_state_name(m->state));
		html_td(f, "l", time_format(m->created, c, sizeof c));
		html_td(f, NULL, size_format(m->bytes, a, sizeof a));
		snprintf(a, sizeof a, "%llu", (unsigned long long)m->files);
		html_td(f, NULL, a);
		html_td(f, NULL, report_duration_text(s, a, sizeof a));
		html_td(f, NULL, report_rate_text(report_move_rate(m), a,
		    sizeof a));
		snprintf(a, sizeof a, "%lld", (long long)m->passes);
		html_td(f, NULL, a);
		if (m->lock_ms >= 0)
			snprintf(a, sizeof a, "%lld ms", (long long)m->lock_ms);
		else
			snprintf(a, sizeof a, "-");
		html_td(f, NULL, a);
		snprintf(a, sizeof a, "%lld", (long long)m->attempts);
		html_td(f, NULL, a);
		html_td(f, "l wrap", m->error ? m->error : "");
		fputs("</tr>\n", f);
	}
	fputs("<tr class=\"total\">", f);
	html_td(f, "l", "total");
	fprintf(f, "<td class=\"l\" colspan=\"5\">%zu moves, %zu done</td>",
	    t->moves, t->done);
	html_td(f, NULL, size_format(t->bytes, a, sizeof a));
	snprintf(a, sizeof a, "%llu", (unsigned long long)t->files);
	html_td(f, NULL, a);
	html_td(f, NULL, report_duration_text(t->seconds, a, sizeof a));
	html_td(f, NULL, report_rate_text(t->rate, a, sizeof a));
	snprintf(a, sizeof a, "%lld", (long long)t->passes);
	html_td(f, NULL, a);
	html_td(f, NULL, "");
	snprintf(a, sizeof a, "%lld", (long long)t->retries);
	html_td(f, NULL, a);
	html_td(f, "l", "");
	fputs("</tr>\n</table></div>\n", f);
	html_page_end(f);
}
