# Helpers for benchmarks: wall-clock timing as the median of runs.
set -eu
MS=${MAILSHIFT_BIN:?}
GEN=${MAILDIR_GEN:?}
BENCH_DIR=${BENCH_DIR:-/tmp/mailshift-bench}
RUNS=${RUNS:-5}

# Seconds (with nanoseconds) since the epoch.
now() { date +%s.%N; }

# Median wall time in seconds of RUNS runs of a command (output discarded).
median_time() {
	i=0
	: >"$BENCH_DIR/times"
	while [ "$i" -lt "$RUNS" ]; do
		s=$(now)
		"$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; exit 1; }
		e=$(now)
		echo "$e $s" | awk '{ printf "%.6f\n", $1 - $2 }' \
		    >>"$BENCH_DIR/times"
		i=$((i + 1))
	done
	sort -n "$BENCH_DIR/times" | awk '{ a[NR] = $1 }
	    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	    printf "%.4f\n", m }'
}

# $1 / $2 with two decimals.
ratio() { echo "$1 $2" | awk '{ printf "%.2f\n", $1 / $2 }'; }

mkdir -p "$BENCH_DIR"
