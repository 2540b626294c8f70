/* mailshift discover: find accounts on slices and record their sizes. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "migrator/discover.h"
#include "common/json.h"
#include "cli/output.h"
#include "state/state.h"
#include "common/util.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

struct discover_out {
	struct cli	*c;
	int		 verbose;
	int		 tty;		/* progress on stderr */
	struct json	 j;
	struct table	*accounts;	/* verbose table */
	struct table	*slices;
	int		 in_problems;
};

static void
out_account(void *arg, const char *slice, const char *user, const char *path,
    const struct maildir_usage *u, const char *outcome)
{
	struct discover_out *o = arg;
	char files[32], bytes[32];

	if (!o->verbose || o->c->json)
		return;
	snprintf(files, sizeof files, "%llu", (unsigned long long)u->files);
	size_format(u->bytes, bytes, sizeof bytes);
	table_add(o->accounts, (const char *[]){ slice, user, path, outcome,
	    files, bytes, u->from_maildirsize ? "maildirsize" : "counted",
	    u->why_counted ? u->why_counted : "" });
}

static void
out_problem(void *arg, const char *kind, const char *slice, const char *path,
    const char *message)
{
	struct discover_out *o = arg;

	if (o->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "mailshift: %s: slice %s: %s: %s\n", kind, slice,
	    path, message);
}

static void
out_warning(void *arg, const char *slice, const char *message)
{
	struct discover_out *o = arg;

	if (o->tty)
		fputs("\r\033[K", stderr);
	if (slice != NULL)
		fprintf(stderr, "mailshift: warning: load of slice %s not "
		    "measured: %s\n", slice, message);
	else
		fprintf(stderr, "mailshift: warning: load not measured: %s\n",
		    message);
}

static void
out_progress(void *arg, const char *slice, uint64_t accounts, uint64_t files)
{
	struct discover_out *o = arg;

	if (o->tty)
		fprintf(stderr, "\r\033[Kdiscover %s: %llu accounts, %llu "
		    "files", slice, (unsigned long long)accounts,
		    (unsigned long long)files);
}

static void
out_slice(void *arg, const struct discover_slice_stats *s)
{
	struct discover_out *o = arg;
	char v[11][32];

	if (o->c->json) {
		json_object_open(&o->j, NULL);
		json_string(&o->j, "slice", s->slice);
		json_uint(&o->j, "accounts", s->accounts);
		json_uint(&o->j, "added", s->added);
		json_uint(&o->j, "updated", s->updated);
		json_uint(&o->j, "in_move", s->in_move);
		json_uint(&o->j, "missing", s->missing);
		json_uint(&o->j, "conflicts", s->conflicts);
		json_uint(&o->j, "leftover", s->leftover);
		json_uint(&o->j, "refused", s->refused);
		json_uint(&o->j, "files", s->files);
		json_uint(&o->j, "bytes", s->bytes);
		json_uint(&o->j, "from_maildirsize", s->from_maildirsize);
		json_uint(&o->j, "counted", s->counted);
		json_uint(&o->j, "added_files", s->added_files);
		json_uint(&o->j, "added_bytes", s->added_bytes);
		json_object_close(&o->j);
		return;
	}
	snprintf(v[0], 32, "%llu", (unsigned long long)s->accounts);
	snprintf(v[1], 32, "%llu", (unsigned long long)s->added);
	snprintf(v[2], 32, "%llu", (unsigned long long)s->updated);
	snprintf(v[3], 32, "%llu", (unsigned long long)s->missing);
	snprintf(v[4], 32, "%llu", (unsigned long long)s->conflicts);
	snprintf(v[10], 32, "%llu", (unsigned long long)s->refused);
	snprintf(v[5], 32, "%llu", (unsigned long long)s->files);
	snprintf(v[6], 32, "%llu", (unsigned long long)s->bytes);
	size_format(s->bytes, v[7], 32);
	snprintf(v[8], 32, "%llu", (unsigned long long)s->from_maildirsize);
	snprintf(v[9], 32, "%llu", (unsigned long long)s->counted);
	table_add(o->slices, (const char *[]){ s->slice, v[0], v[1], v[2],
	    v[3], v[4], v[10], v[5], v[6], v[7], v[8], v[9] });
}

static int
cmd_discover(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "count", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct discover_out o;
	struct discover_report r = {
		.arg = &o, .account = out_account, .problem = out_problem,
		.progress = out_progress, .slice_done = out_slice,
		.warning = out_warning
	};
	struct layout *layout;
	struct state *st;
	uint64_t problems = 0;
	char *cause = NULL;
	int ch, trust = c->config.trust_maildirsize, i;

	memset(&o, 0, sizeof o);
	o.c = c;
	while ((ch = getopt_long(argc, argv, ":v", opts, NULL)) != -1) {
		if (ch == 'c')
			trust = 0;
		else if (ch == 'v')
			o.verbose = 1;
		else
			return cli_bad_option(e, ch, argc, argv);
	}
	for (i = optind; i < argc; i++) {
		if (!cli_name_ok(argv[i]))
			return cli_usage(e, "bad slice name '%s'", argv[i]);
	}
	if ((layout = cli_layout(c)) == NULL ||
	    (st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	o.tty = isatty(STDERR_FILENO);
	if (c->json) {
		json_init(&o.j, stdout);
		json_object_open(&o.j, NULL);
		json_array_open(&o.j, "slices");
	} else {
		o.slices = table_new(12, (const char *[]){ "SLICE", "ACCOUNTS",
		    "NEW", "UPDATED", "MISSING", "CONFLICTS", "REFUSED",
		    "FILES", "BYTES", "SIZE", "MAILDIRSIZE", "COUNTED" },
		    "lrrrrrrrrrrr");
		if (o.verbose)
			o.accounts = table_new(8, (const char *[]){ "SLICE",
			    "USER", "PATH", "OUTCOME", "FILES", "SIZE",
			    "SIZES FROM", "WHY COUNTED" }, "llllrrll");
	}
	if (discover_run(st, layout, trust, argv + optind, argc - optind,
	    c->config.proc_root, &r, &problems, &cause) != 0) {
		if (o.tty)
			fputs("\r\033[K", stderr);
		table_free(o.slices);
		table_free(o.accounts);
		return cli_fail(cause);
	}
	if (o.tty)
		fputs("\r\033[K", stderr);
	if (c->json) {
		json_array_close(&o.j);
		json_uint(&o.j, "problems", problems);
		json_string(&o.j, "layout", c->config.layout);
		json_object_close(&o.j);
		json_end(&o.j);
	} else {
		if (o.accounts != NULL) {
			table_print(o.accounts, stdout);
			putchar('\n');
		}
		table_print(o.slices, stdout);
	}
	if (problems > 0) {
		cli_error("%llu problem%s attention (listed above); the "
		    "rest was recorded", (unsigned long long)problems,
		    problems == 1 ? " needs" : "s need");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_discover_entry = {
	"discover", NULL, "[--count] [-v] [SLICE...]",
	"find accounts on slices and record their files and bytes",
	cmd_discover
};
