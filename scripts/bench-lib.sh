# bench-lib.sh: shared by scripts/bench.d/*.sh.  Benchmarks report medians
# and ratios measured side by side in one run; this machine is shared and
# noisy, so no single absolute time means much.
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

# ab LABEL ENV_WITH -- CMD...: run CMD $RUNS times without and with the shim,
# alternating; CMD prints one number (a cost: ns per op, ms, ...).  Prints
# both medians and their ratio (with / without).  ENV_WITH is extra
# environment for the "with" runs, e.g. "CTXSHIM_LOG=stderr" or "-".
ab() {
	label=$1; envw=$2; shift 3
	[ "$envw" = - ] && envw=
	a=$(mktemp); b=$(mktemp)
	for i in $(seq "$RUNS"); do
		"$@" >>"$a"
		env $envw LD_PRELOAD="$SHIM" "$@" >>"$b"
	done
	ma=$(median <"$a"); mb=$(median <"$b")
	rm -f "$a" "$b"
	awk -v l="$label" -v a="$ma" -v b="$mb" 'BEGIN {
		printf "  %-52s without %10.2f  with %10.2f  ratio %.3fx\n", l, a, b, (a > 0 ? b / a : 0) }'
}

# row LABEL VALUE UNIT: a figure that is not a ratio.
row() {
	printf "  %-52s %s %s\n" "$1" "$2" "$3"
}
