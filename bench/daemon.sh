# The daemon's own cost: CPU and memory idle for 60 s over 1,000 accounts,
# memory while it runs four moves one of which holds 200,000 messages,
# and the throughput of four moves at once against one at a time.
. "$(dirname "$0")/lib.sh"

dir="$BENCH_DIR/daemon"
rm -rf "$dir"
mkdir -p "$dir"
# Memory-backed slices, so that the disk does not hide the daemon.
sl=/dev/shm/mailshift-daemon-bench
rm -rf "$sl"
mkdir -p "$sl/s1" "$sl/s2" "$sl/s3" "$sl/s4"
export MAILSHIFT_DB="$dir/catalog.db"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[move]\nlock_grace = 0s\nsettle = 0s\n[presence]\nidle = 0s\n[daemon]\nlisten = 127.0.0.1:%s\nper_source = 4\nper_target = 4\n' "$port" >"$dir/conf"
export MAILSHIFT_CONFIG="$dir/conf"
"$MS" init >/dev/null
for s in a b c d; do "$MS" server add "$s" --address "$s" >/dev/null; done
"$MS" pair add p1 a b >/dev/null
"$MS" pair add p2 c d >/dev/null
"$MS" slice add s1 --pair p1 --server a --path "$sl/s1" --capacity 1T >/dev/null
"$MS" slice add s2 --pair p1 --server b --path "$sl/s2" --capacity 1T >/dev/null
"$MS" slice add s3 --pair p2 --server c --path "$sl/s3" --capacity 1T >/dev/null
"$MS" slice add s4 --pair p2 --server d --path "$sl/s4" --capacity 1T >/dev/null
awk 'BEGIN { print "user,slice,path,bytes,files"; for (i = 0; i < 1000; i++)
    printf "idle%04d@example.com,s%d,example.com/idle%04d,1000,10\n", i, i % 4 + 1, i }' \
    >"$dir/idle.csv"
"$MS" account import --no-check "$dir/idle.csv" >/dev/null

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }

"$MS" daemon >"$dir/daemon.log" 2>&1 &
pid=$!
sleep 2
c0=$(cpu $pid)
r0=$(rss $pid)
sleep 30
r30=$(rss $pid)
sleep 30
c1=$(cpu $pid)
r1=$(rss $pid)
hz=$(getconf CLK_TCK)
echo "idle 60 s, 1,000 accounts, no moves: CPU $(echo "$c0 $c1 $hz" | awk '{ printf "%.2f", ($2 - $1) / $3 }') s ($(echo "$c0 $c1 $hz" | awk '{ printf "%.3f", 100 * ($2 - $1) / $3 / 60 }')%), RSS ${r0} -> ${r30} -> ${r1} KiB"

# Four moves at once, one of them 200,000 messages.
"$GEN" --accounts 1 --messages 200000 --min-size 300 --max-size 2000 \
    --seed 91 --prefix big "$sl/s1" >/dev/null
"$GEN" --accounts 3 --messages 20000 --min-size 300 --max-size 4000 \
    --seed 92 --prefix mid "$sl/s2" >/dev/null
"$MS" discover s1 s2 >/dev/null 2>&1 || true
start=$(now)
"$MS" move big0001@example.net --to s3 >/dev/null
for u in mid0001@example.net mid0002@example.org mid0003@example.com; do
	"$MS" move "$u" --to s4 >/dev/null
done
peak=0
while [ "$(sqlite3 "$MAILSHIFT_DB" "SELECT count(*) FROM moves WHERE state <> 'done'")" -gt 0 ]; do
	r=$(rss $pid)
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.2
done
t4=$(echo "$(now) $start" | awk '{ printf "%.2f", $1 - $2 }')
echo "4 moves at once (200,000 + 3 x 20,000 messages): ${t4}s, daemon peak RSS ${peak} KiB"
kill -TERM $pid
wait $pid 2>/dev/null

# The same three 20,000-message moves, one at a time, then four at once.
for u in mid0001@example.net mid0002@example.org mid0003@example.com; do
	"$MS" move "$u" --to s2 --wait >/dev/null || exit 1
done
t_one() {
	for u in mid0001@example.net mid0002@example.org mid0003@example.com; do
		"$MS" move "$u" --to s3 --wait >/dev/null || exit 1
	done
}
s=$(now); t_one; t1=$(echo "$(now) $s" | awk '{ printf "%.2f", $1 - $2 }')
"$MS" daemon >>"$dir/daemon.log" 2>&1 &
pid=$!
s=$(now)
for u in mid0001@example.net mid0002@example.org mid0003@example.com; do
	"$MS" move "$u" --to s4 >/dev/null
done
while [ "$(sqlite3 "$MAILSHIFT_DB" "SELECT count(*) FROM moves WHERE state <> 'done'")" -gt 0 ]; do
	sleep 0.1
done
tp=$(echo "$(now) $s" | awk '{ printf "%.2f", $1 - $2 }')
kill -TERM $pid
wait $pid 2>/dev/null
echo "3 x 20,000-message moves: one after the other ${t1}s, in parallel in the daemon ${tp}s ($(ratio "$t1" "$tp")x)"
rm -rf "$sl"
