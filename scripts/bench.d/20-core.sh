# 20-core.sh: issue 2, the context core; issue 13's read targets.
. "$(dirname "$0")/../bench-lib.sh"
B=$BENCH/core_bench
BAG8="request_id=0123456789abcdef0123456789abcdef,a=1,b=2,c=3,d=4,e=5,f=6,g=7"
echo "core (issues 2 and 13)"

med() { for i in $(seq "$RUNS"); do env "$@"; done | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# The three reads alternate in rounds inside each process (core_bench
# reads); each figure is the median over $RUNS processes, with the spread
# of the processes' medians.  In copy mode Python's ContextVar.get runs
# between those processes, so the two are measured alike.
T=$(mktemp -d)
for i in $(seq "$RUNS"); do
	for m in copy share chain; do
		env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" "$B" reads >>"$T/$m"
	done
	python3 -c '
import contextvars, timeit
v = contextvars.ContextVar("request_id"); v.set("0123456789abcdef")
n = 1000000
print("%.2f" % (min(timeit.repeat(v.get, number=n, repeat=5)) / n * 1e9))' >>"$T/py"
done
col() { cut -d" " -f"$2" "$T/$1"; }
get=$(col copy 1 | median) gk=$(col copy 2 | median) gs=$(col copy 3 | median)
py=$(median <"$T/py")
row "ctxshim_get, present key, 8 entries (ns)" "$get" "±$(col copy 1 | spread)%"
row "ctxshim_get_key, the same key (ns)" "$gk" "±$(col copy 2 | spread)%"
row "pthread_getspecific (ns)" "$gs" "±$(col copy 3 | spread)%"
# The ratios: each process's own (its three reads ran in the same rounds),
# then the median over processes, so load that came and went between
# processes does not skew them.
pr() { awk -v c="$1" '{ printf "%.3f\n", $c / $3 }' "$T/copy"; }
rget=$(pr 1 | median) rgk=$(pr 2 | median)
row "ratio get / getspecific (target 2.5x)" "${rget}x" "±$(pr 1 | spread)%"
row "ratio get_key / getspecific (target 1.5x)" "${rgk}x" "±$(pr 2 | spread)%"
summary "ctxshim_get / pthread_getspecific" "$rget" "<=" 2.5
summary "ctxshim_get_key / pthread_getspecific" "$rgk" "<=" 1.5
for m in share chain; do
	row "ctxshim_get in $m mode (ns)" "$(col $m 1 | median)" "±$(col $m 1 | spread)%"
	row "ctxshim_get_key in $m mode (ns)" "$(col $m 2 | median)" "±$(col $m 2 | spread)%"
done
row "python contextvars.ContextVar.get (ns)" "$py" "±$(spread <"$T/py")%"
row "python get / ctxshim get (target 8x)" "$(ratio "$py" "$get")x" ""
row "python get / ctxshim get_key" "$(ratio "$py" "$gk")x" ""
summary "ContextVar.get / ctxshim_get (times faster)" "$(ratio "$py" "$get")" ">=" 8
summary "ContextVar.get / ctxshim_get_key (times faster)" "$(ratio "$py" "$gk")" ">=" 8
rm -rf "$T"

for e in 1 8 64; do
	row "capture+release, $e entries (ns)" "$(med LD_PRELOAD="$SHIM" "$B" capture $e)" ""
done
LIMIT=1.02 ab "pthread_create+join, 8-entry context (ns)" "BAGGAGE=$BAG8" -- "$B" create
ab "pthread_create+join, empty context (ns)" - -- "$B" create
plain=$(med "$B" spawn /bin/true)
pre=$(med LD_PRELOAD="$SHIM" "$B" spawn /bin/true)
run=$(med "$B" spawn "$CTXRUN" -s request_id=x -- /bin/true)
added=$(awk -v a="$pre" -v b="$plain" 'BEGIN{printf "%+.3f", a-b}')
row "process start: true, plain (ms)" "$plain" ""
row "process start: true, LD_PRELOAD only (added ms)" "$added" ""
summary "process start under the shim, added ms" "$added" "<=" 0.060
row "process start: ctxrun -s ... -- true (added ms)" "$(awk -v a="$run" -v b="$plain" 'BEGIN{printf "%+.3f", a-b}')" ""
