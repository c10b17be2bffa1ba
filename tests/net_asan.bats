#!/usr/bin/env bats
# nginx with echo under the whole library built with AddressSanitizer and
# UBSan (make asan: build/asan/libctxshim.so).  ASan's runtime must come
# first in the preload list; its reports go to $W/asan.PID, UBSan's to
# $W/ubsan.PID, and any report is a failure.  Leak checking is off: nginx
# keeps its pools until exit by design.

load common

load net_helpers

ASAN_LIB=$ROOT/build/asan/libctxshim.so

# The start of every sanitizer report of the run, or nothing.
reports() {
	local f
	for f in "$W"/asan.* "$W"/ubsan.*; do
		[ -e "$f" ] && { echo "== $f"; grep -v '^ *0x\|^  [A-Z]' "$f" | head -n 30; }
	done
	return 0
}

@test "nginx with echo under the ASan+UBSan library: ids echoed, keep-alive, hostile ids, sendfile, no report" {
	[ -f "$ASAN_LIB" ] || fail "no $ASAN_LIB: run 'make asan'"
	libasan=$(gcc -print-file-name=libasan.so)
	[ -f "$libasan" ] || fail "gcc has no libasan.so"
	SHIM="$libasan:$ASAN_LIB" start_nginx CTXSHIM_HTTP_ECHO=1 \
		ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$W/asan" \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$W/ubsan"
	# the sanitized library is the one loaded, in master and worker
	for _ in $(seq 100); do
		master=$(cat "$W/ng/nginx.pid" 2>/dev/null) && worker=$(pgrep -P "$master" | head -n 1) &&
			[ -n "$worker" ] && break
		sleep 0.1
	done
	grep -q "$ASAN_LIB" "/proc/$master/maps"
	grep -q "$ASAN_LIB" "/proc/$worker/maps"

	# everything first, checked after the sanitizers' reports (a report
	# kills the worker: the requests' failures would hide its cause)
	one=$(curl -si -m 10 -H 'X-Request-ID: asan-1' "http://127.0.0.1:$NGPORT/index.html") || true
	ka=$(timeout 120 $PY "$CLIENTS" keepalive "$NGPORT" /index.html 4 25 2>"$W/ka.err") && ka_ok=1 || ka_ok=0
	timeout 120 $PY "$CLIENTS" hostile "$NGPORT" /index.html >"$W/hostile.out" 2>&1 && hostile_ok=1 || hostile_ok=0
	curl -s -m 20 -D "$W/h1" -o "$W/b1" -H 'X-Request-ID: big1' "http://127.0.0.1:$NGPORT/big.bin" \
		--next -s -D "$W/h2" -o "$W/b2" -I -H 'X-Request-ID: head2' "http://127.0.0.1:$NGPORT/missing" || true

	run reports
	assert_output ""
	# the worker that served all this is still the first one (none died)
	assert_equal "$(pgrep -P "$master" | head -n 1)" "$worker"
	assert_equal "$(echo "$one" | echoed)" asan-1
	assert_equal "$(echo "$one" | tr -d '\r' | tail -n 1)" hi
	assert_equal "$ka_ok $(echo "$ka" | wc -l)" "1 100"
	assert_equal "$hostile_ok" 1
	cmp "$W/b1" "$W/ng/html/big.bin"
	assert_equal "$(echoed <"$W/h1")" big1
	assert_equal "$(echoed <"$W/h2")" head2
}
