# discover on 100 accounts x 2,000 messages against `find -type f | wc -l`
# on the same tree, warm cache, median of $RUNS runs each.
. "$(dirname "$0")/lib.sh"

tree="$BENCH_DIR/discover"
if [ ! -f "$tree/manifest" ]; then
	rm -rf "$tree"
	mkdir -p "$tree/s1"
	"$GEN" --accounts 100 --messages 2000 --min-size 300 --max-size 8192 \
	    --seed 11 --manifest "$tree/manifest.tmp" "$tree/s1" >/dev/null
	mv "$tree/manifest.tmp" "$tree/manifest"
fi
export MAILSHIFT_DB="$tree/catalog.db"
rm -f "$MAILSHIFT_DB" "$MAILSHIFT_DB-wal" "$MAILSHIFT_DB-shm"
"$MS" init >/dev/null
"$MS" server add a --address a >/dev/null
"$MS" server add b --address b >/dev/null
"$MS" pair add p a b >/dev/null
"$MS" slice add s1 --pair p --server a --path "$tree/s1" --capacity 1T \
    >/dev/null
find "$tree/s1" -type f | wc -l >/dev/null	# warm the cache

count_files() { find "$1" -type f | wc -l; }
t_find=$(median_time count_files "$tree/s1")
t_count=$(median_time "$MS" discover --count s1)
t_trust=$(median_time "$MS" discover s1)
files=$(find "$tree/s1" -type f | wc -l)
msgs=$(awk -F '\t' '$1 == "total" { print $3 }' "$tree/manifest")

echo "tree: 100 accounts, $msgs messages, $files files in all"
printf '%-42s %8ss\n' "find -type f | wc -l" "$t_find"
printf '%-42s %8ss  %sx find\n' "mailshift discover --count (stat every file)" \
    "$t_count" "$(ratio "$t_count" "$t_find")"
printf '%-42s %8ss  %sx find\n' "mailshift discover (maildirsize trusted)" \
    "$t_trust" "$(ratio "$t_trust" "$t_find")"
