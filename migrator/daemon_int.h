/*
 * What the daemon's files share (private to migrator/): the daemon
 * itself. daemon.c owns the loop, timers, signals, reload, the lock
 * and start/stop; scheduler.c the moves and their threads; watch.c the
 * slices' health (probe.c probes, health.c judges); presence.c the
 * presence sources; http.c /status and /metrics. Only the loop thread touches struct daemon; the threads see
 * their struct worker, the health watch and the presence set.
 */
#ifndef MAILSHIFT_DAEMON_INT_H
#define MAILSHIFT_DAEMON_INT_H

#include <sys/types.h>

#include "common/config.h"
#include "migrator/scheduler.h"

#define DAEMON_HEARTBEAT 5	/* seconds between status writes */
#define DAEMON_RESCHEDULE 5	/* seconds between scheduling rounds */
#define DAEMON_PURGE 3600	/* seconds between retention purges */

struct event;
struct event_base;
struct evhttp;
struct health;
struct loadwatch;
struct presence;
struct state;
struct watch;

struct daemon {
	struct event_base	*base;
	struct event		*tick;		/* once a second */
	struct event		*notify;	/* a thread ended */
	struct event		*changed;	/* the catalog server notified */
	int			 changed_fd;	/* its socket, or -1 */
	int64_t			 changed_epoch;	/* of the session watched */
	struct event		*sig[3];	/* SIGTERM, SIGINT, SIGHUP */
	struct evhttp		*http;		/* NULL with listen = off */
	struct state		*st;		/* the loop thread's catalog */
	char			*db;		/* its path */
	char			*config_file;	/* what SIGHUP reads, or NULL */
	int			 required;	/* config_file must exist */
	struct config		 cfg;		/* the configuration in force */
	struct sched		 sched;		/* moves and their threads */
	struct health		*health;	/* slices' health, judged */
	struct watch		*watch;		/* and probed, recorded */
	struct loadwatch	*loads;		/* slices' load, recorded */
	struct autofail		*autofail;	/* [failover] auto */
	struct presence		*presence;	/* presence sources */
	int			 pipe[2];	/* threads wake the loop */
	int			 locked;	/* holds state_daemon_lock */
	int64_t			 stop_at;	/* stopping: give up waiting */
	int64_t			 data_version;	/* PRAGMA data_version seen */
	int64_t			 started;	/* Unix time */
	int64_t			 last_heartbeat;
	int64_t			 last_purge;
	const char		*window;	/* name of the window in force */
	int			 is_file;	/* an SQLite catalog */
	int			 catalog_down;	/* its server unreachable */
	int64_t			 catalog_retry;	/* then: when to try again */
	int64_t			 catalog_wait;	/* and the wait, doubling */
	dev_t			 db_dev;	/* the catalog file we opened */
	ino_t			 db_ino;
};

/*
 * Serve GET /status and GET /metrics on d->cfg.listen ("addr:port", or
 * "off": nothing). Returns 0, or -1 with a cause when the address cannot
 * be bound.
 */
int http_start(struct daemon *, char **cause);
/*
 * Serve on listen (or nothing, for "off") instead of d->cfg.listen: 0, or
 * -1 with a cause when listen cannot be bound; d->cfg.listen is still
 * served then (unless the cause says it could not be bound again).
 */
int http_rebind(struct daemon *, const char *listen, char **cause);
/* Stop serving (nothing when http_start served nothing). */
void http_stop(struct daemon *);

#endif
