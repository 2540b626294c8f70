# The catalog on PostgreSQL against the same catalog in SQLite, on one
# fleet of 1,000,000 accounts on 1,000 slices (500 pairs; account sizes
# log-normal, median 50 MiB; slices 35% to 97% full), both engines durable
# (SQLite synchronous=FULL in WAL mode; PostgreSQL fsync, synchronous_commit
# and full_page_writes on, its data on the same disk). Measured:
#
#   - account import of the fleet's CSV (median of 3), against psql's
#     \copy and the sqlite3 shell's .import into a bare table of the same
#     columns;
#   - plan balance (a preview, median of 3) reading the fleet from each;
#   - --json account list of 1,000,000 and of 100,000 accounts: wall time
#     and peak RSS, which must not grow with the rows, against psql --csv
#     and sqlite3 -json of the same columns;
#   - the userdb lookup of a Dovecot auth worker (one connection, serial,
#     random users) in lookups/s, with the statement parsed at every
#     lookup and prepared once;
#   - the cutover's two transactions, the lock (state_move_lock) and the
#     switch (state_move_commit), p50 and p99 over 200 moves;
#   - how soon the daemon takes up a move the CLI queued (NOTIFY against
#     SQLite's once-a-second look at data_version).
#
# No other tool plans rebalances or runs cutovers, and Dovecot's own
# lookup is what is imitated: those compare the engines only.
#
# Runs $CATALOG_BENCH, else catalog-bench beside $MAILSHIFT_BIN.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/.." && pwd)
bin=${CATALOG_BENCH:-$(dirname "$MS")/catalog-bench}
N=${ACCOUNTS:-1000000}
SMALL=$((N / 10))
NSLICES=1000
LOOKUPS=${LOOKUPS:-20000}
SWITCHES=${SWITCHES:-200}
RUNS=3
dir="$BENCH_DIR/catalog"
csv="$dir/accounts.csv"
topo="$dir/topology.db"
lite="$dir/catalog.db"
lite_small="$dir/catalog-small.db"
# The columns account list prints, for the shells to print too.
COLS='a."user", s.name AS slice, a.path, a.bytes, a.files, a.last_activity,
    a.state, a.generation, a.pinned, a.size_source'
LIST_SQL="SELECT $COLS FROM accounts a JOIN slices s ON s.id = a.slice_id
    ORDER BY a.\"user\""

if [ ! -x "$bin" ]; then
	echo "bench: $bin not found; build it first (make bench)" >&2
	exit 1
fi

pg_up=0
cleanup() {
	if [ "$pg_up" = 1 ]; then
		"$top/tests/pg/server" stop "$dir/pg" || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# The conninfo of schema $1 on the server.
pg_of() { echo "$base options='-c search_path=$1'"; }

# psql on the server's database, stopping at the first error.
pg_sql() {
	PGOPTIONS='-c client_min_messages=warning' psql -X -q \
	    -v ON_ERROR_STOP=1 "$base" "$@"
}

# Schema $1, new, holding a copy of the topology catalog.
pg_catalog() {
	pg_sql -c "DROP SCHEMA IF EXISTS $1 CASCADE" -c "CREATE SCHEMA $1"
	MAILSHIFT_DB="$topo" "$MS" catalog copy --to "$(pg_of "$1")" >/dev/null
}

# The median of the numbers in file $1.
median() {
	sort -n "$1" | awk '{ a[NR] = $1 }
	    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	    printf "%.3f\n", m }'
}

# Run a command, appending its peak RSS in KiB to $dir/rss.
peak_rss() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -a -o "$dir/rss" "$@"
	else
		python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "a") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$dir/rss" "$@"
	fi
}

# RUNS times: $1 (untimed), then the command; prints the median wall time
# in seconds and the largest peak RSS in KiB. The last run's output is
# left in $dir/out.
measure() {
	prep=$1
	shift
	: >"$dir/times"
	: >"$dir/rss"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		$prep
		s=$(now)
		peak_rss "$@" >"$dir/out" 2>"$dir/err" || {
			echo "bench: '$*' failed: $(tail -n 3 "$dir/err")" >&2
			exit 1
		}
		e=$(now)
		echo "$e $s" | awk '{ printf "%.6f\n", $1 - $2 }' >>"$dir/times"
		i=$((i + 1))
	done
	echo "$(median "$dir/times") $(sort -n "$dir/rss" | tail -n 1)"
}

