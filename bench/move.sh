# The copier on one account of about 25,000 messages / 250 MB: bulk copy
# against cp -a and rsync -a, a no-change delta pass against rsync -a and
# find, the lock of a real cutover after a 1% change, and the throttle.
. "$(dirname "$0")/lib.sh"

SB=${SYNC_BENCH:-$(dirname "$MS")/sync-bench}
dir="$BENCH_DIR/move"
box="$dir/src/example.net/user0001"
if [ ! -f "$dir/manifest" ]; then
	rm -rf "$dir"
	mkdir -p "$dir/src"
	"$GEN" --accounts 1 --messages 25000 --min-size 300 --max-size 50000 \
	    --seed 51 --manifest "$dir/manifest.tmp" "$dir/src" >/dev/null
	mv "$dir/manifest.tmp" "$dir/manifest"
fi
bytes=$(du -sb "$box" | cut -f1)
files=$(find "$box" -type f | wc -l)
echo "mailbox: $files files, $bytes bytes"
cat "$box"/cur/* >/dev/null 2>&1 || true	# warm the page cache

# Bulk copy, interleaved runs (cp, rsync, mailshift, cp, ...) so that
# drift in the machine's I/O hits all three alike; each copy is timed
# until its data is on disk (sync -f; the copier's syncfs), and again on
# tmpfs (/dev/shm) where the disk does not decide. Medians of $RUNS.
bulk_compare() {
	where=$1
	src=$2
	: >"$dir/t_cp"
	: >"$dir/t_rs"
	: >"$dir/t_ms"
	i=0
	while [ $i -lt "$RUNS" ]; do
		rm -rf "$where/dst"; sync -f "$where"
		s=$(now); cp -a "$src" "$where/dst"; sync -f "$where/dst"
		echo "$(now) $s" | awk '{ printf "%.4f\n", $1 - $2 }' >>"$dir/t_cp"
		rm -rf "$where/dst"; sync -f "$where"
		s=$(now); rsync -a "$src/" "$where/dst/"; sync -f "$where/dst"
		echo "$(now) $s" | awk '{ printf "%.4f\n", $1 - $2 }' >>"$dir/t_rs"
		rm -rf "$where/dst"; sync -f "$where"
		"$SB" "$src" "$where/dst" >"$dir/sb.out"
		awk '$1 == "bulk" { print $2 }' "$dir/sb.out" >>"$dir/t_ms"
		i=$((i + 1))
	done
	rm -rf "$where/dst"
	med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
	cp_t=$(med "$dir/t_cp")
	rs_t=$(med "$dir/t_rs")
	ms_t=$(med "$dir/t_ms")
	echo "bulk copy on $3:"
	printf '  %-38s %8ss\n' "cp -a" "$cp_t"
	printf '  %-38s %8ss\n' "rsync -a" "$rs_t"
	printf '  %-38s %8ss  %sx cp -a, %sx rsync -a\n' "mailshift bulk copy" \
	    "$ms_t" "$(ratio "$ms_t" "$cp_t")" "$(ratio "$ms_t" "$rs_t")"
}
bulk_compare "$dir" "$box" "disk ($dir)"
shm=/dev/shm/mailshift-bench
if mkdir -p "$shm" 2>/dev/null; then
	rm -rf "$shm/src"
	cp -a "$box" "$shm/src"
	bulk_compare "$shm" "$shm/src" "tmpfs (/dev/shm)"
	rm -rf "$shm"
fi

# No-change delta: rsync -a on the same unchanged pair, and find.
rm -rf "$dir/dst"
rsync -a "$box/" "$dir/dst/"
t_rs_nochange() { rsync -a "$box/" "$dir/dst/"; }
t_find() { find "$box" -type f | wc -l; }
rs0=$(median_time t_rs_nochange)
fd0=$(median_time t_find)
rm -rf "$dir/dst"
"$SB" "$box" "$dir/dst" >"$dir/sb.out"
d=$(awk '$1 == "delta" { print $2 }' "$dir/sb.out")
printf '%-40s %8ss\n' "rsync -a, nothing changed" "$rs0"
printf '%-40s %8ss\n' "find -type f | wc -l" "$fd0"
printf '%-40s %8ss  %sx rsync -a, %sx find\n' "mailshift delta pass, nothing changed" \
    "$d" "$(ratio "$d" "$rs0")" "$(ratio "$d" "$fd0")"
# (sync-bench renamed 1% of the source's messages; regenerate next time.)
rm -f "$dir/manifest"
echo "cutover parts after a 1% change (sync-bench):"
awk '$1 != "bulk" && $1 != "delta" { printf "  %-20s %8ss  %s %s %s\n", $1, $2, $3, $4, $5 }' "$dir/sb.out"

# A real cutover: mailshift move, held at ready, 1% of the messages of
# every folder changed meanwhile, then released. Twice: with no lock
# grace (the final pass lists the changed directories less than the 2 s
# trust margin after the unlocked pass first saw their new mtimes, so
# the verification reads their names again), and with a 3 s grace (the
# default is 5 s), where the lock's own work is what the lock lasts
# beyond the grace.
real_cutover() {
	grace=$1
	rm -rf "$dir/fleet"
	mkdir -p "$dir/fleet/s1" "$dir/fleet/s2"
	cp -a "$dir/src/." "$dir/fleet/s1/"
	export MAILSHIFT_DB="$dir/fleet/catalog.db"
	printf '[move]\nlock_grace = %ss\nsettle = 0s\n' "$grace" \
	    >"$dir/fleet/conf"
	export MAILSHIFT_CONFIG="$dir/fleet/conf"
	"$MS" init >/dev/null
	"$MS" server add a --address a >/dev/null
	"$MS" server add b --address b >/dev/null
	"$MS" pair add p a b >/dev/null
	"$MS" slice add s1 --pair p --server a --path "$dir/fleet/s1" --capacity 1T >/dev/null
	"$MS" slice add s2 --pair p --server b --path "$dir/fleet/s2" --capacity 1T >/dev/null
	"$MS" discover >/dev/null
	"$MS" move user0001@example.net --to s2 --wait --hold >/dev/null
	find "$dir/fleet/s1/example.net/user0001" -type f \( -path '*/cur/*' -o \
	    -path '*/new/*' \) | awk 'NR % 100 == 0' >"$dir/touch"
	while read -r f; do
		case "$f" in
		*/new/*) mv "$f" "$(dirname "$(dirname "$f")")/cur/$(basename "$f"):2,S" ;;
		*) mv "$f" "${f}F" ;;
		esac
	done <"$dir/touch"
	"$MS" moves complete 1 >/dev/null
	"$MS" --json move user0001@example.net --to s2 --wait >"$dir/move.json"
	python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); g = int(sys.argv[2])
print("cutover after a 1%% change (%s of %s files), grace %d s: lock %d ms, %d ms beyond the grace (goal < 100 ms)" % (sys.argv[3], sys.argv[4], g, j["lock_ms"], j["lock_ms"] - 1000 * g))' \
	    "$dir/move.json" "$grace" "$(wc -l <"$dir/touch")" "$files"
}
real_cutover 0
real_cutover 3

# The throttle: a move on tmpfs (so that the disk cannot be the limit)
# at a bytes limit that makes it last about 10 s; measured rate of the
# whole run (every pass, so a little under the limit is expected).
tf=/dev/shm/mailshift-throttle
rm -rf "$tf"
mkdir -p "$tf/s1" "$tf/s2"
cp -a "$dir/src/." "$tf/s1/"
export MAILSHIFT_DB="$tf/catalog.db"
"$MS" init >/dev/null
"$MS" server add a --address a >/dev/null
"$MS" server add b --address b >/dev/null
"$MS" pair add p a b >/dev/null
"$MS" slice add s1 --pair p --server a --path "$tf/s1" --capacity 1T >/dev/null
"$MS" slice add s2 --pair p --server b --path "$tf/s2" --capacity 1T >/dev/null
"$MS" discover >/dev/null
limit=$((bytes / 10))
"$MS" --json move user0001@example.net --to s2 --wait --bwlimit "$limit" \
    >"$dir/throttle.json"
python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); limit = int(sys.argv[2])
rate = j["bytes_copied"] / j["copy_seconds"]
print("throttle at %d B/s: copied %d bytes in %.2f s = %d B/s (%.1f%% of the limit)" % (limit, j["bytes_copied"], j["copy_seconds"], rate, 100.0 * rate / limit))' "$dir/throttle.json" "$limit"
rm -rf "$tf"
