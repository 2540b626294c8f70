/*
 * What the files of maildir-gen share (see maildir_gen.c): the options,
 * the records of the account and messages being made, the output file
 * being written, and what each file offers the others. A test tool:
 * every failure prints a message and exits 1 (die, diex); nothing here
 * returns an error.
 *
 *   maildir_gen.c   main, the options, usage and the exits
 *   gen_output.c    the output buffer: one file written at a time
 *   gen_account.c   accounts: names, folders, Dovecot's files, times
 *   gen_message.c   messages: their draw, names, headers and bodies
 */
#ifndef MAILSHIFT_GEN_H
#define MAILSHIFT_GEN_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/layout.h"
#include "common/util.h"

#define PROG		"maildir-gen"

#define REF_TIME	1793491200LL		/* 2026-11-01T00:00:00Z */
#define SPAN		(1096LL * 86400)	/* the 3 years before it */
#define DAY		86400LL

#define IOBUF_SIZE	(256 * 1024)
#define MAX_ACCT_FOLDERS 6		/* INBOX and up to 5 folders */

#define NELEM(a) ((uint64_t)(sizeof (a) / sizeof (a)[0]))

/* The maildirsize variants, by --maildirsize-mix (see usage). */
enum variant { MDS_GOOD, MDS_NONE, MDS_STALE, MDS_OVERSIZED, MDS_GARBAGE };

struct options {
	uint64_t	 accounts;	/* --accounts */
	uint64_t	 messages;	/* --messages, per account */
	double		 spread;	/* --spread */
	uint64_t	 min_size;	/* --min-size, bytes */
	uint64_t	 max_size;	/* --max-size, bytes */
	uint64_t	 domains;	/* --domains */
	const char	*prefix;	/* --prefix */
	uint64_t	 start;		/* --start */
	const char	*layout;	/* --layout */
	uint64_t	 seed;		/* --seed */
	const char	*manifest;	/* --manifest, or NULL */
	const char	*csv;		/* --csv, or NULL */
	const char	*slice;		/* --slice, or NULL */
	int		 mix;		/* --maildirsize-mix */
	const char	*root;		/* SLICE_ROOT */
};

/* splitmix64: small, fast, and the same on every platform. */
struct rng {
	uint64_t	 s;		/* the state */
};

struct msg {
	int64_t		 sec;		/* received, = mtime */
	long		 nsec;		/* and its nanoseconds */
	uint64_t	 size;		/* wanted size, then the real one */
	uint64_t	 vsize;		/* W=: size with CRLF line ends */
	uint64_t	 rnd;		/* seeds the contents */
	uint32_t	 seq;		/* Q<seq>, unique in the account */
	uint32_t	 pid;		/* P<pid> of its name */
	uint8_t		 folder;	/* index in the account's folders */
	uint8_t		 cur;		/* 1 in cur/, 0 in new/ */
	uint8_t		 flags;		/* index in flag_sets */
	uint8_t		 host;		/* mail<host>.example.net */
};

struct folder {
	const char	*name;		/* "" for INBOX, else ".Sent", ... */
	char		*path;		/* for messages */
	char		*subpath[3];	/* new/, cur/, tmp/ */
	int		 fd;		/* the folder's directory */
	int		 subfd[3];	/* new/, cur/, tmp/ */
	struct timespec	 newest[2];	/* newest message in new/, cur/ */
	uint32_t	 uidvalidity;	/* of its dovecot-uidlist */
	uint32_t	 count;		/* messages in it */
};

/* A directory above accounts, or an account, keyed by its relative path. */
struct dent {
	char		*path;		/* relative to the slice root; "" */
	int		 account;	/* 1 for an account's own directory */
	struct timespec	 t;		/* mtime to set at the end */
};

/* The directories made or touched: an open-addressing hash table. */
struct dirtab {
	struct dent	*v;		/* the slots; path NULL: free */
	size_t		 size;		/* power of two */
	size_t		 used;		/* slots taken */
};

