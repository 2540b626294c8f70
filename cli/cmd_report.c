/*
 * mailshift report usage|forecast|moves: capacity reports from the usage
 * snapshots and the move history, as a table, CSV, JSON or an HTML page.
 *
 * Growth is the Theil–Sen slope of each slice's snapshot bytes over the
 * range; a pair's, a server's or the fleet's growth is the sum of its
 * slices' (so a slice joining the catalog with data is not growth).
 * Forecasts start from what the catalog holds now.
 */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "cli/output.h"
#include "state/report.h"
#include "cli/report_html.h"
#include "state/state.h"
#include "common/stats.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum report_format { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_HTML };
enum report_kind { KIND_USAGE, KIND_FORECAST, KIND_MOVES };

static const char *const format_names[] = { "table", "csv", "json", "html" };
static const char *const by_names[] = { "slice", "pair", "server" };

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
		{ NULL, 0, NULL, 0 }
	};
	const char *format = NULL, *since = NULL, *until = NULL, *by = NULL;
	const char *days = NULL, *target = NULL, *hard = NULL;
	char *end;
	long v;
	int ch, k;

	opterr = 0;
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
		case ':':
			return cli_usage(e, "option %s needs a value",
			    argv[optind - 1]);
		default:
			return cli_usage(e, "unknown option '%s'",
			    argv[optind - 1]);
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
	if (o->kind != KIND_FORECAST && days != NULL)
		return cli_usage(e, "--days applies to 'report forecast'");
	if (by != NULL) {
		if ((k = name_index(by_names, 3, by)) < 0)
			return cli_usage(e, "unknown --by '%s'; use slice, "
			    "pair or server", by);
		r->by = (enum report_by)k;
	}
	if (days != NULL) {
		errno = 0;
		v = strtol(days, &end, 10);
		if (end == days || *end != '\0' || errno != 0 || v < 1 ||
		    v > 36500)
			return cli_usage(e, "--days: give a number of days "
			    "from 1 to 36500, not '%s'", days);
		r->days = (int)v;
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

/* Writing the output: stdout, or a temporary file renamed into place. */

struct out {
	FILE		*f;
	const char	*path;		/* NULL = stdout */
	char		*real;		/* path with symlinks resolved */
	char		*tmp;		/* NULL: written in place */
};

/*
 * Open the output. A regular file (or a new one) is written as a
 * temporary file next to it and renamed over it when complete, so that a
 * reader never sees half a report; a symlink to one is followed. Anything
 * else (a FIFO, /dev/stdout, a terminal) is written in place.
 */
static int
out_open(struct out *o, const char *path)
{
	struct stat sb;
	mode_t mask;
	int fd;

	memset(o, 0, sizeof *o);
	o->path = path;
	if (path == NULL) {
		o->f = stdout;
		return 0;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		if (S_ISDIR(sb.st_mode)) {
			cli_error("cannot write %s: it is a directory; give "
			    "a file name", path);
			return -1;
		}
		if ((o->f = fopen(path, "w")) == NULL) {
			cli_error("cannot write %s: %s", path,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if ((o->real = realpath(path, NULL)) == NULL)
		o->real = xstrdup(path);
	o->tmp = xasprintf("%s.XXXXXX", o->real);
	if ((fd = mkstemp(o->tmp)) == -1) {
		cli_error("cannot create %s: %s; check that its directory "
		    "exists and is writable", path, strerror(errno));
		free(o->tmp);
		free(o->real);
		return -1;
	}
	mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	if ((o->f = fdopen(fd, "w")) == NULL) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		free(o->real);
		return -1;
	}
	return 0;
}

/* Finish the output: flush, sync and rename a file into place. */
static int
out_close(struct out *o)
{
	int bad;

	if (o->path == NULL)
		return 0;
	bad = ferror(o->f) || fflush(o->f) != 0 ||
	    (o->tmp != NULL && fsync(fileno(o->f)) != 0);
	if (fclose(o->f) != 0)
		bad = 1;
	if (bad)
		cli_error("cannot write %s: %s", o->path, strerror(errno));
	else if (o->tmp != NULL && rename(o->tmp, o->real) != 0) {
		cli_error("cannot rename %s to %s: %s", o->tmp, o->real,
		    strerror(errno));
		bad = 1;
	}
	if (bad && o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->real);
	return bad ? -1 : 0;
}

/* The model. */

static void
row_free(struct report_row *row)
{
	free(row->name);
	free(row->pair);
	free(row->server);
	free(row->state);
}

static void
report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->nslices; i++)
		row_free(&r->slices[i]);
	if (r->groups != r->slices) {
		for (i = 0; i < r->ngroups; i++)
			row_free(&r->groups[i]);
		free(r->groups);
	}
	free(r->slices);
	row_free(&r->fleet);
	state_report_series_free(r->series, r->nseries);
	free(r->fleet_t);
	free(r->fleet_used);
	state_report_moves_free(r->moves, r->nmoves);
}

static int
slice_cb(const struct state_slice *s, void *arg)
{
	struct report *r = arg;
	struct report_row *row;

	r->slices = xrealloc(r->slices, (r->nslices + 1) * sizeof *r->slices);
	row = &r->slices[r->nslices++];
	memset(row, 0, sizeof *row);
	row->id = s->id;
	row->name = xstrdup(s->name);
	row->pair = xstrdup(s->pair);
	row->server = xstrdup(s->server);
	row->state = xstrdup(s->state);
	row->retired = strcmp(s->state, "retired") == 0;
	row->slices = 1;
	row->accounts = s->accounts;
	row->files = s->files;
	row->used = s->used;
	row->capacity = s->capacity;
	return 0;
}

/* Days to the target fill and the hard limit from what is used now. */
static void
row_days(const struct report *r, struct report_row *row)
{
	double used = (double)row->used, cap = (double)row->capacity;
	double per_day = row->growth.ok ? row->growth.per_day : 0;

	row->to_target = row->to_hard = -1;
	if (row->capacity == 0 || (row->retired && row->slices == 1))
		return;
	row->to_target = stats_days_until(used, per_day, r->target * cap);
	row->to_hard = stats_days_until(used, per_day, r->hard * cap);
}

/* A slice's growth over its snapshots in the range, and its forecast. */
static void
slice_model(const struct report *r, struct report_row *row,
    const struct state_report_series *s)
{
	int64_t *t;
	double *v, p;
	size_t i;

	row->series = s;
	if (s != NULL && s->n > 0) {
		t = xcalloc(s->n, sizeof *t);
		v = xcalloc(s->n, sizeof *v);
		for (i = 0; i < s->n; i++) {
			t[i] = s->p[i].ts;
			v[i] = (double)s->p[i].bytes;
		}
		stats_growth(t, v, s->n, &row->growth);
		free(t);
		free(v);
	}
	row_days(r, row);
	p = (double)row->used + (row->growth.ok ? row->growth.per_day *
	    r->days : 0);
	row->projected = p > 0 ? p : 0;
}

/* Add a slice to a group: sums, and the sum of the slices' growth. */
static void
group_add(struct report_row *g, const struct report_row *s)
{
	g->slices++;
	g->accounts += s->accounts;
	g->files += s->files;
	g->used += s->used;
	if (!s->retired)
		g->capacity += s->capacity;
	g->projected += s->projected;
	g->growth.points += s->growth.points;
	if (s->growth.points > 0) {
		if (g->growth.first == 0 || s->growth.first < g->growth.first)
			g->growth.first = s->growth.first;
		if (s->growth.last > g->growth.last)
			g->growth.last = s->growth.last;
	}
	if (s->growth.ok) {
		g->growth.ok = 1;
		g->growth.per_day += s->growth.per_day;
	}
}

static int
row_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct report_row *)a)->name,
	    ((const struct report_row *)b)->name);
}

