/*
 * The reports' model: what `mailshift report usage|forecast|moves` shows,
 * built from the catalog (state/report.h reads it) and drawn by the
 * writers of report_write.h, one per format.
 *
 * Growth is the Theil-Sen slope of each slice's snapshot bytes over the
 * range; a pair's, a server's or the fleet's growth is the sum of its
 * slices' (so a slice joining the catalog with data is not growth).
 * Forecasts start from what the catalog holds now.
 *
 * Load is the second dimension: a slice's ops/s and bytes/s now are the
 * sums of its loads over the last [capacity] load_window before now
 * (sum of ops over sum of time, never an average of rates); its load
 * growth is the Theil-Sen slope of its daily rates (each UTC day's sums)
 * over the range. A slice without a load measurement has no load (never
 * a 0 pretending to be measured); a group's load is the sum of its
 * measured slices' and is judged against their ops capacity only.
 * Evacuation and restore times come from migrator/evacuation.h.
 *
 * Use: report_init(), report_configure() with the configuration, set
 * the parameters from the options, then report_capacity_build() or
 * report_moves_build(), write, report_free().
 */
#ifndef MAILSHIFT_CLI_REPORT_H
#define MAILSHIFT_CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/stats.h"
#include "migrator/evacuation.h"
#include "state/state.h"
#include "state/report.h"

struct state;

/* What the rows of a capacity report are. */
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

	/* Load (see above). */
	uint64_t	 ops_capacity;	/* ops/s at 100%; a group: its
					   slices' but retired ones' */
	int64_t		 load_slices;	/* slices measured in the window */
	uint64_t	 load_capacity;	/* ops capacity of those (the
					   load fill's denominator) */
	double		 ops;		/* ops/s now; 0 when none measured */
	double		 load_bytes;	/* bytes/s now */
	struct stats_growth load_growth; /* ops/s per day; a group's: the
					   sum of its measured slices' */
	double		 load_to_target; /* days until load_target, -1 */
	double		 load_to_hard;	/* days until load_hard, -1 */
	double		 load_projected; /* ops/s after report.days days */
	const struct state_report_load_series *loads; /* slice rows */

	/* Evacuation and restore: a slice's, or a group's longest. */
	struct evacuation evac;		/* a group: seconds is -1 when one
					   of its slices' is not known */
	int64_t		 flagged;	/* slices over max_restore in it */

	/* Capacity to add to stay below both targets for report.days,
	 * in slices of report.slice_size and report.slice_ops. */
	int64_t		 add_for_bytes;	/* -1: no slice size to count in */
	int64_t		 add_for_load;
	int64_t		 add_slices;	/* the larger */
	double		 add_by;	/* days until the first target is
					   crossed, -1 when none is added */
};

/* Totals of the moves in the range. */
struct report_moves_total {
	size_t		 moves;		/* every move listed */
	size_t		 done;
	size_t		 failed;
	size_t		 cancelled;
	size_t		 open;		/* in any other state */
	uint64_t	 bytes;		/* of the done moves */
	uint64_t	 files;		/* of the done moves */
	int64_t		 seconds;	/* sum of the done moves' durations */
	double		 rate;		/* bytes / seconds, -1 unknown */
	int64_t		 passes;	/* of every move listed */
	int64_t		 retries;	/* of every move listed */
	size_t		 locks;		/* done moves with a lock time */
	double		 lock_median;	/* ms, NAN without locks */
	double		 lock_p95;	/* ms, nearest rank; NAN */
	double		 lock_max;	/* ms; NAN */
};

struct report {
	/* Parameters: report_init() sets the defaults. */
	int64_t		 now;		/* Unix time the report is made at */
	int64_t		 since;		/* INT64_MIN: from the first */
	int64_t		 until;		/* INT64_MAX: up to the last */
	double		 target;	/* fill fractions, 0.75 */
	double		 hard;		/* 0.90 */
	int		 days;		/* forecast horizon, 90 */
	enum report_by	 by;		/* REPORT_BY_SLICE */
	double		 load_target;	/* fractions of ops capacity, 0.75 */
	double		 load_hard;	/* 0.90 */
	uint64_t	 ops_default;	/* a slice's ops capacity when it has
					   none of its own, 1000 */
	int64_t		 load_window;	/* seconds "now" averages, 1 day */
	uint64_t	 slice_size;	/* of a slice to add; 0: the median
					   capacity of the active slices */
	uint64_t	 slice_ops;	/* its ops/s; 0: ops_default */
	struct evacuation_schedule evac; /* throttle, windows, caps */

	/* The capacity model: report_capacity_build(). */
	struct report_row *slices;	/* by name */
	size_t		 nslices;
	struct report_row *groups;	/* by pair or server; = slices */
	size_t		 ngroups;
	struct report_row fleet;	/* every slice */
	double		 needed;	/* capacity to add for the horizon */
	uint64_t	 add_size;	/* slice size the counts are in, 0 */
	uint64_t	 add_ops;	/* ops/s of such a slice */

	struct state_report_series *series; /* the snapshots, per slice */
	size_t		 nseries;
	struct state_report_load_series *loads; /* daily loads, per slice */
	size_t		 nloads;

