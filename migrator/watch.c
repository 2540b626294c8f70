/* The daemon's health watch, put together: see watch.h. */
#define _GNU_SOURCE
#include "migrator/watch.h"
#include "common/command.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "migrator/health.h"
#include "migrator/probe.h"
#include "migrator/throttle.h"
#include "state/server.h"
#include "state/slice.h"
#include "state/state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RELIST 30		/* seconds between readings of the slices */
#define MAX_HOOKS 8		/* on_health commands running at once */

/* A slice watched, and the health the catalog was last told. */
struct wslice {
	int64_t		 id;
	char		*name;
	char		*server;
	char		*path;
	char		*account;	/* the one probed, or NULL */
	enum health_state written;
	int		 seen;		/* in the last reading */
};

/* A server of watched slices, and what the catalog was told of it. */
struct wserver {
	char		*name;
	enum health_state written;
};

struct watch {
	struct health	*h;
	struct probe_set *probes;
	struct wslice	*s;
	size_t		 n;
	struct wserver	*sv;
	size_t		 nsv;
	int64_t		 listed;	/* Unix time of the last reading */
	int64_t		 version;	/* data_version then */
	int		 seeded;	/* the catalog's health read */
	char		*hook;		/* [hooks] on_health, or NULL */
	double		 hook_timeout;
	pthread_mutex_t	 mu;		/* hooks below */
	int		 hooks;		/* running */
};

static enum health_state
health_parse(const char *s)
{
	if (s == NULL || strcmp(s, "ok") == 0)
		return HEALTH_OK;
	return strcmp(s, "unresponsive") == 0 ? HEALTH_UNRESPONSIVE :
	    HEALTH_DEGRADED;
}

struct watch *
watch_new(struct health *h, const struct config *cfg)
{
	struct watch *w = xcalloc(1, sizeof *w);

	w->h = h;
	w->probes = probe_new((double)cfg->health_interval_ms / 1000);
	pthread_mutex_init(&w->mu, NULL);
	watch_reload(w, cfg);
	return w;
}

void
watch_reload(struct watch *w, const struct config *cfg)
{
	struct health_params p;

	health_params_from(&p, cfg);
	health_set_params(w->h, &p);
	probe_interval(w->probes, (double)cfg->health_interval_ms / 1000);
	free(w->hook);
	w->hook = cfg->hook_on_health ? xstrdup(cfg->hook_on_health) : NULL;
	w->hook_timeout = (double)cfg->hook_timeout;
}

static struct wslice *
find(struct watch *w, int64_t id)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (w->s[i].id == id)
			return &w->s[i];
	}
	return NULL;
}

const char *
watch_slice_name(struct watch *w, int64_t id)
{
	struct wslice *s = find(w, id);

	return s ? s->name : NULL;
}

static void
wslice_free(struct wslice *s)
{
	free(s->name);
	free(s->server);
	free(s->path);
	free(s->account);
}

static int
on_slice(const struct state_slice *sl, void *arg)
{
	struct watch *w = arg;
	struct wslice *s;

	if (strcmp(sl->state, "retired") == 0)
		return 0;
	if ((s = find(w, sl->id)) == NULL) {
		w->s = xrealloc(w->s, (w->n + 1) * sizeof *w->s);
		s = &w->s[w->n++];
		memset(s, 0, sizeof *s);
		s->id = sl->id;
		s->name = xstrdup(sl->name);
		s->written = health_parse(sl->health);
		health_watch(w->h, s->id);
		if (s->written != HEALTH_OK)
			health_seed(w->h, s->id, s->written,
			    sl->health_reason);
	}
	free(s->server);
	free(s->path);
	s->server = xstrdup(sl->server ? sl->server : "");
	s->path = xstrdup(sl->path);
	s->seen = 1;
	return 0;
}

static int
on_server(const struct state_server *sv, void *arg)
{
	struct watch *w = arg;

	w->sv = xrealloc(w->sv, (w->nsv + 1) * sizeof *w->sv);
	w->sv[w->nsv].name = xstrdup(sv->name);
	w->sv[w->nsv++].written = health_parse(sv->health);
	return 0;
}

