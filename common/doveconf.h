/*
 * Checks of a Dovecot configuration against what mailshift needs, from
 * the output of `doveconf -n`: the lock gate passdb last, answering
 * temp_fail with nodelay (no auth penalty for a refused locked login), and
 * the passdbs before it ending with continue-ok, a userdb on the access
 * view of this catalog, lmtp_proxy for LMTP, and auth caching no longer
 * than the lock grace (a cached "not locked" answer would let a login
 * through during a cutover).
 */
#ifndef MAILSHIFT_DOVECONF_H
#define MAILSHIFT_DOVECONF_H

#include <stdint.h>

struct doveconf_finding {
	int	 ok;		/* 1 fine, 0 a problem */
	char	*what;		/* the check, e.g. "auth cache" */
	char	*text;		/* what was found, and what to do */
};

struct doveconf_report {
	struct doveconf_finding	*f;
	int			 n;
	int			 problems;
};

/*
 * Check `doveconf -n` output. catalog is the catalog's path (compared with
 * the connect= of the SQL files the passdb and userdb name, which are read
 * from disk), lock_grace in seconds.
 */
void doveconf_check(const char *doveconf_n, const char *catalog,
    uint64_t lock_grace, struct doveconf_report *);
void doveconf_report_free(struct doveconf_report *);

/* A Dovecot time ("1 hour", "30 secs", "5s", "0") in seconds, -1 if bad. */
int64_t doveconf_seconds(const char *);

#endif
