/* mailshift plan balance|drain|fill and plan apply|list|show: rebalances. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "common/layout.h"
#include "cli/output.h"
#include "cli/plan_fleet.h"
#include "planner/planner.h"
#include "state/state.h"
#include "state/fleet.h"
#include "state/plan.h"
#include "state/slice.h"
#include "common/util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Print a plan (preview) as tables or JSON; users come from the catalog. */
static void
print_plan(struct cli *c, int64_t id, const char *strategy,
    const struct fleet *f, const struct planner_result *r,
    const struct state_plan_move *pm, size_t n)
{
	struct table *t;
	struct json j;
	char a[32], b[32], x[32], y[32], lx[32], ly[32], seq[24], after[24];
	size_t i;
	double ratio = r->lower_bound ? (double)r->bytes /
	    (double)r->lower_bound : 0;
	int load = r->load_after != NULL;

	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_int(&j, "plan", id);
		json_string(&j, "strategy", strategy);
		json_array_open(&j, "moves");
		for (i = 0; i < n; i++) {
			json_object_open(&j, NULL);
			json_int(&j, "seq", pm[i].seq);
			json_string(&j, "user", pm[i].user);
			json_string(&j, "from", pm[i].from);
			json_string(&j, "to", pm[i].to);
			json_uint(&j, "bytes", pm[i].bytes);
			json_uint(&j, "files", pm[i].files);
			if (pm[i].after_seq > 0)
				json_int(&j, "after", pm[i].after_seq);
			else
				json_null(&j, "after");
			if (load && i < r->nmoves)
				json_double(&j, "load", r->moves[i].load);
			json_object_close(&j);
		}
		json_array_close(&j);
		json_array_open(&j, "slices");
		for (i = 0; i < f->ns; i++) {
			json_object_open(&j, NULL);
			json_string(&j, "slice", f->names[i]);
			json_string(&j, "state", f->states[i]);
			json_uint(&j, "capacity", f->s[i].capacity);
			json_double(&j, "fill_before", r->fill_before[i]);
			json_double(&j, "fill_after", r->fill_after[i]);
			if (load && f->measured[i]) {
				json_double(&j, "load", f->s[i].load);
				json_double(&j, "ops_capacity",
				    f->s[i].ops_capacity);
				json_double(&j, "load_before",
				    r->load_before[i]);
				json_double(&j, "load_after", r->load_after[i]);
			} else if (load) {
				json_null(&j, "load");
				json_double(&j, "ops_capacity",
				    f->s[i].ops_capacity);
			}
			json_object_close(&j);
		}
		json_array_close(&j);
		json_object_open(&j, "summary");
		json_uint(&j, "moves", r->nmoves);
		json_uint(&j, "bytes", r->bytes);
		json_uint(&j, "files", r->files);
		json_uint(&j, "lower_bound", r->lower_bound);
		json_double(&j, "bytes_over_lower_bound", ratio);
		json_uint(&j, "unmet", r->unmet);
		json_double(&j, "mean_fill", r->mean_fill);
		json_double(&j, "band_low", r->band_low);
		json_double(&j, "band_high", r->band_high);
		json_double(&j, "min_before", r->min_before);
		json_double(&j, "max_before", r->max_before);
		json_double(&j, "stddev_before", r->stddev_before);
		json_double(&j, "min_after", r->min_after);
		json_double(&j, "max_after", r->max_after);
		json_double(&j, "stddev_after", r->stddev_after);
		json_bool(&j, "band_reached", r->band_reached);
		json_string(&j, "by", load ? "both" : "bytes");
		if (load) {
			json_uint(&j, "slices_measured", f->nmeasured);
			json_double(&j, "load_moved", r->load);
			json_double(&j, "load_lower_bound",
			    r->load_lower_bound);
			json_uint(&j, "load_lower_bytes", r->load_lower_bytes);
			json_uint(&j, "both_lower_bytes", r->both_lower_bytes);
			json_double(&j, "bytes_over_both_lower_bound",
			    r->both_lower_bytes ? (double)r->bytes /
			    (double)r->both_lower_bytes : 0);
			json_double(&j, "load_unmet", r->load_unmet);
			json_double(&j, "load_mean", r->load_mean);
			json_double(&j, "load_band_low", r->load_band_low);
			json_double(&j, "load_band_high", r->load_band_high);
			json_double(&j, "load_min_before", r->load_min_before);
			json_double(&j, "load_max_before", r->load_max_before);
			json_double(&j, "load_stddev_before",
			    r->load_stddev_before);
			json_double(&j, "load_min_after", r->load_min_after);
			json_double(&j, "load_max_after", r->load_max_after);
			json_double(&j, "load_stddev_after",
			    r->load_stddev_after);
			json_bool(&j, "load_band_reached",
			    r->load_band_reached);
		}
		json_object_close(&j);
		json_object_close(&j);
		json_end(&j);
		return;
	}
	if (n > 0) {
		t = table_new(6, (const char *[]){ "SEQ", "ACCOUNT", "FROM",
		    "TO", "SIZE", "AFTER" }, "rlllrr");
		for (i = 0; i < n; i++) {
			snprintf(seq, sizeof seq, "%lld",
			    (long long)pm[i].seq);
			snprintf(after, sizeof after, "%lld",
			    (long long)pm[i].after_seq);
			table_add(t, (const char *[]){ seq, pm[i].user,
			    pm[i].from, pm[i].to, size_format(pm[i].bytes, a,
			    sizeof a), pm[i].after_seq ? after : "-" });
		}
		table_print(t, stdout);
		putchar('\n');
	}
	t = table_new(load ? 7 : 5, (const char *[]){ "SLICE", "STATE",
	    "CAPACITY", "FILL BEFORE", "FILL AFTER", "LOAD BEFORE",
	    "LOAD AFTER" }, "llrrrrr");
	for (i = 0; i < f->ns; i++) {
		snprintf(x, sizeof x, "%.1f%%", 100 * r->fill_before[i]);
		snprintf(y, sizeof y, "%.1f%%", 100 * r->fill_after[i]);
		snprintf(lx, sizeof lx, "%.1f%%", load ? 100 *
		    r->load_before[i] : 0);
		snprintf(ly, sizeof ly, "%.1f%%", load ? 100 *
		    r->load_after[i] : 0);
		table_add(t, (const char *[]){ f->names[i], f->states[i],
		    size_format(f->s[i].capacity, a, sizeof a), x, y,
		    load && f->measured[i] ? lx : "-",
		    load && (f->measured[i] || r->load_after[i] > 0) ? ly :
		    "-" });
	}
	table_print(t, stdout);
	printf("\n%zu moves, %s in %llu files; lower bound %s (%.2fx)\n",
	    r->nmoves, size_format(r->bytes, a, sizeof a),
	    (unsigned long long)r->files,
	    size_format(r->lower_bound, b, sizeof b), ratio);
	printf("fill before: min %.1f%% max %.1f%% stddev %.2f; after: min "
	    "%.1f%% max %.1f%% stddev %.2f; band %.1f%%..%.1f%% %s\n",
	    100 * r->min_before, 100 * r->max_before, 100 * r->stddev_before,
	    100 * r->min_after, 100 * r->max_after, 100 * r->stddev_after,
	    100 * r->band_low, 100 * r->band_high, r->band_reached ?
	    "reached" : "not reached");
	if (!load)
		return;
	if (f->nmeasured == 0) {
		printf("load: no slice has a load measurement yet (discover "
		    "and the daemon record it); planned by fill alone\n");
		return;
	}
	printf("load before: min %.1f%% max %.1f%% stddev %.2f; after: min "
	    "%.1f%% max %.1f%% stddev %.2f; band %.1f%%..%.1f%% %s\n",
	    100 * r->load_min_before, 100 * r->load_max_before,
	    100 * r->load_stddev_before, 100 * r->load_min_after,
	    100 * r->load_max_after, 100 * r->load_stddev_after,
	    100 * r->load_band_low, 100 * r->load_band_high,
	    r->load_band_reached ? "reached" : "not reached");
	printf("load moved %.1f ops/s; lower bound %.1f ops/s, carried by at "
	    "least %s (%.2fx); both bands: at least %s (%.2fx)\n", r->load,
	    r->load_lower_bound, size_format(r->load_lower_bytes, a,
	    sizeof a), r->load_lower_bytes ? (double)r->bytes /
	    (double)r->load_lower_bytes : 0, size_format(r->both_lower_bytes,
	    b, sizeof b), r->both_lower_bytes ? (double)r->bytes /
	    (double)r->both_lower_bytes : 0);
	if (f->nmeasured < f->ns)
		printf("load: %zu of %zu slices have no load measurement and "
		    "count as idle\n", f->ns - f->nmeasured, f->ns);
}

