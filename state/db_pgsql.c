/*
 * The PostgreSQL driver of the statement interface (libpq).
 *
 * Statements are sent with their parameters bound (PQsendQueryParams, '?'
 * and '?N' renumbered $N) and read a row at a time (single-row mode), so
 * a large result is never held whole. When another statement runs while
 * one is still being read, the rest of the first one's rows are read into
 * its queue first: statements can nest as they do on SQLite.
 *
 * Writers are serialised as on SQLite: a transaction takes the catalog's
 * writer lock (a transaction-level advisory lock) when it begins, and a
 * write outside a transaction runs in one of its own that takes it too.
 * So a cutover's switch never interleaves with another writer of the same
 * account, and a reader never waits.
 *
 * A connection that went away is made again (PQreset, so a multi-host
 * conninfo with target_session_attrs=read-write finds the new primary)
 * before the next statement outside a transaction; inside one, the
 * statement fails and the transaction is lost, which the caller sees as
 * an error. A COMMIT whose answer never came has an unknown outcome: the
 * error says so, and the caller reads the catalog again to know.
 */
#define _GNU_SOURCE
#include "state/db_pgsql_int.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT8OID	20
#define TEXTOID	25

struct pg_stmt {
	struct db_stmt		 base;
	struct pg_db		*db;
	char			*sql;
	int			 nparams;
	char			**values;
	Oid			*types;
	int			 is_write;
	enum pg_stmt_state	 state;
	PGresult		*row;
	PGresult		**queue;
	size_t			 nq, qhead, qcap;
	int			 final_rc;
};

