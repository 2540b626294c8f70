/* mailshift account list|show|import: the accounts and where they live. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "migrator/carry.h"
#include "common/csv.h"
#include "common/json.h"
#include "cli/output.h"
#include "state/state.h"
#include "state/account.h"
#include "state/fleet.h"
#include "state/import.h"
#include "state/route.h"
#include "state/slice.h"
#include "common/util.h"
#include "migrator/restore.h"
#include "migrator/tree.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void
account_json(struct json *j, const struct state_account *a)
{
	char when[32];

	json_string(j, "user", a->user);
	json_string(j, "slice", a->slice);
	json_string(j, "path", a->path);
	json_uint(j, "bytes", a->bytes);
	json_uint(j, "files", a->files);
	json_string(j, "last_activity", a->last_activity ?
	    time_format(a->last_activity, when, sizeof when) : NULL);
	json_string(j, "state", a->state);
	json_int(j, "generation", a->generation);
	json_bool(j, "pinned", a->pinned);
	json_string(j, "size_source", a->size_source);
}

/* What account show says of a's activity, per day at now. */
static void
activity_json(struct json *j, const struct state_account *a, int64_t now)
{
	double msgs, bytes, logins;
	char when[32];

	state_fleet_account_activity(a, now, &msgs, &bytes, &logins);
	json_uint(j, "added_files", a->added_files);
	json_uint(j, "added_bytes", a->added_bytes);
	json_string(j, "added_at", a->added_at ?
	    time_format(a->added_at, when, sizeof when) : NULL);
	json_uint(j, "logins", a->logins);
	json_uint(j, "logins_prev", a->logins_prev);
	json_string(j, "logins_since", a->logins_since ?
	    time_format(a->logins_since, when, sizeof when) : NULL);
	json_double(j, "messages_per_day", msgs);
	json_double(j, "bytes_per_day", bytes);
	json_double(j, "logins_per_day", logins);
}

static void
activity_print(const struct state_account *a, int64_t now)
{
	double msgs, bytes, logins;
	char when[32], size[32], total[32];

	state_fleet_account_activity(a, now, &msgs, &bytes, &logins);
	if (a->added_at == 0) {
		kv_print(stdout, "messages/day", "not counted yet ('mailshift "
		    "discover %s' counts them)", a->slice);
		kv_print(stdout, "bytes/day", "not counted yet");
	} else {
		kv_print(stdout, "messages/day", "%.1f (%llu arrived in the %d "
		    "days to %s)", msgs, (unsigned long long)a->added_files,
		    ACTIVITY_DAYS, time_format(a->added_at, when,
		    sizeof when));
		kv_print(stdout, "bytes/day", "%s (%s in those days)",
		    size_format((uint64_t)bytes, size, sizeof size),
		    size_format(a->added_bytes, total, sizeof total));
	}
	if (a->logins_since == 0)
		kv_print(stdout, "logins/day", "0 (no login counted)");
	else
		kv_print(stdout, "logins/day", "%.2f (%llu since %s, %llu the "
		    "week before)", logins, (unsigned long long)a->logins,
		    time_format(a->logins_since, when, sizeof when),
		    (unsigned long long)a->logins_prev);
}

static int
account_row(const struct state_account *a, void *arg)
{
	struct listing *l = arg;
	char size[32], files[32], when[32];

	if (l->json) {
		json_object_open(&l->j, NULL);
		account_json(&l->j, a);
		json_object_close(&l->j);
		return 0;
	}
	snprintf(files, sizeof files, "%llu", (unsigned long long)a->files);
	table_add(l->t, (const char *[]){ a->user, a->slice, a->path,
	    size_format(a->bytes, size, sizeof size), files,
	    time_format(a->last_activity, when, sizeof when), a->state,
	    a->size_source });
	return 0;
}

