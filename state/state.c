/* The catalog file: opening, schema migrations, transactions, event log. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Forward migrations; migrations[i] takes a catalog from version i to i+1.
 * Never edit a released entry: add a new one.
 */
static const char *const migrations[] = {
	/* 0 -> 1: topology, accounts and the route view. */
	"CREATE TABLE servers ("
	"  id      INTEGER PRIMARY KEY,"
	"  name    TEXT NOT NULL UNIQUE,"
	"  address TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE pairs ("
	"  id       INTEGER PRIMARY KEY,"
	"  name     TEXT NOT NULL UNIQUE,"
	"  server_a INTEGER NOT NULL UNIQUE REFERENCES servers(id),"
	"  server_b INTEGER NOT NULL UNIQUE REFERENCES servers(id),"
	"  created  INTEGER NOT NULL,"
	"  CHECK (server_a <> server_b));"
	"CREATE TABLE slices ("
	"  id        INTEGER PRIMARY KEY,"
	"  name      TEXT NOT NULL UNIQUE,"
	"  pair_id   INTEGER NOT NULL REFERENCES pairs(id),"
	"  server_id INTEGER NOT NULL REFERENCES servers(id),"
	"  path      TEXT NOT NULL UNIQUE,"
	"  capacity  INTEGER NOT NULL CHECK (capacity > 0),"
	"  state     TEXT NOT NULL DEFAULT 'active' CHECK (state IN"
	"    ('active','draining','readonly','degraded','retired')),"
	"  created   INTEGER NOT NULL,"
	"  scanned   INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE accounts ("
	"  id            INTEGER PRIMARY KEY,"
	"  user          TEXT NOT NULL UNIQUE,"
	"  slice_id      INTEGER NOT NULL REFERENCES slices(id),"
	"  path          TEXT NOT NULL,"
	"  bytes         INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),"
	"  files         INTEGER NOT NULL DEFAULT 0 CHECK (files >= 0),"
	"  last_activity INTEGER NOT NULL DEFAULT 0,"
	"  state         TEXT NOT NULL DEFAULT 'active' CHECK (state IN"
	"    ('active','locked','missing')),"
	"  generation    INTEGER NOT NULL DEFAULT 1,"
	"  pinned        INTEGER NOT NULL DEFAULT 0,"
	"  size_source   TEXT NOT NULL DEFAULT 'import',"
	"  created       INTEGER NOT NULL,"
	"  updated       INTEGER NOT NULL,"
	"  UNIQUE (slice_id, path));"
	"CREATE INDEX accounts_slice ON accounts(slice_id);"
	"CREATE VIEW route AS"
	"  SELECT a.user AS user, sv.name AS server, sv.address AS host,"
	"         s.path || '/' || a.path AS home, s.name AS slice,"
	"         a.state = 'locked' AS locked, a.generation AS generation"
	"  FROM accounts a"
	"  JOIN slices s ON s.id = a.slice_id"
	"  JOIN servers sv ON sv.id = s.server_id;",

	/* 1 -> 2: moves, plans, usage snapshots and the event log. */
	"CREATE TABLE plans ("
	"  id       INTEGER PRIMARY KEY,"
	"  created  INTEGER NOT NULL,"
	"  strategy TEXT NOT NULL,"
	"  params   TEXT NOT NULL DEFAULT '{}',"
	"  summary  TEXT NOT NULL DEFAULT '{}',"
	"  state    TEXT NOT NULL DEFAULT 'proposed');"
	"CREATE TABLE moves ("
	"  id             INTEGER PRIMARY KEY,"
	"  account_id     INTEGER NOT NULL REFERENCES accounts(id),"
	"  source_slice   INTEGER NOT NULL REFERENCES slices(id),"
	"  source_path    TEXT NOT NULL,"
	"  target_slice   INTEGER NOT NULL REFERENCES slices(id),"
	"  target_path    TEXT NOT NULL,"
	"  state          TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
	"    ('queued','copying','syncing','ready','cutover','done',"
	"     'failed','cancelled')),"
	"  plan_id        INTEGER REFERENCES plans(id),"
	"  priority       INTEGER NOT NULL DEFAULT 0,"
	"  hold           INTEGER NOT NULL DEFAULT 0,"
	"  complete_after INTEGER NOT NULL DEFAULT 0,"
	"  paused         INTEGER NOT NULL DEFAULT 0,"
	"  bytes_total    INTEGER NOT NULL DEFAULT 0,"
	"  files_total    INTEGER NOT NULL DEFAULT 0,"
	"  bytes_done     INTEGER NOT NULL DEFAULT 0,"
	"  files_done     INTEGER NOT NULL DEFAULT 0,"
	"  passes         INTEGER NOT NULL DEFAULT 0,"
	"  attempts       INTEGER NOT NULL DEFAULT 0,"
	"  next_try       INTEGER NOT NULL DEFAULT 0,"
	"  lock_ms        INTEGER,"
	"  error          TEXT,"
	"  created        INTEGER NOT NULL,"
	"  updated        INTEGER NOT NULL,"
	"  started        INTEGER,"
	"  finished       INTEGER,"
	"  CHECK (source_slice <> target_slice));"
	"CREATE UNIQUE INDEX moves_one_open ON moves(account_id)"
	"  WHERE state NOT IN ('done','failed','cancelled');"
	"CREATE INDEX moves_state ON moves(state);"
	"CREATE TABLE snapshots ("
	"  id       INTEGER PRIMARY KEY,"
	"  ts       INTEGER NOT NULL,"
	"  slice_id INTEGER NOT NULL REFERENCES slices(id),"
	"  bytes    INTEGER NOT NULL,"
	"  files    INTEGER NOT NULL,"
	"  accounts INTEGER NOT NULL,"
	"  capacity INTEGER NOT NULL);"
	"CREATE INDEX snapshots_slice_ts ON snapshots(slice_id, ts);"
	"CREATE TABLE events ("
	"  id      INTEGER PRIMARY KEY,"
	"  ts      INTEGER NOT NULL,"
	"  kind    TEXT NOT NULL,"
	"  move_id INTEGER,"
	"  user    TEXT,"
	"  slice   TEXT,"
	"  message TEXT NOT NULL);"
	"CREATE INDEX events_ts ON events(ts);",

	/* 2 -> 3: what a move needs to resume, time its lock and retire. */
	"ALTER TABLE moves ADD COLUMN owner_pid INTEGER;"
	"ALTER TABLE moves ADD COLUMN lock_started INTEGER;"
	"ALTER TABLE moves ADD COLUMN copy_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE moves ADD COLUMN retired_path TEXT;"
	"ALTER TABLE moves ADD COLUMN retired_at INTEGER;"
	"ALTER TABLE moves ADD COLUMN purged_at INTEGER;"
	"CREATE INDEX moves_account ON moves(account_id);"
	"CREATE INDEX events_move ON events(move_id);",

	/* 3 -> 4: the moves of a stored plan, and moves that wait. */
	"CREATE TABLE plan_moves ("
	"  plan_id    INTEGER NOT NULL REFERENCES plans(id),"
	"  seq        INTEGER NOT NULL,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  from_slice INTEGER NOT NULL REFERENCES slices(id),"
	"  to_slice   INTEGER NOT NULL REFERENCES slices(id),"
	"  bytes      INTEGER NOT NULL,"
	"  files      INTEGER NOT NULL,"
	"  after_seq  INTEGER,"
	"  PRIMARY KEY (plan_id, seq));"
	"ALTER TABLE moves ADD COLUMN after_move INTEGER REFERENCES moves(id);",

	/* 4 -> 5: what the daemon says about itself. */
	"CREATE TABLE daemon ("
	"  id        INTEGER PRIMARY KEY CHECK (id = 1),"
	"  pid       INTEGER NOT NULL,"
	"  started   INTEGER NOT NULL,"
	"  heartbeat INTEGER NOT NULL,"
	"  stopped   INTEGER,"
	"  running   INTEGER NOT NULL DEFAULT 0,"
	"  bytes     INTEGER NOT NULL DEFAULT 0,"
	"  files     INTEGER NOT NULL DEFAULT 0,"
	"  listen    TEXT);",

	/* 5 -> 6: locks that expire by themselves, and who owns a move. */
	"ALTER TABLE accounts ADD COLUMN locked_until INTEGER;"
	"ALTER TABLE moves ADD COLUMN owner_start TEXT;"
	"DROP VIEW route;"
	"CREATE VIEW route AS"
	"  SELECT a.user AS user, sv.name AS server, sv.address AS host,"
	"         s.path || '/' || a.path AS home, s.name AS slice,"
	"         (a.state = 'locked' AND coalesce(a.locked_until, 0) >"
	"          CAST(strftime('%s', 'now') AS INTEGER)) AS locked,"
	"         a.generation AS generation"
	"  FROM accounts a"
	"  JOIN slices s ON s.id = a.slice_id"
	"  JOIN servers sv ON sv.id = s.server_id;",

	/* 6 -> 7: presence pushed by access servers; mailbox activity. */
	"ALTER TABLE accounts ADD COLUMN online INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE moves ADD COLUMN last_change INTEGER NOT NULL DEFAULT 0;",

	/* 7 -> 8: what access servers (Dovecot) read, and the settle check
	 * of retired sources. Moves done before it count as settled. */
	"ALTER TABLE accounts ADD COLUMN uid INTEGER;"
	"ALTER TABLE accounts ADD COLUMN gid INTEGER;"
	"ALTER TABLE moves ADD COLUMN settle_marks TEXT;"
	"ALTER TABLE moves ADD COLUMN settled_at INTEGER;"
	"UPDATE moves SET settled_at = coalesce(retired_at, finished, updated)"
	"  WHERE state = 'done';"
	"CREATE VIEW access AS"
	"  SELECT a.user AS user,"
	"         s.path || '/' || a.path AS home,"
	"         'maildir:' || s.path || '/' || a.path AS mail,"
	"         a.uid AS uid, a.gid AS gid,"
	"         sv.address AS host, sv.name AS server, s.name AS slice,"
	"         (a.state = 'locked' AND coalesce(a.locked_until, 0) >"
	"          CAST(strftime('%s', 'now') AS INTEGER)) AS locked,"
	"         (a.state = 'missing' OR (a.state = 'locked' AND"
	"          coalesce(a.locked_until, 0) >"
	"          CAST(strftime('%s', 'now') AS INTEGER))) AS unavailable,"
	"         a.generation AS generation"
	"  FROM accounts a"
	"  JOIN slices s ON s.id = a.slice_id"
	"  JOIN servers sv ON sv.id = s.server_id;",

	/* 8 -> 9: the one-daemon lock; a queued move's own rates. */
	"CREATE TABLE daemon_lock ("
	"  id       INTEGER PRIMARY KEY CHECK (id = 1),"
	"  host     TEXT NOT NULL,"
	"  pid      INTEGER NOT NULL,"
	"  identity TEXT,"
	"  taken    INTEGER NOT NULL);"
	"ALTER TABLE moves ADD COLUMN bytes_per_second INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (bytes_per_second >= 0);"
	"ALTER TABLE moves ADD COLUMN files_per_second INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (files_per_second >= 0);",
};

