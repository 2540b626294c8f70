# mailshift report usage|forecast|moves: known snapshots and moves give
# known numbers in every format; the HTML page renders in a browser.
. "$(dirname "$0")/lib.sh"

GIB=1073741824
MIB=1048576

# Evaluate a Python expression over the CSV on stdout (rows: a list of
# dicts, by: the rows keyed by their name column).
csv_check() {
	python3 -c 'import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
by = {r.get("name", r.get("id")): r for r in rows}
if not eval(sys.argv[2]):
    sys.exit("CSV check failed: " + sys.argv[2] + "\n" + open(sys.argv[1]).read()[:1500])' \
	    "$D/out" "$1" || fail "csv_check $1"
}

# The fleet of lib.sh with accounts of known sizes: s1 6 GiB, s2 2 GiB
# (pair p1, 10 GiB each), s3 1 GiB (pair p2, 20 GiB).
sized_fleet() {
	fleet
	cat >"$D/accounts.csv" <<EOC
user,slice,path,bytes,files
alice@example.com,s1,example.com/alice,$((6 * GIB)),6000
bob@example.com,s2,example.com/bob,$((2 * GIB)),2000
carol@example.com,s3,example.com/carol,$GIB,1000
EOC
	ok account import --no-check "$D/accounts.csv"
}

# Snapshots with controlled times:
#  s1: daily for 10 days, +256 MiB a day up to 6 GiB now; the oldest one
#      is 5 GiB too high (a transient that first/last would take for a
#      shrinking slice), so only a robust fit finds the growth;
#  s2: flat 2 GiB, two snapshots 4 days apart;
#  s3: a single snapshot: not enough history.
known_snapshots() {
	now=$(date +%s)
	q "WITH RECURSIVE k(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM k
	    WHERE i < 10)
	  INSERT INTO snapshots (ts, slice_id, bytes, files, accounts, capacity)
	  SELECT $now - i * 86400, (SELECT id FROM slices WHERE name = 's1'),
	    $((6 * GIB)) - i * $((256 * MIB)) + CAST(i = 10 AS INTEGER) * $((5 * GIB)),
	    6000, 1, $((10 * GIB)) FROM k;
	  INSERT INTO snapshots (ts, slice_id, bytes, files, accounts, capacity)
	  SELECT $now - d, id, $((2 * GIB)), 2000, 1, capacity FROM slices,
	    (SELECT 5 * 86400 + 3600 AS d UNION ALL SELECT 86400 + 3600) AS ago
	  WHERE name = 's2';
	  INSERT INTO snapshots (ts, slice_id, bytes, files, accounts, capacity)
	  SELECT $now - 3600, id, $GIB, 1000, 1, capacity FROM slices
	  WHERE name = 's3';"
}

# Moves with known numbers: 20 done moves locked 10..200 ms (median 105,
# p95 190 by nearest rank, max 200), each 100 MiB in 100 s; a failed move
# whose reason has a comma and quotes; a cancelled one; one still copying.
known_moves() {
	now=$(date +%s)
	q "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k
	    WHERE i < 20)
	  INSERT INTO moves (account_id, source_slice, source_path,
	    target_slice, target_path, state, bytes_total, files_total,
	    passes, attempts, lock_ms, created, updated, started, finished)
	  SELECT a.id, a.slice_id, a.path, (SELECT id FROM slices WHERE
	    name = 's3'), a.path || '.' || i, 'done', $((100 * MIB)), 1000,
	    3, i % 2, i * 10, $now - (30 - i) * 3600, $now,
	    $now - (30 - i) * 3600, $now - (30 - i) * 3600 + 100
	  FROM k, accounts a WHERE a.\"user\" = 'alice@example.com';
	  INSERT INTO moves (account_id, source_slice, source_path,
	    target_slice, target_path, state, bytes_total, files_total,
	    passes, attempts, error, created, updated, started, finished)
	  SELECT id, slice_id, path, (SELECT id FROM slices WHERE name = 's3'),
	    path, 'failed', $GIB, 10, 2, 3,
	    'target s3 full, \"no space left\" after 3 tries',
	    $now - 3 * 3600, $now, $now - 3 * 3600, $now - 3 * 3600 + 20
	  FROM accounts WHERE \"user\" = 'bob@example.com';
	  INSERT INTO moves (account_id, source_slice, source_path,
	    target_slice, target_path, state, created, updated)
	  SELECT id, slice_id, path, (SELECT id FROM slices WHERE name = 's1'),
	    path, 'cancelled', $now - 2 * 3600, $now
	  FROM accounts WHERE \"user\" = 'carol@example.com';
	  INSERT INTO moves (account_id, source_slice, source_path,
	    target_slice, target_path, state, created, updated, started)
	  SELECT id, slice_id, path, (SELECT id FROM slices WHERE name = 's2'),
	    path || '.x', 'copying', $now - 3600, $now, $now - 3600
	  FROM accounts WHERE \"user\" = 'carol@example.com';"
}

# Loads with controlled times (both engines), each an hour's interval:
#  s1: 10 days, ending now - i days at 100 - 10 i ops/s: 100 ops/s now
#      (the only one in the 1-day load window), +10 a day; of the
#      default 1000 ops/s: 75% in 65 days, 90% in 80;
#  s2: 2000 ops/s of its own, flat at 500 ops/s over 5 days: 25%;
#  s3: none: its load is not known.
known_loads() {
	now=$(date +%s)
	q "WITH RECURSIVE k(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM k
	    WHERE i < 9)
	  INSERT INTO loads (ts, slice_id, source, ops, bytes, ms)
	  SELECT $now - i * 86400, (SELECT id FROM slices WHERE name = 's1'),
	    'diskstats:vdb', (100 - 10 * i) * 3600, CAST($MIB AS BIGINT) * 3600,
	    3600000 FROM k;
	  WITH RECURSIVE k(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM k
	    WHERE i < 4)
	  INSERT INTO loads (ts, slice_id, source, ops, bytes, ms)
	  SELECT $now - 60 - i * 86400, (SELECT id FROM slices WHERE name = 's2'),
	    'diskstats:vdc', 500 * 3600, 0, 3600000 FROM k;
	  UPDATE slices SET ops_capacity = 2000 WHERE name = 's2';"
}

