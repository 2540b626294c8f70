/*
 * Log lines of a long-running process (the daemon), OpenBSD style: one
 * line per event, to stderr or to syslog (facility mail).
 *
 * On stderr a line reads "2026-11-23T21:52:16Z mailshift[4711]: message"
 * (UTC time, pid), written whole, so that lines of several threads never
 * mix. To syslog the message goes as it is, ident "mailshift" with the
 * pid, at the priority of its level:
 *
 *   function       priority      for
 *   log_warn(x)    LOG_WARNING   a failure the process survives
 *   log_info       LOG_INFO      progress: what started, ended, changed
 *   log_debug      LOG_DEBUG     details, kept only at the debug level
 *   log_fatal(x)   LOG_CRIT      a setup failure or a broken invariant;
 *                                the process exits with status 1
 *
 * The "x" variants log the message as given; the others append
 * ": strerror(errno)". Every function may be called from any thread.
 * Until log_init is called, lines go to stderr at the info level.
 */
#ifndef MAILSHIFT_LOG_H
#define MAILSHIFT_LOG_H

/*
 * Where lines go (to_syslog: syslog, facility mail; 0: stderr) and
 * whether debug lines are kept. May be called again (a reload); never
 * fails (syslog is opened lazily by libc when it is not reachable yet).
 */
void log_init(int to_syslog, int debug);
/* Change where lines go, keeping the level. */
void log_to(int to_syslog);

void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Dropped unless log_init asked for debug lines. */
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Log at LOG_CRIT and exit(1). Named log_fatal/log_fatalx because util.h
 * already has fatalx() (out of memory: aborts, for a core dump).
 */
void log_fatal(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void log_fatalx(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