static void
make_groups(struct report *r)
{
	const char *key;
	size_t i, k;

	if (r->by == REPORT_BY_SLICE) {
		r->groups = r->slices;
		r->ngroups = r->nslices;
		return;
	}
	for (i = 0; i < r->nslices; i++) {
		key = r->by == REPORT_BY_PAIR ? r->slices[i].pair :
		    r->slices[i].server;
		for (k = 0; k < r->ngroups; k++) {
			if (strcmp(r->groups[k].name, key) == 0)
				break;
		}
		if (k == r->ngroups) {
			r->groups = xrealloc(r->groups, (r->ngroups + 1) *
			    sizeof *r->groups);
			memset(&r->groups[k], 0, sizeof *r->groups);
			r->groups[k].name = xstrdup(key);
			r->ngroups++;
		}
		group_add(&r->groups[k], &r->slices[i]);
	}
	for (k = 0; k < r->ngroups; k++)
		row_days(r, &r->groups[k]);
	qsort(r->groups, r->ngroups, sizeof *r->groups, row_cmp_name);
}

/*
 * The fleet's usage over time for the chart: at up to 600 evenly spaced
 * times, the sum of each slice's latest snapshot at or before that time
 * (or up to 6 hours after it: one discover run over many slices takes a
 * while, and its snapshots belong together).
 */
static void
fleet_series(struct report *r)
{
	int64_t first = INT64_MAX, last = INT64_MIN, step, tk;
	size_t i, k, nb, *pos;
	double sum;

	for (i = 0; i < r->nseries; i++) {
		if (r->series[i].p[0].ts < first)
			first = r->series[i].p[0].ts;
		if (r->series[i].p[r->series[i].n - 1].ts > last)
			last = r->series[i].p[r->series[i].n - 1].ts;
	}
	if (r->nseries == 0)
		return;
	nb = (size_t)((last - first) / (STATS_DAY / 4)) + 1;
	if (nb > 600)
		nb = 600;
	step = nb > 1 ? (last - first) / (int64_t)(nb - 1) : 0;
	r->fleet_t = xcalloc(nb, sizeof *r->fleet_t);
	r->fleet_used = xcalloc(nb, sizeof *r->fleet_used);
	pos = xcalloc(r->nseries, sizeof *pos);
	for (k = 0; k < nb; k++) {
		tk = k == nb - 1 ? last : first + (int64_t)k * step;
		sum = 0;
		for (i = 0; i < r->nseries; i++) {
			const struct state_report_series *s = &r->series[i];

			while (pos[i] + 1 < s->n && s->p[pos[i] + 1].ts <=
			    tk + STATS_DAY / 4)
				pos[i]++;
			if (s->p[pos[i]].ts <= tk + STATS_DAY / 4)
				sum += (double)s->p[pos[i]].bytes;
		}
		r->fleet_t[k] = tk;
		r->fleet_used[k] = sum;
	}
	r->nfleet = nb;
	free(pos);
}

