/* mailshift server add|list|show and pair add|list: the storage
 * topology. */
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

/* JSON members of a server, shared by list and show. */
static void
server_json(struct json *j, const struct state_server *s)
{
	char when[32];

	json_string(j, "name", s->name);
	json_string(j, "address", s->address);
	json_string(j, "pair", s->pair);
	json_string(j, "created", time_format(s->created, when, sizeof when));
	json_string(j, "health", s->health);
	json_string(j, "health_reason", s->health_reason);
	json_string(j, "health_since", s->health_since ?
	    time_format(s->health_since, when, sizeof when) : NULL);
}

static int
server_row(const struct state_server *s, void *arg)
{
	struct listing *l = arg;

	if (l->json) {
		json_object_open(&l->j, NULL);
		server_json(&l->j, s);
		json_object_close(&l->j);
	} else
		table_add(l->t, (const char *[]){ s->name, s->address,
		    s->pair, s->health });
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
	listing_start(&l, c->json, 4, (const char *[]){ "NAME", "ADDRESS",
	    "PAIR", "HEALTH" }, "llll");
	if (state_server_list(st, server_row, &l, &cause) != 0) {
		listing_abort(&l);
		return cli_fail(cause);
	}
	listing_end(&l);
	return EXIT_OK;
}

/* The server server show asks for, printed while its strings are valid. */
struct server_show {
	const char	*name;
	int		 json;
	int		 watching;
	int64_t		 seen;		/* the daemon's last heartbeat */
	int		 found;
};

static int
server_show_cb(const struct state_server *s, void *arg)
{
	struct server_show *ss = arg;
	struct json j;
	char when[32];

	if (strcmp(s->name, ss->name) != 0)
		return 0;
	ss->found = 1;
	if (ss->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		server_json(&j, s);
		json_bool(&j, "health_stale", !ss->watching);
		json_object_close(&j);
		json_end(&j);
		return 1;
	}
	kv_print(stdout, "server", "%s", s->name);
	kv_print(stdout, "address", "%s", s->address);
	kv_print(stdout, "pair", "%s", s->pair != NULL ? s->pair : "none");
	kv_print(stdout, "created", "%s", time_format(s->created, when,
	    sizeof when));
	kv_print(stdout, "health", "%s", s->health);
	kv_print(stdout, "health since", "%s", s->health_since ?
	    time_format(s->health_since, when, sizeof when) : "never changed");
	if (*s->health_reason != '\0')
		kv_print(stdout, "health reason", "%s", s->health_reason);
	if (!ss->watching)
		kv_print(stdout, "health note", "no daemon watches this catalog "
		    "(%s%s): the health shown may be stale", ss->seen ?
		    "last seen " : "none ever ran", ss->seen ?
		    time_format(ss->seen, when, sizeof when) : "");
	return 1;
}

static int
cmd_server_show(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct server_show ss = { 0 };
	struct state *st;
	char *cause = NULL;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(e, "give one server name");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	ss.name = argv[1];
	ss.json = c->json;
	if (cli_daemon_watching(st, &ss.watching, &ss.seen, &cause) != 0 ||
	    state_server_list(st, server_show_cb, &ss, &cause) != 0)
		return cli_fail(cause);
	if (!ss.found)
		return cli_error("server '%s' not found; see 'mailshift server "
		    "list'", argv[1]);
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
const struct cmd_entry cmd_server_show_entry = {
	"server", "show", "NAME", "show one storage server and its health",
	cmd_server_show
};
const struct cmd_entry cmd_pair_add_entry = {
	"pair", "add", "NAME SERVER_A SERVER_B",
	"add a pair of servers that replicate each other", cmd_pair_add
};
const struct cmd_entry cmd_pair_list_entry = {
	"pair", "list", "", "list pairs", cmd_pair_list
};
