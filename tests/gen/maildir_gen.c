/*
 * maildir-gen: make realistic Maildir++ account trees (as Dovecot 2.3 leaves
 * them) below a slice root, for the integration tests, the demo and the
 * benchmarks. Everything written is a function of the options and the seed:
 * names, sizes, contents and timestamps, except the mtime of maildirsize
 * files meant to be trusted, which is the real current time.
 *
 *	cc -std=c11 -Icommon -o maildir-gen \
 *	    tests/gen/maildir_gen.c common/layout.c common/util.c -lm
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/layout.h"
#include "common/util.h"

#define PROG		"maildir-gen"

#define REF_TIME	1793491200LL		/* 2026-11-01T00:00:00Z */
#define SPAN		(1096LL * 86400)	/* the 3 years before it */
#define DAY		86400LL

#define QUOTA_LINE	"1073741824S,100000C\n"
#define KEYWORDS	"0 $Forwarded\n1 $Junk\n"
#define MDS_LIMIT	5120		/* largest maildirsize to be trusted */
#define MIN_BODY	32		/* shortest body of a message */
#define LINE_MAX_LEN	76		/* longest body line, without LF */
#define IOBUF_SIZE	(256 * 1024)
#define CORPUS_SIZE	(64 * 1024)
#define HDR_MAX		2048
#define MAX_ACCT_FOLDERS 6		/* INBOX and up to 5 folders */
#define MAX_MESSAGES	100000000ULL

#define LN2		0.69314718055994530942

enum variant { MDS_GOOD, MDS_NONE, MDS_STALE, MDS_OVERSIZED, MDS_GARBAGE };
static const char *variant_names[] = {
	"good", "none", "stale", "oversized", "garbage"
};

static const char *folder_names[] = {
	".Sent", ".Drafts", ".Trash", ".Junk", ".Archive", ".Archive.2019",
	".Archive.2020"
};
/* A subfolder's parent in folder_names (Archive holds the years). */
static const int folder_parent[] = { -1, -1, -1, -1, -1, 4, 4 };
#define NFOLDER_NAMES ((int)(sizeof folder_names / sizeof folder_names[0]))

static const char *flag_sets[] = { "", "S", "RS", "FS", "S", "ST", "DS" };
#define NFLAG_SETS ((int)(sizeof flag_sets / sizeof flag_sets[0]))

static const char *first_names[] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert",
	"sybil", "trent", "victor", "walter", "yolanda"
};
static const char *last_names[] = {
	"anderson", "baker", "clark", "davis", "evans", "fischer", "garcia",
	"hughes", "ito", "jensen", "kowalski", "lopez", "muller", "nakamura",
	"olsen", "petrov", "quinn", "rossi", "schmidt", "tanaka"
};
static const char *sender_domains[] = {
	"example.com", "example.net", "example.org", "mail.example",
	"lists.example.org", "shop.example", "news.example.com", "corp.test"
};
static const char *words[] = {
	"the", "of", "and", "to", "in", "is", "for", "on", "with", "as",
	"meeting", "report", "invoice", "order", "shipment", "project",
	"update", "review", "schedule", "budget", "quarter", "server",
	"mailbox", "migration", "storage", "account", "customer", "support",
	"please", "thanks", "regards", "attached", "document", "question",
	"tomorrow", "yesterday", "morning", "afternoon", "weekend", "holiday",
	"team", "office", "release", "version", "feedback", "draft", "final",
	"payment", "receipt", "ticket", "issue", "change", "request",
	"summary", "details", "notes", "agenda", "minutes", "reminder",
	"deadline", "proposal", "contract", "delivery", "travel", "hotel",
	"flight", "lunch", "dinner", "coffee", "photos", "newsletter",
	"subscription", "password", "security", "backup", "network", "quota"
};
#define NELEM(a) ((uint64_t)(sizeof (a) / sizeof (a)[0]))

static const char *wday_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};
static const struct {
	int		 minutes;
	const char	*text;
} zones[] = {
	{ 0, "+0000" }, { 60, "+0100" }, { 120, "+0200" }, { -300, "-0500" },
	{ -480, "-0800" }, { 330, "+0530" }, { 540, "+0900" }, { 0, "+0000" }
};

struct options {
	uint64_t	 accounts;
	uint64_t	 messages;
	double		 spread;
	uint64_t	 min_size;
	uint64_t	 max_size;
	uint64_t	 domains;
	const char	*prefix;
	uint64_t	 start;
	const char	*layout;
	uint64_t	 seed;
	const char	*manifest;
	const char	*csv;
	const char	*slice;
	int		 mix;
	const char	*root;
};

/* splitmix64: small, fast, and the same on every platform. */
struct rng {
	uint64_t	 s;
};

struct msg {
	int64_t		 sec;		/* received, = mtime */
	long		 nsec;
	uint64_t	 size;		/* wanted size, then the real one */
	uint64_t	 vsize;		/* W=: size with CRLF line ends */
	uint64_t	 rnd;		/* seeds the contents */
	uint32_t	 seq;		/* Q<seq>, unique in the account */
	uint32_t	 pid;
	uint8_t		 folder;	/* index in the account's folders */
	uint8_t		 cur;		/* 1 in cur/, 0 in new/ */
	uint8_t		 flags;		/* index in flag_sets */
	uint8_t		 host;		/* mail<host>.example.net */
};

