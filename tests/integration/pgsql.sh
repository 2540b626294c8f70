# What only a catalog on PostgreSQL has: a schema that is not ours, a
# server that is away, the one-daemon lock as a session lock, LISTEN/NOTIFY,
# and copying a catalog between engines. Each test has its own schema on
# the run's server (tests/run starts it); on the SQLite pass they skip.
. "$(dirname "$0")/lib.sh"

# The conninfo of another schema of this test's server.
other_schema() {
	psql -XqAt "$MAILSHIFT_TEST_PG" -c "CREATE SCHEMA ${PG_SCHEMA}_$1" ||
	    fail "cannot create schema ${PG_SCHEMA}_$1"
	echo "$MAILSHIFT_TEST_PG options='-c search_path=${PG_SCHEMA}_$1'"
}

t_foreign_schema() {
	pgsql_only "schemas"
	other=$(other_schema x)
	psql -XqAt "$other" -c "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"
	before=$(pg_dump -d "$other" -n "${PG_SCHEMA}_x" 2>/dev/null |
	    grep -v 'restrict' | md5sum)
	for cmd in init "slice list" "server add x --address y"; do
		# shellcheck disable=SC2086
		ms --db "$other" $cmd
		expect_rc 1
		expect_one_error
		expect_err "is a PostgreSQL schema but not a mailshift catalog"
	done
	[ "$(pg_dump -d "$other" -n "${PG_SCHEMA}_x" 2>/dev/null |
	    grep -v 'restrict' | md5sum)" = "$before" ] ||
	    fail "the foreign schema was changed"
	# A newer catalog is refused, and left as it is.
	ok init
	q "UPDATE mailshift_catalog SET schema_version = 42"
	before=$(catalog_sum)
	ms slice list
	expect_rc 1
	expect_err "schema version 42, newer than this mailshift"
	[ "$(catalog_sum)" = "$before" ] || fail "the newer catalog changed"
	# A schema the search path names but nobody made.
	ms --db "$MAILSHIFT_TEST_PG options='-c search_path=nosuch'" init
	expect_rc 1
	expect_one_error
	expect_err "the first schema of search_path does not exist"
}

t_server_away() {
	pgsql_only "a catalog server"
	ms --db "host=$D/nosocket user=mailshift dbname=postgres" slice list
	expect_rc 1
	expect_one_error
	expect_err "cannot connect to the catalog server"
	expect_err "check [catalog] url (or --db) and that the server runs"
	# A password never shows in a message.
	ms --db "$MAILSHIFT_TEST_PG password=s3cret-pw options='-c search_path=nosuch'" \
	    init
	expect_rc 1
	! grep -q 's3cret-pw' "$D/err" || fail "the password was shown: $(cat "$D/err")"
	# A URL works as well as a conninfo, from the config too.
	dir=$(echo "$MAILSHIFT_TEST_PG" | sed 's/.*host=\([^ ]*\).*/\1/')
	printf '[catalog]\nurl = postgresql://mailshift@/postgres?host=%s&options=-csearch_path%%3D%s\n' \
	    "$dir" "$PG_SCHEMA" >"$D/url.conf"
	db=$MAILSHIFT_DB
	unset MAILSHIFT_DB
	ms --config "$D/url.conf" init
	expect_rc 0
	expect_out "created catalog"
	ok --config "$D/url.conf" server add mx1 --address 10.0.0.1
	[ "$(MAILSHIFT_DB=$db q "SELECT name FROM servers")" = mx1 ] ||
	    fail "the URL reached another catalog"
	printf '[catalog]\nurl = postgresql://x/y\npath = /tmp/c.db\n' >"$D/both.conf"
	ms --config "$D/both.conf" slice list
	expect_rc 1
	expect_err "give [catalog] path or url, not both"
}

t_daemon_lock() {
	pgsql_only "the advisory lock"
	fleet
	move_conf daemon.listen=off
	start_daemon
	first=$DPID
	# The same catalog under another spelling of its conninfo.
	dir=$(echo "$MAILSHIFT_TEST_PG" | sed 's/.*host=\([^ ]*\).*/\1/')
	url="postgresql://mailshift@/postgres?host=$dir&options=-csearch_path%3D$PG_SCHEMA"
	RC=0
	timeout 10 "$MS" --db "$url" daemon >"$D/second.log" 2>&1 || RC=$?
	[ "$RC" -eq 1 ] || fail "second daemon: exit $RC: $(cat "$D/second.log")"
	grep -q "another daemon (pid $first) runs on catalog" "$D/second.log" ||
	    fail "the second daemon did not name the first: $(cat "$D/second.log")"
	# kill -9: the session ends, and with it the lock.
	kill -9 "$first"
	wait "$first" 2>/dev/null
	"$MS" --db "$url" daemon >"$D/third.log" 2>&1 &
	third=$!
	wait_for "grep -q 'daemon started' '$D/third.log'" 10 ||
	    fail "no daemon after kill -9: $(cat "$D/third.log")"
	grep -q "took over the daemon lock of pid $first" "$D/third.log" ||
	    [ "$(q "SELECT count(*) FROM events WHERE kind = 'daemon.lock'")" = 1 ] ||
	    fail "the takeover is not recorded"
	kill -TERM "$third"
	wait "$third"
}

