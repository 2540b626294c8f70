/*
 * The writers of the reports, one file per format: each draws a model
 * built by report.h to f and reports no error (the caller checks f).
 */
#ifndef MAILSHIFT_CLI_REPORT_WRITE_H
#define MAILSHIFT_CLI_REPORT_WRITE_H

#include <stdio.h>

#include "cli/report.h"

/* report_table.c: aligned text; bars draws fill bars (a terminal). */
void report_table_usage(FILE *f, const struct report *r, int bars);
void report_table_forecast(FILE *f, const struct report *r);
void report_table_moves(FILE *f, const struct report *r);

/* report_csv.c: RFC 4180, a header row, bytes, seconds and UTC times. */
void report_csv_capacity(FILE *f, const struct report *r, int forecast);
void report_csv_moves(FILE *f, const struct report *r);

/* report_json.c: one object, times as UTC strings, unknowns as null. */
void report_json_capacity(FILE *f, const struct report *r, int forecast);
void report_json_moves(FILE *f, const struct report *r);

/* report_html.c: one self-contained page (inline CSS and SVG, nothing
 * fetched) with charts and the tables. */
void report_html_capacity(FILE *f, const struct report *r, int forecast);
void report_html_moves(FILE *f, const struct report *r);

#endif
