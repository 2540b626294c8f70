/* Copying a catalog between engines, verified table by table. */
#define _GNU_SOURCE
#include "state/state_int.h"
#include "state/copy.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tables, in an order that satisfies every foreign key, each with the
 * key it is read in and whether its id is an identity column. */
static const struct {
	const char	*name;
	const char	*order;
	int		 identity;
} tables[] = {
	/* First: its triggers count a login into accounts, which are
	 * copied as they are only after it. */
	{ "dovecot_logins", "username", 0 },
	{ "servers", "id", 1 },
	{ "pairs", "id", 1 },
	{ "slices", "id", 1 },
	{ "accounts", "id", 1 },
	{ "plans", "id", 1 },
	{ "moves", "id", 1 },
	{ "plan_moves", "plan_id, seq", 0 },
	{ "snapshots", "id", 1 },
	{ "loads", "id", 1 },
	{ "events", "id", 1 },
};
#define NTABLES (sizeof tables / sizeof tables[0])

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * FNV_PRIME;
	return h;
}

/* Fold the current row into *sum: each value as the engines print it,
 * NULL apart from every text. */
static void
row_sum(struct db_stmt *s, int ncol, uint64_t *sum)
{
	const char *v;
	int c;

	for (c = 0; c < ncol; c++) {
		if (db_column_type(s, c) == DB_NULL)
			*sum = fnv(*sum, "\0N", 2);
		else {
			v = db_column_text(s, c);
			*sum = fnv(*sum, v, strlen(v));
		}
		*sum = fnv(*sum, "\x1f", 1);
	}
	*sum = fnv(*sum, "\x1e", 1);
}

/* A column name as an SQL identifier: in double quotes, any double quote
 * in it doubled. */
static char *
quote_name(const char *name)
{
	char *q = xmalloc(strlen(name) * 2 + 3), *p = q;

	*p++ = '"';
	for (; *name != '\0'; name++) {
		if (*name == '"')
			*p++ = '"';
		*p++ = *name;
	}
	*p++ = '"';
	*p = '\0';
	return q;
}

/* The INSERT of rows rows of the columns named. */
static char *
insert_sql(const char *table, char *const *names, int ncol, size_t rows)
{
	char *sql = xasprintf("INSERT INTO %s (", table), *t;
	size_t r;
	int c;

	for (c = 0; c < ncol; c++) {
		t = xasprintf("%s%s%s", sql, c ? ", " : "", names[c]);
		free(sql);
		sql = t;
	}
	t = xasprintf("%s) VALUES ", sql);
	free(sql);
	sql = t;
	for (r = 0; r < rows; r++) {
		for (c = 0; c < ncol; c++) {
			t = xasprintf("%s%s%s", sql, c ? ", " : r ? ", (" :
			    "(", "?");
			free(sql);
			sql = t;
		}
		t = xasprintf("%s)", sql);
		free(sql);
		sql = t;
	}
	return sql;
}

/* Rows are copied COPY_BATCH to a statement: a round trip a row would
 * make a copy to a server take minutes for a million accounts. */
#define COPY_BATCH 100

struct value {
	int	 type;
	int64_t	 i;
	char	*t;
};

struct batch {
	struct state	*dst;
	const char	*table;
	struct db_stmt	*full;		/* COPY_BATCH rows */
	struct value	*v;		/* COPY_BATCH rows of ncol */
	char		**names;	/* of the ncol columns */
	int		 ncol;
	size_t		 n;
};

static void
batch_free(struct batch *b)
{
	int c;

	for (c = 0; b->v != NULL && c < b->ncol * COPY_BATCH; c++)
		free(b->v[c].t);
	for (c = 0; b->names != NULL && c < b->ncol; c++)
		free(b->names[c]);
	free(b->v);
	free(b->names);
	db_finalize(b->full);
}

/* Insert the rows held; 0 or -1 with a cause. */
static int
batch_flush(struct batch *b, char **cause)
{
	struct db_stmt *ins;
	struct value *v;
	size_t k;
	char *sql;
	int rc;

	if (b->n == 0)
		return 0;
	if (b->n == COPY_BATCH && b->full != NULL)
		ins = b->full;
	else {
		sql = insert_sql(b->table, b->names, b->ncol, b->n);
		ins = st_prepare(b->dst, sql, cause);
		free(sql);
		if (ins == NULL)
			return -1;
		if (b->n == COPY_BATCH)
			b->full = ins;
	}
	db_reset(ins);
	for (k = 0; k < b->n * (size_t)b->ncol; k++) {
		v = &b->v[k];
		if (v->type == DB_NULL)
			db_bind_null(ins, (int)k + 1);
		else if (v->type == DB_INTEGER)
			db_bind_int64(ins, (int)k + 1, v->i);
		else
			db_bind_text(ins, (int)k + 1, v->t);
	}
	rc = db_step(ins) == DB_DONE ? 0 : st_fail(b->dst, cause, b->table);
	if (ins != b->full)
		db_finalize(ins);
	for (k = 0; k < b->n * (size_t)b->ncol; k++) {
		free(b->v[k].t);
		b->v[k].t = NULL;
	}
	b->n = 0;
	return rc;
}

