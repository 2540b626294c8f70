/* Checks of a Dovecot configuration for mailshift: see doveconf.h. */
#define _GNU_SOURCE
#include "common/doveconf.h"
#include "common/util.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DBS 16

/* One passdb or userdb block. */
struct db {
	char	*driver;
	char	*args;
	char	*skip;
	char	*result_success;
	char	*result_failure;
	char	*result_internalfail;
	int	 deny;			/* deny = yes: a block list */
	int	 master;		/* master = yes: master users */
};

struct conf {
	struct db	 passdb[MAX_DBS];
	int		 npass;
	struct db	 userdb[MAX_DBS];
	int		 nuser;
	char		*protocols;
	char		*lmtp_proxy;	/* global, or in protocol lmtp { } */
	char		*cache_size;
	char		*cache_ttl;
	char		*cache_negative_ttl;
};

static void
finding(struct doveconf_report *r, int ok, const char *what,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
finding(struct doveconf_report *r, int ok, const char *what,
    const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	r->f = xrealloc(r->f, (size_t)(r->n + 1) * sizeof *r->f);
	r->f[r->n].ok = ok;
	r->f[r->n].what = xstrdup(what);
	r->f[r->n].text = text;
	r->n++;
	if (!ok)
		r->problems++;
}

void
doveconf_report_free(struct doveconf_report *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		free(r->f[i].what);
		free(r->f[i].text);
	}
	free(r->f);
	memset(r, 0, sizeof *r);
}

int64_t
doveconf_seconds(const char *s)
{
	static const struct { const char *unit; int64_t mul, div; } units[] = {
		{ "ms", 1, 1000 }, { "msec", 1, 1000 },
		{ "s", 1, 1 }, { "sec", 1, 1 },
		{ "m", 60, 1 }, { "min", 60, 1 },
		{ "h", 3600, 1 }, { "hour", 3600, 1 },
		{ "d", 86400, 1 }, { "day", 86400, 1 },
		{ "w", 604800, 1 }, { "week", 604800, 1 },
	};
	char *end, unit[16];
	long long v;
	size_t i, n;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end == '\0')
		return v;
	for (n = 0; isalpha((unsigned char)end[n]) && n < sizeof unit - 1;
	    n++)
		unit[n] = (char)tolower((unsigned char)end[n]);
	unit[n] = '\0';
	if (end[n] != '\0' && !isspace((unsigned char)end[n]))
		return -1;
	/* "secs", "hours", "minutes": the plural and long forms. */
	if (n > 1 && unit[n - 1] == 's' && strcmp(unit, "ms") != 0)
		unit[--n] = '\0';
	if (strcmp(unit, "second") == 0)
		strcpy(unit, "sec");
	if (strcmp(unit, "minute") == 0)
		strcpy(unit, "min");
	if (strcmp(unit, "millisecond") == 0)
		strcpy(unit, "msec");
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(unit, units[i].unit) == 0)
			return v * units[i].mul / units[i].div;
	}
	return -1;
}

