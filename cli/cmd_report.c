/*
 * mailshift report usage|forecast|moves: capacity reports from the usage
 * snapshots and the move history, as a table, CSV, JSON or an HTML page.
 * This file reads the options and runs the command; the model is
 * report.c, the formats are report_table.c, report_csv.c, report_json.c
 * and report_html.c.
 */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "cli/outfile.h"
#include "cli/report.h"
#include "cli/report_write.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum report_format { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_HTML };
enum report_kind { KIND_USAGE, KIND_FORECAST, KIND_MOVES };

static const char *const format_names[] = { "table", "csv", "json", "html" };

struct report_opts {
	enum report_kind	 kind;
	enum report_format	 format;
	const char		*output;	/* -o FILE, or NULL */
	int			 tty;		/* draw fill bars */
};

/* Options. */

static int
name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], s) == 0)
			return (int)i;
	}
	return -1;
}

/* Parse the options of a report command; returns EXIT_OK or EXIT_USAGE. */
static int
report_options(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv, struct report *r, struct report_opts *o)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "by", required_argument, NULL, 'b' },
		{ "days", required_argument, NULL, 'd' },
		{ "target-fill", required_argument, NULL, 't' },
		{ "hard-limit", required_argument, NULL, 'H' },
		{ "slice-size", required_argument, NULL, 'S' },
		{ "slice-ops", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	const char *format = NULL, *since = NULL, *until = NULL, *by = NULL;
	const char *days = NULL, *target = NULL, *hard = NULL;
	const char *size = NULL, *ops = NULL;
	char *end, *why = NULL;
	unsigned long long u;
	long v;
	int ch, k;

	while ((ch = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'b':
			by = optarg;
			break;
		case 'd':
			days = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'H':
			hard = optarg;
			break;
		case 'S':
			size = optarg;
			break;
		case 'O':
			ops = optarg;
			break;
		default:
			return cli_bad_option(e, ch, argc, argv);
		}
	}
	if (optind != argc)
		return cli_usage(e, "unexpected argument '%s'", argv[optind]);

	o->format = c->json ? FMT_JSON : FMT_TABLE;
	if (format != NULL) {
		if ((k = name_index(format_names, 4, format)) < 0)
			return cli_usage(e, "unknown format '%s'; use table, "
			    "csv, json or html", format);
		if (c->json && k != FMT_JSON)
			return cli_usage(e, "--json and --format %s disagree; "
			    "give one of them", format);
		o->format = (enum report_format)k;
	}
	if (o->output != NULL && *o->output == '\0')
		return cli_usage(e, "-o needs a file name");

	if (o->kind == KIND_MOVES && (by != NULL || target != NULL ||
	    hard != NULL))
		return cli_usage(e, "%s applies to 'report usage' and 'report "
		    "forecast', not to moves", by != NULL ? "--by" :
		    target != NULL ? "--target-fill" : "--hard-limit");
	if (o->kind != KIND_FORECAST && (days != NULL || size != NULL ||
	    ops != NULL))
		return cli_usage(e, "%s applies to 'report forecast'", days !=
		    NULL ? "--days" : size != NULL ? "--slice-size" :
		    "--slice-ops");
	if (by != NULL && report_by_parse(by, &r->by) != 0)
		return cli_usage(e, "unknown --by '%s'; use slice, pair or "
		    "server", by);
	if (days != NULL) {
		errno = 0;
		v = strtol(days, &end, 10);
		if (end == days || *end != '\0' || errno != 0 || v < 1 ||
		    v > 36500)
			return cli_usage(e, "--days: give a number of days "
			    "from 1 to 36500, not '%s'", days);
		r->days = (int)v;
	}
	if (size != NULL) {
		if (size_parse(size, &r->slice_size, &why) != 0) {
			cli_usage(e, "--slice-size: %s", why);
			free(why);
			return EXIT_USAGE;
		}
		if (r->slice_size == 0)
			return cli_usage(e, "--slice-size: give the capacity "
			    "of a slice to add, e.g. 4T, not 0");
	}
	if (ops != NULL) {
		errno = 0;
		u = strtoull(ops, &end, 10);
		if (end == ops || *end != '\0' || errno != 0 || u == 0 ||
		    u > 1000000000 || *ops == '-')
			return cli_usage(e, "--slice-ops: give the ops per "
			    "second a slice to add serves at 100%% load, e.g. "
			    "1000, not '%s'", ops);
		r->slice_ops = u;
	}
	if (target != NULL && (percent_parse(target, &r->target) != 0 ||
	    !(r->target > 0)))
		return cli_usage(e, "--target-fill: give a percentage above 0 "
		    "and at most 100, e.g. 75, not '%s'", target);
	if (hard != NULL && (percent_parse(hard, &r->hard) != 0 ||
	    !(r->hard > 0)))
		return cli_usage(e, "--hard-limit: give a percentage above 0 "
		    "and at most 100, e.g. 90, not '%s'", hard);
	if (r->target > r->hard)
		return cli_usage(e, "--target-fill (%g%%) is above "
		    "--hard-limit (%g%%)", r->target * 100, r->hard * 100);
	if (since != NULL && time_parse(since, r->now, 0, &r->since) != 0)
		return cli_usage(e, "--since: bad time '%s'; give a date "
		    "(2026-11-01), a UTC time (2026-11-01T00:00:00Z) or an "
		    "age (30d, 12h, 2w)", since);
	if (until != NULL && time_parse(until, r->now, TIME_DAY_END,
	    &r->until) != 0)
		return cli_usage(e, "--until: bad time '%s'; give a date "
		    "(2026-11-01), a UTC time (2026-11-01T00:00:00Z) or an "
		    "age (30d, 12h, 2w)", until);
	if (r->since > r->until)
		return cli_usage(e, "--since %s is after --until %s", since,
		    until);
	o->tty = o->format == FMT_TABLE && o->output == NULL &&
	    isatty(STDOUT_FILENO);
	return EXIT_OK;
}

