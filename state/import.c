/* Bulk import of account placements, all or nothing. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/import.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct import_slice {
	char	*name;
	int64_t	 id;
};

struct state_import {
	struct state		*st;
	int			 replace;
	struct db_stmt		*ins;
	int			 copying;	/* rows go by COPY */
	char			*line;		/* a COPY line being built */
	size_t			 cap;
	struct import_slice	*slices;
	int			 nslices;
	int64_t			 rows;
};

void
state_import_abort(struct state_import *im)
{
	int i;

	if (im == NULL)
		return;
	db_finalize(im->ins);
	if (im->copying)
		im->st->db->drv->copy_end(im->st->db);
	free(im->line);
	state_rollback(im->st);
	db_exec(im->st->db, "DROP TABLE IF EXISTS import_rows");
	for (i = 0; i < im->nslices; i++)
		free(im->slices[i].name);
	free(im->slices);
	free(im);
}

struct state_import *
state_import_begin(struct state *st, int replace, char **cause)
{
	struct state_import *im;
	struct db_stmt *stmt;
	int rc;

	im = xcalloc(1, sizeof *im);
	im->st = st;
	im->replace = replace;
	if ((stmt = st_prepare(st, "SELECT name, id FROM slices", cause))
	    == NULL)
		goto bad;
	while ((rc = db_step(stmt)) == DB_ROW) {
		im->slices = xrealloc(im->slices, (size_t)(im->nslices + 1) *
		    sizeof *im->slices);
		im->slices[im->nslices].name = st_text(stmt, 0);
		im->slices[im->nslices].id = db_column_int64(stmt, 1);
		im->nslices++;
	}
	db_finalize(stmt);
	if (rc != DB_DONE) {
		st_fail(st, cause, "reading slices");
		goto bad;
	}
	if (db_exec(st->db, "DROP TABLE IF EXISTS import_rows; "
	    "CREATE TEMP TABLE import_rows (line BIGINT NOT NULL, "
	    "\"user\" TEXT COLLATE \"C\" NOT NULL, slice_id BIGINT NOT NULL, "
	    "path TEXT COLLATE \"C\" NOT NULL, bytes BIGINT NOT NULL, "
	    "files BIGINT NOT NULL)") != 0) {
		st_fail(st, cause, "preparing import");
		goto bad;
	}
	if (state_begin(st, cause) != 0)
		goto bad;
	/* On a server the rows are staged with COPY: one stream, not a
	 * round trip a row. */
	if (st->db->drv->copy_begin != NULL) {
		if (st->db->drv->copy_begin(st->db, "COPY import_rows FROM "
		    "STDIN") != 0) {
			st_fail(st, cause, "staging import rows");
			goto bad;
		}
		im->copying = 1;
		return im;
	}
	if ((im->ins = st_prepare(st, "INSERT INTO import_rows VALUES "
	    "(?, ?, ?, ?, ?, ?)", cause)) == NULL)
		goto bad;
	return im;
bad:
	state_import_abort(im);
	return NULL;
}

/* Append s to the COPY line: as it is (raw), or escaped as COPY's text
 * format wants. */
static void
copy_text(struct state_import *im, size_t *n, const char *s, int raw)
{
	size_t need = strlen(s) * 2 + 1;

	if (*n + need > im->cap) {
		im->cap = (*n + need) * 2;
		im->line = xrealloc(im->line, im->cap);
	}
	for (; *s != '\0'; s++) {
		if (raw) {
			im->line[(*n)++] = *s;
			continue;
		}
		switch (*s) {
		case '\\':
			im->line[(*n)++] = '\\';
			im->line[(*n)++] = '\\';
			break;
		case '\t':
			im->line[(*n)++] = '\\';
			im->line[(*n)++] = 't';
			break;
		case '\n':
			im->line[(*n)++] = '\\';
			im->line[(*n)++] = 'n';
			break;
		case '\r':
			im->line[(*n)++] = '\\';
			im->line[(*n)++] = 'r';
			break;
		default:
			im->line[(*n)++] = *s;
		}
	}
}