/* Load the slices and snapshots and compute growth and forecasts. */
static int
capacity_model(struct state *st, struct report *r, int html)
{
	char *cause = NULL;
	size_t i;

	if (state_slice_list(st, slice_cb, r, &cause) != 0 ||
	    state_report_snapshots(st, r->since, r->until, &r->series,
	    &r->nseries, &cause) != 0) {
		cli_fail(cause);
		return -1;
	}
	for (i = 0; i < r->nslices; i++)
		slice_model(r, &r->slices[i], state_report_series_find(
		    r->series, r->nseries, r->slices[i].id));
	make_groups(r);
	r->fleet.name = xstrdup("fleet");
	for (i = 0; i < r->nslices; i++)
		group_add(&r->fleet, &r->slices[i]);
	row_days(r, &r->fleet);
	r->needed = stats_capacity_needed(r->fleet.projected, r->target,
	    (double)r->fleet.capacity);
	if (html)
		fleet_series(r);
	return 0;
}

int64_t
report_move_seconds(const struct state_report_move *m)
{
	if (m->started <= 0 || m->finished <= 0 || m->finished < m->started)
		return -1;
	return m->finished - m->started;
}

double
report_move_rate(const struct state_report_move *m)
{
	int64_t s = report_move_seconds(m);

	if (strcmp(m->state, "done") != 0 || s <= 0)
		return -1;
	return (double)m->bytes / (double)s;
}

/* Totals of the moves: what was moved, how fast, lock times, failures. */
static void
moves_total(struct report *r)
{
	struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	double *locks;
	int64_t secs;
	size_t i;

	memset(t, 0, sizeof *t);
	t->rate = -1;
	t->lock_median = t->lock_p95 = t->lock_max = NAN;
	locks = xcalloc(r->nmoves + 1, sizeof *locks);
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		t->moves++;
		t->passes += m->passes;
		t->retries += m->attempts;
		if (strcmp(m->state, "done") == 0) {
			t->done++;
			t->bytes += m->bytes;
			t->files += m->files;
			if ((secs = report_move_seconds(m)) > 0)
				t->seconds += secs;
			if (m->lock_ms >= 0)
				locks[t->locks++] = (double)m->lock_ms;
		} else if (strcmp(m->state, "failed") == 0)
			t->failed++;
		else if (strcmp(m->state, "cancelled") == 0)
			t->cancelled++;
		else
			t->open++;
	}
	if (t->seconds > 0)
		t->rate = (double)t->bytes / (double)t->seconds;
	if (t->locks > 0) {
		t->lock_max = locks[0];
		for (i = 1; i < t->locks; i++) {
			if (locks[i] > t->lock_max)
				t->lock_max = locks[i];
		}
		t->lock_median = stats_median(locks, t->locks);
		t->lock_p95 = stats_percentile(locks, t->locks, 95);
	}
	free(locks);
}

static int
moves_model(struct state *st, struct report *r)
{
	char *cause = NULL;

	if (state_report_moves(st, r->since, r->until, &r->moves, &r->nmoves,
	    &cause) != 0) {
		cli_fail(cause);
		return -1;
	}
	moves_total(r);
	return 0;
}

/* Cells and values shared by the formats. */

/* Bytes with a sign for growth: "+1.5 GiB", "-200 B", "0 B". */
const char *
report_signed_size(double v, char *buf, size_t len)
{
	char s[32];
	uint64_t a = (uint64_t)llround(fabs(v));

	if (a == 0)
		snprintf(buf, len, "0 B");
	else
		snprintf(buf, len, "%c%s", v < 0 ? '-' : '+',
		    size_format(a, s, sizeof s));
	return buf;
}

const char *
report_trend(const struct report_row *row)
{
	if (!row->growth.ok)
		return "not enough history";
	if (row->growth.per_day > 0)
		return "growing";
	if (row->growth.per_day < 0)
		return "shrinking";
	return "flat";
}

/* Days beyond this are shown as such, without a date. */
#define REPORT_FAR_DAYS 36500.0

/* When a row reaches a fill: "now", "55d", "never", "-" (unknown). */
const char *
report_days_text(const struct report_row *row, double days, char *buf,
    size_t len)
{
	if (days == 0)
		return "now";
	if (days < 0)
		return row->growth.ok && row->capacity > 0 && !(row->retired &&
		    row->slices == 1) ? "never" : "-";
	if (days > REPORT_FAR_DAYS)
		return ">100y";
	if (days < 10)
		snprintf(buf, len, "%.1fd", floor(days * 10 + 1e-6) / 10);
	else
		snprintf(buf, len, "%.0fd", floor(days + 1e-6));
	return buf;
}

/* The UTC time days from now, or NULL for never or too far. */
static const char *
days_time(const struct report *r, double days, char *buf, size_t len)
{
	if (days < 0 || days > REPORT_FAR_DAYS)
		return NULL;
	return time_format(r->now + (int64_t)llround(days * STATS_DAY), buf,
	    len);
}

/* The date part of days_time, or "-". */
const char *
report_days_date(const struct report *r, double days, char *buf, size_t len)
{
	if (days_time(r, days, buf, len) == NULL)
		return "-";
	if (strlen(buf) > 10)
		buf[10] = '\0';
	return buf;
}

