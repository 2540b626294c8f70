/* Internals shared by the two files of the PostgreSQL driver:
 * db_pgsql.c (sessions and statements) and db_pgsql_catalog.c (the
 * catalog's mark, notifications, the daemon lock, COPY). */
#ifndef MAILSHIFT_STATE_DB_PGSQL_INT_H
#define MAILSHIFT_STATE_DB_PGSQL_INT_H

#include <libpq-fe.h>

#include "state/db.h"

/* The catalog's advisory locks: the first key tells them apart (the
 * application id, "MSHF", for the writer lock; one more for the daemon's),
 * the second is the schema, so each catalog of a database has its own. */
#define PG_LOCK_WRITER	"pg_advisory_xact_lock(1297303622, " \
	"hashtext(current_schema()))"
#define PG_LOCK_DAEMON	"pg_try_advisory_lock(1297303623, " \
	"hashtext(current_schema()))"

struct pg_stmt;

/* A statement this session has prepared, by its text. */
struct pg_prepared {
	char		*sql;
	unsigned	 hash;
};

#define PG_MAX_PREPARED 512

struct pg_db {
	struct db	 base;
	PGconn		*conn;
	char		*err;
	int64_t		 changes;
	int		 in_tx;
	struct pg_stmt	*active;	/* being read from the connection */
	int64_t		 notified;	/* other sessions' commits seen */
	char		*schema;	/* current_schema(), notify payload */
	int		 listening;	/* LISTEN mailshift was asked for */
	int64_t		 epoch;		/* sessions made again */
	struct pg_prepared *prep;	/* prepared statements, named msN */
	size_t		 nprep;
	int		 daemon_lock;	/* this session holds it */
	int		 lock_lost;	/* and could not take it again */
};

enum pg_stmt_state {
	PS_NEW,		/* not sent */
	PS_STREAM,	/* rows come from the connection */
	PS_QUEUED,	/* rows come from the queue */
	PS_DONE,
};

/* Keep msg (or the session's error) as the error db_errmsg gives. */
void pg_err(struct pg_db *, const char *msg);
void pg_conn_err(struct pg_db *);
/* A statement without parameters whose result has status want (or, for
 * PGRES_COMMAND_OK, rows); NULL with the error kept. */
PGresult *pg_query(struct pg_db *, const char *sql, ExecStatusType want);
/* A statement without parameters; 0, or -1 with the error kept. */
int pg_run(struct pg_db *, const char *sql);
int pg_exec(struct db *, const char *sql);
/* Free the session for another statement (see db_pgsql.c). */
void pg_park(struct pg_db *);
/* Make a lost session again, outside a transaction. */
int pg_ensure(struct pg_db *);
/* Try the one-daemon lock; *got says whether it was free. */
int pg_take_lock(struct pg_db *, int *got);

/* db_pgsql_catalog.c */
int pg_mark_get(struct db *, int64_t *appid, int64_t *version, int *empty);
int pg_mark_set(struct db *, int64_t appid, int64_t version);
int pg_setup(struct db *);
int64_t pg_data_version(struct db *);
int pg_session_lock(struct db *, int *got);
int pg_session_lock_lost(struct db *);
int pg_notify_fd(struct db *);
int64_t pg_session_epoch(struct db *);
int pg_copy_begin(struct db *, const char *sql);
int pg_copy_line(struct db *, const char *line, size_t);
int pg_copy_end(struct db *);

#endif
