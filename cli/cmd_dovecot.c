/* mailshift dovecot check: is this Dovecot set up to follow the catalog? */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/command.h"
#include "common/doveconf.h"
#include "common/json.h"
#include "common/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_dovecot_check(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "doveconf", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct command_result res;
	struct doveconf_report r;
	struct json j;
	const char *doveconf = "doveconf";
	char *cmd, *cause = NULL, *why;
	int ch, i, rc;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'd')
			return cli_bad_option(e, ch, argc, argv);
		doveconf = optarg;
	}
	if (optind != argc)
		return cli_usage(e, "unexpected argument '%s'", argv[optind]);
	cmd = xasprintf("%s -n", doveconf);
	rc = command_run(cmd, NULL, NULL, 30, 4 << 20, &res, &cause);
	if (rc != 0) {
		cli_error("cannot run '%s': %s", cmd, cause);
		free(cause);
		free(cmd);
		return EXIT_FAIL;
	}
	if (res.status != 0) {
		why = command_describe(&res);
		cli_error("'%s' %s; give the command that prints this "
		    "server's configuration with --doveconf (e.g. \"doveconf "
		    "-c /etc/dovecot/dovecot.conf\")", cmd, why);
		free(why);
		free(cmd);
		command_result_free(&res);
		return EXIT_FAIL;
	}
	free(cmd);
	doveconf_check(res.out, c->db, c->config.lock_grace, &r);
	command_result_free(&res);
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_int(&j, "problems", r.problems + (c->config.hook_after_lock
		    == NULL));
		json_array_open(&j, "checks");
	}
	for (i = 0; i < r.n; i++) {
		if (c->json) {
			json_object_open(&j, NULL);
			json_string(&j, "check", r.f[i].what);
			json_bool(&j, "ok", r.f[i].ok);
			json_string(&j, "text", r.f[i].text);
			json_object_close(&j);
		} else
			printf("%-8s %s: %s\n", r.f[i].ok ? "ok" : "PROBLEM",
			    r.f[i].what, r.f[i].text);
	}
	/* mailshift's own side: open sessions are ended at the cutover. */
	if (c->config.hook_after_lock == NULL)
		r.problems++;
	if (c->json) {
		json_object_open(&j, NULL);
		json_string(&j, "check", "kick hook");
		json_bool(&j, "ok", c->config.hook_after_lock != NULL);
		json_string(&j, "text", c->config.hook_after_lock ?
		    c->config.hook_after_lock : "[hooks] after_lock is not set");
		json_object_close(&j);
		json_array_close(&j);
		json_object_close(&j);
		json_end(&j);
	} else {
		if (c->config.hook_after_lock != NULL)
			printf("%-8s kick hook: after_lock = %s\n", "ok",
			    c->config.hook_after_lock);
		else
			printf("%-8s kick hook: [hooks] after_lock is not set: "
			    "open sessions keep writing to the old mailbox "
			    "during a cutover; set after_lock = doveadm kick -- %%u "
			    "|| [ $? -eq 68 ]\n", "PROBLEM");
		printf("%d problem%s\n", r.problems, r.problems == 1 ? "" :
		    "s");
	}
	rc = r.problems ? EXIT_FAIL : EXIT_OK;
	doveconf_report_free(&r);
	return rc;
}

const struct cmd_entry cmd_dovecot_check_entry = {
	"dovecot", "check", "[--doveconf COMMAND]",
	"check that Dovecot follows the catalog and honours its locks",
	cmd_dovecot_check
};
