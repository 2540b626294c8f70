/* mailshift slice failover: the pair's other server takes a slice over. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "common/util.h"
#include "migrator/failover.h"
#include "state/state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
print_result(struct cli *c, const struct failover_result *r, int follow)
{
	struct json j;
	int i;

	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_string(&j, "slice", r->slice);
		json_string(&j, "from", r->from);
		json_string(&j, "to", r->to);
		json_bool(&j, "changed", r->changed);
		json_string(&j, "mode", follow ? "follow" : "drive");
		json_int(&j, "accounts_bumped", r->bumped);
		json_double(&j, "total_ms", r->total_ms);
		json_array_open(&j, "steps");
		for (i = 0; i < r->nsteps; i++) {
			json_object_open(&j, NULL);
			json_string(&j, "step", r->steps[i].name);
			json_bool(&j, "ran", r->steps[i].ran);
			json_double(&j, "ms", r->steps[i].ms);
			json_string(&j, "detail", r->steps[i].detail);
			json_object_close(&j);
		}
		json_array_close(&j);
		json_string(&j, "warning", r->warning);
		json_object_close(&j);
		json_end(&j);
		return;
	}
	if (!r->changed) {
		printf("slice %s is served by %s already; nothing to record\n",
		    r->slice, r->to);
		return;
	}
	for (i = 0; i < r->nsteps; i++)
		printf("  %-8s %9.1f ms%s%s\n", r->steps[i].name,
		    r->steps[i].ms, r->steps[i].detail ? "  " : "",
		    r->steps[i].detail ? r->steps[i].detail : "");
	printf("slice %s is served by %s (was %s): %lld accounts one "
	    "generation on, in %.1f ms\n", r->slice, r->to, r->from,
	    (long long)r->bumped, r->total_ms);
}

static int
cmd_slice_failover(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "old-is-down", no_argument, NULL, 'd' },
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct failover_req q;
	struct failover_result r;
	struct state *st;
	char *cause = NULL;
	int ch, rc;

	memset(&q, 0, sizeof q);
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			q.to = optarg;
			break;
		case 'd':
			q.old_is_down = 1;
			break;
		case 'f':
			q.follow = 1;
			break;
		default:
			return cli_bad_option(e, ch, argc, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(e, "give one slice");
	if (q.follow && q.old_is_down)
		return cli_usage(e, "--follow runs no hook: --old-is-down "
		    "means nothing with it");
	if (q.follow && q.to == NULL)
		return cli_usage(e, "--follow needs --to SERVER: the server "
		    "the cluster manager made primary");
	q.slice = argv[optind];
	q.cfg = &c->config;
	q.pid = (long)getpid();
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	rc = failover_run(st, &q, &r, &cause);
	if (rc != 0) {
		failover_result_free(&r);
		return cli_fail(cause);
	}
	print_result(c, &r, q.follow);
	if (r.warning != NULL)
		fprintf(stderr, "mailshift: warning: %s\n", r.warning);
	failover_result_free(&r);
	return EXIT_OK;
}

const struct cmd_entry cmd_slice_failover_entry = {
	"slice", "failover", "SLICE [--to SERVER] [--old-is-down] [--follow]",
	"let the other server of the slice's pair serve it: fence, promote, "
	"switch the catalog, after_failover (--follow: record what the "
	"cluster manager did)", cmd_slice_failover
};
