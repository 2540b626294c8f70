/*
 * The capacity reports' model, built by cmd_report.c from the catalog,
 * and the HTML writer that draws it: one self-contained page (inline CSS
 * and SVG, nothing fetched) with charts and the tables.
 */
#ifndef MAILSHIFT_REPORT_HTML_H
#define MAILSHIFT_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "state/report.h"
#include "common/stats.h"

enum report_by { REPORT_BY_SLICE, REPORT_BY_PAIR, REPORT_BY_SERVER };

/* One slice, or a group of slices (a pair, a server, the fleet). */
struct report_row {
	int64_t		 id;		/* slice id, 0 for a group */
	char		*name;
	char		*pair;		/* slice rows only, else NULL */
	char		*server;	/* slice rows only */
	char		*state;		/* slice rows only */
	int		 retired;	/* slice is retired: no capacity */
	int64_t		 slices;	/* slices in it (1 for a slice) */
	int64_t		 accounts;	/* now, from the catalog */
	uint64_t	 files;
	uint64_t	 used;		/* bytes */
	uint64_t	 capacity;	/* bytes; a group counts no retired
					   slice's */
	struct stats_growth growth;	/* a group's: sum of its slices' */
	double		 to_target;	/* days until target fill, -1 never */
	double		 to_hard;	/* days until the hard limit, -1 */
	double		 projected;	/* used after report.days days */
	const struct state_report_series *series; /* slice rows, or NULL */
};

/* Totals of the moves in the range. */
struct report_moves_total {
	size_t		 moves;
	size_t		 done;
	size_t		 failed;
	size_t		 cancelled;
	size_t		 open;
	uint64_t	 bytes;		/* of the done moves */
	uint64_t	 files;
	int64_t		 seconds;	/* sum of the done moves' durations */
	double		 rate;		/* bytes / seconds, -1 unknown */
	int64_t		 passes;	/* of every move listed */
	int64_t		 retries;
	size_t		 locks;		/* done moves with a lock time */
	double		 lock_median;	/* ms, NAN without locks */
	double		 lock_p95;	/* nearest rank */
	double		 lock_max;
};

struct report {
	int64_t		 now;
	int64_t		 since;		/* INT64_MIN: from the first */
	int64_t		 until;		/* INT64_MAX: up to the last */
	double		 target;	/* fill fractions, 0.75 */
	double		 hard;		/* 0.90 */
	int		 days;		/* forecast horizon */
	enum report_by	 by;

	struct report_row *slices;	/* by name */
	size_t		 nslices;
	struct report_row *groups;	/* by pair or server; = slices */
	size_t		 ngroups;
	struct report_row fleet;
	double		 needed;	/* capacity to add for the horizon */

	struct state_report_series *series;
	size_t		 nseries;

	/* The fleet's usage over time: at each time the sum of every
	 * slice's latest snapshot then. */
	int64_t		*fleet_t;
	double		*fleet_used;
	size_t		 nfleet;

	struct state_report_move *moves;
	size_t		 nmoves;
	struct report_moves_total total;
};

/* Duration of a move in seconds, -1 when it has not ended. */
int64_t report_move_seconds(const struct state_report_move *);
/* Average rate of a done move in bytes/s, -1 for other moves. */
double report_move_rate(const struct state_report_move *);

/* Text shared by the formats (cmd_report.c); each returns buf or a
 * constant string. */
/* Bytes with a sign: "+1.5 GiB", "-200 B", "0 B". */
const char *report_signed_size(double, char *buf, size_t len);
/* "growing", "shrinking", "flat" or "not enough history". */
const char *report_trend(const struct report_row *);
/* When a row reaches a fill: "now", "55d", ">100y", "never", "-". */
const char *report_days_text(const struct report_row *, double days,
    char *buf, size_t len);
/* The UTC date days from now ("2026-12-01"), or "-". */
const char *report_days_date(const struct report *, double days,
    char *buf, size_t len);
/* "since 2026-11-01T00:00:00Z", "at any time", ... */
const char *report_range_text(const struct report *, char *buf, size_t len);
/* "12s", "3m 05s", "2h 10m", "1d 04h"; "-" for -1. */
const char *report_duration_text(int64_t seconds, char *buf, size_t len);
/* "1.2 MiB/s"; "-" for -1. */
const char *report_rate_text(double, char *buf, size_t len);
/* The groups ordered by how soon they fill (free the array). */
const struct report_row **report_forecast_order(const struct report *);

/* The capacity page (usage and forecast) or the moves page. */
void report_html_capacity(FILE *, const struct report *, int forecast);
void report_html_moves(FILE *, const struct report *);

#endif
