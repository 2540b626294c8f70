/*
 * Unit tests for common/util.c: sizes, durations, percentages, times,
 * names, paths.
 */
#define _GNU_SOURCE
/* util.h first: cmocka.h defines a fail() macro that clashes with fail(). */
#include "common/util.h"
#include "testutil.h"

/* Parse s as a size, expecting success with exactly want bytes. */
static void
size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;
	char *cause = NULL;

	if (size_parse(s, &v, &cause) != 0)
		fail_msg("size_parse(\"%s\") refused: %s", s,
		    cause ? cause : "(no cause)");
	assert_null(cause);
	if (v != want)
		fail_msg("size_parse(\"%s\") = %llu, want %llu", s,
		    (unsigned long long)v, (unsigned long long)want);
}

/*
 * Parse s as a size, expecting -1, an untouched result and a cause that
 * contains what (the quoted input, or a word for blank input).
 */
static void
size_bad(const char *s, const char *what)
{
	uint64_t v = 42;
	char *cause = NULL;

	if (size_parse(s, &v, &cause) != -1)
		fail_msg("size_parse(\"%s\") accepted (%llu)", s,
		    (unsigned long long)v);
	assert_non_null(cause);
	if (strstr(cause, what) == NULL)
		fail_msg("size_parse(\"%s\") cause \"%s\" lacks \"%s\"", s,
		    cause, what);
	assert_int_equal(v, 42);
	free(cause);
}

/* Plain numbers and every unit spelling give exact byte counts. */
static void
test_size_parse_ok(void **state)
{
	(void)state;
	size_ok("0", 0);
	size_ok("512", 512);
	size_ok("10K", 10ULL << 10);
	size_ok("512M", 512ULL << 20);
	size_ok("10G", 10ULL << 30);
	size_ok("1.5T", 3ULL << 39);
	size_ok("10GiB", 10ULL << 30);
	size_ok("10GB", 10ULL << 30);
	size_ok("10g", 10ULL << 30);
	size_ok("1.5K", 1536);
	size_ok("2P", 2ULL << 50);
	size_ok("100B", 100);
}

/* Bad units, signs, blanks, fractions of a byte and overflow are refused. */
static void
test_size_parse_bad(void **state)
{
	(void)state;
	size_bad("10X", "'10X'");
	size_bad("-5G", "'-5G'");
	size_bad("G", "'G'");
	size_bad("1.5", "'1.5'");
	size_bad("10G5", "'10G5'");
	size_bad("99999999P", "'99999999P'");
	size_bad("16384P", "'16384P'");
	/* Empty input has nothing to quote; the cause says it is empty. */
	size_bad("", "empty");
	size_bad(" ", "' '");
	size_bad(" 10G", "' 10G'");
	size_bad("10G ", "'10G '");
	/* Only decimal digits: no hex, no exponents, no bare '.'. */
	size_bad("0x1G", "'0x1G'");
	size_bad("1e3", "'1e3'");
	size_bad("1.G", "'1.G'");
	size_bad(".5G", "'.5G'");
}

/* Fractions of a unit round down to whole bytes; big counts stay exact. */
static void
test_size_parse_exact(void **state)
{
	(void)state;
	size_ok("0.5K", 512);
	size_ok("0.3K", 307);
	size_ok("9007199254740991", 9007199254740991ULL);
	size_bad("18446744073709551616", "too large");
	size_bad("16777216T", "too large");
}

/*
 * Nothing above 2^53 bytes (8 PiB) is a size: not INT64_MAX, not what
 * wraps to a negative number in the catalog, not a whole exbibyte. The
 * cause names the limit. Sums of sizes stop at INT64_MAX.
 */