# KiB as MiB.
mib() { echo "$1" | awk '{ printf "%.1f MiB", $1 / 1024 }'; }

# The fleet's CSV (and its first tenth), and each slice's capacity
# (number|bytes) for a fill of 35% to 80%, one slice in ten 86% to 97%.
fleet_make() {
	awk -v N="$N" -v S="$NSLICES" -v csv="$csv" -v caps="$dir/caps" '
	BEGIN {
		srand(7)
		for (i = 1; i <= S; i++) {
			c = int(rand() * 3)
			w[i] = (c == 0 ? 1 : c == 1 ? 2 : 4) * (0.8 + 0.4 * rand())
			ws += w[i]
		}
		for (i = 1; i <= S; i++) { n[i] = int(N * w[i] / ws); g += n[i] }
		for (i = 1; g < N; i = i % S + 1) { n[i]++; g++ }
		print "user,slice,path,bytes,files" >csv
		for (i = 1; i <= S; i++) {
			for (j = 0; j < n[i]; j++) {
				# log-normal: Box-Muller, median 50 MiB
				z = sqrt(-2 * log(rand() + 1e-300))
				z *= cos(6.283185307 * rand())
				b = int(exp(log(52428800) + 1.6 * z))
				b = b < 4096 ? 4096 : b > 8589934592 ? 8589934592 : b
				used[i] += b
				printf "u%07d@d%d.example,s%04d,d%d.example/u%07d,%.0f,%d\n",
				    k, k % 97, i, k % 97, k, b, int(b / 40000) + 1 >csv
				k++
			}
			f = rand() < 0.1 ? 0.86 + 0.11 * rand() : 0.35 + 0.45 * rand()
			printf "%d|%.0f\n", i, used[i] / f + 1 >caps
		}
	}'
	head -n $((SMALL + 1)) "$csv" >"$dir/small.csv"
}

# The topology catalog: 1,000 servers, 500 pairs, 1,000 slices, written
# with SQL as bench/report.sh does (2,500 server, pair and slice adds take
# some 25 s), each slice root marked as slice add marks it, so that the
# import checks the slices' directories.
topology_make() {
	MAILSHIFT_DB="$topo" "$MS" init >/dev/null
	t=$(date +%s)
	sqlite3 "$topo" <<EOS
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k
    WHERE i < $NSLICES)
INSERT INTO servers (name, address, created)
SELECT printf('mx%04d', i), printf('10.1.%d.%d', i / 250, i % 250), $t FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k
    WHERE i < $NSLICES / 2)
INSERT INTO pairs (name, server_a, server_b, created)
SELECT printf('p%03d', i), 2 * i - 1, 2 * i, $t FROM k;
CREATE TEMP TABLE caps (i INTEGER, capacity INTEGER);
.import $dir/caps caps
INSERT INTO slices (name, pair_id, server_id, path, capacity, created)
SELECT printf('s%04d', i), (i + 1) / 2, i,
    printf('$dir/slices/s%04d', i), capacity, $t FROM caps ORDER BY i;
COMMIT;
EOS
	i=1
	while [ "$i" -le "$NSLICES" ]; do
		name=$(printf 's%04d' "$i")
		echo "$dir/slices/$name"
		i=$((i + 1))
	done | xargs mkdir -p
	for d in "$dir"/slices/s*; do
		echo "mailshift slice ${d##*/}" >"$d/.mailshift-slice"
	done
}

# Untimed preparations of each import run: an empty catalog of the fleet's
# topology, or an empty bare table; PostgreSQL checkpointed first.
prep_lite() { rm -f "$lite" "$lite-wal" "$lite-shm"; cp "$topo" "$lite"; }
prep_pg() { pg_catalog cat; pg_sql -c CHECKPOINT; }
prep_copy() {
	pg_sql -c 'DROP TABLE IF EXISTS bare.t' -c 'CREATE TABLE bare.t
	    ("user" text, slice text, path text, bytes bigint, files bigint)' \
	    -c CHECKPOINT
}
prep_shell() {
	rm -f "$dir/bare.db"
	sqlite3 "$dir/bare.db" 'CREATE TABLE t ("user" TEXT, slice TEXT,
	    path TEXT, bytes INTEGER, files INTEGER)'
}

