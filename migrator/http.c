/* The daemon's read-only HTTP endpoint: /status, /metrics, 404. */
#define _GNU_SOURCE
#include "migrator/daemon_int.h"
#include "migrator/autofail.h"
#include "common/json.h"
#include "common/util.h"
#include "migrator/health.h"
#include "migrator/throttle.h"
#include "migrator/watch.h"
#include "state/metrics.h"
#include "state/move.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LISTED 2048		/* slices listed by /status and /metrics */


/* GET /status: the daemon, moves by state, moves in flight. */
static void
http_status(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *b = evbuffer_new();
	struct health_slice *hs = xcalloc(MAX_LISTED, sizeof *hs);
	int64_t counts[MOVE_NSTATES];
	struct json j;
	char *text = NULL, when[32];
	const char *name;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i, n;

	json_init(&j, f);
	json_object_open(&j, NULL);
	json_string(&j, "state", d->sched.stopping ? "stopping" : "running");
	json_int(&j, "pid", getpid());
	json_string(&j, "since", time_format(d->started, when, sizeof when));
	json_object_open(&j, "catalog");
	json_string(&j, "engine", state_engine(d->st));
	json_string(&j, "name", state_name(d->st));
	json_bool(&j, "reachable", !d->catalog_down);
	json_object_close(&j);
	json_uint(&j, "bytes_copied", d->sched.bytes);
	json_uint(&j, "files_copied", d->sched.files);
	json_object_open(&j, "moves");
	if (state_metrics_move_counts(d->st, counts, NULL) == 0) {
		for (i = 0; i < MOVE_NSTATES; i++)
			json_int(&j, state_move_state_name((enum move_state)i), counts[i]);
	}
	json_object_close(&j);
	json_array_open(&j, "running");
	for (i = 0; i < d->sched.nw; i++)
		json_int(&j, NULL, d->sched.w[i]->id);
	json_array_close(&j);
	n = health_list(d->health, hs, MAX_LISTED);
	json_array_open(&j, "health");
	for (i = 0; i < n; i++) {
		if ((name = watch_slice_name(d->watch, hs[i].slice)) == NULL)
			continue;
		json_object_open(&j, NULL);
		json_int(&j, "slice", hs[i].slice);
		json_string(&j, "name", name);
		json_string(&j, "state", health_name(hs[i].state));
		json_string(&j, "reason", hs[i].reason);
		json_double(&j, "seconds_in_state", monotonic_now() -
		    hs[i].since);
		json_double(&j, "p50", hs[i].p50);
		json_double(&j, "p99", hs[i].p99);
		json_double(&j, "baseline_p50", hs[i].base50);
		json_double(&j, "baseline_p99", hs[i].base99);
		json_double(&j, "peers_p50", hs[i].peers50);
		json_double(&j, "copier", hs[i].copier);
		json_uint(&j, "probes", hs[i].probes);
		json_uint(&j, "probes_failed", hs[i].failed);
		json_int(&j, "windows_judged", hs[i].judged);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_array_open(&j, "degraded");
	for (i = 0; i < n; i++) {
		if (hs[i].state == HEALTH_OK ||
		    (name = watch_slice_name(d->watch, hs[i].slice)) == NULL)
			continue;
		json_object_open(&j, NULL);
		json_int(&j, "slice", hs[i].slice);
		json_string(&j, "name", name);
		json_string(&j, "state", health_name(hs[i].state));
		json_string(&j, "reason", hs[i].reason);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_close(&j);
	json_end(&j);
	fclose(f);
	evbuffer_add(b, text, len);
	free(text);
	free(hs);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* The cutover lock-time histogram, from the catalog. */
static void
metrics_lock_histogram(struct daemon *d, struct evbuffer *b)
{
	static const int64_t bounds[] = { 10, 50, 100, 250, 500, 1000, 5000,
	    30000 };
	int64_t counts[9], sum, cum = 0;
	int k;

	if (state_metrics_lock_histogram(d->st, bounds, 8, counts, &sum,
	    NULL) != 0)
		return;
	evbuffer_add_printf(b, "# HELP mailshift_cutover_lock_seconds How "
	    "long accounts were locked at cutover.\n# TYPE "
	    "mailshift_cutover_lock_seconds histogram\n");
	for (k = 0; k < 8; k++) {
		cum += counts[k];
		evbuffer_add_printf(b, "mailshift_cutover_lock_seconds_bucket"
		    "{le=\"%g\"} %lld\n", (double)bounds[k] / 1000,
		    (long long)cum);
	}
	cum += counts[8];
	evbuffer_add_printf(b, "mailshift_cutover_lock_seconds_bucket"
	    "{le=\"+Inf\"} %lld\nmailshift_cutover_lock_seconds_sum %.3f\n"
	    "mailshift_cutover_lock_seconds_count %lld\n", (long long)cum,
	    (double)sum / 1000, (long long)cum);
}

/* A per-slice value for /metrics; negative: none to show. */
static double
m_health(const struct health_slice *h)
{
	return h->state;
}

static double
m_probes(const struct health_slice *h)
{
	return (double)h->probes;
}

static double
m_failed(const struct health_slice *h)
{
	return (double)h->failed;
}

static double
m_copier(const struct health_slice *h)
{
	return h->copier;
}

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	double		(*value)(const struct health_slice *);
} slice_metrics[] = {
	{ "mailshift_slice_health", "gauge", "A slice's health: 0 ok, 1 "
	    "degraded, 2 unresponsive.", m_health },
	{ "mailshift_slice_probes_total", "counter", "Health probes of a "
	    "slice, failed ones too.", m_probes },
	{ "mailshift_slice_probes_failed_total", "counter", "Health probes "
	    "of a slice that failed.", m_failed },
	{ "mailshift_slice_copier_seconds", "gauge", "Median time of the "
	    "copier's file work on a slice, last window.", m_copier },
};

/* The health watch: per slice its state, probes and their histogram.
 * names[i] is hs[i]'s name, NULL for a slice not watched. */
static void
metrics_health(struct evbuffer *b, const struct health_slice *hs,
    const char *const *names, int n)
{
	uint64_t cum;
	double v;
	size_t m;
	int i, k;

	for (m = 0; m < sizeof slice_metrics / sizeof slice_metrics[0]; m++) {
		evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n",
		    slice_metrics[m].name, slice_metrics[m].help,
		    slice_metrics[m].name, slice_metrics[m].type);
		for (i = 0; i < n; i++) {
			if (names[i] != NULL &&
			    (v = slice_metrics[m].value(&hs[i])) >= 0)
				evbuffer_add_printf(b, "%s{slice=\"%s\"} %.9g\n",
				    slice_metrics[m].name, names[i], v);
		}
	}
	evbuffer_add_printf(b, "# HELP mailshift_slice_probe_seconds How "
	    "long the health probes of a slice took.\n# TYPE "
	    "mailshift_slice_probe_seconds histogram\n");
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		for (k = 0, cum = 0; k < HEALTH_BUCKETS; k++) {
			cum += hs[i].bucket[k];
			evbuffer_add_printf(b, "mailshift_slice_probe_seconds"
			    "_bucket{slice=\"%s\",le=\"%g\"} %llu\n",
			    names[i], health_bounds[k],
			    (unsigned long long)cum);
		}
		cum += hs[i].bucket[HEALTH_BUCKETS];
		evbuffer_add_printf(b, "mailshift_slice_probe_seconds_bucket"
		    "{slice=\"%s\",le=\"+Inf\"} %llu\n"
		    "mailshift_slice_probe_seconds_sum{slice=\"%s\"} %.6f\n"
		    "mailshift_slice_probe_seconds_count{slice=\"%s\"} "
		    "%llu\n", names[i], (unsigned long long)cum, names[i],
		    hs[i].sum, names[i], (unsigned long long)cum);
	}
}

