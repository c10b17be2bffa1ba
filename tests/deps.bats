#!/usr/bin/env bats
# scripts/deps: the list of commands the tests run, its check, and an install
# that starts, stops and kills nothing.
load common

DEPS=$ROOT/scripts/deps

setup() {
	W=$(mktemp -d)
	PIDS=
}

teardown() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$W"
}

# pathdir NAME...: a directory of links to every program in /usr/bin and
# /usr/sbin except NAME...: this machine as it would be without them.
pathdir() {
	local d=$W/path f n skip
	mkdir -p "$d"
	for f in /usr/bin/* /usr/sbin/*; do
		n=${f##*/}
		skip=
		for s in "$@"; do [ "$n" = "$s" ] && skip=1; done
		[ -n "$skip" ] || [ -e "$d/$n" ] || ln -s "$f" "$d/$n"
	done
	echo "$d"
}

@test "deps --check passes here: every listed command is on PATH" {
	run "$DEPS" --check
	assert_success
	assert_output ""
}

@test "deps --check fails when jq is missing, naming the command and its package" {
	run env PATH="$(pathdir jq)" "$DEPS" --check
	assert_failure
	assert_line "deps: command 'jq' not found on PATH (Debian package jq)"
	assert_line "deps: install: apt-get install --no-install-recommends jq"
}

@test "deps --check names every missing command once and each package once" {
	run env PATH="$(pathdir nginx socat nm addr2line)" "$DEPS" --check
	assert_failure
	assert_line "deps: command 'nginx' not found on PATH (Debian package nginx-light)"
	assert_line "deps: command 'socat' not found on PATH (Debian package socat)"
	assert_line "deps: command 'nm' not found on PATH (Debian package binutils)"
	assert_line "deps: install: apt-get install --no-install-recommends binutils nginx-light socat"
}

@test "deps without arguments runs the same check after the packages (make check fails early)" {
	run env PATH="$(pathdir jq)" "$DEPS"
	assert_failure
	assert_line "deps: command 'jq' not found on PATH (Debian package jq)"
}

# An apt-get stand-in for the install path (the real one cannot run in a
# test): it records what policy-rc.d answers while it runs, for a service.
fake_apt() {
	cat >"$W/apt-get" <<-'EOF'
		#!/bin/sh
		[ "$1" = install ] || exit 0
		if [ -x "$CTXSHIM_DEPS_POLICY" ]; then
			"$CTXSHIM_DEPS_POLICY" nginx start
			echo "policy $?" >>"$FAKE_LOG"
		else
			echo "policy none" >>"$FAKE_LOG"
		fi
		echo "args $*" >>"$FAKE_LOG"
		case "${FAKE_MODE:-}" in
		fail) exit 100 ;;
		signal) kill -TERM "$PPID"; exit 100 ;;
		esac
		exit 0
	EOF
	chmod 755 "$W/apt-get"
}

deps_install() {
	run env CTXSHIM_DEPS_APT="$W/apt-get" CTXSHIM_DEPS_POLICY="$W/policy-rc.d" \
		FAKE_LOG="$W/log" "$@" "$DEPS" --install somepkg
}

@test "install: services may not start during it; no policy-rc.d is left behind" {
	[ "$(id -u)" = 0 ] || fail "needs root (CI runs as root)"
	fake_apt
	deps_install
	assert_success
	assert_output "deps: installed somepkg"
	assert_equal "$(cat "$W/log")" "policy 101
args install -y -qq --no-install-recommends somepkg"
	[ ! -e "$W/policy-rc.d" ] && [ ! -L "$W/policy-rc.d" ]
}

