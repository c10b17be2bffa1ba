#!/usr/bin/env bats
# The three inheritance modes, against the peers' "comparison of task
# factories" (aiotask_context), with threads in place of tasks.
load common

modes() { CTXSHIM_MODE=$1 shim "$T/api_modes" "$2"; }

@test "copy mode (default): the child's redefinition stays in the child" {
	run shim "$T/api_modes" table
	assert_success
	assert_output "parent before: simple=from parent complex=from parent
child: simple=from child complex=from parent
parent after: simple=from parent complex=from parent"
}

@test "share mode: the parent sees the child's redefinition" {
	run modes share table
	assert_success
	assert_line --index 2 "parent after: simple=from child complex=from parent"
}

@test "chain mode: the child's redefinition stays in its own layer" {
	run modes chain table
	assert_success
	assert_line --index 1 "child: simple=from child complex=from parent"
	assert_line --index 2 "parent after: simple=from parent complex=from parent"
}

@test "copy mode: the parent's write right after pthread_create is not seen by the child" {
	run modes copy live
	assert_success
	assert_output "child: k=before late=<unset>"
}

@test "share and chain modes: the child reads the parent's later writes, live" {
	run modes share live
	assert_output "child: k=after late=added"
	run modes chain live
	assert_output "child: k=after late=added"
}

@test "copy mode: grandchildren inherit snapshots and write only their own" {
	run modes copy grandchild
	assert_success
	assert_output "grandchild: a=main b=from child
child: c=<unset> a=main
main: b=<unset> c=<unset>"
}

@test "share mode: grandchildren share one map with every ancestor" {
	run modes share grandchild
	assert_success
	assert_output "grandchild: a=main2 b=from child
child: c=from grandchild a=main2
main: b=from child c=from grandchild"
}

@test "chain mode: grandchildren read through both ancestors, live, and write only their own layer" {
	run modes chain grandchild
	assert_success
	assert_output "grandchild: a=main2 b=from child
child: c=<unset> a=main2
main: b=<unset> c=<unset>"
}

@test "unset in the child: copy and chain hide it from the child only; share removes it for all" {
	run modes copy unset
	assert_output "child: k=<unset> other=o
parent: k=v other=o"
	run modes chain unset
	assert_output "child: k=<unset> other=o
parent: k=v other=o"
	run modes share unset
	assert_output "child: k=<unset> other=o
parent: k=<unset> other=o"
}

@test "clear in the child: copy empties the child; share empties the shared map; chain drops the child's layer so inherited keys show again" {
	run modes copy clear
	assert_output "child: a=<unset> c=<unset>
parent: a=from parent c=<unset>"
	run modes share clear
	assert_output "child: a=<unset> c=<unset>
parent: a=<unset> c=<unset>"
	run modes chain clear
	assert_output "child: a=from parent c=<unset>
parent: a=from parent c=<unset>"
}

@test "an unknown CTXSHIM_MODE warns once and falls back to copy" {
	run --separate-stderr env CTXSHIM_MODE=bogus LD_PRELOAD="$SHIM" "$T/api_modes" live
	assert_success
	assert_output "child: k=before late=<unset>"
	[ "$(printf '%s\n' "$stderr" | grep -c 'CTXSHIM_MODE=bogus')" -eq 1 ]
}
