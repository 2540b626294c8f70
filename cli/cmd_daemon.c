/* mailshift daemon and status: the 24/7 copier and what it is doing. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "migrator/daemon.h"
#include "common/json.h"
#include "cli/output.h"
#include "state/state.h"
#include "state/account.h"
#include "state/daemon.h"
#include "state/metrics.h"
#include "state/move.h"
#include "state/queue.h"
#include "state/server.h"
#include "state/slice.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_daemon(struct cli *c, const struct cmd_entry *e, int argc, char **argv)
{
	struct state *st;
	char *cause = NULL;

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 1)
		return cli_usage(e, "daemon takes no arguments");
	/* Upgrade (or refuse) the catalog before anything starts. */
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (daemon_run(c->db, c->config.file ? c->config.file :
	    CONFIG_DEFAULT_FILE, c->config.file != NULL, &c->config,
	    &cause) != 0)
		return cli_fail(cause);
	return EXIT_OK;
}

int
cli_daemon_watching(struct state *st, int *watching, int64_t *seen,
    char **cause)
{
	struct state_daemon d;
	int rc;

	*watching = 0;
	*seen = 0;
	if ((rc = state_daemon_get(st, &d, cause)) < 0)
		return -1;
	if (rc == 1)
		return 0;
	*seen = d.stopped ? d.stopped : d.heartbeat;
	*watching = d.stopped == 0 && now_unix() - d.heartbeat <
	    CLI_DAEMON_STALE;
	free(d.listen);
	return 0;
}

/* What status says of health: every slice and server that is not ok. */
struct health_seen {
	struct json	*j;		/* JSON, or NULL for text */
	int		 n;		/* not ok */
};

static void
health_one(struct health_seen *h, const char *what, const char *name,
    const char *health, const char *reason, int64_t since)
{
	char when[32];

	if (strcmp(health, "ok") == 0)
		return;
	h->n++;
	if (h->j != NULL) {
		json_object_open(h->j, NULL);
		json_string(h->j, "name", name);
		json_string(h->j, "health", health);
		json_string(h->j, "reason", reason);
		json_string(h->j, "since", since ? time_format(since, when,
		    sizeof when) : NULL);
		json_object_close(h->j);
	} else
		kv_print(stdout, "health", "%s %s %s since %s%s%s", what, name,
		    health, since ? time_format(since, when, sizeof when) :
		    "-", *reason != '\0' ? ": " : "", reason);
}

static int
health_slice(const struct state_slice *s, void *arg)
{
	health_one(arg, "slice", s->name, s->health, s->health_reason,
	    s->health_since);
	return 0;
}

static int
health_server(const struct state_server *s, void *arg)
{
	health_one(arg, "server", s->name, s->health, s->health_reason,
	    s->health_since);
	return 0;
}

/* The health part of status, as JSON members or "health" lines. */
static int
status_health(struct state *st, struct json *j, char **cause)
{
	struct health_seen h = { .j = j };

	if (j != NULL) {
		json_object_open(j, "health");
		json_array_open(j, "slices");
	}
	if (state_slice_list(st, health_slice, &h, cause) != 0)
		return -1;
	if (j != NULL) {
		json_array_close(j);
		json_array_open(j, "servers");
	}
	if (state_server_list(st, health_server, &h, cause) != 0)
		return -1;
	if (j != NULL) {
		json_array_close(j);
		json_object_close(j);
	} else if (h.n == 0)
		kv_print(stdout, "health", "all slices ok");
	return 0;
}

