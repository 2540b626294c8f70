/*
 * Reading Maildir++ mailboxes on disk: is a directory a Maildir, and how
 * many message files and bytes does it hold. Messages are the regular files
 * in cur/ and new/ of the INBOX and of every folder (".Sent", ...), the
 * same set the Maildir++ quota file maildirsize counts.
 */
#ifndef MAILSHIFT_MAILDIR_H
#define MAILSHIFT_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

/* The largest maildirsize the Maildir++ specification lets stand. */
#define MAILDIRSIZE_MAX 5120

/*
 * When a message arrived: the Unix time its name begins with, as every
 * Maildir writer names a message ("1793491200.M123P45.host,S=...": qmail,
 * Courier, Dovecot, maildrop, getmail) when it writes the file, kept
 * across flag changes (renames) and moves; else, for a name without one
 * that is plausible (from MAILDIR_TIME_MIN to a day ahead of now), the
 * file's mtime.
 */
#define MAILDIR_TIME_MIN 788918400	/* 1995-01-01, before any Maildir */

struct maildir_usage {
	uint64_t	 bytes;		/* message bytes */
	uint64_t	 files;		/* message files */
	int64_t		 last_activity;	/* newest cur/ or new/ mtime */
	int		 folders;	/* folders besides INBOX */
	int		 from_maildirsize; /* 1 if read from maildirsize */
	const char	*why_counted;	/* why maildirsize was not used */
	uint64_t	 added_files;	/* messages that arrived since then */
	uint64_t	 added_bytes;	/* (see maildir_usage) and their bytes */
};

/* True when dirfd has real (not symlinked) cur/ and new/ directories. */
int maildir_is(int dirfd);

/*
 * Measure the Maildir at dirfd. With trust, a well-formed maildirsize no
 * larger than MAILDIRSIZE_MAX and not older than any cur/ or new/
 * directory is used instead of counting. With since > 0, also count the
 * messages that arrived at since or later (see MAILDIR_TIME_MIN) into
 * added_files and added_bytes: only a cur/ or new/ modified since then
 * can hold one (a message arriving adds an entry, which moves the
 * directory's mtime), so only those are listed for it, and only a
 * message that counts, or whose name has no time, is stat'ed for it.
 * Never follows a symlink.
 */
int maildir_usage(int dirfd, int trust, int64_t since,
    struct maildir_usage *, char **cause);

/* The messages (and their bytes) of the Maildir at dirfd that arrived at
 * since or later, as maildir_usage counts them, without measuring it. */
int maildir_activity(int dirfd, int64_t since, uint64_t *files,
    uint64_t *bytes, char **cause);

/* The arrival time a message's name gives, or -1 when it gives none that
 * is plausible at now (see MAILDIR_TIME_MIN). */
int64_t maildir_name_time(const char *name, int64_t now);

/*
 * Parse the contents of a maildirsize file: a quota line, then lines of
 * "bytes count" to be summed. Returns 0 with the sums, or -1 with *why set
 * to a static reason when the contents cannot be trusted.
 */
int maildirsize_parse(const char *buf, size_t len, int64_t *bytes,
    int64_t *count, const char **why);

#endif
