/* Unit tests for common/layout.c: templates, expansion and matching. */
#define _GNU_SOURCE
#include "testutil.h"
#include "common/layout.h"

/* Parse a template that must be valid. */
static struct layout *
parse_ok(const char *tmpl)
{
	struct layout *l;
	char *cause = NULL;

	if ((l = layout_parse(tmpl, &cause)) == NULL)
		fail_msg("layout_parse(\"%s\") refused: %s", tmpl,
		    cause ? cause : "(no cause)");
	assert_null(cause);
	return l;
}

/* Expand tmpl for user, expecting exactly want. */
static void
expand_ok(const char *tmpl, const char *user, const char *want)
{
	struct layout *l = parse_ok(tmpl);
	char buf[4096], *cause = NULL;

	if (layout_expand(l, user, buf, sizeof buf, &cause) != 0)
		fail_msg("layout_expand(\"%s\", \"%s\") failed: %s", tmpl,
		    user, cause ? cause : "(no cause)");
	assert_null(cause);
	assert_string_equal(buf, want);
	layout_free(l);
}

/* Valid templates parse and keep their text. */
static void
test_parse_ok(void **state)
{
	static const char *good[] = { "%d/%n", "%u", "%1n/%n", "%d/%1n/%n",
	    "mail/%d/%n", "%2n/%n", "%n", "x%%y/%u" };
	struct layout *l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		l = parse_ok(good[i]);
		assert_string_equal(layout_text(l), good[i]);
		layout_free(l);
	}
}

/* Bad templates are refused with a cause that says what is wrong. */
static void
test_parse_bad(void **state)
{
	static const struct {
		const char	*tmpl;
		const char	*why;
	} bad[] = {
		{ "", "empty layout" },
		{ "/%d/%n", "relative" },
		{ "%d", "does not name the user" },
		{ "%1n", "does not name the user" },
		{ "%x/%n", "unknown variable '%x'" },
		{ "%d//%n", "empty path component" },
		{ "%d/%n/", "empty path component" },
		{ "../%n", "bad component '..'" },
		{ "./%n", "bad component '.'" },
		{ "a/%", "unknown variable" },
		{ "a/%1", "unknown variable" },
		{ "%1d/%n", "prefix of the domain" },
		{ "%1u/%n", "prefix of %u" },
	};
	struct layout *l;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		l = layout_parse(bad[i].tmpl, &cause);
		if (l != NULL)
			fail_msg("layout_parse(\"%s\") accepted", bad[i].tmpl);
		assert_non_null(cause);
		if (strstr(cause, bad[i].why) == NULL)
			fail_msg("layout_parse(\"%s\") cause \"%s\" lacks "
			    "\"%s\"", bad[i].tmpl, cause, bad[i].why);
		free(cause);
	}
}

/* The depth is the number of path components of the template. */
static void
test_depth(void **state)
{
	static const struct {
		const char	*tmpl;
		int		 depth;
	} t[] = {
		{ "%u", 1 },
		{ "%n", 1 },
		{ "%d/%n", 2 },
		{ "%1n/%n", 2 },
		{ "%d/%1n/%n", 3 },
		{ "mail/%d/%n", 3 },
	};
	struct layout *l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		l = parse_ok(t[i].tmpl);
		assert_int_equal(layout_depth(l), t[i].depth);
		layout_free(l);
	}
}

/* Expansion substitutes whole values, prefixes and literal text. */
static void
test_expand(void **state)
{
	(void)state;
	expand_ok("%d/%n", "alice@example.com", "example.com/alice");
	expand_ok("%1n/%n", "alice", "a/alice");
	expand_ok("%u", "alice@example.com", "alice@example.com");
	expand_ok("%d/%1n/%n", "alice@example.com", "example.com/a/alice");
	expand_ok("mail/%d/%n", "alice@example.com",
	    "mail/example.com/alice");
	expand_ok("%2n/%n", "alice", "al/alice");
	/* A value shorter than the prefix width is used whole. */
	expand_ok("%2n/%n", "a", "a/a");
	expand_ok("%n", "bob", "bob");
	expand_ok("%1n/%n", "bob", "b/bob");
	/* "%%" is a literal percent sign. */
	expand_ok("x%%y/%n", "alice", "x%y/alice");
	expand_ok("%%%n", "bob", "%bob");
}

