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

/*
 * Call cb with the id, name, path and last io_source ("" never read) of
 * every slice whose load is read: neither retired nor unresponsive (a
 * stat() of its root may hang), in id order. One small query: no sums
 * over accounts.
 */
int state_load_slices(struct state *,
    void (*cb)(int64_t id, const char *name, const char *path,
    const char *io_source, void *), void *arg, char **cause);

/*
 * One step of a slice's counters, for state_load_advance: the reading the
 * interval starts from (its at_ms as state_load_last gave it), the new
 * reading, and what the interval attributes to the slice.
 */
struct state_load_step {
	int64_t			 slice_id;
	int64_t			 prev_at_ms;	/* 0: never read */
	struct state_io_reading	 raw;		/* the new reading */
	uint64_t		 ops;		/* attributed over ms */
	uint64_t		 bytes;
	int64_t			 ms;		/* 0: store the reading only */
	int			 stale;		/* out: see below */
};

/*
 * Like state_load_record, inside the caller's transaction, and only when
 * the slice's stored reading is still the one at prev_at_ms: when another
 * writer (discover beside the daemon) stored a newer one meanwhile,
 * nothing is written and step->stale is set, so that no interval is
 * counted twice.
 */
int state_load_advance(struct state *, struct state_load_step *,
    char **cause);

/*
 * The weight a slice's share of a device's load is taken by: the sum of
 * state_fleet_activity over the accounts on slice_id at now, into
 * *weight, and how many accounts there are into *accounts (may be NULL).
 */
int state_load_activity(struct state *, int64_t slice_id, int64_t now,
    double *weight, int64_t *accounts, char **cause);

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

/* The sums of slice_id's loads with ts in [since, until] into *s (all
 * zero but slice_id when there are none). */
int state_load_sum(struct state *, int64_t slice_id, int64_t since,
    int64_t until, struct state_load_sum *s, char **cause);

/* Call cb for every slice with loads in [since, until], in slice id
 * order, with their sums. */
int state_load_sums(struct state *, int64_t since, int64_t until,
    void (*cb)(const struct state_load_sum *, void *), void *arg,
    char **cause);

#endif