static void
set(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static void
db_free(struct db *d)
{
	free(d->driver);
	free(d->args);
	free(d->skip);
	free(d->result_success);
	free(d->result_failure);
	free(d->result_internalfail);
}

/* Read `doveconf -n`: top-level settings and passdb/userdb blocks. */
static void
parse(const char *text, struct conf *c)
{
	char *copy = xstrdup(text), *line, *save = NULL, *eq, *key, *val, *p;
	struct db *cur = NULL;
	int depth = 0, in_lmtp = 0;

	memset(c, 0, sizeof *c);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		while (isspace((unsigned char)*line))
			line++;
		p = line + strlen(line);
		while (p > line && isspace((unsigned char)p[-1]))
			*--p = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		if (strcmp(line, "}") == 0) {
			if (--depth <= 0) {
				depth = 0;
				cur = NULL;
				in_lmtp = 0;
			}
			continue;
		}
		if (p > line && p[-1] == '{') {
			if (depth == 0 && strncmp(line, "passdb", 6) == 0 &&
			    c->npass < MAX_DBS)
				cur = &c->passdb[c->npass++];
			else if (depth == 0 && strncmp(line, "userdb", 6) ==
			    0 && c->nuser < MAX_DBS)
				cur = &c->userdb[c->nuser++];
			else if (depth == 0 && strncmp(line, "protocol lmtp",
			    13) == 0)
				in_lmtp = 1;
			depth++;
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		key = line;
		val = eq + 1;
		for (p = eq; p > key && isspace((unsigned char)p[-1]); p--)
			;
		*p = '\0';
		while (isspace((unsigned char)*val))
			val++;
		if (depth == 1 && cur != NULL) {
			if (strcmp(key, "driver") == 0)
				set(&cur->driver, val);
			else if (strcmp(key, "args") == 0)
				set(&cur->args, val);
			else if (strcmp(key, "skip") == 0)
				set(&cur->skip, val);
			else if (strcmp(key, "result_success") == 0)
				set(&cur->result_success, val);
			else if (strcmp(key, "result_failure") == 0)
				set(&cur->result_failure, val);
			else if (strcmp(key, "result_internalfail") == 0)
				set(&cur->result_internalfail, val);
			else if (strcmp(key, "deny") == 0)
				cur->deny = strcmp(val, "yes") == 0;
			else if (strcmp(key, "master") == 0)
				cur->master = strcmp(val, "yes") == 0;
		} else if (depth == 1 && in_lmtp) {
			if (strcmp(key, "lmtp_proxy") == 0)
				set(&c->lmtp_proxy, val);
		} else if (depth == 0) {
			if (strcmp(key, "protocols") == 0)
				set(&c->protocols, val);
			else if (strcmp(key, "lmtp_proxy") == 0 &&
			    c->lmtp_proxy == NULL)
				set(&c->lmtp_proxy, val);
			else if (strcmp(key, "auth_cache_size") == 0)
				set(&c->cache_size, val);
			else if (strcmp(key, "auth_cache_ttl") == 0)
				set(&c->cache_ttl, val);
			else if (strcmp(key, "auth_cache_negative_ttl") == 0)
				set(&c->cache_negative_ttl, val);
		}
	}
	free(copy);
}

static void
conf_free(struct conf *c)
{
	int i;

	for (i = 0; i < c->npass; i++)
		db_free(&c->passdb[i]);
	for (i = 0; i < c->nuser; i++)
		db_free(&c->userdb[i]);
	free(c->protocols);
	free(c->lmtp_proxy);
	free(c->cache_size);
	free(c->cache_ttl);
	free(c->cache_negative_ttl);
}

/* An SQL args file: connect and the query, continuation lines joined. */
struct sqlfile {
	char	*driver;	/* sqlite or pgsql */
	char	*connect;
	char	*query;		/* password_query or user_query */
};

static int
read_sqlfile(const char *path, const char *query_key, struct sqlfile *sf)
{
	char buf[4096], *all = xstrdup(""), *next, *line, *save = NULL, *eq;
	FILE *f;
	size_t n;

	memset(sf, 0, sizeof *sf);
	if ((f = fopen(path, "r")) == NULL) {
		free(all);
		return -1;
	}
	while (fgets(buf, sizeof buf, f) != NULL) {
		n = strlen(buf);
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '\\') {
			buf[n - 1] = ' ';	/* continued */
			next = xasprintf("%s%s", all, buf);
		} else
			next = xasprintf("%s%s\n", all, buf);
		free(all);
		all = next;
	}
	fclose(f);
	for (line = strtok_r(all, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		while (isspace((unsigned char)*line))
			line++;
		if (*line == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		n = (size_t)(eq - line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		eq++;
		while (isspace((unsigned char)*eq))
			eq++;
		if (n == 7 && strncmp(line, "connect", 7) == 0)
			set(&sf->connect, eq);
		else if (n == 6 && strncmp(line, "driver", 6) == 0)
			set(&sf->driver, eq);
		else if (n == strlen(query_key) && strncmp(line, query_key, n)
		    == 0)
			set(&sf->query, eq);
	}
	free(all);
	return 0;
}

static void
sqlfile_free(struct sqlfile *sf)
{
	free(sf->driver);
	free(sf->connect);
	free(sf->query);
}

static int is(const char *, const char *);

/* Percent-decode a URL part into a new string. */
static char *
url_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), hex[3] = { 0 };
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 1 && isxdigit((unsigned char)
		    s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

struct pgname {
	char	*host, *port, *dbname, *user, *options;
};

static void
pgname_set(struct pgname *p, const char *key, char *val)
{
	char **slot = strcmp(key, "host") == 0 ? &p->host :
	    strcmp(key, "port") == 0 ? &p->port :
	    strcmp(key, "dbname") == 0 ? &p->dbname :
	    strcmp(key, "user") == 0 ? &p->user :
	    strcmp(key, "options") == 0 ? &p->options : NULL;

	if (slot != NULL && *val != '\0') {
		free(*slot);
		*slot = val;
	} else
		free(val);
}

/*
 * What names a PostgreSQL catalog in a conninfo or URL, as one string:
 * the server (host, port), the database and the schema (the first of a
 * search_path given in options, else public). Users are left out: the
 * access servers' role is not mailshift's. NULL if s is neither form.
 */
static char *
pg_identity(const char *s)
{
	struct pgname p = { NULL, NULL, NULL, NULL, NULL };
	const char *q, *e, *sp;
	char *key, *out, schema[128] = "public";
	size_t n;

	if (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0) {
		s = strstr(s, "://") + 3;
		e = s + strcspn(s, "/?");
		if ((q = memchr(s, '@', (size_t)(e - s))) != NULL) {
			pgname_set(&p, "user", url_decode(s, (size_t)(q -
			    s)));
			s = q + 1;
		}
		if ((q = memchr(s, ':', (size_t)(e - s))) != NULL) {
			pgname_set(&p, "port", url_decode(q + 1, (size_t)(e -
			    q - 1)));
			pgname_set(&p, "host", url_decode(s, (size_t)(q -
			    s)));
		} else
			pgname_set(&p, "host", url_decode(s, (size_t)(e - s)));
		s = e;
		if (*s == '/') {
			e = s + 1 + strcspn(s + 1, "?");
			pgname_set(&p, "dbname", url_decode(s + 1, (size_t)(e -
			    s - 1)));
			s = e;
		}
		if (*s == '?')
			s++;
		while (*s != '\0') {
			e = s + strcspn(s, "&");
			if ((q = memchr(s, '=', (size_t)(e - s))) != NULL) {
				key = url_decode(s, (size_t)(q - s));
				pgname_set(&p, key, url_decode(q + 1,
				    (size_t)(e - q - 1)));
				free(key);
			}
			s = *e ? e + 1 : e;
		}
	} else {
		/* key=value pairs; a value may be 'quoted' with \ escapes. */
		for (;;) {
			while (isspace((unsigned char)*s))
				s++;
			if (*s == '\0')
				break;
			if ((q = strchr(s, '=')) == NULL)
				goto bad;
			n = (size_t)(q - s);
			while (n > 0 && isspace((unsigned char)s[n - 1]))
				n--;
			key = xstrndup(s, n);
			s = q + 1;
			while (isspace((unsigned char)*s))
				s++;
			out = xmalloc(strlen(s) + 1);
			n = 0;
			if (*s == '\'') {
				for (s++; *s != '\0' && *s != '\''; s++) {
					if (*s == '\\' && s[1] != '\0')
						s++;
					out[n++] = *s;
				}
				if (*s == '\'')
					s++;
			} else
				while (*s != '\0' && !isspace((unsigned char)*s))
					out[n++] = *s++;
			out[n] = '\0';
			pgname_set(&p, key, out);
			free(key);
		}
	}
	if (p.options != NULL && (sp = strstr(p.options, "search_path")) !=
	    NULL && (sp = strchr(sp, '=')) != NULL) {
		sp++;
		n = strcspn(sp, ", ");
		if (n > 0 && n < sizeof schema) {
			memcpy(schema, sp, n);
			schema[n] = '\0';
		}
	}
	out = xasprintf("host=%s port=%s dbname=%s schema=%s",
	    p.host ? p.host : "/var/run/postgresql", p.port ? p.port : "5432",
	    p.dbname ? p.dbname : p.user ? p.user : "?", schema);
	free(p.host);
	free(p.port);
	free(p.dbname);
	free(p.user);
	free(p.options);
	return out;
bad:
	free(p.host);
	free(p.port);
	free(p.dbname);
	free(p.user);
	free(p.options);
	return NULL;
}

/* Is catalog (mailshift's --db) a PostgreSQL one? */
static int
is_pg(const char *catalog)
{
	const char *p = catalog;

	if (strncmp(p, "postgres", 8) == 0 && strstr(p, "://") != NULL)
		return 1;
	while ((*p >= 'a' && *p <= 'z') || *p == '_')
		p++;
	return p > catalog && *p == '=';
}

/* Does connect (a sqlfile's, for its driver) name catalog? The SQLite file
 * "file:/x.db?mode=ro" is /x.db; a PostgreSQL conninfo (Dovecot may quote
 * it) names the same server, database and schema. */
static int
same_catalog(const struct sqlfile *sf, const char *catalog)
{
	const char *connect = sf->connect;
	char *path, *q, a[PATH_MAX], b[PATH_MAX], *x, *y;
	int same;

	if (is(sf->driver, "pgsql") || is_pg(catalog)) {
		if (!is(sf->driver, "pgsql") || !is_pg(catalog))
			return 0;
		path = xstrdup(connect);
		if (path[0] == '"' && strlen(path) > 1 &&
		    path[strlen(path) - 1] == '"') {
			memmove(path, path + 1, strlen(path));
			path[strlen(path) - 1] = '\0';
		}
		x = pg_identity(path);
		y = pg_identity(catalog);
		same = x != NULL && y != NULL && strcmp(x, y) == 0;
		free(x);
		free(y);
		free(path);
		return same;
	}
	path = xstrdup(strncmp(connect, "file:", 5) == 0 ? connect + 5 :
	    connect);
	if ((q = strchr(path, '?')) != NULL)
		*q = '\0';
	same = realpath(path, a) != NULL && realpath(catalog, b) != NULL &&
	    strcmp(a, b) == 0;
	free(path);
	return same;
}

/* The file of an sql driver's args ("/etc/dovecot/x.conf.ext"). */
static const char *
sql_args(const struct db *d)
{
	return d->driver != NULL && strcmp(d->driver, "sql") == 0 ?
	    d->args : NULL;
}

static int
is(const char *v, const char *want)
{
	return v != NULL && strcmp(v, want) == 0;
}

/* passdb drivers that verify a password but cannot hand one out. */
static int
no_lookups(const char *driver)
{
	static const char *const names[] = { "pam", "checkpassword",
	    "bsdauth", "oauth2", "imap" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(driver, names[i]) == 0)
			return 1;
	}
	return 0;
}

static int
lmtp_proxied(const struct conf *c)
{
	return (c->protocols == NULL || strstr(c->protocols, "lmtp") !=
	    NULL) && c->lmtp_proxy != NULL && strcasecmp(c->lmtp_proxy,
	    "yes") == 0;
}

static void
check_gate(const struct conf *c, const char *catalog,
    struct doveconf_report *r)
{
	int lookups = lmtp_proxied(c);
	struct sqlfile sf;
	const struct db *g = NULL;
	int i, gi = -1;

	for (i = 0; i < c->npass; i++) {
		if (sql_args(&c->passdb[i]) == NULL || read_sqlfile(
		    c->passdb[i].args, "password_query", &sf) != 0)
			continue;
		if (sf.query != NULL && strstr(sf.query, "access") != NULL &&
		    strstr(sf.query, "unavailable") != NULL) {
			g = &c->passdb[i];
			gi = i;
			if (sf.connect == NULL || !same_catalog(&sf,
			    catalog))
				finding(r, 0, "lock gate", "%s reads '%s', not "
				    "this catalog %s: point its connect = at "
				    "%s%s%s", g->args, sf.connect ?
				    sf.connect : "(no connect)", catalog,
				    is_pg(catalog) ? "the same server, "
				    "database and schema (driver = pgsql), "
				    "e.g. " : "file:", catalog,
				    is_pg(catalog) ? "" : "?mode=ro");
			else if (is(sf.driver, "pgsql") &&
			    strstr(sf.query, "\"user\"") == NULL)
				finding(r, 0, "lock gate", "%s compares user "
				    "unquoted: PostgreSQL reads it as the "
				    "current role, so no locked account is "
				    "ever found; write \"user\" = '%%u'",
				    g->args);
			else if (is(sf.driver, "pgsql") &&
			    strstr(sf.query, "unavailable = 1") == NULL &&
			    strstr(sf.query, "unavailable <> 0") == NULL)
				finding(r, 0, "lock gate", "%s must compare "
				    "unavailable = 1: PostgreSQL wants a truth "
				    "value in WHERE, and a failing query fails "
				    "every login", g->args);
			else if (strstr(sf.query, "temp_fail") == NULL)
				finding(r, 0, "lock gate", "%s does not answer "
				    "code=temp_fail: locked accounts would "
				    "look like wrong passwords", g->args);
			else
				finding(r, 1, "lock gate", "%s reads this "
				    "catalog", g->args);
			if (strcasestr(sf.query, "nodelay") == NULL)
				finding(r, 0, "lock gate", "the lock gate's "
				    "password_query in %s has no nodelay: each "
				    "refused login of a locked account waits "
				    "auth_failure_delay and raises the auth "
				    "penalty for the client's IP, so its "
				    "retries and its login after the switch "
				    "wait seconds; add 'Y' AS nodelay to the "
				    "SELECT", g->args);
		}
		sqlfile_free(&sf);
	}
	if (g == NULL) {
		finding(r, 0, "lock gate", "no passdb reads the access view's "
		    "'unavailable' column: locked accounts can log in during "
		    "a cutover; install examples/dovecot/ (conf.d/"
		    "95-mailshift.conf)");
		return;
	}
	if (gi != c->npass - 1)
		finding(r, 0, "lock gate", "the lock gate is passdb %d of %d; "
		    "it must be the last one", gi + 1, c->npass);
	/* doveconf -n leaves out defaults: result_failure = continue is
	 * one. */
	if (!is(g->skip, "unauthenticated") ||
	    !is(g->result_success, "return-fail") ||
	    (g->result_failure != NULL && !is(g->result_failure,
	    "continue")) || !is(g->result_internalfail, "return-fail"))
		finding(r, 0, "lock gate", "the lock gate needs skip = "
		    "unauthenticated, result_success = return-fail, "
		    "result_failure = continue, result_internalfail = "
		    "return-fail (it has skip = %s, result_success = %s, "
		    "result_failure = %s, result_internalfail = %s); without "
		    "the last, a catalog it cannot read lets locked accounts "
		    "in", g->skip ? g->skip : "never", g->result_success ?
		    g->result_success : "return-ok", g->result_failure ?
		    g->result_failure : "continue", g->result_internalfail ?
		    g->result_internalfail : "continue");
	for (i = 0; i < gi; i++) {
		/* Block lists and master users are not the password check
		 * the gate follows. */
		if (c->passdb[i].deny || c->passdb[i].master)
			continue;
		if (lookups && c->passdb[i].driver != NULL &&
		    no_lookups(c->passdb[i].driver))
			finding(r, 0, "lmtp", "passdb %d (%s) cannot look users "
			    "up without a password, and with lmtp_proxy = yes "
			    "LMTP does: every delivery would be deferred; use a "
			    "passdb that supports lookups (sql, passwd-file, "
			    "ldap with pass_attrs)", i + 1,
			    c->passdb[i].driver);
		if (!is(c->passdb[i].result_success, "continue-ok"))
			finding(r, 0, "passdb order", "passdb %d (%s %s) ends "
			    "the chain on success (result_success = %s): add "
			    "result_success = continue-ok so the lock gate "
			    "runs", i + 1, c->passdb[i].driver ?
			    c->passdb[i].driver : "?", c->passdb[i].args ?
			    c->passdb[i].args : "", c->passdb[i].result_success ?
			    c->passdb[i].result_success : "return-ok");
	}
	if (gi == 0)
		finding(r, 0, "passdb order", "the lock gate is the only "
		    "passdb: your own passdb, which checks passwords, must "
		    "come first");
}

static void
check_userdb(const struct conf *c, const char *catalog,
    struct doveconf_report *r)
{
	struct sqlfile sf;
	int i, found = 0;

	for (i = 0; i < c->nuser; i++) {
		if (sql_args(&c->userdb[i]) == NULL || read_sqlfile(
		    c->userdb[i].args, "user_query", &sf) != 0)
			continue;
		if (sf.query != NULL && strstr(sf.query, "access") != NULL) {
			found = 1;
			if (sf.connect == NULL || !same_catalog(&sf,
			    catalog))
				finding(r, 0, "userdb", "%s reads '%s', not "
				    "this catalog %s", c->userdb[i].args,
				    sf.connect ? sf.connect : "(no connect)",
				    catalog);
			else if (i != 0)
				finding(r, 0, "userdb", "the catalog userdb is "
				    "userdb %d; one before it answers first",
				    i + 1);
			else
				finding(r, 1, "userdb", "%s reads the access "
				    "view of this catalog", c->userdb[i].args);
		}
		sqlfile_free(&sf);
	}
	if (!found)
		finding(r, 0, "userdb", "no userdb reads the access view: "
		    "Dovecot does not follow moves; install examples/dovecot/");
}

static void
check_cache(const struct conf *c, uint64_t grace, struct doveconf_report *r)
{
	const char *size = c->cache_size ? c->cache_size : "0";
	int64_t ttl, neg;

	if (strspn(size, "0") == strlen(size) || strncmp(size, "0 ", 2) ==
	    0) {
		finding(r, 1, "auth cache", "off (auth_cache_size = 0)");
		return;
	}
	ttl = doveconf_seconds(c->cache_ttl ? c->cache_ttl : "1 hour");
	neg = doveconf_seconds(c->cache_negative_ttl ?
	    c->cache_negative_ttl : "1 hour");
	if (ttl < 0 || neg < 0 || (uint64_t)ttl > grace ||
	    (uint64_t)neg > grace)
		finding(r, 0, "auth cache", "auth_cache_ttl = %s and "
		    "auth_cache_negative_ttl = %s are longer than the lock "
		    "grace (%llu s): a cached answer can let a login through "
		    "during a cutover; set both to at most %llu s, or "
		    "auth_cache_size = 0, or raise [move] lock_grace",
		    c->cache_ttl ? c->cache_ttl : "1 hour (default)",
		    c->cache_negative_ttl ? c->cache_negative_ttl :
		    "1 hour (default)", (unsigned long long)grace,
		    (unsigned long long)grace);
	else
		finding(r, 1, "auth cache", "TTLs %lld s and %lld s are within "
		    "the lock grace (%llu s)", (long long)ttl, (long long)neg,
		    (unsigned long long)grace);
}

void
doveconf_check(const char *text, const char *catalog, uint64_t grace,
    struct doveconf_report *r)
{
	struct conf c;

	memset(r, 0, sizeof *r);
	parse(text, &c);
	check_gate(&c, catalog, r);
	check_userdb(&c, catalog, r);
	if (c.protocols == NULL || strstr(c.protocols, "lmtp") != NULL) {
		if (c.lmtp_proxy != NULL && strcasecmp(c.lmtp_proxy, "yes") ==
		    0)
			finding(r, 1, "lmtp", "lmtp_proxy = yes: a locked "
			    "account's deliveries get 451 and are retried");
		else
			finding(r, 0, "lmtp", "lmtp_proxy is not yes: LMTP "
			    "does not ask the lock gate and would deliver "
			    "into the old mailbox during a cutover; set "
			    "lmtp_proxy = yes");
	}
	check_cache(&c, grace, r);
	conf_free(&c);
}
