/* Aligned text tables: see output.h. */
#define _GNU_SOURCE
#include "cli/output.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct table {
	int	  ncols;
	char	 *align;
	char	**cells;		/* rows * ncols, row 0 = headers */
	size_t	  rows;
	size_t	  cap;
	size_t	 *width;
};

struct table *
table_new(int ncols, const char *const *headers, const char *align)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols;
	t->align = xstrdup(align);
	t->width = xcalloc((size_t)ncols, sizeof *t->width);
	table_add(t, headers);
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	size_t n;
	int i;

	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols *
		    sizeof *t->cells);
	}
	for (i = 0; i < t->ncols; i++) {
		t->cells[t->rows * (size_t)t->ncols + (size_t)i] =
		    xstrdup(cells[i] ? cells[i] : "-");
		n = strlen(cells[i] ? cells[i] : "-");
		if (n > t->width[i])
			t->width[i] = n;
	}
	t->rows++;
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t->align);
	free(t);
}

void
table_print(struct table *t, FILE *f)
{
	const char *c;
	size_t r;
	int i, last;

	for (r = 0; r < t->rows; r++) {
		for (i = 0; i < t->ncols; i++) {
			c = t->cells[r * (size_t)t->ncols + (size_t)i];
			last = i == t->ncols - 1;
			if (t->align[i] == 'r')
				fprintf(f, "%*s", (int)t->width[i], c);
			else if (last)
				fputs(c, f);
			else
				fprintf(f, "%-*s", (int)t->width[i], c);
			fputs(last ? "\n" : "  ", f);
		}
	}
	table_free(t);
}

void
listing_start(struct listing *l, int json, int ncols,
    const char *const *headers, const char *align)
{
	memset(l, 0, sizeof *l);
	l->json = json;
	if (json) {
		json_init(&l->j, stdout);
		json_array_open(&l->j, NULL);
	} else
		l->t = table_new(ncols, headers, align);
}

void
listing_end(struct listing *l)
{
	if (l->json) {
		json_array_close(&l->j);
		json_end(&l->j);
	} else
		table_print(l->t, stdout);
	l->t = NULL;
}

void
listing_abort(struct listing *l)
{
	table_free(l->t);
	l->t = NULL;
}

void
kv_print(FILE *f, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-14s ", key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

const char *
fill_format(uint64_t used, uint64_t capacity, char *buf, size_t len)
{
	if (capacity == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", 100.0 * (double)used /
		    (double)capacity);
	return buf;
}
