# A catalog on a replicated PostgreSQL: a primary and a synchronous
# standby (synchronous_commit = remote_apply, the standby made with
# pg_basebackup), both on unix sockets of the test's own. Dovecot reads
# the standby; mailshift writes to the primary. Then the primary goes
# away and the standby is promoted while the daemon runs moves.
. "$(dirname "$0")/lib.sh"

EXAMPLES=$(cd "$TESTLIB/../../examples/dovecot" && pwd)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Primary in $D/pa (socket there, port 5432), standby in $D/pb (port
# 5433) that applies every commit before the primary answers it.
pair_start() {
	PA="$D/pa"
	PB="$D/pb"
	mkdir -p "$PA" "$PB"
	chmod 755 "$D" "$TESTROOT"
	[ "$(id -u)" = 0 ] && chown postgres "$PA" "$PB"
	chmod 755 "$PA" "$PB"
	as_pg "$PGBIN/initdb" -D "$PA/data" -U mailshift --auth=trust -E UTF8 \
	    --locale=C >"$D/initdb.log" 2>&1 || fail "initdb: $(cat "$D/initdb.log")"
	as_pg "$PGBIN/pg_ctl" -D "$PA/data" -l "$PA/log" -w -o "-k $PA \
	    -c listen_addresses='' -c port=5432 -c wal_level=replica \
	    -c max_wal_senders=5 -c synchronous_standby_names=standby \
	    -c synchronous_commit=remote_apply" start >/dev/null ||
	    fail "primary did not start: $(cat "$PA/log")"
	as_pg "$PGBIN/pg_basebackup" -D "$PB/data" -R -X stream \
	    -d "host=$PA port=5432 user=mailshift application_name=standby" \
	    >"$D/basebackup.log" 2>&1 ||
	    fail "pg_basebackup: $(cat "$D/basebackup.log")"
	as_pg "$PGBIN/pg_ctl" -D "$PB/data" -l "$PB/log" -w -o "-k $PB \
	    -c listen_addresses='' -c port=5433 -c hot_standby=on \
	    -c synchronous_standby_names=" start >/dev/null ||
	    fail "standby did not start: $(cat "$PB/log")"
	PRIMARY="host=$PA port=5432 user=mailshift dbname=postgres"
	STANDBY="host=$PB port=5433 user=mailshift dbname=postgres"
	# The standby is synchronous before the test goes on.
	wait_for "[ \"\$(psql -XqAt '$PRIMARY' -c \"SELECT sync_state FROM pg_stat_replication\")\" = sync ]" 20 ||
	    fail "the standby is not synchronous"
}

pair_stop() {
	for p in "$PA" "$PB"; do
		[ -f "$p/data/postmaster.pid" ] &&
		    as_pg "$PGBIN/pg_ctl" -D "$p/data" -m immediate -w stop \
		    >/dev/null 2>&1
	done
	return 0
}

# The view on the standby, for $1.
standby_row() {
	psql -XqAt "$STANDBY" -c "SELECT slice, locked, unavailable FROM access
	    WHERE \"user\" = '$1'"
}

# Once 'move' says the switch committed, the standby gives the new home;
# during the lock it already says unavailable. Dovecot, reading the
# standby, finds the mailbox on the new slice.
t_standby_follows() {
	pgsql_only "replication"
	pair_start
	MAILSHIFT_DB=$PRIMARY
	fleet
	"$GEN" --accounts 1 --messages 30 --max-size 6000 --seed 9 "$D/s1" \
	    >/dev/null || fail "generator failed"
	U=user0001@example.net
	chown -R nobody:nogroup "$D/s1/example.net/user0001"
	chmod 755 "$D/s1/example.net"
	ok discover
	[ "$(standby_row "$U")" = "s1|0|0" ] || fail "standby: $(standby_row "$U")"
	DV="$D/dovecot"
	mkdir -p "$DV"
	eval "$("$EXAMPLES/local-dovecot.sh" start "$DV" "$STANDBY" secret "$U")" ||
	    fail "dovecot did not start: $(cat "$DV/dovecot.log" 2>/dev/null)"
	doveadm -c "$CONF" user -f home "$U" >"$D/home-before" ||
	    fail "doveadm user: $(cat "$D/home-before")"
	grep -q "$D/s1/" "$D/home-before" || fail "home: $(cat "$D/home-before")"
	# The hook runs under the lock: what the standby says then.
	cat >"$D/probe.sh" <<EOF
psql -XqAt "$STANDBY" -c "SELECT slice, locked, unavailable FROM access WHERE \"user\" = '\$1'" >$D/at-lock
EOF
	move_conf "hooks.after_lock=sh $D/probe.sh %u"
	ok move "$U" --to s2 --wait
	# Right after the command returned, no waiting for replication.
	[ "$(standby_row "$U")" = "s2|0|0" ] ||
	    fail "the standby lags the switch: $(standby_row "$U")"
	[ "$(cat "$D/at-lock")" = "s1|1|1" ] ||
	    fail "the standby during the lock: $(cat "$D/at-lock")"
	doveadm -c "$CONF" user -f home "$U" >"$D/home-after"
	grep -q "$D/s2/" "$D/home-after" ||
	    fail "Dovecot on the standby: $(cat "$D/home-after")"
	doveadm -c "$CONF" stop >/dev/null 2>&1
	pair_stop
}

# The primary stops and the standby is promoted while the daemon runs
# moves: it reconnects through the multi-host conninfo by itself, every
# move finishes, and each mailbox on its target equals its source.
t_promote_under_moves() {
	pgsql_only "replication"
	pair_start
	MAILSHIFT_DB="host=$PA,$PB port=5432,5433 user=mailshift dbname=postgres target_session_attrs=read-write"
	fleet
	"$GEN" --accounts 12 --messages 60 --max-size 8000 --seed 12 "$D/s1" \
	    >/dev/null || fail "generator failed"
	cp -a "$D/s1" "$D/orig"
	ok discover
	for u in $(q "SELECT \"user\" FROM accounts ORDER BY \"user\""); do
		ok move "$u" --to s2 --files-per-second 200
	done
	move_conf daemon.listen=off presence.idle=0s daemon.max_moves=2 \
	    daemon.per_source=2 daemon.per_target=2 daemon.retry_base=1s \
	    daemon.max_retries=20
	start_daemon
	wait_for "[ \$($CATQ \"SELECT count(*) FROM moves WHERE state = 'done'\") -ge 3 ]" 60 ||
	    fail "no moves done: $(tail -5 "$D/daemon.log")"
	# The primary dies; until the standby is promoted there is no
	# primary at all.
	as_pg "$PGBIN/pg_ctl" -D "$PA/data" -m immediate -w stop >/dev/null
	sleep 2
	as_pg "$PGBIN/pg_ctl" -D "$PB/data" -w promote >/dev/null ||
	    fail "promote failed: $(cat "$PB/log")"
	STANDBY_NOW="host=$PB port=5433 user=mailshift dbname=postgres"
	wait_for "[ \$(psql -XqAt '$STANDBY_NOW' -c \"SELECT count(*) FROM moves WHERE state = 'done'\") -eq 12 ]" 180 ||
	    fail "not every move finished: $(psql -XqAt "$STANDBY_NOW" -c "SELECT id, state, error FROM moves") $(tail -20 "$D/daemon.log")"
	grep -q "unreachable" "$D/daemon.log" ||
	    fail "the daemon never saw the catalog go: $(cat "$D/daemon.log")"
	kill -TERM "$DPID"
	wait "$DPID"
	# Nothing half-applied: each account lives on s2, unlocked, once.
	[ "$(psql -XqAt "$STANDBY_NOW" -c "SELECT count(*) FROM accounts a
	    JOIN slices s ON s.id = a.slice_id WHERE s.name = 's2' AND
	    a.state = 'active' AND a.generation = 2")" = 12 ] ||
	    fail "accounts: $(psql -XqAt "$STANDBY_NOW" -c "SELECT * FROM accounts")"
	for u in $(psql -XqAt "$STANDBY_NOW" -c "SELECT path FROM accounts"); do
		same_tree "$D/orig/$u" "$D/s2/$u"
	done
	pair_stop
}

t "the standby returns the new home once move says so, unavailable during the lock" \
    t_standby_follows
t "primary stopped, standby promoted under moves: all done, nothing lost" \
    t_promote_under_moves
done_testing
