/* A CSV reader: see csv.h. */
#define _GNU_SOURCE
#include "common/csv.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

void
csv_init(struct csv *c, FILE *f)
{
	memset(c, 0, sizeof *c);
	c->f = f;
}

void
csv_free(struct csv *c)
{
	free(c->buf);
	free(c->out);
	memset(c, 0, sizeof *c);
}

int
csv_next(struct csv *c, char **cause)
{
	ssize_t n;
	char *p, *o;
	int quoted;

	for (;;) {
		if ((n = getline(&c->buf, &c->bufsize, c->f)) < 0)
			return 0;
		c->line++;
		while (n > 0 && (c->buf[n - 1] == '\n' ||
		    c->buf[n - 1] == '\r'))
			c->buf[--n] = '\0';
		if (n > 0)
			break;
	}
	if (c->outsize < (size_t)n + 1) {
		c->outsize = (size_t)n + 1;
		c->out = xrealloc(c->out, c->outsize);
	}
	p = c->buf;
	o = c->out;
	c->nfields = 0;
	for (;;) {
		if (c->nfields == CSV_MAX_FIELDS)
			return fail(cause, "line %ld: more than %d fields",
			    c->line, CSV_MAX_FIELDS);
		c->field[c->nfields++] = o;
		quoted = *p == '"';
		if (quoted) {
			p++;
			for (;;) {
				if (*p == '\0')
					return fail(cause, "line %ld: "
					    "unterminated quoted field",
					    c->line);
				if (*p == '"' && p[1] == '"') {
					*o++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else
					*o++ = *p++;
			}
			if (*p != ',' && *p != '\0')
				return fail(cause, "line %ld: text after a "
				    "closing quote", c->line);
		} else {
			while (*p != ',' && *p != '\0') {
				if (*p == '"')
					return fail(cause, "line %ld: quote "
					    "inside an unquoted field; quote "
					    "the whole field", c->line);
				*o++ = *p++;
			}
		}
		*o++ = '\0';
		if (*p == '\0')
			break;
		p++;		/* the comma */
	}
	return 1;
}
