/* The configuration file: see config.h. */
#define _GNU_SOURCE
#include "config.h"
#include "layout.h"
#include "util.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct parse {
	const char	*file;
	FILE		*f;
	int		 line;		/* line the reader returned last */
	struct config	*c;
	char		*errors;	/* accumulated "file:line: ..." lines */
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->catalog = xstrdup(CONFIG_DEFAULT_CATALOG);
	c->layout = xstrdup(CONFIG_DEFAULT_LAYOUT);
	c->trust_maildirsize = 1;
}

void
config_free(struct config *c)
{
	free(c->file);
	free(c->catalog);
	free(c->layout);
	memset(c, 0, sizeof *c);
}

static void
parse_error(struct parse *p, const char *fmt, const char *a, const char *b)
{
	char *msg = xasprintf(fmt, a, b), *all;

	all = xasprintf("%s%s%s:%d: %s", p->errors ? p->errors : "",
	    p->errors ? "\n" : "", p->file, p->line, msg);
	free(p->errors);
	free(msg);
	p->errors = all;
}

/* inih reader that counts lines, so the handler knows where it is. */
static char *
reader(char *buf, int size, void *arg)
{
	struct parse *p = arg;

	if (fgets(buf, size, p->f) == NULL)
		return NULL;
	p->line++;
	return buf;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static int
handler(void *arg, const char *section, const char *key, const char *value)
{
	struct parse *p = arg;
	struct layout *l;
	char *why = NULL;

	if (strcmp(section, "catalog") == 0 && strcmp(key, "path") == 0) {
		if (*value != '/')
			parse_error(p, "catalog path '%s' must be absolute%s",
			    value, "");
		else
			set_str(&p->c->catalog, value);
	} else if (strcmp(section, "layout") == 0 &&
	    strcmp(key, "template") == 0) {
		if ((l = layout_parse(value, &why)) == NULL) {
			parse_error(p, "%s%s", why, "");
			free(why);
		} else {
			layout_free(l);
			set_str(&p->c->layout, value);
		}
	} else if (strcmp(section, "discover") == 0 &&
	    strcmp(key, "maildirsize") == 0) {
		if (strcasecmp(value, "trust") == 0)
			p->c->trust_maildirsize = 1;
		else if (strcasecmp(value, "ignore") == 0)
			p->c->trust_maildirsize = 0;
		else
			parse_error(p, "maildirsize = '%s': use 'trust' or "
			    "'ignore'%s", value, "");
	} else if (strcmp(section, "catalog") != 0 &&
	    strcmp(section, "layout") != 0 &&
	    strcmp(section, "discover") != 0)
		parse_error(p, "unknown section [%s] (key '%s')", section, key);
	else
		parse_error(p, "unknown key '%s' in [%s]", key, section);
	return 1;
}

int
config_load(const char *file, int required, struct config *c, char **cause)
{
	struct parse p = { .file = file };
	struct config n;
	struct stat sb;
	int rc;

	if ((p.f = fopen(file, "r")) == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		return fail(cause, "%s: cannot read config: %s", file,
		    strerror(errno));
	}
	if (fstat(fileno(p.f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(p.f);
		return fail(cause, "%s: cannot read config: not a regular "
		    "file", file);
	}
	config_defaults(&n);
	p.c = &n;
	rc = ini_parse_stream(reader, &p, handler, &p);
	if (ferror(p.f)) {
		int e = errno;

		fclose(p.f);
		config_free(&n);
		free(p.errors);
		return fail(cause, "%s: cannot read config: %s", file,
		    strerror(e));
	}
	fclose(p.f);
	if (rc > 0) {
		/* inih reports only the first line it could not parse. */
		p.line = rc;
		parse_error(&p, "syntax error: expected '[section]' or "
		    "'key = value'%s%s", "", "");
	} else if (rc < 0)
		parse_error(&p, "cannot parse: out of memory%s%s", "", "");
	if (p.errors != NULL) {
		config_free(&n);
		if (cause != NULL)
			*cause = p.errors;
		else
			free(p.errors);
		return -1;
	}
	n.file = xstrdup(file);
	config_free(c);
	*c = n;
	return 0;
}

void
config_print(FILE *f, const struct config *c)
{
	fprintf(f, "# %s\n", c->file ? c->file : "built-in defaults");
	fprintf(f, "[catalog]\npath = %s\n\n", c->catalog);
	fprintf(f, "[layout]\ntemplate = %s\n\n", c->layout);
	fprintf(f, "[discover]\nmaildirsize = %s\n",
	    c->trust_maildirsize ? "trust" : "ignore");
}
