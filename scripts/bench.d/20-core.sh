# 20-core.sh: issue 2, the context core.
. "$(dirname "$0")/../bench-lib.sh"
B=$BENCH/core_bench
BAG8="request_id=0123456789abcdef0123456789abcdef,a=1,b=2,c=3,d=4,e=5,f=6,g=7"
echo "core (issue 2)"

med() { for i in $(seq "$RUNS"); do env "$@"; done | median; }
get=$(med LD_PRELOAD="$SHIM" "$B" get)
gs=$(med LD_PRELOAD="$SHIM" "$B" getspecific)
row "ctxshim_get, present key, 8 entries (ns)" "$get" ""
row "pthread_getspecific (ns)" "$gs" ""
row "ratio get / getspecific" "$(awk -v a="$get" -v b="$gs" 'BEGIN{printf "%.2fx", a/b}')" ""
for m in share chain; do
	row "ctxshim_get in $m mode (ns)" "$(med CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" "$B" get)" ""
done
py=$(for i in $(seq "$RUNS"); do python3 -c '
import contextvars, timeit
v = contextvars.ContextVar("request_id"); v.set("0123456789abcdef")
n = 1000000
print(min(timeit.repeat(v.get, number=n, repeat=5)) / n * 1e9)'; done | median)
row "python contextvars.ContextVar.get (ns)" "$py" ""
row "python get / ctxshim get" "$(awk -v a="$py" -v b="$get" 'BEGIN{printf "%.1fx", a/b}')" ""
for e in 1 8 64; do
	row "capture+release, $e entries (ns)" "$(med LD_PRELOAD="$SHIM" "$B" capture $e)" ""
done
ab "pthread_create+join, 8-entry context (ns)" "BAGGAGE=$BAG8" -- "$B" create
ab "pthread_create+join, empty context (ns)" - -- "$B" create
plain=$(med "$B" spawn /bin/true)
pre=$(med LD_PRELOAD="$SHIM" "$B" spawn /bin/true)
run=$(med "$B" spawn "$CTXRUN" -s request_id=x -- /bin/true)
row "process start: true, plain (ms)" "$plain" ""
row "process start: true, LD_PRELOAD only (added ms)" "$(awk -v a="$pre" -v b="$plain" 'BEGIN{printf "%+.3f", a-b}')" ""
row "process start: ctxrun -s ... -- true (added ms)" "$(awk -v a="$run" -v b="$plain" 'BEGIN{printf "%+.3f", a-b}')" ""
