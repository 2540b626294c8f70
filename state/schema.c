/*
 * The catalog's schema, version by version, for each engine (state/state.h
 * describes what each version adds). Entry v - 1 of an array takes a
 * catalog from version v - 1 to v. A released entry is never edited; a
 * change of schema is a new version in both arrays.
 */
#include "state/state_int.h"

/* SQLite: the history as it was released. */
/*
 * One login of NEW.username now (v12's triggers; both engines' forms
 * must stay as they are: a migration's text is history): the week turns
 * when it began 7 days (604800 s) ago or more, and the week before is
 * kept when that began less than 14 days ago. The same as
 * state_account_set_presence_at.
 */
#define LOGIN_SET(now) \
	"UPDATE accounts SET" \
	"  logins = CASE WHEN " now " - logins_since >= 604800 THEN 1" \
	"    ELSE logins + 1 END," \
	"  logins_prev = CASE WHEN " now " - logins_since < 604800 THEN" \
	"    logins_prev WHEN " now " - logins_since < 1209600 THEN logins" \
	"    ELSE 0 END," \
	"  logins_since = CASE WHEN " now " - logins_since < 604800 THEN" \
	"    logins_since ELSE " now " END," \
	"  last_activity = max(last_activity, " now ")" \
	"  WHERE \"user\" = NEW.username;"
#define SQ_LOGIN LOGIN_SET("CAST(strftime('%s', 'now') AS INTEGER)")

const char *const st_sqlite_migrations[STATE_SCHEMA_VERSION] = {
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

	/* 9 -> 10: the daemon's health watch, apart from the admin's state. */
	"ALTER TABLE slices ADD COLUMN health TEXT NOT NULL DEFAULT 'ok'"
	"  CHECK (health IN ('ok','degraded','unresponsive'));"
	"ALTER TABLE slices ADD COLUMN health_reason TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE slices ADD COLUMN health_since INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE servers ADD COLUMN health TEXT NOT NULL DEFAULT 'ok'"
	"  CHECK (health IN ('ok','degraded','unresponsive'));"
	"ALTER TABLE servers ADD COLUMN health_reason TEXT NOT NULL"
	"  DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN health_since INTEGER NOT NULL"
	"  DEFAULT 0;",

	/* 10 -> 11: load: what each slice's storage serves, what each
	 * account adds and how often its user logs in, ops capacity. */
	"CREATE TABLE loads ("
	"  id       INTEGER PRIMARY KEY,"
	"  ts       INTEGER NOT NULL,"
	"  slice_id INTEGER NOT NULL REFERENCES slices(id),"
	"  source   TEXT NOT NULL,"
	"  ops      INTEGER NOT NULL CHECK (ops >= 0),"
	"  bytes    INTEGER NOT NULL CHECK (bytes >= 0),"
	"  ms       INTEGER NOT NULL CHECK (ms > 0));"
	"CREATE INDEX loads_slice_ts ON loads(slice_id, ts);"
	"CREATE INDEX loads_ts ON loads(ts);"
	"ALTER TABLE slices ADD COLUMN ops_capacity INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (ops_capacity >= 0);"
	"ALTER TABLE slices ADD COLUMN io_source TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE slices ADD COLUMN io_ops INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE slices ADD COLUMN io_bytes INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE slices ADD COLUMN io_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN added_files INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (added_files >= 0);"
	"ALTER TABLE accounts ADD COLUMN added_bytes INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (added_bytes >= 0);"
	"ALTER TABLE accounts ADD COLUMN added_at INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN logins INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN logins_prev INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN logins_since INTEGER NOT NULL"
	"  DEFAULT 0;",

	/* 11 -> 12: logins as Dovecot's last_login plugin reports them:
	 * its dict (dict-sql) writes a user's row at every login; the
	 * triggers count it against the account as presence does
	 * (state_account_set_presence_at), by the catalog's clock. */
	"CREATE TABLE dovecot_logins ("
	"  username   TEXT PRIMARY KEY,"
	"  last_login INTEGER NOT NULL DEFAULT 0);"
	"CREATE TRIGGER dovecot_login_insert AFTER INSERT ON dovecot_logins"
	"  BEGIN " SQ_LOGIN " END;"
	"CREATE TRIGGER dovecot_login_update AFTER UPDATE OF last_login ON"
	"  dovecot_logins BEGIN " SQ_LOGIN " END;",

	/* 12 -> 13: failover: the step under way on a slice (moves that
	 * touch it pause), who runs it, since when and toward which server;
	 * when it last failed over (hold_down). */
	"ALTER TABLE slices ADD COLUMN failover TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE slices ADD COLUMN failover_owner TEXT;"
	"ALTER TABLE slices ADD COLUMN failover_since INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE slices ADD COLUMN failover_to INTEGER"
	"  REFERENCES servers(id);"
	"ALTER TABLE slices ADD COLUMN failed_over INTEGER NOT NULL"
	"  DEFAULT 0;",
};