# A configuration with a throttle of 10 MiB/s per move and a restore of 1
# MiB/s, flagged over an hour: s1 (6 GiB) evacuates in 614.4 s and
# restores in 6144 s (split in 2), s2 (2 GiB) in 204.8 s and 2048 s, s3
# (1 GiB) in 102.4 s and 1024 s.
evac_conf() {
	move_conf "throttle.bytes_per_second = 10M" \
	    "capacity.restore_rate = 1M" "capacity.max_restore = 1h"
}

# The value of a table line's column n (1-based) for the row named $1.
col() {
	awk -v name="$1" -v n="$2" '$1 == name { print $n }' "$D/out"
}

t_usage_known_growth() {
	sized_fleet
	known_snapshots
	ok report usage
	[ "$(head -n 1 "$D/out" | tr -s ' ')" = \
	    "SLICE PAIR SERVER STATE ACCOUNTS FILES USED CAPACITY FILL OPS/S LOAD GROWTH/DAY TO 75% TO 90% LOAD TO 75% LOAD TO 90% EVACUATE RESTORE SPLIT" ] ||
	    fail "header: $(head -n 1 "$D/out")"
	# s1: 6 GiB of 10 GiB growing 256 MiB a day: 75% (7.5 GiB) in 6
	# days, 90% (9 GiB) in 12. No load measured: "-", not 0. No
	# throttle: the evacuation is not known; the restore at the default
	# 100 MiB/s takes 61.44 s.
	grep -E '^s1 +p1 +mx1 +active +1 +6000 +6\.0 GiB +10\.0 GiB +60\.0% +- +- +\+256\.0 MiB +6\.0d +12d +- +- +unthrottled +1m 02s +-$' "$D/out" ||
	    fail "s1 line: $(cat "$D/out")"
	grep -E '^s2 .* 20\.0% +- +- +0 B +never +never +- +- +unthrottled +21s +-$' "$D/out" ||
	    fail "s2 line: $(cat "$D/out")"
	grep -E '^s3 .* 5\.0% +- +- +not enough history +- +- +- +- +unthrottled +11s +-$' "$D/out" ||
	    fail "s3 line: $(cat "$D/out")"
	# The fleet: 9 GiB of 40 GiB, +256 MiB a day: 30 GiB in 84 days,
	# 36 GiB in 108.
	grep -E '^TOTAL +3 +9000 +9\.0 GiB +40\.0 GiB +22\.5% +- +- +\+256\.0 MiB +84d +108d +- +- +unthrottled +1m 02s +-$' "$D/out" ||
	    fail "TOTAL line: $(cat "$D/out")"
	expect_out "no load measured on 3 of 3 slices in the last 1d 00h"
	expect_out "evacuation time not known for 3 slices: [throttle] sets no rate"
	expect_out "not enough history for a trend on 1 of 3 slices"

	ok report usage --json
	json_check 'j["report"] == "usage" and j["by"] == "slice" and [r["name"] for r in j["rows"]] == ["s1", "s2", "s3"]'
	json_check 'j["rows"][0]["growth_bytes_per_day"] == 256 * 2**20 and j["rows"][0]["trend"] == "growing" and j["rows"][0]["snapshots"] == 11'
	json_check 'j["rows"][0]["days_to_target"] == 6 and j["rows"][0]["days_to_hard_limit"] == 12'
	python3 - "$D/out" <<'EOP' || fail "forecast dates"
import datetime, json, sys
j = json.load(open(sys.argv[1]))
p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
now = p(j["generated"])
s1 = j["rows"][0]
assert p(s1["target_date"]) - now == datetime.timedelta(days=6), s1
assert p(s1["hard_limit_date"]) - now == datetime.timedelta(days=12), s1
assert p(j["total"]["target_date"]) - now == datetime.timedelta(days=84)
EOP
	json_check 'j["rows"][1]["trend"] == "flat" and j["rows"][1]["days_to_target"] is None and j["rows"][1]["target_date"] is None'
	json_check 'j["rows"][2]["trend"] == "not enough history" and j["rows"][2]["growth_bytes_per_day"] is None and j["rows"][2]["snapshots"] == 1'
	json_check 'j["total"]["used"] == 9 * 2**30 and j["total"]["capacity"] == 40 * 2**30 and j["total"]["growth_bytes_per_day"] == 256 * 2**20 and j["total"]["days_to_target"] == 84'

	ok report usage --format csv
	csv_check 'len(rows) == 4 and [r["level"] for r in rows] == ["slice"] * 3 + ["fleet"]'
	csv_check 'by["s1"]["growth_bytes_per_day"] == str(256 * 2**20) and by["s1"]["used_bytes"] == str(6 * 2**30) and float(by["s1"]["days_to_target"]) == 6 and float(by["s1"]["fill"]) == 0.6'
	csv_check 'by["s1"]["target_date"].endswith("Z") and "T" in by["s1"]["target_date"]'
	csv_check 'by["s3"]["trend"] == "not enough history" and by["s3"]["growth_bytes_per_day"] == "" and by["s3"]["days_to_target"] == ""'
	csv_check 'by["fleet"]["capacity_bytes"] == str(40 * 2**30) and float(by["fleet"]["days_to_hard_limit"]) == 108'
}

t_usage_by_pair_and_server() {
	sized_fleet
	known_snapshots
	ok report usage --by pair
	# p1 = s1 + s2: 8 GiB of 20 GiB, +256 MiB a day: 15 GiB in 28
	# days, 18 GiB in 40.
	grep -E '^p1 +2 +2 +8000 +8\.0 GiB +20\.0 GiB +40\.0% +- +- +\+256\.0 MiB +28d +40d +- +- +unthrottled +1m 02s +0$' "$D/out" ||
	    fail "p1 line: $(cat "$D/out")"
	grep -E '^p2 +1 .* not enough history +- +- +- +- +unthrottled +11s +0$' "$D/out" ||
	    fail "p2 line: $(cat "$D/out")"
	ok report usage --by server --json
	json_check '[r["name"] for r in j["rows"]] == ["mx1", "mx2", "mx3"] and j["rows"][0]["slices"] == 1 and j["rows"][0]["growth_bytes_per_day"] == 256 * 2**20'
	ok report usage --by pair --format csv
	csv_check '[r["level"] for r in rows] == ["pair", "pair", "fleet"] and by["p1"]["slices"] == "2" and float(by["p1"]["days_to_target"]) == 28'
}

