# mailshift report on 1,000 slices x 2 years of daily snapshots (730,000
# snapshots, 20,000 accounts), their load (a daily interval per slice for
# two years, as discover records one, and hourly ones for the last day, as
# the daemon's sampler does: 753,000 loads) and 10,000 moves, in every
# format, against
# sqlite3 exporting the raw snapshots as CSV (what a user would otherwise
# feed a spreadsheet). Median of $RUNS runs each; the goal is < 1 s.
. "$(dirname "$0")/lib.sh"

dir="$BENCH_DIR/report"
export MAILSHIFT_DB="$dir/catalog.db"
if [ ! -f "$dir/ready.2" ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	"$MS" init >/dev/null
	now=$(date +%s)
	# 50 pairs of servers, 20 slices per pair, 20 accounts per slice;
	# each slice grows by its own rate with daily noise and the odd
	# cleanup, from 20% to about 55% of 4 TiB over two years.
	sqlite3 "$MAILSHIFT_DB" <<EOS
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100)
INSERT INTO servers (name, address, created)
SELECT printf('mx%03d', i), printf('10.0.%d.%d', i / 250, i % 250), $now FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 50)
INSERT INTO pairs (name, server_a, server_b, created)
SELECT printf('p%02d', i), 2 * i - 1, 2 * i, $now FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1000)
INSERT INTO slices (name, pair_id, server_id, path, capacity, created)
SELECT printf('s%04d', i), (i - 1) / 20 + 1, 2 * ((i - 1) / 20) + 1 + i % 2,
    printf('/srv/mail/s%04d', i), 4398046511104, $now - 800 * 86400 FROM k;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 19999)
INSERT INTO accounts (user, slice_id, path, bytes, files, created, updated)
SELECT printf('user%05d@example.com', i), i / 20 + 1, printf('u/%05d', i),
    2418925581107 / 20, 200000, $now, $now FROM k;
WITH RECURSIVE d(day) AS (SELECT 0 UNION ALL SELECT day + 1 FROM d
    WHERE day < 729)
INSERT INTO snapshots (ts, slice_id, bytes, files, accounts, capacity)
SELECT $now - (729 - day) * 86400 + s.id, s.id,
    879609302220 + day * (1000000000 + s.id * 2000000)
    + abs(random() % 4000000000)
    - (CASE WHEN day % 97 = s.id % 97 THEN 50000000000 ELSE 0 END),
    4000000 + day * 1000, 20, 4398046511104
FROM d, slices s;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 10000)
INSERT INTO moves (account_id, source_slice, source_path, target_slice,
    target_path, state, bytes_total, files_total, passes, attempts,
    lock_ms, error, created, updated, started, finished)
SELECT a.id, a.slice_id, a.path, a.slice_id % 1000 + 1,
    a.path || '.' || k.i, CASE WHEN k.i % 50 = 0 THEN 'failed'
    ELSE 'done' END, 5000000000, 50000, 3 + k.i % 4, k.i % 7 = 0,
    CASE WHEN k.i % 50 = 0 THEN NULL ELSE 20 + abs(random() % 200) END,
    CASE WHEN k.i % 50 = 0 THEN 'target slice full' END,
    $now - (10000 - k.i) * 6300, $now, $now - (10000 - k.i) * 6300,
    $now - (10000 - k.i) * 6300 + 600
FROM k JOIN accounts a ON a.id = (k.i * 7) % 20000 + 1;
WITH RECURSIVE d(day) AS (SELECT 0 UNION ALL SELECT day + 1 FROM d
    WHERE day < 728)
INSERT INTO loads (ts, slice_id, source, ops, bytes, ms)
SELECT $now - (729 - day) * 86400 + s.id, s.id, 'diskstats:sda1',
    (100 + day * (s.id % 10) / 10 + abs(random() % 20)) * 86400,
    (20000000 + day * 10000) * 86400, 86400000
FROM d, slices s;
WITH RECURSIVE h(hour) AS (SELECT 0 UNION ALL SELECT hour + 1 FROM h
    WHERE hour < 23)
INSERT INTO loads (ts, slice_id, source, ops, bytes, ms)
SELECT $now - (23 - hour) * 3600, s.id, 'diskstats:sda1',
    (100 + 729 * (s.id % 10) / 10 + abs(random() % 40)) * 3600,
    27000000 * 3600, 3600000
FROM h, slices s;
COMMIT;
EOS
	touch "$dir/ready.2"
fi

snaps=$(sqlite3 "$MAILSHIFT_DB" 'SELECT count(*) FROM snapshots')
moves=$(sqlite3 "$MAILSHIFT_DB" 'SELECT count(*) FROM moves')
loads=$(sqlite3 "$MAILSHIFT_DB" 'SELECT count(*) FROM loads')
sqlite3 "$MAILSHIFT_DB" 'SELECT count(*) FROM snapshots' >/dev/null	# warm
t_sqlite=$(median_time sqlite3 -csv "$MAILSHIFT_DB" "SELECT * FROM snapshots")
echo "catalog: 1000 slices, $snaps snapshots, $loads loads, $moves moves"
printf '%-44s %8ss\n' "sqlite3 -csv SELECT * FROM snapshots" "$t_sqlite"
for cmd in usage forecast moves; do
	for fmt in table csv json html; do
		t=$(median_time "$MS" report "$cmd" --format "$fmt")
		printf '%-44s %8ss  %sx sqlite3%s\n' \
		    "mailshift report $cmd --format $fmt" "$t" \
		    "$(ratio "$t" "$t_sqlite")" \
		    "$(echo "$t" | awk '{ print $1 < 1 ? "" : "  (goal < 1 s)" }')"
	done
done
"$MS" report usage --format html -o "$dir/usage.html" >/dev/null
echo "usage.html: $(wc -c <"$dir/usage.html") bytes"
