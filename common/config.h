/*
 * The configuration file (INI, read with inih):
 *
 *   [catalog]
 *   path = /var/lib/mailshift/catalog.db
 *
 *   [layout]
 *   template = %d/%n
 *
 *   [discover]
 *   maildirsize = trust          ; or "ignore": always count files
 *
 * Every problem is reported as "file:line: message", all of them at once.
 */
#ifndef MAILSHIFT_CONFIG_H
#define MAILSHIFT_CONFIG_H

#include <stdio.h>

#define CONFIG_DEFAULT_FILE "/etc/mailshift/mailshift.conf"
#define CONFIG_DEFAULT_CATALOG "/var/lib/mailshift/catalog.db"
#define CONFIG_DEFAULT_LAYOUT "%d/%n"

struct config {
	char	*file;			/* file read, NULL for built-in defaults */
	char	*catalog;		/* [catalog] path */
	char	*layout;		/* [layout] template */
	int	 trust_maildirsize;	/* [discover] maildirsize = trust */
};

/* Fill c with the built-in defaults. */
void config_defaults(struct config *c);
/*
 * Read file over the defaults. A missing file is an error only when
 * required. On failure *cause holds one "file:line: ..." line per problem
 * and c is left as it was.
 */
int config_load(const char *file, int required, struct config *c,
    char **cause);
/* Write the configuration in normalized form. */
void config_print(FILE *, const struct config *);
void config_free(struct config *);

#endif
