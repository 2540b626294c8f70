# mailshift: moves Maildir++ accounts between storage slices.
#
#   make            build build/mailshift
#   make check      install missing Debian packages, build, run every test
#   make demo       install missing packages, build, run the demo
#                   (DOVECOT=1: also a real Dovecot, IMAP before and after)
#   make asan       the tests under AddressSanitizer and UBSan
#   make valgrind   the unit tests under valgrind (leaks are errors)
#   make bench      benchmarks against cp -a, rsync -a and find
#   make install    PREFIX=/usr/local DESTDIR= as packagers expect

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
DESTDIR ?=
BUILD ?= build
CC ?= cc
OPT ?= -O2 -g
SANITIZE ?=

PKGS = sqlite3 libpq inih libarchive libevent
TEST_PKGS = cmocka

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

CFLAGS_ALL = -std=c11 -Wall -Wextra -Werror -MMD -MP \
	$(OPT) $(SANITIZE) -I. \
	$(PKG_CFLAGS) \
	$(CFLAGS)
LDFLAGS_ALL = $(SANITIZE) $(LDFLAGS)

COMMON_SRC = common/util.c common/layout.c common/config.c common/json.c \
	common/csv.c common/stats.c common/command.c \
	common/doveconf.c common/log.c
STATE_SRC = state/db.c state/db_sqlite.c state/db_pgsql.c \
	state/db_pgsql_catalog.c state/schema.c \
	state/copy.c \
	state/state.c state/server.c state/pair.c state/slice.c \
	state/account.c state/route.c state/snapshot.c state/import.c \
	state/move.c state/queue.c state/metrics.c state/fleet.c state/plan.c \
	state/daemon.c state/report.c state/load.c state/failover.c
MIGRATOR_SRC = migrator/slice.c migrator/maildir.c migrator/discover.c migrator/throttle.c \
	migrator/evacuation.c \
	migrator/tree.c migrator/sync.c migrator/copy.c migrator/sync_maildir.c \
	migrator/verify.c migrator/settle.c migrator/carry.c migrator/quiet.c migrator/move.c migrator/cutover.c \
	migrator/retire.c migrator/zarchive.c migrator/restore.c \
	migrator/health.c migrator/probe.c migrator/watch.c \
	migrator/presence.c migrator/scheduler.c \
	migrator/sched_gate.c migrator/http.c \
	migrator/iostat.c migrator/iostat_record.c migrator/loadwatch.c \
	migrator/failover.c migrator/autofail.c \
	migrator/daemon.c
CLI_SRC = cli/main.c cli/cmd_init.c cli/cmd_catalog.c cli/cmd_server.c \
	cli/cmd_slice.c cli/cmd_discover.c cli/cmd_account.c cli/cmd_route.c \
	cli/cmd_move.c cli/cmd_plan.c cli/cmd_daemon.c cli/cmd_report.c \
	cli/cmd_dovecot.c cli/cmd_failover.c
# The parts of the command that have no main and no command table: the
# unit tests link them too.
CLI_LIB_SRC = cli/output.c cli/outfile.c cli/report.c cli/report_text.c \
	cli/report_table.c \
	cli/report_csv.c cli/report_json.c cli/report_html.c \
	cli/report_html_moves.c cli/report_html_load.c cli/plan_fleet.c

PLANNER_SRC = planner/planner.c planner/fleet.c planner/metrics.c \
	planner/pool.c planner/move.c planner/balance.c planner/drain.c planner/load.c

LIB_SRC = $(COMMON_SRC) $(STATE_SRC) $(MIGRATOR_SRC) $(PLANNER_SRC)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
CLI_LIB_OBJ = $(CLI_LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
GEN_SRC = tests/gen/maildir_gen.c tests/gen/gen_output.c \
	tests/gen/gen_account.c tests/gen/gen_message.c common/layout.c \
	common/util.c

.PHONY: all deps check check-run asan valgrind valgrind-run demo demo-run \
	bench bench-run install uninstall clean pkgcheck

all: pkgcheck $(BUILD)/mailshift

pkgcheck:
	@pkg-config --exists $(PKGS) || { echo "missing libraries ($(PKGS)):" \
	    "run 'scripts/install-deps' as root" >&2; exit 1; }

$(BUILD)/mailshift: $(CLI_OBJ) $(BUILD)/libmailshift-cli.a \
    $(BUILD)/libmailshift.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libmailshift-cli.a \
	    $(BUILD)/libmailshift.a $(PKG_LIBS) -lpthread -lm

$(BUILD)/libmailshift.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/libmailshift-cli.a: $(CLI_LIB_OBJ)
	rm -f $@
	ar rcs $@ $(CLI_LIB_OBJ)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libmailshift-cli.a \
    $(BUILD)/libmailshift.a tests/unit/testutil.h tests/unit/testfs.h \
    tests/unit/planfix.h tests/unit/plancheck.h tests/unit/syncfix.h \
    tests/unit/catalogfix.h tests/unit/reportfix.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -Itests/unit -o $@ $< \
	    $(BUILD)/libmailshift-cli.a $(BUILD)/libmailshift.a \
	    $(LDFLAGS_ALL) $(TEST_LIBS) $(PKG_LIBS) -lpthread -lm

$(BUILD)/sync-bench: bench/sync_bench.c $(BUILD)/libmailshift.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libmailshift.a $(LDFLAGS_ALL) \
	    $(PKG_LIBS) -lpthread -lm

$(BUILD)/catalog-bench: bench/catalog_bench.c $(BUILD)/libmailshift.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libmailshift.a $(LDFLAGS_ALL) \
	    $(PKG_LIBS) -lpthread -lm

$(BUILD)/planner-bench: bench/planner_bench.c $(BUILD)/libmailshift.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libmailshift.a $(LDFLAGS_ALL) -lm

$(BUILD)/maildir-gen: $(GEN_SRC) tests/gen/gen.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $(GEN_SRC) $(LDFLAGS_ALL) -lm

deps:
	@scripts/install-deps

# The test and demo targets install what is missing first, then run in a
# second make so that pkg-config sees the new packages.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(UNIT_BIN) $(BUILD)/maildir-gen
	@tests/run $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	    SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all" check-run

valgrind: deps
	@scripts/install-deps valgrind
	@$(MAKE) --no-print-directory valgrind-run

valgrind-run: all $(UNIT_BIN)
	@tests/run --valgrind --unit-only $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: all $(BUILD)/maildir-gen
	@DOVECOT=$(DOVECOT) examples/demo.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: all $(BUILD)/maildir-gen $(BUILD)/sync-bench $(BUILD)/planner-bench \
    $(BUILD)/catalog-bench
	@bench/run $(BUILD)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/mailshift/examples
	install -m 0755 $(BUILD)/mailshift $(DESTDIR)$(BINDIR)/mailshift
	install -m 0644 examples/mailshift.conf \
	    $(DESTDIR)$(DATADIR)/mailshift/examples/mailshift.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mailshift
	rm -rf $(DESTDIR)$(DATADIR)/mailshift

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(CLI_LIB_OBJ:.o=.d)
