/* mailshift plan balance|drain|fill and plan apply|list|show: rebalances. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "common/layout.h"
#include "cli/output.h"
#include "planner/planner.h"
#include "state/state.h"
#include "state/fleet.h"
#include "state/plan.h"
#include "state/slice.h"
#include "common/util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The fleet as the planner sees it, loaded from the catalog. */
struct fleet {
	struct planner_slice	*s;
	char		       **names;
	char		       **pairs;
	char		       **states;
	size_t			 ns;
	struct planner_account	*a;
	size_t			 na;
	size_t			 cap;
	int64_t			*moving;	/* sorted account ids */
	size_t			 nmoving;
	char			*error;
};

static int
slice_cb(const struct state_slice *sl, void *arg)
{
	struct fleet *f = arg;
	struct planner_slice *p;
	size_t i;

	f->s = xrealloc(f->s, (f->ns + 1) * sizeof *f->s);
	f->names = xrealloc(f->names, (f->ns + 1) * sizeof *f->names);
	f->pairs = xrealloc(f->pairs, (f->ns + 1) * sizeof *f->pairs);
	f->states = xrealloc(f->states, (f->ns + 1) * sizeof *f->states);
	f->names[f->ns] = xstrdup(sl->name);
	f->pairs[f->ns] = xstrdup(sl->pair);
	f->states[f->ns] = xstrdup(sl->state);
	p = &f->s[f->ns];
	memset(p, 0, sizeof *p);
	p->id = sl->id;
	p->name = f->names[f->ns];
	p->pair_id = (int64_t)f->ns;
	for (i = 0; i < f->ns; i++) {
		if (strcmp(f->pairs[i], sl->pair) == 0) {
			p->pair_id = f->s[i].pair_id;
			break;
		}
	}
	p->capacity = sl->capacity;
	p->used = sl->used;
	p->receives = strcmp(sl->state, "active") == 0;
	p->balances = strcmp(sl->state, "retired") != 0;
	p->unhealthy = strcmp(sl->health, "ok") != 0;
	f->ns++;
	return 0;
}

static void
moving_cb(int64_t id, void *arg)
{
	struct fleet *f = arg;

	f->moving = xrealloc(f->moving, (f->nmoving + 1) * sizeof *f->moving);
	f->moving[f->nmoving++] = id;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
account_cb(const struct state_fleet_account *fa, void *arg)
{
	struct fleet *f = arg;
	struct planner_account *a;
	size_t i;

	for (i = 0; i < f->ns && f->s[i].id != fa->slice_id; i++)
		;
	if (i == f->ns)
		return;
	if (f->na == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 1024;
		f->a = xrealloc(f->a, f->cap * sizeof *f->a);
	}
	a = &f->a[f->na++];
	a->id = fa->id;
	a->slice = i;
	a->bytes = fa->bytes;
	a->files = fa->files;
	a->last_activity = fa->last_activity;
	a->pinned = fa->pinned;
	a->moving = f->nmoving > 0 && bsearch(&fa->id, f->moving, f->nmoving,
	    sizeof *f->moving, cmp_id) != NULL;
}

static void
fleet_free(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->ns; i++) {
		free(f->names[i]);
		free(f->pairs[i]);
		free(f->states[i]);
	}
	free(f->names);
	free(f->pairs);
	free(f->states);
	free(f->s);
	free(f->a);
	free(f->moving);
}

static int
fleet_load(struct state *st, struct fleet *f, char **cause)
{
	size_t i;

	memset(f, 0, sizeof *f);
	if (state_slice_list(st, slice_cb, f, cause) != 0 ||
	    state_fleet_moving(st, moving_cb, f, cause) != 0)
		return -1;
	if (f->nmoving > 1)
		qsort(f->moving, f->nmoving, sizeof *f->moving, cmp_id);
	for (i = 0; i < f->ns; i++) {
		if (state_fleet_pending(st, f->s[i].id, &f->s[i].pending_in,
		    &f->s[i].pending_out, cause) != 0)
			return -1;
	}
	return state_fleet_accounts(st, account_cb, f, cause);
}

static size_t
slice_index(const struct fleet *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->ns; i++) {
		if (strcmp(f->names[i], name) == 0)
			return i;
	}
	return (size_t)-1;
}

/* Print a plan (preview) as tables or JSON; users come from the catalog. */
static void
print_plan(struct cli *c, int64_t id, const char *strategy,
    const struct fleet *f, const struct planner_result *r,
    const struct state_plan_move *pm, size_t n)
{
	struct table *t;
	struct json j;
	char a[32], b[32], x[32], y[32], seq[24], after[24];
	size_t i;
	double ratio = r->lower_bound ? (double)r->bytes /
	    (double)r->lower_bound : 0;

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
	t = table_new(5, (const char *[]){ "SLICE", "STATE", "CAPACITY",
	    "FILL BEFORE", "FILL AFTER" }, "llrrr");
	for (i = 0; i < f->ns; i++) {
		snprintf(x, sizeof x, "%.1f%%", 100 * r->fill_before[i]);
		snprintf(y, sizeof y, "%.1f%%", 100 * r->fill_after[i]);
		table_add(t, (const char *[]){ f->names[i], f->states[i],
		    size_format(f->s[i].capacity, a, sizeof a), x, y });
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
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (fleet_load(st, &f, &cause) != 0) {
		fleet_free(&f);
		return cli_fail(cause);
	}
	/* A gain too small to move for: 1 MiB of imbalance, less on a
	 * small fleet (a hundred-thousandth of its capacity). */
	for (i = 0; i < f.ns; i++)
		total += f.s[i].capacity;
	if (!gain_given && total / 100000 < po.min_gain)
		po.min_gain = total / 100000;
	if (slice != NULL && (po.slice = slice_index(&f, slice)) ==
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
	    "%llu,\"band_reached\":%s}", r.nmoves,
	    (unsigned long long)r.bytes, (unsigned long long)r.lower_bound,
	    r.band_reached ? "true" : "false");
	{
		char *params = xasprintf("{\"strategy\":\"%s\",\"slice\":%s%s%s,"
		    "\"band\":%g,\"target_fill\":%g,\"hard_limit\":%g,"
		    "\"other_pair\":%s,\"max_moves\":%llu,\"max_bytes\":%llu}",
		    names[strategy], slice ? "\"" : "", slice ? slice : "null",
		    slice ? "\"" : "", po.band, po.target_fill, po.hard_limit,
		    po.other_pair ? "true" : "false",
		    (unsigned long long)po.max_moves,
		    (unsigned long long)po.max_bytes);

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
	"plan", "balance", "[--band PP] [--target-fill PCT] [--hard-limit PCT] "
	"[--other-pair] [--max-moves N] [--max-bytes SIZE] [--apply]",
	"plan moves that bring every slice into a band around the mean fill",
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
