# mailshift slice failover: the other server of a pair takes a slice over.
# Two servers' views of slice s1 are $D/a/s1 (mx1) and $D/b/s1 (mx2); the
# slice's path $D/s1 is a bind mount of the serving one, switched by the
# test's own hooks: fence copies the old view to the new (DRBD's last
# sync) and logs, promote mounts the new view, after_failover logs.
. "$(dirname "$0")/lib.sh"

# The view of server $1.
view_of() {
	case "$1" in
	mx1) echo "$D/a/s1" ;;
	mx2) echo "$D/b/s1" ;;
	*) echo "$D/none" ;;
	esac
}

unmount_all() {
	while mountpoint -q "$D/s1" 2>/dev/null; do
		umount "$D/s1" 2>/dev/null || umount -l "$D/s1" || break
	done
}

pair_views() {
	fleet
	mkdir -p "$D/a/s1" "$D/b/s1"
	# Both views are the slice (its marker), as DRBD's replica is.
	cp -p "$D/s1/.mailshift-slice" "$D/a/s1/"
	cp -p "$D/s1/.mailshift-slice" "$D/b/s1/"
	mount --bind "$D/a/s1" "$D/s1" 2>/dev/null ||
	    skip "bind mounts need root"
	trap unmount_all EXIT
	"$GEN" --accounts 6 --messages 20 --seed 91 "$D/s1" >/dev/null ||
	    fail "generator failed"
	cat >"$D/fence.sh" <<EOF
echo "fence \$1 \$2 \$3 \$4 \$MAILSHIFT_HOOK \$MAILSHIFT_FAILOVER" >>"$D/hooks.log"
[ -f "$D/fence-fails" ] && { echo "cannot reach \$2" >&2; exit 3; }
if [ "\$2" = mx1 ]; then from="$D/a/s1"; to="$D/b/s1"; else from="$D/b/s1"; to="$D/a/s1"; fi
[ -d "\$from" ] && [ -d "\$to" ] || exit 9
rsync -a --delete "\$from/" "\$to/"
EOF
	cat >"$D/promote.sh" <<EOF
echo "promote \$1 \$2 \$3 \$4 \$MAILSHIFT_NEW_ADDRESS" >>"$D/hooks.log"
if [ "\$3" = mx1 ]; then to="$D/a/s1"; else to="$D/b/s1"; fi
umount "\$4" && mount --bind "\$to" "\$4"
EOF
	printf 'echo "after $1 $2 $3" >>"%s/hooks.log"\n' "$D" >"$D/after.sh"
}

failover_conf() {
	move_conf "failover.fence=sh $D/fence.sh \"\$@\"" \
	    "failover.promote=sh $D/promote.sh \"\$@\"" \
	    "failover.after_failover=sh $D/after.sh \"\$@\"" "$@"
}

t_manual_and_back() {
	pair_views
	failover_conf
	ok discover
	gens=$(q "SELECT sum(generation) FROM accounts")
	ok slice failover s1
	expect_out "slice s1 is served by mx2 (was mx1): 6 accounts one generation on"
	for s in mark quiesce fence promote switch after; do
		expect_out "  $s "
	done
	grep -q "^fence s1 mx1 mx2 $D/s1 fence manual$" "$D/hooks.log" ||
	    fail "fence got: $(cat "$D/hooks.log")"
	grep -q "^promote s1 mx1 mx2 $D/s1 10.0.0.2$" "$D/hooks.log" ||
	    fail "promote got: $(cat "$D/hooks.log")"
	grep -q "^after s1 mx1 mx2$" "$D/hooks.log" || fail "no after hook"
	[ "$(q "SELECT sv.name FROM slices s JOIN servers sv ON sv.id =
	    s.server_id WHERE s.name = 's1'")" = mx2 ] || fail "server not mx2"
	[ "$(q "SELECT count(*) FROM access WHERE slice = 's1' AND
	    host <> '10.0.0.2'")" -eq 0 ] || fail "access view not on mx2"
	[ "$(q "SELECT sum(generation) FROM accounts")" -eq $((gens + 6)) ] ||
	    fail "generations not bumped once each"
	[ "$(q "SELECT failover FROM slices WHERE name = 's1'")" = "" ] ||
	    fail "the mark stayed"
	# The mailboxes are where the new server's view has them.
	same_tree "$D/a/s1" "$D/s1" --no-root-times
	ok discover --count
	[ "$(q "SELECT count(*) FROM accounts WHERE state = 'active'")" -eq 6 ] ||
	    fail "accounts lost after the flip"
	ok slice list
	expect_out "s1    p1    mx2"
	ok --json report usage --by server
	json_check '[g["accounts"] for g in j["rows"] if g["name"] == "mx2"] == [6]'
	json_check '[g["accounts"] for g in j["rows"] if g["name"] == "mx1"] in ([], [0])'
	# Failback: the same command the other way.
	ok --json slice failover s1
	json_check 'j["from"] == "mx2" and j["to"] == "mx1" and j["changed"]'
	json_check '[s["step"] for s in j["steps"]] == ["mark", "quiesce", "fence", "promote", "switch", "after"]'
	json_check 'j["total_ms"] < 5000 and all(s["ran"] for s in j["steps"])'
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'slice.failover'")" -eq 2 ] ||
	    fail "not one switch event per failover"
	unmount_all
}

