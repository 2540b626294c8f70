# [failover] auto: the daemon fails a hung slice over to the other server
# of its pair, fence first, once. Slice s1 is a slowfs mount (a FUSE
# passthrough whose operations can be made to hang) over mx1's view
# $D/a/s1; the promote hook takes the hung mount down and binds mx2's
# view $D/b/s1 in its place.
. "$(dirname "$0")/lib.sh"
SLOWFS_PY="$TESTLIB/../fuse/slowfs.py"
. "$TESTLIB/../fuse/slowfs.sh"

trap 'SLOWFS_LIST=$TESTROOT/slowfs.list slowfs_cleanup
for m in $(awk -v r="$TESTROOT" "index(\$2, r) == 1 { print \$2 }" /proc/mounts); do
	umount -l "$m" 2>/dev/null
done
chmod -R u+rwx "$TESTROOT" 2>/dev/null; rm -rf "$TESTROOT"' EXIT

end_test() {
	[ -f "$D/ctl" ] && echo 0 >"$D/ctl"
	if [ -n "${DPID:-}" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"
		n=0
		while kill -0 "$DPID" 2>/dev/null && [ "$n" -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	while mountpoint -q "$D/s1" 2>/dev/null; do
		umount -l "$D/s1" 2>/dev/null || break
	done
	slowfs_cleanup
}

hung_pair() {
	slowfs_usable || skip "$SLOWFS_WHY"
	SLOWFS_LIST="$TESTROOT/slowfs.list"
	fleet
	mkdir -p "$D/a/s1" "$D/b/s1"
	mv "$D/s1/.mailshift-slice" "$D/a/s1/"
	slowfs_mount "$D/a/s1" "$D/s1" "$D/ctl" 0 ||
	    fail "slowfs did not mount $D/s1"
	cat >"$D/fence.sh" <<EOF
echo "fence \$1 \$2 \$3 \$MAILSHIFT_FAILOVER \$(date +%s.%N)" >>"$D/hooks.log"
rsync -a --delete "$D/a/s1/" "$D/b/s1/"
EOF
	cat >"$D/promote.sh" <<EOF
echo "promote \$1 \$2 \$3 \$(date +%s.%N)" >>"$D/hooks.log"
umount -l "\$4" && mount --bind "$D/b/s1" "\$4"
EOF
	cat >"$D/on_health.sh" <<EOF
echo "\$MAILSHIFT_EVENT \$MAILSHIFT_SLICE \$MAILSHIFT_HEALTH" >>"$D/health.log"
EOF
	daemon_conf health.timeout=2s failover.auto=yes failover.after=3s \
	    "failover.fence=sh $D/fence.sh \"\$@\"" \
	    "failover.promote=sh $D/promote.sh \"\$@\"" \
	    "hooks.on_health=sh $D/on_health.sh"
}

t_auto_once() {
	hung_pair
	start_daemon
	sleep 2
	hung=$(date +%s.%N)
	slowfs_set "$D/ctl" hang
	wait_for "[ \"\$($CATQ \"SELECT sv.name FROM slices s JOIN servers sv
	    ON sv.id = s.server_id WHERE s.name = 's1'\")\" = mx2 ]" 30 ||
	    { end_test; fail "s1 was not failed over: $(cat "$D/daemon.log")"; }
	flipped=$(date +%s.%N)
	echo "# hang to flipped route: $(echo "$flipped - $hung" | bc) s"
	grep -q "^fence s1 mx1 mx2 automatic" "$D/hooks.log" ||
	    { end_test; fail "no fence first: $(cat "$D/hooks.log")"; }
	[ "$(head -1 "$D/hooks.log" | cut -d' ' -f1)" = fence ] ||
	    { end_test; fail "fence did not come first"; }
	grep -q "failing it over to the other server of its pair" \
	    "$D/daemon.log" || { end_test; fail "not logged"; }
	wait_for "grep -q '^failover s1' '$D/health.log'" 10 ||
	    { end_test; fail "on_health not told: $(cat "$D/health.log" 2>/dev/null)"; }
	curl -s "http://127.0.0.1:$PORT/metrics" >"$D/metrics"
	grep -q 'mailshift_failovers_total{result="switched"} 1' "$D/metrics" ||
	    { end_test; fail "metric: $(grep failover "$D/metrics")"; }
	# Still hung from the old mount's point of view, but never again
	# within hold_down.
	sleep 8
	nfo=$(q "SELECT count(*) FROM events WHERE kind = 'slice.failover'")
	end_test
	[ "$nfo" -eq 1 ] || fail "$nfo failovers, not one"
	[ "$(grep -c '^fence' "$D/hooks.log")" -eq 1 ] || fail "fenced twice"
}

# The fence fails: the slice stays where it is, and the daemon does not
# try again within hold_down.
t_auto_fence_fails() {
	hung_pair
	printf 'exit 4\n' >"$D/fence.sh"
	start_daemon
	sleep 2
	slowfs_set "$D/ctl" hang
	wait_for "grep -q 'automatic failover stopped' '$D/daemon.log'" 30 ||
	    { end_test; fail "no attempt: $(cat "$D/daemon.log")"; }
	sleep 5
	server=$(q "SELECT sv.name FROM slices s JOIN servers sv ON
	    sv.id = s.server_id WHERE s.name = 's1'")
	tries=$(grep -c 'failing it over' "$D/daemon.log")
	end_test
	[ "$server" = mx1 ] || fail "switched although the fence failed"
	[ "$tries" -eq 1 ] || fail "$tries attempts within hold_down"
	[ -f "$D/hooks.log" ] && grep -q promote "$D/hooks.log" &&
	    fail "promote ran after a failed fence"
	return 0
}

t "a hung slice is failed over once, fence first, within seconds" t_auto_once
t "a failing fence leaves the slice; no second try in hold_down" t_auto_fence_fails
done_testing
