#!/bin/sh
# Failover of a slice inside its pair, measured.
#
# Manual: `mailshift slice failover` back and forth 20 times on a slice of
# 1,000 accounts with trivial hooks (true), so what is timed is
# mailshift's own share: mark, quiesce, the hooks' process start, the one
# switch transaction that bumps every account's generation, the events.
# The median of each step and of the whole command is printed (goal:
# well under 1 s), beside `--follow` (what a cluster manager's resource
# agent runs).
#
# Automatic: the real daemon with its default [health] (probe every 1 s,
# timeout 5 s) and [failover] auto = yes, after = 10 s; the slice is a FUSE
# passthrough (tests/fuse/slowfs.py) that is made to hang; the time from
# the hang until the catalog routes the slice to the other server
# (goal: under after + 1 s). Skipped without root, /dev/fuse or
# python3-fusepy.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/.." && pwd)
SLOWFS_PY="$top/tests/fuse/slowfs.py"
. "$top/tests/fuse/slowfs.sh"
W="$BENCH_DIR/failover"
DPID=
SLOWFS_LIST="$W/slowfs.list"

cleanup() {
	# Nothing may stay blocked in the hung mount: unhang it first.
	[ -f "$W/ctl" ] && echo 0 >"$W/ctl"
	[ -n "$DPID" ] && { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	DPID=
	while mountpoint -q "$W/s1" 2>/dev/null; do
		umount -l "$W/s1" 2>/dev/null || break
	done
	slowfs_cleanup || true
	rm -f "$SLOWFS_LIST"
	return 0
}
trap cleanup EXIT

while mountpoint -q "$W/s1" 2>/dev/null; do
	umount -l "$W/s1" 2>/dev/null || break
done
rm -rf "$W"
mkdir -p "$W/a/s1" "$W/s2"
export MAILSHIFT_DB="$W/catalog.db"
printf '[failover]\nfence = true\npromote = true\nafter_failover = true\n' \
    >"$W/manual.conf"
export MAILSHIFT_CONFIG="$W/manual.conf"
"$MS" init >/dev/null
"$MS" server add mx1 --address 10.0.0.1 >/dev/null
"$MS" server add mx2 --address 10.0.0.2 >/dev/null
"$MS" pair add p1 mx1 mx2 >/dev/null
"$MS" slice add s1 --pair p1 --server mx1 --path "$W/a/s1" \
    --capacity 100G >/dev/null
"$GEN" --accounts 1000 --messages 1 --seed 3 "$W/a/s1" >/dev/null
"$MS" discover >/dev/null

i=0
: >"$W/manual.json"
while [ "$i" -lt 20 ]; do
	"$MS" --json slice failover s1 >>"$W/manual.json"
	echo >>"$W/manual.json"
	i=$((i + 1))
done
i=0
: >"$W/follow.json"
while [ "$i" -lt 20 ]; do
	to=mx2
	[ $((i % 2)) -eq 1 ] && to=mx1
	s=$(now)
	"$MS" --json slice failover s1 --to $to --follow >>"$W/follow.json"
	e=$(now)
	echo >>"$W/follow.json"
	echo "$e $s" | awk '{ printf "%.6f\n", $1 - $2 }' >>"$W/follow.times"
	i=$((i + 1))
done
/usr/bin/python3 - "$W/manual.json" "$W/follow.json" <<'EOF'
import json, statistics, sys
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
man = load(sys.argv[1])
fol = load(sys.argv[2])
print("manual failover of a slice of %d accounts, trivial hooks, median of %d:"
      % (man[0]["accounts_bumped"], len(man)))
for k, name in enumerate(s["step"] for s in man[0]["steps"]):
    print("  %-8s %8.1f ms" % (name, statistics.median(r["steps"][k]["ms"] for r in man)))
t = statistics.median(r["total_ms"] for r in man)
print("  total    %8.1f ms (goal: well under 1000 ms)" % t)
print("--follow (the resource agent's record), median of %d: %.1f ms"
      % (len(fol), statistics.median(r["total_ms"] for r in fol)))
EOF
echo "  whole command, --follow, wall clock: $(sort -n "$W/follow.times" |
    awk '{ a[NR] = $1 } END { printf "%.1f ms", 1000 * a[int((NR + 1) / 2)] }')"

if ! slowfs_usable; then
	echo "automatic failover: skipped ($SLOWFS_WHY)"
	exit 0
fi
SLOWFS_LIST="$W/slowfs.list"
runs=${FAILOVER_RUNS:-3}
r=0
while [ "$r" -lt "$runs" ]; do
	cleanup
	rm -rf "$W/auto"
	mkdir -p "$W/auto/a" "$W/auto/b" "$W/s1"
	export MAILSHIFT_DB="$W/auto/catalog.db"
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$W/auto.conf" <<EOF
[daemon]
listen = 127.0.0.1:$port
[failover]
auto = yes
fence = true
promote = umount -l "\$4" && mount --bind "$W/auto/b" "\$4"
EOF
	export MAILSHIFT_CONFIG="$W/auto.conf"
	"$MS" init >/dev/null
	"$MS" server add mx1 --address 10.0.0.1 >/dev/null
	"$MS" server add mx2 --address 10.0.0.2 >/dev/null
	"$MS" pair add p1 mx1 mx2 >/dev/null
	"$MS" slice add s1 --pair p1 --server mx1 --path "$W/s1" \
	    --capacity 100G >/dev/null
	mv "$W/s1/.mailshift-slice" "$W/auto/a/"
	cp -p "$W/auto/a/.mailshift-slice" "$W/auto/b/"
	slowfs_mount "$W/auto/a" "$W/s1" "$W/ctl" 2 >/dev/null
	"$MS" daemon >"$W/auto/daemon.log" 2>&1 &
	DPID=$!
	sleep 15
	hung=$(now)
	slowfs_set "$W/ctl" hang
	while [ "$(sqlite3 "$MAILSHIFT_DB" "SELECT server_id FROM slices")" = 1 ]; do
		sleep 0.05
	done
	flipped=$(now)
	echo "$flipped $hung" | awk '{ printf "%.2f\n", $1 - $2 }' >>"$W/auto.times"
	r=$((r + 1))
done
cleanup
echo "automatic failover (auto = yes, after = 10 s, health timeout 5 s):"
echo "  hang to flipped route: $(sort -n "$W/auto.times" | tr '\n' ' ')s" \
    "(goal: under 11 s)"
