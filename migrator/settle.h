/*
 * The settle check: after the switch, a last look at the retired source
 * for mail that arrived there too late for the final pass.
 *
 * The lock refuses new logins and deliveries, but a delivery that resolved
 * the account's old path just before the switch can still write into the
 * old mailbox. Under the lock, before the final pass, the mtime of every
 * cur/ and new/ directory of the source is recorded (the "marks"). After
 * the settle delay, a directory whose mtime moved past its mark had
 * entries added or renamed since; in it, a message file whose ctime is at
 * or after the mark arrived after the marks were taken. Those whose unique
 * name is not on the target are copied into the target folder's new/ (so
 * the mail server gives them new UIDs) and reported one by one; the rest
 * are counted. Both clocks are the source filesystem's own, so clock skew
 * between the migrator and a slice's server does not matter.
 *
 * The retired tree itself is only read.
 */
#ifndef MAILSHIFT_SETTLE_H
#define MAILSHIFT_SETTLE_H

#include <stdint.h>

/* The marks of the mailbox open at fd: "rel\tsec.nsec\n" lines for the
 * cur/ and new/ directories of every folder. Heap string. */
char *settle_marks(int mailbox, char **cause);

struct settle_result {
	uint64_t	carried;	/* late messages copied to the target */
	uint64_t	on_target;	/* late changes whose message the target
					   already has (flag changes, renames) */
	uint64_t	dirs_changed;	/* directories past their mark */
};

/*
 * Compare the tree at fd (a retired source, or a mailbox recreated at the
 * old path: marks NULL, then every message is late) with the target
 * mailbox dst and carry late messages. report(arg, from, to) is called for
 * every message carried, with paths relative to the mailboxes.
 */
int settle_tree(int tree, const char *marks, int dst, int preserve_owner,
    void (*report)(void *, const char *from, const char *to), void *arg,
    struct settle_result *, char **cause);

/* Did a cur/ or new/ of the tree change at or after Unix time when (or
 * can it not be read)? Purging checks this: mail that reached a retired
 * source after its settle check is never deleted unseen. */
int settle_changed_since(int tree, int64_t when);

#endif
