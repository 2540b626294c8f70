/*
 * The catalog: servers, pairs, slices, accounts, moves, plans, usage
 * snapshots and the event log, in one SQLite file in WAL mode.
 *
 * This is the only module that speaks SQL, and every statement binds its
 * parameters. Functions return 0 on success or -1 with a heap string in
 * *cause that names what was wrong and what to do; the caller frees it.
 *
 * On-disk format
 *
 *   PRAGMA application_id   0x4d534846 ("MSHF"): marks a mailshift catalog
 *   PRAGMA user_version     schema version, upgraded forward on open
 *
 *   version  adds
 *   1        servers, pairs, slices, accounts, view route
 *   2        moves, plans, snapshots, events
 */
#ifndef MAILSHIFT_STATE_H
#define MAILSHIFT_STATE_H

#include <stdint.h>

#define STATE_APPLICATION_ID 0x4d534846
#define STATE_SCHEMA_VERSION 2

struct state;

/*
 * Open the catalog at path. With create, a missing or empty file becomes a
 * new catalog (its directory must exist). A file that is not a mailshift
 * catalog, or one from a newer mailshift, is refused and left untouched; an
 * older one is upgraded in one transaction.
 */
struct state *state_open(const char *path, int create, char **cause);
void state_close(struct state *);
/* The schema version found in the file before it was upgraded. */
int state_version_found(const struct state *);
/* Test hook: migrate a new file only up to version (must be <= current). */
struct state *state_open_version(const char *path, int version, char **cause);

int state_begin(struct state *, char **cause);
int state_commit(struct state *, char **cause);
void state_rollback(struct state *);

/* Append to the event log (best effort inside the caller's transaction). */
int state_event(struct state *, const char *kind, const char *user,
    const char *slice, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Servers. */
struct state_server {
	int64_t	 id;
	char	*name;
	char	*address;
	char	*pair;			/* pair it belongs to, or NULL */
	int64_t	 created;
};
int state_server_add(struct state *, const char *name, const char *address,
    char **cause);
int state_server_list(struct state *,
    int (*)(const struct state_server *, void *), void *, char **cause);

/* Pairs of servers that replicate each other. */
struct state_pair {
	int64_t	 id;
	char	*name;
	char	*server_a;
	char	*server_b;
	int64_t	 slices;		/* slices served by this pair */
	int64_t	 created;
};
int state_pair_add(struct state *, const char *name, const char *a,
    const char *b, char **cause);
int state_pair_list(struct state *, int (*)(const struct state_pair *, void *),
    void *, char **cause);

/* Slice states, in the order the CHECK constraint lists them. */
extern const char *const state_slice_states[];
int state_slice_state_valid(const char *);

/* Slices: filesystems served by one server of a pair. */
struct state_slice {
	int64_t	 id;
	char	*name;
	char	*pair;
	char	*server;
	char	*address;		/* of the serving server */
	char	*path;			/* root on this host */
	char	*state;
	uint64_t capacity;		/* bytes */
	uint64_t used;			/* sum of its accounts' bytes */
	uint64_t files;			/* sum of its accounts' files */
	int64_t	 accounts;
	int64_t	 created;
	int64_t	 scanned;		/* last discover, 0 = never */
};
/* Add a slice; path must already be checked and absolute. */
int state_slice_add(struct state *, const char *name, const char *pair,
    const char *server, const char *path, uint64_t capacity, char **cause);
int state_slice_get(struct state *, const char *name, struct state_slice *,
    char **cause);
int state_slice_list(struct state *,
    int (*)(const struct state_slice *, void *), void *, char **cause);
int state_slice_set_state(struct state *, const char *name, const char *st,
    char **cause);
int state_slice_set_capacity(struct state *, const char *name, uint64_t,
    char **cause);
int state_slice_scanned(struct state *, int64_t slice_id, int64_t when,
    char **cause);
void state_slice_free(struct state_slice *);

/* Accounts: one mailbox each. */
struct state_account {
	int64_t	 id;
	char	*user;
	char	*slice;
	int64_t	 slice_id;
	char	*path;			/* relative to the slice root */
	char	*state;			/* active, locked, missing */
	char	*size_source;		/* maildirsize, counted, import */
	uint64_t bytes;
	uint64_t files;
	int64_t	 last_activity;
	int64_t	 generation;
	int	 pinned;
	int64_t	 created;
	int64_t	 updated;
};
/* Returns 0 and fills a, 1 when there is no such account, -1 on error. */
int state_account_find(struct state *, const char *user,
    struct state_account *, char **cause);
/* Like find, but a missing account is an error naming the user. */
int state_account_get(struct state *, const char *user,
    struct state_account *, char **cause);
/* List accounts, all or those of one slice (slice_id 0 = all). */
int state_account_list(struct state *, int64_t slice_id,
    int (*)(const struct state_account *, void *), void *, char **cause);
void state_account_free(struct state_account *);
/* Insert a new account found by discover. */
int state_account_insert(struct state *, const char *user, int64_t slice_id,
    const char *path, uint64_t bytes, uint64_t files, int64_t last_activity,
    const char *size_source, char **cause);
/* Refresh sizes and activity of an account (and make it active again). */
int state_account_update_usage(struct state *, int64_t id, uint64_t bytes,
    uint64_t files, int64_t last_activity, const char *size_source,
    char **cause);
/* Mark an account missing (not found where the catalog says it is). */
int state_account_set_missing(struct state *, int64_t id, char **cause);
/* Target slice of the account's unfinished move, or 0 when none. */
int state_account_moving_to(struct state *, int64_t account_id,
    int64_t *slice_id, char **cause);

/* What an access server is told about a user. */
struct state_route {
	char	*user;
	char	*server;
	char	*host;
	char	*home;			/* slice path + account path */
	char	*slice;
	int	 locked;
	int64_t	 generation;
};
int state_route_get(struct state *, const char *user, struct state_route *,
    char **cause);
void state_route_free(struct state_route *);

/* Usage snapshot of one slice, from its accounts as the catalog has them. */
int state_snapshot_take(struct state *, int64_t slice_id, int64_t when,
    char **cause);

/*
 * Bulk import of placements, all or nothing: begin, one row per input line,
 * finish. finish checks the whole set (duplicates, accounts already placed
 * elsewhere unless replace) and commits; any failure rolls back everything.
 */
struct state_import;
struct state_import_stats {
	int64_t	 rows;
	int64_t	 added;
	int64_t	 updated;
	int64_t	 unchanged;
};
struct state_import *state_import_begin(struct state *, int replace,
    char **cause);
/* Stage one row; slice is a name, path already checked. */
int state_import_row(struct state_import *, int64_t line, const char *user,
    const char *slice, const char *path, uint64_t bytes, uint64_t files,
    char **cause);
int state_import_finish(struct state_import *, struct state_import_stats *,
    char **cause);
/* Abandon an import: nothing is kept. */
void state_import_abort(struct state_import *);

#endif
