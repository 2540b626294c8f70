/*
 * Fleets for the planner's unit tests: slices and accounts built by hand,
 * used and pending following from the accounts, and the options the tests
 * start from. Include after testutil.h; a test that needs util.h includes
 * it first (cmocka's fail() macro).
 */
#ifndef MAILSHIFT_PLANFIX_H
#define MAILSHIFT_PLANFIX_H

#include <math.h>

#include "planner/planner.h"

#define GIB		(UINT64_C(1) << 30)
#define MAXSLICES	32
#define NOW		INT64_C(1800000000)
#define DAY		(24 * 3600)

/* A fleet under test; used and pending follow from the accounts. */
struct fleet {
	struct planner_slice	 sl[MAXSLICES];		/* ns of them */
	uint64_t		 extra[MAXSLICES];	/* used not in accounts */
	size_t			 ns;			/* slices */
	struct planner_account	*ac;			/* na of them */
	size_t			 na;			/* accounts */
	size_t			 cap;			/* allocated ac, dest */
	size_t			*dest;			/* of moving accounts */
};

/* Start an empty fleet. */
static inline void
fleet_init(struct fleet *f)
{
	memset(f, 0, sizeof *f);
}

/* Free a fleet's accounts. */
static inline void
fleet_free(struct fleet *f)
{
	free(f->ac);
	free(f->dest);
	f->ac = NULL;
	f->dest = NULL;
}

/* Add an active, balancing slice; returns its index. */
static inline size_t
slice_add(struct fleet *f, const char *name, uint64_t capacity,
    int64_t pair)
{
	struct planner_slice *s = &f->sl[f->ns];

	assert_true(f->ns < MAXSLICES);
	memset(s, 0, sizeof *s);
	s->id = (int64_t)f->ns + 100;
	s->name = name;
	s->pair_id = pair;
	s->capacity = capacity;
	s->receives = 1;
	s->balances = 1;
	return f->ns++;
}

/* Add an account; returns its index. */
static inline size_t
acct_add(struct fleet *f, size_t slice, uint64_t bytes)
{
	struct planner_account *a;

	if (f->na == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->ac = realloc(f->ac, f->cap * sizeof *f->ac);
		f->dest = realloc(f->dest, f->cap * sizeof *f->dest);
		assert_non_null(f->ac);
		assert_non_null(f->dest);
	}
	a = &f->ac[f->na];
	memset(a, 0, sizeof *a);
	a->id = (int64_t)f->na + 1000;
	a->slice = slice;
	a->bytes = bytes;
	a->files = bytes / 4096 + 1;
	a->last_activity = NOW - 30 * DAY;
	f->dest[f->na] = slice;
	return f->na++;
}

/* Add n accounts of the same size. */
static inline void
accts_add(struct fleet *f, size_t slice, size_t n, uint64_t bytes)
{
	while (n-- > 0)
		acct_add(f, slice, bytes);
}

/* Set used and pending of every slice from its accounts. */
static inline void
fleet_sync(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->ns; i++) {
		f->sl[i].used = f->extra[i];
		f->sl[i].pending_in = f->sl[i].pending_out = 0;
	}
	for (i = 0; i < f->na; i++) {
		f->sl[f->ac[i].slice].used += f->ac[i].bytes;
		if (f->ac[i].moving && f->dest[i] != f->ac[i].slice) {
			f->sl[f->ac[i].slice].pending_out += f->ac[i].bytes;
			f->sl[f->dest[i]].pending_in += f->ac[i].bytes;
		}
	}
}

/* Options as the tests use them: defaults, a fixed now. */
static inline void
opts(struct planner_options *o, enum planner_strategy st, size_t slice)
{
	planner_options_default(o);
	o->strategy = st;
	o->slice = slice;
	o->now = NOW;
}

/* Effective used of slice i before any plan. */
static inline uint64_t
eff(const struct fleet *f, size_t i)
{
	return f->sl[i].used - f->sl[i].pending_out + f->sl[i].pending_in;
}

/* Fill of slice i with used u. */
static inline double
fillof(const struct fleet *f, size_t i, uint64_t u)
{
	return f->sl[i].capacity ? (double)u / (double)f->sl[i].capacity : 0;
}

#endif
