# discover on 100 accounts x 2,000 messages against `find -type f | wc -l`
# on the same tree, warm cache, median of $RUNS runs each. The messages
# are years old; discover counts those that arrived in the last 7 days by
# listing only the cur/ and new/ directories modified in them, so the last
# line gives the case where every one of them was: the same tree with
# every cur/, new/ and maildirsize touched (put back afterwards).
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
# Every folder of every account touched this week, at one time (so that
# maildirsize is not older than any of them and stays trusted).
marks="$BENCH_DIR/discover.mtimes"
find "$tree/s1" \( -name cur -o -name new -o -name maildirsize \) \
    -printf '%T@ %p\n' >"$marks"
put_back() { while read -r t p; do touch -d "@$t" "$p"; done <"$marks"; }
trap put_back EXIT
cut -d' ' -f2- "$marks" | tr '\n' '\0' | xargs -0 touch -d "@$(date +%s)"
t_touched=$(median_time "$MS" discover s1)
put_back
trap - EXIT
files=$(find "$tree/s1" -type f | wc -l)
msgs=$(awk -F '\t' '$1 == "total" { print $3 }' "$tree/manifest")

echo "tree: 100 accounts, $msgs messages, $files files in all"
printf '%-42s %8ss\n' "find -type f | wc -l" "$t_find"
printf '%-42s %8ss  %sx find\n' "mailshift discover --count (stat every file)" \
    "$t_count" "$(ratio "$t_count" "$t_find")"
printf '%-42s %8ss  %sx find\n' "mailshift discover (maildirsize trusted)" \
    "$t_trust" "$(ratio "$t_trust" "$t_find")"
printf '%-42s %8ss  %sx find\n' "  the same, every folder touched this week" \
    "$t_touched" "$(ratio "$t_touched" "$t_find")"
