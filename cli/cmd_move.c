/* mailshift move and moves list|show|cancel|purge: accounts changing slice. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "common/json.h"
#include "common/layout.h"
#include "migrator/move.h"
#include "cli/output.h"
#include "state/state.h"
#include "state/move.h"
#include "state/queue.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by SIGINT or SIGTERM: a foreground move stops at a safe point. */
static volatile int stop_requested;

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Stop cleanly on SIGINT and SIGTERM: between files, never mid-cutover. */
static void
catch_stop_signals(struct move_drive *md)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	md->stop = &stop_requested;
}

/* Draw the progress bar of a running move on the terminal. */
static void
draw_progress(void *arg, const struct move_progress *p)
{
	char done[32], total[32], rate[32];
	double r = p->seconds > 0 ? (double)p->bytes_done / p->seconds : 0;
	double eta = r > 0 && p->bytes_total > p->bytes_done ?
	    (double)(p->bytes_total - p->bytes_done) / r : 0;
	int width = 24, fill;

	(void)arg;
	fill = p->bytes_total ? (int)((double)width * (double)p->bytes_done /
	    (double)p->bytes_total) : 0;
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r\033[K%-8s pass %d [%.*s%*s] %s / %s, %llu / %llu "
	    "files, %s/s, ETA %d:%02d", p->phase, p->pass, fill,
	    "########################", width - fill, "",
	    size_format(p->bytes_done, done, sizeof done),
	    size_format(p->bytes_total, total, sizeof total),
	    (unsigned long long)p->files_done,
	    (unsigned long long)p->files_total,
	    size_format((uint64_t)r, rate, sizeof rate), (int)eta / 60,
	    (int)eta % 60);
}

static void
print_result(struct cli *c, const char *user, const struct state_move *m,
    const struct move_result *r)
{
	struct json j;
	char size[32];

	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_int(&j, "id", r->id);
		json_string(&j, "user", user);
		json_string(&j, "from", m->source);
		json_string(&j, "to", m->target);
		json_string(&j, "state", state_move_state_name(r->state));
		json_uint(&j, "bytes", r->bytes);
		json_uint(&j, "files", r->files);
		json_uint(&j, "files_copied", r->files_copied);
		json_uint(&j, "bytes_copied", r->bytes_copied);
		json_int(&j, "passes", r->passes);
		json_double(&j, "copy_seconds", r->copy_seconds);
		if (r->lock_ms >= 0)
			json_int(&j, "lock_ms", r->lock_ms);
		else
			json_null(&j, "lock_ms");
		json_string(&j, "retired", *r->retired ? r->retired : NULL);
		json_bool(&j, "settled", r->settled);
		json_uint(&j, "late_carried", r->carried);
		json_object_close(&j);
		json_end(&j);
		return;
	}
	if (r->state == MOVE_DONE)
		printf("move %lld done: %s %s -> %s, %s, %llu files, %d "
		    "passes, %llu files copied, copy %.2f s, lock %lld ms\n",
		    (long long)r->id, user, m->source, m->target,
		    size_format(r->bytes, size, sizeof size),
		    (unsigned long long)r->files, r->passes,
		    (unsigned long long)r->files_copied, r->copy_seconds,
		    (long long)r->lock_ms);
	else
		printf("move %lld %s: %s %s -> %s, %d passes, %llu files "
		    "copied; held: release it with 'mailshift moves complete "
		    "%lld'\n", (long long)r->id, state_move_state_name(r->state),
		    user, m->source,
		    m->target, r->passes, (unsigned long long)r->files_copied,
		    (long long)r->id);
	if (*r->retired)
		printf("source retired to %s\n", r->retired);
	if (r->settled)
		printf("settle check: %llu late message%s carried to the "
		    "target\n", (unsigned long long)r->carried,
		    r->carried == 1 ? "" : "s");
	else if (r->settle_pending)
		printf("settle check pending: the daemon looks at the retired "
		    "source again after [move] settle\n");
}