/* GET /metrics in the Prometheus text format. */
static void
http_metrics(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *b = evbuffer_new();
	struct health_slice *hs = xcalloc(MAX_LISTED, sizeof *hs);
	int64_t counts[MOVE_NSTATES];
	uint64_t fo_done, fo_failed;
	const char **names;
	int i, n;

	evbuffer_add_printf(b, "# HELP mailshift_moves Moves by state.\n"
	    "# TYPE mailshift_moves gauge\n");
	if (state_metrics_move_counts(d->st, counts, NULL) == 0) {
		for (i = 0; i < MOVE_NSTATES; i++)
			evbuffer_add_printf(b, "mailshift_moves{state=\"%s\"} "
			    "%lld\n", state_move_state_name((enum move_state)i), (long long)counts[i]);
	}
	evbuffer_add_printf(b, "# HELP mailshift_moves_running Moves in "
	    "flight in this daemon.\n# TYPE mailshift_moves_running gauge\n"
	    "mailshift_moves_running %d\n", d->sched.nw);
	autofail_counts(d->autofail, &fo_done, &fo_failed);
	evbuffer_add_printf(b, "# HELP mailshift_failovers_total Automatic "
	    "failovers this daemon started, by result.\n"
	    "# TYPE mailshift_failovers_total counter\n"
	    "mailshift_failovers_total{result=\"switched\"} %llu\n"
	    "mailshift_failovers_total{result=\"stopped\"} %llu\n",
	    (unsigned long long)fo_done, (unsigned long long)fo_failed);
	evbuffer_add_printf(b, "# HELP mailshift_copied_bytes_total Bytes "
	    "copied since the daemon started.\n# TYPE "
	    "mailshift_copied_bytes_total counter\n"
	    "mailshift_copied_bytes_total %llu\n",
	    (unsigned long long)d->sched.bytes);
	evbuffer_add_printf(b, "# HELP mailshift_copied_files_total Files "
	    "copied since the daemon started.\n# TYPE "
	    "mailshift_copied_files_total counter\n"
	    "mailshift_copied_files_total %llu\n",
	    (unsigned long long)d->sched.files);
	n = health_list(d->health, hs, MAX_LISTED);
	names = xcalloc((size_t)n + 1, sizeof *names);
	for (i = 0; i < n; i++)
		names[i] = watch_slice_name(d->watch, hs[i].slice);
	metrics_health(b, hs, names, n);
	free(names);
	free(hs);
	metrics_lock_histogram(d, b);
	evbuffer_add_printf(b, "# HELP mailshift_start_time_seconds When the "
	    "daemon started.\n# TYPE mailshift_start_time_seconds gauge\n"
	    "mailshift_start_time_seconds %lld\n", (long long)d->started);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static void
http_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "not found: try /status or "
	    "/metrics");
}