static void
test_size_parse_limit(void **state)
{
	(void)state;
	size_ok("9007199254740992", MS_SIZE_MAX);
	size_ok("8P", MS_SIZE_MAX);
	size_ok("8PiB", MS_SIZE_MAX);
	size_ok("0.0078125E", MS_SIZE_MAX);
	size_bad("9007199254740993", "at most 8P (9007199254740992 bytes)");
	size_bad("8.001P", "at most 8P");
	size_bad("9223372036854775807", "at most 8P");
	size_bad("9223372036854775808", "at most 8P");
	size_bad("18446744073709551615", "at most 8P");
	size_bad("0.5E", "at most 8P");
	size_bad("1E", "at most 8P");
	size_bad("16E", "at most 8P");
	size_bad("8193T", "at most 8P");
	assert_int_equal(size_add(1, 2), 3);
	assert_int_equal(size_add(MS_SIZE_MAX, MS_SIZE_MAX), MS_SIZE_MAX * 2);
	assert_int_equal(size_add((uint64_t)INT64_MAX - 1, 1), INT64_MAX);
	assert_int_equal(size_add((uint64_t)INT64_MAX, 1), INT64_MAX);
	assert_int_equal(size_add(UINT64_MAX, UINT64_MAX), INT64_MAX);
}

/* A NULL cause pointer is allowed and still reports failure. */
static void
test_size_parse_null_cause(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(size_parse("10X", &v, NULL), -1);
	assert_int_equal(v, 7);
}

/* Sizes print in bytes below 1 KiB and with one decimal above. */
static void
test_size_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(size_format(0, buf, sizeof buf), "0 B");
	assert_string_equal(size_format(1023, buf, sizeof buf), "1023 B");
	assert_string_equal(size_format(1024, buf, sizeof buf), "1.0 KiB");
	assert_string_equal(size_format(1536, buf, sizeof buf), "1.5 KiB");
	assert_string_equal(size_format(3ULL << 29, buf, sizeof buf),
	    "1.5 GiB");
	assert_string_equal(size_format(12ULL << 30, buf, sizeof buf),
	    "12.0 GiB");
	/* The result is the buffer given. */
	assert_ptr_equal(size_format(5, buf, sizeof buf), buf);
}

/* Durations take s, m, h, d or no unit and give seconds. */
static void
test_duration_parse_ok(void **state)
{
	static const struct {
		const char	*s;
		uint64_t	 want;
	} t[] = {
		{ "30s", 30 },
		{ "15m", 15 * 60 },
		{ "2h", 2 * 3600 },
		{ "7d", 7 * 86400 },
		{ "90", 90 },
		{ "0", 0 },
	};
	uint64_t v;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = 1;
		cause = NULL;
		if (duration_parse(t[i].s, &v, &cause) != 0)
			fail_msg("duration_parse(\"%s\") refused: %s", t[i].s,
			    cause ? cause : "(no cause)");
		assert_null(cause);
		if (v != t[i].want)
			fail_msg("duration_parse(\"%s\") = %llu, want %llu",
			    t[i].s, (unsigned long long)v,
			    (unsigned long long)t[i].want);
	}
}

/* Unknown units, a missing number, signs and trailing text are refused. */
static void
test_duration_parse_bad(void **state)
{
	static const char *bad[] = { "15x", "m", "-1", "1h2", "", " 5" };
	uint64_t v;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 99;
		cause = NULL;
		if (duration_parse(bad[i], &v, &cause) != -1)
			fail_msg("duration_parse(\"%s\") accepted", bad[i]);
		assert_non_null(cause);
		if (*bad[i] != '\0' && strstr(cause, bad[i]) == NULL)
			fail_msg("cause \"%s\" does not name \"%s\"", cause,
			    bad[i]);
		assert_int_equal(v, 99);
		free(cause);
	}
}