	/* The fleet's usage over time (only when asked for): at each time
	 * the sum of every slice's latest snapshot then. */
	int64_t		*fleet_t;
	double		*fleet_used;
	size_t		 nfleet;

	/* The moves model: report_moves_build(). */
	struct state_report_move *moves; /* by id */
	size_t		 nmoves;
	struct report_moves_total total;
};

/* Days beyond this are shown as such, without a date. */
#define REPORT_FAR_DAYS 36500.0

/*
 * Clear r and set the default parameters: the whole history, target fill
 * 75%, hard limit 90%, 90 days ahead, one row per slice, made at now, and
 * the [capacity] and throttle defaults of config_defaults().
 */
void report_init(struct report *r, int64_t now);
/* Take the load targets, ops capacity, load window and the evacuation
 * schedule from configuration c. */
void report_configure(struct report *r, const struct config *c);

/*
 * Build the capacity model from the catalog: every slice with its growth
 * over the snapshots in [since, until], days to the target fill and the
 * hard limit, and use after days; the groups of r->by; the fleet total;
 * with fleet_chart, also the fleet's usage over time (fleet_t).
 * Returns 0, or -1 with a heap *cause when the catalog cannot be read;
 * call report_free() in both cases.
 */
int report_capacity_build(struct state *st, struct report *r,
    int fleet_chart, char **cause);

/*
 * Build the moves model from the catalog: the moves created in [since,
 * until] and their totals. Returns 0, or -1 with a heap *cause; call
 * report_free() in both cases.
 */
int report_moves_build(struct state *st, struct report *r, char **cause);

/* Free what the build functions allocated; the parameters stay. */
void report_free(struct report *r);

/* Duration of a move in seconds, -1 when it has not ended. */
int64_t report_move_seconds(const struct state_report_move *m);
/* Average rate of a done move in bytes/s, -1 for other moves. */
double report_move_rate(const struct state_report_move *m);

/*
 * The groups ordered by how soon they fill, in bytes or in load: hard
 * limit first, then target, then name. Returns an array of r->ngroups
 * pointers into r->groups; free it (never NULL).
 */
const struct report_row **report_forecast_order(const struct report *r);

/* "slice", "pair" or "server". */
const char *report_by_name(enum report_by by);
/* The grouping named s ("slice", "pair", "server"): 0, or -1 when s names
 * none (*by unchanged). */
int report_by_parse(const char *s, enum report_by *by);

/*
 * Text shared by the writers. Each writes into buf (len bytes) and returns
 * buf, or returns a constant string.
 */
/* Bytes with a sign: "+1.5 GiB", "-200 B", "0 B". */
const char *report_signed_size(double bytes, char *buf, size_t len);
/* "growing", "shrinking", "flat" or "not enough history". */
const char *report_trend(const struct report_row *row);
/* When a row reaches a fill: "now", "55d", "2.5d", ">100y", "never" (a
 * trend that does not get there), "-" (unknown). */
const char *report_days_text(const struct report_row *row, double days,
    char *buf, size_t len);
/* The UTC time days after r->now ("2026-12-01T10:00:00Z"), or NULL for
 * never (-1) and beyond REPORT_FAR_DAYS. */
const char *report_days_time(const struct report *r, double days,
    char *buf, size_t len);
/* The date part of report_days_time ("2026-12-01"), or "-". */
const char *report_days_date(const struct report *r, double days,
    char *buf, size_t len);
/* The range for notes: "over all history", "since 2026-11-01T00:00:00Z",
 * "until ...", "between ... and ...". */
const char *report_range_text(const struct report *r, char *buf,
    size_t len);
/* "growing", "shrinking", "flat", "not enough history" of the load, or
 * "not measured". */
const char *report_load_trend(const struct report_row *row);
/* report_days_text for the load: "-" without a measurement. */
const char *report_load_days_text(const struct report_row *row,
    double days, char *buf, size_t len);
/* Ops per second: "120", "8.5", "12.3k"; "-" without a measurement. */
const char *report_ops_text(const struct report_row *row, double ops,
    char *buf, size_t len);
/* Load fill as "12.0%", or "-" without a measurement. */
const char *report_load_fill_text(const struct report_row *row,
    char *buf, size_t len);
/* The row's load fill (load / load capacity), NAN without one. */
double report_load_fill(const struct report_row *row);
/* Signed ops/s per day: "+10/s", "-2.5/s", "0/s". */
const char *report_signed_ops(double v, char *buf, size_t len);
/* The evacuation time: a duration, "unthrottled", "never" (no cutover
 * allowed) or "-" (a group with one of those). */
const char *report_evac_text(const struct report_row *row, char *buf,
    size_t len);
/* Why an evacuation time is not known, for notes; NULL when it is. */
const char *report_evac_why(const struct report_row *row, char *buf,
    size_t len);
/* "12s", "3m 05s", "2h 10m", "1d 04h"; "-" for -1. */
const char *report_duration_text(int64_t seconds, char *buf, size_t len);
/* "1.2 MiB/s"; "-" for -1. */
const char *report_rate_text(double rate, char *buf, size_t len);

#endif
