/*
 * What the files of the HTML reports share (private to report_html*.c):
 * colours, escaping, the page's frame, cards, table cells and the frame
 * of an SVG chart. report_html.c draws the capacity pages,
 * report_html_load.c their load and evacuation parts, report_html_moves.c
 * the moves page.
 */
#ifndef MAILSHIFT_CLI_REPORT_HTML_H
#define MAILSHIFT_CLI_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "cli/report.h"

/* Points drawn per line; longer series are thinned evenly. */
#define HTML_LINE_POINTS 240

#define C_USED		"#1c7ed6"
#define C_LOAD		"#7048e8"
#define C_OK		"#2f9e44"
#define C_WARN		"#f08c00"
#define C_BAD		"#e03131"
#define C_GRID		"#e9ecef"
#define C_AXIS		"#868e96"

/* Text with &, <, >, " and ' escaped. */
void html_text(FILE *, const char *);
/* "2026-11-23" of a unix time. */
const char *html_date(int64_t t, char *buf, size_t len);
/* The page up to the title and the line under it; its end. */
void html_page_start(FILE *, const struct report *, const char *title);
void html_page_end(FILE *);
/* A card: a label, a big value and a line under it. */
void html_card(FILE *, const char *label, const char *value,
    const char *sub);
/* A header or data cell with an optional class, its text escaped. */
void html_th(FILE *, const char *cls, const char *label);
void html_td(FILE *, const char *cls, const char *text);
/* The k-th of m points evenly spread over n (m <= n, first and last in). */
size_t html_thin(size_t k, size_t m, size_t n);

/* A chart's frame: the plot area inside margins and its domains. */
struct chart {
	FILE	*f;
	double	 w, h;			/* the whole SVG */
	double	 l, r, t, b;		/* margins */
	double	 x0, x1;		/* time (unix seconds) */
	double	 y0, y1;		/* bytes, or ops/s */
};

/* Where x and y are drawn. */
double chart_x(const struct chart *, double x);
double chart_y(const struct chart *, double y);
/* A point "x,y" of a polyline, in tenths, after a space unless first. */
void chart_point(FILE *, int space, double x, double y);
/* A horizontal line across the plot at y, labelled on the right. */
void chart_hline(const struct chart *, double y, const char *color,
    const char *dash, const char *label);

/* report_html_load.c: the load chart of a slice, the fleet's
 * evacuation and restore table, and the cards of the load. */
void html_load_chart(FILE *, const struct report *,
    const struct report_row *);
void html_evac_table(FILE *, const struct report *);
void html_load_cards(FILE *, const struct report *, int forecast);

#endif