static int
listen_off(const char *listen)
{
	return listen == NULL || strcmp(listen, "off") == 0;
}

/* A server for /status and /metrics bound to listen ("addr:port"), or
 * NULL with a cause (and the bind's errno in *err). */
static struct evhttp *
http_bind(struct daemon *d, const char *listen, int *err, char **cause)
{
	struct evhttp *h;
	char *addr, *colon;
	unsigned port;

	*err = 0;
	addr = xstrdup(listen);
	if ((colon = strrchr(addr, ':')) == NULL) {
		free(addr);
		fail(cause, "cannot listen on '%s': give addr:port or off",
		    listen);
		return NULL;
	}
	*colon = '\0';
	port = (unsigned)strtoul(colon + 1, NULL, 10);
	if ((h = evhttp_new(d->base)) == NULL) {
		free(addr);
		fail(cause, "cannot start the HTTP server");
		return NULL;
	}
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET);
	evhttp_set_max_body_size(h, 0);
	evhttp_set_max_headers_size(h, 8192);
	evhttp_set_timeout(h, 5);
	evhttp_set_cb(h, "/status", http_status, d);
	evhttp_set_cb(h, "/metrics", http_metrics, d);
	evhttp_set_gencb(h, http_other, d);
	if (evhttp_bind_socket(h, addr, (ev_uint16_t)port) != 0) {
		*err = errno;
		fail(cause, "cannot listen on %s: %s; set [daemon] listen to "
		    "a free port or off", listen, strerror(*err));
		evhttp_free(h);
		free(addr);
		return NULL;
	}
	free(addr);
	return h;
}

int
http_start(struct daemon *d, char **cause)
{
	int err;

	if (listen_off(d->cfg.listen))
		return 0;
	return (d->http = http_bind(d, d->cfg.listen, &err, cause)) == NULL ?
	    -1 : 0;
}

int
http_rebind(struct daemon *d, const char *listen, char **cause)
{
	struct evhttp *h = NULL;
	int err;

	if (!listen_off(listen) &&
	    (h = http_bind(d, listen, &err, cause)) == NULL) {
		if (err != EADDRINUSE || d->http == NULL)
			return -1;
		/* Perhaps the port is the one served now (another address
		 * of it): let it go, try again, or take it back. */
		free(*cause);
		*cause = NULL;
		http_stop(d);
		if ((h = http_bind(d, listen, &err, cause)) == NULL) {
			if ((d->http = http_bind(d, d->cfg.listen, &err,
			    NULL)) == NULL) {
				char *why = *cause;

				*cause = xasprintf("%s; and %s could not be "
				    "bound again: nothing is served until a "
				    "restart", why, d->cfg.listen);
				free(why);
			}
			return -1;
		}
	}
	http_stop(d);
	d->http = h;
	return 0;
}
void
http_stop(struct daemon *d)
{
	if (d->http != NULL)
		evhttp_free(d->http);
	d->http = NULL;
}
