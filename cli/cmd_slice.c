/* mailshift slice add|list|show|set: the filesystems accounts live on. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "cli/output.h"
#include "cli/report.h"
#include "migrator/evacuation.h"
#include "migrator/slice.h"
#include "state/state.h"
#include "state/pair.h"
#include "state/slice.h"
#include "state/load.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/*
 * Check that a slice path is an existing, readable directory and return
 * its canonical absolute form.
 */
static char *
slice_path_check(const char *path, char **cause)
{
	struct stat sb;
	char *real;
	DIR *d;

	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			fail(cause, "slice path %s does not exist; create or "
			    "mount it first", path);
		else if (errno == EACCES)
			fail(cause, "slice path %s is not readable (%s); check "
			    "its permissions and that mailshift runs as the "
			    "right user", path, strerror(errno));
		else
			fail(cause, "slice path %s: %s", path,
			    strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		fail(cause, "slice path %s is not a directory; give the "
		    "directory the slice is mounted on", path);
		return NULL;
	}
	if ((d = opendir(path)) == NULL || (errno = 0, readdir(d)) == NULL) {
		fail(cause, "slice path %s is not readable (%s); check its "
		    "permissions and that mailshift runs as the right user",
		    path, strerror(errno ? errno : EACCES));
		if (d != NULL)
			closedir(d);
		return NULL;
	}
	closedir(d);
	if ((real = realpath(path, NULL)) == NULL) {
		fail(cause, "slice path %s: %s", path, strerror(errno));
		return NULL;
	}
	return real;
}

