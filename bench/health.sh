#!/bin/sh
# The health watch, measured with the real daemon and its default
# [health] settings (probe every 1 s, 10 s windows, degraded at 4 of 6).
#
#   bench/health.sh                    detection times and probe cost
#   bench/health.sh --false-alarms S [FILE]
#                                      S seconds (3600) of normal noise:
#                                      changes of health (goal: none)
#
# Detection: four slices on FUSE passthrough mounts (tests/fuse/slowfs.py,
# 2 ms per operation, as a network filesystem would add); one is made 5x
# and 3x slower and then hangs, and the time until the catalog says
# degraded or unresponsive is printed beside the goal and what other
# systems take. Skipped without root, /dev/fuse or python3-fusepy.
#
# False alarms: four slices as plain directories on the disk the bench
# runs on, 40 mailboxes each, while another process writes, fsyncs and
# reads files on the same disk and accounts are moved between the slices
# the whole time. Every health change is counted (the goal is none), and
# the probes' p50 and p99 printed. The result also goes to FILE.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/.." && pwd)
SLOWFS="$top/tests/fuse/slowfs.py"
W="$BENCH_DIR/health"
DPID=
NOISE=
MOVER=

cleanup() {
	[ -n "$MOVER" ] && kill "$MOVER" 2>/dev/null
	[ -n "$NOISE" ] && kill "$NOISE" 2>/dev/null
	[ -n "$DPID" ] && { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	for c in "$W"/ctl/*.pid; do
		[ -e "$c" ] || continue
		n=$(basename "$c" .pid)
		echo 0 >"$W/ctl/$n"
		fusermount -u "$W/$n" 2>/dev/null || umount -l "$W/$n" 2>/dev/null
		kill "$(cat "$c")" 2>/dev/null
		rm -f "$c"
	done
}
trap cleanup EXIT INT TERM

q() { sqlite3 "$W/catalog.db" "$1"; }

fleet() {
	export MAILSHIFT_DB="$W/catalog.db"
	"$MS" init >/dev/null
	"$MS" server add mx1 --address 10.0.0.1 >/dev/null
	"$MS" server add mx2 --address 10.0.0.2 >/dev/null
	"$MS" pair add p1 mx1 mx2 >/dev/null
	i=1
	for n in s1 s2 s3 s4; do
		"$MS" slice add "$n" --pair p1 --server mx$(( (i % 2) + 1 )) \
		    --path "$W/$n" --capacity 10G >/dev/null
		i=$((i + 1))
	done
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '[daemon]\nlisten = 127.0.0.1:%s\n[presence]\nidle = 0s\n' \
	    "$PORT" >"$W/mailshift.conf"
	# HEALTH_EXTRA: more [health] settings, e.g. "floor = 0ms".
	[ -n "${HEALTH_EXTRA:-}" ] &&
	    printf '[health]\n%s\n' "$HEALTH_EXTRA" >>"$W/mailshift.conf"
	export MAILSHIFT_CONFIG="$W/mailshift.conf"
}

start_daemon() {
	"$MS" daemon >"$W/daemon.log" 2>&1 &
	DPID=$!
	sleep 1
}

# Seconds (one decimal) until slice $1's health is $2, at most $3 s.
time_to() {
	s=$(now)
	while [ "$(q "SELECT health FROM slices WHERE name = '$1'")" != "$2" ]; do
		if [ "$(echo "$(now) $s" | awk -v lim="$3" '{ print ($1 - $2 > lim) ? 1 : 0 }')" = 1 ]; then
			echo "never (over $3 s)"
			return
		fi
		sleep 0.2
	done
	echo "$(now) $s" | awk '{ printf "%.1f s\n", $1 - $2 }'
}

# The probes' p50 and p99 per slice, from /status.
probe_latency() {
	curl -sf "http://127.0.0.1:$PORT/status" | python3 -c 'import json,sys
j = json.load(sys.stdin)
for x in j["health"]:
    print("  %s: probe p50 %.2f ms, p99 %.2f ms (last window), %d probes, %d failed" % (x["name"], x["p50"] * 1000, x["p99"] * 1000, x["probes"], x["probes_failed"]))'
}

detection() {
	if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ] ||
	    ! /usr/bin/python3 -c 'import fusepy' 2>/dev/null; then
		echo "health: skipped (needs root, /dev/fuse and python3-fusepy)"
		return
	fi
	mkdir -p "$W/ctl"
	for n in s1 s2 s3 s4; do
		mkdir -p "$W/real/$n" "$W/$n"
		echo 2 >"$W/ctl/$n"
		/usr/bin/python3 "$SLOWFS" "$W/real/$n" "$W/$n" "$W/ctl/$n" \
		    >"$W/slowfs-$n.log" 2>&1 &
		echo $! >"$W/ctl/$n.pid"
	done
	sleep 2
	fleet
	"$GEN" --accounts 4 --messages 20 --max-size 4000 "$W/s1" >/dev/null
	"$GEN" --accounts 4 --messages 20 --max-size 4000 --start 5 "$W/s2" >/dev/null
	"$MS" discover >/dev/null
	start_daemon
	# The probe's own cost, over a minute of the daemon's life (its
	# heartbeat and catalog reads are in it too).
	io0=$(cat /proc/$DPID/io)
	sleep 60
	io1=$(cat /proc/$DPID/io)
	echo "$io0
$io1" | awk '{ v[$1] = v[$1] ? $2 - v[$1] : $2 }
	    END { printf "probe cost per slice: %.1f reads/s, %.1f writes/s, %.0f B/s written (syscalls of the daemon / 4 slices / 60 s)\n",
	    v["syscr:"] / 240, v["syscw:"] / 240, v["wchar:"] / 240 }'
	sleep 20	# a baseline of 8 clean windows
	probe_latency
	echo 10 >"$W/ctl/s3"
	echo "5x slower (2 -> 10 ms per operation): degraded after $(time_to s3 degraded 180) (goal: under 60 s; HDFS: tens of minutes)"
	echo 2 >"$W/ctl/s3"
	echo "  back to normal: ok after $(time_to s3 ok 180)"
	echo 6 >"$W/ctl/s2"
	echo "3x slower (2 -> 6 ms per operation): degraded after $(time_to s2 degraded 180)"
	echo 2 >"$W/ctl/s2"
	echo "  back to normal: ok after $(time_to s2 ok 180)"
	echo hang >"$W/ctl/s4"
	echo "hang: unresponsive after $(time_to s4 unresponsive 60) (goal: under 10 s; CockroachDB: 20 s, Ceph: 30 s)"
	s=$(now)
	curl -sf -m 5 "http://127.0.0.1:$PORT/status" >/dev/null &&
	    echo "  /status during the hang answered in $(echo "$(now) $s" | awk '{ printf "%.3f s", $1 - $2 }')"
	echo 2 >"$W/ctl/s4"
	echo "  back: ok after $(time_to s4 ok 180)"
	echo "health changes of slices never slowed: $(q "SELECT count(*) FROM events WHERE kind = 'slice.health' AND slice = 's1'")"
}

false_alarms() {
	secs=$1
	out=$2
	mkdir -p "$W/s1" "$W/s2" "$W/s3" "$W/s4" "$W/noise"
	fleet
	i=1
	for n in s1 s2 s3 s4; do
		"$GEN" --accounts 40 --messages 60 --max-size 60000 \
		    --start $(( (i - 1) * 40 + 1 )) --seed "$i" "$W/$n" >/dev/null
		i=$((i + 1))
	done
	"$MS" discover >/dev/null
	start_daemon
	# Another tenant of the disk: 32 MiB written and fsynced, read back,
	# a pause, again.
	( while :; do
		dd if=/dev/urandom of="$W/noise/f" bs=1M count=32 conv=fsync 2>/dev/null
		dd if="$W/noise/f" of=/dev/null bs=1M 2>/dev/null
		sleep 1
	  done ) &
	NOISE=$!
	# A rebalance that never ends: accounts moved round the slices,
	# four at a time.
	# (set +e: a catalog busy for a moment must not end the loop.)
	( set +e; k=0; while :; do
		u=$(sqlite3 "$W/catalog.db" "SELECT a.user || ' ' || s.name FROM accounts a JOIN slices s ON s.id = a.slice_id WHERE NOT EXISTS (SELECT 1 FROM moves m WHERE m.account_id = a.id AND m.state NOT IN ('done','failed','cancelled')) ORDER BY (a.id * 7919 + $k) % 160 LIMIT 1")
		user=${u% *}
		from=${u#* }
		to=s$(( ${from#s} % 4 + 1 ))
		"$MS" move "$user" --to "$to" >/dev/null 2>&1
		k=$((k + 1))
		while [ "$(sqlite3 "$W/catalog.db" "SELECT count(*) FROM moves WHERE state NOT IN ('done','failed','cancelled')")" -ge 4 ]; do
			sleep 1
		done
	  done ) &
	MOVER=$!
	start=$(now)
	sleep "$secs"
	{
		echo "false alarms over $secs s of normal noise (4 slices on one disk, 32 MiB fsynced and read back every few seconds by another process, moves running throughout)${HEALTH_EXTRA:+, with $HEALTH_EXTRA}:"
		echo "  moves done: $(q "SELECT count(*) FROM moves WHERE state = 'done'"), failed: $(q "SELECT count(*) FROM moves WHERE state = 'failed'")"
		echo "  health changes of slices: $(q "SELECT count(*) FROM events WHERE kind = 'slice.health'") (goal: 0)"
		echo "  health changes of servers: $(q "SELECT count(*) FROM events WHERE kind = 'server.health'") (goal: 0)"
		q "SELECT '  ' || message FROM events WHERE kind IN ('slice.health', 'server.health')"
		probe_latency
		curl -sf "http://127.0.0.1:$PORT/metrics" | grep '^mailshift_slice_probe_seconds_bucket{slice="s1"' | sed 's/^/  /'
	} | tee "$out"
}

rm -rf "$W"
mkdir -p "$W"
if [ "${1:-}" = --false-alarms ]; then
	false_alarms "${2:-3600}" "${3:-$BENCH_DIR/health-false-alarms.txt}"
else
	detection
fi
