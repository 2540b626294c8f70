/* mailshift init: create the catalog (or upgrade an older one). */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "state/state.h"
#include "common/util.h"

static int
cmd_init(struct cli *c, const struct cmd_entry *e, int argc, char **argv)
{
	struct state *st;
	struct json j;
	int found;

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage(e, "init takes no arguments");
	if ((st = cli_state(c, 1)) == NULL)
		return EXIT_FAIL;
	found = state_version_found(st);
	if (found == 0)
		state_event(st, "init", NULL, NULL, "catalog created");
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_string(&j, "catalog", state_name(st));
		json_int(&j, "schema_version", STATE_SCHEMA_VERSION);
		json_bool(&j, "created", found == 0);
		json_object_close(&j);
		json_end(&j);
	} else if (found == 0)
		printf("created catalog %s (schema version %d)\n",
		    state_name(st), STATE_SCHEMA_VERSION);
	else
		printf("catalog %s is ready (schema version %d)\n",
		    state_name(st), STATE_SCHEMA_VERSION);
	return EXIT_OK;
}

const struct cmd_entry cmd_init_entry = {
	"init", NULL, "", "create the catalog, or upgrade an older one",
	cmd_init
};
