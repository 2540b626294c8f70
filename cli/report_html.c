/*
 * The HTML page of the reports: see report_write.h. One file, inline CSS
 * and SVG, no script, no font or image to fetch: it can be mailed, kept
 * and opened offline years later.
 */
#define _GNU_SOURCE
#include "cli/output.h"
#include "cli/report.h"
#include "cli/report_html.h"
#include "cli/report_write.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans',sans-serif;margin:24px;color:#212529;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}"
    "h2{font-size:17px;margin:30px 0 10px;padding-bottom:4px;"
    "border-bottom:1px solid #dee2e6}"
    "h3{font-size:13px;margin:2px 4px 2px;font-weight:600}"
    ".meta{color:#6c757d;margin:0}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}"
    ".card{border:1px solid #dee2e6;border-radius:6px;padding:8px 14px;"
    "min-width:140px}"
    ".card b{display:block;font-size:20px;font-weight:600}"
    ".card span{color:#6c757d;font-size:12px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(380px,1fr));gap:14px}"
    ".pairs{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(780px,1fr));gap:14px}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}"
    "tr.flagged td{background:#fff5f5}"
    ".chart{border:1px solid #e9ecef;border-radius:6px;padding:6px}"
    ".chart p{margin:0 4px;color:#6c757d;font-size:12px}"
    "svg{display:block;width:100%;height:auto}"
    "svg text{font-size:11px;fill:#495057}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums;"
    "margin-bottom:8px}"
    "th,td{padding:3px 10px;border-bottom:1px solid #f1f3f5;"
    "text-align:right;white-space:nowrap}"
    "th{background:#f8f9fa;font-weight:600}"
    ".l{text-align:left}.wrap{white-space:normal;min-width:16em}"
    ".scroll{overflow-x:auto}"
    "tr.total td{font-weight:600;border-top:2px solid #dee2e6}"
    ".ok{color:" C_OK "}.warn{color:" C_WARN "}.bad{color:" C_BAD "}"
    ".note{color:#6c757d}"
    ".legend{color:#495057;font-size:12px;margin:4px 0}"
    ".legend i{display:inline-block;width:18px;height:0;"
    "vertical-align:middle;margin:0 4px 0 12px;border-top:2px solid}";

void
html_text(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char *
fill_color(const struct report *r, uint64_t used, uint64_t capacity)
{
	double x = capacity ? (double)used / (double)capacity : 0;

	if (x >= r->hard)
		return C_BAD;
	if (x >= r->target)
		return C_WARN;
	return C_OK;
}

static const char *
fill_class(const struct report *r, uint64_t used, uint64_t capacity)
{
	double x = capacity ? (double)used / (double)capacity : 0;

	return x >= r->hard ? "bad" : x >= r->target ? "warn" : "ok";
}

const char *
html_date(int64_t t, char *buf, size_t len)
{
	time_format(t, buf, len);
	if (strlen(buf) > 10)
		buf[10] = '\0';
	return buf;
}

void
html_page_start(FILE *f, const struct report *r, const char *title)
{
	char now[32], range[96];

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>");
	html_text(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>",
	    css);
	html_text(f, title);
	fprintf(f, "</h1>\n<p class=\"meta\">generated %s by mailshift "
	    "from the catalog, %s</p>\n",
	    time_format(r->now, now, sizeof now),
	    report_range_text(r, range, sizeof range));
}

void
html_page_end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

void
html_card(FILE *f, const char *label, const char *value, const char *sub)
{
	fputs("<div class=\"card\"><span>", f);
	html_text(f, label);
	fputs("</span><b>", f);
	html_text(f, value);
	fputs("</b><span>", f);
	html_text(f, sub);
	fputs("</span></div>\n", f);
}

double
chart_x(const struct chart *c, double x)
{
	return c->l + (x - c->x0) / (c->x1 - c->x0) * (c->w - c->l - c->r);
}

double
chart_y(const struct chart *c, double y)
{
	return c->h - c->b - (y - c->y0) / (c->y1 - c->y0) *
	    (c->h - c->t - c->b);
}

void
chart_hline(const struct chart *c, double y, const char *color,
    const char *dash, const char *label)
{
	double py = chart_y(c, y);

	fprintf(c->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"%s\" stroke-width=\"1\"%s%s%s/>", c->l, py, c->w - c->r,
	    py, color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
	    dash ? "\"" : "");
	if (label != NULL)
		fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" style=\"fill:%s\">"
		    "%s</text>", c->w - c->r + 4, py + 4, color, label);
}