t_usage_range() {
	sized_fleet
	known_snapshots
	# The last 4.5 days: s1 keeps 5 daily snapshots (no transient), s2
	# keeps one: not enough history any more.
	ok report usage --since 108h --json
	json_check 'j["since"] is not None and j["until"] is None'
	json_check 'j["rows"][0]["snapshots"] == 5 and j["rows"][0]["growth_bytes_per_day"] == 256 * 2**20'
	json_check 'j["rows"][1]["snapshots"] == 1 and j["rows"][1]["trend"] == "not enough history"'
	until=$(python3 -c 'import time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) - 2 * 86400 + 1800)))')
	ok report usage --until "$until" --json
	json_check 'j["rows"][0]["snapshots"] == 9 and j["rows"][2]["snapshots"] == 0'
	# A whole-day --until includes that day's last second.
	ok report usage --since 2020-01-01 --until 2020-01-31 --json
	json_check 'j["since"] == "2020-01-01T00:00:00Z" and j["until"] == "2020-01-31T23:59:59Z" and all(r["snapshots"] == 0 for r in j["rows"])'
	ok report usage --since 2020-01-01 --until 2020-01-31
	expect_out "not enough history for a trend on 3 of 3 slices (snapshots between 2020-01-01T00:00:00Z and 2020-01-31T23:59:59Z)"
}

t_usage_fill_bar_on_terminal() {
	sized_fleet
	known_snapshots
	command -v script >/dev/null || { echo "no script(1)"; return 0; }
	script -qec "$MS report usage" /dev/null >"$D/out" 2>&1 ||
	    fail "report on a terminal: $(cat "$D/out")"
	expect_out "60.0% [######----]"
	expect_out "20.0% [##--------]"
	# Not on a terminal: no bars.
	ok report usage
	grep -q '\[#' "$D/out" && fail "bars without a terminal"
	return 0
}

t_forecast() {
	sized_fleet
	known_snapshots
	ok report forecast
	# Soonest first; never and unknown after, by name.
	[ "$(awk 'NR > 1 && $1 != "" { print $1 }' "$D/out" | head -n 4 | tr '\n' ' ')" = "s1 s2 s3 TOTAL " ] ||
	    fail "order: $(cat "$D/out")"
	today6=$(python3 -c 'import time; print(time.strftime("%Y-%m-%d", time.gmtime(time.time() + 6 * 86400)))')
	grep -E "^s1 +60\.0% +\+256\.0 MiB +6\.0d +$today6 +12d +[0-9-]{10} +285\.0% +- +- +- +- +-$" "$D/out" ||
	    fail "s1 forecast line: $(cat "$D/out")"
	# In 90 days: s1 6 + 22.5 GiB, s2 2, s3 1 = 31.5 GiB; below 75%
	# needs 42 GiB: 2 GiB more than the 40 GiB there.
	expect_out "in 90 days the fleet would use 31.5 GiB of 40.0 GiB (78.8%); staying below 75% needs 42.0 GiB of capacity: add 2.0 GiB"
	ok report forecast --days 30
	expect_out "in 30 days the fleet would use 16.5 GiB of 40.0 GiB (41.2%); staying below 75% needs 22.0 GiB of capacity: the 40.0 GiB there is enough"
	expect_out "FILL IN 30D"

	ok report forecast --json
	json_check 'j["report"] == "forecast" and j["days"] == 90 and [r["name"] for r in j["rows"]] == ["s1", "s2", "s3"]'
	json_check 'j["total"]["projected_used"] == int(31.5 * 2**30) and j["total"]["needed_capacity"] == 42 * 2**30 and j["total"]["additional_capacity"] == 2 * 2**30'
	json_check 'j["rows"][0]["projected_used"] == int(28.5 * 2**30) and j["rows"][0]["additional_capacity"] == 28 * 2**30'
	ok report forecast --format csv
	csv_check '[r["name"] for r in rows] == ["s1", "s2", "s3", "fleet"] and by["fleet"]["additional_capacity_bytes"] == str(2 * 2**30)'

	# Other thresholds: s1 is past 50% already, 80% in 8 days.
	ok report forecast --target-fill 50 --hard-limit 80%
	grep -E '^s1 +60\.0% +\+256\.0 MiB +now +[0-9-]{10} +8\.0d ' "$D/out" ||
	    fail "s1 at 50/80: $(cat "$D/out")"
	ok report forecast --by pair --days 10 --json
	json_check '[r["name"] for r in j["rows"]] == ["p1", "p2"] and j["rows"][0]["projected_used"] == int(10.5 * 2**30)'
}

