/*
 * Load: the operations and bytes a slice's storage serves, as the kernel
 * counts them (state/load.c; migrator/iostat.h reads the counters).
 *
 * Each slice keeps the last raw reading of its counters (source, ops,
 * bytes, time), so that the next reading, by discover or by the daemon,
 * yields one interval: a row of the loads table with the ops and bytes
 * attributed to the slice over that many milliseconds. Rates are sums of
 * ops over sums of time, never averages of rates.
 * Conventions (return values, *cause): see state/state.h.
 */
#ifndef MAILSHIFT_STATE_LOAD_H
#define MAILSHIFT_STATE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

/* A raw reading of the counters a slice's load is taken from. */
struct state_io_reading {
	char	*source;		/* e.g. "diskstats:sda1", "" = none */
	uint64_t ops;			/* completed operations, cumulative */
	uint64_t bytes;			/* bytes read and written, cumulative */
	int64_t	 at_ms;			/* Unix milliseconds, 0 = never */
};

/* The last reading stored for slice_id into *r (free r->source); a slice
 * never read, or unknown, gives source "" and zeros. */
int state_load_last(struct state *, int64_t slice_id,
    struct state_io_reading *r, char **cause);

/*
 * Store raw as slice_id's last reading and, when ms > 0, one loads row:
 * ops and bytes attributed to the slice over the ms milliseconds that end
 * at raw->at_ms, from raw->source. One transaction of its own.
 */
int state_load_record(struct state *, int64_t slice_id,
    const struct state_io_reading *raw, uint64_t ops, uint64_t bytes,
    int64_t ms, char **cause);

/* One interval of a slice's load (a row of the loads table). */
struct state_load_point {
	int64_t	 ts;			/* Unix seconds, end of the interval */
	uint64_t ops;
	uint64_t bytes;
	int64_t	 ms;			/* length of the interval */
};

/* The loads of one slice in time order. */
struct state_load_series {
	int64_t			 slice_id;
	char			*source;	/* of the latest interval */
	struct state_load_point	*p;
	size_t			 n;
};

/*
 * The loads with ts in [since, until], one series per slice that has any,
 * in slice id order, each in time order. *out NULL and *n 0 when none.
 */
int state_load_series(struct state *, int64_t since, int64_t until,
    struct state_load_series **out, size_t *n, char **cause);
void state_load_series_free(struct state_load_series *, size_t n);
/* The series of slice_id in an array from state_load_series, or NULL. */
const struct state_load_series *state_load_series_find(
    const struct state_load_series *, size_t n, int64_t slice_id);

/* A slice's load over a range: sums, and the rates they give. */
struct state_load_sum {
	int64_t	 slice_id;
	uint64_t ops;
	uint64_t bytes;
	int64_t	 ms;			/* 0: no measurement in the range */
	int64_t	 samples;
};
/* ops/s and bytes/s of a sum; 0 without measurement. */
double state_load_ops_rate(const struct state_load_sum *);
double state_load_bytes_rate(const struct state_load_sum *);

/* Call cb for every slice with loads in [since, until], in slice id
 * order, with their sums. */
int state_load_sums(struct state *, int64_t since, int64_t until,
    void (*cb)(const struct state_load_sum *, void *), void *arg,
    char **cause);

#endif