struct folder {
	const char	*name;		/* "" for INBOX, else ".Sent", ... */
	char		*path;		/* for messages */
	char		*subpath[3];	/* new/, cur/, tmp/ */
	int		 fd;
	int		 subfd[3];	/* new/, cur/, tmp/ */
	struct timespec	 newest[2];	/* newest message in new/, cur/ */
	uint32_t	 uidvalidity;
	uint32_t	 count;
};

/* A directory above accounts, or an account, keyed by its relative path. */
struct dent {
	char		*path;		/* relative to the slice root; "" */
	int		 account;	/* 1 for an account's own directory */
	struct timespec	 t;		/* mtime to set at the end */
};

struct dirtab {
	struct dent	*v;
	size_t		 size;		/* power of two */
	size_t		 used;
};

/* The output buffer shared by every file written. */
static struct {
	char		*buf;
	size_t		 len;
	int		 fd;
	const char	*dir;
	const char	*name;
} out;

static char	*corpus;
static size_t	 corpus_len;

static void usage(FILE *);

/* Print "maildir-gen: what: strerror(errno)" and exit 1. */
static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	exit(EXIT_FAIL);
}

/* Print "maildir-gen: message" and exit 1. */
static void __attribute__((format(printf, 1, 2), noreturn))
diex(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

/* Print a usage error and the usage, and exit 2. */
static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(EXIT_USAGE);
}

/* Print the usage to f. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [options] SLICE_ROOT\n"
	    "  --accounts N        accounts to make (10)\n"
	    "  --messages N        messages per account (100)\n"
	    "  --spread F          each account gets N*(1+-F) messages, "
	    "F in [0,1] (0)\n"
	    "  --min-size B        smallest message in bytes (300)\n"
	    "  --max-size B        largest message in bytes (2097152); sizes "
	    "are log-uniform\n"
	    "  --domains N         domains example.com, example.net, "
	    "example.org, d3.example, ... (3)\n"
	    "  --prefix P          user i is P%%04d@domain (user)\n"
	    "  --start N           first user number (1)\n"
	    "  --layout TEMPLATE   account path below SLICE_ROOT (%%d/%%n)\n"
	    "  --seed N            output is a function of the seed (1)\n"
	    "  --manifest FILE     write user, path, files, bytes, "
	    "maildirsize (tab-separated)\n"
	    "  --csv FILE          write an import CSV (needs --slice)\n"
	    "  --slice NAME        slice name for the CSV\n"
	    "  --maildirsize-mix   account i gets maildirsize variant i%%5: "
	    "good, none, stale,\n"
	    "                      oversized, garbage (default: all good)\n"
	    "  --help              show this\n");
}

/* Next 64 random bits. */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A random number in [0, n). */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return n == 0 ? 0 : rng_next(r) % n;
}

/* A random double in [0, 1). */
static double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Hash a string (FNV-1a). */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Natural logarithm from + - * / only, so that sizes do not depend on the
 * libm at hand.
 */
static double
det_log(double x)
{
	double s, s2, term, sum = 0;
	int e = 0, k;

	while (x >= 2.0) {
		x /= 2;
		e++;
	}
	while (x < 1.0) {
		x *= 2;
		e--;
	}
	if (x > 1.4142135623730951) {
		x /= 2;
		e++;
	}
	s = (x - 1) / (x + 1);
	s2 = s * s;
	term = s;
	for (k = 1; k < 60; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return 2 * sum + e * LN2;
}

/* Exponential from + - * / only (see det_log). */
static double
det_exp(double y)
{
	double r, sum = 1, term = 1;
	long k;
	int i;

	k = (long)(y / LN2 + (y >= 0 ? 0.5 : -0.5));
	r = y - (double)k * LN2;
	for (i = 1; i < 30; i++) {
		term *= r / i;
		sum += term;
	}
	for (; k > 0; k--)
		sum *= 2;
	for (; k < 0; k++)
		sum /= 2;
	return sum;
}

/* Parse a whole decimal number for option opt, in [min, max]. */
static uint64_t
parse_number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		usage_error("%s: '%s' is not a number", opt, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		usage_error("%s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		usage_error("%s: %s is out of range [%llu, %llu]", opt, s,
		    (unsigned long long)min, (unsigned long long)max);
	return v;
}

/* Parse a size (plain bytes or with a unit) for option opt. */
static uint64_t
parse_size(const char *opt, const char *s)
{
	uint64_t v;
	char *cause = NULL;

	if (size_parse(s, &v, &cause) != 0)
		usage_error("%s: %s", opt, cause);
	if (v == 0 || v > (1ULL << 40))
		usage_error("%s: %s is out of range [1, 1T]", opt, s);
	return v;
}

/* Parse the spread, a fraction in [0, 1]. */
static double
parse_spread(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 1))
		usage_error("--spread: '%s' is not a number in [0, 1]", s);
	return v;
}

/* Write out the buffered bytes of the file being written. */
static void
out_flush(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < out.len) {
		n = write(out.fd, out.buf + off, out.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write %s/%s", out.dir, out.name);
		}
		off += (size_t)n;
	}
	out.len = 0;
}

/* Start writing file name (mode 0600) in directory dirfd, named dir. */
static void
out_open(int dirfd, const char *dir, const char *name)
{
	out.dir = dir;
	out.name = name;
	out.len = 0;
	out.fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (out.fd < 0)
		die("%s/%s", dir, name);
}

