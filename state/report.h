/*
 * What the capacity reports read from the catalog: usage snapshots per
 * slice over a time range, and the moves created in a time range. Plain
 * structs in arrays; the computation is the caller's (see stats.h).
 * Functions return 0, or -1 with a heap string in *cause.
 */
#ifndef MAILSHIFT_STATE_REPORT_H
#define MAILSHIFT_STATE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "state/state.h"
#include "state/move.h"

struct state;

/* One usage snapshot of a slice (a row of the snapshots table). */
struct state_report_point {
	int64_t	 ts;			/* unix time */
	int64_t	 id;			/* the snapshot's (orders ties) */
	uint64_t bytes;
	uint64_t files;
	int64_t	 accounts;
	uint64_t capacity;		/* the slice's capacity then */
};

/* The snapshots of one slice in time order. */
struct state_report_series {
	int64_t				 slice_id;
	struct state_report_point	*p;
	size_t				 n;
};

/*
 * The snapshots taken in [since, until] (unix times, inclusive), one
 * series per slice that has any, in slice id order, each in time order
 * (ties by snapshot id). *out is NULL and *n 0 when there is none.
 */
int state_report_snapshots(struct state *, int64_t since, int64_t until,
    struct state_report_series **out, size_t *n, char **cause);
void state_report_series_free(struct state_report_series *, size_t n);
/* The series of slice_id in an array from state_report_snapshots. */
const struct state_report_series *state_report_series_find(
    const struct state_report_series *, size_t n, int64_t slice_id);

/* One UTC day of a slice's load: the sums of its loads intervals that
 * end that day (see state/load.h). */
struct state_report_load_day {
	int64_t	 day;			/* unix time of the day's 00:00 UTC */
	uint64_t ops;
	uint64_t bytes;
	int64_t	 ms;			/* time the sums cover, > 0 */
};

/* The load days of one slice in day order. */
struct state_report_load_series {
	int64_t				 slice_id;
	struct state_report_load_day	*d;
	size_t				 n;
};

/*
 * The loads with ts in [since, until] summed per slice and UTC day, one
 * series per slice that has any, in slice id order. *out is NULL and *n
 * 0 when there is none.
 */
int state_report_load_days(struct state *, int64_t since, int64_t until,
    struct state_report_load_series **out, size_t *n, char **cause);
void state_report_load_series_free(struct state_report_load_series *,
    size_t n);
/* The series of slice_id in an array from state_report_load_days. */
const struct state_report_load_series *state_report_load_series_find(
    const struct state_report_load_series *, size_t n, int64_t slice_id);

/* One move as the move report shows it. */
struct state_report_move {
	int64_t	 id;
	char	*user;
	char	*source;		/* slice names */
	char	*target;
	enum move_state state;
	uint64_t bytes;			/* bytes_total */
	uint64_t files;			/* files_total */
	int64_t	 passes;
	int64_t	 attempts;		/* cutovers abandoned and retried */
	int64_t	 lock_ms;		/* -1 until a cutover committed */
	int64_t	 copy_ms;
	char	*error;			/* last error, or NULL */
	int64_t	 created;		/* unix times; 0 = not yet */
	int64_t	 started;
	int64_t	 finished;
};

/*
 * The moves created in [since, until] (unix times, inclusive), oldest
 * first (ties by id). *out is NULL and *n 0 when there is none.
 */
int state_report_moves(struct state *, int64_t since, int64_t until,
    struct state_report_move **out, size_t *n, char **cause);
void state_report_moves_free(struct state_report_move *, size_t n);

#endif
