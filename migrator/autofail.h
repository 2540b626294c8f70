/*
 * Automatic failover ([failover] auto, migrator/autofail.c): on the
 * loop thread, after the health watch judged, a slice that is
 * unresponsive and has had no probe back within the timeout for
 * [failover] after (auto = slow: or degraded for that long) is failed
 * over to the other server of its pair, fence first, on a thread of its
 * own with its own catalog session (failover.h). Never again within
 * [failover] hold_down of an attempt, whether it switched or stopped (a
 * fence that fails leaves the slice where it is); never two at once for
 * one slice. Each attempt is logged, counted (/metrics) and told to
 * [hooks] on_health with MAILSHIFT_EVENT=failover or failover-failed.
 */
#ifndef MAILSHIFT_AUTOFAIL_H
#define MAILSHIFT_AUTOFAIL_H

#include <stdint.h>

struct config;
struct health;
struct state;
struct watch;

struct autofail;

struct autofail *autofail_new(const char *db, const struct config *);
/* A new configuration (a reload): its [failover] settings from now on. */
void autofail_reload(struct autofail *, const struct config *);
/* Start the failovers due, and report those that ended (loop thread;
 * now is monotonic seconds). */
void autofail_tick(struct autofail *, struct health *, struct watch *,
    struct state *, double now);
/* Failovers the daemon started that switched, and that stopped. */
void autofail_counts(struct autofail *, uint64_t *done, uint64_t *failed);
void autofail_free(struct autofail *);

#endif