/* Expansion fails with a cause when the user does not fit the template. */
static void
test_expand_bad(void **state)
{
	struct layout *l;
	char buf[4096], small[8], *cause = NULL;

	(void)state;
	/* %d needs a domain. */
	l = parse_ok("%d/%n");
	assert_int_equal(layout_expand(l, "bob", buf, sizeof buf, &cause),
	    -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "no domain"));
	free(cause);
	cause = NULL;

	/* A bad user name is refused. */
	assert_int_equal(layout_expand(l, "a/b@example.com", buf, sizeof buf,
	    &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;

	/* The result must fit the buffer. */
	assert_int_equal(layout_expand(l, "alice@example.com", small,
	    sizeof small, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "too long"));
	free(cause);
	layout_free(l);
}

/*
 * Match path (components separated by '/') against l. Returns the result
 * of layout_match_user, or -2 if component i did not match (*failed = i).
 */
static int
match_path(const struct layout *l, const char *path, char *user, size_t len,
    int *failed)
{
	struct layout_match m;
	char *copy, *p, *part;
	int i = 0, rc;

	*failed = -1;
	copy = strdup(path);
	assert_non_null(copy);
	layout_match_init(&m);
	p = copy;
	while ((part = strsep(&p, "/")) != NULL) {
		if (!layout_match_component(l, i, part, &m)) {
			*failed = i;
			free(copy);
			return -2;
		}
		i++;
	}
	free(copy);
	assert_int_equal(i, layout_depth(l));
	rc = layout_match_user(&m, user, len);
	return rc;
}

/* Expanding a user and matching the path back gives the same user. */
static void
test_match_round_trip(void **state)
{
	static const struct {
		const char	*tmpl;
		const char	*user;
	} t[] = {
		{ "%d/%n", "alice@example.com" },
		{ "%d/%n", "zoe.smith@mail.example.org" },
		{ "%d/%n", "a@x.org" },
		{ "%u", "alice@example.com" },
		{ "%u", "bob" },
		{ "%n", "bob" },
		{ "%1n/%n", "bob" },
		{ "%1n/%n", "b" },
		{ "%2n/%n", "alice" },
		{ "%2n/%n", "a" },
		{ "%d/%1n/%n", "alice@example.com" },
		{ "%d/%2n/%n", "a@x.org" },
		{ "mail/%d/%n", "alice@example.com" },
		{ "%1d/%d/%1n/%n", "carol@example.net" },
		{ "%1u/%u", "dave@example.com" },
		{ "%d/%n.box", "erin@example.com" },
		{ "x%%y/%u", "frank@example.com" },
		{ "%1n/%n", "\xc3\xa9lise" },
		{ "%d/%2n/%n", "\xc3\xa9\xc3\xa8@example.com" },
		{ "%n@%d", "gina@example.com" },
	};
	struct layout *l;
	char path[4096], user[256], *cause = NULL;
	int failed;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		l = parse_ok(t[i].tmpl);
		if (layout_expand(l, t[i].user, path, sizeof path, &cause) !=
		    0)
			fail_msg("expand %s / %s: %s", t[i].tmpl, t[i].user,
			    cause);
		memset(user, 'X', sizeof user);
		if (match_path(l, path, user, sizeof user, &failed) != 0)
			fail_msg("%s: path \"%s\" of \"%s\" did not match "
			    "back (component %d)", t[i].tmpl, path, t[i].user,
			    failed);
		assert_string_equal(user, t[i].user);
		layout_free(l);
	}
}

/* A layout without the domain cannot hold users that have one. */
static void
test_expand_needs_domain(void **state)
{
	struct layout *l;
	char path[256], *cause = NULL;

	(void)state;
	l = parse_ok("%1n/%n");
	assert_int_equal(layout_expand(l, "bob", path, sizeof path, &cause),
	    0);
	assert_int_equal(layout_expand(l, "bob@example.com", path,
	    sizeof path, &cause), -1);
	assert_non_null(strstr(cause, "has a domain"));
	free(cause);
	layout_free(l);
}

/* Prefixes count UTF-8 characters, never cutting one in half. */
static void
test_expand_utf8(void **state)
{
	struct layout *l;
	char path[256], *cause = NULL;

	(void)state;
	l = parse_ok("%d/%1n/%n");
	assert_int_equal(layout_expand(l, "\xc3\xa9lise@example.com", path,
	    sizeof path, &cause), 0);
	assert_string_equal(path, "example.com/\xc3\xa9/\xc3\xa9lise");
	layout_free(l);
	l = parse_ok("%3n/%n");
	assert_int_equal(layout_expand(l, "\xe2\x82\xac" "ab", path,
	    sizeof path, &cause), 0);
	assert_string_equal(path, "\xe2\x82\xac" "ab/\xe2\x82\xac" "ab");
	layout_free(l);
}

