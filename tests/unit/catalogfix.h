/*
 * What the unit tests that run on a real temporary catalog share: the
 * assertions on calls that hand back a cause, a slice's id by name, and
 * the small fleet most of them start from. Include after testutil.h and
 * the state/ headers.
 */
#ifndef MAILSHIFT_CATALOGFIX_H
#define MAILSHIFT_CATALOGFIX_H

#include <limits.h>

#include "state/pair.h"
#include "state/server.h"
#include "state/slice.h"
#include "state/state.h"

/* The call (which may set a `cause` it declares) returns 0. */
#define assert_ok(call) do {						\
	char *cause = NULL;						\
	if ((call) != 0)						\
		fail_msg("failed: %s", cause ? cause : "?");		\
} while (0)

/* The call fails (-1) with a cause containing text. */
#define assert_fails(call, text) do {					\
	char *cause = NULL;						\
	assert_int_equal((call), -1);					\
	assert_non_null(cause);						\
	if (strstr(cause, (text)) == NULL)				\
		fail_msg("cause '%s' lacks '%s'", cause, (text));	\
	free(cause);							\
} while (0)

/* The id of slice name. */
static inline int64_t
test_slice_id(struct state *st, const char *name)
{
	struct state_slice s;
	int64_t id;

	assert_ok(state_slice_get(st, name, &s, &cause));
	id = s.id;
	state_slice_free(&s);
	return id;
}

/*
 * A new catalog dir/catalog.db (its name in *db) with servers mx1 and mx2
 * in pair p1 and n slices s1..sn of 1 GiB at dir/sI, served by mx2 when I
 * is even and mx1 otherwise; their ids in ids[1..n]. NULL (with the cause
 * printed) when the catalog cannot be made.
 */
static inline struct state *
test_catalog_fleet(const char *dir, char **db, int n, int64_t *ids)
{
	struct state *st;
	char *cause = NULL, path[PATH_MAX], name[16];
	int i;

	*db = test_catalog_name(dir);
	if ((st = state_open(*db, 1, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return NULL;
	}
	assert_ok(state_server_add(st, "mx1", "10.0.0.1", &cause));
	assert_ok(state_server_add(st, "mx2", "10.0.0.2", &cause));
	assert_ok(state_pair_add(st, "p1", "mx1", "mx2", &cause));
	for (i = 1; i <= n; i++) {
		snprintf(name, sizeof name, "s%d", i);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		assert_ok(state_slice_add(st, name, "p1", i % 2 == 0 ? "mx2" :
		    "mx1", path, 1 << 30, &cause));
		ids[i] = test_slice_id(st, name);
	}
	return st;
}

#endif