/* Read the slices (and, the first time, the servers) again; 0 ok. */
static int
relist(struct watch *w, struct state *st)
{
	struct probe_target *t;
	char *cause = NULL;
	size_t i, k;

	for (i = 0; i < w->n; i++)
		w->s[i].seen = 0;
	if (state_slice_list(st, on_slice, w, &cause) != 0) {
		log_warnx("health watch: cannot read the slices: %s", cause);
		free(cause);
		return -1;
	}
	if (!w->seeded) {
		if (state_server_list(st, on_server, w, &cause) != 0) {
			log_warnx("health watch: cannot read the servers: %s",
			    cause);
			free(cause);
			return -1;
		}
		w->seeded = 1;
	}
	/* Slices retired or removed: no longer watched. */
	for (i = 0; i < w->n;) {
		if (w->s[i].seen) {
			i++;
			continue;
		}
		health_forget(w->h, w->s[i].id);
		wslice_free(&w->s[i]);
		w->s[i] = w->s[--w->n];
	}
	t = xcalloc(w->n + 1, sizeof *t);
	for (i = k = 0; i < w->n; i++) {
		free(w->s[i].account);
		w->s[i].account = NULL;
		if (state_slice_probe_account(st, w->s[i].id,
		    &w->s[i].account, &cause) < 0) {
			log_debug("health watch: slice %s: %s", w->s[i].name,
			    cause);
			free(cause);
			cause = NULL;
		}
		t[k].slice = w->s[i].id;
		t[k].root = w->s[i].path;
		t[k++].account = w->s[i].account;
	}
	probe_sync(w->probes, t, k);
	free(t);
	return 0;
}

static void
on_done(void *arg, const struct probe_report *r)
{
	struct watch *w = arg;

	if (r->failed)
		health_probe_failed(w->h, r->slice, r->started + r->seconds,
		    r->error);
	else
		health_probe(w->h, r->slice, r->started + r->seconds,
		    r->seconds);
}

static void
on_busy(void *arg, int64_t slice, double started)
{
	struct watch *w = arg;

	health_inflight(w->h, slice, started);
}

/* One on_health run, on a thread of its own. */
struct hook_job {
	struct watch	*w;
	char		*command;
	double		 timeout;
	char		*what;		/* "slice s2", "server mx1" */
	char		*env[10];
};

static void *
hook_main(void *arg)
{
	struct hook_job *j = arg;
	struct command_result res;
	char *cause = NULL, *what;
	int i;

	if (command_run(j->command, NULL, (const char *const *)j->env,
	    j->timeout, 4096, &res, &cause) != 0) {
		log_warnx("%s: on_health hook '%s': %s", j->what,
		    j->command, cause);
		free(cause);
	} else {
		what = command_describe(&res);
		if (res.status == 0)
			log_info("%s: on_health hook exited 0 in %.0f ms",
			    j->what, res.seconds * 1000);
		else
			log_warnx("%s: on_health hook '%s' %s", j->what,
			    j->command, what);
		free(what);
		command_result_free(&res);
	}
	pthread_mutex_lock(&j->w->mu);
	j->w->hooks--;
	pthread_mutex_unlock(&j->w->mu);
	for (i = 0; j->env[i] != NULL; i++)
		free(j->env[i]);
	free(j->command);
	free(j->what);
	free(j);
	return NULL;
}

/* Run [hooks] on_health for a change of a slice (slice "": of the
 * server). */
static void
run_hook_event(struct watch *w, struct state *st, const char *slice,
    const char *server, const char *path, enum health_state from,
    enum health_state to, const char *reason, const char *event)
{
	struct hook_job *j;
	pthread_attr_t attr;
	pthread_t th;
	int i, busy;

	if (w->hook == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	busy = w->hooks >= MAX_HOOKS;
	if (!busy)
		w->hooks++;
	pthread_mutex_unlock(&w->mu);
	if (busy) {
		log_warnx("%s %s: on_health hook not run: %d still running",
		    *slice ? "slice" : "server", *slice ? slice : server,
		    MAX_HOOKS);
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->w = w;
	j->command = xstrdup(w->hook);
	j->timeout = w->hook_timeout;
	j->what = xasprintf("%s %s", *slice ? "slice" : "server", *slice ?
	    slice : server);
	j->env[0] = xstrdup("MAILSHIFT_HOOK=on_health");
	j->env[1] = xasprintf("MAILSHIFT_SLICE=%s", slice);
	j->env[2] = xasprintf("MAILSHIFT_HEALTH=%s", health_name(to));
	j->env[3] = xasprintf("MAILSHIFT_PREVIOUS=%s", health_name(from));
	j->env[4] = xasprintf("MAILSHIFT_REASON=%s", reason);
	j->env[5] = xasprintf("MAILSHIFT_SLICE_PATH=%s", path);
	j->env[6] = xasprintf("MAILSHIFT_SERVER=%s", server);
	j->env[7] = xasprintf("MAILSHIFT_CATALOG=%s", state_name(st));
	j->env[8] = xasprintf("MAILSHIFT_EVENT=%s", event ? event : "health");
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, hook_main, j) != 0) {
		log_warnx("%s: on_health hook not run: cannot start a thread",
		    j->what);
		pthread_mutex_lock(&w->mu);
		w->hooks--;
		pthread_mutex_unlock(&w->mu);
		for (i = 0; j->env[i] != NULL; i++)
			free(j->env[i]);
		free(j->command);
		free(j->what);
		free(j);
	}
	pthread_attr_destroy(&attr);
}

