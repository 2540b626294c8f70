/*
 * The statement interface of the catalog: one thin layer with a driver per
 * engine (sqlite3 in state/db_sqlite.c, libpq in state/db_pgsql.c), the
 * way Dovecot's lib-sql has one interface and a driver per database. Only
 * state/ includes this header; nothing else speaks SQL.
 *
 * SQL is written once, in the dialect both engines share: '?' and '?N'
 * parameters (the PostgreSQL driver numbers them $N), CAST(x AS INTEGER)
 * for a truth value, IS [NOT] DISTINCT FROM, format(), and the helpers
 * unixepoch(), instr() and the two-argument max() and min() that the
 * PostgreSQL schema defines (SQLite has them built in). Identifiers that
 * PostgreSQL reserves ("user") are quoted.
 *
 * Results: db_step returns DB_ROW while there is a row, then DB_DONE, or
 * DB_ERROR (db_errmsg says why). A column's value stays valid until the
 * next db_step, db_reset or db_finalize of that statement. A statement
 * keeps its bound values across db_reset, as in SQLite.
 */
#ifndef MAILSHIFT_STATE_DB_H
#define MAILSHIFT_STATE_DB_H

#include <stddef.h>
#include <stdint.h>

enum db_engine {
	DB_SQLITE,
	DB_PGSQL,
};

#define DB_ERROR	(-1)
#define DB_DONE		0
#define DB_ROW		1

#define DB_NULL		0
#define DB_INTEGER	1
#define DB_TEXT		2

struct db;
struct db_stmt;

/* Which engine a catalog name means: a postgres:// or postgresql:// URL,
 * or a libpq conninfo (key=value ...), is PostgreSQL; anything else is
 * the path of an SQLite file. */
enum db_engine db_engine_of(const char *target);

/*
 * What every driver provides. The catalog's mark (application id and
 * schema version) lives where the engine keeps such things: the SQLite
 * file header, a one-row table on PostgreSQL.
 */
struct db_driver {
	const char	*name;
	struct db	*(*open)(const char *target, int create, char **cause);
	void		 (*close)(struct db *);
	struct db_stmt	*(*prepare)(struct db *, const char *sql);
	void		 (*bind_int64)(struct db_stmt *, int, int64_t);
	void		 (*bind_text)(struct db_stmt *, int, const char *);
	void		 (*bind_null)(struct db_stmt *, int);
	int		 (*step)(struct db_stmt *);
	int64_t		 (*column_int64)(struct db_stmt *, int);
	const char	*(*column_text)(struct db_stmt *, int);
	int		 (*column_count)(struct db_stmt *);
	/* DB_INTEGER, DB_TEXT or DB_NULL: what the value of a column of
	 * the current row is. */
	int		 (*column_type)(struct db_stmt *, int);
	const char	*(*column_name)(struct db_stmt *, int);
	void		 (*reset)(struct db_stmt *);
	void		 (*finalize)(struct db_stmt *);
	int		 (*exec)(struct db *, const char *sql);
	int64_t		 (*changes)(struct db *);
	const char	*(*errmsg)(struct db *);
	int		 (*begin)(struct db *);
	int		 (*commit)(struct db *);
	int		 (*rollback)(struct db *);
	/* The catalog's mark: appid and version, and whether the database
	 * (or schema) holds no object at all. */
	int		 (*mark_get)(struct db *, int64_t *appid,
			    int64_t *version, int *empty);
	int		 (*mark_set)(struct db *, int64_t appid,
			    int64_t version);
	/* Settings of every connection, once the mark was found good. */
	int		 (*setup)(struct db *);
	/* A value that changes when another connection commits. */
	int64_t		 (*data_version)(struct db *);
	/* The one-daemon lock a server holds for a session: *got says
	 * whether it was free (SQLite: always, the daemon_lock row decides
	 * there). Taken again after a reconnect; lost says it could not
	 * be, because another session took it meanwhile. */
	int		 (*session_lock)(struct db *, int *got);
	int		 (*session_lock_lost)(struct db *);
	/* A descriptor that becomes readable when another session commits
	 * (PostgreSQL's notifications), or -1. */
	int		 (*notify_fd)(struct db *);
	/* A count of the times the connection was made again. */
	int64_t		 (*session_epoch)(struct db *);
	/* Bulk load (PostgreSQL's COPY ... FROM STDIN, text format): begin
	 * with the COPY statement, send whole lines, end. NULL where the
	 * engine has none (SQLite: prepared INSERTs are as fast). */
	int		 (*copy_begin)(struct db *, const char *sql);
	int		 (*copy_line)(struct db *, const char *line, size_t);
	int		 (*copy_end)(struct db *);
};

/* Every connection and statement starts with its driver. */
struct db {
	const struct db_driver	*drv;
	enum db_engine		 engine;
};

struct db_stmt {
	const struct db_driver	*drv;
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pgsql_driver;

/* A PostgreSQL target as messages show it: without a password. */
char *db_pgsql_display(const char *target);

/* Open target with the driver its name calls for (db_engine_of). */
struct db *db_open(const char *target, int create, char **cause);

static inline void db_close(struct db *db)
	{ if (db != NULL) db->drv->close(db); }
static inline struct db_stmt *db_prepare(struct db *db, const char *sql)
	{ return db->drv->prepare(db, sql); }
static inline void db_bind_int64(struct db_stmt *s, int i, int64_t v)
	{ s->drv->bind_int64(s, i, v); }
static inline void db_bind_int(struct db_stmt *s, int i, int v)
	{ s->drv->bind_int64(s, i, v); }
static inline void db_bind_text(struct db_stmt *s, int i, const char *v)
	{ s->drv->bind_text(s, i, v); }
static inline void db_bind_null(struct db_stmt *s, int i)
	{ s->drv->bind_null(s, i); }
static inline int db_step(struct db_stmt *s)
	{ return s->drv->step(s); }
static inline int64_t db_column_int64(struct db_stmt *s, int c)
	{ return s->drv->column_int64(s, c); }
static inline int db_column_int(struct db_stmt *s, int c)
	{ return (int)s->drv->column_int64(s, c); }
static inline const char *db_column_text(struct db_stmt *s, int c)
	{ return s->drv->column_text(s, c); }
static inline int db_column_count(struct db_stmt *s)
	{ return s->drv->column_count(s); }
static inline int db_column_type(struct db_stmt *s, int c)
	{ return s->drv->column_type(s, c); }
static inline const char *db_column_name(struct db_stmt *s, int c)
	{ return s->drv->column_name(s, c); }
static inline void db_reset(struct db_stmt *s)
	{ s->drv->reset(s); }
static inline void db_finalize(struct db_stmt *s)
	{ if (s != NULL) s->drv->finalize(s); }
static inline int db_exec(struct db *db, const char *sql)
	{ return db->drv->exec(db, sql); }
static inline int64_t db_changes(struct db *db)
	{ return db->drv->changes(db); }
static inline const char *db_errmsg(struct db *db)
	{ return db->drv->errmsg(db); }

#endif
