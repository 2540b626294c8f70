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

struct maildir_usage {
	uint64_t	 bytes;		/* message bytes */
	uint64_t	 files;		/* message files */
	int64_t		 last_activity;	/* newest cur/ or new/ mtime */
	int		 folders;	/* folders besides INBOX */
	int		 from_maildirsize; /* 1 if read from maildirsize */
	const char	*why_counted;	/* why maildirsize was not used */
};

/* True when dirfd has real (not symlinked) cur/ and new/ directories. */
int maildir_is(int dirfd);

/*
 * Measure the Maildir at dirfd. With trust, a well-formed maildirsize no
 * larger than MAILDIRSIZE_MAX and not older than any cur/ or new/
 * directory is used instead of counting. Never follows a symlink.
 */
int maildir_usage(int dirfd, int trust, struct maildir_usage *, char **cause);

/*
 * Parse the contents of a maildirsize file: a quota line, then lines of
 * "bytes count" to be summed. Returns 0 with the sums, or -1 with *why set
 * to a static reason when the contents cannot be trusted.
 */
int maildirsize_parse(const char *buf, size_t len, int64_t *bytes,
    int64_t *count, const char **why);

#endif