static int
cmd_move(struct cli *c, const struct cmd_entry *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "wait", no_argument, NULL, 'w' },
		{ "hold", no_argument, NULL, 'h' },
		{ "complete-after", required_argument, NULL, 'a' },
		{ "bwlimit", required_argument, NULL, 'b' },
		{ "files-per-second", required_argument, NULL, 'f' },
		{ "verify", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct move_opts mo = { .config = &c->config };
	struct move_drive md = { 0 };
	struct move_result res;
	struct state_move m;
	struct state *st;
	struct layout *layout;
	const char *to = NULL, *user;
	char *cause = NULL, *end;
	int64_t id, after = 0;
	int ch, wait = 0, hold = 0, rc;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			to = optarg;
			break;
		case 'w':
			wait = 1;
			break;
		case 'h':
			hold = 1;
			break;
		case 'a':
			if (time_parse(optarg, now_unix(), TIME_AHEAD,
			    &after) != 0)
				return cli_usage(e, "--complete-after: bad "
				    "time '%s'; give a UTC time "
				    "(2026-11-24T02:00:00Z), a date "
				    "(2026-11-24) or a delay (30m, 2h, 1d)",
				    optarg);
			break;
		case 'b':
			if (size_parse(optarg, &mo.bytes_per_second, &cause)
			    != 0) {
				cli_usage(e, "--bwlimit: %s", cause);
				free(cause);
				return EXIT_USAGE;
			}
			if (mo.bytes_per_second >
			    STATE_MOVE_MAX_BYTES_PER_SECOND)
				return cli_usage(e, "--bwlimit: '%s' is more "
				    "than 1P per second; give a smaller size, "
				    "or 0 for no limit", optarg);
			break;
		case 'f':
			errno = 0;
			mo.files_per_second = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0')
				return cli_usage(e, "--files-per-second: give "
				    "a whole number");
			if (errno == ERANGE || mo.files_per_second >
			    STATE_MOVE_MAX_FILES_PER_SECOND)
				return cli_usage(e, "--files-per-second: '%s' "
				    "is out of range; give at most %llu, or 0 "
				    "for no limit", optarg,
				    STATE_MOVE_MAX_FILES_PER_SECOND);
			break;
		case 'v':
			if (strcmp(optarg, "content") == 0)
				mo.verify_content = 1;
			else if (strcmp(optarg, "listing") != 0)
				return cli_usage(e, "--verify: use listing or "
				    "content");
			break;
		default:
			return cli_bad_option(e, ch, argc, argv);
		}
	}
	if (argc - optind != 1)
		return cli_operand_count(e, argc, argv, optind, "user");
	user = argv[optind];
	if (to == NULL)
		return cli_usage(e, "missing --to SLICE");
	if (!cli_name_ok(to))
		return cli_usage(e, "bad slice name '%s'", to);
	if ((layout = cli_layout(c)) == NULL ||
	    (st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;

	/* An open move of this user to the same slice is resumed. */
	rc = state_move_find_open(st, user, &m, &cause);
	if (rc < 0)
		return cli_fail(cause);
	if (rc == 0 && strcmp(m.target, to) != 0) {
		cli_error("account '%s' is already moving to slice '%s' (move "
		    "%lld, %s); wait for it or cancel it with 'mailshift "
		    "moves cancel %lld'", user, m.target, (long long)m.id,
		    state_move_state_name(m.state), (long long)m.id);
		state_move_free(&m);
		return EXIT_FAIL;
	}
	if (rc == 0) {
		id = m.id;
		state_move_free(&m);
		if (!wait)
			return cli_error("account '%s' is already moving to "
			    "'%s' (move %lld); add --wait to run it here",
			    user, to, (long long)id);
	} else {
		/* A finished move to this slice: finish its retirement
		 * if a crash left it undone, and report it. */
		if (wait && state_move_find_last(st, user, &m, NULL) == 0) {
			if (m.state == MOVE_DONE &&
			    strcmp(m.target, to) == 0) {
				id = m.id;
				state_move_free(&m);
				goto run;
			}
			state_move_free(&m);
		}
		if (move_queue(st, layout, user, to, hold, after, &mo, &id,
		    &cause) != 0)
			return cli_fail(cause);
		if (!wait) {
			if (!c->json)
				printf("move %lld queued: %s to slice %s; the "
				    "daemon will run it%s\n", (long long)id,
				    user, to, mo.bytes_per_second ||
				    mo.files_per_second ? " within its "
				    "--bwlimit / --files-per-second" : "");
			return EXIT_OK;
		}
	}
run:
	md.settle_wait = 1;
	catch_stop_signals(&md);
	if (isatty(STDERR_FILENO) && !c->json) {
		mo.progress = draw_progress;
		mo.arg = c;
	}
	rc = move_run(st, id, &mo, &md, &res, &cause);
	if (mo.progress != NULL)
		fputs("\r\033[K", stderr);
	if (rc != 0)
		return cli_fail(cause);
	if (state_move_get(st, id, &m, &cause) != 0)
		return cli_fail(cause);
	print_result(c, user, &m, &res);
	state_move_free(&m);
	return EXIT_OK;
}

static void
move_json(struct json *j, const struct state_move *m)
{
	char t[32];

	json_int(j, "id", m->id);
	json_string(j, "user", m->user);
	json_string(j, "from", m->source);
	json_string(j, "to", m->target);
	json_string(j, "state", state_move_state_name(m->state));
	json_uint(j, "bytes_total", m->bytes_total);
	json_uint(j, "files_total", m->files_total);
	json_uint(j, "bytes_done", m->bytes_done);
	json_uint(j, "files_done", m->files_done);
	json_int(j, "passes", m->passes);
	json_int(j, "attempts", m->attempts);
	json_bool(j, "hold", m->hold);
	if (m->lock_ms >= 0)
		json_int(j, "lock_ms", m->lock_ms);
	else
		json_null(j, "lock_ms");
	json_int(j, "copy_ms", m->copy_ms);
	json_string(j, "error", m->error);
	json_string(j, "retired", m->retired_path);
	json_string(j, "created", time_format(m->created, t, sizeof t));
	json_string(j, "finished", m->finished ? time_format(m->finished, t,
	    sizeof t) : NULL);
}

static int
move_row(const struct state_move *m, void *arg)
{
	struct listing *l = arg;
	char id[24], passes[24], progress[64], lock[24], a[32], b[32];

	if (l->json) {
		json_object_open(&l->j, NULL);
		move_json(&l->j, m);
		json_object_close(&l->j);
		return 0;
	}
	snprintf(id, sizeof id, "%lld", (long long)m->id);
	snprintf(passes, sizeof passes, "%lld", (long long)m->passes);
	snprintf(progress, sizeof progress, "%s / %s",
	    size_format(m->bytes_done, a, sizeof a),
	    size_format(m->bytes_total, b, sizeof b));
	if (m->lock_ms >= 0)
		snprintf(lock, sizeof lock, "%lld ms", (long long)m->lock_ms);
	else
		snprintf(lock, sizeof lock, "-");
	table_add(l->t, (const char *[]){ id, m->user, m->source, m->target,
	    state_move_state_name(m->state), progress, passes, lock,
	    m->error });
	return 0;
}

static int
cmd_moves_list(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	enum move_state ms;
	int state = -1;
	struct listing l;
	struct state *st;
	char *cause = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 's') {
			if (state_move_state_parse(optarg, &ms) != 0)
				return cli_usage(e, "--state: no move state "
				    "'%s' (queued, copying, syncing, ready, "
				    "cutover, done, failed, cancelled)", optarg);
			state = (int)ms;
		} else
			return cli_bad_option(e, ch, argc, argv);
	}
	if (optind != argc)
		return cli_usage(e, "unexpected argument '%s'", argv[optind]);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	listing_start(&l, c->json, 9, (const char *[]){ "ID", "USER", "FROM",
	    "TO", "STATE", "PROGRESS", "PASSES", "LOCK", "LAST ERROR" },
	    "rllllrrrl");
	if (state_move_list(st, state, move_row, &l, &cause) != 0) {
		listing_abort(&l);
		return cli_fail(cause);
	}
	listing_end(&l);
	return EXIT_OK;
}

