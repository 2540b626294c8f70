# The cutover lock seen by an operator: abandoned cutovers back off and end,
# a stop during the lock grace unlocks at once, and settings that would
# make the daemon do nothing (or lock for ever) are refused.
. "$(dirname "$0")/lib.sh"

# bob@example.com on s1, and a daemon config with extra settings.
bob_conf() {
	fleet
	move_conf "daemon.listen=127.0.0.1:$(free_port)" presence.idle=0s "$@"
	B="$D/s1/example.com/bob"
	mkbox "$B" 20
	ok discover
	cp -a "$B" "$D/original"
}

unlocks() {
	q "SELECT count(*) FROM events WHERE move_id = 1 AND kind = 'move.unlock'"
}

# Cutovers over lock_timeout back off (retry_base, then 4 times longer)
# and after max_retries the move fails, copy kept, until 'moves resume'.
t_abandon_backs_off() {
	bob_conf move.lock_timeout=1s daemon.retry_base=1s daemon.max_retries=2 \
	    'hooks.after_lock=sleep 1.2'
	ok move bob@example.com --to s2
	start_daemon
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves WHERE id = 1\")\" = failed ]" 40 ||
	    fail "not failed after 40 s ($(unlocks) unlocks): $(tail -5 "$D/daemon.log")"
	[ "$(unlocks)" -eq 3 ] || fail "$(unlocks) abandoned cutovers, not 3"
	# The third lock came at least 4 s after the second unlock.
	gap=$(q "SELECT (SELECT ts FROM events WHERE move_id = 1 AND kind = 'move.lock' ORDER BY id LIMIT 1 OFFSET 2) - (SELECT ts FROM events WHERE move_id = 1 AND kind = 'move.unlock' ORDER BY id LIMIT 1 OFFSET 1)")
	[ "$gap" -ge 3 ] || fail "third cutover $gap s after the second"
	sleep 3
	[ "$(unlocks)" -eq 3 ] || fail "cut over again after failing"
	grep -q "move 1: cutover abandoned (1 of 2 retries), tried again in 1 s" "$D/daemon.log" ||
	    fail "no back-off in the log: $(cat "$D/daemon.log")"
	ok moves show 1 --json
	json_check 'j["state"] == "failed" and j["attempts"] == 3 and "over lock_timeout" in j["error"] and "abandoned 3 times" in j["error"] and "moves resume 1" in j["error"]'
	ok route bob@example.com --json
	json_check 'j["slice"] == "s1" and j["locked"] is False'
	same_tree "$D/original" "$B"
	# Resumed with a quick hook, it is done.
	sed -i 's/^after_lock=.*/after_lock=true/' "$MAILSHIFT_CONFIG"
	kill -HUP "$DPID"
	wait_for "grep -q 'configuration reloaded' '$D/daemon.log'" 5 ||
	    fail "config not reloaded"
	ok moves resume 1
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves WHERE id = 1\")\" = done ]" 20 ||
	    fail "not done after resume: $(tail -5 "$D/daemon.log")"
	kill -TERM "$DPID"
	wait "$DPID"
	same_tree "$D/original" "$D/s2/example.com/bob"
}

# A failing after_lock hook is an abandoned cutover too.
t_hook_failure_backs_off() {
	bob_conf daemon.retry_base=1s daemon.max_retries=1 'hooks.after_lock=exit 3'
	ok move bob@example.com --to s2
	start_daemon
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves WHERE id = 1\")\" = failed ]" 30 ||
	    fail "not failed after 30 s ($(unlocks) unlocks)"
	sleep 2
	kill -TERM "$DPID"
	wait "$DPID"
	[ "$(unlocks)" -eq 2 ] || fail "$(unlocks) abandoned cutovers, not 2"
	ok moves show 1 --json
	json_check 'j["state"] == "failed" and "exited 3" in j["error"] and "abandoned 2 times" in j["error"]'
	same_tree "$D/original" "$B"
}

# SIGTERM during a long lock grace: the daemon is gone within 2 s and the
# account unlocked on the source.
t_daemon_sigterm_in_grace() {
	bob_conf move.lock_grace=99999999d move.lock_timeout=999999999d
	ok move bob@example.com --to s2
	start_daemon
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves WHERE id = 1\")\" = cutover ]" 20 ||
	    fail "no cutover: $(tail -5 "$D/daemon.log")"
	ok route bob@example.com --json
	json_check 'j["locked"] is True'
	t0=$(date +%s%N)
	kill -TERM "$DPID"
	wait_for "! kill -0 $DPID" 2 || fail "daemon still running 2 s after SIGTERM"
	rc=0
	wait "$DPID" || rc=$?
	ms_=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -eq 0 ] || fail "daemon exited $rc: $(tail -5 "$D/daemon.log")"
	echo "stopped in $ms_ ms"
	ok route bob@example.com --json
	json_check 'j["slice"] == "s1" and j["locked"] is False'
	[ "$(q "SELECT state FROM moves WHERE id = 1")" = syncing ] ||
	    fail "move is $(q "SELECT state FROM moves WHERE id = 1")"
	same_tree "$D/original" "$B"
}

# move --wait: SIGTERM during the grace unlocks and exits 1 at once.
t_move_wait_sigterm_in_grace() {
	bob_conf move.lock_grace=20s move.lock_timeout=30s
	"$MS" move bob@example.com --to s2 --wait >"$D/out" 2>"$D/err" &
	pid=$!
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves WHERE id = 1\")\" = cutover ]" 20 ||
	    fail "no cutover: $(cat "$D/err")"
	kill -TERM "$pid"
	wait_for "! kill -0 $pid" 2 || fail "move --wait still running 2 s after SIGTERM"
	RC=0
	wait "$pid" || RC=$?
	expect_rc 1
	expect_err "the account is unlocked on the source"
	ok route bob@example.com --json
	json_check 'j["slice"] == "s1" and j["locked"] is False'
	same_tree "$D/original" "$B"
	# It resumes from what the target holds.
	move_conf
	ok move bob@example.com --to s2 --wait
	same_tree "$D/original" "$D/s2/example.com/bob"
}

# Settings under which the daemon would do nothing for ever, or hold a
# lock longer than its limit, are refused with file:line at start.
t_refused_at_start() {
	fleet
	for setting in daemon.max_moves=0 daemon.per_source=0 daemon.per_target=0 \
	    move.lock_timeout=0s move.lock_grace=99999999d; do
		move_conf "$setting" daemon.listen=off
		RC=0
		timeout 10 "$MS" daemon >"$D/out" 2>"$D/err" || RC=$?
		expect_rc 1
		k=${setting#*.}
		expect_err "$MAILSHIFT_CONFIG:5: ${k%%=*}"
		expect_err "the config has errors"
	done
	expect_err "must be shorter than lock_timeout"
	ms move nobody@example.com --to s2 --wait
	expect_rc 1
	expect_err "$MAILSHIFT_CONFIG:5: lock_grace"
}

t "abandoned cutovers back off, then the move fails until resumed" t_abandon_backs_off
t "a failing after_lock hook backs off the same way" t_hook_failure_backs_off
t "SIGTERM in a long lock grace: daemon gone in 2 s, account unlocked" t_daemon_sigterm_in_grace
t "SIGTERM in the lock grace of move --wait: unlocked, exits 1" t_move_wait_sigterm_in_grace
t "max_moves, per_source, per_target, lock_timeout 0 and a grace over the timeout are refused" t_refused_at_start
done_testing
