#!/bin/sh
# Event loops (issue 5): each callback registered with a context to carry
# (BAGGAGE gives the process one, with and without the shim alike), run
# with vs without the shim.  Targets: libevent once+dispatch <= 1.15x,
# libuv queue_work round trip <= 1.05x and timer callback <= 1.15x,
# GLib idle+dispatch <= 1.15x.  The back-to-back timer row is for scale: libuv
# runs a timer restarted from its own callback again within the same timer
# phase, about 10 ns apart, so any context switch at all is a large ratio.
. "$(dirname "$0")/../bench-lib.sh"
echo "event loops (ns per operation; BAGGAGE=request_id=bench)"
export BAGGAGE=request_id=bench
LIMIT=1.15 ab "libevent: event_base_once(0 s) + dispatch" - -- "$BENCH/ev_once"
LIMIT=1.05 ab "libuv: uv_queue_work round trip" - -- "$BENCH/uv_work"
LIMIT=1.15 ab "libuv: timer callback (one per loop iteration)" - -- "$BENCH/uv_timer" iter
ab "libuv: timer callback (restarted back to back)" - -- "$BENCH/uv_timer" chain
LIMIT=1.15 ab "GLib: g_idle_add + dispatch" - -- "$BENCH/glib_idle"