/* Queue the moves of stored plan id. */
static int
apply_plan(struct cli *c, struct state *st, int64_t id, const char *drain)
{
	struct state_plan_move *pm;
	struct layout *layout;
	char **paths, buf[MS_PATH_MAX], *cause = NULL;
	size_t n, i;
	int rc = EXIT_FAIL;

	if ((layout = cli_layout(c)) == NULL)
		return EXIT_FAIL;
	if (state_plan_moves(st, id, &pm, &n, &cause) != 0)
		return cli_fail(cause);
	paths = xcalloc(n ? n : 1, sizeof *paths);
	for (i = 0; i < n; i++) {
		if (layout_expand(layout, pm[i].user, buf, sizeof buf,
		    &cause) != 0) {
			cli_fail(cause);
			goto out;
		}
		paths[i] = xstrdup(buf);
	}
	if (state_plan_apply(st, id, paths, drain, &cause) != 0) {
		cli_fail(cause);
		goto out;
	}
	if (!c->json)
		printf("plan %lld applied: %zu moves queued%s%s%s\n",
		    (long long)id, n, drain ? "; slice " : "", drain ? drain :
		    "", drain ? " is draining" : "");
	rc = EXIT_OK;
out:
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	state_plan_moves_free(pm, n);
	return rc;
}