/* Fill as "60.0%", with a bar "[######----]" on a terminal. */
static const char *
fill_cell(const struct report_row *row, int bar, char *buf, size_t len)
{
	char f[16];
	double x;
	int n;

	fill_format(row->used, row->capacity, f, sizeof f);
	if (!bar || row->capacity == 0) {
		snprintf(buf, len, "%s", f);
		return buf;
	}
	x = (double)row->used / (double)row->capacity;
	n = (int)lround(10 * (x > 1 ? 1 : x));
	snprintf(buf, len, "%6s [%.*s%.*s]", f, n, "##########", 10 - n,
	    "----------");
	return buf;
}

static const char *
count_cell(int64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

/* A description of the range for notes: "since ... until ...". */
const char *
report_range_text(const struct report *r, char *buf, size_t len)
{
	char a[32], b[32];

	if (r->since == INT64_MIN && r->until == INT64_MAX)
		snprintf(buf, len, "over all history");
	else if (r->until == INT64_MAX)
		snprintf(buf, len, "since %s", time_format(r->since, a,
		    sizeof a));
	else if (r->since == INT64_MIN)
		snprintf(buf, len, "until %s", time_format(r->until, b,
		    sizeof b));
	else
		snprintf(buf, len, "between %s and %s", time_format(r->since,
		    a, sizeof a), time_format(r->until, b, sizeof b));
	return buf;
}

const char *
report_duration_text(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh %02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd %02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return buf;
}

const char *
report_rate_text(double rate, char *buf, size_t len)
{
	char s[32];

	if (rate < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/s", size_format((uint64_t)llround(rate),
		    s, sizeof s));
	return buf;
}

/* Slices without a trend, for the note under the tables. */
static size_t
without_history(const struct report *r, size_t *live)
{
	size_t i, n = 0;

	*live = 0;
	for (i = 0; i < r->nslices; i++) {
		if (r->slices[i].retired)
			continue;
		(*live)++;
		if (!r->slices[i].growth.ok)
			n++;
	}
	return n;
}

static void
history_note(FILE *f, const struct report *r)
{
	char range[96];
	size_t live, n = without_history(r, &live);

	if (n == 0)
		return;
	fprintf(f, "\nnot enough history for a trend on %zu of %zu slices "
	    "(snapshots %s): growth needs 2 snapshots at least a day apart; "
	    "each 'mailshift discover' records one\n", n, live,
	    report_range_text(r, range, sizeof range));
}

static const char *const no_slices = "no slices in the catalog yet: add "
    "them with 'mailshift slice add' and record their usage with "
    "'mailshift discover'";

/* Tables. */

static const char *
group_header(const struct report *r)
{
	return r->by == REPORT_BY_PAIR ? "PAIR" : r->by == REPORT_BY_SERVER ?
	    "SERVER" : "SLICE";
}

static void
usage_row(struct table *t, const struct report *r,
    const struct report_row *row, const char *name, int slice, int bar)
{
	char n1[24], n2[24], n3[24], used[32], cap[32], fill[40], growth[32];
	char d1[16], d2[16];
	const char *g = row->growth.ok ? report_signed_size(row->growth.per_day,
	    growth, sizeof growth) : "not enough history";
	const char *tt = report_days_text(row, row->to_target, d1, sizeof d1);
	const char *th = report_days_text(row, row->to_hard, d2, sizeof d2);

	(void)r;
	count_cell(row->accounts, n1, sizeof n1);
	count_cell((int64_t)row->files, n2, sizeof n2);
	size_format(row->used, used, sizeof used);
	size_format(row->capacity, cap, sizeof cap);
	fill_cell(row, bar, fill, sizeof fill);
	if (slice)
		table_add(t, (const char *[]){ name, row->pair ? row->pair :
		    "", row->server ? row->server : "", row->state ?
		    row->state : "", n1, n2, used, cap, fill, g, tt, th });
	else
		table_add(t, (const char *[]){ name, count_cell(row->slices,
		    n3, sizeof n3), n1, n2, used, cap, fill, g, tt, th });
}

static void
usage_table(FILE *f, const struct report *r, const struct report_opts *o)
{
	int slice = r->by == REPORT_BY_SLICE;
	char th_t[24], th_h[24];
	struct table *t;
	size_t i;

	if (r->nslices == 0) {
		fprintf(f, "%s\n", no_slices);
		return;
	}
	snprintf(th_t, sizeof th_t, "TO %g%%", r->target * 100);
	snprintf(th_h, sizeof th_h, "TO %g%%", r->hard * 100);
	if (slice)
		t = table_new(12, (const char *[]){ "SLICE", "PAIR", "SERVER",
		    "STATE", "ACCOUNTS", "FILES", "USED", "CAPACITY", "FILL",
		    "GROWTH/DAY", th_t, th_h }, "llllrrrrrrrr");
	else
		t = table_new(10, (const char *[]){ group_header(r), "SLICES",
		    "ACCOUNTS", "FILES", "USED", "CAPACITY", "FILL",
		    "GROWTH/DAY", th_t, th_h }, "lrrrrrrrrr");
	for (i = 0; i < r->ngroups; i++)
		usage_row(t, r, &r->groups[i], r->groups[i].name, slice,
		    o->tty);
	usage_row(t, r, &r->fleet, "TOTAL", slice, o->tty);
	table_print(t, f);
	history_note(f, r);
}

static double
sooner(double days)
{
	return days < 0 ? INFINITY : days;
}

