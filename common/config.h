/*
 * The configuration file (INI, read with inih):
 *
 *   [catalog]
 *   path = /var/lib/mailshift/catalog.db   ; SQLite: one host
 *   url = postgresql://mailshift@db1,db2/mail?target_session_attrs=read-write
 *                                ; PostgreSQL (or a libpq conninfo):
 *                                ; give path or url, not both
 *
 *   [layout]
 *   template = %d/%n
 *
 *   [discover]
 *   maildirsize = trust          ; or "ignore": always count files
 *
 *   [move]
 *   lock_grace = 5s              ; locked, before the final pass; shorter
 *                                ; than lock_timeout
 *   lock_timeout = 30s           ; longest lock before the cutover gives up
 *                                ; (not 0)
 *   max_passes = 8               ; delta passes before the cutover anyway
 *   small_pass_files = 200       ; a pass this small is ready for cutover
 *   small_pass_bytes = 16M
 *   durability = syncfs          ; or fsync: every file and directory
 *   verify = listing             ; or content: compare every byte too
 *   settle = 30s                 ; after the switch, look at the retired
 *                                ; source once more this much later and
 *                                ; carry late deliveries to the target
 *   quiet = 500ms                ; locked, after the after_lock hook: the
 *                                ; source must stay this long unchanged
 *                                ; (no fresh file in tmp/) before the
 *                                ; final pass
 *   late_mail = dovecot          ; or all: which late files the settle
 *                                ; check carries (see settle.h)
 *
 *   [hooks]                      ; shell commands; %u is the user
 *   after_lock = doveadm kick -- %u || [ $? -eq 68 ]
 *                                ; locked, after the grace, before the
 *                                ; final pass; fails: unlock, retry later
 *   after_switch =               ; fails: logged (the switch is done)
 *   on_health =                  ; a slice's health changed (page someone):
 *                                ; MAILSHIFT_SLICE, _HEALTH, _REASON, ...
 *   timeout = 10s                ; then the command is killed (a failure)
 *
 *   [throttle]
 *   bytes_per_second = 0         ; 0 = unlimited, e.g. 50M
 *   files_per_second = 0
 *
 *   [daemon]
 *   log = stderr                 ; or syslog (facility mail)
 *   log_level = info             ; or debug: details of every round too
 *   listen = 127.0.0.1:8025      ; status and metrics over HTTP; "off"
 *   max_moves = 4                ; moves in flight at once (not 0, nor
 *   per_source = 1               ; moves out of one slice at once  the
 *   per_target = 1               ; moves into one slice at once    caps)
 *   max_retries = 5              ; then a failed move stays failed
 *   retry_base = 30s             ; back-off: 30s, 2m, 8m, ...
 *   ready_pass = 5m              ; delta pass interval of waiting moves
 *
 *   [health]                     ; the watch of every slice (health.h)
 *   interval = 1s                ; one probe per slice this often
 *   timeout = 5s                 ; a probe this long: unresponsive
 *   window = 10s                 ; p50 and p99 are judged per window
 *   degraded_after = 4           ; deviant windows, of the last history,
 *   history = 6                  ; that make a slice degraded
 *   recover_after = 6            ; clean windows in a row: ok again
 *   factor = 2.5                 ; deviant: over factor x the baseline
 *   floor = 20ms                 ; and the peers' median, and over floor
 *   peers = 3                    ; other slices needed to compare with
 *   baseline = 1h                ; the slice's own past, clean windows
 *   pause_after = 60s            ; degraded this long: its moves pause
 *                                ; (unresponsive: at once); the older
 *                                ; [daemon] health_window sets it too
 *
 *   [presence]
 *   sources = catalog,mailbox    ; who must agree a user is offline:
 *                                ; catalog, command, mailbox
 *   idle = 15m                   ; quiet this long before a cutover
 *   command = doveadm who -1     ; prints online users, one per line
 *   command_interval = 60s
 *   command_timeout = 10s
 *
 *   [failover]                   ; slice failover (failover.h)
 *   fence = CMD                  ; stop the old server writing; $1 slice,
 *   promote = CMD                ; $2 old server, $3 new, $4 path (and
 *   after_failover = CMD         ; MAILSHIFT_* in the environment)
 *   auto = no                    ; yes: fail over a slice unresponsive
 *                                ; for `after`; slow: degraded too
 *   after = 10s
 *   hold_down = 10m              ; never twice within it
 *   quiesce = 30s                ; moves touching it stop within it
 *   timeout = 60s                ; each hook at most
 *
 *   [capacity]                   ; load and restore (report, plan)
 *   ops_capacity = 1000          ; ops/s a slice serves at 100% load;
 *                                ; 'slice set --ops-capacity' per slice
 *   load_target = 75             ; percent of ops capacity, as
 *   load_hard_limit = 90         ; --target-fill and --hard-limit
 *   restore_rate = 100MiB        ; per second, from replica or backup
 *   max_restore = 4h             ; evacuation or restore longer: flagged
 *   load_interval = 60s          ; the daemon records load this often
 *                                ; (0 = only with usage snapshots)
 *   load_window = 1d             ; the load plans and reports average
 *   proc = /proc                 ; where mountinfo, mountstats and
 *                                ; diskstats are read (tests)
 *
 *   [window nights]              ; any number of named windows, UTC
 *   from = 22:00
 *   to = 06:00
 *   bytes_per_second = 0         ; 0 = unlimited
 *   files_per_second = 0
 *   cutover = yes                ; may cutovers happen in this window?
 *
 *   [retention]
 *   archive = none               ; or zstd: keep retired sources as .tar.zst
 *   keep = 30d                   ; then 'moves purge' deletes them
 *
 * Every problem is reported as "file:line: message", all of them at once.
 */