static int
cmd_plan(struct cli *c, const struct cmd_entry *e, int argc, char **argv,
    enum planner_strategy strategy)
{
	static const struct option opts[] = {
		{ "band", required_argument, NULL, 'b' },
		{ "target-fill", required_argument, NULL, 't' },
		{ "hard-limit", required_argument, NULL, 'H' },
		{ "other-pair", no_argument, NULL, 'o' },
		{ "max-moves", required_argument, NULL, 'm' },
		{ "max-bytes", required_argument, NULL, 'x' },
		{ "min-gain", required_argument, NULL, 'g' },
		{ "apply", no_argument, NULL, 'a' },
		{ "by", required_argument, NULL, 'B' },
		{ "load-band", required_argument, NULL, 'L' },
		{ "load-target", required_argument, NULL, 'T' },
		{ "load-hard-limit", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const names[] = { "balance", "drain", "fill" };
	struct planner_options po;
	struct planner_result r;
	struct state_plan_move *pm = NULL;
	struct state *st;
	struct fleet f;
	struct json j;
	char *cause = NULL, *end, *summary;
	const char *slice = NULL;
	int64_t id;
	size_t i, n = 0;
	int ch, apply = 0, rc = EXIT_FAIL, gain_given = 0;
	uint64_t total = 0;

	planner_options_default(&po);
	po.strategy = strategy;
	po.now = now_unix();
	po.by_load = 1;
	po.load_target = (double)c->config.load_target / 100;
	po.load_hard = (double)c->config.load_hard_limit / 100;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (percent_parse(optarg, &po.band) != 0 ||
			    !(po.band > 0))
				return cli_usage(e, "--band: give percentage "
				    "points, e.g. 2");
			break;
		case 't':
			if (percent_parse(optarg, &po.target_fill) != 0 ||
			    !(po.target_fill > 0))
				return cli_usage(e, "--target-fill: give a "
				    "percentage, e.g. 75");
			break;
		case 'H':
			if (percent_parse(optarg, &po.hard_limit) != 0 ||
			    !(po.hard_limit > 0))
				return cli_usage(e, "--hard-limit: give a "
				    "percentage, e.g. 90");
			break;
		case 'o':
			po.other_pair = 1;
			break;
		case 'm':
			po.max_moves = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0')
				return cli_usage(e, "--max-moves: give a whole "
				    "number");
			break;
		case 'g':
			gain_given = 1;
			/* FALLTHROUGH */
		case 'x':
			if (size_parse(optarg, ch == 'x' ? &po.max_bytes :
			    &po.min_gain, &cause) != 0) {
				cli_usage(e, "%s", cause);
				free(cause);
				return EXIT_USAGE;
			}
			break;
		case 'a':
			apply = 1;
			break;
		case 'B':
			if (strcmp(optarg, "bytes") == 0)
				po.by_load = 0;
			else if (strcmp(optarg, "both") == 0)
				po.by_load = 1;
			else
				return cli_usage(e, "--by '%s': use bytes "
				    "(fill only) or both (fill and load)",
				    optarg);
			break;
		case 'L':
			if (percent_parse(optarg, &po.load_band) != 0 ||
			    !(po.load_band > 0 && po.load_band < 0.5))
				return cli_usage(e, "--load-band: give "
				    "percentage points of ops capacity, e.g. 5");
			break;
		case 'T':
		case 'M':
			if (percent_parse(optarg, ch == 'T' ? &po.load_target :
			    &po.load_hard) != 0 || !((ch == 'T' ?
			    po.load_target : po.load_hard) > 0))
				return cli_usage(e, "--load-%s: give a "
				    "percentage of ops capacity, e.g. %s",
				    ch == 'T' ? "target" : "hard-limit",
				    ch == 'T' ? "75" : "90");
			break;
		default:
			return cli_bad_option(e, ch, argc, argv);
		}
	}
	if (strategy == PLANNER_BALANCE && optind != argc)
		return cli_usage(e, "balance takes no slice");
	if (strategy != PLANNER_BALANCE) {
		if (argc - optind != 1)
			return cli_usage(e, "give one slice");
		slice = argv[optind];
	}
	if (po.target_fill > po.hard_limit)
		return cli_usage(e, "--target-fill is above --hard-limit");
	if (po.load_target > po.load_hard || po.load_hard > 1)
		return cli_usage(e, "--load-target is above --load-hard-limit, "
		    "or the hard limit above 100");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (fleet_load(st, &c->config, po.now, &f, &cause) != 0) {
		fleet_free(&f);
		return cli_fail(cause);
	}
	/* A gain too small to move for: 1 MiB of imbalance, less on a
	 * small fleet (a hundred-thousandth of its capacity). */
	for (i = 0; i < f.ns; i++)
		total += f.s[i].capacity;
	if (!gain_given && total / 100000 < po.min_gain)
		po.min_gain = total / 100000;
	if (slice != NULL && (po.slice = fleet_slice_index(&f, slice)) ==
	    (size_t)-1) {
		fleet_free(&f);
		return cli_error("slice '%s' not found; see 'mailshift slice "
		    "list'", slice);
	}
	if (planner_run(f.s, f.ns, f.a, f.na, &po, &r, &cause) != 0) {
		fleet_free(&f);
		cli_error("no plan: %s", cause);
		free(cause);
		return EXIT_FAIL;
	}
	pm = xcalloc(r.nmoves ? r.nmoves : 1, sizeof *pm);
	for (i = 0; i < r.nmoves; i++) {
		const struct planner_move *mv = &r.moves[i];

		pm[i].seq = (int64_t)i + 1;
		pm[i].account_id = f.a[mv->account].id;
		pm[i].from_slice = f.s[mv->from].id;
		pm[i].to_slice = f.s[mv->to].id;
		pm[i].bytes = mv->bytes;
		pm[i].files = mv->files;
		pm[i].after_seq = mv->after >= 0 ? mv->after + 1 : 0;
	}
	summary = xasprintf("{\"moves\":%zu,\"bytes\":%llu,\"lower_bound\":"
	    "%llu,\"band_reached\":%s,\"load\":%.3f,\"load_lower_bound\":"
	    "%.3f,\"both_lower_bound\":%llu,\"load_band_reached\":%s}",
	    r.nmoves, (unsigned long long)r.bytes,
	    (unsigned long long)r.lower_bound, r.band_reached ? "true" :
	    "false", r.load, r.load_lower_bound,
	    (unsigned long long)r.both_lower_bytes, !po.by_load ? "null" :
	    r.load_band_reached ? "true" : "false");
	{
		char *params = xasprintf("{\"strategy\":\"%s\",\"slice\":%s%s%s,"
		    "\"band\":%g,\"target_fill\":%g,\"hard_limit\":%g,"
		    "\"other_pair\":%s,\"max_moves\":%llu,\"max_bytes\":%llu,"
		    "\"by\":\"%s\",\"load_band\":%g,\"load_target\":%g,"
		    "\"load_hard_limit\":%g}",
		    names[strategy], slice ? "\"" : "", slice ? slice : "null",
		    slice ? "\"" : "", po.band, po.target_fill, po.hard_limit,
		    po.other_pair ? "true" : "false",
		    (unsigned long long)po.max_moves,
		    (unsigned long long)po.max_bytes, po.by_load ? "both" :
		    "bytes", po.load_band, po.load_target, po.load_hard);

		rc = state_plan_store(st, names[strategy], params, summary, pm,
		    r.nmoves, &id, &cause);
		free(params);
	}
	free(summary);
	free(pm);
	pm = NULL;
	if (rc != 0) {
		rc = cli_fail(cause);
		goto out;
	}
	if (state_plan_moves(st, id, &pm, &n, &cause) != 0) {
		rc = cli_fail(cause);
		goto out;
	}
	print_plan(c, id, names[strategy], &f, &r, pm, n);
	rc = EXIT_OK;
	if (apply)
		rc = apply_plan(c, st, id, strategy == PLANNER_DRAIN ? slice :
		    NULL);
	else if (!c->json)
		printf("plan %lld stored (a preview); queue its moves with "
		    "'mailshift plan apply %lld'\n", (long long)id,
		    (long long)id);
	(void)j;
out:
	state_plan_moves_free(pm, n);
	planner_result_free(&r);
	fleet_free(&f);
	return rc;
}

