# bench-lib.sh: shared by scripts/bench.d/*.sh.  Benchmarks report medians
# and ratios measured side by side in one run, alternating; this machine is
# shared and noisy, so no single absolute time means much, and each median
# is printed with its spread (max/min - 1 over the runs, in %).
#
# Figures with a target are also appended to $BENCH_SUMMARY (set by
# scripts/bench), one "figure|value|target|ok" line each, for the table
# printed at the end of make bench.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)   # $0 is scripts/bench.d/NN-*.sh
SHIM=$ROOT/build/libctxshim.so
BENCH=$ROOT/build/bench
CTXRUN=$ROOT/scripts/ctxrun
RUNS=${BENCH_RUNS:-7}

# median: of the numbers on stdin.
median() {
	sort -g | awk '{a[NR]=$1} END { if (NR == 0) print "nan";
		else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'
}

# spread: max/min - 1 of the numbers on stdin, in % ("nan" for none).
spread() {
	sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {
		if (NR == 0 || lo <= 0) print "nan"; else printf "%.0f\n", (hi / lo - 1) * 100 }'
}

# summary FIGURE VALUE OP TARGET: record a figure with a target; OP is
# "<=" (VALUE must not exceed TARGET) or ">=".
summary() {
	[ -n "${BENCH_SUMMARY:-}" ] || return 0
	awk -v f="$1" -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
		ok = (v == "nan" || v == "") ? "?" : (op == "<=" ? (v + 0 <= t + 0) : (v + 0 >= t + 0)) ? "yes" : "NO"
		printf "%s|%s|%s %s|%s\n", f, v, op, t, ok }' >>"$BENCH_SUMMARY"
}

# ab LABEL ENV_WITH -- CMD...: run CMD $RUNS times without and with the shim,
# alternating; CMD prints one number (a cost: ns per op, ms, ...).  Prints
# both medians with their spreads and the ratio of the medians (with /
# without).  ENV_WITH is extra environment for the "with" runs, e.g.
# "CTXSHIM_LOG=stderr" or "-".  LIMIT=X in the environment (or "limit X"
# in LABEL) records the ratio in the summary with the target <= X.
ab() {
	label=$1; envw=$2; shift 3
	[ "$envw" = - ] && envw=
	a=$(mktemp); b=$(mktemp)
	for i in $(seq "$RUNS"); do
		"$@" >>"$a"
		env $envw LD_PRELOAD="$SHIM" "$@" >>"$b"
	done
	ma=$(median <"$a"); mb=$(median <"$b")
	sa=$(spread <"$a"); sb=$(spread <"$b")
	rm -f "$a" "$b"
	ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')
	awk -v l="$label" -v a="$ma" -v b="$mb" -v sa="$sa" -v sb="$sb" -v r="$ratio" 'BEGIN {
		printf "  %-52s without %10.2f ±%s%%  with %10.2f ±%s%%  ratio %.3fx\n", l, a, sa, b, sb, r }'
	lim=${LIMIT:-$(printf '%s\n' "$label" | sed -n 's/.*limit \([0-9.]*\)x.*/\1/p')}
	[ -n "$lim" ] && summary "$(printf '%s\n' "$label" | sed 's/ *(limit [^)]*)//')" "$ratio" "<=" "$lim"
	return 0
}

# row LABEL VALUE UNIT: a figure that is not a ratio.
row() {
	printf "  %-52s %s %s\n" "$1" "$2" "$3"
}
