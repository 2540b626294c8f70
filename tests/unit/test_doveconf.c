/* Unit tests for common/doveconf.c: checking a Dovecot configuration. */
#define _GNU_SOURCE
#include <unistd.h>

#include "common/util.h"
#include "common/doveconf.h"
#include "testutil.h"

static void
test_seconds(void **state)
{
	(void)state;
	assert_int_equal(doveconf_seconds("0"), 0);
	assert_int_equal(doveconf_seconds("5s"), 5);
	assert_int_equal(doveconf_seconds("5 secs"), 5);
	assert_int_equal(doveconf_seconds("1 hour"), 3600);
	assert_int_equal(doveconf_seconds("2 hours"), 7200);
	assert_int_equal(doveconf_seconds("10 mins"), 600);
	assert_int_equal(doveconf_seconds("3 minutes"), 180);
	assert_int_equal(doveconf_seconds("1500 msecs"), 1);
	assert_int_equal(doveconf_seconds("1 day"), 86400);
	assert_int_equal(doveconf_seconds("soon"), -1);
	assert_int_equal(doveconf_seconds("5 parsecs"), -1);
}

struct fx {
	char	*dir;
	char	*catalog;
	char	*gate;
	char	*userdb;
};

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The lock gate's SQL file, its query answering code=temp_fail and the
 * given extra column ("'Y' AS nodelay"), or none. */
static void
write_gate(const struct fx *f, const char *extra)
{
	char *t = xasprintf("driver = sqlite\nconnect = file:%s?mode=ro\n"
	    "password_query = SELECT NULL AS password, 'temp_fail' AS code%s%s "
	    "\\\n  FROM access WHERE user = '%%u' AND unavailable\n",
	    f->catalog, extra ? ", " : "", extra ? extra : "");

	write_file(f->gate, t);
	free(t);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char *t;

	f->dir = test_tmpdir();
	f->catalog = xasprintf("%s/catalog.db", f->dir);
	f->gate = xasprintf("%s/gate.conf.ext", f->dir);
	f->userdb = xasprintf("%s/userdb.conf.ext", f->dir);
	write_file(f->catalog, "");
	write_gate(f, "'Y' AS nodelay");
	t = xasprintf("driver = sqlite\nconnect = %s\nuser_query = SELECT "
	    "home, mail, uid, gid FROM access WHERE user = '%%u'\n",
	    f->catalog);
	write_file(f->userdb, t);
	free(t);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->catalog);
	free(f->gate);
	free(f->userdb);
	test_rm_rf(f->dir);
	free(f);
	return 0;
}

/* doveconf -n output for a setup with the given pieces. */
static char *
conf(const struct fx *f, const char *first_success, const char *extra)
{
	return xasprintf("# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf\n"
	    "auth_mechanisms = plain login\n%s"
	    "passdb {\n  args = scheme=PLAIN /etc/passwd.dovecot\n"
	    "  driver = passwd-file\n  result_success = %s\n}\n"
	    "passdb {\n  args = %s\n  driver = sql\n"
	    "  result_internalfail = return-fail\n"
	    "  result_success = return-fail\n"
	    "  skip = unauthenticated\n}\n"
	    "protocols = imap lmtp\n"
	    "service imap-login {\n  inet_listener imap {\n    port = 143\n"
	    "  }\n}\n"
	    "userdb {\n  args = %s\n  driver = sql\n}\n",
	    extra, first_success, f->gate, f->userdb);
}

static int
problems_with(const struct doveconf_report *r, const char *what)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += !r->f[i].ok && strcmp(r->f[i].what, what) == 0;
	return n;
}

static void
test_good_setup(void **state)
{
	struct fx *f = *state;
	struct doveconf_report r;
	char *c = conf(f, "continue-ok", "lmtp_proxy = yes\n");

	doveconf_check(c, f->catalog, 5, &r);
	assert_int_equal(r.problems, 0);
	assert_int_equal(r.n, 4);
	doveconf_report_free(&r);
	free(c);
	/* lmtp_proxy inside protocol lmtp { } counts too, and a cache
	 * within the grace is fine. */
	c = conf(f, "continue-ok", "auth_cache_size = 10 M\n"
	    "auth_cache_ttl = 5 secs\nauth_cache_negative_ttl = 3 s\n"
	    "protocol lmtp {\n  lmtp_proxy = yes\n}\n");
	doveconf_check(c, f->catalog, 5, &r);
	assert_int_equal(r.problems, 0);
	doveconf_report_free(&r);
	free(c);
}

