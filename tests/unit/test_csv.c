/* Unit tests for common/csv.c: the RFC 4180 reader. */
#define _GNU_SOURCE
#include "testutil.h"
#include "common/csv.h"

/* A reader over a string (kept alive by the caller). */
struct reader {
	FILE		*f;
	struct csv	 c;
};

static void
reader_open(struct reader *r, const char *text)
{
	/* fmemopen refuses a zero size; an empty file is "" of size 1. */
	r->f = fmemopen((void *)text, strlen(text) ? strlen(text) : 1, "r");
	assert_non_null(r->f);
	if (*text == '\0')
		(void)fgetc(r->f);
	csv_init(&r->c, r->f);
}

static void
reader_close(struct reader *r)
{
	csv_free(&r->c);
	assert_int_equal(fclose(r->f), 0);
}

/* Read a record expecting line number line and n fields... (strings). */
static void
record_ok(struct reader *r, long line, int n, ...)
{
	char *cause = NULL;
	va_list ap;
	int i;

	assert_int_equal(csv_next(&r->c, &cause), 1);
	assert_null(cause);
	assert_int_equal(r->c.line, line);
	assert_int_equal(r->c.nfields, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(r->c.field[i], va_arg(ap, const char *));
	va_end(ap);
}

/* Expect end of file. */
static void
eof_ok(struct reader *r)
{
	char *cause = NULL;

	assert_int_equal(csv_next(&r->c, &cause), 0);
	assert_null(cause);
	/* And it stays at end of file. */
	assert_int_equal(csv_next(&r->c, &cause), 0);
	assert_null(cause);
}

/* Expect a malformed line with a cause containing "line N" and what. */
static void
error_ok(struct reader *r, long line, const char *what)
{
	char *cause = NULL, want[32];

	assert_int_equal(csv_next(&r->c, &cause), -1);
	assert_non_null(cause);
	snprintf(want, sizeof want, "line %ld:", line);
	if (strstr(cause, want) == NULL || strstr(cause, what) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\" or \"%s\"", cause, want,
		    what);
	free(cause);
}

/* Plain rows split on commas, one record per line. */
static void
test_plain(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "alice@example.com,s1,example.com/alice\nbob,s2,b\n");
	record_ok(&r, 1, 3, "alice@example.com", "s1", "example.com/alice");
	record_ok(&r, 2, 3, "bob", "s2", "b");
	eof_ok(&r);
	reader_close(&r);
}

/* The last line needs no line end, and one field is a record. */
static void
test_no_final_newline(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "one\ntwo");
	record_ok(&r, 1, 1, "one");
	record_ok(&r, 2, 1, "two");
	eof_ok(&r);
	reader_close(&r);
}

/* Quoted fields may hold commas, and "" is a quote inside quotes. */
static void
test_quoted(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "\"a,b\",c,\"\"\n"
	    "\"say \"\"hi\"\"\",\"\"\"\"\n"
	    "x,\"a, \"\"b\"\", c\"\n");
	record_ok(&r, 1, 3, "a,b", "c", "");
	record_ok(&r, 2, 2, "say \"hi\"", "\"");
	record_ok(&r, 3, 2, "x", "a, \"b\", c");
	eof_ok(&r);
	reader_close(&r);
}

/* CRLF line ends are stripped like LF. */
static void
test_crlf(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "a,b\r\n\"c\",d\r\n");
	record_ok(&r, 1, 2, "a", "b");
	record_ok(&r, 2, 2, "c", "d");
	eof_ok(&r);
	reader_close(&r);
}

/* Blank lines are skipped but still counted in line numbers. */
static void
test_blank_lines(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "a\n\nb\n\r\n\n\nc\n\n");
	record_ok(&r, 1, 1, "a");
	record_ok(&r, 3, 1, "b");
	record_ok(&r, 7, 1, "c");
	eof_ok(&r);
	reader_close(&r);
}

/* An empty file and a file of blank lines have no records. */
static void
test_empty_input(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "");
	eof_ok(&r);
	reader_close(&r);

	reader_open(&r, "\n\r\n\n");
	eof_ok(&r);
	reader_close(&r);
}

/* Empty fields are kept, in the middle and at either end. */
static void
test_empty_fields(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "a,,c\n,b,\n,\n");
	record_ok(&r, 1, 3, "a", "", "c");
	record_ok(&r, 2, 3, "", "b", "");
	record_ok(&r, 3, 2, "", "");
	eof_ok(&r);
	reader_close(&r);
}

/* A quote that is never closed is an error on its line. */
static void
test_unterminated_quote(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "ok\n\n\"abc,def\n");
	record_ok(&r, 1, 1, "ok");
	error_ok(&r, 3, "unterminated");
	reader_close(&r);
}

/* Text after a closing quote is an error on its line. */
static void
test_text_after_quote(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "a,b\n\"abc\"def,x\n");
	record_ok(&r, 1, 2, "a", "b");
	error_ok(&r, 2, "after a closing quote");
	reader_close(&r);
}

/* A quote inside an unquoted field is an error on its line. */
static void
test_quote_in_unquoted(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "a\nb\nc\nab\"c\"d,e\n");
	record_ok(&r, 1, 1, "a");
	record_ok(&r, 2, 1, "b");
	record_ok(&r, 3, 1, "c");
	error_ok(&r, 4, "quote inside an unquoted field");
	reader_close(&r);
}

/* CSV_MAX_FIELDS fields are fine; one more is an error on its line. */
static void
test_too_many_fields(void **state)
{
	struct reader r;
	char line[256], text[600], want[32];
	int i;

	(void)state;
	line[0] = '\0';
	for (i = 0; i < CSV_MAX_FIELDS; i++)
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    "%sf%d", i ? "," : "", i);
	/* Line 1: the maximum; line 2: blank; line 3: one field more. */
	snprintf(text, sizeof text, "%s\n\n%s,extra\n", line, line);
	reader_open(&r, text);
	assert_int_equal(csv_next(&r.c, NULL), 1);
	assert_int_equal(r.c.nfields, CSV_MAX_FIELDS);
	for (i = 0; i < CSV_MAX_FIELDS; i++) {
		snprintf(want, sizeof want, "f%d", i);
		assert_string_equal(r.c.field[i], want);
	}
	error_ok(&r, 3, "more than");
	reader_close(&r);

	/* A trailing comma makes an empty extra field. */
	snprintf(text, sizeof text, "%s,\n", line);
	reader_open(&r, text);
	error_ok(&r, 1, "more than");
	reader_close(&r);
}

/* After a bad line the reader goes on with the next one. */
static void
test_continue_after_error(void **state)
{
	struct reader r;

	(void)state;
	reader_open(&r, "\"bad\nx,y\n");
	error_ok(&r, 1, "unterminated");
	record_ok(&r, 2, 2, "x", "y");
	eof_ok(&r);
	reader_close(&r);
}

/* A long line after a short one is read whole. */
static void
test_long_line(void **state)
{
	struct reader r;
	char text[5000], big[4001];

	(void)state;
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(text, sizeof text, "s,t\n%s,\"%s\"\n", "q", big);
	reader_open(&r, text);
	record_ok(&r, 1, 2, "s", "t");
	record_ok(&r, 2, 2, "q", big);
	eof_ok(&r);
	reader_close(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_text_after_quote),
		cmocka_unit_test(test_quote_in_unquoted),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_continue_after_error),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