t_usage_load_evacuation() {
	sized_fleet
	known_snapshots
	known_loads
	evac_conf
	ok report usage
	grep -E '^s1 +p1 +mx1 +active +1 +6000 +6\.0 GiB +10\.0 GiB +60\.0% +100 +10\.0% +\+256\.0 MiB +6\.0d +12d +65d +80d +10m 15s +1h 42m +2$' "$D/out" ||
	    fail "s1 line: $(cat "$D/out")"
	grep -E '^s2 .* 20\.0% +500 +25\.0% +0 B +never +never +never +never +3m 25s +34m 08s +-$' "$D/out" ||
	    fail "s2 line: $(cat "$D/out")"
	grep -E '^s3 .* 5\.0% +- +- +not enough history +- +- +- +- +1m 43s +17m 04s +-$' "$D/out" ||
	    fail "s3 line: $(cat "$D/out")"
	# The fleet's load: s1 + s2, 600 of their 3000 ops/s, +10 a day:
	# 2250 in 165 days, 2700 in 210; the longest times; one flagged.
	grep -E '^TOTAL +3 +9000 +9\.0 GiB +40\.0 GiB +22\.5% +600 +20\.0% +\+256\.0 MiB +84d +108d +165d +210d +10m 15s +1h 42m +1 flagged$' "$D/out" ||
	    fail "TOTAL line: $(cat "$D/out")"
	expect_out "no load measured on 1 of 3 slices in the last 1d 00h"
	expect_out "1 slice takes longer than 1h 00m ([capacity] max_restore) to evacuate or restore; split it into the SPLIT count of slices: s1"
	grep -q 'evacuation time not known' "$D/out" && fail "unknown times"
	if command -v script >/dev/null; then
		script -qec "$MS report usage" /dev/null >"$D/out" 2>&1 ||
		    fail "report on a terminal: $(cat "$D/out")"
		expect_out "10.0% [#---------]"
		expect_out "25.0% [###-------]"
	fi

	ok report usage --json
	json_check 'j["load_target"] == 0.75 and j["load_hard_limit"] == 0.9 and j["restore_rate"] == 2**20 and j["max_restore_seconds"] == 3600 and j["evacuation_streams"] == 1'
	json_check 'j["rows"][0]["ops_per_second"] == 100 and j["rows"][0]["load"] == 0.1 and j["rows"][0]["ops_capacity"] == 1000 and j["rows"][0]["load_bytes_per_second"] == 2**20'
	json_check 'j["rows"][0]["load_trend"] == "growing" and j["rows"][0]["load_growth_ops_per_day"] == 10 and j["rows"][0]["days_to_load_target"] == 65 and j["rows"][0]["days_to_load_hard_limit"] == 80'
	json_check 'j["rows"][0]["evacuation_seconds"] == 615 and j["rows"][0]["evacuation"] == "ok" and j["rows"][0]["restore_seconds"] == 6144 and j["rows"][0]["flagged"] is True and j["rows"][0]["split_into"] == 2'
	json_check 'j["rows"][1]["ops_capacity"] == 2000 and j["rows"][1]["load"] == 0.25 and j["rows"][1]["load_trend"] == "flat" and j["rows"][1]["days_to_load_target"] is None and j["rows"][1]["flagged"] is False and j["rows"][1]["split_into"] == 1'
	json_check 'j["rows"][2]["ops_per_second"] is None and j["rows"][2]["load"] is None and j["rows"][2]["load_trend"] == "not measured" and j["rows"][2]["load_target_date"] is None and j["rows"][2]["evacuation_seconds"] == 103'
	json_check 'j["total"]["ops_per_second"] == 600 and j["total"]["load_slices"] == 2 and j["total"]["ops_capacity"] == 4000 and j["total"]["days_to_load_target"] == 165 and j["total"]["flagged_slices"] == 1 and j["total"]["evacuation_seconds"] == 615'
	python3 - "$D/out" <<'EOP' || fail "load dates"
import datetime, json, sys
j = json.load(open(sys.argv[1]))
p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
now = p(j["generated"])
s1 = j["rows"][0]
assert p(s1["load_target_date"]) - now == datetime.timedelta(days=65), s1
assert p(s1["load_hard_limit_date"]) - now == datetime.timedelta(days=80), s1
EOP

	ok report usage --format csv
	csv_check 'list(rows[0].keys())[:20] == ["level", "name", "pair", "server", "state", "slices", "accounts", "files", "used_bytes", "capacity_bytes", "fill", "snapshots", "first_snapshot", "last_snapshot", "trend", "growth_bytes_per_day", "days_to_target", "target_date", "days_to_hard_limit", "hard_limit_date"]'
	csv_check 'float(by["s1"]["ops_per_second"]) == 100 and float(by["s1"]["load"]) == 0.1 and float(by["s1"]["days_to_load_target"]) == 65 and by["s1"]["load_target_date"].endswith("Z")'
	csv_check 'by["s1"]["evacuation_seconds"] == "615" and by["s1"]["restore_seconds"] == "6144" and by["s1"]["flagged"] == "1" and by["s1"]["split_into"] == "2"'
	csv_check 'by["s3"]["ops_per_second"] == "" and by["s3"]["load"] == "" and by["s3"]["load_trend"] == "not measured" and by["s3"]["days_to_load_target"] == ""'
	csv_check 'float(by["fleet"]["ops_per_second"]) == 600 and by["fleet"]["load_slices"] == "2" and by["fleet"]["flagged"] == "1" and by["fleet"]["split_into"] == ""'

	ok report usage --by pair --json
	json_check 'j["rows"][0]["name"] == "p1" and j["rows"][0]["ops_per_second"] == 600 and j["rows"][0]["days_to_load_target"] == 165 and j["rows"][0]["flagged_slices"] == 1'
	json_check 'j["rows"][1]["name"] == "p2" and j["rows"][1]["ops_per_second"] is None and j["rows"][1]["load_slices"] == 0'

	# Without a throttle: not known, said so, never 0.
	unset MAILSHIFT_CONFIG
	ok report usage --json
	json_check 'all(r["evacuation_seconds"] is None and r["evacuation"] == "unthrottled" and r["unthrottled"] == "[throttle]" for r in j["rows"])'
}

