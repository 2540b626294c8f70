/*
 * The catalog's two hot paths, timed on either engine:
 *
 *   catalog-bench switch CATALOG SLICE <USERS
 *	queue a move of every user read (one a line) to SLICE, take it
 *	through copying and syncing to ready as the migrator does, then
 *	time its cutover lock (state_move_lock) and its switch
 *	(state_move_commit), each a transaction of its own
 *   catalog-bench lookup sqlite|pgsql CATALOG <USERS
 *	what a Dovecot auth worker does: one connection, one userdb lookup
 *	after another, SELECT home, mail, uid, gid FROM access WHERE
 *	"user" = the user; first with the statement parsed at every lookup,
 *	then prepared once
 *
 * CATALOG is an SQLite file or a libpq conninfo. Times come from
 * CLOCK_MONOTONIC. Prints one line per measure:
 *
 *   NAME COUNT p50 MS p99 MS max MS [rate PER_SECOND]
 *
 * The lookups speak sqlite3 and libpq directly, as Dovecot does; the
 * switch goes through state/, as mailshift does.
 */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "common/util.h"

#define LOOKUP_SQL \
	"SELECT home, mail, uid, gid FROM access WHERE \"user\" = "

/* Users read from standard input. */
struct users {
	char	**v;
	size_t	  n;
};

/* Times of one measure, in seconds. */
struct samples {
	double	*v;
	size_t	 n;
};

static void __attribute__((noreturn))
die(const char *what, const char *cause)
{
	fprintf(stderr, "catalog-bench: %s: %s\n", what, cause != NULL ?
	    cause : "failed");
	exit(1);
}

/* Seconds of CLOCK_MONOTONIC. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: catalog-bench switch CATALOG SLICE <USERS\n"
	    "       catalog-bench lookup sqlite|pgsql CATALOG <USERS\n");
	exit(2);
}

/* Read one user a line from standard input. */
static void
users_read(struct users *u)
{
	char *line = NULL;
	size_t cap = 0, room = 0;
	ssize_t len;

	memset(u, 0, sizeof *u);
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (u->n == room) {
			room = room ? room * 2 : 1024;
			if ((u->v = realloc(u->v, room * sizeof *u->v)) == NULL)
				die("users", "out of memory");
		}
		u->v[u->n++] = xstrdup(line);
	}
	free(line);
	if (u->n == 0)
		die("users", "none on standard input");
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of sorted samples. */
static double
pct(const struct samples *s, double p)
{
	size_t i = (size_t)((double)s->n * p / 100 + 0.999999);

	if (i < 1)
		i = 1;
	if (i > s->n)
		i = s->n;
	return s->v[i - 1];
}

/* Print a measure's line; with total > 0, also its rate. */
static void
report(const char *name, struct samples *s, double total)
{
	qsort(s->v, s->n, sizeof *s->v, cmp_double);
	printf("%s %zu p50 %.3f p99 %.3f max %.3f", name, s->n,
	    pct(s, 50) * 1e3, pct(s, 99) * 1e3, s->v[s->n - 1] * 1e3);
	if (total > 0)
		printf(" rate %.0f", (double)s->n / total);
	printf("\n");
}

/* Queue a move of user to slice and bring it to ready; its id. */
static int64_t
move_ready(struct state *st, const char *user, const char *slice)
{
	static const enum move_state path[] = { MOVE_QUEUED, MOVE_COPYING,
	    MOVE_SYNCING, MOVE_READY };
	struct state_move_request req;
	struct state_account a;
	char *cause = NULL;
	int64_t id;
	size_t i;

	if (state_account_get(st, user, &a, &cause) != 0)
		die(user, cause != NULL ? cause : "no such account");
	memset(&req, 0, sizeof req);
	req.user = user;
	req.target = slice;
	req.target_path = a.path;
	if (state_move_create(st, &req, &id, &cause) != 0)
		die(user, cause);
	state_account_free(&a);
	for (i = 0; i + 1 < sizeof path / sizeof path[0]; i++) {
		if (state_move_set_state(st, id, path[i], path[i + 1],
		    &cause) != 0)
			die(user, cause);
	}
	return id;
}

/* Time the lock and the switch of a move of every user to slice. */
static void
bench_switch(const char *catalog, const char *slice, struct users *u)
{
	/* The directory times a cutover records for the settle check. */
	static const char marks[] = "cur\t1800000000.123456789\n"
	    "new\t1800000000.223456789\n.Sent/cur\t1799990000.000000001\n"
	    ".Sent/new\t1799990000.000000002\n";
	struct samples lock, sw;
	struct state *st;
	char *cause = NULL;
	size_t i;

	if ((st = state_open(catalog, 0, &cause)) == NULL)
		die(catalog, cause);
	lock.v = xcalloc(u->n, sizeof *lock.v);
	sw.v = xcalloc(u->n, sizeof *sw.v);
	lock.n = sw.n = u->n;
	for (i = 0; i < u->n; i++) {
		int64_t id = move_ready(st, u->v[i], slice), now_ms;
		struct timespec now;
		double t0, t1, t2;

		clock_gettime(CLOCK_REALTIME, &now);
		now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		t0 = mono();
		if (state_move_lock(st, id, now_ms, now.tv_sec + 60,
		    &cause) != 0)
			die("state_move_lock", cause);
		t1 = mono();
		if (state_move_commit(st, id, (int64_t)((t1 - t0) * 1e3),
		    marks, &cause) != 0)
			die("state_move_commit", cause);
		t2 = mono();
		lock.v[i] = t1 - t0;
		sw.v[i] = t2 - t1;
	}
	state_close(st);
	report("lock", &lock, 0);
	report("switch", &sw, 0);
	free(lock.v);
	free(sw.v);
}