/* Tenths as text into the end of buf: "-12.5". */
static char *
tenths(char *end, double v)
{
	long long x = llround(v * 10);
	int neg = x < 0;

	if (neg)
		x = -x;
	*--end = (char)('0' + x % 10);
	*--end = '.';
	x /= 10;
	do {
		*--end = (char)('0' + x % 10);
		x /= 10;
	} while (x > 0);
	if (neg)
		*--end = '-';
	return end;
}

void
chart_point(FILE *f, int space, double x, double y)
{
	char buf[64], *p = buf + sizeof buf;

	/* Thousands of points per page: printf("%.1f") costs more than the
	 * rest of the page together. */
	if (!isfinite(x) || !isfinite(y) || fabs(x) > 1e12 || fabs(y) > 1e12) {
		fprintf(f, "%s%.1f,%.1f", space ? " " : "", x, y);
		return;
	}
	p = tenths(p, y);
	*--p = ',';
	p = tenths(p, x);
	if (space)
		*--p = ' ';
	fwrite(p, 1, (size_t)(buf + sizeof buf - p), f);
}

size_t
html_thin(size_t k, size_t m, size_t n)
{
	if (m >= n || m < 2)
		return k;
	return (size_t)llround((double)k * (double)(n - 1) / (double)(m - 1));
}

/*
 * A usage-over-time chart: the snapshots (solid), the trend from now
 * (dashed) until the hard limit or the horizon, and lines at the target
 * fill, the hard limit and the capacity.
 */
static void
usage_chart(FILE *f, const struct report *r, double w, double h,
    const int64_t *t, const double *v, size_t n, uint64_t capacity,
    double used_now, const struct stats_growth *g)
{
	struct chart c = { f, w, h, 66, 40, 10, 24, 0, 0, 0, 0 };
	double cap = (double)capacity, ymax = used_now, fdays = 0, fend;
	double span, horizon, dh = -1, step, x;
	char a[32], lbl[48];
	size_t i, k, m;

	for (i = 0; i < n; i++)
		if (v[i] > ymax)
			ymax = v[i];
	c.x0 = n > 0 ? (double)t[0] : (double)r->now;
	c.x1 = (double)r->now;
	if (n > 0 && (double)t[n - 1] > c.x1)
		c.x1 = (double)t[n - 1];
	if (g->ok) {
		span = (c.x1 - c.x0) / STATS_DAY;
		/* Far enough to reach the hard limit in most cases, not
		 * so far that the history becomes a sliver. */
		horizon = span * 4 > r->days ? span * 4 : r->days;
		if (horizon < 365)
			horizon = 365;
		dh = cap > 0 ? stats_days_until(used_now, g->per_day,
		    r->hard * cap) : -1;
		fdays = dh > 0 && dh <= horizon ? dh : r->days;
		if (g->per_day < 0 && used_now / -g->per_day < fdays)
			fdays = used_now / -g->per_day;
		fend = used_now + g->per_day * fdays;
		if (fend > ymax)
			ymax = fend;
		if ((double)r->now + fdays * STATS_DAY > c.x1)
			c.x1 = (double)r->now + fdays * STATS_DAY;
	}
	if (c.x1 - c.x0 < STATS_DAY) {
		c.x0 -= STATS_DAY / 2;
		c.x1 += STATS_DAY / 2;
	}
	if (cap > ymax)
		ymax = cap;
	c.y0 = 0;
	c.y1 = ymax > 0 ? ymax * 1.06 : 1;

	fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\">", w, h);
	/* Grid and y labels at quarters of the capacity (or of the top). */
	step = (cap > 0 ? cap : c.y1) / 4;
	for (k = 0; k <= 8 && step * (double)k <= c.y1; k++) {
		double py = chart_y(&c, step * (double)k);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"" C_GRID "\"/><text x=\"%.1f\" "
		    "y=\"%.1f\" text-anchor=\"end\">%s</text>", c.l, py,
		    w - c.r, py, c.l - 4, py + 4, size_format((uint64_t)
		    llround(step * (double)k), a, sizeof a));
	}
	/* x labels: four dates. */
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
		snprintf(lbl, sizeof lbl, "%g%%", r->target * 100);
		chart_hline(&c, r->target * cap, C_WARN, "5 3", lbl);
		snprintf(lbl, sizeof lbl, "%g%%", r->hard * 100);
		chart_hline(&c, r->hard * cap, C_BAD, "5 3", lbl);
		chart_hline(&c, cap, C_AXIS, NULL, "100%");
	}
	/* Now. */
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"" C_AXIS "\" stroke-dasharray=\"2 3\"/>",
	    chart_x(&c, (double)r->now), c.t, chart_x(&c, (double)r->now),
	    chart_y(&c, 0));
	/* The snapshots, thinned to HTML_LINE_POINTS. */
	if (n > 0) {
		m = n;
		if (m > HTML_LINE_POINTS)
			m = HTML_LINE_POINTS;
		fputs("<polyline fill=\"none\" stroke=\"" C_USED "\" "
		    "stroke-width=\"2\" stroke-linejoin=\"round\" "
		    "points=\"", f);
		for (k = 0; k < m; k++) {
			i = html_thin(k, m, n);
			chart_point(f, k > 0, chart_x(&c, (double)t[i]),
			    chart_y(&c, v[i]));
		}
		fputs("\"/>", f);
		if (n == 1)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
			    "fill=\"" C_USED "\"/>", chart_x(&c, (double)t[0]),
			    chart_y(&c, v[0]));
	}
	/* The forecast, dashed, from what is used now. */
	if (g->ok && fdays > 0) {
		x = (double)r->now + fdays * STATS_DAY;
		fend = used_now + g->per_day * fdays;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"" C_USED "\" stroke-width=\"2\" "
		    "stroke-dasharray=\"6 4\"/>", chart_x(&c, (double)r->now),
		    chart_y(&c, used_now), chart_x(&c, x), chart_y(&c, fend));
		if (cap > 0 && fend >= r->hard * cap - 0.5)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
			    "fill=\"" C_BAD "\"/><text x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"end\" stroke=\"#fff\" "
			    "stroke-width=\"3\" paint-order=\"stroke\">"
			    "%g%% on %s</text>",
			    chart_x(&c, x), chart_y(&c, fend),
			    chart_x(&c, x) - 8, chart_y(&c, fend) + 16,
			    r->hard * 100,
			    html_date((int64_t)x, a, sizeof a));
		else if (cap > 0 && dh > 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"end\">%g%% in %.0f days</text>",
			    chart_x(&c, x) - 4, chart_y(&c, fend) - 8,
			    r->hard * 100, dh);
	}
	if (n == 0 && !g->ok)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
		    "no snapshots in the range</text>", (c.l + w - c.r) / 2,
		    (c.t + h - c.b) / 2);
	fputs("</svg>\n", f);
}