/* Percentages with or without '%', whole or not, 0 to 100, as fractions. */
static void
test_percent_parse(void **state)
{
	static const struct {
		const char	*s;
		double		 want;
	} ok[] = {
		{ "75", 0.75 }, { "75%", 0.75 }, { "12.5", 0.125 },
		{ "0.5", 0.005 }, { "2%", 0.02 }, { "0", 0 }, { "0%", 0 },
		{ "100", 1 }, { "100.0%", 1 }, { ".5", 0.005 }, { "5.", 0.05 },
		{ "075", 0.75 },
	};
	static const char *const bad[] = { "", "%", ".", "abc", "-1", "+5",
	    " 5", "5 ", "1e1", "0x10", "nan", "inf", "100.01", "120", "75%%",
	    "%75", "1.2.3", "5,5", "75 %", "1000000000000000000000" };
	double v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		v = -1;
		if (percent_parse(ok[i].s, &v) != 0)
			fail_msg("percent_parse(\"%s\") refused", ok[i].s);
		if (v != ok[i].want)
			fail_msg("percent_parse(\"%s\") = %.17g, want %.17g",
			    ok[i].s, v, ok[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 42;
		if (percent_parse(bad[i], &v) != -1)
			fail_msg("percent_parse(\"%s\") accepted (%g)", bad[i],
			    v);
		assert_true(v == 42);
	}
}

#define NOW 1780000000		/* 2026-05-28T20:26:40Z */

/* Parse s with flags, expecting success with exactly want. */
static void
time_ok(const char *s, int flags, int64_t want)
{
	int64_t v = 42;

	if (time_parse(s, NOW, flags, &v) != 0)
		fail_msg("time_parse(\"%s\", %d) refused", s, flags);
	if (v != want)
		fail_msg("time_parse(\"%s\", %d) = %lld, want %lld", s, flags,
		    (long long)v, (long long)want);
}

/* UTC times in every accepted spelling, whole days, ages both ways. */
static void
test_time_parse_ok(void **state)
{
	static const int both[] = { 0, TIME_DAY_END };
	const int64_t t = 1793498400;	/* 2026-11-01T02:00:00Z */
	const int64_t day = 1793491200;	/* 2026-11-01T00:00:00Z */
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		/* An explicit time is the same whatever the flags. */
		time_ok("2026-11-01T02:00:00Z", both[i], t);
		time_ok("2026-11-01T02:00:00", both[i], t);
		time_ok("2026-11-01T02:00Z", both[i], t);
		time_ok("2026-11-01T02:00", both[i], t);
		time_ok("2026-11-01 02:00:00", both[i], t);
		time_ok("2026-11-01 02:00", both[i], t);
		time_ok("2026-11-01T02:00:59Z", both[i] | TIME_AHEAD, t + 59);
		time_ok("2026-11-01T00:00:00Z", both[i], day);
	}
	/* A date alone: its first second, or its last one. */
	time_ok("2026-11-01", 0, day);
	time_ok("2026-11-01", TIME_AHEAD, day);
	time_ok("2026-11-01", TIME_DAY_END, day + 86399);
	time_ok("1970-01-01", 0, 0);
	time_ok("2028-02-29", 0, 1835395200);
	time_ok("2000-02-29", 0, 951782400);
	time_ok("2026-12-31T23:59:59Z", 0, 1798761599);
	/* Ages: before now, or after it for a delay. */
	time_ok("30d", 0, NOW - 30 * 86400);
	time_ok("12h", TIME_DAY_END, NOW - 12 * 3600);
	time_ok("2w", 0, NOW - 14 * 86400);
	time_ok("90s", 0, NOW - 90);
	time_ok("15m", 0, NOW - 900);
	time_ok("0d", 0, NOW);
	time_ok("30d", TIME_AHEAD, NOW + 30 * 86400);
	time_ok("2h", TIME_AHEAD | TIME_DAY_END, NOW + 7200);
}

/* What is not a time, or not one that exists, is refused untouched. */
static void
test_time_parse_bad(void **state)
{
	static const char *const bad[] = { "", "yesterday", "now", "30",
	    "30y", "30D", "-30d", "1.5d", "d", "30dd", "2026-02-31",
	    "2026-02-29", "2100-02-29", "2026-13-01", "2026-00-10",
	    "2026-11-00", "2026-11-32", "2026-11-01T25:00:00Z",
	    "2026-11-01T24:00", "2026-11-01T23:60", "2026-11-01T23:59:60Z",
	    "2026-11-01T02", "2026-11-01T02:00:0", "2026-11-01T2:00",
	    "2026-1-01", "26-11-01", "20261101", "2026-11-01Z",
	    "2026-11-01T02:00:00ZZ", "2026-11-01T02:00:00+01:00",
	    "2026-11-01t02:00:00z", " 2026-11-01", "2026-11-01 ",
	    "2026-11-01T", "1969-12-31", "2026/11/01",
	    "99999999999999999999999d" };
	int64_t v;
	size_t i;
	int flags;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (flags = 0; flags <= (TIME_AHEAD | TIME_DAY_END); flags++) {
			v = 42;
			if (time_parse(bad[i], NOW, flags, &v) != -1)
				fail_msg("time_parse(\"%s\", %d) accepted "
				    "(%lld)", bad[i], flags, (long long)v);
			assert_int_equal(v, 42);
		}
	}
}

