#!/usr/bin/env bats
# Across hosts: scripts/demo-hosts (`make demo-hosts`) runs a client, an
# edge (nginx), a backend (python3 http.server and its batch child) and a
# log host (rsyslog over TCP) in network namespaces of its own; one request
# id is on every line the log host collects.  Needs root (namespaces).
load common

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root: network and mount namespaces"
	TAG=bt$$
}

# When a test failed: what its run left (all ours: the namespaces are the run's).
teardown() {
	local h p
	for h in lan client edge backend logs; do
		for p in $(ip netns pids "ctxh$TAG-$h" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "ctxh$TAG-$h" 2>/dev/null || true
	done
	rm -rf /tmp/ctxshim-hosts-"$TAG".*
}

# The namespaces, processes and files of run TAG that are left.
leftovers() {
	ip netns list | grep "^ctxh$TAG-" || true
	ls -d /tmp/ctxshim-hosts-"$TAG".* 2>/dev/null || true
	local p
	for p in $1; do
		! kill -0 "$p" 2>/dev/null || echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}

@test "one request across three hosts: client, edge, backend and the backend's child log its id to the log host" {
	CTXSHIM_DEMO_TAG=$TAG run timeout 50 "$ROOT/scripts/demo-hosts"
	assert_success
	id=$(sed -n 's/^request id: //p' <<<"$output")
	[[ "$id" =~ ^hosts-[0-9a-f]{12}$ ]]
	run grep -F -- "$id" <<<"$output"
	# the client's two lines, nginx's access line (shipped from its file by
	# the edge's rsyslog), the backend's two and its child's
	assert_line --regexp "^client client\[[0-9]+\]: \[request_id=$id\] GET http://10\.77\.0\.20/report$"
	assert_line --regexp "^client client\[[0-9]+\]: \[request_id=$id\] got 'report ready\\\\n'$"
	assert_line --regexp "^edge nginx: \[request_id=$id .*peer=10\.77\.0\.10:[0-9]+ .*\] 10\.77\.0\.10 - - .*\"GET /report HTTP/1\.1\" 200 "
	assert_line --regexp "^backend backend\[[0-9]+\]: \[request_id=$id .*peer=10\.77\.0\.20:[0-9]+ .*\] handling /report$"
	assert_line --regexp "^backend batch\[[0-9]+\]: \[request_id=$id .*\] batch child: report built$"
	assert_line --regexp "^backend backend\[[0-9]+\]: \[request_id=$id .*\] \"GET /report HTTP/1\.0\" 200 -$"
	run leftovers ""
	assert_output ""
}

# 0 when a process in the backend's namespace runs service.py.
service_runs() {
	local p
	for p in $(ip netns pids "ctxh$TAG-backend" 2>/dev/null); do
		grep -qs service.py "/proc/$p/cmdline" && return 0
	done
	return 1
}

@test "demo-hosts interrupted while its hosts run leaves no namespace, process or file behind" {
	CTXSHIM_DEMO_TAG=$TAG "$ROOT/scripts/demo-hosts" >/dev/null 2>&1 3>&- &
	local demo=$! pids='' n=0
	# wait (at most 15 s) until the backend's service runs, then interrupt
	until service_runs; do
		n=$((n + 1))
		[ $n -lt 300 ]
		sleep 0.05
	done
	pids=$(ip netns pids "ctxh$TAG-backend" | tr '\n' ' ')
	pids="$pids $(ip netns pids "ctxh$TAG-logs" | tr '\n' ' ')"
	kill -TERM "$demo"
	run timeout 20 tail --pid="$demo" -f /dev/null
	assert_success
	run leftovers "$pids"
	assert_output ""
}