/* Rows in the order they fill: hard limit first, then target, name. */
static int
forecast_cmp(const void *a, const void *b)
{
	const struct report_row *x = *(const struct report_row *const *)a;
	const struct report_row *y = *(const struct report_row *const *)b;

	if (sooner(x->to_hard) != sooner(y->to_hard))
		return sooner(x->to_hard) < sooner(y->to_hard) ? -1 : 1;
	if (sooner(x->to_target) != sooner(y->to_target))
		return sooner(x->to_target) < sooner(y->to_target) ? -1 : 1;
	return strcmp(x->name, y->name);
}

const struct report_row **
report_forecast_order(const struct report *r)
{
	const struct report_row **v;
	size_t i;

	v = xcalloc(r->ngroups + 1, sizeof *v);
	for (i = 0; i < r->ngroups; i++)
		v[i] = &r->groups[i];
	qsort(v, r->ngroups, sizeof *v, forecast_cmp);
	return v;
}

static void
forecast_row(struct table *t, const struct report *r,
    const struct report_row *row, const char *name)
{
	char growth[32], d1[16], d2[16], t1[32], t2[32], fill[16], pf[16];
	const char *g = row->growth.ok ? report_signed_size(row->growth.per_day,
	    growth, sizeof growth) : "not enough history";

	fill_format(row->used, row->capacity, fill, sizeof fill);
	fill_format((uint64_t)llround(row->projected), row->capacity, pf,
	    sizeof pf);
	table_add(t, (const char *[]){ name, fill, g,
	    report_days_text(row, row->to_target, d1, sizeof d1),
	    report_days_date(r, row->to_target, t1, sizeof t1),
	    report_days_text(row, row->to_hard, d2, sizeof d2),
	    report_days_date(r, row->to_hard, t2, sizeof t2), pf });
}

static void
forecast_table(FILE *f, const struct report *r)
{
	const struct report_row **v;
	char h[4][24], a[32], b[32], c[32], pf[16];
	struct table *t;
	size_t i;

	if (r->nslices == 0) {
		fprintf(f, "%s\n", no_slices);
		return;
	}
	snprintf(h[0], sizeof h[0], "TO %g%%", r->target * 100);
	snprintf(h[1], sizeof h[1], "%g%% ON", r->target * 100);
	snprintf(h[2], sizeof h[2], "TO %g%%", r->hard * 100);
	snprintf(h[3], sizeof h[3], "%g%% ON", r->hard * 100);
	snprintf(pf, sizeof pf, "FILL IN %dD", r->days);
	t = table_new(8, (const char *[]){ group_header(r), "FILL",
	    "GROWTH/DAY", h[0], h[1], h[2], h[3], pf }, "lrrrlrlr");
	v = report_forecast_order(r);
	for (i = 0; i < r->ngroups; i++)
		forecast_row(t, r, v[i], v[i]->name);
	forecast_row(t, r, &r->fleet, "TOTAL");
	free(v);
	table_print(t, f);
	fill_format((uint64_t)llround(r->fleet.projected), r->fleet.capacity,
	    pf, sizeof pf);
	fprintf(f, "\nin %d days the fleet would use %s of %s (%s)", r->days,
	    size_format((uint64_t)llround(r->fleet.projected), a, sizeof a),
	    size_format(r->fleet.capacity, b, sizeof b), pf);
	if (!r->fleet.growth.ok)
		fprintf(f, " (no trend yet: not enough history)");
	fprintf(f, "; staying below %g%% needs %s of capacity: ",
	    r->target * 100, size_format((uint64_t)llround(
	    r->fleet.projected / r->target), c, sizeof c));
	if (r->needed > 0)
		fprintf(f, "add %s\n", size_format((uint64_t)llround(
		    r->needed), a, sizeof a));
	else
		fprintf(f, "the %s there is enough\n", b);
	history_note(f, r);
}