void
pg_err(struct pg_db *db, const char *msg)
{
	size_t n;
	char *p;

	free(db->err);
	db->err = xstrdup(msg != NULL && *msg != '\0' ? msg :
	    "the catalog server gave no reason");
	n = strlen(db->err);
	while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
	/* One line: libpq's messages have a line per host tried. */
	for (p = db->err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

void
pg_conn_err(struct pg_db *db)
{
	pg_err(db, PQerrorMessage(db->conn));
}

static void
pg_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGresult *
pg_query(struct pg_db *db, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType t = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (t == want || (want == PGRES_COMMAND_OK && t == PGRES_TUPLES_OK))
		return r;
	if (r != NULL && PQresultErrorMessage(r)[0] != '\0')
		pg_err(db, PQresultErrorMessage(r));
	else
		pg_conn_err(db);
	PQclear(r);
	return NULL;
}

/* Run a statement without parameters; 0 or -1 with the error kept. */
int
pg_run(struct pg_db *db, const char *sql)
{
	PGresult *r = pg_query(db, sql, PGRES_COMMAND_OK);
	int rc = r != NULL ? 0 : -1;

	PQclear(r);
	return rc;
}

/* Settings of every session, and the channel the catalog's triggers
 * notify. */
static int
pg_session(struct pg_db *db)
{
	PGresult *r;

	PQsetNoticeProcessor(db->conn, pg_quiet, NULL);
	if (pg_run(db, "SET lock_timeout = '10s'; "
	    "SET client_min_messages = warning") != 0)
		return -1;
	/* Only a session that asks for changes listens: the server keeps
	 * notifications until every listener has read them. */
	if (db->listening && pg_run(db, "LISTEN mailshift") != 0)
		return -1;
	r = PQexec(db->conn, "SELECT current_schema()");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
		pg_err(db, "no schema to hold the catalog: the first schema "
		    "of search_path does not exist (create it, or set "
		    "search_path in the conninfo's options)");
		PQclear(r);
		return -1;
	}
	free(db->schema);
	db->schema = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/*
 * What a session gets unless the conninfo says otherwise (the conninfo,
 * expanded last, wins): a connect that gives up after 10 s, and a cut
 * network noticed within about 30 s (TCP keepalives and
 * tcp_user_timeout), so that a statement never waits forever on a server
 * that is gone.
 */
static const char *const pg_keys[] = { "connect_timeout", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count",
    "tcp_user_timeout", "application_name", "dbname", NULL };

static struct db *
pg_open(const char *target, int create, char **cause)
{
	struct pg_db *db;

	(void)create;
	db = xcalloc(1, sizeof *db);
	db->base.drv = &db_pgsql_driver;
	db->base.engine = DB_PGSQL;
	db->conn = PQconnectdbParams(pg_keys, (const char *const[]){ "10",
	    "1", "10", "5", "3", "30000", "mailshift", target, NULL }, 1);
	if (db->conn == NULL) {
		fail(cause, "cannot connect to the catalog: out of memory");
		free(db);
		return NULL;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		pg_conn_err(db);
		fail(cause, "cannot connect to the catalog server: %s; check "
		    "[catalog] url (or --db) and that the server runs",
		    db->err);
		db->base.drv->close(&db->base);
		return NULL;
	}
	if (pg_session(db) != 0) {
		fail(cause, "catalog: %s", db->err);
		db->base.drv->close(&db->base);
		return NULL;
	}
	return &db->base;
}

static void pg_stmt_clear(struct pg_stmt *);
static void pg_forget_prepared(struct pg_db *);

static void
pg_close(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;

	if (db->active != NULL)
		pg_stmt_clear(db->active);
	PQfinish(db->conn);
	pg_forget_prepared(db);
	free(db->err);
	free(db->schema);
	free(db);
}

/* A new session has none of the old one's prepared statements. */
static void
pg_forget_prepared(struct pg_db *db)
{
	size_t i;

	for (i = 0; i < db->nprep; i++)
		free(db->prep[i].sql);
	free(db->prep);
	db->prep = NULL;
	db->nprep = 0;
}

/* Try the one-daemon lock: a session-level advisory lock, so it goes
 * with the session (a daemon that dies or loses its connection). */
int
pg_take_lock(struct pg_db *db, int *got)
{
	PGresult *r = pg_query(db, "SELECT " PG_LOCK_DAEMON,
	    PGRES_TUPLES_OK);

	if (r == NULL)
		return -1;
	*got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

/* Make a lost connection again; only outside a transaction. Missed
 * notifications count as one; a daemon lock held is taken again. */
int
pg_ensure(struct pg_db *db)
{
	if (PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (db->in_tx) {
		pg_err(db, "the connection to the catalog server was lost "
		    "inside a transaction, which is rolled back");
		return -1;
	}
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		pg_conn_err(db);
		return -1;
	}
	db->notified++;
	db->epoch++;
	pg_forget_prepared(db);
	if (pg_session(db) != 0)
		return -1;
	if (db->daemon_lock && !db->lock_lost) {
		int got = 0;

		if (pg_take_lock(db, &got) != 0 || !got)
			db->lock_lost = 1;
	}
	return 0;
}

/* Rewrite '?' and '?N' outside quotes as $N; *nparams is the highest. */
static char *
pg_number(const char *sql, int *nparams)
{
	size_t len = strlen(sql), o = 0;
	char *out = xmalloc(len * 4 + 1);
	char quote = 0;
	int max = 0;
	const char *p;

	for (p = sql; *p != '\0'; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			out[o++] = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			out[o++] = *p;
		} else if (*p == '?') {
			int n = 0;

			if (isdigit((unsigned char)p[1])) {
				while (isdigit((unsigned char)p[1]))
					n = n * 10 + (*++p - '0');
			} else
				n = max + 1;
			if (n > max)
				max = n;
			o += (size_t)sprintf(out + o, "$%d", n);
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
	*nparams = max;
	return out;
}

/* Does sql change rows (so that outside a transaction it needs one)? */
static int
pg_writes(const char *sql)
{
	static const char *const verbs[] = { "INSERT", "UPDATE", "DELETE" };
	size_t i;

	while (isspace((unsigned char)*sql) || *sql == '(')
		sql++;
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strncasecmp(sql, verbs[i], strlen(verbs[i])) == 0)
			return 1;
	if (strncasecmp(sql, "WITH", 4) == 0)
		return strcasestr(sql, "INSERT ") != NULL ||
		    strcasestr(sql, "UPDATE ") != NULL ||
		    strcasestr(sql, "DELETE ") != NULL;
	return 0;
}

static struct db_stmt *
pg_prepare(struct db *base, const char *sql)
{
	struct pg_stmt *s = xcalloc(1, sizeof *s);

	s->base.drv = &db_pgsql_driver;
	s->db = (struct pg_db *)base;
	s->sql = pg_number(sql, &s->nparams);
	s->values = xcalloc((size_t)s->nparams + 1, sizeof *s->values);
	s->types = xcalloc((size_t)s->nparams + 1, sizeof *s->types);
	s->is_write = pg_writes(sql);
	s->final_rc = DB_DONE;
	return &s->base;
}

static void
pg_bind(struct pg_stmt *s, int i, char *v, Oid type)
{
	if (i < 1 || i > s->nparams) {
		free(v);
		return;
	}
	free(s->values[i - 1]);
	s->values[i - 1] = v;
	s->types[i - 1] = type;
}

static void
pg_bind_int64(struct db_stmt *base, int i, int64_t v)
{
	pg_bind((struct pg_stmt *)base, i, xasprintf("%lld", (long long)v),
	    INT8OID);
}

static void
pg_bind_text(struct db_stmt *base, int i, const char *v)
{
	pg_bind((struct pg_stmt *)base, i, v != NULL ? xstrdup(v) : NULL,
	    TEXTOID);
}

static void
pg_bind_null(struct db_stmt *base, int i)
{
	pg_bind((struct pg_stmt *)base, i, NULL, 0);
}

/* The next row of the statement being read: DB_ROW with *row set, or its
 * end (DB_DONE or DB_ERROR) once every result of it was read. */
static int
pg_next(struct pg_stmt *s, PGresult **row)
{
	struct pg_db *db = s->db;
	PGresult *r;

	while ((r = PQgetResult(db->conn)) != NULL) {
		switch (PQresultStatus(r)) {
		case PGRES_SINGLE_TUPLE:
			*row = r;
			return DB_ROW;
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			db->changes = strtoll(PQcmdTuples(r), NULL, 10);
			break;
		default:
			pg_err(db, PQresultErrorMessage(r));
			s->final_rc = DB_ERROR;
			break;
		}
		PQclear(r);
	}
	if (PQstatus(db->conn) != CONNECTION_OK && s->final_rc != DB_ERROR) {
		pg_conn_err(db);
		s->final_rc = DB_ERROR;
	}
	db->active = NULL;
	s->state = PS_DONE;
	return s->final_rc;
}

/* Read the rest of the statement being read into its queue, so the
 * connection is free for another. */
void
pg_park(struct pg_db *db)
{
	struct pg_stmt *s = db->active;
	PGresult *r;
	int rc;

	if (s == NULL)
		return;
	while ((rc = pg_next(s, &r)) == DB_ROW) {
		if (s->nq == s->qcap) {
			s->qcap = s->qcap ? s->qcap * 2 : 64;
			s->queue = xrealloc(s->queue, s->qcap *
			    sizeof *s->queue);
		}
		s->queue[s->nq++] = r;
	}
	s->final_rc = rc;
	s->state = PS_QUEUED;
}

static unsigned
pg_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/*
 * The number of s's text prepared in this session (preparing it the first
 * time); -1 when the session has prepared as many as it keeps (the text
 * is sent then), -2 when it does not prepare (the error is kept). The
 * server parses and plans a prepared statement once, not at every run.
 */
static long
pg_prepared(struct pg_stmt *s)
{
	struct pg_db *db = s->db;
	unsigned h = pg_hash(s->sql);
	char name[32];
	PGresult *r;
	size_t i;
	int ok;

	for (i = 0; i < db->nprep; i++)
		if (db->prep[i].hash == h && strcmp(db->prep[i].sql, s->sql) ==
		    0)
			return (long)i;
	if (db->nprep == PG_MAX_PREPARED)
		return -1;
	snprintf(name, sizeof name, "ms%zu", db->nprep);
	r = PQprepare(db->conn, name, s->sql, s->nparams, s->types);
	ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok) {
		/* It would not run either, and inside a transaction the
		 * failure aborted it: its own error is the one to give. */
		pg_err(db, r != NULL ? PQresultErrorMessage(r) :
		    PQerrorMessage(db->conn));
		PQclear(r);
		return -2;
	}
	PQclear(r);
	if (db->nprep % 32 == 0)
		db->prep = xrealloc(db->prep, (db->nprep + 32) *
		    sizeof *db->prep);
	db->prep[db->nprep].sql = xstrdup(s->sql);
	db->prep[db->nprep].hash = h;
	return (long)db->nprep++;
}

static int
pg_send(struct pg_stmt *s)
{
	struct pg_db *db = s->db;
	long n = pg_prepared(s);
	char name[32];
	int sent;

	if (n == -2)
		return -1;
	if (n >= 0) {
		snprintf(name, sizeof name, "ms%ld", n);
		sent = PQsendQueryPrepared(db->conn, name, s->nparams,
		    (const char *const *)s->values, NULL, NULL, 0);
	} else
		sent = PQsendQueryParams(db->conn, s->sql, s->nparams,
		    s->types, (const char *const *)s->values, NULL, NULL, 0);
	if (!sent) {
		pg_conn_err(db);
		return -1;
	}
	PQsetSingleRowMode(db->conn);
	s->state = PS_STREAM;
	db->active = s;
	return 0;
}

static int
pg_step(struct db_stmt *base)
{
	struct pg_stmt *s = (struct pg_stmt *)base;
	struct pg_db *db = s->db;
	PGresult *r;
	int rc;

	PQclear(s->row);
	s->row = NULL;
	if (s->state == PS_NEW) {
		pg_park(db);
		if (pg_ensure(db) != 0)
			return s->final_rc = DB_ERROR;
		if (s->is_write && !db->in_tx) {
			/* A write of its own: one transaction that holds the
			 * writer lock, its rows queued. */
			if (pg_run(db, "BEGIN; SELECT " PG_LOCK_WRITER) != 0) {
				pg_run(db, "ROLLBACK");
				return s->final_rc = DB_ERROR;
			}
			if (pg_send(s) != 0) {
				pg_run(db, "ROLLBACK");
				return s->final_rc = DB_ERROR;
			}
			pg_park(db);
			if (s->final_rc == DB_DONE) {
				r = PQexec(db->conn, "COMMIT");
				if (r == NULL || PQresultStatus(r) !=
				    PGRES_COMMAND_OK || strcmp(PQcmdStatus(r),
				    "COMMIT") != 0) {
					pg_err(db, r != NULL &&
					    PQresultErrorMessage(r)[0] ?
					    PQresultErrorMessage(r) :
					    "the commit's outcome is unknown "
					    "(the connection was lost)");
					s->final_rc = DB_ERROR;
				}
				PQclear(r);
			} else
				pg_run(db, "ROLLBACK");
			/* Rows of a write that did not commit were never
			 * written: none are handed out. */
			if (s->final_rc == DB_ERROR) {
				while (s->qhead < s->nq)
					PQclear(s->queue[s->qhead++]);
				s->nq = s->qhead = 0;
			}
		} else if (pg_send(s) != 0)
			return s->final_rc = DB_ERROR;
	}
	switch (s->state) {
	case PS_STREAM:
		if ((rc = pg_next(s, &r)) == DB_ROW)
			s->row = r;
		return rc;
	case PS_QUEUED:
		if (s->qhead < s->nq) {
			s->row = s->queue[s->qhead];
			s->queue[s->qhead++] = NULL;
			return DB_ROW;
		}
		s->state = PS_DONE;
		return s->final_rc;
	default:
		return s->final_rc;
	}
}

static int64_t
pg_column_int64(struct db_stmt *base, int c)
{
	struct pg_stmt *s = (struct pg_stmt *)base;
	const char *v;

	if (s->row == NULL || c >= PQnfields(s->row) ||
	    PQgetisnull(s->row, 0, c))
		return 0;
	v = PQgetvalue(s->row, 0, c);
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

static const char *
pg_column_text(struct db_stmt *base, int c)
{
	struct pg_stmt *s = (struct pg_stmt *)base;

	if (s->row == NULL || c >= PQnfields(s->row) ||
	    PQgetisnull(s->row, 0, c))
		return NULL;
	return PQgetvalue(s->row, 0, c);
}

static int
pg_column_count(struct db_stmt *base)
{
	struct pg_stmt *s = (struct pg_stmt *)base;

	return s->row != NULL ? PQnfields(s->row) : 0;
}

static int
pg_column_type(struct db_stmt *base, int c)
{
	struct pg_stmt *s = (struct pg_stmt *)base;
	Oid t;

	if (s->row == NULL || c >= PQnfields(s->row) ||
	    PQgetisnull(s->row, 0, c))
		return DB_NULL;
	t = PQftype(s->row, c);
	/* int8, int2, int4 */
	return t == INT8OID || t == 21 || t == 23 ? DB_INTEGER : DB_TEXT;
}

static const char *
pg_column_name(struct db_stmt *base, int c)
{
	struct pg_stmt *s = (struct pg_stmt *)base;

	return s->row != NULL && c < PQnfields(s->row) ? PQfname(s->row, c) :
	    NULL;
}

/* Forget the statement's results (its parameters stay). */
static void
pg_stmt_clear(struct pg_stmt *s)
{
	PGresult *r;

	PQclear(s->row);
	s->row = NULL;
	if (s->state == PS_STREAM) {
		while ((r = PQgetResult(s->db->conn)) != NULL)
			PQclear(r);
		s->db->active = NULL;
	}
	while (s->qhead < s->nq)
		PQclear(s->queue[s->qhead++]);
	s->nq = s->qhead = 0;
	s->state = PS_NEW;
	s->final_rc = DB_DONE;
}

static void
pg_reset(struct db_stmt *base)
{
	pg_stmt_clear((struct pg_stmt *)base);
}

static void
pg_finalize(struct db_stmt *base)
{
	struct pg_stmt *s = (struct pg_stmt *)base;
	int i;

	pg_stmt_clear(s);
	for (i = 0; i < s->nparams; i++)
		free(s->values[i]);
	free(s->values);
	free(s->types);
	free(s->queue);
	free(s->sql);
	free(s);
}

int
pg_exec(struct db *base, const char *sql)
{
	struct pg_db *db = (struct pg_db *)base;

	pg_park(db);
	if (pg_ensure(db) != 0)
		return -1;
	return pg_run(db, sql);
}

static int64_t
pg_changes(struct db *base)
{
	return ((struct pg_db *)base)->changes;
}

static const char *
pg_errmsg(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;

	return db->err != NULL ? db->err : "no error";
}

static int
pg_begin(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;

	if (pg_exec(base, "BEGIN; SELECT " PG_LOCK_WRITER) != 0) {
		pg_run(db, "ROLLBACK");
		return -1;
	}
	db->in_tx = 1;
	return 0;
}

/* COMMIT of a transaction that failed answers ROLLBACK: that is an error,
 * and so is an answer that never came (the outcome is then unknown). */
static int
pg_commit(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;
	PGresult *r;
	int rc = 0;

	pg_park(db);
	r = PQexec(db->conn, "COMMIT");
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		if (PQstatus(db->conn) != CONNECTION_OK)
			pg_err(db, "the connection to the catalog server was "
			    "lost while committing; whether the change was "
			    "made is known only by reading the catalog again");
		else
			pg_err(db, r != NULL ? PQresultErrorMessage(r) :
			    PQerrorMessage(db->conn));
		rc = -1;
	} else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		pg_err(db, "the transaction failed earlier and was rolled "
		    "back");
		rc = -1;
	}
	PQclear(r);
	db->in_tx = 0;
	return rc;
}

static int
pg_rollback(struct db *base)
{
	struct pg_db *db = (struct pg_db *)base;
	int rc = 0;

	pg_park(db);
	if (db->in_tx && PQstatus(db->conn) == CONNECTION_OK)
		rc = pg_run(db, "ROLLBACK");
	db->in_tx = 0;
	return rc;
}












const struct db_driver db_pgsql_driver = {
	.name = "pgsql",
	.open = pg_open,
	.close = pg_close,
	.prepare = pg_prepare,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.column_int64 = pg_column_int64,
	.column_text = pg_column_text,
	.column_count = pg_column_count,
	.column_type = pg_column_type,
	.column_name = pg_column_name,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.exec = pg_exec,
	.changes = pg_changes,
	.errmsg = pg_errmsg,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.mark_get = pg_mark_get,
	.mark_set = pg_mark_set,
	.setup = pg_setup,
	.data_version = pg_data_version,
	.session_lock = pg_session_lock,
	.session_lock_lost = pg_session_lock_lost,
	.notify_fd = pg_notify_fd,
	.session_epoch = pg_session_epoch,
	.copy_begin = pg_copy_begin,
	.copy_line = pg_copy_line,
	.copy_end = pg_copy_end,
};
