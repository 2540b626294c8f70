/* The mailshift command: global options and dispatch to the command table. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/layout.h"
#include "state/state.h"
#include "common/util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAILSHIFT_VERSION "0.1.0"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_init_entry,
	&cmd_catalog_copy_entry,
	&cmd_server_add_entry,
	&cmd_server_list_entry,
	&cmd_server_show_entry,
	&cmd_pair_add_entry,
	&cmd_pair_list_entry,
	&cmd_slice_add_entry,
	&cmd_slice_list_entry,
	&cmd_slice_show_entry,
	&cmd_slice_set_entry,
	&cmd_slice_failover_entry,
	&cmd_discover_entry,
	&cmd_account_list_entry,
	&cmd_account_show_entry,
	&cmd_account_import_entry,
	&cmd_account_restore_entry,
	&cmd_account_pin_entry,
	&cmd_account_carry_entry,
	&cmd_account_unpin_entry,
	&cmd_route_entry,
	&cmd_move_entry,
	&cmd_moves_list_entry,
	&cmd_moves_show_entry,
	&cmd_moves_cancel_entry,
	&cmd_moves_complete_entry,
	&cmd_moves_pause_entry,
	&cmd_moves_resume_entry,
	&cmd_moves_run_entry,
	&cmd_moves_purge_entry,
	&cmd_plan_balance_entry,
	&cmd_plan_drain_entry,
	&cmd_plan_fill_entry,
	&cmd_plan_apply_entry,
	&cmd_plan_list_entry,
	&cmd_daemon_entry,
	&cmd_presence_entry,
	&cmd_status_entry,
	&cmd_report_usage_entry,
	&cmd_report_forecast_entry,
	&cmd_report_moves_entry,
	&cmd_dovecot_check_entry,
	NULL
};

int
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mailshift: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int
cli_fail(char *cause)
{
	cli_error("%s", cause ? cause : "failed");
	free(cause);
	return EXIT_FAIL;
}

static void
print_usage(FILE *f, const struct cmd_entry *e)
{
	fprintf(f, "usage: mailshift %s%s%s%s%s\n", e->name,
	    e->sub ? " " : "", e->sub ? e->sub : "", *e->usage ? " " : "",
	    e->usage);
}

int
cli_usage(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fputs("mailshift: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr, e);
	return EXIT_USAGE;
}

/* The command-line word of the option getopt_long just refused. */
static const char *
bad_word(int argc, char **argv, char *buf, size_t len)
{
	const char *w = optind - 1 >= 1 && optind - 1 < argc ?
	    argv[optind - 1] : NULL;
	size_t n;

	if (w != NULL && strncmp(w, "--", 2) == 0)
		return w;
	/* A short option: the word is finished (optind is past it) when
	 * the option was its last letter, else getopt is still inside it. */
	if (w != NULL && w[0] == '-' && (n = strlen(w)) > 1 &&
	    w[n - 1] == optopt)
		return w;
	if (optind < argc && argv[optind][0] == '-' && optopt != 0 &&
	    strchr(argv[optind] + 1, optopt) != NULL)
		return argv[optind];
	snprintf(buf, len, "-%c", optopt);
	return buf;
}

int
cli_bad_option(const struct cmd_entry *e, int ch, int argc, char **argv)
{
	char buf[8];
	const char *w = bad_word(argc, argv, buf, sizeof buf);
	int n = (int)strcspn(w, "=");

	if (ch == ':')
		return cli_usage(e, "option %.*s needs a value", n, w);
	if (*e->usage == '\0')
		return cli_usage(e, "unknown option '%.*s'", n, w);
	return cli_usage(e, "unknown option '%.*s'; an argument that starts "
	    "with '-' goes after '--' (mailshift %s%s%s [OPTIONS] -- %s)", n,
	    w, e->name, e->sub ? " " : "", e->sub ? e->sub : "", w);
}

int
cli_operands(const struct cmd_entry *e, int *argc, char ***argv)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	int ch;

	opterr = 0;
	optind = 1;
	if ((ch = getopt_long(*argc, *argv, ":", none, NULL)) != -1)
		return cli_bad_option(e, ch, *argc, *argv);
	(*argv)[optind - 1] = (*argv)[0];
	*argv += optind - 1;
	*argc -= optind - 1;
	return 0;
}

int
cli_operand_count(const struct cmd_entry *e, int argc, char **argv,
    int first, const char *what)
{
	int i;

	for (i = first; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
			return cli_usage(e, "give one %s; '%s' comes after "
			    "'--', which ends the options: put the options "
			    "first", what, argv[i]);
	}
	return cli_usage(e, "give one %s", what);
}

int
cli_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (i > 0 && (c == '.' ||
		    c == '_' || c == '-'))))
			return 0;
	}
	return 1;
}

struct state *
cli_state(struct cli *c, int create)
{
	char *cause = NULL;
	int found;

	if (c->state != NULL)
		return c->state;
	if ((c->state = state_open(c->db, create, &cause)) == NULL) {
		cli_fail(cause);
		return NULL;
	}
	found = state_version_found(c->state);
	if (found > 0 && found < STATE_SCHEMA_VERSION)
		fprintf(stderr, "mailshift: upgraded catalog %s from schema "
		    "version %d to %d\n", state_name(c->state), found,
		    STATE_SCHEMA_VERSION);
	return c->state;
}