static void
test_each_problem_named(void **state)
{
	struct fx *f = *state;
	struct doveconf_report r;
	char *c = conf(f, "return-ok", "auth_cache_size = 1M\n");

	doveconf_check(c, f->catalog, 5, &r);
	assert_int_equal(problems_with(&r, "passdb order"), 1);
	assert_int_equal(problems_with(&r, "lmtp"), 1);
	/* The TTLs default to an hour. */
	assert_int_equal(problems_with(&r, "auth cache"), 1);
	assert_int_equal(r.problems, 3);
	doveconf_report_free(&r);
	free(c);
}

/* A gate that lets locked accounts in when the catalog cannot be read;
 * a PAM passdb under lmtp_proxy; deny and master passdbs are fine. */
static void
test_gate_details(void **state)
{
	struct fx *f = *state;
	struct doveconf_report r;
	char *c = xasprintf("passdb {\n  driver = passwd-file\n  deny = yes\n"
	    "  args = /etc/dovecot/deny\n}\npassdb {\n  driver = pam\n"
	    "  result_success = continue-ok\n}\npassdb {\n  args = %s\n"
	    "  driver = sql\n  result_success = return-fail\n"
	    "  skip = unauthenticated\n}\nuserdb {\n  args = %s\n"
	    "  driver = sql\n}\nlmtp_proxy = yes\n", f->gate, f->userdb);

	doveconf_check(c, f->catalog, 5, &r);
	assert_int_equal(problems_with(&r, "lock gate"), 1);
	assert_int_equal(problems_with(&r, "lmtp"), 1);
	assert_int_equal(problems_with(&r, "passdb order"), 0);
	assert_int_equal(r.problems, 2);
	doveconf_report_free(&r);
	free(c);
}

/* A gate without nodelay is named: each refusal would raise the auth
 * penalty of the client's IP. */
static void
test_gate_nodelay(void **state)
{
	struct fx *f = *state;
	struct doveconf_report r;
	char *c = conf(f, "continue-ok", "lmtp_proxy = yes\n");
	int i, named = 0;

	write_gate(f, NULL);
	doveconf_check(c, f->catalog, 5, &r);
	assert_int_equal(problems_with(&r, "lock gate"), 1);
	assert_int_equal(r.problems, 1);
	for (i = 0; i < r.n; i++)
		named += !r.f[i].ok && strstr(r.f[i].text, "no nodelay") !=
		    NULL && strstr(r.f[i].text, "auth penalty") != NULL &&
		    strstr(r.f[i].text, "'Y' AS nodelay") != NULL;
	assert_int_equal(named, 1);
	doveconf_report_free(&r);
	/* Any case, as SQL allows. */
	write_gate(f, "'Y' AS NoDelay");
	doveconf_check(c, f->catalog, 5, &r);
	assert_int_equal(r.problems, 0);
	doveconf_report_free(&r);
	free(c);
}

static void
test_other_catalog(void **state)
{
	struct fx *f = *state;
	struct doveconf_report r;
	char *c = conf(f, "continue-ok", "lmtp_proxy = yes\n");
	char *other = xasprintf("%s/other.db", f->dir);

	write_file(other, "");
	doveconf_check(c, other, 5, &r);
	assert_int_equal(problems_with(&r, "lock gate"), 1);
	assert_int_equal(problems_with(&r, "userdb"), 1);
	doveconf_report_free(&r);
	free(other);
	free(c);
}

static void
test_no_gate(void **state)
{
	struct fx *f = *state;
	struct doveconf_report r;

	(void)f;
	doveconf_check("passdb {\n  driver = pam\n}\nuserdb {\n"
	    "  driver = passwd\n}\nlmtp_proxy = yes\n", f->catalog, 5, &r);
	assert_int_equal(problems_with(&r, "lock gate"), 1);
	assert_int_equal(problems_with(&r, "userdb"), 1);
	assert_int_equal(r.problems, 2);
	doveconf_report_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds),
		cmocka_unit_test_setup_teardown(test_good_setup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_each_problem_named, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gate_details, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gate_nodelay, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_catalog, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_gate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
