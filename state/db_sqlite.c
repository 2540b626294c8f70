/* The SQLite driver of the statement interface: a catalog in one file. */
#define _GNU_SOURCE
#include "state/db.h"
#include "common/util.h"

#include <sqlite3.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Statements are kept once prepared, the way the PostgreSQL driver keeps
 * them on the server: SQLite parses and plans a statement at every
 * prepare, which for the catalog's statements costs more than running
 * them (half of a discover's time went to it). A finalized statement is
 * reset, unbound and kept by its text for the next prepare of that text,
 * up to SQ_CACHE of them (the least recently used goes). A text in use
 * twice at once gets a statement of its own the second time.
 */
#define SQ_CACHE 48

struct sq_kept {
	char		*sql;		/* NULL: slot free */
	unsigned	 hash;
	sqlite3_stmt	*stmt;		/* NULL while in use */
	uint64_t	 used;		/* when last handed out */
};

struct sq_db {
	struct db	 base;
	sqlite3		*conn;
	struct sq_kept	 kept[SQ_CACHE];
	uint64_t	 tick;
	uint64_t	 out;		/* statements handed out, not finalized */
	int		 closed;	/* then freed by the last finalize, as
					   sqlite3_close_v2 keeps a connection
					   until its last statement goes */
};

struct sq_stmt {
	struct db_stmt	 base;
	struct sq_db	*db;
	sqlite3_stmt	*stmt;
	int		 slot;		/* kept[] slot it came from, or -1 */
};

static unsigned
sq_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int
sq_bytes(void *arg, int alen, const void *a, int blen, const void *b)
{
	int c = memcmp(a, b, (size_t)(alen < blen ? alen : blen));

	(void)arg;
	return c != 0 ? c : alen - blen;
}

static struct db *
sq_open(const char *path, int create, char **cause)
{
	struct sq_db *db;
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

	db = xcalloc(1, sizeof *db);
	db->base.drv = &db_sqlite_driver;
	db->base.engine = DB_SQLITE;
	if (sqlite3_open_v2(path, &db->conn, flags, NULL) != SQLITE_OK) {
		fail(cause, "cannot open catalog %s: %s", path,
		    db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
		sqlite3_close_v2(db->conn);
		free(db);
		return NULL;
	}
	/* The shared dialect says COLLATE "C" for byte order: SQLite's
	 * BINARY under the name PostgreSQL gives it. */
	sqlite3_create_collation(db->conn, "C", SQLITE_UTF8, NULL, sq_bytes);
	sqlite3_extended_result_codes(db->conn, 1);
	sqlite3_busy_timeout(db->conn, 10000);
	return &db->base;
}

static void
sq_close(struct db *base)
{
	struct sq_db *db = (struct sq_db *)base;
	int i;

	for (i = 0; i < SQ_CACHE; i++) {
		sqlite3_finalize(db->kept[i].stmt);
		free(db->kept[i].sql);
		db->kept[i].stmt = NULL;
		db->kept[i].sql = NULL;
	}
	sqlite3_close_v2(db->conn);
	db->closed = 1;
	if (db->out == 0)
		free(db);
}

static struct db_stmt *
sq_prepare(struct db *base, const char *sql)
{
	struct sq_db *db = (struct sq_db *)base;
	struct sq_kept *k;
	struct sq_stmt *s;
	sqlite3_stmt *stmt = NULL;
	unsigned h = sq_hash(sql);
	int i, slot = -1, home = -1, victim = -1;

	for (i = 0; i < SQ_CACHE; i++) {
		k = &db->kept[i];
		if (k->sql == NULL) {
			if (victim < 0 || db->kept[victim].sql != NULL)
				victim = i;
			continue;
		}
		if (k->hash == h && strcmp(k->sql, sql) == 0) {
			home = i;
			break;
		}
		if (k->stmt != NULL && (victim < 0 ||
		    (db->kept[victim].sql != NULL &&
		    k->used < db->kept[victim].used)))
			victim = i;
	}
	if (home >= 0 && db->kept[home].stmt != NULL) {
		/* Kept: reset and unbound when it came back. */
		stmt = db->kept[home].stmt;
		db->kept[home].stmt = NULL;
		slot = home;
	} else {
		if (sqlite3_prepare_v2(db->conn, sql, -1, &stmt, NULL) !=
		    SQLITE_OK)
			return NULL;
		if (home < 0 && victim >= 0) {
			/* A text not kept yet: it takes a free slot or the
			 * least recently used one that is not in use. */
			k = &db->kept[victim];
			sqlite3_finalize(k->stmt);
			free(k->sql);
			k->sql = xstrdup(sql);
			k->hash = h;
			k->stmt = NULL;
			slot = victim;
		}
	}
	if (slot >= 0)
		db->kept[slot].used = ++db->tick;
	s = xcalloc(1, sizeof *s);
	s->base.drv = &db_sqlite_driver;
	s->db = db;
	s->stmt = stmt;
	s->slot = slot;
	db->out++;
	return &s->base;
}

#define SQ(s) (((struct sq_stmt *)(s))->stmt)

static void
sq_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(SQ(s), i, v);
}

static void
sq_bind_text(struct db_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(SQ(s), i);
	else
		sqlite3_bind_text(SQ(s), i, v, -1, SQLITE_TRANSIENT);
}

static void
sq_bind_null(struct db_stmt *s, int i)
{
	sqlite3_bind_null(SQ(s), i);
}

static int
sq_step(struct db_stmt *s)
{
	switch (sqlite3_step(SQ(s))) {
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	default:
		return DB_ERROR;
	}
}

static int64_t
sq_column_int64(struct db_stmt *s, int c)
{
	return sqlite3_column_int64(SQ(s), c);
}

static const char *
sq_column_text(struct db_stmt *s, int c)
{
	return (const char *)sqlite3_column_text(SQ(s), c);
}

static int
sq_column_count(struct db_stmt *s)
{
	return sqlite3_column_count(SQ(s));
}

static int
sq_column_type(struct db_stmt *s, int c)
{
	switch (sqlite3_column_type(SQ(s), c)) {
	case SQLITE_NULL:
		return DB_NULL;
	case SQLITE_INTEGER:
		return DB_INTEGER;
	default:
		return DB_TEXT;
	}
}

static const char *
sq_column_name(struct db_stmt *s, int c)
{
	return sqlite3_column_name(SQ(s), c);
}

static void
sq_reset(struct db_stmt *s)
{
	sqlite3_reset(SQ(s));
}

static void
sq_finalize(struct db_stmt *base)
{
	struct sq_stmt *s = (struct sq_stmt *)base;
	struct sq_db *db = s->db;
	struct sq_kept *k = s->slot >= 0 && !db->closed ? &db->kept[s->slot] :
	    NULL;

	if (k != NULL && k->stmt == NULL) {
		/* Back to its slot, as if prepared anew. */
		sqlite3_reset(s->stmt);
		sqlite3_clear_bindings(s->stmt);
		k->stmt = s->stmt;
	} else
		sqlite3_finalize(s->stmt);
	free(s);
	if (--db->out == 0 && db->closed)
		free(db);
}

static int
sq_exec(struct db *base, const char *sql)
{
	return sqlite3_exec(((struct sq_db *)base)->conn, sql, NULL, NULL,
	    NULL) == SQLITE_OK ? 0 : -1;
}

static int64_t
sq_changes(struct db *base)
{
	return sqlite3_changes(((struct sq_db *)base)->conn);
}

static const char *
sq_errmsg(struct db *base)
{
	return sqlite3_errmsg(((struct sq_db *)base)->conn);
}

/* BEGIN IMMEDIATE: the write lock is taken now, waiting up to the busy
 * timeout for another writer. */
static int
sq_begin(struct db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static int
sq_commit(struct db *db)
{
	return sq_exec(db, "COMMIT");
}

static int
sq_rollback(struct db *base)
{
	struct sq_db *db = (struct sq_db *)base;

	if (sqlite3_get_autocommit(db->conn))
		return 0;
	return sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL) ==
	    SQLITE_OK ? 0 : -1;
}

static int
query_int(struct sq_db *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(db->conn, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* The mark is in the file header: PRAGMA application_id and
 * user_version. */
static int
sq_mark_get(struct db *base, int64_t *appid, int64_t *version, int *empty)
{
	struct sq_db *db = (struct sq_db *)base;
	int64_t objects;

	if (query_int(db, "PRAGMA application_id", appid) != 0 ||
	    query_int(db, "PRAGMA user_version", version) != 0 ||
	    query_int(db, "SELECT count(*) FROM sqlite_schema", &objects) != 0)
		return -1;
	*empty = objects == 0;
	return 0;
}

static int
sq_mark_set(struct db *db, int64_t appid, int64_t version)
{
	char pragma[128];

	snprintf(pragma, sizeof pragma, "PRAGMA application_id = %lld; "
	    "PRAGMA user_version = %lld", (long long)appid,
	    (long long)version);
	return sq_exec(db, pragma);
}

static int
sq_setup(struct db *db)
{
	return sq_exec(db, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
}

static int64_t
sq_data_version(struct db *base)
{
	int64_t v;

	if (query_int((struct sq_db *)base, "PRAGMA data_version", &v) != 0)
		return -1;
	return v;
}

static int
sq_session_lock(struct db *db, int *got)
{
	(void)db;
	*got = 1;
	return 0;
}

static int
sq_session_lock_lost(struct db *db)
{
	(void)db;
	return 0;
}

static int
sq_notify_fd(struct db *db)
{
	(void)db;
	return -1;
}

static int64_t
sq_session_epoch(struct db *db)
{
	(void)db;
	return 0;
}

const struct db_driver db_sqlite_driver = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.prepare = sq_prepare,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.column_int64 = sq_column_int64,
	.column_text = sq_column_text,
	.column_count = sq_column_count,
	.column_type = sq_column_type,
	.column_name = sq_column_name,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.exec = sq_exec,
	.changes = sq_changes,
	.errmsg = sq_errmsg,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.mark_get = sq_mark_get,
	.mark_set = sq_mark_set,
	.setup = sq_setup,
	.data_version = sq_data_version,
	.session_lock = sq_session_lock,
	.session_lock_lost = sq_session_lock_lost,
	.notify_fd = sq_notify_fd,
	.session_epoch = sq_session_epoch,
};