static int
cmd_slice_add(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "pair", required_argument, NULL, 'p' },
		{ "server", required_argument, NULL, 's' },
		{ "path", required_argument, NULL, 'd' },
		{ "capacity", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pair = NULL, *server = NULL, *path = NULL, *cap = NULL;
	struct state *st;
	char *cause = NULL, *real, buf[32];
	uint64_t capacity;
	int ch, marked = 0;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pair = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 'd':
			path = optarg;
			break;
		case 'c':
			cap = optarg;
			break;
		default:
			return cli_bad_option(e, ch, argc, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(e, "give one slice name");
	if (!cli_name_ok(argv[optind]))
		return cli_usage(e, "bad slice name '%s': use letters, digits, "
		    "'.', '_' and '-' (at most 64)", argv[optind]);
	if (pair == NULL || server == NULL || path == NULL || cap == NULL)
		return cli_usage(e, "missing %s", pair == NULL ? "--pair P" :
		    server == NULL ? "--server S" : path == NULL ?
		    "--path DIR" : "--capacity SIZE");
	if (size_parse(cap, &capacity, &cause) != 0) {
		cli_usage(e, "%s", cause);
		free(cause);
		return EXIT_USAGE;
	}
	if (capacity == 0)
		return cli_usage(e, "capacity must be more than 0");
	if ((real = slice_path_check(path, &cause)) == NULL)
		return cli_fail(cause);
	if ((st = cli_state(c, 0)) == NULL) {
		free(real);
		return EXIT_FAIL;
	}
	if (state_slice_add(st, argv[optind], pair, server, real, capacity,
	    &cause) != 0) {
		free(real);
		return cli_fail(cause);
	}
	/* Mark the root, so that an unmounted slice is never taken for it. */
	if (slice_mark(real, argv[optind], &marked, &cause) != 0) {
		state_slice_forget(st, argv[optind], NULL);
		free(real);
		return cli_fail(cause);
	}
	if (!c->json)
		printf("slice %s added at %s, capacity %s\n", argv[optind],
		    real, size_format(capacity, buf, sizeof buf));
	free(real);
	return EXIT_OK;
}

/* A slice's load as list and show tell it: over [capacity] load_window
 * up to now, against its ops capacity (or the default). */
struct slice_load {
	struct state_load_sum	 sum;		/* ms 0: not measured */
	uint64_t		 window;	/* seconds */
	uint64_t		 capacity;	/* ops/s in force */
	int			 by_default;	/* the [capacity] default */
	double			 ops;		/* per second */
	double			 bytes;
	double			 percent;	/* of capacity */
};

static void
slice_load_from(const struct config *cfg, const struct state_slice *s,
    const struct state_load_sum *sum, struct slice_load *l)
{
	memset(l, 0, sizeof *l);
	if (sum != NULL)
		l->sum = *sum;
	l->window = cfg->load_window;
	l->by_default = s->ops_capacity == 0;
	l->capacity = l->by_default ? cfg->ops_capacity : s->ops_capacity;
	l->ops = state_load_ops_rate(&l->sum);
	l->bytes = state_load_bytes_rate(&l->sum);
	l->percent = l->capacity > 0 ? l->ops * 100.0 / (double)l->capacity :
	    0;
}

/* The JSON members of a slice's load. */
static void
slice_json_load(struct json *j, const struct state_slice *s,
    const struct slice_load *l)
{
	int measured = l->sum.ms > 0;

	json_string(j, "load_source", *s->io_source ? s->io_source : NULL);
	json_uint(j, "load_window", l->window);
	json_int(j, "load_samples", l->sum.samples);
	if (measured) {
		json_double(j, "load_ops_per_second", l->ops);
		json_double(j, "load_bytes_per_second", l->bytes);
	} else {
		json_null(j, "load_ops_per_second");
		json_null(j, "load_bytes_per_second");
	}
	json_uint(j, "ops_capacity", l->capacity);
	json_bool(j, "ops_capacity_default", l->by_default);
	if (measured && l->capacity > 0)
		json_double(j, "load_percent", l->percent);
	else
		json_null(j, "load_percent");
}

/* A window of seconds as the config would say it: "1d", "6h", "90s". */
static const char *
window_format(uint64_t secs, char *buf, size_t len)
{
	if (secs > 0 && secs % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(secs / 86400));
	else if (secs > 0 && secs % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(secs / 3600));
	else if (secs > 0 && secs % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(secs / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)secs);
	return buf;
}

/* What slice show says of the load: where it is read, what it was over
 * the window, against which capacity. */
static void
slice_show_load(const struct config *cfg, const struct state_slice *s,
    const struct slice_load *l)
{
	char win[32], rate[32];

	if (*s->io_source == '\0')
		kv_print(stdout, "load source", "not read yet (the daemon "
		    "reads it every %llus, and every 'mailshift discover')",
		    (unsigned long long)cfg->load_interval);
	else if (strncmp(s->io_source, "none:", 5) == 0)
		kv_print(stdout, "load source", "%s (a %s filesystem has no "
		    "I/O counters: no load is measured)", s->io_source,
		    s->io_source + 5);
	else
		kv_print(stdout, "load source", "%s", s->io_source);
	window_format(l->window, win, sizeof win);
	if (l->sum.ms > 0)
		kv_print(stdout, "load", "%.1f ops/s, %s/s (over the last %s, "
		    "%lld interval%s)", l->ops, size_format((uint64_t)l->bytes,
		    rate, sizeof rate), win, (long long)l->sum.samples,
		    l->sum.samples == 1 ? "" : "s");
	else
		kv_print(stdout, "load", "not measured in the last %s", win);
	kv_print(stdout, "ops capacity", "%llu ops/s%s",
	    (unsigned long long)l->capacity, l->by_default ?
	    " ([capacity] ops_capacity; 'slice set --ops-capacity' for this "
	    "slice)" : "");
	if (l->sum.ms > 0 && l->capacity > 0)
		kv_print(stdout, "load percent", "%.1f%% of the ops capacity",
		    l->percent);
}

/* JSON members of a slice, shared by list and show. */
static void
slice_json(struct json *j, const struct state_slice *s)
{
	char when[32];

	json_string(j, "name", s->name);
	json_string(j, "pair", s->pair);
	json_string(j, "server", s->server);
	json_string(j, "address", s->address);
	json_string(j, "path", s->path);
	json_string(j, "state", s->state);
	json_uint(j, "capacity", s->capacity);
	json_uint(j, "used", s->used);
	json_uint(j, "files", s->files);
	json_int(j, "accounts", s->accounts);
	json_double(j, "fill", (double)s->used / (double)s->capacity);
	json_string(j, "scanned", s->scanned ? time_format(s->scanned, when,
	    sizeof when) : NULL);
	json_string(j, "health", s->health);
	json_string(j, "health_reason", s->health_reason);
	json_string(j, "health_since", s->health_since ?
	    time_format(s->health_since, when, sizeof when) : NULL);
}

/* slice list: the listing and every slice's load sums, by id. */
struct slice_listing {
	struct listing		 l;
	const struct config	*cfg;
	struct state_load_sum	*sums;
	size_t			 nsums;
};

static void
sum_cb(const struct state_load_sum *sum, void *arg)
{
	struct slice_listing *sl = arg;

	sl->sums = xrealloc(sl->sums, (sl->nsums + 1) * sizeof *sl->sums);
	sl->sums[sl->nsums++] = *sum;
}

static const struct state_load_sum *
sum_find(const struct slice_listing *sl, int64_t id)
{
	size_t i;

	for (i = 0; i < sl->nsums; i++) {
		if (sl->sums[i].slice_id == id)
			return &sl->sums[i];
	}
	return NULL;
}

static int
slice_row(const struct state_slice *s, void *arg)
{
	struct slice_listing *sl = arg;
	struct listing *l = &sl->l;
	struct slice_load ld;
	char used[32], cap[32], fill[16], accounts[32], load[32];

	slice_load_from(sl->cfg, s, sum_find(sl, s->id), &ld);
	if (l->json) {
		json_object_open(&l->j, NULL);
		slice_json(&l->j, s);
		slice_json_load(&l->j, s, &ld);
		json_object_close(&l->j);
		return 0;
	}
	snprintf(accounts, sizeof accounts, "%lld", (long long)s->accounts);
	if (ld.sum.ms > 0 && ld.capacity > 0)
		snprintf(load, sizeof load, "%.1f%%", ld.percent);
	else
		snprintf(load, sizeof load, "-");
	table_add(l->t, (const char *[]){ s->name, s->pair, s->server,
	    s->state, s->health, accounts, size_format(s->used, used,
	    sizeof used),
	    size_format(s->capacity, cap, sizeof cap),
	    fill_format(s->used, s->capacity, fill, sizeof fill), load,
	    s->path });
	return 0;
}

static int
cmd_slice_list(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct slice_listing sl = { .cfg = &c->config };
	struct state *st;
	char *cause = NULL;
	int64_t now = now_unix();

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc > 1)
		return cli_usage(e, "unexpected argument");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_load_sums(st, now - (int64_t)c->config.load_window, now,
	    sum_cb, &sl, &cause) != 0) {
		free(sl.sums);
		return cli_fail(cause);
	}
	listing_start(&sl.l, c->json, 11, (const char *[]){ "NAME", "PAIR",
	    "SERVER", "STATE", "HEALTH", "ACCOUNTS", "USED", "CAPACITY",
	    "FILL", "LOAD", "PATH" }, "lllllrrrrrl");
	if (state_slice_list(st, slice_row, &sl, &cause) != 0) {
		listing_abort(&sl.l);
		free(sl.sums);
		return cli_fail(cause);
	}
	listing_end(&sl.l);
	free(sl.sums);
	return EXIT_OK;
}