static void
moves_table(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	char id[24], created[32], bytes[32], files[24], dur[32], rate[32];
	char passes[24], lock[24], retries[24], range[96], a[32];
	struct table *tb;
	size_t i;

	if (r->nmoves == 0) {
		if (r->since == INT64_MIN && r->until == INT64_MAX)
			fprintf(f, "no moves in the catalog yet\n");
		else
			fprintf(f, "no moves created %s\n", report_range_text(
			    r, range, sizeof range));
		return;
	}
	tb = table_new(14, (const char *[]){ "ID", "USER", "FROM", "TO",
	    "STATE", "CREATED", "BYTES", "FILES", "DURATION", "RATE",
	    "PASSES", "LOCK", "RETRIES", "ERROR" }, "rllllllrrrrrrl");
	for (i = 0; i < r->nmoves; i++) {
		int64_t s;

		m = &r->moves[i];
		s = report_move_seconds(m);
		if (m->lock_ms >= 0)
			snprintf(lock, sizeof lock, "%lld ms",
			    (long long)m->lock_ms);
		else
			snprintf(lock, sizeof lock, "-");
		table_add(tb, (const char *[]){ count_cell(m->id, id,
		    sizeof id), m->user, m->source, m->target, m->state,
		    time_format(m->created, created, sizeof created),
		    size_format(m->bytes, bytes, sizeof bytes),
		    count_cell((int64_t)m->files, files, sizeof files),
		    report_duration_text(s, dur, sizeof dur),
		    report_rate_text(report_move_rate(m), rate, sizeof rate),
		    count_cell(m->passes, passes,
		    sizeof passes), lock, count_cell(m->attempts, retries,
		    sizeof retries), m->error });
	}
	table_print(tb, f);
	if (r->since == INT64_MIN && r->until == INT64_MAX)
		fprintf(f, "\n%zu move%s:", t->moves, t->moves == 1 ? "" : "s");
	else
		fprintf(f, "\n%zu move%s created %s:", t->moves, t->moves == 1 ?
		    "" : "s", report_range_text(r, range, sizeof range));
	fprintf(f, " %zu done, %zu failed, %zu cancelled, %zu open\n",
	    t->done, t->failed, t->cancelled, t->open);
	fprintf(f, "moved %s in %llu files in %s (average %s), %lld passes, "
	    "%lld retries\n", size_format(t->bytes, bytes, sizeof bytes),
	    (unsigned long long)t->files, report_duration_text(t->seconds, dur,
	    sizeof dur), report_rate_text(t->rate, rate, sizeof rate),
	    (long long)t->passes, (long long)t->retries);
	if (t->locks > 0)
		fprintf(f, "cutover lock over %zu done move%s: median %g ms, "
		    "p95 %g ms, max %g ms\n", t->locks, t->locks == 1 ? "" :
		    "s", t->lock_median,
		    t->lock_p95, t->lock_max);
	else
		fprintf(f, "cutover lock: no done move yet\n");
	if (t->failed == 0)
		return;
	fprintf(f, "failures:\n");
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		if (strcmp(m->state, "failed") == 0)
			fprintf(f, "  move %lld %s (%s -> %s) at %s: %s\n",
			    (long long)m->id, m->user, m->source, m->target,
			    time_format(m->finished, a, sizeof a),
			    m->error ? m->error : "no reason recorded");
	}
}

/* JSON. */

static void
json_time(struct json *j, const char *key, int64_t t)
{
	char buf[32];

	if (t == INT64_MIN || t == INT64_MAX || t <= 0)
		json_null(j, key);
	else
		json_string(j, key, time_format(t, buf, sizeof buf));
}

static void
json_days(struct json *j, const char *days_key, const char *date_key,
    const struct report *r, double days)
{
	char buf[32];

	if (days < 0)
		json_null(j, days_key);
	else
		json_double(j, days_key, days);
	json_string(j, date_key, days_time(r, days, buf, sizeof buf));
}

static void
row_json(struct json *j, const struct report *r,
    const struct report_row *row, int slice, int forecast)
{
	json_string(j, "name", row->name);
	if (slice) {
		json_string(j, "pair", row->pair);
		json_string(j, "server", row->server);
		json_string(j, "state", row->state);
	} else
		json_int(j, "slices", row->slices);
	json_int(j, "accounts", row->accounts);
	json_uint(j, "files", row->files);
	json_uint(j, "used", row->used);
	json_uint(j, "capacity", row->capacity);
	if (row->capacity > 0)
		json_double(j, "fill", (double)row->used /
		    (double)row->capacity);
	else
		json_null(j, "fill");
	json_uint(j, "snapshots", row->growth.points);
	json_time(j, "first_snapshot", row->growth.first);
	json_time(j, "last_snapshot", row->growth.last);
	json_string(j, "trend", report_trend(row));
	if (row->growth.ok)
		json_int(j, "growth_bytes_per_day",
		    (int64_t)llround(row->growth.per_day));
	else
		json_null(j, "growth_bytes_per_day");
	json_days(j, "days_to_target", "target_date", r, row->to_target);
	json_days(j, "days_to_hard_limit", "hard_limit_date", r,
	    row->to_hard);
	if (forecast) {
		json_uint(j, "projected_used",
		    (uint64_t)llround(row->projected));
		json_uint(j, "needed_capacity", (uint64_t)llround(
		    row->projected / r->target));
		json_uint(j, "additional_capacity", (uint64_t)llround(
		    stats_capacity_needed(row->projected, r->target,
		    (double)row->capacity)));
	}
}

static void
json_head(struct json *j, const struct report *r, const char *kind)
{
	char buf[32];

	json_object_open(j, NULL);
	json_string(j, "report", kind);
	json_string(j, "generated", time_format(r->now, buf, sizeof buf));
	json_time(j, "since", r->since);
	json_time(j, "until", r->until);
}

static void
capacity_json(FILE *f, const struct report *r, int forecast)
{
	const struct report_row **v = NULL;
	struct json j;
	size_t i;

	json_init(&j, f);
	json_head(&j, r, forecast ? "forecast" : "usage");
	json_string(&j, "by", by_names[r->by]);
	json_double(&j, "target_fill", r->target);
	json_double(&j, "hard_limit", r->hard);
	if (forecast) {
		json_int(&j, "days", r->days);
		v = report_forecast_order(r);
	}
	json_array_open(&j, "rows");
	for (i = 0; i < r->ngroups; i++) {
		json_object_open(&j, NULL);
		row_json(&j, r, v ? v[i] : &r->groups[i],
		    r->by == REPORT_BY_SLICE, forecast);
		json_object_close(&j);
	}
	json_array_close(&j);
	free(v);
	json_object_open(&j, "total");
	row_json(&j, r, &r->fleet, 0, forecast);
	json_object_close(&j);
	json_object_close(&j);
	json_end(&j);
}

static void
json_ms(struct json *j, const char *key, double v)
{
	if (isnan(v))
		json_null(j, key);
	else
		json_double(j, key, v);
}