static int
copy_row(struct state_import *im, int64_t line, const char *user,
    int64_t sid, const char *path, uint64_t bytes, uint64_t files,
    char **cause)
{
	char num[3][32];
	size_t n = 0;

	snprintf(num[0], sizeof num[0], "%lld\t", (long long)line);
	snprintf(num[1], sizeof num[1], "\t%lld\t", (long long)sid);
	snprintf(num[2], sizeof num[2], "\t%llu\t%llu\n",
	    (unsigned long long)bytes, (unsigned long long)files);
	copy_text(im, &n, num[0], 1);
	copy_text(im, &n, user, 0);
	copy_text(im, &n, num[1], 1);
	copy_text(im, &n, path, 0);
	copy_text(im, &n, num[2], 1);
	if (im->st->db->drv->copy_line(im->st->db, im->line, n) != 0)
		return st_fail(im->st, cause, "staging import row");
	im->rows++;
	return 0;
}

int
state_import_row(struct state_import *im, int64_t line, const char *user,
    const char *slice, const char *path, uint64_t bytes, uint64_t files,
    char **cause)
{
	int64_t sid = 0;
	int i;

	for (i = 0; i < im->nslices; i++) {
		if (strcmp(im->slices[i].name, slice) == 0) {
			sid = im->slices[i].id;
			break;
		}
	}
	if (sid == 0)
		return fail(cause, "line %lld: slice '%s' not found; see "
		    "'mailshift slice list'", (long long)line, slice);
	if (bytes > INT64_MAX || files > INT64_MAX)
		return fail(cause, "line %lld: size out of range",
		    (long long)line);
	if (im->copying)
		return copy_row(im, line, user, sid, path, bytes, files, cause);
	db_reset(im->ins);
	db_bind_int64(im->ins, 1, line);
	st_bind_text(im->ins, 2, user);
	db_bind_int64(im->ins, 3, sid);
	st_bind_text(im->ins, 4, path);
	db_bind_int64(im->ins, 5, (int64_t)bytes);
	db_bind_int64(im->ins, 6, (int64_t)files);
	if (db_step(im->ins) != DB_DONE)
		return st_fail(im->st, cause, "staging import row");
	im->rows++;
	return 0;
}

/*
 * Run a check query whose first row, if any, is a problem: columns are
 * line, then up to six texts used by fmt.
 */
static int
import_check(struct state_import *im, const char *sql, const char *fmt,
    char **cause)
{
	struct db_stmt *stmt;
	int rc;

	if ((stmt = st_prepare(im->st, sql, cause)) == NULL)
		return -1;
	rc = db_step(stmt);
	if (rc == DB_ROW) {
		fail(cause, fmt, (long long)db_column_int64(stmt, 0),
		    (const char *)db_column_text(stmt, 1),
		    (const char *)db_column_text(stmt, 2),
		    (const char *)db_column_text(stmt, 3),
		    (const char *)db_column_text(stmt, 4),
		    (const char *)db_column_text(stmt, 5),
		    (const char *)db_column_text(stmt, 6));
		db_finalize(stmt);
		return -1;
	}
	db_finalize(stmt);
	if (rc != DB_DONE)
		return st_fail(im->st, cause, "checking import");
	return 0;
}

/* Count rows of the import matching a condition on (r, a). */
static int64_t
import_count(struct state_import *im, const char *sql)
{
	struct db_stmt *stmt;
	int64_t n = 0;

	if ((stmt = st_prepare(im->st, sql, NULL)) == NULL)
		return 0;
	if (db_step(stmt) == DB_ROW)
		n = db_column_int64(stmt, 0);
	db_finalize(stmt);
	return n;
}

/*
 * Paths are compared as bytes: the paths inside p are exactly those in
 * [p || '/', p || '0') ('0' follows '/'), a range the (slice, path)
 * indexes answer; no LIKE, so '%' and '_' in a path are plain characters.
 */
#define NEST_FMT "line %lld: '%s' for account '%s' on slice '%s' %s " \
	"%s; one account's mailbox cannot hold another's: fix the file%s"
#define NEST_HINT ", or move that account away first"

/*
 * No two directories of one slice may nest once the import is in: not
 * two rows, and not a row and a catalog account the import leaves where
 * it is (accounts the rows place anew are checked as rows).
 */