/* The other server of the pair a slice's server is in. */
struct pair_other {
	const char	*pair;
	const char	*server;
	char		*other;		/* found, or NULL */
};

static int
pair_other_cb(const struct state_pair *p, void *arg)
{
	struct pair_other *po = arg;

	if (strcmp(p->name, po->pair) != 0)
		return 0;
	po->other = xstrdup(strcmp(p->server_a, po->server) == 0 ?
	    p->server_b : p->server_a);
	return 1;
}

/* What slice show says of the health: since when, why, what to do, and
 * whether a daemon is there to keep it fresh. */
static int
slice_show_health(struct state *st, const struct state_slice *s,
    int watching, int64_t seen, char **cause)
{
	struct pair_other po = { s->pair, s->server, NULL };
	char when[32];

	kv_print(stdout, "health", "%s", s->health);
	kv_print(stdout, "health since", "%s", s->health_since ?
	    time_format(s->health_since, when, sizeof when) : "never changed");
	if (*s->health_reason != '\0')
		kv_print(stdout, "health reason", "%s", s->health_reason);
	if (strcmp(s->health, "ok") != 0) {
		if (state_pair_list(st, pair_other_cb, &po, cause) != 0)
			return -1;
		kv_print(stdout, "advice", "move it to the pair's other server "
		    "%s, or drain it with 'mailshift plan drain %s'",
		    po.other != NULL ? po.other : "(none)", s->name);
		free(po.other);
	}
	if (!watching)
		kv_print(stdout, "health note", "no daemon watches this catalog "
		    "(%s%s): the health shown may be stale", seen ?
		    "last seen " : "none ever ran", seen ? time_format(seen,
		    when, sizeof when) : "");
	return 0;
}

/* How long emptying the slice at the daemon's schedule and restoring it
 * take (migrator/evacuation.h), now. */