t_forecast_load() {
	sized_fleet
	known_snapshots
	known_loads
	ok report forecast
	[ "$(head -n 1 "$D/out" | tr -s ' ')" = \
	    "SLICE FILL GROWTH/DAY TO 75% 75% ON TO 90% 90% ON FILL IN 90D LOAD LOAD/DAY LOAD 75% ON LOAD 90% ON LOAD IN 90D" ] ||
	    fail "header: $(head -n 1 "$D/out")"
	d65=$(python3 -c 'import time; print(time.strftime("%Y-%m-%d", time.gmtime(time.time() + 65 * 86400)))')
	d80=$(python3 -c 'import time; print(time.strftime("%Y-%m-%d", time.gmtime(time.time() + 80 * 86400)))')
	# s1 in 90 days: 100 + 900 ops/s = 100% of its capacity.
	grep -E "^s1 +60\.0% +\+256\.0 MiB +6\.0d .* 285\.0% +10\.0% +\+10/s +$d65 +$d80 +100\.0%$" "$D/out" ||
	    fail "s1 forecast line: $(cat "$D/out")"
	grep -E '^s2 .* 25\.0% +0/s +never +never +25\.0%$' "$D/out" ||
	    fail "s2 forecast line: $(cat "$D/out")"
	grep -E '^s3 .* +- +- +- +- +-$' "$D/out" ||
	    fail "s3 forecast line: $(cat "$D/out")"
	expect_out "in 90 days the fleet's load would be 1500 ops/s of 3000 ops/s on the 2 slices measured (50.0%)"
	# Bytes need 2 GiB more (see t_forecast): one slice of the median
	# active 10 GiB, by the day the fleet's fill crosses 75%.
	d84=$(python3 -c 'import time; print(time.strftime("%Y-%m-%d", time.gmtime(time.time() + 84 * 86400)))')
	expect_out "to stay below 75% fill and 75% load for 90 days: add 1 slice of 10.0 GiB and 1000 ops/s by $d84 (1 for the bytes, 0 for the load)"

	# 200 days: the load reaches 2100 + 500 ops/s, over 75% of 3000:
	# 467 ops/s more, one slice of 1000 or five of 100 ops/s; the bytes
	# (59 GiB to hold below 75%: 38.7 GiB more) four of 10 GiB, two
	# of 20 GiB; by day 84 when the bytes cross first.
	ok report forecast --days 200 --json
	json_check 'j["slice_size"] == 10 * 2**30 and j["slice_ops"] == 1000'
	json_check 'j["total"]["add_slices"]["count"] == 4 and j["total"]["add_slices"]["for_bytes"] == 4 and j["total"]["add_slices"]["for_load"] == 1 and j["total"]["add_slices"]["days"] == 84'
	json_check 'j["total"]["projected_ops_per_second"] == 2600 and j["total"]["days_to_load_target"] == 165'
	json_check '[r["name"] for r in j["rows"]] == ["s1", "s2", "s3"] and j["rows"][0]["add_slices"]["for_load"] == 2'
	ok report forecast --days 200 --slice-size 20G --slice-ops 100 --format csv
	csv_check 'by["fleet"]["add_slices"] == "5" and by["fleet"]["add_slices_for_bytes"] == "2" and by["fleet"]["add_slices_for_load"] == "5" and by["fleet"]["add_by_date"].endswith("Z")'
	csv_check 'float(by["fleet"]["projected_ops_per_second"]) == 2600 and by["fleet"]["additional_capacity_bytes"] != ""'
	csv_check 'list(rows[0].keys())[20:23] == ["projected_used_bytes", "needed_capacity_bytes", "additional_capacity_bytes"]'
	ok report forecast --days 200 --slice-size 20G --slice-ops 100
	expect_out "add 5 slices of 20.0 GiB and 100 ops/s by $d84 (2 for the bytes, 5 for the load)"

	# A slice about to hit its load limit comes first: s3 at 850 ops/s,
	# +50 a day: 900 tomorrow, before s1's bytes (12 days).
	now=$(date +%s)
	q "INSERT INTO loads (ts, slice_id, source, ops, bytes, ms)
	  SELECT $now - 86400, id, 'diskstats:vdd', 800 * 3600, 0, 3600000
	  FROM slices WHERE name = 's3';
	  INSERT INTO loads (ts, slice_id, source, ops, bytes, ms)
	  SELECT $now, id, 'diskstats:vdd', 850 * 3600, 0, 3600000
	  FROM slices WHERE name = 's3';"
	ok report forecast --json
	json_check '[r["name"] for r in j["rows"]] == ["s3", "s1", "s2"] and j["rows"][0]["days_to_load_hard_limit"] == 1'
}

t_slice_show_evacuation() {
	sized_fleet
	evac_conf
	ok slice show s1
	expect_out "evacuation     10m 15s from now at the daemon's schedule (1 move at once)"
	expect_out "restore        1h 42m at 1.0 MiB/s ([capacity] restore_rate)"
	expect_out "max restore    over 1h 00m ([capacity] max_restore): split it into 2 slices"
	ok slice show s3
	expect_out "restore        17m 04s at 1.0 MiB/s"
	expect_out "max restore    within 1h 00m ([capacity] max_restore)"
	ok --json slice show s1
	json_check 'j["evacuation_seconds"] == 615 and j["evacuation"] == "ok" and j["restore_seconds"] == 6144 and j["flagged"] is True and j["split_into"] == 2 and j["max_restore_seconds"] == 3600'
	# Two moves at once out of a slice, but s1 holds one account: one
	# move; with a second account (2 GiB), two: 8 GiB at 20 MiB/s.
	move_conf "throttle.bytes_per_second = 10M" "daemon.per_source = 2"
	ok --json slice show s1
	json_check 'j["evacuation_seconds"] == 615 and j["evacuation_streams"] == 1'
	printf 'user,slice,path,bytes,files\ndave@example.com,s1,example.com/dave,%s,10\n' \
	    $((2 * GIB)) >"$D/more.csv"
	ok account import --no-check "$D/more.csv"
	ok --json slice show s1
	json_check 'j["evacuation_seconds"] == 410 and j["evacuation_streams"] == 2'
	unset MAILSHIFT_CONFIG
	ok slice show s1
	expect_out "evacuation     not known: [throttle] sets no rate"
	ok --json slice show s1
	json_check 'j["evacuation_seconds"] is None and j["evacuation"] == "unthrottled" and j["restore_seconds"] == 82 and j["flagged"] is False'
}