static void
moves_json(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	struct json j;
	int64_t s;
	size_t i;

	json_init(&j, f);
	json_head(&j, r, "moves");
	json_array_open(&j, "moves");
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		s = report_move_seconds(m);
		json_object_open(&j, NULL);
		json_int(&j, "id", m->id);
		json_string(&j, "user", m->user);
		json_string(&j, "from", m->source);
		json_string(&j, "to", m->target);
		json_string(&j, "state", m->state);
		json_time(&j, "created", m->created);
		json_time(&j, "started", m->started);
		json_time(&j, "finished", m->finished);
		json_uint(&j, "bytes", m->bytes);
		json_uint(&j, "files", m->files);
		if (s >= 0)
			json_int(&j, "duration_seconds", s);
		else
			json_null(&j, "duration_seconds");
		if (report_move_rate(m) >= 0)
			json_int(&j, "rate_bytes_per_second",
			    llround(report_move_rate(m)));
		else
			json_null(&j, "rate_bytes_per_second");
		json_int(&j, "passes", m->passes);
		if (m->lock_ms >= 0)
			json_int(&j, "lock_ms", m->lock_ms);
		else
			json_null(&j, "lock_ms");
		json_int(&j, "retries", m->attempts);
		json_string(&j, "error", m->error);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_open(&j, "total");
	json_uint(&j, "moves", t->moves);
	json_uint(&j, "done", t->done);
	json_uint(&j, "failed", t->failed);
	json_uint(&j, "cancelled", t->cancelled);
	json_uint(&j, "open", t->open);
	json_uint(&j, "bytes", t->bytes);
	json_uint(&j, "files", t->files);
	json_int(&j, "duration_seconds", t->seconds);
	if (t->rate >= 0)
		json_int(&j, "rate_bytes_per_second", llround(t->rate));
	else
		json_null(&j, "rate_bytes_per_second");
	json_int(&j, "passes", t->passes);
	json_int(&j, "retries", t->retries);
	json_object_open(&j, "lock_ms");
	json_uint(&j, "count", t->locks);
	json_ms(&j, "median", t->lock_median);
	json_ms(&j, "p95", t->lock_p95);
	json_ms(&j, "max", t->lock_max);
	json_object_close(&j);
	json_array_open(&j, "failures");
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		if (strcmp(m->state, "failed") != 0)
			continue;
		json_object_open(&j, NULL);
		json_int(&j, "id", m->id);
		json_string(&j, "user", m->user);
		json_time(&j, "finished", m->finished);
		json_string(&j, "error", m->error);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_close(&j);
	json_object_close(&j);
	json_end(&j);
}

/* CSV (RFC 4180): a header row, bytes, seconds and UTC times. */

static void
csv_str(FILE *f, const char *s, int last)
{
	const char *p;

	if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else if (s != NULL)
		fputs(s, f);
	fputc(last ? '\n' : ',', f);
}

static void
csv_int(FILE *f, int64_t v)
{
	fprintf(f, "%lld,", (long long)v);
}

/* A number with up to 10 significant digits, or empty for NAN/unknown. */
static void
csv_num(FILE *f, double v, int known)
{
	if (known && isfinite(v))
		fprintf(f, "%.10g", v);
	fputc(',', f);
}

static void
csv_time(FILE *f, int64_t t, int last)
{
	char buf[32];

	csv_str(f, t > 0 && t != INT64_MAX ? time_format(t, buf,
	    sizeof buf) : NULL, last);
}

static void
csv_days(FILE *f, const struct report *r, double days, int last)
{
	char buf[32];

	csv_num(f, days, days >= 0);
	csv_str(f, days_time(r, days, buf, sizeof buf), last);
}

static void
row_csv(FILE *f, const struct report *r, const struct report_row *row,
    const char *level, int forecast)
{
	csv_str(f, level, 0);
	csv_str(f, row->name, 0);
	csv_str(f, row->pair, 0);
	csv_str(f, row->server, 0);
	csv_str(f, row->state, 0);
	csv_int(f, row->slices);
	csv_int(f, row->accounts);
	csv_int(f, (int64_t)row->files);
	csv_int(f, (int64_t)row->used);
	csv_int(f, (int64_t)row->capacity);
	csv_num(f, row->capacity ? (double)row->used / (double)row->capacity :
	    0, row->capacity > 0);
	csv_int(f, (int64_t)row->growth.points);
	csv_time(f, row->growth.first, 0);
	csv_time(f, row->growth.last, 0);
	csv_str(f, report_trend(row), 0);
	if (row->growth.ok)
		csv_int(f, llround(row->growth.per_day));
	else
		fputc(',', f);
	csv_days(f, r, row->to_target, 0);
	csv_days(f, r, row->to_hard, !forecast);
	if (forecast) {
		csv_int(f, llround(row->projected));
		csv_int(f, llround(row->projected / r->target));
		fprintf(f, "%lld\n", (long long)llround(stats_capacity_needed(
		    row->projected, r->target, (double)row->capacity)));
	}
}

