/* Unit tests for common/json.c: the streaming JSON writer. */
#define _GNU_SOURCE
#include "testutil.h"
#include "common/json.h"

#include <math.h>

/* A writer on a memory stream. */
struct mem {
	FILE		*f;
	char		*buf;
	size_t		 len;
	struct json	 j;
};

static void
mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	json_init(&m->j, m->f);
}

/* Close the stream and compare everything written with want. */
static void
mem_check(struct mem *m, const char *want)
{
	assert_int_equal(fclose(m->f), 0);
	assert_non_null(m->buf);
	assert_string_equal(m->buf, want);
	assert_int_equal(m->len, strlen(want));
	free(m->buf);
}

/* Objects and arrays nest, with commas only between values. */
static void
test_nested(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_object_open(&m.j, NULL);
	json_string(&m.j, "name", "alice");
	json_array_open(&m.j, "list");
	json_int(&m.j, NULL, 1);
	json_int(&m.j, NULL, 2);
	json_object_open(&m.j, NULL);
	json_bool(&m.j, "ok", 1);
	json_null(&m.j, "none");
	json_object_close(&m.j);
	json_array_open(&m.j, NULL);
	json_array_close(&m.j);
	json_array_close(&m.j);
	json_object_open(&m.j, "inner");
	json_uint(&m.j, "n", 3);
	json_object_close(&m.j);
	json_object_close(&m.j);
	json_end(&m.j);
	assert_int_equal(m.j.depth, 0);
	mem_check(&m, "{\"name\":\"alice\",\"list\":[1,2,{\"ok\":true,"
	    "\"none\":null},[]],\"inner\":{\"n\":3}}\n");
}

/* Empty containers print as [] and {}. */
static void
test_empty(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_array_open(&m.j, NULL);
	json_array_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "[]\n");

	mem_open(&m);
	json_object_open(&m.j, NULL);
	json_object_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "{}\n");

	mem_open(&m);
	json_object_open(&m.j, NULL);
	json_object_open(&m.j, "a");
	json_object_close(&m.j);
	json_array_open(&m.j, "b");
	json_array_close(&m.j);
	json_object_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "{\"a\":{},\"b\":[]}\n");
}

/* Quotes, backslashes and control characters are escaped per RFC 8259. */
static void
test_string_escapes(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_array_open(&m.j, NULL);
	json_string(&m.j, NULL, "say \"hi\"");
	json_string(&m.j, NULL, "C:\\dir");
	json_string(&m.j, NULL, "a\nb\tc\rd");
	json_string(&m.j, NULL, "\x01");
	json_string(&m.j, NULL, "\x1f\x7f");
	json_string(&m.j, NULL, "");
	json_array_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "[\"say \\\"hi\\\"\",\"C:\\\\dir\",\"a\\nb\\tc\\rd\","
	    "\"\\u0001\",\"\\u001f\\u007f\",\"\"]\n");
}

/* Keys are escaped like values. */
static void
test_key_escapes(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_object_open(&m.j, NULL);
	json_int(&m.j, "a\"b\\c\n", 1);
	json_object_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "{\"a\\\"b\\\\c\\n\":1}\n");
}

/* UTF-8 bytes pass through unchanged. */
static void
test_utf8(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_object_open(&m.j, NULL);
	json_string(&m.j, "ключ", "Grüße, 日本 \xf0\x9f\x93\xa7");
	json_object_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "{\"ключ\":\"Grüße, 日本 \xf0\x9f\x93\xa7\"}\n");
}

/* A NULL string is written as null. */
static void
test_null_string(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_object_open(&m.j, NULL);
	json_string(&m.j, "s", NULL);
	json_string(&m.j, "t", "x");
	json_object_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "{\"s\":null,\"t\":\"x\"}\n");
}

/* Integers print exactly up to the limits of their types. */
static void
test_integers(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_array_open(&m.j, NULL);
	json_int(&m.j, NULL, INT64_MIN);
	json_int(&m.j, NULL, INT64_MAX);
	json_int(&m.j, NULL, 0);
	json_int(&m.j, NULL, -1);
	json_uint(&m.j, NULL, UINT64_MAX);
	json_uint(&m.j, NULL, 0);
	json_array_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "[-9223372036854775808,9223372036854775807,0,-1,"
	    "18446744073709551615,0]\n");
}

/* Booleans print as true and false; any non-zero int is true. */
static void
test_bool(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_array_open(&m.j, NULL);
	json_bool(&m.j, NULL, 1);
	json_bool(&m.j, NULL, 0);
	json_bool(&m.j, NULL, 7);
	json_array_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "[true,false,true]\n");
}

/* Finite doubles print as numbers; NaN and infinities as null. */
static void
test_double(void **state)
{
	struct mem m;

	(void)state;
	mem_open(&m);
	json_array_open(&m.j, NULL);
	json_double(&m.j, NULL, 1.5);
	json_double(&m.j, NULL, 0.25);
	json_double(&m.j, NULL, -2.0);
	json_double(&m.j, NULL, 0.0);
	json_double(&m.j, NULL, NAN);
	json_double(&m.j, NULL, INFINITY);
	json_double(&m.j, NULL, -INFINITY);
	json_array_close(&m.j);
	json_end(&m.j);
	mem_check(&m, "[1.5,0.25,-2,0,null,null,null]\n");
}

/* json_quote on its own writes one quoted string. */
static void
test_quote(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	json_quote(f, "a\"b");
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "\"a\\\"b\"");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_key_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_null_string),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