#ifndef MAILSHIFT_CONFIG_H
#define MAILSHIFT_CONFIG_H

#include <stdio.h>

#define CONFIG_DEFAULT_FILE "/etc/mailshift/mailshift.conf"
#define CONFIG_DEFAULT_CATALOG "/var/lib/mailshift/catalog.db"
#define CONFIG_DEFAULT_LAYOUT "%d/%n"

#include <stdint.h>

#define CONFIG_MAX_WINDOWS 16

/* A named time range (UTC) with its own throttle and cutover rule. */
struct config_window {
	char	 name[64];
	int	 from;			/* minute of the day, 0-1439 */
	int	 to;			/* end, exclusive; may wrap midnight */
	uint64_t bytes_per_second;
	uint64_t files_per_second;
	int	 cutover;
};

#define PRESENCE_CATALOG 1
#define PRESENCE_COMMAND 2
#define PRESENCE_MAILBOX 4

struct config {
	char	*file;			/* file read, NULL for built-in defaults */
	char	*catalog;		/* [catalog] path or url */
	int	 catalog_keys;		/* how many of the two were given */
	char	*layout;		/* [layout] template */
	int	 trust_maildirsize;	/* [discover] maildirsize = trust */
	uint64_t lock_grace;		/* [move] seconds */
	uint64_t lock_timeout;		/* [move] seconds */
	uint64_t max_passes;		/* [move] */
	uint64_t small_pass_files;	/* [move] */
	uint64_t small_pass_bytes;	/* [move] */
	int	 durability_fsync;	/* [move] durability = fsync */
	int	 verify_content;	/* [move] verify = content */
	uint64_t settle;		/* [move] seconds */
	uint64_t quiet_ms;		/* [move] quiet, milliseconds */
	int	 late_dovecot;		/* [move] late_mail = dovecot */
	char	*hook_after_lock;	/* [hooks] or NULL */
	char	*hook_after_switch;	/* [hooks] or NULL */
	char	*hook_on_health;	/* [hooks] or NULL */
	uint64_t hook_timeout;		/* [hooks] timeout, seconds */
	uint64_t bytes_per_second;	/* [throttle] 0 = unlimited */
	uint64_t files_per_second;	/* [throttle] 0 = unlimited */
	char	*listen;		/* [daemon] "addr:port" or "off" */
	int	 log_syslog;		/* [daemon] log = syslog */
	int	 log_debug;		/* [daemon] log_level = debug */
	uint64_t max_moves;		/* [daemon] */
	uint64_t per_source;		/* [daemon] */
	uint64_t per_target;		/* [daemon] */
	uint64_t max_retries;		/* [daemon] */
	uint64_t retry_base;		/* [daemon] seconds */
	uint64_t ready_pass;		/* [daemon] seconds */
	uint64_t health_interval_ms;	/* [health] interval */
	uint64_t health_timeout_ms;	/* [health] timeout */
	uint64_t health_window;		/* [health] window, seconds */
	uint64_t health_degraded_after;	/* [health] windows */
	uint64_t health_history;	/* [health] windows */
	uint64_t health_recover_after;	/* [health] windows */
	double	 health_factor;		/* [health] factor */
	uint64_t health_floor_ms;	/* [health] floor */
	uint64_t health_peers;		/* [health] peers */
	uint64_t health_baseline;	/* [health] baseline, seconds */
	uint64_t health_pause_after;	/* [health] pause_after, seconds */
	unsigned presence_sources;	/* [presence] PRESENCE_* */
	uint64_t presence_idle;		/* [presence] idle, seconds */
	char	*presence_command;	/* [presence] command, or NULL */
	uint64_t presence_interval;	/* [presence] command_interval */
	uint64_t presence_timeout;	/* [presence] command_timeout */
	struct config_window windows[CONFIG_MAX_WINDOWS];
	int	 nwindows;
	char	*failover_fence;	/* [failover] hooks, or NULL */
	char	*failover_promote;
	char	*failover_after_hook;
	int	 failover_auto;		/* 0 no, 1 yes, 2 slow */
	uint64_t failover_after;	/* [failover] seconds */
	uint64_t failover_hold_down;
	uint64_t failover_quiesce;
	uint64_t failover_timeout;
	uint64_t ops_capacity;		/* [capacity] ops/s */
	uint64_t load_target;		/* [capacity] percent */
	uint64_t load_hard_limit;	/* [capacity] percent */
	uint64_t restore_rate;		/* [capacity] bytes/s */
	uint64_t max_restore;		/* [capacity] seconds */
	uint64_t load_interval;		/* [capacity] seconds, 0 = off */
	uint64_t load_window;		/* [capacity] seconds */
	char	*proc_root;		/* [capacity] proc */
	int	 archive_zstd;		/* [retention] archive = zstd */
	uint64_t retention_keep;	/* [retention] keep, seconds */
};

/* Fill c with the built-in defaults. */
void config_defaults(struct config *c);
/*
 * Read file over the defaults. A missing file is an error only when
 * required. On failure *cause holds one "file:line: ..." line per problem
 * and c is left as it was.
 */
int config_load(const char *file, int required, struct config *c,
    char **cause);
/* The window in force at Unix time t, or NULL outside every window. */
const struct config_window *config_window_at(const struct config *,
    int64_t t);
/* Write the configuration in normalized form. */
void config_print(FILE *, const struct config *);
void config_free(struct config *);

/* Is a catalog name a PostgreSQL URL or libpq conninfo (not a file)? */
int config_is_url(const char *);

#endif
