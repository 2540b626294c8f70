/*
 * The fleet as the planner sees it, loaded from the catalog for `plan`:
 * slices with capacity, use, pending moves, health and load; accounts with
 * size, activity, pinned and moving, each with its share of its slice's
 * load (cli/plan_fleet.c).
 */
#ifndef MAILSHIFT_CLI_PLAN_FLEET_H
#define MAILSHIFT_CLI_PLAN_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "planner/planner.h"

struct state;
struct config;

struct fleet {
	struct planner_slice	*s;
	char		       **names;
	char		       **pairs;
	char		       **states;
	int			*measured;	/* per slice: has load samples */
	size_t			 ns;
	struct planner_account	*a;
	double			*weight;	/* activity per account */
	size_t			 na;
	size_t			 cap;
	int64_t			*moving;	/* sorted account ids */
	int64_t			*moving_to;	/* their target slice ids */
	size_t			 nmoving;
	size_t			 nmeasured;	/* slices with load samples */
};

/*
 * Load the fleet at now: every slice and account; each slice's load is
 * its mean ops/s over the last cfg->load_window seconds of samples (0
 * without any), its ops capacity its own or cfg->ops_capacity; accounts
 * get their share by activity (planner_apportion), and open moves carry
 * theirs from source to target. 0, or -1 with a cause; fleet_free in
 * both cases.
 */
int fleet_load(struct state *, const struct config *, int64_t now,
    struct fleet *, char **cause);
void fleet_free(struct fleet *);
/* Index of the slice called name, or (size_t)-1. */
size_t fleet_slice_index(const struct fleet *, const char *name);

#endif