/* The commands. */

static int
report_run(struct cli *c, const struct cmd_entry *e, int argc, char **argv,
    enum report_kind kind)
{
	struct report_opts o;
	struct report r;
	struct state *st;
	struct outfile out;
	char *cause = NULL;
	int rc;

	report_init(&r, now_unix());
	report_configure(&r, &c->config);
	memset(&o, 0, sizeof o);
	o.kind = kind;
	if ((rc = report_options(c, e, argc, argv, &r, &o)) != EXIT_OK)
		return rc;
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if ((kind == KIND_MOVES ? report_moves_build(st, &r, &cause) :
	    report_capacity_build(st, &r, o.format == FMT_HTML, &cause)) != 0 ||
	    outfile_open(&out, o.output, &cause) != 0) {
		report_free(&r);
		return cli_fail(cause);
	}
	switch (o.format) {
	case FMT_TABLE:
		if (kind == KIND_USAGE)
			report_table_usage(out.f, &r, o.tty);
		else if (kind == KIND_FORECAST)
			report_table_forecast(out.f, &r);
		else
			report_table_moves(out.f, &r);
		break;
	case FMT_CSV:
		if (kind == KIND_MOVES)
			report_csv_moves(out.f, &r);
		else
			report_csv_capacity(out.f, &r, kind == KIND_FORECAST);
		break;
	case FMT_JSON:
		if (kind == KIND_MOVES)
			report_json_moves(out.f, &r);
		else
			report_json_capacity(out.f, &r, kind == KIND_FORECAST);
		break;
	case FMT_HTML:
		if (kind == KIND_MOVES)
			report_html_moves(out.f, &r);
		else
			report_html_capacity(out.f, &r, kind == KIND_FORECAST);
		break;
	}
	rc = outfile_close(&out, &cause) == 0 ? EXIT_OK : cli_fail(cause);
	if (rc == EXIT_OK && o.output != NULL && !c->json)
		printf("%s report written to %s\n", format_names[o.format],
		    o.output);
	report_free(&r);
	return rc;
}

static int
cmd_report_usage(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	return report_run(c, e, argc, argv, KIND_USAGE);
}

static int
cmd_report_forecast(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	return report_run(c, e, argc, argv, KIND_FORECAST);
}

static int
cmd_report_moves(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	return report_run(c, e, argc, argv, KIND_MOVES);
}

const struct cmd_entry cmd_report_usage_entry = {
	"report", "usage", "[--by slice|pair|server] [--since TIME] "
	"[--until TIME] [--target-fill PCT] [--hard-limit PCT] "
	"[--format table|csv|json|html] [-o FILE]",
	"fill, load, growth, evacuation and restore time per slice, pair or "
	"server", cmd_report_usage
};
const struct cmd_entry cmd_report_forecast_entry = {
	"report", "forecast", "[--days N] [--by slice|pair|server] "
	"[--since TIME] [--until TIME] [--target-fill PCT] [--hard-limit PCT] "
	"[--slice-size SIZE] [--slice-ops N] "
	"[--format table|csv|json|html] [-o FILE]",
	"when slices fill up in bytes and load, and the slices to add",
	cmd_report_forecast
};
const struct cmd_entry cmd_report_moves_entry = {
	"report", "moves", "[--since TIME] [--until TIME] "
	"[--format table|csv|json|html] [-o FILE]",
	"moves in a time range: sizes, rates, lock times, failures",
	cmd_report_moves
};