static int
event_row(int64_t ts, const char *kind, const char *msg, void *arg)
{
	struct json *j = arg;
	char t[32];

	time_format(ts, t, sizeof t);
	if (j != NULL) {
		json_object_open(j, NULL);
		json_string(j, "time", t);
		json_string(j, "kind", kind);
		json_string(j, "message", msg);
		json_object_close(j);
	} else
		printf("  %s  %-14s %s\n", t, kind, msg);
	return 0;
}

/* Parse a move id argument. */
static int
move_id(const char *s, int64_t *id)
{
	char *end;

	*id = strtoll(s, &end, 10);
	return *s >= '1' && *s <= '9' && *end == '\0' ? 0 : -1;
}

static int
cmd_moves_show(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state_move m;
	struct state *st;
	struct json j;
	char *cause = NULL, a[32], b[32], t[32];
	int64_t id;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2 || move_id(argv[1], &id) != 0)
		return cli_usage(e, "give one move id");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_move_get(st, id, &m, &cause) != 0)
		return cli_fail(cause);
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		move_json(&j, &m);
		json_array_open(&j, "events");
		state_move_events(st, id, event_row, &j, NULL);
		json_array_close(&j);
		json_object_close(&j);
		json_end(&j);
	} else {
		kv_print(stdout, "move", "%lld", (long long)m.id);
		kv_print(stdout, "user", "%s", m.user);
		kv_print(stdout, "from", "%s (%s/%s)", m.source,
		    m.source_root, m.source_path);
		kv_print(stdout, "to", "%s (%s/%s)", m.target, m.target_root,
		    m.target_path);
		kv_print(stdout, "state", "%s%s", state_move_state_name(m.state), m.hold ?
		    " (held)" : "");
		kv_print(stdout, "progress", "%s of %s, %llu of %llu files",
		    size_format(m.bytes_done, a, sizeof a),
		    size_format(m.bytes_total, b, sizeof b),
		    (unsigned long long)m.files_done,
		    (unsigned long long)m.files_total);
		kv_print(stdout, "passes", "%lld", (long long)m.passes);
		kv_print(stdout, "attempts", "%lld", (long long)m.attempts);
		kv_print(stdout, "copy time", "%.2f s", (double)m.copy_ms /
		    1000);
		if (m.lock_ms >= 0)
			kv_print(stdout, "lock time", "%lld ms",
			    (long long)m.lock_ms);
		kv_print(stdout, "last error", "%s", m.error ? m.error : "-");
		kv_print(stdout, "retired", "%s%s", m.retired_path ?
		    m.retired_path : "-", m.purged_at ? " (purged)" : "");
		kv_print(stdout, "created", "%s", time_format(m.created, t,
		    sizeof t));
		printf("events:\n");
		state_move_events(st, id, event_row, NULL, NULL);
	}
	state_move_free(&m);
	return EXIT_OK;
}

