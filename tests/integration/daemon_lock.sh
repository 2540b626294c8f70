# One daemon per catalog, whatever name the catalog is given: a second
# daemon through a symlink or a hard link is refused, a race between two
# is won by exactly one, and a daemon killed with -9 does not block the
# next.
. "$(dirname "$0")/lib.sh"

# Daemons a test started, killed when it ends however it ends (each test
# runs in a subshell of its own: call this first).
reap_daemons() {
	PIDS=
	trap 'kill -9 $PIDS 2>/dev/null' EXIT
}

# ms for a daemon that should be refused: one that runs is stopped after
# 10 s (and exits 124).
ms_daemon() {
	RC=0
	timeout 10 "$MS" --db "$1" daemon >"$D/out" 2>"$D/err" || RC=$?
	echo "\$ mailshift --db $1 daemon -> $RC"
}

# A daemon on catalog name $1, logging to $2; its pid in $DPID.
start_daemon_on() {
	"$MS" --db "$1" daemon >>"$2" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	wait_for "grep -q 'daemon started' '$2'" 10 ||
	    fail "daemon did not start: $(cat "$2")"
}

t_symlink_refused() {
	sqlite_only "catalog file names (tests/integration/pgsql.sh: the advisory lock)"
	reap_daemons
	fleet
	move_conf daemon.listen=off
	ln -s catalog.db "$D/link.db"
	mkdir "$D/sub"
	ln -s .. "$D/sub/up"
	start_daemon_on "$D/catalog.db" "$D/daemon.log"
	for name in "$D/link.db" "$D/sub/up/catalog.db" "$D/./catalog.db"; do
		ms_daemon "$name"
		expect_rc 1
		expect_err "another daemon (pid $DPID) runs on catalog"
		expect_err "stop it first"
	done
	kill -0 "$DPID" || fail "the first daemon is gone"
	kill -TERM "$DPID"
	wait "$DPID" || fail "the first daemon did not stop cleanly"
	# Stopped cleanly, it left no lock behind.
	[ "$(q 'SELECT count(*) FROM daemon_lock')" -eq 0 ] ||
	    fail "the lock outlived the daemon"
	start_daemon_on "$D/link.db" "$D/daemon2.log"
	kill -TERM "$DPID"
	wait "$DPID"
}

t_hard_link_refused() {
	sqlite_only "catalog file names (tests/integration/pgsql.sh: the advisory lock)"
	reap_daemons
	fleet
	move_conf daemon.listen=off
	start_daemon_on "$D/catalog.db" "$D/daemon.log"
	mkdir "$D/other"
	ln "$D/catalog.db" "$D/other/hard.db"
	ms_daemon "$D/other/hard.db"
	expect_rc 1
	expect_one_error
	expect_err "has 2 hard links"
	expect_err "remove the other link"
	# Nothing else goes through either name while the link exists.
	ms --db "$D/catalog.db" move nobody@example.com --to s2
	expect_rc 1
	expect_err "hard links"
	rm "$D/other/hard.db"
	ok status
	expect_out "running, pid $DPID"
	kill -TERM "$DPID"
	wait "$DPID"
}

# 30 times: two daemons at once through two names; exactly one runs, the
# other exits 1; kill -9 the winner, and a new daemon starts (and is
# killed -9 too, so that the next race starts over a dead owner's lock).
t_race() {
	sqlite_only "catalog file names (tests/integration/pgsql.sh: the advisory lock)"
	reap_daemons
	fleet
	move_conf daemon.listen=off
	ln -s catalog.db "$D/link.db"
	i=0
	while [ "$i" -lt 30 ]; do
		i=$((i + 1))
		: >"$D/a.log"
		: >"$D/b.log"
		"$MS" --db "$D/catalog.db" daemon >"$D/a.log" 2>&1 &
		A=$!
		"$MS" --db "$D/link.db" daemon >"$D/b.log" 2>&1 &
		B=$!
		PIDS="$PIDS $A $B"
		wait_for "! kill -0 $A || ! kill -0 $B" 15 ||
		    fail "round $i: neither daemon was refused"
		if kill -0 "$A" 2>/dev/null; then
			W=$A L=$B WL=$D/a.log LL=$D/b.log
		else
			W=$B L=$A WL=$D/b.log LL=$D/a.log
		fi
		rc=0
		wait "$L" || rc=$?
		[ "$rc" -eq 1 ] || fail "round $i: the loser exited $rc: \
$(cat "$LL")"
		grep -q "another daemon (pid $W) runs on catalog" "$LL" ||
		    fail "round $i: the loser did not name the winner: \
$(cat "$LL")"
		wait_for "grep -q 'daemon started' '$WL'" 10 ||
		    fail "round $i: the winner did not start: $(cat "$WL")"
		kill -0 "$W" || fail "round $i: the winner is gone"
		kill -9 "$W"
		wait "$W" 2>/dev/null
		: >"$D/c.log"
		if [ $((i % 2)) -eq 0 ]; then
			start_daemon_on "$D/catalog.db" "$D/c.log"
		else
			start_daemon_on "$D/link.db" "$D/c.log"
		fi
		kill -9 "$DPID"
		wait "$DPID" 2>/dev/null
	done
	return 0
}

t "a second daemon through a symlink or another path is refused" \
    t_symlink_refused
t "a catalog with a second hard link is refused, daemon and CLI alike" \
    t_hard_link_refused
t "30 races of two daemons through two names: exactly one runs; after \
kill -9 a new one starts" t_race
done_testing