static int
cmd_account_list(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "slice", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char *slice = NULL;
	struct state_slice s;
	struct listing l;
	struct state *st;
	char *cause = NULL;
	int64_t sid = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 's')
			slice = optarg;
		else
			return cli_bad_option(e, ch, argc, argv);
	}
	if (optind != argc)
		return cli_usage(e, "unexpected argument '%s'", argv[optind]);
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (slice != NULL) {
		if (state_slice_get(st, slice, &s, &cause) != 0)
			return cli_fail(cause);
		sid = s.id;
		state_slice_free(&s);
	}
	listing_start(&l, c->json, 8, (const char *[]){ "USER", "SLICE",
	    "PATH", "SIZE", "FILES", "LAST ACTIVITY", "STATE", "SIZES FROM" },
	    "lllrrlll");
	if (state_account_list(st, sid, account_row, &l, &cause) != 0) {
		listing_abort(&l);
		return cli_fail(cause);
	}
	listing_end(&l);
	return EXIT_OK;
}

static int
cmd_account_show(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state_account a;
	struct state_route r;
	struct state *st;
	struct json j;
	char *cause = NULL, size[32], when[32];

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(e, "give one user");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_account_get(st, argv[1], &a, &cause) != 0)
		return cli_fail(cause);
	if (state_route_get(st, argv[1], &r, &cause) != 0) {
		state_account_free(&a);
		return cli_fail(cause);
	}
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		account_json(&j, &a);
		activity_json(&j, &a, now_unix());
		json_string(&j, "home", r.home);
		json_string(&j, "host", r.host);
		json_bool(&j, "locked", r.locked);
		json_object_close(&j);
		json_end(&j);
	} else {
		kv_print(stdout, "user", "%s", a.user);
		kv_print(stdout, "slice", "%s", a.slice);
		kv_print(stdout, "path", "%s", a.path);
		kv_print(stdout, "home", "%s", r.home);
		kv_print(stdout, "host", "%s (server %s)", r.host, r.server);
		kv_print(stdout, "state", "%s", a.state);
		kv_print(stdout, "size", "%s (%llu bytes, sizes from %s)",
		    size_format(a.bytes, size, sizeof size),
		    (unsigned long long)a.bytes, a.size_source);
		kv_print(stdout, "files", "%llu", (unsigned long long)a.files);
		kv_print(stdout, "last activity", "%s",
		    time_format(a.last_activity, when, sizeof when));
		activity_print(&a, now_unix());
		kv_print(stdout, "generation", "%lld",
		    (long long)a.generation);
		kv_print(stdout, "pinned", "%s", a.pinned ? "yes" : "no");
		kv_print(stdout, "updated", "%s",
		    time_format(a.updated, when, sizeof when));
	}
	state_route_free(&r);
	state_account_free(&a);
	return EXIT_OK;
}

/* Slice roots open for checking import paths on disk. */
struct roots {
	char	**names;
	int	 *fds;
	int	  n;
};

static int
roots_cb(const struct state_slice *s, void *arg)
{
	struct roots *r = arg;

	r->names = xrealloc(r->names, (size_t)(r->n + 1) * sizeof *r->names);
	r->fds = xrealloc(r->fds, (size_t)(r->n + 1) * sizeof *r->fds);
	r->names[r->n] = xstrdup(s->name);
	r->fds[r->n] = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r->n++;
	return 0;
}

static void
roots_free(struct roots *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		free(r->names[i]);
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	}
	free(r->names);
	free(r->fds);
}

/*
 * Check an import path on disk without following symlinks. Returns 1 when
 * the directory exists, 0 when it does not exist yet, -1 with a cause.
 */
static int
path_on_disk(const struct roots *r, const char *slice, const char *path,
    char **cause)
{
	struct tree_stop stop;
	char *why = NULL;
	int i, fd;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->names[i], slice) == 0)
			break;
	}
	if (i == r->n)
		return 0;	/* unknown slice: state reports it */
	if (r->fds[i] < 0)
		return fail(cause, "slice '%s' root cannot be opened; is it "
		    "mounted? (or give --no-check)", slice);
	if ((fd = tree_walk_below(r->fds[i], path, &stop, &why)) >= 0) {
		close(fd);
		return 1;
	}
	if (stop.error == 0) {
		/* A bad component, or no descriptor: the walk's words. */
		if (cause != NULL)
			*cause = why;
		else
			free(why);
		return -1;
	}
	free(why);
	if (stop.error == ENOENT)
		return 0;
	if ((stop.error == ELOOP || stop.error == ENOTDIR) && stop.symlink)
		return fail(cause, "'%s' goes through a symlink ('%s'); "
		    "mailboxes must be real directories inside the slice",
		    path, stop.part);
	if (stop.error == ENOTDIR)
		return fail(cause, "'%s' is not a directory on slice '%s'",
		    path, slice);
	return fail(cause, "'%s': %s", path, strerror(stop.error));
}

