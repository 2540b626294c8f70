/* mailshift route USER: what access servers are told about a user. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "cli/output.h"
#include "state/state.h"
#include "state/route.h"
#include "common/util.h"

static int
cmd_route(struct cli *c, const struct cmd_entry *e, int argc, char **argv)
{
	struct state_route r;
	struct state *st;
	struct json j;
	char *cause = NULL;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(e, "give one user");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_route_get(st, argv[1], &r, &cause) != 0)
		return cli_fail(cause);
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_string(&j, "user", r.user);
		json_string(&j, "host", r.host);
		json_string(&j, "server", r.server);
		json_string(&j, "home", r.home);
		json_string(&j, "slice", r.slice);
		json_bool(&j, "locked", r.locked);
		json_int(&j, "generation", r.generation);
		json_object_close(&j);
		json_end(&j);
	} else {
		kv_print(stdout, "user", "%s", r.user);
		kv_print(stdout, "host", "%s", r.host);
		kv_print(stdout, "server", "%s", r.server);
		kv_print(stdout, "home", "%s", r.home);
		kv_print(stdout, "slice", "%s", r.slice);
		kv_print(stdout, "locked", "%s", r.locked ? "yes" : "no");
		kv_print(stdout, "generation", "%lld",
		    (long long)r.generation);
	}
	state_route_free(&r);
	return EXIT_OK;
}

const struct cmd_entry cmd_route_entry = {
	"route", NULL, "USER",
	"print the route access servers get: host, home, locked", cmd_route
};