# The daemon hears of a queued move through NOTIFY, well within a second,
# and starts it.
t_notify() {
	pgsql_only "LISTEN/NOTIFY"
	fleet
	"$GEN" --accounts 1 --messages 5 --seed 3 "$D/s1" >/dev/null ||
	    fail "generator failed"
	ok discover
	port=$(free_port)
	move_conf "daemon.listen=127.0.0.1:$port" presence.idle=0s \
	    daemon.log_level=debug
	start_daemon
	curl -sf "http://127.0.0.1:$port/status" >"$D/out" || fail "no /status"
	json_check 'j["catalog"]["engine"] == "pgsql" and j["catalog"]["reachable"] is True and "search_path" in j["catalog"]["name"]'
	sleep 1.5
	ok move user0001@example.net --to s2
	wait_for "grep -q 'move 1: started' '$D/daemon.log'" 5 ||
	    fail "the daemon never started the move: $(cat "$D/daemon.log")"
	grep -q 'the catalog changed' "$D/daemon.log" ||
	    fail "no notification seen: $(cat "$D/daemon.log")"
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 30 ||
	    fail "the move did not finish: $(tail -5 "$D/daemon.log")"
	kill -TERM "$DPID"
	wait "$DPID"
}

# SQLite -> PostgreSQL -> SQLite: every table verified, the same
# checksums on each side, a non-empty target refused, and the copy is a
# working catalog (new rows continue after the copied ids).
t_catalog_copy() {
	pgsql_only "copying between engines"
	pg=$MAILSHIFT_DB
	MAILSHIFT_DB="$D/start.db"
	fleet
	"$GEN" --accounts 6 --messages 5 --seed 5 "$D/s1" >/dev/null ||
	    fail "generator failed"
	ok discover
	ok move user0001@example.net --to s2 --wait
	sqlite3 "$D/start.db" "INSERT INTO loads (ts, slice_id, source, ops,
	    bytes, ms) VALUES (1800000000, 1, 'diskstats:vda', 600, 4096,
	    60000)" || fail "cannot insert a load"
	ok catalog copy --to "$pg"
	cp "$D/out" "$D/to-pg"
	expect_out "every table verified"
	grep -q '^accounts  *6 rows' "$D/to-pg" || fail "$(cat "$D/to-pg")"
	grep -q '^loads  *1 rows' "$D/to-pg" || fail "loads: $(cat "$D/to-pg")"
	ms catalog copy --to "$pg"
	expect_rc 1
	expect_one_error
	expect_err "is not empty (table servers has"
	MAILSHIFT_DB=$pg
	ok account list
	expect_out "user0001@example.net  s2"
	ok move user0002@example.org --to s3 --wait
	[ "$(q "SELECT max(id) FROM moves")" = 2 ] ||
	    fail "ids: $(q 'SELECT id FROM moves')"
	ok catalog copy --to "$D/back.db"
	cp "$D/out" "$D/to-sqlite"
	# The tables both copies saw alike carry the same checksums.
	for table in servers pairs slices; do
		[ "$(grep "^$table " "$D/to-pg" | awk '{print $5}')" = \
		    "$(grep "^$table " "$D/to-sqlite" | awk '{print $5}')" ] ||
		    fail "$table differs: $(cat "$D/to-pg" "$D/to-sqlite")"
	done
	MAILSHIFT_DB="$D/back.db"
	ok moves list
	expect_out "user0002@example.org  s1    s3  done"
	ms catalog copy
	expect_rc 2
}

# The README's least-privilege role: it reads the access view, nothing
# else, and writes nothing.
t_access_role() {
	pgsql_only "roles"
	fleet
	mkbox "$D/s1/example.com/alice" 2
	ok discover
	role="acc_$PG_SCHEMA"
	psql -XqAt -v ON_ERROR_STOP=1 "$MAILSHIFT_DB" >/dev/null <<EOF ||
CREATE ROLE $role LOGIN;
GRANT USAGE ON SCHEMA $PG_SCHEMA TO $role;
GRANT SELECT ON access TO $role;
EOF
	    fail "cannot create the role"
	as="$(echo "$MAILSHIFT_DB" | sed "s/user=mailshift/user=$role/")"
	[ "$(psql -XqAt "$as" -c "SELECT home, unavailable FROM access WHERE
	    \"user\" = 'alice@example.com'")" = "$D/s1/example.com/alice|0" ] ||
	    fail "the role cannot read access"
	for sql in "SELECT * FROM accounts" "SELECT * FROM moves" \
	    "UPDATE accounts SET state = 'locked'" \
	    "INSERT INTO servers (name, address, created) VALUES ('x', 'y', 0)"; do
		! psql -XqAt "$as" -c "$sql" >/dev/null 2>"$D/denied" ||
		    fail "the role may: $sql"
		grep -q "permission denied" "$D/denied" ||
		    fail "$sql: $(cat "$D/denied")"
	done
	psql -XqAt "$MAILSHIFT_DB" -c "DROP OWNED BY $role; DROP ROLE $role" \
	    >/dev/null
}

t "a foreign or newer schema is refused untouched" t_foreign_schema
t "a server that is away; no password in messages; url in the config" t_server_away
t "one daemon per catalog: an advisory lock, gone with the session" t_daemon_lock
t "the daemon hears of a new move through NOTIFY" t_notify
t "catalog copy: SQLite to PostgreSQL and back, verified" t_catalog_copy
t "the access role reads the access view and nothing else" t_access_role
done_testing
