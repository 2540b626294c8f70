/*
 * The catalog: servers, pairs, slices, accounts, moves, plans, usage
 * snapshots and the event log, in one SQLite file in WAL mode.
 *
 * state/ is the only module that speaks SQL, and every statement binds its
 * parameters. This header is the catalog itself: opening and closing it,
 * its schema version, transactions and the event log. Each other file of
 * state/ declares its functions in a header of the same name
 * (state/account.h for state/account.c, ...), which includes this one.
 *
 * Unless its comment says otherwise, a function returns 0 on success or -1
 * with a heap string in *cause that names what was wrong and what to do;
 * the caller frees it. cause may be NULL when the caller has no use for
 * it. A function whose comment says "in a transaction of its own" begins
 * and commits one itself and must not be called between state_begin and
 * state_commit; the others run inside the caller's transaction, if any.
 *
 * On-disk format
 *
 *   PRAGMA application_id   0x4d534846 ("MSHF"): marks a mailshift catalog
 *   PRAGMA user_version     schema version, upgraded forward on open
 *
 *   version  adds
 *   1        servers, pairs, slices, accounts, view route
 *   2        moves, plans, snapshots, events
 *   3        moves: owner, lock start, copy time, retirement
 *   4        plan_moves; moves.after_move (a move that waits for another)
 *   5        daemon (its pid, start, heartbeat and totals, for status)
 *   6        accounts.locked_until (a lock expires by itself), route view
 *            honours it; moves.owner_start (the owner's boot and start)
 *   7        accounts.online (presence); moves.last_change (activity
 *            the passes saw)
 */
#ifndef MAILSHIFT_STATE_H
#define MAILSHIFT_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_APPLICATION_ID 0x4d534846
#define STATE_SCHEMA_VERSION 8

/* An open catalog: one SQLite connection. */
struct state;

/*
 * Open the catalog at path. With create, a missing or empty file becomes a
 * new catalog (its directory must exist). A file that is not a mailshift
 * catalog, or one from a newer mailshift, is refused and left untouched; an
 * older one is upgraded in one transaction. Returns the handle, or NULL
 * with *cause set.
 */
struct state *state_open(const char *path, int create, char **cause);
/* Close the catalog; NULL is fine. */
void state_close(struct state *);
/* The schema version found in the file before it was upgraded; 0 for a
 * file this open created. */
int state_version_found(const struct state *);
/* Test hook: open (creating it if need be) and migrate a new file only up
 * to version, 1 to STATE_SCHEMA_VERSION. NULL with *cause on failure. */
struct state *state_open_version(const char *path, int version, char **cause);
/* The catalog file's path. */
const char *state_path(const struct state *);

/*
 * Begin a write transaction (BEGIN IMMEDIATE: the write lock is taken now,
 * waiting up to 10 seconds for another writer). commit ends it, and rolls
 * it back when the commit fails; rollback ends it and is a no-op outside
 * a transaction.
 */
int state_begin(struct state *, char **cause);
int state_commit(struct state *, char **cause);
void state_rollback(struct state *);

/*
 * Append to the event log (inside the caller's transaction, if any). Best
 * effort: returns 0, or -1 when the row could not be written.
 */
int state_event(struct state *, const char *kind, const char *user,
    const char *slice, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* PRAGMA data_version: changes when another connection commits. -1 on
 * error. */
int64_t state_data_version(struct state *);

#endif
