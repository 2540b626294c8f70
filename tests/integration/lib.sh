# Shared helpers of the integration tests: each test runs the real
# mailshift binary in a fresh directory with its own catalog, and prints
# one TAP line. Source this file, define test functions, call `t`.
set -u

MS=${MAILSHIFT_BIN:?set MAILSHIFT_BIN to the mailshift binary}
GEN=${MAILDIR_GEN:?set MAILDIR_GEN to the maildir-gen binary}
TESTLIB=$(cd "$(dirname "$0")" && pwd)
# Query the catalog from a child shell (wait_for, hooks): $CATQ 'SQL'.
CATQ="$TESTLIB/catq"
TESTROOT=$(mktemp -d "${TMPDIR:-/tmp}/mailshift-it.XXXXXX")
trap 'chmod -R u+rwx "$TESTROOT" 2>/dev/null; rm -rf "$TESTROOT"' EXIT
tap_n=0
tap_failed=0

# The engine under test: SQLite, or PostgreSQL when tests/run gives a
# server (MAILSHIFT_TEST_PG, a conninfo); each test's catalog is then a
# schema of its own on that server, PG_SCHEMA.
if [ -n "${MAILSHIFT_TEST_PG:-}" ]; then
	ENGINE=pgsql
else
	ENGINE=sqlite
fi

# The catalog of test $tap_n, in $MAILSHIFT_DB.
new_catalog() {
	if [ "$ENGINE" = pgsql ]; then
		PG_SCHEMA="t$$_$tap_n"
		psql -XqAt "$MAILSHIFT_TEST_PG" -c "CREATE SCHEMA $PG_SCHEMA" ||
		    return 1
		MAILSHIFT_DB="$MAILSHIFT_TEST_PG options='-c search_path=$PG_SCHEMA'"
	else
		MAILSHIFT_DB="$D/catalog.db"
	fi
	export MAILSHIFT_DB
}

# Skip the rest of this test: it is about something only one engine has.
skip() {
	echo "$*" >"$D/skip"
	exit 0
}
sqlite_only() {
	[ "$ENGINE" = sqlite ] || skip "SQLite only: $*"
}
pgsql_only() {
	[ "$ENGINE" = pgsql ] || skip "PostgreSQL only: $*"
}

# Run test function $2 as test named $1, in its own directory $D.
t() {
	tap_n=$((tap_n + 1))
	D="$TESTROOT/$tap_n"
	mkdir -p "$D"
	if (cd "$D" && new_catalog && "$2") >"$D/log" 2>&1; then
		if [ -f "$D/skip" ]; then
			echo "ok $tap_n - $1 # SKIP $(cat "$D/skip")"
		else
			echo "ok $tap_n - $1"
		fi
	else
		echo "not ok $tap_n - $1"
		sed 's/^/#   /' "$D/log" | tail -n 40
		tap_failed=$((tap_failed + 1))
	fi
}

# End the script: the plan line and the status.
done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

fail() {
	echo "FAIL: $*"
	exit 1
}

# Run mailshift; stdout in $D/out, stderr in $D/err, status in $RC.
ms() {
	RC=0
	"$MS" "$@" >"$D/out" 2>"$D/err" || RC=$?
	echo "\$ mailshift $* -> $RC"
}

# Run mailshift and require success.
ok() {
	ms "$@"
	[ "$RC" -eq 0 ] || fail "mailshift $* exited $RC: $(cat "$D/err")"
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "exit status $RC, expected $1; stderr: \
$(cat "$D/err"); stdout: $(head -c 500 "$D/out")"
}

# stdout / stderr contain a fixed string.
expect_out() {
	grep -qF -- "$1" "$D/out" || fail "stdout lacks '$1': $(cat "$D/out")"
}
expect_err() {
	grep -qF -- "$1" "$D/err" || fail "stderr lacks '$1': $(cat "$D/err")"
}

# A failed command printed exactly one error line (plus a usage line for
# usage errors) starting with "mailshift: ".
expect_one_error() {
	head -n 1 "$D/err" | grep -q '^mailshift: ' ||
	    fail "first stderr line is not an error: $(cat "$D/err")"
	lines=$(grep -c '^mailshift: ' "$D/err")
	[ "$lines" -eq 1 ] || fail "expected one error line: $(cat "$D/err")"
}

