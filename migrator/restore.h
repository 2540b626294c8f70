/*
 * Bringing an archived mailbox back from its .tar.zst (mailshift account
 * restore): where it may go, and the extraction itself (zarchive.h).
 * Nothing is ever restored over something that exists.
 */
#ifndef MAILSHIFT_RESTORE_H
#define MAILSHIFT_RESTORE_H

struct state;

/*
 * Restore archive for user.
 *
 * With to NULL, into home (the account's home, an absolute path), which
 * must not exist: the archive is extracted beside it under a temporary
 * name (.mailshift-restore.PID) and renamed into place, so that a failed
 * restore never leaves a partial mailbox at the home. With to, into
 * to/user, where to must be a directory and to/user must not exist.
 *
 * Returns 0 with the directory restored in *final (heap, for the caller
 * to free), or -1 with a cause ("--to DIR is not a directory", "HOME (the
 * home of USER) exists; ...", "DIR/USER already exists; ...", or the
 * extraction's or the rename's error) and *final NULL.
 */
int restore_account(const char *archive, const char *user, const char *home,
    const char *to, char **final, char **cause);
/*
 * A restore of user into to/user must not land in a mailbox: when to lies
 * on a slice (symlinks resolved), to/user may not lie inside, be or
 * contain the directory of any account there (user's own included).
 * Returns 0, or -1 with a cause naming the account and its path.
 */
int restore_check_to(struct state *, const char *to, const char *user,
    char **cause);

#endif