t_moves() {
	sized_fleet
	known_moves
	ok report moves
	expect_out "23 moves: 20 done, 1 failed, 1 cancelled, 1 open"
	expect_out "moved 2.0 GiB in 20000 files in 33m 20s (average 1.0 MiB/s), 62 passes, 13 retries"
	expect_out "cutover lock over 20 done moves: median 105 ms, p95 190 ms, max 200 ms"
	expect_out "target s3 full, \"no space left\" after 3 tries"
	grep -E '^ +1 +alice@example.com +s1 +s3 +done +[0-9T:Z-]+ +100\.0 MiB +1000 +1m 40s +1\.0 MiB/s +3 +10 ms +1 +-$' "$D/out" ||
	    fail "move 1 line: $(cat "$D/out")"

	ok report moves --json
	json_check 'len(j["moves"]) == 23 and j["moves"][0]["duration_seconds"] == 100 and j["moves"][0]["rate_bytes_per_second"] == 1048576'
	json_check 'j["total"]["lock_ms"] == {"count": 20, "median": 105, "p95": 190, "max": 200}'
	json_check 'j["total"]["done"] == 20 and j["total"]["bytes"] == 20 * 100 * 2**20 and j["total"]["duration_seconds"] == 2000 and j["total"]["retries"] == 13'
	json_check 'j["total"]["failures"] == [{"id": 21, "user": "bob@example.com", "finished": j["moves"][20]["finished"], "error": "target s3 full, \"no space left\" after 3 tries"}]'
	json_check 'j["moves"][22]["state"] == "copying" and j["moves"][22]["duration_seconds"] is None and j["moves"][22]["lock_ms"] is None'
	# A failed move took 20 s but moved nothing: no rate.
	json_check 'j["moves"][20]["duration_seconds"] == 20 and j["moves"][20]["rate_bytes_per_second"] is None'

	ok report moves --format csv
	csv_check 'len(rows) == 24 and rows[-1]["level"] == "total" and rows[0]["level"] == "move"'
	csv_check 'rows[-1]["lock_median_ms"] == "105" and rows[-1]["lock_p95_ms"] == "190" and rows[-1]["lock_max_ms"] == "200" and rows[-1]["failed"] == "1"'
	csv_check 'by["21"]["error"] == "target s3 full, \"no space left\" after 3 tries" and by["21"]["state"] == "failed"'
	csv_check 'by["1"]["duration_seconds"] == "100" and by["1"]["bytes"] == str(100 * 2**20) and by["1"]["created"].endswith("Z")'

	# The last 2.5 hours: the cancelled and the copying move.
	ok report moves --since 150m --json
	json_check '[m["state"] for m in j["moves"]] == ["cancelled", "copying"] and j["total"]["lock_ms"]["median"] is None'
	ok report moves --since 150m
	expect_out "cutover lock: no done move yet"
	ok report moves --until 2000-01-01
	expect_out "no moves created until 2000-01-01T23:59:59Z"
}

t_empty_catalog() {
	ok init
	ok report usage
	expect_out "no slices in the catalog yet"
	ok report usage --json
	json_check 'j["rows"] == [] and j["total"]["used"] == 0 and j["total"]["growth_bytes_per_day"] is None'
	ok report usage --format csv
	csv_check 'len(rows) == 1 and rows[0]["level"] == "fleet" and rows[0]["trend"] == "not enough history"'
	ok report forecast
	expect_out "no slices in the catalog yet"
	ok report forecast --json
	json_check 'j["rows"] == [] and j["total"]["additional_capacity"] == 0'
	ok report moves
	expect_out "no moves in the catalog yet"
	ok report moves --format csv
	csv_check 'len(rows) == 1 and rows[0]["level"] == "total" and rows[0]["moves"] == "0"'
	ok report usage --format html
	expect_out "No slices in the catalog yet"
	ok report moves --format html
	expect_out "No moves created"
}

t_one_snapshot() {
	fleet
	mkbox "$D/s1/example.com/alice" 3
	mkbox "$D/s3/example.net/carol" 1
	ok discover
	[ "$(q 'SELECT count(*) FROM snapshots')" -eq 3 ] || fail "snapshots"
	ok report usage
	expect_out "not enough history for a trend on 3 of 3 slices"
	grep -E '^s1 .* not enough history +- +- +- +- +unthrottled +1s +-$' "$D/out" ||
	    fail "s1: $(cat "$D/out")"
	ok report usage --json
	json_check 'all(r["trend"] == "not enough history" and r["growth_bytes_per_day"] is None and r["days_to_target"] is None and r["snapshots"] == 1 for r in j["rows"])'
	json_check 'j["rows"][0]["accounts"] == 1 and j["rows"][0]["files"] == 3'
	ok report forecast
	expect_out "(no trend yet: not enough history)"
	ok report forecast --format html -o "$D/r.html"
	grep -q 'not enough history (1 snapshot)' "$D/r.html" ||
	    fail "html lacks the one-snapshot note"
}

t_bad_arguments() {
	sized_fleet
	known_snapshots
	before=$(catalog_sum)
	for args in "--since yesterday" "--until 2026-02-31" \
	    "--since 2026-11-01T25:00:00Z" "--since 30" "--since 30y" \
	    "--format xml" "--by rack" "--target-fill 95 --hard-limit 90" \
	    "--target-fill 0" "--hard-limit 120" "--days 30" "extra" \
	    "--bogus" "--json --format csv" "--since 2026-11-02 --until 2026-11-01"; do
		# shellcheck disable=SC2086
		ms report usage $args
		expect_rc 2
		expect_one_error
		expect_err "usage: mailshift report usage"
	done
	ms report usage --since yesterday
	expect_err "--since: bad time 'yesterday'; give a date (2026-11-01), a UTC time (2026-11-01T00:00:00Z) or an age (30d, 12h, 2w)"
	ms report usage --format xml
	expect_err "unknown format 'xml'; use table, csv, json or html"
	ms report forecast --days 0
	expect_rc 2
	expect_err "--days: give a number of days from 1 to 36500, not '0'"
	ms report forecast --days many
	expect_rc 2
	ms report moves --by pair
	expect_rc 2
	expect_err "--by applies to 'report usage' and 'report forecast', not to moves"
	ms report moves --days 3
	expect_rc 2
	for args in "--slice-size 0" "--slice-size big" "--slice-ops 0" \
	    "--slice-ops -5" "--slice-ops 12x"; do
		# shellcheck disable=SC2086
		ms report forecast $args
		expect_rc 2
		expect_one_error
	done
	ms report forecast --slice-ops 0
	expect_err "--slice-ops: give the ops per second a slice to add serves at 100% load, e.g. 1000, not '0'"
	ms report usage --slice-size 4T
	expect_rc 2
	expect_err "--slice-size applies to 'report forecast'"
	ms report usage -o
	expect_rc 2
	expect_err "option -o needs a value"
	ms report usage -o ""
	expect_rc 2
	ms report
	expect_rc 2
	expect_err "usage: mailshift report usage"
	ms report nothing
	expect_rc 2
	[ "$(catalog_sum)" = "$before" ] || fail "a bad command changed the catalog"
	# No catalog: an operation failure, not a usage error.
	ms --db "$D/none.db" report usage
	expect_rc 1
	expect_one_error
}