/* A prefix that disagrees with the full value fails at layout_match_user. */
static void
test_match_inconsistent_prefix(void **state)
{
	struct layout *l = parse_ok("%d/%1n/%n");
	char user[256];
	int failed;

	(void)state;
	assert_int_equal(match_path(l, "example.com/b/alice", user,
	    sizeof user, &failed), -1);
	assert_int_equal(failed, -1);
	/* The consistent path matches. */
	assert_int_equal(match_path(l, "example.com/a/alice", user,
	    sizeof user, &failed), 0);
	assert_string_equal(user, "alice@example.com");
	layout_free(l);

	/* A prefix of a short value must be the whole value. */
	l = parse_ok("%2n/%n");
	assert_int_equal(match_path(l, "a/ab", user, sizeof user, &failed),
	    -1);
	layout_free(l);
}

/* A literal component only matches the same text. */
static void
test_match_literal_mismatch(void **state)
{
	struct layout *l = parse_ok("mail/%n");
	char user[256];
	int failed;

	(void)state;
	assert_int_equal(match_path(l, "post/alice", user, sizeof user,
	    &failed), -2);
	assert_int_equal(failed, 0);
	assert_int_equal(match_path(l, "mail/alice", user, sizeof user,
	    &failed), 0);
	assert_string_equal(user, "alice");
	layout_free(l);
}

/* "." and ".." never match a component, even a bare %u. */
static void
test_match_dot_names(void **state)
{
	static const char *tmpls[] = { "%u", "%n", "%d/%n", "%1n/%n" };
	struct layout *l;
	struct layout_match m;
	size_t i;
	int c;

	(void)state;
	for (i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++) {
		l = parse_ok(tmpls[i]);
		for (c = 0; c < layout_depth(l); c++) {
			layout_match_init(&m);
			assert_false(layout_match_component(l, c, ".", &m));
			assert_false(layout_match_component(l, c, "..", &m));
			assert_false(layout_match_component(l, c, "", &m));
		}
		layout_free(l);
	}
}

/* %1n matches exactly one character, not more. */
static void
test_match_prefix_width(void **state)
{
	struct layout *l = parse_ok("%1n/%n");
	struct layout_match m;

	(void)state;
	layout_match_init(&m);
	assert_false(layout_match_component(l, 0, "ab", &m));
	assert_true(layout_match_component(l, 0, "a", &m));
	/* Component numbers outside the template never match. */
	assert_false(layout_match_component(l, 2, "alice", &m));
	assert_false(layout_match_component(l, -1, "alice", &m));
	layout_free(l);
}

/* A component that does not match leaves the match state as it was. */
static void
test_match_failure_keeps_state(void **state)
{
	struct layout *l = parse_ok("%d/%n.box");
	struct layout_match m, saved;
	char user[256];

	(void)state;
	layout_match_init(&m);
	assert_true(layout_match_component(l, 0, "example.com", &m));
	assert_true(m.bound & LAYOUT_D);
	memcpy(&saved, &m, sizeof m);

	/* Fails only after trying to bind %n to several lengths. */
	assert_false(layout_match_component(l, 1, "alice.bax", &m));
	assert_memory_equal(&m, &saved, sizeof m);
	assert_false(layout_match_component(l, 1, "..", &m));
	assert_memory_equal(&m, &saved, sizeof m);

	/* The state is still usable. */
	assert_true(layout_match_component(l, 1, "alice.box", &m));
	assert_int_equal(layout_match_user(&m, user, sizeof user), 0);
	assert_string_equal(user, "alice@example.com");
	layout_free(l);

	/* Also for a failing prefix component after a bound one. */
	l = parse_ok("%d/%1n/%n");
	layout_match_init(&m);
	assert_true(layout_match_component(l, 0, "example.com", &m));
	memcpy(&saved, &m, sizeof m);
	assert_false(layout_match_component(l, 1, "ab", &m));
	assert_memory_equal(&m, &saved, sizeof m);
	layout_free(l);
}

/* Without a bound user variable there is no user. */
static void
test_match_user_unbound(void **state)
{
	struct layout_match m;
	char user[256];

	(void)state;
	layout_match_init(&m);
	assert_int_equal(layout_match_user(&m, user, sizeof user), -1);
}

/* A user too long for the buffer is not truncated into a wrong user. */
static void
test_match_user_small_buffer(void **state)
{
	struct layout *l = parse_ok("%d/%n");
	char user[8];
	int failed;

	(void)state;
	assert_int_equal(match_path(l, "example.com/alice", user, sizeof user,
	    &failed), -1);
	layout_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_bad),
		cmocka_unit_test(test_match_round_trip),
		cmocka_unit_test(test_expand_utf8),
		cmocka_unit_test(test_expand_needs_domain),
		cmocka_unit_test(test_match_inconsistent_prefix),
		cmocka_unit_test(test_match_literal_mismatch),
		cmocka_unit_test(test_match_dot_names),
		cmocka_unit_test(test_match_prefix_width),
		cmocka_unit_test(test_match_failure_keeps_state),
		cmocka_unit_test(test_match_user_unbound),
		cmocka_unit_test(test_match_user_small_buffer),
	};

	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
