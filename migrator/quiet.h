/*
 * The quiet wait of a cutover: under the lock, before the final pass,
 * wait until nothing writes to the source mailbox any more.
 *
 * Every Maildir delivery writes a file in a folder's tmp/ and renames it
 * into new/; a mail server then updates its own files beside cur/ (Dovecot:
 * dovecot-uidlist by way of dovecot-uidlist.lock, its index logs). The lock
 * stops new logins and deliveries, but one that passed its recipient check
 * before the lock, or a session the after_lock hook has just ended, can
 * still be writing. The mailbox is quiet when, for the quiet period, no
 * folder's tmp/ holds a fresh file (modified after `fresh_after`) and
 * nothing changes in what is looked at: the mtimes of the mailbox, every
 * folder, its cur/, new/ and tmp/, and the size and mtime of every file in
 * tmp/ and beside cur/. A look costs a few stat calls and two directory
 * reads per folder.
 */
#ifndef MAILSHIFT_MIGRATOR_QUIET_H
#define MAILSHIFT_MIGRATOR_QUIET_H

#include <stdint.h>
#include <time.h>

struct quiet_result {
	double	 waited;	/* seconds until quiet (or given up) */
	int	 looks;		/* times the mailbox was looked at */
	int	 changes;	/* looks that saw a change */
};

/*
 * Wait until the Maildir++ mailbox open at fd has been quiet for `quiet`
 * seconds, looking every `quiet` / 5 (at most 100 ms, at least 10 ms).
 * Gives up at `deadline` (monotonic seconds) or when *stop is set.
 * 0 when quiet; -1 with a cause naming what was still changing.
 */
int quiet_wait(int mailbox, double quiet, time_t fresh_after,
    double deadline, const volatile int *stop, struct quiet_result *,
    char **cause);

#endif
