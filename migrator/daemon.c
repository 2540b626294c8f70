/* The copier daemon's loop, signals, reload and its lock on the catalog:
 * see daemon.h and daemon_int.h. */
#define _GNU_SOURCE
#include "migrator/daemon.h"
#include "migrator/daemon_int.h"
#include "migrator/autofail.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "migrator/health.h"
#include "migrator/loadwatch.h"
#include "migrator/presence.h"
#include "migrator/throttle.h"
#include "migrator/watch.h"
#include "state/state.h"
#include "state/daemon.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * How long a stop waits for the threads: a move stops at its next safe
 * point within seconds, unless it is in its cutover (lock_timeout at
 * most, with the hooks); a presence command ends at its timeout. Under
 * the example unit's TimeoutStopSec (60 s) with the default settings.
 */
#define STOP_GRACE 45

static int64_t
stop_grace(const struct config *cfg)
{
	int64_t cutover = (int64_t)(cfg->lock_timeout + cfg->hook_timeout) +
	    5;

	return cutover > STOP_GRACE ? cutover : STOP_GRACE;
}

static void
heartbeat(struct daemon *d, int64_t stopped)
{
	struct state_daemon s = { .pid = getpid(), .started = d->started,
	    .heartbeat = now_unix(), .stopped = stopped,
	    .running = d->sched.nw, .bytes = d->sched.bytes,
	    .files = d->sched.files, .listen = d->cfg.listen };
	char *cause = NULL;

	d->last_heartbeat = s.heartbeat;
	if (state_daemon_update(d->st, &s, &cause) != 0) {
		log_warnx("cannot record status: %s", cause);
		free(cause);
	}
}

/* Apply the window in force: its rates, for moves in flight too. */
static void
apply_window(struct daemon *d)
{
	const struct config_window *w = config_window_at(&d->cfg,
	    now_unix());
	const char *name = w ? w->name : NULL;
	uint64_t *rates = d->sched.window;

	rates[0] = w ? w->bytes_per_second : d->cfg.bytes_per_second;
	rates[1] = w ? w->files_per_second : d->cfg.files_per_second;
	if ((name == NULL) != (d->window == NULL) || (name != NULL &&
	    strcmp(name, d->window) != 0)) {
		log_info("window: %s (%llu bytes/s, %llu files/s, cutovers %s)",
		    name ? name : "none", (unsigned long long)rates[0],
		    (unsigned long long)rates[1], w == NULL || w->cutover ?
		    "allowed" : "not allowed");
		d->window = name;
	}
}

/* Leave the loop once every thread has ended, or when the stop has
 * waited long enough (daemon_run then leaves the stragglers alone). */
static void
maybe_exit(struct daemon *d)
{
	int busy = sched_busy(&d->sched) + presence_busy(d->presence);

	if (busy == 0)
		event_base_loopexit(d->base, NULL);
	else if (now_unix() >= d->stop_at) {
		log_warnx("%d thread(s) still running %llds after the stop",
		    busy, (long long)stop_grace(&d->cfg));
		event_base_loopexit(d->base, NULL);
	}
}

/* Start no more moves, stop those in flight at a safe point. */
static void
begin_stop(struct daemon *d)
{
	sched_stop(&d->sched);
	d->stop_at = now_unix() + stop_grace(&d->cfg);
	maybe_exit(d);
}

/* Is the catalog file still the one we opened? (A server's catalog has
 * no file: its session and its lock say it.) */
static int
catalog_same(struct daemon *d)
{
	struct stat sb;

	if (!d->is_file)
		return 1;
	return stat(d->db, &sb) == 0 && sb.st_dev == d->db_dev &&
	    sb.st_ino == d->db_ino;
}

/* Something changed in the catalog: pick now. Waiting moves only have
 * their gates judged again; a change runs no delta pass. */
static void
catalog_changed(struct daemon *d, int64_t v)
{
	log_debug("the catalog changed (data_version %lld)", (long long)v);
	d->data_version = v;
	sched_check_paused(&d->sched);
	sched_run(&d->sched, now_unix());
}

/* Lost the one-daemon lock with the old session, and another daemon took
 * it meanwhile: stop (true). */
static int
lock_lost(struct daemon *d)
{
	if (!state_daemon_lock_lost(d->st))
		return 0;
	if (!d->sched.stopping) {
		log_warnx("lost the daemon lock of catalog %s while it was "
		    "unreachable, and another daemon holds it now; stopping",
		    state_name(d->st));
		begin_stop(d);
	}
	return 1;
}

/* The catalog server's notification (LISTEN/NOTIFY): another session
 * committed a change. */