struct layout *
cli_layout(struct cli *c)
{
	char *cause = NULL;

	if (c->layout == NULL &&
	    (c->layout = layout_parse(c->config.layout, &cause)) == NULL)
		cli_fail(cause);
	return c->layout;
}

static void
help(FILE *f)
{
	const struct cmd_entry *const *e;
	char left[64];

	fprintf(f, "usage: mailshift [--config FILE] [--db FILE] [--json] "
	    "COMMAND [ARGS]\n\nmailshift moves Maildir++ accounts between "
	    "storage slices while the service stays up.\n\ncommands:\n");
	for (e = cmd_table; *e != NULL; e++) {
		snprintf(left, sizeof left, "%s%s%s", (*e)->name,
		    (*e)->sub ? " " : "", (*e)->sub ? (*e)->sub : "");
		fprintf(f, "  %-16s %s\n", left, (*e)->help);
	}
	fprintf(f, "\nglobal options:\n"
	    "  --config FILE    config file (default %s, env MAILSHIFT_CONFIG)\n"
	    "  --db CATALOG     catalog: an SQLite file, or a PostgreSQL URL\n"
	    "                   or conninfo (env MAILSHIFT_DB; default from "
	    "the config)\n"
	    "  --json           print listings as JSON\n"
	    "  --help, --version\n\n"
	    "exit status: 0 ok, 1 operation failed, 2 usage error\n",
	    CONFIG_DEFAULT_FILE);
}

/*
 * Take the global options out of argv wherever they stand (before "--"),
 * so that "mailshift slice list --json" works as well as the other order.
 */
static int
global_options(int *argc, char **argv, const char **config, const char **db,
    int *json, int *want_help)
{
	int i, o = 0, n = *argc;
	const char *v;

	for (i = 0; i < n; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < n)
				argv[o++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0) {
			*json = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*want_help = 1;
			continue;
		}
		if (strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0) {
			if (i + 1 == n) {
				cli_error("option %s needs a file name", a);
				return -1;
			}
			v = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0)
			v = a + 9;
		else if (strncmp(a, "--db=", 5) == 0)
			v = a + 5;
		else {
			argv[o++] = argv[i];
			continue;
		}
		if (*v == '\0') {
			cli_error("option %.8s needs a file name", a);
			return -1;
		}
		if (strncmp(a, "--config", 8) == 0)
			*config = v;
		else
			*db = v;
	}
	argv[o] = NULL;
	*argc = o;
	return 0;
}

/* Find the command for argv; sets *family when only the name matched. */
static const struct cmd_entry *
lookup(int argc, char **argv, int *family)
{
	const struct cmd_entry *const *e;

	*family = 0;
	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, argv[0]) != 0)
			continue;
		*family = 1;
		if ((*e)->sub == NULL)
			return *e;
		if (argc > 1 && strcmp((*e)->sub, argv[1]) == 0)
			return *e;
	}
	return NULL;
}

/* Usage of every command of a family, for "mailshift slice". */
static void
family_usage(const char *name)
{
	const struct cmd_entry *const *e;

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0)
			print_usage(stderr, *e);
	}
}

int
main(int argc, char **argv)
{
	const struct cmd_entry *e;
	const char *config = NULL, *db = NULL, *env;
	struct cli c;
	char *cause = NULL;
	int json = 0, want_help = 0, family, rc, required = 1, skip;

	memset(&c, 0, sizeof c);
	argc--;
	argv++;
	if (global_options(&argc, argv, &config, &db, &json, &want_help) != 0)
		return EXIT_USAGE;
	if (argc > 0 && strcmp(argv[0], "--version") == 0) {
		printf("mailshift %s\n", MAILSHIFT_VERSION);
		return EXIT_OK;
	}
	if (argc == 0 || strcmp(argv[0], "help") == 0) {
		help(argc == 0 && !want_help ? stderr : stdout);
		return argc == 0 && !want_help ? EXIT_USAGE : EXIT_OK;
	}
	if ((e = lookup(argc, argv, &family)) == NULL) {
		if (!family) {
			cli_error("unknown command '%s'; see 'mailshift help'",
			    argv[0]);
			return EXIT_USAGE;
		}
		if (argc > 1 && !want_help)
			cli_error("unknown command '%s %s'", argv[0], argv[1]);
		family_usage(argv[0]);
		return want_help ? EXIT_OK : EXIT_USAGE;
	}
	if (want_help) {
		print_usage(stdout, e);
		printf("%s\n", e->help);
		return EXIT_OK;
	}

	config_defaults(&c.config);
	if (config == NULL && (env = getenv("MAILSHIFT_CONFIG")) != NULL &&
	    *env != '\0')
		config = env;
	if (config == NULL) {
		config = CONFIG_DEFAULT_FILE;
		required = 0;
	}
	if (config_load(config, required, &c.config, &cause) != 0) {
		fprintf(stderr, "%s\nmailshift: the config has errors; fix "
		    "them and try again\n", cause);
		free(cause);
		config_free(&c.config);
		return EXIT_FAIL;
	}
	if (db == NULL && (env = getenv("MAILSHIFT_DB")) != NULL &&
	    *env != '\0')
		db = env;
	c.db = db != NULL ? db : c.config.catalog;
	c.json = json;

	/* Commands report bad options themselves, in one line. */
	opterr = 0;
	skip = e->sub != NULL ? 1 : 0;
	rc = e->exec(&c, e, argc - skip, argv + skip);

	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = cli_error("cannot write output");
	state_close(c.state);
	layout_free(c.layout);
	config_free(&c.config);
	return rc;
}
