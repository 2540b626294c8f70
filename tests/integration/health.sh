# The daemon's health watch against slices made slow from outside: every
# slice is a slowfs mount (tests/fuse/slowfs.py, a FUSE passthrough with
# a delay on every operation) over a real directory, 2 ms when healthy.
# One slice goes to 5x, or hangs, like a failing disk or a dead NFS
# server; the daemon must say so everywhere and keep serving the others.
. "$(dirname "$0")/lib.sh"
SLOWFS_PY="$TESTLIB/../fuse/slowfs.py"
. "$TESTLIB/../fuse/slowfs.sh"

# Mounts left by a test that died are taken down before the directory
# goes (a hung mount would make rm -rf hang).
trap 'SLOWFS_LIST=$TESTROOT/slowfs.list slowfs_cleanup
chmod -R u+rwx "$TESTROOT" 2>/dev/null; rm -rf "$TESTROOT"' EXIT

# At the end of a test, passed or not: nothing blocked in a mount, the
# daemon gone, every mount down.
end_test() {
	for c in "$D"/ctl/s?; do
		[ -f "$c" ] && echo 0 >"$c"
	done
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
	slowfs_cleanup
}

# Slices s1..s4 on servers mx1..mx4, each a slowfs mount $D/sN over
# $D/real/sN with its delay in $D/ctl/sN (0 while this sets up; the
# caller sets 2 ms before the daemon starts). $1: accounts on s1
# (generated below the mount, fast), $2 on s2 and s3 (s4 stays empty).
slow_fleet() {
	slowfs_usable || skip "$SLOWFS_WHY"
	SLOWFS_LIST="$TESTROOT/slowfs.list"
	trap end_test EXIT
	mkdir -p "$D/ctl"
	for s in s1 s2 s3 s4; do
		slowfs_mount "$D/real/$s" "$D/$s" "$D/ctl/$s" 0 ||
		    fail "slowfs did not mount $D/$s"
	done
	fleet
	ok slice add s4 --pair p2 --server mx4 --path "$D/s4" --capacity 20G
	"$GEN" --accounts "$1" --messages 20 --min-size 2000 --max-size 12000 \
	    --seed 81 --prefix a "$D/real/s1" >/dev/null || fail "generator failed"
	"$GEN" --accounts "$2" --messages 20 --min-size 2000 --max-size 12000 \
	    --seed 82 --prefix b "$D/real/s2" >/dev/null || fail "generator failed"
	"$GEN" --accounts "$2" --messages 20 --min-size 2000 --max-size 12000 \
	    --seed 83 --prefix c "$D/real/s3" >/dev/null || fail "generator failed"
	ok discover
	# The hook keeps every environment it was run with.
	printf '#!/bin/sh\n{ env | grep "^MAILSHIFT_" | sort; echo --; } >>"%s"\n' \
	    "$D/hook.env" >"$D/hook"
	chmod +x "$D/hook"
	daemon_conf health.window=2s health.interval=200ms health.timeout=2s \
	    health.degraded_after=3 health.history=4 health.recover_after=3 \
	    "hooks.on_health=$D/hook"
}

# Every slice at $1 ms.
all_at() {
	for s in s1 s2 s3 s4; do
		slowfs_set "$D/ctl/$s" "$1"
	done
}

health_of() {
	q "SELECT health FROM slices WHERE name = '$1'"
}

# Wait up to $3 s for slice $1's health in the catalog to be $2.
wait_health() {
	wait_for "[ \"\$($CATQ \"SELECT health FROM slices WHERE name = '$1'\")\" = $2 ]" "$3"
}

# GET /status within a second into $D/out.
get_status() {
	curl -sf -m 1 "http://127.0.0.1:$PORT/status" >"$D/out" ||
	    fail "/status did not answer within 1 s"
}

get_metrics() {
	curl -sf -m 1 "http://127.0.0.1:$PORT/metrics" >"$D/metrics" ||
	    fail "/metrics did not answer within 1 s"
}