/* The fill of every slice as horizontal bars. */
static void
fill_chart(FILE *f, const struct report *r)
{
	double w = 960, lw = 150, rw = 70, bh = 14, gap = 6, top = 22;
	double h = top + (double)r->nslices * (bh + gap) + 6, x, bw;
	const struct report_row *s;
	char pct[16];
	size_t i;

	bw = w - lw - rw;
	fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\">", w, h);
	for (i = 0; i <= 4; i++) {
		x = lw + bw * (double)i / 4;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"" C_GRID "\"/><text x=\"%.1f\" "
		    "y=\"14\" text-anchor=\"middle\">%zu%%</text>", x, top - 4,
		    x, h, x, i * 25);
	}
	for (i = 0; i < r->nslices; i++) {
		double y = top + (double)i * (bh + gap), fill;

		s = &r->slices[i];
		fill = s->capacity ? (double)s->used / (double)s->capacity : 0;
		fill_format(s->used, s->capacity, pct, sizeof pct);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
		    lw - 8, y + bh - 3);
		html_text(f, s->name);
		fprintf(f, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"#f1f3f5\"/><rect x=\"%.1f\" "
		    "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>"
		    "<text x=\"%.1f\" y=\"%.1f\">%s</text>", lw, y, bw, bh, lw,
		    y, bw * (fill > 1 ? 1 : fill), bh, fill_color(r, s->used,
		    s->capacity), lw + bw + 6, y + bh - 3, pct);
	}
	x = lw + bw * r->target;
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"" C_WARN "\" stroke-width=\"1.5\" "
	    "stroke-dasharray=\"5 3\"/>", x, top - 4, x, h);
	x = lw + bw * r->hard;
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	    "stroke=\"" C_BAD "\" stroke-width=\"1.5\" "
	    "stroke-dasharray=\"5 3\"/>", x, top - 4, x, h);
	fputs("</svg>\n", f);
}