static void
on_changed(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int64_t v;

	(void)fd;
	(void)what;
	if (d->sched.stopping)
		return;
	v = state_data_version(d->st);
	if (lock_lost(d))
		return;
	if (v >= 0 && v != d->data_version)
		catalog_changed(d, v);
}

/* Watch the catalog server's socket; again after every reconnect (a new
 * session may get the same descriptor number). */
static void
watch_catalog(struct daemon *d)
{
	int fd = state_notify_fd(d->st);
	int64_t epoch = state_session_epoch(d->st);

	if (fd == d->changed_fd && epoch == d->changed_epoch)
		return;
	d->changed_epoch = epoch;
	if (d->changed != NULL) {
		event_free(d->changed);
		d->changed = NULL;
	}
	d->changed_fd = fd;
	if (fd < 0)
		return;
	if ((d->changed = event_new(d->base, fd, EV_READ | EV_PERSIST,
	    on_changed, d)) != NULL)
		event_add(d->changed, NULL);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int64_t v, now = now_unix();
	struct sched *s = &d->sched;

	(void)fd;
	(void)what;
	sched_reap(s);
	if (s->stopping) {
		maybe_exit(d);
		return;
	}
	if (!catalog_same(d)) {
		log_warnx("the catalog %s was removed or replaced; stopping "
		    "(start the daemon again on the new one)", d->db);
		begin_stop(d);
		return;
	}
	/* An unreachable catalog server is tried again with back-off
	 * (1, 2, 4, 8, then every 10 s: a promoted standby is found within
	 * 10 s); meanwhile nothing reads or writes it. */
	if (d->catalog_down && now < d->catalog_retry)
		return;
	apply_window(d);
	presence_poll(d->presence, d->cfg.presence_sources, now);
	v = state_data_version(d->st);
	/* Reading may have reconnected, and the lock may be gone with the
	 * old session: nothing more is done then. */
	if (lock_lost(d))
		return;
	watch_catalog(d);
	/* The health watch probes on its own threads; judging it and
	 * telling the catalog is done here, while the catalog answers. */
	if (v >= 0) {
		watch_tick(d->watch, d->st, v, now);
		autofail_tick(d->autofail, d->health, d->watch, d->st,
		    monotonic_now());
		loadwatch_tick(d->loads, d->st, &d->cfg, now);
	}
	if (v >= 0)
		sched_refresh_failover(s);
	sched_apply_health(s);
	if (v < 0) {
		/* The catalog server is unreachable: moves stay where they
		 * are (every worker stops at its next catalog write, at a
		 * point it resumes from). */
		d->catalog_wait = d->catalog_wait == 0 ? 1 :
		    d->catalog_wait * 2 > 10 ? 10 : d->catalog_wait * 2;
		d->catalog_retry = now + d->catalog_wait;
		if (!d->catalog_down || d->catalog_wait == 10)
			log_warnx("catalog %s unreachable; trying again in "
			    "%llds", state_name(d->st),
			    (long long)d->catalog_wait);
		d->catalog_down = 1;
		return;
	} else if (d->catalog_down) {
		log_info("catalog %s reachable again", state_name(d->st));
		d->catalog_down = 0;
		d->catalog_wait = 0;
		catalog_changed(d, v);
	} else if (v != d->data_version) {
		/* Something changed (a release, presence, a new move). */
		catalog_changed(d, v);
	} else if (now - s->last_run >= DAEMON_RESCHEDULE ||
	    s->nwaiting > 0 || (s->next_wake != 0 && now >= s->next_wake))
		/* While moves wait at ready, every tick: a user going idle
		 * or a window opening changes no catalog row. */
		sched_run(s, now);
	if (now - d->last_heartbeat >= DAEMON_HEARTBEAT)
		heartbeat(d, 0);
	/* The purge removes trees: on a thread, never on the loop. */
	if (now - d->last_purge >= DAEMON_PURGE) {
		d->last_purge = now;
		if (sched_purge(s) != 0)
			log_debug("purge: not started (one still runs)");
	}
}

static void
on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof buf) > 0)
		;
	sched_reap(&d->sched);
	if (d->sched.stopping) {
		maybe_exit(d);
		return;
	}
	sched_run(&d->sched, now_unix());
}

