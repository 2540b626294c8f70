/* Log lines to stderr or syslog: see log.h. */
#define _GNU_SOURCE
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_syslog;		/* lines go to syslog, facility mail */
static int log_debugging;	/* log_debug lines are kept */

void
log_to(int to_syslog)
{
	pthread_mutex_lock(&log_mu);
	if (to_syslog && !log_syslog)
		openlog("mailshift", LOG_PID | LOG_NDELAY, LOG_MAIL);
	else if (!to_syslog && log_syslog)
		closelog();
	log_syslog = to_syslog != 0;
	pthread_mutex_unlock(&log_mu);
}

void
log_init(int to_syslog, int debug)
{
	log_to(to_syslog);
	pthread_mutex_lock(&log_mu);
	log_debugging = debug != 0;
	pthread_mutex_unlock(&log_mu);
}

/* Write one line at priority pri, with ": strerror(errnum)" when
 * errnum is not 0. */
static void
vlog(int pri, int errnum, const char *fmt, va_list ap)
{
	char when[32], *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	pthread_mutex_lock(&log_mu);
	if (pri == LOG_DEBUG && !log_debugging) {
		pthread_mutex_unlock(&log_mu);
		free(msg);
		return;
	}
	if (log_syslog) {
		if (errnum != 0)
			syslog(pri, "%s: %s", msg ? msg : fmt,
			    strerror(errnum));
		else
			syslog(pri, "%s", msg ? msg : fmt);
	} else {
		time_format(now_unix(), when, sizeof when);
		/* One call per line: threads never interleave. */
		if (errnum != 0)
			fprintf(stderr, "%s mailshift[%ld]: %s: %s\n", when,
			    (long)getpid(), msg ? msg : fmt,
			    strerror(errnum));
		else
			fprintf(stderr, "%s mailshift[%ld]: %s\n", when,
			    (long)getpid(), msg ? msg : fmt);
		fflush(stderr);
	}
	pthread_mutex_unlock(&log_mu);
	free(msg);
}

void
log_warn(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, errnum, fmt, ap);
	va_end(ap);
	errno = errnum;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, errnum, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