static int
import_nesting(struct state_import *im, char **cause)
{
	/* Two rows: the later line is the one named. */
	if (import_check(im, "SELECT max(c.line, p.line), CASE WHEN c.line > "
	    "p.line THEN c.path ELSE p.path END, CASE WHEN c.line > p.line "
	    "THEN c.\"user\" ELSE p.\"user\" END, s.name, CASE WHEN c.line > p.line "
	    "THEN 'lies inside' ELSE 'contains' END, format('''%s'' for "
	    "account ''%s'' (line %s)', CASE WHEN c.line > p.line THEN "
	    "p.path ELSE c.path END, CASE WHEN c.line > p.line THEN p.\"user\" "
	    "ELSE c.\"user\" END, min(c.line, p.line)), '' FROM import_rows p "
	    "JOIN import_rows c ON c.slice_id = p.slice_id AND c.path >= "
	    "p.path || '/' AND c.path < p.path || '0' JOIN slices s ON "
	    "s.id = p.slice_id ORDER BY 1 LIMIT 1", NEST_FMT, cause) != 0)
		return -1;
	/* A row that would contain a catalog account. */
	if (import_check(im, "SELECT r.line, r.path, r.\"user\", s.name, "
	    "'contains', format('the mailbox of account ''%s'' (''%s'')', "
	    "a.\"user\", a.path), '" NEST_HINT "' FROM import_rows r JOIN "
	    "accounts a ON a.slice_id = r.slice_id AND a.path >= r.path || "
	    "'/' AND a.path < r.path || '0' JOIN slices s ON s.id = "
	    "r.slice_id WHERE NOT EXISTS (SELECT 1 FROM import_rows x WHERE "
	    "x.\"user\" = a.\"user\") ORDER BY r.line LIMIT 1", NEST_FMT, cause) != 0)
		return -1;
	/* A row inside a catalog account: each directory above the row's
	 * path (n is the position of a '/') looked up by the index. */
	return import_check(im, "WITH RECURSIVE up(line, slice_id, \"user\", "
	    "path, n) AS (SELECT line, slice_id, \"user\", path, instr(path, '/') "
	    "FROM import_rows WHERE instr(path, '/') > 0 UNION ALL SELECT "
	    "line, slice_id, \"user\", path, n + instr(substr(path, n + 1), '/') "
	    "FROM up WHERE instr(substr(path, n + 1), '/') > 0) "
	    "SELECT u.line, u.path, u.\"user\", s.name, 'lies inside', "
	    "format('the mailbox of account ''%s'' (''%s'')', a.\"user\", "
	    "a.path), '" NEST_HINT "' FROM up u JOIN accounts a ON "
	    "a.slice_id = u.slice_id AND a.path = substr(u.path, 1, u.n - 1) "
	    "JOIN slices s ON s.id = u.slice_id WHERE NOT EXISTS (SELECT 1 "
	    "FROM import_rows x WHERE x.\"user\" = a.\"user\") ORDER BY u.line "
	    "LIMIT 1", NEST_FMT, cause);
}