# account import of the whole CSV, on each engine, against the shells.
bench_import() {
	echo "account import, $N rows, $NSLICES slices (median of $RUNS)"
	r=$(measure prep_copy psql -X -q -v ON_ERROR_STOP=1 \
	    "$(pg_of bare)" -c "\\copy t FROM '$csv' CSV HEADER")
	set -- $r
	t_copy=$1
	r=$(measure prep_pg env MAILSHIFT_DB="$pg" "$MS" account import \
	    "$csv")
	set -- $r
	t_pg=$1
	r=$(measure prep_shell sqlite3 "$dir/bare.db" \
	    ".import --csv --skip 1 $csv t")
	set -- $r
	t_shell=$1
	r=$(measure prep_lite env MAILSHIFT_DB="$lite" "$MS" account \
	    import "$csv")
	set -- $r
	t_lite=$1
	n_pg=$(psql -X -At "$pg" -c 'SELECT count(*) FROM accounts')
	n_lite=$(sqlite3 "$lite" 'SELECT count(*) FROM accounts')
	printf '  %-40s %8s s\n' "psql \\copy into a bare table" "$t_copy"
	printf '  %-40s %8s s  %6sx psql \\copy\n' \
	    "mailshift account import, PostgreSQL" "$t_pg" \
	    "$(ratio "$t_pg" "$t_copy")"
	printf '  %-40s %8s s\n' "sqlite3 .import into a bare table" \
	    "$t_shell"
	printf '  %-40s %8s s  %6sx sqlite3 .import\n' \
	    "mailshift account import, SQLite" "$t_lite" \
	    "$(ratio "$t_lite" "$t_shell")"
	printf '  %-40s %8sx  (catalogs hold %s and %s accounts)\n' \
	    "PostgreSQL / SQLite" "$(ratio "$t_pg" "$t_lite")" "$n_pg" \
	    "$n_lite"
}

# The first tenth of the fleet in each engine, for the listing's memory at
# a tenth of the rows.
small_catalogs() {
	cp "$topo" "$lite_small"
	MAILSHIFT_DB="$lite_small" "$MS" account import "$dir/small.csv" \
	    >/dev/null
	pg_catalog small
	MAILSHIFT_DB="$(pg_of small)" "$MS" account import "$dir/small.csv" \
	    >/dev/null
}

# plan balance, a preview, reading the fleet from each engine; the two
# plans must be the same.
bench_plan() {
	echo "plan balance (preview), $N accounts on $NSLICES slices" \
	    "(median of $RUNS)"
	r=$(measure : env MAILSHIFT_DB="$lite" "$MS" plan balance)
	set -- $r
	t_lite=$1
	grep -v '^plan [0-9]* stored' "$dir/out" >"$dir/plan.sqlite"
	r=$(measure : env MAILSHIFT_DB="$pg" "$MS" plan balance)
	set -- $r
	t_pg=$1
	grep -v '^plan [0-9]* stored' "$dir/out" >"$dir/plan.pgsql"
	printf '  %-40s %8s s\n' "SQLite" "$t_lite"
	printf '  %-40s %8s s  %6sx SQLite\n' "PostgreSQL" "$t_pg" \
	    "$(ratio "$t_pg" "$t_lite")"
	if cmp -s "$dir/plan.sqlite" "$dir/plan.pgsql"; then
		echo "  the same plan from both: $(grep ' moves, ' \
		    "$dir/plan.sqlite")"
	else
		echo "  the plans DIFFER:"
		diff "$dir/plan.sqlite" "$dir/plan.pgsql" | head -n 10
	fi
}

