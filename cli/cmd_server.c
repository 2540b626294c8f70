/* mailshift server add|list and pair add|list: the storage topology. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "cli/output.h"
#include "state/state.h"
#include "state/pair.h"
#include "state/server.h"
#include "common/util.h"

#include <getopt.h>
#include <string.h>

static int
cmd_server_add(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char *address = NULL, *p;
	struct state *st;
	char *cause = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, ":a:", opts, NULL)) != -1) {
		if (ch == 'a')
			address = optarg;
		else
			return cli_bad_option(e, ch, argc, argv);
	}
	if (argc - optind != 1)
		return cli_usage(e, "give one server name");
	if (!cli_name_ok(argv[optind]))
		return cli_usage(e, "bad server name '%s': use letters, digits, "
		    "'.', '_' and '-' (at most 64)", argv[optind]);
	if (address == NULL)
		return cli_usage(e, "missing --address HOST");
	for (p = address; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == '\'' ||
		    *p == '"')
			break;
	}
	if (*address == '\0' || *p != '\0' || strlen(address) > 253)
		return cli_usage(e, "bad address '%s': give a host name or IP "
		    "address", address);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_server_add(st, argv[optind], address, &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("server %s added (%s)\n", argv[optind], address);
	return EXIT_OK;
}

static int
server_row(const struct state_server *s, void *arg)
{
	struct listing *l = arg;
	char when[32];

	time_format(s->created, when, sizeof when);
	if (l->json) {
		json_object_open(&l->j, NULL);
		json_string(&l->j, "name", s->name);
		json_string(&l->j, "address", s->address);
		json_string(&l->j, "pair", s->pair);
		json_string(&l->j, "created", when);
		json_string(&l->j, "health", s->health);
		json_string(&l->j, "health_reason", s->health_reason);
		json_string(&l->j, "health_since", s->health_since ?
		    time_format(s->health_since, when, sizeof when) : NULL);
		json_object_close(&l->j);
	} else
		table_add(l->t, (const char *[]){ s->name, s->address,
		    s->pair, s->health, s->health_reason });
	return 0;
}

static int
cmd_server_list(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct listing l;
	struct state *st;
	char *cause = NULL;

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage(e, "unexpected argument");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	listing_start(&l, c->json, 5, (const char *[]){ "NAME", "ADDRESS",
	    "PAIR", "HEALTH", "REASON" }, "lllll");
	if (state_server_list(st, server_row, &l, &cause) != 0) {
		listing_abort(&l);
		return cli_fail(cause);
	}
	listing_end(&l);
	return EXIT_OK;
}

static int
cmd_pair_add(struct cli *c, const struct cmd_entry *e, int argc, char **argv)
{
	struct state *st;
	char *cause = NULL;
	int i;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 4)
		return cli_usage(e, "give a pair name and two server names");
	for (i = 1; i < 4; i++) {
		if (!cli_name_ok(argv[i]))
			return cli_usage(e, "bad name '%s': use letters, "
			    "digits, '.', '_' and '-' (at most 64)", argv[i]);
	}
	if (strcmp(argv[2], argv[3]) == 0)
		return cli_usage(e, "a pair needs two different servers, not "
		    "'%s' twice", argv[2]);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_pair_add(st, argv[1], argv[2], argv[3], &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("pair %s added (%s, %s)\n", argv[1], argv[2], argv[3]);
	return EXIT_OK;
}

static int
pair_row(const struct state_pair *p, void *arg)
{
	struct listing *l = arg;
	char n[32];

	snprintf(n, sizeof n, "%lld", (long long)p->slices);
	if (l->json) {
		json_object_open(&l->j, NULL);
		json_string(&l->j, "name", p->name);
		json_string(&l->j, "server_a", p->server_a);
		json_string(&l->j, "server_b", p->server_b);
		json_int(&l->j, "slices", p->slices);
		json_object_close(&l->j);
	} else
		table_add(l->t, (const char *[]){ p->name, p->server_a,
		    p->server_b, n });
	return 0;
}

static int
cmd_pair_list(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct listing l;
	struct state *st;
	char *cause = NULL;

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage(e, "unexpected argument");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	listing_start(&l, c->json, 4, (const char *[]){ "NAME", "SERVER_A", "SERVER_B",
	    "SLICES" }, "lllr");
	if (state_pair_list(st, pair_row, &l, &cause) != 0) {
		listing_abort(&l);
		return cli_fail(cause);
	}
	listing_end(&l);
	return EXIT_OK;
}

const struct cmd_entry cmd_server_add_entry = {
	"server", "add", "NAME --address HOST", "add a storage server",
	cmd_server_add
};
const struct cmd_entry cmd_server_list_entry = {
	"server", "list", "", "list storage servers", cmd_server_list
};
const struct cmd_entry cmd_pair_add_entry = {
	"pair", "add", "NAME SERVER_A SERVER_B",
	"add a pair of servers that replicate each other", cmd_pair_add
};
const struct cmd_entry cmd_pair_list_entry = {
	"pair", "list", "", "list pairs", cmd_pair_list
};