t_fence_fails() {
	pair_views
	failover_conf
	ok discover
	touch "$D/fence-fails"
	before=$(q "SELECT s.server_id || ':' || (SELECT sum(generation) FROM
	    accounts) FROM slices s WHERE name = 's1'")
	ms slice failover s1
	expect_rc 1
	expect_one_error
	expect_err "stopped at fence, nothing switched (mx1 still serves it)"
	expect_err "exited 3: cannot reach mx1"
	[ "$(q "SELECT s.server_id || ':' || (SELECT sum(generation) FROM
	    accounts) FROM slices s WHERE name = 's1'")" = "$before" ] ||
	    fail "a failed fence changed the catalog"
	grep -q "^promote" "$D/hooks.log" && fail "promote ran after a failed fence"
	[ "$(q "SELECT failover FROM slices WHERE name = 's1'")" = "" ] ||
	    fail "the mark stayed after a failed fence"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'slice.failover.failed'")" -eq 1 ] ||
	    fail "no failed event"
	same_tree "$D/a/s1" "$D/s1"
	unmount_all
}

t_follow() {
	fleet
	failover_conf
	ok slice failover s1 --to mx2 --follow
	expect_out "  switch "
	expect_out "slice s1 is served by mx2 (was mx1)"
	[ -f "$D/hooks.log" ] && fail "--follow ran a hook"
	[ "$(q "SELECT sv.name FROM slices s JOIN servers sv ON sv.id =
	    s.server_id WHERE s.name = 's1'")" = mx2 ] || fail "not recorded"
	ok slice failover s1 --to mx2 --follow
	expect_out "slice s1 is served by mx2 already"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'slice.failover'")" -eq 1 ] ||
	    fail "a second follow switched again"
}

t_bad_input() {
	fleet
	ms slice failover s1 --to mx3
	expect_rc 1
	expect_err "server 'mx3' is not in pair 'p1' of slice 's1'"
	ms slice failover nope
	expect_rc 1
	expect_err "slice 'nope' not found"
	ms slice failover s1 --follow
	expect_rc 2
	expect_err "--follow needs --to SERVER"
	ms slice failover
	expect_rc 2
	ms slice failover s1 --to mx1
	expect_rc 1
	expect_err "slice s1 is served by mx1 already"
	# No fence hook: only when the admin says the old server is down.
	before=$(catalog_sum)
	ms slice failover s1
	expect_rc 1
	expect_err "no [failover] fence hook"
	expect_err "--old-is-down"
	[ "$(catalog_sum)" = "$before" ] || fail "a refused failover wrote"
	ok slice failover s1 --old-is-down
	expect_out "skipped: mx1 is down, says the admin"
	printf '[failover]\nfence = echo %%u\n' >"$D/bad.conf"
	MAILSHIFT_CONFIG="$D/bad.conf" ms slice failover s1
	expect_rc 1
	expect_err "[failover] hooks have no user"
}

# A reader polling the access view while the slice fails over sees the old
# host with the old generation or the new host with the new one, never a
# mix: both change in one transaction.
t_access_atomic() {
	pair_views
	failover_conf
	ok discover
	user=$(q "SELECT \"user\" FROM accounts ORDER BY id LIMIT 1")
	g=$(q "SELECT generation FROM access WHERE \"user\" = '$user'")
	(
		i=0
		while [ ! -f "$D/stop-reader" ] && [ $i -lt 2000 ]; do
			q "SELECT host || ' ' || generation FROM access WHERE
			    \"user\" = '$user'" >>"$D/seen" 2>/dev/null
			i=$((i + 1))
		done
	) &
	reader=$!
	sleep 0.3
	ok slice failover s1
	sleep 0.3
	touch "$D/stop-reader"
	wait $reader
	sort -u "$D/seen" >"$D/seen.u"
	grep -vx "10.0.0.1 $g" "$D/seen.u" | grep -vx "10.0.0.2 $((g + 1))" &&
	    fail "a reader saw a half-done failover: $(cat "$D/seen.u")"
	grep -qx "10.0.0.1 $g" "$D/seen.u" && grep -qx "10.0.0.2 $((g + 1))" \
	    "$D/seen.u" || fail "the reader did not see both sides: $(cat "$D/seen.u")"
	unmount_all
}

