/*
 * The mailshift command: global options, the command table and what every
 * command shares. Commands are data: one struct cmd_entry each, one file
 * per command family (cmd_slice.c holds the slice commands).
 */
#ifndef MAILSHIFT_CLI_H
#define MAILSHIFT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "common/config.h"

struct state;
struct layout;

/* What every command gets: global options and lazily opened resources. */
struct cli {
	struct config	 config;
	const char	*db;		/* catalog path in force */
	int		 json;		/* --json */
	struct state	*state;		/* opened by cli_state() */
	struct layout	*layout;	/* parsed by cli_layout() */
};

struct cmd_entry {
	const char	*name;		/* "slice" */
	const char	*sub;		/* "add", or NULL */
	const char	*usage;		/* arguments after name and sub */
	const char	*help;		/* one line */
	int		(*exec)(struct cli *, const struct cmd_entry *,
			    int argc, char **argv);
};

extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_catalog_copy_entry;
extern const struct cmd_entry cmd_dovecot_check_entry;
extern const struct cmd_entry cmd_server_add_entry;
extern const struct cmd_entry cmd_server_list_entry;
extern const struct cmd_entry cmd_server_show_entry;
extern const struct cmd_entry cmd_pair_add_entry;
extern const struct cmd_entry cmd_pair_list_entry;
extern const struct cmd_entry cmd_slice_add_entry;
extern const struct cmd_entry cmd_slice_list_entry;
extern const struct cmd_entry cmd_slice_show_entry;
extern const struct cmd_entry cmd_slice_set_entry;
extern const struct cmd_entry cmd_slice_failover_entry;
extern const struct cmd_entry cmd_discover_entry;
extern const struct cmd_entry cmd_account_list_entry;
extern const struct cmd_entry cmd_account_show_entry;
extern const struct cmd_entry cmd_account_import_entry;
extern const struct cmd_entry cmd_account_restore_entry;
extern const struct cmd_entry cmd_account_pin_entry;
extern const struct cmd_entry cmd_account_carry_entry;
extern const struct cmd_entry cmd_account_unpin_entry;
extern const struct cmd_entry cmd_route_entry;
extern const struct cmd_entry cmd_move_entry;
extern const struct cmd_entry cmd_moves_list_entry;
extern const struct cmd_entry cmd_moves_show_entry;
extern const struct cmd_entry cmd_moves_cancel_entry;
extern const struct cmd_entry cmd_moves_purge_entry;
extern const struct cmd_entry cmd_moves_complete_entry;
extern const struct cmd_entry cmd_moves_run_entry;
extern const struct cmd_entry cmd_plan_balance_entry;
extern const struct cmd_entry cmd_plan_drain_entry;
extern const struct cmd_entry cmd_plan_fill_entry;
extern const struct cmd_entry cmd_plan_apply_entry;
extern const struct cmd_entry cmd_plan_list_entry;
extern const struct cmd_entry cmd_daemon_entry;
extern const struct cmd_entry cmd_presence_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_report_usage_entry;
extern const struct cmd_entry cmd_report_forecast_entry;
extern const struct cmd_entry cmd_report_moves_entry;
extern const struct cmd_entry cmd_moves_pause_entry;
extern const struct cmd_entry cmd_moves_resume_entry;

/* Open the catalog (creating it only for init); NULL after an error. */
struct state *cli_state(struct cli *, int create);
/* The layout template from the config; NULL after an error. */
struct layout *cli_layout(struct cli *);

/* Print "mailshift: message" to stderr; returns EXIT_FAIL. */
int cli_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Print an error and the command's usage to stderr; returns EXIT_USAGE. */
int cli_usage(const struct cmd_entry *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Print a cause (freeing it) as an error; returns EXIT_FAIL. */
int cli_fail(char *cause);
/* Check a server, pair or slice name: letters, digits, '.', '_', '-'. */
int cli_name_ok(const char *);

/*
 * The usage error for what getopt_long returned as ch ('?' unknown option,
 * ':' option without its value; option strings start with ':' and opterr
 * is 0): one line naming the option as typed, and for an unknown one that
 * an argument starting with '-' goes after "--". Returns EXIT_USAGE.
 */
int cli_bad_option(const struct cmd_entry *, int ch, int argc, char **argv);
/*
 * For a command without options: refuse any option, take "--" out, and
 * shift *argv so that (*argv)[1] is the first operand. Returns 0, or
 * EXIT_USAGE after printing the error.
 */
int cli_operands(const struct cmd_entry *, int *argc, char ***argv);
/*
 * The usage error "give ONE WHAT" for a wrong count of operands (from
 * argv[first] on); when one of them looks like an option (it came after
 * "--"), it says that options go before "--". Returns EXIT_USAGE.
 */
int cli_operand_count(const struct cmd_entry *, int argc, char **argv,
    int first, const char *what);

/* A daemon whose heartbeat is older than this watches nothing. */
#define CLI_DAEMON_STALE 60	/* seconds */
/*
 * Whether a daemon watches the catalog (so that the health shown is
 * fresh): its row says it has not stopped and its heartbeat is less than
 * CLI_DAEMON_STALE seconds old, whatever host it runs on. *seen is when
 * it was last heard of, 0 when none ever ran. 0, or -1 with *cause.
 */
int cli_daemon_watching(struct state *, int *watching, int64_t *seen,
    char **cause);


#endif
