# The lock of a cutover with deliveries running: CUTOVERS (100) moves of
# one account of 2,000 messages back and forth between two slices, with
# [move] lock_grace = 1s and quiet = 500ms, while a writer delivers a
# message about every 50 ms (and a second between cutovers) the Maildir way (tmp/, then rename into new/)
# into whatever home the catalog's access view gives (and waits while it
# says unavailable, as an MTA retries). Prints p50, p99 and the maximum of
# the lock and of its quiet wait, against the same with quiet = 0ms (the
# final pass right after the hook) over a fifth as many cutovers. Every
# message the writer delivered is checked to be in the final home once.
. "$(dirname "$0")/lib.sh"

N=${CUTOVERS:-100}
dir="$BENCH_DIR/cutover"
sl=/dev/shm/mailshift-cutover-bench
rm -rf "$dir" "$sl"
mkdir -p "$dir" "$sl/s1" "$sl/s2"
export MAILSHIFT_DB="$dir/catalog.db"
U=user0001@example.net
"$MS" init >/dev/null
"$MS" server add a --address a >/dev/null
"$MS" server add b --address b >/dev/null
"$MS" pair add p1 a b >/dev/null
"$MS" slice add s1 --pair p1 --server a --path "$sl/s1" --capacity 1T >/dev/null
"$MS" slice add s2 --pair p1 --server b --path "$sl/s2" --capacity 1T >/dev/null
"$GEN" --accounts 1 --messages 2000 --max-size 20000 --seed 12 "$sl/s1" \
    >/dev/null
"$MS" discover >/dev/null

# The writer: one message every ~50 ms into the home the catalog gives.
cat >"$dir/writer.py" <<'EOF'
import os, sqlite3, sys, time
db, user, stop, log = sys.argv[1:5]
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
n = 0
with open(log, "w") as out:
    while not os.path.exists(stop):
        n += 1
        name = "%d.M%dP%d.bench" % (int(time.time()), n, os.getpid())
        while True:
            row = c.execute("SELECT home, unavailable FROM access "
                            "WHERE user = ?", (user,)).fetchone()
            if row is not None and not row[1]:
                try:
                    with open(os.path.join(row[0], "tmp", name), "w") as f:
                        f.write("Message-ID: <%s>\n\nbench\n" % name)
                    os.rename(os.path.join(row[0], "tmp", name),
                              os.path.join(row[0], "new", name))
                    break
                except OSError:
                    pass    # the old home gone: ask again, like a retry
            time.sleep(0.05)
        out.write(name + "\n")
        out.flush()
        time.sleep(0.05)
EOF

run() {
	quiet=$1
	count=$2
	printf '[move]\nlock_grace = 1s\nquiet = %s\nsettle = 0s\n' "$quiet" \
	    >"$dir/conf"
	export MAILSHIFT_CONFIG="$dir/conf"
	rm -f "$dir/stop"
	first=$(sqlite3 "$MAILSHIFT_DB" "SELECT coalesce(max(id), 0) FROM moves")
	/usr/bin/python3 "$dir/writer.py" "$MAILSHIFT_DB" "$U" "$dir/stop" \
	    "$dir/written-$quiet" &
	w=$!
	i=0
	while [ $i -lt "$count" ]; do
		to=s2
		[ "$(sqlite3 "$MAILSHIFT_DB" "SELECT slice FROM access")" = s2 ] &&
		    to=s1
		"$MS" move "$U" --to $to --wait >>"$dir/moves.log" 2>&1 ||
		    { echo "bench: a move failed: $(tail -3 "$dir/moves.log")"; }
		i=$((i + 1))
		sleep 1		# deliveries between cutovers too
	done
	touch "$dir/stop"
	wait $w
	sqlite3 "$MAILSHIFT_DB" "SELECT lock_ms FROM moves WHERE id > $first \
	    AND state = 'done'" | sort -n >"$dir/locks-$quiet"
	sqlite3 "$MAILSHIFT_DB" "SELECT message FROM events WHERE kind = \
	    'move.quiet' AND move_id > $first" |
	    sed 's/.*after \([0-9]*\) ms.*/\1/' | sort -n >"$dir/quiet-$quiet"
	home=$(sqlite3 "$MAILSHIFT_DB" "SELECT home FROM access")
	missing=0
	doubled=0
	while read -r m; do
		c=$(ls "$home/new" "$home/cur" | grep -c "^$m") || true
		[ "$c" -eq 0 ] && missing=$((missing + 1))
		[ "$c" -gt 1 ] && doubled=$((doubled + 1))
	done <"$dir/written-$quiet"
	pct() { awk -v p="$2" '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit }
	    i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i] }' "$1"; }
	echo "quiet = $quiet: $(wc -l <"$dir/locks-$quiet") cutovers," \
	    "$(wc -l <"$dir/written-$quiet") messages delivered during them," \
	    "$missing missing, $doubled doubled"
	printf '  %-28s p50 %5s ms  p99 %5s ms  max %5s ms\n' "lock" \
	    "$(pct "$dir/locks-$quiet" 50)" "$(pct "$dir/locks-$quiet" 99)" \
	    "$(pct "$dir/locks-$quiet" 100)"
	printf '  %-28s p50 %5s ms  p99 %5s ms  max %5s ms\n' "of it, the quiet wait" \
	    "$(pct "$dir/quiet-$quiet" 50)" "$(pct "$dir/quiet-$quiet" 99)" \
	    "$(pct "$dir/quiet-$quiet" 100)"
}
run 500ms "$N"
run 0ms $(( (N + 4) / 5 ))
echo "abandoned cutovers (retried at once by the next run): $(sqlite3 \
    "$MAILSHIFT_DB" "SELECT count(*) FROM events WHERE kind = \
    'move.unlock'" 2>/dev/null || echo '?')"
rm -rf "$sl"