static void
run_hook(struct watch *w, struct state *st, const char *slice,
    const char *server, const char *path, enum health_state from,
    enum health_state to, const char *reason)
{
	run_hook_event(w, st, slice, server, path, from, to, reason, NULL);
}

void
watch_tell(struct watch *w, struct state *st, int64_t slice,
    const char *event, const char *reason)
{
	struct wslice *s = find(w, slice);
	enum health_state h = health_state_of(w->h, slice);

	if (s != NULL)
		run_hook_event(w, st, s->name, s->server, s->path, h, h,
		    reason, event);
}

/* Tell the catalog, the log and the hook what changed. */
static void
record_slices(struct watch *w, struct state *st, int64_t now)
{
	struct health_slice *v = xcalloc(w->n + 256, sizeof *v);
	struct wslice *s;
	char *cause = NULL;
	int i, n, changed;

	n = health_list(w->h, v, (int)w->n + 256);
	for (i = 0; i < n; i++) {
		if ((s = find(w, v[i].slice)) == NULL ||
		    v[i].state == s->written)
			continue;
		if (state_slice_set_health(st, s->id, health_name(v[i].state),
		    v[i].reason, now, &changed, &cause) != 0) {
			/* Told again at the next tick. */
			log_warnx("slice %s health: cannot record %s: %s",
			    s->name, health_name(v[i].state), cause);
			free(cause);
			cause = NULL;
			continue;
		}
		(v[i].state == HEALTH_OK ? log_info : log_warnx)("slice %s "
		    "health: %s -> %s (%s)", s->name, health_name(s->written),
		    health_name(v[i].state), v[i].reason);
		run_hook(w, st, s->name, s->server, s->path, s->written,
		    v[i].state, v[i].reason);
		s->written = v[i].state;
	}
	free(v);
}

/* A server with two or more watched slices, none of them ok, is
 * reported itself: unresponsive when all are, else degraded. */
static void
record_servers(struct watch *w, struct state *st, int64_t now)
{
	struct wserver *sv;
	enum health_state to, h;
	char *cause = NULL, *names, *more, *why;
	size_t i, k;
	int total, bad, dead, changed;

	for (k = 0; k < w->nsv; k++) {
		sv = &w->sv[k];
		total = bad = dead = 0;
		for (i = 0; i < w->n; i++) {
			if (strcmp(w->s[i].server, sv->name) != 0)
				continue;
			total++;
			h = health_state_of(w->h, w->s[i].id);
			bad += h != HEALTH_OK;
			dead += h == HEALTH_UNRESPONSIVE;
		}
		to = total >= 2 && bad == total ? dead == total ?
		    HEALTH_UNRESPONSIVE : HEALTH_DEGRADED : HEALTH_OK;
		if (to == sv->written)
			continue;
		if (to == HEALTH_OK)
			why = xasprintf("%d of its %d slices ok", total - bad,
			    total);
		else {
			names = xstrdup("");
			for (i = 0; i < w->n; i++) {
				if (strcmp(w->s[i].server, sv->name) != 0)
					continue;
				more = xasprintf("%s%s%s", names, *names ?
				    ", " : "", w->s[i].name);
				free(names);
				names = more;
			}
			why = xasprintf("all %d of its slices are %s: %s",
			    total, dead == total ? "unresponsive" : "not ok",
			    names);
			free(names);
		}
		if (state_server_set_health(st, sv->name, health_name(to), why,
		    now, &changed, &cause) != 0) {
			log_warnx("server %s health: cannot record %s: %s",
			    sv->name, health_name(to), cause);
			free(cause);
			cause = NULL;
			free(why);
			continue;
		}
		(to == HEALTH_OK ? log_info : log_warnx)("server %s health: "
		    "%s -> %s (%s)", sv->name, health_name(sv->written),
		    health_name(to), why);
		run_hook(w, st, "", sv->name, "", sv->written, to, why);
		sv->written = to;
		free(why);
	}
}

void
watch_tick(struct watch *w, struct state *st, int64_t data_version,
    int64_t now)
{
	if ((now - w->listed >= RELIST || data_version != w->version) &&
	    relist(w, st) == 0) {
		w->listed = now;
		w->version = data_version;
	}
	probe_collect(w->probes, on_done, on_busy, w);
	health_check(w->h, monotonic_now());
	record_slices(w, st, now);
	record_servers(w, st, now);
}

void
watch_free(struct watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	probe_free(w->probes);
	for (i = 0; i < w->n; i++)
		wslice_free(&w->s[i]);
	free(w->s);
	for (i = 0; i < w->nsv; i++)
		free(w->sv[i].name);
	free(w->sv);
	free(w->hook);
	/* A hook still running keeps the struct: the process ends soon. */
	pthread_mutex_lock(&w->mu);
	i = (size_t)w->hooks;
	pthread_mutex_unlock(&w->mu);
	if (i == 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
	}
}
