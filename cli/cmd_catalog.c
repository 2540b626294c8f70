/* mailshift catalog copy: the whole catalog into another, of either
 * engine (start on SQLite, grow to PostgreSQL). */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "common/util.h"
#include "state/copy.h"
#include "state/state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

struct copied {
	struct cli	*c;
	struct json	 j;
	int64_t		 rows;
};

static void
copied_table(void *arg, const struct state_copy_table *t)
{
	struct copied *cp = arg;
	char sum[24];

	cp->rows += t->rows;
	if (cp->c->json) {
		snprintf(sum, sizeof sum, "%016llx",
		    (unsigned long long)t->sum);
		json_object_open(&cp->j, NULL);
		json_string(&cp->j, "table", t->name);
		json_int(&cp->j, "rows", t->rows);
		json_string(&cp->j, "checksum", sum);
		json_object_close(&cp->j);
	} else
		printf("%-11s %10lld rows  checksum %016llx  verified\n",
		    t->name, (long long)t->rows, (unsigned long long)t->sum);
}

static int
cmd_catalog_copy(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct copied cp = { .c = c };
	struct state *src, *dst;
	const char *to = NULL;
	char *cause = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 't')
			to = optarg;
		else
			return cli_bad_option(e, ch, argc, argv);
	}
	if (optind != argc)
		return cli_usage(e, "unexpected argument '%s'", argv[optind]);
	if (to == NULL)
		return cli_usage(e, "give --to: a PostgreSQL URL or conninfo, "
		    "or a new SQLite file");
	if ((src = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if ((dst = state_open(to, 1, &cause)) == NULL)
		return cli_fail(cause);
	if (c->json) {
		json_init(&cp.j, stdout);
		json_object_open(&cp.j, NULL);
		json_string(&cp.j, "from", state_name(src));
		json_string(&cp.j, "to", state_name(dst));
		json_array_open(&cp.j, "tables");
	}
	rc = state_copy(src, dst, copied_table, &cp, &cause);
	if (c->json) {
		json_array_close(&cp.j);
		json_bool(&cp.j, "copied", rc == 0);
		json_object_close(&cp.j);
		json_end(&cp.j);
	}
	if (rc != 0) {
		state_close(dst);
		return cli_fail(cause);
	}
	state_event(dst, "catalog.copy", NULL, NULL, "copied from %s: %lld "
	    "rows, every table verified", state_name(src), (long long)cp.rows);
	if (!c->json)
		printf("copied catalog %s to %s: %lld rows, every table "
		    "verified\n", state_name(src), state_name(dst),
		    (long long)cp.rows);
	state_close(dst);
	return EXIT_OK;
}

const struct cmd_entry cmd_catalog_copy_entry = {
	"catalog", "copy", "--to CATALOG",
	"copy the whole catalog into a new one (a PostgreSQL URL or "
	"conninfo, or an SQLite file), verifying each table's rows and "
	"checksum",
	cmd_catalog_copy,
};
