# The source tree's layering (scripts/check-layers): the checker passes on the
# library as built, and fails on each kind of breach planted in a copy of the
# objects: a cycle between folders, a call of another family's exported hook,
# and a pure module with a global.

load common

setup() {
	W=$(mktemp -d)
	cp -r "$ROOT/build/obj" "$W/obj"
}

teardown() {
	rm -rf "$W"
}

# Compile C source $2 into the object $W/obj/$1.
plant() {
	mkdir -p "$(dirname "$W/obj/$1")"
	printf '%s\n' "$2" | cc -O1 -fPIC -x c -c - -o "$W/obj/$1"
}

@test "check-layers: the library as built has no cycle between folders" {
	run "$ROOT/scripts/check-layers" "$W/obj"
	assert_success
	assert_output --partial "no cycle"
}

@test "check-layers: a core file that calls into logging makes a cycle, and fails" {
	plant core/planted.o 'void log_init(void); void planted_core(void) { log_init(); }'
	run "$ROOT/scripts/check-layers" "$W/obj"
	assert_failure
	assert_output --partial "cycle between folders"
	assert_output --partial "log_init"
}

@test "check-layers: ctx_init is the one allowed back-edge" {
	plant pure/planted.o 'void ctx_init(void); void planted_pure(void) { ctx_init(); }'
	run "$ROOT/scripts/check-layers" "$W/obj"
	assert_success
}

@test "check-layers: calling another family's exported hook instead of REAL() fails" {
	plant ctl/planted.o '#include <fcntl.h>
int planted_ctl(const char *p) { return open(p, O_RDONLY); }'
	run "$ROOT/scripts/check-layers" "$W/obj"
	assert_failure
	assert_output --partial "calls the exported hook open"
}

@test "check-layers: a global variable in shim/pure fails" {
	plant pure/planted.o 'static int n; int planted_count(void) { return ++n; }'
	run "$ROOT/scripts/check-layers" "$W/obj"
	assert_failure
	assert_output --partial "writable data"
}

@test "layout: no .c file directly in shim/ but start-up and resolution, none over 650 lines, names unique" {
	run bash -c "cd '$ROOT/shim' && ls *.c"
	assert_output "hooks_check.c
init.c
resolve.c"
	run bash -c "cd '$ROOT' && find shim include -name '*.[ch]' | xargs wc -l | awk '\$2 != \"total\" && \$1 > 650'"
	assert_output ""
	run bash -c "cd '$ROOT' && find shim -name '*.[ch]' -printf '%f\n' | sort | uniq -d"
	assert_output ""
}