static void
slice_evacuation(const struct cli *c, const struct state_slice *s,
    struct evacuation *ev, struct evacuation_schedule *sched)
{
	evacuation_schedule_init(sched, &c->config);
	evacuation_estimate(sched, now_unix(), s->used, s->files,
	    s->accounts, ev);
}

/* The JSON members of slice show for evacuation and restore. */
static void
slice_json_evacuation(struct json *j, const struct cli *c,
    const struct state_slice *s)
{
	struct evacuation_schedule sched;
	struct evacuation ev;

	slice_evacuation(c, s, &ev, &sched);
	if (ev.seconds >= 0)
		json_int(j, "evacuation_seconds", ev.seconds);
	else
		json_null(j, "evacuation_seconds");
	json_string(j, "evacuation", evacuation_status_name(ev.status));
	json_string(j, "unthrottled", ev.unthrottled[0] ? ev.unthrottled :
	    NULL);
	json_uint(j, "evacuation_streams", ev.streams);
	json_int(j, "restore_seconds", ev.restore);
	json_uint(j, "max_restore_seconds", sched.max_restore);
	json_bool(j, "flagged", ev.flagged);
	json_int(j, "split_into", ev.split);
}

/* The lines of slice show for evacuation and restore. */
static void
slice_show_evacuation(const struct cli *c, const struct state_slice *s)
{
	struct evacuation_schedule sched;
	struct evacuation ev;
	char a[32], b[32];

	slice_evacuation(c, s, &ev, &sched);
	switch (ev.status) {
	case EVACUATION_EMPTY:
		kv_print(stdout, "evacuation", "nothing to move");
		break;
	case EVACUATION_UNTHROTTLED:
		kv_print(stdout, "evacuation", "not known: %s sets no rate, so "
		    "it depends on the disks alone; give it bytes_per_second "
		    "(or files_per_second) to plan with", ev.unthrottled);
		break;
	case EVACUATION_NO_CUTOVER:
		kv_print(stdout, "evacuation", "never: no time of the day "
		    "allows a cutover; allow one in a window");
		break;
	case EVACUATION_OK:
		kv_print(stdout, "evacuation", "%s from now at the daemon's "
		    "schedule (%llu move%s at once)", report_duration_text(
		    ev.seconds, a, sizeof a), (unsigned long long)ev.streams,
		    ev.streams == 1 ? "" : "s");
		break;
	}
	kv_print(stdout, "restore", "%s at %s ([capacity] restore_rate)",
	    report_duration_text(ev.restore, a, sizeof a), report_rate_text(
	    (double)sched.restore_rate, b, sizeof b));
	if (ev.flagged)
		kv_print(stdout, "max restore", "over %s ([capacity] "
		    "max_restore): split it into %lld slices",
		    report_duration_text((int64_t)sched.max_restore, a,
		    sizeof a), (long long)ev.split);
	else
		kv_print(stdout, "max restore", "within %s ([capacity] "
		    "max_restore)", report_duration_text((int64_t)
		    sched.max_restore, a, sizeof a));
}