static int
cmd_plan_balance(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	return cmd_plan(c, e, argc, argv, PLANNER_BALANCE);
}

static int
cmd_plan_drain(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	return cmd_plan(c, e, argc, argv, PLANNER_DRAIN);
}

static int
cmd_plan_fill(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	return cmd_plan(c, e, argc, argv, PLANNER_FILL);
}

static int
cmd_plan_apply(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state_plan p;
	struct state *st;
	char *cause = NULL, *end, *drain = NULL, *q;
	int64_t id;
	int rc;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(e, "give one plan id");
	id = strtoll(argv[1], &end, 10);
	if (*argv[1] < '1' || *argv[1] > '9' || *end != '\0')
		return cli_usage(e, "bad plan id '%s'", argv[1]);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_plan_get(st, id, &p, &cause) != 0)
		return cli_fail(cause);
	/* A drain plan names its slice in its parameters. */
	if (strcmp(p.strategy, "drain") == 0 &&
	    (q = strstr(p.params, "\"slice\":\"")) != NULL) {
		drain = xstrdup(q + 9);
		if ((q = strchr(drain, '"')) != NULL)
			*q = '\0';
	}
	state_plan_free(&p);
	rc = apply_plan(c, st, id, drain);
	free(drain);
	return rc;
}

static int
plan_row(const struct state_plan *p, void *arg)
{
	struct listing *l = arg;
	char id[24], moves[24], size[32], when[32];

	if (l->json) {
		json_object_open(&l->j, NULL);
		json_int(&l->j, "id", p->id);
		json_string(&l->j, "strategy", p->strategy);
		json_string(&l->j, "state", p->state);
		json_int(&l->j, "moves", p->moves);
		json_uint(&l->j, "bytes", p->bytes);
		json_string(&l->j, "created", time_format(p->created, when,
		    sizeof when));
		json_object_close(&l->j);
		return 0;
	}
	snprintf(id, sizeof id, "%lld", (long long)p->id);
	snprintf(moves, sizeof moves, "%lld", (long long)p->moves);
	table_add(l->t, (const char *[]){ id, p->strategy, p->state, moves,
	    size_format(p->bytes, size, sizeof size), time_format(p->created,
	    when, sizeof when) });
	return 0;
}