# The daemon up and every slice probed for a window or more.
start_watched() {
	all_at 2
	start_daemon
	wait_for "curl -sf -m 1 http://127.0.0.1:$PORT/status | python3 -c 'import json,sys
j = json.load(sys.stdin)
assert len(j[\"health\"]) >= 4 and all((h.get(\"p50\") or 0) > 0 for h in j[\"health\"])'" 15 ||
	    fail "not every slice probed: $(curl -s -m 1 "http://127.0.0.1:$PORT/status")"
	sleep 2
}

# No slice but $1 ever changed health (the log has a line for every
# change), and each of them is ok now.
others_ok() {
	for s in s1 s2 s3 s4 $(q "SELECT name FROM slices WHERE name = 's5'"); do
		[ "$s" = "$1" ] && continue
		! grep "slice $s health:" "$D/daemon.log" ||
		    fail "slice $s changed health"
		[ "$(health_of "$s")" = ok ] ||
		    fail "slice $s is $(health_of "$s") in the catalog"
	done
}

# The hook ran for slice $1 going from $2 to $3 with a reason and the
# rest of its environment.
hook_ran() {
	wait_for "grep -q '^MAILSHIFT_HEALTH=$3\$' '$D/hook.env'" 5 ||
	    fail "no on_health hook for $3: $(cat "$D/hook.env" 2>/dev/null)"
	python3 - "$D/hook.env" "$1" "$2" "$3" "$D/$1" "$MAILSHIFT_DB" <<'PY' ||
import sys
env, slice_, prev, new, path, catalog = sys.argv[1:]
runs, cur = [], {}
for line in open(env):
    line = line.rstrip("\n")
    if line == "--":
        runs.append(cur)
        cur = {}
    elif "=" in line:
        k, v = line.split("=", 1)
        cur[k] = v
want = [r for r in runs if r.get("MAILSHIFT_SLICE") == slice_ and
        r.get("MAILSHIFT_HEALTH") == new]
assert want, ("no run for", slice_, new, runs)
r = want[-1]
assert r.get("MAILSHIFT_HOOK") == "on_health", r
assert r.get("MAILSHIFT_PREVIOUS") == prev, r
assert r.get("MAILSHIFT_REASON"), r
assert r.get("MAILSHIFT_SLICE_PATH") == path, r
assert r.get("MAILSHIFT_SERVER"), r
assert r.get("MAILSHIFT_CATALOG"), r
others = [x for x in runs if x.get("MAILSHIFT_SLICE") != slice_]
assert not others, ("the hook ran for another slice", others)
PY
	    fail "hook environment: $(cat "$D/hook.env")"
}

# s2 at 5x (10 ms): degraded in the catalog, the log, /status, /metrics,
# slice list, status and the hook; the three others stay ok. Back at
# 2 ms it is ok again.
t_degraded_and_back() {
	slow_fleet 4 4
	start_watched
	t0=$(date +%s)
	slowfs_set "$D/ctl/s2" 10
	wait_health s2 degraded 30 ||
	    fail "s2 not degraded in 30 s: $(grep health "$D/daemon.log" | tail -5)"
	echo "degraded after $(($(date +%s) - t0)) s"
	grep -q 'slice s2 health: ok -> degraded (.' "$D/daemon.log" ||
	    fail "no log line: $(grep health "$D/daemon.log")"
	[ -n "$(q "SELECT health_reason FROM slices WHERE name = 's2'")" ] ||
	    fail "no health_reason"
	[ -n "$(q "SELECT health_since FROM slices WHERE name = 's2'")" ] ||
	    fail "no health_since"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'slice.health'")" -ge 1 ] ||
	    fail "no slice.health event"
	get_status
	json_check 'len(j["health"]) == 4'
	json_check '[h["state"] for h in j["health"] if h["name"] == "s2"] == ["degraded"]'
	json_check 'all(h["state"] == "ok" for h in j["health"] if h["name"] != "s2")'
	json_check 'all(h["reason"] for h in j["health"] if h["name"] == "s2")'
	json_check 'all(h["p50"] > 0 and h["p99"] >= h["p50"] for h in j["health"])'
	json_check '[(x["name"], x["state"]) for x in j["degraded"]] == [("s2", "degraded")]'
	get_metrics
	grep -q '^mailshift_slice_health{slice="s2"} 1$' "$D/metrics" ||
	    fail "metrics: $(grep slice_health "$D/metrics")"
	for s in s1 s3 s4; do
		grep -q "^mailshift_slice_health{slice=\"$s\"} 0\$" "$D/metrics" ||
		    fail "metrics for $s: $(grep slice_health "$D/metrics")"
	done
	grep -q '^mailshift_slice_probe_seconds_bucket{slice="s2",le="' \
	    "$D/metrics" || fail "no probe histogram"
	grep -q '^mailshift_slice_probes_total{slice="s2"} [1-9]' "$D/metrics" ||
	    fail "no probe count: $(grep probes_total "$D/metrics")"
	ok slice list
	expect_out "HEALTH"
	grep -q '^s2 .*degraded' "$D/out" || fail "slice list: $(cat "$D/out")"
	ok status
	expect_out "degraded"
	expect_out "s2"
	hook_ran s2 ok degraded
	# Healthy again.
	t0=$(date +%s)
	slowfs_set "$D/ctl/s2" 2
	wait_health s2 ok 30 ||
	    fail "s2 not ok again in 30 s: $(grep health "$D/daemon.log" | tail -5)"
	echo "ok again after $(($(date +%s) - t0)) s"
	grep -q 'slice s2 health: degraded -> ok (' "$D/daemon.log" ||
	    fail "no recovery line: $(grep health "$D/daemon.log")"
	get_metrics
	grep -q '^mailshift_slice_health{slice="s2"} 0$' "$D/metrics" ||
	    fail "metrics: $(grep slice_health "$D/metrics")"
	get_status
	json_check 'j["degraded"] == []'
	ok status
	grep -Eq '^health[: ]+all slices ok' "$D/out" ||
	    fail "status: $(cat "$D/out")"
	hook_ran s2 degraded ok
	others_ok s2
	stop_daemon
}

# s4 hangs: unresponsive within the timeout and a few seconds; /status
# answers at once all the while, and a move from s1 to s5 completes. s5
# is a plain directory: libfuse 2, under slowfs, drops a change of mtime
# alone (utimensat with UTIME_OMIT for atime, as the copier does), so a
# move into a slowfs slice never verifies.
t_hang() {
	slow_fleet 4 4
	mkdir -p "$D/s5"
	ok slice add s5 --pair p2 --server mx4 --path "$D/s5" --capacity 20G
	start_watched
	user=$(q "SELECT \"user\" FROM accounts a JOIN slices s ON s.id = a.slice_id WHERE s.name = 's1' ORDER BY \"user\" LIMIT 1")
	home=$(q "SELECT path FROM accounts WHERE \"user\" = '$user'")
	cp -a "$D/real/s1/$home" "$D/original"
	t0=$(date +%s)
	slowfs_set "$D/ctl/s4" hang
	wait_health s4 unresponsive 7 ||
	    fail "s4 not unresponsive in 7 s: $(grep health "$D/daemon.log" | tail -5)"
	echo "unresponsive after $(($(date +%s) - t0)) s"
	grep -q 'slice s4 health: ok -> unresponsive (.' "$D/daemon.log" ||
	    fail "no log line: $(grep health "$D/daemon.log")"
	get_status
	json_check '[h["state"] for h in j["health"] if h["name"] == "s4"] == ["unresponsive"]'
	get_metrics
	grep -q '^mailshift_slice_health{slice="s4"} 2$' "$D/metrics" ||
	    fail "metrics: $(grep slice_health "$D/metrics")"
	hook_ran s4 ok unresponsive
	ms move "$user" --to s4
	expect_rc 1
	expect_err "is unresponsive"
	ok move "$user" --to s5
	n=0
	while [ "$(q "SELECT state FROM moves WHERE id = 1")" != done ]; do
		get_status
		n=$((n + 1))
		[ "$n" -lt 60 ] ||
		    fail "the move s1 -> s5 not done in 30 s: $(q "SELECT state FROM moves WHERE id = 1"); $(tail -5 "$D/daemon.log")"
		sleep 0.5
	done
	[ "$(health_of s4)" = unresponsive ] ||
	    fail "s4 is $(health_of s4) while it hangs"
	ok route "$user" --json
	json_check 'j["slice"] == "s5"'
	same_tree "$D/original" "$D/s5/$home"
	# The mount answers again: ok within the recovery windows.
	t0=$(date +%s)
	slowfs_set "$D/ctl/s4" 2
	wait_health s4 ok 30 ||
	    fail "s4 not ok again in 30 s: $(grep health "$D/daemon.log" | tail -5)"
	echo "ok again after $(($(date +%s) - t0)) s"
	others_ok s4
	stop_daemon
}

# The planner sends nothing to a slice that is not ok: s4, empty, is
# where a balance would put accounts first, until it is degraded.
t_plans_avoid_degraded() {
	slow_fleet 24 4
	for s in s1 s2 s3 s4; do
		ok slice set "$s" --capacity 12M
	done
	ok --json plan balance
	json_check 'any(m["to"] == "s4" for m in j["moves"])'
	start_watched
	slowfs_set "$D/ctl/s4" 10
	wait_health s4 degraded 30 ||
	    fail "s4 not degraded in 30 s: $(grep health "$D/daemon.log" | tail -5)"
	ok --json plan balance
	json_check 'len(j["moves"]) > 0 and all(m["to"] != "s4" for m in j["moves"])'
	ms plan fill s4
	expect_rc 1
	expect_err "its health is not ok"
	ms --json plan drain s1
	if [ "$RC" -eq 0 ]; then
		json_check 'all(m["to"] != "s4" for m in j["moves"])'
	fi
	others_ok s4
	stop_daemon
}

# Every slice of a server slow: the server is reported too, once, and
# its other server is not.
t_server_reported() {
	slow_fleet 2 2
	slowfs_mount "$D/real/s5" "$D/s5" "$D/ctl/s5" 2 ||
	    fail "slowfs did not mount $D/s5"
	ok slice add s5 --pair p1 --server mx1 --path "$D/s5" --capacity 10G
	start_watched
	slowfs_set "$D/ctl/s1" 10
	wait_health s1 degraded 30 ||
	    fail "s1 not degraded: $(grep health "$D/daemon.log" | tail -5)"
	[ "$(q "SELECT health FROM servers WHERE name = 'mx1'")" = ok ] ||
	    fail "mx1 reported with one of its two slices slow"
	slowfs_set "$D/ctl/s5" 10
	wait_for "[ \"\$($CATQ \"SELECT health FROM servers WHERE name = 'mx1'\")\" = degraded ]" 30 ||
	    fail "mx1 not degraded: $(grep health "$D/daemon.log" | tail -5)"
	q "SELECT health_reason FROM servers WHERE name = 'mx1'" |
	    grep -q "all 2 of its slices are not ok: s1, s5" ||
	    fail "reason: $(q "SELECT health_reason FROM servers WHERE name = 'mx1'")"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'server.health'")" -eq 1 ] ||
	    fail "events: $(q "SELECT message FROM events WHERE kind = 'server.health'")"
	[ "$(q "SELECT health FROM servers WHERE name = 'mx2'")" = ok ] ||
	    fail "mx2 reported"
	grep -q "server mx1 health: ok -> degraded" "$D/daemon.log" ||
	    fail "no log line: $(grep "server" "$D/daemon.log")"
	ok status
	expect_out "server mx1 degraded"
	stop_daemon
}

t "a slice at 5x is degraded everywhere, the others stay ok; back at 2 ms it is ok" \
    t_degraded_and_back
t "a hung slice is unresponsive within seconds; /status and other moves go on" \
    t_hang
t "plans send nothing to a degraded slice" t_plans_avoid_degraded
t "every slice of a server slow: the server is reported" t_server_reported
done_testing