/* Append n bytes to the file being written. */
static void
out_put(const void *p, size_t n)
{
	const char *s = p;
	size_t k;

	while (n > 0) {
		if (out.len == IOBUF_SIZE)
			out_flush();
		k = IOBUF_SIZE - out.len;
		if (k > n)
			k = n;
		memcpy(out.buf + out.len, s, k);
		out.len += k;
		s += k;
		n -= k;
	}
}

/* Append a formatted string to the file being written. */
static void __attribute__((format(printf, 1, 2)))
out_printf(const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		diex("internal error: line too long for %s", out.name);
	out_put(tmp, (size_t)n);
}

/* Finish the file being written; set its times to *ts unless NULL. */
static void
out_close(const struct timespec *ts)
{
	struct timespec tv[2];

	out_flush();
	if (ts != NULL) {
		tv[0] = tv[1] = *ts;
		if (futimens(out.fd, tv) != 0)
			die("set times of %s/%s", out.dir, out.name);
	}
	if (close(out.fd) != 0)
		die("close %s/%s", out.dir, out.name);
	out.fd = -1;
}

/* Write a whole small file at once. */
static void
write_file(int dirfd, const char *dir, const char *name, const void *p,
    size_t n, const struct timespec *ts)
{
	out_open(dirfd, dir, name);
	out_put(p, n);
	out_close(ts);
}

/* Set the times of the directory open at fd. */
static void
set_dir_time(int fd, const char *path, const struct timespec *ts)
{
	struct timespec tv[2];

	tv[0] = tv[1] = *ts;
	if (futimens(fd, tv) != 0)
		die("set times of %s", path);
}

/* Compare two times: <0, 0, >0. */
static int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/* Raise *a to b if b is newer. */
static void
ts_max(struct timespec *a, const struct timespec *b)
{
	if (ts_cmp(a, b) < 0)
		*a = *b;
}

/* Build the body text corpus: sentences of words, printable ASCII. */
static void
corpus_init(void)
{
	struct rng r = { 0x6d61696c64697221ULL };
	size_t n = 0, w, k, len;
	const char *word;
	int i, words_in;

	corpus = xmalloc(CORPUS_SIZE + 64);
	while (n < CORPUS_SIZE) {
		words_in = 5 + (int)rng_below(&r, 10);
		for (i = 0; i < words_in && n < CORPUS_SIZE; i++) {
			w = rng_below(&r, NELEM(words));
			word = words[w];
			len = strlen(word);
			for (k = 0; k < len; k++) {
				corpus[n] = word[k];
				if (i == 0 && k == 0)
					corpus[n] -= 'a' - 'A';
				n++;
			}
			if (i == words_in - 1)
				corpus[n++] = '.';
			else if (rng_below(&r, 12) == 0)
				corpus[n++] = ',';
			corpus[n++] = ' ';
		}
	}
	corpus_len = n;
}

/* Look up path in the directory table; returns the slot. */
static struct dent *
dirtab_slot(struct dirtab *dt, const char *path)
{
	size_t i = (size_t)hash_str(path) & (dt->size - 1);

	while (dt->v[i].path != NULL && strcmp(dt->v[i].path, path) != 0)
		i = (i + 1) & (dt->size - 1);
	return &dt->v[i];
}

/* Find or add path; *isnew says whether it was added. */
static struct dent *
dirtab_get(struct dirtab *dt, const char *path, int *isnew)
{
	struct dent *old, *e;
	size_t oldsize, i;

	if ((dt->used + 1) * 2 > dt->size) {
		old = dt->v;
		oldsize = dt->size;
		dt->size = oldsize ? oldsize * 2 : 64;
		dt->v = xcalloc(dt->size, sizeof *dt->v);
		for (i = 0; i < oldsize; i++) {
			if (old[i].path != NULL)
				*dirtab_slot(dt, old[i].path) = old[i];
		}
		free(old);
	}
	e = dirtab_slot(dt, path);
	*isnew = e->path == NULL;
	if (*isnew) {
		e->path = xstrdup(path);
		dt->used++;
	}
	return e;
}

/*
 * Create the account directory rel below the slice root (mkdir -p) and
 * return it open. Directories above it are noted in dt with the mtime they
 * had if they existed before, so that they can be set at the end.
 */
static int
make_account_dir(int rootfd, const char *root, const char *rel,
    struct dirtab *dt)
{
	char buf[MS_PATH_MAX], *p, *slash;
	struct dent *e;
	struct stat sb;
	int fd = rootfd, nfd, created, isnew;

	if (strlen(rel) >= sizeof buf)
		diex("%s: account path too long", rel);
	strcpy(buf, rel);
	for (p = buf; ; p = slash + 1) {
		if ((slash = strchr(p, '/')) != NULL)
			*slash = '\0';
		created = mkdirat(fd, p, 0700) == 0;
		if (!created && errno != EEXIST)
			die("mkdir %s/%s", root, buf);
		nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0)
			die("%s/%s", root, buf);
		if (fd != rootfd && close(fd) != 0)
			die("close %s", root);
		fd = nfd;
		if (slash == NULL)
			break;
		/* Note its old mtime before anything is made inside it. */
		e = dirtab_get(dt, buf, &isnew);
		if (isnew && !created) {
			if (fstat(fd, &sb) != 0)
				die("%s/%s", root, buf);
			e->t = sb.st_mtim;
		}
		*slash = '/';
	}
	return fd;
}

