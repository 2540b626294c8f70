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
	uint64_t	on_target;	/* late changes to messages the target
					   already has (flag changes, renames) */
	uint64_t	unsaved;	/* late files the folder's
					   dovecot-uidlist does not list */
	const char	*rule;		/* "snapshot", "marks" or "all" */
};

/*
 * Write the names of every cur/ and new/ entry of the mailbox ("rel\tname"
 * lines) to file in directory dir, by way of a temporary file. Taken of
 * the target right after the switch: what the final pass left there.
 */
int settle_snapshot(int mailbox, int dir, const char *file, char **cause);

/*
 * Compare the tree at fd (a retired source, or a mailbox recreated at the
 * old path) with the target mailbox dst and carry late messages. Late is
 * a name the snapshot (snapdir/snapfile) does not have; without a
 * snapshot, a file whose ctime is at or after its directory's mark; with
 * neither (marks NULL), every message. With dovecot set, a late file in
 * a folder that has a dovecot-uidlist is carried only when that list
 * names it: Dovecot lists a message before it answers its delivery, so
 * one it does not list is a save it failed (answered 4xx, retried by the
 * sender); it is left in the tree and counted as unsaved. report(arg,
 * from, to) is called for every message carried, with paths relative to
 * the mailboxes, and with to NULL for every one left as unsaved.
 */
int settle_tree(int tree, const char *marks, int snapdir,
    const char *snapfile, int dst, int preserve_owner, int dovecot,
    void (*report)(void *, const char *from, const char *to), void *arg,
    struct settle_result *, char **cause);

/* How many messages of the tree at fd the mailbox dst lacks (by unique
 * name, folder by folder, as settle_tree with neither snapshot nor marks
 * would carry them): *n. Nothing is written. 0, or -1 with a cause. */
int settle_missing(int tree, int dst, uint64_t *n, char **cause);

/* Do the tree's directory marks differ from marks (or can they not be
 * read)? Purging checks this against the marks taken at the settle check:
 * mail that reaches a retired source later is never deleted unseen. Same
 * filesystem, same clock. */
int settle_changed(int tree, const char *marks);

#endif