static void
legend(FILE *f, const struct report *r)
{
	fprintf(f, "<p class=\"legend\"><i style=\"border-color:" C_USED
	    "\"></i>used (snapshots)<i style=\"border-color:" C_USED
	    ";border-top-style:dashed\"></i>trend from now"
	    "<i style=\"border-color:" C_WARN ";border-top-style:dashed\">"
	    "</i>target fill %g%%<i style=\"border-color:" C_BAD
	    ";border-top-style:dashed\"></i>hard limit %g%%</p>\n",
	    r->target * 100, r->hard * 100);
}

static void
load_legend(FILE *f, const struct report *r)
{
	fprintf(f, "<p class=\"legend\"><i style=\"border-color:" C_LOAD
	    "\"></i>load (per day)<i style=\"border-color:" C_LOAD
	    ";border-top-style:dashed\"></i>load trend from now"
	    "<i style=\"border-color:" C_WARN ";border-top-style:dashed\">"
	    "</i>load target %g%%<i style=\"border-color:" C_BAD
	    ";border-top-style:dashed\"></i>load hard limit %g%% of the ops "
	    "capacity</p>\n", r->load_target * 100, r->load_hard * 100);
}

/* One slice's chart in the grid. */
static void
slice_chart(FILE *f, const struct report *r, const struct report_row *s)
{
	const struct state_report_series *se = s->series;
	char pct[16], g[32], d1[16], d2[16];
	int64_t *t = NULL;
	double *v = NULL;
	size_t i, n = se ? se->n : 0;

	if (n > 0) {
		t = xcalloc(n, sizeof *t);
		v = xcalloc(n, sizeof *v);
		for (i = 0; i < n; i++) {
			t[i] = se->p[i].ts;
			v[i] = (double)se->p[i].bytes;
		}
	}
	fputs("<div class=\"chart\"><h3>", f);
	html_text(f, s->name);
	fprintf(f, " <span class=\"%s\">%s</span></h3><p>",
	    fill_class(r, s->used, s->capacity),
	    fill_format(s->used, s->capacity, pct, sizeof pct));
	if (s->growth.ok)
		fprintf(f, "%s/day, %g%% %s, %g%% %s",
		    report_signed_size(s->growth.per_day, g, sizeof g),
		    r->target * 100, report_days_text(s, s->to_target, d1,
		    sizeof d1), r->hard * 100, report_days_text(s, s->to_hard,
		    d2, sizeof d2));
	else
		fprintf(f, "not enough history (%zu snapshot%s)", n,
		    n == 1 ? "" : "s");
	fputs("</p>\n", f);
	usage_chart(f, r, 420, 190, t, v, n, s->capacity, (double)s->used,
	    &s->growth);
	fputs("</div>\n", f);
	free(t);
	free(v);
}

void
html_th(FILE *f, const char *cls, const char *label)
{
	fprintf(f, "<th%s%s%s>", cls ? " class=\"" : "", cls ? cls : "",
	    cls ? "\"" : "");
	html_text(f, label);
	fputs("</th>", f);
}

void
html_td(FILE *f, const char *cls, const char *text)
{
	fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "",
	    cls ? "\"" : "");
	html_text(f, text);
	fputs("</td>", f);
}

static const char *
group_label(const struct report *r)
{
	return r->by == REPORT_BY_PAIR ? "pair" : r->by == REPORT_BY_SERVER ?
	    "server" : "slice";
}

/* The load, evacuation and restore cells of a usage row. */
static void
usage_load_tds(FILE *f, const struct report *r, const struct report_row *row,
    int slice)
{
	char a[32], b[32];
	double x = report_load_fill(row);

	html_td(f, NULL, report_ops_text(row, row->ops, a, sizeof a));
	html_td(f, isnan(x) ? "note" : x >= r->load_hard ? "bad" :
	    x >= r->load_target ? "warn" : "ok", report_load_fill_text(row,
	    b, sizeof b));
	(void)slice;
}