t_output_file() {
	sized_fleet
	known_moves
	ok report moves --format csv
	cp "$D/out" "$D/stdout.csv"
	ok report moves --format csv -o "$D/moves.csv"
	expect_out "csv report written to $D/moves.csv"
	cmp "$D/stdout.csv" "$D/moves.csv" || fail "file differs from stdout"
	# Replaced whole, no temporary file left behind.
	echo stale >"$D/moves.json"
	ok report moves --json -o "$D/moves.json"
	[ ! -s "$D/out" ] || fail "--json -o printed: $(cat "$D/out")"
	python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); assert j["total"]["moves"] == 23' \
	    "$D/moves.json" || fail "moves.json"
	[ "$(find "$D" -maxdepth 1 -name 'moves.*.*' | wc -l)" -eq 0 ] ||
	    fail "temporary files left: $(ls "$D")"
	ok report usage --output "$D/usage.txt"
	grep -q '^TOTAL' "$D/usage.txt" || fail "usage.txt: $(cat "$D/usage.txt")"
	# A symlink is followed, a FIFO written in place: neither replaced.
	ln -s usage.txt "$D/link.txt"
	ok report usage --format csv -o "$D/link.txt"
	[ -L "$D/link.txt" ] || fail "the symlink was replaced"
	head -n 1 "$D/usage.txt" | grep -q '^level,name,' ||
	    fail "usage.txt: $(cat "$D/usage.txt")"
	mkfifo "$D/fifo"
	cat "$D/fifo" >"$D/from-fifo" &
	ok report moves --format csv -o "$D/fifo"
	wait
	[ -p "$D/fifo" ] || fail "the FIFO was replaced"
	cmp "$D/stdout.csv" "$D/from-fifo" || fail "FIFO got other data"
	ms report usage -o "$D"
	expect_rc 1
	expect_err "cannot write $D: it is a directory"
	ms report usage -o "$D/no/such/dir/usage.txt"
	expect_rc 1
	expect_one_error
	expect_err "cannot create $D/no/such/dir/usage.txt"
}

# Decode a PNG (8-bit RGB or RGBA, as Chromium writes it) and check that
# the page is not blank and that the charts' colours were painted.
png_check() {
	python3 - "$1" "${2:-}" <<'EOP'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
counts = {"nonwhite": 0, "blue": 0, "green": 0, "purple": 0}
i = 0
for y in range(h):
    f = raw[i]; i += 1
    line = bytearray(raw[i:i + stride]); i += stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[x] = (line[x] + pr) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        if r < 240 or g < 240 or bl < 240:
            counts["nonwhite"] += 1
        if abs(r - 0x1c) < 24 and abs(g - 0x7e) < 24 and abs(bl - 0xd6) < 24:
            counts["blue"] += 1
        if abs(r - 0x2f) < 24 and abs(g - 0x9e) < 24 and abs(bl - 0x44) < 24:
            counts["green"] += 1
        if abs(r - 0x70) < 24 and abs(g - 0x48) < 24 and abs(bl - 0xe8) < 24:
            counts["purple"] += 1
    prev = line
print(w, h, counts)
assert counts["nonwhite"] > w * h // 50, "page looks blank"
assert counts["blue"] > 300, "no usage line painted"
assert counts["green"] > 300, "no fill bar painted"
if sys.argv[2] == "load":
    assert counts["purple"] > 300, "no load line painted"
EOP
}

t_html() {
	sized_fleet
	known_snapshots
	known_moves
	ok report usage --format html -o "$D/report.html"
	expect_out "html report written to $D/report.html"
	[ "$(find "$D" -maxdepth 1 -name 'report.html*' | wc -l)" -eq 1 ] ||
	    fail "not one file: $(ls "$D")"
	f="$D/report.html"
	head -c 15 "$f" | grep -q '<!DOCTYPE html>' || fail "not HTML"
	# Charts: the fleet, the fill bars, usage and load per slice.
	[ "$(grep -o '<svg' "$f" | wc -l)" -eq 8 ] ||
	    fail "expected 8 charts, got $(grep -o '<svg' "$f" | wc -l)"
	[ "$(grep -o '<svg[^>]*class="load"' "$f" | wc -l)" -eq 3 ] ||
	    fail "expected 3 load charts"
	[ "$(grep -o 'no load measured</text>' "$f" | wc -l)" -eq 3 ] ||
	    fail "an unmeasured load is drawn"
	[ "$(grep -o '<svg' "$f" | wc -l)" -eq "$(grep -o '</svg>' "$f" | wc -l)" ] ||
	    fail "unbalanced svg"
	grep -q '<polyline' "$f" || fail "no usage line"
	grep -q 'stroke-dasharray="6 4"' "$f" || fail "no dashed forecast"
	grep -q '90% on ' "$f" || fail "forecast not drawn to the hard limit"
	grep -q '<table>' "$f" || fail "no table"
	grep -q '<style>' "$f" || fail "no inline CSS"
	for bad in http '<script' 'src=' '@import' 'url(' '<link' '@font-face'; do
		! grep -qi -- "$bad" "$f" || fail "external reference '$bad'"
	done
	python3 - "$f" <<'EOP' || fail "HTML does not parse"
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.text = [], ""
    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br", "line", "rect", "circle", "polyline"):
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        pass
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
    def handle_data(self, d):
        self.text += d
p = P()
p.feed(open(sys.argv[1]).read())
assert p.stack == [], p.stack
for s in ("Fleet usage over time", "Fill per slice", "s1", "s2", "s3",
          "not enough history", "+256.0 MiB"):
    assert s in p.text, s
EOP
	ok report moves --format html -o "$D/moves.html"
	grep -q 'median 105 ms' "$D/moves.html" || fail "moves page lacks the median"
	grep -q 'target s3 full, &quot;no space left&quot; after 3 tries' \
	    "$D/moves.html" || fail "moves page lacks the escaped failure"
	! grep -qi http "$D/moves.html" || fail "moves page refers to http"
}