/* Read table from st in key order: rows and checksum. */
static int
table_sum(struct state *st, size_t i, int64_t *rows, uint64_t *sum,
    char **cause)
{
	struct db_stmt *s;
	char *sql;
	int rc;

	sql = xasprintf("SELECT * FROM %s ORDER BY %s", tables[i].name,
	    tables[i].order);
	s = st_prepare(st, sql, cause);
	free(sql);
	if (s == NULL)
		return -1;
	*rows = 0;
	*sum = FNV_OFFSET;
	while ((rc = db_step(s)) == DB_ROW) {
		row_sum(s, db_column_count(s), sum);
		(*rows)++;
	}
	db_finalize(s);
	if (rc != DB_DONE)
		return st_fail(st, cause, "reading a table back");
	return 0;
}

static int
copy_table(struct state *src, struct state *dst, size_t i,
    struct state_copy_table *out, char **cause)
{
	struct batch b = { .dst = dst, .table = tables[i].name };
	struct value *v;
	struct db_stmt *s;
	char *sql;
	int rc, c;

	out->name = tables[i].name;
	out->rows = 0;
	out->sum = FNV_OFFSET;
	sql = xasprintf("SELECT * FROM %s ORDER BY %s", tables[i].name,
	    tables[i].order);
	s = st_prepare(src, sql, cause);
	free(sql);
	if (s == NULL)
		return -1;
	while ((rc = db_step(s)) == DB_ROW) {
		if (b.v == NULL) {
			b.ncol = db_column_count(s);
			b.v = xcalloc((size_t)b.ncol * COPY_BATCH,
			    sizeof *b.v);
			b.names = xcalloc((size_t)b.ncol, sizeof *b.names);
			for (c = 0; c < b.ncol; c++)
				b.names[c] = quote_name(db_column_name(s, c));
		}
		for (c = 0; c < b.ncol; c++) {
			v = &b.v[b.n * (size_t)b.ncol + (size_t)c];
			v->type = db_column_type(s, c);
			if (v->type == DB_INTEGER)
				v->i = db_column_int64(s, c);
			else if (v->type == DB_TEXT)
				v->t = xstrdup(db_column_text(s, c));
		}
		row_sum(s, b.ncol, &out->sum);
		out->rows++;
		if (++b.n == COPY_BATCH && batch_flush(&b, cause) != 0)
			goto bad;
	}
	if (rc != DB_DONE) {
		st_fail(src, cause, tables[i].name);
		goto bad;
	}
	if (batch_flush(&b, cause) != 0)
		goto bad;
	batch_free(&b);
	db_finalize(s);
	/* New rows on a server continue after the copied ids. */
	if (dst->engine == DB_PGSQL && tables[i].identity) {
		sql = xasprintf("SELECT setval(pg_get_serial_sequence('%s', "
		    "'id'), coalesce(max(id), 0) + 1, false) FROM %s",
		    tables[i].name, tables[i].name);
		rc = db_exec(dst->db, sql);
		free(sql);
		if (rc != 0)
			return st_fail(dst, cause, "setting the next id");
	}
	return 0;
bad:
	batch_free(&b);
	db_finalize(s);
	return -1;
}

int
state_copy(struct state *src, struct state *dst,
    void (*report)(void *, const struct state_copy_table *), void *arg,
    char **cause)
{
	struct state_copy_table t;
	int64_t rows;
	uint64_t sum;
	size_t i;

	if (state_begin(src, cause) != 0)
		return -1;
	if (state_begin(dst, cause) != 0) {
		state_rollback(src);
		return -1;
	}
	for (i = 0; i < NTABLES; i++) {
		if (table_sum(dst, i, &rows, &sum, cause) != 0)
			goto bad;
		if (rows > 0) {
			fail(cause, "catalog %s is not empty (table %s has "
			    "%lld rows); copy into a new catalog",
			    dst->name, tables[i].name, (long long)rows);
			goto bad;
		}
	}
	for (i = 0; i < NTABLES; i++) {
		if (copy_table(src, dst, i, &t, cause) != 0 ||
		    table_sum(dst, i, &rows, &sum, cause) != 0)
			goto bad;
		if (rows != t.rows || sum != t.sum) {
			fail(cause, "table %s did not copy faithfully (%lld "
			    "rows, checksum %016llx; the copy has %lld rows, "
			    "checksum %016llx); nothing was copied",
			    t.name, (long long)t.rows,
			    (unsigned long long)t.sum, (long long)rows,
			    (unsigned long long)sum);
			goto bad;
		}
		if (report != NULL)
			report(arg, &t);
	}
	if (state_commit(dst, cause) != 0)
		goto bad;
	state_rollback(src);
	return 0;
bad:
	state_rollback(dst);
	state_rollback(src);
	return -1;
}