/* Parse a non-negative decimal integer field. */
static int
parse_count(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' || *out > INT64_MAX ? -1 : 0;
}

static int
cmd_account_import(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "replace", no_argument, NULL, 'r' },
		{ "no-check", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const header[] = { "user", "slice", "path",
	    "bytes", "files" };
	struct state_import_stats stats;
	struct state_import *im = NULL;
	struct roots roots = { NULL, NULL, 0 };
	struct csv csv;
	struct state *st;
	struct json j;
	uint64_t bytes, files;
	int64_t absent = 0;
	char *cause = NULL, *why = NULL;
	const char *file;
	int ch, replace = 0, check = 1, rc, i;
	FILE *f;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'r')
			replace = 1;
		else if (ch == 'n')
			check = 0;
		else
			return cli_bad_option(e, ch, argc, argv);
	}
	if (argc - optind != 1)
		return cli_usage(e, "give one CSV file, or - for stdin");
	file = argv[optind];
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (strcmp(file, "-") == 0)
		f = stdin;
	else if ((f = fopen(file, "r")) == NULL)
		return cli_error("cannot read %s: %s", file, strerror(errno));
	csv_init(&csv, f);
	if ((rc = csv_next(&csv, &cause)) <= 0) {
		if (rc == 0)
			cause = xasprintf("%s is empty; expected a header "
			    "line 'user,slice,path,bytes,files'", file);
		goto bad;
	}
	for (i = 0; i < 5; i++) {
		if (csv.nfields != 5 || strcasecmp(csv.field[i],
		    header[i]) != 0) {
			cause = xasprintf("line 1: header must be "
			    "'user,slice,path,bytes,files'");
			goto bad;
		}
	}
	if (check && state_slice_list(st, roots_cb, &roots, &cause) != 0)
		goto bad;
	if ((im = state_import_begin(st, replace, &cause)) == NULL)
		goto bad;
	while ((rc = csv_next(&csv, &cause)) == 1) {
		if (csv.nfields != 5) {
			cause = xasprintf("line %ld: %d fields, expected 5 "
			    "(user,slice,path,bytes,files)", csv.line,
			    csv.nfields);
			goto bad;
		}
		if (user_check(csv.field[0], &why) != 0 ||
		    relpath_check(csv.field[2], &why) != 0)
			goto bad_row;
		if (parse_count(csv.field[3], &bytes) != 0 ||
		    parse_count(csv.field[4], &files) != 0) {
			why = xasprintf("bytes and files must be whole numbers "
			    "('%s', '%s')", csv.field[3], csv.field[4]);
			goto bad_row;
		}
		if (bytes > MS_SIZE_MAX) {
			why = xasprintf("bytes %s is more than the largest "
			    "size, 8P (%llu)", csv.field[3],
			    (unsigned long long)MS_SIZE_MAX);
			goto bad_row;
		}
		if (check) {
			rc = path_on_disk(&roots, csv.field[1], csv.field[2],
			    &why);
			if (rc < 0)
				goto bad_row;
			if (rc == 0)
				absent++;
		}
		if (state_import_row(im, csv.line, csv.field[0], csv.field[1],
		    csv.field[2], bytes, files, &cause) != 0)
			goto bad;
	}
	if (rc < 0)
		goto bad;
	if (state_import_finish(im, &stats, &cause) != 0) {
		im = NULL;
		goto bad;
	}
	if (c->json) {
		json_init(&j, stdout);
		json_object_open(&j, NULL);
		json_int(&j, "rows", stats.rows);
		json_int(&j, "added", stats.added);
		json_int(&j, "updated", stats.updated);
		json_int(&j, "unchanged", stats.unchanged);
		json_int(&j, "not_on_disk", absent);
		json_object_close(&j);
		json_end(&j);
	} else {
		printf("imported %lld rows: %lld added, %lld updated, %lld "
		    "unchanged\n", (long long)stats.rows,
		    (long long)stats.added, (long long)stats.updated,
		    (long long)stats.unchanged);
		if (absent > 0)
			printf("%lld mailbox directories do not exist yet\n",
			    (long long)absent);
	}
	csv_free(&csv);
	roots_free(&roots);
	if (f != stdin)
		fclose(f);
	return EXIT_OK;