# One listing row: name, wall time and peak RSS of the large fleet, peak
# RSS of the small one, and the large one's time against $5 ($6 names it)
# if given.
list_row() {
	printf '  %-30s %7s s %10s   %10s' "$1" "$2" "$(mib "$3")" \
	    "$(mib "$4")"
	if [ $# -gt 4 ]; then
		printf '   %sx %s' "$(ratio "$2" "$5")" "$6"
	fi
	printf '\n'
}

# --json account list on each engine, 1,000,000 and 100,000 accounts,
# against the shells printing the same columns.
bench_list() {
	echo "--json account list (median of $RUNS; peak RSS, the largest" \
	    "of the runs)"
	printf '  %-30s %9s %10s   %10s\n' "" "$N rows" "peak RSS" \
	    "at $SMALL rows"
	r=$(measure : env MAILSHIFT_DB="$lite_small" "$MS" --json \
	    account list)
	set -- $r
	r_small=$2
	r=$(measure : env MAILSHIFT_DB="$lite" "$MS" --json account list)
	set -- $r
	t_lite=$1
	r_lite=$2
	mv "$dir/out" "$dir/list.sqlite"
	list_row "mailshift, SQLite" "$t_lite" "$r_lite" "$r_small"
	r=$(measure : env MAILSHIFT_DB="$(pg_of small)" "$MS" --json \
	    account list)
	set -- $r
	r_small=$2
	r=$(measure : env MAILSHIFT_DB="$pg" "$MS" --json account list)
	set -- $r
	list_row "mailshift, PostgreSQL" "$1" "$2" "$r_small" "$t_lite" \
	    "SQLite"
	if cmp -s "$dir/out" "$dir/list.sqlite"; then
		echo "  the same $(wc -c <"$dir/out") bytes of JSON from both"
	else
		echo "  the listings DIFFER"
	fi
	rm -f "$dir/list.sqlite"
	t_pg=$1
	r=$(measure : sqlite3 -json "$lite_small" "$LIST_SQL")
	set -- $r
	r_small=$2
	r=$(measure : sqlite3 -json "$lite" "$LIST_SQL")
	set -- $r
	list_row "sqlite3 -json, same columns" "$1" "$2" "$r_small" \
	    "$t_lite" "mailshift on SQLite"
	r=$(measure : psql -X -q --csv "$(pg_of small)" -c "$LIST_SQL")
	set -- $r
	r_small=$2
	r=$(measure : psql -X -q --csv "$pg" -c "$LIST_SQL")
	set -- $r
	list_row "psql --csv, same columns" "$1" "$2" "$r_small" "$t_pg" \
	    "mailshift on PostgreSQL"
}

# A Dovecot auth worker's userdb lookups, LOOKUPS random users.
bench_lookup() {
	awk -v N="$N" -v n="$LOOKUPS" 'BEGIN { srand(11)
	    for (i = 0; i < n; i++) { k = int(rand() * N)
		printf "u%07d@d%d.example\n", k, k % 97 } }' >"$dir/lookups"
	"$bin" lookup sqlite "$lite" <"$dir/lookups" >"$dir/lookup.sqlite"
	"$bin" lookup pgsql "$pg" <"$dir/lookups" >"$dir/lookup.pgsql"
	echo "userdb lookups, SELECT home, mail, uid, gid FROM access WHERE" \
	    "\"user\" = \$1: $LOOKUPS random users of $N, serial, one connection"
	printf '  %-30s %12s %10s %10s\n' "" "lookups/s" "p50" "p99"
	for m in parsed prepared; do
		for e in sqlite pgsql; do
			name="SQLite, $m"
			[ "$e" = pgsql ] && name="PostgreSQL, $m"
			awk -v m="$m" -v name="$name" '$1 == "lookup-" m {
			    printf "  %-30s %12d %7.3f ms %7.3f ms\n", name,
				$10, $4, $6 }' "$dir/lookup.$e"
		done
		a=$(awk -v m="$m" '$1 == "lookup-" m { print $10 }' \
		    "$dir/lookup.sqlite")
		b=$(awk -v m="$m" '$1 == "lookup-" m { print $10 }' \
		    "$dir/lookup.pgsql")
		printf '  %-30s %11sx SQLite'"'"'s rate\n' \
		    "PostgreSQL / SQLite, $m" "$(ratio "$b" "$a")"
	done
}

