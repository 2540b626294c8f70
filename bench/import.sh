# account import of 1,000,000 CSV rows against the sqlite3 shell's .import
# of the same file into a bare table (no checks, no indexes beyond none).
. "$(dirname "$0")/lib.sh"

dir="$BENCH_DIR/import"
mkdir -p "$dir/s1" "$dir/s2"
csv="$dir/accounts.csv"
if [ ! -f "$csv" ]; then
	awk 'BEGIN { print "user,slice,path,bytes,files";
	    for (i = 0; i < 1000000; i++)
		printf "u%07d@d%d.example,s%d,d%d.example/u%07d,%d,%d\n",
		    i, i % 97, i % 2 + 1, i % 97, i, i * 37 % 900000, i % 5000 }' \
	    >"$csv.tmp"
	mv "$csv.tmp" "$csv"
fi
export MAILSHIFT_DB="$dir/catalog.db"

import_once() {
	rm -f "$MAILSHIFT_DB" "$MAILSHIFT_DB-wal" "$MAILSHIFT_DB-shm"
	"$MS" init && "$MS" server add a --address a &&
	    "$MS" server add b --address b && "$MS" pair add p a b &&
	    "$MS" slice add s1 --pair p --server a --path "$dir/s1" \
	    --capacity 100T && "$MS" slice add s2 --pair p --server b \
	    --path "$dir/s2" --capacity 100T &&
	    "$MS" account import "$csv"
}
sqlite_import() {
	rm -f "$dir/plain.db"
	sqlite3 "$dir/plain.db" "CREATE TABLE a (user, slice, path, bytes, files)" \
	    ".import --csv --skip 1 $csv a"
}
RUNS=3
t_ms=$(median_time import_once)
t_sq=$(median_time sqlite_import)
import_once >/dev/null
n=$("$MS" --json slice list | python3 -c 'import json,sys; print(sum(s["accounts"] for s in json.load(sys.stdin)))')
echo "rows: 1000000 (catalog holds $n accounts afterwards)"
printf '%-44s %8ss\n' "sqlite3 .import into a bare table" "$t_sq"
printf '%-44s %8ss  %sx sqlite3 .import\n' \
    "mailshift account import (checked, indexed)" "$t_ms" \
    "$(ratio "$t_ms" "$t_sq")"