# A move out of s1 copying at 200 KiB/s when s1 fails over: the daemon
# stops it at a safe point, the failover runs, the move resumes from the
# new server's view and ends byte-identical.
t_during_copy() {
	pair_views
	daemon_conf throttle.bytes_per_second=200K \
	    "failover.fence=sh $D/fence.sh \"\$@\"" \
	    "failover.promote=sh $D/promote.sh \"\$@\""
	ok discover
	user=$(q "SELECT \"user\" FROM accounts ORDER BY bytes DESC LIMIT 1")
	home=$(q "SELECT path FROM accounts WHERE \"user\" = '$user'")
	cp -a "$D/s1/$home" "$D/orig"
	ok move "$user" --to s3
	start_daemon
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves\")\" = copying ]" 10 ||
	    fail "the move did not start copying: $(cat "$D/daemon.log")"
	ok slice failover s1
	expect_out "slice s1 is served by mx2"
	grep -q "failover is under way; moves touching it pause" "$D/daemon.log" ||
	    fail "the daemon did not pause: $(cat "$D/daemon.log")"
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves\")\" = done ]" 60 ||
	    fail "the move did not finish: $(tail -20 "$D/daemon.log")"
	stop_daemon
	[ "$(q "SELECT s.name FROM accounts a JOIN slices s ON s.id = a.slice_id
	    WHERE \"user\" = '$user'")" = s3 ] || fail "account not on s3"
	same_tree "$D/orig" "$D/s3/$home"
	unmount_all
}

# The same during the move's cutover: its after_lock hook holds the lock
# when the failover begins; the cutover finishes or is abandoned cleanly,
# the failover waits for it, and the move ends byte-identical.
t_during_cutover() {
	pair_views
	daemon_conf "hooks.after_lock=touch $D/in-lock; sleep 2" \
	    "failover.fence=sh $D/fence.sh \"\$@\"" \
	    "failover.promote=sh $D/promote.sh \"\$@\""
	ok discover
	user=$(q "SELECT \"user\" FROM accounts ORDER BY id LIMIT 1")
	home=$(q "SELECT path FROM accounts WHERE \"user\" = '$user'")
	cp -a "$D/s1/$home" "$D/orig"
	files=$(q "SELECT sum(files) FROM accounts")
	ok move "$user" --to s3
	start_daemon
	wait_for "[ -f '$D/in-lock' ]" 20 ||
	    fail "no cutover began: $(cat "$D/daemon.log")"
	ok slice failover s1
	expect_out "slice s1 is served by mx2"
	wait_for "[ \"\$($CATQ \"SELECT state FROM moves\")\" = done ]" 60 ||
	    fail "the move did not finish: $(tail -20 "$D/daemon.log")"
	stop_daemon
	[ "$(q "SELECT s.name FROM accounts a JOIN slices s ON s.id = a.slice_id
	    WHERE \"user\" = '$user'")" = s3 ] || fail "account not on s3"
	same_tree "$D/orig" "$D/s3/$home"
	[ "$(q "SELECT sum(files) FROM accounts")" -eq "$files" ] ||
	    fail "files changed"
	[ "$(q "SELECT count(*) FROM accounts WHERE state = 'locked'")" -eq 0 ] ||
	    fail "an account stayed locked"
	unmount_all
}

t "failover and failback: hooks in order, one switch, access follows" t_manual_and_back
t "a failing fence stops the failover with nothing switched" t_fence_fails
t "--follow records the cluster manager's decision once, no hooks" t_follow
t "bad input: other pair, unknown slice, no fence hook, %u" t_bad_input
t "the access view's host and generation change together" t_access_atomic
t "a failover during a move's copy pauses it; it ends byte-identical" t_during_copy
t "a failover during a move's cutover waits for it; nothing lost" t_during_cutover
done_testing
