/*
 * The daemon's health watch, put together (README "Health watch"): the
 * slices from the catalog are probed (probe.h), the probes and the
 * copier's samples judged (health.h), and every change of a slice's
 * health goes to the catalog (its health column and one event), to the
 * log (one line) and to the [hooks] on_health command. A server whose
 * every watched slice (two or more) is not ok is reported too.
 *
 * The watch never writes a slice's state (the admin's: readonly,
 * draining, ...); only its health. Everything here runs on the daemon's
 * loop thread, but the hooks, which run on threads of their own.
 */
#ifndef MAILSHIFT_WATCH_H
#define MAILSHIFT_WATCH_H

#include <stdint.h>

struct config;
struct health;
struct state;
struct watch;

/* A watch judging with h (which stays the caller's). */
struct watch *watch_new(struct health *h, const struct config *);
/* A reload: new [health] settings and hooks. */
void watch_reload(struct watch *, const struct config *);
/*
 * Once a second on the loop: read the slices again when the catalog
 * changed (data_version) or every 30 s, collect the probes, judge, and
 * record what changed at now (Unix seconds) in st.
 */
void watch_tick(struct watch *, struct state *st, int64_t data_version,
    int64_t now);
/* The name of a watched slice, or NULL. */
const char *watch_slice_name(struct watch *, int64_t slice);
/* Stop probing (hung probes are left to end on their own). */
/* Run [hooks] on_health for something else than a change of health of
 * slice (MAILSHIFT_EVENT=event, e.g. "failover"; health stays). */
void watch_tell(struct watch *, struct state *, int64_t slice,
    const char *event, const char *reason);
void watch_free(struct watch *);

#endif
