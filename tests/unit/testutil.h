/*
 * What every cmocka unit test includes, plus temp-directory helpers.
 * cmocka defines a fail() macro that hides util.h's fail(): a test that
 * needs util.h includes it before this header.
 */
#ifndef MAILSHIFT_TESTUTIL_H
#define MAILSHIFT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A fresh directory under $TMPDIR (or /tmp); free the result with rm_rf. */
static inline char *
test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&p, "%s/mailshift-test.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(p) == NULL)
		abort();
	return p;
}

/* Remove a directory tree made by a test and free its name. */
static inline void
test_rm_rf(char *dir)
{
	char *cmd;

	if (dir == NULL)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
		abort();
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	free(dir);
}

/* Write a whole file (creating parents is the caller's job). */
static inline void
test_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

#endif
