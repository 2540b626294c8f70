# The rebalance planner on generated fleets of 10,000 accounts / 20 slices,
# 100,000 / 200 and 1,000,000 / 1,000: planning time, peak memory, moves,
# and bytes moved against the lower bound on bytes that any plan reaching
# the band must move. No other tool plans Maildir++ rebalances, so that
# bound is the comparison: 1.00x is optimal. Then the same fleets with
# load (planner-bench -l): both bands, bytes against the bound for both.
# Goals at 1,000,000 accounts: by bytes under 5 s, with load under 2 s;
# within 1.10x of the bound; every slice in both bands.
# Runs $PLANNER_BENCH, else planner-bench beside $MAILSHIFT_BIN.
set -eu
bin=${PLANNER_BENCH:-$(dirname "${MAILSHIFT_BIN:?}")/planner-bench}
if [ ! -x "$bin" ]; then
	echo "bench: $bin not found; build it first (make)" >&2
	exit 1
fi
summary() {
	awk -v what="$1" -v load="$2" '
	/lower bound/ { n++; t = $2; sub(/s$/, "", t); if (t + 0 > slow) slow = t + 0 }
	/NOT reached/ { missed++ }
	/lower bound/ && !load { for (i = 1; i <= NF; i++) if ($i == "lower") r = $(i - 1);
	  sub(/x$/, "", r); if (r + 0 > worst) worst = r + 0 }
	/load:/ { for (i = 1; i <= NF; i++) if ($i == "both") r = $(i + 3);
	  sub(/x$/, "", r); if (r + 0 > worst) worst = r + 0 }
	END {
		printf "planner %s: %d fleets, slowest %.3f s, worst %.3fx the lower bound%s, ", what, n, slow, worst, load ? " for both" : ""
		printf "%s\n", missed ? missed " outside a band" : "every slice in the band" (load ? "s" : "")
	}'
}
out=$("$bin")
echo "$out"
echo "$out" | summary "by bytes" 0
out=$("$bin" -l)
echo "$out"
echo "$out" | summary "by bytes and load" 1