@test "install: a policy-rc.d already there is restored exactly, after success and after failure" {
	[ "$(id -u)" = 0 ] || fail "needs root (CI runs as root)"
	fake_apt
	printf '#!/bin/sh\n# the admin'"'"'s own\nexit 0\n' >"$W/policy-rc.d"
	chmod 750 "$W/policy-rc.d"
	before=$(stat -c '%i %a %s %Y' "$W/policy-rc.d"; md5sum <"$W/policy-rc.d")
	for mode in ok fail signal; do
		deps_install FAKE_MODE=$mode
		case $mode in
		ok) assert_success ;;
		fail) assert_failure 1; assert_line --partial "'apt-get install somepkg' failed" ;;
		signal) assert_failure 130 ;;
		esac
		assert_equal "$(stat -c '%i %a %s %Y' "$W/policy-rc.d"; md5sum <"$W/policy-rc.d")" "$before"
	done
	assert_equal "$(grep -c '^policy 101$' "$W/log")" 3
	# Nothing else is left in its directory.
	assert_equal "$(ls -A "$W" | grep -c policy)" 1
}

@test "install: a symlinked policy-rc.d stays the same symlink" {
	[ "$(id -u)" = 0 ] || fail "needs root (CI runs as root)"
	fake_apt
	ln -s /bin/true "$W/policy-rc.d"
	deps_install FAKE_MODE=fail
	assert_failure
	assert_equal "$(readlink "$W/policy-rc.d")" /bin/true
	assert_equal "$(grep -c '^policy 101$' "$W/log")" 1
}

@test "install: programs named nginx and memcached that the user runs keep running" {
	[ "$(id -u)" = 0 ] || fail "needs root (CI runs as root)"
	fake_apt
	for n in nginx memcached; do
		cp /bin/sleep "$W/$n"
		"$W/$n" 300 &
		PIDS="$PIDS $!"
	done
	deps_install
	assert_success
	for p in $PIDS; do kill -0 "$p"; done
	! grep -nE 'systemctl|pkill|killall' "$DEPS"
}

# Words in the tests and scripts that name a Debian program but are not run
# as one there (English words, identifiers, strings); everything else they
# name must be in deps' list or in Debian's essential set.
NOT_RUN="GET HEAD ab as dh file init m4 opt pc route size ss top uptime view w
watch write apt-get policy-rc.d systemctl pkill killall POST ex zip free passwd systemd shutdown col"

# The Debian package that holds /usr/bin/W (or sbin, or an alternative).
owner() {
	local p f
	for p in /usr/bin/$1 /usr/sbin/$1 /bin/$1 /sbin/$1; do
		[ -f "$p" ] && [ -x "$p" ] || continue
		for f in "$p" "${p#/usr}" "$(readlink -f "$p")" "/usr$(readlink -f "$p")"; do
			dpkg -S "$f" 2>/dev/null | grep -v '^diversion' | sed -n '1s/: .*//p' | grep . &&
				return 0
		done
		echo "?"
		return 0
	done
	return 1
}

@test "every program the tests and scripts name is in deps' list or Debian's essential set" {
	tools=$(sed -n '/^TOOLS="/,/^"/p' "$DEPS" | awk 'NF == 2 { print $1 }')
	bad=
	# scripts/deps itself names packages, not commands
	for w in $(cd "$ROOT" && grep -hv '^\s*#' tests/*.bats tests/*.bash tests/*.py \
			$(ls scripts/* scripts/bench.d/* | grep -vx scripts/deps) 2>/dev/null |
			tr -c 'A-Za-z0-9_.+-' '\n' | sort -u); do
		case $(type -t -- "$w") in builtin | keyword) continue ;; esac
		pkg=$(owner "$w") || continue
		grep -qxF -- "$w" <<<"$tools" && continue
		[[ " $(echo $NOT_RUN) " == *" $w "* ]] && continue
		[ "$pkg" != "?" ] && [ "$(dpkg-query -W -f='${Essential}' "${pkg%%,*}")" = yes ] && continue
		bad="$bad $w($pkg)"
	done
	[ -z "$bad" ] || fail "not in scripts/deps TOOLS (command package) nor essential:$bad"
}