static void
capacity_csv(FILE *f, const struct report *r, int forecast)
{
	const struct report_row **v = NULL;
	size_t i;

	fputs("level,name,pair,server,state,slices,accounts,files,"
	    "used_bytes,capacity_bytes,fill,snapshots,first_snapshot,"
	    "last_snapshot,trend,growth_bytes_per_day,days_to_target,"
	    "target_date,days_to_hard_limit,hard_limit_date", f);
	fputs(forecast ? ",projected_used_bytes,needed_capacity_bytes,"
	    "additional_capacity_bytes\n" : "\n", f);
	if (forecast)
		v = report_forecast_order(r);
	for (i = 0; i < r->ngroups; i++)
		row_csv(f, r, v ? v[i] : &r->groups[i], by_names[r->by],
		    forecast);
	free(v);
	row_csv(f, r, &r->fleet, "fleet", forecast);
}

static void
moves_csv(FILE *f, const struct report *r)
{
	const struct report_moves_total *t = &r->total;
	const struct state_report_move *m;
	int64_t s;
	size_t i;

	fputs("level,id,user,from,to,state,created,started,finished,bytes,"
	    "files,duration_seconds,rate_bytes_per_second,passes,lock_ms,"
	    "retries,error,moves,done,failed,cancelled,open,lock_median_ms,"
	    "lock_p95_ms,lock_max_ms\n", f);
	for (i = 0; i < r->nmoves; i++) {
		m = &r->moves[i];
		s = report_move_seconds(m);
		csv_str(f, "move", 0);
		csv_int(f, m->id);
		csv_str(f, m->user, 0);
		csv_str(f, m->source, 0);
		csv_str(f, m->target, 0);
		csv_str(f, m->state, 0);
		csv_time(f, m->created, 0);
		csv_time(f, m->started, 0);
		csv_time(f, m->finished, 0);
		csv_int(f, (int64_t)m->bytes);
		csv_int(f, (int64_t)m->files);
		csv_num(f, (double)s, s >= 0);
		csv_num(f, report_move_rate(m), report_move_rate(m) >= 0);
		csv_int(f, m->passes);
		csv_num(f, (double)m->lock_ms, m->lock_ms >= 0);
		csv_int(f, m->attempts);
		csv_str(f, m->error, 0);
		fputs(",,,,,,,\n", f);
	}
	/* The total: bytes, files and duration of the done moves. */
	fputs("total,,,,,,,,,", f);
	csv_int(f, (int64_t)t->bytes);
	csv_int(f, (int64_t)t->files);
	csv_int(f, t->seconds);
	csv_num(f, t->rate, t->rate >= 0);
	csv_int(f, t->passes);
	fputc(',', f);
	csv_int(f, t->retries);
	fputc(',', f);
	fprintf(f, "%zu,%zu,%zu,%zu,%zu,", t->moves, t->done, t->failed,
	    t->cancelled, t->open);
	csv_num(f, t->lock_median, t->locks > 0);
	csv_num(f, t->lock_p95, t->locks > 0);
	if (t->locks > 0)
		fprintf(f, "%.10g", t->lock_max);
	fputc('\n', f);
}

/* The commands. */

static int
report_run(struct cli *c, const struct cmd_entry *e, int argc, char **argv,
    enum report_kind kind)
{
	struct report_opts o;
	struct report r;
	struct state *st;
	struct out out;
	int rc;

	memset(&r, 0, sizeof r);
	memset(&o, 0, sizeof o);
	r.now = now_unix();
	r.since = INT64_MIN;
	r.until = INT64_MAX;
	r.target = 0.75;
	r.hard = 0.90;
	r.days = 90;
	r.by = REPORT_BY_SLICE;
	o.kind = kind;
	if ((rc = report_options(c, e, argc, argv, &r, &o)) != EXIT_OK)
		return rc;
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if ((kind == KIND_MOVES ? moves_model(st, &r) : capacity_model(st, &r,
	    o.format == FMT_HTML)) != 0 || out_open(&out, o.output) != 0) {
		report_free(&r);
		return EXIT_FAIL;
	}
	switch (o.format) {
	case FMT_TABLE:
		if (kind == KIND_USAGE)
			usage_table(out.f, &r, &o);
		else if (kind == KIND_FORECAST)
			forecast_table(out.f, &r);
		else
			moves_table(out.f, &r);
		break;
	case FMT_CSV:
		if (kind == KIND_MOVES)
			moves_csv(out.f, &r);
		else
			capacity_csv(out.f, &r, kind == KIND_FORECAST);
		break;
	case FMT_JSON:
		if (kind == KIND_MOVES)
			moves_json(out.f, &r);
		else
			capacity_json(out.f, &r, kind == KIND_FORECAST);
		break;
	case FMT_HTML:
		if (kind == KIND_MOVES)
			report_html_moves(out.f, &r);
		else
			report_html_capacity(out.f, &r, kind == KIND_FORECAST);
		break;
	}
	rc = out_close(&out) == 0 ? EXIT_OK : EXIT_FAIL;
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
	"fill and growth per slice, pair or server", cmd_report_usage
};
const struct cmd_entry cmd_report_forecast_entry = {
	"report", "forecast", "[--days N] [--by slice|pair|server] "
	"[--since TIME] [--until TIME] [--target-fill PCT] [--hard-limit PCT] "
	"[--format table|csv|json|html] [-o FILE]",
	"when slices fill up and the capacity needed", cmd_report_forecast
};
const struct cmd_entry cmd_report_moves_entry = {
	"report", "moves", "[--since TIME] [--until TIME] "
	"[--format table|csv|json|html] [-o FILE]",
	"moves in a time range: sizes, rates, lock times, failures",
	cmd_report_moves
};