/* Raise the mtime to set on the directories above account rel to t. */
static void
note_parents(struct dirtab *dt, const char *rel, const struct timespec *t)
{
	char buf[MS_PATH_MAX];
	struct dent *e;
	char *slash;
	int isnew;

	e = dirtab_get(dt, "", &isnew);
	ts_max(&e->t, t);
	strcpy(buf, rel);
	for (slash = buf; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		e = dirtab_get(dt, buf, &isnew);
		ts_max(&e->t, t);
		*slash = '/';
	}
}

/* Order messages by time received, then by their random seed. */
static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? -1 : 1;
	if (x->rnd != y->rnd)
		return x->rnd < y->rnd ? -1 : 1;
	return 0;
}

/* Format the base name of message m (no ":2," part) into buf. */
static void
msg_basename(const struct msg *m, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%lld.M%ldP%uQ%u.mail%u.example.net,S=%llu,"
	    "W=%llu", (long long)m->sec, m->nsec / 1000, m->pid, m->seq,
	    m->host, (unsigned long long)m->size,
	    (unsigned long long)m->vsize);
	if (n < 0 || (size_t)n >= len)
		diex("internal error: message name too long");
}

/*
 * Build the header of message m of user into h; returns its length. Uses
 * r, which then goes on to make the body.
 */
static size_t
build_header(char *h, size_t len, const char *user, const char *local,
    uint64_t seed, const struct msg *m, struct rng *r)
{
	const char *first, *last, *sdom, *prefix;
	char subject[256], date[64];
	struct tm tm;
	time_t t;
	size_t sl = 0;
	int i, nwords, z, n;

	first = first_names[rng_below(r, NELEM(first_names))];
	last = last_names[rng_below(r, NELEM(last_names))];
	sdom = sender_domains[rng_below(r, NELEM(sender_domains))];
	z = (int)rng_below(r, NELEM(zones));
	switch (rng_below(r, 6)) {
	case 0:
		prefix = "Re: ";
		break;
	case 1:
		prefix = "Fwd: ";
		break;
	default:
		prefix = "";
		break;
	}
	sl = (size_t)snprintf(subject, sizeof subject, "%s", prefix);
	nwords = 2 + (int)rng_below(r, 6);
	for (i = 0; i < nwords; i++) {
		n = snprintf(subject + sl, sizeof subject - sl, "%s%s",
		    i == 0 ? "" : " ", words[rng_below(r, NELEM(words))]);
		if (n < 0 || (size_t)n >= sizeof subject - sl)
			break;
		if (i == 0 && subject[sl] >= 'a' && subject[sl] <= 'z')
			subject[sl] -= 'a' - 'A';
		sl += (size_t)n;
	}

	t = (time_t)(m->sec + zones[z].minutes * 60);
	if (gmtime_r(&t, &tm) == NULL)
		diex("cannot convert time %lld", (long long)m->sec);
	snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d %s",
	    wday_names[tm.tm_wday], tm.tm_mday, month_names[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    zones[z].text);

	n = snprintf(h, len,
	    "Return-Path: <%s.%s@%s>\n"
	    "Delivered-To: %s\n"
	    "Message-ID: <%u.%llu.%s@mail.example.net>\n"
	    "Date: %s\n"
	    "From: %c%s %c%s <%s.%s@%s>\n"
	    "To: %s\n"
	    "Subject: %s\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n",
	    first, last, sdom,
	    user,
	    m->seq, (unsigned long long)seed, local,
	    date,
	    first[0] - ('a' - 'A'), first + 1, last[0] - ('a' - 'A'), last + 1,
	    first, last, sdom,
	    user,
	    subject);
	if (n < 0 || (size_t)n >= len)
		diex("internal error: header too long for %s", user);
	return (size_t)n;
}

/*
 * Lay out a body of exactly left bytes in lines of at most LINE_MAX_LEN
 * printable characters and LF; returns the number of lines. Writes it to
 * the open file when emit, taking text from the corpus with tr.
 */
static uint64_t
body_lines(struct rng lr, struct rng *tr, uint64_t left, int emit)
{
	uint64_t lines = 0;
	size_t l, off;
	char *p;

	while (left > 0) {
		if (left <= LINE_MAX_LEN + 1)
			l = (size_t)left - 1;
		else if (rng_below(&lr, 100) < 6)
			l = 0;		/* paragraph break */
		else
			l = 30 + (size_t)rng_below(&lr, LINE_MAX_LEN - 30 + 1);
		if (emit) {
			if (IOBUF_SIZE - out.len < LINE_MAX_LEN + 1)
				out_flush();
			p = out.buf + out.len;
			if (l > 0) {
				/* Start at a word. */
				off = (size_t)rng_below(tr,
				    corpus_len - 2 * LINE_MAX_LEN);
				while (corpus[off] != ' ')
					off++;
				off++;
				memcpy(p, corpus + off, l);
				if (p[l - 1] == ' ')
					p[l - 1] = '.';
			}
			p[l] = '\n';
			out.len += l + 1;
		}
		left -= l + 1;
		lines++;
	}
	return lines;
}