static int
cmd_status(struct cli *c, const struct cmd_entry *e, int argc, char **argv)
{
	struct state_daemon d;
	struct state *st;
	struct json j;
	int64_t counts[MOVE_NSTATES], now = now_unix();
	char *cause = NULL, a[32], b[32];
	int rc, alive, i;

	(void)argv;
	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 1)
		return cli_usage(e, "status takes no arguments");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if ((rc = state_daemon_get(st, &d, &cause)) < 0 ||
	    state_metrics_move_counts(st, counts, &cause) != 0)
		return cli_fail(cause);
	alive = rc == 0 && d.stopped == 0 && (kill((pid_t)d.pid, 0) == 0 ||
	    errno == EPERM) && now - d.heartbeat < 30;
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_string(&j, "daemon", alive ? "running" : rc == 1 ?
		    "never ran" : "not running");
		if (rc == 0) {
			json_int(&j, "pid", d.pid);
			json_string(&j, "since", time_format(d.started, a,
			    sizeof a));
			json_string(&j, "heartbeat", time_format(d.heartbeat,
			    b, sizeof b));
			json_int(&j, "running", alive ? d.running : 0);
			json_uint(&j, "bytes_copied", d.bytes);
			json_uint(&j, "files_copied", d.files);
			json_string(&j, "listen", d.listen);
		}
		json_object_open(&j, "moves");
		for (i = 0; i < MOVE_NSTATES; i++)
			json_int(&j, state_move_state_name((enum move_state)i), counts[i]);
		json_object_close(&j);
		if (status_health(st, &j, &cause) != 0) {
			json_end(&j);
			goto bad;
		}
		json_object_close(&j);
		json_end(&j);
	} else {
		if (rc == 1)
			kv_print(stdout, "daemon", "never ran on this catalog");
		else if (alive)
			kv_print(stdout, "daemon", "running, pid %lld, since "
			    "%s, %lld moves in flight", (long long)d.pid,
			    time_format(d.started, a, sizeof a),
			    (long long)d.running);
		else
			kv_print(stdout, "daemon", "not running (last seen %s)",
			    time_format(d.stopped ? d.stopped : d.heartbeat, a,
			    sizeof a));
		if (rc == 0) {
			kv_print(stdout, "copied", "%s in %llu files since "
			    "start", size_format(d.bytes, b, sizeof b),
			    (unsigned long long)d.files);
			kv_print(stdout, "status", "http://%s/status",
			    d.listen ? d.listen : "off");
		}
		for (i = 0; i < MOVE_NSTATES; i++)
			kv_print(stdout, state_move_state_name((enum move_state)i), "%lld",
			    (long long)counts[i]);
		if (status_health(st, NULL, &cause) != 0)
			goto bad;
	}
	if (rc == 0)
		free(d.listen);
	return EXIT_OK;
bad:
	if (rc == 0)
		free(d.listen);
	return cli_fail(cause);
}

/* moves pause|resume ID: the daemon stops or restarts it within seconds. */
static int
cmd_moves_pause(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state *st;
	char *cause = NULL, *end;
	int64_t id;
	int pause = strcmp(e->sub, "pause") == 0;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(e, "give one move id");
	id = strtoll(argv[1], &end, 10);
	if (*argv[1] < '1' || *argv[1] > '9' || *end != '\0')
		return cli_usage(e, "bad move id '%s'", argv[1]);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_queue_set_paused(st, id, pause, &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("move %lld %s\n", (long long)id, pause ? "paused; a "
		    "running copy stops at its next file" : "resumed");
	return EXIT_OK;
}

/* mailshift presence USER online|offline: what an access server saw. */
static int
cmd_presence(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state *st;
	char *cause = NULL;
	int online;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 3)
		return cli_usage(e, "give a user and online or offline");
	if (strcmp(argv[2], "online") == 0)
		online = 1;
	else if (strcmp(argv[2], "offline") == 0)
		online = 0;
	else
		return cli_usage(e, "'%s': say online or offline", argv[2]);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_account_set_presence(st, argv[1], online, &cause) != 0)
		return cli_fail(cause);
	return EXIT_OK;
}

const struct cmd_entry cmd_presence_entry = {
	"presence", NULL, "USER online|offline",
	"record that a user logged in or out (for access servers)",
	cmd_presence
};
const struct cmd_entry cmd_daemon_entry = {
	"daemon", NULL, "", "run queued moves, 24/7 (stop with SIGTERM)",
	cmd_daemon
};
const struct cmd_entry cmd_status_entry = {
	"status", NULL, "", "what the daemon is doing, from the catalog",
	cmd_status
};
const struct cmd_entry cmd_moves_pause_entry = {
	"moves", "pause", "ID", "pause a move (the daemon stops it)",
	cmd_moves_pause
};
const struct cmd_entry cmd_moves_resume_entry = {
	"moves", "resume", "ID", "resume a paused move, or retry a failed one "
	"now", cmd_moves_pause
};