static int
cmd_moves_cancel(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state_move m;
	struct state *st;
	char *cause = NULL;
	int64_t id;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2 || move_id(argv[1], &id) != 0)
		return cli_usage(e, "give one move id");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_move_claim(st, id, (int64_t)getpid(), &cause) != 0) {
		/* Running (in the daemon): ask it to stop and cancel. */
		free(cause);
		cause = NULL;
		if (state_queue_set_paused(st, id, 2, &cause) != 0)
			return cli_fail(cause);
		if (!c->json)
			printf("move %lld: cancellation requested; the process "
			    "running it stops within seconds\n",
			    (long long)id);
		return EXIT_OK;
	}
	if (state_move_get(st, id, &m, &cause) != 0)
		return cli_fail(cause);
	if (state_move_fail(st, id, MOVE_CANCELLED, "cancelled by the admin",
	    &cause) != 0) {
		state_move_free(&m);
		return cli_fail(cause);
	}
	state_move_release(st, id);
	if (!c->json)
		printf("move %lld cancelled; the copy on slice %s (%s/%s) is "
		    "kept: 'mailshift move %s --to %s' takes it up, or remove "
		    "it\n", (long long)id, m.target, m.target_root,
		    m.target_path, m.user, m.target);
	state_move_free(&m);
	return EXIT_OK;
}

static int
cmd_moves_complete(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state *st;
	char *cause = NULL;
	int64_t id;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2 || move_id(argv[1], &id) != 0)
		return cli_usage(e, "give one move id");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_move_set_hold(st, id, 0, &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("move %lld released for cutover\n", (long long)id);
	return EXIT_OK;
}

struct pending {
	int64_t	*ids;
	size_t	 n;
	int	 archive;	/* [retention] archive = zstd */
};

/* Open moves, and done ones whose retirement is not finished (the source
 * not renamed aside, its settle check not run, or not archived yet). */
static int
pending_cb(const struct state_move *m, void *arg)
{
	struct pending *p = arg;
	int unfinished = m->state == MOVE_DONE && m->purged_at == 0 &&
	    (m->retired_path == NULL || m->settled_at == 0 || (p->archive &&
	    strstr(m->retired_path, ".tar.zst") == NULL));

	if (!state_move_state_open(m->state) && !unfinished)
		return 0;
	p->ids = xrealloc(p->ids, (p->n + 1) * sizeof *p->ids);
	p->ids[p->n++] = m->id;
	return 0;
}