static void
swap_str(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/*
 * SIGHUP: read the configuration again; keep the old one on errors.
 * Everything applies at once but the catalog's path (a restart).
 */
static void
reload(struct daemon *d)
{
	struct config n;
	char *cause = NULL;
	int restart;

	config_defaults(&n);
	if (d->config_file != NULL && config_load(d->config_file,
	    d->required, &n, &cause) != 0) {
		log_warnx("SIGHUP: the new configuration has errors, keeping "
		    "the old one:\n%s", cause);
		free(cause);
		config_free(&n);
		return;
	}
	/* A new listen address is bound now; the old one stays served
	 * if it cannot be. */
	if (strcmp(n.listen, d->cfg.listen) != 0) {
		if (http_rebind(d, n.listen, &cause) == 0)
			log_info("SIGHUP: status %s %s (was %s)",
			    strcmp(n.listen, "off") == 0 ? "is now" :
			    "now on", n.listen, d->cfg.listen);
		else {
			log_warnx("SIGHUP: [daemon] listen = %s: %s; still "
			    "serving on %s", n.listen, cause, d->cfg.listen);
			free(cause);
			cause = NULL;
			swap_str(&n.listen, &d->cfg.listen);
		}
	}
	/* Another catalog takes a restart: the one open stays. */
	restart = strcmp(n.catalog, d->cfg.catalog) != 0;
	if (restart) {
		log_warnx("SIGHUP: [catalog] path is now %s, but the daemon "
		    "keeps running on catalog %s: restart it to use the new "
		    "one", n.catalog, d->db);
		swap_str(&n.catalog, &d->cfg.catalog);
	}
	config_free(&d->cfg);
	d->cfg = n;
	log_init(d->cfg.log_syslog, d->cfg.log_debug);
	presence_reload(d->presence, &d->cfg);
	watch_reload(d->watch, &d->cfg);
	autofail_reload(d->autofail, &d->cfg);
	d->window = NULL;
	apply_window(d);
	log_info("SIGHUP: configuration reloaded from %s; moves in flight "
	    "keep theirs until they end%s", d->config_file ? d->config_file :
	    "the built-in defaults", restart ? "; [catalog] path waits for "
	    "a restart" : "");
	sched_run(&d->sched, now_unix());
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	if (d->sched.stopping)
		return;
	log_info("%s: stopping %d moves at a safe point", sig == SIGTERM ?
	    "SIGTERM" : "SIGINT", d->sched.nw);
	begin_stop(d);
}

/* The daemon's own copy of the caller's configuration. */
static void
config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->file = src->file ? xstrdup(src->file) : NULL;
	dst->catalog = xstrdup(src->catalog);
	dst->layout = xstrdup(src->layout);
	dst->listen = xstrdup(src->listen);
	dst->presence_command = src->presence_command ?
	    xstrdup(src->presence_command) : NULL;
	dst->hook_after_lock = src->hook_after_lock ?
	    xstrdup(src->hook_after_lock) : NULL;
	dst->hook_after_switch = src->hook_after_switch ?
	    xstrdup(src->hook_after_switch) : NULL;
	dst->hook_on_health = src->hook_on_health ?
	    xstrdup(src->hook_on_health) : NULL;
	dst->proc_root = src->proc_root ? xstrdup(src->proc_root) : NULL;
	dst->failover_fence = src->failover_fence ?
	    xstrdup(src->failover_fence) : NULL;
	dst->failover_promote = src->failover_promote ?
	    xstrdup(src->failover_promote) : NULL;
	dst->failover_after_hook = src->failover_after_hook ?
	    xstrdup(src->failover_after_hook) : NULL;
}

/* Set up everything the loop needs; 0, or -1 with a cause. */
static int
daemon_setup(struct daemon *d, char **cause)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	struct timeval one = { 1, 0 };
	struct stat sb;
	int i;

	if ((d->st = state_open(d->db, 0, cause)) == NULL ||
	    state_daemon_lock(d->st, cause) != 0)
		return -1;
	d->locked = 1;
	d->sched.st = d->st;
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return fail(cause, "pipe: %s", strerror(errno));
	d->sched.notify = d->pipe[1];
	if ((d->base = event_base_new()) == NULL)
		return fail(cause, "cannot start the event loop");
	if ((d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d)) ==
	    NULL || (d->notify = event_new(d->base, d->pipe[0], EV_READ |
	    EV_PERSIST, on_notify, d)) == NULL)
		return fail(cause, "cannot set up the event loop");
	event_add(d->tick, &one);
	event_add(d->notify, NULL);
	for (i = 0; i < 3; i++) {
		if ((d->sig[i] = evsignal_new(d->base, sigs[i], on_signal,
		    d)) == NULL)
			return fail(cause, "cannot set up signal handling");
		event_add(d->sig[i], NULL);
	}
	if (http_start(d, cause) != 0)
		return -1;
	d->changed_fd = -1;
	watch_catalog(d);
	if (!(d->is_file = strcmp(state_engine(d->st), "sqlite") == 0))
		return 0;
	if (stat(d->db, &sb) != 0)
		return fail(cause, "catalog %s: %s", d->db, strerror(errno));
	d->db_dev = sb.st_dev;
	d->db_ino = sb.st_ino;
	return 0;
}