/*
 * The same history for PostgreSQL. Types are PostgreSQL's (BIGINT for
 * SQLite's 64-bit INTEGER, identity columns for INTEGER PRIMARY KEY), text
 * compares byte by byte (COLLATE "C") as it does in SQLite, truth values
 * in views are 0 or 1, and "user" is quoted. Version 1 also defines the
 * helpers the shared SQL dialect calls (state/db.h) and the trigger that
 * tells listeners (the daemon) that the catalog changed.
 */
#define T "TEXT COLLATE \"C\""
#define ID "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
#define NOTIFY(t) "CREATE TRIGGER " t "_changed AFTER INSERT OR UPDATE OR " \
	"DELETE ON " t " FOR EACH STATEMENT EXECUTE FUNCTION " \
	"mailshift_changed();"
#define PG_LOCKED "(a.state = 'locked' AND coalesce(a.locked_until, 0) > " \
	"unixepoch())"

const char *const st_pgsql_migrations[STATE_SCHEMA_VERSION] = {
	/* 0 -> 1: helpers, topology, accounts and the route view. */
	"CREATE FUNCTION unixepoch() RETURNS BIGINT LANGUAGE sql STABLE AS"
	"  'SELECT CAST(floor(extract(epoch FROM now())) AS BIGINT)';"
	"CREATE FUNCTION instr(TEXT, TEXT) RETURNS INTEGER LANGUAGE sql"
	"  IMMUTABLE AS 'SELECT strpos($1, $2)';"
	"CREATE FUNCTION max(BIGINT, BIGINT) RETURNS BIGINT LANGUAGE sql"
	"  IMMUTABLE AS 'SELECT greatest($1, $2)';"
	"CREATE FUNCTION min(BIGINT, BIGINT) RETURNS BIGINT LANGUAGE sql"
	"  IMMUTABLE AS 'SELECT least($1, $2)';"
	"CREATE FUNCTION mailshift_changed() RETURNS trigger LANGUAGE plpgsql"
	"  AS 'BEGIN PERFORM pg_notify(''mailshift'', current_schema());"
	"  RETURN NULL; END';"
	"CREATE TABLE servers ("
	"  id      " ID ","
	"  name    " T " NOT NULL UNIQUE,"
	"  address " T " NOT NULL,"
	"  created BIGINT NOT NULL);"
	"CREATE TABLE pairs ("
	"  id       " ID ","
	"  name     " T " NOT NULL UNIQUE,"
	"  server_a BIGINT NOT NULL UNIQUE REFERENCES servers(id),"
	"  server_b BIGINT NOT NULL UNIQUE REFERENCES servers(id),"
	"  created  BIGINT NOT NULL,"
	"  CHECK (server_a <> server_b));"
	"CREATE TABLE slices ("
	"  id        " ID ","
	"  name      " T " NOT NULL UNIQUE,"
	"  pair_id   BIGINT NOT NULL REFERENCES pairs(id),"
	"  server_id BIGINT NOT NULL REFERENCES servers(id),"
	"  path      " T " NOT NULL UNIQUE,"
	"  capacity  BIGINT NOT NULL CHECK (capacity > 0),"
	"  state     " T " NOT NULL DEFAULT 'active' CHECK (state IN"
	"    ('active','draining','readonly','degraded','retired')),"
	"  created   BIGINT NOT NULL,"
	"  scanned   BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE accounts ("
	"  id            " ID ","
	"  \"user\"        " T " NOT NULL UNIQUE,"
	"  slice_id      BIGINT NOT NULL REFERENCES slices(id),"
	"  path          " T " NOT NULL,"
	"  bytes         BIGINT NOT NULL DEFAULT 0 CHECK (bytes >= 0),"
	"  files         BIGINT NOT NULL DEFAULT 0 CHECK (files >= 0),"
	"  last_activity BIGINT NOT NULL DEFAULT 0,"
	"  state         " T " NOT NULL DEFAULT 'active' CHECK (state IN"
	"    ('active','locked','missing')),"
	"  generation    BIGINT NOT NULL DEFAULT 1,"
	"  pinned        BIGINT NOT NULL DEFAULT 0,"
	"  size_source   " T " NOT NULL DEFAULT 'import',"
	"  created       BIGINT NOT NULL,"
	"  updated       BIGINT NOT NULL,"
	"  UNIQUE (slice_id, path));"
	"CREATE INDEX accounts_slice ON accounts(slice_id);"
	"CREATE VIEW route AS"
	"  SELECT a.\"user\" AS \"user\", sv.name AS server, sv.address AS host,"
	"         s.path || '/' || a.path AS home, s.name AS slice,"
	"         CAST(a.state = 'locked' AS INTEGER) AS locked,"
	"         a.generation AS generation"
	"  FROM accounts a"
	"  JOIN slices s ON s.id = a.slice_id"
	"  JOIN servers sv ON sv.id = s.server_id;"
	NOTIFY("servers") NOTIFY("pairs") NOTIFY("slices") NOTIFY("accounts"),

	/* 1 -> 2: moves, plans, usage snapshots and the event log. */
	"CREATE TABLE plans ("
	"  id       " ID ","
	"  created  BIGINT NOT NULL,"
	"  strategy " T " NOT NULL,"
	"  params   " T " NOT NULL DEFAULT '{}',"
	"  summary  " T " NOT NULL DEFAULT '{}',"
	"  state    " T " NOT NULL DEFAULT 'proposed');"
	"CREATE TABLE moves ("
	"  id             " ID ","
	"  account_id     BIGINT NOT NULL REFERENCES accounts(id),"
	"  source_slice   BIGINT NOT NULL REFERENCES slices(id),"
	"  source_path    " T " NOT NULL,"
	"  target_slice   BIGINT NOT NULL REFERENCES slices(id),"
	"  target_path    " T " NOT NULL,"
	"  state          " T " NOT NULL DEFAULT 'queued' CHECK (state IN"
	"    ('queued','copying','syncing','ready','cutover','done',"
	"     'failed','cancelled')),"
	"  plan_id        BIGINT REFERENCES plans(id),"
	"  priority       BIGINT NOT NULL DEFAULT 0,"
	"  hold           BIGINT NOT NULL DEFAULT 0,"
	"  complete_after BIGINT NOT NULL DEFAULT 0,"
	"  paused         BIGINT NOT NULL DEFAULT 0,"
	"  bytes_total    BIGINT NOT NULL DEFAULT 0,"
	"  files_total    BIGINT NOT NULL DEFAULT 0,"
	"  bytes_done     BIGINT NOT NULL DEFAULT 0,"
	"  files_done     BIGINT NOT NULL DEFAULT 0,"
	"  passes         BIGINT NOT NULL DEFAULT 0,"
	"  attempts       BIGINT NOT NULL DEFAULT 0,"
	"  next_try       BIGINT NOT NULL DEFAULT 0,"
	"  lock_ms        BIGINT,"
	"  error          " T ","
	"  created        BIGINT NOT NULL,"
	"  updated        BIGINT NOT NULL,"
	"  started        BIGINT,"
	"  finished       BIGINT,"
	"  CHECK (source_slice <> target_slice));"
	"CREATE UNIQUE INDEX moves_one_open ON moves(account_id)"
	"  WHERE state NOT IN ('done','failed','cancelled');"
	"CREATE INDEX moves_state ON moves(state);"
	"CREATE TABLE snapshots ("
	"  id       " ID ","
	"  ts       BIGINT NOT NULL,"
	"  slice_id BIGINT NOT NULL REFERENCES slices(id),"
	"  bytes    BIGINT NOT NULL,"
	"  files    BIGINT NOT NULL,"
	"  accounts BIGINT NOT NULL,"
	"  capacity BIGINT NOT NULL);"
	"CREATE INDEX snapshots_slice_ts ON snapshots(slice_id, ts);"
	"CREATE TABLE events ("
	"  id      " ID ","
	"  ts      BIGINT NOT NULL,"
	"  kind    " T " NOT NULL,"
	"  move_id BIGINT,"
	"  \"user\"  " T ","
	"  slice   " T ","
	"  message " T " NOT NULL);"
	"CREATE INDEX events_ts ON events(ts);"
	NOTIFY("plans") NOTIFY("moves"),

	/* 2 -> 3: what a move needs to resume, time its lock and retire. */
	"ALTER TABLE moves ADD COLUMN owner_pid BIGINT;"
	"ALTER TABLE moves ADD COLUMN lock_started BIGINT;"
	"ALTER TABLE moves ADD COLUMN copy_ms BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE moves ADD COLUMN retired_path " T ";"
	"ALTER TABLE moves ADD COLUMN retired_at BIGINT;"
	"ALTER TABLE moves ADD COLUMN purged_at BIGINT;"
	"CREATE INDEX moves_account ON moves(account_id);"
	"CREATE INDEX events_move ON events(move_id);",

	/* 3 -> 4: the moves of a stored plan, and moves that wait. */
	"CREATE TABLE plan_moves ("
	"  plan_id    BIGINT NOT NULL REFERENCES plans(id),"
	"  seq        BIGINT NOT NULL,"
	"  account_id BIGINT NOT NULL REFERENCES accounts(id),"
	"  from_slice BIGINT NOT NULL REFERENCES slices(id),"
	"  to_slice   BIGINT NOT NULL REFERENCES slices(id),"
	"  bytes      BIGINT NOT NULL,"
	"  files      BIGINT NOT NULL,"
	"  after_seq  BIGINT,"
	"  PRIMARY KEY (plan_id, seq));"
	"ALTER TABLE moves ADD COLUMN after_move BIGINT REFERENCES moves(id);",

	/* 4 -> 5: what the daemon says about itself. */
	"CREATE TABLE daemon ("
	"  id        BIGINT PRIMARY KEY CHECK (id = 1),"
	"  pid       BIGINT NOT NULL,"
	"  started   BIGINT NOT NULL,"
	"  heartbeat BIGINT NOT NULL,"
	"  stopped   BIGINT,"
	"  running   BIGINT NOT NULL DEFAULT 0,"
	"  bytes     BIGINT NOT NULL DEFAULT 0,"
	"  files     BIGINT NOT NULL DEFAULT 0,"
	"  listen    " T ");",

	/* 5 -> 6: locks that expire by themselves (judged by the server's
	 * clock), and who owns a move. */
	"ALTER TABLE accounts ADD COLUMN locked_until BIGINT;"
	"ALTER TABLE moves ADD COLUMN owner_start " T ";"
	"DROP VIEW route;"
	"CREATE VIEW route AS"
	"  SELECT a.\"user\" AS \"user\", sv.name AS server, sv.address AS host,"
	"         s.path || '/' || a.path AS home, s.name AS slice,"
	"         CAST(" PG_LOCKED " AS INTEGER) AS locked,"
	"         a.generation AS generation"
	"  FROM accounts a"
	"  JOIN slices s ON s.id = a.slice_id"
	"  JOIN servers sv ON sv.id = s.server_id;",

	/* 6 -> 7: presence pushed by access servers; mailbox activity. */
	"ALTER TABLE accounts ADD COLUMN online BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE moves ADD COLUMN last_change BIGINT NOT NULL DEFAULT 0;",

	/* 7 -> 8: what access servers (Dovecot) read, and the settle check
	 * of retired sources. Moves done before it count as settled. */
	"ALTER TABLE accounts ADD COLUMN uid BIGINT;"
	"ALTER TABLE accounts ADD COLUMN gid BIGINT;"
	"ALTER TABLE moves ADD COLUMN settle_marks " T ";"
	"ALTER TABLE moves ADD COLUMN settled_at BIGINT;"
	"UPDATE moves SET settled_at = coalesce(retired_at, finished, updated)"
	"  WHERE state = 'done';"
	"CREATE VIEW access AS"
	"  SELECT a.\"user\" AS \"user\","
	"         s.path || '/' || a.path AS home,"
	"         'maildir:' || s.path || '/' || a.path AS mail,"
	"         a.uid AS uid, a.gid AS gid,"
	"         sv.address AS host, sv.name AS server, s.name AS slice,"
	"         CAST(" PG_LOCKED " AS INTEGER) AS locked,"
	"         CAST(a.state = 'missing' OR " PG_LOCKED " AS INTEGER)"
	"           AS unavailable,"
	"         a.generation AS generation"
	"  FROM accounts a"
	"  JOIN slices s ON s.id = a.slice_id"
	"  JOIN servers sv ON sv.id = s.server_id;",

	/* 8 -> 9: the one-daemon lock; a queued move's own rates. */
	"CREATE TABLE daemon_lock ("
	"  id       BIGINT PRIMARY KEY CHECK (id = 1),"
	"  host     " T " NOT NULL,"
	"  pid      BIGINT NOT NULL,"
	"  identity " T ","
	"  taken    BIGINT NOT NULL);"
	"ALTER TABLE moves ADD COLUMN bytes_per_second BIGINT NOT NULL"
	"  DEFAULT 0 CHECK (bytes_per_second >= 0);"
	"ALTER TABLE moves ADD COLUMN files_per_second BIGINT NOT NULL"
	"  DEFAULT 0 CHECK (files_per_second >= 0);",

	/* 9 -> 10: the daemon's health watch, apart from the admin's state. */
	"ALTER TABLE slices ADD COLUMN health " T " NOT NULL DEFAULT 'ok'"
	"  CHECK (health IN ('ok','degraded','unresponsive'));"
	"ALTER TABLE slices ADD COLUMN health_reason " T " NOT NULL"
	"  DEFAULT '';"
	"ALTER TABLE slices ADD COLUMN health_since BIGINT NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE servers ADD COLUMN health " T " NOT NULL DEFAULT 'ok'"
	"  CHECK (health IN ('ok','degraded','unresponsive'));"
	"ALTER TABLE servers ADD COLUMN health_reason " T " NOT NULL"
	"  DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN health_since BIGINT NOT NULL"
	"  DEFAULT 0;",

	/* 10 -> 11: load: what each slice's storage serves, what each
	 * account adds and how often its user logs in, ops capacity. */
	"CREATE TABLE loads ("
	"  id       " ID ","
	"  ts       BIGINT NOT NULL,"
	"  slice_id BIGINT NOT NULL REFERENCES slices(id),"
	"  source   " T " NOT NULL,"
	"  ops      BIGINT NOT NULL CHECK (ops >= 0),"
	"  bytes    BIGINT NOT NULL CHECK (bytes >= 0),"
	"  ms       BIGINT NOT NULL CHECK (ms > 0));"
	"CREATE INDEX loads_slice_ts ON loads(slice_id, ts);"
	"CREATE INDEX loads_ts ON loads(ts);"
	"ALTER TABLE slices ADD COLUMN ops_capacity BIGINT NOT NULL"
	"  DEFAULT 0 CHECK (ops_capacity >= 0);"
	"ALTER TABLE slices ADD COLUMN io_source " T " NOT NULL DEFAULT '';"
	"ALTER TABLE slices ADD COLUMN io_ops BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE slices ADD COLUMN io_bytes BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE slices ADD COLUMN io_at BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN added_files BIGINT NOT NULL"
	"  DEFAULT 0 CHECK (added_files >= 0);"
	"ALTER TABLE accounts ADD COLUMN added_bytes BIGINT NOT NULL"
	"  DEFAULT 0 CHECK (added_bytes >= 0);"
	"ALTER TABLE accounts ADD COLUMN added_at BIGINT NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN logins BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN logins_prev BIGINT NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE accounts ADD COLUMN logins_since BIGINT NOT NULL"
	"  DEFAULT 0;",

	/* 11 -> 12: logins as Dovecot's last_login plugin reports them
	 * (see the SQLite form). The function runs with its owner's rights
	 * and this schema's search_path, so that a role that may only
	 * write dovecot_logins counts logins and can do nothing else. */
	"CREATE TABLE dovecot_logins ("
	"  username   " T " PRIMARY KEY,"
	"  last_login BIGINT NOT NULL DEFAULT 0);"
	"CREATE FUNCTION dovecot_login() RETURNS trigger LANGUAGE plpgsql"
	"  SECURITY DEFINER SET search_path FROM CURRENT AS"
	"  'DECLARE n BIGINT := unixepoch(); BEGIN "
	LOGIN_SET("n") " RETURN NULL; END';"
	"CREATE TRIGGER dovecot_login AFTER INSERT OR UPDATE OF last_login"
	"  ON dovecot_logins FOR EACH ROW EXECUTE FUNCTION dovecot_login();",

	/* 12 -> 13: failover (see the SQLite form). */
	"ALTER TABLE slices ADD COLUMN failover " T " NOT NULL DEFAULT '';"
	"ALTER TABLE slices ADD COLUMN failover_owner " T ";"
	"ALTER TABLE slices ADD COLUMN failover_since BIGINT NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE slices ADD COLUMN failover_to BIGINT"
	"  REFERENCES servers(id);"
	"ALTER TABLE slices ADD COLUMN failed_over BIGINT NOT NULL"
	"  DEFAULT 0;",
};