t_html_load() {
	sized_fleet
	known_snapshots
	known_loads
	evac_conf
	ok report usage --format html -o "$D/usage.html"
	f="$D/usage.html"
	[ "$(grep -o '<svg' "$f" | wc -l)" -eq 8 ] ||
	    fail "expected 8 charts, got $(grep -o '<svg' "$f" | wc -l)"
	# A load chart beside each usage chart: s1 and s2 drawn, s3 not
	# measured.
	[ "$(grep -o '<div class="pair">' "$f" | wc -l)" -eq 3 ] ||
	    fail "not one pair of charts per slice"
	[ "$(grep -o '<polyline fill="none" stroke="#7048e8"' "$f" | wc -l)" -eq 2 ] ||
	    fail "expected 2 load lines"
	[ "$(grep -o 'no load measured</text>' "$f" | wc -l)" -eq 1 ] ||
	    fail "expected s3 alone without load"
	grep -q 's1 load <span class="ok">10.0%</span>' "$f" ||
	    fail "s1 load title"
	grep -q '100 of 1000 ops/s, +10/s a day, 75% 65d, 90% 80d' "$f" ||
	    fail "s1 load line"
	# The evacuation table: every slice, the flagged one first and
	# marked, with its split.
	grep -q '<h2>Evacuation and restore per slice</h2>' "$f" ||
	    fail "no evacuation section"
	python3 - "$f" <<'EOP' || fail "evacuation table"
import re, sys
page = open(sys.argv[1]).read()
t = page[page.index('<table class="evac">'):]
t = t[:t.index('</table>')]
rows = re.findall(r'<tr( class="flagged")?><td class="l">(s\d)</td>(.*?)</tr>', t)
assert [r[1] for r in rows] == ["s1", "s2", "s3"], rows
assert rows[0][0] and not rows[1][0] and not rows[2][0], rows
assert '10m 15s' in rows[0][2] and '<td class="bad">1h 42m</td>' in rows[0][2], rows[0]
assert 'split into 2' in rows[0][2] and '34m 08s' in rows[1][2], rows
assert '1 of 3 slices</b> take longer than 1h 00m' in page
EOP
	grep -q '<b>20.0%</b><span>600 of 3000 ops/s, 2 slices measured' "$f" ||
	    fail "fleet load card"
	ok report forecast --format html -o "$D/forecast.html"
	grep -q '<span>slices to add</span><b>1</b><span>of 10.0 GiB and 1000 ops/s, by ' \
	    "$D/forecast.html" || fail "slices to add card"
	grep -q '<th>slices to add</th>' "$D/forecast.html" ||
	    fail "forecast table lacks slices to add"
	command -v chromium >/dev/null 2>&1 || return 0
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$(mktemp -d "$D/chromium.XXXXXX")" \
	    --screenshot="$D/shot.png" --window-size=1300,3200 \
	    "file://$f" >"$D/chromium.log" 2>&1 ||
	    fail "chromium failed: $(tail -n 5 "$D/chromium.log")"
	png_check "$D/shot.png" load || fail "screenshot check"
}

t_html_renders() {
	sized_fleet
	known_snapshots
	ok report usage --format html -o "$D/report.html"
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$(mktemp -d "$D/chromium.XXXXXX")" \
	    --screenshot="$D/shot.png" --window-size=1200,1600 \
	    "file://$D/report.html" >"$D/chromium.log" 2>&1 ||
	    fail "chromium failed: $(tail -n 5 "$D/chromium.log")"
	[ -s "$D/shot.png" ] || fail "no screenshot"
	[ "$(wc -c <"$D/shot.png")" -gt 20000 ] ||
	    fail "screenshot too small: $(wc -c <"$D/shot.png") bytes"
	png_check "$D/shot.png" || fail "screenshot check"
	if [ -n "${REPORT_SHOT:-}" ]; then
		cp "$D/shot.png" "$REPORT_SHOT"
	fi
}

t "usage: known growth, forecast days and dates, CSV, JSON" t_usage_known_growth
t "usage --by pair and server sum their slices" t_usage_by_pair_and_server
t "usage --since and --until select the snapshots" t_usage_range
t "usage draws fill bars on a terminal only" t_usage_fill_bar_on_terminal
t "forecast: order, dates, capacity the fleet needs" t_forecast
t "usage: load, load dates, evacuation and restore in table, JSON, CSV" t_usage_load_evacuation
t "forecast: load dates from a constructed trend, slices to add" t_forecast_load
t "slice show: evacuation and restore time, flag and split" t_slice_show_evacuation
t "moves: totals, lock percentiles, retries, failures" t_moves
t "an empty catalog gives clear output in every format" t_empty_catalog
t "one snapshot per slice says not enough history" t_one_snapshot
t "bad arguments are usage errors and change nothing" t_bad_arguments
t "-o FILE writes the report through a temporary file" t_output_file
t "HTML is one self-contained file with charts and tables" t_html
t "HTML: a load chart per slice, the fleet's evacuation table" t_html_load
if command -v chromium >/dev/null 2>&1; then
	t "HTML renders in headless Chromium" t_html_renders
else
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - HTML renders in headless Chromium # skip: chromium not installed"
fi
done_testing