sqlite3_stmt *
st_prepare(struct state *st, const char *sql, char **cause)
{
	sqlite3_stmt *stmt;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fail(cause, "catalog %s: %s", st->path, sqlite3_errmsg(st->db));
		return NULL;
	}
	return stmt;
}

int
st_fail(struct state *st, char **cause, const char *what)
{
	return fail(cause, "catalog %s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db));
}

char *
st_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	return s == NULL ? NULL : xstrdup((const char *)s);
}

void
st_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT);
}

int
st_exec_stmt(struct state *st, sqlite3_stmt *stmt, char **cause,
    const char *what)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		st_fail(st, cause, what);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* The id of the row named by sql (one bound name), 0 when none. */
int
st_lookup_id(struct state *st, const char *sql, const char *name, int64_t *id,
    char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(st, sql, cause)) == NULL)
		return -1;
	st_bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return st_fail(st, cause, "looking up a name");
	return 0;
}

/* Run SQL without parameters (pragmas, migrations). */
static int
exec_sql(struct state *st, const char *sql, char **cause, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail(cause, "catalog %s: %s: %s", st->path, what,
		    msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Read one integer pragma or count. */
static int
query_int(struct state *st, const char *sql, int64_t *out, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return fail(cause, "%s", sqlite3_errmsg(st->db));
	return 0;
}

/* Apply migrations from the file's version up to target, in one transaction. */
static int
migrate(struct state *st, int from, int target, char **cause)
{
	char pragma[128];
	int v;

	if (exec_sql(st, "BEGIN IMMEDIATE", cause, "starting upgrade") != 0)
		return -1;
	for (v = from; v < target; v++) {
		if (exec_sql(st, migrations[v], cause, "upgrading schema") != 0)
			goto bad;
	}
	snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d; "
	    "PRAGMA user_version = %d", STATE_APPLICATION_ID, target);
	if (exec_sql(st, pragma, cause, "upgrading schema") != 0)
		goto bad;
	if (exec_sql(st, "COMMIT", cause, "committing upgrade") != 0)
		goto bad;
	return 0;
bad:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Look at what the file is before writing anything to it: refuse files that
 * are not ours or are from a newer mailshift, and tell a fresh file apart.
 */
static int
check_file(struct state *st, int create, int target, char **cause)
{
	int64_t appid, version, objects;
	char *why = NULL;

	if (query_int(st, "PRAGMA application_id", &appid, &why) != 0) {
		fail(cause, "%s is not a mailshift catalog (%s); check --db "
		    "or the catalog path in the config", st->path, why);
		free(why);
		return -1;
	}
	if (query_int(st, "PRAGMA user_version", &version, cause) != 0 ||
	    query_int(st, "SELECT count(*) FROM sqlite_schema", &objects,
	    cause) != 0)
		return -1;
	if (appid == 0 && version == 0 && objects == 0) {
		if (!create)
			return fail(cause, "%s is an empty file, not a "
			    "catalog; create one with 'mailshift init'",
			    st->path);
		st->version_found = 0;
		return 0;
	}
	if (appid != STATE_APPLICATION_ID)
		return fail(cause, "%s is an SQLite database but not a "
		    "mailshift catalog (application_id %#llx); refusing to "
		    "touch it, check --db", st->path,
		    (unsigned long long)appid);
	if (version > STATE_SCHEMA_VERSION)
		return fail(cause, "catalog %s has schema version %lld, newer "
		    "than this mailshift understands (%d); use a newer "
		    "mailshift", st->path, (long long)version,
		    STATE_SCHEMA_VERSION);
	if (version < 1 || version > target)
		return fail(cause, "catalog %s has schema version %lld, which "
		    "this build cannot open at version %d", st->path,
		    (long long)version, target);
	st->version_found = (int)version;
	return 0;
}

/* Open at a given schema version (the current one outside tests). */
static struct state *
open_at(const char *path, int create, int target, char **cause)
{
	struct state *st;
	struct stat sb;
	char *dir, *tmp;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	if (stat(path, &sb) != 0) {
		if (errno != ENOENT || !create) {
			if (errno == ENOENT)
				fail(cause, "no catalog at %s; create one with "
				    "'mailshift init' or give --db", path);
			else
				fail(cause, "catalog %s: %s", path,
				    strerror(errno));
			return NULL;
		}
		tmp = xstrdup(path);
		dir = dirname(tmp);
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			fail(cause, "cannot create catalog %s: directory %s "
			    "does not exist; create it first", path, dir);
			free(tmp);
			return NULL;
		}
		free(tmp);
		flags |= SQLITE_OPEN_CREATE;
	} else if (!S_ISREG(sb.st_mode)) {
		fail(cause, "catalog %s is not a regular file", path);
		return NULL;
	} else if (sb.st_nlink > 1) {
		/* SQLite names the WAL after the name it was given: two
		 * names would mean two logs for one database. */
		fail(cause, "catalog %s has %ju hard links; SQLite keeps its "
		    "log beside each name, so using two names would corrupt "
		    "it: remove the other link ('find / -xdev -samefile %s' "
		    "shows it) and use a symlink if another name is needed",
		    path, (uintmax_t)sb.st_nlink, path);
		return NULL;
	}

	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		fail(cause, "cannot open catalog %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto bad;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 10000);
	if (check_file(st, create, target, cause) != 0)
		goto bad;
	if (exec_sql(st, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
	    cause, "setting up") != 0)
		goto bad;
	if (st->version_found < target &&
	    migrate(st, st->version_found, target, cause) != 0)
		goto bad;
	return st;
bad:
	state_close(st);
	return NULL;
}

struct state *
state_open(const char *path, int create, char **cause)
{
	return open_at(path, create, STATE_SCHEMA_VERSION, cause);
}

struct state *
state_open_version(const char *path, int version, char **cause)
{
	if (version < 1 || version > STATE_SCHEMA_VERSION) {
		fail(cause, "no schema version %d", version);
		return NULL;
	}
	return open_at(path, 1, version, cause);
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

int
state_version_found(const struct state *st)
{
	return st->version_found;
}

int
state_begin(struct state *st, char **cause)
{
	if (exec_sql(st, "BEGIN IMMEDIATE", cause, "starting a transaction")
	    != 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

int
state_commit(struct state *st, char **cause)
{
	if (exec_sql(st, "COMMIT", cause, "committing") != 0) {
		state_rollback(st);
		return -1;
	}
	st->in_tx = 0;
	return 0;
}

void
state_rollback(struct state *st)
{
	if (st->in_tx || !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
}

int64_t
state_data_version(struct state *st)
{
	sqlite3_stmt *stmt;
	int64_t v = -1;

	if ((stmt = st_prepare(st, "PRAGMA data_version", NULL)) == NULL)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

int
state_event(struct state *st, const char *kind, const char *user,
    const char *slice, const char *fmt, ...)
{
	sqlite3_stmt *stmt;
	va_list ap;
	char *msg;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	stmt = st_prepare(st, "INSERT INTO events (ts, kind, user, slice, "
	    "message) VALUES (?, ?, ?, ?, ?)", NULL);
	if (stmt == NULL) {
		free(msg);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, now_unix());
	st_bind_text(stmt, 2, kind);
	st_bind_text(stmt, 3, user);
	st_bind_text(stmt, 4, slice);
	st_bind_text(stmt, 5, msg);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	free(msg);
	return rc == SQLITE_DONE ? 0 : -1;
}

const char *
state_path(const struct state *st)
{
	return st->path;
}
