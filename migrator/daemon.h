/*
 * The copier daemon: runs queued moves 24/7 on a small pool of worker
 * threads around a libevent loop that never touches the disk itself.
 *
 * The catalog is the control plane: the loop notices what the CLI wrote
 * (new moves, pause, resume, cancel, complete, slice states) through
 * PRAGMA data_version on a one-second timer. Moves start by priority and
 * age within caps (in flight overall, per source and per target slice);
 * a move that waits for another starts after it. A failed move is tried
 * again with exponential back-off up to a limit. SIGTERM stops every move
 * at a safe point within seconds, leaving it resumable; SIGHUP reloads
 * the configuration, keeping the old one when the new one has errors.
 * A lock in the catalog itself (state_daemon_lock) keeps a second daemon
 * out, whatever name the catalog is opened by. The daemon
 * serves GET /status (JSON) and GET /metrics (Prometheus) on loopback.
 */
#ifndef MAILSHIFT_DAEMON_H
#define MAILSHIFT_DAEMON_H

struct config;

/*
 * Run until SIGTERM or SIGINT. config_file is what SIGHUP reloads (NULL
 * for the built-in defaults). Returns 0 after a clean stop, or -1 with a
 * cause when the daemon could not start, or when a move (or the purge,
 * or the presence command) did not stop within the stop's grace (45 s,
 * more for a long lock_timeout): then threads still run on memory the
 * daemon left allocated, and the caller should exit soon.
 */
int daemon_run(const char *db, const char *config_file, int required,
    const struct config *, char **cause);

#endif