static int
cmd_slice_show(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state_load_sum sum;
	struct slice_load ld;
	struct state_slice s;
	struct statvfs vfs;
	struct state *st;
	struct json j;
	char *cause = NULL, a[32], b[32], when[32];
	int64_t seen, now = now_unix();
	int have_fs, hung, watching;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(e, "give one slice name");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_slice_get(st, argv[1], &s, &cause) != 0)
		return cli_fail(cause);
	if (cli_daemon_watching(st, &watching, &seen, &cause) != 0 ||
	    state_load_sum(st, s.id, now - (int64_t)c->config.load_window,
	    now, &sum, &cause) != 0) {
		state_slice_free(&s);
		return cli_fail(cause);
	}
	slice_load_from(&c->config, &s, &sum, &ld);
	/* An unresponsive slice's statvfs may hang: not asked. */
	hung = strcmp(s.health, "unresponsive") == 0;
	have_fs = !hung && statvfs(s.path, &vfs) == 0;
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		slice_json(&j, &s);
		if (have_fs) {
			json_uint(&j, "fs_size", (uint64_t)vfs.f_blocks *
			    vfs.f_frsize);
			json_uint(&j, "fs_free", (uint64_t)vfs.f_bavail *
			    vfs.f_frsize);
		}
		json_bool(&j, "health_stale", !watching);
		slice_json_load(&j, &s, &ld);
		slice_json_evacuation(&j, c, &s);
		json_object_close(&j);
		json_end(&j);
	} else {
		kv_print(stdout, "slice", "%s", s.name);
		kv_print(stdout, "state", "%s", s.state);
		if (slice_show_health(st, &s, watching, seen, &cause) != 0) {
			state_slice_free(&s);
			return cli_fail(cause);
		}
		kv_print(stdout, "pair", "%s", s.pair);
		kv_print(stdout, "server", "%s (%s)", s.server, s.address);
		kv_print(stdout, "path", "%s", s.path);
		kv_print(stdout, "accounts", "%lld", (long long)s.accounts);
		kv_print(stdout, "files", "%llu", (unsigned long long)s.files);
		kv_print(stdout, "used", "%s of %s (%s)",
		    size_format(s.used, a, sizeof a),
		    size_format(s.capacity, b, sizeof b),
		    fill_format(s.used, s.capacity, when, sizeof when));
		if (have_fs)
			kv_print(stdout, "filesystem", "%s free of %s",
			    size_format((uint64_t)vfs.f_bavail * vfs.f_frsize,
			    a, sizeof a), size_format((uint64_t)vfs.f_blocks *
			    vfs.f_frsize, b, sizeof b));
		else if (hung)
			kv_print(stdout, "filesystem", "not asked (the slice "
			    "is unresponsive)");
		else
			kv_print(stdout, "filesystem", "unavailable (%s)",
			    strerror(errno));
		kv_print(stdout, "last discover", "%s", s.scanned ?
		    time_format(s.scanned, when, sizeof when) : "never");
		slice_show_load(&c->config, &s, &ld);
		slice_show_evacuation(c, &s);
	}
	state_slice_free(&s);
	return EXIT_OK;
}

static int
cmd_slice_set(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "ops-capacity", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *to = NULL, *cap = NULL, *ops = NULL;
	struct state *st;
	uint64_t capacity = 0, ops_capacity = 0;
	char *cause = NULL, *end;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 's')
			to = optarg;
		else if (ch == 'c')
			cap = optarg;
		else if (ch == 'o')
			ops = optarg;
		else
			return cli_bad_option(e, ch, argc, argv);
	}
	if (argc - optind != 1)
		return cli_usage(e, "give one slice name");
	if (to == NULL && cap == NULL && ops == NULL)
		return cli_usage(e, "nothing to set: give --state STATE, "
		    "--capacity SIZE or --ops-capacity N");
	if (ops != NULL) {
		errno = 0;
		ops_capacity = strtoull(ops, &end, 10);
		if (*ops < '0' || *ops > '9' || *end != '\0' || errno != 0 ||
		    ops_capacity > INT64_MAX)
			return cli_usage(e, "bad --ops-capacity '%s': give the "
			    "operations per second the slice serves at 100%% "
			    "load as a whole number, e.g. 2000 (0: the "
			    "[capacity] ops_capacity default)", ops);
	}
	if (to != NULL && !state_slice_state_valid(to))
		return cli_usage(e, "unknown state '%s'; use active, draining, "
		    "readonly, degraded or retired", to);
	if (cap != NULL) {
		if (size_parse(cap, &capacity, &cause) != 0) {
			cli_usage(e, "%s", cause);
			free(cause);
			return EXIT_USAGE;
		}
		if (capacity == 0)
			return cli_usage(e, "capacity must be more than 0");
	}
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (to != NULL &&
	    state_slice_set_state(st, argv[optind], to, &cause) != 0)
		return cli_fail(cause);
	if (cap != NULL &&
	    state_slice_set_capacity(st, argv[optind], capacity, &cause) != 0)
		return cli_fail(cause);
	if (ops != NULL && state_slice_set_ops_capacity(st, argv[optind],
	    ops_capacity, &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("slice %s updated\n", argv[optind]);
	return EXIT_OK;
}

const struct cmd_entry cmd_slice_add_entry = {
	"slice", "add", "NAME --pair P --server S --path DIR --capacity SIZE",
	"add a slice served by a server of a pair", cmd_slice_add
};
const struct cmd_entry cmd_slice_list_entry = {
	"slice", "list", "", "list slices with their fill", cmd_slice_list
};
const struct cmd_entry cmd_slice_show_entry = {
	"slice", "show", "NAME", "show one slice", cmd_slice_show
};
const struct cmd_entry cmd_slice_set_entry = {
	"slice", "set", "NAME [--state STATE] [--capacity SIZE] "
	"[--ops-capacity N]",
	"change a slice's state, capacity or ops capacity", cmd_slice_set
};