# The cutover's lock and switch, SWITCHES moves to a new slice.
bench_switch() {
	mkdir -p "$dir/slices/spare"
	for db in "$lite" "$pg"; do
		MAILSHIFT_DB="$db" "$MS" slice add spare --pair p001 \
		    --server mx0001 --path "$dir/slices/spare" --capacity 1P \
		    >/dev/null
	done
	awk -v N="$N" -v n="$SWITCHES" 'BEGIN { for (i = 0; i < n; i++) {
	    k = int(N / n) * i + 123; printf "u%07d@d%d.example\n", k, k % 97 }
	    }' >"$dir/movers"
	"$bin" switch "$lite" spare <"$dir/movers" >"$dir/switch.sqlite"
	"$bin" switch "$pg" spare <"$dir/movers" >"$dir/switch.pgsql"
	echo "cutover transactions, $SWITCHES moves on each engine" \
	    "(in a catalog of $N accounts)"
	printf '  %-30s %10s %10s %10s\n' "" "p50" "p99" "max"
	for w in lock switch; do
		f=state_move_lock
		[ "$w" = switch ] && f=state_move_commit
		for e in sqlite pgsql; do
			name="SQLite, $f"
			[ "$e" = pgsql ] && name="PostgreSQL, $f"
			awk -v w="$w" -v name="$name" '$1 == w {
			    printf "  %-30s %7.3f ms %7.3f ms %7.3f ms\n",
				name, $4, $6, $8 }' "$dir/switch.$e"
		done
		a=$(awk -v w="$w" '$1 == w { print $4 " " $6 }' \
		    "$dir/switch.sqlite")
		b=$(awk -v w="$w" '$1 == w { print $4 " " $6 }' \
		    "$dir/switch.pgsql")
		printf '  %-30s %9sx %9sx\n' "PostgreSQL / SQLite, $w" \
		    "$(ratio "${b% *}" "${a% *}")" "$(ratio "${b#* }" "${a#* }")"
	done
}

# How soon the daemon takes up a move queued by the CLI: a small fleet of
# real mailboxes on each engine, a running daemon, 20 moves in turn.
bench_notify() {
	echo "the daemon takes up a queued move (20 moves, from 'mailshift" \
	    "move' returning to the move leaving 'queued')"
	pg_sql -c 'CREATE SCHEMA notify' >/dev/null
	for db in "$dir/notify.db" "$(pg_of notify)"; do
		rm -rf "$dir/nt"
		mkdir -p "$dir/nt/s1" "$dir/nt/s2"
		printf '[move]\nlock_grace = 0s\nsettle = 0s\n[daemon]\nlisten = off\n[presence]\nidle = 0s\n' \
		    >"$dir/nt/conf"
		(
		export MAILSHIFT_DB="$db" MAILSHIFT_CONFIG="$dir/nt/conf"
		"$MS" init >/dev/null
		"$MS" server add a --address 10.0.0.1 >/dev/null
		"$MS" server add b --address 10.0.0.2 >/dev/null
		"$MS" pair add p a b >/dev/null
		"$MS" slice add s1 --pair p --server a --path "$dir/nt/s1" \
		    --capacity 1G >/dev/null
		"$MS" slice add s2 --pair p --server b --path "$dir/nt/s2" \
		    --capacity 1G >/dev/null
		"$GEN" --accounts 20 --messages 3 --seed 4 "$dir/nt/s1" \
		    >/dev/null
		"$MS" discover >/dev/null
		"$MS" daemon >"$dir/nt/daemon.log" 2>&1 &
		dpid=$!
		sleep 2
		users=$("$MS" --json account list | python3 -c 'import json, sys
print(" ".join(a["user"] for a in json.load(sys.stdin)))')
		r=$(python3 "$top/bench/notify_latency.py" "$MS" "$db" 20 \
		    $users)
		kill -TERM "$dpid"
		wait "$dpid"
		name="SQLite (data_version, 1 s tick)"
		case "$db" in *=*) name="PostgreSQL (LISTEN/NOTIFY)" ;; esac
		printf '  %-34s %s\n' "$name" "$r"
		)
	done
}

start=$(now)
rm -rf "$dir"
mkdir -p "$dir"
base=$("$top/tests/pg/server" start "$dir/pg" fsync=on synchronous_commit=on \
    full_page_writes=on)
pg_up=1
pg=$(pg_of cat)
pg_sql -c 'CREATE SCHEMA bare'
echo "PostgreSQL $(pg_sql -At -c 'SHOW server_version') (fsync," \
    "synchronous_commit, full_page_writes on; unix socket)," \
    "SQLite $(sqlite3 --version | cut -d ' ' -f 1) (synchronous=FULL, WAL)"
fleet_make
topology_make
bench_import
small_catalogs
bench_plan
bench_list
bench_lookup
bench_switch
bench_notify
echo "catalog bench: $(echo "$(now) $start" | awk '{ printf "%.0f", $1 - $2 }') s in all"