/*
 * Free everything, once no thread can touch it. A worker, the purge or
 * the presence command still running keeps what it may touch (the
 * daemon struct, the pipe, health and presence): returns -1 then, and
 * the process is about to exit anyway.
 */
static int
daemon_teardown(struct daemon *d)
{
	int i, left;

	if (d->st != NULL)
		sched_reap(&d->sched);
	left = sched_free(&d->sched) != 0;
	if (d->presence != NULL && presence_busy(d->presence)) {
		log_warnx("presence command: still running; exiting without "
		    "waiting for it");
		left = 1;
	}
	http_stop(d);
	for (i = 0; i < 3; i++) {
		if (d->sig[i] != NULL)
			event_free(d->sig[i]);
	}
	if (d->tick != NULL)
		event_free(d->tick);
	if (d->notify != NULL)
		event_free(d->notify);
	if (d->changed != NULL)
		event_free(d->changed);
	if (d->base != NULL)
		event_base_free(d->base);
	/* A straggler keeps the lock until the process is gone. */
	if (d->locked && !left)
		state_daemon_unlock(d->st);
	state_close(d->st);
	if (left)
		return -1;
	presence_free(d->presence);
	watch_free(d->watch);
	autofail_free(d->autofail);
	loadwatch_free(d->loads);
	health_free(d->health);
	if (d->pipe[0] >= 0) {
		close(d->pipe[0]);
		close(d->pipe[1]);
	}
	config_free(&d->cfg);
	free(d->db);
	free(d->config_file);
	free(d);
	return 0;
}

int
daemon_run(const char *db, const char *config_file, int required,
    const struct config *cfg, char **cause)
{
	struct daemon *d = xcalloc(1, sizeof *d);
	struct health_params hp;
	int64_t grace;
	int rc = -1;

	d->db = xstrdup(db);
	d->config_file = config_file ? xstrdup(config_file) : NULL;
	d->required = required;
	d->pipe[0] = d->pipe[1] = -1;
	config_copy(&d->cfg, cfg);
	log_init(d->cfg.log_syslog, d->cfg.log_debug);
	health_params_from(&hp, &d->cfg);
	d->health = health_new(&hp);
	d->watch = watch_new(d->health, &d->cfg);
	d->autofail = autofail_new(d->db, &d->cfg);
	d->loads = loadwatch_new();
	sched_init(&d->sched, NULL, d->db, &d->cfg, d->health, NULL, -1);
	apply_window(d);
	signal(SIGPIPE, SIG_IGN);
	if ((d->presence = presence_new(&d->cfg, cause)) == NULL)
		goto out;
	d->sched.presence = d->presence;
	if (daemon_setup(d, cause) != 0)
		goto out;
	d->started = now_unix();
	d->data_version = state_data_version(d->st);
	d->last_purge = d->started;
	heartbeat(d, 0);
	log_info("daemon started on catalog %s (moves: %llu at once, %llu "
	    "per source, %llu per target; status on %s)", state_name(d->st),
	    (unsigned long long)d->cfg.max_moves,
	    (unsigned long long)d->cfg.per_source,
	    (unsigned long long)d->cfg.per_target, d->cfg.listen);
	log_info("health watch: every slice probed every %.3gs (timeout "
	    "%.3gs), judged per %llus window", (double)d->cfg.health_interval_ms
	    / 1000, (double)d->cfg.health_timeout_ms / 1000,
	    (unsigned long long)d->cfg.health_window);
	if (d->cfg.load_interval > 0)
		log_info("load: every slice's I/O counters read every %llus "
		    "from %s", (unsigned long long)d->cfg.load_interval,
		    d->cfg.proc_root);
	else
		log_info("load: recorded only by discover ([capacity] "
		    "load_interval = 0)");
	sched_run(&d->sched, now_unix());
	event_base_dispatch(d->base);
	heartbeat(d, now_unix());
	if (sched_busy(&d->sched) == 0 && !presence_busy(d->presence))
		log_info("daemon stopped; every move is resumable");
	rc = 0;
out:
	grace = stop_grace(&d->cfg);
	if (daemon_teardown(d) != 0) {
		if (rc == 0)
			rc = fail(cause, "threads did not stop within %llds; "
			    "exiting without them (every move resumes at the "
			    "next start)", (long long)grace);
	}
	return rc;
}
