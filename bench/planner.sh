# The rebalance planner on generated fleets of 10,000 accounts / 20 slices,
# 100,000 / 200 and 1,000,000 / 1,000: planning time, peak memory, moves,
# and bytes moved against the lower bound on bytes that any plan reaching
# the band must move. No other tool plans Maildir++ rebalances, so that
# bound is the comparison: 1.00x is optimal. Goal: under 5 s and within
# 1.10x at 1,000,000 accounts, every slice in the band.
# Runs $PLANNER_BENCH, else planner-bench beside $MAILSHIFT_BIN.
set -eu
bin=${PLANNER_BENCH:-$(dirname "${MAILSHIFT_BIN:?}")/planner-bench}
if [ ! -x "$bin" ]; then
	echo "bench: $bin not found; build it first (make)" >&2
	exit 1
fi
out=$("$bin")
echo "$out"
echo "$out" | awk '
	{ n++ }
	/NOT reached/ { missed++ }
	{ for (i = 1; i <= NF; i++) if ($i == "lower") r = $(i - 1);
	  sub(/x$/, "", r); if (r + 0 > worst) worst = r + 0 }
	END {
		printf "planner: %d fleets, worst %.3fx the lower bound, ", n, worst
		printf "%s\n", missed ? missed " outside the band" : "every slice in the band"
	}'