bad_row:
	cause = xasprintf("line %ld: %s", csv.line, why);
	free(why);
bad:
	state_import_abort(im);
	csv_free(&csv);
	roots_free(&roots);
	if (f != stdin)
		fclose(f);
	cli_error("%s: %s; nothing was imported", file, cause);
	free(cause);
	return EXIT_FAIL;
}

static int
cmd_account_restore(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "from-archive", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *archive = NULL, *to = NULL;
	struct state_route r;
	struct state *st;
	char *cause = NULL, *final = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'a')
			archive = optarg;
		else if (ch == 't')
			to = optarg;
		else
			return cli_bad_option(e, ch, argc, argv);
	}
	if (argc - optind != 1)
		return cli_operand_count(e, argc, argv, optind, "user");
	if (archive == NULL)
		return cli_usage(e, "missing --from-archive FILE");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_route_get(st, argv[optind], &r, &cause) != 0)
		return cli_fail(cause);
	if ((to != NULL && restore_check_to(st, to, r.user, &cause) != 0) ||
	    restore_account(archive, r.user, r.home, to, &final,
	    &cause) != 0) {
		state_route_free(&r);
		return cli_fail(cause);
	}
	if (to == NULL)
		state_event(st, "account.restore", r.user, r.slice, "restored "
		    "%s from %s", final, archive);
	if (!c->json)
		printf("restored %s from %s into %s\n", r.user, archive, final);
	free(final);
	state_route_free(&r);
	return EXIT_OK;
}

static int
cmd_account_pin(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state *st;
	char *cause = NULL;
	int pin = strcmp(e->sub, "pin") == 0;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 2)
		return cli_usage(e, "give one user");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (state_account_set_pinned(st, argv[1], pin, &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("account %s %s\n", argv[1], pin ? "pinned" :
		    "unpinned");
	return EXIT_OK;
}

static void
carried(void *arg, const char *from, const char *to)
{
	struct cli *c = arg;

	if (!c->json && to != NULL)
		printf("carried %s as %s\n", from, to);
}

static int
cmd_account_carry(struct cli *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct state *st;
	char *cause = NULL;
	uint64_t n;

	if (cli_operands(e, &argc, &argv) != 0)
		return EXIT_USAGE;
	if (argc != 4)
		return cli_usage(e, "give the user, the slice and the path of "
		    "the stray copy in it");
	if ((st = cli_state(c, 0)) == NULL)
		return EXIT_FAIL;
	if (carry_from(st, argv[1], argv[2], argv[3], carried, c, &n,
	    &cause) != 0)
		return cli_fail(cause);
	if (!c->json)
		printf("%llu message(s) carried to the home of %s; %s on slice "
		    "%s is left as it is: remove it once you have checked\n",
		    (unsigned long long)n, argv[1], argv[3], argv[2]);
	return EXIT_OK;
}

const struct cmd_entry cmd_account_carry_entry = {
	"account", "carry", "USER SLICE PATH",
	"copy into the account's home the messages a stray copy (SLICE's "
	"PATH) holds that the home lacks; the copy is only read",
	cmd_account_carry
};
const struct cmd_entry cmd_account_pin_entry = {
	"account", "pin", "USER", "keep an account where it is: plans never "
	"move it", cmd_account_pin
};
const struct cmd_entry cmd_account_unpin_entry = {
	"account", "unpin", "USER", "let plans move an account again",
	cmd_account_pin
};
const struct cmd_entry cmd_account_restore_entry = {
	"account", "restore", "USER --from-archive FILE [--to DIR]",
	"bring back an archived mailbox (into its empty home, or DIR/USER)",
	cmd_account_restore
};
const struct cmd_entry cmd_account_list_entry = {
	"account", "list", "[--slice SLICE]", "list accounts",
	cmd_account_list
};
const struct cmd_entry cmd_account_show_entry = {
	"account", "show", "USER", "show one account and its route",
	cmd_account_show
};
const struct cmd_entry cmd_account_import_entry = {
	"account", "import", "[--replace] [--no-check] FILE.csv|-",
	"load placements from CSV (user,slice,path,bytes,files), all or "
	"nothing", cmd_account_import
};