int
state_import_finish(struct state_import *im, struct state_import_stats *out,
    char **cause)
{
	struct state *st = im->st;
	struct state_import_stats stats = { .rows = im->rows };
	struct db_stmt *stmt;

	if (im->copying) {
		im->copying = 0;
		if (st->db->drv->copy_end(st->db) != 0) {
			st_fail(st, cause, "staging import rows");
			goto bad;
		}
		/* The planner's estimates need the table's size. */
		db_exec(st->db, "ANALYZE import_rows");
	}
	if (db_exec(st->db, "CREATE INDEX import_user ON import_rows "
	    "(\"user\"); CREATE INDEX import_path ON import_rows(slice_id, "
	    "path)") != 0) {
		st_fail(st, cause, "indexing import");
		goto bad;
	}
	if (import_check(im, "SELECT max(line), \"user\", min(line), '' FROM "
	    "import_rows GROUP BY \"user\" HAVING count(*) > 1 "
	    "ORDER BY max(line) LIMIT 1",
	    "line %lld: account '%s' appears again (first on line %s); "
	    "list each account once%s", cause) != 0)
		goto bad;
	if (import_check(im, "SELECT max(r.line), r.path, s.name, "
	    "min(r.line) FROM import_rows r JOIN slices s ON s.id = "
	    "r.slice_id GROUP BY r.slice_id, r.path, s.name HAVING count(*) > 1 "
	    "ORDER BY max(r.line) LIMIT 1",
	    "line %lld: path '%s' on slice '%s' is given twice (first on "
	    "line %s); each account needs its own directory", cause) != 0)
		goto bad;
	if (import_check(im, "SELECT r.line, a.\"user\", s.name, a.path FROM "
	    "import_rows r JOIN accounts a ON a.slice_id = r.slice_id AND "
	    "a.path = r.path AND a.\"user\" <> r.\"user\" JOIN slices s ON s.id = "
	    "a.slice_id ORDER BY r.line LIMIT 1",
	    "line %lld: that directory already belongs to account '%s' "
	    "(slice '%s', path '%s'); fix the file", cause) != 0)
		goto bad;
	if (import_nesting(im, cause) != 0)
		goto bad;
	if (import_check(im, "SELECT r.line, r.\"user\", '', '' FROM "
	    "import_rows r JOIN accounts a ON a.\"user\" = r.\"user\" JOIN moves m "
	    "ON m.account_id = a.id AND m.state NOT IN "
	    "('done','failed','cancelled') WHERE a.slice_id <> r.slice_id OR "
	    "a.path <> r.path ORDER BY r.line LIMIT 1",
	    "line %lld: account '%s' is being moved; wait for the move or "
	    "cancel it%s%s", cause) != 0)
		goto bad;
	if (!im->replace && import_check(im, "SELECT r.line, r.\"user\", s.name, "
	    "a.path FROM import_rows r JOIN accounts a ON a.\"user\" = r.\"user\" "
	    "JOIN slices s ON s.id = a.slice_id WHERE a.slice_id <> "
	    "r.slice_id OR a.path <> r.path ORDER BY r.line LIMIT 1",
	    "line %lld: account '%s' is already placed on slice '%s' at "
	    "'%s'; give --replace to change placements", cause) != 0)
		goto bad;

	stats.unchanged = import_count(im, "SELECT count(*) FROM import_rows "
	    "r JOIN accounts a ON a.\"user\" = r.\"user\" AND a.slice_id = "
	    "r.slice_id AND a.path = r.path AND a.bytes = r.bytes AND "
	    "a.files = r.files");
	stats.added = import_count(im, "SELECT count(*) FROM import_rows r "
	    "WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.\"user\" = "
	    "r.\"user\")");
	stats.updated = stats.rows - stats.added - stats.unchanged;

	if ((stmt = st_prepare(st, "INSERT INTO accounts (\"user\", "
	    "slice_id, path, bytes, files, size_source, created, updated) "
	    "SELECT \"user\", slice_id, path, bytes, files, 'import', ?1, ?1 "
	    "FROM import_rows WHERE true ORDER BY line ON CONFLICT (\"user\") "
	    "DO UPDATE SET generation = accounts.generation + "
	    "CAST(accounts.slice_id <> excluded.slice_id OR accounts.path <> "
	    "excluded.path AS INTEGER), slice_id = excluded.slice_id, "
	    "path = excluded.path, bytes = excluded.bytes, "
	    "files = excluded.files, size_source = 'import', "
	    "updated = excluded.updated WHERE accounts.slice_id <> "
	    "excluded.slice_id OR accounts.path <> excluded.path OR "
	    "accounts.bytes <> excluded.bytes OR accounts.files <> "
	    "excluded.files", cause)) == NULL)
		goto bad;
	db_bind_int64(stmt, 1, now_unix());
	if (st_exec_stmt(st, stmt, cause, "importing accounts") != 0)
		goto bad;
	state_event(st, "account.import", NULL, NULL, "imported %lld rows: "
	    "%lld added, %lld updated, %lld unchanged", (long long)stats.rows,
	    (long long)stats.added, (long long)stats.updated,
	    (long long)stats.unchanged);
	db_finalize(im->ins);
	im->ins = NULL;
	if (state_commit(st, cause) != 0)
		goto bad;
	if (out != NULL)
		*out = stats;
	state_import_abort(im);		/* only frees and drops the table now */
	return 0;
bad:
	state_import_abort(im);
	return -1;
}