/* Times print as ISO 8601 UTC, and 0 (never) prints as "-". */
static void
test_time_format(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(time_format(0, buf, sizeof buf), "-");
	assert_string_equal(time_format(1700000000, buf, sizeof buf),
	    "2023-11-14T22:13:20Z");
	assert_string_equal(time_format(86400, buf, sizeof buf),
	    "1970-01-02T00:00:00Z");
}

/* Only plain, short, printable names are single path components. */
static void
test_name_is_component(void **state)
{
	char name[300];

	(void)state;
	assert_false(name_is_component("."));
	assert_false(name_is_component(".."));
	assert_false(name_is_component(""));
	assert_false(name_is_component("a/b"));
	assert_false(name_is_component("a\nb"));
	assert_false(name_is_component("a\x7f"));
	assert_true(name_is_component("cur"));
	assert_true(name_is_component(".Sent"));
	assert_true(name_is_component("a..b"));
	assert_true(name_is_component("..."));

	/* 255 bytes is the limit; 256 is one too many. */
	memset(name, 'x', 255);
	name[255] = '\0';
	assert_true(name_is_component(name));
	memset(name, 'x', 256);
	name[256] = '\0';
	assert_false(name_is_component(name));
}

/* Check path with relpath_check, expecting a cause containing what. */
static void
relpath_bad(const char *path, const char *what)
{
	char *cause = NULL;

	if (relpath_check(path, &cause) != -1)
		fail_msg("relpath_check(\"%s\") accepted", path);
	assert_non_null(cause);
	if (strstr(cause, what) == NULL)
		fail_msg("relpath_check(\"%s\") cause \"%s\" lacks \"%s\"",
		    path, cause, what);
	free(cause);
}

/* Relative clean paths pass; absolute, escaping or odd paths do not. */
static void
test_relpath_check(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_int_equal(relpath_check("example.com/alice", &cause), 0);
	assert_null(cause);
	assert_int_equal(relpath_check("alice", &cause), 0);
	assert_null(cause);

	relpath_bad("/abs", "absolute");
	relpath_bad("a/../b", "escapes");
	relpath_bad("..", "escapes");
	relpath_bad("a//b", "empty component");
	relpath_bad("a/", "empty component");
	relpath_bad("", "empty");
	relpath_bad("a/./b", "bad component");
	relpath_bad("a/\x01", "bad component");
}

/* Check user with user_check, expecting a refusal with a cause. */
static void
user_bad(const char *user)
{
	char *cause = NULL;

	if (user_check(user, &cause) != -1)
		fail_msg("user_check(\"%s\") accepted", user);
	assert_non_null(cause);
	assert_true(strlen(cause) > 0);
	free(cause);
}

/* User names: local or local@domain, no odd characters or empty parts. */
static void
test_user_check(void **state)
{
	char *cause = NULL, name[300];

	(void)state;
	assert_int_equal(user_check("alice@example.com", &cause), 0);
	assert_null(cause);
	assert_int_equal(user_check("bob", &cause), 0);
	assert_null(cause);
	assert_int_equal(user_check("a.b@example.com", &cause), 0);
	assert_null(cause);

	user_bad("");
	user_bad("a b");
	user_bad("a/b");
	user_bad("a\tb");
	user_bad("@x");
	user_bad("a@");
	user_bad("a@b@c");
	user_bad(".a@x");
	user_bad("a@.x");

	/* 255 bytes is the limit; 256 is one too many. */
	memset(name, 'u', 255);
	name[255] = '\0';
	assert_int_equal(user_check(name, &cause), 0);
	assert_null(cause);
	memset(name, 'u', 256);
	name[256] = '\0';
	user_bad(name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_parse_ok),
		cmocka_unit_test(test_size_parse_bad),
		cmocka_unit_test(test_size_parse_exact),
		cmocka_unit_test(test_size_parse_limit),
		cmocka_unit_test(test_size_parse_null_cause),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_duration_parse_ok),
		cmocka_unit_test(test_duration_parse_bad),
		cmocka_unit_test(test_percent_parse),
		cmocka_unit_test(test_time_parse_ok),
		cmocka_unit_test(test_time_parse_bad),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_name_is_component),
		cmocka_unit_test(test_relpath_check),
		cmocka_unit_test(test_user_check),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