static void
usage_evac_tds(FILE *f, const struct report *r, const struct report_row *row,
    int slice)
{
	char a[32];
	int gone = row->retired && row->slices == 1;

	html_td(f, NULL, report_load_days_text(row, row->load_to_target, a,
	    sizeof a));
	html_td(f, NULL, report_load_days_text(row, row->load_to_hard, a,
	    sizeof a));
	html_td(f, row->evac.seconds > (int64_t)r->evac.max_restore ? "bad" :
	    NULL, report_evac_text(row, a, sizeof a));
	html_td(f, row->evac.restore > (int64_t)r->evac.max_restore ? "bad" :
	    NULL, gone ? "-" : report_duration_text(row->evac.restore, a,
	    sizeof a));
	if (slice && row->slices == 1 && row->pair != NULL) {
		if (row->evac.flagged)
			snprintf(a, sizeof a, "%lld",
			    (long long)row->evac.split);
		html_td(f, row->evac.flagged ? "bad" : NULL,
		    row->evac.flagged ? a : "-");
	} else {
		snprintf(a, sizeof a, slice ? "%lld flagged" : "%lld",
		    (long long)row->flagged);
		html_td(f, row->flagged ? "bad" : NULL, a);
	}
}

static void
usage_tr(FILE *f, const struct report *r, const struct report_row *row,
    const char *name, int total)
{
	char a[32], b[32], c[32], d[32], e[32], g[32];
	int slice = r->by == REPORT_BY_SLICE;

	fprintf(f, "<tr%s>", total ? " class=\"total\"" : row->evac.flagged &&
	    row->pair != NULL ? " class=\"flagged\"" : "");
	html_td(f, "l", name);
	if (slice) {
		html_td(f, "l", row->pair ? row->pair : "");
		html_td(f, "l", row->server ? row->server : "");
		html_td(f, "l", row->state ? row->state : "");
	} else {
		snprintf(a, sizeof a, "%lld", (long long)row->slices);
		html_td(f, NULL, a);
	}
	snprintf(a, sizeof a, "%lld", (long long)row->accounts);
	html_td(f, NULL, a);
	snprintf(a, sizeof a, "%llu", (unsigned long long)row->files);
	html_td(f, NULL, a);
	html_td(f, NULL, size_format(row->used, a, sizeof a));
	html_td(f, NULL, size_format(row->capacity, b, sizeof b));
	html_td(f, fill_class(r, row->used, row->capacity),
	    fill_format(row->used, row->capacity, c, sizeof c));
	usage_load_tds(f, r, row, slice);
	html_td(f, NULL, row->growth.ok ? report_signed_size(
	    row->growth.per_day, g, sizeof g) : "not enough history");
	html_td(f, NULL, report_days_text(row, row->to_target, d, sizeof d));
	html_td(f, NULL, report_days_text(row, row->to_hard, e, sizeof e));
	usage_evac_tds(f, r, row, slice);
	fputs("</tr>\n", f);
}

static void
usage_html_table(FILE *f, const struct report *r)
{
	char h1[24], h2[24], h3[32], h4[32];
	size_t i;

	snprintf(h1, sizeof h1, "to %g%%", r->target * 100);
	snprintf(h2, sizeof h2, "to %g%%", r->hard * 100);
	snprintf(h3, sizeof h3, "load to %g%%", r->load_target * 100);
	snprintf(h4, sizeof h4, "load to %g%%", r->load_hard * 100);
	fputs("<div class=\"scroll\"><table>\n<tr>", f);
	html_th(f, "l", group_label(r));
	if (r->by == REPORT_BY_SLICE) {
		html_th(f, "l", "pair");
		html_th(f, "l", "server");
		html_th(f, "l", "state");
	} else
		html_th(f, NULL, "slices");
	html_th(f, NULL, "accounts");
	html_th(f, NULL, "files");
	html_th(f, NULL, "used");
	html_th(f, NULL, "capacity");
	html_th(f, NULL, "fill");
	html_th(f, NULL, "ops/s");
	html_th(f, NULL, "load");
	html_th(f, NULL, "growth/day");
	html_th(f, NULL, h1);
	html_th(f, NULL, h2);
	html_th(f, NULL, h3);
	html_th(f, NULL, h4);
	html_th(f, NULL, "evacuation");
	html_th(f, NULL, "restore");
	html_th(f, NULL, r->by == REPORT_BY_SLICE ? "split into" :
	    "flagged");
	fputs("</tr>\n", f);
	for (i = 0; i < r->ngroups; i++)
		usage_tr(f, r, &r->groups[i], r->groups[i].name, 0);
	usage_tr(f, r, &r->fleet, "total", 1);
	fputs("</table></div>\n", f);
}