static int
cmd_plan_list(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct listing l;
	struct state *st;
	char *cause = NULL;

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 1)
		return cli_usage(e, "unexpected argument");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	listing_start(&l, c->json, 6, (const char *[]){ "ID", "STRATEGY",
	    "STATE", "MOVES", "BYTES", "CREATED" }, "rllrrl");
	if (state_plan_list(st, plan_row, &l, &cause) != 0) {
		listing_abort(&l);
		return cli_fail(cause);
	}
	listing_end(&l);
	return EXIT_OK;
}

const struct cmd_entry cmd_plan_balance_entry = {
	"plan", "balance", "[--by both|bytes] [--band PP] [--target-fill PCT] "
	"[--hard-limit PCT] [--load-band PP] [--load-target PCT] "
	"[--load-hard-limit PCT] [--other-pair] [--max-moves N] "
	"[--max-bytes SIZE] [--apply]",
	"plan moves that bring every slice into a band around the mean fill "
	"and load",
	cmd_plan_balance
};
const struct cmd_entry cmd_plan_drain_entry = {
	"plan", "drain", "SLICE [options] [--apply]",
	"plan moving every account off a slice (set draining on apply)",
	cmd_plan_drain
};
const struct cmd_entry cmd_plan_fill_entry = {
	"plan", "fill", "SLICE [options] [--apply]",
	"plan bringing a new slice up to the mean", cmd_plan_fill
};
const struct cmd_entry cmd_plan_apply_entry = {
	"plan", "apply", "ID", "queue the moves of a stored plan",
	cmd_plan_apply
};
const struct cmd_entry cmd_plan_list_entry = {
	"plan", "list", "", "list stored plans", cmd_plan_list
};