/* Run every open move here, oldest first, one after the other. */
static int
cmd_moves_run(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct move_opts mo = { .config = &c->config };
	struct move_drive md = { 0 };
	struct pending p = { NULL, 0, c->config.archive_zstd };
	struct move_result res;
	struct state_move m;
	struct state *st;
	char *cause = NULL;
	int64_t *settle_ids = NULL;
	size_t i, settle_n = 0;
	int failed = 0;

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 1)
		return cli_usage(e, "moves run takes no arguments");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_move_list(st, -1, pending_cb, &p, &cause) != 0)
		return cli_fail(cause);
	if (isatty(STDERR_FILENO) && !c->json)
		mo.progress = draw_progress;
	catch_stop_signals(&md);
	for (i = p.n; i > 0 && !stop_requested; i--) {
		/* A plan's move into a slice short of room waits for the
		 * move out of it that makes the room. */
		if (state_move_get(st, p.ids[i - 1], &m, NULL) == 0) {
			struct state_move w;
			int waits = 0;

			if (m.after_move != 0 && state_move_get(st,
			    m.after_move, &w, NULL) == 0) {
				waits = w.state != MOVE_DONE;
				state_move_free(&w);
			}
			if (waits) {
				cli_error("move %lld waits for move %lld, "
				    "which is not done; skipped",
				    (long long)m.id, (long long)m.after_move);
				state_move_free(&m);
				failed++;
				continue;
			}
			state_move_free(&m);
		}
		if (move_run(st, p.ids[i - 1], &mo, &md, &res, &cause) != 0) {
			if (mo.progress != NULL)
				fputs("\r\033[K", stderr);
			cli_fail(cause);
			cause = NULL;
			failed++;
			continue;
		}
		if (mo.progress != NULL)
			fputs("\r\033[K", stderr);
		if (state_move_get(st, p.ids[i - 1], &m, NULL) == 0) {
			if (!c->json)
				print_result(c, m.user, &m, &res);
			state_move_free(&m);
		}
		if (res.settle_pending) {
			settle_ids = xrealloc(settle_ids, (settle_n + 1) *
			    sizeof *settle_ids);
			settle_ids[settle_n++] = p.ids[i - 1];
		}
	}
	/* Then the settle checks, oldest switch first, each when due. */
	md.settle_wait = 1;
	for (i = 0; i < settle_n && !stop_requested; i++) {
		if (move_run(st, settle_ids[i], &mo, &md, &res, &cause) !=
		    0) {
			cli_fail(cause);
			cause = NULL;
			failed++;
		} else if (!c->json && res.settled)
			printf("move %lld: settle check: %llu late message%s "
			    "carried\n", (long long)settle_ids[i],
			    (unsigned long long)res.carried, res.carried == 1 ?
			    "" : "s");
	}
	free(p.ids);
	free(settle_ids);
	if (!c->json)
		printf("%zu moves run, %d failed\n", p.n, failed);
	return failed ? EXIT_FAIL : EXIT_OK;
}

static int
cmd_moves_purge(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct state *st;
	uint64_t keep = c->config.retention_keep, n;
	char *cause = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'o')
			return cli_bad_option(e, ch, argc, argv);
		if (duration_parse(optarg, &keep, &cause) != 0) {
			cli_usage(e, "%s", cause);
			free(cause);
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage(e, "unexpected argument '%s'", argv[optind]);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (move_purge(st, (int64_t)keep, &n, &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("purged %llu retired source%s older than %llu s\n",
		    (unsigned long long)n, n == 1 ? "" : "s",
		    (unsigned long long)keep);
	return EXIT_OK;
}

const struct cmd_entry cmd_move_entry = {
	"move", NULL, "USER --to SLICE [--wait] [--hold] [--complete-after "
	"TIME] [--bwlimit SIZE] [--files-per-second N] [--verify=content]",
	"queue a move of an account (run it here with --wait)", cmd_move
};
const struct cmd_entry cmd_moves_list_entry = {
	"moves", "list", "[--state STATE]", "list moves, newest first",
	cmd_moves_list
};
const struct cmd_entry cmd_moves_show_entry = {
	"moves", "show", "ID", "show a move and its events", cmd_moves_show
};
const struct cmd_entry cmd_moves_cancel_entry = {
	"moves", "cancel", "ID", "cancel an open move", cmd_moves_cancel
};
const struct cmd_entry cmd_moves_complete_entry = {
	"moves", "complete", "ID", "release a held move for its cutover",
	cmd_moves_complete
};
const struct cmd_entry cmd_moves_run_entry = {
	"moves", "run", "", "run every open move here, oldest first (what the "
	"daemon does, in the foreground)", cmd_moves_run
};
const struct cmd_entry cmd_moves_purge_entry = {
	"moves", "purge", "[--older-than DURATION]",
	"delete retired sources past the retention period", cmd_moves_purge
};