/* Count the LFs in n bytes at p. */
static uint64_t
count_lines(const char *p, size_t n)
{
	const char *end = p + n;
	uint64_t c = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

/* Make a directory name below fd (mode 0700) and open it. */
static int
make_dir(int fd, const char *parent, const char *name, char **pathp)
{
	char *path;
	int nfd;

	path = xasprintf("%s/%s", parent, name);
	if (mkdirat(fd, name, 0700) != 0 && errno != EEXIST)
		die("mkdir %s", path);
	if ((nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		die("%s", path);
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return nfd;
}

/* Choose the account's folders (besides INBOX) in folder_names order. */
static int
choose_folders(struct rng *r, int *chosen)
{
	int order[NFOLDER_NAMES], want, have = 0, i, j, k, tmp, par;

	for (i = 0; i < NFOLDER_NAMES; i++) {
		order[i] = i;
		chosen[i] = 0;
	}
	for (i = NFOLDER_NAMES - 1; i > 0; i--) {
		j = (int)rng_below(r, (uint64_t)i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	want = 2 + (int)rng_below(r, 4);
	for (k = 0; k < NFOLDER_NAMES && have < want; k++) {
		i = order[k];
		if (chosen[i])
			continue;
		par = folder_parent[i];
		if (par >= 0 && !chosen[par]) {
			/* A year of Archive comes with Archive. */
			if (have + 2 > want)
				continue;
			chosen[par] = 1;
			have++;
		}
		chosen[i] = 1;
		have++;
	}
	return have;
}

/* Quote a CSV field if it needs it (RFC 4180) and write it to f. */
static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

struct gen {
	struct options	*o;
	struct layout	*layout;
	int		 rootfd;
	struct dirtab	 dirs;
	FILE		*manifest;
	FILE		*csv;
	uint64_t	 files;
	uint64_t	 bytes;
	struct msg	*msgs;		/* of the account being made */
	size_t		 msgs_size;
	struct timespec	 now;
};

/* The account being made. */
struct acct {
	uint64_t	 idx;		/* user number */
	char		 user[MS_USER_MAX + 1];
	char		 local[MS_USER_MAX + 1];
	char		 rel[MS_PATH_MAX];	/* below the slice root */
	char		*path;		/* for messages */
	int		 fd;
	struct rng	 r;
	struct folder	 f[MAX_ACCT_FOLDERS];	/* INBOX first */
	int		 nf;
	uint64_t	 n;		/* messages */
	uint64_t	 files;
	uint64_t	 bytes;
	struct timespec	 created;	/* older than every message */
	struct timespec	 newest;	/* newest cur/ or new/ */
	enum variant	 v;
};

/* Write the maildirsize variant a->v of an account. */
static void
write_maildirsize(struct gen *g, struct acct *a)
{
	struct timespec ts;
	uint64_t half_b = 0, i;

	if (a->v == MDS_NONE)
		return;
	/* Trusted ones are written now, after everything they count. */
	ts = g->now;
	if (ts_cmp(&ts, &a->newest) <= 0) {
		ts = a->newest;
		ts.tv_sec++;
	}
	out_open(a->fd, a->path, "maildirsize");
	out_put(QUOTA_LINE, strlen(QUOTA_LINE));
	switch (a->v) {
	case MDS_GOOD:
		out_printf("%llu %llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
		break;
	case MDS_STALE:
		for (i = 0; i < a->n / 2; i++)
			half_b += g->msgs[i].size;
		out_printf("%llu %llu\n", (unsigned long long)half_b,
		    (unsigned long long)(a->n / 2));
		/* A day older than the newest cur/ or new/. */
		ts = a->newest;
		ts.tv_sec -= DAY;
		break;
	case MDS_OVERSIZED:
		/* Right totals, then far too many deltas: the sum is off. */
		out_printf("%llu %llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
		for (i = 0; out.len <= MDS_LIMIT + 64; i++)
			out_printf("%llu 1\n",
			    (unsigned long long)(1000 + (i * 7919) % 90000));
		break;
	case MDS_GARBAGE:
		out_printf("%llu %llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
		out_printf("not numbers here\n");
		break;
	case MDS_NONE:
		break;
	}
	out_close(&ts);
}

/* Name the account, find its path, and start its random stream. */
static void
acct_name(struct gen *g, struct acct *a)
{
	struct options *o = g->o;
	struct dent *e;
	char domain[64], *cause = NULL;
	const char *dom;
	uint64_t k;
	double x;
	int isnew;

	k = a->idx % o->domains;
	if (k < 3)
		dom = k == 0 ? "example.com" : k == 1 ? "example.net" :
		    "example.org";
	else {
		snprintf(domain, sizeof domain, "d%llu.example",
		    (unsigned long long)k);
		dom = domain;
	}
	if ((size_t)snprintf(a->local, sizeof a->local, "%s%04llu",
	    o->prefix, (unsigned long long)a->idx) >= sizeof a->local ||
	    (size_t)snprintf(a->user, sizeof a->user, "%s@%s", a->local,
	    dom) >= sizeof a->user)
		diex("user name for %s%04llu is too long", o->prefix,
		    (unsigned long long)a->idx);
	if (user_check(a->user, &cause) != 0)
		diex("%s", cause);
	if (layout_expand(g->layout, a->user, a->rel, sizeof a->rel,
	    &cause) != 0)
		diex("%s", cause);
	e = dirtab_get(&g->dirs, a->rel, &isnew);
	if (!isnew)
		diex("layout '%s' gives the path '%s' to two users (%s)",
		    o->layout, a->rel, a->user);
	e->account = 1;
	a->path = xasprintf("%s/%s", o->root, a->rel);

	/* The account's own stream: a function of the seed and the user. */
	a->r.s = hash_str(a->user);
	a->r.s = rng_next(&a->r) ^ o->seed;
	a->r.s = rng_next(&a->r);

	a->n = o->messages;
	if (o->spread > 0) {
		x = (double)o->messages * (1 + o->spread *
		    (2 * rng_unit(&a->r) - 1));
		a->n = (uint64_t)(x + 0.5);
	}
	a->created.tv_sec = REF_TIME - SPAN - DAY -
	    (int64_t)rng_below(&a->r, 180 * DAY);
	a->created.tv_nsec = 1 + (long)rng_below(&a->r, 999999999);
	a->v = o->mix ? (enum variant)(a->idx % 5) : MDS_GOOD;
}

/* Make the account's directories: INBOX and its folders. */
static void
acct_dirs(struct gen *g, struct acct *a)
{
	struct folder *fo;
	int chosen[NFOLDER_NAMES], i;

	a->fd = make_account_dir(g->rootfd, g->o->root, a->rel, &g->dirs);
	choose_folders(&a->r, chosen);
	for (i = -1; i < NFOLDER_NAMES; i++) {
		if (i >= 0 && !chosen[i])
			continue;
		fo = &a->f[a->nf];
		fo->name = i < 0 ? "" : folder_names[i];
		fo->uidvalidity = (uint32_t)a->created.tv_sec +
		    (uint32_t)a->nf;
		if (i < 0) {
			fo->fd = a->fd;
			fo->path = xstrdup(a->path);
		} else
			fo->fd = make_dir(a->fd, a->path, fo->name, &fo->path);
		fo->subfd[0] = make_dir(fo->fd, fo->path, "new",
		    &fo->subpath[0]);
		fo->subfd[1] = make_dir(fo->fd, fo->path, "cur",
		    &fo->subpath[1]);
		fo->subfd[2] = make_dir(fo->fd, fo->path, "tmp",
		    &fo->subpath[2]);
		if (i >= 0)
			write_file(fo->fd, fo->path, "maildirfolder", "", 0,
			    &a->created);
		a->nf++;
	}
}

/* Draw the account's messages and write them, in the order they came. */
static void
acct_messages(struct gen *g, struct acct *a)
{
	struct options *o = g->o;
	struct folder *fo;
	struct rng mr, lr;
	struct timespec ts;
	struct msg *m;
	char name[256], hdr[HDR_MAX];
	uint64_t j, lines, want;
	double lmin, lrange;
	size_t hlen, bl;

	if (a->n > g->msgs_size) {
		g->msgs = xrealloc(g->msgs, (size_t)a->n * sizeof *g->msgs);
		g->msgs_size = (size_t)a->n;
	}
	lmin = det_log((double)o->min_size);
	lrange = det_log((double)o->max_size) - lmin;
	for (j = 0; j < a->n; j++) {
		m = &g->msgs[j];
		m->sec = REF_TIME - SPAN + (int64_t)rng_below(&a->r, SPAN);
		m->nsec = 1 + (long)rng_below(&a->r, 999999999);
		want = (uint64_t)det_exp(lmin + rng_unit(&a->r) * lrange);
		if (want < o->min_size)
			want = o->min_size;
		if (want > o->max_size)
			want = o->max_size;
		m->size = want;
		m->rnd = rng_next(&a->r);
		m->pid = 1000 + (uint32_t)rng_below(&a->r, 64000);
		m->host = 1 + (uint8_t)rng_below(&a->r, 3);
		if (a->nf == 1 || rng_below(&a->r, 2) == 0)
			m->folder = 0;	/* about half in INBOX */
		else
			m->folder = 1 + (uint8_t)rng_below(&a->r,
			    (uint64_t)a->nf - 1);
		m->cur = rng_below(&a->r, 100) < 85;
		m->flags = (uint8_t)rng_below(&a->r, NFLAG_SETS);
	}
	qsort(g->msgs, (size_t)a->n, sizeof *g->msgs, msg_cmp);

	for (j = 0; j < a->n; j++) {
		m = &g->msgs[j];
		m->seq = (uint32_t)j + 1;
		mr.s = m->rnd;
		hlen = build_header(hdr, sizeof hdr, a->user, a->local,
		    o->seed, m, &mr);
		if (m->size < hlen + MIN_BODY)
			m->size = hlen + MIN_BODY;
		/* Lay the body out once to count its lines for W=. */
		lr.s = rng_next(&mr);
		lines = count_lines(hdr, hlen) +
		    body_lines(lr, &mr, m->size - hlen, 0);
		m->vsize = m->size + lines;
		msg_basename(m, name, sizeof name);
		bl = strlen(name);
		if (m->cur)
			snprintf(name + bl, sizeof name - bl, ":2,%s",
			    flag_sets[m->flags]);
		fo = &a->f[m->folder];
		out_open(fo->subfd[m->cur], fo->subpath[m->cur], name);
		out_put(hdr, hlen);
		body_lines(lr, &mr, m->size - hlen, 1);
		ts.tv_sec = m->sec;
		ts.tv_nsec = m->nsec;
		out_close(&ts);
		ts_max(&fo->newest[m->cur], &ts);
		fo->count++;
		a->files++;
		a->bytes += m->size;
	}
}

/* Write Dovecot's files: a uidlist per folder, then the root's own. */
static void
acct_dovecot(struct gen *g, struct acct *a)
{
	struct folder *fo;
	struct timespec fnewest;
	struct msg *m;
	char name[256], hex[16], buf[64];
	uint64_t j, uid;
	int i;

	a->newest = a->created;
	for (i = 0; i < a->nf; i++) {
		fo = &a->f[i];
		fnewest = a->created;
		ts_max(&fnewest, &fo->newest[0]);
		ts_max(&fnewest, &fo->newest[1]);
		ts_max(&a->newest, &fnewest);
		out_open(fo->fd, fo->path, "dovecot-uidlist");
		out_printf("3 V%u N%u G%016llx%016llx\n", fo->uidvalidity,
		    fo->count + 1, (unsigned long long)rng_next(&a->r),
		    (unsigned long long)rng_next(&a->r));
		uid = 0;
		for (j = 0; j < a->n; j++) {
			m = &g->msgs[j];
			if (m->folder != i)
				continue;
			msg_basename(m, name, sizeof name);
			out_printf("%llu :%s\n", (unsigned long long)++uid,
			    name);
		}
		out_close(&fnewest);
	}

	snprintf(hex, sizeof hex, "%08x", a->f[a->nf - 1].uidvalidity);
	snprintf(buf, sizeof buf, "%s\n", hex);
	write_file(a->fd, a->path, "dovecot-uidvalidity", buf, strlen(buf),
	    &a->created);
	snprintf(buf, sizeof buf, "dovecot-uidvalidity.%s", hex);
	write_file(a->fd, a->path, buf, "", 0, &a->created);
	write_file(a->fd, a->path, "dovecot-keywords", KEYWORDS,
	    strlen(KEYWORDS), &a->created);

	out_open(a->fd, a->path, "subscriptions");
	out_put("V\t2\n\n", 5);
	for (i = 1; i < a->nf; i++)
		out_printf("%s\n", a->f[i].name + 1);
	out_close(&a->created);

	out_open(a->fd, a->path, "dovecot.index.log");
	for (j = 200 + rng_below(&a->r, 400); j > 0; j--) {
		buf[0] = (char)(rng_next(&a->r) & 0xff);
		out_put(buf, 1);
	}
	out_close(&a->newest);
}

/* Set the account's directory times, innermost first, and close them. */
static void
acct_close(struct gen *g, struct acct *a)
{
	struct folder *fo;
	struct timespec fnewest, ts;
	int i, k;

	for (i = 0; i < a->nf; i++) {
		fo = &a->f[i];
		fnewest = a->created;
		for (k = 0; k < 2; k++) {
			ts = a->created;
			ts_max(&ts, &fo->newest[k]);
			set_dir_time(fo->subfd[k], fo->subpath[k], &ts);
			ts_max(&fnewest, &ts);
		}
		set_dir_time(fo->subfd[2], fo->subpath[2], &fnewest);
		if (i > 0)
			set_dir_time(fo->fd, fo->path, &fnewest);
		for (k = 0; k < 3; k++) {
			if (close(fo->subfd[k]) != 0)
				die("close %s", fo->subpath[k]);
			free(fo->subpath[k]);
		}
		if (i > 0 && close(fo->fd) != 0)
			die("close %s", fo->path);
		free(fo->path);
	}
	set_dir_time(a->fd, a->path, &a->newest);
	if (close(a->fd) != 0)
		die("close %s", a->path);
	note_parents(&g->dirs, a->rel, &a->newest);
}

/* Add the account's line to the manifest and the CSV. */
static void
acct_report(struct gen *g, struct acct *a)
{
	if (g->manifest != NULL)
		fprintf(g->manifest, "%s\t%s\t%llu\t%llu\t%s\n", a->user,
		    a->rel, (unsigned long long)a->files,
		    (unsigned long long)a->bytes, variant_names[a->v]);
	if (g->csv != NULL) {
		csv_field(g->csv, a->user);
		fputc(',', g->csv);
		csv_field(g->csv, g->o->slice);
		fputc(',', g->csv);
		csv_field(g->csv, a->rel);
		fprintf(g->csv, ",%llu,%llu\n", (unsigned long long)a->bytes,
		    (unsigned long long)a->files);
	}
}

/* Make the account of user number idx. */
static void
gen_account(struct gen *g, uint64_t idx)
{
	static struct acct a;

	memset(&a, 0, sizeof a);
	a.idx = idx;
	acct_name(g, &a);
	acct_dirs(g, &a);
	acct_messages(g, &a);
	acct_dovecot(g, &a);
	/* The quota file, judged against the newest cur/ and new/. */
	write_maildirsize(g, &a);
	acct_close(g, &a);
	acct_report(g, &a);
	g->files += a.files;
	g->bytes += a.bytes;
	free(a.path);
}

/* Set the times of the directories above the accounts. */
static void
set_parent_times(struct gen *g)
{
	struct timespec tv[2];
	struct dent *e;
	size_t i;

	for (i = 0; i < g->dirs.size; i++) {
		e = &g->dirs.v[i];
		if (e->path == NULL || e->account)
			continue;
		tv[0] = tv[1] = e->t;
		if (*e->path == '\0') {
			if (futimens(g->rootfd, tv) != 0)
				die("set times of %s", g->o->root);
		} else if (utimensat(g->rootfd, e->path, tv, 0) != 0)
			die("set times of %s/%s", g->o->root, e->path);
	}
}

/* Close a report file, failing on any write error. */
static void
close_report(FILE *f, const char *path)
{
	if (f == NULL)
		return;
	if (ferror(f) != 0 || fflush(f) != 0)
		die("write %s", path);
	if (fclose(f) != 0)
		die("close %s", path);
}

/* Parse the options, then make the accounts one by one. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "accounts", required_argument, NULL, 'a' },
		{ "messages", required_argument, NULL, 'm' },
		{ "spread", required_argument, NULL, 'S' },
		{ "min-size", required_argument, NULL, 'i' },
		{ "max-size", required_argument, NULL, 'x' },
		{ "domains", required_argument, NULL, 'd' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "start", required_argument, NULL, 's' },
		{ "layout", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 'e' },
		{ "manifest", required_argument, NULL, 'M' },
		{ "csv", required_argument, NULL, 'c' },
		{ "slice", required_argument, NULL, 'n' },
		{ "maildirsize-mix", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct options o = {
		.accounts = 10, .messages = 100, .spread = 0, .min_size = 300,
		.max_size = 2097152, .domains = 3, .prefix = "user",
		.start = 1, .layout = "%d/%n", .seed = 1
	};
	struct gen g;
	struct stat sb;
	struct dent *e;
	const char *p;
	char *cause = NULL;
	uint64_t i;
	int ch, isnew;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			o.accounts = parse_number("--accounts", optarg, 0,
			    100000000);
			break;
		case 'm':
			o.messages = parse_number("--messages", optarg, 0,
			    MAX_MESSAGES / 2);
			break;
		case 'S':
			o.spread = parse_spread(optarg);
			break;
		case 'i':
			o.min_size = parse_size("--min-size", optarg);
			break;
		case 'x':
			o.max_size = parse_size("--max-size", optarg);
			break;
		case 'd':
			o.domains = parse_number("--domains", optarg, 1,
			    1000000);
			break;
		case 'p':
			o.prefix = optarg;
			break;
		case 's':
			o.start = parse_number("--start", optarg, 0,
			    UINT64_MAX / 2);
			break;
		case 'l':
			o.layout = optarg;
			break;
		case 'e':
			o.seed = parse_number("--seed", optarg, 0, UINT64_MAX);
			break;
		case 'M':
			o.manifest = optarg;
			break;
		case 'c':
			o.csv = optarg;
			break;
		case 'n':
			o.slice = optarg;
			break;
		case 'q':
			o.mix = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		usage_error("give exactly one SLICE_ROOT");
	o.root = argv[optind];
	if (o.min_size > o.max_size)
		usage_error("--min-size is larger than --max-size");
	if ((o.csv == NULL) != (o.slice == NULL))
		usage_error("--csv and --slice go together");
	if (*o.prefix == '\0')
		usage_error("--prefix must not be empty");
	for (p = o.prefix; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._+-", *p) != NULL))
			usage_error("--prefix '%s': use letters, digits and "
			    "'.', '_', '+', '-'", o.prefix);
	}
	if (*o.prefix == '.')
		usage_error("--prefix must not start with '.'");
	if (o.start > UINT64_MAX / 2 - o.accounts)
		usage_error("--start is too large");

	memset(&g, 0, sizeof g);
	g.o = &o;
	if ((g.layout = layout_parse(o.layout, &cause)) == NULL)
		usage_error("--layout: %s", cause);

	/* Mode 0600 files and 0700 directories whatever the umask. */
	umask(077);
	if ((g.rootfd = open(o.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("%s", o.root);
	if (fstat(g.rootfd, &sb) != 0)
		die("%s", o.root);
	e = dirtab_get(&g.dirs, "", &isnew);
	e->t = sb.st_mtim;
	if (clock_gettime(CLOCK_REALTIME, &g.now) != 0)
		die("clock_gettime");
	if (o.manifest != NULL && (g.manifest = fopen(o.manifest, "w")) ==
	    NULL)
		die("%s", o.manifest);
	if (o.csv != NULL) {
		if ((g.csv = fopen(o.csv, "w")) == NULL)
			die("%s", o.csv);
		fputs("user,slice,path,bytes,files\n", g.csv);
	}
	out.buf = xmalloc(IOBUF_SIZE);
	out.fd = -1;
	corpus_init();

	for (i = 0; i < o.accounts; i++)
		gen_account(&g, o.start + i);
	set_parent_times(&g);

	if (g.manifest != NULL)
		fprintf(g.manifest, "total\t-\t%llu\t%llu\t-\n",
		    (unsigned long long)g.files, (unsigned long long)g.bytes);
	close_report(g.manifest, o.manifest);
	close_report(g.csv, o.csv);
	if (close(g.rootfd) != 0)
		die("close %s", o.root);
	for (i = 0; i < g.dirs.size; i++)
		free(g.dirs.v[i].path);
	free(g.dirs.v);
	free(g.msgs);
	free(corpus);
	free(out.buf);
	layout_free(g.layout);
	printf(PROG ": %llu accounts, %llu messages, %llu bytes in %s\n",
	    (unsigned long long)o.accounts, (unsigned long long)g.files,
	    (unsigned long long)g.bytes, o.root);
	if (fflush(stdout) != 0)
		die("stdout");
	return EXIT_OK;
}
