/*
 * maildir-gen: make realistic Maildir++ account trees (as Dovecot 2.3 leaves
 * them) below a slice root, for the integration tests, the demo and the
 * benchmarks. Everything written is a function of the options and the seed:
 * names, sizes, contents and timestamps, except the mtime of maildirsize
 * files meant to be trusted, which is the real current time.
 *
 *	cc -std=c11 -I. -o maildir-gen tests/gen/maildir_gen.c \
 *	    tests/gen/gen_output.c tests/gen/gen_account.c \
 *	    tests/gen/gen_message.c common/layout.c common/util.c -lm
 *
 * This file: main, the options and the exits; see gen.h for the others.
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
#include "tests/gen/gen.h"

#define MAX_MESSAGES	100000000ULL

static void usage(FILE *);

/* Print "maildir-gen: what: strerror(errno)" and exit 1. */
void
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
void
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
	corpus_free();
	free(out.buf);
	layout_free(g.layout);
	printf(PROG ": %llu accounts, %llu messages, %llu bytes in %s\n",
	    (unsigned long long)o.accounts, (unsigned long long)g.files,
	    (unsigned long long)g.bytes, o.root);
	if (fflush(stdout) != 0)
		die("stdout");
	return EXIT_OK;
}
