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
 * A catalog is an SQLite 3 database file. What marks it, in the 100-byte
 * header of the file (offsets and sizes in bytes, integers big-endian):
 *
 *   offset  size  pragma          value
 *   ------  ----  --------------  ---------------------------------------
 *   18, 19  1, 1  journal_mode    2, 2: WAL (kept in the file, so every
 *                                 connection, a reader's too, uses it)
 *   60      4     user_version    the schema version (STATE_SCHEMA_VERSION,
 *                                 table below); an older file is upgraded
 *                                 in one transaction when opened, a newer
 *                                 one is refused and left untouched
 *   68      4     application_id  0x4d534846 ("MSHF",
 *                                 STATE_APPLICATION_ID): a mailshift
 *                                 catalog; a database with any other
 *                                 value is refused and left untouched
 *
 * synchronous = FULL and foreign_keys = ON are set on every connection
 * state_open makes; they are not stored in the file.
 *
 * The schema, version by version: entry v - 1 of migrations[] in state.c
 * takes a catalog from version v - 1 to v. A released entry is never
 * edited; a change of schema is a new version.
 *
 *   version  adds
 *   -------  --------------------------------------------------------------
 *   1        tables servers (name, address), pairs (two servers, each in
 *            one pair at most), slices (pair, serving server, path,
 *            capacity, state: active, draining, readonly, degraded or
 *            retired; time of the last discover), accounts (user, slice,
 *            path below the slice root, bytes, files, last activity,
 *            state: active, locked or missing; generation, pinned, where
 *            the sizes came from; one account per slice and path); view
 *            route (user, server, host, home, slice, locked, generation)
 *   2        tables plans (strategy, parameters and summary as JSON,
 *            state: proposed or applied), moves (account, source and
 *            target slice and path, state, plan, priority, hold,
 *            complete-after, paused, progress, passes, attempts, next
 *            try, lock time, last error, times), snapshots (usage of a
 *            slice at a time), events (the audit log); index
 *            moves_one_open: at most one open move per account
 *   3        moves.owner_pid, lock_started, copy_ms (to resume a move and
 *            time its lock), retired_path, retired_at, purged_at (the
 *            source after cutover); indexes moves_account, events_move
 *   4        table plan_moves (the moves of a stored plan in order, each
 *            with the one it waits for); moves.after_move (a move that
 *            waits for another)
 *   5        table daemon (one row: pid, start, heartbeat, stop, moves in
 *            flight, bytes and files copied, listen address)
 *   6        accounts.locked_until (a lock expires by itself), view route
 *            rebuilt to honour it; moves.owner_start (boot id and start
 *            time of the owner, so a reused pid is not taken for it)
 *   7        accounts.online (presence pushed by access servers);
 *            moves.last_change (when a pass last saw the mailbox change)
 *   8        accounts.uid, gid (the mailbox owner, recorded by discover);
 *            moves.settle_marks, settled_at (the settle check of a
 *            retired source; moves done before version 8 count as
 *            settled); view access (what Dovecot's userdb and passdb
 *            read: user, home, mail, uid, gid, host, server, slice,
 *            locked, unavailable, generation)
 *   9        table daemon_lock (one row: host, pid, boot and start time of
 *            the daemon that runs on the catalog, when it took it);
 *            moves.bytes_per_second, files_per_second (the move's own
 *            rates, 0 = none: the daemon caps its rates by them)
 *   10       slices.health, health_reason, health_since and the same for
 *            servers (what the daemon's health watch finds: ok, degraded
 *            or unresponsive, why, and since when; apart from the admin's
 *            state, which the watch never writes)
 *   11       table loads (the operations and bytes a slice's storage
 *            served over an interval, and from which counters);
 *            slices.ops_capacity (ops/s, 0 = [capacity] ops_capacity),
 *            io_source, io_ops, io_bytes, io_at (the last raw counter
 *            reading, to take the next interval from); accounts.
 *            added_files, added_bytes, added_at (messages and bytes
 *            delivered in the last ACTIVITY_DAYS days, as discover last
 *            saw them, and when), logins, logins_prev, logins_since
 *            (logins counted this week and the week before)
 *   12       table dovecot_logins (username, last_login: what Dovecot's
 *            last_login plugin writes through dict-sql at every login);
 *            triggers on it (SQLite: dovecot_login_insert and _update;
 *            PostgreSQL: dovecot_login, a SECURITY DEFINER function)
 *            count each write as a login of that account, by the
 *            catalog's clock, with the weekly turn of
 *            state_account_set_presence_at, and move its last_activity
 *   13       slices.failover (the step of a failover under way, '' when
 *            none: moves that touch the slice pause), failover_owner
 *            (who runs it: host, pid and its start), failover_since,
 *            failover_to (the server taking over), failed_over (when
 *            the last one switched, for [failover] hold_down)
 */
#ifndef MAILSHIFT_STATE_H
#define MAILSHIFT_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_APPLICATION_ID 0x4d534846
#define STATE_SCHEMA_VERSION 13

/* An open catalog: one SQLite connection. */
struct state;

/*
 * Open the catalog at path. With create, a missing or empty file becomes a
 * new catalog (its directory must exist). A file that is not a mailshift
 * catalog, or one from a newer mailshift, is refused and left untouched; an
 * older one is upgraded in one transaction. A file with more than one hard
 * link is refused (SQLite's log is named after the path: two names of one
 * file would corrupt it). Returns the handle, or NULL with *cause set.
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
/* The catalog as it was given: a file's path, or a PostgreSQL URL or
 * conninfo (with its password, if it has one: for the hooks' environment,
 * not for messages). */
const char *state_path(const struct state *);
/* The catalog as messages show it: the path, or the conninfo without a
 * password. */
const char *state_name(const struct state *);
/* Which engine holds the catalog: "sqlite" or "pgsql". */
const char *state_engine(const struct state *);

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