# A fingerprint of the whole catalog contents.
catalog_sum() {
	if [ "$ENGINE" = pgsql ]; then
		# Data only: a refused INSERT still uses up an identity
		# value, which changes nothing a reader sees.
		pg_dump -a -d "$MAILSHIFT_DB" -n "$PG_SCHEMA" 2>/dev/null |
		    grep -v '^--\|pg_catalog.setval\|^.restrict\|^.unrestrict' | md5sum
	else
		sqlite3 "$MAILSHIFT_DB" .dump | md5sum
	fi
}

# Evaluate a Python expression over the JSON on stdout (bound to j).
json_check() {
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("JSON check failed: " + sys.argv[2] + "\n" + json.dumps(j)[:800])' \
	    "$D/out" "$1" || fail "json_check $1"
}

# Two pairs of servers and three slices s1..s3 below $D.
fleet() {
	mkdir -p "$D/s1" "$D/s2" "$D/s3"
	ok init
	ok server add mx1 --address 10.0.0.1
	ok server add mx2 --address 10.0.0.2
	ok server add mx3 --address 10.0.0.3
	ok server add mx4 --address 10.0.0.4
	ok pair add p1 mx1 mx2
	ok pair add p2 mx3 mx4
	ok slice add s1 --pair p1 --server mx1 --path "$D/s1" --capacity 10G
	ok slice add s2 --pair p1 --server mx2 --path "$D/s2" --capacity 10G
	ok slice add s3 --pair p2 --server mx3 --path "$D/s3" --capacity 20G
}

# A small Maildir with n messages at path.
mkbox() {
	mkdir -p "$1/cur" "$1/new" "$1/tmp"
	i=0
	while [ "$i" -lt "$2" ]; do
		printf 'Subject: %s\n\nbody\n' "$i" >"$1/cur/$i.M1P1.host:2,S"
		i=$((i + 1))
	done
}

# Compare two trees exactly (names, sizes, modes, ns mtimes, owners, links,
# contents); extra arguments go to treecmp.py.
same_tree() {
	python3 "$TESTLIB/treecmp.py" "$@" >"$D/treecmp" 2>&1 ||
	    fail "trees differ: $(cat "$D/treecmp")"
}

# A config for moves in tests: no lock grace unless given, other settings
# as "section.key=value" arguments.
move_conf() {
	printf '[move]\nlock_grace = 0s\nsettle = 0s\n' >"$D/mailshift.conf"
	for kv in "$@"; do
		printf '[%s]\n%s\n' "${kv%%.*}" "${kv#*.}" >>"$D/mailshift.conf"
	done
	MAILSHIFT_CONFIG="$D/mailshift.conf"
	export MAILSHIFT_CONFIG
}

# Query the catalog (either engine; columns separated by '|').
q() {
	if [ "$ENGINE" = pgsql ]; then
		psql -XqAt -v ON_ERROR_STOP=1 "$MAILSHIFT_DB" -c "$1"
	else
		sqlite3 "$MAILSHIFT_DB" "$1"
	fi
}

# A free TCP port on loopback (for a daemon's status endpoint).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait up to $2 seconds for shell condition $1.
wait_for() {
	n=0
	while [ "$n" -lt $(($2 * 10)) ]; do
		sh -c "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# A config for the daemon: no lock grace, a free port ($PORT), extra
# settings as for move_conf.
daemon_conf() {
	PORT=$(free_port)
	move_conf "daemon.listen=127.0.0.1:$PORT" presence.idle=0s "$@"
}

# Stop the daemon started by start_daemon, and wait for it.
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

# Start the daemon in the background (its pid in $DPID, its log in
# $D/daemon.log) and wait until it says it started.
start_daemon() {
	"$MS" daemon >>"$D/daemon.log" 2>&1 &
	DPID=$!
	wait_for "grep -q 'daemon started' '$D/daemon.log'" 10 ||
	    fail "daemon did not start: $(cat "$D/daemon.log")"
}