/* The whole run. */
struct gen {
	struct options	*o;		/* what was asked */
	struct layout	*layout;	/* --layout, parsed */
	int		 rootfd;	/* the slice root */
	struct dirtab	 dirs;		/* directories above the accounts */
	FILE		*manifest;	/* --manifest, or NULL */
	FILE		*csv;		/* --csv, or NULL */
	uint64_t	 files;		/* messages made, over all accounts */
	uint64_t	 bytes;		/* their bytes */
	struct msg	*msgs;		/* of the account being made */
	size_t		 msgs_size;	/* allocated msgs */
	struct timespec	 now;		/* when the run started */
};

/* The account being made. */
struct acct {
	uint64_t	 idx;		/* user number */
	char		 user[MS_USER_MAX + 1];	/* local@domain */
	char		 local[MS_USER_MAX + 1];	/* prefix and number */
	char		 rel[MS_PATH_MAX];	/* below the slice root */
	char		*path;		/* for messages */
	int		 fd;		/* its directory */
	struct rng	 r;		/* its own random stream */
	struct folder	 f[MAX_ACCT_FOLDERS];	/* INBOX first */
	int		 nf;		/* folders in f */
	uint64_t	 n;		/* messages */
	uint64_t	 files;		/* messages written */
	uint64_t	 bytes;		/* their bytes */
	struct timespec	 created;	/* older than every message */
	struct timespec	 newest;	/* newest cur/ or new/ */
	enum variant	 v;		/* its maildirsize */
};

/* The output buffer shared by every file written. */
struct outbuf {
	char		*buf;		/* IOBUF_SIZE bytes */
	size_t		 len;		/* bytes buffered */
	int		 fd;		/* the file, or -1 */
	const char	*dir;		/* its directory, for messages */
	const char	*name;		/* its name, for messages */
};

extern struct outbuf out;	/* in gen_output.c; main allocates buf */

/* Next 64 random bits. */
static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A random number in [0, n). */
static inline uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return n == 0 ? 0 : rng_next(r) % n;
}

/* A random double in [0, 1). */
static inline double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Compare two times: <0, 0, >0. */
static inline int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/* Raise *a to b if b is newer. */
static inline void
ts_max(struct timespec *a, const struct timespec *b)
{
	if (ts_cmp(a, b) < 0)
		*a = *b;
}

/* maildir_gen.c */

/* Print "maildir-gen: what: strerror(errno)" and exit 1. */
void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Print "maildir-gen: message" and exit 1. */
void diex(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* gen_output.c: one file at a time; each exits on a failed write. */

/* Write out the buffered bytes of the file being written. */
void out_flush(void);

/* Start writing file name (mode 0600) in directory dirfd, named dir. */
void out_open(int dirfd, const char *dir, const char *name);

/* Append n bytes to the file being written. */
void out_put(const void *p, size_t n);

/* Append a formatted string (under 512 bytes) to the file being written. */
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Finish the file being written; set its times to *ts unless NULL. */
void out_close(const struct timespec *ts);

/* Write a whole small file at once. */
void write_file(int dirfd, const char *dir, const char *name, const void *p,
    size_t n, const struct timespec *ts);

/* Set the times of the directory open at fd, named path. */
void set_dir_time(int fd, const char *path, const struct timespec *ts);

/* gen_account.c */

/* Find or add path in dt; *isnew says whether it was added. */
struct dent *dirtab_get(struct dirtab *dt, const char *path, int *isnew);

/* Make the account of user number idx, with its messages. */
void gen_account(struct gen *g, uint64_t idx);

/* Set the times of the directories above the accounts. */
void set_parent_times(struct gen *g);

/* gen_message.c */

/* Build the body text corpus; corpus_free frees it. */
void corpus_init(void);
void corpus_free(void);

/* Format the base name of message m (no ":2," part) into buf. */
void msg_basename(const struct msg *m, char *buf, size_t len);

/* Draw the account's messages and write them, in the order they came,
 * into g->msgs (a->n of them). */
void acct_messages(struct gen *g, struct acct *a);

#endif