/* A load crossing as a date, "never" or "-". */
static const char *
load_date(const struct report *r, const struct report_row *row, double days,
    char *buf, size_t len)
{
	if (days < 0)
		return report_load_days_text(row, days, buf, len);
	return report_days_date(r, days, buf, len);
}

static void
forecast_tr(FILE *f, const struct report *r, const struct report_row *row,
    const char *name, int total)
{
	char a[32], b[32], c[32], d[32], e[32], g[32];
	struct report_row proj = *row;

	fprintf(f, "<tr%s>", total ? " class=\"total\"" : "");
	html_td(f, "l", name);
	html_td(f, fill_class(r, row->used, row->capacity),
	    fill_format(row->used, row->capacity, a, sizeof a));
	html_td(f, NULL, row->growth.ok ? report_signed_size(
	    row->growth.per_day, g, sizeof g) : "not enough history");
	html_td(f, NULL, report_days_text(row, row->to_target, b, sizeof b));
	html_td(f, "l", report_days_date(r, row->to_target, c, sizeof c));
	html_td(f, NULL, report_days_text(row, row->to_hard, d, sizeof d));
	html_td(f, "l", report_days_date(r, row->to_hard, e, sizeof e));
	html_td(f, NULL, size_format((uint64_t)llround(row->projected), a,
	    sizeof a));
	html_td(f, NULL, fill_format((uint64_t)llround(row->projected),
	    row->capacity, b, sizeof b));
	usage_load_tds(f, r, row, 0);
	html_td(f, NULL, row->load_slices == 0 ? "-" : row->load_growth.ok ?
	    report_signed_ops(row->load_growth.per_day, g, sizeof g) :
	    "not enough history");
	html_td(f, "l", load_date(r, row, row->load_to_target, c, sizeof c));
	html_td(f, "l", load_date(r, row, row->load_to_hard, d, sizeof d));
	proj.ops = row->load_projected;
	html_td(f, NULL, report_load_fill_text(&proj, e, sizeof e));
	if (row->add_slices < 0)
		snprintf(a, sizeof a, "-");
	else
		snprintf(a, sizeof a, "%lld", (long long)row->add_slices);
	html_td(f, row->add_slices > 0 ? "warn" : NULL, a);
	html_td(f, "l", row->add_slices > 0 ? (row->add_by == 0 ? "now" :
	    report_days_date(r, row->add_by, b, sizeof b)) : "-");
	fputs("</tr>\n", f);
}

static void
forecast_html_table(FILE *f, const struct report *r)
{
	const struct report_row **v = report_forecast_order(r);
	char h[9][32];
	size_t i;

	snprintf(h[6], sizeof h[6], "load %g%% on", r->load_target * 100);
	snprintf(h[7], sizeof h[7], "load %g%% on", r->load_hard * 100);
	snprintf(h[8], sizeof h[8], "load in %d days", r->days);
	snprintf(h[0], sizeof h[0], "to %g%%", r->target * 100);
	snprintf(h[1], sizeof h[1], "%g%% on", r->target * 100);
	snprintf(h[2], sizeof h[2], "to %g%%", r->hard * 100);
	snprintf(h[3], sizeof h[3], "%g%% on", r->hard * 100);
	snprintf(h[4], sizeof h[4], "used in %d days", r->days);
	snprintf(h[5], sizeof h[5], "fill in %d days", r->days);
	fputs("<div class=\"scroll\"><table>\n<tr>", f);
	html_th(f, "l", group_label(r));
	html_th(f, NULL, "fill");
	html_th(f, NULL, "growth/day");
	html_th(f, NULL, h[0]);
	html_th(f, "l", h[1]);
	html_th(f, NULL, h[2]);
	html_th(f, "l", h[3]);
	html_th(f, NULL, h[4]);
	html_th(f, NULL, h[5]);
	html_th(f, NULL, "ops/s");
	html_th(f, NULL, "load");
	html_th(f, NULL, "load/day");
	html_th(f, "l", h[6]);
	html_th(f, "l", h[7]);
	html_th(f, NULL, h[8]);
	html_th(f, NULL, "slices to add");
	html_th(f, "l", "by");
	fputs("</tr>\n", f);
	for (i = 0; i < r->ngroups; i++)
		forecast_tr(f, r, v[i], v[i]->name, 0);
	forecast_tr(f, r, &r->fleet, "total", 1);
	fputs("</table></div>\n", f);
	free(v);
}

