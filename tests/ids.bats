#!/usr/bin/env bats
# Generated ids: a client that sees its own ids learns
# nothing about anyone else's.  The attack (tests/ids_attack.py) inverts the
# splitmix64 generator the shim used before; it must find nothing now.
load common
load net_helpers

ATTACK=$BATS_TEST_DIRNAME/ids_attack.py

# The X-Request-ID the server echoed, for each URL (one connection each).
echoed() {
	curl -si -m 5 "$@" | tr -d '\r' | sed -n 's/^X-Request-ID: //p'
}

@test "the attack on the old generator works (the test can fail)" {
	run $PY "$ATTACK" selftest
	assert_output ok
}

@test "http.server: from two echoed ids the next one is not predicted" {
	mkdir -p "$W/www"
	echo hello >"$W/www/index.html"
	PYPORT=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" $PY -m http.server -b 127.0.0.1 \
		-d "$W/www" "$PYPORT" 2>/dev/null >/dev/null
	local pid=$!
	wait_port "$PYPORT"
	local ids
	ids=$(for _ in 1 2 3; do echoed "http://127.0.0.1:$PYPORT/index.html"; done)
	# shellcheck disable=SC2086
	set -- $ids
	[ "$#" -eq 3 ]
	for id in "$@"; do [[ "$id" =~ ^[0-9a-f]{32}$ ]]; done
	[ "$1" != "$2" ] && [ "$2" != "$3" ]
	# a real attacker scans every pid (in C, under a second); the test
	# gives the python scan a window around the true one
	run $PY "$ATTACK" attack $((pid - 200)) $((pid + 200)) "$1" "$2" "$3"
	assert_output unpredicted
}

@test "forking server: a worker's ids do not give away a sibling worker's" {
	mkdir -p "$W/www"
	echo hello >"$W/www/index.html"
	PYPORT=$(free_port)
	cat >"$W/fork.py" <<-'EOF'
		import http.server, socketserver, sys
		class H(http.server.SimpleHTTPRequestHandler):
		    protocol_version = "HTTP/1.1"
		    def log_message(self, *a):
		        pass
		class S(socketserver.ForkingMixIn, http.server.HTTPServer):
		    pass
		S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
	EOF
	cd "$W/www"
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" $PY "$W/fork.py" "$PYPORT"
	local pid=$!
	wait_port "$PYPORT"
	local url=http://127.0.0.1:$PYPORT/index.html a b
	# two requests on one keep-alive connection: one worker's two ids
	a=$(echoed "$url" "$url")
	b=$(echoed "$url")
	# shellcheck disable=SC2086
	set -- $a $b
	[ "$#" -eq 3 ]
	[ "$1" != "$2" ] && [ "$1" != "$3" ] && [ "$2" != "$3" ]
	run $PY "$ATTACK" cross "$pid" $((pid + 300)) "$1" "$2" "$3"
	assert_output unpredicted
	run $PY "$ATTACK" attack "$pid" $((pid + 300)) "$1" "$2" "$3"
	assert_output unpredicted
}
