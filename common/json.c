#define _GNU_SOURCE
/* A streaming JSON writer: see json.h. */
#include "common/json.h"
#include "common/util.h"

#include <inttypes.h>
#include <math.h>

void
json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->count[0] = 0;
}

void
json_quote(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Separator and key before a value at the current level. */
static void
json_key(struct json *j, const char *key)
{
	if (j->count[j->depth]++ > 0)
		fputc(',', j->f);
	if (key != NULL) {
		json_quote(j->f, key);
		fputc(':', j->f);
	}
}

static void
json_open(struct json *j, const char *key, int c)
{
	json_key(j, key);
	fputc(c, j->f);
	if (++j->depth >= JSON_DEPTH)
		fatalx("JSON nested too deeply");
	j->count[j->depth] = 0;
}

static void
json_close(struct json *j, int c)
{
	if (j->depth == 0)
		fatalx("JSON close without open");
	j->depth--;
	fputc(c, j->f);
}

void
json_object_open(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void
json_object_close(struct json *j)
{
	json_close(j, '}');
}

void
json_array_open(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void
json_array_close(struct json *j)
{
	json_close(j, ']');
}

void
json_string(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	if (value == NULL)
		fputs("null", j->f);
	else
		json_quote(j->f, value);
}

void
json_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void
json_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void
json_double(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void
json_bool(struct json *j, const char *key, int v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

void
json_end(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