/* A connection a userdb lookup runs on, of either engine. */
struct lookup {
	sqlite3		*db;
	sqlite3_stmt	*stmt;		/* prepared once */
	PGconn		*pg;
	int		 pg_prepared;
};

/* Check a lookup's row: a home and a mail location. */
static void
lookup_check(const char *user, const char *home, const char *mail)
{
	if (home == NULL || mail == NULL || strncmp(mail, "maildir:", 8) != 0)
		die(user, "the access view gave no home or mail");
}

/* One lookup on SQLite: parsed now, or with the statement prepared
 * once. */
static void
lookup_sqlite(struct lookup *l, const char *user, int prepared)
{
	sqlite3_stmt *s = prepared ? l->stmt : NULL;

	if (s == NULL && sqlite3_prepare_v2(l->db, LOOKUP_SQL "?", -1, &s,
	    NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(l->db));
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		die(user, "no row in the access view");
	lookup_check(user, (const char *)sqlite3_column_text(s, 0),
	    (const char *)sqlite3_column_text(s, 1));
	if (prepared) {
		sqlite3_reset(s);
		l->stmt = s;
	} else
		sqlite3_finalize(s);
}

/* One lookup on PostgreSQL: PQexecParams (parsed and planned by the
 * server each time), or the statement prepared once. */
static void
lookup_pgsql(struct lookup *l, const char *user, int prepared)
{
	const char *p[1] = { user };
	PGresult *r;

	if (prepared && !l->pg_prepared) {
		r = PQprepare(l->pg, "userdb", LOOKUP_SQL "$1", 1, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("prepare", PQerrorMessage(l->pg));
		PQclear(r);
		l->pg_prepared = 1;
	}
	r = prepared ? PQexecPrepared(l->pg, "userdb", 1, p, NULL, NULL, 0) :
	    PQexecParams(l->pg, LOOKUP_SQL "$1", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die(user, PQerrorMessage(l->pg));
	if (PQntuples(r) != 1)
		die(user, "no row in the access view");
	lookup_check(user, PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0),
	    PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1));
	PQclear(r);
}

/*
 * Serial lookups of every user on one connection to catalog: once
 * untimed (so that both timed passes find the same warm cache), then
 * parsed at every lookup, then prepared once.
 */
static void
bench_lookup(const char *engine, const char *catalog, struct users *u)
{
	void (*one)(struct lookup *, const char *, int);
	struct lookup l;
	struct samples sm;
	size_t i;
	int pass;

	memset(&l, 0, sizeof l);
	if (strcmp(engine, "sqlite") == 0) {
		/* Read-only, as Dovecot's connect = file:...?mode=ro. */
		char *uri = xasprintf("file:%s?mode=ro", catalog);

		if (sqlite3_open_v2(uri, &l.db, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_URI, NULL) != SQLITE_OK)
			die(catalog, sqlite3_errmsg(l.db));
		free(uri);
		one = lookup_sqlite;
	} else if (strcmp(engine, "pgsql") == 0) {
		l.pg = PQconnectdb(catalog);
		if (PQstatus(l.pg) != CONNECTION_OK)
			die("connect", PQerrorMessage(l.pg));
		one = lookup_pgsql;
	} else
		usage();
	sm.v = xcalloc(u->n, sizeof *sm.v);
	sm.n = u->n;
	for (i = 0; i < u->n; i++)
		one(&l, u->v[i], 1);
	for (pass = 0; pass < 2; pass++) {
		double start = mono();

		for (i = 0; i < u->n; i++) {
			double t = mono();

			one(&l, u->v[i], pass);
			sm.v[i] = mono() - t;
		}
		report(pass == 0 ? "lookup-parsed" : "lookup-prepared", &sm,
		    mono() - start);
	}
	free(sm.v);
	sqlite3_finalize(l.stmt);
	sqlite3_close(l.db);
	PQfinish(l.pg);
}

int
main(int argc, char **argv)
{
	struct users u;
	size_t i;

	if (argc != 4)
		usage();
	if (strcmp(argv[1], "switch") == 0) {
		users_read(&u);
		bench_switch(argv[2], argv[3], &u);
	} else if (strcmp(argv[1], "lookup") == 0) {
		users_read(&u);
		bench_lookup(argv[2], argv[3], &u);
	} else
		usage();
	for (i = 0; i < u.n; i++)
		free(u.v[i]);
	free(u.v);
	return 0;
}