static void
capacity_cards(FILE *f, const struct report *r)
{
	const struct report_row *fl = &r->fleet;
	char a[32], b[32], c[48], d[32];

	fill_format(fl->used, fl->capacity, a, sizeof a);
	snprintf(c, sizeof c, "%s of %s", size_format(fl->used, b, sizeof b),
	    size_format(fl->capacity, d, sizeof d));
	html_card(f, "fleet fill", a, c);
	snprintf(c, sizeof c, "%lld slices, %lld accounts",
	    (long long)fl->slices, (long long)fl->accounts);
	html_card(f, "growth per day", fl->growth.ok ? report_signed_size(
	    fl->growth.per_day, a, sizeof a) : "not enough history", c);
	snprintf(c, sizeof c, "target fill %g%%", r->target * 100);
	html_card(f, "fleet reaches target", report_days_text(fl, fl->to_target,
	    a, sizeof a), c);
	snprintf(c, sizeof c, "hard limit %g%%", r->hard * 100);
	html_card(f, "fleet reaches hard limit", report_days_text(fl,
	    fl->to_hard, a, sizeof a), c);
	snprintf(c, sizeof c, "to stay below %g%% for %d days",
	    r->target * 100, r->days);
	html_card(f, "capacity to add", r->needed > 0 ? size_format((uint64_t)
	    llround(r->needed), a, sizeof a) : "none", c);
}

void
report_html_capacity(FILE *f, const struct report *r, int forecast)
{
	char range[32];
	size_t i, live = 0;

	html_page_start(f, r, forecast ? "mailshift capacity forecast" :
	    "mailshift capacity usage");
	if (r->nslices == 0) {
		fputs("<p>No slices in the catalog yet: add them with "
		    "<code>mailshift slice add</code> and record their usage "
		    "with <code>mailshift discover</code>.</p>\n", f);
		html_page_end(f);
		return;
	}
	fputs("<div class=\"cards\">\n", f);
	capacity_cards(f, r);
	html_load_cards(f, r, forecast);
	fputs("</div>\n<h2>Fleet usage over time</h2>\n", f);
	legend(f, r);
	fputs("<div class=\"chart\">\n", f);
	usage_chart(f, r, 960, 300, r->fleet_t, r->fleet_used, r->nfleet,
	    r->fleet.capacity, (double)r->fleet.used, &r->fleet.growth);
	fputs("</div>\n<h2>Fill per slice</h2>\n<div class=\"chart\">\n", f);
	fill_chart(f, r);
	fputs("</div>\n", f);
	if (forecast) {
		fputs("<h2>Forecast: in the order they fill</h2>\n", f);
		forecast_html_table(f, r);
	}
	fprintf(f, "<h2>Usage per %s</h2>\n", group_label(r));
	usage_html_table(f, r);
	if (!forecast) {
		fputs("<h2>Forecast</h2>\n", f);
		forecast_html_table(f, r);
	}
	fputs("<h2>Evacuation and restore per slice</h2>\n", f);
	html_evac_table(f, r);
	for (i = 0; i < r->nslices; i++)
		live += !r->slices[i].retired;
	fprintf(f, "<h2>Usage and load over time per slice</h2>\n");
	legend(f, r);
	load_legend(f, r);
	fputs("<div class=\"pairs\">\n", f);
	for (i = 0; i < r->nslices; i++) {
		if (r->slices[i].retired)
			continue;
		fputs("<div class=\"pair\">\n", f);
		slice_chart(f, r, &r->slices[i]);
		html_load_chart(f, r, &r->slices[i]);
		fputs("</div>\n", f);
	}
	fprintf(f, "</div>\n<p class=\"note\">%zu slices drawn (retired slices "
	    "are left out). Growth is the Theil&ndash;Sen slope of each "
	    "slice's snapshots: the median of the slopes between every two "
	    "snapshots, so that a one-off jump does not make a trend. A "
	    "trend needs two snapshots at least a day apart. Load is the "
	    "slice's operations per second over the last %s ([capacity] "
	    "load_window), drawn per UTC day over the range, its trend the "
	    "same robust slope of the daily loads.</p>\n", live,
	    report_duration_text(r->load_window, range, sizeof range));
	html_page_end(f);
}
